"""CompressionConfig: the core's compression of answers (spikard.h, "compression")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import _native

__all__ = ["CompressionConfig"]

_INTEGER_FIELDS = ("min_size", "quality")


@dataclass
class CompressionConfig:
    """Compress answers for clients that accept it (``Accept-Encoding``).

    The core picks the coding from the client's q-values (br, then zstd,
    then gzip on a tie), sets ``Vary: Accept-Encoding``, and compresses
    streamed answers chunk by chunk as they are produced. Bodies under
    ``min_size``, HEAD answers, statuses without a body, answers that set
    ``Content-Encoding`` themselves, server-sent events and types that are
    compressed already (images, audio, video, archives) go out as they are.
    """

    gzip: bool = True
    """Offer gzip."""
    brotli: bool = True
    """Offer brotli (``br``)."""
    zstd: bool = False
    """Offer zstd."""
    min_size: int = 1024
    """Smallest whole body, in bytes, worth compressing."""
    quality: int = 6
    """0..11: brotli takes it as is, gzip clamped to 0..9 (9 is its best),
    zstd mapped onto its four levels."""

    def __post_init__(self) -> None:
        # The core judges the values (core/compress.go), so the rules live
        # in one place; its message names the key, this one the field.
        for key in ("gzip", "brotli", "zstd", "min_size", "quality"):
            value = getattr(self, key)
            try:
                doc = json.dumps({"compression": {key: value}}, allow_nan=False).encode()
            except (TypeError, ValueError):
                raise ValueError(f"CompressionConfig.{key}={value!r}: not a JSON value") from None
            try:
                _native.check_config(doc)
            except _native.SpikardError as exc:
                reason = str(exc.args[-1]).removeprefix(f'config: "compression": "{key}": ')
                raise ValueError(f"CompressionConfig.{key}={value!r}: {reason}") from None
            if key in _INTEGER_FIELDS and isinstance(value, float):
                setattr(self, key, int(value))  # the core took it as whole

    def to_doc(self) -> dict[str, Any]:
        """The config's "compression" object."""
        return {
            "gzip": self.gzip,
            "brotli": self.brotli,
            "zstd": self.zstd,
            "min_size": self.min_size,
            "quality": self.quality,
        }
