"""Spikard: FastAPI/Litestar-style Python web framework on a Go HTTP core."""

from ._dispatch import BackgroundServer
from .app import Spikard
from .config import ServerConfig
from .params import Body, Cookie, Header, Path, Query
from .responses import Response
from .routing import delete, get, head, options, patch, post, put, route, trace

__all__ = [
    "BackgroundServer",
    "Body",
    "Cookie",
    "Header",
    "Path",
    "Query",
    "Response",
    "ServerConfig",
    "Spikard",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "trace",
]
