"""Background tasks: started once the answer is out, never lost, waited for at stop."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest

from spikard import ServerConfig, Spikard, background

WAIT = 10.0


def new_app(**config: object) -> Spikard:
    return Spikard(config=ServerConfig(quiet=True, **config))  # type: ignore[arg-type]


def test_a_task_starts_only_once_the_client_has_the_whole_answer(serve):
    app = new_app()
    started = threading.Event()
    big = b"x" * (32 << 20)  # more than the socket buffers hold

    @app.get("/big")
    async def send_big() -> bytes:
        background.run(started.set)
        return big

    client = serve(app)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    sock.settimeout(WAIT)
    sock.connect((client.host, client.port))
    sock.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
    # The client reads nothing yet: the answer cannot all be out, so the task waits.
    assert not started.wait(0.5)
    got = 0
    buf = bytearray(1 << 20)
    head = b""
    while b"\r\n\r\n" not in head:
        n = sock.recv_into(buf)
        head += bytes(buf[:n])
    got = len(head.partition(b"\r\n\r\n")[2])
    while got < len(big):
        got += sock.recv_into(buf)
    sock.close()
    assert started.wait(WAIT), "the task ran once the whole answer was out"


def test_plain_functions_from_def_handlers_run_off_the_loop(serve):
    app = new_app()
    done = threading.Event()
    threads: list[str] = []

    def write_log(line: str) -> None:
        time.sleep(0.05)  # may block: it is on an executor thread
        threads.append(threading.current_thread().name)
        assert line == "hello"
        done.set()

    @app.get("/sync")
    def sync_handler() -> str:
        background.run(write_log, "hello")
        return "ok"

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    client = serve(app)
    assert client.get("/sync").body == b"ok"
    assert client.get("/ping").body == b"pong"
    assert done.wait(WAIT)
    assert threads and not threads[0].startswith("spikard-sync")


def test_tasks_run_in_order_and_a_failure_is_logged_not_lost(serve, caplog):
    app = new_app()
    order: list[str] = []
    done = threading.Event()

    async def first() -> None:
        order.append("first")
        raise ValueError("first failed")

    def second() -> None:
        order.append("second")
        done.set()

    @app.get("/two")
    async def two() -> str:
        background.run(first())
        background.run(second)
        return "ok"

    with caplog.at_level(logging.ERROR, logger="spikard"):
        assert serve(app).get("/two").status == 200
        assert done.wait(WAIT)
    assert order == ["first", "second"]
    assert "background task" in caplog.text and "first failed" in caplog.text


def test_a_client_that_leaves_before_the_whole_answer_does_not_lose_the_task(serve):
    app = new_app()
    ran = threading.Event()

    @app.get("/big")
    async def big() -> bytes:
        background.run(ran.set)
        return b"y" * (32 << 20)  # more than the socket buffers hold

    client = serve(app)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    sock.connect((client.host, client.port))
    sock.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
    sock.recv(1024)  # the answer has begun: the handler is done
    sock.close()
    assert ran.wait(WAIT)


def test_a_handler_cancelled_by_its_leaving_client_schedules_nothing(serve):
    app = new_app()
    ran = threading.Event()
    waiting = threading.Event()
    cancelled = threading.Event()

    async def never() -> None:
        ran.set()

    @app.get("/slow")
    async def slow() -> str:
        background.run(never())
        waiting.set()
        try:
            await asyncio.sleep(WAIT)
        finally:
            cancelled.set()
        return "late"

    client = serve(app)
    sock = socket.create_connection((client.host, client.port), timeout=WAIT)
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    assert waiting.wait(WAIT)
    sock.close()
    assert cancelled.wait(WAIT)
    assert not ran.wait(0.2)


def test_a_handler_that_raises_discards_its_tasks(serve):
    app = new_app()
    ran = threading.Event()

    async def never() -> None:
        ran.set()

    @app.get("/boom")
    async def boom() -> str:
        background.run(never())
        raise RuntimeError("boom")

    assert serve(app).get("/boom").status == 500
    assert not ran.wait(0.2)


def test_misuse_is_a_clear_error():
    async def job() -> None:
        pass

    with pytest.raises(RuntimeError, match="outside a request handler"):
        background.run(job())
    with pytest.raises(TypeError, match="takes a coroutine or a callable, not int"):
        background.run(5)  # type: ignore[arg-type]


def test_a_graceful_stop_waits_for_running_tasks():
    app = new_app(shutdown_timeout=5)
    finished = threading.Event()

    async def slow_task() -> None:
        await asyncio.sleep(0.3)
        finished.set()

    @app.get("/start")
    async def start() -> str:
        background.run(slow_task())
        return "started"

    server = app.serve_in_background(host="127.0.0.1", port=0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.sendall(b"GET /start HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    assert data.endswith(b"started")
    server.stop()
    assert finished.is_set(), "stop() returned only after the task had finished"
