"""FastAPI's side of the realtime benchmark, in FastAPI's own idiom.

``/ws`` echoes each JSON message (``receive_json`` / ``send_json``);
``/sse`` streams the same small JSON events as Spikard's app through
FastAPI's own SSE (``response_class=EventSourceResponse`` on a generator
of dicts); ``/sse-raw`` frames them by hand in a plain ``StreamingResponse``,
the least work Starlette can do, so the harness can take the faster of the two. Served by uvicorn
with uvloop and the ``websockets`` package (its sans-I/O protocol):

    uvicorn fastapi_app:app --app-dir bench/realtime/apps --loop uvloop --ws websockets-sansio
"""

import json
from collections.abc import AsyncIterator

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.websocket("/ws")
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    try:
        while True:
            await ws.send_json(await ws.receive_json())
    except WebSocketDisconnect:
        pass


@app.get("/sse", response_class=EventSourceResponse)
async def events() -> AsyncIterator[dict]:
    seq = 0
    while True:
        yield {"seq": seq, "text": "hello, realtime"}
        seq += 1


async def _framed() -> AsyncIterator[str]:
    seq = 0
    while True:
        yield "data: " + json.dumps({"seq": seq, "text": "hello, realtime"}) + "\n\n"
        seq += 1


@app.get("/sse-raw")
async def events_raw() -> StreamingResponse:
    return StreamingResponse(_framed(), media_type="text/event-stream")
