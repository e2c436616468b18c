"""run(): SIGINT/SIGTERM stop a served app gracefully, letting in-flight requests finish."""

from __future__ import annotations

import http.client
import os
import signal
import textwrap
import threading
import time

import pytest
from conftest import run_script

from spikard import Spikard

APP = textwrap.dedent(
    """
    import asyncio, sys, time
    from spikard import Spikard

    app = Spikard()

    @app.get("/slow-sync")
    def slow_sync():
        print("started", flush=True)
        time.sleep(0.5)
        return "done"

    @app.get("/slow-async")
    async def slow_async():
        print("started", flush=True)
        await asyncio.sleep(0.5)
        return "done"

    @app.get("/ping")
    async def ping():
        return "pong"

    if __name__ == "__main__":
        import logging
        logging.basicConfig(level=logging.INFO)  # the "listening" record
        app.run(host="127.0.0.1", port=0)
    """
)


def _start(tmp_path):
    # The "listening" record of the spikard logger.
    return run_script(tmp_path / "app.py", APP, r":(\d+)\b")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("path", ["/slow-sync", "/slow-async"])
def test_signal_stops_gracefully(tmp_path, sig, path):
    proc, port = _start(tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/ping")
        assert conn.getresponse().read() == b"pong"
        conn.close()

        result: dict[str, object] = {}

        def slow() -> None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", path)
            r = c.getresponse()
            result["status"], result["body"] = r.status, r.read()
            c.close()

        t = threading.Thread(target=slow)
        t.start()
        assert proc.stdout.readline().strip() == "started"  # the request is in flight
        sent = time.monotonic()
        os.kill(proc.pid, sig)
        t.join(10)
        _out, err = proc.communicate(timeout=10)
        code = proc.returncode
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert result == {"status": 200, "body": b"done"}
    assert code == 0, err
    assert "Traceback" not in err
    assert elapsed < 5


def test_idle_app_stops_quickly(tmp_path):
    proc, _port = _start(tmp_path)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert time.monotonic() - sent < 1.5
    assert "Traceback" not in err


def test_background_server_context_manager():
    app = Spikard()

    @app.get("/x")
    async def x():
        return 1

    with app.serve_in_background(port=0) as server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/x")
        assert conn.getresponse().read() == b"1"
        conn.close()
    with pytest.raises(OSError):
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
        c.request("GET", "/x")
        c.getresponse()
