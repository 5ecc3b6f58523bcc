"""Alignment that real content cannot pull (issue 19, item 6).

Without readable codes compare used to align by the whole canvas, and live camera-like
content pulled it: a zooming ``mandelbrot`` file user moved the offset by -1.33 s and a user
whose camera freezes mid-way by -5.6 s (each then a false ``differ``).  Now the recording's
own clock (TS names, the playlist's ``TIME``, the stop response's ``sliceStartTime``) against
the scenario's ``start_utc`` aligns first; the pictures align only without a clock, with
still regions weighted above live ones.  The recordings are made by our recorder from
FFmpeg-made source clips (320x180, 8 s).
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import layoutkit as lk
from layoutkit.cli.output import print_compare
from layoutkit.cloudfiles.naming import format_utc
from layoutkit.cloudfiles.parse import parse_playlist, parse_ts_name
from layoutkit.comparison.align import (LIVE_WEIGHT, CodeInputs, align_recording, code_fit,
                                        fit_pictures, still_weights)
from layoutkit.comparison.clock import ClockReading, RecordingClock, clock_offset, \
    clock_readings
from layoutkit.comparison.expect import Expectation, Period, RegionExpect
from layoutkit.comparison.read import Recording, SegmentFile
from layoutkit.comparison.report import render_report
from layoutkit.comparison.run import compare
from layoutkit.record import record
from layoutkit.scenario import parse_scenario

from .helpers import run_ffmpeg

START_UTC = "2026-03-04T10:00:00Z"
FPS = 15


def _doc(users, events, *, mode, start_utc=START_UTC):
    tc = {"width": 320, "height": 180, "fps": FPS, "bitrate": 400, "mixedVideoLayout": mode,
          "backgroundColor": "#1E2A38"}
    return {"cname": "c", "start_utc": start_utc,
            "start": {"cname": "c", "uid": "999", "clientRequest": {
                "recordingConfig": {"channelType": 0, "streamTypes": 2, "maxIdleTime": 30,
                                    "transcodingConfig": tc},
                "recordingFileConfig": {"avFileType": ["hls", "mp4"]}}},
            "duration": 8, "users": users, "events": events}


#: A zooming Mandelbrot user beside two colour users (floating layout); uid 3 leaves and
#: comes back.  Before: pictures offset -1.33 s, ``wrong_state`` and ``duration``.
MANDEL = _doc([{"uid": "1", "source": "mandel.mp4"}, {"uid": "2", "source": "#3CC864"},
               {"uid": "3", "source": "#643CC8"}],
              [{"t": 3, "uid": "3", "action": "leave"}, {"t": 5, "uid": "3", "action": "join"}],
              mode=0)
#: A camera that freezes after 3 s beside a colour user (best fit); uid 2 leaves and comes
#: back.  Before: pictures offset -5.6 s, ``duration``.
FREEZE = _doc([{"uid": "1", "source": "freeze.mp4"}, {"uid": "2", "source": "#3CC864"}],
              [{"t": 3, "uid": "2", "action": "leave"}, {"t": 5, "uid": "2", "action": "join"}],
              mode=1)
CASES = {"mandelbrot": MANDEL, "freezing": FREEZE}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Make the source clips, and record each case once by our recorder (read only)."""
    root = tmp_path_factory.mktemp("clock")
    run_ffmpeg("-f", "lavfi", "-i", f"mandelbrot=size=320x180:rate={FPS}", "-t", "8",
            "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast",
            str(root / "mandel.mp4"))
    run_ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}", "-t", "3",
            "-vf", "tpad=stop_mode=clone:stop_duration=5", "-pix_fmt", "yuv420p",
            "-c:v", "libx264", "-preset", "veryfast", str(root / "freeze.mp4"))
    folders = {}
    for name, doc in CASES.items():
        result = record(parse_scenario(doc, base_dir=root), root / name, overwrite=True)
        folders[name] = result.folder
    return root, folders


def _scenario(root: Path, doc):
    return parse_scenario(doc, base_dir=root)


def _summary(result) -> list[str]:
    return [f"{d.kind}: {d.message}" for d in result.differences]


def _shift_clock(folder: Path, dest: Path, seconds: float) -> Path:
    """Copy ``folder`` with its clock moved: it says the recording started ``seconds`` later.

    The TS names, playlist TIME tags and stop response are changed, the content is not.
    """
    shutil.copytree(folder, dest)
    playlist = next(dest.glob("*.m3u8"))
    text = playlist.read_text()
    for ts in sorted(dest.glob("*.ts")):
        name = parse_ts_name(ts.name)
        assert name is not None and name.time is not None
        moved = format_utc(name.time + timedelta(seconds=seconds), tag_time=name.time_format)
        new = ts.name.replace(name.time_text, moved)
        ts.rename(dest / new)
        text = text.replace(ts.name, new).replace(f"TIME={name.time_text}", f"TIME={moved}")
    playlist.write_text(text)
    response = dest / "serverResponse.json"
    doc = json.loads(response.read_text())
    for entry in doc["fileList"]:
        entry["sliceStartTime"] += round(seconds * 1000)
    response.write_text(json.dumps(doc))
    return dest


# --- end to end ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
def test_clock_aligns_live_file_sources_and_they_match(made, name):
    root, folders = made
    result = compare(_scenario(root, CASES[name]), folders[name])
    assert result.verdict == "match", _summary(result)
    assert result.offset_s == 0.0
    alignment = result.alignment
    assert alignment["method"] == "clock" and alignment["confidence"] == "high"
    assert alignment["clock"]["source"] == "ts_name"
    assert [r["source"] for r in alignment["clock"]["readings"]] == [
        "ts_name", "track_event", "slice_start"]
    assert alignment["clock"]["spread_s"] == 0.0
    # the JSON document, the text's verdict area and the report say how it was aligned
    assert result.to_json()["alignment"]["method"] == "clock"
    out = io.StringIO()
    print_compare(result, out)
    second = out.getvalue().splitlines()[1]
    assert second.startswith("  aligned by clock, confidence high (TS name ")
    html = render_report(result, title="t")
    assert 'id="alignment" data-method="clock" data-confidence="high"' in html


@pytest.mark.parametrize("name", sorted(CASES))
def test_without_a_clock_pictures_weight_still_regions_and_match(made, name):
    root, folders = made
    mp4 = sorted(folders[name].glob("*.mp4"))[0]  # a lone MP4: its name carries no time
    result = compare(_scenario(root, CASES[name]), mp4)
    assert result.alignment["method"] == "pictures", result.alignment
    assert result.alignment["pictures"]["weighted"] is True
    assert "clock" not in result.alignment
    assert abs(result.offset_s) <= 1.0 / FPS + 1e-9, result.alignment
    assert result.verdict == "match", _summary(result)


def test_a_clock_0_4_s_off_still_aligns_and_the_pictures_disagreement_is_reported(made,
                                                                                   tmp_path):
    """A clock 0.4 s off still aligns; the pictures' disagreement is reported as event timing.

    Rule: the clock aligns whenever it puts the scenario inside the recording; the pictures
    only report where they would put t = 0.  A start 0.4 s off is event timing: whatever
    differs lies in the 0.4 s after an event (event windows, issue 19 item 1, are what
    absorb it), never all along the recording as a pulled offset makes it.
    """
    root, folders = made
    late = _shift_clock(folders["freezing"], tmp_path / "late", 0.4)
    result = compare(_scenario(root, FREEZE), late)
    alignment = result.alignment
    assert alignment["method"] == "clock" and result.offset_s == pytest.approx(-0.4)
    assert alignment["confidence"] == "high"  # within CLOCK_AGREE_S: no note
    assert alignment["pictures"]["offset_s"] == pytest.approx(0.0, abs=1.0 / FPS)
    assert "pictures put t = 0 +0.400 s from the clock" in alignment["summary"]
    assert not [d for d in result.differences if d.category == "files"], _summary(result)
    events = [e["t"] for e in FREEZE["events"]]
    for d in result.differences:
        assert d.category == "content" and d.t is not None, _summary(result)
        assert min(abs(d.t - e) for e in events) <= 1.0 / FPS, _summary(result)
        until = d.observed.get("until", d.observed.get("t")) if isinstance(d.observed,
                                                                           dict) else None
        assert until is not None and until - d.t <= 0.4 + 1.5 / FPS, _summary(result)


def test_only_the_stop_response_off_the_ts_name_wins_and_the_spread_is_low_confidence(
        made, tmp_path):
    root, folders = made
    moved = tmp_path / "moved"
    shutil.copytree(folders["freezing"], moved)
    response = moved / "serverResponse.json"
    doc = json.loads(response.read_text())
    for entry in doc["fileList"]:
        entry["sliceStartTime"] += 400
    response.write_text(json.dumps(doc))
    result = compare(_scenario(root, FREEZE), moved)
    alignment = result.alignment
    assert alignment["method"] == "clock" and result.offset_s == 0.0
    assert alignment["clock"]["spread_s"] == pytest.approx(0.4)
    assert alignment["confidence"] == "low" and "disagree by 0.400 s" in alignment["note"]


def test_a_clock_far_from_decisive_pictures_is_named_and_a_clock_outside_is_not_used(made):
    root, folders = made
    three = dict(FREEZE, start_utc="2026-03-04T10:00:03Z")  # the clock puts t = 0 at +3 s
    result = compare(_scenario(root, three), folders["freezing"])
    alignment = result.alignment
    assert alignment["method"] == "clock" and result.offset_s == pytest.approx(3.0)
    assert alignment["confidence"] == "low"
    assert "the pictures put t = 0 at +0.000 s, -3.00 s from the clock" in alignment["note"]
    # the scenario's start_utc left at its default: months from the recording's clock
    default = {k: v for k, v in FREEZE.items() if k != "start_utc"}
    result = compare(_scenario(root, default), folders["freezing"])
    alignment = result.alignment
    assert alignment["method"] == "pictures" and abs(result.offset_s) <= 1.0 / FPS
    assert "outside the recording: not used" in alignment["note"]
    assert result.verdict == "match", _summary(result)


# --- the clock's readings --------------------------------------------------------------------
_PLAYLIST = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TARGETDURATION:18
#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=AUDIO,TIME=20260304095959000
#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=VIDEO,TIME=20260304100000000
#EXTINF:15.000000,
s_c_20260304100000000.ts
#EXTINF:15.000000,
s_c_20260304100015000.ts
#EXT-X-ENDLIST
"""


def _recording(*, first_lost: bool, response=None, kind="folder", mp4s=()):
    root = Path("/nonexistent")
    playlist = parse_playlist(_PLAYLIST)
    segments = tuple(SegmentFile(uri=s.uri, path=root / s.uri, exists=not (first_lost and i == 0),
                                 size=1) for i, s in enumerate(playlist.segments))
    return Recording(kind=kind, location="x", root=root, playlist_path=root / "s_c.m3u8",
                     playlist=playlist, segments=segments, server_response=response,
                     mp4s=tuple(mp4s))


def test_clock_readings_date_the_first_decoded_frame():
    response = {"fileList": [{"fileName": "s_c.m3u8", "sliceStartTime": 1772618399900},
                             {"fileName": "s_c_0.mp4", "sliceStartTime": 1772618400500}]}
    from datetime import UTC, datetime
    t0 = datetime(2026, 3, 4, 10, tzinfo=UTC)
    clock = clock_offset(clock_readings(_recording(first_lost=False, response=response)), t0)
    assert clock.source == "ts_name"
    # the VIDEO track's TIME, not the AUDIO one; the stop response names the playlist
    assert [(s, o) for s, o, _ in clock.readings] == [
        ("ts_name", 0.0), ("track_event", 0.0), ("slice_start", 0.1)]
    assert clock.spread_s == pytest.approx(0.1)
    # the first segment lost: the frames start 15 s into the playlist
    lost = _recording(first_lost=True, response=response)
    clock = clock_offset(clock_readings(lost, lead_s=15.0), t0)
    assert [(s, o) for s, o, _ in clock.readings] == [
        ("ts_name", -15.0), ("track_event", -15.0), ("slice_start", -14.9)]
    # MP4 parts only: their own sliceStartTime; a lone MP4 (no stop response): no clock
    only_mp4 = Recording(kind="folder", location="x", root=Path("/n"), server_response=response,
                         mp4s=(Path("/n/s_c_0.mp4"),))
    assert clock_offset(clock_readings(only_mp4), t0).readings == (
        ("slice_start", -0.5, "sliceStartTime=1772618400500 (s_c_0.mp4)"),)
    assert clock_readings(Recording(kind="mp4", location="m.mp4", root=Path("/n"),
                                    mp4s=(Path("/n/meeting.mp4"),))) == ()


# --- the rule on synthetic arrays -------------------------------------------------------------
def _exp(periods, end):
    return Expectation(profile=None, periods=tuple(periods), end=end, fps=FPS)  # type: ignore


def _period(start, end, value_still, value_live):
    """Return a 4-cell period: cells 0-1 a still colour region, cells 2-3 a live video file."""
    still = RegionExpect(0, (0, 0, 20, 20), 1, ("2", "live"), "desc", 0)
    live = RegionExpect(1, (20, 0, 20, 20), 1, ("1", "live"), "unchecked", 0)
    desc = np.array([[value_still] * 3] * 2 + [[value_live] * 3] * 2, np.float32)
    return Period(start, end, Fraction(start).limit_denominator(), 1, (still, live), desc)


_CELLS = np.array([[0, 0, 5, 10], [5, 0, 10, 10], [10, 0, 15, 10], [15, 0, 20, 10]], np.int32)


def test_still_weights_count_moving_regions_less():
    exp = _exp([_period(0.0, 2.0, 50, 0)], 2.0)
    weights = still_weights(exp, _CELLS, 2)
    assert weights[0].tolist() == pytest.approx([1.0, 1.0, LIVE_WEIGHT, LIVE_WEIGHT])
    # a frozen tile (last frame) and a colour user are still
    frozen = RegionExpect(1, (20, 0, 20, 20), 1, ("1", "last_frame"), "unchecked", 0)
    period = _period(0.0, 2.0, 50, 0)
    exp = _exp([Period(0.0, 2.0, Fraction(0), 1, (period.regions[0], frozen),
                       period.canvas_desc)], 2.0)
    assert still_weights(exp, _CELLS, 2).tolist() == [[1.0, 1.0, 1.0, 1.0]]


def _live_pull():
    """Return a period pair whose live cells would pull the offset to 0.5 s.

    The still cells step at r = 2 s (truth: offset 0); the live cells' camera picture
    changes at r = 2.5 s, like the period's first frame would 0.5 s later.
    """
    exp = _exp([_period(0.0, 2.0, 50, 0), _period(2.0, 4.0, 100, 200)], 4.0)
    times = np.arange(4 * FPS) / FPS
    cells = np.zeros((len(times), 4, 3), np.uint8)
    cells[:, :2] = np.where(times < 2.0, 50, 100)[:, None, None]
    cells[:, 2:] = np.where(times < 2.5, 0, 200)[:, None, None]
    return exp, times, cells


def test_live_content_pulls_equal_weights_but_not_still_weights():
    exp, times, cells = _live_pull()
    plain = fit_pictures(exp, times, cells)
    assert plain.offset_s == pytest.approx(0.5, abs=1.0 / FPS)  # pulled by the camera
    weighted = fit_pictures(exp, times, cells, weights=still_weights(exp, _CELLS, 2))
    assert weighted.offset_s == pytest.approx(0.0) and weighted.weighted
    assert weighted.margin is not None and weighted.margin > 0


def test_frames_outside_the_scenario_count_as_mismatches():
    """Periods A B A: frames outside the scenario count as mismatches.

    A recording whose last part alone matches A perfectly must not align there (a short
    overlap used to win on its mean).
    """
    a, b = 50, 150
    exp = _exp([_period(0.0, 3.0, a, a), _period(3.0, 5.0, b, b), _period(5.0, 8.0, a, a)], 8.0)
    times = np.arange(8 * FPS) / FPS
    cells = np.zeros((len(times), 4, 3), np.uint8)
    level = np.where((times >= 3) & (times < 5), b, a)
    cells[:] = level[:, None, None]
    cells[(times >= 3) & (times < 5), 2:] = 90  # the middle's live part looks elsewhere
    fit = fit_pictures(exp, times, cells)
    assert fit.offset_s == pytest.approx(0.0), (fit.offset_s, fit.rival_offset_s)


def test_align_recording_rule_codes_then_clock_then_pictures():
    exp, times, cells = _live_pull()
    weights = still_weights(exp, _CELLS, 2)
    none = CodeInputs(np.full((len(times), 1), -1, np.int32), np.zeros((len(times), 1), np.int32),
                      ("1",), {"1": 0.0}, FPS)
    clock = RecordingClock(0.2, "ts_name", (("ts_name", 0.2, "x.ts"),))
    chosen, offsets, _ = align_recording(exp, times, cells, none, clock=clock, weights=weights)
    assert chosen.method == "clock" and chosen.offset_s == 0.2 and (offsets == 0.2).all()
    assert chosen.confidence == "high"
    far = RecordingClock(-30.0, "ts_name", (("ts_name", -30.0, "x.ts"),))
    chosen, _, _ = align_recording(exp, times, cells, none, clock=far, weights=weights)
    assert chosen.method == "pictures" and chosen.offset_s == pytest.approx(0.0)
    assert "outside the recording" in chosen.note
    # readable codes: they align (the per-frame truth); the clock is reported beside them
    frames = np.round((times - 0.4) * FPS).astype(np.int32)[:, None] % 4096
    coded = CodeInputs(np.zeros((len(times), 1), np.int32), frames, ("1",), {"1": 0.0}, FPS)
    chosen, _, _ = align_recording(exp, times, cells, coded, clock=clock, weights=weights)
    assert chosen.method == "codes" and chosen.offset_s == pytest.approx(0.4)
    assert chosen.confidence == "high" and chosen.codes.spread_s == 0.0
    assert "the clock puts t = 0 -0.200 s from the codes" in chosen.describe()


def test_the_clock_picks_the_codes_wrap():
    """A frame number wraps every 4096 frames (273 s at 15 fps): the clock says which."""
    times = np.arange(30) / FPS
    period = 4096 / FPS
    frames = (np.round((times - (period + 1.0)) * FPS).astype(np.int32) % 4096)[:, None]
    uids = np.zeros((30, 1), np.int32)
    codes = CodeInputs(uids, frames, ("1",), {"1": 0.0}, FPS)
    assert code_fit(times, codes).offset_s == pytest.approx(1.0)
    near = code_fit(times, codes, near=period)
    assert near.offset_s == pytest.approx(period + 1.0)


def test_clock_offset_sign():
    from datetime import UTC, datetime
    t0 = datetime(2026, 3, 4, 10, tzinfo=UTC)
    reading = ClockReading("slice_start", t0 - timedelta(seconds=1.5), "x")
    assert clock_offset((reading,), t0).offset_s == 1.5  # recording began 1.5 s early


def test_lk_compare_reports_the_alignment(made):
    root, folders = made
    result = lk.compare(_scenario(root, MANDEL), folders["mandelbrot"])
    assert result.alignment["method"] == "clock"


def test_a_hostile_ts_name_in_the_alignment_summary_is_escaped(made, tmp_path):
    """The clock's reading names a file of the recording: text, JSON and report escape it.

    No terminal control reaches the screen.
    """
    root, folders = made
    hostile = tmp_path / "hostile"
    shutil.copytree(folders["freezing"], hostile)
    ts = next(hostile.glob("*.ts"))
    time_text = ts.stem.rsplit("_", 1)[1]
    evil = f"s_\x1b]0;TITLE\x07_{time_text}.ts"
    ts.rename(hostile / evil)
    playlist = next(hostile.glob("*.m3u8"))
    playlist.write_text(playlist.read_text().replace(ts.name, evil))
    result = compare(_scenario(root, FREEZE), hostile)
    assert result.alignment["method"] == "clock" and result.offset_s == 0.0
    out = io.StringIO()
    print_compare(result, out)
    line = out.getvalue().splitlines()[1]
    assert "\x1b" not in line and "\x07" not in line and "TS name s_" in line
    assert "\x1b" not in result.to_json()["alignment"]["summary"]
    assert "\x1b" not in render_report(result, title="t")
