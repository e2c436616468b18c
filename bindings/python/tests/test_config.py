"""ServerConfig options reach the core and change how it serves."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time

import pytest
from conftest import run_script

from spikard import ServerConfig, Spikard


def _stall(port: int, raw: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(raw)
    return sock


def _read_until_closed(sock: socket.socket, limit: float) -> bytes:
    sock.settimeout(limit)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_read_timeout_closes_a_stalled_request(serve) -> None:
    app = Spikard(config=ServerConfig(read_timeout=0.3, max_body_size=0))

    @app.post("/data")
    async def data(body: dict) -> dict:
        return body

    client = serve(app)
    started = time.monotonic()
    sock = _stall(
        client.port,
        b"POST /data HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 8000000\r\n\r\n{"a":',
    )
    try:
        # Another client is served while the stalled one waits.
        assert client.post("/data", json_body={"ok": 1}).json() == {"ok": 1}
        answer = _read_until_closed(sock, limit=5)
    finally:
        sock.close()
    assert time.monotonic() - started >= 0.15
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"application/problem+json" in answer


def test_zero_read_timeout_waits(serve) -> None:
    app = Spikard(config=ServerConfig(read_timeout=0))

    @app.get("/")
    async def root() -> str:
        return "ok"

    client = serve(app)
    sock = _stall(client.port, b"GET / HTTP/1.1\r\nHost: x\r\n")
    try:
        with pytest.raises(TimeoutError):
            _read_until_closed(sock, limit=0.5)
        sock.sendall(b"\r\n")
        assert _read_until_closed_or_reply(sock).startswith(b"HTTP/1.1 200 ")
    finally:
        sock.close()


def _read_until_closed_or_reply(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    return sock.recv(65536)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("read_timeout", -1, "must be a non-negative number of seconds"),
        ("request_timeout", "soon", "must be a non-negative number of seconds"),
        ("shutdown_timeout", float("nan"), "not a JSON value"),
        ("max_body_size", -5, "must be an integer of at least 0"),
        ("max_body_size", 1.5, "must be an integer of at least 0"),
        ("max_json_depth", 0, r"must be an integer in 1\.\.10000"),
        ("max_json_depth", 20000, r"must be an integer in 1\.\.10000"),
        ("max_uri_length", -1, r"must be an integer in 0\.\.2147483647"),
        ("max_header_size", 1.5, r"must be an integer in 0\.\.2147483647"),
        ("max_header_count", "100", r"must be an integer in 0\.\.2147483647"),
        ("header_timeout", -1, "must be a non-negative number of seconds"),
        ("port", 70000, r"must be an integer in 0\.\.65535"),
        ("port", True, r"must be an integer in 0\.\.65535"),
        ("port", None, r"must be an integer in 0\.\.65535"),
        ("host", "", "must not be empty"),
        ("quiet", "yes", "must be true or false"),
        ("sched_batch", 1, "must be true or false"),
        ("workers", 0, r"must be an integer in 1\.\.1024"),
        ("workers", 2000, r"must be an integer in 1\.\.1024"),
        ("workers", True, r"must be an integer in 1\.\.1024"),
        ("sync_workers", 2.5, "must be an integer of at least 1"),
    ],
)
def test_bad_values_are_refused_naming_the_field(field: str, value: object, reason: str) -> None:
    # The reason is the core's (spikard_config_check) for the core's keys.
    with pytest.raises(ValueError, match=rf"^ServerConfig\.{field}=.*: {reason}$"):
        ServerConfig(**{field: value})


def test_whole_floats_become_integers() -> None:
    config = ServerConfig(port=8080.0, max_body_size=1e6)
    assert (config.port, config.max_body_size) == (8080, 1_000_000)
    assert type(config.port) is int and type(config.max_body_size) is int


def test_max_json_depth_reaches_the_core(serve) -> None:
    # A body nested past the limit is the core's 400, naming the limit.
    app = Spikard(config=ServerConfig(max_json_depth=2))

    @app.post("/echo")
    async def echo(body: dict) -> dict:
        return body

    client = serve(app)
    assert client.post("/echo", json_body={"a": {"b": 1}}).status == 200
    deep = client.post("/echo", json_body={"a": {"b": [1]}})
    assert deep.status == 400
    assert deep.json()["detail"] == "JSON body nesting exceeds max_json_depth (2 levels)"
    assert ServerConfig().max_json_depth == 128


def _raw_answer(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(raw)
        return _read_until_closed(sock, limit=5)


def test_head_limits_reach_the_core(serve) -> None:
    # Past a limit the core answers with its problem document, naming the
    # limit, and closes the connection.
    app = Spikard(config=ServerConfig(max_uri_length=32, max_header_count=3, max_header_size=256))

    @app.get("/items")
    async def items() -> str:
        return "ok"

    client = serve(app)
    assert client.get("/items?q=" + "a" * 20).status == 200
    long = _raw_answer(client.port, b"GET /items?q=" + b"a" * 30 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert long.startswith(b"HTTP/1.1 414 ")
    assert b'"detail":"Request target exceeds max_uri_length (32 bytes)"' in long
    many = _raw_answer(
        client.port, b"GET /items HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 3 + b"\r\n"
    )
    assert many.startswith(b"HTTP/1.1 431 ")
    assert b'"detail":"Request header fields exceed max_header_count (3)"' in many
    big = _raw_answer(
        client.port, b"GET /items HTTP/1.1\r\nHost: x\r\nX-A: " + b"b" * 300 + b"\r\n\r\n"
    )
    assert big.startswith(b"HTTP/1.1 431 ")
    assert b"Connection: close" in big
    defaults = ServerConfig()
    assert (defaults.max_uri_length, defaults.max_header_size, defaults.max_header_count) == (
        8192,
        16384,
        100,
    )
    assert defaults.header_timeout == 10


def test_header_timeout_reaches_the_core(serve) -> None:
    app = Spikard(config=ServerConfig(header_timeout=0.3))

    @app.get("/")
    async def root() -> str:
        return "ok"

    client = serve(app)
    started = time.monotonic()
    sock = _stall(client.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    try:
        for _ in range(5):  # one byte each 0.1 s: every wait is short, the head never ends
            time.sleep(0.1)
            try:
                sock.sendall(b"a")
            except OSError:
                break
        answer = _read_until_closed(sock, limit=5)
    finally:
        sock.close()
    assert time.monotonic() - started >= 0.3
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"header_timeout (0.3 s)" in answer


def test_replace_is_checked_too() -> None:
    with pytest.raises(ValueError, match=r"ServerConfig\.port"):
        ServerConfig().replace(port=-1)


def _policies(pid: int) -> set[int]:
    """The scheduling policy of every thread of pid (field 41 of stat)."""
    policies = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                policies.add(int(f.read().rsplit(")", 1)[1].split()[38]))
        except FileNotFoundError:
            continue
    return policies


SCHED_APP = """
import logging
from spikard import ServerConfig, Spikard
logging.basicConfig(level=logging.INFO)
app = Spikard(config=ServerConfig(port=0, sched_batch={flag}))

@app.get("/")
async def root() -> str:
    return "ok"

app.run()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_BATCH is Linux's")
@pytest.mark.parametrize(("flag", "want"), [(True, {os.SCHED_BATCH}), (False, {os.SCHED_OTHER})])
def test_run_puts_threads_under_sched_batch(tmp_path, flag: bool, want: set[int]) -> None:
    proc, _port = run_script(tmp_path / "app.py", SCHED_APP.format(flag=flag), r":(\d+)\b")
    try:
        assert _policies(proc.pid) == want
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_background_server_leaves_the_policy_alone(serve) -> None:
    app = Spikard()

    @app.get("/")
    async def root() -> str:
        return "ok"

    assert serve(app).get("/").status == 200
    if sys.platform.startswith("linux"):
        assert os.SCHED_BATCH not in _policies(os.getpid())


# -- the brief's ServerConfig fields: request ids, CORS, shutdown ---------------


def test_brief_fields_have_their_defaults() -> None:
    cfg = ServerConfig()
    assert (cfg.enable_request_id, cfg.cors, cfg.graceful_shutdown) == (True, None, True)
    assert b'"request_id":true' in cfg.to_json()
    assert b'"request_id":false' in ServerConfig(enable_request_id=False).to_json()
    assert ServerConfig(graceful_shutdown=False, shutdown_timeout=7).drain_timeout == 0
    assert ServerConfig(shutdown_timeout=7).drain_timeout == 7


@pytest.mark.parametrize("field", ["enable_request_id", "graceful_shutdown"])
def test_boolean_fields_are_checked(field: str) -> None:
    with pytest.raises(ValueError, match=rf"ServerConfig\.{field}=1: must be True or False"):
        ServerConfig(**{field: 1})


def test_not_graceful_stops_at_once() -> None:
    import asyncio
    import threading

    app = Spikard(ServerConfig(graceful_shutdown=False, shutdown_timeout=30))
    entered = threading.Event()

    @app.get("/hold")
    async def hold() -> str:
        entered.set()
        await asyncio.Event().wait()  # never answers by itself
        return "never"

    server = app.serve_in_background()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
        assert entered.wait(10)
        start = time.monotonic()
        server.stop()
        # Graceful, the stop would wait up to shutdown_timeout (30 s) for
        # the held request; without, the core answers it 503 at once.
        assert time.monotonic() - start < 5
        assert s.recv(4096).startswith(b"HTTP/1.1 503")
