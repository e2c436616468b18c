"""Draw bench/results/<run>.png: ours ÷ each peer per workload (pinned run),
one bar group per workload, a line at 1.0 (parity) and the geometric means in
the legend. Run by bench/run.py with bench/.venvs/plot's interpreter:

    python bench/plot/chart.py RESULTS.json OUT.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main() -> None:
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    mode = "pinned" if "pinned" in doc["summary"] else next(iter(doc["summary"]))
    summary = doc["summary"][mode]
    workloads = doc["settings"]["workloads"]
    peers = [p for p in summary["geomean"]]
    ratio = {(r["workload"], r["server"]): r.get("ours_ratio") for r in summary["rows"]}
    fig, ax = plt.subplots(figsize=(max(8, len(workloads) * 0.9), 5))
    width = 0.8 / max(1, len(peers))
    for i, peer in enumerate(peers):
        xs = [j + (i - (len(peers) - 1) / 2) * width for j in range(len(workloads))]
        ys = [ratio.get((w, peer)) or 0 for w in workloads]
        g = summary["geomean"][peer]["geomean"]
        label = f"÷ {peer} (geomean {g:.2f})" if g else f"÷ {peer} (no valid pair)"
        ax.bar(xs, ys, width, label=label)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(workloads)), workloads, rotation=45, ha="right")
    ax.set_ylabel("Spikard req/s ÷ peer req/s (median round)")
    ax.set_title(
        f"Spikard ÷ peers, {mode}, {doc['machine']['date_utc'][:10]} (0 = not timed)"
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=120)


if __name__ == "__main__":
    main()
