#!/usr/bin/env python3
"""Benchmark harness: Spikard's Python app against the plain-Hertz ceiling.

Follows shared/bench/WORKLOADS.md: wrk with 64 connections and one thread,
server pinned to CPU 0 and wrk to CPU 1, a warm-up then a measured run, servers
interleaved round by round, the median round quoted. Every answer is checked
before anything is timed. Standard library only, so it runs with any python3.

    python3 bench/run.py [--quick] [--rounds 3] [--duration 10] [--warmup 2]
                         [--python .venv/bin/python] [--servers spikard,ceiling]
"""

import argparse
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
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

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
    payload: str | None  # file name under PAYLOADS, sent as the body
    expected: object  # the answer's JSON, compared as parsed values


@dataclass
class Server:
    name: str
    argv: list[str]  # "{port}" is replaced by the chosen port
    skip: str | None = None  # why this server cannot run, if it cannot


def workloads() -> list[Workload]:
    small = json.loads((PAYLOADS / "json-small.json").read_bytes())
    return [
        Workload("path-simple", "GET", "/path/simple/abc123", None, {"id": "abc123"}),
        Workload("json-small", "POST", "/json/small", "json-small.json", small),
    ]


def run_quiet(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, check=False, **kw
    )


def prepare_server(name: str, python: str) -> Server:
    """The server's command line, and why it cannot run if it cannot."""
    if name == "spikard":
        s = Server(
            name, [python, str(BENCH / "apps" / "spikard_app.py"), "--port", "{port}"]
        )
        if not os.path.exists(python):
            s.skip = f"{python} does not exist (run `make setup`)"
        else:
            r = run_quiet([python, "-c", "import spikard"])
            if r.returncode != 0:
                s.skip = (
                    "`import spikard` failed: "
                    + (r.stderr.strip().splitlines() or ["?"])[-1]
                )
        return s
    if name == "ceiling":
        # Built once and run directly (not `go run`) so the PID we sample for
        # RSS is the server's own and no compile time lands in a measurement.
        binary = BUILD / "ceiling"
        s = Server(name, [str(binary), "-port", "{port}"])
        r = run_quiet(["go", "build", "-o", str(binary), "./bench/ceiling"])
        if r.returncode != 0:
            s.skip = "go build ./bench/ceiling failed:\n" + r.stderr.strip()
        return s
    sys.exit(f"run.py: unknown server {name!r} (known: spikard, ceiling)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Running:
    """One server process, pinned to SERVER_CPU, stopped on exit from the with-block."""

    def __init__(self, server: Server):
        self.server = server
        self.port = free_port()
        BUILD.mkdir(exist_ok=True)
        # Closed in stop(); kept past this object when the server failed.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix=server.name + "-", suffix=".log", dir=BUILD, delete=False
        )
        argv = [a.replace("{port}", str(self.port)) for a in server.argv]
        # taskset execs the server, so proc.pid is the server's own PID; the
        # affinity is inherited by every thread it starts (Go sets GOMAXPROCS
        # from it). A new session lets us signal exactly what we started.
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *argv],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def __enter__(self) -> "Running":  # noqa: PYI034 (a final class)
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
        # VmHWM is the resident-set high-water mark over the process's life.
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        return int(m.group(1)) if m else None

    def cpu_seconds(self) -> float:
        # utime + stime of all the server's threads, from /proc/PID/stat.
        fields = (
            Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        )
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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
    data = (PAYLOADS / w.payload).read_bytes() if w.payload else None
    req = urllib.request.Request(srv.url(w), data=data, method=w.method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, ctype, body = (
                resp.status,
                resp.headers.get("Content-Type", ""),
                resp.read(),
            )
    except urllib.error.HTTPError as e:
        status, ctype, body = e.code, e.headers.get("Content-Type", ""), e.read()
    except OSError as e:
        return {"ok": False, "problem": f"request failed: {e}"}
    result = {
        "status": status,
        "content_type": ctype,
        "body": body.decode(errors="replace"),
    }
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    problems = []
    if status != 200:
        problems.append(f"status {status}")
    if not ctype.startswith("application/json"):
        problems.append(f"content-type {ctype!r}")
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


def wrk(srv: Running, w: Workload, seconds: int) -> tuple[dict, str]:
    argv = [
        "taskset",
        "-c",
        WRK_CPU,
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
    ]
    env = dict(os.environ)
    if w.payload:
        argv += ["-s", str(BENCH / "wrk" / "post.lua")]
        env["WRK_BODY"] = str(PAYLOADS / w.payload)
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
                        notes[(w.name, s.name)] = "not timed: wrong answer"
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


def measure(s: Server, w: Workload, rnd: int, warmup: int, duration: int) -> dict:
    """One fresh server process, a warm-up run, then the measured run."""
    try:
        with Running(s) as srv:
            wrk(srv, w, warmup)
            cpu0, t0 = srv.cpu_seconds(), time.monotonic()
            srv0, wrk0 = core_ticks(SERVER_CPU), core_ticks(WRK_CPU)
            result, raw = wrk(srv, w, duration)
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
            result["other_cpu_pct"] = max(
                0.0,
                100 * task / total - server,
                100 * wrk_task / wrk_total - result["wrk_cpu_pct"],
            )
            result["peak_rss_kib"] = srv.peak_rss_kib()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"round {rnd} {w.name} {s.name} failed: {e}", file=sys.stderr)
        result, raw = parse_wrk(""), ""
        result["failure"] = str(e)
    result.update(round=rnd, workload=w.name, server=s.name, wrk_output=raw)
    result["valid"] = result["errors"] == 0 and result["req_s"] is not None
    flag = "" if result["valid"] else "  INVALID"
    req_s = result["req_s"] or 0
    print(
        f"round {rnd} {w.name:12} {s.name:8} {req_s:>10,.0f} req/s{flag}",
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


def summarize(
    runs: list[dict], servers: list[Server], loads: list[Workload]
) -> list[dict]:
    rows = []
    for w in loads:
        ceiling = {
            r["round"]: r
            for r in runs
            if r["workload"] == w.name and r["server"] == "ceiling"
        }
        for s in servers:
            mine = [
                r for r in runs if r["workload"] == w.name and r["server"] == s.name
            ]
            row = {"workload": w.name, "server": s.name, "rounds": len(mine)}
            if mine:
                row["median"] = median_run(mine)
                row["invalid_rounds"] = sum(not r["valid"] for r in mine)
                # Ratio within each round, so drift between rounds cancels; then the median.
                ratios = sorted(
                    r["req_s"] / ceiling[r["round"]]["req_s"]
                    for r in mine
                    if s.name != "ceiling"
                    and r["valid"]
                    and r["round"] in ceiling
                    and ceiling[r["round"]]["valid"]
                )
                row["ratio_to_ceiling"] = (
                    ratios[(len(ratios) - 1) // 2] if ratios else None
                )
            rows.append(row)
    return rows


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


def markdown(rows: list[dict], notes: dict[tuple[str, str], str]) -> str:
    lines = [
        "| workload | server | req/s | p50 | p99 | errors | peak RSS | CPU srv / wrk | ÷ ceiling |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        m = row.get("median")
        if m is None:
            note = notes.get((row["workload"], row["server"]), "not timed")
            lines.append(
                f"| {row['workload']} | {row['server']} | {note} | | | | | | |"
            )
            continue
        errors = str(m["errors"])
        if row["invalid_rounds"]:
            errors += f" (INVALID: {row['invalid_rounds']}/{row['rounds']} rounds with errors)"
        if m["req_s"] is None:
            lines.append(
                f"| {row['workload']} | {row['server']} | failed (see JSON) | | | | | | |"
            )
            continue
        rss = f"{m['peak_rss_kib'] / 1024:.1f} MiB" if m.get("peak_rss_kib") else "?"
        ratio = (
            f"{row['ratio_to_ceiling']:.2f}"
            if row.get("ratio_to_ceiling") is not None
            else "—"
        )
        lines.append(
            f"| {row['workload']} | {row['server']} | {m['req_s']:,.0f} | {ms(m['p50_ms'])} "
            f"| {ms(m['p99_ms'])} | {errors} | {rss} | {cpu_note(m)} "
            f"| {ratio} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="1 round, 3 s measured, 1 s warm-up: a smoke test",
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="measured seconds per run")
    ap.add_argument(
        "--warmup", type=int, default=2, help="warm-up seconds before each measured run"
    )
    ap.add_argument(
        "--python",
        default=str(ROOT / ".venv" / "bin" / "python"),
        help="interpreter with spikard installed",
    )
    ap.add_argument(
        "--servers",
        default="spikard,ceiling",
        help="comma-separated subset, in interleaving order",
    )
    ap.add_argument(
        "--label",
        default="first",
        help="results file is bench/results/<UTC date>-<label>.json",
    )
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 3, 1
    # abspath, not resolve(): a venv's python is a symlink and must stay one.
    python = os.path.abspath(args.python)

    for tool in ("wrk", "taskset", "go"):
        if shutil.which(tool) is None:
            sys.exit(f"run.py: {tool} not found (wrk: apt-get install -y wrk)")
    if not {0, 1} <= os.sched_getaffinity(0):
        sys.exit("run.py: needs CPUs 0 and 1 (server on one, wrk on the other)")

    # Recorded only: the 1-minute average lags, so it cannot judge a run;
    # each run's other_cpu_pct does that.
    idle_load = os.getloadavg()[0]
    loads = workloads()
    servers = [
        prepare_server(n.strip(), python) for n in args.servers.split(",") if n.strip()
    ]
    notes: dict[tuple[str, str], str] = {}
    for s in servers:
        if s.skip:
            print(f"skip {s.name}: {s.skip}", file=sys.stderr)
            for w in loads:
                notes[(w.name, s.name)] = "not run: server unavailable"

    verification, timed = verify(servers, loads, notes)

    # Round by round, workload by workload, every server in turn: drift on the
    # machine then hits all servers alike. A fresh process per run keeps each
    # run's peak RSS its own.
    runs = []
    for rnd in range(1, args.rounds + 1):
        for w in loads:
            for s in servers:
                if (s.name, w.name) not in timed:
                    continue
                runs.append(measure(s, w, rnd, args.warmup, args.duration))

    rows = summarize(runs, servers, loads)
    meta = machine(python)
    out = BENCH / "results" / f"{meta['date_utc'][:10]}-{args.label}.json"
    out.parent.mkdir(exist_ok=True)
    settings = {
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "connections": CONNECTIONS,
        "wrk_threads": 1,
        "server_cpu": SERVER_CPU,
        "wrk_cpu": WRK_CPU,
        "loadavg_1m_at_start": idle_load,
    }
    skipped = {s.name: s.skip for s in servers if s.skip}
    doc = {
        "machine": meta,
        "settings": settings,
        "skipped": skipped,
        "verification": verification,
        "runs": runs,
        "summary": rows,
    }
    out.write_text(json.dumps(doc, indent=2) + "\n")

    print(
        f"\n{meta['cpu']}, {meta['go']}, Python {meta['app_python']}, "
        f"{args.rounds} round(s) of {args.duration} s, median round quoted\n"
    )
    print(markdown(rows, notes))
    print(f"\nraw results: {out.relative_to(ROOT)}")
    return 0 if runs and all(r["valid"] for r in runs) and not skipped else 1


if __name__ == "__main__":
    sys.exit(main())
