"""``spikard run module:app`` and ``python -m spikard``, as a user runs them:
a subprocess serving real HTTP; with ``--reload``, edits to the app's file
restart the worker, and a syntax error leaves the supervisor waiting."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

APP = """
from spikard import Spikard

app = Spikard()


@app.get("/v")
async def version() -> dict:
    return {{"v": {v}}}
"""

LINE_TIMEOUT = 30.0


class Program:
    """A spikard command line run in a directory; its stderr read line by line."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "spikard", *args],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern: str) -> re.Match[str]:
        """The first line from now on that matches pattern."""
        deadline = time.monotonic() + LINE_TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r} in {LINE_TIMEOUT}s: {self.seen}")
            if line is None:
                pytest.fail(f"exited ({self.proc.wait()}) before {pattern!r}: {self.seen}")
            self.seen.append(line)
            if m := re.search(pattern, line):
                return m

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        """Kill it if it still runs, then release its pipe."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.pump.join(timeout=10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()


def get(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v", timeout=10) as resp:
        return json.loads(resp.read())


def test_run_shows_the_listening_access_and_stopped_lines(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(APP.format(v=3))
    program = Program(tmp_path, "run", "main:app", "--port", "0", "--access-log")
    try:
        port = int(program.wait_for(r"^Spikard listening on http://127\.0\.0\.1:(\d+)$").group(1))
        assert get(port) == {"v": 3}
        program.wait_for(
            r'^\S+Z 127\.0\.0\.1:\d+ "GET /v HTTP/1\.1" 200 \d+\.\d{3}ms [0-9a-f-]{36}$'
        )
        program.proc.send_signal(signal.SIGTERM)
        program.wait_for(rf"^Spikard stopped \(http://127\.0\.0\.1:{port}\)$")
        assert program.proc.wait(timeout=30) == 0
    finally:
        program.kill()


def test_run_serves_module_app(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(APP.format(v=1))
    program = Program(tmp_path, "run", "main:app", "--port", "0")
    try:
        port = int(program.wait_for(r"listening on http://127\.0\.0\.1:(\d+)").group(1))
        assert get(port) == {"v": 1}
        assert program.stop() == 0
    finally:
        program.kill()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("main:nothing", "'main:nothing': module 'main' has no attribute 'nothing'"),
        ("main:version", "'main:version': version is a function, not a Spikard app"),
        (":app", "':app': want module:app, e.g. main:app"),
    ],
)
def test_a_wrong_target_says_what_is_wrong(tmp_path: Path, target: str, message: str) -> None:
    (tmp_path / "main.py").write_text(APP.format(v=1))
    done = subprocess.run(
        [sys.executable, "-m", "spikard", "run", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"spikard run: {message}"


def test_reload_restarts_on_an_edit_and_survives_a_syntax_error(tmp_path: Path) -> None:
    app = tmp_path / "main.py"
    app.write_text(APP.format(v=1))
    program = Program(tmp_path, "run", "main:app", "--port", "0", "--reload")
    try:
        port = int(
            program.wait_for(r"listening on http://127\.0\.0\.1:(\d+) \(1 worker\)").group(1)
        )
        assert get(port) == {"v": 1}

        app.write_text(APP.format(v=2))
        program.wait_for(re.escape(f"spikard: {app} changed; restarting the workers"))
        program.wait_for(r"worker 0 listening again")
        assert get(port) == {"v": 2}

        broken = APP.format(v=3) + "\ndef broken(:\n"
        app.write_text(broken)
        program.wait_for(r"changed; restarting the workers")
        program.wait_for(r"spikard run: cannot load main:app:")
        where = program.wait_for(r'File "(.*)", line (\d+)')
        line_no = broken.splitlines().index("def broken(:") + 1
        assert (where.group(1), where.group(2)) == (str(app), str(line_no))
        program.wait_for(r"SyntaxError")
        program.wait_for(r"worker 0 exited with status 1 before it listened; waiting for a change")
        assert program.proc.poll() is None, "the supervisor ended on a broken worker"

        (tmp_path / "notes.txt").write_text("not Python: not watched")
        app.write_text(APP.format(v=4))
        line = program.wait_for(r"changed; restarting the workers")
        assert "notes.txt" not in line.string
        program.wait_for(r"worker 0 listening again")
        assert get(port) == {"v": 4}
        assert program.stop() == 0
    finally:
        program.kill()
