"""``layoutkit scenario from-events``: a production session rebuilt from Agora's notifications."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layoutkit as lk
from layoutkit.errors import ParameterError, ScenarioError
from layoutkit.scenario.fromevents import rebuild

WORKTREE = Path(__file__).resolve().parents[1]
T0 = 1_796_560_000_000  # ms: the first slice's startUtcMs
S0 = T0 // 1000
SID = "7f3c2a9e5b1d4c8fa06e2b9d3c7a1e45"
RECORDER = "999"


# --- NCS bodies as Agora sends them ---------------------------------------------------------
def rtc(notice, event_type, uid, seq, ts, *, platform=None, notify_delay=400, **extra):
    payload = {"channelName": "room", "uid": uid, "clientSeq": seq, "ts": ts, "account": "",
               **extra}
    if platform is not None:
        payload["platform"] = platform
    return {"noticeId": notice, "productId": 1, "eventType": event_type,
            "notifyMs": ts * 1000 + notify_delay, "payload": payload}


def rec(notice, event_type, seq, sendts, **details):
    return {"noticeId": notice, "productId": 3, "eventType": event_type, "notifyMs": sendts + 30,
            "sid": SID, "payload": {"cname": "room", "uid": RECORDER, "sid": SID,
                                    "sequence": seq, "sendts": sendts, "serviceType": 1,
                                    "details": {"msgName": "m", **details}}}


def session_events(*, lose_join=True):
    """Return the NCS events of a 20 s session.

    1001 (Android) in from before the start, leaves at 15 s; 1002 (Web) joins at 4 s,
    becomes audience at 9 s and broadcaster again at 12 s; 1003 (iOS) leaves at 7 s, its
    join lost (``lose_join``); the recorder's own join; a console check.
    """
    events = [
        rec("u0", 30, 0, T0 - 900, status=0),
        rec("r1", 40, 1, T0 - 400, status=0),
        rec("r2", 42, 2, T0 + 40, startUtcMs=T0, discontinueUtcMs=0, streamUid="0",
            trackType="audio_and_video"),
        rec("r3", 44, 3, T0 + 900, streamUid="0", state=0, UtcMs=T0 + 900),
        rec("r4", 41, 4, T0 + 20_000, leaveCode=2),
        rtc("a1", 103, 1001, 1, S0 - 20, platform=1),
        rtc("a2", 104, 1001, 2, S0 + 15, platform=1, reason=1, duration=35),
        rtc("b1", 103, 1002, 10, S0 + 4, platform=7),
        rtc("b2", 112, 1002, 11, S0 + 9),
        rtc("b3", 111, 1002, 12, S0 + 12),
        rtc("c2", 104, 1003, 6, S0 + 7, platform=2, reason=1, duration=95),
        rtc("rec", 103, int(RECORDER), 1, S0 - 1, platform=6, clientType=10),
        {"noticeId": "chk", "productId": 1, "eventType": 103, "notifyMs": T0,
         "payload": {"channelName": "test_webhook", "uid": 12121212, "platform": 1,
                     "clientSeq": 1625051030746, "ts": 1560396843, "account": "test"}},
    ]
    if not lose_join:
        events.append(rtc("c1", 103, 1003, 5, S0 - 100, platform=2))
    return events


def start_body(**recording):
    return {"cname": "room", "uid": RECORDER, "clientRequest": {
        "token": "TOKEN-SECRET",
        "recordingConfig": {"channelType": 1, "transcodingConfig": {
            "width": 640, "height": 360, "fps": 15, "bitrate": 500, "mixedVideoLayout": 1},
            **recording},
        "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "AK-SECRET",
                          "secretKey": "SK-SECRET"}}}


REQUESTS = [
    {"ts_ms": T0 - 1500, "kind": "start", "body": start_body()},
    {"ts_ms": T0 + 10_250, "kind": "updateLayout",
     "body": {"cname": "room", "uid": RECORDER, "clientRequest": {"mixedVideoLayout": 2}}},
    {"ts_ms": T0 + 3000, "kind": "updateLayout",  # another channel's
     "body": {"cname": "other", "uid": "5", "clientRequest": {"mixedVideoLayout": 3}}},
]


def disordered(events):
    """Reversed, with duplicates (the same body twice) and a resend (a later notifyMs)."""
    resent = copy.deepcopy(events[7])
    resent["notifyMs"] += 60_000
    return [*reversed(events), events[0], events[7], events[10], resent]


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# --- the scenario -----------------------------------------------------------------------------
def test_a_realistic_log_gives_the_session_with_its_windows_notes_and_confidence():
    doc = lk.scenario_from_events(disordered(session_events()), REQUESTS)
    assert doc["cname"] == "room" and doc["sid"] == SID
    assert doc["start_utc"] == "2026-12-06T12:26:40.000Z" and doc["duration"] == 20
    # 1003's join was lost: present since before the start (first); then 1001; 1002 at 4 s
    assert [(u["uid"], u["platform"], u["role"], u["join"], u.get("join_tolerance"))
            for u in doc["users"]] == [("1003", "native", "host", 0, None),
                                        ("1001", "native", "host", 0, None),
                                        ("1002", "web4", "host", 4, 1)]
    assert all(u["source"] == "unknown" and u["audio"] == "unknown" for u in doc["users"])
    assert [(e["t"], e["action"], e.get("uid"), e.get("tolerance")) for e in doc["events"]] == [
        (7, "leave", "1003", 1), (9, "leave", "1002", 1),  # 112: out of the picture
        (10.25, "update_layout", None, None),  # at the time the app sent it
        (12, "join", "1002", 1), (15, "leave", "1001", 1)]
    assert doc["events"][2]["body"]["clientRequest"] == {"mixedVideoLayout": 2}
    assert doc["confidence"] == "partial"
    notes = "\n".join(doc["notes"])
    for words in ("t = 0 is the first recorder_slice_start (42) startUtcMs",
                  "user 1003: broadcaster leave (104)", "an event was lost",
                  "7 (Web) is Web SDK 4.x", "tolerance) of 1 s", "role change to audience (112)",
                  "video mute and unmute times are unknown", "token and storageConfig are left",
                  "recording ends at recorder_leave (41)", 'receiving video of stream "0"',
                  "uid 999 is the recorder itself"):
        assert words in notes, words
    text = json.dumps(doc)
    assert "SECRET" not in text and "test_webhook" not in text and "12121212" not in text
    scenario = lk.load_scenario(doc)
    assert scenario.confidence == "partial" and scenario.notes == tuple(doc["notes"])
    assert scenario.events[0].action == "join" and scenario.events[0].tolerance == 1


def test_a_complete_log_is_full_confidence():
    doc = lk.scenario_from_events(session_events(lose_join=False), REQUESTS)
    assert doc["confidence"] == "full", doc["notes"]
    assert [u["uid"] for u in doc["users"]] == ["1003", "1001", "1002"]  # 1003 joined first
    assert not any("lost" in n for n in doc["notes"])


def test_a_gap_in_the_recorders_sequence_is_partial():
    events = [e for e in session_events(lose_join=False) if e["noticeId"] != "r3"]
    doc = lk.scenario_from_events(events, REQUESTS)
    assert doc["confidence"] == "partial"
    assert any("numbered 3 never came" in n for n in doc["notes"])


def test_without_a_slice_start_t0_is_recorder_started_and_partial():
    events = [e for e in session_events(lose_join=False) if e["eventType"] != 42]
    events = [e for e in events if e["noticeId"] != "r3"]  # keep the sequence's gap out of it
    doc = lk.scenario_from_events(events, REQUESTS)
    assert doc["start_utc"] == "2026-12-06T12:26:39.600Z" and doc["duration"] == 20.4
    assert doc["users"][2]["join"] == 4.4 and doc["confidence"] == "partial"
    assert any("no recorder_slice_start (42) came" in n for n in doc["notes"])


def test_without_a_recorder_leave_the_end_is_the_last_report_and_partial():
    events = [e for e in session_events(lose_join=False) if e["eventType"] != 41]
    doc = lk.scenario_from_events(events, REQUESTS)
    assert doc["duration"] == 16 and doc["confidence"] == "partial"  # 1001's leave at 15 s, +1
    assert any("no recorder_leave (41) came" in n for n in doc["notes"])


def test_web_sdk_3_and_audience_members():
    events = [*session_events(lose_join=False),
              rtc("d1", 105, 2001, 1, S0 + 2, platform=7),
              rtc("d2", 106, 2001, 2, S0 + 6, platform=7)]
    doc = lk.scenario_from_events(events, REQUESTS, web_sdk=3)
    users = {u["uid"]: u for u in doc["users"]}
    assert users["1002"]["platform"] == "web3" and "7 (Web) is Web SDK 3.x" in doc["notes"][2]
    assert users["2001"]["role"] == "audience" and users["2001"]["join"] == 2
    scenario = lk.load_scenario(doc)
    frame = lk.frame_at(scenario, 3)  # audience is never drawn: 3 hosts' placeholders
    assert frame.shape == (360, 640, 3)


def test_a_user_who_left_before_the_start_is_left_out_and_said_so():
    events = [*session_events(lose_join=False),
              rtc("e1", 103, 3001, 1, S0 - 50, platform=5),
              rtc("e2", 104, 3001, 2, S0 - 40, platform=5)]
    doc = lk.scenario_from_events(events, REQUESTS)
    assert "3001" not in {u["uid"] for u in doc["users"]}
    assert any("user 3001 was not on camera while the recording ran" in n for n in doc["notes"])


def test_users_joining_in_the_same_second_are_ordered_by_first_notification_and_said_so():
    events = [*session_events(lose_join=False),
              rtc("f1", 103, 4002, 1, S0 + 5, platform=1, notify_delay=100),
              rtc("f2", 103, 4001, 1, S0 + 5, platform=1, notify_delay=700)]
    doc = lk.scenario_from_events(events, REQUESTS)
    assert [u["uid"] for u in doc["users"]][-2:] == ["4002", "4001"]
    assert any("users 4002, 4001 joined in the same second" in n for n in doc["notes"])


# --- shuffles and duplicates never change it --------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_shuffling_and_duplicating_lines_never_changes_the_scenario(data):
    events = session_events()
    want = lk.scenario_from_events(events, REQUESTS)
    extra = data.draw(st.lists(st.sampled_from(range(len(events))), max_size=12))
    resent = data.draw(st.lists(st.sampled_from(range(len(events))), max_size=4))
    lines = events + [events[i] for i in extra]
    for i in resent:  # a resend: the same event, a later notifyMs
        copy_ = copy.deepcopy(events[i])
        copy_["notifyMs"] += data.draw(st.integers(1, 120_000))
        lines.append(copy_)
    order = data.draw(st.permutations(range(len(lines))))
    requests = data.draw(st.permutations(REQUESTS))
    assert lk.scenario_from_events([lines[i] for i in order], requests) == want


# --- bad lines --------------------------------------------------------------------------------
def test_a_bad_field_names_the_line_the_path_the_rule_and_the_value():
    events = session_events()
    events[3] = copy.deepcopy(events[3])
    events[3]["payload"]["details"]["state"] = "on"
    events[6]["payload"]["uid"] = "abc"
    with pytest.raises(ScenarioError) as caught:
        rebuild(events, REQUESTS, events_source="events.jsonl")
    lines = str(caught.value).splitlines()
    assert lines == ['code 2: line 4: payload.details.state: must be a number (got "on")',
                     ('code 2: line 7: payload.uid: must be a uid: an integer 0..4294967295 (a '
                      'number or a string of digits) (got "abc")')]
    assert caught.value.source == "events.jsonl"


def test_a_request_body_the_scenario_refuses_is_named_by_its_log_line():
    requests = copy.deepcopy(REQUESTS)
    requests[1]["body"]["clientRequest"]["backgroundColor"] = "red"
    with pytest.raises(ScenarioError) as caught:
        rebuild(session_events(), requests, requests_source="requests.jsonl")
    assert caught.value.source == "requests.jsonl"
    assert str(caught.value).startswith("code 2: line 2: body.clientRequest.backgroundColor: ")
    assert '(got "red")' in str(caught.value)


def test_several_channels_need_a_cname():
    other = copy.deepcopy(session_events())
    for body in other:
        body["payload"]["cname" if body["productId"] == 3 else "channelName"] = "room2"
        body["noticeId"] += "-2"
        body["payload"]["sid"] = "0" * 32
    with pytest.raises(ParameterError, match=r"2 channels \(room, room2\)"):
        lk.scenario_from_events(session_events() + other, REQUESTS)
    assert lk.scenario_from_events(session_events() + other, REQUESTS, cname="room")[
        "sid"] == SID


# --- unknown users are drawn as a placeholder --------------------------------------------------
def test_unknown_users_are_drawn_as_a_grey_striped_placeholder():
    doc = lk.scenario_from_events(session_events(lose_join=False), REQUESTS)
    frame = lk.frame_at(lk.load_scenario(doc), 1)  # best fit, 2 users side by side
    left = frame[100:260, 40:280].astype(int)
    greys = {tuple(v) for v in left.reshape(-1, 3)[::97]}
    assert all(abs(r - g) <= 2 and abs(g - b) <= 2 for r, g, b in greys)  # neutral
    levels = sorted({r for r, _, _ in greys})
    assert len(levels) >= 2 and levels[0] >= 90 and levels[-1] <= 170  # two greys, no code


# --- the command line, end to end ---------------------------------------------------------------
def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    return subprocess.run([sys.executable, "-m", "layoutkit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_command_writes_a_scenario_validate_accepts(tmp_path):
    write_jsonl(tmp_path / "events.jsonl", disordered(session_events()))
    write_jsonl(tmp_path / "requests.jsonl", REQUESTS)
    run = _cli("scenario", "from-events", "events.jsonl", "--requests", "requests.jsonl",
               "-o", "scenario.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "3 users, 5 events, 20 s, confidence partial" in run.stdout
    assert "4 duplicates dropped" in run.stdout
    doc = json.loads((tmp_path / "scenario.json").read_text())
    assert doc == lk.scenario_from_events(disordered(session_events()), REQUESTS)
    check = _cli("validate", "scenario.json", cwd=tmp_path)  # no file named "unknown" wanted
    assert check.returncode == 0, check.stderr
    again = _cli("scenario", "from-events", "events.jsonl", "--requests", "requests.jsonl",
                 "-o", "scenario.json", cwd=tmp_path)
    assert again.returncode == 2 and "pass --force" in again.stderr


def test_the_command_refuses_bad_lines_without_a_traceback_or_an_output(tmp_path):
    lines = [json.dumps(e) for e in session_events()]
    lines[2] = lines[2][:-5]  # cut short
    lines[4] = json.dumps({**session_events()[4], "notifyMs": "soon"})
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n")
    write_jsonl(tmp_path / "requests.jsonl", REQUESTS)
    run = _cli("scenario", "from-events", "events.jsonl", "--requests", "requests.jsonl",
               "-o", "scenario.json", cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "events.jsonl: code 2: line 3: <root>: malformed JSON at column" in run.stderr
    assert not (tmp_path / "scenario.json").exists()
    lines[2] = json.dumps(session_events()[2])
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n")
    run = _cli("scenario", "from-events", "events.jsonl", "--requests", "requests.jsonl",
               "-o", "scenario.json", cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert 'events.jsonl: code 2: line 5: notifyMs: must be a number (got "soon")' in run.stderr
    assert not (tmp_path / "scenario.json").exists()


def test_the_command_asks_for_the_channel_by_its_flag(tmp_path):
    other = [{**e, "noticeId": e["noticeId"] + "-2",
              "payload": {**e["payload"], "cname": "room2", "channelName": "room2"}}
             for e in session_events()]
    write_jsonl(tmp_path / "events.jsonl", session_events() + other)
    write_jsonl(tmp_path / "requests.jsonl", REQUESTS)
    run = _cli("scenario", "from-events", "events.jsonl", "--requests", "requests.jsonl",
               "-o", "s.json", cwd=tmp_path)
    assert run.returncode == 2 and "pass --cname" in run.stderr


def test_a_fifo_is_refused_at_once_and_nothing_else_is_opened(tmp_path):
    fifo = tmp_path / "events.jsonl"
    os.mkfifo(fifo)
    write_jsonl(tmp_path / "requests.jsonl", REQUESTS)
    result = {}

    def call():
        try:
            lk.scenario_from_events(fifo, tmp_path / "requests.jsonl")
        except lk.MediaError as exc:
            result["error"] = str(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "waited for a FIFO's writer"
    assert result["error"].startswith(f"{fifo}: is a FIFO (named pipe), not a regular file")


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from layoutkit import inputs

    monkeypatch.setattr(inputs, "MAX_JSONL_BYTES", 1000)
    path = write_jsonl(tmp_path / "events.jsonl", session_events())
    with pytest.raises(lk.MediaError, match="larger than 1000 bytes; a NCS event log is at most"):
        lk.scenario_from_events(path, REQUESTS)


def test_lines_are_split_on_newlines_only(tmp_path):
    events = session_events(lose_join=False)
    events[0]["payload"]["details"]["note"] = "a\u2028b"  # a JSON string may hold U+2028
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\r\n" for e in events),
                    encoding="utf-8")
    assert lk.scenario_from_events(path, REQUESTS)["confidence"] == "full"


def test_a_placeholder_source_frame_is_the_same_at_every_time():
    from fractions import Fraction

    from layoutkit.sources import PlaceholderSource

    source = PlaceholderSource((320, 180))
    assert np.array_equal(source.frame_i420(Fraction(0)), source.frame_i420(Fraction(7)))


def test_rebuilding_opens_only_the_two_logs_and_an_unknown_source_is_never_a_file(tmp_path):
    from layoutkit.sources import source_problems

    events = write_jsonl(tmp_path / "events.jsonl", session_events())
    requests = write_jsonl(tmp_path / "requests.jsonl", REQUESTS)
    (tmp_path / "unknown").write_text("not a video")  # what the old code opened as a source
    opened: list[str] = []

    def hook(event, args):
        if event == "open" and isinstance(args[0], str | Path) and \
                str(args[0]).startswith(str(tmp_path)):
            opened.append(str(args[0]))

    sys.addaudithook(hook)
    doc = lk.scenario_from_events(events, requests)
    scenario = lk.load_scenario(doc, base_dir=tmp_path)
    assert source_problems(scenario) == []
    lk.frame_at(scenario, 1)
    assert sorted(set(opened)) == [str(events), str(requests)]


def test_a_start_body_the_scenario_refuses_is_named_by_its_log_line():
    requests = copy.deepcopy(REQUESTS)
    transcoding = requests[0]["body"]["clientRequest"]["recordingConfig"]["transcodingConfig"]
    transcoding["mixedVideoLayout"] = 9
    with pytest.raises(ScenarioError) as caught:
        rebuild(session_events(), [requests[2], requests[1], requests[0]],
                requests_source="requests.jsonl")
    assert caught.value.source == "requests.jsonl"
    assert str(caught.value).startswith(
        "code 2: line 3: body.clientRequest.recordingConfig.transcodingConfig.mixedVideoLayout: ")
