"""Parameter markers: where a handler argument comes from, plus its constraints.

``Query()``, ``Path()``, ``Header()``, ``Cookie()`` and ``Body()`` shape a
handler's signature (as a default value or inside ``Annotated[...]``); the
classes they return carry the data the route compiler reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "MISSING",
    "Body",
    "BodyParam",
    "Cookie",
    "CookieParam",
    "Header",
    "HeaderParam",
    "Param",
    "Path",
    "PathParam",
    "Query",
    "QueryParam",
]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""No default: the parameter is required."""


@dataclass(frozen=True)
class Param:
    """A parameter's source, default, alias and JSON Schema constraints."""

    source: ClassVar[str] = ""
    default: Any = MISSING
    alias: str | None = None
    """The name on the wire when it differs from the Python name."""
    description: str | None = None
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None

    def constraints(self, schema_type: object) -> dict[str, Any]:
        """JSON Schema keywords for the constraints set on this marker."""
        out: dict[str, Any] = {}
        for attr, key in (("gt", "exclusiveMinimum"), ("ge", "minimum")):
            if getattr(self, attr) is not None:
                out[key] = getattr(self, attr)
        for attr, key in (("lt", "exclusiveMaximum"), ("le", "maximum")):
            if getattr(self, attr) is not None:
                out[key] = getattr(self, attr)
        array = schema_type == "array"
        if self.min_length is not None:
            out["minItems" if array else "minLength"] = self.min_length
        if self.max_length is not None:
            out["maxItems" if array else "maxLength"] = self.max_length
        if self.pattern is not None:
            out["pattern"] = self.pattern
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class QueryParam(Param):
    source: ClassVar[str] = "query"


@dataclass(frozen=True)
class PathParam(Param):
    source: ClassVar[str] = "path"


@dataclass(frozen=True)
class HeaderParam(Param):
    source: ClassVar[str] = "header"


@dataclass(frozen=True)
class CookieParam(Param):
    source: ClassVar[str] = "cookie"


@dataclass(frozen=True)
class BodyParam(Param):
    source: ClassVar[str] = "body"


def Query(default: Any = MISSING, *, alias: str | None = None, **constraints: Any) -> Any:
    """A query-string parameter, optionally with a default."""
    return QueryParam(default, alias, **constraints)


def Path(*, alias: str | None = None, **constraints: Any) -> Any:
    """A path parameter (names matching a ``{placeholder}`` are path parameters anyway)."""
    return PathParam(MISSING, alias, **constraints)


def Header(default: Any = MISSING, *, alias: str | None = None, **constraints: Any) -> Any:
    """A request header; ``x_token`` reads ``x-token`` unless ``alias`` says otherwise."""
    return HeaderParam(default, alias, **constraints)


def Cookie(default: Any = MISSING, *, alias: str | None = None, **constraints: Any) -> Any:
    """A cookie value."""
    return CookieParam(default, alias, **constraints)


def Body(default: Any = MISSING, **constraints: Any) -> Any:
    """The JSON request body, decoded into the parameter's annotation."""
    return BodyParam(default, None, **constraints)
