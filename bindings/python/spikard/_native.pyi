"""Type stubs for spikard._native, the marshalling layer over include/spikard.h."""

from typing import Final

ABI_VERSION: Final[int]
RESPONSE_HANDLER_ERROR: Final[int]
E_NOT_FOUND: Final[int]
E_CLOSED: Final[int]

Header = tuple[bytes | str, bytes | str]
Answer = tuple[int, int, list[Header] | None, bytes | str, int]
RequestMeta = tuple[str, str, str, list[tuple[str, str]]]
# (exchange, route, params, body, request_meta, attachments): attachments
# holds the upload bytes that file descriptors in body locate by offset/length.
Event = tuple[int, int, bytes, bytes | None, RequestMeta | None, bytes | None]

class SpikardError(Exception):
    """A libspikard call failed; ``args`` is ``(code, message)``."""

class Closed(SpikardError):
    """The app has stopped; the lane is drained and no more events will come."""

def abi_version() -> int: ...

class App:
    def __init__(self, config_json: bytes) -> None: ...
    def add_route(self, route_json: bytes) -> int: ...
    def start(self) -> None: ...
    def stop(self, timeout_ms: int = -1) -> None: ...
    def respond(self, batch: list[Answer]) -> bool: ...
    @property
    def port(self) -> int: ...

class Poller:
    def __init__(self, app: App, lane: int) -> None: ...
    def poll(self, max_events: int = 64, timeout_ms: int = -1) -> list[Event]: ...
    def fileno(self) -> int: ...
    def close(self) -> None: ...
    @property
    def fd(self) -> int: ...
