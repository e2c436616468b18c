"""Configuration objects of features the core does not have yet.

They exist so that code written against the product brief imports and
constructs as it will once the features land (rate limits and the auth
middleware: issue 15). ``ServerConfig`` refuses any of
them with NotImplementedError naming its field, never ignoring one
silently: an app that asked for rate limiting or authentication must not
start without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ApiKeyConfig", "JwtConfig", "RateLimitConfig", "refuse_unbuilt"]


@dataclass(frozen=True)
class RateLimitConfig:
    """Requests per second allowed, with a burst (not built yet: issue 15)."""

    per_second: float = 100
    burst: int = 200
    ip_based: bool = True


@dataclass(frozen=True)
class JwtConfig:
    """JWT bearer authentication (not built yet: issue 15)."""

    secret: str = ""
    algorithm: str = "HS256"
    audience: list[str] = field(default_factory=list)
    issuer: str | None = None
    leeway: float = 0


@dataclass(frozen=True)
class ApiKeyConfig:
    """API-key authentication (not built yet: issue 15)."""

    keys: list[str] = field(default_factory=list)
    header_name: str = "X-API-Key"


# Each unbuilt ServerConfig field, the issue that builds it.
_UNBUILT = {
    "rate_limit": ("rate limiting", "15"),
    "jwt_auth": ("JWT authentication", "15"),
    "api_key_auth": ("API-key authentication", "15"),
}


def refuse_unbuilt(field_name: str, value: object) -> None:
    """Raise NotImplementedError for a set field whose feature is unbuilt."""
    if value is None:
        return
    what, issue = _UNBUILT[field_name]
    raise NotImplementedError(
        f"ServerConfig.{field_name}={value!r}: {what} is not built yet "
        f"(issue {issue}); remove the setting, it would otherwise be ignored"
    )
