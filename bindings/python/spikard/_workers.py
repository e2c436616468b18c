"""Worker processes: ``ServerConfig(workers=N)`` serves one app from N processes.

The Go runtime inside libspikard.so does not survive ``fork()``, so workers
are started the way they would be started by hand: libspikard's supervisor
(``spikard_supervise``) runs this program again, same interpreter, options
and arguments, once per worker. Everything else is the core's: a worker's
``app.run()`` just serves, and its core binds the supervisor's address with
SO_REUSEPORT and reports when it listens; the supervisor prints the one
"listening" line on stderr once all of them listen (it alone knows the port
``port=0`` gave; each worker also logs its own "listening" record on the
``spikard`` logger), restarts a worker that dies after it listened, and gives
up (stopping the rest) if one dies before it ever listened. What is left
here is the command line and the signals, which are this process's to
handle: SIGINT and SIGTERM are passed on to the supervisor.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from types import FrameType

from . import _native
from .config import ServerConfig
from .errors import listen_error

# The variables a supervisor gives its workers. libspikard removed them
# from the C environment when it loaded; os.environ copied them before
# that, and a subprocess started with env=os.environ would be taken for a
# worker (and refused at start).
_WORKER_VARIABLES = (
    "SPIKARD_WORKER",
    "SPIKARD_WORKER_ADDR",
    "SPIKARD_WORKER_READY_FD",
    "SPIKARD_SUPERVISOR_PID",
)
for _name in _WORKER_VARIABLES:
    os.environ.pop(_name, None)

logger = logging.getLogger("spikard")

START_TIMEOUT_S = 120.0  # how long a worker may take to import and listen
_WAIT_MS = 100  # signal handlers run between waits this long


def worker_index() -> int | None:
    """This worker's index, or None in a process no supervisor started."""
    return _native.worker_index()


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


def supervise(cfg: ServerConfig, reload: dict[str, list[str]] | None = None) -> None:
    """Run ``cfg.workers`` workers until SIGINT or SIGTERM, then return once
    all have stopped. Raises RuntimeError naming the worker if the supervisor
    gave up on one, and SystemExit with the status of a worker that did not
    stop cleanly. ``reload`` ({"paths": [...], "patterns": [...]}) makes the
    supervisor restart the workers when a watched file changes."""
    options: dict[str, object] = {
        "workers": cfg.workers,
        "host": cfg.host,
        "port": cfg.port,
        "start_timeout": START_TIMEOUT_S,
        "shutdown_timeout": cfg.shutdown_timeout,
        "quiet": cfg.quiet,
    }
    if reload is not None:
        options["reload"] = reload
    argv = rerun_argv()
    supervisor: _native.Supervisor | None = None
    early: list[int] = []  # signals that came before the supervisor existed

    def forward(signum: int, _frame: FrameType | None) -> None:
        if supervisor is None:
            early.append(signum)
        else:
            supervisor.signal(signum)

    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, forward) for sig in stops}
    try:
        for sig in stops:
            _native.signal_onstack(sig)  # CPython sets SA_ONSTACK itself; a guard
        supervisor = _native.Supervisor(argv, json.dumps(options).encode())

        for signum in early:
            supervisor.signal(signum)
        status = None
        while status is None:
            status = supervisor.wait(_WAIT_MS)  # the GIL released; handlers run in between
    except _native.SpikardError as exc:
        if exc.args[0] == _native.E_IO:
            raise listen_error(cfg.host, cfg.port, exc.args[-1]) from None
        raise RuntimeError(exc.args[-1]) from None
    finally:
        for sig, handler in previous.items():
            if handler is not None:  # None: not installed from Python, nothing to restore
                signal.signal(sig, handler)
        if supervisor is not None:
            supervisor.close()  # kills workers still running if we got here by an error
    if not cfg.quiet:
        logger.info("Spikard stopped (%d workers, exit status %s)", cfg.workers, status)
    if status != 0:
        raise SystemExit(status)
