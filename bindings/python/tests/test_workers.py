"""ServerConfig(workers=N): one app served by N processes on one address."""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from conftest import run_script

from spikard import _native

APP = textwrap.dedent(
    """
    import asyncio, os, sys
    from spikard import ServerConfig, Spikard, _native

    app = Spikard(config=ServerConfig(host="127.0.0.1", port=0, workers=2))

    @app.get("/pid")
    async def pid() -> dict:
        return {"pid": os.getpid()}

    @app.get("/env")
    async def env() -> dict:
        names = ("SPIKARD_WORKER", "SPIKARD_WORKER_ADDR", "SPIKARD_WORKER_READY_FD",
                 "SPIKARD_SUPERVISOR_PID")
        return {"spikard": [k for k in names if k in os.environ]}

    @app.get("/slow")
    async def slow() -> dict:
        print("started", os.getpid(), flush=True)
        await asyncio.sleep(0.5)
        return {"pid": os.getpid()}

    if _native.worker_index() == 1 and os.environ.get("CRASH_SECOND_WORKER"):
        sys.exit(3)

    app.run()
    """
)


def _start(tmp_path, **env: str) -> tuple[subprocess.Popen, int]:
    # The supervisor's one line, once all workers listen.
    return run_script(tmp_path / "app.py", APP, r":(\d+) \(2 workers\)", **env)


def _running(pid: int) -> bool:
    """Whether pid is a live process (an exited one not yet reaped is not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _get(port: int, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == 200
        return json.loads(resp.read())
    finally:
        conn.close()


def _worker_pids(port: int, supervisor: int) -> set[int]:
    """Fresh connections until both workers have answered (the kernel spreads
    them by a hash of the client port, so a few dozen suffice)."""
    seen: set[int] = set()
    for _ in range(500):
        seen.add(_get(port, "/pid")["pid"])
        if len(seen) == 2:
            break
    assert supervisor not in seen
    return seen


def test_two_workers_share_the_port_and_stop_together(tmp_path):
    proc, port = _start(tmp_path)
    try:
        pids = _worker_pids(port, proc.pid)
        assert len(pids) == 2
        # A worker's own subprocesses must not take themselves for workers.
        assert _get(port, "/env") == {"spikard": []}

        # A request in flight on a worker finishes when the supervisor is told to stop.
        result: dict = {}
        t = threading.Thread(target=lambda: result.update(_get(port, "/slow")))
        t.start()
        assert proc.stdout.readline().startswith("started")
        proc.send_signal(signal.SIGTERM)
        t.join(10)
        _out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert result.get("pid") in pids
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert not any(_running(pid) for pid in pids)  # every worker is gone with the supervisor


def _stderr_line(proc: subprocess.Popen, timeout: float = 60) -> str:
    ready, _, _ = select.select([proc.stderr], [], [], timeout)
    assert ready, "the supervisor said nothing"
    return proc.stderr.readline()


def test_a_dead_worker_is_replaced(tmp_path):
    proc, port = _start(tmp_path)
    try:
        pids = _worker_pids(port, proc.pid)
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        assert "exited with status 137 (SIGKILL); restarting it" in _stderr_line(proc)
        again = re.search(r"listening again \(pid (\d+)\)", _stderr_line(proc))
        assert again, "no replacement worker listened"
        replacement = int(again.group(1))
        assert replacement not in pids
        # Fresh connections now reach the replacement too.
        seen: set[int] = set()
        for _ in range(500):
            seen.add(_get(port, "/pid")["pid"])
            if replacement in seen:
                break
        assert seen <= pids | {replacement}
        assert replacement in seen
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_workers_do_not_outlive_a_killed_supervisor(tmp_path):
    proc, port = _start(tmp_path)
    try:
        pids = _worker_pids(port, proc.pid)
        proc.kill()  # no chance to stop its workers itself
        proc.wait(timeout=10)
        # The workers get SIGTERM from the kernel and close stderr on exit.
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    # A worker closes its files early in its exit; it may take a moment more
    # to be gone (a busy machine): wait for that, with a deadline.
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in pids)


def test_a_worker_that_never_listens_stops_the_app(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(APP)
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CRASH_SECOND_WORKER": "1"},
    )
    assert proc.returncode != 0
    assert "worker 1 exited with status 3 before it listened" in proc.stderr


def test_the_supervisor_refuses_what_the_core_refuses():
    with pytest.raises(_native.SpikardError, match='unknown key "wrokers"'):
        _native.Supervisor([sys.executable, "-c", "pass"], b'{"workers":1,"wrokers":2}')
    assert _native.worker_index() is None  # this process was not started by a supervisor
