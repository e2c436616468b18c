"""Configuration objects of features the core does not have yet.

They exist so that code written against the product brief imports and
constructs as it will once the features land (OpenAPI: issue 16).
``ServerConfig`` refuses any of them with NotImplementedError naming its
field, never ignoring one silently.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OpenApiConfig", "refuse_unbuilt"]


@dataclass(frozen=True)
class OpenApiConfig:
    """OpenAPI document and its UIs (not built yet: issue 16)."""

    enabled: bool = False
    title: str = "API"
    version: str = "1.0.0"
    description: str | None = None
    swagger_ui_path: str = "/docs"
    redoc_path: str = "/redoc"


# Each unbuilt ServerConfig field, the issue that builds it.
_UNBUILT = {
    "openapi": ("OpenAPI generation", "16"),
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
