"""bench/profile.py puts each perf sample and each py-spy stack in one part
of a request; these are the tables' first-match rules."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import profile as bench_profile  # bench/profile.py, not the standard library's

ROOT = "<module> (spikard_app.py:248);main (spikard_app.py:244);run_server (spikard/_dispatch.py:347)"


def test_perf_samples_go_to_their_library_and_symbol():
    g = bench_profile.group_of
    assert (
        g("libspikard.so", ".", "github.com/cloudwego/hertz/pkg/x")
        == "hertz (HTTP/1 parse, write)"
    )
    assert g(
        "libspikard.so", ".", "github.com/spikard/spikard/core/validate.(*state).object"
    ) == ("core: validation")
    assert g("libspikard.so", ".", "runtime.mallocgc") == "Go runtime: GC, allocation"
    assert g("libspikard.so", ".", "runtime.selectgo") == "Go runtime: scheduler, other"
    assert g("[kernel.kallsyms]", "k", "tcp_poll") == "kernel: TCP, epoll, syscalls"
    assert g("libfoo.so", ".", "bar") == bench_profile.OTHER


def test_a_stack_counts_for_its_deepest_known_frame():
    p = bench_profile.part_of
    assert (
        p(ROOT + ";Server._on_ready (spikard/_dispatch.py:228)")
        == "crossing in: spikard_poller_poll"
    )
    assert p(ROOT + ";Server._serve_async (spikard/_dispatch.py:259)") == (
        "dispatcher: route lookup, coroutine step"
    )
    assert (
        p(
            ROOT
            + ";Server._serve_async (spikard/_dispatch.py:259);call_params (spikard/_call.py:133)"
        )
        == "decoding: parameters and body (msgspec)"
    )
    assert (
        p(
            ROOT
            + ";Server._serve_async (spikard/_dispatch.py:259);path_simple (spikard_app.py:55)"
        )
        == "handler (the user's function)"
    )
    # An unknown deeper frame counts for the nearest known one above it.
    assert p(
        ROOT + ";Server._respond (spikard/_dispatch.py:300);helper (other.py:1)"
    ) == ("crossing out: spikard_respond")
    # The script's own <module> and main frames are not the handler.
    assert (
        p("<module> (spikard_app.py:248);main (spikard_app.py:244)")
        == bench_profile.OTHER
    )
