"""The compositor's speed work keeps its pixels (issue 23 item 3).

The row kernel prefetches the 8-bit source rows it reads next; that must change no pixel.
Asserted three ways: the compiled kernel carries the prefetch (x86-64), the kernel on an
8-bit plane (prefetching) equals the kernel on the same values in a 16-bit plane (which
does not prefetch) for every tap count and windows that reach the plane's last row and
column, and plans of the benchmark's kinds draw the canvases they drew before (hashes
pinned from the code before the change, on a CPU with fused multiply-adds).
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import layoutkit
from layoutkit.compose import plan as plan_module
from layoutkit.compose.contents import Picture
from layoutkit.compose.plan import build_plan, clear_plan_cache, prepare_background
from layoutkit.compose.yuv import i420_shape
from layoutkit.layout import compute_regions
from layoutkit.request.model import LayoutSettings

X86 = platform.machine().lower() in {"x86_64", "amd64"}


def _has_fma() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return X86 and " fma " in flags and " avx2 " in flags


def _kernels():  # imported lazily: importing it imports Numba (see test_area_kernel)
    from layoutkit.compose import _kernels
    return _kernels


_ASM = """
import numpy as np
from layoutkit.compose import _kernels
src = np.zeros((40, 64), np.uint8)
out = np.zeros((10, 64), np.uint8)
offsets = np.arange(0, 40, 4, dtype=np.uint64)
weights = np.full((10, 4), 0.25, np.float32)
_kernels.rows(src, 0, 0, 64, out, offsets, weights, np.zeros(64, np.float32))
print("".join(_kernels.rows.inspect_asm().values()))
"""


@pytest.mark.slow  # compiles the kernel afresh: 5-12 s
@pytest.mark.skipif(not X86, reason="looks for the x86 prefetch instruction")
def test_row_kernel_prefetches_its_8bit_sources(tmp_path):
    # compiled afresh (a kernel loaded from Numba's cache has no assembly to show)
    # (the layoutkit this test imported, not the one of the working directory)
    root = str(Path(layoutkit.__file__).resolve().parents[1])
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": root}
    done = subprocess.run([sys.executable, "-c", _ASM], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=True)
    assert "prefetch" in done.stdout


@st.composite
def row_passes(draw):
    """Draw a plane, a window reaching its last row and column, and ``k`` taps per row."""
    k = draw(st.integers(1, 9))
    rows_out = draw(st.integers(1, 40))
    n = draw(st.integers(1, 150))
    c0, r0 = draw(st.integers(0, 20)), draw(st.integers(0, 6))
    height = draw(st.integers(k, 90))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    plane = rng.integers(0, 256, (r0 + height, c0 + n), dtype=np.uint8)
    offsets = np.sort(rng.integers(0, height - k + 1, rows_out)).astype(np.uint64)
    offsets[-1] = height - k  # the last output row reads the plane's last row
    weights = rng.random((rows_out, k)).astype(np.float32)
    weights *= np.float32(draw(st.sampled_from([1.0, 256.0]))) / weights.sum(1, keepdims=True)
    return plane, r0, c0, n, offsets, weights


@given(row_passes(), st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_prefetching_changes_no_pixel(case, wide):
    kernels = _kernels()
    plane, r0, c0, n, offsets, weights = case
    rows = kernels.rows_wide if wide else kernels.rows
    acc = np.zeros(n, np.float32)
    for out_type in (np.uint8, np.uint16):
        fetched = np.zeros((len(offsets), n), out_type)
        plain = np.zeros_like(fetched)
        rows(plane, r0, c0, n, fetched, offsets, weights, acc)
        rows(plane.astype(np.uint16), r0, c0, n, plain, offsets, weights, acc)
        np.testing.assert_array_equal(fetched, plain)


#: sha256 of the canvases below, drawn by the code before the speed work (commit e241e06).
PINNED = {
    "1920x1080-17-linear-True": "f6bee3efc9754e5af1d444a114380e71bce6470bf28f039b7382b0747feee7e0",
    "360x640-17-area-True": "51a28cc5bfdc523bebfbba144ea596c9ade9c30e0fa8d271b4c4751df25c453a",
    "360x640-17-linear-True": "d382cc3eceaa07aa873ab5a1ee02ed09606bf8b1ba62e46f98920c5d023fa100",
    "1920x1080-4-area-True": "46f90eeec9a0eed5f41ff9883167947983a7b48361c28910502b3676fd779c46",
    "360x640-9-linear-False": "6bb2caad728e1c7ce44a8c4db05a6970605e9f7ce5798a6df3edd852c9cc58fb",
}


def _plan_canvas(canvas_wh, users, *, area, fast_linear):
    uids = [str(1000 + i) for i in range(users)]
    regions = compute_regions(LayoutSettings(mixed_video_layout=1), uids, canvas_wh=canvas_wh)
    rng = np.random.default_rng(users)
    pictures = {u: rng.integers(0, 256, i420_shape((640, 360)), dtype=np.uint8) for u in uids}
    clear_plan_cache()
    plan = build_plan(regions, [Picture(u, (640, 360)) for u in uids],
                      background=prepare_background(canvas_wh), exact_area=area,
                      fast_linear=fast_linear)
    canvas = plan.render(pictures)
    again = plan.draw(canvas.copy(), pictures)
    np.testing.assert_array_equal(canvas, again)
    return hashlib.sha256(canvas.tobytes()).hexdigest()


CANVASES = [((1920, 1080), 17, False, True), ((360, 640), 17, True, True),
            ((360, 640), 17, False, True), ((1920, 1080), 4, True, True),
            ((360, 640), 9, False, False)]


@pytest.mark.skipif(not _has_fma(), reason="hashes pinned on an x86-64 CPU with FMA and AVX2")
@pytest.mark.parametrize(("canvas_wh", "users", "area", "fast_linear"), CANVASES)
def test_plans_draw_the_canvases_they_drew_before(canvas_wh, users, area, fast_linear):
    key = f"{canvas_wh[0]}x{canvas_wh[1]}-{users}-{'area' if area else 'linear'}-{fast_linear}"
    assert _plan_canvas(canvas_wh, users, area=area, fast_linear=fast_linear) == PINNED[key]


def _grid(canvas_wh, users, seed=0):
    uids = [str(1000 + i) for i in range(users)]
    regions = compute_regions(LayoutSettings(mixed_video_layout=1), uids, canvas_wh=canvas_wh)
    rng = np.random.default_rng(seed)
    pictures = {u: rng.integers(0, 256, i420_shape((640, 360)), dtype=np.uint8) for u in uids}
    return regions, [Picture(u, (640, 360)) for u in uids], pictures


def test_unscaled_tiles_are_copied_by_one_compiled_call_and_draw_the_same():
    regions, contents, pictures = _grid((1920, 1080), 9)  # 640x360 tiles: copies
    clear_plan_cache()
    fast = build_plan(regions, contents, background=prepare_background((1920, 1080)),
                      fast_linear=True)
    slow = build_plan(regions, contents, background=prepare_background((1920, 1080)))
    names = {step.__qualname__.split(".")[0] for step in fast._frame_steps}
    assert names == {"_copy_picture_step"}
    assert not any("_copy_picture_step" in s.__qualname__ for s in slow._frame_steps)
    expected = slow.render(pictures)
    np.testing.assert_array_equal(fast.render(pictures), expected)
    # a buffer that is not C-contiguous takes the per-plane path: same bytes
    strided = {k: np.asfortranarray(v) for k, v in pictures.items()}
    np.testing.assert_array_equal(fast.render(strided), expected)


def test_compiled_copy_refuses_a_picture_of_another_shape():
    regions, contents, pictures = _grid((1920, 1080), 9)
    fast = build_plan(regions, contents, background=prepare_background((1920, 1080)),
                      fast_linear=True)
    pictures["1003"] = pictures["1003"][:-2]
    with pytest.raises(ValueError, match="1003"):
        fast.render(pictures)


@given(st.sampled_from([(1920, 1080), (640, 360), (1280, 720), (640, 720)]),
       st.integers(1, 17), st.integers(0, 2), st.integers(0, 2 ** 16))
@settings(max_examples=15, deadline=None)
def test_compiled_copy_on_or_off_draws_the_same_canvas(canvas_wh, users, mode, seed):
    """Any layout with unscaled windows (crop or fit, whole or part of the source)."""
    uids = [str(1000 + i) for i in range(users)]
    regions = compute_regions(LayoutSettings(mixed_video_layout=mode), uids,
                              canvas_wh=canvas_wh)
    rng = np.random.default_rng(seed)
    pictures = {u: rng.integers(0, 256, i420_shape((640, 360)), dtype=np.uint8) for u in uids}
    contents = [Picture(u, (640, 360)) if u else None for u in regions.uids]
    background = prepare_background(canvas_wh)
    clear_plan_cache()
    fast = build_plan(regions, contents, background=background, fast_linear=True)
    clear_plan_cache()
    with mock.patch.object(plan_module, "_unscaled", lambda rp: False):
        plain = build_plan(regions, contents, background=background, fast_linear=True)
    clear_plan_cache()
    assert not any("_copy_picture_step" in s.__qualname__ for s in plain._frame_steps)
    np.testing.assert_array_equal(fast.render(pictures), plain.render(pictures))


def test_default_plans_with_unscaled_tiles_do_not_import_numba():
    script = """
import sys
from layoutkit.compose import Picture, build_plan, prepare_background
from layoutkit.layout import compute_regions
from layoutkit.request.model import LayoutSettings
uids = [str(i) for i in range(9)]
regions = compute_regions(LayoutSettings(mixed_video_layout=1), uids, canvas_wh=(1920, 1080))
contents = [Picture(u, (640, 360)) for u in uids]
plan = build_plan(regions, contents, background=prepare_background((1920, 1080)))
plan.render({u: __import__("numpy").zeros((540, 640), "uint8") for u in uids})
assert "numba" not in sys.modules, "numba imported by a default plan"
"""
    root = str(Path(layoutkit.__file__).resolve().parents[1])
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": root}, cwd=root)
