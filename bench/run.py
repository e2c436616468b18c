#!/usr/bin/env python3
"""Benchmark harness: Spikard against its peers and the plain-Hertz ceiling.

Follows shared/bench/WORKLOADS.md: its 18 workloads, wrk with 64 connections
and one thread, server pinned to CPU 0 and wrk to CPU 1, a warm-up then a
measured run, servers interleaved round by round, the median round quoted; then
(unless --pinned-only) one round unpinned (--unpinned-rounds), each server with
its recommended workers for two cores. Every answer is checked (status and body) before
anything is timed; a wrong answer is reported, never timed. Each peer lives in
its own virtualenv under bench/.venvs/, made here from the pinned
bench/peers/<name>/requirements.txt; each Node peer in its own node_modules,
`npm ci` from its package-lock.json. The harness itself is standard library
only, so it runs with any python3; the chart is drawn with bench/plot's venv.
Every ratio is ours ÷ peer, ours being `spikard` when it runs, else
`spikard-node` (--ours names another).

    python3 bench/run.py [--quick] [--rounds 3] [--duration 10] [--warmup 2]
                         [--python .venv/bin/python] [--servers a,b,... | --node]
                         [--ours NAME] [--workloads a,b,...] [--unpinned-rounds 1]
                         [--pinned-only | --unpinned-only] [--verify-only]
                         [--label NAME]
"""

import argparse
import atexit
import base64
import dataclasses
import datetime
import gzip
import hashlib
import hmac
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import targets  # bench/targets.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BUILD = BENCH / ".build"
PAYLOADS = Path(
    os.environ.get("SPIKARD_PAYLOADS", ROOT.parent / "shared" / "bench" / "payloads")
)
HOST = "127.0.0.1"
SERVER_CPU, WRK_CPU = "0", "1"
CONNECTIONS = 64
READY_TIMEOUT_S = (
    30.0  # a cold Python import plus loading libspikard.so fits well inside
)


@dataclass
class Workload:
    name: str
    method: str
    path: str
    body: Path | None  # the exact request body wrk and the check send
    content_type: str | None
    expected: object  # the answer's JSON, compared as parsed values
    accept_encoding: str | None = (
        None  # sent by wrk and the check (compressed workloads)
    )


@dataclass
class Server:
    name: str
    argv: list[str]  # pinned run; "{port}" is replaced by the chosen port
    argv_multi: list[str] | None = (
        None  # unpinned run with 2-core workers; None: same argv
    )
    env: dict | None = None  # extra environment; "{port}" is replaced too
    skip: str | None = None  # why this server cannot run, if it cannot
    note: str = ""  # e.g. that multi-worker is unsupported
    fixed_port: int | None = None  # for a server that cannot be told its port
    headers: dict | None = None  # sent with every request (wrk -H, the check)


MULTIPART_BOUNDARY = "spikardbench7d2f1c9a"
QUERY_MEDIUM = "page=2&limit=50&sort=created_at&order=desc&q=widget&active=true&min_price=9.5&category=tools"
QUERY_MANY = (
    QUERY_MEDIUM
    + "&max_price=99.5&brand=acme&color=red&size=m&tag=a&tag=b&tag=c&in_stock=true&rating=4"
)
UUID = "7f1c6a1e-9c2b-4c3e-8a55-1f0c2d3e4b5a"


def request_bodies() -> dict[str, Path]:
    """Form and multipart bodies built once from the payloads, byte for byte
    the same in every run: url-encoded in forms.json's key order, multipart
    with a fixed boundary and the payload file's name as the filename."""
    out = BUILD / "bodies"
    out.mkdir(parents=True, exist_ok=True)
    bodies: dict[str, Path] = {}
    forms = json.loads((PAYLOADS / "forms.json").read_bytes())
    for name in ("form-simple", "form-complex"):
        bodies[name] = out / f"{name}.body"
        bodies[name].write_bytes(urllib.parse.urlencode(forms[name]).encode())
    for size in ("small", "medium", "large"):
        fname = f"multipart-{size}.bin"
        head = (
            f"--{MULTIPART_BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{fname}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{MULTIPART_BOUNDARY}--\r\n".encode()
        bodies[f"multipart-{size}"] = out / f"multipart-{size}.body"
        bodies[f"multipart-{size}"].write_bytes(
            head + (PAYLOADS / fname).read_bytes() + tail
        )
    return bodies


def workloads() -> list[Workload]:
    """WORKLOADS.md's 18 workloads with the answer each must give."""
    j = "application/json"
    js = lambda name: json.loads((PAYLOADS / f"{name}.json").read_bytes())
    bodies = request_bodies()
    forms = json.loads((PAYLOADS / "forms.json").read_bytes())
    complex_form = dict(
        forms["form-complex"], age=int(forms["form-complex"]["age"]), newsletter=True
    )
    medium = {
        "page": 2, "limit": 50, "sort": "created_at", "order": "desc", "q": "widget",
        "active": True, "min_price": 9.5, "category": "tools",
    }  # fmt: skip
    many = dict(
        medium, max_price=99.5, brand="acme", color="red", size="m",
        tag=["a", "b", "c"], in_stock=True, rating=4,
    )  # fmt: skip
    mp = f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"
    form = "application/x-www-form-urlencoded"
    out = [
        Workload(n, "POST", f"/json/{n[5:]}", PAYLOADS / f"{n}.json", j, js(n))
        for n in ("json-small", "json-medium", "json-large", "json-very-large")
    ]
    deep = {
        "org": "acme",
        "team": "core",
        "project": "api",
        "resource": "users",
        "id": "9",
    }
    out += [
        Workload("path-simple", "GET", "/path/simple/abc123", None, None, {"id": "abc123"}),
        Workload("path-multiple", "GET", "/path/multiple/u42/p7", None, None, {"user_id": "u42", "post_id": "p7"}),
        Workload("path-deep", "GET", "/path/deep/acme/core/api/users/9", None, None, deep),
        Workload("path-int", "GET", "/path/int/12345", None, None, {"value": 12345}),
        Workload("path-uuid", "GET", f"/path/uuid/{UUID}", None, None, {"id": UUID}),
        Workload("path-date", "GET", "/path/date/2026-11-24", None, None, {"date": "2026-11-24"}),
        Workload("query-few", "GET", "/query/few?page=1&limit=20&sort=name", None, None,
                 {"page": 1, "limit": 20, "sort": "name"}),
        Workload("query-medium", "GET", f"/query/medium?{QUERY_MEDIUM}", None, None, medium),
        Workload("query-many", "GET", f"/query/many?{QUERY_MANY}", None, None, many),
        Workload("form-simple", "POST", "/urlencoded/simple", bodies["form-simple"], form, forms["form-simple"]),
        Workload("form-complex", "POST", "/urlencoded/complex", bodies["form-complex"], form, complex_form),
    ]  # fmt: skip
    for size, n in (("small", 1024), ("medium", 10240), ("large", 102400)):
        out.append(
            Workload(f"multipart-{size}", "POST", f"/multipart/{size}", bodies[f"multipart-{size}"], mp,
                     {"filename": f"multipart-{size}.bin", "size": n})
        )  # fmt: skip
    return out


def compressed_workloads() -> list[Workload]:
    """Beyond WORKLOADS.md, run only when named: json-large asking for a
    compressed answer (issue 14's figure). The servers that compress are
    spikard-compress (CompressionConfig, quality 6) and fastapi-gzip
    (GZipMiddleware, compresslevel 6); a server answers what it can (FastAPI
    has no brotli: identity), and the check records which coding came."""
    large = next(w for w in workloads() if w.name == "json-large")
    return [
        dataclasses.replace(large, name=f"json-large-{tag}", accept_encoding=coding)
        for tag, coding in (("gzip", "gzip"), ("br", "br"))
    ]


QUICK_WORKLOADS = (
    "json-small,json-medium,path-simple,query-many,form-complex,multipart-small"
)


def run_quiet(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, check=False, **kw
    )


VENVS = BENCH / ".venvs"
BASE_PYTHON = os.environ.get("SPIKARD_BENCH_PYTHON", "python3.11")


def ensure_venv(name: str, requirements: Path) -> tuple[str, str | None]:
    """bench/.venvs/<name> with exactly the pinned requirements; remade when
    the requirements file changes. Returns (python, why it failed or None)."""
    venv = VENVS / name
    python = str(venv / "bin" / "python")
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = venv / ".requirements.sha256"
    if stamp.exists() and stamp.read_text() == digest:
        return python, None
    base = shutil.which(BASE_PYTHON) or sys.executable
    print(
        f"setting up {venv.relative_to(ROOT)} from {requirements.relative_to(ROOT)}",
        file=sys.stderr,
    )
    for argv in (
        [base, "-m", "venv", "--clear", str(venv)],
        [python, "-m", "pip", "install", "-q", "--no-deps", "-r", str(requirements)],
    ):
        r = run_quiet(argv, timeout=1200)
        if r.returncode != 0:
            return (
                python,
                f"`{' '.join(argv)}` failed:\n{(r.stderr or r.stdout).strip()}",
            )
    stamp.write_text(digest)
    return python, None


UVICORN_PEERS = ("fastapi", "litestar", "blacksheep")
PEERS = (*UVICORN_PEERS, "robyn", "spikard-0.3.5", "spikard-0.17")
SERVERS = ("spikard", "spikard-sync", *PEERS, "ceiling")  # the default run
# Compressing variants, run only when named (compressed_workloads).
COMPRESSING = ("spikard-compress", "fastapi-gzip")
# The Node table (--node): our Node package and the Node frameworks, each peer
# in bench/peers/<name>/ with app.mjs and a pinned package-lock.json.
NODE_PEERS = ("fastify", "hono", "express")
NODE_SERVERS = ("spikard-node", *NODE_PEERS)
# spikard-node-hooks: the Node app with one no-op hook in each phase (issue
# 17's figure for Node, against spikard-node); named only.
NODE_HOOKS = "spikard-node-hooks"
# Our app with its middleware set apart, for the cost of request ids and
# CORS: spikard-bare turns request ids off (they are on by default);
# spikard-mw keeps them on and adds an app-wide CORS policy and compression
# (issue 14's set); every request carries an allowed Origin, so each answer
# gets the CORS headers, and asks for the encodings a browser asks for (the
# small answers stay identity: below min_size, negotiated all the same).
MIDDLEWARE_SERVERS = ("spikard-bare", "spikard-mw")
BENCH_ORIGIN = "https://bench.example"
BROWSER_ENCODINGS = "gzip, deflate, br, zstd"
# Our app with the access log on (issue 18's cost): the core formats and
# ships the lines, which the binding drops (spikard.access at WARNING), or
# also writes each as a logging record (-records).
ACCESS_LOG_SERVERS = ("spikard-accesslog", "spikard-accesslog-records")

# spikard-hooks: our app with one no-op lifecycle hook in each phase, the
# cost of hooks (issue 17's figure: path-simple at most 15% below spikard).
# spikard-host-hooks: only pre_handler, on_response and on_error (no pre visit).
# Our app with its guards on (core/guard.go), named only: an HS256 token
# checked on every request, and that plus a Redis rate limit (never
# refusing: what is measured is the Lua script's round trip).
GUARDED = ("spikard-jwt", "spikard-jwt-redis")
KNOWN = (
    *SERVERS,
    *NODE_SERVERS,
    "baseline",
    "baseline-sync",
    "spikard-hooks",
    "spikard-host-hooks",
    NODE_HOOKS,
    *ACCESS_LOG_SERVERS,
    *GUARDED,
    *MIDDLEWARE_SERVERS,
    *COMPRESSING,
)
# What "ours" is when --ours does not say: the first of these that runs.
OURS_BY_DEFAULT = ("spikard", "spikard-node", "spikard-compress")
NODE_ADDON = ROOT / "bindings" / "node" / "build" / "Release" / "spikard.node"


def choose_ours(names: list[str], explicit: str | None = None) -> str:
    """The server every ratio is ours ÷: --ours when given (it must run),
    else `spikard` when it runs, else `spikard-node` when it runs, else
    `spikard` (then no ratio is measured, as before)."""
    if explicit is not None:
        if explicit not in names:
            sys.exit(f"run.py: --ours {explicit!r} is not among --servers {names}")
        return explicit
    return next((n for n in OURS_BY_DEFAULT if n in names), OURS_BY_DEFAULT[0])


def shown(path: Path) -> str:
    """A path as messages name it: from the repository root when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def ensure_node_modules(peer: Path) -> str | None:
    """peer/node_modules exactly as peer/package-lock.json locks it (`npm ci`),
    remade when the lock file's SHA-256 changes (stamp inside node_modules).
    Why it failed, or None."""
    lock = peer / "package-lock.json"
    if not lock.exists():
        return f"{shown(lock)} is missing"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp = peer / "node_modules" / ".package-lock.sha256"
    if stamp.exists() and stamp.read_text() == digest:
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm not found on PATH"
    print(f"installing {shown(peer)}/node_modules (npm ci)", file=sys.stderr)
    argv = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        r = subprocess.run(
            argv, cwd=peer, capture_output=True, text=True, check=False, timeout=1200
        )
    except subprocess.TimeoutExpired:
        return f"`{' '.join(argv)}` in {shown(peer)} timed out"
    if r.returncode != 0:
        return f"`{' '.join(argv)}` in {shown(peer)} failed:\n{(r.stderr or r.stdout).strip()}"
    stamp.write_text(digest)
    return None


def prepare_node_server(name: str) -> Server:
    """spikard-node (our package from bindings/node) or a Node peer (its
    node_modules installed first), run by the `node` on PATH; unpinned, each
    with 2 workers."""
    node = shutil.which("node")
    peer = BENCH / "peers" / name
    app = (
        BENCH / "apps" / "spikard_app.mjs"
        if name in ("spikard-node", NODE_HOOKS)
        else peer / "app.mjs"
    )
    argv = [node or "node", str(app), "--port", "{port}"]
    if name == NODE_HOOKS:
        argv.append("--hooks")
    if name in ("spikard-node", NODE_HOOKS):
        note = "unpinned: new Spikard({ workers: 2 })"
    else:
        note = "unpinned: node:cluster, 2 workers"
    s = Server(name, argv, [*argv, "--workers", "2"], note=note)
    if node is None:
        s.skip = "node not found on PATH"
    elif name in ("spikard-node", NODE_HOOKS):
        if not NODE_ADDON.exists():
            s.skip = f"{shown(NODE_ADDON)} is missing (run `make setup-node`)"
    else:
        s.skip = ensure_node_modules(peer)
    return s


BENCH_SECRET = "bench-secret"


def hs256_token(secret: str) -> str:
    """A valid HS256 JWT (no exp), the same for every request."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(b'{"alg":"HS256","typ":"JWT"}')
    body = b64(b'{"sub":"bench","aud":"bench"}')
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def start_redis() -> tuple[str | None, str | None]:
    """A redis-server for this run on a free port, pinned to the server's CPU
    (its work is the server's cost), killed at exit: its URL, or why not."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None, "redis-server not found (apt-get install redis-server)"
    port = free_port()
    proc = subprocess.Popen(
        [
            "taskset",
            "-c",
            SERVER_CPU,
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    atexit.register(lambda: (proc.kill(), proc.wait()))
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return f"redis://127.0.0.1:{port}/0", None
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                return None, "redis-server did not start"
            time.sleep(0.02)  # a poll with a deadline: it listens within ms


def prepare_guarded(name: str, python: str) -> Server:
    """spikard-jwt and spikard-jwt-redis (GUARDED)."""
    argv = [
        python,
        str(BENCH / "apps" / "spikard_app.py"),
        "--port",
        "{port}",
        "--jwt",
        BENCH_SECRET,
    ]
    s = Server(
        name,
        argv,
        [*argv, "--workers", "2"],
        note="unpinned: ServerConfig(workers=2)",
        headers={"Authorization": "Bearer " + hs256_token(BENCH_SECRET)},
    )
    if name == "spikard-jwt-redis":
        url, why = start_redis()
        if url is None:
            s.skip = why
            return s
        s.argv = [*argv, "--redis-limit", url]
        s.argv_multi = [*s.argv, "--workers", "2"]
        s.note = (
            "unpinned: ServerConfig(workers=2); redis-server pinned with the server"
        )
    s.skip = s.skip or import_check(python, "spikard")
    return s


def import_check(python: str, module: str) -> str | None:
    if not os.path.exists(python):
        return f"{python} does not exist (run `make setup`)"
    r = run_quiet([python, "-c", f"import {module}"])
    if r.returncode != 0:
        return (
            f"`import {module}` failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
        )
    return None


def prepare_server(name: str, python: str, baseline: str | None = None) -> Server:
    """The server's command lines, and why it cannot run if it cannot.

    ``baseline`` and ``baseline-sync`` are our app under ``baseline``, an
    interpreter with another build of spikard installed: a before/after
    comparison interleaved in one run, so that the machine's drift between
    two runs does not land in the difference.
    """
    if name in ("baseline", "baseline-sync"):
        if baseline is None:
            sys.exit(f"run.py: server {name!r} needs --baseline-python")
        python = baseline
    if name in (
        "spikard",
        "spikard-sync",
        "baseline",
        "baseline-sync",
        *ACCESS_LOG_SERVERS,
        "spikard-hooks",
        "spikard-host-hooks",
        "spikard-compress",
        *MIDDLEWARE_SERVERS,
    ):
        argv = [python, str(BENCH / "apps" / "spikard_app.py"), "--port", "{port}"]
        if name.endswith("-sync"):
            argv.append("--sync")
        if name in ACCESS_LOG_SERVERS:
            argv.append("--access-log")
        if name.endswith("-records"):
            argv.append("--records")
        if name == "spikard-hooks":
            argv.append("--hooks")
        if name == "spikard-host-hooks":
            argv.append("--host-hooks")
        if name == "spikard-compress":
            argv.append("--compression")
        if name == "spikard-bare":
            argv.append("--no-request-id")
        if name == "spikard-mw":
            argv += ["--cors-origin", BENCH_ORIGIN, "--compression"]
        s = Server(
            name,
            argv,
            [*argv, "--workers", "2"],
            note="unpinned: ServerConfig(workers=2)",
            headers=(
                {"Origin": BENCH_ORIGIN, "Accept-Encoding": BROWSER_ENCODINGS}
                if name == "spikard-mw"
                else None
            ),
        )
        s.skip = import_check(python, "spikard")
        return s
    if name in GUARDED:
        return prepare_guarded(name, python)
    if name in NODE_SERVERS or name == NODE_HOOKS:
        return prepare_node_server(name)
    if name == "ceiling":
        # Built once and run directly (not `go run`) so the PID we sample for
        # RSS is the server's own and no compile time lands in a measurement.
        binary = BUILD / "ceiling"
        s = Server(
            name, [str(binary), "-port", "{port}"], note="unpinned: GOMAXPROCS=2"
        )
        r = run_quiet(["go", "build", "-o", str(binary), "./bench/ceiling"])
        if r.returncode != 0:
            s.skip = "go build ./bench/ceiling failed:\n" + r.stderr.strip()
        return s
    gzip_env = None
    if name == "fastapi-gzip":  # FastAPI's app with Starlette's GZipMiddleware
        name, gzip_env = "fastapi", {"BENCH_GZIP": "1"}
    if name not in PEERS:
        sys.exit(f"run.py: unknown server {name!r} (known: {', '.join(KNOWN)})")
    peer = BENCH / "peers" / name
    vpy, err = ensure_venv(name, peer / "requirements.txt")
    vbin = str(Path(vpy).parent)
    if name in UVICORN_PEERS:
        argv = [
            f"{vbin}/uvicorn", "app:app", "--app-dir", str(peer), "--host", HOST, "--port", "{port}",
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        s = Server(
            name, argv, [*argv, "--workers", "2"], note="unpinned: uvicorn --workers 2"
        )
        if gzip_env is not None:
            s.name, s.env = "fastapi-gzip", gzip_env
            s.note += "; GZipMiddleware(minimum_size=1024, compresslevel=6)"
    elif name == "robyn":
        argv = [
            vpy,
            str(peer / "app.py"),
            "--processes",
            "1",
            "--workers",
            "1",
            "--disable-openapi",
            "--log-level",
            "WARN",
        ]
        multi = [
            vpy,
            str(peer / "app.py"),
            "--processes",
            "2",
            "--workers",
            "1",
            "--disable-openapi",
            "--log-level",
            "WARN",
        ]
        s = Server(name, argv, multi, env={"ROBYN_PORT": "{port}", "ROBYN_HOST": HOST},
                   note="unpinned: --processes 2 --workers 1")  # fmt: skip
    elif name == "spikard-0.17":
        # 0.17.2's App.run() never passes its ServerConfig to the native
        # app_run(), so it always listens on 127.0.0.1:8000 with one worker.
        argv = [vpy, str(peer / "app.py"), "--port", "8000"]
        s = Server(name, argv, note="always 127.0.0.1:8000, default workers: App.run() drops ServerConfig",
                   fixed_port=8000)  # fmt: skip
    else:  # the original Spikard 0.3.5 from PyPI
        argv = [vpy, str(peer / "app.py"), "--port", "{port}"]
        s = Server(
            name, argv, [*argv, "--workers", "2"], note="unpinned: run(workers=2)"
        )
    s.skip = err or import_check(vpy, "spikard" if name.startswith("spikard") else name)
    return s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, patience_s: float = 90.0) -> str | None:
    """Wait until a fixed port can be bound; the reason it can't, or None.

    A server without SO_REUSEADDR cannot listen again while its previous
    run's connections sit in TIME_WAIT (about a minute on Linux), so the
    fixed-port peer would otherwise fail every run after its first.
    """
    deadline = time.monotonic() + patience_s
    while True:
        try:
            with socket.socket() as sock:
                sock.bind((HOST, port))
            return None
        except OSError as e:
            if time.monotonic() >= deadline:
                return f"its fixed port {port} stayed taken for {patience_s:.0f} s: {e}"
            time.sleep(1.0)


class Running:
    """One server process, pinned to SERVER_CPU, stopped on exit from the with-block."""

    def __init__(self, server: Server, pinned: bool = True):
        self.server = server
        self.port = server.fixed_port or free_port()
        self.busy = None
        if server.fixed_port:
            self.busy = wait_for_port(server.fixed_port)
        BUILD.mkdir(exist_ok=True)
        # Closed in stop(); kept past this object when the server failed.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix=server.name + "-", suffix=".log", dir=BUILD, delete=False
        )
        raw = server.argv if pinned or server.argv_multi is None else server.argv_multi
        argv = [a.replace("{port}", str(self.port)) for a in raw]
        env = dict(os.environ)
        for k, v in (server.env or {}).items():
            env[k] = v.replace("{port}", str(self.port))
        # taskset execs the server, so proc.pid is the server's own PID; the
        # affinity is inherited by every thread and worker process it starts
        # (Go sets GOMAXPROCS from it). A new session lets us signal exactly
        # what we started, and find its worker processes by process group.
        prefix = ["taskset", "-c", SERVER_CPU] if pinned else []
        if self.busy:
            argv = ["true"]  # nothing to start; __enter__ reports why
        self.proc = subprocess.Popen(
            [*prefix, *argv],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )

    def group_pids(self) -> list[int]:
        """The server and any worker processes it forked (same process group)."""
        pids = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:
                pids.append(int(d.name))
        return pids or [self.proc.pid]

    def __enter__(self) -> "Running":  # noqa: PYI034 (a final class)
        if self.busy:
            self.stop()
            raise RuntimeError(f"{self.server.name}: {self.busy}")
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"{self.server.name} exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                socket.create_connection((HOST, self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"{self.server.name} did not listen within {READY_TIMEOUT_S:.0f}s:\n{self.log_tail()}"
        )

    def __exit__(self, exc_type, *_) -> None:
        self.stop()
        if exc_type is None:  # keep the log only when something went wrong
            os.unlink(self.log.name)

    def url(self, w: Workload) -> str:
        return f"http://{HOST}:{self.port}{w.path}"

    def peak_rss_kib(self) -> int | None:
        # VmHWM is the resident-set high-water mark over a process's life;
        # summed over the server's processes when it runs several workers.
        total = 0
        for pid in self.group_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            total += int(m.group(1)) if m else 0
        return total or None

    def cpu_seconds(self) -> float:
        # utime + stime of all the server's processes and threads, from /proc/PID/stat.
        total = 0.0
        for pid in self.group_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def log_tail(self, lines: int = 20) -> str:
        # The server writes the file through its own descriptor; read it by name.
        tail = Path(self.log.name).read_text(errors="replace").splitlines()[-lines:]
        return "\n".join([*tail, f"(log: {self.log.name})"])


def check_answer(srv: Running, w: Workload) -> dict:
    """One request; the answer must be 200, JSON, and equal to the expected value."""
    data = w.body.read_bytes() if w.body else None
    req = urllib.request.Request(srv.url(w), data=data, method=w.method)
    for k, v in (srv.server.headers or {}).items():
        req.add_header(k, v)
    if data is not None:
        req.add_header("Content-Type", w.content_type)
    if w.accept_encoding:
        req.add_header("Accept-Encoding", w.accept_encoding)
    coding = ""
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, ctype, body = (
                resp.status,
                resp.headers.get("Content-Type", ""),
                resp.read(),
            )
            coding = resp.headers.get("Content-Encoding", "")
    except urllib.error.HTTPError as e:
        status, ctype, body = e.code, e.headers.get("Content-Type", ""), e.read()
    except OSError as e:
        return {"ok": False, "problem": f"request failed: {e}"}
    wire_bytes = len(body)
    if coding:
        body, why = decode_body(coding, body)
        if why:
            return {
                "ok": False,
                "problem": f"content-encoding {coding} does not decode: {why}",
            }
    result = {
        "status": status,
        "content_type": ctype,
        "body": body.decode(errors="replace"),
    }
    if w.accept_encoding:
        result["content_encoding"] = coding or "identity"
        result["wire_bytes"] = wire_bytes
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    problems = []
    if status != 200:
        problems.append(f"status {status}")
    # Recorded, not judged: WORKLOADS.md checks status and body.
    result["content_type_ok"] = ctype.startswith("application/json")
    if value != w.expected:
        problems.append(f"body {body[:200]!r}")
    result["ok"] = not problems
    # Informational: WORKLOADS.md asks for the same bytes, compact JSON.
    result["same_bytes"] = (
        body == json.dumps(w.expected, separators=(",", ":")).encode()
    )
    if problems:
        result["problem"] = "; ".join(problems)
    return result


def decode_body(coding: str, body: bytes) -> tuple[bytes, str | None]:
    """A compressed answer decoded (gzip with the standard library, br
    through Node's zlib, which the Python standard library lacks)."""
    try:
        if coding == "gzip":
            return gzip.decompress(body), None
        if coding == "br":
            script = "process.stdout.write(require('zlib').brotliDecompressSync(require('fs').readFileSync(0)))"
            r = subprocess.run(
                ["node", "-e", script],
                input=body,
                capture_output=True,
                check=False,
                timeout=30,
            )
            if r.returncode == 0:
                return r.stdout, None
            return body, r.stderr.decode(errors="replace").strip() or "node failed"
    except (OSError, EOFError, zlib.error, subprocess.SubprocessError) as e:
        return body, str(e)
    return body, f"unknown coding {coding!r}"


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(out: str) -> dict:
    def num(pattern: str) -> float | None:
        m = re.search(pattern, out, re.MULTILINE)
        return float(m.group(1)) if m else None

    def latency_ms(pct: str) -> float | None:
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
        return float(m.group(1)) * UNITS_MS[m.group(2)] if m else None

    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    kinds = ("connect", "read", "write", "timeout")
    socket_errors = (
        dict(zip(kinds, map(int, sock.groups()), strict=True)) if sock else {}
    )
    non_2xx = int(num(r"Non-2xx or 3xx responses: (\d+)") or 0)
    return {
        "req_s": num(r"^Requests/sec:\s+([\d.]+)"),
        "requests": int(num(r"^\s+(\d+) requests in") or 0),
        "p50_ms": latency_ms("50"),
        "p99_ms": latency_ms("99"),
        "socket_errors": socket_errors,
        "non_2xx": non_2xx,
        "errors": sum(socket_errors.values()) + non_2xx,
    }


def wrk(
    srv: Running, w: Workload, seconds: int, pinned: bool = True
) -> tuple[dict, str]:
    argv = [
        *(["taskset", "-c", WRK_CPU] if pinned else []),
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
    ]
    for k, v in (srv.server.headers or {}).items():
        argv += ["-H", f"{k}: {v}"]
    env = dict(os.environ)
    if w.accept_encoding:
        argv += ["-H", f"Accept-Encoding: {w.accept_encoding}"]
    if w.body:
        argv += ["-s", str(BENCH / "wrk" / "post.lua")]
        env["WRK_BODY"] = str(w.body)
        env["WRK_CONTENT_TYPE"] = w.content_type
    # Children's CPU time grows only when wrk is reaped (servers are reaped
    # later), so the difference is wrk's own.
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    r = subprocess.run(
        [*argv, srv.url(w)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=seconds + 60,
    )
    after, elapsed = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"wrk failed ({r.returncode}): {r.stderr.strip()}")
    result = parse_wrk(r.stdout)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    # Near 100% means the load generator, not the server, set the pace.
    result["wrk_cpu_pct"] = 100 * cpu / elapsed
    return result, r.stdout


def verify(
    servers: list[Server], loads: list[Workload], notes: dict
) -> tuple[list, set]:
    """Check every answer before timing anything; a wrong answer is not timed."""
    verification = []
    timed: set[tuple[str, str]] = set()
    for s in (s for s in servers if not s.skip):
        try:
            with Running(s) as srv:
                for w in loads:
                    v = {"server": s.name, "workload": w.name, **check_answer(srv, w)}
                    verification.append(v)
                    if v["ok"]:
                        timed.add((s.name, w.name))
                    else:
                        notes[(w.name, s.name)] = "wrong answer, not timed"
                        print(
                            f"{s.name} {w.name}: wrong answer: {v['problem']}",
                            file=sys.stderr,
                        )
        except RuntimeError as e:
            s.skip = str(e)
            print(f"skip {s.name}: {e}", file=sys.stderr)
            for w in loads:
                notes[(w.name, s.name)] = "not run: did not start"
    return verification, timed


def core_ticks(cpu: str) -> tuple[int, int, int]:
    """(busy, task, total) jiffies of one CPU so far; task counts user and system
    time only, leaving out the kernel's interrupt work (loopback traffic)."""
    line = re.search(
        rf"^cpu{cpu} (.+)$", Path("/proc/stat").read_text(), re.MULTILINE
    ).group(1)
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, line.split()[:8])
    total = user + nice + system + idle + iowait + irq + softirq + steal
    return total - idle - iowait, user + nice + system, total


def measure(
    s: Server, w: Workload, rnd: int, warmup: int, duration: int, pinned: bool = True
) -> dict:
    """One fresh server process, a warm-up run, then the measured run."""
    try:
        with Running(s, pinned) as srv:
            wrk(srv, w, warmup, pinned)
            cpu0, t0 = srv.cpu_seconds(), time.monotonic()
            srv0, wrk0 = core_ticks(SERVER_CPU), core_ticks(WRK_CPU)
            result, raw = wrk(srv, w, duration, pinned)
            srv1, wrk1 = core_ticks(SERVER_CPU), core_ticks(WRK_CPU)
            server = 100 * (srv.cpu_seconds() - cpu0) / (time.monotonic() - t0)
            busy, task, total = (b - a for a, b in zip(srv0, srv1, strict=True))
            _, wrk_task, wrk_total = (b - a for a, b in zip(wrk0, wrk1, strict=True))
            result["server_cpu_pct"] = server
            # How busy the server's core was, the kernel's loopback work
            # included: well below 100% means the server was not the bottleneck.
            result["core_busy_pct"] = 100 * busy / total
            # Tasks other than ours on either core: other work on the machine,
            # which makes the run say less about the server.
            if pinned:
                result["other_cpu_pct"] = max(
                    0.0,
                    100 * task / total - server,
                    100 * wrk_task / wrk_total - result["wrk_cpu_pct"],
                )
            else:  # both share both cores: what is left of the two cores' task time
                result["core_busy_pct"] = 100 * (busy + wrk_task) / total
                result["other_cpu_pct"] = max(
                    0.0,
                    100 * (task + wrk_task) / total - server - result["wrk_cpu_pct"],
                )
            result["peak_rss_kib"] = srv.peak_rss_kib()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"round {rnd} {w.name} {s.name} failed: {e}", file=sys.stderr)
        result, raw = parse_wrk(""), ""
        result["failure"] = str(e)
    result.update(
        round=rnd,
        workload=w.name,
        server=s.name,
        mode="pinned" if pinned else "unpinned",
        wrk_output=raw,
    )
    result["valid"] = result["errors"] == 0 and result["req_s"] is not None
    flag = "" if result["valid"] else "  INVALID"
    req_s = result["req_s"] or 0
    print(
        f"{'pinned' if pinned else 'unpinned'} round {rnd} {w.name:16} {s.name:14} {req_s:>10,.0f} req/s{flag}",
        file=sys.stderr,
    )
    return result


def median_run(runs: list[dict]) -> dict:
    """The run with the median req/s (the lower middle for an even count)."""
    ordered = sorted(runs, key=lambda r: r["req_s"] or 0)
    return ordered[(len(ordered) - 1) // 2]


def tool_version(argv: list[str]) -> str:
    try:
        r = run_quiet(argv, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if r.returncode != 0:
        return "unknown"
    return ((r.stdout or r.stderr).strip().splitlines() or ["unknown"])[0]


def machine(python: str) -> dict:
    m = re.search(
        r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE
    )
    cpu = m.group(1) if m else "unknown"
    return {
        "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "kernel": platform.release(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "go": tool_version(["go", "version"]),
        "node": tool_version(["node", "--version"]),
        "wrk": tool_version(["wrk", "--version"]),
        "app_python": tool_version(
            [python, "-c", "import sys; print(sys.version.split()[0])"]
        ),
        "spikard": tool_version(
            [
                python,
                "-c",
                "import spikard; print(getattr(spikard, '__version__', '?'))",
            ]
        ),
        "msgspec": tool_version(
            [python, "-c", "import msgspec; print(msgspec.__version__)"]
        ),
        "git_commit": tool_version(["git", "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(run_quiet(["git", "status", "--porcelain"]).stdout.strip()),
    }


# The package whose version names each Node server's framework.
NODE_PACKAGES = {"fastify": "fastify", "hono": "hono", "express": "express"}


def node_version(name: str) -> str:
    """spikard-node: bindings/node's package.json; a peer: the version npm ci
    installed in its node_modules."""
    if name in ("spikard-node", NODE_HOOKS):
        package = ROOT / "bindings" / "node" / "package.json"
    else:
        package = (
            BENCH
            / "peers"
            / name
            / "node_modules"
            / NODE_PACKAGES[name]
            / "package.json"
        )
    try:
        return json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"


def versions(servers: list[Server], python: str) -> dict:
    """Each framework's version from the interpreter that serves it."""
    out = {}
    for s in servers:
        if s.name == "ceiling":
            continue
        if s.name in NODE_SERVERS or s.name == NODE_HOOKS:
            out[s.name] = node_version(s.name)
            continue
        venv = "fastapi" if s.name == "fastapi-gzip" else s.name
        py = (
            python
            if s.name
            in ("spikard", "spikard-sync", "spikard-compress", *ACCESS_LOG_SERVERS)
            else str(VENVS / venv / "bin" / "python")
        )
        dist = "spikard" if s.name.startswith("spikard") else venv
        out[s.name] = tool_version(
            [py, "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"]
        )
    out["hertz"] = tool_version(
        ["go", "list", "-m", "-f", "{{.Version}}", "github.com/cloudwego/hertz"]
    )
    return out


def geomean(values: list[float]) -> float | None:
    import math

    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def summarize(
    runs: list[dict],
    servers: list[Server],
    loads: list[Workload],
    mode: str,
    ours: str = OURS_BY_DEFAULT[0],
) -> dict:
    """Median rounds per (workload, server), and ours ÷ each other server:
    within each round (so drift cancels), the median over rounds; then the
    geometric mean over the workloads both answered and ran validly. The
    summary names which server was ours."""
    runs = [r for r in runs if r["mode"] == mode]
    rows = []
    by = {}
    for r in runs:
        by.setdefault((r["workload"], r["server"]), {})[r["round"]] = r
    for w in loads:
        mine_ours = by.get((w.name, ours), {})
        for s in servers:
            mine = by.get((w.name, s.name), {})
            row = {"workload": w.name, "server": s.name, "rounds": len(mine)}
            if mine:
                row["median"] = median_run(list(mine.values()))
                row["invalid_rounds"] = sum(not r["valid"] for r in mine.values())
                ratios = sorted(
                    mine_ours[k]["req_s"] / r["req_s"]
                    for k, r in mine.items()
                    if s.name != ours
                    and r["valid"]
                    and k in mine_ours
                    and mine_ours[k]["valid"]
                )
                row["ours_ratio"] = ratios[(len(ratios) - 1) // 2] if ratios else None
            rows.append(row)
    geo = {}
    for s in servers:
        if s.name == ours:
            continue
        vals = [
            r["ours_ratio"]
            for r in rows
            if r["server"] == s.name and r.get("ours_ratio")
        ]
        geo[s.name] = {"geomean": geomean(vals), "workloads": len(vals)}
    return {"ours": ours, "rows": rows, "geomean": geo}


def ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f} ms"


DISTURBED_PCT = 10.0  # other tasks' share of either core that flags a run


def cpu_note(run: dict) -> str:
    """Server core busy / wrk's CPU, and a mark when other work shared the core."""
    if run.get("core_busy_pct") is None:
        return "?"
    note = f"{run['core_busy_pct']:.0f}% / {run['wrk_cpu_pct']:.0f}%"
    if run["other_cpu_pct"] > DISTURBED_PCT:
        note += f" (disturbed: {run['other_cpu_pct']:.0f}% other)"
    return note


def markdown(summary: dict, notes: dict[tuple[str, str], str], mode: str) -> str:
    ours = summary.get("ours", OURS_BY_DEFAULT[0])
    ours_col = f"{ours} ÷ this"
    lines = [
        f"| workload | server | req/s | p50 | p99 | errors | peak RSS | CPU srv / wrk | {ours_col} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in summary["rows"]:
        m = row.get("median")
        if m is None:
            note = notes.get((row["workload"], row["server"]), "not timed")
            lines.append(
                f"| {row['workload']} | {row['server']} | {note} | | | | | | |"
            )
            continue
        errors = str(m["errors"])
        if m.get("non_2xx"):
            errors += f" ({m['non_2xx']} non-2xx)"
        if row["invalid_rounds"]:
            errors += f" INVALID ({row['invalid_rounds']}/{row['rounds']} rounds)"
        if m["req_s"] is None:
            lines.append(
                f"| {row['workload']} | {row['server']} | failed (see JSON) | | | | | | |"
            )
            continue
        rss = f"{m['peak_rss_kib'] / 1024:.1f} MiB" if m.get("peak_rss_kib") else "?"
        ratio = f"{row['ours_ratio']:.2f}" if row.get("ours_ratio") is not None else "—"
        lines.append(
            f"| {row['workload']} | {row['server']} | {m['req_s']:,.0f} | {ms(m['p50_ms'])} "
            f"| {ms(m['p99_ms'])} | {errors} | {rss} | {cpu_note(m)} | {ratio} |"
        )
    lines += [
        "",
        f"Geometric mean of {ours} ÷ peer over the workloads both answered correctly and ran validly ({mode}):",
        "",
    ]
    lines += ["| peer | geomean | workloads |", "|---|---:|---:|"]
    for name, g in summary["geomean"].items():
        val = f"{g['geomean']:.2f}" if g["geomean"] is not None else "—"
        lines.append(f"| {name} | {val} | {g['workloads']} |")
    return "\n".join(lines)


def wrong_answers(verification: list[dict]) -> str:
    bad = [v for v in verification if not v["ok"]]
    if not bad:
        return "Every server answered every workload correctly."
    lines = ["Wrong answers (these pairs were not timed):", ""]
    lines += ["| server | workload | problem |", "|---|---|---|"]
    for v in bad:
        problem = v["problem"].replace("|", "\\|").replace("\n", " ")[:160]
        lines.append(f"| {v['server']} | {v['workload']} | {problem} |")
    return "\n".join(lines)


def draw_chart(results: Path, png: Path) -> str | None:
    """The bar chart of ratios, drawn by bench/plot/chart.py in its own venv."""
    python, err = ensure_venv("plot", BENCH / "plot" / "requirements.txt")
    if err:
        return err
    r = run_quiet(
        [python, str(BENCH / "plot" / "chart.py"), str(results), str(png)], timeout=300
    )
    return None if r.returncode == 0 else (r.stderr or r.stdout).strip()


RUN_OVERHEAD_S = 2.0  # starting and stopping a server, wrk's own start-up


def rounds_for(mode: str, args: argparse.Namespace) -> int:
    return args.rounds if mode == "pinned" else args.unpinned_rounds


def estimate(
    modes: list[str], args: argparse.Namespace, loads: list, servers: list
) -> str:
    """How long the timed part will take, before it starts: every run is a
    fresh server, a warm-up and a measured run."""
    ready = [s for s in servers if not s.skip]
    rounds = sum(rounds_for(mode, args) for mode in modes)
    runs = rounds * len(loads) * len(ready)
    seconds = runs * (args.warmup + args.duration + RUN_OVERHEAD_S)
    return (
        f"{len(ready)} server(s) x {len(loads)} workload(s) x {rounds} round(s) "
        f"over {len(modes)} mode(s) = {runs} timed run(s) of {args.warmup}+{args.duration} s: "
        f"about {seconds / 60:.0f} min after the answer checks"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: a few workloads, pinned only, 1 round of 3 s after 1 s unless --rounds/--duration/--warmup say otherwise",
    )
    # None means "the mode's default": 3 rounds of 10 s after 2 s, or --quick's 1 of 3 after 1.
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument(
        "--duration",
        type=int,
        default=None,
        help="measured seconds per run (default 10)",
    )
    ap.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="warm-up seconds before each measured run (default 2)",
    )
    ap.add_argument(
        "--python",
        default=str(ROOT / ".venv" / "bin" / "python"),
        help="interpreter with our spikard installed",
    )
    ap.add_argument(
        "--baseline-python",
        default=None,
        help="interpreter with another spikard build: servers baseline, baseline-sync",
    )
    which = ap.add_mutually_exclusive_group()
    which.add_argument(
        "--servers",
        default=None,
        help=f"comma-separated, in interleaving order (default: {','.join(SERVERS)}; "
        f"also {','.join(NODE_SERVERS)})",
    )
    which.add_argument(
        "--node",
        action="store_true",
        help=f"the Node table: --servers {','.join(NODE_SERVERS)}",
    )
    ap.add_argument(
        "--ours",
        default=None,
        help="the server every ratio is ours ÷ (default: spikard if it runs, else spikard-node)",
    )
    ap.add_argument(
        "--workloads",
        default=None,
        help="comma-separated subset (default: all 18; --quick: a few)",
    )
    ap.add_argument(
        "--unpinned-rounds",
        type=int,
        default=1,
        help="rounds of the unpinned run (default 1: the targets are judged pinned)",
    )
    ap.add_argument(
        "--pinned-only", action="store_true", help="skip the unpinned multi-worker run"
    )
    ap.add_argument("--unpinned-only", action="store_true", help="skip the pinned run")
    ap.add_argument(
        "--verify-only", action="store_true", help="check every answer, time nothing"
    )
    ap.add_argument(
        "--label",
        default=None,
        help="results are bench/results/<UTC date>-<label>.{json,md,png}",
    )
    args = ap.parse_args()
    defaults = (1, 3, 1) if args.quick else (3, 10, 2)
    if args.rounds is None:
        args.rounds = defaults[0]
    if args.duration is None:
        args.duration = defaults[1]
    if args.warmup is None:
        args.warmup = defaults[2]
    if args.quick:
        args.pinned_only = True
        args.workloads = args.workloads or QUICK_WORKLOADS
    label = args.label or (
        "quick" if args.quick else "verify" if args.verify_only else "full"
    )
    # abspath, not resolve(): a venv's python is a symlink and must stay one.
    python = os.path.abspath(args.python)

    if args.servers is None:
        args.servers = ",".join(NODE_SERVERS if args.node else SERVERS)
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    ours = choose_ours(names, args.ours)
    # go builds the ceiling; a Node-only run does without it.
    needed = ("wrk", "taskset", *(["go"] if "ceiling" in names else []))
    for tool in needed:
        if shutil.which(tool) is None:
            sys.exit(f"run.py: {tool} not found (wrk: apt-get install -y wrk)")
    if not {0, 1} <= os.sched_getaffinity(0):
        sys.exit("run.py: needs CPUs 0 and 1 (server on one, wrk on the other)")

    # Recorded only: the 1-minute average lags, so it cannot judge a run;
    # each run's other_cpu_pct does that.
    idle_load = os.getloadavg()[0]
    loads = workloads()
    if args.workloads:
        wanted = [n.strip() for n in args.workloads.split(",") if n.strip()]
        loads += compressed_workloads()  # only when named
        unknown = set(wanted) - {w.name for w in loads}
        if unknown:
            sys.exit(f"run.py: unknown workloads {sorted(unknown)}")
        loads = [w for w in loads if w.name in wanted]
    baseline = os.path.abspath(args.baseline_python) if args.baseline_python else None
    servers = [prepare_server(n, python, baseline) for n in names]
    notes: dict[tuple[str, str], str] = {}
    for s in servers:
        if s.skip:
            print(f"skip {s.name}: {s.skip}", file=sys.stderr)
            for w in loads:
                notes[(w.name, s.name)] = "not run: server unavailable"

    modes = (
        []
        if args.verify_only
        else ["pinned"]
        if args.pinned_only
        else ["unpinned"]
        if args.unpinned_only
        else ["pinned", "unpinned"]
    )
    if args.pinned_only and args.unpinned_only:
        sys.exit("run.py: --pinned-only and --unpinned-only exclude each other")
    print(estimate(modes, args, loads, servers), file=sys.stderr)

    verification, timed = verify(servers, loads, notes)

    # Round by round, workload by workload, every server in turn: drift on the
    # machine then hits all servers alike. A fresh process per run keeps each
    # run's peak RSS its own.
    runs = []
    for mode in modes:
        for rnd in range(1, rounds_for(mode, args) + 1):
            for w in loads:
                for s in servers:
                    if (s.name, w.name) in timed:
                        runs.append(
                            measure(
                                s, w, rnd, args.warmup, args.duration, mode == "pinned"
                            )
                        )

    summaries = {mode: summarize(runs, servers, loads, mode, ours) for mode in modes}
    meta = machine(python)
    meta["versions"] = versions(servers, python)
    out = BENCH / "results" / f"{meta['date_utc'][:10]}-{label}.json"
    out.parent.mkdir(exist_ok=True)
    settings = {
        "rounds": args.rounds,
        "unpinned_rounds": args.unpinned_rounds if "unpinned" in modes else 0,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "connections": CONNECTIONS,
        "wrk_threads": 1,
        "server_cpu": SERVER_CPU,
        "wrk_cpu": WRK_CPU,
        "modes": modes,
        "ours": ours,
        "workloads": [w.name for w in loads],
        "servers": {
            s.name: {
                "argv": s.argv,
                "argv_multi": s.argv_multi,
                "env": s.env,
                "note": s.note,
            }
            for s in servers
        },
        "loadavg_1m_at_start": idle_load,
    }
    skipped = {s.name: s.skip for s in servers if s.skip}
    doc = {
        "ours": ours,
        "machine": meta,
        "settings": settings,
        "skipped": skipped,
        "verification": verification,
        "runs": runs,
        "summary": summaries,
    }
    out.write_text(json.dumps(doc, indent=2) + "\n")

    runtimes = f"Python {meta['app_python']}"
    if any(s.name in (*NODE_SERVERS, NODE_HOOKS) for s in servers):
        runtimes += f", Node {meta['node']}"
    report = [
        f"# Benchmark {meta['date_utc']} ({label})",
        "",
        f"{meta['cpu']}, {meta['cpus']} CPUs, {meta['go']}, {runtimes}; "
        + ", ".join(f"{rounds_for(m, args)} {m} round(s)" for m in modes or ["pinned"])
        + f" of {args.duration} s after {args.warmup} s warm-up, "
        f"wrk -t1 -c{CONNECTIONS}, median round quoted. Versions: "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        + f". Ours: {ours}.",
        "",
        wrong_answers(verification),
    ]
    for name, why in skipped.items():
        report += ["", f"Not run: {name}: {why.splitlines()[-1] if why else '?'}"]
    titles = {
        "pinned": "Pinned: server on CPU 0, wrk on CPU 1 (the headline)",
        "unpinned": "Unpinned: both cores, each server with its recommended workers for 2 cores",
    }
    for mode in modes:
        report += ["", f"## {titles[mode]}", "", markdown(summaries[mode], notes, mode)]
        if mode == "pinned":
            judged, _ = targets.report(summaries[mode])
            report += ["", "### The targets (bench/targets.py)", "", judged]
    if "unpinned" in modes:
        report += [
            "",
            "Unpinned settings: "
            + "; ".join(f"{s.name}: {s.note}" for s in servers if s.note),
        ]
    if modes:
        png = out.with_suffix(".png")
        err = draw_chart(out, png)
        report += [
            "",
            f"Chart: {png.name}" if err is None else f"Chart not drawn: {err}",
        ]
    text = "\n".join(report) + "\n"
    out.with_suffix(".md").write_text(text)
    print("\n" + text)
    print(
        f"raw results: {out.relative_to(ROOT)}, table: {out.with_suffix('.md').relative_to(ROOT)}"
    )
    # A peer's wrong answer or failed start is a finding the report shows,
    # not a failure of the run; ours answering wrongly or invalidly is.
    mine = (ours, f"{ours}-sync")
    all_valid = all(r["valid"] for r in runs if r["server"] in mine)
    all_right = all(v["ok"] for v in verification if v["server"] in mine)
    return 0 if (runs or args.verify_only) and all_valid and all_right else 1


if __name__ == "__main__":
    sys.exit(main())
