"""Spikard: FastAPI/Litestar-style Python web framework on a Go HTTP core."""

from . import background
from ._dispatch import BackgroundServer
from .app import Spikard
from .auth import ApiKeyConfig, Claims, JwtConfig, RateLimitConfig
from .config import ServerConfig
from .errors import ListenError
from .params import Body, Cookie, Header, Path, Query
from .request import Headers, Request
from .responses import Response
from .routing import delete, get, head, options, patch, post, put, route, sse, trace, websocket
from .streaming import SseEvent, StreamingResponse
from .testclient import TestClient
from .uploads import UploadFile
from .websockets import WebSocket, WebSocketDisconnect

__all__ = [
    "ApiKeyConfig",
    "BackgroundServer",
    "Body",
    "Claims",
    "Cookie",
    "Header",
    "Headers",
    "JwtConfig",
    "ListenError",
    "Path",
    "Query",
    "RateLimitConfig",
    "Request",
    "Response",
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
