"""Scenario parsing: the model it builds and every error rule, with exact paths."""

from __future__ import annotations

import copy
from datetime import datetime, UTC
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layoutkit.errors import ScenarioError
from layoutkit.request.model import LayoutSettings
from layoutkit.scenario import Event, UserSpec, as_time, parse_scenario

from .helpers import scenario_doc


def make_doc(users: list[Any] | None = None, events: list[Any] | None = None, *,
             duration: Any = 60, recording: dict[str, Any] | None = None,
             **top: Any) -> dict[str, Any]:
    """Build a valid scenario document (channel ``demo``, recorder uid 999) with overrides."""
    return scenario_doc(users, events, duration=duration, recording=recording or {}, **top)


def problems_of(doc: Any) -> dict[str, str]:
    """``{path: message}`` of every problem parse_scenario reports for ``doc``."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc)
    return {p.path: str(p) for p in info.value.problems}


def only_problem(doc: Any) -> tuple[str, str]:
    found = problems_of(doc)
    assert len(found) == 1, found
    return next(iter(found.items()))


# --- the model ------------------------------------------------------------------------------
def test_valid_document_builds_the_model():
    doc = make_doc(
        users=[{"uid": "1", "platform": "web3", "source": "#ff0000", "size": "320x240",
                "audio": "silence"},
               {"uid": "2", "source": "clips/a.mp4", "audio": "clips/a.wav", "join": 2.5}],
        events=[{"t": 0.1, "uid": "1", "action": "mute_video"},
                {"t": 20, "action": "update_layout", "body": {"mixedVideoLayout": 1}}],
        sid="0123456789abcdef0123456789abcdef", start_utc="2026-03-01T10:00:00+02:00")
    s = parse_scenario(doc)
    assert (s.cname, s.sid, s.duration) == ("demo", "0123456789abcdef0123456789abcdef", 60)
    assert s.start_utc == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert s.users == (
        UserSpec("1", platform="web3", source="#FF0000", size_wh=(320, 240), audio="silence"),
        UserSpec("2", source="clips/a.mp4", audio="clips/a.wav", join=Fraction(5, 2)))
    assert s.events == (
        Event(Fraction(1, 10), "mute_video", "1"),
        Event(Fraction(5, 2), "join", "2"),
        Event(Fraction(20), "update_layout", layout=LayoutSettings(mixed_video_layout=1)))
    assert s.start.cname == "demo" and s.start.uid == "999"


def test_defaults():
    s = parse_scenario(make_doc(users=[{"uid": "1"}]))
    assert s.sid is None
    assert s.start_utc == datetime(2026, 1, 1, tzinfo=UTC)
    assert s.users == (UserSpec("1", "native", "testsrc", (640, 360), "tone", Fraction(0), "host"),)
    assert s.events == ()
    assert s.start.storage_config is None


def test_times_are_exact_fractions():
    assert as_time(0.1) == Fraction(1, 10)
    assert as_time(1e-05) == Fraction(1, 100000)
    s = parse_scenario(make_doc(duration=0.3, events=[{"t": 0.2, "uid": "1", "action": "leave"}]))
    assert s.duration == Fraction(3, 10) and s.events[0].t == Fraction(1, 5)


def test_events_sorted_stably_late_joins_first_at_equal_times():
    one, two = "#111111", "#222222"
    doc = make_doc(users=[{"uid": "1"}, {"uid": "2", "join": 5}],
                   events=[{"t": 5, "uid": "2", "action": "mute_video"},
                           {"t": 5, "action": "update_layout", "body": {"backgroundColor": one}},
                           {"t": 5, "action": "update_layout", "body": {"backgroundColor": two}},
                           {"t": 1, "uid": "1", "action": "mute_audio"}])
    s = parse_scenario(doc)
    assert [(e.t, e.action) for e in s.events] == [
        (1, "mute_audio"), (5, "join"), (5, "mute_video"),
        (5, "update_layout"), (5, "update_layout")]
    assert [e.layout.background_color for e in s.events[3:]] == [one, two]


def test_storage_config_may_be_partial():
    doc = make_doc()
    doc["start"]["clientRequest"]["storageConfig"] = {"fileNamePrefix": ["rec", "day1"]}
    storage = parse_scenario(doc).start.storage_config
    assert storage is not None
    assert storage.prefix_path == "rec/day1"
    assert (storage.vendor, storage.bucket, storage.access_key) == (1, "", "")


def test_storage_config_given_values_are_still_checked():
    doc = make_doc()
    doc["start"]["clientRequest"]["storageConfig"] = {"vendor": 99, "fileNamePrefix": ["a_b"]}
    found = problems_of(doc)
    assert set(found) == {"start.clientRequest.storageConfig.vendor",
                          "start.clientRequest.storageConfig.fileNamePrefix[0]"}


def test_nested_warnings_are_kept_with_scenario_paths():
    s = parse_scenario(make_doc(recording={"transcodingConfig": {"fps": 17}}))
    fps = "start.clientRequest.recordingConfig.transcodingConfig.fps"
    assert [w.path for w in s.warnings] == [fps]


def test_document_is_not_modified():
    doc = make_doc()
    before = copy.deepcopy(doc)
    parse_scenario(doc)
    assert doc == before


# --- top level ------------------------------------------------------------------------------
def test_not_an_object():
    assert only_problem([1, 2]) == ("", "code 2: <root>: must be an object (got [1, 2])")


def test_unknown_key_with_did_you_mean():
    path, message = only_problem(make_doc(evnts=[]))
    assert path == "evnts"
    assert message.endswith("unknown key; did you mean 'events'?")


def test_required_keys():
    found = problems_of({})
    assert {p: m.split(": ", 2)[2] for p, m in found.items()} == {
        "cname": "is required", "duration": "is required", "start": "is required",
        "users": "is required"}


@pytest.mark.parametrize(("key", "value", "rule"), [
    ("cname", "bad/name", "has characters that are not allowed"),
    ("sid", "ABC", "must be 32 lowercase hex characters"),
    ("start_utc", "2026-01-01T00:00:00", "must say its time zone"),
    ("start_utc", "yesterday", "must be an ISO 8601 date and time"),
    ("duration", 0, "must be > 0"),
    ("duration", "60", "must be a number"),
    ("users", [], "must not be empty"),
    ("events", {}, "must be an array"),
])
def test_top_level_value_rules(key, value, rule):
    doc = make_doc()
    doc[key] = value
    path, message = only_problem(doc)
    assert path == key and rule in message


def test_start_cname_must_match():
    doc = make_doc()
    doc["start"]["cname"] = "other"
    assert only_problem(doc) == ("start.cname", "code 2: start.cname: must be the scenario's "
                                                "cname 'demo' (got \"other\")")


def test_start_must_be_a_whole_body():
    doc = make_doc()
    doc["start"] = {"recordingConfig": {}}
    assert only_problem(doc)[0] == "start"


def test_start_problems_get_the_start_prefix():
    path, message = only_problem(make_doc(recording={"transcodingConfig": {"width": 0}}))
    assert path == "start.clientRequest.recordingConfig.transcodingConfig.width"
    assert "must be in [1, 1920]" in message


# --- users ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("user", "path", "rule"), [
    ({"uid": 1}, "users[0].uid", 'must be a string (got 1); did you mean "1"?'),
    ({"uid": "abc"}, "users[0].uid", "must be a decimal integer in a string"),
    ({"uid": "0"}, "users[0].uid", "must be in [1, 4294967295]"),
    ({"uid": "4294967296"}, "users[0].uid", "must be in [1, 4294967295]"),
    ({}, "users[0].uid", "is required"),
    ({"uid": "999"}, "users[0].uid", "is the recorder's own uid"),
    ({"uid": "1", "platform": "web5"}, "users[0].platform", "did you mean 'web4'?"),
    ({"uid": "1", "role": "audience"}, "users[0].role", "only in live channels"),
    ({"uid": "1", "source": "#12345"}, "users[0].source", "must be #RRGGBB"),
    ({"uid": "1", "source": ""}, "users[0].source", "must not be empty"),
    ({"uid": "1", "size": "641x360"}, "users[0].size", 'must be "WxH" with even sizes'),
    ({"uid": "1", "size": "640X360"}, "users[0].size", 'must be "WxH"'),
    ({"uid": "1", "size": "0x360"}, "users[0].size", 'must be "WxH"'),
    ({"uid": "1", "join": -1}, "users[0].join", "must be >= 0"),
    ({"uid": "1", "join": 60}, "users[0].join", "must be before the end of the recording"),
    ({"uid": "1", "colour": "#fff"}, "users[0].colour", "unknown key"),
])
def test_user_rules(user, path, rule):
    found = problems_of(make_doc(users=[user]))
    assert list(found) == [path]
    assert rule in found[path]


def test_duplicate_uid():
    path, message = only_problem(make_doc(users=[{"uid": "1"}, {"uid": "2"}, {"uid": "1"}]))
    assert path == "users[2].uid"
    assert "duplicate uid (same as users[0])" in message


def test_audience_allowed_in_live_channels():
    s = parse_scenario(make_doc(users=[{"uid": "1"}, {"uid": "2", "role": "audience"}],
                                recording={"channelType": 1}))
    assert s.user("2").role == "audience"


# --- events ---------------------------------------------------------------------------------
def event_problem(*events: dict[str, Any], **doc: Any) -> tuple[str, str]:
    return only_problem(make_doc(events=list(events), **doc))


def test_unknown_user_with_did_you_mean():
    path, message = event_problem({"t": 1, "uid": "1243", "action": "leave"},
                                  users=[{"uid": "1234"}, {"uid": "5678"}])
    assert path == "events[0].uid"
    assert message == ("code 2: events[0].uid: unknown user (not in users) (got \"1243\"); "
                       "did you mean '1234'?")


def test_unknown_user_lists_declared_users_without_a_close_match():
    path, message = event_problem({"t": 1, "uid": "7", "action": "leave"})
    assert path == "events[0].uid" and message.endswith("declared users: 1, 2")


def test_event_after_the_end():
    for t in (60, 60.5):
        path, message = event_problem({"t": t, "uid": "1", "action": "leave"})
        assert path == "events[0].t"
        assert "is at or after the end of the recording (duration 60 s)" in message


def test_time_not_a_number():
    path, message = event_problem({"t": "10", "uid": "1", "action": "leave"})
    assert path == "events[0].t"
    assert "must be a number" in message and "did you mean 10" in message


@pytest.mark.parametrize(("event", "path", "rule"), [
    ({"t": -1, "uid": "1", "action": "leave"}, "events[0].t", "must be >= 0"),
    ({"uid": "1", "action": "leave"}, "events[0].t", "is required"),
    ({"t": 1, "uid": "1"}, "events[0].action", "is required"),
    ({"t": 1, "uid": "1", "action": "mute_vidoe"}, "events[0].action",
     "did you mean 'mute_video'?"),
    ({"t": 1, "action": "mute_video"}, "events[0].uid", "is required for mute_video"),
    ({"t": 1, "action": "update_layout"}, "events[0].body", "is required for update_layout"),
    ({"t": 1, "action": "update_layout", "uid": "1", "body": {}}, "events[0].uid", "takes no uid"),
    ({"t": 1, "uid": "1", "action": "leave", "body": {}}, "events[0].body",
     "only update_layout takes a body"),
    ({"t": 1, "uid": "1", "action": "leave", "when": 2}, "events[0].when", "unknown key"),
])
def test_event_rules(event, path, rule):
    found = problems_of(make_doc(events=[event]))
    assert list(found) == [path]
    assert rule in found[path]


@pytest.mark.parametrize(("body", "path"), [
    ({"cname": "demo", "uid": "999", "clientRequest": {"backgroundColor": "red"}},
     "events[0].body.clientRequest.backgroundColor"),
    ({"backgroundColor": "red"}, "events[0].body.backgroundColor"),
    ({"cname": "demo", "uid": "999", "clientRequest": {"mixedVideoLayout": 3}},
     "events[0].body.clientRequest.layoutConfig"),
    ({"cname": "other", "uid": "999", "clientRequest": {}}, "events[0].body.cname"),
    ({"cname": "demo", "uid": "998", "clientRequest": {}}, "events[0].body.uid"),
    ("#000000", "events[0].body"),
])
def test_update_layout_body_problems_get_the_event_prefix(body, path):
    assert event_problem({"t": 1, "action": "update_layout", "body": body})[0] == path


def test_update_layout_whole_body_and_bare_body_agree():
    whole = {"cname": "demo", "uid": "999", "clientRequest": {"mixedVideoLayout": 2,
                                                                "maxResolutionUid": "1"}}
    layouts = [parse_scenario(make_doc(events=[{"t": 1, "action": "update_layout", "body": b}]))
               .events[0].layout for b in (whole, whole["clientRequest"])]
    assert layouts[0] == layouts[1] == LayoutSettings(mixed_video_layout=2, max_resolution_uid="1")


def test_audience_only_joins_and_leaves():
    path, message = event_problem({"t": 1, "uid": "2", "action": "mute_audio"},
                                  users=[{"uid": "1"}, {"uid": "2", "role": "audience"}],
                                  recording={"channelType": 1})
    assert path == "events[0].action" and "audience" in message


@pytest.mark.parametrize(("users", "events", "path", "rule"), [
    ([{"uid": "1"}], [{"t": 1, "uid": "1", "action": "join"}], "events[0]",
     "join at t=1: user 1 is already in the channel"),
    ([{"uid": "1"}, {"uid": "2", "join": 5}], [{"t": 1, "uid": "2", "action": "leave"}],
     "events[0]", "leave at t=1: user 2 is not in the channel"),
    ([{"uid": "1"}], [{"t": 1, "uid": "1", "action": "leave"},
                      {"t": 2, "uid": "1", "action": "mute_video"}],
     "events[1]", "mute_video at t=2: user 1 is not in the channel"),
    ([{"uid": "1"}, {"uid": "2", "join": 5}], [{"t": 3, "uid": "2", "action": "join"}],
     "users[1].join", "join at t=5: user 2 is already in the channel"),
])
def test_events_must_fit_who_is_in_the_channel(users, events, path, rule):
    found = problems_of(make_doc(users=users, events=events))
    assert list(found) == [path]
    assert rule in found[path]


def test_leave_then_join_again_is_fine():
    s = parse_scenario(make_doc(events=[{"t": 1, "uid": "1", "action": "leave"},
                                        {"t": 1, "uid": "1", "action": "join"}]))
    assert [e.action for e in s.events] == ["leave", "join"]


def test_every_problem_at_once():
    doc = make_doc(users=[{"uid": "1"}, {"uid": "1"}], cnam="x", duration=-1,
                   events=[{"t": "x", "uid": "1", "action": "nope"}])
    assert set(problems_of(doc)) == {"cnam", "duration", "users[1].uid", "events[0].t",
                                     "events[0].action"}


# --- never anything but ScenarioError --------------------------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (st.lists(inner, max_size=4)
                   | st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)
VALUES = JSON | st.sampled_from(["1", "2", "999", "demo", "join", "leave", "mute_video",
                                 "update_layout", "web3", "audience", "640x360", "#00FF00"])


@st.composite
def mutated_docs(draw: st.DrawFn) -> Any:
    """Draw a valid document with some values (at any depth) replaced by arbitrary JSON."""
    doc: Any = make_doc(
        users=[{"uid": "1", "join": 0}, {"uid": "2", "join": 3, "platform": "web3"}],
        events=[{"t": 1, "uid": "1", "action": "mute_video"},
                {"t": 2, "action": "update_layout", "body": {"mixedVideoLayout": 1}}],
        recording={"channelType": 0, "transcodingConfig": {"width": 640}})
    for _ in range(draw(st.integers(1, 4))):
        parent, key = doc, None
        while True:
            keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
            if not keys:
                key = None
                break
            key = draw(st.sampled_from(keys))
            if not isinstance(parent[key], (dict, list)) or draw(st.booleans()):
                break
            parent = parent[key]
        if key is not None:
            parent[key] = draw(VALUES)
    return doc


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSON, mutated_docs()))
def test_parse_never_raises_anything_but_scenario_error(doc):
    try:
        parse_scenario(doc)
    except ScenarioError as exc:
        assert exc.problems
        assert all(str(p) for p in exc.problems)
