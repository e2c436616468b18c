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
    """Exclusive lower bound (``exclusiveMinimum``)."""
    ge: float | None = None
    """Inclusive lower bound (``minimum``)."""
    lt: float | None = None
    """Exclusive upper bound (``exclusiveMaximum``)."""
    le: float | None = None
    """Inclusive upper bound (``maximum``)."""
    multiple_of: float | None = None
    """The value must be a multiple of this (``multipleOf``)."""
    min_length: int | None = None
    """Shortest string (``minLength``); on a list parameter, fewest items."""
    max_length: int | None = None
    """Longest string (``maxLength``); on a list parameter, most items."""
    pattern: str | None = None
    """Regular expression a string must match (``pattern``)."""
    min_items: int | None = None
    """Fewest items of a list parameter (``minItems``)."""
    max_items: int | None = None
    """Most items of a list parameter (``maxItems``)."""

    def constraints(self, schema_type: object) -> dict[str, Any]:
        """JSON Schema keywords for the constraints set on this marker.

        ``schema_type`` is the parameter's JSON type: on an ``"array"``
        ``min_length``/``max_length`` mean item counts, as in pydantic.
        """
        out: dict[str, Any] = {}
        for attr, key in _NUMERIC_KEYWORDS:
            value = getattr(self, attr)
            if value is not None:
                out[key] = value
        array = schema_type == "array"
        if self.min_length is not None:
            out["minItems" if array else "minLength"] = self.min_length
        if self.max_length is not None:
            out["maxItems" if array else "maxLength"] = self.max_length
        if self.min_items is not None:
            out["minItems"] = self.min_items
        if self.max_items is not None:
            out["maxItems"] = self.max_items
        if self.pattern is not None:
            out["pattern"] = self.pattern
        if self.description is not None:
            out["description"] = self.description
        return out


_NUMERIC_KEYWORDS = (
    ("gt", "exclusiveMinimum"),
    ("ge", "minimum"),
    ("lt", "exclusiveMaximum"),
    ("le", "maximum"),
    ("multiple_of", "multipleOf"),
)


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


def _required(default: Any) -> Any:
    # ``Query(...)``: FastAPI spells "required" with an Ellipsis.
    return MISSING if default is Ellipsis else default


def Query(default: Any = MISSING, *, alias: str | None = None, **constraints: Any) -> Any:
    """A query-string parameter, optionally with a default.

    ``limit: int = Query(default=10, ge=1)`` or ``Annotated[int, Query(ge=1)]``;
    the constraint keywords are the fields of :class:`Param`.
    """
    return QueryParam(_required(default), alias, **constraints)


def Path(default: Any = MISSING, *, alias: str | None = None, **constraints: Any) -> Any:
    """A path parameter (names matching a ``{placeholder}`` are path parameters anyway).

    A path parameter is always required: ``default`` is accepted for symmetry
    with the other markers and ignored.
    """
    return PathParam(MISSING, alias, **constraints)


def Header(default: Any = MISSING, *, alias: str | None = None, **constraints: Any) -> Any:
    """A request header; ``x_token`` reads ``x-token`` unless ``alias`` says otherwise."""
    return HeaderParam(_required(default), alias, **constraints)


def Cookie(default: Any = MISSING, *, alias: str | None = None, **constraints: Any) -> Any:
    """A cookie value; the cookie's name is the parameter's name unless ``alias`` is set."""
    return CookieParam(_required(default), alias, **constraints)


def Body(default: Any = MISSING, **constraints: Any) -> Any:
    """The JSON request body, decoded into the parameter's annotation."""
    return BodyParam(_required(default), None, **constraints)
