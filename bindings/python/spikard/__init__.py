"""Spikard: FastAPI/Litestar-style Python web framework on a Go HTTP core."""

from . import background
from ._dispatch import BackgroundServer
from .app import Spikard
from .auth import Claims
from .compression import CompressionConfig
from .config import (
    ApiKeyConfig,
    CorsConfig,
    JwtConfig,
    OpenApiConfig,
    RateLimitConfig,
    ServerConfig,
)
from .errors import ListenError
from .exceptions import HTTPException, RequestValidationError
from .params import Body, Cookie, Header, Path, Query
from .request import Headers, Request
from .responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from .router import Router
from .routing import delete, get, head, options, patch, post, put, route, sse, trace, websocket
from .staticfiles import StaticFilesConfig
from .streaming import SseEvent, StreamingResponse
from .testclient import TestClient
from .uploads import UploadFile
from .websockets import WebSocket, WebSocketDisconnect

__all__ = [
    "ApiKeyConfig",
    "BackgroundServer",
    "Body",
    "Claims",
    "CompressionConfig",
    "Cookie",
    "CorsConfig",
    "FileResponse",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "Headers",
    "JwtConfig",
    "ListenError",
    "OpenApiConfig",
    "Path",
    "PlainTextResponse",
    "Query",
    "RateLimitConfig",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Router",
    "ServerConfig",
    "Spikard",
    "SseEvent",
    "StaticFilesConfig",
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
