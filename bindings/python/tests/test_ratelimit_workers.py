"""A Redis-backed rate limit shared by two worker processes: one bucket,
whichever worker a request lands on (core/ratelimit, the Lua script)."""

from __future__ import annotations

import http.client
import json
import textwrap
import time

from conftest import run_script
from test_websockets import redis_url  # noqa: F401 - the fixture

APP = textwrap.dedent(
    """
    import os
    from spikard import RateLimitConfig, ServerConfig, Spikard

    limit = RateLimitConfig(per_second=4, burst=5, ip_based=False,
                            redis_url=os.environ["REDIS_URL"])
    app = Spikard(config=ServerConfig(host="127.0.0.1", port=0, workers=2, rate_limit=limit))

    @app.get("/pid")
    async def pid() -> dict:
        return {"pid": os.getpid()}

    app.run()
    """
)


def _get(port: int) -> tuple[int, int | None]:
    """One request on a fresh connection (the kernel spreads connections over
    the workers): its status and, when admitted, the answering worker's pid."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/pid")
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, json.loads(body)["pid"] if resp.status == 200 else None
    finally:
        conn.close()


def test_two_workers_admit_one_bucket(tmp_path, redis_url):  # noqa: F811
    proc, port = run_script(tmp_path / "app.py", APP, r":(\d+) \(2 workers\)", REDIS_URL=redis_url)
    try:
        statuses: dict[int, int] = {}
        pids: set[int] = set()
        start = time.monotonic()
        last = start
        while time.monotonic() - start < 2.0:
            last = time.monotonic()
            status, pid = _get(port)
            statuses[status] = statuses.get(status, 0) + 1
            if pid is not None:
                pids.add(pid)
        window = last - start
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert set(statuses) <= {200, 429}, statuses
    admitted = statuses.get(200, 0)
    expected = 5 + 4 * window  # burst + rate x t
    assert abs(admitted - expected) <= 1, (admitted, expected, statuses)
    assert statuses.get(429, 0) > admitted  # the clients asked for far more
    assert len(pids) == 2 and proc.pid not in pids, pids  # both workers served
