"""The sixth poll-tuple element: upload bytes that multipart descriptors locate."""

from __future__ import annotations

import http.client
import json
import threading

from spikard import _native


def _post(port: int, ctype: str, body: bytes, result: dict[str, object]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/up", body=body, headers={"Content-Type": ctype})
    resp = conn.getresponse()
    result["status"], result["body"] = resp.status, resp.read()
    conn.close()


def test_multipart_event_carries_attachments():
    app = _native.App(b'{"port": 0, "quiet": true}')
    schema = {
        "type": "object",
        "properties": {
            "doc": {"type": "string", "format": "binary"},
            "n": {"type": "integer"},
        },
        "required": ["doc"],
    }
    app.add_route(json.dumps({"method": "POST", "path": "/up", "body_schema": schema}).encode())
    poller = _native.Poller(app, 0)
    app.start()
    try:
        payload = b"\x00binary\r\n--not-the-boundary\xff"
        body = (
            b"--XyZ\r\n"
            b'Content-Disposition: form-data; name="doc"; filename="d.bin"\r\n'
            b"Content-Type: application/x-thing\r\n\r\n" + payload + b"\r\n--XyZ\r\n"
            b'Content-Disposition: form-data; name="n"\r\n\r\n'
            b"41\r\n--XyZ--\r\n"
        )
        result: dict[str, object] = {}
        t = threading.Thread(
            target=_post, args=(app.port, "multipart/form-data; boundary=XyZ", body, result)
        )
        t.start()
        events = poller.poll(8, 5000)
        assert len(events) == 1
        exchange, _route, _params, ev_body, _meta, attachments, _facts = events[0]
        doc = json.loads(ev_body)
        assert doc["n"] == 41
        d = doc["doc"]
        assert d["filename"] == "d.bin" and d["content_type"] == "application/x-thing"
        assert d["headers"]["content-type"] == "application/x-thing"
        assert attachments == body
        assert attachments[d["offset"] : d["offset"] + d["length"]] == payload
        assert d["size"] == len(payload)
        app.respond([(exchange, 200, None, b"ok", 0)])
        t.join(10)
        assert result["status"] == 200

        # A form body has no attachments: the sixth element is None.
        result = {}
        t = threading.Thread(
            target=_post,
            args=(
                app.port,
                "multipart/form-data; boundary=Q",
                b'--Q\r\nContent-Disposition: form-data; name="doc"\r\n\r\ntext\r\n--Q--',
                result,
            ),
        )
        t.start()
        ((exchange, _r, _p, ev_body, _m, attachments, _f),) = poller.poll(8, 5000)
        assert json.loads(ev_body) == {"doc": "text"} and attachments is None
        app.respond([(exchange, 200, None, b"ok", 0)])
        t.join(10)
    finally:
        app.stop(1000)
        poller.close()
