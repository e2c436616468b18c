"""TestClient: an app under test, served for real and spoken to over HTTP.

``TestClient(app)`` serves the app's own core on 127.0.0.1 at a free port
(``serve_in_background``) when it is entered (``with``/``async with``) or on
its first request, and stops it on ``close()``/``aclose()``, on leaving the
block, or at interpreter exit. Requests go over loopback through httpx, so a
test sees exactly the bytes a client would; ``client.websocket(path)``
connects with the ``websockets`` package. Install the test dependencies with
``pip install spikard[testing]``.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import re
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ._dispatch import BackgroundServer

if TYPE_CHECKING:
    import httpx
    from websockets.asyncio.client import ClientConnection

    from .app import Spikard

__all__ = ["ServerSentEvent", "TestClient", "TestResponse"]

_open_clients: weakref.WeakSet[TestClient] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    for client in list(_open_clients):
        client.close()


# RFC 6265: a cookie name is a token, a value cookie-octets. Values are sent
# as given, so one a server could not read back unchanged is refused here
# rather than mangled (as @spikard/node's TestClient does).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")


def _cookie_header(cookies: dict[str, Any]) -> str:
    parts = []
    for name, value in cookies.items():
        text = str(value)
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"cookie name {name!r} is not a token")
        if not _COOKIE_VALUE.fullmatch(text):
            raise ValueError(
                f"cookie {name}: {text!r} has characters a cookie value cannot carry (RFC 6265)"
            )
        parts.append(f"{name}={text}")
    return "; ".join(parts)


def _httpx() -> Any:
    try:
        import httpx
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "spikard.TestClient needs httpx: pip install 'spikard[testing]'"
        ) from None
    return httpx


def _websockets() -> Any:
    try:
        import websockets.asyncio.client
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "spikard.TestClient.websocket needs websockets: pip install 'spikard[testing]'"
        ) from None
    return websockets.asyncio.client


class TestResponse:
    """The answer to one request, read to its end."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code: int = response.status_code
        self.headers: httpx.Headers = response.headers
        self.content: bytes = response.content

    @property
    def text(self) -> str:
        """The body decoded as its charset says (UTF-8 by default)."""
        return self._response.text

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.content)

    def __repr__(self) -> str:
        return f"<TestResponse {self.status_code}>"


class ServerSentEvent:
    """One event of an SSE answer: ``data`` as sent (lines joined by ``\\n``)."""

    __slots__ = ("data", "event", "id", "retry")

    def __init__(self, data: str, event: str, id: str | None, retry: int | None) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry

    def json(self) -> Any:
        """``data`` parsed as JSON."""
        return json.loads(self.data)

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r})"


class EventSource:
    """The events of one SSE answer, in order: ``async for event in source``."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self._lines = response.aiter_lines()

    def __aiter__(self) -> AsyncIterator[ServerSentEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[ServerSentEvent]:
        data: list[str] = []
        event, last_id, retry = "message", None, None
        async for line in self._lines:
            if line == "":
                if data:
                    yield ServerSentEvent("\n".join(data), event, last_id, retry)
                data, event, retry = [], "message", None
                continue
            if line.startswith(":"):
                continue  # a comment (the core's keep-alive)
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id":
                last_id = value
            elif name == "retry" and value.isdigit():
                retry = int(value)


class TestClient:
    """Tests an app over real HTTP (see the module docstring).

    Methods are awaitable and take ``params=`` (the query), ``headers=``,
    ``cookies=``, and at most one body: ``json=`` (a value), ``data=`` (form
    fields, or with ``files=`` the text parts of a multipart body),
    ``content=`` (raw bytes) or ``files=`` (``{"field": (filename, bytes,
    content_type)}``).
    """

    __test__ = False

    def __init__(self, app: Spikard) -> None:
        from .app import Spikard

        if not isinstance(app, Spikard):
            raise TypeError(f"TestClient(app): app must be a Spikard app, not {type(app).__name__}")
        _httpx()
        self.app = app
        self._server: BackgroundServer | None = None
        self._http: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._closed = False

    # -- the server --------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the served app, starting it if needed."""
        return self._start().url

    def _start(self) -> BackgroundServer:
        if self._closed:
            raise RuntimeError("this TestClient is closed")
        if self._server is None:
            self._server = self.app.serve_in_background(host="127.0.0.1", port=0)
            _open_clients.add(self)
        return self._server

    def close(self) -> None:
        """Stop the app (if this client started it) and drop its connections."""
        self._closed = True
        _open_clients.discard(self)
        self._http.clear()  # their connections end with the server's
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    async def aclose(self) -> None:
        """``close()``, closing this loop's connections first."""
        http = self._http.pop(asyncio.get_running_loop(), None)
        if http is not None:
            await http.aclose()
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def __enter__(self) -> TestClient:
        self._start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> TestClient:
        self._start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _client(self) -> httpx.AsyncClient:
        # One httpx client per event loop: pytest-asyncio gives each test a
        # loop of its own, and connections cannot move between loops.
        loop = asyncio.get_running_loop()
        http = self._http.get(loop)
        if http is None:
            for stale in [other for other in self._http if other.is_closed()]:
                del self._http[stale]
            httpx = _httpx()
            # No keep-alive: a test's loop may close at any time, and a
            # connection left open in it would be a ResourceWarning later.
            http = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=30.0,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
            self._http[loop] = http
        return http

    # -- requests ----------------------------------------------------------------

    async def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        """Send one request; see the class docstring for the keyword arguments."""
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        http = self._client()
        cookies = kwargs.pop("cookies", None)
        if cookies:
            headers = dict(kwargs.pop("headers", None) or {})
            headers["cookie"] = _cookie_header(dict(cookies))
            kwargs["headers"] = headers
        response = await http.request(method, path, **kwargs)
        return TestResponse(response)

    async def get(self, path: str, **kwargs: Any) -> TestResponse:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> TestResponse:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> TestResponse:
        return await self.request("PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return await self.request("DELETE", path, **kwargs)

    async def head(self, path: str, **kwargs: Any) -> TestResponse:
        return await self.request("HEAD", path, **kwargs)

    async def options(self, path: str, **kwargs: Any) -> TestResponse:
        return await self.request("OPTIONS", path, **kwargs)

    @asynccontextmanager
    async def sse(
        self, path: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> AsyncIterator[EventSource]:
        """``async with client.sse(path) as events: async for event in events: ...``"""
        http = self._client()
        wanted = {"accept": "text/event-stream", **dict(headers or {})}
        async with http.stream("GET", path, headers=wanted, **kwargs) as response:
            yield EventSource(response)

    @asynccontextmanager
    async def websocket(
        self,
        path: str,
        *,
        subprotocols: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[ClientConnection]:
        """``async with client.websocket(path) as ws: await ws.send(text); await ws.recv()``

        ``ws`` is a ``websockets`` client connection: ``send`` takes str
        (text) or bytes (binary), ``recv`` returns them, ``close(code)``
        closes; leaving the block closes with 1000.
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        client = _websockets()
        url = "ws://" + self.base_url.removeprefix("http://") + path
        async with client.connect(
            url,
            subprotocols=subprotocols,
            additional_headers=dict(headers or {}),
            open_timeout=30,
            compression=None,
        ) as ws:
            yield ws
