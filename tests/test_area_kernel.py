"""The area shrink kernel (compose.area) against OpenCV's ``INTER_AREA``, alone and in plans.

What is asserted, and why that much: every output pixel within 1 gray level of
``cv2.INTER_AREA`` (the two round the same exact value differently only where it lies
within ~1/500 of a half: our 16-bit scratch between the passes, OpenCV's float
accumulation order); on planes of a realistic size at most 2 % of the pixels differ (seen:
1.7 % at a 3x2 integer ratio, 0.06 % at random ratios).  A tiny output can differ in every
pixel (one pixel, a tie), so that share is not asserted per random case.
"""

from __future__ import annotations

import math
from unittest import mock

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layoutkit.compose import plan as plan_module
from layoutkit.compose.area import AreaScratch, area_pair_scaler, area_scaler, area_weights
from layoutkit.compose.contents import Picture
from layoutkit.compose.plan import build_plan, clear_plan_cache, prepare_background
from layoutkit.compose.yuv import i420_planes
from layoutkit.layout import compute_regions
from layoutkit.request.model import LayoutSettings
from tests.test_compose_plan import custom_layouts, random_pictures

#: Largest difference from cv2.INTER_AREA, gray levels.
MAX_DIFF = 1
#: Largest share of differing pixels on realistic planes.
DIFFERING = 0.02


def cv2_area(plane: np.ndarray, window: tuple[int, int, int, int],
             size: tuple[int, int]) -> np.ndarray:
    x, y, w, h = window
    return cv2.resize(plane[y:y + h, x:x + w], size, interpolation=cv2.INTER_AREA)


def diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


@st.composite
def shrinks(draw):
    """Draw a plane, a window inside it (offset, odd sizes allowed) and a shrink of 1x..8x."""
    sw, sh = draw(st.integers(1, 260)), draw(st.integers(1, 180))
    ratio = st.floats(1.0, 8.0, allow_nan=False)
    rx, ry = draw(ratio), draw(ratio)
    dw = min(sw, max(1, round(sw / rx)))
    dh = min(sh, max(1, round(sh / ry)))
    ox, oy = draw(st.integers(0, 17)), draw(st.integers(0, 9))
    pw, ph = sw + ox + draw(st.integers(0, 5)), sh + oy + draw(st.integers(0, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if draw(st.booleans()):
        plane = rng.integers(0, 256, (ph, pw), dtype=np.uint8)
    else:  # black and white: many exact halves, the hard case for rounding
        plane = np.where(rng.random((ph, pw)) < 0.5, 0, 255).astype(np.uint8)
    return plane, (ox, oy, sw, sh), (dw, dh)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=shrinks())
def test_matches_cv2_inter_area_within_one_level(case):
    plane, window, (dw, dh) = case
    canvas = np.full((dh + 5, dw + 7), 77, dtype=np.uint8)
    view = canvas[2:2 + dh, 3:3 + dw]  # a strided view, written in place
    area_scaler(window, (dw, dh))(plane, view)
    assert diff(view, cv2_area(plane, window, (dw, dh))).max() <= MAX_DIFF
    outside = np.ones(canvas.shape, bool)
    outside[2:2 + dh, 3:3 + dw] = False
    assert (canvas[outside] == 77).all()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=shrinks(), seed=st.integers(0, 2 ** 16))
def test_pair_scaler_equals_two_single_calls(case, seed):
    plane_a, window, (dw, dh) = case
    plane_b = np.random.default_rng(seed).integers(0, 256, plane_a.shape, dtype=np.uint8)
    scratch = AreaScratch()  # shared with the single scaler, as in a plan
    single = area_scaler(window, (dw, dh), scratch=scratch)
    pair = area_pair_scaler(window, (dw, dh), scratch=scratch)
    got_a, got_b = np.empty((dh, dw), np.uint8), np.empty((dh, dw), np.uint8)
    pair(plane_a, plane_b, got_a, got_b)
    for plane, got in ((plane_a, got_a), (plane_b, got_b)):
        alone = np.empty((dh, dw), np.uint8)
        single(plane, alone)
        assert np.array_equal(got, alone)


@pytest.mark.parametrize(("window", "size"), [
    ((0, 0, 640, 360), (384, 216)),      # best fit, 17 users at 1080p
    ((219, 0, 202, 360), (72, 128)),     # best fit crop, 17 users at 360x640
    ((219, 0, 202, 360), (180, 320)),    # 1.12x
    ((110, 0, 101, 180), (36, 64)),      # its chroma
    ((0, 0, 720, 480), (240, 240)),      # 3x2: integer ratios, the most ties
    ((0, 0, 720, 480), (288, 240)),
    ((1, 3, 701, 451), (89, 57)),        # ~7.9x
    ((0, 0, 720, 480), (720, 160)),      # one axis unscaled
    ((0, 0, 640, 360), (320, 180)),      # exact halving (OpenCV's own fast path)
])
def test_realistic_planes_differ_in_few_pixels(window, size):
    plane = np.random.default_rng(sum(window)).integers(0, 256, (490, 730), dtype=np.uint8)
    got = np.empty((size[1], size[0]), np.uint8)
    area_scaler(window, size)(plane, got)
    d = diff(got, cv2_area(plane, window, size))
    assert d.max() <= MAX_DIFF
    assert (d > 0).mean() <= DIFFERING


@given(ssize=st.integers(1, 400), data=st.data())
def test_weights_are_normalised_local_and_in_bounds(ssize, data):
    dsize = data.draw(st.integers(1, ssize))
    offsets, weights = area_weights(ssize, dsize)
    k = weights.shape[1]
    assert k <= math.ceil(ssize / dsize) + 1
    assert np.allclose(weights.sum(axis=1), 1.0)
    assert (weights >= 0).all()
    assert (offsets.astype(np.int64) + k <= ssize).all()
    assert np.all(np.diff(offsets.astype(np.int64)) >= 0)


def test_not_a_shrink_and_planes_too_small_are_refused():
    with pytest.raises(ValueError, match="shrink"):
        area_scaler((0, 0, 10, 10), (11, 5))
    with pytest.raises(ValueError):
        area_weights(3, 4)
    scale = area_scaler((4, 2, 10, 8), (5, 3))
    dst = np.empty((3, 5), np.uint8)
    with pytest.raises(ValueError, match="source plane"):
        scale(np.zeros((10, 13), np.uint8), dst)  # the window ends at column 14
    with pytest.raises(ValueError, match="destination"):
        scale(np.zeros((10, 14), np.uint8), np.empty((5, 3), np.uint8))
    scale(np.zeros((10, 14), np.uint8), dst)
    assert (dst == 0).all()


# ----------------------------------------------------------------------------- in plans


def _old_and_new(regions, contents, pictures, background):
    """Draw the frame of exact_area plans: with the kernel, and with the old cv2.INTER_AREA."""
    clear_plan_cache()
    new = build_plan(regions, contents, background=background, exact_area=True).render(pictures)
    clear_plan_cache()
    # every area shrink through cv2.INTER_AREA, as before the kernel
    with mock.patch.object(plan_module, "_area_kernel", lambda scaling, dst_wh: False):
        old = build_plan(regions, contents, background=background,
                         exact_area=True).render(pictures)
    clear_plan_cache()
    return new, old


@pytest.mark.parametrize(("canvas_wh", "n"), [((1920, 1080), 17), ((360, 640), 17),
                                              ((360, 640), 4), ((640, 360), 5)])
def test_exact_area_plan_draws_what_inter_area_drew(canvas_wh, n):
    uids = [str(1000 + i) for i in range(n)]
    regions = compute_regions(LayoutSettings(mixed_video_layout=1), uids, canvas_wh=canvas_wh)
    rng = np.random.default_rng(n)
    pictures = {uid: rng.integers(16, 236, (540, 640), dtype=np.uint8) for uid in uids}
    contents = [Picture(uid, (640, 360)) for uid in uids]
    new, old = _old_and_new(regions, contents, pictures, prepare_background(canvas_wh))
    d = diff(new, old)
    assert d.max() <= MAX_DIFF
    assert (d > 0).mean() <= DIFFERING
    plan = build_plan(regions, contents, background=prepare_background(canvas_wh),
                      exact_area=True)
    assert any(plan_module._area_kernel(rp.scale_y, rp.dst_y[2:]) for rp in plan.regions
               if rp.scale_y and rp.dst_y), "the case does not reach the kernel"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layout=custom_layouts(), seed=st.integers(0, 2 ** 16))
def test_exact_area_plans_with_fit_crop_and_alpha_stay_within_one_level(layout, seed):
    regions, contents = layout
    w, h = regions.canvas_wh
    background = np.random.default_rng(seed + 1).integers(16, 236, (h * 3 // 2, w),
                                                          dtype=np.uint8)
    new, old = _old_and_new(regions, contents, random_pictures(seed), background)
    for got, was in zip(i420_planes(new), i420_planes(old), strict=True):
        assert diff(got, was).max() <= MAX_DIFF


def test_numba_is_imported_only_for_area_plans_and_compiles_on_first_draw():
    import subprocess
    import sys

    script = """
import sys
import layoutkit, layoutkit.compose
from layoutkit.compose import Picture, build_plan, prepare_background
from layoutkit.layout import compute_regions
from layoutkit.request.model import LayoutSettings
uids = [str(i) for i in range(17)]
regions = compute_regions(LayoutSettings(mixed_video_layout=1), uids, canvas_wh=(1920, 1080))
contents = [Picture(u, (640, 360)) for u in uids]
plan = build_plan(regions, contents, background=prepare_background((1920, 1080)))
assert "numba" not in sys.modules, "numba imported without an area plan"
plan = build_plan(regions, contents, background=prepare_background((1920, 1080)),
                  exact_area=True)
assert "numba" in sys.modules, "the plan does not use the kernel"
from layoutkit.compose import area
assert area._kernel().signatures == [], "compiled before the first frame"
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
