"""Judge a pinned benchmark run against the speed targets of the benchmark
issue, and say for each target whether it holds and by what margin:

    python3 bench/targets.py bench/results/<run>.json

Exits 0 when every target holds, 1 when one is missed, 2 when the run lacks
what a target needs (a server or workload not run). bench/run.py appends the
same report to the Markdown table of every pinned run. Standard library only.

The targets are those of the run's "ours" (the summary names it; a file from
before that is `spikard`'s): the Python binding `spikard` against the Python
peers, the ceiling and FastAPI's p99 and RSS; the Node package `spikard-node`
against Fastify, by throughput and p99 (peak RSS and the ceiling are not its
targets: Node's own heap sets the RSS, and the ceiling is the Python table's).
"""

import json
import sys

OURS = "spikard"  # ours in a summary that does not say
# Geometric mean over the 18 workloads of ours ÷ peer, at least this.
GEOMEAN_AT_LEAST = {
    "fastapi": 4.0,
    "spikard-0.3.5": 2.0,
    "spikard-0.17": 2.0,
    "litestar": 3.0,
    "robyn": 3.0,
    "blacksheep": 3.0,
}
CEILING = "ceiling"
CEILING_WORKLOAD = "path-simple"
CEILING_SHARE_AT_LEAST = 0.5
LATENCY_PEER = "fastapi"  # our p99 at or below its p99 on every workload
RSS_PEER = "fastapi"
RSS_AT_MOST = 1.5  # our peak RSS at most this multiple of its, every workload

# spikard-node, the Node package, against the Node frameworks.
NODE_OURS = "spikard-node"
NODE_GEOMEAN_AT_LEAST = {"fastify": 2.5}
NODE_LATENCY_PEER = "fastify"


def targets_of(ours: str) -> dict | None:
    """What `ours` is judged by: geomean floors per peer, and the ceiling,
    p99 and RSS peers (None: not a target); None for a server without targets."""
    if ours == OURS:
        return {
            "geomean": GEOMEAN_AT_LEAST,
            "ceiling": CEILING,
            "latency_peer": LATENCY_PEER,
            "rss_peer": RSS_PEER,
        }
    if ours == NODE_OURS:
        return {
            "geomean": NODE_GEOMEAN_AT_LEAST,
            "ceiling": None,
            "latency_peer": NODE_LATENCY_PEER,
            "rss_peer": None,
        }
    return None


def ours_of(summary: dict) -> str:
    return summary.get("ours") or OURS


def check(summary: dict) -> tuple[list[tuple[str, str, bool | None]], list[str]]:
    """(target, measured, held?) per target of the summary's ours; held is
    None when the run cannot tell. Also the workloads the per-workload
    targets compared."""
    results: list[tuple[str, str, bool | None]] = []
    ours = ours_of(summary)
    goals = targets_of(ours)
    if goals is None:
        return results, []
    geo = summary["geomean"]
    for peer, floor in goals["geomean"].items():
        g = geo.get(peer, {}).get("geomean")
        target = f"geomean ÷ {peer} ≥ {floor:g}"
        if g is None:
            results.append((target, "not measured", None))
        else:
            n = geo[peer]["workloads"]
            results.append((target, f"{g:.2f} over {n} workloads", g >= floor))

    rows = {(r["workload"], r["server"]): r for r in summary["rows"]}
    workloads = sorted(
        {w for w, _ in rows}, key=[r["workload"] for r in summary["rows"]].index
    )

    if goals["ceiling"] is not None:
        row = rows.get((CEILING_WORKLOAD, goals["ceiling"]), {})
        share = row.get("ours_ratio")
        target = f"{CEILING_WORKLOAD} ≥ {CEILING_SHARE_AT_LEAST:.0%} of plain Hertz"
        if share is None:
            results.append((target, "not measured", None))
        else:
            results.append((target, f"{share:.2f}", share >= CEILING_SHARE_AT_LEAST))

    def per_workload(target: str, peer: str, field: str, limit: float) -> None:
        worst, worst_at, missed, compared = None, None, [], 0
        for w in workloads:
            mine = rows.get((w, ours), {}).get("median")
            theirs = rows.get((w, peer), {}).get("median")
            if (
                not mine
                or not theirs
                or mine.get(field) is None
                or not theirs.get(field)
            ):
                continue
            compared += 1
            ratio = mine[field] / theirs[field]
            if worst is None or ratio > worst:
                worst, worst_at = ratio, w
            if ratio > limit:
                missed.append(f"{w} {ratio:.2f}x")
        if compared == 0:
            results.append((target, "not measured", None))
        elif missed:
            results.append((target, "over on " + ", ".join(missed), False))
        else:
            results.append(
                (
                    target,
                    f"all {compared} workloads; closest {worst_at} {worst:.2f}x",
                    True,
                )
            )

    latency = goals["latency_peer"]
    per_workload(f"p99 ≤ {latency}'s on every workload", latency, "p99_ms", 1.0)
    if goals["rss_peer"] is not None:
        per_workload(
            f"peak RSS ≤ {RSS_AT_MOST:g}x {goals['rss_peer']}'s on every workload",
            goals["rss_peer"],
            "peak_rss_kib",
            RSS_AT_MOST,
        )
    return results, workloads


def bound(summary: dict, peer: str) -> tuple[float, int] | None:
    """The geometric mean over the workloads of plain Hertz (the ceiling: the
    core's HTTP server with no host language) ÷ `peer`, from the same run:
    what no binding over this core can beat on one core. None when either
    was not run."""
    import math

    rows = {(r["workload"], r["server"]): r for r in summary["rows"]}
    ratios = []
    for (w, server), row in rows.items():
        if server != CEILING:
            continue
        top = (row.get("median") or {}).get("req_s")
        theirs = (rows.get((w, peer), {}).get("median") or {}).get("req_s")
        if top and theirs and not row.get("invalid_rounds"):
            ratios.append(top / theirs)
    if not ratios:
        return None
    return math.exp(sum(map(math.log, ratios)) / len(ratios)), len(ratios)


def report(summary: dict) -> tuple[str, int]:
    results, _ = check(summary)
    ours = ours_of(summary)
    if targets_of(ours) is None:
        return (
            f"No targets are set for {ours} (bench/targets.py sets {OURS}'s and {NODE_OURS}'s).",
            2,
        )
    lines = [f"Ours: {ours}.", "", "| target | measured | holds |", "|---|---|---|"]
    for target, measured, held in results:
        mark = "?" if held is None else "yes" if held else "**no**"
        lines.append(f"| {target} | {measured} | {mark} |")
    goals = targets_of(ours)
    for peer in goals["geomean"]:
        top = bound(summary, peer) if ours != OURS else None
        if top is not None:
            lines += [
                "",
                (
                    f"Not a target, the bound: plain Hertz (no host language) ÷ {peer} has a "
                    f"geometric mean of {top[0]:.2f} over {top[1]} workloads in this run; "
                    "no binding over this core exceeds it on one core."
                ),
            ]
    if goals["ceiling"] is None or goals["rss_peer"] is None:
        lines += [
            "",
            f"Peak RSS and the plain-Hertz ceiling are not targets for {ours}.",
        ]
    if any(held is None for _, _, held in results):
        code = 2
    elif all(held for _, _, held in results):
        code = 0
    else:
        code = 1
    return "\n".join(lines), code


def main() -> int:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    summary = doc.get("summary", {}).get("pinned")
    if summary is None:
        print("no pinned run in this file", file=sys.stderr)
        return 2
    if not summary.get("ours") and doc.get("ours"):
        summary["ours"] = doc["ours"]
    text, code = report(summary)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
