"""UploadFile: one file of a multipart/form-data request, without copying it.

The core parses multipart bodies. It hands the binding a JSON object whose
file fields are descriptors::

    {"filename": "a.txt", "content_type": "text/plain", "size": 14,
     "headers": {...}, "offset": 120, "length": 14}

(or a list of them when a field carries several files) and, beside it, one
``bytes`` object holding the raw request body (the event's
``attachments``). A descriptor's ``offset``/``length`` locate the file's
bytes in it. An UploadFile wraps a ``memoryview`` slice of that buffer, so
a large upload sits in Python memory once, however many files it holds;
only :meth:`UploadFile.read` copies, and only what it returns.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

__all__ = ["UploadFile", "upload_from_descriptor"]


class UploadFile:
    """An uploaded file: its metadata plus a file-like reader over its bytes.

    ``filename`` is ``None`` when the part had none; ``content_type``
    defaults to ``application/octet-stream``; ``headers`` are the part's own
    headers (lower-case names). Reading is synchronous (the bytes are
    already in memory); :meth:`aread` exists for ``await file.aread()``.
    After :meth:`close` the file cannot be read.
    """

    __slots__ = ("_pos", "_view", "content_type", "filename", "headers", "size")

    def __init__(
        self,
        data: bytes | bytearray | memoryview,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        view = data if isinstance(data, memoryview) else memoryview(data)
        self._view: memoryview | None = view
        self._pos = 0
        self.filename = filename
        self.content_type = content_type or "application/octet-stream"
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.size = view.nbytes

    def _data(self) -> memoryview:
        if self._view is None:
            raise ValueError("I/O operation on closed file")
        return self._view

    @property
    def closed(self) -> bool:
        return self._view is None

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes from the current position (all if negative)."""
        view = self._data()
        start = self._pos
        end = self.size if size is None or size < 0 else min(self.size, start + size)
        if end <= start:
            return b""
        self._pos = end
        return view[start:end].tobytes()

    async def aread(self, size: int = -1) -> bytes:
        """``await file.aread()``: :meth:`read` for async handlers."""
        return self.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move the position like ``io.BytesIO.seek``; returns the new position."""
        self._data()
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    async def aseek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.seek(offset, whence)

    def tell(self) -> int:
        self._data()
        return self._pos

    def getbuffer(self) -> memoryview:
        """The file's bytes as a read-only memoryview (no copy)."""
        return self._data()

    def close(self) -> None:
        """Release the view of the request buffer; idempotent."""
        view, self._view = self._view, None
        if view is not None:
            view.release()

    async def aclose(self) -> None:
        self.close()

    def __enter__(self) -> UploadFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, size={self.size}, "
            f"content_type={self.content_type!r})"
        )


def upload_from_descriptor(desc: Mapping[str, Any], attachments: memoryview) -> UploadFile:
    """The UploadFile a core descriptor names inside ``attachments``.

    Raises ValueError when the descriptor points outside the buffer.
    """
    offset = int(desc.get("offset", 0))
    length = int(desc.get("length", desc.get("size", 0)))
    if offset < 0 or length < 0 or offset + length > attachments.nbytes:
        raise ValueError(
            f"file descriptor [{offset}:{offset + length}] is outside the "
            f"{attachments.nbytes}-byte request buffer"
        )
    return UploadFile(
        attachments[offset : offset + length],
        filename=desc.get("filename"),
        content_type=desc.get("content_type"),
        headers=desc.get("headers") or {},
    )
