"""The dispatch loop: how requests pulled from the core reach Python handlers.

THE DISPATCH RULE

* ``async def`` handlers live on lane 0. The thread that runs the app drives
  an asyncio event loop that watches lane 0's readiness fd
  (``loop.add_reader``); when it is readable the loop polls with timeout 0 in
  batches of 64 until a short batch. Every handler runs in an asyncio Task,
  so ``asyncio.current_task()``, ``asyncio.timeout()`` and ``TaskGroup``
  behave as anywhere else. On Python 3.12+ the Task starts eagerly: its first
  step runs at once, and a handler that finishes without suspending is
  answered in the same batch, with no trip through the loop. On 3.10 and
  3.11 the Task's first step runs on the loop's next turn. The answers that
  are ready together go back in one ``respond`` call. When a client goes
  away while its handler is suspended, the core says so and the Task is
  cancelled (the handler sees ``CancelledError``); its answer is dropped.
* Plain ``def`` handlers live on lane 1, served by a pool of Python threads
  (``ServerConfig.sync_workers``, default 16). Each thread waits on its own
  poller's fd with the GIL released, takes one request and runs the handler
  inline; there is no executor hand-off. Lane 1 is a serial lane of the core:
  the pool holds one request at a time, since two threads would only take
  turns at the GIL, plus one more for each request held longer than 5 ms
  (most likely blocked with the GIL released). So a blocking handler
  (``time.sleep(1)``) occupies one pool thread while the loop and the other
  threads go on serving.

Every request, on either lane, runs in a fresh copy of the context of the
thread that created the server (``contextvars``): a ``ContextVar`` a handler
sets is gone when its request ends.

A handler that raises is answered with the core's standard 500 problem
document (SPIKARD_RESPONSE_HANDLER_ERROR); the traceback goes to the
``spikard`` logger, never into the response.

LOGGING

The ``spikard`` logger gets a "listening" record when the server starts and
a "stopped" one when it has stopped (INFO, unless ``ServerConfig.quiet``);
the core prints nothing itself. With ``ServerConfig.access_log`` the core
formats one access line per request and hands them over in batches
(SPIKARD_EVENT_LOG on lane 0, at most 100 ms apart; the stop flushes the
last ones before the lane closes); the loop emits each line as one INFO
record of ``spikard.access``, unless that logger is disabled for INFO.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import logging
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from . import _hooked, _native, background
from ._results import ReturnedNothing
from ._sockets import Sockets
from ._streams import Streams
from .config import ServerConfig
from .di import _Unresolved, inject_route
from .errors import listen_error
from .exceptions import HTTPException
from .hooks import Hooks
from .routing import ASYNC_LANE, SYNC_LANE, RequestValidationError, Route
from .streaming import OpenStream

__all__ = ["BackgroundServer", "Server", "run_server"]

logger = logging.getLogger("spikard")
access_logger = logging.getLogger("spikard.access")

BATCH = 64
HANDLER_ERROR = _native.RESPONSE_HANDLER_ERROR
PROBLEM = _native.RESPONSE_PROBLEM
WRITTEN = _native.RESPONSE_WRITTEN
FILE = _native.RESPONSE_FILE
_CREDIT = _native.EVENT_STREAM_CREDIT
_LOG = _native.EVENT_LOG
_HOOK = _native.EVENT_HOOK
_WS_MESSAGE = _native.EVENT_WS_MESSAGE
_PENDING = background.PENDING
_SYNC_POLL_MS = 500  # pool threads re-check for shutdown this often
_JOIN_GRACE = 1.0  # seconds close() waits for pool threads after the app stopped


# Python 3.12 runs a Task's first step at once on request (eager start).
_EAGER = sys.version_info >= (3, 12)


def _task_starter(loop: asyncio.AbstractEventLoop) -> Callable[..., asyncio.Task[Any]]:
    """``start(coro, context=ctx)``: a handler's Task on ``loop``, in ``ctx``.

    On 3.12+ the Task starts eagerly: its first step runs before this
    returns, and a handler that never suspends is already finished, answered
    in the same batch. On 3.10 and 3.11 the first step runs on the loop's
    next turn. Each is a C callable, so a request pays no Python frame here.
    """
    if sys.version_info >= (3, 12):
        return functools.partial(asyncio.Task, loop=loop, eager_start=True)
    if sys.version_info >= (3, 11):
        return loop.create_task

    def start(coro: Coroutine[Any, Any, Any], *, context: contextvars.Context) -> asyncio.Task[Any]:
        return context.run(loop.create_task, coro)  # 3.10's create_task copies the current context

    return start


def _crash(exchange: int, route: Route, exc: BaseException) -> _native.Answer:
    if isinstance(exc, RequestValidationError):
        return (exchange, 422, None, exc.description, PROBLEM)
    if isinstance(exc, _Unresolved):  # the core's dependency-error document
        return exc.answer(exchange)
    if isinstance(exc, _hooked.PreAnswer):  # the pre phases' own answer (_hooked)
        return exc.answer(exchange)
    if isinstance(exc, HTTPException):  # the core renders its problem document
        return (
            exchange,
            exc.status_code,
            list(exc.headers.items()) or None,
            exc.description(),
            PROBLEM,
        )
    if isinstance(exc, ReturnedNothing):  # the message says all; no traceback
        logger.error("%s %s: %s", route.method, route.path, exc)
        return (exchange, 500, None, b"", HANDLER_ERROR)
    logger.error(
        "handler %s for %s %s raised",
        route.handler.__qualname__,
        route.method,
        route.path,
        exc_info=exc,
    )
    return (exchange, 500, None, b"", HANDLER_ERROR)


def _log_access(batch: bytes) -> None:
    """One ``spikard.access`` record per line of the core's batch."""
    if not access_logger.isEnabledFor(logging.INFO):
        return
    info = access_logger.info
    # Each line ends in "\n" (the core's rule), so split there only.
    for line in batch.decode("ascii", "replace").split("\n")[:-1]:
        info(line)


def _whose() -> str:
    """`` (worker i, pid n)`` in a worker process, else nothing."""
    index = _native.worker_index()
    return "" if index is None else f" (worker {index}, pid {os.getpid()})"


def _owner(route: Route) -> str:
    return f"handler {route.handler.__qualname__} for {route.method} {route.path}"


def _dropped(context: contextvars.Context) -> None:
    """A handler that raised: the background tasks it scheduled never run."""
    pending = context.get(_PENDING)
    if pending:
        background.discard(pending)


def _settled(
    exchange: int,
    route: Route,
    task: asyncio.Task[Any],
    context: contextvars.Context,
    server: Server,
) -> _native.Answer | None:
    """The answer of a finished handler Task; None when it opened a stream."""
    try:
        # result() raises what the handler raised: one call on the fast path.
        status, headers, payload = route.render(task.result())
    except OpenStream as answer:
        pending = context.get(_PENDING)
        if pending:
            server.defer(exchange, pending, context)
        server.streams.start(exchange, _owner(route), answer.response, context)
        return None
    except asyncio.CancelledError:
        # Not by us (a disconnect drops the answer before it gets here): the
        # handler cancelled itself, or the loop is shutting down.
        logger.error(
            "handler %s for %s %s was cancelled",
            route.handler.__qualname__,
            route.method,
            route.path,
        )
        _dropped(context)
        return (exchange, 500, None, b"", HANDLER_ERROR)
    except Exception as exc:
        _dropped(context)
        return _crash(exchange, route, exc)
    flags = 0
    if status > 0xFFFF:  # a FileResponse (_results.FILE_STATUS)
        status, flags = status & 0xFFFF, FILE
    pending = context.get(_PENDING)
    if pending is None:
        return (exchange, status, headers, payload, flags)
    # Its background tasks start on the WRITTEN (or DISCONNECT) event.
    server.defer(exchange, pending, context)
    return (exchange, status, headers, payload, WRITTEN | flags)


def _call_sync(
    exchange: int,
    route: Route,
    ev: _native.Event,
    loop: asyncio.AbstractEventLoop,
    server: Server,
) -> _native.Answer | None:
    """Run a ``def`` handler and render its answer (inside the request's context).

    A StreamingResponse is pumped on the loop (its plain generator on the
    loop's executor), so this pool thread is free for the next request;
    None then.
    """
    try:
        status, headers, payload = route.render(route.call(ev))
    except OpenStream as answer:
        context = contextvars.copy_context()  # this request's, with what the handler set
        pending = _PENDING.get()
        if pending:
            server.defer(exchange, pending, context)
        with contextlib.suppress(RuntimeError):  # the loop closed: the stop has answered it
            loop.call_soon_threadsafe(
                server.streams.start, exchange, _owner(route), answer.response, context
            )
        return None
    except Exception as exc:
        pending = _PENDING.get()
        if pending:
            background.discard(pending)
        return _crash(exchange, route, exc)
    flags = 0
    if status > 0xFFFF:  # a FileResponse (_results.FILE_STATUS)
        status, flags = status & 0xFFFF, FILE
    pending = _PENDING.get()
    if pending is None:
        return (exchange, status, headers, payload, flags)
    server.defer(exchange, pending, contextvars.copy_context())
    return (exchange, status, headers, payload, WRITTEN | flags)


class Server:
    """One running app: the native App, its pollers, the loop hooks and the pool."""

    def __init__(
        self,
        routes: list[Route],
        config: ServerConfig,
        hooks: Hooks | None = None,
        exception_handlers: dict[type[BaseException], Any] | None = None,
        dependencies: dict[Any, Any] | None = None,
        strict_dependencies: bool = False,
        route_overrides: dict[tuple[str, str], dict[Any, Any]] | None = None,
    ) -> None:
        self.config = config
        self.hooks = hooks if hooks is not None else Hooks()
        doc = config.to_json(serial_lanes=(SYNC_LANE,), log_lane=ASYNC_LANE)
        if dependencies or route_overrides:
            # Resolved now, at start (spikard.di): injected parameters leave
            # the core's schema; an unresolvable route answers 500.
            overrides = route_overrides or {}
            routes = [
                inject_route(
                    r,
                    {**(dependencies or {}), **overrides.get((r.method, r.path), {})},
                    strict=strict_dependencies,
                    loop=lambda: self._loop,
                )
                for r in routes
            ]
        if exception_handlers:
            routes = [
                _hooked.handled_route(r, exception_handlers, lambda: self._loop) for r in routes
            ]
        if self.hooks.phases():
            # The core pauses requests only for the phases that have hooks
            # (hooks.py); pre_handler and on_response run inside the
            # request's own visit, in the wrapped routes.
            routes = [_hooked.hooked_route(r, self.hooks, lambda: self._loop) for r in routes]
            doc = doc[:-1] + b',"hooks":' + json.dumps(self.hooks.phases()).encode() + b"}"
            if self.hooks.by_phase["on_request"] or self.hooks.by_phase["pre_validation"]:
                # A request that validates as received runs them in its
                # REQUEST: no pre visit, no extra crossing (_hooked).
                doc = doc[:-1] + b',"hooks_in_request":true}'
        self._app: _native.App | None = _native.App(doc)
        ids = {self._app.add_route(route.route_json()): route for route in routes}
        # Events carry the core's route id; index the plans by it.
        table: list[Any] = [None] * (max(ids) + 1 if ids else 0)
        for route_id, route in ids.items():
            table[route_id] = route
        self._routes: list[Route] = table
        # Error visits of requests no route matched come on lane 0.
        self._has_async = any(r.is_async for r in routes) or self.hooks.post
        self._has_sync = any(not r.is_async for r in routes)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._async_poller: _native.Poller | None = None
        self._sync_pollers: list[_native.Poller] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()
        self._done: asyncio.Future[None] | None = None
        self._pending: list[_native.Answer] = []
        self._flush_scheduled = False
        # Every request runs in a fresh copy of this context: what a handler
        # sets in a ContextVar (the current user, a tenant) dies with its
        # request, on either lane.
        self._context = contextvars.copy_context()
        self._context.run(background.IN_REQUEST.set, True)
        # Background tasks of answered exchanges, until their WRITTEN (or
        # DISCONNECT) event; then the Tasks running them, until they finish.
        self._later: dict[int, tuple[list[background.Task], contextvars.Context]] = {}
        self._background: set[asyncio.Task[None]] = set()
        # Handler Tasks that suspended, by exchange, so a disconnect can
        # cancel them.
        self._tasks: dict[int, asyncio.Task[Any]] = {}
        self.streams = Streams(self._require_loop, lambda: self._app)
        self.sockets = Sockets(self._require_loop, lambda: self._app)
        self.port = 0

    # -- lifecycle -----------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start serving; call on the loop's thread before running the loop."""
        app = self._require_app()
        self._loop = loop
        self._start_task = _task_starter(loop)
        self._done = loop.create_future()
        if self._has_async or self.config.access_log:  # lane 0 also carries the access log
            self._async_poller = _native.Poller(app, ASYNC_LANE)
        if self._has_sync:
            self._sync_pollers = [
                _native.Poller(app, SYNC_LANE) for _ in range(max(1, self.config.sync_workers))
            ]
        try:
            app.start()
        except _native.SpikardError as exc:
            if exc.args[0] == _native.E_IO:
                raise listen_error(self.config.host, self.config.port, exc.args[-1]) from None
            raise
        self.port = app.port
        if not self.config.quiet:
            logger.info("Spikard listening on %s%s", self.url, _whose())
        if self._async_poller is not None:
            loop.add_reader(self._async_poller.fileno(), self._on_ready)
        for i, poller in enumerate(self._sync_pollers):
            thread = threading.Thread(
                target=self._sync_worker, args=(poller,), name=f"spikard-sync-{i}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def begin_stop(self) -> None:
        """Begin a graceful stop (idempotent, any thread).

        ``App.stop`` blocks until in-flight requests are answered, and those
        need the loop and the pool, so it runs on a helper thread; when it
        returns the loop is told to finish.
        """
        with self._stop_lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
        threading.Thread(target=self._stop_worker, name="spikard-stop", daemon=True).start()

    async def wait_stopped(self) -> None:
        assert self._done is not None
        await self._done

    def close(self) -> None:
        """Join the pool and free native handles (pollers before the app).

        A pool thread still stuck in a handler after the stop deadline (its
        request already answered 503 by the core) is left behind as a daemon
        thread after a short grace period; the handles it uses are then kept.
        """
        deadline = time.monotonic() + _JOIN_GRACE
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            logger.warning("a def handler is still running after the stop deadline")
            return
        self._threads.clear()
        if self._async_poller is not None:
            self._async_poller.close()
        for poller in self._sync_pollers:
            poller.close()
        self._async_poller = None
        self._sync_pollers = []
        self._app = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the listening server."""
        host = self.config.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Started and not yet stopping."""
        return self._loop is not None and self._app is not None and not self._stopping.is_set()

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the server has not started")
        return self._loop

    def defer(
        self, exchange: int, tasks: list[background.Task], context: contextvars.Context
    ) -> None:
        """Hold ``tasks`` until ``exchange`` ends (any thread: a dict store)."""
        self._later[exchange] = (tasks, context)

    def _ended(self, exchange: int, kind: object, code: object) -> None:
        """A stream's credit, or the end (WRITTEN, DISCONNECT) of an answered exchange."""
        self.streams.event(exchange, kind, code)
        if kind == _CREDIT:
            return
        later = self._later.pop(exchange, None)
        if later is not None:
            task = background.start(self._require_loop(), *later)
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _require_app(self) -> _native.App:
        if self._app is None:
            raise RuntimeError("the server is closed")
        return self._app

    def _stop_worker(self) -> None:
        try:
            app = self._app
            if app is not None:
                app.stop(int(self.config.drain_timeout * 1000))
        except Exception:
            logger.exception("stopping the app failed")
        finally:
            self._stopped.set()
            loop = self._loop
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(self._on_stopped)

    def _on_stopped(self) -> None:
        if self._async_poller is not None and self._loop is not None:
            self._loop.remove_reader(self._async_poller.fileno())
            self._drain_async()  # the access log's last batch among the rest
        if not self.config.quiet:
            logger.info("Spikard stopped (%s)%s", self.url, _whose())
        # Exchanges the stop ended without their event (none should be left:
        # the core sends DISCONNECT first) still run what they scheduled.
        for exchange in list(self._later):
            self._ended(exchange, _native.EVENT_DISCONNECT, _native.GONE_STOPPING)
        if (self._background or len(self.sockets)) and self._loop is not None:
            self._loop.create_task(self._finish_background())
            return
        self._finished()

    async def _finish_background(self) -> None:
        """Let WebSocket handlers see their close, and give running background
        tasks up to ``shutdown_timeout``; then cancel what is left."""
        await self.sockets.wait(self.config.shutdown_timeout or None)
        running = set(self._background)
        if not running:
            self._finished()
            return
        _, late = await asyncio.wait(running, timeout=self.config.shutdown_timeout or None)
        if late:
            logger.warning(
                "%d background task(s) still running after shutdown_timeout; cancelled", len(late)
            )
            for task in late:
                task.cancel()
            await asyncio.wait(late)
        self._finished()

    def _finished(self) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    # -- lane 0: async handlers on the event loop ------------------------------

    def _on_ready(self) -> None:
        poller = self._async_poller
        if poller is None:
            return
        poll = poller.poll
        while True:
            try:
                events = poll(BATCH, 0)
            except _native.Closed:
                if self._loop is not None:
                    self._loop.remove_reader(poller.fileno())
                return
            if events:
                self._serve_async(events)
            if len(events) < BATCH:
                return

    def _drain_async(self) -> None:
        poller = self._async_poller
        assert poller is not None
        while True:
            try:
                events = poller.poll(BATCH, 0)
            except _native.Closed:
                return
            if not events:
                return
            self._serve_async(events)

    def _serve_async(self, events: list[_native.Event]) -> None:
        routes = self._routes
        loop = self._loop
        assert loop is not None
        base = self._context
        tasks = self._tasks
        sockets = self.sockets
        eager = _EAGER
        start = self._start_task
        out: list[_native.Answer] = []
        started: list[tuple[int, Route, asyncio.Task[Any], contextvars.Context]] = []
        for ev in events:
            exchange = ev[0]
            if ev[2] is None:  # not a request: (exchange, route, None, kind, code, ...)
                if ev[3] == _WS_MESSAGE:  # the commonest: a WebSocket's message
                    sockets.message(ev)
                    continue
                if ev[3] == _LOG:
                    _log_access(ev[5] or b"")
                    continue
                if ev[3] == _HOOK:  # a lifecycle visit (hooks.py)
                    answer = self._visit_async(ev, base.copy())
                    if answer is not None:  # its hooks never suspended
                        out.append(answer)
                    continue
                gone = tasks.pop(exchange, None)
                if gone is not None:
                    # DISCONNECT while its handler runs: stop it, drop its answer.
                    gone.cancel()
                elif exchange in sockets:  # a WebSocket's message, credit or close
                    sockets.event(ev)
                else:  # a stream's credit, or the end of an answered exchange
                    self._ended(exchange, ev[3], ev[4])
                continue
            route = routes[ev[1]]
            if route.websocket is not None:  # a WebSocket's handshake (WS_OPEN)
                sockets.open(exchange, route, ev, base.copy())
                continue
            ctx = base.copy()
            try:
                coro = ctx.run(route.call, ev)
            except Exception as exc:
                out.append(_crash(exchange, route, exc))
                continue
            task = start(coro, context=ctx)
            if eager:
                if task.done():  # it never suspended
                    answer = _settled(exchange, route, task, ctx, self)
                    if answer is not None:
                        out.append(answer)
                    continue
                tasks[exchange] = task
                task.add_done_callback(functools.partial(self._task_done, exchange, route, ctx))
            else:
                tasks[exchange] = task
                started.append((exchange, route, task, ctx))
        if started:
            # Runs after the first steps of these Tasks (the loop's queue is
            # FIFO), so the answers of those that finished there go back in
            # one batch, without a done-callback each.
            loop.call_soon(self._collect, started)
        if out:
            self._respond(out)
        sockets.flush()  # the replies of the message handlers that ran inline

    def _visit_async(self, ev: _native.Event, ctx: contextvars.Context) -> _native.Answer | None:
        """Run a HOOK visit's hooks; its answer when they never suspended
        (answered in this batch, with no Task), else None: a Task carries on
        from where they suspended and answers when done."""
        exchange = ev[0]
        coro = _hooked.visit_async(self.hooks, ev)
        try:
            yielded = ctx.run(coro.send, None)
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
        task = self._start_task(_hooked.resume(coro, yielded), context=ctx)
        self._tasks[exchange] = task  # a DISCONNECT cancels it

        def done(t: asyncio.Task[Any]) -> None:
            if self._tasks.pop(exchange, None) is not None and not t.cancelled():
                self._pending.append(t.result())
                if not self._flush_scheduled:
                    self._flush_scheduled = True
                    assert self._loop is not None
                    self._loop.call_soon(self._flush)

        task.add_done_callback(done)
        return None

    def _collect(
        self, started: list[tuple[int, Route, asyncio.Task[Any], contextvars.Context]]
    ) -> None:
        tasks = self._tasks
        out: list[_native.Answer] = []
        for exchange, route, task, ctx in started:
            if not task.done():
                task.add_done_callback(functools.partial(self._task_done, exchange, route, ctx))
            elif tasks.pop(exchange, None) is not None:
                answer = _settled(exchange, route, task, ctx, self)
                if answer is not None:
                    out.append(answer)
            else:  # its client went away: nothing it scheduled runs
                _dropped(ctx)
        if out:
            self._respond(out)

    def _task_done(
        self, exchange: int, route: Route, ctx: contextvars.Context, task: asyncio.Task[Any]
    ) -> None:
        if self._tasks.pop(exchange, None) is None or self._stopped.is_set():
            # Cancelled because its client went away, or left over after the
            # stop (the core has answered what was still open): nobody reads
            # it, and nothing it scheduled runs.
            _dropped(ctx)
            return
        answer = _settled(exchange, route, task, ctx, self)
        if answer is None:
            return
        self._pending.append(answer)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending, []
        if batch:
            self._respond(batch)

    def _respond(self, batch: list[_native.Answer]) -> None:
        app = self._app
        if app is None:
            return
        try:
            app.respond(batch)
        except _native.SpikardError as exc:  # e.g. answers racing a stop deadline
            logger.debug("respond failed: %s", exc)

    # -- lane 1: plain functions on the thread pool --------------------------

    def _sync_worker(self, poller: _native.Poller) -> None:
        respond = self._respond
        routes = self._routes
        base = self._context
        poll = poller.poll
        stopped = self._stopped
        loop = self._loop
        assert loop is not None
        # Wait for work on the lane's fd, in the kernel, and take it with a
        # zero-timeout poll that never blocks inside Go: blocking in Go left
        # each of the pool's threads parked in the Go scheduler, and the
        # hand-offs cost `def` handlers 25-40% of their throughput on one core
        # (bench/results/2026-11-30-def-pool-waits-on-fd.md).
        ready = select.poll()
        ready.register(poller.fileno(), select.POLLIN)
        while True:
            try:
                events = poll(1, 0)
            except _native.Closed:
                return
            if not events:
                if stopped.is_set():
                    return
                ready.poll(_SYNC_POLL_MS)
                continue
            for ev in events:
                if ev[2] is None and ev[3] == _HOOK:  # a lifecycle visit (hooks.py)
                    gen = _hooked.visit(self.hooks, ev)
                    respond([base.copy().run(_hooked.drive_sync, self.hooks, gen, ev[0], loop)])
                    continue
                if ev[2] is None:
                    # Sync routes opt into no other kind: this is a stream's
                    # credit or end, and its pump runs on the loop.
                    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                        loop.call_soon_threadsafe(self._ended, ev[0], ev[3], ev[4])
                    continue
                answer = base.copy().run(_call_sync, ev[0], routes[ev[1]], ev, loop, self)
                if answer is not None:
                    respond([answer])
            if not events and stopped.is_set():
                return


def run_server(
    server: Server,
    *,
    install_signals: bool,
    on_started: Callable[[Server], None] | None = None,
) -> None:
    """Run ``server`` on a new event loop on this thread until it stops."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    signals: list[signal.Signals] = []
    try:
        if install_signals:  # before start: a signal right after "listening" must stop us
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, server.begin_stop)
                _native.signal_onstack(sig)  # CPython sets SA_ONSTACK itself; a guard
                signals.append(sig)
        loop.run_until_complete(server.hooks.run_startup())  # hooks.py
        server.start(loop)
        if on_started is not None:
            on_started(server)
        loop.run_until_complete(server.wait_stopped())
        loop.run_until_complete(server.hooks.run_shutdown())
    finally:
        try:
            for sig in signals:
                loop.remove_signal_handler(sig)
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
            if not server._stopping.is_set():  # an error: make sure the core stops
                server.begin_stop()
                server._stopped.wait()
            server.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


class BackgroundServer:
    """An app served on a background thread: ``.port``, ``.url``, ``.stop()``.

    Use it as a context manager in tests::

        with app.serve_in_background(port=0) as server:
            urllib.request.urlopen(server.url + "/users/1")
    """

    def __init__(self, server: Server) -> None:
        self._server = server
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="spikard-server", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _run(self) -> None:
        try:
            run_server(self._server, install_signals=False, on_started=self._on_started)
        except BaseException as exc:
            if not self._started.is_set():
                self._error = exc
            else:
                logger.exception("background server failed")
        finally:
            self._started.set()

    def _on_started(self, server: Server) -> None:
        self._started.set()

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def host(self) -> str:
        return self._server.config.host

    @property
    def url(self) -> str:
        return self._server.url

    def stop(self) -> None:
        """Stop gracefully and wait until the server thread has finished."""
        self._server.begin_stop()
        self._thread.join()

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
