"""WebSocket: one connection, for handlers that receive and send on their own.

A handler with a ``WebSocket`` parameter gets the connection before it is
accepted::

    @app.websocket("/chat/{room}")
    async def chat(ws: WebSocket, room: str) -> None:
        await ws.accept()
        ws.subscribe(room)
        async for message in ws:            # str or bytes, until the client leaves
            await ws.publish(room, message)

The core does the transport (handshake, frames, fragments, ping/pong, the
close handshake, size limits, origins); this object only hands messages over.
A receive after the client left raises :class:`WebSocketDisconnect` with the
close code; ``async for`` just ends. When the handler returns, the connection
is closed with 1000; when it raises, with 1011.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from . import _native
from ._results import encode_json
from .request import Headers

if TYPE_CHECKING:
    from ._sockets import Sockets

__all__ = ["WebSocket", "WebSocketDisconnect", "message_frame"]

_TEXT = 0
_BINARY = _native.CHUNK_WS_BINARY
_CLOSE = _native.CHUNK_WS_CLOSE
_AGAIN = _native.E_AGAIN
_OVER = _native.E_NOT_FOUND
_ACCEPT = _native.RESPONSE_WS_ACCEPT
_PROBLEM = _native.RESPONSE_PROBLEM
_REFUSED = b'{"detail":"The WebSocket handler closed the connection before accepting it"}'

# States of a WebSocket.
_CONNECTING, _CONNECTED, _CLOSED = 0, 1, 2


class WebSocketDisconnect(Exception):
    """The connection is over: ``code`` is its close code (1000 normal, 1001
    going away, 1006 dropped without a close, ...) and ``reason`` its reason."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


def message_frame(message: object) -> tuple[int, bytes | str]:
    """``(flags, data)`` of a message to send: str as text, bytes as binary,
    anything else as JSON text."""
    if isinstance(message, str):
        return _TEXT, message
    if isinstance(message, (bytes, bytearray, memoryview)):
        return _BINARY, bytes(message)
    return _TEXT, encode_json(message)


class WebSocket:
    """One WebSocket connection (see the module docstring)."""

    __slots__ = (
        "_close",
        "_credit",
        "_headers",
        "_inbox",
        "_raw_headers",
        "_sockets",
        "_state",
        "_waiter",
        "exchange",
        "path",
        "query_string",
    )

    def __init__(
        self, exchange: int, sockets: Sockets, meta: tuple[str, str, str, list[Any]] | None
    ) -> None:
        self.exchange = exchange
        self._sockets = sockets
        _, path, query, headers = meta if meta is not None else ("", "", "", [])
        self.path: str = path
        """The request path (percent-decoded)."""
        self.query_string: str = query
        """The raw query string, without ``?``."""
        # Made on first use: most message handlers never look, and an idle
        # connection should hold no more than it must.
        self._raw_headers: list[Any] = headers
        self._headers: Headers | None = None
        self._state = _CONNECTING
        self._inbox: collections.deque[str | bytes] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._credit: asyncio.Future[None] | None = None
        self._close: tuple[int, str] | None = None

    @property
    def headers(self) -> Headers:
        """The handshake's headers."""
        if self._headers is None:
            self._headers = Headers(self._raw_headers)
        return self._headers

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order."""
        offered = self.headers.get("sec-websocket-protocol", "")
        return [p.strip() for p in offered.split(",") if p.strip()]

    @property
    def close_code(self) -> int | None:
        """The close code once the connection is over, else None."""
        return self._close[0] if self._close is not None else None

    # -- the handshake -----------------------------------------------------------

    async def accept(
        self, subprotocol: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """Accept the handshake, choosing ``subprotocol`` (one the client
        offered) and adding ``headers`` to the 101."""
        if self._state != _CONNECTING:
            raise RuntimeError("WebSocket.accept: the connection was already accepted or closed")
        out: list[_native.Header] = list((headers or {}).items())
        if subprotocol is not None:
            out.append(("sec-websocket-protocol", subprotocol))
        self._accept(out or None)

    def _accept(self, headers: list[_native.Header] | None) -> None:
        """Answer the handshake with its 101 (``accept`` without a coroutine)."""
        app = self._sockets.app()
        if app is None or not app.respond([(self.exchange, 101, headers, b"", _ACCEPT)]):
            self._state = _CLOSED
            self._close = (1006, "")
            raise WebSocketDisconnect(1006)
        self._state = _CONNECTED

    # -- receiving -----------------------------------------------------------------

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary."""
        if self._state == _CONNECTING:
            raise RuntimeError("WebSocket.receive: accept the connection first")
        while not self._inbox:
            if self._close is not None:
                raise WebSocketDisconnect(*self._close)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._inbox.popleft()

    async def receive_text(self) -> str:
        """The next message, which must be text."""
        message = await self.receive()
        if not isinstance(message, str):
            raise TypeError("WebSocket.receive_text: the client sent a binary message")
        return message

    async def receive_bytes(self) -> bytes:
        """The next message as bytes (a text message as its UTF-8)."""
        message = await self.receive()
        return message.encode() if isinstance(message, str) else message

    async def receive_json(self) -> Any:
        """The next message parsed as JSON (text or binary)."""
        import msgspec

        return msgspec.json.decode(await self.receive())

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[str | bytes]:
        while True:
            try:
                yield await self.receive()
            except WebSocketDisconnect:
                return

    # -- sending -------------------------------------------------------------------

    async def send(self, message: str | bytes) -> None:
        """Send ``message``: text for ``str``, binary for ``bytes``."""
        flags, data = message_frame(message)
        await self._write((self.exchange, flags, data, b"", b"", 0))

    async def send_text(self, data: str) -> None:
        await self._write((self.exchange, _TEXT, data, b"", b"", 0))

    async def send_bytes(self, data: bytes) -> None:
        await self._write((self.exchange, _BINARY, bytes(data), b"", b"", 0))

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as a JSON text message (the response encoder's rules)."""
        await self._write((self.exchange, _TEXT, encode_json(data), b"", b"", 0))

    async def _write(self, chunk: _native.Chunk) -> None:
        if self._state == _CONNECTING:
            raise RuntimeError("WebSocket.send: accept the connection first")
        while True:
            app = self._sockets.app()
            if app is None or self._state == _CLOSED:
                raise WebSocketDisconnect(*(self._close or (1006, "")))
            code = app.stream_write([chunk], 0)[0]
            if code == 0:
                return
            if code == _OVER:
                self._state = _CLOSED
                raise WebSocketDisconnect(*(self._close or (1006, "")))
            if code != _AGAIN:
                raise RuntimeError(f"the core refused a WebSocket message (code {code})")
            self._credit = asyncio.get_running_loop().create_future()
            try:
                await self._credit
            finally:
                self._credit = None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with ``code`` and ``reason``; before ``accept`` this refuses the
        handshake (403). Harmless once closed."""
        self._close_now(code, reason)

    def _close_now(self, code: int, reason: str) -> None:
        """``close`` without a coroutine (it never waits)."""
        app = self._sockets.app()
        if self._state == _CONNECTING:
            self._state = _CLOSED
            self._close = (1006, "")
            if app is not None:
                app.respond([(self.exchange, 403, None, _REFUSED, _PROBLEM)])
            return
        if self._state == _CLOSED:
            return
        self._state = _CLOSED
        if self._close is None:
            self._close = (code, reason)
        if app is not None:
            result = app.stream_write([(self.exchange, _CLOSE, reason, b"", b"", 0, code)], 0)[0]
            if result not in (0, _OVER):
                raise ValueError(f"WebSocket.close({code!r}, {reason!r}): the core refused it")

    # -- channels ------------------------------------------------------------------

    def subscribe(self, channel: str) -> None:
        """Receive what is published to ``channel`` until the connection ends."""
        app = self._sockets.app()
        if app is None or not app.ws_subscribe(self.exchange, channel):
            raise WebSocketDisconnect(*(self._close or (1006, "")))

    def unsubscribe(self, channel: str) -> None:
        app = self._sockets.app()
        if app is not None:
            app.ws_unsubscribe(self.exchange, channel)

    async def publish(self, channel: str, message: object) -> None:
        """Send ``message`` to every WebSocket subscribed to ``channel`` (str as
        text, bytes as binary, anything else as JSON), this one included if it
        is subscribed; in every worker when the app broadcasts through Redis."""
        flags, data = message_frame(message)
        while not self._sockets.publish(channel, flags, data):
            await asyncio.sleep(0.01)  # the queue for Redis is full

    # -- from the dispatcher ---------------------------------------------------------

    def _message(self, body: bytes, binary: bool) -> None:
        if self._inbox is None:
            self._inbox = collections.deque()
        self._inbox.append(body if binary else body.decode())
        self._wake()

    def _closed(self, code: int, reason: str) -> None:
        if self._close is None:
            self._close = (code, reason)
        self._state = _CLOSED
        self._wake()
        self._credited()

    def _gone(self) -> None:
        """The core no longer knows the connection (its close is on the way)."""
        self._state = _CLOSED

    def _credited(self) -> None:
        if self._credit is not None and not self._credit.done():
            self._credit.set_result(None)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    @property
    def _connecting(self) -> bool:
        return self._state == _CONNECTING

    @property
    def _over(self) -> bool:
        return self._state == _CLOSED

    def __repr__(self) -> str:
        return f"<WebSocket {self.path} state={self._state}>"
