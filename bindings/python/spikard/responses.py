"""Response: an answer with an explicit status code and headers; FileResponse: a file."""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["FileResponse", "HTMLResponse", "PlainTextResponse", "RedirectResponse", "Response"]


class Response:
    """An answer whose status and headers the handler chooses.

    ``content`` is encoded like a plain return value: a Struct, dict, list or
    other JSON value becomes JSON, ``str`` becomes text/plain, ``bytes`` is
    sent as is and ``None`` sends an empty body. ``media_type`` overrides the
    Content-Type chosen from the content.
    """

    __slots__ = ("content", "cookies", "headers", "media_type", "status_code")

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
        self.cookies: list[dict[str, Any]] = []
        """Cookies to set, as the core renders them (spikard.h: "spikard-cookie")."""

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        max_age: int | None = None,
        expires: int | datetime.datetime | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Set a cookie on the answer. The core writes the Set-Cookie header
        (and refuses, with a 500, a name that is no token or a value with a
        space, quote, comma, semicolon or backslash). ``expires`` is a Unix
        time or a datetime; ``samesite`` "strict", "lax", "none" or None."""
        cookie: dict[str, Any] = {"name": key, "value": value}
        if max_age is not None:
            cookie["max_age"] = int(max_age)
        if expires is not None:
            stamp = expires.timestamp() if isinstance(expires, datetime.datetime) else expires
            cookie["expires"] = int(stamp)
        if path:
            cookie["path"] = path
        if domain:
            cookie["domain"] = domain
        if secure:
            cookie["secure"] = True
        if httponly:
            cookie["httponly"] = True
        if samesite:
            cookie["samesite"] = samesite
        if partitioned:
            cookie["partitioned"] = True
        self.cookies.append(cookie)

    def delete_cookie(
        self,
        key: str,
        *,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        """Tell the client to drop a cookie (empty value, Max-Age 0, an
        Expires in 1970); path and domain must match the cookie's."""
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, content={self.content!r})"


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


class HTMLResponse(Response):
    """An HTML answer: ``content`` (str) as text/html; charset=utf-8."""

    __slots__ = ()

    def __init__(
        self, content: str = "", status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(content, status_code, headers, "text/html; charset=utf-8")


class PlainTextResponse(Response):
    """A plain-text answer: ``content`` (str) as text/plain; charset=utf-8."""

    __slots__ = ()

    def __init__(
        self, content: str = "", status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(content, status_code, headers, "text/plain; charset=utf-8")


class RedirectResponse(Response):
    """A redirect to ``url`` (status 307 by default: 301, 302, 303 and 308
    too), with no body."""

    __slots__ = ()

    def __init__(
        self, url: str, status_code: int = 307, headers: Mapping[str, str] | None = None
    ) -> None:
        if status_code not in (301, 302, 303, 307, 308):
            raise ValueError(f"RedirectResponse: status_code {status_code} is not a redirect")
        super().__init__(None, status_code, {**(headers or {}), "location": url})
