"""Authentication and rate-limit configuration: ``JwtConfig``, ``ApiKeyConfig``
and ``RateLimitConfig``.

Each is the Python face of one key of the core's configuration document
(spikard.h: "jwt_auth", "api_key_auth", "rate_limit"); the core verifies
tokens and keys and counts requests, this module only builds the JSON.
Objects are checked as they are constructed, by the core's own rules, and an
error names the field: ``JwtConfig.secret=None: is required for HS256``.
The same objects (or ``False``) are accepted by a route's ``jwt_auth=``,
``api_key_auth=`` and ``rate_limit=``, replacing the app's for that route.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import Any

from . import _native

__all__ = ["ApiKeyConfig", "Claims", "JwtConfig", "RateLimitConfig"]


class Claims(dict[str, Any]):
    """The verified claims of a request's JWT. Annotate a handler parameter
    with ``Claims`` (or ``Claims | None``) to receive them; ``None`` when the
    route verified no token (an API-key request, or a route without JWT)."""


def _check(obj: Any, key: str) -> None:
    """Ask the core about ``{key: obj}``; raise naming the field it faults."""
    cls = type(obj).__name__
    try:
        doc = json.dumps({key: obj.to_dict()}, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{cls}: not JSON values: {exc}") from None
    try:
        _native.check_config(doc)
    except _native.SpikardError as exc:
        reason = str(exc.args[-1]).removeprefix(f'config: "{key}": ')
        names = {f.name for f in fields(obj)}
        m = re.search(rf"\b{key}\.(\w+)|^\"(\w+)\"|unknown key \"(\w+)\"", reason)
        field = next((g for g in (m.groups() if m else ()) if g), None)
        if field in names:
            reason = re.sub(rf'\b{key}\.{field}:? |^"{field}" ', "", reason, count=1)
            raise ValueError(f"{cls}.{field}={getattr(obj, field)!r}: {reason}") from None
        raise ValueError(f"{cls}: {reason}") from None


def _strings(obj: Any, name: str, value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{type(obj).__name__}.{name}={value!r}: must be a list of strings")
    return list(value)


@dataclass
class JwtConfig:
    """Require ``Authorization: Bearer <JWT>`` (spikard.h, "jwt_auth").

    ``JwtConfig(secret="…", algorithm="HS256", audience=["api.example.com"],
    issuer="auth.example.com", leeway=30)``. HS256/384/512 take ``secret``;
    RS*, PS* and ES* take one of ``public_key`` (PEM text), ``public_key_file``
    or ``jwks_file`` (a local JWK Set; a token's ``kid`` picks the key).
    """

    secret: str | None = None
    """The HMAC secret of the HS algorithms."""
    algorithm: str = "HS256"
    """The accepted algorithm; ``"none"`` never is."""
    audience: list[str] | None = None
    """A token's ``aud`` (a string or a list) must hold one of these."""
    issuer: str | None = None
    """A token's ``iss`` must equal it."""
    leeway: float = 0
    """Seconds of clock skew allowed on ``exp`` and ``nbf``."""
    algorithms: list[str] | None = None
    """An allow-list replacing ``algorithm``."""
    public_key: str | None = None
    public_key_file: str | None = None
    jwks_file: str | None = None
    require_exp: bool = False
    """Refuse tokens without ``exp``."""
    realm: str | None = None
    """The ``realm`` of the WWW-Authenticate challenge (core: "api")."""

    def __post_init__(self) -> None:
        self.audience = _strings(self, "audience", self.audience)
        self.algorithms = _strings(self, "algorithms", self.algorithms)
        _check(self, "jwt_auth")

    def to_dict(self) -> dict[str, Any]:
        """The "jwt_auth" object of the core's configuration."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


@dataclass
class ApiKeyConfig:
    """Require an API key (spikard.h, "api_key_auth"): in ``header_name``, or
    else in the ``query_param`` query parameter (``None``: never the query).
    Every key of ``keys`` is accepted, so a key rotates without downtime;
    ``deprecated_keys`` are accepted too, and their answers say
    ``X-API-Key-Deprecated: true``."""

    keys: list[str]
    header_name: str = "X-API-Key"
    query_param: str | None = "api_key"
    deprecated_keys: list[str] | None = None

    def __post_init__(self) -> None:
        self.keys = _strings(self, "keys", self.keys) or []
        self.deprecated_keys = _strings(self, "deprecated_keys", self.deprecated_keys)
        _check(self, "api_key_auth")

    def to_dict(self) -> dict[str, Any]:
        """The "api_key_auth" object of the core's configuration."""
        doc: dict[str, Any] = {"keys": self.keys, "header_name": self.header_name}
        if self.query_param is None:
            doc["query_param_off"] = True
        else:
            doc["query_param"] = self.query_param
        if self.deprecated_keys:
            doc["deprecated_keys"] = self.deprecated_keys
        return doc


@dataclass
class RateLimitConfig:
    """A token bucket per client (spikard.h, "rate_limit"): ``burst`` requests
    at once, refilled at ``per_second``; over it, 429 with ``Retry-After``.

    ``ip_based`` keys buckets by client address (``False``: one bucket for
    all); ``key_by="api_key"`` or ``"jwt_sub"`` keys them by verified
    credential. ``trusted_proxies`` are the addresses whose
    ``X-Forwarded-For``/``Forwarded`` are believed. With ``workers`` > 1 or
    several hosts, set ``redis_url`` so that they share one limit;
    ``fail_open`` admits requests while Redis does not answer (else the app
    does not start, and later requests get 503).
    """

    per_second: float
    burst: int
    ip_based: bool = True
    key_by: str | None = None
    trusted_proxies: list[str] | None = None
    redis_url: str | None = None
    redis_prefix: str | None = None
    redis_timeout: float | None = None
    fail_open: bool = False

    def __post_init__(self) -> None:
        self.trusted_proxies = _strings(self, "trusted_proxies", self.trusted_proxies)
        burst: Any = self.burst
        if isinstance(burst, float) and burst.is_integer():
            self.burst = int(burst)  # the core takes 200.0 as 200
        _check(self, "rate_limit")

    def to_dict(self) -> dict[str, Any]:
        """The "rate_limit" object of the core's configuration."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


def guard_value(name: str, value: Any, kind: type) -> Any:
    """A route's ``jwt_auth=``/``api_key_auth=``/``rate_limit=`` as its route
    document writes it: the object's JSON, or false."""
    if value is False:
        return False
    if isinstance(value, kind):
        return value.to_dict()  # type: ignore[attr-defined]
    raise TypeError(f"{name}={value!r}: must be a {kind.__name__} or False")
