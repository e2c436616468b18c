"""Graceful shutdown of a real app process: SIGTERM or SIGINT stops accepting,
finishes in-flight requests, uploads and streams within the deadline, closes
WebSockets with 1001, waits for background tasks and exits 0 — with one
process and with workers=2.

Each run is synchronised on what the app says (its listening line, a line per
handler reached, the first stream chunk) and on the listener's refusal; the
app's handlers wait on a gate file the test creates once the signal has been
sent and the listener is gone, so every "in flight" is in flight for sure.
"""

from __future__ import annotations

import base64
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

WAIT = 15.0  # any single wait; far above what a loaded machine needs

APP = textwrap.dedent(
    """
    import asyncio, logging, os, sys
    from spikard import ServerConfig, Spikard, StreamingResponse, WebSocket, background

    GATE = os.environ["GATE"]
    WORKERS = int(os.environ["WORKERS"])
    if WORKERS == 1:
        # The listening line is the spikard logger's; with workers the
        # supervisor's own line (the core's, on stderr) is the one waited for.
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = Spikard(config=ServerConfig(host="127.0.0.1", port=0, workers=WORKERS,
                                      shutdown_timeout=WAIT))

    def say(*words: object) -> None:
        print(*words, os.getpid(), flush=True)

    async def gate() -> None:
        while not os.path.exists(GATE):
            await asyncio.sleep(0.01)  # polls a condition the test sets

    @app.get("/slow")
    async def slow() -> dict:
        say("slow started")
        await gate()
        return {"slow": "done"}

    @app.get("/ping")
    async def ping() -> dict:
        return {"pong": True}

    @app.post("/upload")
    async def upload(body: dict) -> dict:
        return {"got": body["name"]}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks():
            yield b"first;"
            await gate()
            yield b"last;"
        return StreamingResponse(chunks(), media_type="text/plain")

    @app.post("/bg")
    async def bg() -> dict:
        async def task() -> None:
            say("bg started")
            await gate()
            say("bg done")
        background.run(task())
        return {"queued": True}

    @app.websocket("/ws")
    async def ws(sock: WebSocket) -> None:
        await sock.accept()
        async for message in sock:
            await sock.send_text(message)

    app.run()
    """
).replace("WAIT", repr(WAIT))


class App:
    """The app process: its port, and its stdout lines as they come."""

    def __init__(self, tmp_path: Path, workers: int) -> None:
        self.gate = tmp_path / "gate"
        script = tmp_path / "app.py"
        script.write_text(APP)
        self.proc = subprocess.Popen(
            [sys.executable, str(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "GATE": str(self.gate), "WORKERS": str(workers)},
        )
        listening = (
            r":(\d+) \(2 workers\)" if workers > 1 else r"listening on http://127\.0\.0\.1:(\d+)"
        )
        first = self.proc.stderr.readline()
        match = re.search(listening, first)
        if not match:
            self.proc.kill()
            pytest.fail(f"no listening line: {first!r} {self.proc.communicate()[1]!r}")
        self.port = int(match.group(1))
        self.err: list[str] = [first]
        self.lines: queue.Queue[str] = queue.Queue()
        self.sockets: list[socket.socket] = []
        self.pumps = [
            threading.Thread(
                target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True
            ),
            threading.Thread(
                target=self._pump, args=(self.proc.stderr, self.err.append), daemon=True
            ),
        ]
        for pump in self.pumps:
            pump.start()

    @staticmethod
    def _pump(stream, put) -> None:
        for line in stream:
            put(line.rstrip("\n"))

    def expect(self, prefix: str) -> str:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"the app never said {prefix!r}; stderr: {self.err}")
            if line.startswith(prefix):
                return line

    def refused(self) -> bool:
        """Whether connecting is refused (a reset, from a socket closing as
        the connection came, says nothing yet)."""
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=WAIT).close()
        except ConnectionRefusedError:
            return True
        except ConnectionResetError:
            pass
        return False

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)
        sock.settimeout(WAIT)
        self.sockets.append(sock)
        return sock

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pump in self.pumps:
            pump.join(WAIT)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.proc.stdout.close()
        self.proc.stderr.close()


def read_head(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """The status line, the fields (lower-cased names) and what came after."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before an answer (got {data!r})")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return lines[0], fields, rest


def read_until_close(sock: socket.socket, have: bytes = b"") -> bytes:
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return have
        have += chunk


def read_chunked_until(sock: socket.socket, have: bytes, want: bytes) -> bytes:
    while want not in have:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"stream ended before {want!r}: {have!r}")
        have += chunk
    return have


def ws_open(app: App) -> socket.socket:
    sock = app.connect()
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    status, _, rest = read_head(sock)
    assert status.startswith("HTTP/1.1 101"), status
    assert rest == b""
    return sock


def ws_send(sock: socket.socket, opcode: int, data: bytes) -> None:
    """One masked frame, as a client sends it."""
    mask = os.urandom(4)
    assert len(data) < 126
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    sock.sendall(bytes([0x80 | opcode, 0x80 | len(data)]) + mask + masked)


def ws_frame(sock: socket.socket) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise AssertionError("WebSocket closed without a close frame")
            out += chunk
        return out

    b0, b1 = exactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", exactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", exactly(8))[0]
    return b0 & 0x0F, exactly(n)


UPLOAD = b'{"name":"half-sent","email":"probe@example.com"}'


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "workers-2"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_graceful_shutdown(tmp_path: Path, workers: int, signum: signal.Signals) -> None:
    app = App(tmp_path, workers)
    try:
        # An idle keep-alive connection, one request answered on it.
        idle = app.connect()
        idle.sendall(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
        status, fields, body = read_head(idle)
        assert status == "HTTP/1.1 200 OK" and fields.get("connection") != "close"
        need = int(fields["content-length"]) - len(body)
        while need > 0:
            need -= len(idle.recv(need))

        # A request inside its handler.
        slow = app.connect()
        slow.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        app.expect("slow started")

        # A stream with its first chunk received.
        stream = app.connect()
        stream.sendall(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
        status, fields, have = read_head(stream)
        assert status == "HTTP/1.1 200 OK" and fields["transfer-encoding"] == "chunked"
        have = read_chunked_until(stream, have, b"first;")

        # A background task pending after its answer.
        bg = app.connect()
        bg.sendall(b"POST /bg HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        assert read_head(bg)[0] == "HTTP/1.1 200 OK"
        app.expect("bg started")

        # An open WebSocket, echoing.
        ws = ws_open(app)
        ws_send(ws, 0x1, b"hello")
        assert ws_frame(ws) == (0x1, b"hello")

        # An upload with its head and half its body sent.
        upload = app.connect()
        upload.sendall(
            b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(UPLOAD)}\r\n\r\n".encode()
            + UPLOAD[: len(UPLOAD) // 2]
        )

        os.kill(app.proc.pid, signum)

        # Accepting stops; the WebSocket closes with 1001; the idle
        # connection closes without an answer.
        deadline = time.monotonic() + WAIT
        while not app.refused():
            assert time.monotonic() < deadline, "still accepting after the signal"
        opcode, payload = ws_frame(ws)
        assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1001, (opcode, payload)
        ws_send(ws, 0x8, payload[:2])  # the client's half of the closing handshake
        assert read_until_close(ws) == b""
        assert read_until_close(idle) == b"", "the idle connection got an answer"
        assert app.proc.poll() is None, "exited with work in flight"

        # Everything in flight finishes once the gate opens.
        upload.sendall(UPLOAD[len(UPLOAD) // 2 :])
        app.gate.touch()
        status, fields, body = read_head(upload)
        assert status == "HTTP/1.1 200 OK", status
        assert fields.get("connection") == "close"
        assert read_until_close(upload, body) == b'{"got":"half-sent"}'

        status, fields, body = read_head(slow)
        assert status == "HTTP/1.1 200 OK" and fields.get("connection") == "close"
        assert read_until_close(slow, body) == b'{"slow":"done"}'

        rest = read_until_close(stream, have)
        assert rest.endswith(b"last;\r\n0\r\n\r\n"), rest

        app.expect("bg done")
        assert app.proc.wait(timeout=WAIT) == 0, app.err
    finally:
        app.close()
