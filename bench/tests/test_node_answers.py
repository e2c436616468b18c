"""The answer check of bench/run.py (what --verify-only does, nothing timed)
against the Node servers: our bench/apps/spikard_app.mjs, and each Node peer
whose node_modules the harness has installed, answer all 18 workloads as
WORKLOADS.md asks, in one process and with the unpinned run's 2 workers."""

import dataclasses
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import run  # bench/run.py

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node not on PATH"),
    pytest.mark.skipif(
        not (run.PAYLOADS / "forms.json").exists(),
        reason=f"no payloads at {run.PAYLOADS} (set SPIKARD_PAYLOADS)",
    ),
]


def server(name: str, workers: bool) -> run.Server:
    if name == "spikard-node" and not run.NODE_ADDON.exists():
        pytest.skip("the addon is not built (make setup-node)")
    if name != "spikard-node":
        peer = run.BENCH / "peers" / name
        if not (peer / "node_modules" / ".package-lock.sha256").exists():
            # Installing is the harness's job (npm ci), not a test's.
            pytest.skip(
                f"{name} not installed (python3 bench/run.py --node --verify-only)"
            )
    s = run.prepare_node_server(name)
    assert s.skip is None, s.skip
    # Unpinned, and with the unpinned run's workers only when asked.
    return s if workers else dataclasses.replace(s, argv_multi=None)


def wrong(s: run.Server, loads: list[run.Workload]) -> dict[str, str]:
    with run.Running(s, pinned=False) as srv:
        answers = {w.name: run.check_answer(srv, w) for w in loads}
    return {name: a["problem"] for name, a in answers.items() if not a["ok"]}


@pytest.mark.parametrize("name", run.NODE_SERVERS)
def test_every_workload_is_answered_right(name):
    loads = run.workloads()
    assert len(loads) == 18
    assert wrong(server(name, workers=False), loads) == {}


@pytest.mark.parametrize("name", run.NODE_SERVERS)
def test_two_workers_answer_too(name):
    loads = [
        w
        for w in run.workloads()
        if w.name in ("path-int", "query-many", "multipart-small")
    ]
    assert wrong(server(name, workers=True), loads) == {}
