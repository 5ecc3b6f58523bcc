"""Annotated previews: outlines on region edges, labels inside regions, warnings."""

from __future__ import annotations

import io
import json
import warnings

import numpy as np
import pytest
from PIL import Image

import layoutkit as lk
from layoutkit.annotate import (EMPTY_OUTLINE, OUTLINE, Label, PreviewWarning, annotate,
                                label_lines, layout_warnings)
from layoutkit.cli import main
from layoutkit.demo import samples_dir
from layoutkit.layout import compute_regions, make_regions
from layoutkit.request.model import LayoutRegion, LayoutSettings

from .helpers import assert_color, save_failure

SCENARIO = str(samples_dir() / "scenario-demo.json")


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _is(image: np.ndarray, rgb: tuple[int, int, int], tol: int = 0) -> np.ndarray:
    return (np.abs(image.astype(int) - rgb) <= tol).all(axis=-1)


def test_outline_pixels_on_every_region_edge_and_labels_inside():
    regions = make_regions([[0, 0, 0.5, 0.5], [0.5, 0, 0.5, 0.5], [0, 0.5, 1, 0.5]],
                           ["1", "2", None], canvas_wh=(640, 360))
    canvas = np.full((360, 640, 3), 40, np.uint8)
    out = annotate(canvas, regions)
    assert out.shape == canvas.shape  # no notes: no margin
    for x, y, w, h in regions.rects[:2].tolist():
        for px, py in ((x, y + h // 2), (x + w - 1, y + h // 2), (x + w // 2, y + h - 1)):
            assert_color(out, (px, py), OUTLINE, name="annotate-outline")
    # the empty region: dashed (some edge pixels outlined, some not)
    bottom = _is(out[359, :], EMPTY_OUTLINE)
    assert 0.2 < bottom.mean() < 0.8
    # the label box of region 0 sits inside it, top-left, with white text pixels
    box = out[3:40, 3:100]
    assert _is(box, (255, 255, 255), tol=40).sum() > 30
    # nothing drawn in a region's middle
    assert_color(out, (160, 120), (40, 40, 40), name="annotate-middle")


def test_labels_never_leave_a_small_region():
    regions = make_regions([[0, 0, 0.1, 0.1], [0.5, 0.5, 0.02, 0.04]], ["123456", "7"],
                           canvas_wh=(640, 360))
    canvas = np.zeros((360, 640, 3), np.uint8)
    out = annotate(canvas, regions)
    inside = np.zeros((360, 640), bool)
    for x, y, w, h in regions.rects.tolist():
        inside[y:y + h, x:x + w] = True
    changed = (out != canvas).any(axis=-1)
    if (changed & ~inside).any():
        save_failure("annotate-overflow", out)
    assert not (changed & ~inside).any()
    assert changed[: 36, : 64].any()  # the 64x36 region is still labelled


def test_label_lines_and_warnings_name_what_is_missing():
    label = Label(1, "2002", (320, 0, 320, 180), "fit", 0.5, "last_frame")
    assert label_lines(label) == ["#1 2002", "last_frame", "320,0,320,180", "fit alpha 0.5"]
    layout = LayoutSettings(mixed_video_layout=3, layout_config=(
        LayoutRegion(uid="9", x_axis=0, y_axis=0, width=0.5, height=1),
        LayoutRegion(x_axis=0.5, y_axis=0, width=0.5, height=1)))
    regions = compute_regions(layout, ["1", "2", "3"], canvas_wh=(320, 180))
    found = layout_warnings(layout, ["1", "2", "3"], regions, unsubscribed=["4"])
    assert found[0].startswith("layoutConfig[0] names uid 9, not among the users (1, 2, 3)")
    assert found[1] == "users 2, 3 are not drawn: 2 region(s), 1 filled, for 3 user(s)"
    assert "user 4 not drawn: video not subscribed" in found[2]
    vertical = LayoutSettings(mixed_video_layout=2)
    users = [str(i) for i in range(1, 20)]
    regions = compute_regions(vertical, users, canvas_wh=(640, 360))
    assert any("not drawn" in line for line in layout_warnings(vertical, users, regions))


def test_cli_annotated_request_preview_margin_and_stderr(in_tmp):
    code, _out, err = _run("preview", str(samples_dir() / "start-custom.json"),
                           "--users", "2,3,4,5", "--annotate", "-o", "a.png")
    assert code == 0, err
    assert "layoutConfig[0] names uid 1" in err and "users 4, 5 are not drawn" in err
    image = _png(in_tmp / "a.png")
    assert image.shape[1] == 1280 and image.shape[0] > 720  # the margin under the canvas
    margin = image[722:]
    assert _is(margin, (255, 200, 90), tol=60).sum() > 200  # the warning text
    # region 0 (named uid 1, absent) is empty: dashed outline along its top edge
    assert 0.2 < _is(image[0, :], EMPTY_OUTLINE).mean() < 0.8
    # the other two custom regions are outlined (their left edges)
    rects = [r for r in json.loads(_run_layout(in_tmp))["regions"]]
    for r in rects[1:]:
        assert_color(image, (r["x"], r["y"] + r["height"] // 2), OUTLINE, name="cli-annotate")
    # without --annotate: the same canvas, no outline, no margin, the same warnings
    code, _, err = _run("preview", str(samples_dir() / "start-custom.json"),
                        "--users", "2,3,4,5", "-o", "plain.png")
    assert code == 0 and "users 4, 5 are not drawn" in err
    plain = _png(in_tmp / "plain.png")
    assert plain.shape == (720, 1280, 3)
    assert not _is(plain, OUTLINE).any()


def _run_layout(folder) -> str:
    code, out, err = _run("layout", str(samples_dir() / "start-custom.json"),
                          "--users", "2,3,4,5", "--json")
    assert code == 0, err
    return out


def test_request_preview_honours_unsubscribe_list():
    body = {"mixedVideoLayout": 1, "backgroundColor": "#000000"}
    start = {"recordingConfig": {"unSubscribeVideoUids": ["2"], "transcodingConfig": {
        "width": 640, "height": 360, **body}}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = lk.preview(start, users=["1", "2", "3"])
    assert any(issubclass(w.category, PreviewWarning) and "user 2 not drawn" in str(w.message)
               for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = lk.preview(start, users=["1", "3"])
    assert np.array_equal(image, expected)


def test_annotated_scenario_frame_shows_states(in_tmp):
    code, _out, err = _run("preview", SCENARIO, "--at", "10.5", "--annotate", "-o", "f.png")
    assert code == 0, err
    image = _png(in_tmp / "f.png")
    assert image.shape == (360, 640, 3)  # nothing missing: no margin
    assert_color(image, (0, 90), OUTLINE, name="frame-annotate")
    assert_color(image, (639, 270), OUTLINE, name="frame-annotate")
    plain = lk.frame_at(SCENARIO, 10.5)
    annotated = lk.frame_at(SCENARIO, 10.5, annotate=True)
    assert np.array_equal(annotated, image)
    # 3003 is canvas_background at 10.5 s: its cell is the background colour except the
    # outline and the label box (which is dark and has white text)
    cell = annotated[180:360, 0:320]
    assert (cell != plain[180:360, 0:320]).any(axis=-1).mean() < 0.25
    assert _is(cell[3:60, 3:120], (255, 255, 255), tol=40).sum() > 40


@pytest.mark.parametrize("at", ["10.5"])
def test_plain_frame_unchanged_by_annotate_code(in_tmp, at):
    code, _, err = _run("preview", SCENARIO, "--at", at, "-o", "f.png")
    assert code == 0, err
    assert np.array_equal(_png(in_tmp / "f.png"), lk.frame_at(SCENARIO, float(at)))
