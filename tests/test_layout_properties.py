"""Property tests (hypothesis) for layout invariants, plus to_pixels edge cases."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from layoutkit.layout import compute_regions, to_pixels
from layoutkit.profile import PROFILE_CHOICES, Profile
from layoutkit.request.model import LayoutRegion, LayoutSettings

canvases = st.tuples(st.integers(16, 1920), st.integers(16, 1920))
profiles = st.builds(Profile, **{k: st.sampled_from(v) for k, v in PROFILE_CHOICES.items()})


def _uids(n: int) -> list[str]:
    return [str(1000 + i) for i in range(n)]


def _inside(rects: np.ndarray, canvas: tuple[int, int]) -> bool:
    x, y, w, h = rects.T
    return bool(np.all(x >= 0) and np.all(y >= 0) and np.all(x + w <= canvas[0])
                and np.all(y + h <= canvas[1]) and np.all(w >= 0) and np.all(h >= 0))


def _pairwise_overlap(rects: np.ndarray) -> bool:
    x0, y0 = rects[:, 0], rects[:, 1]
    x1, y1 = x0 + rects[:, 2], y0 + rects[:, 3]
    ox = np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None])
    oy = np.minimum(y1[:, None], y1[None]) - np.maximum(y0[:, None], y0[None])
    inter = (ox > 0) & (oy > 0)
    np.fill_diagonal(inter, False)
    return bool(inter.any())


@settings(max_examples=120, deadline=None)
@given(mode=st.integers(0, 2), n=st.integers(0, 20), canvas=canvases, profile=profiles,
       large=st.booleans())
def test_predefined_regions_stay_inside_and_are_deterministic(mode, n, canvas, profile, large):
    uids = _uids(n)
    layout = LayoutSettings(mixed_video_layout=mode,
                            max_resolution_uid=uids[n // 2] if (large and n) else None)
    a = compute_regions(layout, uids, canvas_wh=canvas, profile=profile)
    b = compute_regions(layout, list(uids), canvas_wh=canvas, profile=profile)
    assert a == b
    assert _inside(a.rects, canvas)
    assert len(a) <= 17
    drawn = [u for u in a.uids if u is not None]
    assert len(set(drawn)) == len(drawn)
    assert set(drawn) <= set(uids[:17])
    if mode in (1, 2):
        assert not _pairwise_overlap(a.rects)
    if mode == 0 and n:
        assert a.rects[0].tolist() == [0, 0, canvas[0], canvas[1]]


@settings(max_examples=120, deadline=None)
@given(n=st.integers(1, 17), canvas=canvases)
def test_bestfit_tiles_differ_by_at_most_one_pixel(n, canvas):
    rects = compute_regions(LayoutSettings(mixed_video_layout=1), _uids(n), canvas_wh=canvas).rects
    assert rects[:, 2].max() - rects[:, 2].min() <= 1
    assert rects[:, 3].max() - rects[:, 3].min() <= 1


@st.composite
def custom_regions(draw):
    count = draw(st.integers(1, 17))
    regions = []
    for _ in range(count):
        x = draw(st.integers(0, 999_999)) / 1e6
        y = draw(st.integers(0, 999_999)) / 1e6
        w = draw(st.integers(1, round((1 - x) * 1e6))) / 1e6
        h = draw(st.integers(1, round((1 - y) * 1e6))) / 1e6
        regions.append(LayoutRegion(x_axis=x, y_axis=y, width=w, height=h,
                                    uid=draw(st.none() | st.sampled_from(_uids(20))),
                                    alpha=draw(st.integers(0, 100)) / 100,
                                    render_mode=draw(st.integers(0, 1))))
    seen: set[str] = set()
    unique = []
    for r in regions:  # the validator forbids duplicated uids
        if r.uid in seen:
            r = LayoutRegion(r.x_axis, r.y_axis, r.width, r.height, None, r.alpha, r.render_mode)
        if r.uid:
            seen.add(r.uid)
        unique.append(r)
    return tuple(unique)


@settings(max_examples=120, deadline=None)
@given(config=custom_regions(), n=st.integers(0, 20), canvas=canvases)
def test_custom_regions_inside_and_each_user_at_most_once(config, n, canvas):
    layout = LayoutSettings(mixed_video_layout=3, layout_config=config)
    regions = compute_regions(layout, _uids(n), canvas_wh=canvas)
    assert len(regions) == len(config)
    assert _inside(regions.rects, canvas)
    drawn = [u for u in regions.uids if u is not None]
    assert len(set(drawn)) == len(drawn)
    assert set(drawn) <= set(_uids(n)[:17])
    np.testing.assert_allclose(regions.alphas, [r.alpha for r in config], rtol=1e-6)
    assert regions.render_modes.tolist() == [r.render_mode for r in config]


@settings(max_examples=200, deadline=None)
@given(a=st.integers(0, 1_000_000), b=st.integers(0, 1_000_000), size=st.integers(1, 4000))
def test_to_pixels_neighbours_share_edges(a, b, size):
    """Two regions meeting at a fractional edge meet at one pixel edge (no gap, no overlap)."""
    lo, hi = sorted((a / 1e6, b / 1e6))
    left = [0.0, 0.0, lo, 1.0]
    right = [lo, 0.0, hi - lo, 1.0]
    px = to_pixels([left, right], (size, size))
    assert px[0, 0] + px[0, 2] == px[1, 0]


def test_to_pixels_rounds_half_up():
    # 0.5 * 3 = 1.5 -> 2 (half up, not to even); 0.25 * 10 = 2.5 -> 3
    assert to_pixels([[0.5, 0.25, 0.5, 0.75]], (3, 10)).tolist() == [[2, 3, 1, 7]]
    # 0.012 * 360 = 4.32 -> 4 ; (0.012 + 0.235) * 360 = 88.92 -> 89
    assert to_pixels([[0.012, 0.0, 0.235, 1.0]], (360, 640)).tolist() == [[4, 0, 85, 640]]
