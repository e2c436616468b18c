"""Type stubs for spikard._native, the marshalling layer over include/spikard.h."""

import contextvars
from collections.abc import Coroutine
from typing import Any, Final

ABI_VERSION: Final[int]
RESPONSE_HANDLER_ERROR: Final[int]
RESPONSE_PROBLEM: Final[int]
RESPONSE_STREAM: Final[int]
RESPONSE_SSE: Final[int]
RESPONSE_WRITTEN: Final[int]
RESPONSE_FILE: Final[int]
RESPONSE_WS_ACCEPT: Final[int]
EVENT_WS_OPEN: Final[int]
EVENT_WS_MESSAGE: Final[int]
EVENT_WS_CLOSE: Final[int]
EVENT_LOG: Final[int]
EVENT_F_BINARY: Final[int]
CHUNK_WS_BINARY: Final[int]
CHUNK_WS_CLOSE: Final[int]
EVENT_DISCONNECT: Final[int]
EVENT_WRITTEN: Final[int]
EVENT_STREAM_CREDIT: Final[int]
GONE_CLIENT: Final[int]
GONE_TIMEOUT: Final[int]
GONE_STOPPING: Final[int]
GONE_STALLED: Final[int]
CHUNK_END: Final[int]
CHUNK_ABORT: Final[int]
E_INVALID: Final[int]
E_UNSUPPORTED: Final[int]
E_AGAIN: Final[int]
E_NOT_FOUND: Final[int]
E_IO: Final[int]
E_CLOSED: Final[int]
E_WORKER: Final[int]
# 2.3 lifecycle hooks (spikard.h, Section - Lifecycle hooks)
EVENT_HOOK: Final[int]
RESPONSE_CONTINUE: Final[int]
HOOK_ON_REQUEST: Final[int]
HOOK_PRE_VALIDATION: Final[int]
HOOK_PRE_HANDLER: Final[int]
HOOK_ON_RESPONSE: Final[int]
HOOK_ON_ERROR: Final[int]
NO_ROUTE: Final[int]

Header = tuple[bytes | str, bytes | str]
Answer = tuple[int, int, list[Header] | None, bytes | str, int]
RequestMeta = tuple[str, str, str, list[tuple[str, str]]]
# (exchange, flags, data, event, id, retry_ms[, code]): a chunk of an open
# stream, or a message of a WebSocket (code: a close code with CHUNK_WS_CLOSE).
Chunk = (
    tuple[int, int, bytes | str, bytes | str, bytes | str, int]
    | tuple[int, int, bytes | str, bytes | str, bytes | str, int, int]
)
# (cookies, query_pairs, uploads) for routes that ask for those facts.
RequestFacts = tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]
# A request: (exchange, route, params, body, request_meta, attachments, facts),
# and an eighth item, the SPIKARD_HOOK_* pre phases its hooks still run, on a
# REQUEST of an app with config "hooks_in_request" that skipped the pre visit;
# attachments holds the upload bytes that file descriptors in body locate by
# offset/length. A WebSocket's WS_OPEN has that shape too. Every other kind
# (one a route or answer opted into) has params None: (exchange, route,
# None, kind, code, None, None); WS_MESSAGE and WS_CLOSE carry the message
# or the reason, and the flags: (exchange, route, None, kind, code, body,
# flags).
Event = tuple[
    int,
    int,
    bytes | None,
    bytes | int | None,
    RequestMeta | int | None,
    bytes | None,
    RequestFacts | int | None,
]

class SpikardError(Exception):
    """A libspikard call failed; ``args`` is ``(code, message)``."""

class Closed(SpikardError):
    """The app has stopped; the lane is drained and no more events will come."""

def abi_version() -> int: ...
def check_config(config_json: bytes) -> None: ...
def check_supervise(options_json: bytes) -> None: ...
def worker_index() -> int | None: ...
def signal_onstack(signo: int) -> None: ...
def step(context: contextvars.Context, coro: Coroutine[Any, Any, Any], /) -> tuple[bool, Any]: ...

class App:
    def __init__(self, config_json: bytes) -> None: ...
    def add_route(self, route_json: bytes) -> int: ...
    def start(self) -> None: ...
    def stop(self, timeout_ms: int = -1) -> None: ...
    def respond(self, batch: list[Answer]) -> bool: ...
    def stream_write(self, batch: list[Chunk], timeout_ms: int = 0) -> list[int]: ...
    def ws_subscribe(self, exchange: int, channel: str | bytes) -> bool: ...
    def ws_unsubscribe(self, exchange: int, channel: str | bytes) -> bool: ...
    def ws_publish(self, channel: str | bytes, flags: int, data: bytes | str) -> int: ...
    @property
    def port(self) -> int: ...

class Poller:
    def __init__(self, app: App, lane: int) -> None: ...
    def poll(self, max_events: int = 64, timeout_ms: int = -1) -> list[Event]: ...
    def fileno(self) -> int: ...
    def close(self) -> None: ...
    @property
    def fd(self) -> int: ...

class Supervisor:
    """Worker processes running ``argv`` (spikard_supervise); ``env`` None: this
    process's environment."""

    def __init__(
        self, argv: list[str], options_json: bytes, env: list[str] | None = None
    ) -> None: ...
    def wait(self, timeout_ms: int = -1) -> int | None: ...
    def signal(self, signo: int) -> None: ...
    def close(self) -> None: ...
    @property
    def port(self) -> int: ...
