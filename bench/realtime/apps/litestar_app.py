"""Litestar's side of the realtime benchmark, in Litestar's own idiom.

``/ws`` is a ``websocket_listener`` (a dict in, the same dict out, as
JSON); ``/sse`` returns a ``ServerSentEvent`` over an async generator of the
same small JSON events as Spikard's app. Served by uvicorn with uvloop and
the ``websockets`` package:

    uvicorn litestar_app:app --app-dir bench/realtime/apps --loop uvloop --ws websockets-sansio
"""

from collections.abc import AsyncIterator

import msgspec
from litestar import Litestar, get, websocket_listener
from litestar.response import ServerSentEvent

_encode = msgspec.json.Encoder().encode


@websocket_listener("/ws")
async def echo(data: dict) -> dict:
    return data


async def _events() -> AsyncIterator[str]:
    seq = 0
    while True:
        yield _encode({"seq": seq, "text": "hello, realtime"}).decode()
        seq += 1


@get("/sse")
async def events() -> ServerSentEvent:
    return ServerSentEvent(_events())


app = Litestar(route_handlers=[echo, events], openapi_config=None)
