"""Spikard: FastAPI/Litestar-style Python web framework on a Go HTTP core."""

from . import background
from ._dispatch import BackgroundServer
from .app import Spikard
from .config import ServerConfig
from .errors import ListenError
from .exceptions import HTTPException, RequestValidationError
from .params import Body, Cookie, Header, Path, Query
from .request import Headers, Request
from .responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from .router import Router
from .routing import delete, get, head, options, patch, post, put, route, sse, trace, websocket
from .streaming import SseEvent, StreamingResponse
from .testclient import TestClient
from .uploads import UploadFile
from .websockets import WebSocket, WebSocketDisconnect

__all__ = [
    "BackgroundServer",
    "Body",
    "Cookie",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "Headers",
    "ListenError",
    "Path",
    "PlainTextResponse",
    "Query",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Router",
    "ServerConfig",
    "Spikard",
    "SseEvent",
    "StreamingResponse",
    "TestClient",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "background",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "sse",
    "trace",
    "websocket",
]
