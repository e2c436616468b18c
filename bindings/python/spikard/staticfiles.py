"""StaticFilesConfig: a directory the core serves under a URL prefix
(spikard.h, "static_files")."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from . import _native

__all__ = ["StaticFilesConfig"]

_FIELD = re.compile(r'^config: "static_files": \[0\]: "(\w+)":? (.*)$', re.S)


@dataclass
class StaticFilesConfig:
    """Serve the files under ``directory`` at ``route_prefix``.

    The core answers GET and HEAD for paths no route matches: ETag and
    Last-Modified with 304s, Range requests (206, 416), the Content-Type of
    the file's extension, a precompressed ``name.br`` or ``name.gz`` beside a
    file when the client accepts it, and ``index.html`` for a directory when
    ``index_file`` is set. Paths that try to leave the directory (``..``,
    encoded or double-encoded, backslashes, NUL, symlinks out of it) are the
    standard 404. ``directory`` must exist when the config is made; a
    relative one is taken from the working directory then.
    """

    directory: str | os.PathLike[str]
    """The directory served."""
    route_prefix: str
    """The URL path it is served under, starting with ``/``."""
    index_file: bool = True
    """Serve ``index.html`` for a directory."""
    cache_control: str | None = None
    """The ``Cache-Control`` of every file served; None sends none."""

    def __post_init__(self) -> None:
        try:
            self.directory = os.path.abspath(os.fspath(self.directory))
        except TypeError:
            raise ValueError(
                f"StaticFilesConfig.directory={self.directory!r}: must be a string or a path"
            ) from None
        try:
            doc = json.dumps({"static_files": [self.to_doc()]}, allow_nan=False).encode()
        except (TypeError, ValueError):
            raise ValueError(f"StaticFilesConfig: not JSON values: {self!r}") from None
        try:
            _native.check_config(doc)
        except _native.SpikardError as exc:
            message = str(exc.args[-1])
            m = _FIELD.match(message)
            if m is None:
                raise ValueError(f"StaticFilesConfig: {message}") from None
            field, reason = m.groups()
            raise ValueError(
                f"StaticFilesConfig.{field}={getattr(self, field)!r}: {reason}"
            ) from None

    def to_doc(self) -> dict[str, Any]:
        """One entry of the config's "static_files" list."""
        doc: dict[str, Any] = {
            "directory": self.directory,
            "route_prefix": self.route_prefix,
            "index_file": self.index_file,
        }
        if self.cache_control is not None:
            doc["cache_control"] = self.cache_control
        return doc
