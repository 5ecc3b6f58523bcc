"""Messages that name the fault (issue 19, item 9): runs, swaps, leaves.

Every recording here is composed by FFmpeg's own filters (an ffmpeg-python graph built in
the test, or :func:`tests.helpers.compose_first_scene`): test-stream clips written by
``write_idstream``, scaled and cropped into the regions of :func:`lk.compute_regions`,
overlaid on a black ``color`` source for the stretches the test gives, 320x180 at 15 fps,
6 s.  The scenarios: two users side by side (best fit), or four in a 2 x 2 grid where
uid 44 leaves at 3 s (first in the order, so the others move up: a reflow; or last, so
nobody moves and its cell becomes the canvas background).

* A run whose picture changes inside it lists each part in time order; parts of one or two
  frames (a flash frame, a coding glitch) are folded into their neighbours.
* Another user is "uid 22 where uid 11 should be"; two regions showing each other's users
  are "uid 11 and uid 22 swapped".
* A layout not reflowed after a leave is one ``wrong_layout`` (not an event out of its
  window and a swarm of runs), dated where the leaving user's picture went (fitted).
* A user still shown after leaving is named so, in a region (``wrong_user``) or where no
  region is any more (``extra_user``), not as a background colour.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import layoutkit as lk
from layoutkit.comparison.runcheck import Departure
from layoutkit.comparison.runs import FOLDED_FRAMES, Part, run_parts
from layoutkit.timeline import Timeline

from .helpers import compose_first_scene, run_ffmpeg_command, scenario_doc

FPS = 15
SECONDS = 6
TC = {"width": 320, "height": 180, "fps": FPS, "bitrate": 400, "mixedVideoLayout": 1}
SID = "0123456789abcdef0123456789abcdef"
LEAVE = {"t": 3, "uid": "44", "action": "leave"}


def _doc(uids: list[str], events: list[dict] | None = None) -> dict:
    users = [{"uid": u, "source": "testsrc", "size": "320x180"} for u in uids]
    return scenario_doc(users, events, duration=SECONDS, transcoding=TC,
                        file_config={"avFileType": ["hls", "mp4"]})


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    pytest.importorskip("ffmpeg", reason="python -m pip install -e '.[test]' (ffmpeg-python)")
    from layoutkit.idstream import write_idstream

    root = tmp_path_factory.mktemp("clips")
    out = {}
    for uid in ("11", "22", "33", "44"):
        out[uid] = root / f"testsrc_{uid}.mp4"
        write_idstream(out[uid], uid=uid, duration=SECONDS, fps=FPS, size_wh=(320, 180),
                      bitrate_kbps=300)
    return out


def _compose(doc: dict, clips: dict[str, Path], out: Path,
             tiles: list[tuple[str, int, float, float]]) -> Path:
    """Compose ``tiles`` with FFmpeg: (clip uid, region of the first scene, from, until).

    Each clip is scaled and cropped into the region, shown from ``from`` to ``until`` (its
    own time running with the canvas's), on black; audio: the clips' ``amix``.
    """
    import ffmpeg
    import imageio_ffmpeg

    scene = Timeline(lk.load_scenario(doc)).scene_at(0)
    rects = lk.compute_regions(scene.layout, scene.order, canvas_wh=(320, 180)).rects.tolist()
    video = ffmpeg.input(f"color=c=0x000000:s=320x180:r={FPS}:d={SECONDS}", f="lavfi")
    for i, (uid, region, start, end) in enumerate(tiles):
        x, y, w, h = rects[region]
        # each tile its own input (ffmpeg-python would merge equal nodes)
        tile = ffmpeg.input(str(clips[uid]), thread_queue_size=512 + i).video \
            .filter("scale", w, h, force_original_aspect_ratio="increase").filter("crop", w, h)
        video = ffmpeg.overlay(video, tile, x=x, y=y, eof_action="pass",
                               enable=f"between(t,{start},{end - 0.001})")
    audio = ffmpeg.filter([ffmpeg.input(str(p)).audio for p in clips.values()], "amix",
                          inputs=len(clips), normalize=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ffmpeg.output(video.filter("format", "yuv420p"), audio, str(out), vcodec="libx264",
                        video_bitrate="400k", r=FPS, acodec="aac", audio_bitrate="48k",
                        ar=48000, ac=1, t=SECONDS, preset="veryfast",
                        **{"x264-params": "bframes=0"}) \
        .overwrite_output().global_args("-v", "error").compile(imageio_ffmpeg.get_ffmpeg_exe())
    run_ffmpeg_command(cmd)  # bounded: this many-input graph once stalled in a CI run
    return out


def _out(tmp_path: Path) -> Path:
    return tmp_path / f"{SID}_demo_0.mp4"


def _content(result) -> list:
    return [d for d in result.differences if d.category == "content"]


def _messages(result) -> list[str]:
    return [d.message for d in result.differences]


# --- 1. a run lists what each part of it showed ---------------------------------------------
def test_run_parts_in_time_order_with_short_parts_folded():
    black, b, a = (None, "black"), ("22", "live"), ("11", "live")
    t = [k / FPS for k in range(20)]
    # a flash frame (1) and a 2-frame glitch inside, both folded; 3 frames are a part
    labels = [black] * 6 + [a] + [black] * 3 + [b] * 2 + [black] * 2 + [b] * 6
    parts = run_parts(labels, t[:20], 1 / FPS)
    assert [p.label for p in parts] == [black, b]
    assert parts[0].t0 == 0 and parts[1].t0 == pytest.approx(14 / FPS)
    assert parts[1].t1 == pytest.approx(20 / FPS)
    assert [p.label for p in run_parts([black] * 3 + [b] * 3, t[:6], 1 / FPS)] == [black, b]
    assert FOLDED_FRAMES == 2
    # nothing long: the most common label stands for the run
    assert run_parts([b, black, black], t[:3], 1 / FPS) == (Part(black, 0.0, 0.2),)
    assert Part(b, 2.0, 4.0).to_json() == {"uid": "22", "state": "live", "from": 2.0,
                                          "until": 4.0}


def test_a_run_whose_picture_changes_lists_its_parts(clips, tmp_path):
    """Uid 11's region shows the canvas (black) for 3 s, then uid 22's test stream."""
    doc = _doc(["11", "22"])
    recording = _compose(doc, clips, _out(tmp_path), [("22", 0, 3, SECONDS),
                                                      ("22", 1, 0, SECONDS)])
    result = lk.compare(doc, recording)
    (diff,) = _content(result)
    assert diff.message == ("region 0: black 0.00-3.00 s, uid 22 live 3.00-6.00 s; "
                            "expected uid 11 live")
    assert diff.to_json()["observed"]["parts"] == [
        {"uid": None, "state": "black", "from": 0.0, "until": 3.0},
        {"uid": "22", "state": "live", "from": 3.0, "until": 6.0}]
    assert diff.expected == {"uid": "11", "state": "live"}


# --- 2. swapped users -----------------------------------------------------------------------
def test_swapped_users_are_named_as_swapped(clips, tmp_path):
    doc = _doc(["11", "22"])
    recording = _compose(doc, clips, _out(tmp_path), [("22", 0, 0, SECONDS),
                                                      ("11", 1, 0, SECONDS)])
    result = lk.compare(doc, recording)
    swapped = "(uid 11 and uid 22 swapped)"
    assert _messages(result) == [
        f"region 0: uid 22 where uid 11 should be, from 0.00 s to 6.00 s {swapped}",
        f"region 1: uid 11 where uid 22 should be, from 0.00 s to 6.00 s {swapped}"]
    assert [d.kind for d in result.differences] == ["wrong_user", "wrong_user"]
    assert [(d.expected["uid"], d.observed["uid"]) for d in result.differences] == [
        ("11", "22"), ("22", "11")]


def test_another_user_without_a_swap_is_not_called_swapped(clips, tmp_path):
    doc = _doc(["11", "22"])
    recording = _compose(doc, clips, _out(tmp_path), [("22", 0, 0, SECONDS),
                                                      ("22", 1, 0, SECONDS)])
    result = lk.compare(doc, recording)
    assert _messages(result) == [
        "region 0: uid 22 where uid 11 should be, from 0.00 s to 6.00 s"]


# --- 3. a layout not reflowed after a leave -------------------------------------------------
LEAVER_FIRST = ["44", "11", "22", "33"]  # the others move up when 44 leaves
LEAVER_LAST = ["11", "22", "33", "44"]  # nobody moves: 44's cell becomes the background


@pytest.mark.parametrize("went, hold, tail", [
    (3.4, 0, ""),  # the tile ends 0.4 s after the scenario's time: the canvas shows
    (3.2, None, ", uid 44's last frame still shown"),  # the tile freezes on its last frame
])
def test_no_reflow_after_a_leave_is_one_wrong_layout_at_the_fitted_time(clips, tmp_path, went,
                                                                         hold, tail):
    doc = _doc(LEAVER_FIRST, [LEAVE])
    recording = compose_first_scene(doc, clips, _out(tmp_path), seconds=SECONDS,
                                    freeze={"44": went}, hold=hold, canvas="#000000")
    result = lk.compare(doc, recording)
    assert _messages(result) == [(
        f"layout not reflowed after uid 44 left at {went:.2f} s (fitted; scenario 3.00 s): "
        f"{went:.2f}-6.00 s shows the 4-user layout from before the leave{tail}")]
    (diff,) = result.differences
    assert diff.kind == "wrong_layout" and diff.uid == "44" and diff.t == pytest.approx(went)
    assert diff.observed["reflow"] is False and diff.observed["users"] == 4
    (fit,) = result.events
    assert fit.line() == f"uid 44 left at {went:.2f} s; scenario 3.00 s" and fit.explained


def test_a_reflow_half_a_second_late_still_matches(clips, tmp_path):
    doc = _doc(LEAVER_FIRST, [LEAVE])
    before = [("44", 0, 0, 3.5), ("11", 1, 0, 3.5), ("22", 2, 0, 3.5), ("33", 3, 0, 3.5)]
    after = [("11", 0, 3.5, SECONDS), ("22", 1, 3.5, SECONDS), ("33", 2, 3.5, SECONDS)]
    result = lk.compare(doc, _compose(doc, clips, _out(tmp_path), before + after))
    assert result.verdict == "match", _messages(result)
    assert abs(float(result.events[0].fitted_t) - 3.5) <= 1 / FPS + 0.01


# --- 4. a user still shown after leaving ----------------------------------------------------
def test_unchanged_picture_after_a_leave_is_the_layout_error_naming_the_user(clips, tmp_path):
    """The first scene for the whole 6 s: no reflow, and uid 44 still live in its place."""
    doc = _doc(LEAVER_FIRST, [LEAVE])
    recording = compose_first_scene(doc, clips, _out(tmp_path), seconds=SECONDS,
                                    canvas="#000000")
    result = lk.compare(doc, recording)
    assert _messages(result) == [(
        "layout not reflowed after uid 44 left at 3.00 s (scenario time; not seen): "
        "3.00-6.00 s shows the 4-user layout from before the leave, uid 44 still shown")]
    assert not [d for d in result.differences if d.kind == "event_time"]


def test_a_user_still_shown_where_no_region_is_any_more(clips, tmp_path):
    """Nobody moves when uid 44 (last) leaves; its tile stays instead of the background."""
    doc = _doc(LEAVER_LAST, [LEAVE])
    recording = compose_first_scene(doc, clips, _out(tmp_path), seconds=SECONDS,
                                    canvas="#000000")
    result = lk.compare(doc, recording)
    assert _messages(result) == [(
        "uid 44 still shown 3.00-6.00 s after leaving at 3.00 s, in its place from before "
        "the leave")]
    (diff,) = result.differences
    assert diff.kind == "extra_user" and diff.uid == "44"
    assert diff.observed == {"uid": "44", "from": 3.0, "until": 6.0,
                             "rect": [160, 90, 160, 90]}


def test_a_user_still_shown_in_place_of_another_after_the_reflow(clips, tmp_path):
    """The others move up at 3 s, but uid 44 stays where uid 11 should now be."""
    doc = _doc(LEAVER_FIRST, [LEAVE])
    tiles = [("44", 0, 0, SECONDS), ("11", 1, 0, 3), ("22", 2, 0, 3), ("33", 3, 0, 3),
             ("22", 1, 3, SECONDS), ("33", 2, 3, SECONDS)]
    result = lk.compare(doc, _compose(doc, clips, _out(tmp_path), tiles))
    assert _messages(result) == [(
        "uid 44 still shown 3.00-6.00 s after leaving at 3.00 s, in region 0 where uid 11 "
        "should be")]
    (diff,) = result.differences
    assert diff.kind == "wrong_user" and diff.observed["uid"] == "44"


def test_still_shown_cites_the_fitted_leave_and_the_scenarios():
    assert Departure("44", 3.4, 3.0).at() == "at 3.40 s (scenario 3.00 s)"
    assert Departure("44", 3.0, 3.0).at() == "at 3.00 s"


# --- the leaves stage on small synthetic arrays (no encoding) -------------------------------
A, B = (0, 0, 160, 180), (160, 0, 160, 180)


def _exp(before: dict[str, tuple], after: dict[str, tuple]):
    from layoutkit.comparison.expect import Expectation, Period, RegionExpect
    from layoutkit.profile import DEFAULT_PROFILE

    keys = {A: 0, B: 1}

    def period(start, end, users):
        regions = tuple(RegionExpect(i, rect, 1, (uid, "live"), "code_live", 0,
                                     code_key=keys[rect])
                        for i, (uid, rect) in enumerate(users.items()))
        return Period(start, end, Fraction(start), 1, regions, np.zeros((64, 3), np.float32))

    return Expectation(DEFAULT_PROFILE, (period(0, 2, before), period(2, 4, after)), 4.0, FPS)


def _codes(rows_a: list[int], rows_b: list[int]):
    """60 frames (4 s): the uid index read at each frame in region A and in region B."""
    from layoutkit.comparison.frames import Observed

    n = 60
    uids = np.stack([np.array(rows_a, np.int32), np.array(rows_b, np.int32)], axis=1)
    frames = np.tile(np.arange(n, dtype=np.int32)[:, None], (1, 2))
    return Observed(np.arange(n) / FPS, np.zeros((n, 1, 3), np.uint8), uids, frames,
                    ("11", "44"), 0.0)


def test_kept_layout_found_on_synthetic_codes_and_dated_where_the_user_went():
    from layoutkit.comparison.events import EventFit
    from layoutkit.comparison.leaves import _kept

    exp = _exp({"44": A, "11": B}, {"11": A})
    fit = EventFit(0, "leave", "44", Fraction(2), Fraction(3), Fraction(1), explained=False)
    # 44 read in A until 2.2 s (frame 33), then nothing; 11 stays in B all along
    observed = _codes([1] * 33 + [-1] * 27, [0] * 60)
    kept = _kept(exp, observed, observed.times, fit, step=Fraction(1, FPS))
    assert kept is not None and (kept.users, kept.shown, kept.until) == (2, "gone", 4.0)
    assert kept.fit.fitted_t == Fraction(33, FPS) and kept.fit.seen and kept.fit.explained
    # reflowed: 11 read in A from 2 s on: no kept layout
    reflowed = _codes([1] * 30 + [0] * 30, [0] * 30 + [-1] * 30)
    assert _kept(exp, reflowed, reflowed.times, fit, step=Fraction(1, FPS)) is None


def test_still_shown_on_synthetic_codes():
    from layoutkit.comparison.events import EventFit
    from layoutkit.comparison.leaves import departures, still_shown

    exp = _exp({"11": A, "44": B}, {"11": A})
    away = departures((EventFit(0, "leave", "44", Fraction(2), Fraction(2), Fraction(1)),))
    shown = _codes([0] * 60, [1] * 60)
    (found,) = still_shown(exp, shown, np.zeros(60), away)
    assert found.difference.kind == "extra_user"
    assert found.difference.message == ("uid 44 still shown 2.00-4.00 s after leaving at "
                                        "2.00 s, in its place from before the leave")
    gone = _codes([0] * 60, [1] * 30 + [-1] * 30)
    assert still_shown(exp, gone, np.zeros(60), away) == ()


def test_a_kept_layout_has_evidence_pictures_at_its_time(clips, tmp_path):
    doc = _doc(LEAVER_FIRST, [LEAVE])
    recording = compose_first_scene(doc, clips, _out(tmp_path), seconds=SECONDS,
                                    freeze={"44": 3.0}, hold=0)
    result = lk.compare(doc, recording)
    (diff,) = result.differences
    assert diff.kind == "wrong_layout"
    (evidence,) = result.evidence
    assert evidence.difference == 0 and 3.0 <= evidence.t < 6.0
