"""bench/targets.py judges a run's summary: each target holds, is missed, or
cannot be judged because the run lacks what it needs."""

import json
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


def node_summary(fastify_geomean=3.0, ours_p99=1.0, ours="spikard-node"):
    rows = []
    for w in ["path-simple", "json-small"]:
        rows.append(row(w, "spikard-node", 60_000, ours_p99, 200_000))
        rows.append(row(w, "fastify", 20_000, 2.0, 60_000, ratio=3.0))
        rows.append(row(w, "express", 10_000, 5.0, 70_000, ratio=6.0))
    geomean = {
        "fastify": {"geomean": fastify_geomean, "workloads": 2},
        "express": {"geomean": 6.0, "workloads": 2},
    }
    return {"ours": ours, "rows": rows, "geomean": geomean}


def test_the_node_targets_are_fastify_throughput_and_p99_only():
    verdicts = held(node_summary())
    assert verdicts == {
        "geomean ÷ fastify ≥ 2.5": True,
        "p99 ≤ fastify's on every workload": True,
    }
    text, code = targets.report(node_summary())
    assert code == 0
    assert "Ours: spikard-node." in text
    assert "not targets for spikard-node" in text  # RSS and the ceiling
    assert "fastapi" not in text


@pytest.mark.parametrize(
    ("change", "missed"),
    [
        ({"fastify_geomean": 2.49}, "geomean ÷ fastify ≥ 2.5"),
        ({"ours_p99": 2.01}, "p99 ≤ fastify's on every workload"),
    ],
)
def test_each_node_target_can_be_missed(change, missed):
    verdicts = held(node_summary(**change))
    assert [t for t, ok in verdicts.items() if not ok] == [missed]
    assert targets.report(node_summary(**change))[1] == 1


def test_a_node_run_without_fastify_cannot_be_judged():
    s = node_summary()
    del s["geomean"]["fastify"]
    s["rows"] = [r for r in s["rows"] if r["server"] != "fastify"]
    assert set(held(s).values()) == {None}
    assert targets.report(s)[1] == 2


def test_a_summary_without_ours_is_judged_as_spikards():
    s = summary()
    assert "ours" not in s
    assert "Ours: spikard." in targets.report(s)[0]


def test_an_ours_without_targets_says_so():
    text, code = targets.report(node_summary(ours="baseline"))
    assert code == 2
    assert "No targets are set for baseline" in text


def test_targets_py_reads_ours_from_the_results_file(tmp_path, capsys, monkeypatch):
    s = node_summary()
    del s["ours"]
    doc = {"ours": "spikard-node", "summary": {"pinned": s}}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    monkeypatch.setattr(sys, "argv", ["targets.py", str(path)])
    assert targets.main() == 0
    assert "geomean ÷ fastify ≥ 2.5" in capsys.readouterr().out
