"""bench/run.py's "ours": which server every ratio is ours ÷, chosen from the
run's servers, and recorded in the summary the targets and the tables read."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import run  # bench/run.py


@pytest.mark.parametrize(
    ("names", "explicit", "ours"),
    [
        (list(run.SERVERS), None, "spikard"),
        (["spikard-node", "fastify", "hono", "express"], None, "spikard-node"),
        (["fastify", "spikard-node"], None, "spikard-node"),
        (["spikard-node", "spikard", "fastapi"], None, "spikard"),
        (["spikard", "baseline"], None, "spikard"),
        (["spikard", "baseline"], "baseline", "baseline"),
        (["fastapi", "litestar"], None, "spikard"),  # none of ours: no ratio
    ],
)
def test_ours_is_spikard_else_spikard_node_unless_named(names, explicit, ours):
    assert run.choose_ours(names, explicit) == ours


def test_an_ours_that_does_not_run_is_refused():
    with pytest.raises(SystemExit):
        run.choose_ours(["spikard-node", "fastify"], "spikard")


def test_the_node_servers_are_known_but_not_in_the_default_run():
    assert run.NODE_SERVERS == ("spikard-node", "fastify", "hono", "express")
    assert not set(run.NODE_SERVERS) & set(run.SERVERS)
    assert set(run.NODE_SERVERS) <= set(run.KNOWN)


def _run(server, workload, req_s, rnd=1):
    return {"mode": "pinned", "server": server, "workload": workload, "round": rnd,
            "req_s": req_s, "valid": True, "errors": 0, "p50_ms": 0.5, "p99_ms": 1.0,
            "peak_rss_kib": 50_000}  # fmt: skip


def _workload(name):
    return run.Workload(name, "GET", "/", None, None, {})


def test_summarize_divides_by_the_runs_ours_and_names_it():
    servers = [run.Server(n, []) for n in ("spikard-node", "fastify", "express")]
    loads = [_workload("path-simple"), _workload("json-small")]
    runs = [
        _run("spikard-node", "path-simple", 90_000),
        _run("fastify", "path-simple", 30_000),
        _run("express", "path-simple", 10_000),
        _run("spikard-node", "json-small", 40_000),
        _run("fastify", "json-small", 20_000),
        _run("express", "json-small", 10_000),
    ]
    summary = run.summarize(runs, servers, loads, "pinned", "spikard-node")
    assert summary["ours"] == "spikard-node"
    assert set(summary["geomean"]) == {"fastify", "express"}
    assert summary["geomean"]["fastify"]["geomean"] == pytest.approx((3.0 * 2.0) ** 0.5)
    assert summary["geomean"]["express"]["workloads"] == 2
    ours_rows = [r for r in summary["rows"] if r["server"] == "spikard-node"]
    assert all(r["ours_ratio"] is None for r in ours_rows)
    table = run.markdown(summary, {}, "pinned")
    assert "spikard-node ÷ this" in table
    assert "Geometric mean of spikard-node ÷ peer" in table


def test_summarize_defaults_to_the_python_ours():
    servers = [run.Server(n, []) for n in ("spikard", "fastapi")]
    runs = [
        _run("spikard", "path-simple", 50_000),
        _run("fastapi", "path-simple", 5_000),
    ]
    summary = run.summarize(runs, servers, [_workload("path-simple")], "pinned")
    assert summary["ours"] == "spikard"
    assert summary["geomean"]["fastapi"]["geomean"] == pytest.approx(10.0)


def test_a_node_peer_without_its_lock_file_is_skipped_with_the_reason(tmp_path):
    (tmp_path / "app.mjs").write_text("")
    why = run.ensure_node_modules(tmp_path)
    assert why is not None and "package-lock.json is missing" in why


def test_every_node_peer_pins_exact_versions_and_commits_its_lock():
    import json
    import re

    for name in run.NODE_PEERS:
        peer = run.BENCH / "peers" / name
        assert (peer / "app.mjs").exists()
        deps = json.loads((peer / "package.json").read_text())["dependencies"]
        assert deps, name
        for pkg, version in deps.items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: {pkg} {version}"
        lock = json.loads((peer / "package-lock.json").read_text())
        assert lock["packages"][""]["dependencies"] == deps, name
