#!/usr/bin/env python3
"""Soak: the Quick Start app under minutes of mixed wrk load, judged.

    python3 bench/soak/soak.py [--seconds 600] [--python .venv/bin/python]
                               [--slow-clients 1000] [--label soak]

Starts examples/python/quickstart.py's app itself, on an ephemeral port (the
app's own `app.run(port=0)`), pinned to CPU 0 like bench/run.py; wrk, the slow
clients and this harness run on CPU 1. wrk (-t1 -c64) sends bench/soak/mixed.lua's
rotation (GET /users/{id}, POST /users, a 404, a 422) in runs of at most a
minute, each run's answers classified and counted:

    10%  warm-up
    10%  unloaded: RSS's baseline
    70%  soak, runs of <= 60 s
    10%  final: RSS at the end; wrk's unloaded rate
    then, on top of --seconds, 3 rounds of:
     3%  alone: wrk's rate without the slow clients (at least 5 s)
    10 s the slow clients connect (bench/soak/slow_clients.py), not measured
     5%  loaded: wrk's rate with the slow clients held open (at least 5 s)
    and last:
    10%  after: the slow clients gone (RSS reported, not judged)

Each round's loaded rate is divided by its alone rate, and the median of the
three is judged: adjacent runs share the machine's drift, which on a shared
VM moves a minute's rate by 20% and more.

Then the server's fds must come back to their count before the load (polled
until a deadline), and a last wrk run gets SIGTERM sent to the server in its
middle, beside a few keep-alive clients whose every request is accounted for
and a few uploads half sent. Each check prints its figures; any missed exits
1. The whole report goes to bench/results/<UTC date>-<label>.txt. Standard
library only, like bench/run.py (whose helpers it reuses).
"""

from __future__ import annotations

import argparse
import collections
import datetime
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
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import run  # bench/run.py: parse_wrk, core_ticks, tool_version

ROOT = run.ROOT
SOAK = Path(__file__).resolve().parent
HOST = run.HOST
SERVER_CPU, CLIENT_CPU = run.SERVER_CPU, run.WRK_CPU
CONNECTIONS = 64
SAMPLE_S = 2.0  # RSS and fds of the server, this often
RSS_DRIFT_MAX_PCT = 5.0
RATE_MIN_RATIO = 0.90
SLOW_HELD_MIN = 0.98  # share of the slow clients open at every sample
SLOW_RAMP_S = 5.0  # the slow clients start evenly over this
SLOW_ROUNDS = 3  # rounds of wrk alone, then with the slow clients
SLOW_SETTLE_S = 10  # a round's slow clients connect, not measured
PROBES = 16  # uploads half sent when SIGTERM comes
PROBE_GAP_S = 1.0  # after SIGTERM, the rest of each upload is sent this late
WITNESSES = 8  # keep-alive clients whose every request is accounted for
DRAIN_WRK_S = 30  # the SIGTERM run's wrk, stopped as soon as the server exits
SIGTERM_AFTER_S = 3.0  # into the SIGTERM run
QUICKSTART = ROOT / "examples" / "python" / "quickstart.py"
# The Quick Start as `make run` serves it, but on a port the kernel picks:
# its __main__ block (port 8000) does not run under run_path.
SERVE = "import runpy, sys; runpy.run_path(sys.argv[1])['app'].run(port=0)"
CONFIG = (
    "import json, spikard; c = spikard.ServerConfig(); print(json.dumps("
    "{k: getattr(c, k) for k in ('header_timeout', 'read_timeout', "
    "'shutdown_timeout')}))"
)


class Report:
    """Lines printed as they come and kept for the results file."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failed: list[str] = []

    def say(self, line: str = "") -> None:
        self.lines.append(line)
        print(line, flush=True)

    def check(self, name: str, ok: bool, figures: str) -> None:
        self.say(f"{'PASS' if ok else 'FAIL'}  {name}: {figures}")
        if not ok:
            self.failed.append(name)


@dataclass
class Segment:
    name: str
    seconds: int
    slow: bool = False  # the slow clients are held open during it
    start: float = 0.0
    end: float = 0.0
    result: dict = field(default_factory=dict)
    clients: SlowClients | None = None  # the slow clients held during it


def plan(seconds: int) -> list[Segment]:
    """The load's runs of wrk, in order (fractions in the module docstring):
    `seconds` of mixed load whose first and last minutes RSS is judged on,
    then the slow clients' rounds."""
    tenth = max(1, round(seconds / 10))
    segs = [Segment("warm-up", tenth), Segment("unloaded", tenth)]
    left = seconds - 3 * tenth
    n = 1
    while left > 0:
        chunk = min(60, left)
        segs.append(Segment(f"soak-{n}", chunk))
        left -= chunk
        n += 1
    segs.append(Segment("final", tenth))
    alone, loaded = max(5, round(tenth / 3)), max(5, round(tenth / 2))
    for r in range(1, SLOW_ROUNDS + 1):
        segs += [
            Segment(f"alone-{r}", alone),
            Segment(f"slow-ramp-{r}", SLOW_SETTLE_S, slow=True),
            Segment(f"loaded-{r}", loaded, slow=True),
        ]
    return [*segs, Segment("after", tenth)]


class Server:
    """The Quick Start app, pinned to SERVER_CPU, in a session of its own."""

    def __init__(self, python: str, workdir: Path) -> None:
        self.log_path = workdir / "server.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                ["taskset", "-c", SERVER_CPU, python, "-c", SERVE, str(QUICKSTART)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.proc.pid  # taskset execs the server
        self.port = self._wait_listening()

    def _wait_listening(self, patience_s: float = 30.0) -> int:
        deadline = time.monotonic() + patience_s
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://[^\s]+:(\d+)", self.log())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server did not listen:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def fds(self) -> int | None:
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return None

    def rss_kib(self) -> int | None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(m.group(1)) if m else None

    def cpu_seconds(self) -> float | None:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def nofile_limit(self) -> str:
        try:
            limits = Path(f"/proc/{self.pid}/limits").read_text()
        except OSError:
            return "?"
        m = re.search(r"^Max open files\s+(\S+)\s+(\S+)", limits, re.MULTILINE)
        return f"{m.group(1)} soft / {m.group(2)} hard" if m else "?"

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait()


class Sampler(threading.Thread):
    """(time, RSS KiB, fds) of the server every SAMPLE_S, until stopped."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.samples: list[tuple[float, int, int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            rss, fds = self.server.rss_kib(), self.server.fds()
            if rss is not None and fds is not None:
                self.samples.append((time.monotonic(), rss, fds))
            self.halt.wait(SAMPLE_S)

    def between(self, t0: float, t1: float) -> list[tuple[float, int, int]]:
        return [s for s in self.samples if t0 <= s[0] <= t1]


class SlowClients:
    """bench/soak/slow_clients.py on CLIENT_CPU; its per-second lines kept."""

    def __init__(self, port: int, count: int) -> None:
        argv = [sys.executable, str(SOAK / "slow_clients.py"), "--port", str(port)]
        argv += ["--count", str(count), "--ramp", str(SLOW_RAMP_S)]
        self.proc = subprocess.Popen(
            ["taskset", "-c", CLIENT_CPU, *argv],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: list[tuple[float, dict]] = []
        self.final: dict = {}
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.lines.append((time.monotonic(), json.loads(line)))
            except ValueError:
                pass

    def between(self, t0: float, t1: float) -> list[dict]:
        return [d for t, d in self.lines if t0 <= t <= t1 and not d["final"]]

    def stop(self) -> dict:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=5)
        self.final = self.lines[-1][1] if self.lines else {}
        return self.final


ANSWERS = ("get", "post", "missing", "invalid", "unavailable", "other")


def parse_answers(out: str) -> dict:
    m = re.search(r"^soak-answers (.+)$", out, re.MULTILINE)
    if not m:
        return {}
    pairs = (p.split("=", 1) for p in m.group(1).split())
    return {k: int(v) for k, v in pairs}


def wrk_version() -> str:
    """wrk's first line of `wrk -v` (it exits 1 after printing its usage)."""
    r = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return ((r.stdout or r.stderr).strip().splitlines() or ["wrk ?"])[0]


def wrk_argv(port: int, seconds: int) -> list[str]:
    return [
        "taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s",
        "--latency", "-s", str(SOAK / "mixed.lua"), f"http://{HOST}:{port}/",
    ]  # fmt: skip


def finish_wrk(proc: subprocess.Popen, before: resource.struct_rusage) -> dict:
    """wrk's output parsed: rates, socket errors, answers, its CPU."""
    out, err = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run.parse_wrk(out)
    result["answers"] = parse_answers(out)
    result["returncode"] = proc.returncode
    result["stderr"] = err.strip()
    result["cpu_s"] = (
        after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    )
    return result


def run_segment(server: Server, seg: Segment) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0, srv0 = server.cpu_seconds() or 0.0, run.core_ticks(SERVER_CPU)
    seg.start = time.monotonic()
    proc = subprocess.Popen(
        wrk_argv(server.port, seg.seconds),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    r = finish_wrk(proc, before)
    seg.end = time.monotonic()
    elapsed = seg.end - seg.start
    srv1 = run.core_ticks(SERVER_CPU)
    r["server_cpu_pct"] = 100 * ((server.cpu_seconds() or 0.0) - cpu0) / elapsed
    _, task, total = (b - a for a, b in zip(srv0, srv1, strict=True))
    # Other tasks on the server's core: work on the machine that is not ours.
    r["other_cpu_pct"] = max(0.0, 100 * task / total - r["server_cpu_pct"])
    r["wrk_cpu_pct"] = 100 * r["cpu_s"] / elapsed
    seg.result = r


def answers_ok(r: dict) -> tuple[bool, str]:
    """Every answer one of the four expected, in the rotation's shares,
    and no socket error."""
    a = r.get("answers") or {}
    if r.get("returncode") != 0 or not a:
        return False, f"wrk failed ({r.get('returncode')}): {r.get('stderr')}"
    total = sum(a.get(k, 0) for k in ANSWERS)
    problems = []
    if a["other"] or a["unavailable"]:
        problems.append(
            f"{a['other']} unexpected (last status {a.get('last_other')}), "
            f"{a['unavailable']} 503"
        )
    # Each connection has at most one request unanswered when wrk stops.
    for k in ("get", "post", "missing", "invalid"):
        if abs(a[k] - total / 4) > CONNECTIONS + 1:
            problems.append(f"{k} {a[k]} of {total}")
    if r["socket_errors"]:
        problems.append(f"socket errors {r['socket_errors']}")
    return not problems, "; ".join(problems)


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def raise_nofile(need: int) -> tuple[int, int]:
    """This process's RLIMIT_NOFILE soft limit up to the hard one (children
    inherit it: the server, wrk and the slow clients)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 65536 if hard == resource.RLIM_INFINITY else hard
    if target < need:
        sys.exit(f"soak: RLIMIT_NOFILE hard limit {hard} < {need}; raise it")
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def check_answers_once(port: int) -> list[str]:
    """The four requests once each, before any load: wrong answers."""
    user = b'{"id":7,"name":"Soak","email":"soak@example.com"}'
    bad = b'{"id":"x","name":"Soak","email":"soak@example.com"}'
    cases = [
        ("GET", "/users/7", None, 200, b'"Alice"'),
        ("POST", "/users", user, 200, b'"Soak"'),
        ("GET", "/nope/7", None, 404, b'"status":404'),
        ("POST", "/users", bad, 422, b'"int_parsing"'),
    ]
    wrong = []
    for method, path, body, status, needle in cases:
        req = urllib.request.Request(
            f"http://{HOST}:{port}{path}", data=body, method=method
        )
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                got, data = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            got, data = e.code, e.read()
        except OSError as e:
            wrong.append(f"{method} {path}: {e}")
            continue
        if got != status or needle not in data:
            wrong.append(f"{method} {path}: {got} {data[:200]!r}")
    return wrong


def wait_fds(server: Server, start: int, deadline_s: float) -> tuple[int, float]:
    """Poll the server's fds until they are back to `start` or the deadline
    passes: (the last count, seconds waited)."""
    t0 = time.monotonic()
    while True:
        now = server.fds()
        waited = time.monotonic() - t0
        if now is None or now <= start or waited >= deadline_s:
            return (now if now is not None else -1), waited
        time.sleep(0.1)


def open_probe(port: int, i: int) -> tuple[socket.socket, bytes]:
    """An upload with half its body sent: (the socket, the rest)."""
    body = f'{{"id":{i},"name":"Probe","email":"probe@example.com"}}'.encode()
    head = (
        "POST /users HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock = socket.create_connection((HOST, port), timeout=5)
    sock.sendall(head + body[: len(body) // 2])
    return sock, body[len(body) // 2 :]


def finish_probe(sock: socket.socket, rest: bytes) -> str:
    """Send the rest of the upload and read the answer: its status, or what
    happened instead."""
    try:
        sock.sendall(rest)
    except OSError as e:
        sock.close()
        return f"cut before the rest was sent ({e.__class__.__name__})"
    data = b""
    sock.settimeout(10)
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return "closed without an answer" if not data else "incomplete answer"
            data += chunk
    except TimeoutError:
        return "no answer within 10 s"
    except OSError as e:
        return f"no answer ({e.__class__.__name__})"
    finally:
        sock.close()
    return data.split(b"\r\n", 1)[0].split(b" ")[1].decode()


class Witness(threading.Thread):
    """A keep-alive client sending GET /users/{i} in a loop, each request's
    outcome kept with when it was sent and settled: an answer's status,
    "refused" (no connection: the listener is closed), or "lost" (the
    connection ended after the request was sent, without its answer)."""

    def __init__(self, port: int, i: int, halt: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.i, self.halt = port, i, halt
        self.records: list[tuple[float, float, str]] = []

    def run(self) -> None:
        request = f"GET /users/{self.i} HTTP/1.1\r\nHost: soak\r\n\r\n".encode()
        sock: socket.socket | None = None
        while not self.halt.is_set():
            if sock is None:
                t = time.monotonic()
                try:
                    sock = socket.create_connection((HOST, self.port), timeout=10)
                except OSError:
                    self.records.append((t, time.monotonic(), "refused"))
                    self.halt.wait(0.01)
                    continue
            t = time.monotonic()
            try:
                sock.sendall(request)
                status, close = read_answer(sock)
            except OSError as e:
                status, close = f"lost ({e.__class__.__name__})", True
            self.records.append((t, time.monotonic(), status))
            if close:
                sock.close()
                sock = None
        if sock is not None:
            sock.close()


def read_answer(sock: socket.socket) -> tuple[str, bool]:
    """One answer with a Content-Length body: (its status, whether the
    server closes the connection after it). ConnectionError when the
    connection ends first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionAbortedError("closed before an answer")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {
        k.strip().lower(): v.strip()
        for k, _, v in (x.partition(":") for x in lines[1:])
    }
    need = int(fields.get("content-length", "0")) - len(body)
    while need > 0:
        chunk = sock.recv(need)
        if not chunk:
            raise ConnectionAbortedError("closed inside an answer")
        need -= len(chunk)
    return lines[0].split(" ")[1], fields.get("connection", "").lower() == "close"


def sigterm_run(server: Server, cfg: dict, report: Report) -> None:
    """A wrk run with SIGTERM sent to the server in its middle; WITNESSES
    keep-alive clients beside wrk, and PROBES uploads whose body is half sent
    when the signal comes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        wrk_argv(server.port, DRAIN_WRK_S),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    halt = threading.Event()
    witnesses = [Witness(server.port, i, halt) for i in range(WITNESSES)]
    for w in witnesses:
        w.start()
    time.sleep(SIGTERM_AFTER_S - 0.5)
    probes = [open_probe(server.port, i) for i in range(PROBES)]
    time.sleep(0.5)
    exited_at: list[float] = []

    def wait_exit() -> None:
        server.proc.wait()
        exited_at.append(time.monotonic())

    sent = time.monotonic()
    os.kill(server.pid, signal.SIGTERM)
    waiter = threading.Thread(target=wait_exit, daemon=True)
    waiter.start()
    time.sleep(PROBE_GAP_S)
    outcomes = [finish_probe(s, rest) for s, rest in probes]
    limit = cfg["shutdown_timeout"] + 10.0
    waiter.join(timeout=max(0.1, limit - (time.monotonic() - sent)))
    if not exited_at:
        server.kill()
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # wrk prints its report and stops
    r = finish_wrk(proc, before)
    halt.set()
    for w in witnesses:
        w.join(timeout=15)

    def tally_of(items: list[str]) -> str:
        counts = sorted(collections.Counter(items).items())
        return ", ".join(f"{n:,} × {o}" for o, n in counts) or "none"

    records = [rec for w in witnesses for rec in w.records]
    after = [o for t0, t1, o in records if t1 >= sent]
    across = [o for t0, t1, o in records if t0 < sent <= t1]
    lost = [o for o in after if o.startswith("lost")]
    a, errs = r.get("answers") or {}, r["socket_errors"]
    cut = errs.get("read", 0) + errs.get("timeout", 0)
    report.say()
    report.say(
        f"SIGTERM {SIGTERM_AFTER_S:g} s into a wrk run (-c{CONNECTIONS}, stopped once "
        f"the server is gone) with {WITNESSES} keep-alive clients beside it; "
        f"{PROBES} uploads (POST /users) with half their body sent 0.5 s before the "
        f"signal, the rest {PROBE_GAP_S:g} s after it"
    )
    report.say(
        f"  wrk: {r['requests']:,} answers ("
        + ", ".join(f"{k} {a.get(k, 0):,}" for k in ANSWERS)
        + f"), socket errors {errs or 'none'}"
    )
    report.say(
        f"  keep-alive clients, requests in flight at the signal: {tally_of(across)}; "
        f"all settled after it: {tally_of(after)}"
    )
    shown = tally_of(outcomes)
    report.say(f"  half-sent uploads: {shown}")
    code = server.proc.returncode
    exited = (
        f"exit status {code} {exited_at[0] - sent:.2f} s after SIGTERM"
        if exited_at
        else f"still running {limit:g} s after SIGTERM (killed)"
    )
    report.check(
        "SIGTERM: drains and exits 0",
        bool(exited_at) and code == 0,
        f"{exited} (shutdown_timeout {cfg['shutdown_timeout']:g} s, limit {limit:g} s)",
    )
    unanswered = [o for o in across if not o.isdigit()]
    report.check(
        "SIGTERM: in-flight requests answered",
        bool(across) and not unanswered and a.get("other", 0) == 0,
        f"the keep-alive clients' {len(across)} requests in flight at the signal: "
        f"{tally_of(across)}; wrk: {a.get('other', 0)} unexpected answers, "
        f"{a.get('unavailable', 0)} × 503 (requests that came after the signal)",
    )
    report.check(
        "SIGTERM: no reset storm",
        len(lost) <= WITNESSES and cut <= CONNECTIONS,
        f"after the signal, keep-alive clients lost {len(lost)} requests to a close "
        f"or reset (limit {WITNESSES}, one per connection), wrk read "
        f"{errs.get('read', 0)} + timeout {errs.get('timeout', 0)} = {cut} (limit "
        f"{CONNECTIONS}, one per connection); wrk write {errs.get('write', 0)} and "
        f"connect {errs.get('connect', 0)} not judged: wrk counts each reconnection "
        "refused once the listener has closed as one of these",
    )
    answered = sum(n for o, n in collections.Counter(outcomes).items() if o.isdigit())
    report.check(
        "SIGTERM: half-sent uploads answered",
        answered == PROBES,
        f"{answered}/{PROBES} answered ({shown}); each had its head and half its "
        f"body in before SIGTERM and the rest {PROBE_GAP_S:g} s later, well within "
        f"shutdown_timeout",
    )


def segment_row(seg: Segment, sampler: Sampler) -> str:
    r = seg.result
    a = r.get("answers") or {}
    samples = sampler.between(seg.start, seg.end)
    rss = mean([s[1] for s in samples]) / 1024
    fds = max((s[2] for s in samples), default=0)
    opened = ""
    if seg.clients is not None:
        counts = [d["open"] for d in seg.clients.between(seg.start, seg.end)]
        if counts:  # the ramp: where it got to; else the least held
            ramp = seg.name.startswith("slow-ramp")
            opened = str(counts[-1] if ramp else min(counts))
    errs = sum(r["socket_errors"].values()) if r.get("socket_errors") else 0
    counts = "/".join(str(a.get(k, 0)) for k in ANSWERS)
    return (
        f"{seg.name:11} {seg.seconds:>4} {opened:>5} {r.get('req_s') or 0:>9,.0f} "
        f"{run.ms(r.get('p50_ms')):>9} {run.ms(r.get('p99_ms')):>9} {errs:>5} "
        f"{counts:>34} {rss:>7.1f} {fds:>5} {r.get('server_cpu_pct', 0):>5.0f}% "
        f"{r.get('wrk_cpu_pct', 0):>5.0f}% {r.get('other_cpu_pct', 0):>5.0f}%"
    )


def soak(args: argparse.Namespace, report: Report, workdir: Path) -> None:
    segs = plan(args.seconds)
    cfg = json.loads(
        subprocess.run(
            [args.python, "-c", CONFIG], capture_output=True, text=True, check=True
        ).stdout
    )
    server = Server(args.python, workdir)
    slow: SlowClients | None = None  # the round's, while they are held
    try:
        report.say(
            f"server: {run.tool_version([args.python, '-V'])} ({args.python}), "
            f"pid {server.pid}, port {server.port}, RLIMIT_NOFILE "
            f"{server.nofile_limit()}; header_timeout {cfg['header_timeout']:g} s, "
            f"read_timeout {cfg['read_timeout']:g} s, shutdown_timeout "
            f"{cfg['shutdown_timeout']:g} s (the defaults)"
        )
        wrong = check_answers_once(server.port)
        report.check(
            "answers before the load", not wrong, "; ".join(wrong) or "all 4 right"
        )
        if wrong:
            return
        fds_start = server.fds() or 0
        report.say(f"server fds before the load: {fds_start}")
        sampler = Sampler(server)
        sampler.start()
        report.say()
        report.say(
            f"{'run':11} {'s':>4} {'slow':>5} {'req/s':>9} {'p50':>9} {'p99':>9} "
            f"{'errs':>5} {'get/post/404/422/503/other':>34} {'RSS MiB':>7} "
            f"{'fds':>5} {'srv':>6} {'wrk':>6} {'other':>6}"
        )
        for seg in segs:
            if seg.slow and slow is None:
                slow = SlowClients(server.port, args.slow_clients)
            if not seg.slow and slow is not None:
                last = slow.stop()
                slow = None
                report.say(
                    f"  slow clients stopped: {last.get('connects', 0)} connections "
                    f"made, answers {last.get('answers', {})}, connect errors "
                    f"{last.get('connect_errors', 0)}, resets {last.get('resets', 0)}"
                )
            seg.clients = slow
            run_segment(server, seg)
            report.say(segment_row(seg, sampler))
            if server.proc.poll() is not None:
                report.check("server alive", False, f"exited {server.proc.returncode}")
                return
        back, waited = wait_fds(server, fds_start, cfg["read_timeout"] + 30.0)
        sampler.halt.set()
        sampler.join()
        report.say()
        judge(report, segs, sampler, fds_start, back, waited, cfg, args)
        sigterm_run(server, cfg, report)
    finally:
        if slow is not None and slow.proc.poll() is None:
            slow.stop()
        server.kill()
        extra = [
            line
            for line in server.log().splitlines()
            if "listening on" not in line and line.strip()
        ]
        report.say()
        report.say(
            "server log: "
            + ("nothing but its listening line" if not extra else f"{len(extra)} lines")
        )
        for line in extra[-20:]:
            report.say(f"  {line}")


def judge(
    report: Report,
    segs: list[Segment],
    sampler: Sampler,
    fds_start: int,
    fds_back: int,
    waited: float,
    cfg: dict,
    args: argparse.Namespace,
) -> None:
    by = {s.name: s for s in segs}
    t_start = segs[0].start

    def at(t: float) -> str:
        return f"{t - t_start:.0f}"

    bad = [(s.name, why) for s in segs for ok, why in [answers_ok(s.result)] if not ok]
    total = sum(s.result.get("requests", 0) for s in segs)
    report.check(
        "answers under load",
        not bad,
        f"{total:,} requests over {len(segs)} wrk runs, every answer the expected "
        "one, no socket error"
        if not bad
        else "; ".join(f"{n}: {w}" for n, w in bad),
    )

    base, final = by["unloaded"], by["final"]
    rss0 = [s[1] for s in sampler.between(base.start, base.end)]
    rss1 = [s[1] for s in sampler.between(final.start, final.end)]
    drift = 100 * (mean(rss1) - mean(rss0)) / mean(rss0) if rss0 and rss1 else None
    report.check(
        "RSS drift after warm-up",
        drift is not None and drift < RSS_DRIFT_MAX_PCT and len(rss0) >= 3,
        f"{mean(rss0) / 1024:.1f} MiB (mean of {len(rss0)} samples, "
        f"{at(base.start)}-{at(base.end)} s) -> {mean(rss1) / 1024:.1f} MiB (mean of "
        f"{len(rss1)} samples, {at(final.start)}-{at(final.end)} s): "
        + (f"{drift:+.2f}%" if drift is not None else "?")
        + f" (limit +{RSS_DRIFT_MAX_PCT:g}%); peak sample "
        f"{max(s[1] for s in sampler.samples) / 1024:.1f} MiB",
    )

    trend = [
        f"{seg.name} {mean([x[1] for x in sampler.between(seg.start, seg.end)]) / 1024:.1f}"
        for seg in segs
    ]
    report.say(f"      RSS by run (mean MiB): {', '.join(trend)}")

    peak = max(s[2] for s in sampler.samples)
    report.check(
        "fds back after the load",
        0 <= fds_back <= fds_start,
        f"{fds_start} before the load, peak {peak}, {fds_back} {waited:.1f} s after "
        f"the load stopped (polled every 0.1 s, deadline read_timeout + 30 = "
        f"{cfg['read_timeout'] + 30:g} s)",
    )

    rounds = [(by[f"alone-{r}"], by[f"loaded-{r}"]) for r in range(1, SLOW_ROUNDS + 1)]
    opened, srv_fds = [], []
    for _, seg in rounds:
        if seg.clients is not None:
            opened += [d["open"] for d in seg.clients.between(seg.start, seg.end)]
        srv_fds += [x[2] for x in sampler.between(seg.start, seg.end)]
    held_min = min(opened, default=0)
    above = min(srv_fds, default=0) - fds_start
    need = SLOW_HELD_MIN * args.slow_clients
    made = [seg.clients.final for _, seg in rounds if seg.clients is not None]
    answers: dict[str, int] = {}
    for d in made:
        for k, v in d.get("answers", {}).items():
            answers[k] = answers.get(k, 0) + v
    report.check(
        f"{args.slow_clients} slow clients held open",
        held_min >= need and above >= need,
        f"open at each of {len(opened)} per-second counts over the {SLOW_ROUNDS} "
        f"loaded runs ({rounds[0][1].seconds} s each): min {held_min}, mean "
        f"{mean(opened):.1f} (limit {need:.0f}); server fds min "
        f"{min(srv_fds, default=0)} = start + {above}; in all "
        f"{sum(d.get('connects', 0) for d in made):,} connections made, answers "
        f"{answers}, connect errors {sum(d.get('connect_errors', 0) for d in made)}, "
        f"resets {sum(d.get('resets', 0) for d in made)}",
    )

    ratios, shown, disturbed = [], [], []
    for alone, loaded in rounds:
        a, b = alone.result.get("req_s") or 0.0, loaded.result.get("req_s") or 0.0
        ratios.append(b / a if a else 0.0)
        shown.append(f"{a:,.0f} -> {b:,.0f} ({ratios[-1]:.3f})")
        for seg in (alone, loaded):
            if seg.result.get("server_cpu_pct", 0) < 95:
                disturbed.append(
                    f"{seg.name} {seg.result.get('server_cpu_pct', 0):.0f}%"
                )
    ratio = sorted(ratios)[len(ratios) // 2]
    note = (
        f"; the server had less than 95% of its core in {', '.join(disturbed)}: "
        "the machine was disturbed, these figures say less"
        if disturbed
        else ""
    )
    report.check(
        "fast clients' rate with the slow ones",
        ratio >= RATE_MIN_RATIO,
        f"wrk req/s alone -> with {args.slow_clients} slow clients, round by round: "
        f"{'; '.join(shown)}; median {ratio:.3f} (limit {RATE_MIN_RATIO:.2f}){note}",
    )
    spike = [x[1] for _, seg in rounds for x in sampler.between(seg.start, seg.end)]
    rest = [x[1] for x in sampler.between(by["after"].start, by["after"].end)]
    if rss1 and spike and rest:
        report.say(
            f"      RSS with the slow clients {mean(spike) / 1024:.1f} MiB (mean), "
            f"{mean(rest) / 1024:.1f} MiB in the {by['after'].seconds} s after they "
            f"left: {100 * (mean(rest) - mean(rss1)) / mean(rss1):+.1f}% over the "
            "final run's (reported, not judged)"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--seconds",
        type=int,
        default=int(os.environ.get("SOAK_SECONDS", "600")),
        help="seconds of load (default $SOAK_SECONDS or 600; at least 60)",
    )
    ap.add_argument(
        "--python",
        default=str(ROOT / ".venv" / "bin" / "python"),
        help="interpreter with spikard installed (make setup)",
    )
    ap.add_argument("--slow-clients", type=int, default=1000)
    ap.add_argument(
        "--label", default="soak", help="bench/results/<UTC date>-<label>.txt"
    )
    args = ap.parse_args()
    if args.seconds < 60:
        sys.exit("soak: --seconds must be at least 60")
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"soak: {tool} not found (Debian: apt-get install -y wrk)")
    if not {0, 1} <= os.sched_getaffinity(0):
        sys.exit("soak: needs CPUs 0 and 1 (server on one, the clients on the other)")
    # abspath, not resolve(): a venv's python is a symlink and must stay one.
    args.python = os.path.abspath(args.python)
    nofile = raise_nofile(args.slow_clients + CONNECTIONS + PROBES + 256)
    os.sched_setaffinity(0, {int(CLIENT_CPU)})  # this harness beside wrk

    now = datetime.datetime.now(datetime.UTC)
    report = Report()
    m = re.search(
        r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE
    )
    report.say(
        f"# Soak {now.isoformat(timespec='seconds')}: {QUICKSTART.relative_to(ROOT)} "
        f"for {args.seconds} s of mixed wrk load"
    )
    report.say(
        f"{m.group(1) if m else '?'}, {os.cpu_count()} CPUs, Linux "
        f"{platform.release()}, {wrk_version()}"
    )
    report.say(
        f"pinned like bench/run.py: server on CPU {SERVER_CPU}; wrk -t1 "
        f"-c{CONNECTIONS} (bench/soak/mixed.lua: GET /users/{{id}}, POST /users, "
        f"GET /nope/{{id}} 404, POST /users 422 in rotation), the slow clients and "
        f"this harness on CPU {CLIENT_CPU}; RLIMIT_NOFILE {nofile[0]} for all; "
        f"RSS and fds sampled every {SAMPLE_S:g} s"
    )
    report.say(
        "runs: " + ", ".join(f"{s.name} {s.seconds} s" for s in plan(args.seconds))
    )
    with tempfile.TemporaryDirectory(prefix="spikard-soak-") as tmp:
        try:
            soak(args, report, Path(tmp))
        except (RuntimeError, subprocess.SubprocessError) as e:
            report.check("the soak ran", False, str(e))
    report.say()
    verdict = (
        "all checks passed"
        if not report.failed
        else f"FAILED: {', '.join(report.failed)}"
    )
    report.say(f"soak: {verdict}")
    out = ROOT / "bench" / "results" / f"{now.date().isoformat()}-{args.label}.txt"
    out.write_text("\n".join(report.lines) + "\n")
    print(f"report: {out.relative_to(ROOT)}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
