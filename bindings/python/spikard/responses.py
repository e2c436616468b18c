"""Response: an answer with an explicit status code and headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Response"]


class Response:
    """An answer whose status and headers the handler chooses.

    ``content`` is encoded like a plain return value: a Struct, dict, list or
    other JSON value becomes JSON, ``str`` becomes text/plain, ``bytes`` is
    sent as is and ``None`` sends an empty body. ``media_type`` overrides the
    Content-Type chosen from the content.
    """

    __slots__ = ("content", "headers", "media_type", "status_code")

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.content = content
        self.status_code = status_code
        self.headers: dict[str, str] = dict(headers) if headers else {}
        self.media_type = media_type

    def __repr__(self) -> str:
        return f"Response(status_code={self.status_code}, content={self.content!r})"
