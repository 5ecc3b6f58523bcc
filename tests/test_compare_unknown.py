"""compare without known mute times, on real people in a scenario rebuilt from notifications.

Real people (``source: "unknown"``) in a scenario rebuilt from Agora's notifications, on
sessions composed by FFmpeg (tests/composer.py) from natural clips (FFmpeg's ``mandelbrot``,
``testsrc2``, ``life``), never our test streams.

The NCS logs are written here (duplicates, disorder, a role change) and turned into the
scenario with ``lk.scenario_from_events``; the composer draws another scenario with the
users' real video stops (NCS reports none), so compare must read them from the pictures.
"""

from __future__ import annotations

import copy
import re
import subprocess
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import layoutkit as lk
from layoutkit.comparison.classify import PICTURE_BACKGROUND, PICTURE_FROZEN, PICTURE_LIVE
from layoutkit.comparison.expect import source_kind
from layoutkit.comparison.people import PersonTrack, canvas_only, video_events

from .composer import compose_session

T0 = 1_796_560_000_000  # ms: the first slice's startUtcMs
S0 = T0 // 1000
SID = "7f3c2a9e5b1d4c8fa06e2b9d3c7a1e45"
RECORDER = "999"
SECONDS = 12
CLIPS = {"1001": "mandelbrot=s=320x180:r=15",
         "1002": "testsrc2=s=320x180:r=15",
         "1003": "life=s=320x180:r=15:mold=10:ratio=0.1:seed=1:death_color=#C83232:"
                 "life_color=#00ff00",
         "1004": "life=s=320x180:r=15:mold=10:ratio=0.1:seed=4:death_color=#3232C8:"
                 "life_color=#ffff00"}


# --- NCS bodies and the app's request log ---------------------------------------------------
def rtc(notice, event_type, uid, seq, ts, *, platform=None, **extra):
    payload = {"channelName": "room", "uid": uid, "clientSeq": seq, "ts": ts, "account": "",
               **extra}
    if platform is not None:
        payload["platform"] = platform
    return {"noticeId": notice, "productId": 1, "eventType": event_type,
            "notifyMs": ts * 1000 + 400, "payload": payload}


def rec(notice, event_type, seq, sendts, **details):
    return {"noticeId": notice, "productId": 3, "eventType": event_type, "notifyMs": sendts + 30,
            "sid": SID, "payload": {"cname": "room", "uid": RECORDER, "sid": SID,
                                    "sequence": seq, "sendts": sendts, "serviceType": 1,
                                    "details": {"msgName": "m", **details}}}


def ncs_log(*, video_report=True):
    """Return the NCS log of a 12 s session, reversed, with copies and a resend.

    1001 (Android) and 1003 (iOS) are in from before the start, 1003 leaves at 8 s; 1002
    (Web) joins at 2 s; 1004 joins as audience at 1 s and becomes a broadcaster at 5 s (a
    role change).
    """
    events = [
        rec("r0", 40, 0, T0 - 400, status=0),
        rec("r1", 42, 1, T0 + 40, startUtcMs=T0, discontinueUtcMs=0, streamUid="0",
            trackType="audio_and_video"),
        rec("r3", 41, 3 if video_report else 2, T0 + SECONDS * 1000, leaveCode=2),
        rtc("a1", 103, 1001, 1, S0 - 30, platform=1),
        rtc("c1", 103, 1003, 1, S0 - 10, platform=2),
        rtc("c2", 104, 1003, 2, S0 + 8, platform=2, reason=1, duration=18),
        rtc("b1", 103, 1002, 1, S0 + 2, platform=7),
        rtc("d1", 105, 1004, 1, S0 + 1, platform=1),
        rtc("d2", 111, 1004, 2, S0 + 5),
        rtc("rec", 103, int(RECORDER), 1, S0 - 1, platform=6, clientType=10),
    ]
    if video_report:
        events.append(rec("r2", 44, 2, T0 + 900, streamUid="0", state=0, utcMs=T0 + 900))
    resent = copy.deepcopy(events[5])
    resent["notifyMs"] += 30_000
    return [*reversed(events), events[3], events[6], resent]


def requests(image=None):
    """Return the app's log: the start request (with a user image for 1001 when ``image``)."""
    tc = {"width": 640, "height": 360, "fps": 15, "bitrate": 500, "mixedVideoLayout": 1,
          "backgroundColor": "#203040"}
    if image is not None:
        tc["backgroundConfig"] = [{"uid": "1001", "image_url": str(image)}]
    body = {"cname": "room", "uid": RECORDER, "clientRequest": {
        "token": "T", "recordingConfig": {"channelType": 1, "streamTypes": 1,
                                          "transcodingConfig": tc},
        "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "a",
                          "secretKey": "s"}}}
    return [{"ts_ms": T0 - 1500, "kind": "start", "body": body}]


def scenario_doc(*, image=None, **options):
    return lk.scenario_from_events(ncs_log(**options), requests(image))


def drawn_doc(doc, *, leave=Fraction(42, 5), stop=Fraction(4), keep_leave=True):
    """Return what really happened, the scenario the composer draws.

    1003's leave at ``leave`` (NCS says 8 s), 1001's video stopped at ``stop`` (NCS says
    nothing); ``keep_leave`` False leaves the leave out (no reflow).
    """
    drawn = copy.deepcopy(doc)
    events = []
    for e in drawn["events"]:
        if e["action"] == "leave" and e["uid"] == "1003":
            if not keep_leave:
                continue
            e = {**e, "t": float(leave)}
        events.append(e)
    if stop is not None:
        events.append({"t": float(stop), "uid": "1001", "action": "mute_video"})
    drawn["events"] = sorted(events, key=lambda e: e["t"])
    return drawn


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    import imageio_ffmpeg

    folder = tmp_path_factory.mktemp("people")
    out = {}
    for uid, source in CLIPS.items():
        out[uid] = folder / f"{uid}.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
                        "-i", source, "-t", str(SECONDS), "-c:v", "libx264", "-preset",
                        "veryfast", "-b:v", "600k", str(out[uid])],
                       check=True, capture_output=True, timeout=120)
    return out


def agora_ts(mp4: Path) -> Path:
    """Write the composed MP4 as a lone TS segment named as Agora names them.

    Its name dates its first frame at the scenario's t = 0 (the first slice's
    ``startUtcMs``), so compare aligns by the recording's clock, as it does on a real
    download.
    """
    import imageio_ffmpeg

    from layoutkit.cloudfiles.naming import ts_name

    start = datetime.fromtimestamp(T0 / 1000, tz=UTC)
    out = mp4.parent / "rec" / ts_name(SID, "room", start)
    out.parent.mkdir(exist_ok=True)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(mp4),
                    "-c", "copy", "-f", "mpegts", str(out)], check=True, capture_output=True,
                   timeout=60)
    return out


def session(tmp_path, clips, doc, drawn, **options):
    """``drawn`` composed by FFmpeg, compared with ``doc``."""
    mp4 = compose_session(doc, clips, tmp_path / "s.mp4", seconds=SECONDS, timeline_doc=drawn,
                          **options)
    return lk.compare(doc, agora_ts(mp4))


def canvas_only_doc(doc):
    """Nobody drawn: every user an audience member (the canvas alone)."""
    drawn = copy.deepcopy(doc)
    drawn["users"] = [{**u, "role": "audience"} for u in drawn["users"]]
    return drawn


def _messages(result):
    return [f"{d.kind}: {d.message}" for d in result.differences]


# --- the scenario -----------------------------------------------------------------------------
def test_the_rebuilt_scenario_has_real_people_windows_and_the_video_report():
    doc = scenario_doc()
    assert [(u["uid"], u["platform"], u["source"], u["join"]) for u in doc["users"]] == [
        ("1001", "native", "unknown", 0), ("1003", "native", "unknown", 0),
        ("1002", "web4", "unknown", 2), ("1004", "native", "unknown", 5)]  # 111 at 5 s
    assert [(e["t"], e["action"], e["uid"]) for e in doc["events"]] == [(8, "leave", "1003")]
    assert doc["video_reports"] == [{"t": 0.9, "stream": "0", "state": 0}]
    scenario = lk.load_scenario(doc)
    assert scenario.video_reports[0].t == Fraction(9, 10)
    assert source_kind(scenario.users[0].source) == "person"


# --- reading stops from the pictures (units) ------------------------------------------------
def _track(states, fps=15):
    states = np.array(states, np.int8)
    n = len(states)
    return PersonTrack("22", np.arange(n), np.arange(n) / fps, states, ("canvas_color",) * n)


def test_a_freeze_is_a_stop_one_frame_after_its_first_frame_and_motion_a_restart():
    L, F, B = PICTURE_LIVE, PICTURE_FROZEN, PICTURE_BACKGROUND
    events = video_events(_track([L] * 10 + [F] * 20 + [B] * 10 + [L] * 10), 15)
    assert [(e.t, e.action, e.tolerance) for e in events] == [
        (Fraction(11, 15), "mute_video", 0), (Fraction(40, 15), "unmute_video", 0)]


def test_a_background_without_a_freeze_is_a_stop_at_its_start_and_glitches_are_not():
    L, B = PICTURE_LIVE, PICTURE_BACKGROUND
    assert video_events(_track([L] * 10 + [B] * 2 + [L] * 10), 15) == []
    events = video_events(_track([L] * 10 + [B] * 10), 15)
    assert [(e.t, e.action) for e in events] == [(Fraction(10, 15), "mute_video")]


def test_a_person_who_left_and_came_back_starts_live_again():
    L, B = PICTURE_LIVE, PICTURE_BACKGROUND
    tr = _track([B] * 10 + [L] * 10)
    tr = PersonTrack("22", np.r_[np.arange(10), np.arange(30, 40)], tr.t, tr.states, tr.looks)
    assert [e.action for e in video_events(tr, 15)] == ["mute_video"]  # the rejoin is live


def test_canvas_only_with_a_report_is_missing_user_and_without_one_a_warning():
    scenario = lk.load_scenario(scenario_doc())
    tracks = {"1001": _track([PICTURE_BACKGROUND] * 30)}
    missing, warnings = canvas_only(scenario, tracks)
    assert not warnings and [d.kind for d in missing] == ["missing_user"]
    assert "uid 22 is in the channel and the recorder reported receiving video (NCS event 44 " \
           "at 0.90 s), but its region shows only the canvas colour" in missing[0].message
    missing, warnings = canvas_only(lk.load_scenario(scenario_doc(video_report=False)), tracks)
    assert not missing and [w.kind for w in warnings] == ["canvas_only"]
    assert "every camera was off" in warnings[0].message
    assert "string user account" in warnings[0].message
    live = {"1001": _track([PICTURE_BACKGROUND] * 30), "1002": _track([PICTURE_LIVE] * 30)}
    assert canvas_only(scenario, live) == ((), ())


# --- end to end -----------------------------------------------------------------------------
def test_a_clean_session_with_a_join_a_leave_and_a_stopped_video_matches(tmp_path, clips):
    doc = scenario_doc()
    result = session(tmp_path, clips, doc, drawn_doc(doc))
    assert result.verdict == "match", _messages(result)
    assert not result.warnings
    assert result.alignment["method"] == "clock", result.alignment
    fits = {(e.kind, e.uid): float(e.fitted_t) for e in result.events}
    assert abs(fits[("leave", "1003")] - 8.4) <= 0.1, fits  # reflow seen within the window
    assert abs(fits[("join", "1004")] - 5) <= 0.1, fits  # the role change to broadcaster
    assert abs(fits[("join", "1002")] - 2) <= 0.1, fits  # seen where a region is part canvas
    [read] = result.streams["content"]["video_read"]  # 1001's stop, from the pictures
    assert (read["uid"], read["action"]) == ("1001", "mute_video")
    assert abs(read["t"] - 4) <= 1e-6, read  # the freeze starts on a key frame


def test_a_last_frame_that_never_gives_way_differs_naming_the_3_5_s_rule(tmp_path, clips):
    doc = scenario_doc()
    result = session(tmp_path, clips, doc, drawn_doc(doc),
                     profile=lk.Profile(after_stop="last_frame"))
    assert result.verdict == "differ"
    [diff] = result.differences
    assert (diff.kind, diff.uid) == ("wrong_state", "1001"), _messages(result)
    # the stop is read from the pictures (NCS has no mute): within a frame of the drawn 4 s
    found = re.fullmatch(r"uid 1001's last frame stays (\S+)-12\.00 s: it should give way to "
                         r"the canvas background 3\.5 s after the video stopped at (\S+) s",
                         diff.message)
    assert found, diff.message
    stop = float(found[2])
    assert abs(stop - 4) <= 1e-6 and abs(float(found[1]) - (stop + 3.5)) <= 0.1


def test_a_leave_whose_reflow_is_missing_differs(tmp_path, clips):
    doc = scenario_doc()
    result = session(tmp_path, clips, doc, drawn_doc(doc, keep_leave=False))
    assert result.verdict == "differ"
    # judged by the people's regions (no test-stream code): one wrong layout, replacing the
    # leave's event_time and the canvas background the kept layout covers
    [diff] = result.differences
    assert (diff.kind, diff.uid) == ("wrong_layout", "1003"), _messages(result)
    assert diff.message.startswith("layout not reflowed after uid 1003 left at 8.00 s ("), \
        diff.message
    assert "8.00-12.00 s shows the 4-user layout from before the leave" in diff.message
    assert diff.observed["reflow"] is False and diff.observed["users"] == 4


def test_canvas_only_with_a_video_report_differs_naming_each_missing_user(tmp_path, clips):
    doc = scenario_doc()
    result = session(tmp_path, clips, doc, canvas_only_doc(doc))
    assert result.verdict == "differ"
    missing = result.differences  # each user once; joins and leaves are not fitted on it
    assert [(d.kind, d.uid) for d in missing] == [("missing_user", u) for u in (
        "1001", "1003", "1002", "1004")], _messages(result)
    assert all("is in the channel and the recorder reported receiving video (NCS event 44 at "
               "0.90 s), but its region shows only the canvas colour" in d.message
               for d in missing)
    assert missing[1].message.endswith("from 0.00 s to 7.93 s")  # 1003 left at 8 s


def test_canvas_only_without_a_video_report_is_a_warning_never_a_silent_match(tmp_path, clips):
    doc = scenario_doc(video_report=False)
    result = session(tmp_path, clips, doc, canvas_only_doc(doc))
    # the verdict cannot stand on the pictures alone: a match, with the warning beside it
    assert result.verdict == "match", _messages(result)
    [warning] = result.warnings
    assert warning.kind == "canvas_only"
    assert "either every camera was off, or the known layout failure (a string user " \
           "account where layoutConfig wants integer uids" in warning.message
    assert result.to_json()["warnings"][0]["kind"] == "canvas_only"


def test_a_background_at_once_where_the_last_frame_should_stay_differs(tmp_path, clips):
    """A background at once where the last frame should stay differs.

    1001 (Android: native) shows the canvas colour from its stop on (as a Web 3.x user who
    unpublished would): the 3.5 s of last frame are missing.
    """
    doc = scenario_doc()
    drawn = drawn_doc(doc, stop=None)
    drawn["users"][0]["platform"] = "web3"
    drawn["events"] = sorted([*drawn["events"], {"t": 4, "uid": "1001",
                                                 "action": "unpublish_video"}],
                             key=lambda e: e["t"])
    result = session(tmp_path, clips, doc, drawn)
    assert result.verdict == "differ"
    [diff] = result.differences
    assert diff.uid == "1001" and abs(diff.t - 4) <= 0.1, _messages(result)
    assert "uid 1001's region shows the canvas colour 4.00-7.5" in diff.message
    assert "from when its video stopped at 4.00 s: its last frame should stay 3.5 s first " \
           "(until 7.50 s)" in diff.message


def test_a_wrong_background_after_the_freeze_is_wrong_background(tmp_path, clips):
    """A wrong background after the freeze is a wrong background.

    The layout gives 1001 a user image: after the 3.5 s of last frame the image is due, the
    recording shows the canvas colour.
    """
    from PIL import Image

    image = tmp_path / "face.jpg"
    Image.new("RGB", (320, 180), (230, 200, 40)).save(image)
    doc = scenario_doc(image=image)
    result = session(tmp_path, clips, doc, drawn_doc(doc))
    assert result.verdict == "differ"
    [diff] = result.differences
    assert (diff.kind, diff.uid) == ("wrong_background", "1001"), _messages(result)
    assert diff.expected == {"uid": "1001", "state": "user_image"}
    assert diff.observed["state"] == "canvas_color" and abs(diff.t - 7.5) <= 0.1


# --- alignment, scenario file, output -------------------------------------------------------
def test_real_peoples_regions_do_not_pull_the_picture_alignment_live_or_frozen():
    from layoutkit.comparison.align import still_weights
    from layoutkit.comparison.expect import Expectation, Period, RegionExpect

    live = RegionExpect(0, (0, 0, 20, 20), 0, ("1", "live"), "person", 0)
    frozen = RegionExpect(1, (20, 0, 20, 20), 0, ("2", "last_frame"), "person", 0)
    period = Period(0.0, 1.0, Fraction(0), 1, (live, frozen), np.zeros((4, 3), np.float32))
    cells = np.array([[0, 0, 10, 10], [10, 0, 20, 10], [20, 10, 30, 20], [0, 10, 10, 20]])
    weights = still_weights(Expectation(None, (period,), 1.0, 15), cells, 2, live_weight=0.0)
    assert weights.tolist() == [[0.0, 0.0, 1.0, 1.0]]  # only the canvas beside them counts


def test_video_reports_are_checked_like_every_scenario_field():
    doc = scenario_doc()
    doc["video_reports"] = [{"t": -1, "stream": "x", "state": 3, "why": 1},
                            {"t": 99, "stream": "0", "state": 0}]
    with pytest.raises(lk.ScenarioError) as caught:
        lk.load_scenario(doc)
    text = str(caught.value)
    for words in ("video_reports[0].why: unknown key", "video_reports[0].t: must be >= 0",
                  'video_reports[0].stream: must be "0" (the mixed stream) or a uid',
                  "video_reports[0].state: must be one of 0, 1",
                  "video_reports[1].t: must be at most the duration (12 s)"):
        assert words in text, text


def test_the_text_output_lists_warnings_apart_and_they_do_not_change_the_verdict():
    import io

    from layoutkit.cli.output import print_compare
    from layoutkit.comparison.model import CompareResult, Difference

    result = CompareResult("match", 0.0, warnings=(Difference("canvas_only", "only canvas"),))
    out = io.StringIO()
    print_compare(result, out)
    assert out.getvalue().startswith("verdict: match")
    assert "warnings (not counted): 1\n  canvas_only: only canvas" in out.getvalue()
    assert result.to_json()["warnings"][0]["message"] == "only canvas"
