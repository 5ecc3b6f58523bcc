"""The yuv420p compositor (compose.plan / compose.yuv) against the RGB reference drawing."""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layoutkit.compose.contents import BLACK, CANVAS, CanvasBackground, Picture, Solid
from layoutkit.compose.plan import build_plan, clear_plan_cache, prepare_background
from layoutkit.compose.rgb import cover_image, draw_rgb, solid_canvas
from layoutkit.compose.yuv import (
    chroma_rect,
    i420_planes,
    i420_shape,
    i420_to_rgb,
    rgb_to_i420,
    rgb_to_yuv,
    solid_i420,
)
from layoutkit.layout import compute_regions
from layoutkit.layout.regions import make_regions
from layoutkit.request.model import LayoutSettings
from tests.helpers import assert_color, save_failure

#: Mean absolute RGB error allowed against the RGB reference (4:2:0 chroma at sharp colour
#: edges, bilinear vs area scaling, YUV rounding).
MAE_TOL = 3.0
#: Per-channel error allowed for a flat colour after the RGB -> YUV -> RGB round trip.
COLOR_TOL = 2

SRC_WH = (320, 180)
BG_COLOR = (30, 60, 90)


def gradient(size_wh: tuple[int, int], k: int) -> np.ndarray:
    """Draw a smooth RGB test picture, different for each ``k``."""
    w, h = size_wh
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 40 + 170 * xx / max(1, w - 1)
    g = 30 + 180 * yy / max(1, h - 1)
    b = (60 + 37 * k + 60 * (xx + yy) / max(1, w + h - 2)) % 200 + 20
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def compare(got_i420: np.ndarray, expected_rgb: np.ndarray, name: str) -> None:
    got = i420_to_rgb(got_i420)
    mae = float(np.abs(got.astype(np.int16) - expected_rgb).mean())
    if mae > MAE_TOL:
        save_failure(name, np.concatenate([got, expected_rgb], axis=1))
        pytest.fail(f"{name}: mean abs error {mae:.2f} > {MAE_TOL}")


def users(n: int) -> list[str]:
    return [str(i + 1) for i in range(n)]


# ----------------------------------------------------------------------------- yuv


def test_colour_matrix_is_bt601_limited_range():
    assert rgb_to_yuv((0, 0, 0)) == (16, 128, 128)
    assert rgb_to_yuv((255, 255, 255)) == (235, 128, 128)
    assert rgb_to_yuv((255, 0, 0)) == (81, 90, 240)
    assert rgb_to_yuv((0, 0, 255)) == (41, 240, 110)


def test_i420_layout_and_matrix_match_pyav():
    av = pytest.importorskip("av")
    for rgb in [(255, 0, 0), (12, 200, 77), (128, 128, 128)]:
        buf = solid_i420((64, 32), rgb)
        frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
        assert [p.width for p in frame.planes] == [64, 32, 32]
        assert np.array_equal(frame.to_ndarray(), buf)
        got = frame.to_ndarray(format="rgb24")
        assert np.abs(got.astype(int) - rgb).max() <= 3


def test_rgb_i420_round_trip_and_chroma_is_block_mean():
    picture = gradient((96, 64), 1)
    back = i420_to_rgb(rgb_to_i420(picture))
    assert np.abs(back.astype(int) - picture).mean() < 1.0
    # one red pixel in a black 2x2 block: chroma is the mean, not the top-left sample
    block = np.zeros((2, 2, 3), np.uint8)
    block[1, 1] = (255, 0, 0)
    _, _u, v = i420_planes(rgb_to_i420(block))
    assert int(v[0, 0]) == round(128 + (240 - 128) / 4)
    assert rgb_to_i420(np.zeros((7, 9, 3), np.uint8)).shape == (12, 10)


def test_chroma_rect_rounds_odd_edges_outwards():
    assert chroma_rect((0, 0, 10, 10)) == (0, 0, 5, 5)
    assert chroma_rect((93, 482, 85, 150)) == (46, 241, 43, 75)
    assert chroma_rect((1, 1, 1, 1)) == (0, 0, 1, 1)


# ----------------------------------------------------------------------------- drawing


def bestfit_case():
    regions = compute_regions(LayoutSettings(mixed_video_layout=1), users(5),
                              canvas_wh=(640, 360))
    pictures = [gradient(SRC_WH, k) for k in range(5)]
    return regions, pictures, solid_canvas((640, 360), BG_COLOR), None


def vertical_case():
    regions = compute_regions(LayoutSettings(mixed_video_layout=2, max_resolution_uid="1"),
                              users(6), canvas_wh=(640, 360))
    pictures = [gradient((240, 320) if k == 0 else SRC_WH, k) for k in range(6)]
    return regions, pictures, solid_canvas((640, 360), BG_COLOR), None


def custom_case():
    """Overlapping regions, crop and fit, alpha 0.5, over a background image."""
    fractions = [[0.0, 0.0, 0.6, 0.7], [0.3, 0.2, 0.5, 0.6], [0.55, 0.05, 0.4, 0.3],
                 [0.05, 0.6, 0.3, 0.35], [0.7, 0.6, 0.25, 0.35]]
    regions = make_regions(fractions, users(5), canvas_wh=(360, 640),
                           render_modes=[0, 1, 0, 1, 0], alphas=[1, 0.5, 1, 0.5, 0.5])
    pictures = [gradient(SRC_WH, k) for k in range(5)]
    image = gradient((500, 300), 9)
    return regions, pictures, cover_image(image, (360, 640)), image


@pytest.mark.parametrize("case", [bestfit_case, vertical_case, custom_case])
def test_matches_rgb_reference(case):
    regions, pictures, bg_rgb, image = case()
    canvas_wh = regions.canvas_wh
    background = prepare_background(canvas_wh, color=BG_COLOR, image=image)
    contents = [Picture(i, (p.shape[1], p.shape[0])) for i, p in enumerate(pictures)]
    plan = build_plan(regions, contents, background=background)
    got = plan.render({i: rgb_to_i420(p) for i, p in enumerate(pictures)})
    compare(got, draw_rgb(bg_rgb, regions, pictures), case.__name__)


def test_exact_area_option_matches_reference_too():
    regions, pictures, bg_rgb, _ = bestfit_case()
    background = prepare_background(regions.canvas_wh, color=BG_COLOR)
    contents = [Picture(i, SRC_WH) for i in range(len(pictures))]
    plan = build_plan(regions, contents, background=background, exact_area=True)
    got = plan.render({i: rgb_to_i420(p) for i, p in enumerate(pictures)})
    compare(got, draw_rgb(bg_rgb, regions, pictures), "exact_area")


def test_solid_pictures_keep_their_colour_at_region_centres():
    colours = [(200, 30, 40), (20, 180, 60), (40, 60, 220), (250, 250, 250), (0, 0, 0),
               (128, 128, 128), (255, 200, 0)]
    regions = compute_regions(LayoutSettings(mixed_video_layout=1), users(len(colours)),
                              canvas_wh=(640, 360))
    background = prepare_background((640, 360), color=BG_COLOR)
    contents = [Picture(i, SRC_WH) for i in range(len(colours))]
    plan = build_plan(regions, contents, background=background)
    got = i420_to_rgb(plan.render({i: solid_i420(SRC_WH, c) for i, c in enumerate(colours)}))
    for (x, y, w, h), colour in zip(regions.rects.tolist(), colours, strict=True):
        assert_color(got, (x + w // 2, y + h // 2), colour, tol=COLOR_TOL, name="solid_centres")
    # away from region edges (chroma is shared there)
    outside = np.argwhere(cv2.erode((~painted_masks(regions, (640, 360))[0]).astype(np.uint8),
                                    np.ones((5, 5), np.uint8)))
    assert len(outside)  # 7 tiles leave cells empty
    y, x = outside[len(outside) // 2]
    assert_color(got, (int(x), int(y)), BG_COLOR, tol=COLOR_TOL, name="solid_centres")


def test_contents_solid_black_canvas_background_and_transparent():
    regions = make_regions([[0, 0, 1, 1], [0.1, 0.1, 0.3, 0.3], [0.5, 0.1, 0.3, 0.3],
                            [0.1, 0.5, 0.3, 0.3], [0.5, 0.5, 0.3, 0.3]],
                           users(5), canvas_wh=(200, 100), alphas=[1, 1, 1, 1, 0.5])
    image = gradient((200, 100), 3)
    background = prepare_background((200, 100), image=image)
    red = (220, 20, 20)
    contents = [Picture("p", SRC_WH), BLACK, CANVAS, None, Solid((0, 0, 255))]
    plan = build_plan(regions, contents, background=background)
    got = i420_to_rgb(plan.render({"p": solid_i420(SRC_WH, red)}))
    assert_color(got, (35, 25), (0, 0, 0), tol=COLOR_TOL, name="contents")       # BLACK
    assert_color(got, (115, 25), tuple(int(c) for c in image[25, 115]), tol=4,
                 name="contents")                                                 # CANVAS
    assert_color(got, (35, 65), red, tol=COLOR_TOL, name="contents")             # None
    blended = tuple(round(0.5 * a + 0.5 * b) for a, b in zip(red, (0, 0, 255), strict=True))
    assert_color(got, (115, 65), blended, tol=3, name="contents")                # alpha


def test_fit_bars_are_black_and_crop_fills_the_region():
    regions = make_regions([[0.0, 0.0, 0.5, 1.0], [0.5, 0.0, 0.5, 1.0]], users(2),
                           canvas_wh=(320, 240), render_modes=[1, 0])
    background = prepare_background((320, 240), color=(255, 255, 255))
    colour = (40, 160, 90)
    plan = build_plan(regions, [Picture("a", SRC_WH), Picture("b", SRC_WH)],
                      background=background)
    canvas = plan.render({"a": solid_i420(SRC_WH, colour), "b": solid_i420(SRC_WH, colour)})
    fit = plan.regions[0]
    assert fit.dst_y is not None and fit.bars_y and fit.bars_c
    y, u, v = i420_planes(canvas)
    for x0, y0, w, h in fit.bars_y:
        assert (y[y0:y0 + h, x0:x0 + w] == 16).all()
    for x0, y0, w, h in fit.bars_c:
        assert (u[y0:y0 + h, x0:x0 + w] == 128).all() and (v[y0:y0 + h, x0:x0 + w] == 128).all()
    rgb = i420_to_rgb(canvas)
    assert_color(rgb, (80, 120), colour, tol=COLOR_TOL, name="fit")
    # crop: the whole right half is the picture colour
    right = rgb[:, 161:].reshape(-1, 3).astype(int)
    assert np.abs(right - colour).max() <= COLOR_TOL


def painted_masks(regions, canvas_wh):
    w, h = canvas_wh
    my = np.zeros((h, w), bool)
    mc = np.zeros((h // 2, w // 2), bool)
    for rect in regions.rects.tolist():
        x, y, rw, rh = rect
        my[y:y + rh, x:x + rw] = True
        cx, cy, cw, ch = chroma_rect(tuple(rect))
        mc[cy:cy + ch, cx:cx + cw] = True
    return my, mc


@pytest.mark.parametrize("mode,canvas_wh", [(0, (360, 640)), (1, (1920, 1080)),
                                            (2, (640, 360))])
def test_regions_with_odd_edges_leave_no_pixel_unpainted(mode, canvas_wh):
    regions = compute_regions(LayoutSettings(mixed_video_layout=mode, max_resolution_uid="3"),
                              users(17), canvas_wh=canvas_wh)
    # a sentinel background no picture can produce: Y = U = V = 0 (outside limited range)
    sentinel = np.zeros(i420_shape(canvas_wh), np.uint8)
    contents = [Picture(i % 4, SRC_WH) for i in range(len(regions))]
    pictures = {k: rgb_to_i420(gradient(SRC_WH, k)) for k in range(4)}
    plan = build_plan(regions, contents, background=sentinel)
    canvas = plan.start()
    plan.draw(canvas, pictures)
    my, mc = painted_masks(regions, canvas_wh)
    for plane, mask in zip(i420_planes(canvas), (my, mc, mc), strict=True):
        assert (plane[mask] != 0).all(), "a pixel inside a region was not painted"
        assert (plane[~mask] == 0).all(), "draw wrote outside the regions"


def alpha_case():
    fractions = [[0.0, 0.0, 0.7, 0.7], [0.2, 0.2, 0.5, 0.5], [0.45, 0.05, 0.5, 0.5],
                 [0.1, 0.55, 0.33, 0.43], [0.55, 0.5, 0.41, 0.45], [0.6, 0.6, 0.2, 0.2]]
    regions = make_regions(fractions, users(6), canvas_wh=(322, 182),
                           render_modes=[0, 1, 1, 0, 0, 1], alphas=[1, 0.5, 0.3, 1, 0.6, 0.8])
    contents = [Picture("a", SRC_WH), Picture("b", (180, 320)), CANVAS, BLACK,
                Solid((10, 200, 10)), Picture("c", (64, 64), render_mode=0)]
    background = prepare_background((322, 182), image=gradient((400, 300), 5))
    return regions, contents, background


def frame_pictures(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = {"a": SRC_WH, "b": (180, 320), "c": (64, 64)}
    return {k: rgb_to_i420(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
            for k, (w, h) in sizes.items()}


def test_incremental_draw_equals_fresh_draw():
    regions, contents, background = alpha_case()
    plan = build_plan(regions, contents, background=background)
    canvas = plan.start()
    for seed in range(3):
        plan.draw(canvas, frame_pictures(seed))
        assert np.array_equal(canvas, plan.render(frame_pictures(seed)))
    assert len(plan.restores) >= 1  # alpha regions not inside an opaque picture


def test_draw_allocates_no_canvas():
    regions = compute_regions(LayoutSettings(mixed_video_layout=1), users(17),
                              canvas_wh=(1920, 1080))
    background = prepare_background((1920, 1080))
    plan = build_plan(regions, [Picture(i, SRC_WH) for i in range(17)], background=background)
    pictures = {i: solid_i420(SRC_WH, (i * 10, 100, 50)) for i in range(17)}
    canvas = plan.start()
    plan.draw(canvas, pictures)
    tracemalloc.start()
    try:
        plan.draw(canvas, pictures)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < canvas.nbytes // 20


def test_plan_cache_returns_the_same_plan():
    clear_plan_cache()
    regions, contents, background = alpha_case()
    first = build_plan(regions, contents, background=background)
    assert build_plan(regions, list(contents), background=background) is first
    other = build_plan(regions, contents, background=background.copy())
    assert other is not first
    assert build_plan(regions, contents, background=background, exact_area=True) is not first


def test_bad_inputs_are_reported():
    regions, contents, background = alpha_case()
    with pytest.raises(ValueError, match="contents"):
        build_plan(regions, contents[:-1], background=background)
    with pytest.raises(ValueError, match="background"):
        build_plan(regions, contents, background=background[:-2])
    plan = build_plan(regions, contents, background=background)
    bad = frame_pictures(0)
    bad["a"] = bad["a"][:-6]
    with pytest.raises(ValueError, match="'a'"):
        plan.draw(plan.start(), bad)


# ----------------------------------------------------------------------------- property

CANVASES = [(64, 48), (90, 62), (160, 90), (38, 70)]
PICTURE_SIZES = [(32, 18), (18, 32), (40, 40), (100, 56), (8, 60)]


@st.composite
def custom_layouts(draw):
    canvas_wh = draw(st.sampled_from(CANVASES))
    n = draw(st.integers(1, 6))
    frac = st.floats(0.0, 1.0, allow_nan=False).map(lambda v: round(v, 3))
    rows, modes, alphas, contents = [], [], [], []
    for _ in range(n):
        x, y = draw(frac), draw(frac)
        w = draw(st.floats(0.0, 1.0 - x)) if x < 1 else 0.0
        h = draw(st.floats(0.0, 1.0 - y)) if y < 1 else 0.0
        rows.append([x, y, round(w, 3), round(h, 3)])
        modes.append(draw(st.sampled_from([0, 1])))
        alphas.append(draw(st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.0, 0.9])))
        kind = draw(st.sampled_from(["picture", "picture", "solid", "canvas", "none"]))
        if kind == "picture":
            size = draw(st.sampled_from(PICTURE_SIZES))
            mode = draw(st.sampled_from([None, None, 0, 1]))
            contents.append(Picture(f"p{PICTURE_SIZES.index(size)}", size, mode))
        elif kind == "solid":
            contents.append(Solid(draw(st.sampled_from([(0, 0, 0), (250, 20, 90)]))))
        elif kind == "canvas":
            contents.append(CanvasBackground())
        else:
            contents.append(None)
    regions = make_regions(rows, users(n), canvas_wh=canvas_wh, render_modes=modes,
                           alphas=alphas)
    return regions, contents


def random_pictures(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"p{i}": rng.integers(16, 236, (h * 3 // 2, w), dtype=np.uint8)
            for i, (w, h) in enumerate(PICTURE_SIZES)}


def painted_naively(plan, pictures):
    """Paint every step of every region naively: the oracle for the scheduling.

    Every step of every region, in paint order, over a copy of the background (no restores,
    nothing done only at start).  White-box: uses the plan's own per-region steps, whose
    pixels the RGB reference tests check.
    """
    from layoutkit.compose import plan as plan_module

    canvas = plan.background.copy()
    y, u, v = i420_planes(canvas)
    bg = i420_planes(plan.background)
    for rp in plan.regions:
        for write in plan_module._region_writes(rp, bg):
            write.step(y, u, v, pictures)
    return canvas


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layout=custom_layouts(), seed=st.integers(0, 2**16), exact=st.booleans())
def test_incremental_equals_fresh_equals_naive_and_outside_is_background(layout, seed, exact):
    regions, contents = layout
    w, h = regions.canvas_wh
    background = np.random.default_rng(seed + 1).integers(
        16, 236, (h * 3 // 2, w), dtype=np.uint8)
    plan = build_plan(regions, contents, background=background, exact_area=exact)
    canvas = plan.start()
    plan.draw(canvas, random_pictures(seed))
    plan.draw(canvas, random_pictures(seed + 7))
    fresh = plan.render(random_pictures(seed + 7))
    assert np.array_equal(canvas, fresh)
    assert np.array_equal(fresh, painted_naively(plan, random_pictures(seed + 7)))
    my, mc = painted_masks(regions, (w, h))
    for plane, bg, mask in zip(i420_planes(canvas), i420_planes(background), (my, mc, mc),
                                   strict=True):
        assert np.array_equal(plane[~mask], bg[~mask])


# ----------------------------------------------------------------------------- unchanged


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layout=custom_layouts(), seed=st.integers(0, 2**16),
       keep=st.sets(st.integers(0, len(PICTURE_SIZES) - 1)))
def test_skipping_unchanged_pictures_draws_the_same_frame(layout, seed, keep):
    regions, contents = layout
    w, h = regions.canvas_wh
    background = np.random.default_rng(seed + 1).integers(
        16, 236, (h * 3 // 2, w), dtype=np.uint8)
    plan = build_plan(regions, contents, background=background)
    canvas = plan.start()
    first = random_pictures(seed)
    plan.draw(canvas, first)
    kept = {f"p{i}" for i in keep}
    second = {k: (first[k] if k in kept else v) for k, v in random_pictures(seed + 7).items()}
    plan.draw(canvas, second, unchanged=kept)
    assert np.array_equal(canvas, plan.render(second))


def test_unchanged_opaque_tiles_are_not_drawn_again_but_covered_ones_are():
    regions = compute_regions(LayoutSettings(mixed_video_layout=1), users(4),
                              canvas_wh=(640, 360))
    background = prepare_background((640, 360))
    plan = build_plan(regions, [Picture(i, SRC_WH) for i in range(4)], background=background)
    assert plan.skippable == frozenset(range(4))
    old = {i: solid_i420(SRC_WH, (200, 40, 40)) for i in range(4)}
    new = {i: solid_i420(SRC_WH, (40, 200, 40)) for i in range(4)}
    canvas = plan.start()
    plan.draw(canvas, old)
    plan.draw(canvas, new, unchanged={0, 1})  # a false promise shows what was skipped
    got = i420_to_rgb(canvas)
    for i, (x, y, rw, rh) in enumerate(regions.rects.tolist()):
        centre = got[y + rh // 2, x + rw // 2].astype(int)
        expected = (200, 40, 40) if i in (0, 1) else (40, 200, 40)
        assert np.abs(centre - expected).max() <= COLOR_TOL, (i, centre)
    floating = compute_regions(LayoutSettings(mixed_video_layout=0), users(3),
                               canvas_wh=(360, 640))
    plan = build_plan(floating, [Picture(i, SRC_WH) for i in range(3)],
                      background=prepare_background((360, 640)))
    assert 0 not in plan.skippable  # the full-canvas picture lies under the small windows
