"""Content checks of compare: alignment, per-region states, transitions, faults, inference."""

from __future__ import annotations

import copy
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from layoutkit.io.recorded import iter_audio, iter_video
from layoutkit.comparison.content import ContentOptions, check_content
from layoutkit.io.frames import DecodeStats
from layoutkit.comparison.infer import infer_profile
from layoutkit.profile import DEFAULT_PROFILE, Profile
from layoutkit.record import record
from layoutkit.scenario import parse_scenario

from .helpers import run_ffmpeg


def _doc(*, users, events=(), mode=1, duration=8, bg="#1E2A38", size=(320, 180), extra=None):
    tc = {"width": size[0], "height": size[1], "fps": 15, "bitrate": 400,
          "mixedVideoLayout": mode, "backgroundColor": bg, **(extra or {})}
    return {"cname": "c", "start": {"cname": "c", "uid": "999", "clientRequest": {
        "recordingConfig": {"channelType": 0, "streamTypes": 2, "maxIdleTime": 30,
                            "transcodingConfig": tc},
        "recordingFileConfig": {"avFileType": ["hls", "mp4"]}}},
        "duration": duration, "users": users, "events": list(events)}


def _users(*uids, **fields):
    return [{"uid": u, **fields} for u in uids]


FOUR = _users("11", "22", "33", "44")


def _record(tmp: Path, doc, profile=DEFAULT_PROFILE, base_dir=None):
    result = record(parse_scenario(doc, base_dir=base_dir), tmp, profile=profile, overwrite=True)
    return result.folder


def _mp4(folder: Path) -> Path:
    return sorted(folder.glob("*.mp4"))[0]


SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _compare(paths, doc, *, profile=DEFAULT_PROFILE, audio=True, infer=False, base_dir=None,
             **options):
    paths = [Path(p) for p in paths]
    return check_content(lambda: iter_video(paths), parse_scenario(doc, base_dir=base_dir),
                         profile=profile, audio=iter_audio(paths) if audio else None,
                         infer=infer, options=ContentOptions(**options))


def _kinds(result):
    return sorted({d.kind for d in result.differences})


CLEAN = {
    "bestfit-native-mute-leave": _doc(users=FOUR, events=[
        {"t": 2, "uid": "22", "action": "mute_video"},
        {"t": 4, "uid": "33", "action": "leave"},
        {"t": 6, "uid": "33", "action": "join"}]),
    "floating-web4-unpublish": _doc(users=_users("11", "22", "33", platform="web4"), mode=0,
                                    events=[{"t": 2, "uid": "22", "action": "unpublish_video"},
                                            {"t": 5, "uid": "22", "action": "publish_video"}]),
    "vertical-web3-mute-unpublish": _doc(
        users=_users("11", "22", "33", "44", "55", platform="web3"), mode=2,
        extra={"maxResolutionUid": "11"},
        events=[{"t": 1, "uid": "22", "action": "mute_video"},
                {"t": 2, "uid": "33", "action": "unpublish_video"},
                {"t": 6, "uid": "22", "action": "unmute_video"}]),
    "custom-update-layout": _doc(
        users=FOUR, mode=3,
        extra={"layoutConfig": [{"uid": "22", "x_axis": 0, "y_axis": 0, "width": 0.5, "height": 1},
                                {"x_axis": 0.5, "y_axis": 0, "width": 0.5, "height": 0.5},
                                {"x_axis": 0.5, "y_axis": 0.5, "width": 0.5, "height": 0.5}]},
        events=[{"t": 4, "action": "update_layout",
                 "body": {"mixedVideoLayout": 1, "backgroundColor": "#3C1E46"}}]),
    "images-native-unpublish-web4-mute": _doc(
        users=[{"uid": "11"}, {"uid": "22", "platform": "web4"}, {"uid": "33"}],
        extra={"backgroundImage": "background.jpg",
               "backgroundConfig": [{"uid": "11", "image_url": "background.jpg",
                                     "render_mode": 1}]},
        events=[{"t": 1, "uid": "11", "action": "unpublish_video"},
                {"t": 2, "uid": "22", "action": "mute_video"}]),
}


@pytest.fixture(scope="module")
def clean_recording(tmp_path_factory):
    """``CLEAN[name]`` recorded once for the module's tests (which only read it)."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = _record(tmp_path_factory.mktemp(name), CLEAN[name], base_dir=SAMPLES)
        return made[name]
    return get


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_recorder_output_compares_clean(clean_recording, name):
    doc = CLEAN[name]
    folder = clean_recording(name)
    result = _compare([_mp4(folder)], doc, base_dir=SAMPLES)
    assert result.differences == (), [d.message for d in result.differences]
    assert result.offset_s == pytest.approx(0.0, abs=1e-6)
    assert result.stats["alignment"] == "codes"
    assert result.stats["frames"] == 8 * 15
    assert abs(result.stats["av_offset_s"]) < 0.045
    # the tracks carry expected and observed intervals that agree
    assert result.tracks and all(t.observed for t in result.tracks)
    for track in result.tracks:
        assert {(i.who, i.state) for i in track.observed} <= \
            {(i.who, i.state) for i in track.expected}


@pytest.mark.slow  # the default run has it end to end: tests/test_compare_e2e.py
def test_eighteenth_user_promoted_compares_clean(tmp_path):
    users = _users(*[str(100 + i) for i in range(18)])
    doc = _doc(users=users, duration=6, events=[{"t": 3, "uid": "103", "action": "leave"}])
    result = _compare([_mp4(_record(tmp_path, doc))], doc, audio=False)
    assert result.differences == (), [d.message for d in result.differences]
    seen = {i.who for t in result.tracks for i in t.observed}
    assert "117" in seen  # the 18th user is displayed once a place is free


def test_ts_segments_reencoded_low_bitrate_and_cut_late_compare_clean(tmp_path, clean_recording):
    doc = CLEAN["bestfit-native-mute-leave"]
    folder = clean_recording("bestfit-native-mute-leave")
    segments = sorted(folder.glob("*.ts"))
    result = _compare(segments, doc)  # the playlist's segments, one continuous clock
    assert result.differences == ()
    cut = tmp_path / "cut.mp4"
    run_ffmpeg("-ss", "1.4", "-i", str(_mp4(folder)), "-c:v", "libx264", "-preset", "veryfast",
            "-b:v", "166k", "-c:a", "aac", str(cut))
    result = _compare([cut], doc)
    assert result.differences == (), [d.message for d in result.differences]
    assert result.offset_s == pytest.approx(-1.4, abs=0.04)


def test_truncated_last_segment_is_tolerated(tmp_path):
    doc = _doc(users=FOUR, duration=17)
    folder = _record(tmp_path, doc)
    segments = sorted(folder.glob("*.ts"))
    assert len(segments) == 2
    data = segments[-1].read_bytes()
    segments[-1].write_bytes(data[: len(data) // 2 + 77])  # cut mid-packet
    stats = DecodeStats()
    frames = list(iter_video(segments, stats=stats))
    assert 15 * 15 < len(frames) < 17 * 15
    times = np.array([f.t for f in frames])
    assert np.all(np.diff(times) > 0)
    result = check_content(frames, parse_scenario(doc))  # a plain list: no evidence
    assert result.differences == ()
    assert result.evidence == ()


@pytest.mark.slow  # the default run has it end to end: tests/test_compare_e2e.py
def test_swapped_users_are_named(tmp_path):
    doc = _doc(users=FOUR)
    recorded = _doc(users=_users("22", "11", "33", "44"))
    result = _compare([_mp4(_record(tmp_path, recorded))], doc)
    assert _kinds(result) == ["wrong_user"]
    pairs = {(d.expected["uid"], d.observed["uid"]) for d in result.differences}
    assert pairs == {("11", "22"), ("22", "11")}
    # evidence: the expected and the recorded picture of those differences
    assert result.evidence
    ev = result.evidence[0]
    assert ev.expected.shape == ev.observed.shape == (180, 320, 3)
    assert np.abs(ev.expected.astype(int) - ev.observed.astype(int)).mean() > 10


@pytest.mark.slow  # the default run has it end to end: tests/test_compare_e2e.py
def test_wrong_layout_mode_is_named(tmp_path):
    doc = _doc(users=FOUR, mode=1)
    result = _compare([_mp4(_record(tmp_path, _doc(users=FOUR, mode=0)))], doc, audio=False)
    assert _kinds(result) == ["wrong_layout"]
    assert result.differences[0].observed == 0


@pytest.mark.slow  # the default run has it end to end: tests/test_compare_e2e.py
def test_wrong_background_colour_is_named(tmp_path):
    users = _users("11", "22", "33")  # best fit 2 x 2: one cell shows the canvas
    doc = _doc(users=users)
    result = _compare([_mp4(_record(tmp_path, _doc(users=users, bg="#802020")))], doc,
                      audio=False)
    assert _kinds(result) == ["wrong_background"]
    assert result.differences[0].observed == pytest.approx([128, 32, 32], abs=8)


@pytest.mark.slow  # the default run has it end to end: tests/test_compare_e2e.py
def test_display_rule_switch_one_second_late_is_timed(tmp_path):
    users = _users("11", "22", "33", "44", platform="web3")
    doc = _doc(users=users, events=[{"t": 4, "uid": "22", "action": "unpublish_video"}])
    late = _doc(users=users, events=[{"t": 5, "uid": "22", "action": "unpublish_video"}])
    mp4 = _mp4(_record(tmp_path, late))
    # no window (event_tolerance 0): the switch is judged, and timed, at the scenario's time
    result = _compare([mp4], doc, audio=False, event_tolerance=Fraction(0))
    assert _kinds(result) == ["late_transition"]
    diff = result.differences[0]
    assert diff.uid == "22"
    assert diff.t == pytest.approx(4.0)
    assert diff.observed["t"] == pytest.approx(5.0, abs=1 / 15)
    assert "live -> canvas colour at 5.00 s, expected 4.00 s" in diff.message
    # the default 1 s window explains it: the unpublish is fitted where it was seen
    result = _compare([mp4], doc, audio=False)
    assert result.differences == (), [d.message for d in result.differences]
    assert [e.line() for e in result.events] == [("uid 22 unpublished video at 5.00 s; "
                                                  "scenario 4.00 s")]


def test_after_stop_last_frame_recording_differs_and_is_inferred(tmp_path):
    doc = _doc(users=FOUR, events=[{"t": 2, "uid": "22", "action": "mute_video"}])
    folder = _record(tmp_path, doc, profile=Profile(after_stop="last_frame"))
    result = _compare([_mp4(folder)], doc, infer=True)
    assert _kinds(result) == ["wrong_state"]
    assert result.differences[0].observed["state"] == "last_frame"
    assert result.differences[0].t == pytest.approx(5.5, abs=0.07)
    assert result.infer["after_stop"] == "last_frame"
    assert result.infer["vertical_column_order"] == "undetermined"  # not vertical
    # the same answer from the result, without decoding again
    assert infer_profile(result, parse_scenario(doc))["after_stop"] == "last_frame"


@pytest.mark.slow  # the default run has it end to end: tests/test_compare_e2e.py
def test_vertical_column_order_variant_differs_and_is_inferred(tmp_path):
    users = _users(*[str(i) for i in range(1, 13)])
    doc = _doc(users=users, mode=2, extra={"maxResolutionUid": "1", "bitrate": 500},
               duration=5, size=(640, 360))  # small tiles readable at 640x360
    folder = _record(tmp_path, doc, profile=Profile(vertical_column_order="sample"))
    mp4 = _mp4(folder)
    result = _compare([mp4], doc, audio=False)
    assert _kinds(result) == ["wrong_layout"]  # named once, not as 11 misplaced users
    assert result.differences[0].observed == {"vertical_column_order": "sample"}
    inferred = infer_profile(lambda: iter_video([mp4]), parse_scenario(doc))
    assert inferred["vertical_column_order"] == "sample"
    assert inferred["after_stop"] == "undetermined"  # nobody stops video
    clean = _compare([mp4], doc, profile=Profile(vertical_column_order="sample"), audio=False)
    assert clean.differences == ()


COLOURS = [{"uid": "1", "source": "#C8643C"}, {"uid": "2", "source": "#3CC864"},
           {"uid": "3", "source": "#643CC8"}]


def test_colour_sources_align_by_pictures_and_compare(tmp_path):
    events = [{"t": 3, "uid": "2", "action": "leave"}, {"t": 5, "uid": "2", "action": "join"}]
    doc = _doc(users=COLOURS, events=events)
    folder = _record(tmp_path / "rec", doc)
    cut = tmp_path / "cut.mp4"
    run_ffmpeg("-ss", "1", "-i", str(_mp4(folder)), "-c:v", "libx264", "-preset", "veryfast",
            "-b:v", "166k", str(cut))
    result = _compare([cut], doc, audio=False)
    assert result.stats["alignment"] == "pictures"
    assert result.offset_s == pytest.approx(-1.0, abs=0.07)
    assert result.differences == (), [d.message for d in result.differences]
    # users' colours exchanged: each region shows the other user's picture
    swapped = copy.deepcopy(COLOURS)
    swapped[0]["source"], swapped[1]["source"] = COLOURS[1]["source"], COLOURS[0]["source"]
    folder2 = _record(tmp_path / "swap", _doc(users=swapped, events=events))
    result = _compare([_mp4(folder2)], doc, audio=False)
    assert "wrong_user" in _kinds(result)
    assert any(d.expected["uid"] == "1" and d.observed["uid"] == "2" for d in result.differences)


def test_audio_behind_the_picture_is_an_av_offset(tmp_path):
    doc = _doc(users=FOUR)
    mp4 = _mp4(_record(tmp_path / "rec", doc))
    shifted = tmp_path / "late_audio.mp4"
    run_ffmpeg("-i", str(mp4), "-itsoffset", "0.3", "-i", str(mp4), "-map", "0:v", "-map", "1:a",
            "-c", "copy", str(shifted))
    result = _compare([shifted], doc)
    assert _kinds(result) == ["av_offset"]
    assert result.stats["av_offset_s"] == pytest.approx(-0.3, abs=0.02)


def test_frames_lost_without_a_timestamp_gap_are_counted_not_misread(tmp_path):
    doc = _doc(users=FOUR, events=[{"t": 5, "uid": "22", "action": "mute_video"}])
    mp4 = _mp4(_record(tmp_path / "rec", doc))
    lossy = tmp_path / "lossy.mp4"
    # frames 30-39 vanish and the rest is re-timed: content jumps ahead of the clock
    run_ffmpeg("-i", str(mp4), "-vf", "select='not(between(n,30,39))',setpts=N/15/TB",
            "-an", "-c:v", "libx264", "-preset", "veryfast", str(lossy))
    result = _compare([lossy], doc, audio=False)
    assert result.stats["dropped_frames"] == 10
    assert _kinds(result) == ["dropped_frames"], [d.message for d in result.differences]


def test_video_only_recording_with_levels_range_mixed_up_compares_clean(tmp_path):
    users = [*_users("11", "22"), {"uid": "33", "source": "#0000FF"}]
    doc = _doc(users=users, bg="#FFFFFF",  # one best-fit cell shows the canvas colour
               events=[{"t": 2, "uid": "22", "action": "mute_video"}])
    mp4 = _mp4(_record(tmp_path / "rec", doc))
    off = tmp_path / "expanded.mp4"
    # limited-range levels stretched to full range but still tagged limited
    expand = ("lutyuv=y='clip((val-16)*255/219,0,255)'"
              ":u='clip((val-128)*255/224+128,0,255)':v='clip((val-128)*255/224+128,0,255)'")
    run_ffmpeg("-i", str(mp4), "-an", "-vf", expand, "-c:v", "libx264", "-preset", "veryfast",
            str(off))
    frame = next(iter_video([off]))
    assert frame.planes[0][135, 240] > 250  # the canvas (white, Y 235) really is off
    result = _compare([off], doc)  # no audio stream: no A/V check, no error
    assert result.differences == (), [d.message for d in result.differences]
    assert "av_offset_s" not in result.stats


def test_late_join_one_second_late_is_timed(tmp_path):
    events = [{"t": 3, "uid": "44", "action": "join"}]
    users = [*_users("11", "22", "33"), {"uid": "44", "join": 3}]
    doc = _doc(users=users)
    late = _doc(users=[*_users("11", "22", "33"), {"uid": "44", "join": 4}])
    mp4 = _mp4(_record(tmp_path, late))
    # no window (event_tolerance 0): the join is judged at the scenario's time
    result = _compare([mp4], doc, audio=False, event_tolerance=0)
    assert "late_transition" in _kinds(result), [d.message for d in result.differences]
    times = {round(d.observed["t"], 1) for d in result.differences if d.kind == "late_transition"}
    assert times == {4.0}
    # the default 1 s window: the join is fitted at 4 s and the reflow judged from there
    result = _compare([mp4], doc, audio=False)
    assert result.differences == (), [d.message for d in result.differences]
    assert [(e.kind, e.uid, float(e.fitted_t)) for e in result.events] == [("join", "44", 4.0)]
    del events


INFER_CASES = {
    "floating_render": ("fit", _doc(users=_users("11", "22", "33", size="360x640"), mode=0,
                                    duration=4)),
    # vertical's small tiles need a 640x360 canvas for their codes to be read back
    "vertical_render": ("fit", _doc(users=_users("11", "22", "33", "44", size="360x640"),
                                    mode=2, extra={"maxResolutionUid": "11", "bitrate": 500},
                                    duration=4, size=(640, 360))),
    "vertical_without_large": ("sample", _doc(users=_users(*[str(i) for i in range(1, 6)]),
                                              mode=2, duration=4, size=(640, 360),
                                              extra={"bitrate": 500})),
}


@pytest.mark.parametrize("key", sorted(INFER_CASES))
def test_recording_under_another_profile_value_is_inferred(tmp_path, key):
    value, doc = INFER_CASES[key]
    mp4 = _mp4(_record(tmp_path, doc, profile=Profile(**{key: value})))
    result = _compare([mp4], doc, audio=False, infer=True)
    assert result.differences, "the default profile must not match"
    assert result.infer[key] == value
    assert result.infer["after_stop"] == "undetermined"
    matched = _compare([mp4], doc, profile=Profile(**{key: value}), audio=False)
    assert matched.differences == (), [d.message for d in matched.differences]


def test_user_image_states_are_checked(tmp_path, clean_recording):
    doc = CLEAN["images-native-unpublish-web4-mute"]
    folder = clean_recording("images-native-unpublish-web4-mute")
    result = _compare([_mp4(folder)], doc, base_dir=SAMPLES, audio=False)
    states = {(i.who, i.state) for t in result.tracks for i in t.observed}
    assert {("11", "user_image"), ("22", "canvas_background"), ("22", "last_frame")} <= states
    # recorded without the user image: region of uid 11 shows the canvas background instead
    plain = copy.deepcopy(doc)
    del plain["start"]["clientRequest"]["recordingConfig"]["transcodingConfig"]["backgroundConfig"]
    folder = _record(tmp_path / "plain", plain, base_dir=SAMPLES)
    result = _compare([_mp4(folder)], doc, base_dir=SAMPLES, audio=False)
    # one background where another is due (issue 20): wrong_background
    assert [(d.kind, d.uid) for d in result.differences] == [("wrong_background", "11")]
    assert result.differences[0].t == pytest.approx(4.5, abs=0.1)
