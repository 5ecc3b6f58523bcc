"""Each stage of compare's content check on small synthetic arrays (no encoding, no files).

The flow (see ``layoutkit/comparison/__init__.py``): observe -> align -> fit events ->
classify -> runs -> checks -> evidence.  Each test feeds one stage hand-made frozen inputs
and checks its frozen output; the end-to-end behaviour is held by test_compare_content.py
and test_compare_e2e.py.
"""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest

from layoutkit.comparison.alignment import Alignment, align_observed
from layoutkit.comparison.avcheck import flashes_of
from layoutkit.comparison.background import check_background
from layoutkit.comparison.classify import RegionObservation
from layoutkit.comparison.events import fit_observed
from layoutkit.comparison.evidence import collect_evidence
from layoutkit.comparison.expect import Expectation, Period, RegionExpect
from layoutkit.comparison.findings import Anchor, Finding
from layoutkit.comparison.frames import Observed, Reservoir, fit_planes, observe_frames
from layoutkit.comparison.inference import pick
from layoutkit.comparison.layoutcheck import WrongLayout, apply_wrong_layouts
from layoutkit.comparison.model import Difference
from layoutkit.comparison.observe import FrameSampler
from layoutkit.comparison.plan import Plan
from layoutkit.comparison.regions import classify_observed
from layoutkit.comparison.runcheck import judge_runs
from layoutkit.comparison.runs import find_runs
from layoutkit.comparison.timing import FrameTiming, measure_timing, timing_findings
from layoutkit.errors import MediaError
from layoutkit.io.frames import DecodedFrame
from layoutkit.profile import DEFAULT_PROFILE

W, H = 160, 96
FPS = 15
RECT = (0, 0, 80, 48)


def _i420(y: int, w: int = W, h: int = H) -> np.ndarray:
    frame = np.full((h * 3 // 2, w), 128, dtype=np.uint8)
    frame[:h] = y
    return frame


def _observed(times, *, cells=None, uids=None, frames=None, names=("22",), origin=0.0):
    n = len(times)
    return Observed(np.asarray(times, dtype=np.float64),
                    np.zeros((n, 64, 3), np.uint8) if cells is None else cells,
                    np.full((n, 1), -1, np.int32) if uids is None else uids,
                    np.zeros((n, 1), np.int32) if frames is None else frames,
                    tuple(names), origin)


def _live_region(sampler: FrameSampler, join: float = 0.0) -> RegionExpect:
    code_key = sampler.code_key(RECT, 1, (320, 180))
    return RegionExpect(0, RECT, 1, ("22", "live"), "code_live", sampler.desc_key(RECT),
                        code_key=code_key, join=join)


def _expectation(*periods: Period, end: float) -> Expectation:
    return Expectation(DEFAULT_PROFILE, tuple(periods), end, FPS)


def _period(start, end, regions=(), canvas=0, **kw) -> Period:
    return Period(start, end, Fraction(start), 1, tuple(regions),
                  np.full((64, 3), canvas, np.float32), **kw)


def _region_obs(reg, match, labels=None, *, t0=0.0, frames=None, deviation=None):
    n = len(match)
    return RegionObservation(0, reg, np.arange(n) if frames is None else frames,
                             t0 + np.arange(n) / FPS, np.asarray(match, bool),
                             tuple(labels or [reg.label] * n),
                             np.full(n, np.nan) if deviation is None else deviation,
                             np.full(n, np.nan))


# ------------------------------------------------------------------ observe

def test_observe_turns_frames_into_rows_on_the_first_frames_clock():
    sampler = FrameSampler((W, H))
    frames = [DecodedFrame.from_i420(10.0 + i / FPS, _i420(16 + 10 * i), i) for i in range(4)]
    observed = observe_frames(frames, sampler)
    assert observed.origin == 10.0
    np.testing.assert_allclose(observed.times, np.arange(4) / FPS)
    assert observed.cells.shape == (4, sampler.n_cells(), 3) and len(observed) == 4
    # the canvas descriptor's luma follows the frames' luma
    assert observed.cells[:, :64, 0].mean(axis=1).tolist() == [16, 26, 36, 46]
    assert observed.codes_read == 0 and observed.samples[0][0] == 0.0


def test_observe_fits_another_frame_size_and_refuses_no_frame():
    small = _i420(200, w=80, h=48)
    y, u, v = fit_planes(DecodedFrame.from_i420(0.0, small).planes, (W, H))
    assert y.shape == (H, W) and u.shape == v.shape == (H // 2, W // 2)
    assert int(y.mean()) == 200
    with pytest.raises(MediaError, match="no video frame"):
        observe_frames([], FrameSampler((W, H)))


def test_reservoir_keeps_a_bounded_spread_of_samples():
    r = Reservoir(cap=4, spacing=1.0)
    for t in np.arange(0, 60, 0.5):
        r.offer(float(t), np.zeros((2, 2), np.uint8))
    times = [t for t, _ in r.items]
    assert len(times) <= 4 and times[0] == 0.0 and times[-1] > 30


# ------------------------------------------------------------------ align

def test_align_by_codes_finds_the_offset_and_its_votes():
    offset, join = 2.0, 1.0
    times = np.arange(90) / FPS + offset + join  # the user's frames 0..89
    frames = np.round((times - offset - join) * FPS).astype(np.int32)[:, None]
    observed = _observed(times, uids=np.zeros((90, 1), np.int32), frames=frames)
    exp = _expectation(_period(0, 10), end=10.0)
    found = align_observed(observed, exp, FrameSampler((W, H)), joins={"22": join})
    assert found.method == "codes" and found.offset == pytest.approx(offset)
    assert found.votes == 90 and (found.dropped, found.repeated) == (0, 0)
    np.testing.assert_allclose(found.offsets, offset)


def test_align_by_pictures_without_codes():
    # period 0 (0-2 s) dark, period 1 (2-4 s) bright; the recording starts 1 s early
    exp = _expectation(_period(0, 2, canvas=20), _period(2, 4, canvas=200), end=4.0)
    times = np.arange(75) / FPS
    cells = np.where((times - 1.0 >= 2)[:, None, None], 200, 20).astype(np.uint8)
    observed = _observed(times, cells=np.broadcast_to(cells, (75, 64, 3)).copy())
    found = align_observed(observed, exp, FrameSampler((W, H)), joins={})
    assert found.method == "pictures" and found.votes == 0
    assert found.offset == pytest.approx(1.0, abs=1 / FPS)


# ------------------------------------------------------------------ fit events (the seam)

def _plan(events):
    from layoutkit.comparison.plan import prepare
    from layoutkit.scenario import parse_scenario

    doc = {"cname": "c", "duration": 4, "users": [{"uid": "22", "source": "#c04040"}],
           "events": events, "start": {"cname": "c", "uid": "9", "clientRequest": {
               "recordingConfig": {"transcodingConfig": {
                   "width": W, "height": H, "fps": FPS, "bitrate": 400,
                   "mixedVideoLayout": 1, "backgroundColor": "#000000"}}}}}
    return prepare(parse_scenario(doc), profile=DEFAULT_PROFILE, infer=False)


def _frames_of(plan, seconds, leave_at):
    """Return the plan's own pictures before ``leave_at`` (scenario s), the canvas after it."""
    from layoutkit.render import SceneRenderer

    scenario = plan.scenario
    with SceneRenderer(scenario) as r:
        live = r.rendered_frame(Fraction(1, 2)).canvas
    empty = _i420(16)
    return [DecodedFrame.from_i420(i / FPS, live if i / FPS < leave_at else empty, i)
            for i in range(int(seconds * FPS))]


def test_fit_events_keeps_the_plan_when_no_event_moves_and_rebuilds_it_when_one_does():
    still = _plan([])
    try:
        observed = observe_frames(_frames_of(still, 2, 9.0), still.sampler)
        aligned = Alignment(0.0, np.zeros(len(observed)), "pictures")
        same = fit_observed(still, observed, aligned, tol=2, tolerance=Fraction(1))
        assert same.plan is still and same.fits == () and same.differences == ()
    finally:
        still.renderer.close()
    plan = _plan([{"t": 2, "uid": "22", "action": "leave"}])
    try:
        observed = observe_frames(_frames_of(plan, 4, 2.5), plan.sampler)
        aligned = Alignment(0.0, np.zeros(len(observed)), "pictures")
        moved = fit_observed(plan, observed, aligned, tol=2, tolerance=Fraction(1))
        try:
            (fit,) = moved.fits
            assert fit.kind == "leave" and fit.fitted_t != fit.scenario_t and fit.explained
            # every later stage judges the scenario at the fitted time: a new plan
            assert moved.plan is not plan and moved.expectation is moved.plan.expectation
            assert moved.plan.scenario.events[0].t == fit.fitted_t
            assert moved.plan.sampler is plan.sampler  # the observed cells stay valid
        finally:
            moved.plan.renderer.close()
    finally:
        plan.renderer.close()


# ------------------------------------------------------------------ classify

def test_classify_matches_live_codes_and_finds_a_users_shift():
    sampler = FrameSampler((W, H))
    reg = _live_region(sampler)
    exp = _expectation(_period(0, 4, [reg]), end=4.0)
    times = np.arange(60) / FPS
    uids = np.zeros((60, 1), np.int32)
    on_time = np.arange(60, dtype=np.int32)[:, None]
    aligned = Alignment(0.0, np.zeros(60), "codes")
    ok = classify_observed(_observed(times, uids=uids, frames=on_time), aligned, exp, sampler,
                           joins={"22": 0.0}, tol=2)
    assert ok.shifts == {} and ok.regions[0].match.all() and ok.bad_share() == {0: 0.0}
    # the same user's stream 5 frames ahead of its join: a shift, and then a match
    ahead = classify_observed(_observed(times, uids=uids, frames=on_time + 5), aligned, exp,
                              sampler, joins={"22": 0.0}, tol=2)
    assert ahead.shifts == {"22": 5} and ahead.regions[0].match.all()


def test_classify_names_another_users_code():
    sampler = FrameSampler((W, H))
    reg = _live_region(sampler)
    exp = _expectation(_period(0, 2, [reg]), end=2.0)
    times = np.arange(30) / FPS
    observed = _observed(times, uids=np.ones((30, 1), np.int32),
                         frames=np.arange(30, dtype=np.int32)[:, None], names=("22", "11"))
    got = classify_observed(observed, Alignment(0.0, np.zeros(30), "codes"), exp, sampler,
                            joins={"22": 0.0, "11": 0.0}, tol=2)
    assert not got.regions[0].match.any()
    assert set(got.regions[0].labels) == {("11", "live")}
    assert got.bad_share() == {0: 1.0} and got.misses() == 30


# ------------------------------------------------------------------ runs

def _reg(label=("22", "live")) -> RegionExpect:
    return RegionExpect(0, RECT, 1, label, "code_live", 0, code_key=0)


def test_runs_join_mismatches_across_one_flash_frame_and_pick_a_dark_frame():
    reg = _reg()
    match = [True] * 3 + [False] * 4 + [True] + [False] * 4 + [True] * 3
    labels = [reg.label] * 15
    for i, m in enumerate(match):
        if not m:
            labels[i] = ("11", "live")
    brightness = np.full(15, 50.0)
    brightness[9] = 10.0  # the darkest near the middle
    ro = _region_obs(reg, match, labels)
    exp = _expectation(_period(0, 1, [reg]), end=1.0)
    runs = find_runs([ro], exp, brightness, step=1 / FPS)
    assert len(runs.runs) == 1
    run = runs.runs[0]
    assert (run.i0, run.i1) == (3, 11) and run.observed == ("11", "live")
    assert run.frame == 9 and run.t0 == pytest.approx(3 / FPS)
    assert runs.tracks[run.track].changes[0].after == reg.label


def test_runs_are_split_by_a_gap_in_time():
    reg = _reg()
    ro = _region_obs(reg, [False] * 6, [("11", "live")] * 6)
    t = np.array([0, 1, 2, 10, 11, 12]) / FPS  # 8 frames missing in the middle
    ro = RegionObservation(0, reg, ro.frames, t, ro.match, ro.labels, ro.deviation, ro.distance)
    runs = find_runs([ro], _expectation(_period(0, 1, [reg]), end=1.0), np.zeros(6),
                     step=1 / FPS)
    assert [(r.i0, r.i1) for r in runs.runs] == [(0, 2), (3, 5)]


# ------------------------------------------------------------------ checks: runs

def _two_periods(before, after, *, change=2.0):
    r0, r1 = _reg(before), _reg(after)
    exp = _expectation(_period(0, change, [r0]), _period(change, 4, [r1]), end=4.0)
    return r0, r1, exp


def _judge(frames_late: int, *, n: int = 60, change: float = 2.0):
    """Judge a region that goes from live to last frame ``frames_late`` frames after 2 s."""
    live, frozen = ("22", "live"), ("22", "last_frame")
    r0, r1, exp = _two_periods(live, frozen, change=change)
    k = int(change * FPS)
    ro0 = _region_obs(r0, [True] * k)
    late = [False] * frames_late + [True] * (n - k - frames_late)
    ro1 = RegionObservation(1, r1, np.arange(k, n), np.arange(k, n) / FPS,
                            np.asarray(late, bool),
                            tuple([live] * frames_late + [frozen] * (n - k - frames_late)),
                            np.full(n - k, np.nan), np.full(n - k, np.nan))
    runs = find_runs([ro0, ro1], exp, np.zeros(n), step=1 / FPS)
    return judge_runs(runs, tol_s=2.5 / FPS, min_frames=2)


def test_a_transition_within_tolerance_is_a_glitch():
    judged = _judge(2)
    assert judged.findings == () and judged.glitches == 1


def test_a_late_transition_names_both_times():
    judged = _judge(6)
    (found,) = judged.findings
    d = found.difference
    assert d.kind == "late_transition" and d.uid == "22"
    assert d.message == "uid 22: live -> last frame at 2.40 s, expected 2.00 s"
    assert found.anchor == Anchor(30, 2.0, pytest.approx(2.4))


def test_a_long_run_names_what_was_seen_and_a_short_one_is_tolerated():
    reg = _reg()
    # (a run right at the region's appearance would be a late transition: not here)
    long_run = _region_obs(reg, [True] * 5 + [False] * 5 + [True] * 3,
                           [reg.label] * 5 + [(None, "black")] * 5 + [reg.label] * 3)
    exp = _expectation(_period(0, 1, [reg]), end=1.0)
    judged = judge_runs(find_runs([long_run], exp, np.zeros(13), step=1 / FPS),
                        tol_s=2.5 / FPS, min_frames=2)
    (found,) = judged.findings
    assert found.difference.kind == "missing_user"
    assert found.difference.message.startswith(
        "region 0: black from 0.33 s to 0.67 s, expected uid 22 live")
    short = _region_obs(reg, [True] * 5 + [False] * 2 + [True] * 3,
                        [reg.label] * 5 + [(None, "black")] * 2 + [reg.label] * 3)
    judged = judge_runs(find_runs([short], exp, np.zeros(10), step=1 / FPS),
                        tol_s=2.5 / FPS, min_frames=2)
    assert judged.findings == () and judged.glitches == 1


# ------------------------------------------------------------------ checks: layout

def test_a_wrong_layout_replaces_the_runs_of_its_period_only():
    exp = _expectation(_period(0, 2), _period(2, 4), end=4.0)
    runs = (Finding(Difference("wrong_user", "in 0"), Anchor(3, 0.5, 1.0)),
            Finding(Difference("wrong_user", "in 1"), Anchor(40, 2.5, 3.0)),
            Finding(Difference("drift", "whole")))
    out = apply_wrong_layouts(runs, [WrongLayout(1, Difference("wrong_layout", "1"))], exp)
    assert [f.difference.message for f in out] == ["in 0", "whole", "1"]


# ------------------------------------------------------------------ checks: background

def _bg_case(level: int):
    sampler = FrameSampler((W, H))
    bg_key = sampler.desc_key((0, 0, W, H), (RECT,))
    expected = np.tile(np.float32([16, 128, 128]), (16, 1))  # black
    exp = _expectation(_period(0, 2, bg_key=bg_key, bg_expected=expected), end=2.0)
    frames = [DecodedFrame.from_i420(i / FPS, _i420(level), i) for i in range(30)]
    observed = observe_frames(frames, sampler)
    return check_background(observed, Alignment(0.0, np.zeros(30), "codes"), exp, sampler)


def test_background_black_matches_and_grey_is_named_in_rgb():
    assert _bg_case(16) is None
    found = _bg_case(120)
    assert found is not None and found.difference.kind == "wrong_background"
    assert found.difference.expected == [0, 0, 0] and found.anchor == Anchor(0, 0.0, 2.0)
    assert found.difference.observed[0] > 100


# ------------------------------------------------------------------ checks: timing, A/V

def test_timing_counts_gaps_and_repeated_codes():
    sampler = FrameSampler((W, H))
    reg = _live_region(sampler)
    times = np.concatenate([np.arange(10), np.arange(13, 20)]) / FPS  # 3 frames lost
    codes = np.arange(17, dtype=np.int32)
    codes[5] = codes[4]  # one repeated frame
    observed = _observed(times, uids=np.zeros((17, 1), np.int32), frames=codes[:, None])
    ro = _region_obs(reg, [True] * 17)
    timing = measure_timing(observed, [ro], Alignment(0.0, np.zeros(17), "codes", dropped=1),
                            fps=FPS)
    assert timing == FrameTiming(0.0, 4, 1)
    # a publisher at half the canvas rate repeats its frames by itself: not counted
    slow = Alignment(0.0, np.zeros(17), "codes", rates={"22": FPS / 2})
    assert measure_timing(observed, [ro], slow, fps=FPS) == FrameTiming(0.0, 3, 0)
    assert [f.difference.kind for f in timing_findings(timing, 17, tol=2)] == ["dropped_frames"]
    assert timing_findings(FrameTiming(0.0, 1, 1), 17, tol=2) == ()


def test_flash_frames_are_read_codes_at_a_whole_second():
    sampler = FrameSampler((W, H))
    reg = _live_region(sampler)
    times = np.arange(45) / FPS
    codes = np.arange(45, dtype=np.int32)[:, None]
    uids = np.zeros((45, 1), np.int32)
    uids[30] = -1  # unread: frame number 0 is no flash
    codes[30] = 0
    observed = _observed(times, uids=uids, frames=codes)
    flashes = flashes_of(observed, [_region_obs(reg, [True] * 45)], {}, fps=FPS)
    assert flashes.t.tolist() == [0.0, 1.0] and flashes.second.tolist() == [0, 1]
    assert flashes.uid == ("22", "22")


def test_flashes_are_dated_at_the_publishers_rate():
    # a 30 fps publisher in a 15 fps canvas: frames 0, 2, 4, ...; its flash (frame 30) is
    # shown, frame 31 is not read as one
    sampler = FrameSampler((W, H))
    reg = _live_region(sampler)
    times = np.arange(30) / FPS
    codes = (2 * np.arange(30, dtype=np.int32) + 1)[:, None]  # the flash frames skipped
    observed = _observed(times, uids=np.zeros((30, 1), np.int32), frames=codes)
    flashes = flashes_of(observed, [_region_obs(reg, [True] * 30)], {"22": 30.0}, fps=FPS)
    # frame 31 (1 frame after the flash, within one canvas frame) dates it 1/30 s earlier
    np.testing.assert_allclose(flashes.t, [-1 / 30, 1.0 - 1 / 30])
    assert flashes.second.tolist() == [0, 1]


# ------------------------------------------------------------------ evidence, inference

def test_evidence_decodes_only_up_to_the_longest_findings_frame():
    decoded = []

    def source():
        for i in range(100):
            decoded.append(i)
            yield DecodedFrame.from_i420(5.0 + i / FPS, _i420(60), i)

    drawn = []
    renderer = SimpleNamespace(rendered_frame=lambda t: drawn.append(t) or SimpleNamespace(
        rgb=lambda: np.zeros((H, W, 3), np.uint8)))
    plan = Plan(None, DEFAULT_PROFILE, FrameSampler((W, H)),  # type: ignore[arg-type]
                _expectation(_period(0, 10), end=10.0), renderer)  # type: ignore[arg-type]
    d = Difference("wrong_user", "x")
    findings = [Finding(d, Anchor(20, 0.0, 0.5)), Finding(d), Finding(d, Anchor(30, 0.0, 2.0))]
    observed = _observed(np.arange(100) / FPS, origin=5.0)
    out = collect_evidence(plan, findings, source, observed,
                           Alignment(1.0, np.ones(100), "codes"), cap=1)
    assert [e.difference for e in out] == [2] and len(decoded) == 31
    assert out[0].t == 1.0 and drawn == [Fraction(1)]
    assert out[0].observed.shape == (H, W, 3)
    assert collect_evidence(plan, findings, None, observed, Alignment(1.0, np.ones(100), "codes"),
                            cap=3) == ()


def test_inference_picks_a_clear_winner_only():
    assert pick({"a": 0, "b": 10}, 100) == "a"
    assert pick({"a": 0, "b": 2}, 100) == "undetermined"  # fewer than 3 apart
    assert pick({"a": 0, "b": 10}, 1000) == "undetermined"  # under 2 % of the frames


# ------------------------------------------------------------------ the shape of the package

def test_no_function_in_comparison_is_over_complexity_12_or_6_parameters():
    import json
    import subprocess
    import sys
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "layoutkit" / "comparison"
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "C901,PLR0913",
         "--config", "lint.mccabe.max-complexity = 12", "--config", "lint.pylint.max-args = 6",
         "--output-format", "json", str(package)], capture_output=True, text=True, check=False)
    over = set()
    for item in json.loads(done.stdout):
        path = Path(item["filename"])
        line = path.read_text().splitlines()[item["location"]["row"] - 1]
        over.add((path.name, line.split("def ", 1)[1].split("(", 1)[0]))
    assert over == set(), sorted(over)
