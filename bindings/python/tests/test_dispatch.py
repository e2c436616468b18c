"""The dispatch rule: async handlers in Tasks on the loop, def on the pool, a context each."""

from __future__ import annotations

import asyncio
import contextvars
import http.client
import json
import logging
import socket
import sys
import threading
import time

import pytest

from spikard import ServerConfig, Spikard


def test_handler_exception_is_500_problem_without_traceback(serve, caplog):
    app = Spikard()

    @app.get("/boom")
    async def boom():
        raise ValueError("secret detail")

    @app.get("/sboom")
    def sboom():
        raise RuntimeError("secret detail")

    @app.get("/aboom")
    async def aboom():
        await asyncio.sleep(0)
        raise KeyError("secret detail")

    client = serve(app)
    with caplog.at_level(logging.ERROR, logger="spikard"):
        for path in ("/boom", "/sboom", "/aboom"):
            reply = client.get(path)
            assert reply.status == 500
            assert b"Traceback" not in reply.body
            assert b"secret detail" not in reply.body
            assert reply.json()["status"] == 500
    assert any(r.exc_info for r in caplog.records)
    assert "secret detail" in caplog.text


def test_every_async_handler_runs_in_a_task(serve):
    app = Spikard()

    @app.get("/fast")
    async def fast():
        return {"task": asyncio.current_task() is not None}

    @app.get("/awaits")
    async def awaits():
        await asyncio.sleep(0)
        return {"task": asyncio.current_task() is not None}

    client = serve(app)
    for _ in range(5):
        assert client.get("/fast").json() == {"task": True}
        assert client.get("/awaits").json() == {"task": True}


def test_a_handler_that_never_suspends_runs_inside_its_batch_on_312(serve):
    # The fast path: on 3.12+ the Task starts eagerly, so the handler's first
    # step runs inside the dispatcher's batch, not on a later turn of the loop.
    app = Spikard()

    @app.get("/where")
    async def where():
        names = []
        frame = sys._getframe()
        while frame is not None:
            names.append(frame.f_code.co_name)
            frame = frame.f_back
        return {"in_batch": "_serve_async" in names}

    want = sys.version_info >= (3, 12)
    assert serve(app).get("/where").json() == {"in_batch": want}


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout and TaskGroup are 3.11's")
def test_asyncio_timeout_and_taskgroup_inside_handlers(serve):
    app = Spikard()

    @app.get("/timeout")
    async def timeout():
        async with asyncio.timeout(5):
            return "within"

    @app.get("/timeout-fires")
    async def timeout_fires():
        try:
            async with asyncio.timeout(0.01):
                await asyncio.Event().wait()
        except TimeoutError:
            return "timed out"
        return "not reached"

    @app.get("/taskgroup")
    async def taskgroup():
        async def double(n: int) -> int:
            await asyncio.sleep(0)
            return 2 * n

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(double(n)) for n in range(3)]
        return [t.result() for t in tasks]

    client = serve(app)
    assert (client.get("/timeout").status, client.get("/timeout").body) == (200, b"within")
    assert client.get("/timeout-fires").body == b"timed out"
    assert client.get("/taskgroup").json() == [0, 2, 4]


def test_wait_for_inside_a_handler(serve):
    app = Spikard()

    @app.get("/wait-for")
    async def wait_for():
        try:
            await asyncio.wait_for(asyncio.Event().wait(), 0.01)
        except asyncio.TimeoutError:
            return "timed out"
        return "not reached"

    assert serve(app).get("/wait-for").body == b"timed out"


def _context_app(var: contextvars.ContextVar[str]) -> Spikard:
    app = Spikard(config=ServerConfig(sync_workers=1))

    @app.get("/async/set/{value}")
    async def async_set(value: str):
        var.set(value)
        return var.get()

    @app.get("/async/set-after-await/{value}")
    async def async_set_after_await(value: str):
        await asyncio.sleep(0)
        var.set(value)
        return var.get()

    @app.get("/async/get")
    async def async_get():
        return var.get()

    @app.get("/sync/set/{value}")
    def sync_set(value: str):
        var.set(value)
        return var.get()

    @app.get("/sync/get")
    def sync_get():
        return var.get()

    return app


def test_context_vars_do_not_leak_between_requests(serve):
    var: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="anonymous")
    client = serve(_context_app(var))
    for lane in ("async", "sync"):
        assert client.get(f"/{lane}/set/alice").body == b"alice"
        assert client.get(f"/{lane}/get").body == b"anonymous", lane
        # A keep-alive connection is no different from a new one.
        with client.connection() as conn:
            assert conn.get(f"/{lane}/set/bob").body == b"bob"
            assert conn.get(f"/{lane}/get").body == b"anonymous", lane
            assert conn.get("/async/get" if lane == "sync" else "/sync/get").body == b"anonymous"
    assert client.get("/async/set-after-await/carol").body == b"carol"
    assert client.get("/async/get").body == b"anonymous"


def test_requests_start_from_the_context_the_server_was_created_in(serve):
    var: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="none")
    app = _context_app(var)
    token = var.set("app-wide")
    try:
        client = serve(app)
    finally:
        var.reset(token)
    for lane in ("async", "sync"):
        assert client.get(f"/{lane}/get").body == b"app-wide"
        assert client.get(f"/{lane}/set/dave").body == b"dave"
        assert client.get(f"/{lane}/get").body == b"app-wide"


def test_client_that_goes_away_cancels_its_async_handler(serve, caplog):
    app = Spikard()
    started = threading.Event()
    finished = threading.Event()
    seen: list[str] = []

    @app.get("/hang")
    async def hang():
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        finally:
            finished.set()
        return "not reached"

    @app.get("/ok")
    async def ok():
        return "ok"

    client = serve(app)
    with caplog.at_level(logging.DEBUG, logger="spikard"):
        sock = socket.create_connection((client.host, client.port), timeout=10)
        sock.sendall(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        assert started.wait(10)
        sock.close()
        assert finished.wait(10)
        assert seen == ["cancelled"]
        assert client.get("/ok").body == b"ok"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def _add_waits_forever(app: Spikard, path: str) -> tuple[threading.Event, threading.Event]:
    """A route whose handler waits until cancelled; the events say it
    started and that it saw its cancellation."""
    started = threading.Event()
    cancelled = threading.Event()

    @app.get(path)
    async def waits_forever():
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "not reached"

    return started, cancelled


def test_request_timeout_cancels_the_async_handler(serve):
    """Core answers 408 at request_timeout and tells the binding why the
    exchange ended (SPIKARD_GONE_TIMEOUT); the handler's Task is cancelled
    rather than left running for nobody."""
    app = Spikard(ServerConfig(request_timeout=0.3))
    started, cancelled = _add_waits_forever(app, "/slow")
    client = serve(app)
    reply = client.get("/slow")
    assert started.is_set()
    assert reply.status == 408
    assert reply.headers["content-type"] == "application/problem+json"
    assert json.loads(reply.body)["detail"] == "Request not answered within request_timeout (0.3 s)"
    assert cancelled.wait(10)


def test_stop_cancels_async_handlers_still_running(serve):
    """At the stop deadline core answers 503 (SPIKARD_GONE_STOPPING) and the
    handler's Task is cancelled."""
    app = Spikard()
    started, cancelled = _add_waits_forever(app, "/forever")
    server = app.serve_in_background(
        host="127.0.0.1", port=0, config=ServerConfig(shutdown_timeout=0.3)
    )
    results: dict[str, int] = {}

    def call() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/forever")
        results["status"] = conn.getresponse().status
        conn.close()

    t = threading.Thread(target=call)
    t.start()
    assert started.wait(10)
    server.stop()
    t.join(10)
    assert results == {"status": 503}
    assert cancelled.wait(10)


def _timed(client, path, results, key):
    reply = client.get(path, timeout=30)
    results[key] = (time.monotonic(), reply.status, reply.body)


@pytest.mark.parametrize("slow_kind", ["sync", "async"])
def test_slow_handler_does_not_block_fast_ones(serve, slow_kind):
    app = Spikard()
    started = threading.Event()

    @app.get("/slow-sync")
    def slow_sync():
        started.set()
        time.sleep(1)
        return "slow"

    @app.get("/slow-async")
    async def slow_async():
        started.set()
        await asyncio.sleep(1)
        return "slow"

    @app.get("/fast-sync")
    def fast_sync():
        return "fast"

    @app.get("/fast-async")
    async def fast_async():
        return "fast"

    client = serve(app)
    results: dict[str, tuple[float, int, bytes]] = {}
    slow = threading.Thread(target=_timed, args=(client, f"/slow-{slow_kind}", results, "slow"))
    slow.start()
    assert started.wait(10)
    fast = [
        threading.Thread(target=_timed, args=(client, path, results, path))
        for path in ("/fast-sync", "/fast-async")
    ]
    for t in fast:
        t.start()
    for t in fast:
        t.join(10)
    # Both fast requests are answered while the slow one is still running.
    assert slow.is_alive()
    slow.join(10)
    assert results["slow"][1:] == (200, b"slow")
    for path in ("/fast-sync", "/fast-async"):
        assert results[path][1:] == (200, b"fast")
        assert results[path][0] < results["slow"][0]


def test_def_handlers_that_wait_on_each_other_both_run(serve):
    # The core hands the pool one request at a time; one that waits (here
    # for the other request) lets the next one in, so neither is stuck.
    app = Spikard()
    waiting = threading.Event()
    released = threading.Event()

    @app.get("/wait")
    def wait():
        waiting.set()
        return "released" if released.wait(10) else "never released"

    @app.get("/release")
    def release():
        released.set()
        return "ok"

    client = serve(app)
    results: dict[str, tuple[float, int, bytes]] = {}
    waiter = threading.Thread(target=_timed, args=(client, "/wait", results, "wait"))
    waiter.start()
    assert waiting.wait(10)
    assert client.get("/release").body == b"ok"
    waiter.join(15)
    assert results["wait"][1:] == (200, b"released")


def test_sync_handlers_run_on_pool_threads_async_on_loop_thread(serve):
    app = Spikard()

    @app.get("/sync")
    def sync():
        return threading.current_thread().name

    @app.get("/async")
    async def asynchronous():
        return threading.current_thread().name

    client = serve(app)
    assert client.get("/sync").body.decode().startswith("spikard-sync-")
    assert client.get("/async").body.decode() == "spikard-server"


def test_many_concurrent_requests(serve):
    app = Spikard()

    @app.get("/a/{n}")
    async def a(n: int):
        if n % 2:
            await asyncio.sleep(0)
        return {"n": n}

    @app.get("/s/{n}")
    def s(n: int):
        return {"n": n}

    client = serve(app)
    errors: list[BaseException] = []

    def worker(base: int) -> None:
        try:
            for i in range(base, base + 25):
                assert client.get(f"/a/{i}").json() == {"n": i}
                assert client.get(f"/s/{i}").json() == {"n": i}
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k * 100,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
