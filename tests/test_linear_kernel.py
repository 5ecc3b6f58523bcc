"""The separable bilinear kernel (compose.linear) and the plans that draw with it (issue 23).

What is asserted: every pixel within 1 gray level of ``cv2.resize(..., INTER_LINEAR)`` (the
same weights; OpenCV rounds them to 11 bits and truncates between its passes, we round once),
for shrinks and enlargements and every order of the passes; the two-plane scaler equals two
one-plane ones; a plan with ``fast_linear=True`` draws incrementally what it draws fresh,
stays within 1 gray level of the OpenCV plan and really uses the kernel; the row kernel's
helpers (one per tap count) compute the weighted sums.  The benchmark's machine block and
its check that the sources change are tested at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layoutkit.compose import plan as plan_module
from layoutkit.compose.area import AreaScratch
from layoutkit.compose.linear import linear_pair_scaler, linear_scaler, linear_weights, pass_order
from layoutkit.compose.plan import build_plan
from layoutkit.compose.yuv import i420_planes
from tests.test_compose_plan import custom_layouts, random_pictures


def cv2_linear(plane: np.ndarray, window: tuple[int, int, int, int],
               size: tuple[int, int]) -> np.ndarray:
    x, y, w, h = window
    return cv2.resize(plane[y:y + h, x:x + w], size, interpolation=cv2.INTER_LINEAR)


def diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


@st.composite
def resizes(draw):
    """Draw a plane, a window inside it and any destination size (shrink or enlargement)."""
    sw, sh = draw(st.integers(1, 200)), draw(st.integers(1, 120))
    dw = draw(st.sampled_from([sw, draw(st.integers(1, 400))]))
    dh = draw(st.sampled_from([sh, draw(st.integers(1, 240))]))
    ox, oy = draw(st.integers(0, 9)), draw(st.integers(0, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    plane = rng.integers(0, 256, (sh + oy + 3, sw + ox + 2), dtype=np.uint8)
    if draw(st.booleans()):
        plane = (plane > 127).astype(np.uint8) * 255  # many exact halves
    return plane, (ox, oy, sw, sh), (dw, dh)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=resizes())
def test_within_one_gray_level_of_opencv_and_writes_only_its_view(case):
    plane, window, (dw, dh) = case
    canvas = np.zeros((dh + 4, dw + 6), np.uint8)
    view = canvas[2:2 + dh, 3:3 + dw]
    linear_scaler(window, (dw, dh))(plane, view)
    assert diff(view, cv2_linear(plane, window, (dw, dh))).max() <= 1
    view[...] = 0
    assert not canvas.any()  # nothing written around the view


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=resizes())
def test_the_pair_scaler_equals_two_single_ones(case):
    plane, window, (dw, dh) = case
    other = plane[::-1, ::-1].copy()
    a, b = np.empty((dh, dw), np.uint8), np.empty((dh, dw), np.uint8)
    linear_pair_scaler(window, (dw, dh), scratch=AreaScratch())(plane, other, a, b)
    for source, got in ((plane, a), (other, b)):
        alone = np.empty((dh, dw), np.uint8)
        linear_scaler(window, (dw, dh))(source, alone)
        assert np.array_equal(got, alone)


@pytest.mark.parametrize(("src", "dst", "order"), [
    ((640, 360), (384, 216), "v"), ((640, 360), (1920, 1080), "h"),
    ((202, 360), (360, 640), "h"), ((640, 360), (640, 100), "v1")])
def test_every_pass_order_on_real_tile_sizes(src, dst, order):
    assert pass_order(src, dst) == order
    rng = np.random.default_rng(3)
    plane = rng.integers(0, 256, (src[1], src[0]), dtype=np.uint8)
    out = np.empty((dst[1], dst[0]), np.uint8)
    linear_scaler((0, 0, *src), dst)(plane, out)
    d = diff(out, cv2_linear(plane, (0, 0, *src), dst))
    assert d.max() <= 1
    assert (d > 0).mean() < 0.25


def test_weights_are_opencvs_positions():
    offsets, weights = linear_weights(640, 384)  # 5:3, period 3
    assert offsets[:6].tolist() == [0, 2, 3, 5, 7, 8]
    assert np.allclose(weights[:3], [[2 / 3, 1 / 3], [1.0, 0.0], [1 / 3, 2 / 3]], atol=1e-6)
    offsets, weights = linear_weights(2, 6)  # enlargement: edges clamped
    assert weights[0].tolist() == [1.0, 0.0] and weights[-1].tolist() == [0.0, 1.0]
    assert linear_weights(1, 3)[1].tolist() == [[1.0], [1.0], [1.0]]
    with pytest.raises(ValueError, match="at least 1"):
        linear_weights(0, 3)


def test_bad_planes_are_refused():
    scale = linear_scaler((4, 2, 40, 30), (20, 50))
    with pytest.raises(ValueError, match="source plane"):
        scale(np.zeros((31, 44), np.uint8), np.zeros((50, 20), np.uint8))
    with pytest.raises(ValueError, match="destination"):
        scale(np.zeros((32, 44), np.uint8), np.zeros((50, 21), np.uint8))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layout=custom_layouts(), seed=st.integers(0, 2 ** 16), exact=st.booleans())
def test_fast_linear_plans_draw_like_fresh_and_like_opencv(layout, seed, exact):
    regions, contents = layout
    w, h = regions.canvas_wh
    background = np.random.default_rng(seed + 1).integers(
        16, 236, (h * 3 // 2, w), dtype=np.uint8)
    fast = build_plan(regions, contents, background=background, exact_area=exact,
                      fast_linear=True)
    canvas = fast.start()
    fast.draw(canvas, random_pictures(seed))
    fast.draw(canvas, random_pictures(seed + 7))
    assert np.array_equal(canvas, fast.render(random_pictures(seed + 7)))
    slow = build_plan(regions, contents, background=background, exact_area=exact)
    # Each tile within 1 gray level; a blend of translucent tiles rounds once more (two
    # stacked alpha-0.5 tiles over a bilinear tile reached 2 in a search of 60 layouts).
    limit = 1 if bool((regions.alphas >= 1).all()) else 2
    assert diff(canvas, slow.render(random_pictures(seed + 7))).max() <= limit


def test_fast_linear_is_used_for_the_bilinear_tiles_only():
    """White-box: which steps go through the kernel (the issue's bottleneck, issue 23)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import compose as bench

    case = bench.CASES["compose-1920x1080-bestfit-17"]
    regions = bench.case_regions(case)
    from layoutkit.compose.contents import Picture
    from layoutkit.compose.plan import prepare_background

    contents = [Picture(u, bench.SOURCE_WH) for u in regions.uids]
    background = prepare_background(case.canvas_wh)
    fast = build_plan(regions, contents, background=background, fast_linear=True)
    assert all(rp.scale_y.separable and rp.scale_c.separable for rp in fast.regions)
    plain = build_plan(regions, contents, background=background)
    assert not any(rp.scale_y.separable for rp in plain.regions)
    same = plan_module._scaling((0, 0, 640, 360), (640, 360), exact_area=False,
                                fast_linear=True)
    assert not same.separable  # a plain copy stays OpenCV's
    frames = bench.source_frames([u for u in regions.uids if u], count=1)[0]
    a, b = fast.render(frames), plain.render(frames)
    assert 0 < (a != b).mean() < 0.2 and diff(a, b).max() <= 1


@pytest.mark.parametrize("taps", [1, 2, 3, 4, 5, 6, 7])
def test_row_kernel_sums_every_tap_count(taps):
    from layoutkit.compose import area

    rows = area._kernel()
    rng = np.random.default_rng(taps)
    src = rng.integers(0, 256, (40, 30), dtype=np.uint8)
    offsets = rng.integers(0, 40 - taps - 2, 9).astype(np.uint64)
    weights = rng.random((9, taps)).astype(np.float32)
    weights /= weights.sum(axis=1, keepdims=True)
    out = np.zeros((9, 30), np.uint16)
    rows(src, 2, 1, 25, out, offsets, weights * np.float32(256), np.empty(30, np.float32))
    ref = np.array([sum(float(weights[i, t]) * 256 * src[2 + int(offsets[i]) + t, 1:26]
                        .astype(np.float64) for t in range(taps)) for i in range(9)])
    assert np.abs(out[:, :25] - ref).max() <= 0.51
    assert not out[:, 25:].any()


# ----------------------------------------------------------------------- the benchmark


def _bench():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import _common
    import compose

    return _common, compose


def test_machine_block_records_what_decides_the_result():
    common, _ = _bench()
    info = common.machine(copy=[common.copy_bandwidth(1 << 16, seconds=0.01)])
    cpu = info["cpu"]
    assert {"model_name", "family", "model", "flags", "avx512", "count"} <= set(cpu)
    flags = Path("/proc/cpuinfo").read_text().split("flags", 1)[1].split("\n", 1)[0]
    assert ("avx2" in cpu["flags"]) == (" avx2" in flags)
    assert any(c["level"] == "2" for c in info["caches"])
    assert info["opencv"]["cpu_features"] and info["versions"]["numpy"] == np.__version__
    assert info["copy"][0]["gb_per_s_cpu"] > 0


def test_source_check_sees_frames_that_do_not_change():
    _, compose = _bench()
    frames = compose.source_frames(["1000", "1001"], count=3)
    assert compose.source_check(frames, half_rate=False)["consecutive_contents_differ"]
    same = [frames[0], frames[0], frames[1]]
    assert not compose.source_check(same, half_rate=False)["consecutive_contents_differ"]
    assert compose.source_check(frames, half_rate=True)["changed_share_of_frames"] == 0.5
    planes = i420_planes(frames[0]["1000"])
    assert planes[0].shape == (360, 640)
