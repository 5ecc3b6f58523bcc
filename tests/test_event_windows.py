"""Event windows (issue 19, item 1): each event's real time is fitted inside its window.

* The fitting on synthetic label arrays (no encoding): :func:`fit_events` with a cost that
  counts frames whose label differs from a candidate's, shifts, ties, an event the recording
  does not show, an event seen beyond its window, sequential fits of two events.
* The scenario's ``"tolerance"`` and compare's ``event_tolerance`` / ``--event-tolerance``:
  validated, with the usual path / rule / value errors.
* Recordings whose event happened ``jitter`` seconds off the scenario's time (our recorder
  recording a shifted copy of the scenario; and, for a freeze, FFmpeg's own filters: the
  tile frozen by ``trim`` + ``tpad=stop_mode=clone`` for 3.5 s, then the canvas) match the
  unshifted scenario with the default 1 s window; the fitted time is reported within one
  canvas frame (1/15 s) + 10 ms of the real one (the fit lands on the first canvas frame
  that shows the event).  A 1.5 s jitter differs, and the difference names the event, the
  window and where it was seen.  The full sweep (-1.0 .. +1.0 s on mute, unpublish, leave,
  join and update_layout) is ``slow``; a subset runs by default.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import layoutkit as lk
from layoutkit.cli import main
from layoutkit.comparison.events import (
    EventFit,
    Freeze,
    as_tolerance,
    best_shift,
    candidate_shifts,
    event_difference,
    fit_events,
    freeze_onset,
    label_cost,
    shift_event,
)
from layoutkit.errors import ParameterError, ScenarioError
from layoutkit.scenario import first_join_times
from layoutkit.timeline import Timeline

from .helpers import compose_first_scene, scenario_doc

FPS = 15
FRAME = 1 / FPS
#: The fitted time is within one canvas frame (plus rounding) of the real one.
FIT_TOLERANCE_S = FRAME + 0.01
TC = {"width": 320, "height": 180, "fps": FPS, "bitrate": 400, "mixedVideoLayout": 1}
SECONDS = 8
#: Each kind's scenario time.
AT = {"mute_video": 3.0, "unpublish_video": 3.0, "leave": 4.0, "join": 3.0,
      "update_layout": 4.0}
SID = "0123456789abcdef0123456789abcdef"


def _doc(kind: str, t: float, *, tolerance: float | None = None) -> dict:
    """Two users (three for leave and join) at 320x180, 15 fps, 8 s, one ``kind`` event."""
    users = [{"uid": "11", "size": "320x180"}, {"uid": "22", "size": "320x180"}]
    event: dict = {"t": t, "action": kind}
    events = [event]
    if kind in ("mute_video", "unpublish_video"):
        event["uid"] = "22"
    elif kind == "leave":
        users.append({"uid": "33", "size": "320x180"})
        event["uid"] = "33"
    elif kind == "join":  # a late join: the user's "join" (an event of that time)
        users.append({"uid": "33", "size": "320x180", "join": t})
        events = []
    else:
        event["body"] = {"mixedVideoLayout": 0}
    if tolerance is not None:
        assert events, "a user's join takes no tolerance (compare's event_tolerance applies)"
        event["tolerance"] = tolerance
    return scenario_doc(users, events, duration=SECONDS, transcoding=TC,
                        file_config={"avFileType": ["hls", "mp4"]})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Return ``recorded(kind, jitter)``, which records the scenario once per argument.

    Our recorder's recording of the scenario with the event ``jitter`` seconds off its time.
    """
    root = tmp_path_factory.mktemp("windows")
    made: dict[tuple[str, float], Path] = {}

    def make(kind: str, jitter: float) -> Path:
        if (kind, jitter) not in made:
            out = made[(kind, jitter)] = root / f"{kind}_{jitter}"
            lk.mix(lk.load_scenario(_doc(kind, AT[kind] + jitter)), out)
        return made[(kind, jitter)]

    return make


def _event(result, kind: str) -> EventFit:
    (fit,) = [e for e in result.events if e.kind == kind]
    return fit


def _check_fitted(kind: str, jitter: float, result) -> None:
    messages = [d.message for d in result.differences]
    assert result.verdict == "match", (kind, jitter, messages)
    fit = _event(result, kind)
    assert fit.seen and fit.explained
    assert float(fit.scenario_t) == AT[kind]
    assert abs(float(fit.fitted_t) - (AT[kind] + jitter)) <= FIT_TOLERANCE_S, fit.line()


# --- the fitting on synthetic labels (no encoding) ----------------------------------------
def _labels(stop: Fraction, *, n: int = 80, step: Fraction = Fraction(1, 10)) -> list[str]:
    """Return a region's label per frame: live before ``stop``, the last frame from it."""
    return ["live" if k * step < stop else "last_frame" for k in range(n)]


def _scenario(events: list[dict], *, duration: int = 8) -> lk.Scenario:
    return lk.load_scenario(scenario_doc([{"uid": "1"}, {"uid": "2"}], events,
                                         duration=duration))


def _label_cost(observed: dict[str, list[str]]):
    """Return a cost: per user, the frames whose label differs from the candidate's.

    In the candidate, a user's video stops at its mute_video, if any.
    """
    def cost(candidate, span):
        total = 0
        for uid, seen in observed.items():
            stops = [e.t for e in candidate.events if e.uid == uid and e.action == "mute_video"]
            expected = _labels(stops[0] if stops else Fraction(10 ** 6), n=len(seen))
            total += label_cost(expected, seen)
        return total
    return cost


@pytest.mark.parametrize("real", ["2.0", "2.3", "1.1", "2.9", "3.0"])
def test_fit_finds_the_real_stop_inside_the_window(real):
    scenario = _scenario([{"t": 2, "uid": "1", "action": "mute_video"}])
    cost = _label_cost({"1": _labels(Fraction(real))})
    fitted, (fit,) = fit_events(scenario, cost, step=Fraction(1, 10))
    assert fit.fitted_t == Fraction(real)
    assert fit.seen and fit.explained
    assert fitted.events[0].t == Fraction(real)
    assert fit.to_json() == {"index": 0, "kind": "mute_video", "uid": "1", "scenario_t": 2.0,
                             "fitted_t": float(real), "window": 1.0, "seen": True,
                             "explained": True}


def test_fit_beyond_the_window_is_unexplained_and_names_the_event():
    scenario = _scenario([{"t": 2, "uid": "1", "action": "mute_video"}])
    cost = _label_cost({"1": _labels(Fraction(7, 2))})
    _, (fit,) = fit_events(scenario, cost, step=Fraction(1, 10))
    assert not fit.explained and fit.fitted_t == Fraction(7, 2)
    diff = event_difference(fit)
    assert diff is not None and diff.kind == "event_time" and diff.category == "content"
    assert diff.message == ("uid 1's mute_video at 2.00 s ± 1.00 s: no time in the window "
                            "explains what the recording shows (video froze at 3.50 s)")
    assert diff.observed == {"t": 3.5}
    # a wider window (the event's own tolerance) explains it
    wide = _scenario([{"t": 2, "uid": "1", "action": "mute_video", "tolerance": 1.5}])
    _, (fit,) = fit_events(wide, cost, step=Fraction(1, 10))
    assert fit.explained and fit.fitted_t == Fraction(7, 2) and fit.window == Fraction(3, 2)
    # a narrower default window does not
    _, (fit,) = fit_events(scenario, _label_cost({"1": _labels(Fraction(28, 10))}),
                           step=Fraction(1, 10), tolerance=Fraction(1, 5))
    assert not fit.explained and fit.fitted_t == Fraction(28, 10)


def test_an_event_the_recording_does_not_show_keeps_its_time_and_audio_is_not_fitted():
    scenario = _scenario([{"t": 2, "uid": "1", "action": "mute_video"},
                          {"t": 3, "uid": "2", "action": "mute_audio"}])
    _, fits = fit_events(scenario, lambda candidate, span: 7, step=Fraction(1, 10))
    assert [(f.kind, f.fitted_t, f.seen, f.explained) for f in fits] == [
        ("mute_video", 2, False, True)]


def test_two_events_fitted_in_time_order_each_shift_applied():
    scenario = _scenario([{"t": 2, "uid": "1", "action": "mute_video"},
                          {"t": 2.5, "uid": "2", "action": "mute_video"}])
    real = {"1": Fraction(29, 10), "2": Fraction(17, 10)}  # they cross over
    cost = _label_cost({u: _labels(t) for u, t in real.items()})
    fitted, fits = fit_events(scenario, cost, step=Fraction(1, 10))
    assert [(f.uid, f.fitted_t) for f in fits] == [("1", real["1"]), ("2", real["2"])]
    assert [(e.uid, e.t) for e in fitted.events] == [("2", real["2"]), ("1", real["1"])]


def test_an_impossible_shift_is_no_candidate():
    # user 2 joins at 1.8 s and mutes at 2 s: the mute cannot move before the join
    scenario = lk.load_scenario(scenario_doc(
        [{"uid": "1"}, {"uid": "2", "join": 1.8}],
        [{"t": 2, "uid": "2", "action": "mute_video"}], duration=8))
    tried: list[Fraction] = []

    def cost(candidate, span):
        try:
            Timeline(candidate)
        except ScenarioError:
            return None
        mute = next(e.t for e in candidate.events if e.action == "mute_video")
        tried.append(mute)
        return 0 if mute == Fraction(3, 2) else 5  # the best would be before the join

    _, fits = fit_events(scenario, cost, step=Fraction(1, 10))
    assert min(tried) == Fraction(9, 5)  # with the join (joins first), never before
    assert [f.fitted_t for f in fits if f.kind == "mute_video"] != [Fraction(3, 2)]


def test_best_shift_takes_the_middle_of_the_least_cost_run_nearest_zero():
    tenth = Fraction(1, 10)
    costs = {k * tenth: c for k, c in zip(range(-4, 5), [0, 0, 5, 5, 5, 0, 0, 0, 5], strict=True)}
    assert best_shift(costs) == (2 * tenth, True)  # runs -4..-3 and 1..3: 1..3 is nearer
    assert best_shift({}) == (0, False)
    assert candidate_shifts(Fraction(1, 10), Fraction(1, 15)) == (0, Fraction(-1, 15),
                                                                  Fraction(1, 15))


def test_shift_event_moves_a_users_late_join_with_it():
    scenario = lk.load_scenario(scenario_doc([{"uid": "1"}, {"uid": "2", "join": 3}], [],
                                             duration=8))
    moved = shift_event(scenario, 0, Fraction(7, 2))
    assert moved.user("2").join == Fraction(7, 2)
    assert first_join_times(moved)["2"] == Fraction(7, 2)


# --- the window's settings ------------------------------------------------------------------
def test_event_tolerance_is_validated_in_the_scenario_the_api_and_the_cli(tmp_path, capsys):
    doc = _doc("mute_video", 3, tolerance=0.25)
    assert lk.load_scenario(doc).events[0].tolerance == Fraction(1, 4)
    for bad, rule in ((-0.5, "must be >= 0"), ("1", "must be a number"),
                      (True, "must be a number")):
        with pytest.raises(ScenarioError) as info:
            lk.load_scenario(_doc("mute_video", 3, tolerance=bad))
        (problem,) = info.value.problems
        assert problem.path == "events[0].tolerance" and rule in problem.rule
    for bad in (-1, float("nan"), float("inf"), "1", None):
        with pytest.raises(ParameterError, match="event_tolerance must be a number >= 0"):
            as_tolerance(bad)
    with pytest.raises(ParameterError, match="event_tolerance"):
        lk.compare(lk.load_scenario(doc), tmp_path, event_tolerance=-1)
    scenario_file = tmp_path / "s.json"
    scenario_file.write_text(json.dumps(doc))
    assert main(["compare", str(scenario_file), str(tmp_path), "--event-tolerance", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--event-tolerance" in err and "'-1'" in err and "Traceback" not in err


# --- recordings: our recorder, shifted scenarios ----------------------------------------------
@pytest.mark.parametrize("kind,jitter", [
    ("mute_video", -0.5), ("mute_video", 0.1), ("mute_video", 1.0),
    ("leave", -1.0), ("leave", 0.25), ("leave", 0.5),
])
def test_jitter_inside_the_window_matches_and_reports_the_fitted_time(recorded, kind, jitter):
    result = lk.compare(lk.load_scenario(_doc(kind, AT[kind])), recorded(kind, jitter))
    _check_fitted(kind, jitter, result)
    assert result.to_json()["events"][0]["fitted_t"] == pytest.approx(AT[kind] + jitter,
                                                                      abs=FIT_TOLERANCE_S)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(AT))
@pytest.mark.parametrize("jitter", [-1.0, -0.5, -0.25, 0.1, 0.25, 0.5, 1.0])
def test_jitter_sweep(recorded, kind, jitter):
    result = lk.compare(lk.load_scenario(_doc(kind, AT[kind])), recorded(kind, jitter))
    _check_fitted(kind, jitter, result)


@pytest.mark.parametrize("kind,seen", [
    ("mute_video", "video froze at 4.53 s"),
    pytest.param("leave", "left at 5.53 s", marks=pytest.mark.slow),
    pytest.param("join", "joined at 4.53 s", marks=pytest.mark.slow),
    pytest.param("update_layout", "layout changed at 5.53 s", marks=pytest.mark.slow),
])
def test_jitter_beyond_the_window_differs_and_names_the_event(recorded, kind, seen):
    result = lk.compare(lk.load_scenario(_doc(kind, AT[kind])), recorded(kind, 1.5))
    assert result.verdict == "differ"
    (diff,) = [d for d in result.differences if d.kind == "event_time"]
    who = "update_layout" if kind == "update_layout" else \
        f"uid {'22' if kind == 'mute_video' else '33'}'s {kind}"
    assert diff.message == (f"{who} at {AT[kind]:.2f} s ± 1.00 s: no time in the window "
                            f"explains what the recording shows ({seen})")
    assert not _event(result, kind).explained
    # the same recording with a wider window matches: the event's own, or compare's
    if kind == "join":
        wide = lk.compare(lk.load_scenario(_doc(kind, AT[kind])), recorded(kind, 1.5),
                          event_tolerance=2)
    else:
        wide = lk.compare(lk.load_scenario(_doc(kind, AT[kind], tolerance=2)),
                          recorded(kind, 1.5))
    assert wide.verdict == "match", [d.message for d in wide.differences]
    assert abs(float(_event(wide, kind).fitted_t) - AT[kind] - 1.5) <= FIT_TOLERANCE_S


def test_event_tolerance_of_compare_and_the_cli_lines(recorded, tmp_path, capsys):
    recording = recorded("mute_video", 1.0)
    scenario = lk.load_scenario(_doc("mute_video", 3))
    narrow = lk.compare(scenario, recording, event_tolerance=0.5)
    assert narrow.verdict == "differ"
    assert [d.kind for d in narrow.differences] == ["event_time"]
    scenario_file = tmp_path / "s.json"
    scenario_file.write_text(json.dumps(_doc("mute_video", 3)))
    assert main(["compare", str(scenario_file), str(recording)]) == 0
    out = capsys.readouterr().out
    assert "events:\n  uid 22 stopped video at 4.00 s; scenario 3.00 s\n" in out
    assert main(["compare", str(scenario_file), str(recording), "--json",
                 "--event-tolerance", "0.5"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["events"] == [{"index": 0, "kind": "mute_video", "uid": "22", "scenario_t": 3.0,
                              "fitted_t": 4.0, "window": 0.5, "seen": True,
                              "explained": False}]
    assert main(["compare", str(scenario_file), str(recording), "--event-tolerance", "0.5"]) == 1
    assert "  uid 22 stopped video at 4.00 s; scenario 3.00 s, outside its window ± 0.50 s\n" \
        in capsys.readouterr().out
    assert doc["differences"][0]["message"].startswith(
        "uid 22's mute_video at 3.00 s ± 0.50 s: no time in the window explains")


# --- a recording composed by FFmpeg: a freeze by trim + tpad --------------------------------
@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    pytest.importorskip("ffmpeg", reason="python -m pip install -e '.[test]' (ffmpeg-python)")
    from layoutkit.idstream import write_idstream

    root = tmp_path_factory.mktemp("clips")
    out = {}
    for uid in ("11", "22"):
        out[uid] = root / f"testsrc_{uid}.mp4"
        write_idstream(out[uid], uid=uid, duration=SECONDS, fps=FPS, size_wh=(320, 180),
                      bitrate_kbps=300)
    return out


def _frozen(clips, tmp_path: Path, at: float) -> Path:
    """Uid 22's tile frozen at ``at`` (its last frame before it) for 3.5 s, then the canvas."""
    return compose_first_scene(_doc("mute_video", at), clips, tmp_path / f"{SID}_demo_0.mp4",
                               seconds=SECONDS, freeze={"22": at}, hold=3.5)


@pytest.mark.parametrize("jitter", [-0.25, 0.25, pytest.param(-1.0, marks=pytest.mark.slow),
                                    pytest.param(0.5, marks=pytest.mark.slow),
                                    pytest.param(1.0, marks=pytest.mark.slow)])
def test_a_freeze_composed_by_ffmpeg_off_by_jitter_matches(clips, tmp_path, jitter):
    recording = _frozen(clips, tmp_path, AT["mute_video"] + jitter)
    result = lk.compare(lk.load_scenario(_doc("mute_video", AT["mute_video"])), recording)
    _check_fitted("mute_video", jitter, result)


def test_a_freeze_composed_by_ffmpeg_beyond_the_window_differs(clips, tmp_path):
    recording = _frozen(clips, tmp_path, AT["mute_video"] + 1.5)
    result = lk.compare(lk.load_scenario(_doc("mute_video", AT["mute_video"])), recording)
    assert result.verdict == "differ"
    assert [d.kind for d in result.differences] == ["event_time"]
    assert "uid 22's mute_video at 3.00 s ± 1.00 s: no time in the window explains" in \
        result.differences[0].message
    assert "video froze at 4.5" in result.differences[0].message


# --- the frozen picture: the user's last live frame, checked against the code read before ---
def test_freeze_onset_on_synthetic_codes():
    t = np.arange(20) / 15
    live = np.arange(100, 120)
    right = np.where(np.arange(20) < 8, live, live[7])  # live to frame 107, then frozen on it
    found = freeze_onset(t, right)
    assert found == Freeze(t=t[8], frame=107, before=107, before_t=t[7])
    older = np.where(np.arange(20) < 8, live, 90)  # frozen on an older frame (90)
    assert freeze_onset(t, older) == Freeze(t=t[8], frame=90, before=107, before_t=t[7])
    # a slow publisher repeats frames (10 fps at 15): no freeze; a gap breaks a run
    assert freeze_onset(t, np.repeat(np.arange(10), 2)) is None
    assert freeze_onset(np.r_[t[:8], t[8:] + 5], older) is None
    assert freeze_onset(t[:5], right[:5]) is None


def _frozen_on(clips, tmp_path: Path, at: float, picture: float) -> Path:
    """Uid 22 live until ``at``, then frozen on its frame at ``picture`` for 3.5 s."""
    import ffmpeg
    import imageio_ffmpeg

    scenario = lk.load_scenario(_doc("mute_video", at))
    scene = Timeline(scenario).scene_at(0)
    regions = lk.compute_regions(scene.layout, scene.order, canvas_wh=(320, 180))
    video = ffmpeg.input(f"color=c=0x000000:s=320x180:r={FPS}:d={SECONDS}", f="lavfi")
    for uid, (x, y, w, h) in zip(regions.uids, regions.rects.tolist(), strict=True):
        tile = ffmpeg.input(str(clips[uid])).video
        if uid == "22":
            parts = tile.filter_multi_output("split")
            live = parts[0].filter("trim", end=at).filter("setpts", "PTS-STARTPTS")
            still = parts[1].filter("trim", start=picture, end=picture + FRAME) \
                .filter("setpts", "PTS-STARTPTS") \
                .filter("tpad", stop_mode="clone", stop_duration=3.5)
            tile = ffmpeg.concat(live, still, v=1, a=0)
        tile = tile.filter("scale", w, h, force_original_aspect_ratio="increase") \
            .filter("crop", w, h)
        video = ffmpeg.overlay(video, tile, x=x, y=y, eof_action="pass")
    out = tmp_path / f"{SID}_demo_0.mp4"
    ffmpeg.output(video.filter("format", "yuv420p"), str(out), vcodec="libx264", r=FPS,
                  t=SECONDS, preset="veryfast", **{"x264-params": "bframes=0"}) \
        .overwrite_output().global_args("-v", "error").run(cmd=imageio_ffmpeg.get_ffmpeg_exe(),
                                                           capture_stderr=True)
    return out


def test_a_freeze_on_another_picture_than_the_last_live_frame_is_named(clips, tmp_path):
    recording = _frozen_on(clips, tmp_path, 3.25, 2.0)  # 0.25 s late, on a 1.25 s old frame
    result = lk.compare(lk.load_scenario(_doc("mute_video", 3)), recording)
    content = [d for d in result.differences if d.category == "content"]
    assert [d.message for d in content] == [
        "uid 22 froze at 3.27 s on frame 30, not on its last live frame 48 (read at 3.20 s)"]
    assert content[0].expected == {"state": "last_frame", "frame": 48}
    assert content[0].observed == {"state": "last_frame", "frame": 30}
    assert _event(result, "mute_video").line() == \
        "uid 22 stopped video at 3.27 s; scenario 3.00 s"
