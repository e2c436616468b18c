"""Response: an answer with an explicit status code and headers; FileResponse: a file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["FileResponse", "Response"]


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


class FileResponse(Response):
    """An answer whose body is a file the core reads and sends itself.

    The core opens ``path`` when the answer is handed over and sends it with
    ETag and Last-Modified; with status 200 it answers conditional requests
    (304) and Range requests (206, 416) too. ``media_type`` sets the
    Content-Type, otherwise guessed from the path's extension
    (``application/octet-stream`` when unknown). ``filename`` offers the file
    as a download: ``Content-Disposition: attachment`` with the name encoded
    for any client (RFC 6266, RFC 8187). A file that does not exist or cannot
    be read answers 500 and logs a line naming the path, as a handler that
    raised would.
    """

    __slots__ = ("filename", "path")

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        filename: str | None = None,
    ) -> None:
        try:
            fs_path = os.fsencode(path)
        except TypeError:
            raise TypeError(
                f"FileResponse.path must be a str or path, got {type(path).__name__}"
            ) from None
        if not fs_path or b"\0" in fs_path:
            raise ValueError(f"FileResponse.path={path!r}: must be a non-empty path without NUL")
        if filename is not None and (
            not isinstance(filename, str) or not filename or "\0" in filename
        ):
            raise ValueError(
                f"FileResponse.filename={filename!r}: must be a non-empty str without NUL"
            )
        if (
            isinstance(status_code, bool)
            or not isinstance(status_code, int)
            or not (200 <= status_code <= 599 and status_code not in (204, 304))
        ):
            raise ValueError(
                f"FileResponse.status_code={status_code!r}: must be 200..599 but 204 and 304"
            )
        super().__init__(None, status_code, headers, media_type)
        self.path = os.fspath(path)
        self.filename = filename

    def payload(self) -> bytes:
        """The body of SPIKARD_RESPONSE_FILE: the path, and NUL and the name."""
        body = os.fsencode(os.path.abspath(self.path))
        if self.filename is not None:
            body += b"\0" + self.filename.encode()
        return body

    def __repr__(self) -> str:
        return f"FileResponse({self.path!r}, status_code={self.status_code})"
