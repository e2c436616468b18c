"""spikard._native: the marshalling layer over include/spikard.h."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

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


# ---- streams: App.stream_write ------------------------------------------------


@contextlib.contextmanager
def _serving(
    config: dict[str, Any] | None = None,
) -> Iterator[tuple[_native.App, int, _native.Poller]]:
    """An app with GET /s ("facts": ["meta"]) and a poller of its lane, stopped after."""
    doc = {"port": 0, "quiet": True, "sse_keepalive": 0, **(config or {})}
    app = _native.App(json.dumps(doc).encode())
    route = app.add_route(json.dumps({"method": "GET", "path": "/s", "facts": ["meta"]}).encode())
    poller = _native.Poller(app, 0)
    app.start()
    try:
        yield app, route, poller
    finally:
        app.stop(1000)
        poller.close()


def _take_request(poller: _native.Poller) -> int:
    events = poller.poll(1, 5000)
    assert len(events) == 1 and events[0][2] is not None, events
    return events[0][0]


def _get(port: int, result: dict[str, Any]) -> threading.Thread:
    """GET /s with http.client on a thread; status, headers and body land in result."""

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/s")
            resp = conn.getresponse()
            result["status"] = resp.status
            result["headers"] = {k.lower(): v for k, v in resp.getheaders()}
            result["body"] = resp.read()
        except Exception as exc:  # reported by the test, not as a thread warning
            result["error"] = exc
        finally:
            conn.close()

    t = threading.Thread(target=run)
    t.start()
    return t


def test_stream_write_raw_chunks_then_written():
    with _serving() as (app, route, poller):
        result: dict[str, Any] = {}
        t = _get(app.port, result)
        exchange = _take_request(poller)
        opened = app.respond(
            [(exchange, 200, [("x-kind", "raw")], b"first,", _native.RESPONSE_STREAM)]
        )
        assert opened is True
        batch = [(exchange, 0, b"second,", b"", b"", 0), (exchange, 0, "third", "", "", 0)]
        assert app.stream_write(batch) == [0, 0]
        assert app.stream_write([(exchange, _native.CHUNK_END, b"!", b"", b"", 0)]) == [0]
        t.join(10)
        assert result.get("status") == 200, result
        assert result["headers"]["transfer-encoding"] == "chunked"
        assert result["headers"]["x-kind"] == "raw"
        assert result["body"] == b"first,second,third!"
        written = (exchange, route, None, _native.EVENT_WRITTEN, 0, None, None)
        assert poller.poll(1, 5000) == [written]
        assert app.stream_write([(exchange, 0, b"late", b"", b"", 0)]) == [_native.E_NOT_FOUND]


def test_stream_write_sse_events():
    with _serving() as (app, route, poller):
        result: dict[str, Any] = {}
        t = _get(app.port, result)
        exchange = _take_request(poller)
        flags = _native.RESPONSE_SSE | _native.RESPONSE_STREAM
        assert app.respond([(exchange, 200, None, b"", flags)]) is True
        batch = [
            (exchange, 0, b"hello\nworld", b"greet", b"1", 1500),
            (exchange, 0, b"dropped", b"bad\nname", b"", 0),
            (exchange, 0, "last", "", "", 0),
        ]
        assert app.stream_write(batch) == [0, _native.E_INVALID, 0]
        assert app.stream_write([(exchange, _native.CHUNK_END, b"", b"", b"", 0)]) == [0]
        t.join(10)
        assert result.get("status") == 200, result
        assert result["headers"]["content-type"] == "text/event-stream"
        assert result["headers"]["cache-control"] == "no-cache"
        assert result["body"] == (
            b"event: greet\nid: 1\nretry: 1500\ndata: hello\ndata: world\n\ndata: last\n\n"
        )
        written = (exchange, route, None, _native.EVENT_WRITTEN, 0, None, None)
        assert poller.poll(1, 5000) == [written]


def test_stream_write_again_then_credit():
    with _serving({"stream_queue_bytes": 65536}) as (app, route, poller):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small receive buffer, so that a client that does not read stops
        # the stream soon.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(10)
        try:
            sock.connect(("127.0.0.1", app.port))
            sock.sendall(b"GET /s HTTP/1.1\r\nHost: test\r\n\r\n")
            exchange = _take_request(poller)
            assert app.respond([(exchange, 200, None, b"", _native.RESPONSE_STREAM)]) is True
            piece = b"x" * 16384
            credit = (exchange, route, None, _native.EVENT_STREAM_CREDIT, 0, None, None)
            pieces = 0
            # Until an E_AGAIN whose credit does not come within a second: one
            # whose credit comes meant only that core's writer lagged.
            while True:
                assert pieces * len(piece) < 64 * 1024 * 1024, "no lasting E_AGAIN"
                results = app.stream_write([(exchange, 0, piece, b"", b"", 0)])
                if results == [0]:
                    pieces += 1
                    continue
                assert results == [_native.E_AGAIN]
                events = poller.poll(1, 1000)
                if not events:
                    break
                assert events == [credit]

            read: dict[str, Any] = {}

            def reader() -> None:
                resp = http.client.HTTPResponse(sock)
                try:
                    resp.begin()
                    read["status"] = resp.status
                    read["body"] = resp.read()
                except Exception as exc:  # reported by the test
                    read["error"] = exc
                finally:
                    resp.close()

            t = threading.Thread(target=reader)
            t.start()
            assert poller.poll(1, 10000) == [credit]
            # Waits for room if need be, so it owes no second credit.
            assert app.stream_write(
                [(exchange, _native.CHUNK_END, b"end", b"", b"", 0)], 10000
            ) == [0]
            t.join(10)
            assert read.get("status") == 200, read
            assert read["body"] == piece * pieces + b"end"
            written = (exchange, route, None, _native.EVENT_WRITTEN, 0, None, None)
            assert poller.poll(1, 5000) == [written]
        finally:
            sock.close()


def test_refused_answer_raises_and_client_gets_500():
    with _serving() as (app, _route, poller):
        result: dict[str, Any] = {}
        t = _get(app.port, result)
        exchange = _take_request(poller)
        with pytest.raises(_native.SpikardError) as info:
            app.respond([(exchange, 200, None, b"never sent", 1 << 31)])
        assert info.value.args[0] == _native.E_UNSUPPORTED
        t.join(10)
        assert result.get("status") == 500, result
        assert b"internal-server-error" in result["body"]
