"""spikard._native: the marshalling layer over include/spikard.h."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from spikard import _native


def test_abi_version_matches():
    assert _native.abi_version() // 10000 == _native.ABI_VERSION // 10000


def test_bad_config_and_route_raise_with_message():
    with pytest.raises(_native.SpikardError) as info:
        _native.App(b'{"no_such_key": 1}')
    assert "no_such_key" in str(info.value)
    app = _native.App(b'{"port": 0, "quiet": true}')
    with pytest.raises(_native.SpikardError):
        app.add_route(b'{"method": "BREW", "path": "/"}')


def test_poll_respond_and_closed():
    app = _native.App(b'{"port": 0, "quiet": true}')
    route = app.add_route(
        json.dumps({"method": "GET", "path": "/x/{n:int}", "facts": ["meta"]}).encode()
    )
    poller = _native.Poller(app, 0)
    assert poller.fileno() == poller.fd >= 0
    app.start()
    assert app.port > 0
    result: dict[str, object] = {}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
        conn.request("GET", "/x/5?a=1", headers={"X-Thing": "v"})
        resp = conn.getresponse()
        result["status"], result["body"] = resp.status, resp.read()
        result["header"] = resp.getheader("x-answer")
        conn.close()

    t = threading.Thread(target=client)
    t.start()
    events = poller.poll(8, 5000)
    assert len(events) == 1
    exchange, route_id, _params, body, meta, attachments, facts = events[0]
    assert attachments is None and facts is None  # no uploads; only "meta" asked for
    assert route_id == route and body is None
    assert meta is not None
    method, path, query, headers = meta
    assert (method, path, query) == ("GET", "/x/5", "a=1")
    assert ("x-thing", "v") in headers
    assert app.respond([(exchange, 201, [(b"x-answer", "yes")], b"made", 0)]) is True
    t.join(10)
    assert result == {"status": 201, "body": b"made", "header": "yes"}
    assert app.respond([(exchange, 200, None, b"", 0)]) is False  # already answered
    app.stop(1000)
    with pytest.raises(_native.Closed):
        poller.poll(1, 1000)
    poller.close()


def test_check_config_names_the_key():
    _native.check_config(b'{"port": 0, "read_timeout": 2.5}')
    with pytest.raises(_native.SpikardError) as info:
        _native.check_config(b'{"port": 70000}')
    assert info.value.args[1] == 'config: "port": must be an integer in 0..65535'
