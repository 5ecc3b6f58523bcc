"""Display rules, drawn: decoded pixels of rendered frames for every rule of contract 2.1."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from layoutkit.cli import main
from layoutkit.errors import ScenarioError
from layoutkit.signals.idcode import read_code
from layoutkit.profile import DEFAULT_PROFILE, Profile
from layoutkit.render import SceneRenderer
from layoutkit.scenario import parse_scenario

from .helpers import assert_color, scenario_doc

W, H = 320, 180  # best fit, 2x2 cells of 160x90
CELLS = {0: (80, 45), 1: (240, 45), 2: (80, 135), 3: (240, 135)}
CANVAS = (30, 60, 90)
RED, GREEN, BLUE, GREY = (200, 40, 40), (40, 200, 40), (40, 40, 200), (128, 128, 128)
IMAGE = (230, 180, 20)  # the user background image's colour


TRANSCODING = {"width": W, "height": H, "fps": 10, "bitrate": 400, "mixedVideoLayout": 1,
               "backgroundColor": "#1E3C5A"}


def _body(**transcoding) -> dict:
    return scenario_doc(cname="rules", transcoding={**TRANSCODING, **transcoding})["start"]


def _scenario(users, events=(), *, duration=20, **transcoding):
    return parse_scenario(scenario_doc(list(users), list(events), cname="rules", duration=duration,
                                       transcoding={**TRANSCODING, **transcoding}))


def _render(scenario, t, *, tmp_path=None, profile=DEFAULT_PROFILE):
    scenario = dataclasses.replace(scenario, base_dir=tmp_path)
    with SceneRenderer(scenario, profile=profile) as renderer:
        frame = renderer.rendered_frame(Fraction(t))
        return frame, frame.rgb()


def _code(frame, cell: int):
    luma = frame.canvas[:H]
    rect = tuple(int(v) for v in frame.regions.rects[cell])
    return read_code(luma, src_wh=(640, 360), region=rect, render_mode=0)


@pytest.fixture
def image_file(tmp_path):
    Image.new("RGB", (64, 36), IMAGE).save(tmp_path / "away.jpg", quality=95)
    return "away.jpg"


def _stop_scenario(platform: str, action: str, **transcoding):
    users = [{"uid": "1", "platform": platform, "source": "testsrc"},
             {"uid": "2", "source": "#28C828"}, {"uid": "3", "source": "#808080"}]
    return _scenario(users, [{"t": 2, "uid": "1", "action": action}], **transcoding)


# ---------------------------------------------------------------- native / web4

@pytest.mark.parametrize("platform", ["native", "web4"])
@pytest.mark.parametrize("action", ["mute_video", "unpublish_video"])
def test_native_web4_last_frame_for_3_5_s(platform, action):
    scenario = _stop_scenario(platform, action)
    live, _ = _render(scenario, Fraction(19, 10))
    assert _code(live, 0).frame == 19  # testsrc frame = frames since join (10 fps)
    for t in (Fraction(21, 10), Fraction(5, 1), Fraction(549, 100)):
        frozen, _ = _render(scenario, t)
        reading = _code(frozen, 0)
        assert reading is not None and reading.uid == "1"
        assert reading.frame == 19  # the last live frame before the stop at t = 2


@pytest.mark.parametrize("platform", ["native", "web4"])
@pytest.mark.parametrize("action", ["mute_video", "unpublish_video"])
def test_native_web4_after_3_5_s_canvas_background_without_image(platform, action):
    frame, rgb = _render(_stop_scenario(platform, action), Fraction(11, 2))  # exactly 3.5 s
    assert _code(frame, 0) is None
    assert_color(rgb, CELLS[0], CANVAS, tol=3, name="after-3.5-canvas")
    assert_color(rgb, CELLS[1], GREEN, tol=3, name="other-user-live")


@pytest.mark.parametrize("key", ["backgroundConfig", "defaultUserBackgroundImage"])
def test_after_3_5_s_user_background_image(tmp_path, image_file, key):
    extra = ({"backgroundConfig": [{"uid": "1", "image_url": image_file}]}
             if key == "backgroundConfig" else {"defaultUserBackgroundImage": image_file})
    scenario = _stop_scenario("native", "mute_video", **extra)
    _, before = _render(scenario, Fraction(54, 10), tmp_path=tmp_path)
    assert not np.allclose(before[45, 80], IMAGE, atol=10)
    _, after = _render(scenario, Fraction(56, 10), tmp_path=tmp_path)
    assert_color(after, CELLS[0], IMAGE, tol=4, name="user-image")


def test_profile_last_frame_keeps_the_frame_after_3_5_s():
    frame, _ = _render(_stop_scenario("native", "mute_video"), 9,
                       profile=Profile(after_stop="last_frame"))
    assert _code(frame, 0).frame == 19


def test_unmute_goes_live_again():
    scenario = _scenario([{"uid": "1", "source": "testsrc"}],
                         [{"t": 2, "uid": "1", "action": "mute_video"},
                          {"t": 8, "uid": "1", "action": "unmute_video"}])
    frame, _ = _render(scenario, Fraction(91, 10))
    assert _code(frame, 0).frame == 91


# ---------------------------------------------------------------- web3

def test_web3_unpublish_canvas_colour_even_with_background_image(tmp_path, image_file):
    scenario = _stop_scenario("web3", "unpublish_video", backgroundImage=image_file)
    _, rgb = _render(scenario, 3, tmp_path=tmp_path)
    assert_color(rgb, CELLS[0], CANVAS, tol=3, name="web3-unpublish-colour")
    assert_color(rgb, CELLS[3], IMAGE, tol=4, name="empty-cell-background-image")


def test_web3_mute_black_then_canvas_background():
    scenario = _stop_scenario("web3", "mute_video")
    _, rgb = _render(scenario, Fraction(54, 10))
    assert_color(rgb, CELLS[0], (0, 0, 0), tol=2, name="web3-mute-black")
    _, rgb = _render(scenario, Fraction(11, 2))
    assert_color(rgb, CELLS[0], CANVAS, tol=3, name="web3-mute-after")


def test_web3_after_3_5_s_user_image(tmp_path, image_file):
    scenario = _stop_scenario("web3", "unpublish_video",
                              backgroundConfig=[{"uid": "1", "image_url": image_file}])
    _, rgb = _render(scenario, 6, tmp_path=tmp_path)
    assert_color(rgb, CELLS[0], IMAGE, tol=4, name="web3-user-image")


def test_never_published_native_shows_canvas_background():
    scenario = _scenario([{"uid": "1", "source": "testsrc"}, {"uid": "2", "source": "#C82828"}],
                         [{"t": 0, "uid": "1", "action": "unpublish_video"}])
    _, rgb = _render(scenario, 1)
    assert_color(rgb, CELLS[0], CANVAS, tol=3, name="never-sent")
    assert_color(rgb, CELLS[1], RED, tol=3, name="never-sent-other")


# ---------------------------------------------------------------- join / leave

def _solid_users(n: int) -> list[dict]:
    colours = ["#C82828", "#28C828", "#2828C8", "#808080"]
    return [{"uid": str(i + 1), "source": colours[i % 4]} for i in range(n)]


def test_leave_reflows_immediately_and_rejoin_goes_to_the_end():
    scenario = _scenario(_solid_users(4), [{"t": 3, "uid": "1", "action": "leave"},
                                           {"t": 6, "uid": "1", "action": "join"}])
    _, rgb = _render(scenario, 2)
    for cell, colour in enumerate((RED, GREEN, BLUE, GREY)):
        assert_color(rgb, CELLS[cell], colour, tol=3, name="before-leave")
    _, rgb = _render(scenario, 3)  # users 2, 3, 4 move up one slot; the 4th cell is empty
    for cell, colour in enumerate((GREEN, BLUE, GREY, CANVAS)):
        assert_color(rgb, CELLS[cell], colour, tol=3, name="after-leave")
    _, rgb = _render(scenario, 6)
    for cell, colour in enumerate((GREEN, BLUE, GREY, RED)):
        assert_color(rgb, CELLS[cell], colour, tol=3, name="rejoin-at-end")


def test_eighteenth_user_is_promoted_when_one_of_the_first_17_leaves():
    users = _solid_users(18)
    users[17]["source"] = "#FFFF00"
    scenario = _scenario(users, [{"t": 4, "uid": "5", "action": "leave"}])
    frame, rgb = _render(scenario, 3)
    assert "18" not in frame.scene.order and len(frame.regions) == 17
    x, y, w, h = frame.regions.rects[16]  # the 17th tile, centred in the 5th row
    assert_color(rgb, (int(x + w // 2), int(y + h // 2)), RED, tol=3, name="17th-before")
    frame, rgb = _render(scenario, 4)
    assert frame.scene.order[-1] == "18"
    x, y, w, h = frame.regions.rects[16]
    assert_color(rgb, (int(x + w // 2), int(y + h // 2)), (255, 255, 0), tol=4, name="promoted")


def test_update_layout_overwrites_everything_omitted_fields_default():
    scenario = _scenario(_solid_users(3), [{"t": 5, "action": "update_layout",
                                           "body": {"mixedVideoLayout": 0}}])
    _, rgb = _render(scenario, 4)
    assert_color(rgb, CELLS[3], CANVAS, tol=3, name="bestfit-empty")
    frame, rgb = _render(scenario, 5)
    # floating: user 1 fills the canvas, user 2 is the first small slot (bottom-left);
    # backgroundColor was omitted, so it is back to #000000 (no area shows it here)
    assert frame.scene.layout.background_color == "#000000"
    assert_color(rgb, (200, 40), RED, tol=3, name="floating-full")
    x, y, w, h = frame.regions.rects[1]
    assert (x, y) == (4, 136)
    assert_color(rgb, (int(x + w // 2), int(y + h // 2)), GREEN, tol=3, name="floating-small")


def test_subscribe_video_list_limits_who_is_drawn():
    users = _solid_users(3)
    body = _body()
    body["clientRequest"]["recordingConfig"]["subscribeVideoUids"] = ["1", "3"]
    scenario = parse_scenario({"cname": "rules", "start": body, "duration": 5, "users": users})
    frame, rgb = _render(scenario, 1)
    assert frame.scene.order == ("1", "3")
    assert_color(rgb, (80, 90), RED, tol=3, name="sub-1")  # 2 users: side by side, full height
    assert_color(rgb, (240, 90), BLUE, tol=3, name="sub-3")


# ---------------------------------------------------------------- bad scenarios

def _cli(tmp_path, doc) -> tuple[int, str]:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    out, err = io.StringIO(), io.StringIO()
    code = main(["preview", str(path), "--at", "1", "-o", str(tmp_path / "f.png")],
                out=out, err=err)
    return code, err.getvalue()


BASE = {"cname": "rules", "start": _body(), "duration": 10,
        "users": [{"uid": "1", "source": "testsrc"}]}


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d.update(events=[{"t": 1, "uid": "7", "action": "leave"}]),
     "code 2: events[0].uid: "),
    (lambda d: d.update(events=[{"t": 12, "uid": "1", "action": "leave"}]),
     "code 2: events[0].t: "),
    (lambda d: d.update(events=[{"t": "soon", "uid": "1", "action": "leave"}]),
     "code 2: events[0].t: "),
    (lambda d: d["users"][0].update(source="missing.mp4"),
     "code 2: users[0].source (missing.mp4 -> {tmp}/missing.mp4): no such video file"),
    (lambda d: d["users"][0].update(source="junk.mp4"),
     "code 2: users[0].source (junk.mp4 -> {tmp}/junk.mp4): not a readable video file"),
])
def test_bad_scenarios_are_clear_errors_without_traceback(tmp_path, change, expected):
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all" * 50)
    doc = copy.deepcopy(BASE)
    change(doc)
    code, err = _cli(tmp_path, doc)
    assert code == 1
    assert expected.replace("{tmp}", str(tmp_path)) in err
    assert "Traceback" not in err
    assert not (tmp_path / "f.png").exists()


def test_scenario_error_type_for_missing_source(tmp_path):
    doc = copy.deepcopy(BASE)
    doc["users"][0]["source"] = "absent.mp4"
    with pytest.raises(ScenarioError) as info:
        SceneRenderer(parse_scenario(doc, base_dir=Path(tmp_path)))
    assert [p.path for p in info.value.problems] == [
        f"users[0].source (absent.mp4 -> {tmp_path / 'absent.mp4'})"]


def test_pictures_unchanged_since_the_last_frame_are_not_redrawn_and_frames_stay_exact(
        tmp_path):
    """Pictures unchanged since the last frame are not redrawn, and frames stay exact.

    A 15 fps file in a 30 fps recording, a solid colour and a frozen user: the warm renderer
    skips their tiles between their frames and still draws every frame exactly as a fresh
    renderer does.
    """
    from fractions import Fraction

    from layoutkit.compose import plan as plan_module
    from layoutkit.render import SceneRenderer
    from layoutkit.scenario import parse_scenario
    from layoutkit.idstream import write_idstream

    video = tmp_path / "u3.mp4"
    write_idstream(video, uid="3", duration=1, size_wh=(160, 90), fps=15)
    doc = scenario_doc(
        users=[{"uid": "1", "source": "#3366CC"}, {"uid": "2", "source": "testsrc"},
               {"uid": "3", "source": str(video)}, {"uid": "4", "source": "testsrc"}],
        events=[{"t": 0.2, "uid": "4", "action": "mute_video"}], duration=1,
        transcoding={"width": 320, "height": 180, "fps": 30, "mixedVideoLayout": 1})
    scenario = parse_scenario(doc)
    skipped: list[set] = []
    original = plan_module.Plan.draw

    def spy(self, canvas, pictures, *, unchanged=()):
        skipped.append(set(unchanged))
        return original(self, canvas, pictures, unchanged=unchanged)

    times = [Fraction(i, 30) for i in range(12)]
    with SceneRenderer(scenario) as warm:
        plan_module.Plan.draw = spy  # type: ignore[method-assign]
        try:
            frames = [warm.rendered_frame(t).canvas.copy() for t in times]
        finally:
            plan_module.Plan.draw = original  # type: ignore[method-assign]
    for t, got in zip(times, frames, strict=True):
        with SceneRenderer(scenario) as fresh:
            assert np.array_equal(got, fresh.rendered_frame(t).canvas), t
    # not skipped: the first frame, and the first after the mute changes the plan
    assert sum("1" in s for s in skipped) == len(times) - 2, skipped  # the solid colour
    assert sum("3" in s for s in skipped) >= 4  # the 15 fps file between its frames
    assert not all("3" in s for s in skipped[1:])
    assert sum(("last", "4") in s for s in skipped) >= 4  # the frozen last frame
    assert not any("2" in s for s in skipped)  # testsrc draws a new picture every frame
