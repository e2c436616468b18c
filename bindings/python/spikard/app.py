"""Spikard: the application object, its route decorators and how it runs."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from . import _workers
from ._dispatch import BackgroundServer, Server, run_server
from .auth import ApiKeyConfig, JwtConfig, RateLimitConfig, guard_value
from .config import ServerConfig
from .cors import CorsConfig, route_cors
from .di import injected_names
from .hooks import Hooks
from .router import Router, check_prefix
from .routing import (
    Route,
    claim_standalone,
    compile_route,
    compile_websocket,
    describe,
    raw_route,
    register_app,
    route_shape,
)
from .streaming import EventStream
from .websockets import message_frame

__all__ = ["Spikard"]

F = TypeVar("F", bound=Callable[..., Any])
H = TypeVar("H", bound=Callable[..., Any])
logger = logging.getLogger("spikard")


class Spikard:
    """A web application: routes declared with decorators, served by the Go core.

    Handlers run according to the dispatch rule: ``async def`` handlers run on
    the asyncio loop of the thread that called :meth:`run` (a coroutine that
    completes without awaiting is answered without creating a Task); plain
    ``def`` handlers run inline on a pool of ``ServerConfig.sync_workers``
    Python threads, so a blocking function holds up only its own thread.
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        lifespan: Callable[[Spikard], contextlib.AbstractAsyncContextManager[Any]] | None = None,
        strict_dependencies: bool = False,
    ) -> None:
        self.config = config if config is not None else ServerConfig()
        self.routes: list[Route] = []
        self.hooks = Hooks()
        self.exception_handlers: dict[type[BaseException], Callable[..., Any]] = {}
        # spikard.di: what app.provide registered, and what tests put in
        # its place; both resolve when the app starts.
        self.dependencies: dict[str | type, Any] = {}
        self.dependency_overrides: dict[str | type, Any] = {}
        self.route_dependency_overrides: dict[tuple[str, str], dict[str | type, Any]] = {}
        self.strict_dependencies = strict_dependencies
        # (method, path) -> tags of the routes routers brought, for documentation.
        self.route_tags: dict[tuple[str, str], list[str]] = {}
        if lifespan is not None:
            self.hooks.lifespan = functools.partial(lifespan, self)
        # The servers running this app, for broadcast().
        self._servers: weakref.WeakSet[Server] = weakref.WeakSet()
        # The module that created the app (past a subclass's __init__): its
        # standalone-decorated handlers are this app's (routing.py).
        frame = sys._getframe(1)
        while frame.f_back is not None and (
            frame.f_code.co_name == "__init__" and frame.f_locals.get("self") is self
        ):
            frame = frame.f_back
        register_app(self, str(frame.f_globals.get("__name__", "?")))

    # -- registration ------------------------------------------------------------

    def _add(self, route: Route) -> None:
        """Keep a compiled route; the same method and path twice is refused
        here, at decoration, naming both handlers (the core would refuse it
        only at start)."""
        key = (route.method, route_shape(route.path))
        for earlier in self.routes:
            if (earlier.method, route_shape(earlier.path)) == key:
                raise ValueError(
                    f"{route.method} {route.path} is registered twice: by "
                    f"{describe(earlier.handler)} and by {describe(route.handler)}"
                )
        self.routes.append(route)

    def route(
        self,
        method: str,
        path: str,
        *,
        request_schema: dict[str, Any] | None = None,
        response_schema: dict[str, Any] | None = None,
        status_code: int = 200,
        cors: CorsConfig | bool | None = None,
        summary: str | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
        operation_id: str | None = None,
        jwt_auth: JwtConfig | Literal[False] | None = None,
        api_key_auth: ApiKeyConfig | Literal[False] | None = None,
        rate_limit: RateLimitConfig | Literal[False] | None = None,
        dependency_overrides: dict[str | type, Any] | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated handler for ``method`` and ``path``.

        ``request_schema`` replaces the body schema derived from the body
        parameter's type; ``status_code`` is the status of plain return values;
        ``dependency_overrides`` replace the app's dependencies for this route
        only (spikard.di).
        ``cors`` is the route's CORS policy in place of the app's
        (``ServerConfig.cors``); False turns the app's off for the route.
        ``summary``, ``description`` (else the docstring's first line and the
        rest), ``tags`` and ``operation_id`` (else generated) describe the
        operation in the OpenAPI document (``ServerConfig(openapi=...)``).
        ``jwt_auth``, ``api_key_auth`` and ``rate_limit`` replace the app's
        (ServerConfig) for this route with its own, or with none (``False``);
        None keeps the app's.
        """
        cors_doc = route_cors(cors, f"{method} {path}")
        guards = {
            key: guard_value(key, value, kind)
            for key, value, kind in (
                ("jwt_auth", jwt_auth, JwtConfig),
                ("api_key_auth", api_key_auth, ApiKeyConfig),
                ("rate_limit", rate_limit, RateLimitConfig),
            )
            if value is not None
        }

        def decorator(handler: F) -> F:
            if dependency_overrides:
                self.route_dependency_overrides[(method.upper(), path)] = dict(dependency_overrides)
            route = _with_cors(
                compile_route(
                    method,
                    path,
                    handler,
                    request_schema=request_schema,
                    response_schema=response_schema,
                    status_code=status_code,
                    summary=summary,
                    description=description,
                    tags=tags,
                    operation_id=operation_id,
                    # Provided already: never a query parameter (a type
                    # such as a pool has no schema). spikard.di recompiles
                    # at start for what is provided later.
                    exclude=injected_names(
                        handler, {**self.dependencies, **(dependency_overrides or {})}
                    ),
                ),
                cors_doc,
            )
            route.declaration.update(guards)
            self._add(route)
            return handler

        return decorator

    def get(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("GET", path, **kwargs)

    def sse(self, path: str, *, cors: CorsConfig | bool | None = None) -> Callable[[F], F]:
        """Serve the decorated generator as server-sent events on ``GET path``.

        The handler takes parameters like any route's (a ``Last-Event-ID``
        header with ``Header(alias="Last-Event-ID")``) and yields events:
        an ``SseEvent``, or any other value as an event's data (a ``str`` as
        is, anything else as JSON). An ``async def`` generator runs on the
        event loop, a plain one on a worker thread. When the client leaves,
        the generator is closed. ``cors`` as for :meth:`route`.
        """
        cors_doc = route_cors(cors, f"@sse({path!r})")

        def decorator(handler: F) -> F:
            if not (inspect.isasyncgenfunction(handler) or inspect.isgeneratorfunction(handler)):
                raise TypeError(
                    f"@sse({path!r}): {handler.__qualname__} must be a generator function "
                    "(an async def or def that yields events)"
                )

            @functools.wraps(handler)
            async def open_events(*args: Any, **kwargs: Any) -> EventStream:
                return EventStream(handler(*args, **kwargs))

            # The generator's return annotation describes events, not a body.
            open_events.__annotations__ = {
                k: v for k, v in handler.__annotations__.items() if k != "return"
            }
            self._add(_with_cors(compile_route("GET", path, open_events), cors_doc))
            return handler

        return decorator

    def websocket(
        self,
        path: str,
        *,
        subprotocols: list[str] | None = None,
        cors: CorsConfig | bool | None = None,
        message_schema: dict[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """Serve the decorated ``async def`` as a WebSocket endpoint on ``GET path``.

        A handler with a :class:`~spikard.websockets.WebSocket` parameter runs
        once per connection and accepts, receives and sends itself. Any other
        handler runs once per message: the message arrives in its first
        parameter that is no path parameter, decoded by that parameter's
        annotation (``bytes`` as received, ``str`` as text, anything else
        from JSON, as ``dict`` does), and what it returns is sent back (None
        sends nothing; ``str`` as text, ``bytes`` as binary, anything else
        as JSON). ``subprotocols`` are the subprotocols the endpoint speaks,
        in order of preference; the core picks the first the client offers
        unless the handler chooses in ``accept``. ``cors`` as for
        :meth:`route`; a policy also decides which origins may open the
        WebSocket, unless ``ServerConfig.ws_origins`` lists them.
        ``message_schema``, for a handler with a ``WebSocket`` parameter only
        (a message handler's schema is its annotation's), is a JSON Schema
        the core checks every message against: the first that is not JSON or
        fails it closes the connection with 1007 and the reason
        ``message.<location>: <message>``, and never reaches the handler.
        """
        cors_doc = route_cors(cors, f"@websocket({path!r})")

        def decorator(handler: F) -> F:
            route = compile_websocket(
                path, handler, subprotocols=subprotocols, message_schema=message_schema
            )
            self._add(_with_cors(route, cors_doc))
            return handler

        return decorator

    def broadcast(self, channel: str, message: object) -> None:
        """Send ``message`` to every WebSocket subscribed to ``channel`` (str as
        text, bytes as binary, anything else as JSON); through Redis to every
        worker when ``ServerConfig.broadcast`` names one. Any thread."""
        servers = [s for s in self._servers if s.running]
        if not servers:
            raise RuntimeError("Spikard.broadcast: the app is not running")
        flags, data = message_frame(message)
        for server in servers:
            if not server.sockets.publish(channel, flags, data):
                raise BlockingIOError("Spikard.broadcast: the queue for Redis is full")

    def post(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("DELETE", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("HEAD", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("OPTIONS", path, **kwargs)

    def trace(self, path: str, **kwargs: Any) -> Callable[[F], F]:
        return self.route("TRACE", path, **kwargs)

    def register_route(
        self,
        method: str,
        path: str,
        *,
        body_schema: dict[str, Any] | None = None,
        parameter_schema: dict[str, Any] | None = None,
        response_schema: dict[str, Any] | None = None,
        file_params: dict[str, Any] | None = None,
        cors: CorsConfig | bool | None = None,
        summary: str | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
        operation_id: str | None = None,
        status_code: int = 200,
    ) -> Callable[[F], F]:
        """Low-level registration with explicit JSON Schemas.

        ``parameter_schema`` properties carry ``"source"``: ``"path"``,
        ``"query"``, ``"header"`` or ``"cookie"``. The validated values reach
        the handler as keyword arguments (JSON values), the body as ``body``.
        ``cors`` as for :meth:`route`.
        ``summary``, ``description``, ``tags``, ``operation_id`` and
        ``status_code`` only describe the operation in the OpenAPI document.
        """
        cors_doc = route_cors(cors, f"{method} {path}")

        def decorator(handler: F) -> F:
            self._add(
                _with_cors(
                    raw_route(
                        method,
                        path,
                        handler,
                        body_schema=body_schema,
                        parameter_schema=parameter_schema,
                        response_schema=response_schema,
                        file_params=file_params,
                        summary=summary,
                        description=description,
                        tags=tags,
                        operation_id=operation_id,
                        status_code=status_code,
                    ),
                    cors_doc,
                )
            )
            return handler

        return decorator

    # -- lifecycle hooks (hooks.py) ----------------------------------------------

    def on_request(self, hook: H) -> H:
        """Run ``hook(request)`` as a request arrives, after routing and before
        validation; it returns the request (headers may be changed) or a
        Response that answers at once. Several run in registration order."""
        return self.hooks.add("on_request", hook)

    def pre_validation(self, hook: H) -> H:
        """Like on_request, after the on_request hooks."""
        return self.hooks.add("pre_validation", hook)

    def pre_handler(self, hook: H) -> H:
        """Run ``hook(request)`` after validation, right before the handler;
        it returns the request or a Response that answers instead."""
        return self.hooks.add("pre_handler", hook)

    def on_response(self, hook: H) -> H:
        """Run ``hook(response)`` on every answer before it is sent; it returns
        the response, changed or not."""
        return self.hooks.add("on_response", hook)

    def on_error(self, hook: H) -> H:
        """Run ``hook(response)`` on every error answer (a handler's exception,
        the core's own 4xx and 5xx) before on_response; ``response`` is an
        ErrorResponse with the exception, if any. It returns it or a
        replacement."""
        return self.hooks.add("on_error", hook)

    def exception_handler(self, exc_type: type[BaseException]) -> Callable[[H], H]:
        """Answer handler exceptions of ``exc_type`` (and its subclasses, the
        nearest registered class winning) with ``handler(request, exc)``
        (def or async def), which returns the Response. Errors the core
        finds itself (its 404, 422, ...) do not reach these: on_error hooks
        see those."""
        if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
            raise TypeError(f"exception_handler: {exc_type!r} is not an exception class")

        def decorator(handler: H) -> H:
            if not callable(handler):
                raise TypeError(
                    f"exception_handler({exc_type.__name__}): {handler!r} is not callable"
                )
            self.exception_handlers[exc_type] = handler
            return handler

        return decorator

    def include_router(
        self, router: Router, *, prefix: str = "", tags: list[str] | None = None
    ) -> None:
        """Register every route of ``router`` under ``prefix + router.prefix``,
        compiled now (spikard.router); ``tags`` add to the router's."""
        prefix = check_prefix(prefix, "include_router")
        for method, path, handler, kwargs, more in router.expanded():
            self.route(method, prefix + path, **kwargs)(handler)
            self.route_tags[(method.upper(), prefix + path)] = [*(tags or []), *more]

    def provide(self, key: str | type, value: Any) -> None:
        """Inject ``value`` (a value, or a ``spikard.di.Provide`` factory) into
        every handler parameter named ``key`` (a str) or annotated ``key``
        (a type); see spikard.di."""
        if not isinstance(key, (str, type)) or key == "":
            raise TypeError(f"provide: the key must be a name or a type, not {key!r}")
        self.dependencies[key] = value

    def on_startup(self, fn: H) -> H:
        """Run ``fn()`` (def or async def) before the server listens."""
        self.hooks.startup.append(fn)
        return fn

    def on_shutdown(self, fn: H) -> H:
        """Run ``fn()`` once the server has stopped."""
        self.hooks.shutdown.append(fn)
        return fn

    # -- serving -----------------------------------------------------------------

    def _config(
        self, host: str | None, port: int | None, config: ServerConfig | None, **more: Any
    ) -> ServerConfig:
        """The configuration a serve call uses: config (or the app's) with its overrides."""
        return (config if config is not None else self.config).replace(host=host, port=port, **more)

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        config: ServerConfig | None = None,
    ) -> None:
        """Serve until SIGINT or SIGTERM, then stop gracefully and return.

        In-flight requests are allowed to finish (up to
        ``ServerConfig.shutdown_timeout``) before ``run`` returns. With
        ``ServerConfig.workers`` above 1 this process supervises that many
        worker processes, each running this program again and serving the
        same address; ``run`` returns when all of them have stopped.
        """
        claim_standalone(self)
        cfg = self._config(host, port, config)
        on_main = threading.current_thread() is threading.main_thread()
        if _workers.worker_index() is not None:
            # A worker serves; its core binds the supervisor's address
            # (SO_REUSEPORT, quietly) and tells the supervisor it listens.
            run_server(self._server(cfg), install_signals=on_main)
        elif cfg.workers > 1:
            if not on_main:
                raise RuntimeError("ServerConfig.workers > 1: call run() on the main thread")
            _workers.supervise(cfg)
        else:
            run_server(self._server(cfg), install_signals=on_main)

    def _server(self, cfg: ServerConfig) -> Server:
        claim_standalone(self)
        server = Server(
            list(self.routes),
            cfg,
            self.hooks,
            self.exception_handlers,
            {**self.dependencies, **self.dependency_overrides},
            self.strict_dependencies,
            self.route_dependency_overrides,
        )
        self._servers.add(server)
        return server

    def serve_in_background(
        self,
        host: str | None = "127.0.0.1",
        port: int | None = 0,
        *,
        config: ServerConfig | None = None,
    ) -> BackgroundServer:
        """Serve on a background thread (for tests); returns once listening.

        The result has ``.port``, ``.url`` and ``.stop()`` and is a context
        manager. No signal handlers are installed.
        """
        cfg = self._config(host, port, config, sched_batch=False)
        return BackgroundServer(self._server(cfg))


def _with_cors(route: Route, cors_doc: Any) -> Route:
    """The route with its ``"cors"`` key, when its decorator set one."""
    if cors_doc is not None:
        route.declaration["cors"] = cors_doc
    return route
