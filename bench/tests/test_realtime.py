"""bench/realtime/harness.py: how runs are judged, summarized and reported (no
timing); and the Go load generator against the plain-Hertz ceiling, for a
fraction of a second, to check that it counts echoes and events."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "realtime"))
import harness as rt  # bench/realtime/harness.py


def run(server, workload, rnd, rate, **extra):
    r = {
        "server": server,
        "workload": workload,
        "round": rnd,
        "rate": rate,
        "count": int(rate),
    }
    r.update(extra)
    if workload == "sse" and "sample" not in r:
        r["sample"] = 'data: {"seq":0,"text":"hello, realtime"}\n\n'
    r["valid"], r["why_invalid"] = rt.validity(r)
    return r


@pytest.mark.parametrize(
    "sample",
    [
        'data: {"seq":0,"text":"hello, realtime"}\n\ndata: {"seq":1',
        'data: {"seq": 0, "text": "hello, realtime"}\r\n\r\n',
        'event: message\ndata:{"text":"hello, realtime","seq":0}\n\n',
    ],
)
def test_a_right_first_event(sample):
    assert rt.check_sample(sample) is None


@pytest.mark.parametrize(
    ("sample", "why"),
    [
        ("", "sent nothing"),
        (": ping\n\n", "no data line"),
        ("data: {nope\n\n", "not JSON"),
        ('data: {"seq":1,"text":"hello, realtime"}\n\n', "not {"),
    ],
)
def test_a_wrong_first_event(sample, why):
    assert why in rt.check_sample(sample)


def test_errors_and_bad_streams_make_a_run_invalid():
    assert run("spikard", "ws", 1, 100)["valid"]
    assert not run("spikard", "ws", 1, 100, errors=2, first_error="read: EOF")["valid"]
    assert not run("spikard", "ws", 1, 0)["valid"]
    assert not run("spikard", "sse", 1, 100, sample="data: 1\n\n")["valid"]
    assert not run("spikard", "ws", 1, 100, failure="spikard exited with 1")["valid"]


def test_ratios_are_per_round_and_the_median_is_quoted():
    runs = [
        run("spikard", "ws", 1, 300), run("fastapi", "ws", 1, 100),
        run("spikard", "ws", 2, 200), run("fastapi", "ws", 2, 100),
        run("spikard", "ws", 3, 900), run("fastapi", "ws", 3, 100),
        run("litestar", "ws", 1, 100, errors=1),  # invalid: not counted
        run("litestar", "ws", 2, 150),
    ]  # fmt: skip
    summary = rt.summarize(runs, ["spikard", "fastapi", "litestar"], ["ws"])
    rows = {r["server"]: r for r in summary["rows"]}
    assert rows["spikard"]["median_rate"] == 300
    assert rows["spikard"]["ours_ratio"] is None
    assert rows["fastapi"]["ratios"] == [3.0, 2.0, 9.0]
    assert rows["fastapi"]["ours_ratio"] == 3.0
    assert rows["litestar"]["valid_rounds"] == 1
    assert rows["litestar"]["ours_ratio"] == pytest.approx(200 / 150)
    held = {t["target"]: t["held"] for t in summary["targets"]}
    assert held == {
        "ws: spikard ÷ fastapi ≥ 3": True,
        "ws: spikard ÷ litestar ≥ 2": False,
    }


def test_a_peer_without_valid_rounds_is_not_judged():
    runs = [run("spikard", "sse", 1, 300), run("fastapi", "sse", 1, 0)]
    summary = rt.summarize(runs, ["spikard", "fastapi"], ["sse"])
    assert summary["targets"] == [
        {"target": "sse: spikard ÷ fastapi ≥ 3", "ratio": None, "held": None}
    ]
    meta = {
        "date_utc": "2026-12-03T00:00:00+00:00", "rounds": 1, "warmup": 1, "duration": 2,
        "loadavg_start": "1.0 1.0 1.0", "loadavg_end": "1.0 1.0 1.0", "workloads": ["sse"],
    }  # fmt: skip
    md = rt.markdown(summary, meta)
    assert "| spikard | 300 |" in md
    assert "not judged" in md


def test_idle_memory_per_connection_and_its_target():
    assert rt.per_connection_kib(100_000, 140_000, 10_000) == 4.0
    assert rt.per_connection_kib(100_000, 140_000, 0) is None
    results = [
        {"server": "spikard", "valid": True, "per_connection_kib": 4.0, "base_rss_kib": 1, "open_rss_kib": 2, "open": 10},
        {"server": "spikard", "valid": True, "per_connection_kib": 6.0, "base_rss_kib": 1, "open_rss_kib": 2, "open": 10},
        {"server": "spikard", "valid": True, "per_connection_kib": 5.0, "base_rss_kib": 1, "open_rss_kib": 2, "open": 10},
        {"server": "fastapi", "valid": True, "per_connection_kib": 9.0, "base_rss_kib": 1, "open_rss_kib": 2, "open": 10},
        {"server": "fastapi", "valid": False, "per_connection_kib": 1.0},
    ]  # fmt: skip
    rows = rt.summarize_idle(results, ["spikard", "fastapi"])
    assert [r["per_connection_kib"] for r in rows] == [5.0, 9.0]
    meta = {
        "date_utc": "d",
        "connections": 10,
        "rounds": 3,
        "nofile": "1 (hard 1)",
        "loadavg_start": "0",
    }
    assert "5.0 ≤ 9.0 KiB — held" in rt.idle_markdown(rows, meta)


def test_idle_mode_defaults():
    args = rt.parse_args(["--idle"])
    assert args.servers == ["spikard", "fastapi", "litestar"]
    assert args.rounds == 1 and args.label == "ws-idle" and args.connections == 10_000
    args = rt.parse_args(["--workloads", "sse", "--servers", "spikard,ceiling"])
    assert args.workloads == ["sse"] and args.servers == ["spikard", "ceiling"]
    assert args.rounds == 5 and args.label == "realtime"
    with pytest.raises(SystemExit):
        rt.parse_args(["--workloads", "long-poll"])


@pytest.fixture(scope="module")
def ceiling():
    """The load generator and the ceiling built, the ceiling listening."""
    assert rt.build_loadgen() is None
    server = rt.prepare("ceiling", sys.executable)
    assert server.skip is None
    with rt.started(server) as srv:
        yield srv


@pytest.mark.parametrize("workload", ["ws", "sse"])
def test_the_generator_counts_against_the_ceiling(ceiling, workload):
    argv = rt.loadgen_argv(
        workload, rt.url_for(workload, ceiling.port, "/" + workload), 2, 0.1, 0.3
    )
    out = subprocess.run(
        argv[3:], capture_output=True, text=True, timeout=60, check=True
    )
    result = json.loads(out.stdout)
    assert result["errors"] == 0, result.get("first_error")
    assert result["count"] > 0
    assert "realtime: measuring" in out.stderr and "realtime: done" in out.stderr
    if workload == "ws":
        assert (
            result["latency"]["p50_ms"]
            <= result["latency"]["p99_ms"]
            <= result["latency"]["max_ms"]
        )
    else:
        assert rt.check_sample(result["sample"]) is None


def test_the_generator_holds_idle_connections(ceiling):
    argv = [
        str(rt.LOADGEN),
        "-mode",
        "idle",
        "-url",
        rt.url_for("idle", ceiling.port, "/ws"),
        "-conns",
        "20",
    ]
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    opened = json.loads(proc.stdout.readline())
    proc.stdin.close()
    closed = json.loads(proc.stdout.readline())
    assert proc.wait(timeout=30) == 0
    assert opened["phase"] == "open" and opened["open"] == 20
    assert (
        closed["phase"] == "closed" and closed["open"] == 20 and closed["dropped"] == 0
    )
