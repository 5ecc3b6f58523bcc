"""Timeline: display rules (contract 2.1), order, subscriptions, idle exit, exact frame times."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise
from typing import Any

import pytest

from layoutkit.errors import ScenarioError, ParameterError
from layoutkit.profile import Profile
from layoutkit.request.model import LayoutSettings, UserBackground
from layoutkit.scenario import Event, parse_scenario
from layoutkit.timeline import VIDEO_STOP_GRACE, DisplayState, Scene, Timeline, UserView

from .test_scenario import make_doc

S = DisplayState
STOP = 10  # when the video stops in the display-rule tests
USER_IMAGE = "https://example.com/u1.jpg"
DEFAULT_IMAGE = "https://example.com/default.jpg"


def timeline(users: list[Any] | None = None, events: list[Any] | None = None, *,
             profile: Profile | None = None, **doc: Any) -> Timeline:
    scenario = parse_scenario(make_doc(users, events, **doc))
    return Timeline(scenario, profile=profile) if profile else Timeline(scenario)


def view(tl: Timeline, t: Any, uid: str = "1") -> UserView:
    scene = tl.scene_at(t)
    return scene.views[scene.order.index(uid)]


def stop_timeline(platform: str, how: str, *, image: str = "none", join: Any = 0,
                  stop: Any = STOP, profile: Profile | None = None) -> Timeline:
    """User 1 on ``platform`` stops video at ``stop`` by ``how`` (mute | unpublish)."""
    transcoding: dict[str, Any] = {}
    if image == "uid":
        transcoding["backgroundConfig"] = [{"uid": "1", "image_url": USER_IMAGE, "render_mode": 1}]
    elif image == "default":
        transcoding["defaultUserBackgroundImage"] = DEFAULT_IMAGE
    action = {"mute": "mute_video", "unpublish": "unpublish_video"}[how]
    return timeline([{"uid": "1", "platform": platform, "join": join}, {"uid": "2"}],
                    [{"t": stop, "uid": "1", "action": action}],
                    recording={"transcodingConfig": transcoding}, profile=profile)


# --- display rules: platform x (mute | unpublish) x time since the stop x user image ----------
GRACE_CASES = [Fraction(0), Fraction(1), Fraction(3499, 1000)]
AFTER_CASES = [VIDEO_STOP_GRACE, Fraction(10)]
EARLY = {("native", "mute"): S.LAST_FRAME, ("native", "unpublish"): S.LAST_FRAME,
         ("web4", "mute"): S.LAST_FRAME, ("web4", "unpublish"): S.LAST_FRAME,
         ("web3", "mute"): S.BLACK, ("web3", "unpublish"): S.CANVAS_COLOR}
IMAGES = {"none": None,
          "uid": UserBackground("1", USER_IMAGE, render_mode=1),
          "default": UserBackground("1", DEFAULT_IMAGE)}


@pytest.mark.parametrize("image", list(IMAGES))
@pytest.mark.parametrize("since", GRACE_CASES)
@pytest.mark.parametrize(("platform", "how"), list(EARLY))
def test_first_3_5_seconds_after_the_video_stops(platform, how, since, image):
    got = view(stop_timeline(platform, how, image=image), STOP + since)
    frozen = Fraction(STOP) if EARLY[platform, how] is S.LAST_FRAME else None
    assert got == UserView("1", EARLY[platform, how], frozen_at=frozen)


@pytest.mark.parametrize("image", list(IMAGES))
@pytest.mark.parametrize("since", AFTER_CASES)
@pytest.mark.parametrize(("platform", "how"), list(EARLY))
def test_from_3_5_seconds_on_the_user_background(platform, how, since, image):
    got = view(stop_timeline(platform, how, image=image), STOP + since)
    if IMAGES[image] is None:
        assert got == UserView("1", S.CANVAS_BACKGROUND)
    else:
        assert got == UserView("1", S.USER_IMAGE, image=IMAGES[image])


def test_live_until_the_stop():
    tl = stop_timeline("native", "mute")
    assert view(tl, Fraction(STOP * 1000 - 1, 1000)) == UserView("1", S.LIVE)
    assert view(tl, STOP).state is S.LAST_FRAME  # an event applies at its own time


@pytest.mark.parametrize("platform", ["native", "web3", "web4"])
def test_profile_last_frame_keeps_the_frame_without_image(platform):
    last = Profile(after_stop="last_frame")
    assert view(stop_timeline(platform, "mute", profile=last), 20) == UserView(
        "1", S.LAST_FRAME, frozen_at=Fraction(STOP))
    with_image = stop_timeline(platform, "mute", image="uid", profile=last)
    assert view(with_image, 20).state is S.USER_IMAGE


@pytest.mark.parametrize(("platform", "how", "early"), [
    ("native", "unpublish", S.CANVAS_BACKGROUND), ("web4", "mute", S.CANVAS_BACKGROUND),
    ("web3", "unpublish", S.CANVAS_COLOR), ("web3", "mute", S.BLACK)])
@pytest.mark.parametrize("join", [0, 5])
def test_never_sent_video_is_stopped_from_the_join(platform, how, early, join):
    last = Profile(after_stop="last_frame")
    tl = stop_timeline(platform, how, join=join, stop=join, profile=last)
    assert view(tl, join).state is early
    assert view(tl, join + Fraction(7, 2)) == UserView("1", S.CANVAS_BACKGROUND)  # no frame
    with_image = stop_timeline(platform, how, join=join, stop=join, image="default")
    assert view(with_image, join + Fraction(7, 2)).state is S.USER_IMAGE


def test_restart_resets_the_clock_and_publish_unpublish_at_one_time_cancel():
    tl = timeline([{"uid": "1"}], [
        {"t": 10, "uid": "1", "action": "unpublish_video"},
        {"t": 12, "uid": "1", "action": "publish_video"},
        {"t": 20, "uid": "1", "action": "mute_video"},
        {"t": 22, "uid": "1", "action": "unmute_video"},
        {"t": 22, "uid": "1", "action": "mute_video"}])
    assert view(tl, 12).state is S.LIVE
    assert view(tl, 23) == UserView("1", S.LAST_FRAME, frozen_at=Fraction(20))
    assert view(tl, Fraction(47, 2)).state is S.CANVAS_BACKGROUND


def test_web3_unpublish_while_muted_shows_the_canvas_colour():
    tl = timeline([{"uid": "1", "platform": "web3"}], [
        {"t": 10, "uid": "1", "action": "mute_video"},
        {"t": 11, "uid": "1", "action": "unpublish_video"}])
    assert [view(tl, t).state for t in (10, 11, Fraction(27, 2))] == [
        S.BLACK, S.CANVAS_COLOR, S.CANVAS_BACKGROUND]  # the clock runs from 10


def test_user_image_follows_the_layout_in_force():
    tl = timeline([{"uid": "1"}], [
        {"t": 10, "uid": "1", "action": "mute_video"},
        {"t": 20, "action": "update_layout",
         "body": {"defaultUserBackgroundImage": DEFAULT_IMAGE}}])
    assert view(tl, 15).state is S.CANVAS_BACKGROUND
    assert view(tl, 20) == UserView("1", S.USER_IMAGE, image=UserBackground("1", DEFAULT_IMAGE))


# --- order ------------------------------------------------------------------------------------
def test_users_at_start_in_scenario_order_late_joiners_appended():
    tl = timeline([{"uid": "30"}, {"uid": "10"}, {"uid": "20", "join": 5}])
    assert tl.scene_at(0).order == ("30", "10")
    assert tl.scene_at(5).order == ("30", "10", "20")


def test_leave_reflows_at_once():
    tl = timeline([{"uid": "1"}, {"uid": "2"}, {"uid": "3"}],
                  [{"t": 10, "uid": "1", "action": "leave"}])
    assert tl.scene_at(Fraction(99, 10)).order == ("1", "2", "3")
    assert tl.scene_at(10).order == ("2", "3")


def test_rejoin_goes_to_the_end_with_fresh_video():
    tl = timeline([{"uid": "1"}, {"uid": "2"}, {"uid": "3"}], [
        {"t": 5, "uid": "1", "action": "mute_video"},
        {"t": 5, "uid": "1", "action": "mute_audio"},
        {"t": 10, "uid": "1", "action": "leave"},
        {"t": 20, "uid": "1", "action": "join"}])
    scene = tl.scene_at(20)
    assert scene.order == ("2", "3", "1")
    assert scene.views[2] == UserView("1", S.LIVE)
    assert scene.audible == ("2", "3", "1")


def test_eighteenth_user_is_promoted_when_one_of_the_first_17_leaves():
    users = [{"uid": str(i)} for i in range(1, 19)]
    tl = timeline(users, [{"t": 10, "uid": "4", "action": "leave"}])
    before, after = tl.scene_at(9), tl.scene_at(10)
    assert before.order == tuple(str(i) for i in range(1, 18))
    assert len(before.audible) == 18  # audio is not limited to the displayed users
    assert after.order == tuple(str(i) for i in (1, 2, 3, *range(5, 19)))
    assert len(after.views) == 17


# --- layout -----------------------------------------------------------------------------------
def test_update_layout_overwrites_everything():
    tl = timeline(events=[
        {"t": 10, "action": "update_layout",
         "body": {"mixedVideoLayout": 2, "maxResolutionUid": "2"}},
        {"t": 20, "action": "update_layout", "body": {"backgroundColor": "#111111"}},
        {"t": 20, "action": "update_layout", "body": {"mixedVideoLayout": 1}}],
        recording={"transcodingConfig": {"mixedVideoLayout": 1, "backgroundColor": "#FF0000"}})
    assert tl.scene_at(0).layout == LayoutSettings(mixed_video_layout=1, background_color="#FF0000")
    assert tl.scene_at(10).layout == LayoutSettings(mixed_video_layout=2, max_resolution_uid="2")
    assert tl.scene_at(10).layout.background_color == "#000000"  # omitted: back to the default
    assert tl.scene_at(20).layout == LayoutSettings(mixed_video_layout=1)  # file order


# --- subscriptions and roles -------------------------------------------------------------------
THREE = [{"uid": "1"}, {"uid": "2"}, {"uid": "3"}]


@pytest.mark.parametrize(("recording", "order", "audible"), [
    ({}, ("1", "2", "3"), ("1", "2", "3")),
    ({"subscribeVideoUids": ["3", "1"]}, ("1", "3"), ()),  # audio list absent: no audio
    ({"unSubscribeVideoUids": ["2"], "subscribeAudioUids": ["#allstream#"]},
     ("1", "3"), ("1", "2", "3")),
    ({"subscribeAudioUids": ["2"]}, (), ("2",)),
    ({"subscribeVideoUids": ["1"], "unSubscribeAudioUids": ["1"]}, ("1",), ("2", "3")),
    ({"streamTypes": 0}, (), ("1", "2", "3")),
    ({"streamTypes": 1}, ("1", "2", "3"), ()),
])
def test_subscriptions_limit_who_is_displayed_and_mixed(recording, order, audible):
    scene = timeline(THREE, recording=recording).scene_at(0)
    assert (scene.order, scene.audible) == (order, audible)


def test_audience_is_neither_displayed_nor_mixed():
    audience = {"role": "audience"}
    tl = timeline([{"uid": "1", **audience}, {"uid": "2"}, {"uid": "3", **audience}],
                  recording={"channelType": 1})
    assert tl.scene_at(0).order == ("2",)
    assert tl.scene_at(0).audible == ("2",)


def test_audible_follows_mute_audio_and_leave():
    tl = timeline(THREE, [{"t": 1, "uid": "2", "action": "mute_audio"},
                          {"t": 2, "uid": "3", "action": "leave"},
                          {"t": 3, "uid": "2", "action": "unmute_audio"},
                          {"t": 4, "uid": "1", "action": "mute_video"}])
    assert [tl.scene_at(t).audible for t in range(5)] == [
        ("1", "2", "3"), ("1", "3"), ("1",), ("1", "2"), ("1", "2")]


# --- idle exit ---------------------------------------------------------------------------------
IDLE = {"maxIdleTime": 5}


def test_communication_channel_ends_after_max_idle_time():
    tl = timeline([{"uid": "1"}], [{"t": 10, "uid": "1", "action": "leave"}], recording=IDLE)
    assert tl.end_time == 15 and tl.idle_exit
    assert tl.scene_at(Fraction(149, 10)).recording
    assert not tl.scene_at(15).recording
    assert tl.change_times()[-1] == 15


def test_communication_user_without_video_keeps_the_channel_busy():
    tl = timeline([{"uid": "1"}, {"uid": "2"}], [
        {"t": 1, "uid": "2", "action": "unpublish_video"},
        {"t": 1, "uid": "2", "action": "mute_audio"},
        {"t": 10, "uid": "1", "action": "leave"}], recording=IDLE)
    assert tl.end_time == 60 and not tl.idle_exit


def test_live_channel_with_only_audience_is_idle():
    tl = timeline([{"uid": "1"}, {"uid": "2", "role": "audience"}],
                  [{"t": 10, "uid": "1", "action": "leave"}],
                  recording={**IDLE, "channelType": 1})
    assert tl.end_time == 15


def test_idle_from_the_start_and_a_return_in_time():
    late = [{"uid": "1", "join": 40}]
    assert timeline(late).end_time == 30  # nobody there: idle from 0, maxIdleTime 30
    assert timeline([{"uid": "1", "join": 30}]).end_time == 30  # a join at the end is too late
    assert timeline([{"uid": "1", "join": 20}]).end_time == 60
    back = timeline([{"uid": "1"}], [{"t": 10, "uid": "1", "action": "leave"},
                                     {"t": 14, "uid": "1", "action": "join"},
                                     {"t": 30, "uid": "1", "action": "leave"}], recording=IDLE)
    assert back.end_time == 35


def test_events_after_the_idle_exit_do_not_apply():
    tl = timeline([{"uid": "1"}], [{"t": 10, "uid": "1", "action": "leave"},
                                   {"t": 40, "uid": "1", "action": "join"}], recording=IDLE)
    scene = tl.scene_at(50)
    assert (scene.order, scene.recording) == ((), False)
    assert max(tl.change_times()) == 15


# --- times ---------------------------------------------------------------------------------------
def test_change_times_hold_events_thresholds_and_end():
    tl = timeline(THREE, [{"t": 1, "uid": "2", "action": "mute_video"},
                          {"t": 0.5, "action": "update_layout", "body": {}},
                          {"t": 59, "uid": "3", "action": "mute_video"}])
    assert tl.change_times() == (0, Fraction(1, 2), 1, Fraction(9, 2), 59, 60)
    assert all(isinstance(t, Fraction) for t in tl.change_times())


def test_scene_is_constant_between_change_times():
    tl = stop_timeline("web3", "mute")
    times = tl.change_times()
    for a, b in pairwise(times):
        first, middle = tl.scene_at(a), tl.scene_at((a + b) / 2)
        assert first == Scene(**{**middle.__dict__, "t": a})


def test_frame_times_are_exact_over_an_hour_at_30_fps():
    frames = list(timeline(duration=3600).frame_times(30))
    assert len(frames) == 108000
    assert frames[-1] == Fraction(107999, 30)
    assert frames[1] == Fraction(1, 30) and all(isinstance(t, Fraction) for t in frames[::997])


@pytest.mark.parametrize(("duration", "fps", "count", "last"), [
    (2, 15, 30, Fraction(29, 15)),
    (0.1, 15, 2, Fraction(1, 15)),
    (1, Fraction(30000, 1001), 30, Fraction(29 * 1001, 30000)),
])
def test_frame_times_stop_before_the_end(duration, fps, count, last):
    frames = list(timeline(duration=duration).frame_times(fps))
    assert (len(frames), frames[-1]) == (count, last)


def test_frame_times_stop_at_an_idle_exit():
    tl = timeline([{"uid": "1"}], [{"t": 10, "uid": "1", "action": "leave"}], recording=IDLE)
    assert max(tl.frame_times(10)) == Fraction(149, 10)


def test_bad_times_are_usage_errors():
    tl = timeline()
    with pytest.raises(ParameterError):
        tl.scene_at(-1)
    with pytest.raises(ParameterError):
        tl.frame_times(0)


def test_scene_at_accepts_ints_floats_and_fractions():
    tl = timeline()
    assert tl.scene_at(0.1).t == Fraction(1, 10)
    assert isinstance(tl.scene_at(3), Scene)


def test_hand_built_inconsistent_scenario_is_refused():
    scenario = parse_scenario(make_doc())
    broken = type(scenario)(**{**scenario.__dict__,
                               "events": (Event(Fraction(1), "join", "1"),)})
    with pytest.raises(ScenarioError, match=r"events\[0\]: join at t=1: user 1 is already"):
        Timeline(broken)
