"""Conformance runner: one app per fixture case, served over real HTTP.

Each case (``<dir>/<category>/<name>.json``, the format described in the
fixtures' README and ``00-FIXTURE-SCHEMA.json``) becomes one Spikard app
built through the public Python API only. Its handler returns the case's
expected answer on success paths; every error must come from the framework.
The request is sent with ``http.client`` and status, body and the listed
headers are compared.

Usage: python tests/conformance/run.py [--fixtures DIR] [-k SUBSTRING] [-v]
The last line printed is ``N passed, M failed``; the exit status is non-zero
when a case of an owned category fails.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import logging
import re
import socket
import sys
import time
import urllib.parse
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from spikard import Response, ServerConfig, Spikard

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURES = REPO.parent / "shared" / "conformance" / "fixtures"

# Categories whose failures fail the run; the others are reported only.
OWNED = frozenset(
    {
        "path_params",
        "query_params",
        "headers",
        "cookies",
        "json_bodies",
        "validation_errors",
        "url_encoded",
        "multipart",
        "content_types",
        "edge_cases",
        "status_codes",
        "http_methods",
        "body_limits",
    }
)

# Fixture parameter groups and the "source" each maps to.
SOURCES = {
    "path": "path",
    "query": "query",
    "headers": "header",
    "header": "header",
    "cookies": "cookie",
    "cookie": "cookie",
}

# Hints that describe a parameter to a code generator, not JSON Schema.
HINTS = ("required", "optional", "annotation")

# Handler keys that configure no framework feature beyond routing,
# extraction and validation.
PLAIN_HANDLER_KEYS = frozenset(
    {"route", "method", "parameters", "body_schema", "content_type", "response_schema"}
)

INTERNAL_ERROR = "https://spikard.dev/errors/internal-server-error"


class Case:
    """One fixture file."""

    def __init__(self, path: Path, category: str, doc: dict[str, Any]) -> None:
        self.path = path
        self.category = category
        self.doc = doc
        self.name = f"{category}/{path.stem}"


def load_cases(root: Path) -> list[Case]:
    cases = []
    for path in sorted(root.rglob("*.json")):
        if path.name == "schema.json" or path.name.startswith("00-"):
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"skip {path}: {exc}", file=sys.stderr)
            continue
        if (
            not isinstance(doc, dict)
            or "request" not in doc
            or "expected_response" not in doc
        ):
            continue
        rel = path.relative_to(root)
        category = (
            rel.parts[0] if len(rel.parts) > 1 else doc.get("category", "uncategorised")
        )
        cases.append(Case(path, category, doc))
    return cases


# -- building the app ---------------------------------------------------------


def parameter_schema(params: dict[str, Any]) -> dict[str, Any] | None:
    """The route's parameter_schema from a fixture's ``handler.parameters``."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for group, entries in params.items():
        source = SOURCES.get(group)
        if source is None:
            continue
        for name, spec in (entries or {}).items():
            schema = {k: v for k, v in spec.items() if k not in HINTS}
            if isinstance(spec.get("required"), bool):
                # A boolean "required" inside the property is the raw
                # (draft-3 style) JSON Schema spelling: pass it through, the
                # core chooses the validator error vocabulary from it.
                schema["required"] = spec["required"]
            schema["source"] = source
            props[name] = schema
            if is_required(source, spec):
                required.append(name)
    if not props:
        return None
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def is_required(source: str, spec: dict[str, Any]) -> bool:
    """A parameter is required unless it is optional or has a default, as in
    a Python signature; path parameters always are."""
    if source == "path":
        return True
    if "required" in spec:
        return bool(spec["required"])
    return not spec.get("optional", False) and "default" not in spec


def build_app(case: Case) -> Spikard:
    doc = case.doc
    req = doc["request"]
    exp = doc["expected_response"]
    handler = doc.get("handler")
    config = ServerConfig(quiet=True)
    if handler:
        limit = ((handler.get("middleware") or {}).get("body_limit") or {}).get(
            "max_bytes"
        )
        if limit is not None:
            config.max_body_size = limit
        route, method = handler["route"], handler["method"]
        params = handler.get("parameters") or {}
        pschema = parameter_schema(params)
        body_schema = handler.get("body_schema")
        file_params = params.get("files")
    else:
        # App-level cases declare no handler: serve the request's own path.
        route, method = urllib.parse.urlsplit(req["path"]).path, req["method"]
        pschema = body_schema = file_params = None

    status = exp["status_code"]
    body = exp.get("body")
    # Placeholders ("<<uuid>>", "<<absent>>") describe what the framework
    # must do; the handler never sets those.
    headers = {
        k: v
        for k, v in (exp.get("headers") or {}).items()
        if isinstance(v, str) and not is_placeholder(v)
    }
    # The handler answers only what a handler would: success paths, and the
    # errors of app-level cases. A framework error the core fails to produce
    # reaches this answer instead and so fails the comparison.
    # An error body that is exactly {"detail": "..."} is the shape an
    # application raises (HTTPException), never a framework error (those
    # are problem documents), so the handler answers it too.
    # Only a plain handler, though: when the case configures a framework
    # feature (cors, middleware, auth, …) that feature owns the error.
    handler_answers = (
        status < 400
        or not handler
        or (is_app_error(body) and set(handler) <= PLAIN_HANDLER_KEYS)
    )
    sized = placeholder_size(body)
    raises = isinstance(body, dict) and body.get("type") == INTERNAL_ERROR

    def answer(**_: Any) -> Response:
        if raises:
            raise RuntimeError("conformance: handler failure requested by the case")
        if not handler_answers:
            return Response(content={"conformance": "handler reached"}, status_code=200)
        if sized is not None:
            return Response(content=b"\0" * sized, status_code=status, headers=headers)
        return Response(content=body, status_code=status, headers=headers)

    app = Spikard(config=config)
    app.register_route(
        method,
        route,
        body_schema=body_schema,
        parameter_schema=pschema,
        file_params=file_params,
    )(answer)
    return app


# -- sending the request ------------------------------------------------------


def encode_query(params: dict[str, Any]) -> str:
    pairs = []
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            pairs.append((key, scalar_text(v)))
    return urllib.parse.urlencode(pairs)


def scalar_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    return str(v)


def file_bytes(part: dict[str, Any]) -> bytes:
    if "magic_bytes" in part:
        return bytes.fromhex(part["magic_bytes"] or "")
    content = part.get("content", "")
    if part.get("content_encoding") == "base64":
        return base64.b64decode(content)
    return content.encode("utf-8")


def multipart(
    fields: list[tuple[str, str]], files: list[dict[str, Any]]
) -> tuple[bytes, str]:
    boundary = "conformance" + uuid.uuid4().hex
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode("utf-8") + b"\r\n"
    for part in files:
        disp = f'form-data; name="{part["field_name"]}"'
        if part.get("filename") is not None:
            disp += f'; filename="{part["filename"]}"'
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n".encode()
        if part.get("content_type"):
            out += f"Content-Type: {part['content_type']}\r\n".encode()
        out += b"\r\n" + file_bytes(part) + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def form_pairs(data: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in data.items():
        for v in value if isinstance(value, list) else [value]:
            pairs.append((key, scalar_text(v)))
    return pairs


def build_request(case: Case) -> tuple[str, str, dict[str, str], bytes | None]:
    req = case.doc["request"]
    handler = case.doc.get("handler") or {}
    method = req["method"]
    target = req["path"]
    query = req.get("query_string")
    if query is None and req.get("query_params"):
        query = encode_query(req["query_params"])
    if query:
        target += ("&" if "?" in target else "?") + query
    headers: dict[str, str] = {}
    for k, v in (req.get("headers") or {}).items():
        headers[k] = v
    if req.get("cookies"):
        cookie = "; ".join(f"{k}={v}" for k, v in req["cookies"].items())
        headers["Cookie"] = cookie
    lower = {k.lower() for k in headers}
    body: bytes | None = None
    ctype: str | None = None
    declared = req.get("content_type") or handler.get("content_type")
    form = req.get("form_data") if req.get("form_data") is not None else req.get("data")
    if req.get("files") is not None or (declared or "").startswith("multipart/"):
        body, ctype = multipart(form_pairs(form or {}), req.get("files") or [])
    elif form is not None:
        body = urllib.parse.urlencode(form_pairs(form)).encode()
        ctype = "application/x-www-form-urlencoded"
    elif "body" in req:
        raw = req["body"]
        if (
            isinstance(raw, str)
            and declared != "application/json"
            and "content-type" in lower
        ):
            body = raw.encode("utf-8")
        elif isinstance(raw, str) and (declared or "").startswith(
            "application/x-www-form-urlencoded"
        ):
            body = raw.encode("utf-8")
            ctype = declared
        else:
            body = json.dumps(raw, ensure_ascii=False).encode("utf-8")
            ctype = "application/json"
    if ctype and "content-type" not in lower:
        headers["Content-Type"] = ctype
    return method, target, headers, body


# -- comparing ----------------------------------------------------------------


def compare(case: Case, status: int, headers: dict[str, str], raw: bytes) -> list[str]:
    exp = case.doc["expected_response"]
    diffs = []
    if status != exp["status_code"]:
        diffs.append(f"status: want {exp['status_code']}, got {status}")
    if (
        "body" in exp
        and exp["body"] is not None
        and case.doc["request"]["method"] != "HEAD"
    ):
        want = exp["body"]
        text = raw.decode("utf-8", "replace")
        try:
            got: Any = json.loads(text)
        except ValueError:
            got = text
        size = placeholder_size(want)
        if size is not None:
            if len(raw) != size:
                diffs.append(f"body: want {size} bytes, got {len(raw)}")
        elif not (
            json_equal(want, got)
            or (isinstance(want, str) and want == text)
            or same_detail(want, got)
        ):
            diffs.append("body: " + body_diff(want, got))
    for name, value in (exp.get("headers") or {}).items():
        have = headers.get(name.lower())
        if not isinstance(value, str):
            continue
        if is_placeholder(value):
            ok = have is None if value == "<<absent>>" else have is not None
            if ok and value == "<<uuid>>":
                ok = is_uuid(have)
            if not ok:
                diffs.append(f"header {name}: want {value}, got {have!r}")
            continue
        if have != value:
            diffs.append(f"header {name}: want {value!r}, got {have!r}")
    return diffs


def is_app_error(body: Any) -> bool:
    """Whether body is the bare {"detail": "..."} shape of an application's
    own error."""
    return (
        isinstance(body, dict)
        and list(body) == ["detail"]
        and isinstance(body["detail"], str)
    )


def same_detail(want: Any, got: Any) -> bool:
    """A bare {"detail": X} is also met by a problem document with detail X:
    the framework may refuse the request first, in its RFC 9457 shape, which
    carries the same detail (and the status is compared separately)."""
    return (
        is_app_error(want)
        and isinstance(got, dict)
        and isinstance(got.get("type"), str)
        and got.get("detail") == want["detail"]
    )


def placeholder_size(body: Any) -> int | None:
    """N for a body written as the placeholder "binary_data_N_bytes": the
    response is N bytes whose content the case does not give."""
    if isinstance(body, str):
        m = re.fullmatch(r"binary_data_(\d+)_bytes", body)
        if m:
            return int(m.group(1))
    return None


def is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(value or "")
    except ValueError:
        return False
    return True


def is_placeholder(value: str) -> bool:
    return value.startswith("<<") and value.endswith(">>")


def json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def body_diff(want: Any, got: Any, path: str = "$") -> str:
    """The first difference between two JSON values, briefly."""
    if isinstance(want, dict) and isinstance(got, dict):
        for k in want:
            if k not in got:
                return f"{path}.{k} missing (want {short(want[k])})"
            if not json_equal(want[k], got[k]):
                return body_diff(want[k], got[k], f"{path}.{k}")
        for k in got:
            if k not in want:
                return f"{path}.{k} unexpected ({short(got[k])})"
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"{path}: want {len(want)} items, got {len(got)}: {short(got)}"
        for i, (x, y) in enumerate(zip(want, got)):
            if not json_equal(x, y):
                return body_diff(x, y, f"{path}[{i}]")
    return f"{path}: want {short(want)}, got {short(got)}"


def short(v: Any, n: int = 300) -> str:
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + "…"


# -- running ------------------------------------------------------------------


def run_case(case: Case) -> list[str]:
    try:
        app = build_app(case)
    except Exception as exc:  # noqa: BLE001 - a schema the core refuses is a failure to report
        return [f"app: {type(exc).__name__}: {exc}"]
    try:
        server = app.serve_in_background(host="127.0.0.1", port=0)
    except Exception as exc:  # noqa: BLE001 - any failure is the case's result
        return [f"serve: {type(exc).__name__}: {exc}"]
    try:
        method, target, headers, body = build_request(case)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            declared = next(
                (v for k, v in headers.items() if k.lower() == "content-length"), None
            )
            if body is not None and declared is None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            if declared is not None and body is not None and declared != str(len(body)):
                # A body shorter than declared: end it so the server sees EOF.
                conn.sock.shutdown(socket.SHUT_WR)
            resp = conn.getresponse()
            raw = resp.read()
            got_headers = {k.lower(): v for k, v in resp.getheaders()}
            return compare(case, resp.status, got_headers, raw)
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001 - any failure is the case's result
        return [f"request: {type(exc).__name__}: {exc}"]
    finally:
        server.stop()


def known_limit(case: Case) -> str | None:
    """Why a case cannot pass on this transport, or None.

    A body shorter than its declared Content-Length is only detectable when
    the client half-closes, and the netpoll transport drops a connection
    whose peer half-closes before any answer can be written. Such cases are
    reported, and do not fail the run.
    """
    req = case.doc["request"]
    declared = next(
        (
            v
            for k, v in (req.get("headers") or {}).items()
            if k.lower() == "content-length"
        ),
        None,
    )
    if declared is None:
        return None
    _, _, _, body = build_request(case)
    if body is not None and declared != str(len(body)):
        return (
            "body shorter than Content-Length: netpoll drops a half-closed connection"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    ap.add_argument(
        "-k",
        dest="filter",
        default="",
        help="only cases whose category/name contains this",
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = ap.parse_args(argv)
    if not args.verbose:
        # Handler tracebacks (cases that make a handler fail on purpose) are noise here.
        logging.getLogger("spikard").setLevel(logging.CRITICAL)
    root = args.fixtures.resolve()
    if not root.is_dir():
        print(f"fixtures directory not found: {root}", file=sys.stderr)
        return 2
    cases = [c for c in load_cases(root) if args.filter in c.name]
    start = time.monotonic()
    results: dict[str, list[tuple[Case, list[str]]]] = defaultdict(list)
    for case in cases:
        diffs = run_case(case)
        results[case.category].append((case, diffs))
        if args.verbose:
            print(("ok   " if not diffs else "FAIL ") + case.name, flush=True)
    passed = failed = owned_failed = 0
    print(f"{'category':<20} {'passed':>7} {'total':>6}")
    for cat in sorted(results):
        rs = results[cat]
        n_ok = sum(1 for _, d in rs if not d)
        mark = "" if cat in OWNED else "  (reported only)"
        print(f"{cat:<20} {n_ok:>7} {len(rs):>6}{mark}")
        passed += n_ok
        failed += len(rs) - n_ok
        if cat in OWNED:
            owned_failed += sum(1 for c, d in rs if d and not known_limit(c))
    shown = False
    for cat in sorted(results):
        for case, diffs in results[cat]:
            if diffs:
                if not shown:
                    print("\nfailures:")
                    shown = True
                tag = "" if cat in OWNED else " (reported only)"
                limit = known_limit(case)
                if cat in OWNED and limit:
                    tag = f" (known limitation, reported only: {limit})"
                print(f"- {case.name}{tag}: {case.doc.get('name', '')}")
                for d in diffs:
                    print(f"    {d}")
    print(
        f"\nowned categories: {owned_failed} failed; elapsed {time.monotonic() - start:.1f}s"
    )
    print(f"{passed} passed, {failed} failed")
    return 1 if owned_failed else 0


if __name__ == "__main__":
    sys.exit(main())
