"""compare checks that video-file users are present (issue 19, item 7).

A region whose user's ``source`` is a video file is compared with that file's own frames
near the source time the scenario expects (the file drawn into the region, reduced to the
descriptor cells still pictures use).  Recordings are composed by FFmpeg's own filters
(:func:`helpers.compose_first_scene`): a test stream and one or two ``testsrc2`` /
``mandelbrot`` clips at 320x180.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import layoutkit as lk
from layoutkit.idstream import write_idstream

from .helpers import compose_first_scene, lavfi_clip, scenario_doc

ffmpeg = pytest.importorskip("ffmpeg", reason="python -m pip install -e '.[test]' (ffmpeg-python)")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

SID = "0123456789abcdef0123456789abcdef"
SECONDS = 4
CANVAS = "#203040"


def _lavfi_clip(path: Path, source: str, **options: float) -> Path:
    return lavfi_clip(path, source, seconds=SECONDS, **options)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("fileclips")
    t11 = root / "testsrc_11.mp4"
    write_idstream(t11, uid="11", duration=SECONDS, fps=15, size_wh=(320, 180), bitrate_kbps=300)
    return {
        "11": t11,
        "testsrc2": _lavfi_clip(root / "clip.mp4", "testsrc2"),
        "mandelbrot": _lavfi_clip(root / "mandel.mp4", "mandelbrot"),
        "ahead": _lavfi_clip(root / "ahead.mp4", "testsrc2", ahead=0.3),
        "canvas": _lavfi_clip(root / "canvas.mp4", f"color=c=0x{CANVAS[1:]}"),
    }


def _doc(files: dict[str, Path]) -> dict:
    users = [{"uid": "11"}] + [{"uid": u, "source": str(p), "audio": "silence"}
                               for u, p in files.items()]
    tc = {"width": 320, "height": 180, "fps": 15, "bitrate": 500, "mixedVideoLayout": 1,
          "backgroundColor": CANVAS}
    return scenario_doc(users, [], duration=SECONDS, transcoding=tc,
                        file_config={"avFileType": ["hls", "mp4"]})


def _compose(doc: dict, shown: dict[str, Path], tmp_path: Path) -> Path:
    """Compose the users' clips with FFmpeg.

    ``shown``: uid -> the clip its region shows (a clip shown twice is copied: FFmpeg graphs
    read each input once).
    """
    used: set[Path] = set()
    for uid, path in list(shown.items()):
        if path in used:
            shown[uid] = Path(shutil.copy(path, tmp_path / f"copy_{uid}{path.suffix}"))
        used.add(path)
    return compose_first_scene(doc, shown, tmp_path / "rec" / f"{SID}_demo_0.mp4",
                               seconds=SECONDS)


def _content(result) -> list:
    return [d for d in result.differences if d.region is not None]


def test_file_user_shown_matches(tmp_path, clips):
    doc = _doc({"44": clips["testsrc2"]})
    result = lk.compare(doc, _compose(doc, {"11": clips["11"], "44": clips["testsrc2"]},
                                      tmp_path))
    assert result.verdict == "match", [d.message for d in result.differences]


def test_file_user_playing_0_3_s_ahead_of_its_join_still_matches(tmp_path, clips):
    """The file's frames are looked for within FILE_WINDOW_S of the expected source time.

    That is, a publisher that starts its file a little early or late still matches.
    """
    doc = _doc({"44": clips["testsrc2"]})
    result = lk.compare(doc, _compose(doc, {"11": clips["11"], "44": clips["ahead"]}, tmp_path))
    assert result.verdict == "match", [d.message for d in result.differences]


def test_file_user_missing_canvas_colour_differs_naming_the_user(tmp_path, clips):
    doc = _doc({"44": clips["testsrc2"]})
    result = lk.compare(doc, _compose(doc, {"11": clips["11"], "44": clips["canvas"]}, tmp_path))
    assert result.verdict == "differ"
    found = [d for d in result.differences if d.uid == "44"]
    assert found, [d.message for d in result.differences]
    assert found[0].kind == "missing_user", found[0].message
    assert found[0].observed["state"] == "canvas_color", found[0].message
    assert found[0].message.startswith("region 1: canvas colour from 0.00 s"), found[0].message
    assert found[0].message.endswith("expected uid 44 live (video file clip.mp4)")


def test_file_user_showing_another_file_users_clip_names_both(tmp_path, clips):
    doc = _doc({"33": clips["mandelbrot"], "44": clips["testsrc2"]})
    shown = {"11": clips["11"], "33": clips["mandelbrot"], "44": clips["mandelbrot"]}
    result = lk.compare(doc, _compose(doc, shown, tmp_path))
    assert result.verdict == "differ"
    found = [d for d in result.differences if d.expected and d.expected.get("uid") == "44"]
    assert found, [d.message for d in result.differences]
    assert found[0].kind == "wrong_user", found[0].message
    assert found[0].observed["uid"] == "33", found[0].message
    # what each part of the run showed (its first second may be nearest another look)
    parts = found[0].observed["parts"]
    assert max(parts, key=lambda p: p["until"] - p["from"])["uid"] == "33", parts
    assert "uid 33 live (video file mandel.mp4)" in found[0].message or \
        "uid 33 (video file mandel.mp4) where" in found[0].message, found[0].message
    assert "uid 44 live (video file clip.mp4)" in found[0].message or \
        "where uid 44 (video file clip.mp4) should be" in found[0].message, found[0].message
    assert not [d for d in result.differences if d.expected and d.expected.get("uid") == "33"]


def test_file_user_showing_a_test_stream_names_its_uid(tmp_path, clips):
    doc = _doc({"44": clips["testsrc2"]})
    result = lk.compare(doc, _compose(doc, {"11": clips["11"], "44": clips["11"]}, tmp_path))
    assert result.verdict == "differ"
    found = [d for d in result.differences if d.expected and d.expected.get("uid") == "44"]
    assert found and found[0].observed["uid"] == "11", [d.message for d in result.differences]


def test_window_distance_takes_the_nearest_frame_of_the_window():
    from layoutkit.comparison.classify import FILE_MEAN, window_distance

    valid = np.array([True, True, False])
    obs = np.zeros((3, 3, 3), np.uint8)
    obs[:, :2] = [[50, 120, 130]]
    refs = np.zeros((3, 5, 3, 3), np.float32)
    refs[:] = [200, 128, 128]  # the canvas colour, say: far from every observed frame
    refs[0, 4, :2] = [52, 120, 130]  # frame 0: the file's picture at the window's end
    refs[1, 0, :2] = [50, 120, 130]  # frame 1: at its start
    refs[:, :, 2] = 0  # an occluded cell is not looked at
    mean, worst = window_distance(obs, refs, valid)
    assert mean[0] == pytest.approx(2 / 3) and worst[0] == pytest.approx(2 / 3)
    assert mean[1] == 0
    assert mean[2] > FILE_MEAN  # no frame of the window: the region is not the file
    # nothing to compare with (an empty window) is no evidence either way
    assert window_distance(obs, refs[:, :0], valid)[0].tolist() == [0, 0, 0]


def test_a_checked_file_region_predicts_what_an_unchecked_one_does(clips):
    """Inference compares expectations by their signature.

    Whether a file's frames are checked (the main expectation) or not (the alternatives) is
    no difference.
    """
    from layoutkit.comparison.expect import ExpectOptions, build_expectation
    from layoutkit.comparison.inference import without_looks
    from layoutkit.comparison.observe import FrameSampler
    from layoutkit.profile import DEFAULT_PROFILE
    from layoutkit.render import SceneRenderer

    scenario = lk.load_scenario(_doc({"44": clips["testsrc2"]}))
    with SceneRenderer(scenario) as renderer:
        checked = build_expectation(scenario, FrameSampler((320, 180)), profile=DEFAULT_PROFILE,
                                    renderer=renderer)
        plain = build_expectation(scenario, FrameSampler((320, 180)), profile=DEFAULT_PROFILE,
                                  renderer=renderer, options=ExpectOptions(candidates=False))
    kinds = [r.kind for p in checked.periods for r in p.regions if r.label[0] == "44"]
    assert kinds and set(kinds) == {"file"}
    assert checked.signature() == plain.signature()
    assert {r.kind for p in without_looks(checked).periods for r in p.regions
            if r.label[0] == "44"} == {"unchecked"}
