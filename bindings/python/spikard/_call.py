"""Call plans: the per-request function from a core event to the handler's result.

An event is the tuple ``Poller.poll`` returns: ``(exchange, route, params,
body, meta)`` and, once the core parses forms, a sixth element
``attachments`` (the raw body of a multipart request, which file
descriptors point into). Everything that can be decided at registration is
decided here, once: the msgspec Decoders (of the route's parameter Struct
and of the body type) are built and cached in the closures, and the common
shapes (no arguments, parameters only, body only, both) get a closure of
their own so a request does only the work its route needs.
"""

from __future__ import annotations

import functools
import inspect
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec.structs import asdict

from ._schema import is_pydantic_model, split_optional
from .params import MISSING
from .request import Request, claims_of
from .uploads import UploadFile, upload_from_descriptor

__all__ = ["Call", "CallPlan", "FileParam", "RequestValidationError", "make_call"]

Event = tuple[Any, ...]
Call = Callable[[Event], Any]


class RequestValidationError(Exception):
    """Data the core let through but the handler's type rejects (422).

    ``description`` is what the core renders the 422 problem document from
    (SPIKARD_RESPONSE_PROBLEM): the binding never writes error JSON itself.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.description = json.dumps({"detail": message}).encode()


_DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError, ValueError)


@dataclass(frozen=True)
class FileParam:
    """A handler parameter that receives uploaded files of one form field."""

    name: str
    many: bool  # list[UploadFile]
    required: bool
    default: Any = None


@dataclass
class CallPlan:
    """What a handler needs per request, as compiled from its signature."""

    fields: list[tuple[str, Any, Any]] = field(default_factory=list)
    """(python name, annotation, default or MISSING) of the JSON ``params``."""
    body: tuple[str, Any, Any] | None = None
    """(python name, annotation, default or MISSING) of the body parameter."""
    request_names: list[str] = field(default_factory=list)
    """Parameters annotated ``Request``."""
    claims_names: list[str] = field(default_factory=list)
    """Parameters annotated ``Claims``: the verified JWT claims, or None."""
    websocket_names: list[str] = field(default_factory=list)
    """Parameters annotated ``WebSocket``: the event's eighth element."""
    files: list[FileParam] = field(default_factory=list)


def _mutable_default(value: Any) -> Any:
    if isinstance(value, (list, dict, set, bytearray)):
        return msgspec.field(default_factory=functools.partial(_copy, value))
    return value


def _copy(value: Any) -> Any:
    return type(value)(value)


def _body_decoder(tp: Any) -> Callable[[bytes], Any]:
    if tp is Any or tp is inspect.Signature.empty:
        return msgspec.json.decode
    if is_pydantic_model(tp):
        return typing.cast(Callable[[bytes], Any], tp.model_validate_json)
    return msgspec.json.Decoder(tp).decode


def _struct_decoder(handler: Any, fields: list[tuple[str, Any, Any]]) -> Callable[[bytes], Any]:
    """The cached Decoder of a Struct with one field per parameter."""
    struct_fields = [(n, t) if d is MISSING else (n, t, _mutable_default(d)) for n, t, d in fields]
    params_type = msgspec.defstruct(
        f"{getattr(handler, '__name__', 'handler')}_params", struct_fields, kw_only=True
    )
    return msgspec.json.Decoder(params_type, strict=False).decode


def _params_decoder(handler: Any, fields: list[tuple[str, Any, Any]]) -> Callable[[bytes], Any]:
    decode = _struct_decoder(handler, fields)

    def decode_params(raw: bytes) -> dict[str, Any]:
        try:
            return asdict(decode(raw or b"{}"))
        except _DECODE_ERRORS as exc:
            raise RequestValidationError(str(exc)) from exc

    return decode_params


def make_call(handler: Any, plan: CallPlan) -> Call:
    """The per-request function for ``handler`` (see the module docstring)."""
    decode_params = _params_decoder(handler, plan.fields) if plan.fields else None
    decode_body = _make_body_decoder(plan.body) if plan.body is not None else None
    body_name = plan.body[0] if plan.body is not None else ""

    if (
        not plan.request_names
        and not plan.files
        and not plan.websocket_names
        and not plan.claims_names
    ):
        if decode_params is None and decode_body is None:
            return lambda ev: handler()
        if decode_body is None:
            # The hottest shape: one frame, the Decoder called inline.
            decode = _struct_decoder(handler, plan.fields)

            def call_params(ev: Event) -> Any:
                try:
                    kwargs = asdict(decode(ev[2] or b"{}"))
                except _DECODE_ERRORS as exc:
                    raise RequestValidationError(str(exc)) from exc
                return handler(**kwargs)

            return call_params
        db = decode_body
        if decode_params is None:
            return lambda ev: handler(**{body_name: db(ev[3])})
        dp = decode_params

        def call_params_body(ev: Event) -> Any:
            kwargs = dp(ev[2])
            kwargs[body_name] = db(ev[3])
            return handler(**kwargs)

        return call_params_body

    request_names = tuple(plan.request_names)
    claims_names = tuple(plan.claims_names)
    websocket_names = tuple(plan.websocket_names)
    files = tuple(plan.files)
    form_body = plan.body if files else None
    form_convert = _form_converter(form_body) if form_body is not None else None

    def call(ev: Event) -> Any:
        kwargs: dict[str, Any] = decode_params(ev[2]) if decode_params is not None else {}
        raw = ev[3]
        if files:
            form = _decode_form(raw)
            attachments = ev[5]
            _bind_files(kwargs, files, form, attachments)
            if form_convert is not None:
                kwargs[body_name] = form_convert(form)
        elif decode_body is not None:
            kwargs[body_name] = decode_body(raw)
        if request_names:
            request = Request.from_event(ev[4], ev[6], raw)
            for name in request_names:
                kwargs[name] = request
        if claims_names:
            claims = claims_of(ev[4])
            for name in claims_names:
                kwargs[name] = claims
        for name in websocket_names:
            kwargs[name] = ev[7]
        return handler(**kwargs)

    return call


def _make_body_decoder(body: tuple[str, Any, Any]) -> Callable[[bytes | None], Any]:
    _, body_type, body_default = body
    inner, optional = split_optional(body_type)
    decode = _body_decoder(inner)

    def decode_body(raw: bytes | None) -> Any:
        if raw is None or (optional and raw == b"null"):
            if body_default is not MISSING:
                return body_default
            if optional:
                return None
            raise RequestValidationError("request body is required")
        try:
            return decode(raw)
        except _DECODE_ERRORS as exc:
            raise RequestValidationError(str(exc)) from exc

    return decode_body


def _decode_form(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        form = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise RequestValidationError(f"form body: {exc}") from exc
    if not isinstance(form, dict):
        raise RequestValidationError("form body must be an object")
    return form


def _form_converter(body: tuple[str, Any, Any]) -> Callable[[dict[str, Any]], Any]:
    """The non-file form fields converted into the body parameter's type."""
    _, body_type, _ = body
    target = split_optional(body_type)[0]
    if is_pydantic_model(target):
        return typing.cast(Callable[[dict[str, Any]], Any], target.model_validate)

    def convert(form: dict[str, Any]) -> Any:
        try:
            return msgspec.convert(form, target, strict=False)
        except _DECODE_ERRORS as exc:
            raise RequestValidationError(str(exc)) from exc

    return convert


def _bind_files(
    kwargs: dict[str, Any],
    files: tuple[FileParam, ...],
    form: dict[str, Any],
    attachments: bytes | None,
) -> None:
    """Replace the form's file descriptors by UploadFiles, into ``kwargs``.

    The descriptors are removed from ``form``, leaving its plain fields.
    """
    view = memoryview(attachments) if attachments is not None else None
    for fp in files:
        desc = form.pop(fp.name, None)
        if desc is None or desc == []:
            if fp.required:
                raise RequestValidationError(f"file field {fp.name!r} is required")
            kwargs[fp.name] = fp.default
            continue
        if view is None:
            raise RequestValidationError(f"field {fp.name!r} carries no uploaded file")
        items = desc if isinstance(desc, list) else [desc]
        try:
            uploads = [upload_from_descriptor(d, view) for d in items if isinstance(d, dict)]
        except ValueError as exc:
            raise RequestValidationError(str(exc)) from exc
        if len(uploads) != len(items):
            raise RequestValidationError(f"field {fp.name!r} is not a file")
        kwargs[fp.name] = uploads if fp.many else uploads[0]


def is_upload_type(tp: Any) -> tuple[bool, bool]:
    """``(is a file parameter, takes a list)`` for UploadFile annotations."""
    inner, _ = split_optional(tp)
    if inner is UploadFile:
        return True, False
    if typing.get_origin(inner) in (list, typing.List) and typing.get_args(inner) == (  # noqa: UP006
        UploadFile,
    ):
        return True, True
    return False, False
