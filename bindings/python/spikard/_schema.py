"""Python types to JSON Schema, and the type questions the route compiler asks."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import types
import typing
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

__all__ = [
    "annotated_constraints",
    "is_body_type",
    "is_pydantic_model",
    "json_default",
    "split_annotated",
    "split_optional",
    "type_schema",
]

_SCALARS: frozenset[Any] = frozenset(
    {
        int,
        float,
        str,
        bool,
        uuid.UUID,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        decimal.Decimal,
        bytes,
    }
)
_SEQUENCES = frozenset({list, set, frozenset, tuple, typing.Sequence, typing.List, typing.Set})  # noqa: UP006


def split_annotated(tp: Any) -> tuple[Any, list[Any]]:
    """``Annotated[T, *meta]`` -> ``(T, meta)``; other types -> ``(tp, [])``."""
    if get_origin(tp) is Annotated:
        base, *meta = get_args(tp)
        return base, meta
    return tp, []


def split_optional(tp: Any) -> tuple[Any, bool]:
    """``T | None`` -> ``(T, True)``; other types -> ``(tp, False)``."""
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) < len(get_args(tp)):
            inner = args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007
            return inner, True
    return tp, False


def is_pydantic_model(tp: Any) -> bool:
    return (
        isinstance(tp, type) and hasattr(tp, "model_validate_json") and hasattr(tp, "model_fields")
    )


def _is_scalar(tp: Any) -> bool:
    tp = split_annotated(tp)[0]
    if tp in _SCALARS or get_origin(tp) is Literal:
        return True
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def is_body_type(tp: Any) -> bool:
    """Whether an annotation names a request body rather than a query parameter.

    Scalars and sequences of scalars are query parameters; structured types
    (Struct, dataclass, TypedDict, NamedTuple, attrs, pydantic, dict) and
    sequences of them are bodies.
    """
    tp, _ = split_optional(split_annotated(tp)[0])
    if tp is Any or _is_scalar(tp):
        return False
    origin = get_origin(tp)
    if origin in _SEQUENCES or tp in _SEQUENCES:
        args = get_args(tp)
        return bool(args) and not all(_is_scalar(a) or a is Ellipsis for a in args)
    if origin is Union or origin is types.UnionType:
        return any(is_body_type(a) for a in get_args(tp))
    if isinstance(tp, type):
        return (
            issubclass(tp, (msgspec.Struct, dict, Mapping))
            or dataclasses.is_dataclass(tp)
            or is_pydantic_model(tp)
            or hasattr(tp, "__attrs_attrs__")
            or (issubclass(tp, tuple) and hasattr(tp, "_fields"))
            or typing.is_typeddict(tp)
        )
    return origin in (dict, Mapping) or typing.is_typeddict(tp)


def type_schema(tp: Any) -> dict[str, Any]:
    """The JSON Schema of a type, with ``$defs`` inlined when not recursive."""
    if tp is Any:
        return {}
    if is_pydantic_model(tp):
        schema = tp.model_json_schema(ref_template="#/$defs/{model}")
    else:
        schema = msgspec.json.schema(tp)
    return inline_refs(schema)


class _Recursive(Exception):
    pass


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace ``#/$defs/...`` references by their definitions.

    A recursive definition cannot be inlined; then the document keeps its
    ``$defs`` and references as they are.
    """
    defs = schema.get("$defs")
    if not defs:
        return schema
    body = {k: v for k, v in schema.items() if k != "$defs"}
    try:
        return typing.cast(dict[str, Any], _resolve(body, defs, ()))
    except _Recursive:
        return schema


def _resolve(node: Any, defs: dict[str, Any], stack: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, defs, stack) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/") :]
        if name in stack:
            raise _Recursive(name)
        target = dict(_resolve(defs[name], defs, (*stack, name)))
        target.update({k: _resolve(v, defs, stack) for k, v in node.items() if k != "$ref"})
        return target
    return {k: _resolve(v, defs, stack) for k, v in node.items()}


def json_default(value: Any) -> tuple[bool, Any]:
    """``(True, json_value)`` if a default can be shown in a schema."""
    try:
        return True, msgspec.to_builtins(value)
    except (TypeError, ValueError):
        return False, None


_CONSTRAINT_ATTRS = (
    ("gt", "exclusiveMinimum"),
    ("ge", "minimum"),
    ("lt", "exclusiveMaximum"),
    ("le", "maximum"),
    ("multiple_of", "multipleOf"),
    ("pattern", "pattern"),
)


def annotated_constraints(meta: list[Any], schema_type: object) -> dict[str, Any]:
    """JSON Schema keywords for constraint objects found in ``Annotated`` metadata.

    Understands ``msgspec.Meta``, ``annotated_types`` (``Ge``, ``Interval``,
    ``Len``, ``MultipleOf``, ...) and pydantic ``Field(...)`` (through its
    ``metadata``), by the attribute names they share. On an ``"array"`` the
    length bounds mean item counts.
    """
    out: dict[str, Any] = {}
    for item in meta:
        nested = getattr(item, "metadata", None)
        if isinstance(nested, list) and not isinstance(item, type):
            out.update(annotated_constraints(nested, schema_type))
        for attr, key in _CONSTRAINT_ATTRS:
            value = getattr(item, attr, None)
            if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                out[key] = value
        array = schema_type == "array"
        for attr, key, array_key in (
            ("min_length", "minLength", "minItems"),
            ("max_length", "maxLength", "maxItems"),
        ):
            value = getattr(item, attr, None)
            if isinstance(value, int) and not isinstance(value, bool):
                out[array_key if array else key] = value
        description = getattr(item, "description", None)
        if isinstance(description, str):
            out["description"] = description
    return out
