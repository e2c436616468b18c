"""The ``spikard`` command: ``spikard run module:app`` (also ``python -m spikard``).

``--workers N`` serves from N processes through the core's supervisor, and
``--reload`` makes that supervisor a development server: it watches the
Python files under ``--reload-dir`` (the current directory by default) and
restarts the workers when one changes. In reload mode this process never
imports the app, so a syntax error in it stops only the worker, which prints
the traceback (file and line), and the next save starts it again.

Unless the app configured logging itself, the command shows the ``spikard``
logger's records on stderr (the "listening" and "stopped" lines and, with
``--access-log``, one line per request), as a server started from a
terminal should.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from pathlib import Path

from . import _workers
from .app import Spikard
from .config import ServerConfig

__all__ = ["load_app", "main"]

# What --reload watches when no --reload-include is given.
DEFAULT_PATTERNS = ("*.py",)


def load_app(target: str) -> Spikard:
    """The app named by ``module:attribute`` (``module`` alone means
    ``module:app``); a ValueError says which part is wrong."""
    module_name, _, attribute = target.partition(":")
    if not module_name:
        raise ValueError(f"{target!r}: want module:app, e.g. main:app")
    module = importlib.import_module(module_name)
    value: object = module
    for part in (attribute or "app").split("."):
        if not hasattr(value, part):
            raise ValueError(
                f"{target!r}: module {module_name!r} has no attribute {attribute or 'app'!r}"
            )
        value = getattr(value, part)
    if not isinstance(value, Spikard):
        raise ValueError(
            f"{target!r}: {attribute or 'app'} is a {type(value).__name__}, not a Spikard app"
        )
    return value


def user_traceback(exc: BaseException) -> list[str]:
    """The traceback of an exception raised while importing the user's
    module, without the frames of spikard and of the import machinery: a
    SyntaxError is its file, line and caret; anything else the user's
    frames."""
    if isinstance(exc, SyntaxError):
        return traceback.format_exception_only(type(exc), exc)
    here = str(Path(__file__).resolve().parent)
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith((here, "<frozen")) and "importlib" not in f.filename
    ]
    return [
        "Traceback (most recent call last):\n",
        *traceback.format_list(frames),
        *traceback.format_exception_only(type(exc), exc),
    ]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="spikard", description="Spikard: serve a Spikard app.")
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an app", description="Serve module:app.")
    run.add_argument("target", metavar="module:app", help="the app, e.g. main:app")
    run.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8000, help="port to bind (default 8000; 0: any)")
    run.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    run.add_argument(
        "--access-log", action="store_true", help="log one line per request (spikard.access)"
    )
    run.add_argument(
        "--reload", action="store_true", help="restart the workers when a watched file changes"
    )
    run.add_argument(
        "--reload-dir",
        action="append",
        metavar="DIR",
        help="a file or directory to watch (repeatable; default: the current directory)",
    )
    run.add_argument(
        "--reload-include",
        action="append",
        metavar="GLOB",
        help="file names to watch (repeatable; default: *.py)",
    )
    run.add_argument(
        "--app-dir", default=".", help="directory put first on sys.path (default: the current one)"
    )
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    sys.path.insert(0, str(Path(args.app_dir).resolve()))
    try:
        config = ServerConfig(host=args.host, port=args.port, workers=args.workers)
    except (TypeError, ValueError) as exc:
        print(f"spikard run: {exc}", file=sys.stderr)
        return 2
    if args.reload and _workers.worker_index() is None:
        paths = [str(Path(p).resolve()) for p in args.reload_dir or [os.getcwd()]]
        patterns = list(args.reload_include or DEFAULT_PATTERNS)
        show_logs()  # this process never imports the app
        _workers.supervise(config, reload={"paths": paths, "patterns": patterns})
        return 0
    try:
        app = load_app(args.target)
    except ValueError as exc:
        print(f"spikard run: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the user's code failed to load: say where
        print(f"spikard run: cannot load {args.target}:", file=sys.stderr)
        print("".join(user_traceback(exc)), end="", file=sys.stderr)
        return 1
    show_logs()
    access_log = True if args.access_log else None  # None keeps the app's own setting
    app.run(
        config=app.config.replace(
            host=args.host, port=args.port, workers=args.workers, access_log=access_log
        )
    )
    return 0


def show_logs() -> None:
    """Print the ``spikard`` loggers' INFO records on stderr, unless logging
    is configured (the root logger or ``spikard`` has a handler): then the
    app's configuration decides."""
    log = logging.getLogger("spikard")
    if logging.getLogger().handlers or log.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
