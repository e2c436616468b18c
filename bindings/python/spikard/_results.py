"""Handler results to (status, headers, body): the encoding rules.

Struct, dict, list and other JSON values -> application/json (one shared
msgspec Encoder); str -> text/plain; charset=utf-8; bytes ->
application/octet-stream; None -> JSON ``null`` (as FastAPI answers) when
the return annotation admits None, else a 500 whose log line says so;
Response -> its own status and headers with the content encoded by the same
rules. A declared return annotation converts the result first
(``-> User`` with a dict result answers a User).
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ._schema import is_body_type, is_pydantic_model, split_annotated, split_optional
from .responses import FileResponse, Response
from .streaming import OpenStream, StreamingResponse

__all__ = ["FILE_STATUS", "Rendered", "encode_json", "make_renderer"]

Header = tuple[bytes | str, bytes | str]
Rendered = tuple[int, list[Header] | None, bytes]

JSON_HEADERS: list[Header] = [(b"content-type", b"application/json")]
TEXT_HEADERS: list[Header] = [(b"content-type", b"text/plain; charset=utf-8")]
BYTES_HEADERS: list[Header] = [(b"content-type", b"application/octet-stream")]


def _enc_hook(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):  # pydantic v2
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__} as JSON")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
encode_json = _encoder.encode


def _content(content: Any) -> tuple[list[Header] | None, bytes]:
    if content is None:
        return None, b""
    kind = type(content)
    if kind is bytes:
        return BYTES_HEADERS, content
    if kind is str:
        return TEXT_HEADERS, content.encode()
    return JSON_HEADERS, encode_json(content)


# A FileResponse renders its status with this bit set: the dispatcher sends
# it as SPIKARD_RESPONSE_FILE (one compare on its path, none elsewhere).
FILE_STATUS = 1 << 16


def render_response(resp: Response) -> Rendered:
    if isinstance(resp, StreamingResponse):
        raise OpenStream(resp)
    if isinstance(resp, FileResponse):
        file_headers: list[Header] = [(k, v) for k, v in resp.headers.items()]
        if resp.media_type is not None and not any(
            k.lower() == "content-type" for k in resp.headers
        ):
            file_headers.append((b"content-type", resp.media_type))
        return resp.status_code | FILE_STATUS, file_headers or None, resp.payload()
    default_headers, body = _content(resp.content)
    headers: list[Header] = [(k, v) for k, v in resp.headers.items()]
    for cookie in resp.cookies:  # rendered by the core (spikard.h)
        headers.append((b"spikard-cookie", encode_json(cookie)))
    if resp.media_type is not None:
        if not any(k.lower() == "content-type" for k, _ in resp.headers.items()):
            headers.append((b"content-type", resp.media_type))
    elif default_headers is not None and not any(k.lower() == "content-type" for k in resp.headers):
        headers.extend(default_headers)
    return resp.status_code, headers or None, body


def _converter(annotation: Any) -> Callable[[Any], Any] | None:
    """A function converting a result to its declared type, or None."""
    if annotation is inspect.Signature.empty or annotation is Any or annotation is None:
        return None
    target, _ = split_optional(split_annotated(annotation)[0])
    if isinstance(target, type) and issubclass(target, Response):
        return None
    if not is_body_type(target) or target in (dict, list):
        return None
    if is_pydantic_model(target):

        def to_model(value: Any) -> Any:
            if isinstance(value, target) or value is None or isinstance(value, Response):
                return value
            return target.model_validate(value)

        return to_model
    exact = target if isinstance(target, type) else None

    def convert(value: Any) -> Any:
        if value is None or type(value) is exact or isinstance(value, Response):
            return value
        return msgspec.convert(value, annotation, from_attributes=True, strict=False)

    return convert


def may_be_none(annotation: Any) -> bool:
    """Whether a return annotation admits None: none given, Any, object,
    None itself, an Optional or a union with None."""
    if annotation in (inspect.Signature.empty, Any, object, None, type(None)):
        return True
    if isinstance(annotation, typing.TypeVar):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return may_be_none(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return any(may_be_none(a) for a in typing.get_args(annotation))
    return False


class ReturnedNothing(TypeError):
    """A handler returned None although its return annotation does not allow it."""


def make_renderer(
    annotation: Any, status_code: int, owner: str = "the handler"
) -> Callable[[Any], Rendered]:
    """Build the per-route function turning a handler result into an answer.

    A None result where the annotation does not admit one raises
    ReturnedNothing (the caller's 500 and log line), naming ``owner``.
    """
    convert = _converter(annotation)
    null = b"null"
    none_allowed = may_be_none(annotation)

    def render(result: Any) -> Rendered:
        if convert is not None:
            result = convert(result)
        kind = type(result)
        if kind is Response:
            return render_response(result)  # subclasses: isinstance below
        if kind is bytes:
            return status_code, BYTES_HEADERS, result
        if kind is str:
            return status_code, TEXT_HEADERS, result.encode()
        if result is None:
            if not none_allowed:
                raise ReturnedNothing(
                    f"{owner} returned None, but its return annotation is {annotation!r}"
                )
            return status_code, JSON_HEADERS, null
        if isinstance(result, Response):
            return render_response(result)
        return status_code, JSON_HEADERS, encode_json(result)

    return render
