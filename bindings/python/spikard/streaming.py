"""StreamingResponse and server-sent events: answers whose body a generator produces.

The core does the transport: chunked framing, back-pressure (a bounded queue
per stream), SSE framing and keep-alive comments. A handler only produces the
items; ``_streams`` feeds them to the core as the client takes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any

from .responses import Response

__all__ = ["SseEvent", "StreamingResponse"]

_NO_BODY = frozenset({204, 205, 304})


def _check_status(status_code: object) -> int:
    if type(status_code) is not int or not 200 <= status_code <= 599 or status_code in _NO_BODY:
        raise ValueError(
            f"StreamingResponse.status_code={status_code!r}: must be an integer in 200..599 "
            "whose answer has a body (not 204, 205 or 304)"
        )
    return status_code


class StreamingResponse(Response):
    """An answer whose body is sent piece by piece as ``content`` yields it.

    ``content`` is an async iterable (an ``async def`` generator) or a plain
    iterable (a ``def`` generator, advanced on a worker thread so it never
    blocks the event loop) of ``bytes`` or ``str`` (UTF-8). Each item reaches
    the client as soon as it is produced, in HTTP/1.1 chunked framing unless
    ``headers`` set a ``content-length``. When the client stops reading, the
    producer is suspended once the core's queue for the stream is full
    (``ServerConfig.stream_queue_bytes``); when the client leaves, the
    generator is closed (``GeneratorExit``, or the ``CancelledError`` of the
    ``await`` it is suspended in), so its ``finally`` runs.

    ``media_type`` sets the Content-Type unless ``headers`` carry one; with
    neither, the answer has none.
    """

    __slots__ = ()

    def __init__(
        self,
        content: AsyncIterable[bytes | str] | Iterable[bytes | str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        if isinstance(content, (bytes, bytearray, memoryview, str)) or not (
            hasattr(content, "__aiter__") or hasattr(content, "__iter__")
        ):
            raise TypeError(
                "StreamingResponse.content must be an iterable or async iterable of bytes or str "
                f"(a generator), got {type(content).__name__}"
            )
        super().__init__(content, _check_status(status_code), headers, media_type)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, content={self.content!r})"


def _line_field(name: str, value: object, forbidden: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"SseEvent.{name} must be a str or None, got {type(value).__name__}")
    bad = next((c for c in forbidden if c in value), None)
    if bad is not None:
        raise ValueError(f"SseEvent.{name}={value!r}: may not contain {bad!r}")
    return value


class SseEvent:
    """One server-sent event.

    ``data`` is sent as is when it is a ``str`` (each line becomes one
    ``data:`` line) and as JSON otherwise (a dict, a list, a Struct, ...).
    ``event`` names the event type, ``id`` sets the client's
    ``Last-Event-ID``, ``retry`` (milliseconds) its reconnection delay.
    """

    __slots__ = ("data", "event", "id", "retry")

    def __init__(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
    ) -> None:
        self.data = data
        self.event = _line_field("event", event, "\r\n")
        self.id = _line_field("id", id, "\r\n\x00")
        if retry is not None and (type(retry) is not int or not 0 < retry < 2**32):
            raise ValueError(
                f"SseEvent.retry={retry!r}: must be a positive integer of milliseconds"
            )
        self.retry = retry

    def __repr__(self) -> str:
        return (
            f"SseEvent(data={self.data!r}, event={self.event!r}, id={self.id!r}, "
            f"retry={self.retry!r})"
        )


class OpenStream(Exception):
    """Raised by the renderer for a StreamingResponse: the answer is a stream.

    An exception, so that rendering a plain result pays nothing for streams
    (try blocks are free until something is raised).
    """

    def __init__(self, response: StreamingResponse) -> None:
        super().__init__()
        self.response = response


class EventStream(StreamingResponse):
    """What an ``@sse`` handler's generator becomes: a stream of events.

    Items are ``SseEvent``s, or any other value as an event's ``data``. The
    core sets ``Content-Type: text/event-stream`` and ``Cache-Control:
    no-cache``, frames every event and sends keep-alive comments
    (``ServerConfig.sse_keepalive``).
    """

    __slots__ = ()

    def __init__(self, content: AsyncIterable[Any] | Iterable[Any]) -> None:
        super().__init__(content)
