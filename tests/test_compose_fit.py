"""Crop / fit placement and pasting checked against Pillow on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from layoutkit.compose.fit import place
from layoutkit.compose.rgb import paste

from .helpers import assert_frames_close

sizes = st.tuples(st.integers(2, 400), st.integers(2, 400))


@settings(max_examples=200, deadline=None)
@given(src=sizes, dst=sizes)
@example(src=(140, 305), dst=(42, 92))  # 91.5 exactly; Pillow's float gives 91.49999
def test_fit_size_matches_pillow_contain(src, dst):
    p = place(src, (0, 0, *dst), 1)
    expected = ImageOps.contain(Image.new("L", src), dst).size
    expected = (max(1, expected[0]), max(1, expected[1]))  # we never round a side to 0
    assert p.dst[2:] == expected
    # centred, inside the region
    assert p.dst[0] >= 0 and p.dst[0] + p.dst[2] <= dst[0]
    assert p.dst[1] >= 0 and p.dst[1] + p.dst[3] <= dst[1]


@settings(max_examples=200, deadline=None)
@given(src=sizes, dst=sizes)
def test_crop_window_has_region_aspect_and_is_centred(src, dst):
    p = place(src, (0, 0, *dst), 0)
    sx, sy, sw, sh = p.src
    assert p.dst == (0, 0, *dst)
    assert sx >= 0 and sx + sw <= src[0] and sy >= 0 and sy + sh <= src[1]
    assert sw == src[0] or sh == src[1]  # one side kept whole
    # the kept window has the region's aspect, to half a source pixel (or is 1 px wide)
    if sw < src[0]:
        assert abs(sw - sh * dst[0] / dst[1]) <= 0.5 or sw == 1
    if sh < src[1]:
        assert abs(sh - sw * dst[1] / dst[0]) <= 0.5 or sh == 1
    assert abs((src[0] - sw) - 2 * sx) <= 1 and abs((src[1] - sh) - 2 * sy) <= 1


def _picture(w: int, h: int) -> np.ndarray:
    rng = np.random.RandomState(7)  # smooth picture: a gradient plus mild noise
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([255 * x / w, 255 * y / h, 128 + 0 * x], -1)
    return np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("src", "dst"), [((640, 360), (180, 320)), ((360, 640), (400, 200)),
                                          ((640, 480), (160, 90)), ((320, 180), (640, 360))])
def test_crop_paste_matches_pillow_fit(src, dst):
    picture = _picture(*src)
    canvas = np.zeros((dst[1], dst[0], 3), np.uint8)
    paste(canvas, picture, (0, 0, *dst), render_mode=0)
    ref = np.asarray(ImageOps.fit(Image.fromarray(picture), dst, Image.Resampling.BILINEAR))
    # tolerance: different resampling kernels (OpenCV area/linear vs Pillow bilinear)
    assert_frames_close(canvas, ref, max_mean_abs=2.99, name="fit-vs-pillow")


@pytest.mark.parametrize(("src", "dst"), [((640, 360), (180, 320)), ((360, 640), (400, 200))])
def test_fit_paste_matches_pillow_pad_with_black(src, dst):
    picture = _picture(*src)
    canvas = np.full((dst[1], dst[0], 3), 200, np.uint8)
    paste(canvas, picture, (0, 0, *dst), render_mode=1)
    ref = np.asarray(ImageOps.pad(Image.fromarray(picture), dst, Image.Resampling.BILINEAR,
                                  color=(0, 0, 0)))
    assert_frames_close(canvas, ref, max_mean_abs=2.99, name="fit-vs-pillow")


def test_alpha_matches_pillow_alpha_composite():
    below = np.zeros((40, 60, 3), np.uint8)
    below[:] = (200, 30, 10)
    picture = np.zeros((40, 60, 3), np.uint8)
    picture[:] = (10, 90, 250)
    canvas = below.copy()
    paste(canvas, picture, (0, 0, 60, 40), alpha=0.3)
    dst = Image.fromarray(below).convert("RGBA")
    src = Image.fromarray(np.dstack([picture, np.full((40, 60), round(0.3 * 255), np.uint8)]))
    ref = np.asarray(Image.alpha_composite(dst, src).convert("RGB"))
    assert np.abs(canvas.astype(int) - ref.astype(int)).max() <= 1


@pytest.mark.parametrize(("src", "dst"), [((640, 360), (180, 320)), ((360, 640), (400, 200))])
def test_crop_paste_matches_pillow_cover_centre_cropped(src, dst):
    """Crop = Pillow's ``ImageOps.cover`` (scale to cover) then the centred window."""
    picture = _picture(*src)
    canvas = np.zeros((dst[1], dst[0], 3), np.uint8)
    paste(canvas, picture, (0, 0, *dst), render_mode=0)
    covered = ImageOps.cover(Image.fromarray(picture), dst, Image.Resampling.BILINEAR)
    left = (covered.width - dst[0]) // 2
    top = (covered.height - dst[1]) // 2
    ref = np.asarray(covered.crop((left, top, left + dst[0], top + dst[1])))
    # tolerance: resampling kernels differ (OpenCV area/linear vs Pillow bilinear)
    assert_frames_close(canvas, ref, max_mean_abs=2.99, name="fit-vs-pillow")
