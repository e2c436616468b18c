"""Routes: a handler's signature compiled into a route declaration and a call plan.

At registration each parameter of the handler gets a source:

* a name matching a ``{placeholder}`` of the path -> path parameter;
* an explicit marker (``Query()``, ``Path()``, ``Header()``, ``Cookie()``,
  ``Body()``, as default value or inside ``Annotated``) -> that source;
* a structured annotation (msgspec.Struct, dataclass, TypedDict, pydantic
  model, dict, ...) -> the JSON body;
* anything else (scalars, ``list[...]`` of scalars) -> query parameter.

int/float/str/bool/UUID/date/datetime map to JSON Schema types and formats;
``Optional[T]``/``T | None`` or a default makes a parameter optional. The
core extracts, coerces and validates; per request the binding only decodes
the validated parameters with a cached msgspec Decoder of a Struct built for
the route, and the body with a cached Decoder of its type.

This module also holds the standalone decorators ``get``, ``post``, ...,
which register on the most recently created ``Spikard`` app.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import json
import re
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec.structs import asdict

from ._results import Rendered, make_renderer
from ._schema import (
    is_body_type,
    is_pydantic_model,
    json_default,
    split_annotated,
    split_optional,
    type_schema,
)
from .params import MISSING, Param, PathParam

if TYPE_CHECKING:
    from .app import Spikard

__all__ = [
    "ASYNC_LANE",
    "SYNC_LANE",
    "RequestValidationError",
    "Route",
    "compile_route",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "raw_route",
    "route",
    "trace",
]

ASYNC_LANE = 0
"""Lane of ``async def`` handlers: the asyncio loop of the thread that runs the app."""
SYNC_LANE = 1
"""Lane of plain ``def`` handlers: a pool of Python threads, one request each."""

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?\}")
_PLACEHOLDER_TYPES: dict[str, Any] = {"int": int, "uuid": __import__("uuid").UUID, "path": str}

Handler = Callable[..., Any]
Call = Callable[[bytes, "bytes | None", Any], Any]


class RequestValidationError(Exception):
    """A body the core let through but the handler's type rejects (422)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.body = json.dumps(
            {
                "type": "https://spikard.dev/errors/validation-error",
                "title": "Request Validation Failed",
                "status": 422,
                "detail": message,
            }
        ).encode()


class Route:
    """One compiled route: the declaration sent to the core and the call plan."""

    __slots__ = ("call", "declaration", "handler", "is_async", "lane", "method", "path", "render")

    def __init__(
        self,
        method: str,
        path: str,
        handler: Handler,
        declaration: dict[str, Any],
        call: Call,
        render: Callable[[Any], Rendered],
    ) -> None:
        self.method = method
        self.path = path
        self.handler = handler
        self.is_async = inspect.iscoroutinefunction(handler)
        self.lane = ASYNC_LANE if self.is_async else SYNC_LANE
        self.declaration = {"method": method, "path": path, "lane": self.lane, **declaration}
        self.call = call
        self.render = render

    def route_json(self) -> bytes:
        """The route document of ``spikard_app_add_route``."""
        return json.dumps(self.declaration, separators=(",", ":")).encode()

    def __repr__(self) -> str:
        return f"Route({self.method} {self.path} -> {self.handler.__qualname__})"


def _method(method: str) -> str:
    upper = method.upper()
    if upper not in METHODS:
        raise ValueError(f"unsupported HTTP method {method!r}; expected one of {METHODS}")
    return upper


def _mutable_default(value: Any) -> Any:
    if isinstance(value, (list, dict, set, bytearray)):
        return msgspec.field(default_factory=functools.partial(copy.copy, value))
    return value


def _body_decoder(tp: Any) -> Callable[[bytes], Any]:
    if tp is Any or tp is inspect.Signature.empty:
        return msgspec.json.decode
    if is_pydantic_model(tp):
        return typing.cast(Callable[[bytes], Any], tp.model_validate_json)
    return msgspec.json.Decoder(tp).decode


def compile_route(
    method: str,
    path: str,
    handler: Handler,
    *,
    request_schema: dict[str, Any] | None = None,
    response_schema: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Route:
    """Compile a handler's signature into a Route (see the module docstring)."""
    method = _method(method)
    placeholders = {m.group(1): m.group(2) for m in _PLACEHOLDER.finditer(path)}
    signature = inspect.signature(handler)
    hints = typing.get_type_hints(handler, include_extras=True)

    properties: dict[str, Any] = {}
    required: list[str] = []
    fields: list[tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    body: tuple[str, Any, Any] | None = None  # (name, type, default)

    for name, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(name, Any)
        base, meta = split_annotated(annotation)
        marker: Param | None = next((m for m in meta if isinstance(m, Param)), None)
        default = param.default
        if isinstance(default, Param):
            marker, default = default, default.default
        elif default is inspect.Parameter.empty:
            default = MISSING
        if marker is not None and default is MISSING:
            default = marker.default

        inner, optional = split_optional(base)
        if marker is not None:
            source = marker.source
        elif name in placeholders:
            source = "path"
        elif (request_schema is not None and body is None and base is Any) or is_body_type(base):
            source = "body"
        else:
            source = "query"

        if source == "body":
            if body is not None:
                raise TypeError(
                    f"{handler.__qualname__}: only one body parameter is supported "
                    f"({body[0]!r} and {name!r})"
                )
            if optional and default is MISSING:
                default = None
            body = (name, base, default)
            continue

        if inner is Any and name in placeholders:
            inner = _PLACEHOLDER_TYPES.get(placeholders[name] or "", str)
            annotation = inner
        key = marker.alias if marker is not None and marker.alias else name
        if source == "header" and not (marker and marker.alias):
            key = name.replace("_", "-")
        if isinstance(marker, PathParam) or source == "path":
            default = MISSING
        if optional and default is MISSING:
            default = None

        schema = type_schema(inner)
        if marker is not None:
            schema.update(marker.constraints(schema.get("type")))
        schema["source"] = source
        if default is not MISSING and default is not None:
            ok, value = json_default(default)
            if ok:
                schema["default"] = value
        properties[key] = schema
        if default is MISSING:
            required.append(key)
        fields.append((name, annotation, MISSING if default is MISSING else default))
        if key != name:
            rename[name] = key

    declaration: dict[str, Any] = {}
    if properties:
        parameter_schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            parameter_schema["required"] = required
        declaration["parameter_schema"] = parameter_schema
    if request_schema is not None:
        declaration["body_schema"] = request_schema
    elif body is not None:
        declaration["body_schema"] = type_schema(split_optional(body[1])[0])

    return_annotation = hints.get("return", inspect.Signature.empty)
    if response_schema is not None:
        declaration["response_schema"] = response_schema
    elif return_annotation is not inspect.Signature.empty and is_body_type(return_annotation):
        with contextlib.suppress(TypeError, ValueError):
            declaration["response_schema"] = type_schema(return_annotation)

    call = _make_call(handler, fields, rename, body)
    return Route(
        method, path, handler, declaration, call, make_renderer(return_annotation, status_code)
    )


def _make_call(
    handler: Handler,
    fields: list[tuple[str, Any, Any]],
    rename: dict[str, str],
    body: tuple[str, Any, Any] | None,
) -> Call:
    """The per-request function: validated bytes in, handler result out."""
    params_decode: Callable[[bytes], Any] | None = None
    if fields:
        struct_fields = [
            (n, t) if d is MISSING else (n, t, _mutable_default(d)) for n, t, d in fields
        ]
        params_type = msgspec.defstruct(
            f"{getattr(handler, '__name__', 'handler')}_params",
            struct_fields,
            kw_only=True,
            rename=rename or None,
        )
        params_decode = msgspec.json.Decoder(params_type, strict=False).decode

    if body is None:
        if params_decode is None:
            return lambda params, raw, meta: handler()
        decode = params_decode
        return lambda params, raw, meta: handler(**asdict(decode(params or b"{}")))

    body_name, body_type, body_default = body
    body_decode = _body_decoder(split_optional(body_type)[0])

    def decode_body(raw: bytes | None) -> Any:
        if raw is None:
            if body_default is not MISSING:
                return body_default
            raise RequestValidationError("request body is required")
        try:
            return body_decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
            raise RequestValidationError(str(exc)) from exc

    if params_decode is None:
        return lambda params, raw, meta: handler(**{body_name: decode_body(raw)})
    pdecode = params_decode

    def call(params: bytes, raw: bytes | None, meta: Any) -> Any:
        kwargs = asdict(pdecode(params or b"{}"))
        kwargs[body_name] = decode_body(raw)
        return handler(**kwargs)

    return call


def raw_route(
    method: str,
    path: str,
    handler: Handler,
    *,
    body_schema: dict[str, Any] | None = None,
    parameter_schema: dict[str, Any] | None = None,
    response_schema: dict[str, Any] | None = None,
    file_params: dict[str, Any] | None = None,
) -> Route:
    """A route from explicit schemas: validated parameters reach the handler as
    keyword arguments (JSON values), the decoded JSON body as ``body``."""
    del file_params  # multipart uploads are not supported by the core yet
    declaration: dict[str, Any] = {}
    if parameter_schema is not None:
        declaration["parameter_schema"] = parameter_schema
    if body_schema is not None:
        declaration["body_schema"] = body_schema
    if response_schema is not None:
        declaration["response_schema"] = response_schema
    decode = msgspec.json.decode

    def call(params: bytes, raw: bytes | None, meta: Any) -> Any:
        kwargs = decode(params) if params else {}
        if body_schema is not None or raw is not None:
            kwargs["body"] = decode(raw) if raw is not None else None
        return handler(**kwargs)

    annotation = typing.get_type_hints(handler).get("return", inspect.Signature.empty)
    return Route(_method(method), path, handler, declaration, call, make_renderer(annotation, 200))


# -- standalone decorators -------------------------------------------------

_current_app: Spikard | None = None


def set_current_app(app: Spikard) -> None:
    """Make ``app`` the target of the standalone decorators (called by Spikard())."""
    global _current_app
    _current_app = app


def current_app() -> Spikard:
    if _current_app is None:
        raise RuntimeError("create a Spikard() app before using the standalone route decorators")
    return _current_app


def route(method: str, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    """Register on the most recently created app (see ``Spikard.route``)."""
    return current_app().route(method, path, **kwargs)


def get(path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    return route("GET", path, **kwargs)


def post(path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    return route("POST", path, **kwargs)


def put(path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    return route("PUT", path, **kwargs)


def patch(path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    return route("PATCH", path, **kwargs)


def delete(path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    return route("DELETE", path, **kwargs)


def head(path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    return route("HEAD", path, **kwargs)


def options(path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    return route("OPTIONS", path, **kwargs)


def trace(path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    return route("TRACE", path, **kwargs)
