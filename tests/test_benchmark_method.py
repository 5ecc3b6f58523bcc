"""The compositor benchmark's method: interleaved rounds and the median of paired ratios."""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]


def _compose_module():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location("bench_compose",
                                                      ROOT / "benchmarks" / "compose.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


COMPOSE = _compose_module()


def test_rounds_alternate_which_side_runs_first():
    calls = []
    subjects = {name: (lambda i, name=name: calls.append(name)) for name in ("ours", "ffmpeg")}
    timings, position = COMPOSE.time_subjects(subjects, rounds=4, run_seconds=0.0, warmup=1)
    timed = calls[2:]  # after one warm-up frame each
    starts = [timed[k] for k in range(0, len(timed), 10)]  # 10 frames per run at least
    assert starts == ["ours", "ffmpeg", "ffmpeg", "ours", "ours", "ffmpeg", "ffmpeg", "ours"]
    assert len(timings["ours"]["runs_wall_fps"]) == 4
    assert position == {"ours": 41, "ffmpeg": 41}


@settings(max_examples=200, deadline=None)
@given(st.data(), st.lists(st.floats(0.3, 3.0), min_size=3, max_size=25),
       st.floats(0.5, 4.0))
def test_paired_ratio_holds_while_the_host_changes_speed(data, speeds, true_ratio):
    # the host runs at speed s in a round, both sides' frames/s scale with it; in fewer than
    # half of the rounds it changed speed between the two sides' runs (by any factor)
    n = len(speeds)
    moved = data.draw(st.lists(st.integers(0, n - 1), max_size=(n - 1) // 2, unique=True))
    factor = data.draw(st.lists(st.floats(0.3, 3.0), min_size=n, max_size=n))
    ours = {"runs_wall_fps": [1000.0 * s * true_ratio * (factor[k] if k in moved else 1.0)
                              for k, s in enumerate(speeds)]}
    theirs = {"runs_wall_fps": [1000.0 * s for s in speeds]}
    ratio, (low, high) = COMPOSE.paired_ratio(ours, theirs)
    assert abs(ratio - true_ratio) <= 0.0005 + 1e-9
    assert low <= ratio <= high


def test_paired_ratio_where_the_ratio_of_medians_is_off_by_two():
    # ours ran in the host's fast moments in two rounds of five: the old method (median of
    # each side, then their ratio) says 2.6x, the rounds' median says 1.3x
    ours = [2600.0, 2600.0, 1300.0, 2600.0, 2600.0]
    theirs = [1000.0, 1000.0, 1000.0, 2000.0, 2000.0]
    assert statistics.median(ours) / statistics.median(theirs) == 2.6
    assert COMPOSE.paired_ratio({"runs_wall_fps": ours}, {"runs_wall_fps": theirs})[0] == 1.3


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.floats(0.5, 4.0), st.lists(st.floats(0.2, 0.95), min_size=0,
                                                        max_size=40))
def test_fastest_third_ratio_is_the_quiet_ratio_however_slow_the_other_rounds(
        quiet_rounds, true_ratio, slowdowns):
    # each side ran undisturbed in at least a third of its rounds (at its quiet speed); in
    # the others the host slowed it by any factor, FFmpeg's side more than ours
    quiet = [1.0] * quiet_rounds
    slow = slowdowns[:2 * quiet_rounds]
    ours = {"runs_wall_fps": [1000.0 * true_ratio * f for f in quiet + [s ** 0.5 for s in slow]]}
    theirs = {"runs_wall_fps": [1000.0 * f for f in quiet + slow]}
    assert abs(COMPOSE.fastest_third_ratio(ours, theirs) - true_ratio) <= 0.0005 + 1e-9


@given(st.integers(1, 40), st.integers(1, 7))
def test_passes_put_every_case_at_other_moments(cases, passes):
    names = [f"case-{k}" for k in range(cases)]
    orders = [COMPOSE.pass_order(names, k, passes) for k in range(passes)]
    assert all(sorted(order) == sorted(names) for order in orders)  # every case, once a pass
    if cases >= passes:  # then no case runs at the same place in two passes
        for name in names:
            places = [order.index(name) for order in orders]
            assert len(set(places)) == passes


def _part(ratio_rounds, *, first):
    ours = [100.0 * r for r in ratio_rounds]
    part = {"case": "c", "target_ratio": 1.0, "ratio": statistics.median(ratio_rounds),
            "ours": {"runs_wall_fps": ours, "runs_cpu_fps": ours, "run_seconds": [0.3] * 3},
            "ffmpeg": {"runs_wall_fps": [100.0] * 3, "runs_cpu_fps": [100.0] * 3,
                       "run_seconds": [0.3] * 3}}
    if first:
        part["floor"] = {"runs_wall_fps": [900.0] * 3, "runs_cpu_fps": [900.0] * 3,
                         "run_seconds": [0.3] * 3}
        part["psnr_y_db"] = {"ours": 41.0, "ffmpeg": 40.0}
        part["x_floor"] = 4.5
    return part


def test_passes_merge_every_round_and_keep_the_first_pass_reference():
    merged = COMPOSE.merge_processes([_part([1.0, 1.1, 1.2], first=True),
                                      _part([1.3, 1.4, 1.5], first=False),
                                      _part([1.6, 1.7, 1.8], first=False)])
    assert merged["ratio"] == 1.4  # the median of all nine rounds' ratios
    assert merged["ratio_by_process"] == [1.1, 1.4, 1.7]
    assert merged["ratio_fastest_third"] == 1.7  # the fastest three of nine rounds, 1.6-1.8
    assert merged["processes"] == 3
    assert len(merged["ours"]["runs_wall_fps"]) == 9
    assert merged["floor"]["runs_wall_fps"] == [900.0] * 3  # measured in the first pass only
    assert merged["psnr_y_db"] == {"ours": 41.0, "ffmpeg": 40.0}
    assert merged["x_floor"] == 4.5


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two cores")
def test_held_to_one_core_holds_every_thread_and_gives_each_its_mask_back():
    common = sys.modules["_common"]
    cores = os.sched_getaffinity(0)
    seen: dict[str, set[int]] = {}
    go, read, done = threading.Event(), threading.Event(), threading.Event()

    def waiting() -> None:  # a thread started before, like a pool a warm-up made
        go.wait()
        seen["before"] = os.sched_getaffinity(0)
        read.set()
        done.wait()
        seen["after"] = os.sched_getaffinity(0)

    early = threading.Thread(target=waiting)
    early.start()
    with common.held_to_one_core() as core:
        go.set()
        read.wait()
        late = threading.Thread(target=lambda: seen.update(late=os.sched_getaffinity(0)))
        late.start()
        late.join()
        seen["main"] = os.sched_getaffinity(0)
    done.set()
    early.join()
    assert core == min(cores)
    assert (seen["before"], seen["late"], seen["main"]) == ({core}, {core}, {core})
    assert seen["after"] == cores and os.sched_getaffinity(0) == cores
