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
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import _native
from ._call import RequestValidationError
from .websockets import WebSocket, WebSocketDisconnect, message_frame

if TYPE_CHECKING:
    from .routing import Route

__all__ = ["Sockets", "WebSocketPlan"]

logger = logging.getLogger("spikard")

_MESSAGE = _native.EVENT_WS_MESSAGE
_CLOSE = _native.EVENT_WS_CLOSE
_CREDIT = _native.EVENT_STREAM_CREDIT
_DISCONNECT = _native.EVENT_DISCONNECT
_BINARY = _native.EVENT_F_BINARY
_HANDLER_ERROR = _native.RESPONSE_HANDLER_ERROR
_PROBLEM = _native.RESPONSE_PROBLEM
_DECODE_ERRORS = (ValueError, TypeError)


class WebSocketPlan:
    """How a WebSocket route's handler runs: with the connection itself, or
    once per message (``message`` names the message parameter)."""

    __slots__ = ("decode", "handler", "message")

    def __init__(
        self,
        handler: Callable[..., Awaitable[Any]],
        message: str | None,
        decode: Callable[[str | bytes], Any] | None,
    ) -> None:
        self.handler = handler
        self.message = message
        self.decode = decode

    async def run(self, ws: WebSocket, kwargs: dict[str, Any]) -> None:
        if self.message is None:
            await self.handler(**kwargs)
            return
        decode = self.decode
        assert decode is not None
        await ws.accept()
        async for raw in ws:
            try:
                value = decode(raw)
            except _DECODE_ERRORS as exc:
                await ws.close(1007, _reason(f"the message does not fit the handler: {exc}"))
                return
            kwargs[self.message] = value
            reply = await self.handler(**kwargs)
            if reply is not None:
                flags, data = message_frame(reply)
                await ws._write((ws.exchange, flags, data, b"", b"", 0))


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

    def __len__(self) -> int:
        return len(self._open)

    def __contains__(self, exchange: object) -> bool:
        return exchange in self._open

    def open(
        self, exchange: int, route: Route, ev: _native.Event, context: contextvars.Context
    ) -> None:
        """Start the handler of a WS_OPEN (``ev``) of ``route``."""
        meta = ev[4] if isinstance(ev[4], tuple) else None
        ws = WebSocket(exchange, self, meta)
        task = self._loop().create_task(self._run(ws, route, ev), context=context)
        self._open[exchange] = (ws, task)
        task.add_done_callback(lambda _: self._open.pop(exchange, None))

    def event(self, ev: _native.Event) -> None:
        """A later event of an open WebSocket."""
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
