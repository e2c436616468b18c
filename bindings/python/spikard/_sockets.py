"""Open WebSockets: the dispatcher's side of ``spikard.websockets``.

A WebSocket route's WS_OPEN event starts one asyncio Task on the server's
loop, in a fresh copy of the request context, that runs the handler with a
:class:`~spikard.websockets.WebSocket`. The connection's later events
(WS_MESSAGE, STREAM_CREDIT, WS_CLOSE, and DISCONNECT while the handshake is
unanswered) come to :meth:`Sockets.event`, on the loop, in order.

A message handler (``async def chat(message: dict) -> dict | None``) runs
inside a loop of this module: accept, then for each message decode it by
the handler's annotation of the message parameter (``bytes`` raw, ``str``
text, anything else JSON through msgspec), await the handler, and send its
reply (None sends nothing; str as text, bytes as binary, anything else as
JSON text). The core checks each JSON message against the annotation's
schema (the route's "message_schema") and closes the connection with 1007
at the first that fails, so such a message never arrives here; the decoder's
own 1007 is left for what a JSON Schema cannot say about a type. A handler
that raises closes the connection with 1011.

A message handler runs inline, as HTTP dispatch runs async handlers: the
connection has no Task of its own; each message's coroutine is driven
where its event is read (``send(None)``, in the connection's context), and
a handler that finishes without suspending has its reply queued for the one
``stream_write`` at the end of the poll's batch (at most one reply of a
connection per call, so a reply that waits for credit keeps its order). Only
a handler that suspends, or a reply that must wait for credit, becomes a
Task, which also takes the messages that arrive meanwhile, in order, and
ends when they are done; the next message runs inline again.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from . import _native
from ._call import RequestValidationError
from ._hooked import resume
from ._results import encode_json
from .websockets import _TEXT, WebSocket, WebSocketDisconnect, message_frame

if TYPE_CHECKING:
    from .routing import Route

__all__ = ["Sockets", "WebSocketPlan"]

logger = logging.getLogger("spikard")

_MESSAGE = _native.EVENT_WS_MESSAGE
_CLOSE = _native.EVENT_WS_CLOSE
_CREDIT = _native.EVENT_STREAM_CREDIT
_DISCONNECT = _native.EVENT_DISCONNECT
_BINARY = _native.EVENT_F_BINARY
_AGAIN = _native.E_AGAIN
_OVER = _native.E_NOT_FOUND
_HANDLER_ERROR = _native.RESPONSE_HANDLER_ERROR
_PROBLEM = _native.RESPONSE_PROBLEM
_DECODE_ERRORS = (ValueError, TypeError)
_step = _native.step


class WebSocketPlan:
    """How a WebSocket route's handler runs: with the connection itself, or
    once per message (``message`` names the message parameter)."""

    __slots__ = ("decode", "handler", "message")

    def __init__(
        self,
        handler: Callable[..., Coroutine[Any, Any, Any]],
        message: str | None,
        decode: Callable[[str | bytes], Any] | None,
    ) -> None:
        self.handler = handler
        self.message = message
        self.decode = decode

    async def run(self, ws: WebSocket, kwargs: dict[str, Any]) -> None:
        """Run a connection-level handler (a message handler runs inline:
        Sockets drives it)."""
        await self.handler(**kwargs)


class _Inline:
    """A message handler's open connection, driven by Sockets (the module
    docstring): ``task`` runs while a handler call suspended or a reply waits
    for credit, else None."""

    __slots__ = ("context", "kwargs", "owner", "plan", "task", "ws")

    def __init__(
        self,
        ws: WebSocket,
        plan: WebSocketPlan,
        kwargs: dict[str, Any],
        context: contextvars.Context,
        owner: str,
    ) -> None:
        self.ws = ws
        self.plan = plan
        self.kwargs = kwargs
        self.context = context
        self.owner = owner
        self.task: asyncio.Task[None] | None = None


def _reason(text: str) -> str:
    """A close reason within the 123 bytes a close frame has room for."""
    data = text.encode()[:123]
    return data.decode(errors="ignore")


class Sockets:
    """The open WebSockets of one server; every method runs on its loop thread."""

    def __init__(
        self,
        loop: Callable[[], asyncio.AbstractEventLoop],
        app: Callable[[], _native.App | None],
    ) -> None:
        self._loop = loop
        self.app = app
        self._open: dict[int, tuple[WebSocket, asyncio.Task[None]]] = {}
        self._inline: dict[int, _Inline] = {}
        # Replies of inline handler calls for the next flush, and whose
        # they are (at most one per connection).
        self._replies: list[_native.Chunk] = []
        self._replied: dict[int, _Inline] = {}

    def __len__(self) -> int:
        return len(self._open) + len(self._inline)

    def __contains__(self, exchange: object) -> bool:
        return exchange in self._open or exchange in self._inline

    def open(
        self, exchange: int, route: Route, ev: _native.Event, context: contextvars.Context
    ) -> None:
        """Start the handler of a WS_OPEN (``ev``) of ``route``."""
        meta = ev[4] if isinstance(ev[4], tuple) else None
        ws = WebSocket(exchange, self, meta)
        plan = route.websocket
        if plan is not None and plan.message is not None:
            self._open_inline(ws, route, plan, ev, context)
            return
        task = self._loop().create_task(self._run(ws, route, ev), context=context)
        self._open[exchange] = (ws, task)
        task.add_done_callback(lambda _: self._open.pop(exchange, None))

    def message(self, ev: _native.Event) -> None:
        """A WS_MESSAGE: the dispatcher's shortcut for the commonest event,
        which runs a message handler's call inline when it can."""
        rec = self._inline.get(ev[0])
        if rec is None:
            self.event(ev)
            return
        ws = rec.ws
        if ws._over:
            return  # closed by its handler: what was on its way is dropped
        if ws.exchange in self._replied:
            self.flush()  # its earlier reply goes first (and may wait for credit)
        body = ev[5] or b""
        if rec.task is not None:  # the Task takes it after what came before
            evflags = ev[6]
            ws._message(body, isinstance(evflags, int) and bool(evflags & _BINARY))
            return
        # Run the handler, inline until it suspends. It gets the raw bytes,
        # text or not: every message decoder takes bytes (a str parameter's
        # decodes them; the core checked that text is UTF-8).
        plan = rec.plan
        decode = plan.decode
        assert decode is not None and plan.message is not None
        try:
            value = decode(body)
        except _DECODE_ERRORS as exc:
            self._shut(rec, 1007, _reason(f"the message does not fit the handler: {exc}"))
            return
        kwargs = rec.kwargs
        kwargs[plan.message] = value
        coro = plan.handler(**kwargs)
        try:
            # context.run(coro.send, None) without the StopIteration of a
            # call that returns (_native.step).
            done, out = _step(rec.context, coro)
        except Exception as exc:
            self._failed(rec, exc)
            return
        if done:
            if out is not None:
                data: bytes | str
                if type(out) is dict:  # the commonest reply: message_frame's JSON text
                    flags, data = _TEXT, encode_json(out)
                else:
                    flags, data = message_frame(out)
                exchange = ws.exchange
                self._replies.append((exchange, flags, data, b"", b"", 0))
                self._replied[exchange] = rec
            return
        rec.task = self._loop().create_task(self._carry(rec, coro, out), context=rec.context)

    def event(self, ev: _native.Event) -> None:
        """A later event of an open WebSocket."""
        inline = self._inline.get(ev[0])
        if inline is not None:
            self._inline_event(inline, ev)
            return
        entry = self._open.get(ev[0])
        if entry is None:
            return
        ws, task = entry
        kind = ev[3]
        if kind == _MESSAGE:
            flags = ev[6]
            ws._message(ev[5] or b"", isinstance(flags, int) and bool(flags & _BINARY))
        elif kind == _CLOSE:
            code = ev[4] if isinstance(ev[4], int) else 1006
            ws._closed(code, (ev[5] or b"").decode(errors="replace"))
        elif kind == _CREDIT:
            ws._credited()
        elif kind == _DISCONNECT:  # the client left before the handshake was answered
            task.cancel()

    async def wait(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` for the handlers still running (the server
        stops: each has its close), then cancel the rest."""
        tasks = [task for _, task in self._open.values()]
        tasks += [r.task for r in self._inline.values() if r.task is not None]
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)

    def publish(self, channel: str, flags: int, data: bytes | str) -> bool:
        """Publish to ``channel``; False when the queue for Redis is full."""
        app = self.app()
        if app is None:
            raise RuntimeError("the server is closed")
        return app.ws_publish(channel, flags, data) == 0

    async def _run(self, ws: WebSocket, route: Route, ev: _native.Event) -> None:
        plan = route.websocket
        assert plan is not None
        owner = f"WebSocket handler {route.handler.__qualname__} for {route.path}"
        try:
            kwargs = route.call((*ev, ws))
            await plan.run(ws, kwargs)
        except asyncio.CancelledError:
            return  # the client left before the handshake was answered, or the server stops
        except WebSocketDisconnect as exc:
            if not ws._over and not ws._connecting:
                await self._close(ws, exc.code, exc.reason)
            return
        except RequestValidationError as exc:
            if ws._connecting:
                self._answer(ws, (ws.exchange, 422, None, exc.description, _PROBLEM))
            else:
                await self._close(ws, 1008, _reason(str(exc)))
            return
        except Exception as exc:
            logger.error("%s raised", owner, exc_info=exc)
            if ws._connecting:
                self._answer(ws, (ws.exchange, 500, None, b"", _HANDLER_ERROR))
            elif not ws._over:
                await self._close(ws, 1011, "")
            return
        if ws._connecting:
            await ws.close()  # returned without accepting: the handshake is refused
        elif not ws._over:
            await self._close(ws, 1000, "")

    async def _close(self, ws: WebSocket, code: int, reason: str) -> None:
        try:
            await ws.close(code, reason)
        except ValueError:
            await ws.close(1011, "")

    def _answer(self, ws: WebSocket, answer: _native.Answer) -> None:
        app = self.app()
        if app is not None:
            app.respond([answer])

    # -- message handlers, inline ----------------------------------------------------

    def _open_inline(
        self,
        ws: WebSocket,
        route: Route,
        plan: WebSocketPlan,
        ev: _native.Event,
        context: contextvars.Context,
    ) -> None:
        owner = f"WebSocket handler {route.handler.__qualname__} for {route.path}"
        try:
            kwargs = context.run(route.call, (*ev, ws))
        except RequestValidationError as exc:
            self._answer(ws, (ws.exchange, 422, None, exc.description, _PROBLEM))
            return
        except Exception as exc:
            logger.error("%s raised", owner, exc_info=exc)
            self._answer(ws, (ws.exchange, 500, None, b"", _HANDLER_ERROR))
            return
        try:
            ws._accept(None)
        except WebSocketDisconnect:
            return  # the client left before the handshake was answered
        self._inline[ws.exchange] = _Inline(ws, plan, kwargs, context, owner)

    def _inline_event(self, rec: _Inline, ev: _native.Event) -> None:
        ws = rec.ws
        kind = ev[3]
        if kind == _MESSAGE:
            self.message(ev)
        elif kind == _CLOSE:
            code = ev[4] if isinstance(ev[4], int) else 1006
            ws._closed(code, (ev[5] or b"").decode(errors="replace"))
            if rec.task is None:
                self._inline.pop(ws.exchange, None)
        elif kind == _CREDIT:
            ws._credited()

    def flush(self) -> None:
        """Send the replies of the inline handler calls, in one ``stream_write``."""
        batch = self._replies
        if not batch:
            return
        replied = self._replied
        self._replies, self._replied = [], {}
        app = self.app()
        if app is None:
            return
        codes = app.stream_write(batch, 0)
        if not any(codes):
            return  # all sent or queued (0: OK)
        for chunk, code in zip(batch, codes, strict=True):
            if code == 0:
                continue
            rec = replied[chunk[0]]
            ws = rec.ws
            if code == _AGAIN:  # the queue is full: a Task waits for credit
                if rec.task is None:
                    task = self._carry(rec, None, None, chunk)
                    rec.task = self._loop().create_task(task, context=rec.context)
            elif code == _OVER:
                ws._gone()
                if rec.task is None:
                    self._inline.pop(ws.exchange, None)
            else:
                logger.error("%s: the core refused a reply (code %d)", rec.owner, code)
                self._shut(rec, 1011, "")

    async def _carry(
        self,
        rec: _Inline,
        coro: Coroutine[Any, Any, Any] | None,
        yielded: Any,
        chunk: _native.Chunk | None = None,
    ) -> None:
        """The Task of a handler call that suspended (``coro``, having yielded
        ``yielded``) or of a reply waiting for credit (``chunk``); then of the
        messages that came meanwhile."""
        ws = rec.ws
        plan = rec.plan
        decode = plan.decode
        assert decode is not None and plan.message is not None
        try:
            if coro is not None:
                reply = await resume(coro, yielded)
            else:
                assert chunk is not None
                await ws._write(chunk)
                reply = None
            while True:
                if reply is not None:
                    flags, data = message_frame(reply)
                    await ws._write((ws.exchange, flags, data, b"", b"", 0))
                inbox = ws._inbox
                if not inbox or ws._over:
                    return
                raw = inbox.popleft()
                try:
                    value = decode(raw)
                except _DECODE_ERRORS as exc:
                    self._shut(rec, 1007, _reason(f"the message does not fit the handler: {exc}"))
                    return
                rec.kwargs[plan.message] = value
                reply = await plan.handler(**rec.kwargs)
        except asyncio.CancelledError:
            return  # the server stops
        except Exception as exc:
            self._failed(rec, exc)
        finally:
            rec.task = None
            if ws._over:
                self._inline.pop(ws.exchange, None)

    def _failed(self, rec: _Inline, exc: Exception) -> None:
        """A handler call raised ``exc``: close as a connection handler's Task would."""
        ws = rec.ws
        if isinstance(exc, WebSocketDisconnect):
            if not ws._over:
                self._shut(rec, exc.code, exc.reason)
        elif isinstance(exc, RequestValidationError):
            self._shut(rec, 1008, _reason(str(exc)))
        else:
            logger.error("%s raised", rec.owner, exc_info=exc)
            if not ws._over:
                self._shut(rec, 1011, "")

    def _shut(self, rec: _Inline, code: int, reason: str) -> None:
        """Close an inline connection, after its queued reply."""
        if rec.ws.exchange in self._replied:
            self.flush()
        ws = rec.ws
        try:
            ws._close_now(code, reason)
        except ValueError:
            ws._close_now(1011, "")
        if rec.task is None:
            self._inline.pop(ws.exchange, None)
