"""Server configuration: the JSON document handed to spikard_app_new."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from . import _native
from .auth import ApiKeyConfig, JwtConfig, RateLimitConfig
from .compression import CompressionConfig
from .cors import CorsConfig
from .staticfiles import StaticFilesConfig

__all__ = [
    "ApiKeyConfig",
    "CorsConfig",
    "JwtConfig",
    "OpenApiConfig",
    "RateLimitConfig",
    "ServerConfig",
]

# The keys spikard.h documents for spikard_app_new; nothing else is sent.
_CORE_KEYS = (
    "host",
    "port",
    "max_body_size",
    "max_json_depth",
    "max_uri_length",
    "max_header_size",
    "max_header_count",
    "header_timeout",
    "request_timeout",
    "read_timeout",
    "shutdown_timeout",
    "access_log",
    "quiet",
    "reuse_port",
    "sched_batch",
    "stream_queue_bytes",
    "sse_keepalive",
    "ws_max_message_size",
    "ws_inbound_bytes",
    "ws_ping_interval",
)

# Core keys sent only when set (None keeps the core's default).
_OPTIONAL_KEYS = ("ws_origins", "broadcast")

# Core keys given as config objects (spikard.auth), sent when set.
_GUARD_KEYS: tuple[tuple[str, type], ...] = (
    ("jwt_auth", JwtConfig),
    ("api_key_auth", ApiKeyConfig),
    ("rate_limit", RateLimitConfig),
)

# Core keys whose values are whole numbers: a float the core took as whole
# (8080.0) is kept as an int.
_INTEGER_KEYS = (
    "port",
    "max_body_size",
    "max_json_depth",
    "max_uri_length",
    "max_header_size",
    "max_header_count",
    "ws_max_message_size",
    "ws_inbound_bytes",
)


@dataclass
class ServerConfig:
    """How an app listens and how the Python side serves it.

    The first group of fields is passed to the Go core; ``sync_workers`` sizes
    the pool of Python threads that run plain ``def`` handlers.
    """

    host: str = "127.0.0.1"
    """Listen address."""
    port: int = 8000
    """TCP port; 0 picks a free one."""
    max_body_size: int = 10 * 1024 * 1024
    """Largest accepted request body in bytes; 0 means no limit."""
    max_json_depth: int = 128
    """How deeply a JSON body may nest arrays and objects (1..10000); a
    deeper one is answered 400 before any parser reads it."""
    max_uri_length: int = 8192
    """Longest request target (path and query) in bytes; a longer one is
    answered 414. 0 means no limit."""
    max_header_size: int = 16 * 1024
    """Largest size of a request's header fields together, in bytes; more is
    answered 431. 0 means no limit."""
    max_header_count: int = 100
    """Most header fields a request may have; more is answered 431. 0 means
    no limit."""
    header_timeout: float = 10
    """Seconds a request head may take to arrive from its first byte, however
    slowly it trickles in; then it is answered 408. 0 means no limit."""
    request_timeout: float = 30
    """Seconds a handler may take to answer; then the core answers 408 (a
    problem document), drops the late answer and cancels an async handler.
    0 means no limit."""
    read_timeout: float = 30
    """Seconds to wait for the next bytes of a request or an idle keep-alive
    connection before closing it; 0 means no limit."""
    shutdown_timeout: float = 5
    """Seconds a graceful stop waits for in-flight requests."""
    access_log: bool = False
    """One record per request on the ``spikard.access`` logger, its message
    the core's access line (time, client, request line, status, duration,
    request id; see the README). Off by default, and then free."""
    quiet: bool = False
    """No "listening" and "stopped" records on the ``spikard`` logger."""
    reuse_port: bool = False
    """Bind with SO_REUSEPORT, so that other processes can serve the same
    address (worker processes set it for themselves). Unix only."""
    sched_batch: bool = True
    """Linux: when :meth:`Spikard.run` starts, move the process's threads to
    SCHED_BATCH, so that the core's threads and the Python threads hand
    batches to each other without preempting one another on every hand-off
    (about +30% requests per second on a busy core). No priority over other
    processes is gained; ``serve_in_background`` never does it, the process
    not being the server's own."""
    stream_queue_bytes: int = 4 * 1024 * 1024
    """Bytes a streaming answer may hold queued, not yet taken by its
    client; a producer past it is suspended until the client reads."""
    sse_keepalive: float = 15
    """Seconds of silence after which an SSE stream gets a keep-alive
    comment; 0 sends none."""
    ws_max_message_size: int = 1024 * 1024
    """Largest WebSocket message a client may send, in bytes (all its
    fragments); a larger one closes the connection with 1009. 0 means no
    limit."""
    ws_inbound_bytes: int = 1024 * 1024
    """Bytes of received WebSocket messages the handler has not taken yet
    before the core stops reading that connection."""
    ws_ping_interval: float = 0
    """Seconds between the core's pings of each WebSocket; one that stays
    silent for two intervals is dropped (1006). 0 sends none."""
    ws_origins: list[str] | None = None
    """Origins a WebSocket handshake may come from (``"https://app.example"``,
    or ``"*"``); None: only pages of the server's own host (a client that
    sends no Origin, not a browser, always may)."""
    broadcast: dict[str, str] | None = None
    """Where ``broadcast``/``WebSocket.publish`` messages go: None in-process,
    ``{"redis": "redis://host:6379/0"}`` through Redis pub/sub, so every
    worker and host on that Redis delivers them (``"prefix"`` names the
    channels, default ``"spikard:"``)."""
    sync_workers: int = 16
    """Python threads serving plain ``def`` handlers (lane 1)."""
    workers: int = 1
    """Processes serving the app. With more than one, :meth:`Spikard.run`
    runs this program again once per worker (see ``spikard._workers``) and
    supervises them; each worker's Go core still uses every core for HTTP."""
    compression: CompressionConfig | None = None
    """Compress answers for clients that accept it; None sends them as they are."""
    static_files: list[StaticFilesConfig] | None = None
    """Directories the core serves under URL prefixes."""

    # -- request ids, CORS, shutdown and the brief's unbuilt features ------------
    enable_request_id: bool = True
    """Give every answer an ``X-Request-ID``: the client's own when it is
    sane (1..128 letters, digits and ``-_.:~+/=@``), else a new UUID. The
    handler sees the same id as ``request.request_id`` (and in
    ``request.headers``)."""
    cors: CorsConfig | None = None
    """The app's CORS policy (see :class:`CorsConfig`); a route's ``cors=``
    replaces it for that route."""
    graceful_shutdown: bool = True
    """Let in-flight requests finish, up to ``shutdown_timeout``, when the
    server stops; False stops at once (they are answered 503)."""
    rate_limit: RateLimitConfig | None = None
    """Every route is rate limited unless it says ``rate_limit=False`` or gives
    its own (see :class:`spikard.RateLimitConfig`)."""
    jwt_auth: JwtConfig | None = None
    """Every route requires a valid JWT bearer token, unless it says
    ``jwt_auth=False`` or gives its own (see :class:`spikard.JwtConfig`)."""
    api_key_auth: ApiKeyConfig | None = None
    """Every route requires an API key unless it says ``api_key_auth=False``
    or gives its own (see :class:`spikard.ApiKeyConfig`)."""
    openapi: OpenApiConfig | None = None
    """The OpenAPI 3.1 document at ``/openapi.json`` with Swagger UI and
    ReDoc pages (see :class:`OpenApiConfig`); None serves none."""

    def __post_init__(self) -> None:
        # Refuse a bad value where it is written, naming the field. The core
        # judges its own keys, so its rules live in one place
        # (core/config.go); asked one key at a time, its verdict is always
        # about a known field.
        for key in _CORE_KEYS + _OPTIONAL_KEYS:
            value = getattr(self, key)
            if value is None and key in _OPTIONAL_KEYS:
                continue
            try:
                doc = json.dumps({key: value}, allow_nan=False).encode()
            except (TypeError, ValueError):
                raise ValueError(f"ServerConfig.{key}={value!r}: not a JSON value") from None
            try:
                _native.check_config(doc)
            except _native.SpikardError as exc:
                reason = str(exc.args[-1]).removeprefix(f'config: "{key}": ')
                raise ValueError(f"ServerConfig.{key}={value!r}: {reason}") from None
            if key in _INTEGER_KEYS and isinstance(value, float):
                setattr(self, key, int(value))  # the core took it as whole: 8080.0
        for key, kind in _GUARD_KEYS:
            value = getattr(self, key)
            if value is not None and not isinstance(value, kind):
                raise ValueError(f"ServerConfig.{key}={value!r}: must be a {kind.__name__} or None")
        # workers is the core supervisor's to judge (spikard_supervise_check);
        # sync_workers sizes this binding's own thread pool.
        try:
            _native.check_supervise(json.dumps({"workers": self.workers}).encode())
        except _native.SpikardError as exc:
            reason = str(exc.args[-1]).removeprefix('supervise: "workers": ')
            raise ValueError(f"ServerConfig.workers={self.workers!r}: {reason}") from None
        if isinstance(self.workers, float):
            self.workers = int(self.workers)  # the core took it as whole: 2.0
        self._check_compression_and_static()
        if self.openapi is not None and not isinstance(self.openapi, OpenApiConfig):
            raise ValueError(
                f"ServerConfig.openapi={self.openapi!r}: must be an OpenApiConfig "
                "(from spikard.config import OpenApiConfig)"
            )
        value = self.sync_workers
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"ServerConfig.sync_workers={value!r}: must be an integer of at least 1"
            )
        self._check_middleware()

    def _check_middleware(self) -> None:
        """The request-id, CORS and shutdown fields."""
        for name in ("enable_request_id", "graceful_shutdown"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"ServerConfig.{name}={getattr(self, name)!r}: must be True or False"
                )
        if self.cors is not None and not isinstance(self.cors, CorsConfig):
            raise ValueError(f"ServerConfig.cors={self.cors!r}: must be a CorsConfig or None")

    @property
    def drain_timeout(self) -> float:
        """Seconds a stop lets in-flight work finish: ``shutdown_timeout``,
        or 0 without ``graceful_shutdown``."""
        return self.shutdown_timeout if self.graceful_shutdown else 0

    def _check_compression_and_static(self) -> None:
        """compression and static_files hold their own config objects, each
        checked when it was made."""
        compression = self.compression
        if compression is not None and not isinstance(compression, CompressionConfig):
            raise ValueError(
                f"ServerConfig.compression={compression!r}: must be a CompressionConfig or None"
            )
        if self.static_files is not None:
            if not isinstance(self.static_files, (list, tuple)) or not all(
                isinstance(s, StaticFilesConfig) for s in self.static_files
            ):
                raise ValueError(
                    f"ServerConfig.static_files={self.static_files!r}: "
                    "must be a list of StaticFilesConfig or None"
                )
            prefixes = [s.route_prefix.rstrip("/") or "/" for s in self.static_files]
            for p in prefixes:
                if prefixes.count(p) > 1:
                    raise ValueError(f"ServerConfig.static_files: {p!r} is mounted twice")
            self.static_files = list(self.static_files)

    def _middleware_doc(self, doc: dict[str, Any]) -> None:
        if self.compression is not None:
            doc["compression"] = self.compression.to_doc()
        if self.static_files:
            doc["static_files"] = [s.to_doc() for s in self.static_files]

    def to_json(self, serial_lanes: tuple[int, ...] = (), log_lane: int | None = None) -> bytes:
        """The configuration document of ``spikard_app_new``.

        ``serial_lanes`` names the lanes served by a pool of threads that
        share the GIL: the core hands them one request at a time unless one
        stalls (spikard.h, "serial_lanes"). ``log_lane`` says the host logs
        itself: the core's access lines come as SPIKARD_EVENT_LOG batches on
        that lane, and the core prints no "listening" line.
        """
        doc: dict[str, Any] = {key: getattr(self, key) for key in _CORE_KEYS}
        for key in _OPTIONAL_KEYS:
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        for key, _ in _GUARD_KEYS:
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key).to_dict()
        if serial_lanes:
            doc["serial_lanes"] = list(serial_lanes)
        doc["request_id"] = self.enable_request_id
        if self.cors is not None:
            doc["cors"] = self.cors.document()
        self._middleware_doc(doc)
        if log_lane is not None:
            doc["access_log"] = {"lane": log_lane} if self.access_log else False
            doc["quiet"] = True
        if self.openapi is not None:
            doc["openapi"] = self.openapi.document()
        return json.dumps(doc, separators=(",", ":")).encode()

    def replace(self, **changes: Any) -> ServerConfig:
        """A copy with some fields changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass
class OpenApiConfig:
    """The app's OpenAPI 3.1 document and its docs pages, built by the core.

    The document is generated once, when the app starts, from every route's
    declaration: path and parameter types, constraints and defaults, the
    body per media type, the return type's schema at the route's
    ``status_code``, and the 422 problem document of validated routes.
    msgspec Structs, dataclasses, pydantic models (anything whose JSON
    Schema has a ``title`` and ``properties``) become named components. An
    operation's summary and description come from the route decorator's
    ``summary=``/``description=``, else from the handler's docstring (its
    first line, and the rest). The pages load only the app's own scripts
    and stylesheets: they work offline.
    """

    enabled: bool = True
    """Serve the document and pages."""
    title: str = "API"
    """The document's ``info.title``."""
    version: str = "1.0.0"
    """The API's version (``info.version``)."""
    description: str | None = None
    """``info.description`` (CommonMark)."""
    swagger_ui_path: str | None = "/docs"
    """Where Swagger UI is served; None: nowhere."""
    redoc_path: str | None = "/redoc"
    """Where ReDoc is served; None: nowhere."""
    openapi_path: str = "/openapi.json"
    """Where the document is served."""

    def __post_init__(self) -> None:
        # Each field is judged by the core, alone, so the error names it;
        # then the whole object (two pages on one path).
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in ("description", "swagger_ui_path", "redoc_path"):
                continue
            _check_openapi(f"OpenApiConfig.{f.name}={value!r}", {f.name: value}, f.name)
        _check_openapi("OpenApiConfig", self.document(), None)

    def document(self) -> dict[str, Any]:
        """The config's ``"openapi"`` object (include/spikard.h)."""
        doc: dict[str, Any] = {
            "enabled": self.enabled,
            "title": self.title,
            "version": self.version,
            "openapi_path": self.openapi_path,
            "swagger_ui_path": self.swagger_ui_path or "",
            "redoc_path": self.redoc_path or "",
        }
        if self.description is not None:
            doc["description"] = self.description
        return doc


def _check_openapi(what: str, value: dict[str, Any], key: str | None) -> None:
    try:
        doc = json.dumps({"openapi": value}, allow_nan=False).encode()
    except (TypeError, ValueError):
        raise ValueError(f"{what}: not a JSON value") from None
    try:
        _native.check_config(doc)
    except _native.SpikardError as exc:
        reason = str(exc.args[-1]).removeprefix('config: "openapi": ')
        if key is not None:
            reason = reason.removeprefix(f'"{key}": ')
        # The core's "" (no page) is None here.
        reason = reason.replace('or "" for no page', "or None for no page")
        raise ValueError(f"{what}: {reason}") from None
