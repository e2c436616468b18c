"""Worker processes: ``ServerConfig(workers=N)`` serves one app from N processes.

The Go runtime inside libspikard.so does not survive ``fork()``, so workers
are started the way they would be started by hand: this program is run again
(same interpreter, options and arguments) with ``SPIKARD_WORKER`` set. In a
worker, ``app.run()`` serves on the supervisor's host and port with
SO_REUSEPORT, so the kernel spreads new connections over the workers, and
reports on a pipe once it listens. The supervisor prints the one "listening"
line when all listen, forwards SIGINT/SIGTERM, restarts a worker that dies
after it listened, and gives up (stopping the rest, raising) if one dies
before it ever listened: that is a broken program, not bad luck.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time

from .config import ServerConfig

logger = logging.getLogger("spikard")

WORKER_ENV = "SPIKARD_WORKER"  # the worker's index, set only in workers
PORT_ENV = "SPIKARD_WORKER_PORT"  # the port every worker binds
READY_FD_ENV = "SPIKARD_WORKER_READY_FD"  # a pipe a worker writes "<index>\n" to
SUPERVISOR_ENV = "SPIKARD_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1
START_TIMEOUT_S = 120.0  # how long workers may take to import and listen


def in_worker() -> bool:
    """Whether this process is a worker started by a supervisor."""
    return WORKER_ENV in os.environ


def worker_config(cfg: ServerConfig) -> ServerConfig:
    """The configuration a worker serves with: the supervisor's port, shared."""
    return cfg.replace(port=int(os.environ[PORT_ENV]), workers=1, reuse_port=True, quiet=True)


def follow_supervisor() -> None:
    """Make this worker get SIGTERM when its supervisor dies, however it dies,
    so that no worker outlives it (Linux; elsewhere the supervisor's own stop
    is the only guard). Exits at once if the supervisor is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if str(os.getppid()) != os.environ.get(SUPERVISOR_ENV):
        raise SystemExit("spikard: worker started without its supervisor")


def report_ready(_server: object = None) -> None:
    """Tell the supervisor this worker listens (once; later calls do nothing)."""
    fd = os.environ.pop(READY_FD_ENV, None)
    if fd is None:
        return
    try:
        os.write(int(fd), f"{os.environ[WORKER_ENV]}\n".encode())
        os.close(int(fd))
    except OSError:
        pass  # the supervisor is gone; SIGTERM follows or it never comes


def rerun_argv() -> list[str]:
    """The command line that runs this program again."""
    argv = list(sys.orig_argv)
    if len(argv) < 2 or "-c" in argv[1:] or not sys.argv or sys.argv[0] in ("", "-c"):
        raise RuntimeError(
            "ServerConfig.workers > 1 starts each worker by running this program "
            "again: run it as a script (python app.py) or a module (python -m app)"
        )
    argv[0] = sys.executable
    return argv


class Supervisor:
    """Starts, watches and stops the worker processes of one ``app.run()``."""

    def __init__(self, cfg: ServerConfig) -> None:
        self.cfg = cfg
        self.argv = rerun_argv()
        self.port = cfg.port or _free_port(cfg.host)
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.ready: set[int] = set()
        self.stopping = False
        self._ready_r, self._ready_w = os.pipe()  # workers write "<index>\n"
        self._wake_r, self._wake_w = os.pipe()  # signal handlers write a byte
        os.set_blocking(self._wake_w, False)

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop every worker and return."""
        previous = {
            sig: signal.signal(sig, self._on_signal)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD)
        }
        try:
            for index in range(self.cfg.workers):
                self._spawn(index)
            self._supervise()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for fd in (self._ready_r, self._ready_w, self._wake_r, self._wake_w):
                os.close(fd)

    def _spawn(self, index: int) -> None:
        env = dict(os.environ)
        env[WORKER_ENV] = str(index)
        env[PORT_ENV] = str(self.port)
        env[READY_FD_ENV] = str(self._ready_w)
        env[SUPERVISOR_ENV] = str(os.getpid())
        self.ready.discard(index)
        self.workers[index] = subprocess.Popen(self.argv, env=env, pass_fds=(self._ready_w,))

    def _supervise(self) -> None:
        """Wait for workers to listen, then for signals and exits, until stopped."""
        announced = False
        deadline = time.monotonic() + START_TIMEOUT_S
        partial = b""
        while not self.stopping:
            timeout = None if announced else max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([self._ready_r, self._wake_r], [], [], timeout)
            if not readable and not announced:
                limit = f"{START_TIMEOUT_S:.0f} s"
                raise RuntimeError(f"spikard: workers did not listen within {limit}")
            if self._wake_r in readable:
                os.read(self._wake_r, 512)
            if self._ready_r in readable:
                lines = (partial + os.read(self._ready_r, 512)).split(b"\n")
                partial = lines.pop()
                for line in lines:
                    if line.strip():
                        self._on_ready(int(line), announced)
            self._reap()
            if not announced and len(self.ready) == self.cfg.workers and not self.stopping:
                announced = True
                if not self.cfg.quiet:
                    host = f"[{self.cfg.host}]" if ":" in self.cfg.host else self.cfg.host
                    where = f"http://{host}:{self.port}"
                    print(
                        f"spikard: listening on {where} ({self.cfg.workers} workers)",
                        file=sys.stderr,
                        flush=True,
                    )

    def _on_ready(self, index: int, announced: bool) -> None:
        self.ready.add(index)
        if announced and not self.cfg.quiet:  # a restarted worker
            pid = self.workers[index].pid
            print(
                f"spikard: worker {index} listening again (pid {pid})", file=sys.stderr, flush=True
            )

    def _reap(self) -> None:
        """Restart a worker that died while serving; give up on one that never listened."""
        for index, proc in list(self.workers.items()):
            if self.stopping or proc.poll() is None:
                continue
            if index not in self.ready:
                status = proc.returncode
                raise RuntimeError(
                    f"spikard: worker {index} exited with status {status} before it listened"
                )
            logger.warning(
                "spikard: worker %d exited with status %d; restarting it", index, proc.returncode
            )
            self._spawn(index)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if signum != signal.SIGCHLD:
            self.stopping = True
        with contextlib.suppress(BlockingIOError):  # a full pipe: the loop is awake already
            os.write(self._wake_w, b"!")

    def _stop_all(self) -> None:
        self.stopping = True
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.cfg.shutdown_timeout + 5
        for proc in self.workers.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port
