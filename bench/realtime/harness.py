#!/usr/bin/env python3
"""Realtime benchmark: WebSocket echo and SSE on one core, and idle WebSockets.

The server runs pinned to CPU 0, the Go load generator (bench/realtime,
built here) to CPU 1. Two workloads, each against a fresh server process:

- ``ws``: 64 connections, each sending a small JSON message and waiting for
  its echo before the next; round trips per second and their latencies.
- ``sse``: 64 subscribers reading an endless stream of small JSON events as
  fast as the server writes them; events per second.

Each run is a warm-up then the measured window; the servers are interleaved
round by round and the median round is quoted, with Spikard's rate ÷ each
peer's in the same round (median over the rounds). ``--idle`` instead opens
10,000 idle WebSockets to each server and reports the server's resident
memory per connection; RLIMIT_NOFILE is raised to its hard limit for that
mode only. Standard library only, like bench/run.py (whose helpers it uses).

    python3 bench/realtime/harness.py [--rounds 5] [--duration 10] [--warmup 2]
                                  [--servers spikard,fastapi,litestar,ceiling]
                                  [--workloads ws,sse] [--python .venv/bin/python]
                                  [--label realtime]
    python3 bench/realtime/harness.py --idle [--connections 10000] [--label ws-idle]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import run as http_bench  # bench/run.py: venvs, pinned server processes, /proc figures

ROOT = http_bench.ROOT
HERE = ROOT / "bench" / "realtime"
APPS = HERE / "apps"
RESULTS = ROOT / "bench" / "results"
HOST = http_bench.HOST
SERVER_CPU, LOADGEN_CPU = http_bench.SERVER_CPU, http_bench.WRK_CPU
CONNECTIONS = 64
IDLE_CONNECTIONS = 10_000
OURS = "spikard"
PEERS = ("fastapi", "litestar")
SERVERS = (OURS, *PEERS, "ceiling")
WORKLOADS = ("ws", "sse")
# The issue's targets: ours ÷ peer, per workload.
TARGETS = {"fastapi": 3.0, "litestar": 2.0}
LOADGEN = http_bench.BUILD / "realtime-loadgen"
CEILING = http_bench.BUILD / "realtime-ceiling"
SSE_FIRST = {"seq": 0, "text": "hello, realtime"}


@dataclass
class RtServer:
    name: str
    argv: list[str]  # "{port}" is replaced by the chosen port
    paths: dict[str, str]  # workload -> path
    skip: str | None = None
    version: str = ""


def uvicorn_argv(venv_python: str, module: str) -> list[str]:
    vbin = str(Path(venv_python).parent)
    return [
        f"{vbin}/uvicorn", f"{module}:app", "--app-dir", str(APPS), "--host", HOST,
        "--port", "{port}", "--loop", "uvloop", "--http", "httptools",
        "--ws", "websockets-sansio", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def prepare(name: str, python: str) -> RtServer:
    """The server's command line and paths, or why it cannot run."""
    paths = {"ws": "/ws", "sse": "/sse"}
    if name == OURS:
        argv = [python, str(APPS / "spikard_app.py"), "--port", "{port}"]
        s = RtServer(name, argv, paths)
        s.skip = http_bench.import_check(python, "spikard")
        return s
    if name == "ceiling":
        s = RtServer(name, [str(CEILING), "-port", "{port}"], paths)
        r = http_bench.run_quiet(
            ["go", "build", "-o", str(CEILING), "./bench/realtime/ceiling"]
        )
        if r.returncode != 0:
            s.skip = "go build ./bench/realtime/ceiling failed:\n" + r.stderr.strip()
        return s
    if name not in PEERS:
        sys.exit(f"realtime: unknown server {name!r} (known: {', '.join(SERVERS)})")
    # The HTTP benchmark's venv of the peer: its requirements pin websockets too.
    vpy, err = http_bench.ensure_venv(
        name, ROOT / "bench" / "peers" / name / "requirements.txt"
    )
    if name == "fastapi":
        # Hand-framed StreamingResponse: faster than FastAPI's own
        # EventSourceResponse (the app's /sse), so the harder comparison.
        paths = {"ws": "/ws", "sse": "/sse-raw"}
    s = RtServer(name, uvicorn_argv(vpy, f"{name}_app"), paths)
    s.skip = err or http_bench.import_check(vpy, name)
    return s


def build_loadgen() -> str | None:
    r = http_bench.run_quiet(["go", "build", "-o", str(LOADGEN), "./bench/realtime"])
    return (
        None if r.returncode == 0 else "go build ./bench/realtime failed:\n" + r.stderr
    )


def started(server: RtServer) -> http_bench.Running:
    """A fresh pinned server process (bench/run.py's Running)."""
    return http_bench.Running(http_bench.Server(server.name, server.argv), pinned=True)


def loadgen_argv(
    mode: str, url: str, conns: int, warmup: float, duration: float
) -> list[str]:
    return [
        "taskset", "-c", LOADGEN_CPU, str(LOADGEN), "-mode", mode, "-url", url,
        "-conns", str(conns), "-warmup", f"{warmup}s", "-duration", f"{duration}s",
    ]  # fmt: skip


def url_for(workload: str, port: int, path: str) -> str:
    scheme = "ws" if workload in ("ws", "idle") else "http"
    return f"{scheme}://{HOST}:{port}{path}"


def check_sample(sample: str | None) -> str | None:
    """Why the start of an SSE stream is wrong, or None: its first event must
    carry the JSON of the apps' first event as its data."""
    if not sample:
        return "the stream sent nothing"
    block = re.split(r"\r?\n\r?\n", sample, maxsplit=1)[0]
    data = [
        line[5:].lstrip(" ")
        for line in re.split(r"\r?\n", block)
        if line.startswith("data:")
    ]
    if not data:
        return f"the first event has no data line: {block[:120]!r}"
    try:
        value = json.loads("\n".join(data))
    except ValueError as e:
        return f"the first event's data is not JSON ({e}): {data[0][:120]!r}"
    if value != SSE_FIRST:
        return f"the first event is {value!r}, not {SSE_FIRST!r}"
    return None


def measure(
    server: RtServer, workload: str, rnd: int, warmup: float, duration: float
) -> dict:
    """One fresh server, the load generator's warm-up and window; the server's
    CPU and each core's business sampled at the window's marks."""
    result: dict = {"server": server.name, "workload": workload, "round": rnd}
    try:
        with started(server) as srv:
            argv = loadgen_argv(
                workload, url_for(workload, srv.port, server.paths[workload]),
                CONNECTIONS, warmup, duration,
            )  # fmt: skip
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            marks: dict[str, tuple] = {}
            stderr_lines: list[str] = []

            def watch() -> None:
                assert proc.stderr is not None
                for line in proc.stderr:
                    what = line.strip().removeprefix("realtime: ")
                    if what in ("measuring", "done"):
                        marks[what] = (
                            time.monotonic(), srv.cpu_seconds(),
                            http_bench.core_ticks(SERVER_CPU), http_bench.core_ticks(LOADGEN_CPU),
                        )  # fmt: skip
                    else:
                        stderr_lines.append(line)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            # stdout here, stderr in the watcher (communicate would read both).
            assert proc.stdout is not None
            out = proc.stdout.read()
            proc.wait(timeout=warmup + duration + 120)
            watcher.join(timeout=5)
            result.update(json.loads(out) if out.strip() else {"errors": 1})
            if stderr_lines:
                result["loadgen_stderr"] = "".join(stderr_lines)[-2000:]
            if "measuring" in marks and "done" in marks:
                result.update(cpu_figures(marks["measuring"], marks["done"]))
                result.update(per_operation(result))
            result["peak_rss_kib"] = srv.peak_rss_kib()
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
        result["failure"] = str(e)
    result["valid"], result["why_invalid"] = validity(result)
    rate = result.get("rate") or 0
    flag = "" if result["valid"] else f"  INVALID: {result['why_invalid']}"
    print(
        f"round {rnd} {workload:4} {server.name:9} {rate:>12,.0f}/s{flag}",
        file=sys.stderr,
    )
    return result


def cpu_figures(start: tuple, end: tuple) -> dict:
    """Server CPU %, each core's business and other tasks' share, between two marks."""
    (t0, cpu0, srv0, gen0), (t1, cpu1, srv1, gen1) = start, end
    wall = max(t1 - t0, 1e-9)
    server = 100 * (cpu1 - cpu0) / wall
    busy, task, total = (b - a for a, b in zip(srv0, srv1, strict=True))
    gbusy, _, gtotal = (b - a for a, b in zip(gen0, gen1, strict=True))
    return {
        "server_cpu_pct": server,
        "server_core_busy_pct": 100 * busy / max(total, 1),
        "loadgen_core_busy_pct": 100 * gbusy / max(gtotal, 1),
        # Task time on the server's core that is not the server's: other
        # engineers' builds on this shared machine.
        "other_on_server_core_pct": max(0.0, 100 * task / max(total, 1) - server),
    }


def per_operation(result: dict) -> dict:
    """The server's CPU microseconds per round trip or event, steadier than
    the rate on a shared machine, and the generator's own share of its core."""
    out: dict = {}
    seconds, count = result.get("seconds") or 0, result.get("count") or 0
    if seconds and count and "server_cpu_pct" in result:
        out["server_us_per_op"] = result["server_cpu_pct"] / 100 * seconds / count * 1e6
    if seconds and "cpu_seconds" in result:
        out["loadgen_cpu_pct"] = 100 * result["cpu_seconds"] / seconds
    return out


def validity(result: dict) -> tuple[bool, str]:
    if result.get("failure"):
        return False, result["failure"].splitlines()[0]
    if result.get("errors"):
        return False, f"{result['errors']} errors: {result.get('first_error', '?')}"
    if not result.get("count"):
        return False, "nothing counted"
    if result.get("workload") == "sse":
        why = check_sample(result.get("sample"))
        if why:
            return False, why
    return True, ""


def median_of(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(runs: list[dict], servers: list[str], workloads: list[str]) -> dict:
    """Per workload and server: the median rate over valid rounds, the
    median of each round's ours ÷ server, and the median round's latency."""
    rows = []
    for w in workloads:
        ours_by_round = {
            r["round"]: r["rate"]
            for r in runs
            if r["workload"] == w and r["server"] == OURS and r["valid"]
        }
        for s in servers:
            mine = [
                r
                for r in runs
                if r["workload"] == w and r["server"] == s and r["valid"]
            ]
            rates = sorted(r["rate"] for r in mine)
            ratios = [
                ours_by_round[r["round"]] / r["rate"]
                for r in mine
                if r["round"] in ours_by_round and r["rate"]
            ]
            middle = (
                sorted(mine, key=lambda r: r["rate"])[(len(mine) - 1) // 2]
                if mine
                else {}
            )
            rows.append({
                "workload": w,
                "server": s,
                "valid_rounds": len(mine),
                "rates": rates,
                "median_rate": median_of(rates),
                "ours_ratio": None if s == OURS else median_of(ratios),
                "ratios": ratios,
                "latency": middle.get("latency"),
                "server_cpu_pct": middle.get("server_cpu_pct"),
                "loadgen_cpu_pct": middle.get("loadgen_cpu_pct"),
                "server_us_per_op": median_of(
                    [r["server_us_per_op"] for r in mine if r.get("server_us_per_op")]
                ),
                "other_on_server_core_pct": median_of(
                    [r["other_on_server_core_pct"] for r in mine if "other_on_server_core_pct" in r]
                ),
                "peak_rss_kib": middle.get("peak_rss_kib"),
            })  # fmt: skip
    return {"rows": rows, "targets": judge(rows)}


def judge(rows: list[dict]) -> list[dict]:
    """The issue's throughput targets against this run's median ratios."""
    out = []
    for row in rows:
        need = TARGETS.get(row["server"])
        if need is None:
            continue
        ratio = row["ours_ratio"]
        out.append({
            "target": f"{row['workload']}: {OURS} ÷ {row['server']} ≥ {need:g}",
            "ratio": ratio,
            "held": None if ratio is None else ratio >= need,
        })  # fmt: skip
    return out


def fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


WORKLOAD_TITLES = {
    "ws": "WebSocket echo, 64 connections, round trips/s",
    "sse": "SSE, 64 subscribers, events/s",
}


def markdown(summary: dict, meta: dict) -> str:
    lines = [f"# Realtime benchmark, {meta['date_utc']}", ""]
    lines.append(
        f"Server pinned to CPU {SERVER_CPU}, load generator (Go, bench/realtime) to "
        f"CPU {LOADGEN_CPU}; {meta['rounds']} rounds of {meta['warmup']:g} s warm-up + "
        f"{meta['duration']:g} s, a fresh server per run; median round quoted. "
        f"Load average at start: {meta['loadavg_start']}, at end: {meta['loadavg_end']}."
    )
    lines.append("")
    for w in meta["workloads"]:
        lines += [
            f"## {WORKLOAD_TITLES.get(w, w)}",
            "",
            "| server | rate | spikard ÷ this | p50 ms | p99 ms | server CPU % | server CPU µs each | generator CPU % | other tasks on server core % | valid rounds | rates |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for row in summary["rows"]:
            if row["workload"] != w:
                continue
            lat = row["latency"] or {}
            rates = ", ".join(f"{r:,.0f}" for r in row["rates"])
            lines.append(
                f"| {row['server']} | {fmt(row['median_rate'], ',.0f')} | "
                f"{fmt(row['ours_ratio'], '.2f')} | {fmt(lat.get('p50_ms'), '.2f')} | "
                f"{fmt(lat.get('p99_ms'), '.2f')} | {fmt(row['server_cpu_pct'], '.0f')} | "
                f"{fmt(row['server_us_per_op'], '.2f')} | {fmt(row['loadgen_cpu_pct'], '.0f')} | "
                f"{fmt(row['other_on_server_core_pct'], '.0f')} | {row['valid_rounds']} | {rates} |"
            )
        lines.append("")
    lines += ["## Targets", ""]
    for t in summary["targets"]:
        verdict = {True: "held", False: "MISSED", None: "not judged"}[t["held"]]
        lines.append(f"- {t['target']}: {fmt(t['ratio'], '.2f')} — {verdict}")
    lines.append("")
    return "\n".join(lines)


# -- idle connections ------------------------------------------------------------


def rss_kib(srv: http_bench.Running) -> int:
    """VmRSS now, summed over the server's processes."""
    total = 0
    for pid in srv.group_pids():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(m.group(1)) if m else 0
    return total


def per_connection_kib(base_kib: int, open_kib: int, count: int) -> float | None:
    """The resident memory the open connections added, per connection."""
    if count <= 0:
        return None
    return (open_kib - base_kib) / count


def raise_nofile(need: int) -> tuple[int, int]:
    """Raise this process's (and so its children's) soft RLIMIT_NOFILE to its
    hard limit; the limits in force after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        sys.exit(
            f"realtime --idle: RLIMIT_NOFILE is {soft} (hard {hard}); {need} are needed"
        )
    return soft, hard


def measure_idle(server: RtServer, count: int, settle: float) -> dict:
    result: dict = {"server": server.name, "connections": count}
    try:
        with started(server) as srv:
            # One short echo first, so that what a first connection loads
            # (imports, buffers) is in the baseline, not counted per connection.
            warm = subprocess.run(
                loadgen_argv("ws", url_for("ws", srv.port, "/ws"), 1, 0, 0.5),
                cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            if warm.returncode != 0 or json.loads(warm.stdout or "{}").get("errors", 1):
                raise RuntimeError(
                    f"the warm-up echo failed: {warm.stdout}{warm.stderr}"
                )
            time.sleep(settle)
            result["base_rss_kib"] = rss_kib(srv)
            argv = [
                "taskset", "-c", LOADGEN_CPU, str(LOADGEN), "-mode", "idle",
                "-url", url_for("idle", srv.port, "/ws"), "-conns", str(count),
            ]  # fmt: skip
            proc = subprocess.Popen(
                argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert proc.stdout is not None and proc.stdin is not None
            opened = json.loads(proc.stdout.readline() or "{}")
            time.sleep(settle)  # let the server finish each accept's work
            result["open_rss_kib"] = rss_kib(srv)
            result["fds"] = len(os.listdir(f"/proc/{srv.proc.pid}/fd"))
            proc.stdin.close()
            closed = json.loads(proc.stdout.readline() or "{}")
            proc.wait(timeout=60)
            result.update(opened=opened, closed=closed)
            result["open"] = closed.get("open", 0)
            result["per_connection_kib"] = per_connection_kib(
                result["base_rss_kib"], result["open_rss_kib"], result["open"]
            )
            result["peak_rss_kib"] = srv.peak_rss_kib()
    except (RuntimeError, subprocess.TimeoutExpired, ValueError, OSError) as e:
        result["failure"] = str(e)
    result["valid"] = not result.get("failure") and result.get("open") == count
    per = result.get("per_connection_kib")
    print(
        f"idle {server.name:9} open {result.get('open', 0):>6}/{count} "
        f"{fmt(per, '.1f')} KiB/connection" + ("" if result["valid"] else "  INVALID"),
        file=sys.stderr,
    )
    return result


def idle_markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"# Idle WebSockets, {meta['date_utc']}",
        "",
        (
            f"{meta['connections']:,} idle WebSockets held open against each server (pinned to "
            f"CPU {SERVER_CPU}; generator on CPU {LOADGEN_CPU}), {meta['rounds']} round(s): the "
            "server's VmRSS with them open minus its VmRSS after one warm-up echo, per "
            f"connection; median round. RLIMIT_NOFILE {meta['nofile']}. Load average at start: "
            f"{meta['loadavg_start']}."
        ),
        "",
        "| server | KiB per connection | RSS before, MiB | RSS with them open, MiB | open | rounds (KiB/conn) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['server']} | {fmt(row['per_connection_kib'], '.1f')} | "
            f"{fmt(row['base_rss_kib'] and row['base_rss_kib'] / 1024, '.1f')} | "
            f"{fmt(row['open_rss_kib'] and row['open_rss_kib'] / 1024, '.1f')} | "
            f"{row['open']:,} | {', '.join(fmt(v, '.1f') for v in row['rounds'])} |"
        )
    ours = next((r for r in rows if r["server"] == OURS), None)
    fastapi = next((r for r in rows if r["server"] == "fastapi"), None)
    if (
        ours
        and fastapi
        and ours["per_connection_kib"]
        and fastapi["per_connection_kib"]
    ):
        held = ours["per_connection_kib"] <= fastapi["per_connection_kib"]
        lines += [
            "",
            f"Target: {OURS} per connection ≤ fastapi's: "
            f"{ours['per_connection_kib']:.1f} ≤ {fastapi['per_connection_kib']:.1f} KiB — "
            + ("held" if held else "MISSED"),
        ]
    lines.append("")
    return "\n".join(lines)


def summarize_idle(results: list[dict], servers: list[str]) -> list[dict]:
    rows = []
    for s in servers:
        mine = [r for r in results if r["server"] == s and r["valid"]]
        pers = sorted(r["per_connection_kib"] for r in mine)
        middle = (
            sorted(mine, key=lambda r: r["per_connection_kib"])[(len(mine) - 1) // 2]
            if mine
            else {}
        )
        rows.append({
            "server": s,
            "per_connection_kib": median_of(pers),
            "rounds": pers,
            "base_rss_kib": middle.get("base_rss_kib"),
            "open_rss_kib": middle.get("open_rss_kib"),
            "open": middle.get("open", 0),
        })  # fmt: skip
    return rows


# -- main --------------------------------------------------------------------------


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def versions(python: str) -> dict:
    def pyver(vpy: str, module: str) -> str:
        code = f"import importlib.metadata as m; print(m.version({module!r}))"
        return http_bench.tool_version([vpy, "-c", code])

    out = {
        "spikard_python": http_bench.tool_version(
            [python, "-c", "import sys; print(sys.version.split()[0])"]
        )
    }
    for peer in PEERS:
        vpy = str(http_bench.VENVS / peer / "bin" / "python")
        for module in (peer, "uvicorn", "websockets"):
            out[f"{peer}:{module}"] = pyver(vpy, module)
    return out


def write_results(label: str, payload: dict, md: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    day = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    base = RESULTS / f"{day}-{label}"
    base.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    base.with_suffix(".md").write_text(md)
    return base


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    p.add_argument("--servers", default=",".join(SERVERS))
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--warmup", type=float, default=2)
    p.add_argument(
        "--idle", action="store_true", help="idle WebSockets' memory instead"
    )
    p.add_argument("--connections", type=int, default=IDLE_CONNECTIONS)
    p.add_argument(
        "--settle", type=float, default=2.0, help="idle: seconds before each RSS sample"
    )
    p.add_argument("--label", default=None)
    args = p.parse_args(argv)
    args.servers = [s for s in args.servers.split(",") if s]
    args.workloads = [w for w in args.workloads.split(",") if w]
    for w in args.workloads:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w!r} (known: {', '.join(WORKLOADS)})")
    if args.idle:
        args.servers = (
            [s for s in args.servers if s != "ceiling"] if args.servers else []
        )
        if args.rounds == 5:
            args.rounds = 1
    if args.label is None:
        args.label = "ws-idle" if args.idle else "realtime"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    why = build_loadgen()
    if why:
        sys.exit(why)
    servers = [prepare(name, args.python) for name in args.servers]
    for s in servers:
        if s.skip:
            print(f"{s.name}: skipped: {s.skip}", file=sys.stderr)
    ready = [s for s in servers if not s.skip]
    meta = {
        "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": http_bench.machine(args.python),
        "versions": versions(args.python),
        "rounds": args.rounds,
        "loadavg_start": loadavg(),
        "skipped": {s.name: s.skip for s in servers if s.skip},
    }
    if args.idle:
        soft, hard = raise_nofile(args.connections + 1024)
        meta.update(connections=args.connections, nofile=f"{soft} (hard {hard})")
        results = [
            measure_idle(s, args.connections, args.settle)
            for _ in range(args.rounds)
            for s in ready
        ]
        rows = summarize_idle(results, [s.name for s in ready])
        meta["loadavg_end"] = loadavg()
        md = idle_markdown(rows, meta)
        base = write_results(
            args.label, {"meta": meta, "runs": results, "rows": rows}, md
        )
    else:
        meta.update(warmup=args.warmup, duration=args.duration, workloads=args.workloads,
                    connections=CONNECTIONS, paths={s.name: s.paths for s in ready})  # fmt: skip
        print(
            f"{args.rounds} rounds × {len(args.workloads)} workloads × {len(ready)} servers, "
            f"about {args.rounds * len(args.workloads) * len(ready) * (args.warmup + args.duration + 3) / 60:.0f} min",
            file=sys.stderr,
        )
        runs = [
            measure(s, w, rnd, args.warmup, args.duration)
            for rnd in range(1, args.rounds + 1)
            for w in args.workloads
            for s in ready
        ]
        summary = summarize(runs, [s.name for s in ready], args.workloads)
        meta["loadavg_end"] = loadavg()
        md = markdown(summary, meta)
        base = write_results(args.label, {"meta": meta, "runs": runs, **summary}, md)
    print(md)
    print(
        f"wrote {base.with_suffix('.md').relative_to(ROOT)} and .json", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
