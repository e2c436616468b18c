"""CorsConfig: a CORS policy, for the whole app or one route.

The core applies it (spikard.h, config "cors"): it answers preflights,
refuses other origins with a 403 problem document, and adds the
``Access-Control-*`` headers and ``Vary: Origin`` to every answer, streams,
server-sent events and WebSocket upgrades included. This class only checks
the values where they are written and spells them as the core's document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _native

__all__ = ["CorsConfig"]


@dataclass(frozen=True)
class CorsConfig:
    """Which cross-origin requests browsers may make.

    Pass it as ``ServerConfig(cors=...)`` for every route, or as ``cors=`` on
    a route decorator for that route alone (``cors=False`` turns the app's
    policy off there).
    """

    allow_origins: Sequence[str | re.Pattern[str]]
    """Origins allowed: exact ones as browsers send them
    (``"https://app.example.com"``, compared case included), ``"*"`` for
    any, ``"null"`` for the opaque origin, or compiled patterns
    (``re.compile(r"https://.*\\.example\\.com")``) an origin must match
    whole. Patterns are run by the Go core (RE2 syntax: no backreferences
    or lookarounds)."""
    allow_methods: Sequence[str] = field(
        default=("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    )
    """Methods a preflight may ask for, or ``["*"]``."""
    allow_headers: Sequence[str] = ()
    """Request headers a preflight may name (any case), or ``["*"]``; the
    CORS-safelisted Accept, Accept-Language, Content-Language and
    Content-Type always pass."""
    allow_credentials: bool = False
    """Send ``Access-Control-Allow-Credentials: true``; the origin is then
    echoed, never ``*``."""
    expose_headers: Sequence[str] = ()
    """Answer headers scripts may read (``Access-Control-Expose-Headers``)."""
    max_age: int | None = 600
    """Seconds a browser may cache a preflight's answer; None sends no
    ``Access-Control-Max-Age``."""
    allow_private_network: bool = False
    """Answer a preflight's ``Access-Control-Request-Private-Network: true``
    with ``Access-Control-Allow-Private-Network: true``."""

    def __post_init__(self) -> None:
        # The core judges the document (core/corsconfig.go); asked with this
        # policy alone, its verdict names the field, which is then this
        # class's.
        doc = self.document()
        try:
            text = json.dumps({"cors": doc}, allow_nan=False)
        except (TypeError, ValueError):
            raise ValueError(f"CorsConfig: not JSON values: {doc!r}") from None
        try:
            _native.check_config(text.encode())
        except _native.SpikardError as exc:
            reason = str(exc.args[-1]).removeprefix('config: "cors": ')
            m = re.match(r'"(\w+)": (.*)', reason, re.S)
            if m:
                name = m.group(1)
                raise ValueError(
                    f"CorsConfig.{name}={getattr(self, name, None)!r}: {m.group(2)}"
                ) from None
            raise ValueError(f"CorsConfig: {reason}") from None

    def document(self) -> dict[str, Any]:
        """The policy as the core's ``"cors"`` object."""
        origins: list[Any] = []
        for o in _sequence(self.allow_origins, "allow_origins"):
            origins.append({"regex": o.pattern} if isinstance(o, re.Pattern) else o)
        doc: dict[str, Any] = {
            "allow_origins": origins,
            "allow_methods": list(_sequence(self.allow_methods, "allow_methods")),
            "allow_headers": list(_sequence(self.allow_headers, "allow_headers")),
            "allow_credentials": self.allow_credentials,
            "expose_headers": list(_sequence(self.expose_headers, "expose_headers")),
            "max_age": -1 if self.max_age is None else self.max_age,
            "allow_private_network": self.allow_private_network,
        }
        return doc


def _sequence(value: Any, name: str) -> Sequence[Any]:
    """A list or tuple field; a lone string would read as its characters."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"CorsConfig.{name}={value!r}: must be a list")
    return value


def route_cors(cors: CorsConfig | bool | None, where: str) -> Any:
    """A route's ``"cors"`` value: the policy's document, False, or None
    (the app's policy)."""
    if cors is None:
        return None
    if cors is False:
        return False
    if isinstance(cors, CorsConfig):
        return cors.document()
    raise TypeError(f"{where}: cors={cors!r}: must be a CorsConfig, False or None")
