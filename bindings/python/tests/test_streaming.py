"""StreamingResponse and server-sent events over real HTTP.

Each test serves an app on a loopback port and reads the answer as it
arrives (http.client's chunked ``read1``/``readline``), so "sent as
produced", back-pressure and a leaving client are observed, not assumed.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from spikard import Header, ServerConfig, Spikard, SseEvent, StreamingResponse

WAIT = 10.0  # seconds any one wait may take before the test fails


def new_app(**config: object) -> Spikard:
    return Spikard(config=ServerConfig(quiet=True, **config))  # type: ignore[arg-type]


def open_stream(client, path: str, headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection(client.host, client.port, timeout=WAIT)
    conn.request("GET", path, headers=headers or {})
    return conn, conn.getresponse()


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_async_generator_chunks_arrive_as_produced(serve):
    app = new_app()
    release = threading.Event()

    async def produce() -> AsyncIterator[bytes]:
        yield b"first\n"
        # Held until the client has the first chunk: it must not wait for more.
        assert await asyncio.to_thread(release.wait, WAIT)
        yield "second\n"  # str is UTF-8

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(produce(), media_type="text/plain", headers={"x-kind": "lines"})

    client = serve(app)
    conn, resp = open_stream(client, "/stream")
    try:
        assert resp.status == 200
        assert resp.getheader("transfer-encoding") == "chunked"
        assert resp.getheader("content-type") == "text/plain"
        assert resp.getheader("x-kind") == "lines"
        assert resp.read1(64) == b"first\n"
        release.set()
        assert resp.read() == b"second\n"
    finally:
        release.set()
        conn.close()


def test_the_briefs_sample_streams_ten_lines(serve):
    app = new_app()

    async def generate_data():
        for i in range(10):
            yield f"data: {i}\n".encode()

    @app.get("/stream")
    async def stream():
        return StreamingResponse(generate_data())

    r = serve(app).get("/stream")
    assert r.status == 200
    assert r.body == b"".join(f"data: {i}\n".encode() for i in range(10))
    assert "content-type" not in r.headers


def test_sync_generators_run_off_the_event_loop(serve):
    app = new_app()

    def slow_lines() -> Iterator[bytes]:
        for i in range(3):
            time.sleep(0.2)  # on the loop this would stall /ping below
            yield f"{i}\n".encode()

    @app.get("/from-async")
    async def from_async() -> StreamingResponse:
        return StreamingResponse(slow_lines())

    @app.get("/from-def")
    def from_def() -> StreamingResponse:
        return StreamingResponse(slow_lines(), status_code=207)

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    client = serve(app)
    results: dict[str, object] = {}

    def fetch(path: str) -> None:
        results[path] = client.get(path)

    threads = [threading.Thread(target=fetch, args=(p,)) for p in ("/from-async", "/from-def")]
    for t in threads:
        t.start()
    pings = 0
    while any(t.is_alive() for t in threads):
        assert client.get("/ping").body == b"pong"
        pings += 1
    for t in threads:
        t.join()
    assert results["/from-async"].body == b"0\n1\n2\n"  # type: ignore[attr-defined]
    assert results["/from-def"].status == 207  # type: ignore[attr-defined]
    assert results["/from-def"].body == b"0\n1\n2\n"  # type: ignore[attr-defined]
    assert pings >= 3, "the loop answered while the generators slept"


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_a_client_that_leaves_stops_the_generator(serve, kind):
    app = new_app()
    closed = threading.Event()
    produced = []

    async def forever_async() -> AsyncIterator[bytes]:
        try:
            while True:
                produced.append(1)
                yield b"tick\n"
                await asyncio.sleep(0.01)
        finally:
            closed.set()

    def forever_sync() -> Iterator[bytes]:
        try:
            while True:
                produced.append(1)
                yield b"tick\n"
                time.sleep(0.01)
        finally:
            closed.set()

    @app.get("/forever")
    async def forever() -> StreamingResponse:
        return StreamingResponse(forever_async() if kind == "async" else forever_sync())

    client = serve(app)
    conn, resp = open_stream(client, "/forever")
    assert resp.read1(64).startswith(b"tick")
    conn.close()
    assert closed.wait(WAIT), "the generator's finally ran after the client left"
    count = len(produced)
    assert client.get("/forever-missing").status == 404  # the server goes on
    assert len(produced) <= count + 1


def test_a_stalled_client_suspends_the_producer_then_reads_at_full_speed(serve):
    queue = 1 << 20
    app = new_app(stream_queue_bytes=queue)
    piece = b"x" * (64 << 10)
    total = 1 << 30  # 1 GiB the producer could yield
    produced = [0]

    async def gigabyte() -> AsyncIterator[bytes]:
        for _ in range(total // len(piece)):
            produced[0] += len(piece)
            yield piece

    @app.get("/big")
    async def big() -> StreamingResponse:
        return StreamingResponse(gigabyte(), headers={"content-length": str(total)})

    client = serve(app)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    sock.settimeout(WAIT)
    sock.connect((client.host, client.port))
    before = rss_kib()
    sock.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    header, _, received = head.partition(b"\r\n\r\n")
    assert header.startswith(b"HTTP/1.1 200")
    time.sleep(5)  # the behaviour under test: a client that reads nothing for 5 s
    stalled_at = produced[0]
    grown_mib = (rss_kib() - before) / 1024
    # The core's queue plus the kernel's socket buffers, never the gigabyte.
    assert stalled_at < 16 << 20, f"{stalled_at >> 20} MiB produced while the client read nothing"
    assert grown_mib < 32, f"RSS grew {grown_mib:.1f} MiB"
    got = len(received)
    buf = bytearray(1 << 20)
    started = time.monotonic()
    while got < total:
        n = sock.recv_into(buf)
        assert n, "the stream ended early"
        got += n
    sock.close()
    assert got == total
    assert produced[0] == total
    print(f"read 1 GiB in {time.monotonic() - started:.2f} s after the stall")


def test_a_producer_that_raises_aborts_the_stream(serve, caplog):
    app = new_app()
    seen = threading.Event()

    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        await asyncio.to_thread(seen.wait, WAIT)  # the client has the first chunk
        raise RuntimeError("producer broke")

    async def wrong_type() -> AsyncIterator[object]:
        yield 42

    @app.get("/broken")
    async def broken_route() -> StreamingResponse:
        return StreamingResponse(broken())

    @app.get("/wrong")
    async def wrong_route() -> StreamingResponse:
        return StreamingResponse(wrong_type())  # type: ignore[arg-type]

    client = serve(app)
    with caplog.at_level(logging.ERROR, logger="spikard"):
        conn, resp = open_stream(client, "/broken")
        assert resp.status == 200
        assert resp.read1(64) == b"partial"
        seen.set()
        with pytest.raises(http.client.IncompleteRead):
            resp.read()  # no terminating chunk: the body is visibly cut off
        conn.close()
        # Aborted before its first byte left: the connection just closes.
        conn = http.client.HTTPConnection(client.host, client.port, timeout=WAIT)
        conn.request("GET", "/wrong")
        with pytest.raises((http.client.RemoteDisconnected, http.client.IncompleteRead)):
            conn.getresponse().read()
        conn.close()
    messages = [r.getMessage() for r in caplog.records]
    assert any("raised; it is aborted" in m for m in messages), messages
    assert any("must be bytes or str, got int" in m for m in messages), messages
    assert "producer broke" in caplog.text


def test_bad_stream_objects_are_refused_where_they_are_made():
    with pytest.raises(TypeError, match="must be an iterable or async iterable"):
        StreamingResponse(b"not a generator")
    with pytest.raises(TypeError, match="got int"):
        StreamingResponse(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status_code=204"):
        StreamingResponse(iter([b""]), status_code=204)
    with pytest.raises(ValueError, match=r"SseEvent.event='a\\nb': may not contain"):
        SseEvent("x", event="a\nb")
    with pytest.raises(ValueError, match=r"SseEvent\.retry=-1"):
        SseEvent("x", retry=-1)
    app = new_app()
    with pytest.raises(TypeError, match="must be a generator function"):

        @app.sse("/events")
        async def not_a_generator() -> dict[str, int]:
            return {}


def read_events(resp, count: int) -> list[dict[str, str]]:
    """Parse ``count`` events (comments skipped) from an SSE answer."""
    events: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    while len(events) < count:
        line = resp.readline().decode().rstrip("\n")
        if line == "":
            if fields:
                events.append(fields)
                fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        fields[name] = fields[name] + "\n" + value if name in fields else value
    return events


def test_sse_events_are_framed_by_the_core(serve):
    app = new_app()

    @app.sse("/events")
    async def events(last_event_id: str | None = Header(None, alias="Last-Event-ID")):
        yield {"count": 1, "resumed_after": last_event_id}
        yield SseEvent({"count": 2}, event="tick", id="2", retry=1500)
        yield "two\nlines"
        yield SseEvent("plain", id="3")

    client = serve(app)
    conn, resp = open_stream(client, "/events", {"Last-Event-ID": "41"})
    try:
        assert resp.status == 200
        assert resp.getheader("content-type") == "text/event-stream"
        assert resp.getheader("cache-control") == "no-cache"
        assert read_events(resp, 4) == [
            {"data": '{"count":1,"resumed_after":"41"}'},
            {"event": "tick", "id": "2", "retry": "1500", "data": '{"count":2}'},
            {"data": "two\nlines"},
            {"id": "3", "data": "plain"},
        ]
        assert resp.read() == b""  # the generator ended: so does the stream
    finally:
        conn.close()


def test_sse_keepalive_comments_while_the_producer_is_quiet(serve):
    app = new_app(sse_keepalive=0.1)
    release = threading.Event()

    @app.sse("/quiet")
    async def quiet():
        yield {"n": 1}
        await asyncio.to_thread(release.wait, WAIT)
        yield {"n": 2}

    client = serve(app)
    conn, resp = open_stream(client, "/quiet")
    try:
        assert read_events(resp, 1) == [{"data": '{"n":1}'}]
        assert resp.readline().startswith(b":"), "a keep-alive comment while nothing is produced"
        release.set()
        assert read_events(resp, 1) == [{"data": '{"n":2}'}]
    finally:
        release.set()
        conn.close()


def test_standalone_sse_decorator_and_sync_generators(serve, module_from):
    app = module_from(
        "standalone_sse",
        """
        from spikard import Spikard, sse

        app = Spikard()

        @sse("/numbers")
        def numbers():
            for i in range(3):
                yield {"i": i}
        """,
    ).app

    r = serve(app).get("/numbers")
    assert r.status == 200
    assert r.body == b'data: {"i":0}\n\ndata: {"i":1}\n\ndata: {"i":2}\n\n'


def test_stopping_the_server_ends_an_sse_stream_and_closes_its_generator():
    app = new_app()
    closed = threading.Event()

    @app.sse("/live")
    async def live():
        try:
            while True:
                yield {"alive": True}
                await asyncio.sleep(0.05)
        finally:
            closed.set()

    server = app.serve_in_background(host="127.0.0.1", port=0)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
    conn.request("GET", "/live")
    resp = conn.getresponse()
    assert read_events(resp, 1) == [{"data": '{"alive":true}'}]
    server.stop()
    assert closed.wait(WAIT)
    conn.close()
