"""Open streams: feeding a StreamingResponse's items to the core.

Every stream is pumped by one asyncio Task on the server's loop, in the
request's context. It opens the stream (SPIKARD_RESPONSE_STREAM, with
SPIKARD_RESPONSE_SSE for an EventStream), then writes each item with a
zero timeout: when the core's queue for the stream is full
(SPIKARD_E_AGAIN) the Task waits for the exchange's STREAM_CREDIT, so a
client that stops reading suspends the producer. A plain iterator is
advanced on the loop's default executor, never on the loop. The exchange's
DISCONNECT (client gone, stop, stall) cancels the Task and closes the
generator; SPIKARD_E_NOT_FOUND on a write (the stream is over) does too.
An item the stream cannot carry, or a producer that raises, aborts the
stream (SPIKARD_CHUNK_ABORT): the client must not take a cut-off body for
a whole one.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable
from typing import Any

from . import _native
from ._results import encode_json
from .streaming import EventStream, SseEvent, StreamingResponse

__all__ = ["Streams"]

logger = logging.getLogger("spikard")

_OPEN = _native.RESPONSE_STREAM
_OPEN_SSE = _native.RESPONSE_STREAM | _native.RESPONSE_SSE
_END = _native.CHUNK_END
_ABORT = _native.CHUNK_ABORT
_AGAIN = _native.E_AGAIN
_OVER = _native.E_NOT_FOUND
_CREDIT = _native.EVENT_STREAM_CREDIT
_DISCONNECT = _native.EVENT_DISCONNECT
_DONE = object()  # what next() gives for an exhausted plain iterator


class _Aborted(Exception):
    """The stream cannot go on; it is aborted, never ended cleanly."""


def _raw_chunk(exchange: int, item: object) -> _native.Chunk:
    if type(item) is bytes or type(item) is str:
        return (exchange, 0, item, b"", b"", 0)
    if isinstance(item, (bytes, bytearray, memoryview)):
        return (exchange, 0, bytes(item), b"", b"", 0)
    if isinstance(item, str):
        return (exchange, 0, str(item), b"", b"", 0)
    raise _Aborted(f"a StreamingResponse item must be bytes or str, got {type(item).__name__}")


def _event_data(data: object) -> bytes | str:
    if type(data) is str:
        return data
    return encode_json(data)


def _sse_chunk(exchange: int, item: object) -> _native.Chunk:
    if type(item) is SseEvent:
        return (
            exchange,
            0,
            _event_data(item.data),
            item.event or b"",
            item.id or b"",
            item.retry or 0,
        )
    return (exchange, 0, _event_data(item), b"", b"", 0)


class _Stream:
    __slots__ = ("credit", "step", "task")

    def __init__(self) -> None:
        self.credit: asyncio.Future[None] | None = None
        self.step: asyncio.Future[Any] | None = None  # the producer's current step
        self.task: asyncio.Task[None] | None = None


class Streams:
    """The open streams of one server; every method runs on its loop thread."""

    def __init__(
        self,
        loop: Callable[[], asyncio.AbstractEventLoop],
        app: Callable[[], _native.App | None],
    ) -> None:
        self._loop = loop
        self._app = app
        self._open: dict[int, _Stream] = {}

    def __len__(self) -> int:
        return len(self._open)

    def start(
        self,
        exchange: int,
        owner: str,
        response: StreamingResponse,
        context: contextvars.Context,
    ) -> None:
        """Open ``response`` on ``exchange`` and pump it; ``owner`` names the handler in logs."""
        stream = _Stream()
        self._open[exchange] = stream
        stream.task = self._loop().create_task(
            self._pump(exchange, owner, response, stream), context=context
        )

    def event(self, exchange: int, kind: object, code: object) -> None:
        """An exchange's STREAM_CREDIT or terminal event (DISCONNECT, WRITTEN).

        ``kind`` and ``code`` are the event's fourth and fifth fields.
        """
        stream = self._open.get(exchange)
        if stream is None:
            return
        if kind == _CREDIT:
            if stream.credit is not None and not stream.credit.done():
                stream.credit.set_result(None)
            return
        # A terminal event. After a clean end (WRITTEN) the pump is finishing
        # or finished; otherwise the client is gone: stop the producer.
        del self._open[exchange]
        if kind == _DISCONNECT and stream.task is not None:
            stream.task.cancel()

    async def _pump(
        self, exchange: int, owner: str, response: StreamingResponse, stream: _Stream
    ) -> None:
        sse = isinstance(response, EventStream)
        content = response.content
        iterator: Any
        if hasattr(content, "__aiter__"):
            iterator = content.__aiter__()
            advance: Callable[[], Any] = iterator.__anext__
        else:
            iterator = iter(content)
            # A fresh copy: the generator's steps run on executor threads
            # while this Task's own context may be entered on the loop.
            step = functools.partial(contextvars.copy_context().run, next, iterator, _DONE)

            def advance() -> asyncio.Future[Any]:
                # Shielded: a cancelled pump must not lose track of a step
                # still running on its thread (see _close).
                stream.step = self._loop().run_in_executor(None, step)
                return asyncio.shield(stream.step)

        to_chunk = _sse_chunk if sse else _raw_chunk
        try:
            if not self._open_stream(exchange, response, sse):
                return
            while True:
                try:
                    item = await advance()
                except StopAsyncIteration:
                    break
                if item is _DONE:
                    break
                if not await self._write(exchange, to_chunk(exchange, item), stream):
                    return  # the stream is over: the client left
            await self._write(exchange, (exchange, _END, b"", b"", b"", 0), stream)
        except asyncio.CancelledError:
            pass  # the exchange ended (DISCONNECT): the finally below closes the producer
        except _Aborted as exc:
            logger.error("the stream of %s is aborted: %s", owner, exc)
            self._abort(exchange)
        except Exception as exc:
            logger.error("the stream of %s raised; it is aborted", owner, exc_info=exc)
            self._abort(exchange)
        finally:
            if self._open.get(exchange) is stream:
                del self._open[exchange]
            await self._close(iterator, owner, stream.step)

    def _open_stream(self, exchange: int, response: StreamingResponse, sse: bool) -> bool:
        app = self._app()
        if app is None:
            return False
        headers: list[_native.Header] = list(response.headers.items())
        if response.media_type is not None and not any(
            k.lower() == "content-type" for k in response.headers
        ):
            headers.append(("content-type", response.media_type))
        flags = _OPEN_SSE if sse else _OPEN
        return app.respond([(exchange, response.status_code, headers or None, b"", flags)])

    async def _write(self, exchange: int, chunk: _native.Chunk, stream: _Stream) -> bool:
        """Queue one chunk, waiting for credit while the stream is full; False once it is over."""
        while True:
            app = self._app()
            if app is None:
                return False
            code = app.stream_write([chunk], 0)[0]
            if code == 0:
                return True
            if code == _OVER:
                return False
            if code != _AGAIN:
                raise _Aborted(f"the core refused a chunk (code {code})")
            stream.credit = self._loop().create_future()
            await stream.credit
            stream.credit = None

    def _abort(self, exchange: int) -> None:
        app = self._app()
        if app is not None:
            app.stream_write([(exchange, _ABORT, b"", b"", b"", 0)], 0)

    async def _close(self, iterator: Any, owner: str, step: asyncio.Future[Any] | None) -> None:
        try:
            if hasattr(iterator, "aclose"):
                await iterator.aclose()
            elif hasattr(iterator, "close"):
                if step is not None and not step.done():
                    # A generator still running on a worker thread cannot be
                    # closed; let its current step finish first.
                    await asyncio.wait([step])
                # Its finally may block: run it off the loop too.
                await self._loop().run_in_executor(None, iterator.close)
        except Exception:
            logger.exception("closing the stream of %s failed", owner)
