"""The dispatch rule: async on the loop (no Task when not awaiting), def on the pool."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from spikard import Spikard


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


def test_non_awaiting_coroutine_creates_no_task(serve):
    app = Spikard()
    created: list[object] = []

    @app.get("/install")
    async def install():
        loop = asyncio.get_running_loop()

        def factory(loop, coro, **kwargs):
            created.append(coro)
            return asyncio.Task(coro, loop=loop, **kwargs)

        loop.set_task_factory(factory)
        return {"ok": True}

    @app.get("/fast")
    async def fast():
        return {"task": asyncio.current_task() is not None}

    @app.get("/awaits")
    async def awaits():
        await asyncio.sleep(0)
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(fut.set_result, 5)
        value = await fut
        return {"task": asyncio.current_task() is not None, "value": value}

    client = serve(app)
    assert client.get("/install").json() == {"ok": True}
    for _ in range(20):
        assert client.get("/fast").json() == {"task": False}
    assert created == []
    assert client.get("/awaits").json() == {"task": True, "value": 5}
    assert len(created) == 1


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
