"""bench/targets.py judges a run's summary: each target holds, is missed, or
cannot be judged because the run lacks what it needs."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import targets

PEERS = ["fastapi", "spikard-0.3.5", "spikard-0.17", "litestar", "robyn", "blacksheep"]


def row(workload, server, req_s, p99_ms, rss_kib, ratio=None):
    return {
        "workload": workload,
        "server": server,
        "median": {"req_s": req_s, "p99_ms": p99_ms, "peak_rss_kib": rss_kib},
        "ours_ratio": ratio,
    }


def summary(ours_rss=50_000, ceiling_share=0.6, robyn_geomean=3.5, ours_p99=1.0):
    rows = []
    for w in ["path-simple", "json-small"]:
        rows.append(row(w, "spikard", 60_000, ours_p99, ours_rss))
        rows.append(row(w, "fastapi", 6_000, 10.0, 40_000, ratio=10.0))
        rows.append(
            row(w, "ceiling", 60_000 / ceiling_share, 0.5, 10_000, ratio=ceiling_share)
        )
    geomean = {p: {"geomean": 10.0, "workloads": 2} for p in PEERS}
    geomean["robyn"]["geomean"] = robyn_geomean
    return {"rows": rows, "geomean": geomean}


def held(summary):
    return {target: ok for target, _, ok in targets.check(summary)[0]}


def test_a_run_meeting_every_target_passes():
    text, code = targets.report(summary())
    assert code == 0
    assert "**no**" not in text
    assert all(held(summary()).values())


@pytest.mark.parametrize(
    ("change", "missed"),
    [
        ({"robyn_geomean": 2.9}, "geomean ÷ robyn ≥ 3"),
        ({"ceiling_share": 0.49}, "path-simple ≥ 50% of plain Hertz"),
        ({"ours_p99": 10.5}, "p99 ≤ fastapi's on every workload"),
        ({"ours_rss": 60_001}, "peak RSS ≤ 1.5x fastapi's on every workload"),
    ],
)
def test_each_target_can_be_missed(change, missed):
    verdicts = held(summary(**change))
    assert verdicts[missed] is False
    assert [t for t, ok in verdicts.items() if not ok] == [missed]
    assert targets.report(summary(**change))[1] == 1


def test_rss_at_exactly_the_limit_holds():
    assert held(summary(ours_rss=60_000))["peak RSS ≤ 1.5x fastapi's on every workload"]


def test_a_missing_server_cannot_be_judged():
    s = summary()
    del s["geomean"]["spikard-0.17"]
    s["rows"] = [r for r in s["rows"] if r["server"] != "ceiling"]
    verdicts = held(s)
    assert verdicts["geomean ÷ spikard-0.17 ≥ 2"] is None
    assert verdicts["path-simple ≥ 50% of plain Hertz"] is None
    assert targets.report(s)[1] == 2


def test_the_missed_workload_is_named():
    s = summary()
    s["rows"][0]["median"]["peak_rss_kib"] = 100_000  # path-simple, ours
    _, measured, ok = targets.check(s)[0][-1]
    assert ok is False
    assert measured == "over on path-simple 2.50x"
