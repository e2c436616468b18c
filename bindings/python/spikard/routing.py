"""Routes: a handler's signature compiled into a route declaration and a call plan.

At registration each parameter of the handler gets a source:

* a name matching a ``{placeholder}`` of the path -> path parameter;
* an explicit marker (``Query()``, ``Path()``, ``Header()``, ``Cookie()``,
  ``Body()``, as default value or inside ``Annotated``) -> that source;
* an annotation ``Request`` -> the raw request (the route then asks the
  core for method, path, query and headers: ``"wants_request": true``);
* ``UploadFile``, ``list[UploadFile]`` (optionally ``| None``) -> the files
  of the multipart form field of that name (declared in the body schema as
  ``{"type": "string", "format": "binary"}``);
* a structured annotation (msgspec.Struct, dataclass, TypedDict, NamedTuple,
  attrs class, pydantic model, dict, ...) -> the JSON body;
* anything else (scalars, ``list[...]`` of scalars) -> query parameter.

A parameter's property in ``parameter_schema`` is named after the Python
parameter; a marker's ``alias`` is sent as ``"alias"`` (the wire name), and
without one the core reads header ``x_api_key`` as ``x-api-key``.
Constraints come from the marker's keywords and from ``Annotated``
metadata (``msgspec.Meta``, ``annotated_types``, pydantic ``Field``).

int/float/str/bool/UUID/date/datetime map to JSON Schema types and formats;
``Optional[T]``/``T | None`` or a default makes a parameter optional. The
core extracts, coerces and validates; per request the binding only decodes
the validated parameters with a cached msgspec Decoder of a Struct built for
the route, and the body with a cached Decoder of its type.

This module also holds the standalone decorators ``get``, ``post``, ...:
each handler registers on the app created in its own module, when that
app starts (none or several apps there is an error then, naming it).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import re
import typing
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from ._call import (
    Call,
    CallPlan,
    FileParam,
    RequestValidationError,
    is_upload_type,
    make_call,
)
from ._results import Rendered, make_renderer
from ._schema import (
    annotated_constraints,
    is_body_type,
    json_default,
    split_annotated,
    split_optional,
    type_schema,
)
from .auth import Claims
from .params import MISSING, Param
from .request import REQUEST_FACTS, Request
from .uploads import upload_from_descriptor
from .websockets import WebSocket

if TYPE_CHECKING:
    from ._sockets import WebSocketPlan
    from .app import Spikard

__all__ = [
    "ASYNC_LANE",
    "SYNC_LANE",
    "RequestValidationError",
    "Route",
    "StandaloneRouteError",
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
    "sse",
    "trace",
    "websocket",
]

ASYNC_LANE = 0
"""Lane of ``async def`` handlers: the asyncio loop of the thread that runs the app."""
SYNC_LANE = 1
"""Lane of plain ``def`` handlers: a pool of Python threads, one request each."""

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?\}")
_PLACEHOLDER_TYPES: dict[str, Any] = {"int": int, "uuid": __import__("uuid").UUID, "path": str}

Handler = Callable[..., Any]


class Route:
    """One compiled route: the declaration sent to the core and the call plan.

    ``call(event)`` turns a polled event into the handler's result (a
    coroutine for ``async def`` handlers); ``render(result)`` turns that into
    ``(status, headers, body)``.
    """

    __slots__ = (
        "call",
        "declaration",
        "handler",
        "is_async",
        "lane",
        "method",
        "path",
        "recompile",
        "render",
        "websocket",
    )

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
        if self.is_async:
            # Its Task can be cancelled when the exchange ends without the
            # answer (client gone, timeout, stop); a running def handler
            # cannot be stopped, so sync routes are told nothing.
            self.declaration["events"] = ["disconnect"]
        self.call = call
        self.render = render
        self.websocket: WebSocketPlan | None = None
        """How a WebSocket route runs its handler (see compile_websocket)."""
        self.recompile: Callable[..., Route] | None = None
        """compile_route again with ``exclude`` and ``call_target`` (spikard.di
        leaves injected parameters out), or None for a raw route."""

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


_BINARY: dict[str, Any] = {"type": "string", "format": "binary"}


def compile_route(
    method: str,
    path: str,
    handler: Handler,
    *,
    request_schema: dict[str, Any] | None = None,
    response_schema: dict[str, Any] | None = None,
    status_code: int = 200,
    exclude: frozenset[str] = frozenset(),
    call_target: Handler | None = None,
    summary: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    operation_id: str | None = None,
) -> Route:
    """Compile a handler's signature into a Route (see the module docstring).

    ``exclude`` names parameters left out (a WebSocket handler's message);
    ``call_target``, when given, is called with the arguments instead of
    the handler. ``summary``, ``description``, ``tags`` and
    ``operation_id`` are the OpenAPI operation's (see :func:`doc_keys`).
    """
    method = _method(method)
    placeholders = {m.group(1): m.group(2) for m in _PLACEHOLDER.finditer(path)}
    signature = inspect.signature(handler)
    hints = typing.get_type_hints(handler, include_extras=True)

    properties: dict[str, Any] = {}
    required: list[str] = []
    plan = CallPlan()

    for name, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or name in exclude:
            continue
        annotation = hints.get(name, Any)
        base, meta = split_annotated(annotation)
        marker: Param | None = next((m for m in meta if isinstance(m, Param)), None)
        extra_meta = [m for m in meta if not isinstance(m, Param)]
        default = param.default
        if isinstance(default, Param):
            marker, default = default, default.default
        elif default is inspect.Parameter.empty:
            default = MISSING
        if marker is not None and default is MISSING:
            default = marker.default

        inner, optional = split_optional(base)
        if inner is Request:
            plan.request_names.append(name)
            continue
        if inner is WebSocket:
            plan.websocket_names.append(name)
            continue
        if inner is Claims:
            plan.claims_names.append(name)
            continue
        is_file, many = is_upload_type(base)
        if is_file:
            if optional and default is MISSING:
                default = None
            plan.files.append(
                FileParam(name, many, default is MISSING, None if default is MISSING else default)
            )
            continue
        if marker is not None:
            source = marker.source
        elif name in placeholders:
            source = "path"
        elif (request_schema is not None and plan.body is None and base is Any) or is_body_type(
            base
        ):
            source = "body"
        else:
            source = "query"

        if source == "body":
            if plan.body is not None:
                raise TypeError(
                    f"{handler.__qualname__}: only one body parameter is supported "
                    f"({plan.body[0]!r} and {name!r})"
                )
            if optional and default is MISSING:
                default = None
            plan.body = (name, base, default)
            continue

        if inner is Any and name in placeholders:
            inner = _PLACEHOLDER_TYPES.get(placeholders[name] or "", str)
            annotation = inner
        if source == "path":
            default = MISSING
        if optional and default is MISSING:
            default = None

        schema = schema_of(inner, handler, name)
        schema.update(annotated_constraints(extra_meta, schema.get("type")))
        if marker is not None:
            schema.update(marker.constraints(schema.get("type")))
            if marker.alias:
                schema["alias"] = marker.alias
        schema["source"] = source
        if default is not MISSING and default is not None:
            ok, value = json_default(default)
            if ok:
                schema["default"] = value
        properties[name] = schema
        if default is MISSING:
            required.append(name)
        plan.fields.append((name, annotation, default))

    declaration: dict[str, Any] = {}
    if properties:
        parameter_schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            parameter_schema["required"] = required
        declaration["parameter_schema"] = parameter_schema
    if request_schema is not None:
        declaration["body_schema"] = request_schema
    elif plan.body is not None or plan.files:
        declaration["body_schema"] = _body_schema(plan, handler)
    if plan.request_names:
        declaration["facts"] = list(REQUEST_FACTS)
    elif plan.claims_names:
        declaration["facts"] = ["claims"]

    declaration.update(doc_keys(handler, summary, description, tags, operation_id, status_code))
    return_annotation = hints.get("return", inspect.Signature.empty)
    if response_schema is not None:
        declaration["response_schema"] = response_schema
    elif return_annotation is not inspect.Signature.empty and is_body_type(return_annotation):
        with contextlib.suppress(TypeError, ValueError):
            declaration["response_schema"] = type_schema(return_annotation)

    compiled = Route(
        method,
        path,
        handler,
        declaration,
        make_call(call_target if call_target is not None else handler, plan),
        make_renderer(return_annotation, status_code, owner=describe(handler)),
    )
    compiled.recompile = functools.partial(
        compile_route,
        method,
        path,
        handler,
        request_schema=request_schema,
        response_schema=response_schema,
        status_code=status_code,
    )
    return compiled


def doc_keys(
    handler: Handler | None,
    summary: str | None,
    description: str | None,
    tags: list[str] | None,
    operation_id: str | None,
    status_code: int = 200,
) -> dict[str, Any]:
    """The route document's keys only the OpenAPI document reads.

    Without ``summary``/``description`` the handler's docstring gives them:
    its first line is the summary, the rest (dedented) the description.
    ``status_code`` is sent when it is not 200. Values are checked here,
    naming the keyword, so a mistake surfaces at decoration.
    """
    doc = inspect.getdoc(handler) if handler is not None else None
    if doc:
        first, _, rest = doc.strip().partition("\n")
        if summary is None:
            summary = first.strip() or None
        if description is None:
            description = rest.strip() or None
    out: dict[str, Any] = {}
    for key, value in (("summary", summary), ("description", description)):
        if value is not None:
            if not isinstance(value, str):
                raise TypeError(f"{key}={value!r}: must be a str")
            out[key] = value
    if tags is not None:
        if isinstance(tags, str) or not all(isinstance(t, str) and t for t in tags):
            raise TypeError(f"tags={tags!r}: must be a list of non-empty str")
        if len(set(tags)) != len(tags):
            raise ValueError(f"tags={tags!r}: lists a tag twice")
        out["tags"] = list(tags)
    if operation_id is not None:
        if not isinstance(operation_id, str) or not operation_id:
            raise TypeError(f"operation_id={operation_id!r}: must be a non-empty str")
        out["operation_id"] = operation_id
    if status_code != 200:
        out["status_code"] = status_code
    return out


def _kwargs(**kwargs: Any) -> dict[str, Any]:
    return kwargs


def compile_websocket(
    path: str,
    handler: Handler,
    *,
    subprotocols: list[str] | None = None,
    message_schema: dict[str, Any] | None = None,
) -> Route:
    """A WebSocket route on ``GET path`` (see ``spikard._sockets``).

    A handler with a ``WebSocket`` parameter runs once per connection; any
    other handler runs once per message, which arrives in its first
    parameter that is no path parameter and has no marker, decoded by that
    parameter's annotation. Other parameters are path, query, header and
    cookie parameters as on any route.
    """
    from ._call import _body_decoder
    from ._sockets import WebSocketPlan

    if not inspect.iscoroutinefunction(handler):
        raise TypeError(f"@websocket({path!r}): {handler.__qualname__} must be an async def")
    placeholders = {m.group(1) for m in _PLACEHOLDER.finditer(path)}
    hints = typing.get_type_hints(handler, include_extras=True)
    params = inspect.signature(handler).parameters
    takes_socket = any(
        split_optional(split_annotated(hints.get(n, Any))[0])[0] is WebSocket for n in params
    )
    message: str | None = None
    decode: Callable[[str | bytes], Any] | None = None
    if message_schema is not None and (not takes_socket or not isinstance(message_schema, dict)):
        raise TypeError(
            f"@websocket({path!r}): message_schema is a JSON Schema dict for a handler "
            "with a WebSocket parameter (a message handler's schema is its annotation's)"
        )
    if not takes_socket:
        for name, param in params.items():
            annotation, meta = split_annotated(hints.get(name, Any))
            if name in placeholders or isinstance(param.default, Param):
                continue
            if any(isinstance(m, Param) for m in meta) or split_optional(annotation)[0] is Request:
                continue
            message = name
            decode = _message_decoder(annotation, _body_decoder)
            message_schema = _message_schema(annotation, handler, name)
            break
        if message is None:
            raise TypeError(
                f"@websocket({path!r}): {handler.__qualname__} takes neither a message "
                "parameter nor a WebSocket parameter"
            )
    route = compile_route(
        "GET",
        path,
        handler,
        exclude=frozenset({message} if message else ()),
        call_target=_kwargs,
    )
    route.declaration.pop("response_schema", None)
    declared: dict[str, Any] = {}
    if subprotocols:
        declared["subprotocols"] = list(subprotocols)
    if message_schema is not None:
        declared["message_schema"] = message_schema
    route.declaration["websocket"] = declared or True
    facts = route.declaration.get("facts", [])
    route.declaration["facts"] = facts if "meta" in facts else ["meta", *facts]
    route.websocket = WebSocketPlan(handler, message, decode)
    return route


def _message_schema(annotation: Any, handler: Handler, parameter: str) -> dict[str, Any] | None:
    """The JSON Schema the core checks every message against (closing with
    1007 at the first that fails), or None for ``str`` and ``bytes``
    messages, which are taken as they come."""
    inner, optional = split_optional(annotation)
    if inner in (str, bytes):
        return None
    schema = schema_of(inner, handler, parameter)
    return {"anyOf": [schema, {"type": "null"}]} if optional else schema


def _message_decoder(
    annotation: Any, body_decoder: Callable[[Any], Callable[[Any], Any]]
) -> Callable[[str | bytes], Any]:
    """A message handler's decoding of one message, by its annotation."""
    inner, optional = split_optional(annotation)
    if inner is bytes:
        return lambda raw: raw if isinstance(raw, bytes) else raw.encode()
    if inner is str:
        return lambda raw: raw if isinstance(raw, str) else raw.decode()
    decode = body_decoder(inner)
    if not optional:
        return decode

    def decode_optional(raw: str | bytes) -> Any:
        return None if raw in ("null", b"null") else decode(raw)

    return decode_optional


def route_shape(path: str) -> str:
    """A path with its parameter names blanked: two routes of one shape
    (``/users/{id}`` and ``/users/{user_id}``) match the same requests."""
    return _PLACEHOLDER.sub(lambda m: "{" + (m.group(2) or "") + "}", path)


def describe(handler: Handler) -> str:
    """A handler as an error message names it: where it is defined."""
    name = f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)}"
    code = getattr(inspect.unwrap(handler), "__code__", None)
    if code is None:
        return name
    return f"{name} ({code.co_filename}:{code.co_firstlineno})"


def schema_of(annotation: Any, handler: Handler, parameter: str) -> dict[str, Any]:
    """The JSON Schema of a parameter's type, or a TypeError naming the
    handler and the parameter (not the schema library's internals)."""
    try:
        return type_schema(annotation)
    except (TypeError, ValueError) as exc:
        shown = getattr(annotation, "__qualname__", None) or repr(annotation)
        raise TypeError(
            f"{describe(handler)}: parameter {parameter!r}: spikard cannot validate the type "
            f"{shown}: annotate it with a msgspec Struct, a dataclass, a TypedDict, a "
            "NamedTuple, an attrs class, a pydantic model, or a standard type "
            f"(int, str, list[...], ...){_reason(exc)}"
        ) from None


def _reason(exc: Exception) -> str:
    """The last line of a library's message, where it names the type."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return f" ({lines[-1].strip()})" if lines else ""


def _body_schema(plan: CallPlan, handler: Handler) -> dict[str, Any]:
    """The body's JSON Schema; file parameters add ``format: binary`` fields.

    Files travel as multipart/form-data, so a route with file parameters
    declares one object whose file fields are ``{"type": "string",
    "format": "binary"}`` (arrays of them for ``list[UploadFile]``), beside
    the plain form fields of the body parameter's type, if any.
    """
    schema: dict[str, Any] = {}
    optional = False
    if plan.body is not None:
        inner, optional = split_optional(plan.body[1])
        schema = schema_of(inner, handler, plan.body[0])
        if optional and not plan.files:
            return {"anyOf": [schema, {"type": "null"}]}
    if not plan.files:
        return schema
    schema = dict(schema)
    schema["type"] = "object"
    props = dict(schema.get("properties", {}))
    # An optional form model: its fields may all be absent.
    required = [] if optional else list(schema.get("required", []))
    for fp in plan.files:
        props[fp.name] = {"type": "array", "items": dict(_BINARY)} if fp.many else dict(_BINARY)
        if fp.required:
            required.append(fp.name)
    schema["properties"] = props
    if required:
        schema["required"] = required
    return schema


def raw_route(
    method: str,
    path: str,
    handler: Handler,
    *,
    body_schema: dict[str, Any] | None = None,
    parameter_schema: dict[str, Any] | None = None,
    response_schema: dict[str, Any] | None = None,
    file_params: dict[str, Any] | None = None,
    summary: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    operation_id: str | None = None,
    status_code: int = 200,
) -> Route:
    """A route from explicit schemas: validated parameters reach the handler as
    keyword arguments (JSON values), the decoded JSON body as ``body``.
    ``summary``, ``description``, ``tags``, ``operation_id`` and
    ``status_code`` are for the OpenAPI document only (no docstring is read
    here: the arguments say it all).

    For a multipart body, the fields ``body_schema`` declares with
    ``"format": "binary"`` (or arrays of them), and the fields named in
    ``file_params``, arrive in ``body`` as UploadFile objects (lists for
    arrays or several files).
    """
    declaration: dict[str, Any] = {}
    if parameter_schema is not None:
        declaration["parameter_schema"] = parameter_schema
    if body_schema is not None:
        declaration["body_schema"] = body_schema
    if response_schema is not None:
        declaration["response_schema"] = response_schema
    if file_params is not None:
        declaration["file_params"] = file_params
    declaration.update(doc_keys(None, summary, description, tags, operation_id, status_code))
    decode = msgspec.json.decode
    if _binary_fields(body_schema) or file_params:
        # The core says which fields hold upload descriptors.
        declaration["facts"] = ["uploads"]

    def call(ev: tuple[Any, ...]) -> Any:
        params, raw = ev[2], ev[3]
        kwargs = decode(params) if params else {}
        if body_schema is not None or raw is not None:
            body = decode(raw) if raw is not None else None
            facts = ev[6]
            if facts is not None and isinstance(body, dict) and ev[5] is not None:
                view = memoryview(ev[5])
                for pointer in facts[2]:
                    _bind_upload(body, pointer, view)
            kwargs["body"] = body
        return handler(**kwargs)

    annotation = typing.get_type_hints(handler).get("return", inspect.Signature.empty)
    return Route(_method(method), path, handler, declaration, call, make_renderer(annotation, 200))


def _binary_fields(schema: dict[str, Any] | None) -> set[str]:
    """Names of the top-level properties a schema declares as files."""
    out: set[str] = set()
    if not isinstance(schema, dict):
        return out
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        items = prop.get("items") if prop.get("type") == "array" else prop
        if isinstance(items, dict) and items.get("format") == "binary":
            out.add(name)
    return out


def _bind_upload(body: dict[str, Any], pointer: str, view: memoryview) -> None:
    """Replace the descriptor(s) a JSON Pointer of the ``uploads`` fact names
    with UploadFile objects."""
    keys = [k.replace("~1", "/").replace("~0", "~") for k in pointer[1:].split("/")]
    parent: Any = body
    for key in keys[:-1]:
        parent = parent[int(key)] if isinstance(parent, list) else parent[key]
    last: Any = int(keys[-1]) if isinstance(parent, list) else keys[-1]
    parent[last] = _uploads(parent[last], view)


def _uploads(value: Any, view: memoryview) -> Any:
    """An upload field's descriptor, or list of them, as UploadFile objects."""
    if isinstance(value, list):
        return [upload_from_descriptor(v, view) for v in value]
    return upload_from_descriptor(value, view)


# -- standalone decorators -------------------------------------------------
#
# A standalone-decorated handler belongs to the app created in the module
# that defines it (``handler.__module__``): the decorator only records it,
# and the app claims it when it starts (``run()``, ``serve_in_background()``,
# a TestClient), so the decorator may come before or after ``app =
# Spikard()``. A handler whose module created no app, or several live ones,
# cannot be placed: starting any app raises StandaloneRouteError naming it,
# rather than the route going missing or landing on the wrong app.


class StandaloneRouteError(RuntimeError):
    """A standalone-decorated handler whose module created no Spikard app, or
    more than one (raised when an app starts, naming each such handler)."""


class _Standalone:
    """One standalone decoration, waiting for its module's app."""

    __slots__ = ("handler", "kind", "kwargs", "method", "path")

    def __init__(
        self, kind: str, method: str, path: str, handler: Handler, kwargs: dict[str, Any]
    ) -> None:
        self.kind, self.method, self.path = kind, method, path
        self.handler, self.kwargs = handler, kwargs

    def apply(self, app: Spikard) -> None:
        if self.kind == "sse":
            app.sse(self.path, **self.kwargs)(self.handler)
        elif self.kind == "websocket":
            app.websocket(self.path, **self.kwargs)(self.handler)
        else:
            app.route(self.method, self.path, **self.kwargs)(self.handler)

    def __str__(self) -> str:
        where = f"{getattr(self.handler, '__module__', '?')}.{self.handler.__qualname__}"
        name = self.kind if self.kind != "route" else self.method.lower()
        return f"@{name}({self.path!r}) on {where}"


# module name -> the decorations waiting for that module's app, in order.
_pending: dict[str, list[_Standalone]] = {}
# module name -> the apps created in it (weakly: an app gone cannot claim).
_apps: dict[str, list[weakref.ref[Spikard]]] = {}


def register_app(app: Spikard, module: str) -> None:
    """Note that ``app`` was created in ``module`` (called by Spikard())."""
    refs = [r for r in _apps.get(module, []) if r() is not None]
    refs.append(weakref.ref(app))
    _apps[module] = refs


def _apps_of(module: str) -> list[Spikard]:
    return [a for r in _apps.get(module, []) if (a := r()) is not None]


def claim_standalone(app: Spikard) -> None:
    """Register on ``app`` the standalone handlers of the module it was created
    in; raise StandaloneRouteError for every waiting handler that no app can
    take (its module created no app, or several)."""
    problems: list[str] = []
    for module in list(_pending):
        apps = _apps_of(module)
        if len(apps) == 1:
            if apps[0] is app:
                entries = _pending.pop(module)
                while entries:
                    entries.pop(0).apply(app)
            continue
        why = (
            f"its module {module!r} created no Spikard app"
            if not apps
            else f"its module {module!r} created {len(apps)} Spikard apps: which one is ambiguous"
        )
        problems.extend(f"{entry}: {why}" for entry in _pending[module])
    if problems:
        raise StandaloneRouteError(
            "standalone route decorators register on the one app created in the "
            "handler's module; use the app's own decorator (@app.get, ...) or a "
            "Router with app.include_router for the others:\n  " + "\n  ".join(problems)
        )


def forget_standalone(module: str) -> None:
    """Drop the waiting handlers and the apps of ``module`` (for tests that
    build modules of their own)."""
    _pending.pop(module, None)
    _apps.pop(module, None)


def _defer(entry: _Standalone) -> Handler:
    module = getattr(entry.handler, "__module__", None) or "?"
    _pending.setdefault(module, []).append(entry)
    return entry.handler


def route(method: str, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    """Register on the app created in the handler's module, when that app
    starts (see ``Spikard.route`` for the keywords)."""

    def decorator(handler: Handler) -> Handler:
        return _defer(_Standalone("route", method.upper(), path, handler, kwargs))

    return decorator


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


def sse(path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    """Server-sent events on the app created in the handler's module (see
    ``Spikard.sse``)."""

    def decorator(handler: Handler) -> Handler:
        return _defer(_Standalone("sse", "GET", path, handler, kwargs))

    return decorator


def websocket(path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
    """A WebSocket route on the app created in the handler's module (see
    ``Spikard.websocket``)."""

    def decorator(handler: Handler) -> Handler:
        return _defer(_Standalone("websocket", "GET", path, handler, kwargs))

    return decorator
