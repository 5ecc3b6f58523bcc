"""compare end to end (issue 8's "Must show"), through ``lk.compare`` and ``layoutkit compare``.

* No false alarm: the recorder's own output (HLS + MP4 + serverResponse.json) for every
  layout mode and display rule, an ``update_layout`` and an 18th user promoted compares
  ``match``; so does its MP4 re-encoded by FFmpeg at a third of the bit rate and cut to
  start 1.4 s late (``offset_s`` -1.4).
* Every injected fault is found and named by kind.
* An independent engine: FFmpeg's own filters (``ffmpeg-python`` graph, the imageio-ffmpeg
  binary) compose ``testsrc`` files into the expected geometry; that compares ``match``,
  and with two tiles swapped ``wrong_user``.
* The command line (exit codes, ``--json``, ``--report``, unanalysable inputs), the S3 route
  on the loopback server, and a real ``differ`` report in headless Chromium.

Canvases are small (320x180 or 640x360) and recordings short, so the default run stays fast;
the heavier cases are marked slow.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import layoutkit as lk
from layoutkit.cli import main
from layoutkit.signals.audio import AUDIO_PROFILES
from layoutkit.idstream import write_idstream
from layoutkit.timeline import Timeline

from .browser import open_file, save_full_page_screenshot
from .helpers import FAILURES, run_ffmpeg, scenario_doc

BG = "#1E2A38"
HLS_MP4 = {"avFileType": ["hls", "mp4"]}


def _users(*uids: object, **fields: object) -> list[dict]:
    return [{"uid": str(u), **fields} for u in uids]


def _doc(users=None, events=(), *, mode=1, duration=8, size=(320, 180), bg=BG, recording=None,
         **layout) -> dict:
    """Build a scenario to record as HLS + MP4.

    ``layout``: more transcodingConfig keys, or other values for its defaults (``fps`` 15,
    ``bitrate`` 400).
    """
    tc = {"width": size[0], "height": size[1], "fps": 15, "bitrate": 400,
          "mixedVideoLayout": mode, "backgroundColor": bg, **layout}
    return scenario_doc(users if users is not None else _users(11, 22, 33, 44), list(events),
                        duration=duration, transcoding=tc, recording=recording,
                        file_config=HLS_MP4)


def _mix(doc, out: Path, *, profile: lk.Profile = lk.DEFAULT_PROFILE) -> Path:
    """Record ``doc`` with the local recorder into ``out`` (the folder as downloaded)."""
    lk.mix(doc, out, profile=profile)
    return out


def _mp4(folder: Path) -> Path:
    (mp4,) = sorted(folder.rglob("*.mp4"))
    return mp4


def _cloud_name(src: Path, dest_dir: Path) -> Path:
    """``<sid>_<cname>_0.mp4`` in ``dest_dir``, with the sid and cname of ``src``'s name."""
    sid, cname = src.name.split("_")[:2]
    dest_dir.mkdir(parents=True, exist_ok=True)
    return dest_dir / f"{sid}_{cname}_0.mp4"


def _kinds(result) -> list[str]:
    return sorted({d.kind for d in result.differences})


def _messages(result) -> list[str]:
    return [f"{d.kind}: {d.message}" for d in result.differences]


def _run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def _write_json(path: Path, doc: dict) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


# --- 1. no false alarm --------------------------------------------------------------------
CUSTOM_ALPHA = [  # a full-screen user, one blended tile and one fit tile over it
    {"uid": "11", "x_axis": 0, "y_axis": 0, "width": 1, "height": 1},
    {"uid": "22", "x_axis": 0.05, "y_axis": 0.55, "width": 0.3, "height": 0.4, "alpha": 0.6},
    {"uid": "33", "x_axis": 0.65, "y_axis": 0.55, "width": 0.3, "height": 0.4, "alpha": 1.0,
     "render_mode": 1},
]

CLEAN = {
    # floating, native: last frame then the canvas background 3.5 s after a mute; a leave
    "floating-native-mute-leave": _doc(_users(11, 22, 33), mode=0, duration=9, events=[
        {"t": 2, "uid": "22", "action": "mute_video"},
        {"t": 4, "uid": "33", "action": "leave"},
        {"t": 7, "uid": "22", "action": "unmute_video"}]),
    # best fit, web4: mute and unpublish both keep the last frame, then the background
    "bestfit-web4-mute-unpublish": _doc(_users(11, 22, 33, 44, platform="web4"), duration=9,
                                        events=[
        {"t": 1.5, "uid": "22", "action": "mute_video"},
        {"t": 2, "uid": "33", "action": "unpublish_video"},
        {"t": 7, "uid": "33", "action": "publish_video"}]),
    # vertical with maxResolutionUid, web3: black after a mute, canvas colour after unpublish
    "vertical-max-web3-mute-unpublish": _doc(_users(11, 22, 33, 44, 55, platform="web3"),
                                             mode=2, maxResolutionUid="11", events=[
        {"t": 1, "uid": "22", "action": "mute_video"},
        {"t": 2, "uid": "33", "action": "unpublish_video"},
        {"t": 6, "uid": "22", "action": "unmute_video"}]),
    # vertical without maxResolutionUid (large area shows the background), native unpublish
    "vertical-nomax-native-unpublish": _doc(_users(11, 22, 33, 44, 55), mode=2, duration=7,
                                            events=[
        {"t": 2, "uid": "33", "action": "unpublish_video"}]),
    # custom regions with alpha and fit, web3 mute (black blended over a live user)
    "custom-alpha-web3-mute-unpublish": _doc(_users(11, 22, 33, platform="web3"), mode=3,
                                             duration=10, layoutConfig=CUSTOM_ALPHA, events=[
        {"t": 2, "uid": "22", "action": "mute_video"},
        {"t": 3, "uid": "33", "action": "unpublish_video"},
        {"t": 8, "uid": "22", "action": "unmute_video"}]),
    # update_layout mid-recording (best fit -> floating, another colour), then a leave
    "update-layout-then-leave": _doc(_users(11, 22, 33, 44), duration=8, events=[
        {"t": 4, "action": "update_layout",
         "body": {"mixedVideoLayout": 0, "backgroundColor": "#3C1E46"}},
        {"t": 6, "uid": "44", "action": "leave"}]),
    # 18 users in best fit: one of the first 17 leaves and the 18th is promoted
    "eighteen-users-promoted": _doc(_users(*range(100, 118)), size=(640, 360), bitrate=800,
                                    duration=5, events=[
        {"t": 2.5, "uid": "103", "action": "leave"}]),
}
#: The ones the default run keeps (the others run with -m slow).
#: (floating and the display rules run by default in tests/test_compare_content.py too; the
#: 18th user's promotion in tests/test_timeline.py, 17 tiles' codes through H.264 in
#: tests/test_idstream.py)
FAST_CLEAN = {"custom-alpha-web3-mute-unpublish"}


def _clean_params():
    return [pytest.param(name, marks=() if name in FAST_CLEAN else pytest.mark.slow)
            for name in CLEAN]


@pytest.mark.parametrize("name", _clean_params())
def test_recorder_output_compares_match_as_folder_and_reencoded_late(tmp_path, name):
    doc = CLEAN[name]
    folder = _mix(doc, tmp_path / "rec")
    result = lk.compare(doc, folder)
    assert result.verdict == "match", _messages(result)
    assert result.differences == () and result.offset_s == 0.0
    files = result.files
    assert files["kind"] == "folder" and files["playlist"]["endlist"]
    assert len(files["mp4s"]) == 1 and files["server_response"]["file"] == "serverResponse.json"
    content = result.streams["content"]
    assert content["alignment"] == "codes" and content["frames"] == doc["duration"] * 15
    assert abs(content["av_offset_s"]) < 0.045
    # every region was followed: the observed states are among the expected ones
    assert result.tracks and all(t.observed for t in result.tracks)
    for track in result.tracks:
        assert {(i.who, i.state) for i in track.observed} <= \
            {(i.who, i.state) for i in track.expected}, track.region
    if name == "eighteen-users-promoted":
        assert "117" in {i.who for t in result.tracks for i in t.observed}

    # re-encoded by FFmpeg at a third of the bit rate, cut to start 1.4 s late
    rate = doc["start"]["clientRequest"]["recordingConfig"]["transcodingConfig"]["bitrate"]
    cut = _cloud_name(_mp4(folder), tmp_path / "cut")
    run_ffmpeg("-ss", "1.4", "-i", str(_mp4(folder)), "-c:v", "libx264", "-preset", "veryfast",
            "-b:v", f"{rate // 3}k", "-c:a", "aac", "-b:a", "48k", str(cut))
    late = lk.compare(doc, cut)
    assert late.verdict == "match", _messages(late)
    assert late.offset_s == pytest.approx(-1.4, abs=0.04)
    assert late.streams["mp4"][0]["video"]["bitrate_kbps"] < 0.5 * rate


# --- 2. every injected fault is found and named ---------------------------------------------
def _find(result, kind: str, fragment: str):
    hits = [d for d in result.differences if d.kind == kind and fragment in d.message]
    assert hits, f"no {kind} with {fragment!r} in {_messages(result)}"
    return hits


def test_two_users_swapped_are_named(tmp_path):
    """Uid 11 publishes 22's test stream and 22 publishes 11's (file sources)."""
    for uid in ("11", "22"):
        write_idstream(tmp_path / f"{uid}.mp4", uid=uid, duration=4, fps=15)
    recorded = _doc([{"uid": "11", "source": str(tmp_path / "22.mp4")},
                     {"uid": "22", "source": str(tmp_path / "11.mp4")}, *_users(33, 44)],
                    duration=4)
    result = lk.compare(_doc(duration=4), _mix(recorded, tmp_path / "rec"))
    assert result.verdict == "differ" and _kinds(result) == ["wrong_user"]
    pairs = {(d.uid, d.expected["uid"], d.observed["uid"]) for d in result.differences}
    assert pairs == {("11", "11", "22"), ("22", "22", "11")}
    _find(result, "wrong_user", "region 0: uid 22 where uid 11 should be, from 0.00 s to 4.00 s "
                                "(uid 11 and uid 22 swapped)")


def test_wrong_layout_mode_is_named(tmp_path):
    # 4 s: unread codes (frame number 0) once counted as flashes here and gave a false
    # av_offset of one frame beside the wrong layout
    result = lk.compare(_doc(mode=1, duration=4),
                        _mix(_doc(mode=0, duration=4), tmp_path / "rec"))
    assert _kinds(result) == ["wrong_layout"], _messages(result)
    diff = _find(result, "wrong_layout", "fits layout 0 (floating)")[0]
    assert (diff.expected, diff.observed) == (1, 0)


def test_vertical_column_order_variant_is_named_and_inferred(tmp_path):
    doc = _doc(_users(*range(1, 13)), mode=2, maxResolutionUid="1", duration=5,
               size=(640, 360), bitrate=800)
    folder = _mix(doc, tmp_path / "rec", profile=lk.Profile(vertical_column_order="sample"))
    result = lk.compare(doc, folder)
    assert result.verdict == "differ" and _kinds(result) == ["wrong_layout"], _messages(result)
    diff = _find(result, "wrong_layout", "fits profile vertical_column_order=sample")[0]
    assert diff.observed == {"vertical_column_order": "sample"}
    inferred = lk.compare(doc, folder, infer=True)
    assert inferred.infer["vertical_column_order"] == "sample"
    assert inferred.infer["after_stop"] == "undetermined"  # nobody stops video
    assert lk.compare(doc, folder, profile=lk.Profile(vertical_column_order="sample")).matches


def test_column_order_with_unreadable_small_tiles_is_not_inferred_wrongly(tmp_path):
    """320x180: the 32x22 small tiles are too small for the codes to be read back."""
    doc = _doc(_users(*range(1, 13)), mode=2, maxResolutionUid="1", duration=5)
    folder = _mix(doc, tmp_path / "rec", profile=lk.Profile(vertical_column_order="sample"))
    result = lk.compare(doc, folder, infer=True)
    assert result.verdict == "differ"
    assert result.infer["vertical_column_order"] in ("sample", "undetermined")
    # each region's departure is one difference over the whole recording, not one a second
    # (the test streams' flash frames look like anyone and must not split it)
    regions = [d.region for d in result.differences]
    assert len(regions) == len(set(regions)) == 11, _messages(result)
    assert {d.kind for d in result.differences} == {"wrong_user", "missing_user"}


def test_wrong_background_colour_is_named(tmp_path):
    users = _users(11, 22, 33)  # best fit 2 x 2: one cell shows the canvas
    result = lk.compare(_doc(users, duration=4),
                        _mix(_doc(users, bg="#802020", duration=4), tmp_path / "rec"))
    assert _kinds(result) == ["wrong_background"], _messages(result)
    diff = _find(result, "wrong_background", "canvas background from 0.00 s is RGB")[0]
    assert diff.observed == pytest.approx([128, 32, 32], abs=8)
    assert diff.expected == pytest.approx([0x1E, 0x2A, 0x38], abs=2)


def test_display_rule_switch_one_second_late_is_timed(tmp_path):
    users = _users(11, 22, 33, 44, platform="web3")
    doc = _doc(users, [{"t": 2, "uid": "22", "action": "unpublish_video"}], duration=5)
    late = _doc(users, [{"t": 3, "uid": "22", "action": "unpublish_video"}], duration=5)
    folder = _mix(late, tmp_path / "rec")
    # no window (event_tolerance 0): judged at the scenario's time
    result = lk.compare(doc, folder, event_tolerance=0)
    assert _kinds(result) == ["late_transition"], _messages(result)
    diff = _find(result, "late_transition",
                 "uid 22: live -> canvas colour at 3.00 s, expected 2.00 s")[0]
    assert diff.uid == "22" and diff.t == pytest.approx(2.0)
    # the default 1 s window explains it: the unpublish is fitted at 3 s
    result = lk.compare(doc, folder)
    assert result.verdict == "match", _messages(result)
    assert [e.line() for e in result.events] == ["uid 22 unpublished video at 3.00 s; "
                                                 "scenario 2.00 s"]


@pytest.mark.parametrize("duration, lost, span", [
    (17, 0, "0.000-15.000"),  # the first: the rest starts 15 s into the recording
    pytest.param(32, 1, "15.000-30.000", marks=pytest.mark.slow),  # a gap in the middle
])
def test_missing_ts_segment_is_named(tmp_path, duration, lost, span):
    doc = _doc(duration=duration)
    folder = _mix(doc, tmp_path / "rec")
    segments = sorted(folder.rglob("*.ts"))
    assert len(segments) == duration // 15 + 1
    segments[lost].unlink()
    result = lk.compare(doc, folder)
    # named once: not also as dropped frames, a short HLS or a wrong MP4 length
    assert result.verdict == "differ" and _kinds(result) == ["missing_segment"], \
        _messages(result)
    diff = _find(result, "missing_segment", "listed in the playlist but missing")[0]
    assert diff.file == segments[lost].name and f"{span} s is lost" in diff.message
    # the rest is on the recording's clock and shows what it should
    assert result.offset_s == 0.0 and result.streams["content"]["alignment"] == "codes"


def test_evidence_belongs_to_its_difference_when_streams_differ_too(tmp_path):
    result = lk.compare(_doc(duration=4), _mix(_doc(_users(22, 11, 33, 44), size=(640, 360),
                                                    duration=4), tmp_path / "rec"))
    assert _kinds(result) == ["wrong_resolution", "wrong_user"], _messages(result)
    assert result.evidence
    for ev in result.evidence:  # the file and stream differences come first
        assert result.differences[ev.difference].kind == "wrong_user"
        assert ev.observed.shape == ev.expected.shape == (180, 320, 3)


@pytest.mark.slow  # the default run has it in tests/test_compare_files.py
def test_wrong_resolution_is_named(tmp_path):
    result = lk.compare(_doc(), _mix(_doc(size=(640, 360)), tmp_path / "rec"))
    assert _kinds(result) == ["wrong_resolution"], _messages(result)
    _find(result, "wrong_resolution", "video is 640x360, expected 320x180")


@pytest.mark.slow  # the default run has it in tests/test_compare_files.py
def test_wrong_fps_is_named(tmp_path):
    result = lk.compare(_doc(), _mix(_doc(fps=10), tmp_path / "rec"))
    assert result.verdict == "differ"
    diff = _find(result, "wrong_fps", "10.0 fps measured, expected 15")[0]
    assert (diff.expected, diff.observed) == (15, 10.0)


@pytest.mark.slow  # the default run has it in tests/test_compare_files.py
def test_wrong_audio_channels_are_named(tmp_path):
    result = lk.compare(_doc(recording={"audioProfile": 0}),
                        _mix(_doc(recording={"audioProfile": 2}), tmp_path / "rec"))
    assert _kinds(result) == ["audio_bitrate", "audio_channels"], _messages(result)
    diff = _find(result, "audio_channels", "audio has [2] channel(s), expected 1 (audioProfile 0)")
    assert {(d.expected, d.observed) for d in diff} == {(1, 2)}


def test_recording_under_another_profile_value_is_inferred_also_by_the_cli(tmp_path):
    doc = _doc(events=[{"t": 2, "uid": "22", "action": "mute_video"}])
    folder = _mix(doc, tmp_path / "rec", profile=lk.Profile(after_stop="last_frame"))
    result = lk.compare(doc, folder, infer=True)
    assert _kinds(result) == ["wrong_state"]
    diff = _find(result, "wrong_state", "uid 22 last frame from 5.53 s")[0]
    assert diff.expected == {"uid": "22", "state": "canvas_background"}
    assert result.infer["after_stop"] == "last_frame"
    code, out, _ = _run_cli("compare", _write_json(tmp_path / "s.json", doc), str(folder),
                            "--infer", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["verdict"] == "differ" and report["infer"]["after_stop"] == "last_frame"
    assert report["infer"]["vertical_column_order"] == "undetermined"
    code, out, _ = _run_cli("compare", str(tmp_path / "s.json"), str(folder),
                            "--profile", "after_stop=last_frame")
    assert code == 0 and out.startswith("verdict: match")


# --- 3. an independent engine: FFmpeg's filters compose the expected geometry ----------------
def ffmpeg_composite(doc: dict, sources: dict[str, Path], out: Path, *,
                     swap: tuple[str, str] | None = None) -> Path:
    """Compose ``doc``'s first scene with FFmpeg's own filters (ffmpeg-python graph).

    Regions from :func:`lk.compute_regions`; each tile scaled and cropped (render mode 0)
    or scaled and padded with black (1) by FFmpeg, overlaid in paint order on a ``color``
    source of the canvas colour; audio: ``amix`` of the inputs, AAC 48 kHz per
    ``audioProfile``; H.264 at the ``transcodingConfig`` bit rate.
    """
    import ffmpeg
    import imageio_ffmpeg

    scenario = lk.load_scenario(doc)
    tc = scenario.start.transcoding
    width, height, fps, seconds = tc.width, tc.height, tc.fps, float(scenario.duration)
    scene = Timeline(scenario).scene_at(0)
    regions = lk.compute_regions(scene.layout, scene.order, canvas_wh=(width, height))
    uids = list(regions.uids)
    if swap:
        a, b = uids.index(swap[0]), uids.index(swap[1])
        uids[a], uids[b] = uids[b], uids[a]
    inputs = {uid: ffmpeg.input(str(path)) for uid, path in sources.items()}
    colour = scene.layout.background_color.lstrip("#")
    video = ffmpeg.input(f"color=c=0x{colour}:s={width}x{height}:r={fps}:d={seconds}",
                         f="lavfi")
    for uid, (x, y, w, h), mode in zip(uids, regions.rects.tolist(),
                                       regions.render_modes.tolist(), strict=True):
        tile = inputs[uid].video
        if mode == lk.RenderMode.CROP:
            tile = tile.filter("scale", w, h, force_original_aspect_ratio="increase") \
                .filter("crop", w, h)
        else:
            tile = tile.filter("scale", w, h, force_original_aspect_ratio="decrease") \
                .filter("pad", w, h, "(ow-iw)/2", "(oh-ih)/2", color="black")
        video = ffmpeg.overlay(video, tile, x=x, y=y, eof_action="pass")
    channels, bit_rate = AUDIO_PROFILES[scenario.start.recording_config.audio_profile]
    audio = ffmpeg.filter([inputs[u.uid].audio for u in scenario.users], "amix",
                          inputs=len(scenario.users), normalize=0)
    stream = ffmpeg.output(video.filter("format", "yuv420p"), audio, str(out),
                           vcodec="libx264", video_bitrate=f"{tc.bitrate}k", r=fps,
                           acodec="aac", audio_bitrate=str(bit_rate), ar=48000, ac=channels,
                           t=seconds, preset="veryfast", **{"x264-params": "bframes=0"})
    args = stream.overwrite_output().global_args("-v", "error").compile(
        cmd=imageio_ffmpeg.get_ffmpeg_exe())
    # FFmpeg's own threads once deadlocked on this graph in a CI run (every thread in a futex
    # wait, 0 CPU-s in 12 min): a run past the bound is killed and made once more
    try:
        subprocess.run(args, check=True, capture_output=True, timeout=90)
    except subprocess.TimeoutExpired:
        subprocess.run(args, check=True, capture_output=True, timeout=90)
    return out


ENGINE = {
    # best fit 2 x 2 with an empty cell (the canvas colour), crop
    "bestfit": _doc(_users(11, 22, 33, source="testsrc"), duration=4),
    # vertical: the large region fit (black bars), the smalls crop
    "vertical": _doc(_users(11, 22, 33, 44, source="testsrc"), mode=2, maxResolutionUid="22",
                     size=(640, 360), bitrate=600, duration=4),
    # floating: full-screen first user, the others on top of it
    "floating": _doc(_users(11, 22, 33, source="testsrc"), mode=0, size=(640, 360),
                     bitrate=600, duration=4),
}


@pytest.mark.parametrize("name", ["bestfit", pytest.param("vertical", marks=pytest.mark.slow),
                                  pytest.param("floating", marks=pytest.mark.slow)])
def test_ffmpeg_composite_of_testsrc_files_compares_match_and_swapped_tiles_do_not(
        tmp_path, name):
    pytest.importorskip("ffmpeg", reason="python -m pip install -e '.[test]' (ffmpeg-python)")
    doc = ENGINE[name]
    sources = {}
    for user in doc["users"]:
        path = sources[user["uid"]] = tmp_path / f"testsrc_{user['uid']}.mp4"
        write_idstream(path, uid=user["uid"], duration=doc["duration"], fps=15)
    sid = "0123456789abcdef0123456789abcdef"
    (tmp_path / "ok").mkdir()
    out = ffmpeg_composite(doc, sources, tmp_path / "ok" / f"{sid}_demo_0.mp4")
    result = lk.compare(doc, out)
    assert result.verdict == "match", _messages(result)
    assert result.offset_s == 0.0 and result.streams["content"]["alignment"] == "codes"
    assert abs(result.streams["content"]["av_offset_s"]) < 0.045

    (tmp_path / "swap").mkdir()
    swapped = ffmpeg_composite(doc, sources, tmp_path / "swap" / f"{sid}_demo_0.mp4",
                               swap=("11", "33"))
    result = lk.compare(doc, swapped)
    assert result.verdict == "differ" and _kinds(result) == ["wrong_user"], _messages(result)
    pairs = {(d.expected["uid"], d.observed["uid"]) for d in result.differences}
    assert pairs == {("11", "33"), ("33", "11")}


# --- 4. the command line and the S3 route ---------------------------------------------------
@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Make a scenario file, its own recording and one with two users swapped."""
    root = tmp_path_factory.mktemp("cli")
    doc = _doc(_users(11, 22), duration=4)
    scenario = _write_json(root / "scenario.json", doc)
    good = _mix(doc, root / "good")
    bad = _mix(_doc(_users(22, 11), duration=4), root / "bad")
    return Path(scenario), good, bad, doc


def test_cli_exit_codes_json_and_report(recorded, tmp_path):
    scenario, good, bad, _ = recorded
    code, out, _ = _run_cli("compare", str(scenario), str(good))
    assert code == 0 and out.startswith(
        "verdict: match (offset +0.000 s)")
    code, out, _ = _run_cli("compare", str(scenario), str(bad), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["verdict"] == "differ" and doc["offset_s"] == 0.0
    assert doc["differences"] and all(
        {"kind", "uid", "t", "expected", "observed", "message"} <= set(d)
        for d in doc["differences"])
    first = doc["differences"][0]
    assert (first["kind"], first["uid"], first["t"]) == ("wrong_user", "11", 0.0)
    assert first["expected"] == {"uid": "11", "state": "live"}
    assert first["observed"]["uid"] == "22" and "where uid 11 should be" in first["message"]

    report = tmp_path / "r.html"
    code, out, _ = _run_cli("compare", str(scenario), str(bad), "--report", str(report))
    assert code == 1 and f"wrote {report}" in out
    html = report.read_text()
    assert "wrong_user" in html and "data:image/png;base64," in html
    code, _, err = _run_cli("compare", str(scenario), str(good), "--report", str(report))
    assert code == 2 and "exists" in err and "--force" in err
    assert report.read_text() == html  # not replaced
    code, out, _ = _run_cli("compare", str(scenario), str(good), "--report", str(report),
                            "--force")
    assert code == 0 and '<div class="word">MATCH</div>' in report.read_text()
    assert '<div class="word">DIFFER</div>' in html


def test_cli_unanalysable_recordings_exit_1_with_the_reason(recorded, tmp_path):
    scenario = str(recorded[0])
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, _ = _run_cli("compare", scenario, str(empty))
    assert code == 1
    assert out.startswith("verdict: error") and "no recording found" in out
    text = tmp_path / "x.mp4"
    text.write_text("not a video\n")
    code, out, _ = _run_cli("compare", scenario, str(text), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["verdict"] == "error" and "x.mp4" in doc["error"]
    assert "cannot open as a media file" in doc["error"]


def test_cli_as_a_program(recorded):
    """``python -m layoutkit compare`` exits with compare's status (1: differ)."""
    scenario, _, bad, _ = recorded
    run = subprocess.run([sys.executable, "-m", "layoutkit", "compare", str(scenario),
                          str(bad)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.startswith("verdict: differ") and "Traceback" not in run.stderr


def test_compare_a_recording_on_s3(s3_endpoint, bucket, recorded, tmp_path):
    _, _, _, doc = recorded
    lk.mix(doc, tmp_path / "local", upload=f"s3://{bucket}/calls/day1")
    result = lk.compare(doc, f"s3://{bucket}/calls/day1")
    assert result.verdict == "match", [*_messages(result), str(result.error)]
    assert result.offset_s == 0.0 and result.files["kind"] == "folder"
    assert result.files["playlist"]["endlist"] and len(result.files["mp4s"]) == 1
    assert result.files["server_response"] is None  # the stop response is not in the bucket
    swapped = lk.compare(_doc(_users(22, 11), duration=4), f"s3://{bucket}/calls/day1")
    assert _kinds(swapped) == ["wrong_user"]


# --- 5. a real differ report in a real browser ----------------------------------------------
RED = (0xC4, 0x2B, 0x1C)


@pytest.mark.slow  # the default run opens a differ report in Chromium in test_compare_report.py
def test_differ_report_in_headless_chromium(browser, tmp_path):
    users = _users(11, 22, 33, 44, platform="web3")
    doc = _doc(users, [{"t": 2, "uid": "22", "action": "unpublish_video"}], size=(640, 360),
               bitrate=600, duration=6)
    # two users swapped, and the unpublish 2 s late: outside its default 1 s window
    late = _doc(_users(33, 22, 11, 44, platform="web3"),
                [{"t": 4, "uid": "22", "action": "unpublish_video"}], size=(640, 360),
                bitrate=600, duration=6)
    report = tmp_path / "report.html"
    result = lk.compare(doc, _mix(late, tmp_path / "rec"), report=report)
    assert result.verdict == "differ" and {"wrong_user", "event_time"} <= set(_kinds(result))
    _find(result, "event_time", "uid 22's unpublish_video at 2.00 s ± 1.00 s: no time in the "
                                "window explains what the recording shows (video froze at 4.00 s)")
    assert result.evidence
    open_file(browser, report)
    dom = browser.execute_script("""
      const imgs = [...document.images];
      const v = document.getElementById('verdict').getBoundingClientRect();
      return {word: document.querySelector('#verdict .word').textContent.trim(),
              kinds: [...document.querySelectorAll('.difference')].map(a => a.dataset.kind),
              images: imgs.length,
              loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
              first: imgs.length ? (() => { const r = imgs[0].getBoundingClientRect();
                  return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })() : null,
              banner: [v.left + scrollX, v.top + scrollY, v.width, v.height]};""")
    assert dom["word"] == "DIFFER"
    assert "wrong_user" in dom["kinds"] and "event_time" in dom["kinds"]
    assert dom["images"] >= 3 and dom["loaded"] == dom["images"]
    FAILURES.mkdir(exist_ok=True)
    shot = save_full_page_screenshot(browser, FAILURES / "compare_e2e_differ_report.png")
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    left, top, width, height = (int(v) for v in dom["banner"])
    assert width > 900 and height > 60
    pixel = img[top + height // 2, left + 12]
    assert np.abs(pixel - RED).max() <= 6, pixel  # the red verdict banner
    x, y, w, h = (int(v) for v in dom["first"])
    tile = img[y + 2:y + h - 2, x + 2:x + w - 2]
    assert w > 200 and h > 100 and tile.std() > 20  # an evidence frame, drawn, not blank
    # it is a frame of this canvas: the test streams' colours are in it
    assert len(np.unique(tile.reshape(-1, 3)[::7] // 16, axis=0)) > 20
