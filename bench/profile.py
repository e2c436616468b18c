"""Where a request's time goes: perf samples of our server under wrk load,
grouped into the parts of a request (Hertz, the crossing, the dispatcher, ...).

    python3 bench/profile.py [--workloads path-simple,json-small] [--seconds 10]
                             [--python-split] [--server spikard-node]

Each workload gets a fresh pinned server (bench/apps/spikard_app.py, CPU 0)
and wrk (CPU 1), as in bench/run.py. While wrk runs, ``perf record`` samples
every thread of the server; the self time of each sampled function is put in
one group by the library and symbol it belongs to. The group's share of the
samples times the CPU time per request (CPU seconds the server used divided
by the requests wrk counted) gives microseconds per request. Needs ``perf``
(Debian: linux-perf) and a quiet machine.

``--python-split`` looks inside the Python thread instead: py-spy samples its
Python stacks, each sample counted for the part of the request its deepest
frame belongs to (the handler, decoding, encoding, the crossings, the
dispatcher, the event loop), scaled by that thread's own CPU per request.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # the harness this reuses: servers, workloads, wrk

# (group, library pattern, symbol pattern): the first match wins. Symbols of
# libspikard.so are Go functions named by import path.
GROUPS = (
    ("hertz (HTTP/1 parse, write)", r"libspikard", r"cloudwego/hertz"),
    ("netpoll (connections, buffers)", r"libspikard", r"cloudwego/netpoll"),
    ("sonic (JSON)", r"libspikard", r"bytedance/sonic"),
    ("core: validation", r"libspikard", r"spikard/core/validate"),
    ("core: params, bodies, routing", r"libspikard", r"spikard/core/(request|route)"),
    ("core: exchange, lanes, problems", r"libspikard", r"spikard/core"),
    ("crossing: C ABI (capi)", r"libspikard", r"spikard/capi|_cgo|cgocall|crosscall"),
    (
        "Go runtime: GC, allocation",
        r"libspikard",
        r"runtime\.(gc|mallocgc|mark|scan|sweep|heap|greyobject|findObject|wbBuf|bulkBarrier|memclr)",
    ),
    ("Go runtime: scheduler, other", r"libspikard", r"."),
    # @spikard/node (--server spikard-node): V8's JSON, its collector, the
    # addon, and the rest of the node binary and its JIT code.
    ("V8: JSON.stringify", r"^node$", r"JsonStringifier|FastDtoa|DoubleToCString"),
    (
        "V8: JSON.parse (with key internalising)",
        r"^node$",
        r"JsonParser|StringTable|InternalizeString|StringToDouble",
    ),
    ("V8: GC", r"^node$", r"Scaveng|Heap::|MarkCompact|Sweeper|Evacuat|Marking"),
    ("Node addon (spikard.node)", r"spikard\.node", r"."),
    ("V8/Node: JS, N-API, builtins", r"^node$|^\[JIT\]|libstdc\+\+", r"."),
    ("binding C extension (_native)", r"_native", r"."),
    ("msgspec (decode/encode)", r"msgspec|_core\.cpython", r"."),
    ("CPython interpreter: dispatcher, handler", r"python|libpython", r"."),
    ("libc (memcpy, malloc, futex)", r"libc\.so|libc-|ld-linux|libpthread", r"."),
    ("kernel: TCP, epoll, syscalls", r"kernel|vmlinux|\[k", r"."),
)
OTHER = "other"

# perf names the JIT code of a process by thread ("[JIT] tid 123").
PERF_LINE = re.compile(r"^\s*([\d.]+)%\s+(\[JIT\] tid \d+|\S+)\s+\[([.k])\]\s+(.*)$")


def first_match(table: tuple, where: str, what: str) -> str | None:
    """The name of table's first (name, where pattern, what pattern) row
    matching both; GROUPS and PY_PARTS are such tables."""
    for name, where_pattern, what_pattern in table:
        if re.search(where_pattern, where) and re.search(what_pattern, what):
            return name
    return None


def group_of(dso: str, kind: str, sym: str) -> str:
    if kind == "k":
        return GROUPS[-1][0]
    return first_match(GROUPS, dso, sym) or OTHER


def process_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds so far of the given processes, all threads."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def profile(server: run.Server, w: run.Workload, seconds: int, out_dir: Path) -> dict:
    data = out_dir / f"{w.name}.perf.data"
    with run.Running(server) as srv:
        run.wrk(srv, w, 2)  # warm-up: caches, allocator, JIT-free steady state
        pids = srv.group_pids()
        perf = subprocess.Popen(
            [
                "perf",
                "record",
                "-F",
                "499",
                "-o",
                str(data),
                "-p",
                ",".join(map(str, pids)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # perf attaches before wrk starts counting
        cpu0 = process_cpu_seconds(pids)
        result, _ = run.wrk(srv, w, seconds)
        cpu = process_cpu_seconds(pids) - cpu0
        perf.send_signal(2)
        perf.wait(timeout=60)
    report = subprocess.run(
        ["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,sym",
         "--stdio", "-q", "--percent-limit", "0"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    shares: dict[str, float] = defaultdict(float)
    top: list[tuple[float, str]] = []
    for line in report.splitlines():
        m = PERF_LINE.match(line)
        if not m:
            continue
        pct, dso, kind, sym = float(m[1]), m[2], m[3], m[4].strip()
        shares[group_of(dso, kind, sym)] += pct
        top.append((pct, f"{dso} {sym}"))
    requests = result["requests"]
    us_per_request = 1e6 * cpu / requests if requests else 0.0
    return {
        "workload": w.name,
        "req_s": result["req_s"],
        "cpu_us_per_request": us_per_request,
        "groups": dict(sorted(shares.items(), key=lambda kv: -kv[1])),
        "top": sorted(top, reverse=True)[:15],
    }


# The host thread's own time, by the deepest Python frame of each py-spy
# sample: (part, file pattern, function pattern); the first match wins;
# py-spy names a method Class.method and a script by its file name. A C
# call (msgspec, the _native crossing) counts for the Python frame that made
# it, so `_on_ready` and `_drain_async` are mostly spikard_poller_poll and `_respond`
# spikard_respond.
PY_PARTS = (
    ("handler (the user's function)", r"(^|/)spikard_app\.py$", r"^(?!<module>|main$)"),
    ("decoding: parameters and body (msgspec)", r"spikard/_call\.py", r"."),
    ("encoding: the answer (msgspec)", r"spikard/_results\.py", r"."),
    (
        "crossing in: spikard_poller_poll",
        r"spikard/_dispatch\.py",
        r"(^|\.)(_on_ready|_drain_async)$",
    ),
    (
        "crossing out: spikard_respond",
        r"spikard/_dispatch\.py",
        r"(^|\.)(_respond|_flush)$",
    ),
    ("dispatcher: route lookup, coroutine step", r"spikard/_dispatch\.py", r"."),
    ("event loop (asyncio)", r"asyncio/|selectors\.py", r"."),
)
PYSPY_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def thread_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of one process's main thread."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def part_of(stack: str) -> str:
    """The PY_PARTS part of one collapsed py-spy stack (root first)."""
    frames = stack.split(";")
    for frame in reversed(frames):
        m = PYSPY_FRAME.match(frame.strip())
        part = m and first_match(PY_PARTS, m["file"], m["func"])
        if part:
            return part
    return OTHER


def profile_python(
    server: run.Server, w: run.Workload, seconds: int, out_dir: Path
) -> dict:
    """The host (main) thread's CPU per request, split by py-spy samples into
    the parts of PY_PARTS. py-spy stops the process for each sample (its
    non-blocking mode mixed up stacks) and skips samples of a thread waiting
    in the kernel, so the shares are of the thread's running time."""
    raw = out_dir / f"{w.name}.pyspy.txt"
    with run.Running(server) as srv:
        run.wrk(srv, w, 2)
        pid = srv.proc.pid
        spy = subprocess.Popen(
            ["py-spy", "record", "--pid", str(pid), "--rate", "250",
             "--format", "raw", "--output", str(raw), "--duration", str(seconds + 5)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1)  # py-spy attaches before wrk starts counting
        cpu0 = thread_cpu_seconds(pid)
        result, _ = run.wrk(srv, w, seconds)
        cpu = thread_cpu_seconds(pid) - cpu0
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    counts: dict[str, int] = defaultdict(int)
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            counts[part_of(stack)] += int(n)
    total = sum(counts.values()) or 1
    requests = result["requests"]
    return {
        "workload": w.name,
        "req_s": result["req_s"],
        "thread_us_per_request": 1e6 * cpu / requests if requests else 0.0,
        "samples": total,
        "parts": {
            k: 100 * v / total for k, v in sorted(counts.items(), key=lambda kv: -kv[1])
        },
    }


def markdown_python(results: list[dict]) -> str:
    lines = []
    for r in results:
        per = r["thread_us_per_request"]
        title = (
            f"### {r['workload']}, the Python thread: {r['req_s']:,.0f} req/s, "
            f"{per:.2f} µs of its CPU per request ({r['samples']} samples)"
        )
        lines += [
            title,
            "",
            "| part | share | µs/request |",
            "|---|---:|---:|",
        ]
        lines += [
            f"| {name} | {pct:.1f}% | {per * pct / 100:.2f} |"
            for name, pct in r["parts"].items()
            if pct >= 0.5
        ]
        lines.append("")
    return "\n".join(lines)


def markdown(results: list[dict]) -> str:
    lines = []
    for r in results:
        per = r["cpu_us_per_request"]
        lines += [
            f"### {r['workload']}: {r['req_s']:,.0f} req/s, {per:.1f} µs of server CPU per request",
            "",
            "| part of the request | share | µs/request |",
            "|---|---:|---:|",
        ]
        for name, pct in r["groups"].items():
            if pct >= 0.5:
                lines.append(f"| {name} | {pct:.1f}% | {per * pct / 100:.2f} |")
        lines += ["", "Hottest functions (self time):", ""]
        lines += [f"- {pct:.1f}% {name}" for pct, name in r["top"][:10]]
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--workloads", default="path-simple,json-small,json-medium,query-many"
    )
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument(
        "--server",
        default="spikard",
        choices=(
            "spikard",
            "spikard-sync",
            "spikard-hooks",
            "spikard-host-hooks",
            "spikard-node",
        ),
    )
    ap.add_argument("--python", default=str(run.ROOT / ".venv" / "bin" / "python"))
    ap.add_argument("--out", type=Path, default=run.BUILD / "profile")
    ap.add_argument(
        "--python-split",
        action="store_true",
        help="instead of perf: split the Python thread's time with py-spy (pip install py-spy)",
    )
    args = ap.parse_args()
    for tool in ("py-spy" if args.python_split else "perf", "wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"profile.py: {tool} not found")
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = [n.strip() for n in args.workloads.split(",")]
    loads = {w.name: w for w in run.workloads()}
    unknown = set(wanted) - set(loads)
    if unknown:
        sys.exit(f"profile.py: unknown workloads {sorted(unknown)}")
    if args.server == "spikard-node":
        if args.python_split:
            sys.exit("profile.py: --python-split is for the Python servers")
        server = run.prepare_node_server(args.server)
        # --perf-basic-prof: node writes /tmp/perf-<pid>.map, so perf names JIT frames.
        server.argv = [server.argv[0], "--perf-basic-prof", *server.argv[1:]]
    else:
        server = run.prepare_server(args.server, os.path.abspath(args.python))
    if server.skip:
        sys.exit(f"profile.py: {args.server}: {server.skip}")
    if args.python_split:
        split = [
            profile_python(server, loads[n], args.seconds, args.out) for n in wanted
        ]
        print(markdown_python(split))
        return 0
    results = [profile(server, loads[n], args.seconds, args.out) for n in wanted]
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
