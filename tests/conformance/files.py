"""Compression, static files and file answers for the runner (run.py):
the config a case's middleware makes, the files it needs on disk, and the
decoding of a compressed answer, standard library only.

A compressed body counts only when it decodes to what the case expects:
gzip and deflate with zlib, zstd with compression.zstd (Python 3.14) and br
with the ``brotli`` module when one is installed; otherwise both go through
Node's zlib (``node`` on the PATH, as the Node fixture server needs). A body
no decoder here can read is a failure, never a pass.
"""

from __future__ import annotations

import atexit
import gzip
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Any

_ROOT: Path | None = None


def scratch() -> Path:
    """A directory for the files of this run's cases, removed at exit."""
    global _ROOT
    if _ROOT is None:
        _ROOT = Path(tempfile.mkdtemp(prefix="spikard-conformance-"))
        atexit.register(shutil.rmtree, _ROOT, True)
    return _ROOT


def compression_config(spec: Any) -> dict[str, Any] | None:
    """The config's "compression" object of a case's
    ``middleware.compression``: the schema's keys (gzip, brotli, min_size,
    quality, and zstd) as they are; the older spelling (enabled,
    algorithms, level, min_size_bytes) translated. None: compression off."""
    if not isinstance(spec, dict):
        raise TypeError("middleware.compression: want an object")
    if spec.get("enabled") is False:
        return None
    out: dict[str, Any] = {}
    for key in ("gzip", "brotli", "zstd", "min_size", "quality"):
        if key in spec:
            out[key] = spec[key]
    algorithms = spec.get("algorithms")
    if isinstance(algorithms, list):
        names = {str(a).lower() for a in algorithms}
        out["gzip"] = "gzip" in names
        out["brotli"] = bool(names & {"br", "brotli"})
        out["zstd"] = "zstd" in names
    if isinstance(spec.get("level"), int):
        out["quality"] = max(0, min(11, spec["level"]))
    if isinstance(spec.get("min_size_bytes"), int):
        out["min_size"] = spec["min_size_bytes"]
    return out


def static_config(case_stem: str, mounts: Any) -> list[dict[str, Any]]:
    """The config's "static_files" list of a case's
    ``middleware.static_files``, its files written under this run's scratch
    directory."""
    if not isinstance(mounts, list):
        raise TypeError("middleware.static_files: want a list")
    out = []
    for i, mount in enumerate(mounts):
        if not isinstance(mount, dict) or not isinstance(
            mount.get("route_prefix"), str
        ):
            raise TypeError(
                f"middleware.static_files[{i}]: want route_prefix and files"
            )
        name = mount.get("directory_name") or f"{case_stem}-{i}"
        root = scratch() / "static" / str(name)
        for entry in mount.get("files") or []:
            rel = Path(entry["path"])
            if rel.is_absolute() or ".." in rel.parts:
                raise ValueError(
                    f"middleware.static_files[{i}]: file {entry['path']!r} leaves its directory"
                )
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(str(entry["content"]).encode("utf-8"))
        root.mkdir(parents=True, exist_ok=True)
        doc: dict[str, Any] = {
            "directory": str(root),
            "route_prefix": mount["route_prefix"],
        }
        if "index_file" in mount:
            doc["index_file"] = bool(mount["index_file"])
        if isinstance(mount.get("cache_control"), str):
            doc["cache_control"] = mount["cache_control"]
        out.append(doc)
    return out


def answer_file(case_stem: str, spec: Any) -> tuple[Path, str | None]:
    """The file a case's ``file`` block has its handler answer with (written
    now), and the download name it offers, if any."""
    if not isinstance(spec, dict) or not isinstance(spec.get("content"), str):
        raise TypeError("file: want content (and optionally name, filename)")
    name = spec.get("name") or "file.bin"
    if "/" in name or name in (".", ".."):
        raise ValueError(f"file: name {name!r} must be a plain file name")
    target = scratch() / "answers" / case_stem / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(spec["content"].encode("utf-8"))
    filename = spec.get("filename")
    return target, filename if isinstance(filename, str) else None


def _node(expr: str, raw: bytes) -> tuple[bytes | None, str | None]:
    node = shutil.which("node")
    if node is None:
        return None, "no decoder here (no brotli module, no node on the PATH)"
    script = (
        "const z=require('zlib');const b=require('fs').readFileSync(0);"
        f"if(!z.{expr})process.exit(3);process.stdout.write(z.{expr}(b));"
    )
    done = subprocess.run(
        [node, "-e", script], check=False, input=raw, capture_output=True, timeout=30
    )
    if done.returncode == 3:
        return None, f"no decoder here (this node has no zlib.{expr})"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, lines[-1] if lines else f"node exited {done.returncode}"
    return done.stdout, None


def decode(encoding: str, raw: bytes) -> tuple[bytes | None, str | None]:
    """raw decoded from a Content-Encoding, or None and why not."""
    coding = encoding.strip().lower()
    try:
        if coding in ("gzip", "x-gzip"):
            return gzip.decompress(raw), None
        if coding == "deflate":
            return zlib.decompress(raw), None
        if coding == "identity":
            return raw, None
        if coding == "br":
            try:
                import brotli  # type: ignore[import-not-found]  # optional
            except ImportError:
                return _node("brotliDecompressSync", raw)
            return brotli.decompress(raw), None
        if coding == "zstd":
            try:
                from compression import zstd  # type: ignore[import-not-found]  # Python 3.14
            except ImportError:
                return _node("zstdDecompressSync", raw)
            return zstd.decompress(raw), None
    except Exception as exc:  # noqa: BLE001 - any failure means it does not decode
        return None, f"{type(exc).__name__}: {exc}"
    return None, f"unknown coding {encoding!r}"
