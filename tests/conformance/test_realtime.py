"""Tests of the runner's realtime side (realtime.py and the play_* checks of
run.py): each check must fail, readably, against a server that gets the
stream, the event framing, the WebSocket exchange or the background record
wrong. The wrong servers here are small standard-library servers, so that
nothing of the framework is needed to prove the runner can fail.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import http.server
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_runner import RUNNER, case, run

realtime = run.realtime
HERE = Path(__file__).resolve().parent


def test_realtime_never_imports_spikard() -> None:
    tree = ast.parse((HERE / "realtime.py").read_text(encoding="utf-8"))
    names = [
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    ]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in names if m.split(".")[0] == "spikard"]
    assert RUNNER.exists()


# -- server-sent events -----------------------------------------------------------


def test_parse_sse_events_fields_and_comments() -> None:
    raw = b': keep-alive\n\nevent: tick\nid: 7\nretry: 1500\ndata: {"n":1}\n\ndata: a\ndata: b\n\n'
    events, kept, mistakes = realtime.parse_sse(raw)
    assert mistakes == []
    assert [(e.data, e.event, e.id, e.retry) for e in events] == [
        ('{"n":1}', "tick", "7", 1500),
        ("a\nb", None, None, None),
    ]
    assert b"keep-alive" not in kept


@pytest.mark.parametrize(
    ("raw", "mistake"),
    [
        (b"data: 1\n", "the last event is not ended by a blank line"),
        (b"data: 1\n\ndata: 2", "the stream ends inside a line"),
        (b"dat: 1\n\n", "unknown field line"),
    ],
)
def test_parse_sse_names_framing_mistakes(raw: bytes, mistake: str) -> None:
    _, _, mistakes = realtime.parse_sse(raw)
    assert any(m.startswith(mistake) for m in mistakes), mistakes


# -- the JSON Schema subset ------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "value", "fails"),
    [
        ({"type": "integer"}, 1.0, False),
        ({"type": "integer"}, True, True),
        ({"type": "object", "required": ["a"]}, {}, True),
        ({"properties": {"a": {"type": "string"}}}, {"a": 1}, True),
        ({"additionalProperties": False, "properties": {}}, {"x": 1}, True),
        ({"type": "array", "minItems": 2, "items": {"type": "string"}}, ["a"], True),
        ({"type": "array", "items": {"type": "string"}}, ["a", 2], True),
        ({"type": "string", "maxLength": 2}, "abc", True),
        ({"type": "string", "format": "date-time"}, "2024-01-15T10:30:00Z", False),
        ({"type": "string", "format": "date-time"}, "2024-01-15", True),
        ({"const": "message"}, "other", True),
        ({"enum": [1, 2]}, 3, True),
        ({"type": ["string", "null"]}, None, False),
        ({"$ref": "#/definitions/n", "definitions": {"n": {"minimum": 5}}}, 4, True),
        ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, 1, False),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, [], True),
    ],
)
def test_schema_errors(schema: dict[str, Any], value: Any, fails: bool) -> None:
    assert bool(realtime.schema_errors(schema, value)) is fails


# -- wrong servers -------------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[Callable[[Callable[[Any], None]], int]]:
    """Serve a do_GET/do_POST function on a free port; the port."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(answer: Callable[[Any], None]) -> int:
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                answer(self)

            do_POST = do_GET
            do_HEAD = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def send(h: Any, status: int, body: bytes, headers: dict[str, str]) -> None:
    h.send_response(status)
    for k, v in headers.items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)


def stream_case() -> Any:
    return case(
        {
            "name": "stream",
            "description": "two chunks",
            "handler": {"route": "/s", "method": "GET"},
            "request": {"method": "GET", "path": "/s"},
            "expected_response": {"status_code": 200, "body": "binary_data_4_bytes"},
            "streaming": {
                "chunks": [
                    {"type": "bytes", "base64": base64.b64encode(b"ab").decode()},
                    {"type": "text", "value": "cd"},
                ]
            },
        },
        "streaming/probe",
    )


def test_a_stream_sent_whole_and_wrong_fails(http_server: Any) -> None:
    port = http_server(lambda h: send(h, 200, b"abXX", {}))
    c = stream_case()
    plan = run.build_plan(c)
    assert isinstance(plan.routes[0].answer, run.Stream)
    diffs, _ = run.play_http(port, c, plan, run.build_request(c))
    assert any(d.startswith("header transfer-encoding:") for d in diffs), diffs
    assert "body: 4 bytes, the chunks produced 4; first difference at byte 2" in diffs


def test_a_background_value_never_recorded_fails(
    http_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def answer(h: Any) -> None:
        if h.command == "POST":
            h.rfile.read(int(h.headers["Content-Length"]))
            send(h, 202, b"", {"Content-Type": "application/json"})
        else:
            send(h, 200, b'{"events":[]}', {"Content-Type": "application/json"})

    port = http_server(answer)
    c = case(
        {
            "name": "background",
            "description": "records",
            "handler": {"route": "/j", "method": "POST"},
            "request": {"method": "POST", "path": "/j", "body": {"event": "x"}},
            "expected_response": {"status_code": 202},
            "background": {
                "state_path": "/j/log",
                "state_key": "events",
                "value_field": "event",
                "expected_state": ["x"],
            },
        },
        "background/probe",
    )
    monkeypatch.setattr(run, "BACKGROUND_DEADLINE", 0.2)
    plan = run.build_plan(c)
    assert plan.routes[0].answer.background == "event"
    assert isinstance(plan.routes[1].answer, run.Record)
    diffs, _ = run.play_http(port, c, plan, run.build_request(c))
    assert diffs == ['background: want ["x"] recorded, got [] 0s after the answer']


def sse_case(examples: list[Any]) -> Any:
    return case(
        {
            "channel": "/events",
            "name": "probe",
            "description": "events",
            "protocol": "sse",
            "examples": examples,
            "schema": {"type": "object", "required": ["n"]},
        },
        "sse/probe",
    )


def test_events_with_wrong_type_framing_or_data_fail(http_server: Any) -> None:
    body = b'data: {"n":1}\n\ndata: {"m":2}\n'
    port = http_server(lambda h: send(h, 200, body, {"Content-Type": "text/plain"}))
    c = sse_case([{"n": 1}, {"n": 2}])
    diffs, _ = run.play_events(port, c, run.build_plan(c))
    assert "header content-type: want text/event-stream, got 'text/plain'" in diffs
    assert "framing: the last event is not ended by a blank line" in diffs
    assert "events: want 2, got 1" in diffs[2]


def test_event_data_against_the_schema(http_server: Any) -> None:
    body = b'data: {"m":1}\n\n'
    port = http_server(
        lambda h: send(h, 200, body, {"Content-Type": "text/event-stream"})
    )
    c = sse_case([{"m": 1}])
    diffs, _ = run.play_events(port, c, run.build_plan(c))
    assert diffs == ["event 0: schema: $.n: missing"]


class BadSocketServer(socketserver.ThreadingTCPServer):
    """A WebSocket server that upgrades properly, then echoes each message
    reversed, never answers a ping, and closes with 1011."""

    allow_reuse_address = True
    daemon_threads = True


def read_exact(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError
        out += chunk
    return out


class BadSocketHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key")
        )
        accept = base64.b64encode(
            hashlib.sha1(key + realtime.WS_GUID.encode()).digest()
        )
        sock.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        while True:
            b0, b1 = read_exact(sock, 2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", read_exact(sock, 2))
            mask = read_exact(sock, 4)
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(read_exact(sock, n)))
            op = b0 & 0x0F
            if op == realtime.OP_CLOSE:
                sock.sendall(b"\x88\x02" + struct.pack("!H", 1011))
                return
            if op == realtime.OP_TEXT:
                sock.sendall(bytes([0x81, len(data)]) + data[::-1])


def test_a_wrong_websocket_exchange_fails() -> None:
    server = BadSocketServer(("127.0.0.1", 0), BadSocketHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        c = case(
            {
                "channel": "/chat",
                "name": "probe",
                "description": "echo",
                "protocol": "websocket",
                "operations": [{"action": "receive"}],
                "examples": [{"text": "hi"}],
                "schema": {},
            },
            "websockets/probe",
        )
        diffs, seen = run.play_socket(server.server_address[1], c, run.build_plan(c))
    finally:
        server.shutdown()
        server.server_close()
    assert diffs == [
        'echo of example 0: want b\'{"text":"hi"}\', got b\'}"ih":"txet"{\'',
        "close: want 1000 back, got 1011 ''",
    ], diffs
    assert seen[0] == 101


def test_message_plans() -> None:
    c = sse_case([{"n": 1}])
    (route,) = run.build_plan(c).routes
    assert route.doc == {"method": "GET", "path": "/events"}
    assert route.answer.events == [(b'{"n":1}', {})]
    message = run.plan_message("sse/probe", run.build_plan(c))
    assert b'sse\nevent 7\n{"n":1}\nend\nserve\n' in message
    assert run.channel_target("/rooms/{room}/x") == "/rooms/probe/x"
