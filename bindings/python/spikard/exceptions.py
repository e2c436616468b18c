"""Exceptions a handler (or a hook) raises to answer with an HTTP error.

The binding never writes error JSON: an :class:`HTTPException` is handed to
the core as a problem description (SPIKARD_RESPONSE_PROBLEM), and the core
renders the RFC 9457 document, the same bytes from every binding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._call import RequestValidationError

__all__ = ["HTTPException", "RequestValidationError"]


class HTTPException(Exception):
    """Raise it anywhere in a request (handler, dependency, hook) to answer
    ``status_code`` (400..599) with the core's problem document: ``detail``
    is its detail (default: the status's title), ``headers`` are added to
    the answer (``Retry-After``, ``WWW-Authenticate``; not Content-Type or
    Content-Length, which the core sets)."""

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(status_code, int) or not 400 <= status_code <= 599:
            raise ValueError(f"HTTPException: status_code must be 400..599, not {status_code!r}")
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers: dict[str, str] = dict(headers) if headers else {}

    def description(self) -> bytes:
        """The problem description the core renders (spikard.h)."""
        if self.detail is None:
            return b"{}"
        detail = self.detail if isinstance(self.detail, str) else json.dumps(self.detail)
        return json.dumps({"detail": detail}).encode()

    def __repr__(self) -> str:
        return f"HTTPException(status_code={self.status_code}, detail={self.detail!r})"
