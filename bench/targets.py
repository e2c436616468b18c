"""Judge a pinned benchmark run against the speed targets of the benchmark
issue, and say for each target whether it holds and by what margin:

    python3 bench/targets.py bench/results/<run>.json

Exits 0 when every target holds, 1 when one is missed, 2 when the run lacks
what a target needs (a server or workload not run). bench/run.py appends the
same report to the Markdown table of every pinned run. Standard library only.
"""

import json
import sys

OURS = "spikard"
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


def check(summary: dict) -> tuple[list[tuple[str, str, bool | None]], list[str]]:
    """(target, measured, held?) per target; held is None when the run
    cannot tell. Also the workloads the per-workload targets compared."""
    results: list[tuple[str, str, bool | None]] = []
    geo = summary["geomean"]
    for peer, floor in GEOMEAN_AT_LEAST.items():
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

    row = rows.get((CEILING_WORKLOAD, CEILING), {})
    share = row.get("ours_ratio")
    target = f"{CEILING_WORKLOAD} ≥ {CEILING_SHARE_AT_LEAST:.0%} of plain Hertz"
    if share is None:
        results.append((target, "not measured", None))
    else:
        results.append((target, f"{share:.2f}", share >= CEILING_SHARE_AT_LEAST))

    def per_workload(target: str, peer: str, field: str, limit: float) -> None:
        worst, worst_at, missed, compared = None, None, [], 0
        for w in workloads:
            mine = rows.get((w, OURS), {}).get("median")
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

    per_workload(
        f"p99 ≤ {LATENCY_PEER}'s on every workload", LATENCY_PEER, "p99_ms", 1.0
    )
    per_workload(
        f"peak RSS ≤ {RSS_AT_MOST:g}x {RSS_PEER}'s on every workload",
        RSS_PEER,
        "peak_rss_kib",
        RSS_AT_MOST,
    )
    return results, workloads


def report(summary: dict) -> tuple[str, int]:
    results, _ = check(summary)
    lines = ["| target | measured | holds |", "|---|---|---|"]
    for target, measured, held in results:
        mark = "?" if held is None else "yes" if held else "**no**"
        lines.append(f"| {target} | {measured} | {mark} |")
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
    text, code = report(summary)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
