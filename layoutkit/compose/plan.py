"""Cached drawing plans: the fast yuv420p compositor (NumPy/OpenCV and one Numba kernel, no I/O).

A :class:`Plan` is everything about a layout that does not change from frame to frame,
worked out once by :func:`build_plan`: for each region the source window shown (crop / fit
via :func:`~layoutkit.compose.fit.place`), the destination rectangles in the Y and chroma
planes, the scaling (:class:`Scaling`), the black-bar rectangles of fit mode, the alpha,
and which rectangles of the canvas background must be restored before each frame.

Drawing is incremental and in place.  ``plan.start(canvas)`` copies the prepared background
into a canvas once (and paints what never changes: solid regions, fit bars, regions that show
the background); after that ``plan.draw(canvas, pictures)`` per frame only

1. restores the background under regions with ``alpha < 1`` (nothing else: opaque regions are
   simply overwritten), then
2. for each region in paint order scales the source window straight into the canvas plane
   slices (``cv2.resize``, or the area kernel's last ``cv2.transpose``, with ``dst=`` a view
   into the canvas: OpenCV writes into the strided view, nothing is allocated; with
   ``fast_linear`` an unscaled window is one compiled copy of its three planes), fills fit
   bars and solid regions, copies the background, or
   blends (``cv2.addWeighted`` into the view) over what lies below for ``alpha < 1``.

It never fills or allocates a whole canvas per frame.  A static fill (bars, :class:`Solid`,
:class:`CanvasBackground` at ``alpha == 1``) is done only by ``start`` when no earlier step of
the frame writes into its rectangle; otherwise it is repeated per frame.

Every frame draws the same result as ``plan.start()`` followed by one ``draw``: a pixel is
always written before any step of the frame reads it (a blending region is either restored
first or lies inside an opaque picture drawn below it in the same frame).

Scaling: enlargements and shrinks below 2x are bilinear (``cv2.INTER_LINEAR``); a shrink of
2x or more is first halved with exact 2x box filters (``cv2.INTER_AREA``'s fast integer path)
until less than 2x remains, which low-passes large shrinks at about the cost of bilinear.
``exact_area=True`` area-filters (box-filters) every shrink on both axes instead: an exact 2x
halving with ``cv2.INTER_AREA``'s fast path, any other ratio with the separable kernel of
:mod:`layoutkit.compose.area` (``cv2.INTER_AREA``'s weights, its result to within one gray
level, about ten times faster than OpenCV's fractional-ratio path; weights and scratch
planes are made here, once per plan).  Enlargements stay bilinear there too.  Chroma planes
are scaled like luma, from a chroma source window aligned with the luma one; the area kernel
does a picture's two chroma planes in one call.

Threads: the compositor is single-threaded by design (one per recording; call
``cv2.setNumThreads(1)`` in the process that records -- this module does not, so importing it
changes nothing).  A plan owns scratch buffers (halvings, ``alpha < 1`` picture layers, the
area kernel's planes, shared by its regions), so one plan must not draw from two threads at
once.

See :mod:`layoutkit.compose.yuv` for the buffer layout, the colour matrix (BT.601 limited
range) and how odd region edges map to chroma.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ..errors import ShapeError

from ..layout.regions import Regions
from .area import AreaScratch, area_pair_scaler, area_scaler
from .linear import linear_pair_scaler, linear_scaler
from .fit import FIT, place
from .contents import Content, Picture, Solid
from .rgb import cover_image
from .yuv import (
    BLACK_YUV,
    chroma_rect,
    i420_planes,
    i420_shape,
    rgb_to_i420,
    rgb_to_yuv,
    solid_i420,
)
from .._typing import U8

__all__ = [
    "Plan",
    "RegionPlan",
    "Scaling",
    "build_plan",
    "clear_plan_cache",
    "prepare_background",
    "source_halvings",
]

Rect = tuple[int, int, int, int]
Planes = tuple[U8, U8, U8]
_Slices = tuple[slice, slice]




# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Scaling:
    """How one plane of a source window is scaled onto its destination.

    Attributes
    ----------
    src : tuple of int
        ``(x, y, w, h)`` window of the source plane that is shown.
    levels : tuple of (int, int)
        Sizes ``(w, h)`` of intermediate pictures, each an exact 2x box-filtered halving
        of the previous one (``cv2.INTER_AREA``'s fast integer path; an odd last row or
        column is dropped).  Used while the remaining shrink is at least 2 on both axes,
        so large shrinks are low-passed without OpenCV's slow fractional area filter.
    interpolation : int
        Interpolation of the last step onto the destination: ``INTER_AREA`` for an exact
        2x halving (OpenCV's fast path) and, when ``exact_area`` was asked, for any shrink
        on both axes (other ratios through :mod:`layoutkit.compose.area`'s kernel), else
        ``INTER_LINEAR``.
    separable : bool
        The last step is bilinear and drawn by :mod:`layoutkit.compose.linear`'s separable
        kernel (``fast_linear=True``) rather than by ``cv2.resize``.
    """

    src: Rect
    levels: tuple[tuple[int, int], ...]
    interpolation: int
    separable: bool = False


@dataclass(frozen=True)
class RegionPlan:
    """The precomputed drawing of one region (rectangles are ``(x, y, w, h)``).

    Attributes
    ----------
    index : int
        Row in :class:`~layoutkit.layout.regions.Regions` (paint order).
    content : Content
        What the region shows.
    alpha : float
        Opacity over what lies below, clipped to ``[0, 1]``.
    rect_y, rect_c : tuple of int
        The region in the Y plane and in the chroma planes.
    dst_y, dst_c : tuple of int or None
        Where the scaled picture lands (Picture only; inside the region, smaller than it
        for fit).
    scale_y, scale_c : Scaling or None
        Source window and scaling of the Y and chroma planes (Picture only).
    bars_y, bars_c : tuple of rect
        Black bars of fit mode: the region minus the destination, per plane.
    restore : bool
        The background under the region is restored before each frame.
    """

    index: int
    content: Content
    alpha: float
    rect_y: Rect
    rect_c: Rect
    dst_y: Rect | None = None
    dst_c: Rect | None = None
    scale_y: Scaling | None = None
    scale_c: Scaling | None = None
    bars_y: tuple[Rect, ...] = ()
    bars_c: tuple[Rect, ...] = ()
    restore: bool = False


def _slices(rect: Rect, origin: tuple[int, int] = (0, 0)) -> _Slices:
    x, y, w, h = rect
    x -= origin[0]
    y -= origin[1]
    return (slice(y, y + h), slice(x, x + w))


def _intersects(a: Rect, b: Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _contains(outer: Rect, inner: Rect) -> bool:
    return (outer[0] <= inner[0] and inner[0] + inner[2] <= outer[0] + outer[2]
            and outer[1] <= inner[1] and inner[1] + inner[3] <= outer[1] + outer[3])


def _subtract(outer: Rect, inner: Rect) -> tuple[Rect, ...]:
    """``outer`` minus ``inner`` (inside it) as up to four disjoint rectangles."""
    ox, oy, ow, oh = outer
    ix, iy, iw, ih = inner
    parts = (
        (ox, oy, ow, iy - oy),                        # above
        (ox, iy + ih, ow, oy + oh - iy - ih),         # below
        (ox, iy, ix - ox, ih),                        # left
        (ix + iw, iy, ox + ow - ix - iw, ih),         # right
    )
    return tuple(p for p in parts if p[2] > 0 and p[3] > 0)


def _chroma_window(src: Rect, dst: Rect, dst_c: Rect, src_cwh: tuple[int, int]) -> Rect:
    """Source chroma window that maps onto ``dst_c`` (rounded to whole samples, clipped).

    ``dst_c`` may reach half a chroma sample (one luma pixel) past an odd luma edge; the
    window is widened by the matching source amount, so chroma stays aligned with luma to
    within half a chroma sample.
    """
    sx, sy, sw, sh = src
    dx, dy, dw, dh = dst
    fx, fy = sw / dw, sh / dh
    # luma extent of the chroma destination, mapped back to the source, in chroma units
    x0 = (sx + (2 * dst_c[0] - dx) * fx) / 2
    x1 = (sx + (2 * (dst_c[0] + dst_c[2]) - dx) * fx) / 2
    y0 = (sy + (2 * dst_c[1] - dy) * fy) / 2
    y1 = (sy + (2 * (dst_c[1] + dst_c[3]) - dy) * fy) / 2
    cw, ch = src_cwh
    ix0 = min(max(0, math.floor(x0 + 0.5)), cw - 1)
    iy0 = min(max(0, math.floor(y0 + 0.5)), ch - 1)
    ix1 = min(max(ix0 + 1, math.floor(x1 + 0.5)), cw)
    iy1 = min(max(iy0 + 1, math.floor(y1 + 0.5)), ch)
    return (ix0, iy0, ix1 - ix0, iy1 - iy0)


def _scaling(src: Rect, dst_wh: tuple[int, int], *, exact_area: bool,
             fast_linear: bool = False) -> Scaling:
    """Plan the scaling of a ``src`` window onto ``dst_wh`` (see :class:`Scaling`)."""
    dw, dh = dst_wh
    w, h = src[2], src[3]
    if exact_area:
        shrink = w > dw and h > dh
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        return Scaling(src, (), interpolation, separable=fast_linear and not shrink
                       and (w, h) != dst_wh)
    levels = []
    while w >= 2 * dw and h >= 2 * dh and (w // 2, h // 2) != (dw, dh):
        w, h = w // 2, h // 2
        levels.append((w, h))
    halving = (w // 2, h // 2) == (dw, dh)
    return Scaling(src, tuple(levels), cv2.INTER_AREA if halving else cv2.INTER_LINEAR,
                   separable=fast_linear and not halving and (w, h) != dst_wh)


def _region_plan(index: int, rect: Rect, content: Content, alpha: float, render_mode: int,
                 *, exact_area: bool, fast_linear: bool = False) -> RegionPlan:
    rect_c = chroma_rect(rect)
    if not isinstance(content, Picture):
        return RegionPlan(index, content, alpha, rect, rect_c)
    sw, sh = (int(v) for v in content.src_wh)
    i420_shape((sw, sh))  # validates even size
    mode = render_mode if content.render_mode is None else int(content.render_mode)
    placement = place((sw, sh), rect, mode)
    dst_y = placement.dst
    dst_c = chroma_rect(dst_y)
    src_c = _chroma_window(placement.src, dst_y, dst_c, (sw // 2, sh // 2))
    return RegionPlan(
        index, content, alpha, rect, rect_c, dst_y=dst_y, dst_c=dst_c,
        scale_y=_scaling(placement.src, dst_y[2:], exact_area=exact_area,
                         fast_linear=fast_linear),
        scale_c=_scaling(src_c, dst_c[2:], exact_area=exact_area, fast_linear=fast_linear),
        bars_y=_subtract(rect, dst_y) if mode == FIT else (),
        bars_c=_subtract(rect_c, dst_c) if mode == FIT else (),
    )


def _covers_opaque(lower: RegionPlan, upper: RegionPlan) -> bool:
    """``lower`` is an opaque picture whose scaled window covers all of ``upper``."""
    return (isinstance(lower.content, Picture) and lower.alpha >= 1.0
            and lower.dst_y is not None and lower.dst_c is not None
            and _contains(lower.dst_y, upper.rect_y) and _contains(lower.dst_c, upper.rect_c))


# --------------------------------------------------------------------------- steps

_Step = Callable[[U8, U8, U8, Mapping[Hashable, U8]], None]


@dataclass(frozen=True)
class _Write:
    """One compiled step and the rectangles it writes (for scheduling)."""

    step: _Step
    rects_y: tuple[Rect, ...]
    rects_c: tuple[Rect, ...]
    static: bool
    key: Hashable | None = None  # the picture an opaque resize draws (see Plan.draw)

    def touches(self, other: _Write) -> bool:
        """Whether the two writes share a pixel in any plane."""
        return (any(_intersects(a, b) for a in self.rects_y for b in other.rects_y)
                or any(_intersects(a, b) for a in self.rects_c for b in other.rects_c))


def _copy_step(rect_y: Rect, rect_c: Rect, background: Planes) -> _Step:
    """Copy the background into the rectangle (restore, or a CanvasBackground region)."""
    sy, sc = _slices(rect_y), _slices(rect_c)
    by, bu, bv = background[0][sy], background[1][sc], background[2][sc]

    def step(y: U8, u: U8, v: U8, pictures: Mapping[Hashable, U8]) -> None:
        y[sy] = by
        u[sc] = bu
        v[sc] = bv
    return step


def _fill_step(rects_y: Sequence[Rect], rects_c: Sequence[Rect],
               yuv: tuple[int, int, int]) -> _Step:
    """Fill rectangles with one colour (fit bars, Solid regions)."""
    sy = [_slices(r) for r in rects_y]
    sc = [_slices(r) for r in rects_c]
    vy, vu, vv = yuv

    def step(y: U8, u: U8, v: U8, pictures: Mapping[Hashable, U8]) -> None:
        for s in sy:
            y[s] = vy
        for s in sc:
            u[s] = vu
            v[s] = vv
    return step


def _blend_step(rect_y: Rect, rect_c: Rect, layers: tuple[U8 | int, U8 | int, U8 | int],
                alpha: float) -> _Step:
    """Blend ``layers`` over the rectangle: per plane an array of its size, or one value."""
    keep = 1.0 - alpha
    plan: list[tuple[_Slices, U8 | None, float, float]] = []
    for s, layer in zip((_slices(rect_y), _slices(rect_c), _slices(rect_c)), layers,
                        strict=True):
        if isinstance(layer, np.ndarray):
            plan.append((s, layer, alpha, 0.0))
        else:  # a constant: view * (1 - alpha) + alpha * value
            plan.append((s, None, 0.0, alpha * float(layer)))
    blend = cv2.addWeighted

    def step(y: U8, u: U8, v: U8, pictures: Mapping[Hashable, U8]) -> None:
        for plane, (s, layer, a, gamma) in zip((y, u, v), plan, strict=True):
            view = plane[s]
            blend(view if layer is None else layer, a, view, keep, gamma, dst=view)
    return step


def _source_reader(key: Hashable, src_wh: tuple[int, int]) -> Callable[
        [Mapping[Hashable, U8]], tuple[U8, U8, U8]]:
    """Make a function returning the (Y, U, V) planes of ``pictures[key]``, shape checked."""
    w, h = src_wh
    shape = i420_shape(src_wh)
    n = w * h
    q = n // 4
    cshape = (h // 2, w // 2)

    def read(pictures: Mapping[Hashable, U8]) -> tuple[U8, U8, U8]:
        buf = pictures[key]
        if buf.shape != shape:
            raise ShapeError(f"picture {key!r} (I420)", expected=shape, actual=buf.shape)
        flat = buf.reshape(-1)
        return buf[:h], flat[n:n + q].reshape(cshape), flat[n + q:n + 2 * q].reshape(cshape)
    return read


def _area_kernel(scaling: Scaling, dst_wh: tuple[int, int]) -> bool:
    """Tell whether the last step is an area shrink other than an exact 2x halving (ours)."""
    return (scaling.interpolation == cv2.INTER_AREA and not scaling.levels
            and (scaling.src[2] // 2, scaling.src[3] // 2) != dst_wh)


def _last_window(scaling: Scaling, window: Rect, dst_wh: tuple[int, int]) -> _Slices:
    """Slices of the last resize's input ``window`` (of the source, or the last halving)."""
    x, y, w, h = window
    if scaling.interpolation == cv2.INTER_AREA and (w // 2, h // 2) == dst_wh:
        w, h = 2 * dst_wh[0], 2 * dst_wh[1]  # exact halving: drop an odd last row/column
    return (slice(y, y + h), slice(x, x + w))


def _scaler(scaling: Scaling, dst_wh: tuple[int, int], scratch: AreaScratch) -> Callable[
        [U8, U8], None]:
    """Make a function scaling a source plane's window into a destination view, per ``scaling``.

    Intermediate halvings go to scratch planes owned by the returned function; the area
    kernel's scratch planes come from ``scratch`` (shared by the plan's scalers).
    """
    if _area_kernel(scaling, dst_wh):
        return area_scaler(scaling.src, dst_wh, scratch=scratch, checked=False)
    if scaling.separable:  # the halvings and the bilinear step as one filter
        return linear_scaler(scaling.src, dst_wh, halvings=len(scaling.levels), scratch=scratch,
                             checked=False)  # the source reader checked the picture
    x, y, w, h = scaling.src
    chain = []
    for lw, lh in scaling.levels:
        read = (slice(y, y + 2 * lh), slice(x, x + 2 * lw))
        chain.append((read, (lw, lh), np.empty((lh, lw), dtype=np.uint8)))
        x, y, w, h = 0, 0, lw, lh
    last_step = _last_step(scaling, (x, y, w, h), dst_wh)
    if not chain:
        return last_step
    resize, area = cv2.resize, cv2.INTER_AREA

    def scale_chain(src: U8, dst: U8) -> None:
        level: npt.NDArray[Any] = src
        for read, size, out in chain:
            level = resize(level[read], size, dst=out, interpolation=area)
        last_step(level, dst)
    return scale_chain


def _last_step(scaling: Scaling, window: Rect, dst_wh: tuple[int, int]) -> Callable[
        [U8, U8], None]:
    """Make the last resize: the ``window`` of its input plane into the destination view."""
    last = _last_window(scaling, window, dst_wh)
    interpolation, resize = scaling.interpolation, cv2.resize

    def scale(src: U8, dst: U8) -> None:
        resize(src[last], dst_wh, dst=dst, interpolation=interpolation)
    return scale


def _pair_scaler(scaling: Scaling, dst_wh: tuple[int, int], scratch: AreaScratch) -> Callable[
        [U8, U8, U8, U8], None]:
    """Like :func:`_scaler` for the two chroma planes: ``scale(u, v, dst_u, dst_v)``."""
    if _area_kernel(scaling, dst_wh):
        return area_pair_scaler(scaling.src, dst_wh, scratch=scratch, checked=False)
    if scaling.separable:
        return linear_pair_scaler(scaling.src, dst_wh, halvings=len(scaling.levels),
                                  scratch=scratch, checked=False)
    if not scaling.levels:  # one resize per plane (the common bilinear case): no inner call
        last = _last_window(scaling, scaling.src, dst_wh)
        interpolation, resize = scaling.interpolation, cv2.resize

        def resize_pair(a: U8, b: U8, dst_a: U8, dst_b: U8) -> None:
            resize(a[last], dst_wh, dst=dst_a, interpolation=interpolation)
            resize(b[last], dst_wh, dst=dst_b, interpolation=interpolation)
        return resize_pair
    scale = _scaler(scaling, dst_wh, scratch)

    def scale_pair(a: U8, b: U8, dst_a: U8, dst_b: U8) -> None:
        scale(a, dst_a)
        scale(b, dst_b)
    return scale_pair


def _picture_scalers(rp: RegionPlan, scratch: AreaScratch) -> tuple[
        Callable[[Mapping[Hashable, U8]], tuple[U8, U8, U8]],
        Callable[[U8, U8], None], Callable[[U8, U8, U8, U8], None]]:
    """Source reader, the Y scaler and the chroma (U and V) scaler of a Picture region."""
    assert isinstance(rp.content, Picture)
    assert rp.scale_y and rp.scale_c and rp.dst_y and rp.dst_c
    return (_source_reader(rp.content.key, rp.content.src_wh),
            _scaler(rp.scale_y, (rp.dst_y[2], rp.dst_y[3]), scratch),
            _pair_scaler(rp.scale_c, (rp.dst_c[2], rp.dst_c[3]), scratch))


def _unscaled(rp: RegionPlan) -> bool:
    """Tell whether both windows are drawn at their own size (``cv2.resize`` copies them)."""
    return (rp.scale_y is not None and rp.scale_c is not None and rp.dst_y is not None
            and rp.dst_c is not None
            and not rp.scale_y.levels and rp.scale_y.src[2:] == rp.dst_y[2:]
            and not rp.scale_c.levels and rp.scale_c.src[2:] == rp.dst_c[2:])


def _copy_geometry(rp: RegionPlan) -> npt.NDArray[np.uint64]:
    """Per plane ``(offset, stride, dx, dy, w, h)`` of an unscaled region (see ``copy_planes``)."""
    assert isinstance(rp.content, Picture)
    assert rp.scale_y and rp.scale_c and rp.dst_y and rp.dst_c
    sw, sh = (int(v) for v in rp.content.src_wh)
    rows = []
    for plane_offset, stride, (x, y, w, h), dst in (
            (0, sw, rp.scale_y.src, rp.dst_y),
            (sw * sh, sw // 2, rp.scale_c.src, rp.dst_c),
            (sw * sh + (sw // 2) * (sh // 2), sw // 2, rp.scale_c.src, rp.dst_c)):
        rows.append((plane_offset + y * stride + x, stride, dst[0], dst[1], w, h))
    geometry = np.array(rows, dtype=np.uint64)
    geometry.flags.writeable = False
    return geometry


def _copy_picture_step(rp: RegionPlan, fallback: _Step) -> _Step:
    """Copy an unscaled source window into the canvas: one compiled call for the three planes.

    The same bytes as ``cv2.resize`` at the window's own size (a copy), with one call instead
    of three and no plane views made per frame.  A buffer that is not a C-contiguous uint8
    one of the picture's shape goes to ``fallback`` (the per-plane step, which checks it).
    """
    from . import _kernels  # imports Numba: only plans that asked for the compiled kernels

    assert isinstance(rp.content, Picture)
    key, copy = rp.content.key, _kernels.copy_planes
    shape = i420_shape(rp.content.src_wh)
    geometry = _copy_geometry(rp)

    def step(y: U8, u: U8, v: U8, pictures: Mapping[Hashable, U8]) -> None:
        buf = pictures[key]
        if buf.shape == shape and buf.dtype == np.uint8 and buf.flags.c_contiguous:
            copy(buf, y, u, v, geometry)
        else:
            fallback(y, u, v, pictures)
    return step


def _resize_step(rp: RegionPlan, scratch: AreaScratch, *, compiled_copy: bool = False) -> _Step:
    """Scale the source window straight into the canvas (opaque picture).

    ``compiled_copy``: an unscaled window is copied by :func:`_copy_picture_step`.
    """
    if compiled_copy and _unscaled(rp):
        return _copy_picture_step(rp, _resize_step(rp, scratch))
    read, scale_y, scale_c = _picture_scalers(rp, scratch)
    assert rp.dst_y and rp.dst_c
    d_y, d_c = _slices(rp.dst_y), _slices(rp.dst_c)

    def step(y: U8, u: U8, v: U8, pictures: Mapping[Hashable, U8]) -> None:
        py, pu, pv = read(pictures)
        scale_y(py, y[d_y])
        scale_c(pu, pv, u[d_c], v[d_c])
    return step


def _blend_resize_step(rp: RegionPlan, scratch: AreaScratch) -> _Step:
    """Scale the source into a region-sized layer (bars black), blend it over the canvas."""
    read, scale_y, scale_c = _picture_scalers(rp, scratch)
    assert rp.dst_y and rp.dst_c
    layers = []
    for rect, value in ((rp.rect_y, BLACK_YUV[0]), (rp.rect_c, BLACK_YUV[1]),
                        (rp.rect_c, BLACK_YUV[2])):
        plane = np.empty((rect[3], rect[2]), dtype=np.uint8)
        plane[...] = value
        layers.append(plane)
    ly, lu, lv = layers
    t_y = ly[_slices(rp.dst_y, rp.rect_y[:2])]
    t_u, t_v = (p[_slices(rp.dst_c, rp.rect_c[:2])] for p in (lu, lv))
    blend = _blend_step(rp.rect_y, rp.rect_c, (ly, lu, lv), rp.alpha)

    def step(y: U8, u: U8, v: U8, pictures: Mapping[Hashable, U8]) -> None:
        py, pu, pv = read(pictures)
        scale_y(py, t_y)
        scale_c(pu, pv, t_u, t_v)
        blend(y, u, v, pictures)
    return step


def _region_writes(rp: RegionPlan, background: Planes,
                   scratch: AreaScratch | None = None, *,
                   compiled_copy: bool = False) -> list[_Write]:
    """Compile the steps of one region, in order (area scratch from ``scratch``, or new).

    ``compiled_copy``: see :func:`_resize_step`.
    """
    if scratch is None:
        scratch = AreaScratch()
    content, ry, rc = rp.content, (rp.rect_y,), (rp.rect_c,)
    if rp.alpha < 1.0:
        if isinstance(content, Picture):
            return [_Write(_blend_resize_step(rp, scratch), ry, rc, static=False)]
        if isinstance(content, Solid):
            layers: tuple[U8 | int, U8 | int, U8 | int] = rgb_to_yuv(content.rgb)
        else:
            sy, sc = _slices(rp.rect_y), _slices(rp.rect_c)
            layers = (background[0][sy], background[1][sc], background[2][sc])
        return [_Write(_blend_step(rp.rect_y, rp.rect_c, layers, rp.alpha), ry, rc,
                       static=False)]
    if isinstance(content, Picture):
        writes = []
        if rp.bars_y or rp.bars_c:
            writes.append(_Write(_fill_step(rp.bars_y, rp.bars_c, BLACK_YUV),
                                 rp.bars_y, rp.bars_c, static=True))
        assert rp.dst_y and rp.dst_c
        writes.append(_Write(_resize_step(rp, scratch, compiled_copy=compiled_copy),
                             (rp.dst_y,), (rp.dst_c,), static=False, key=content.key))
        return writes
    if isinstance(content, Solid):
        step = _fill_step(ry, rc, rgb_to_yuv(content.rgb))
        return [_Write(step, ry, rc, static=True)]
    return [_Write(_copy_step(rp.rect_y, rp.rect_c, background), ry, rc, static=True)]


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True, eq=False)
class Plan:
    """Precomputed drawing of one layout over one background (see the module docstring).

    Attributes
    ----------
    canvas_wh : tuple of int
        Canvas ``(W, H)``.
    background : ndarray
        The prepared I420 canvas background (must not be modified).
    regions : tuple of RegionPlan
        Per-region geometry, in paint order (regions that draw nothing are left out).
    restores : tuple of (rect_y, rect_c)
        Rectangles whose background is restored before each frame.
    """

    canvas_wh: tuple[int, int]
    background: U8
    regions: tuple[RegionPlan, ...]
    restores: tuple[tuple[Rect, Rect], ...]
    _start_steps: tuple[_Step, ...] = field(repr=False)
    _frame_steps: tuple[_Step, ...] = field(repr=False)
    _skip_keys: tuple[Hashable | None, ...] = field(repr=False, default=())

    def _planes(self, canvas: U8) -> Planes:
        if canvas.shape != self.background.shape or canvas.dtype != np.uint8:
            raise ShapeError(f"canvas ({canvas.dtype})", expected=f"uint8 {self.background.shape}",
                             actual=canvas.shape)
        return i420_planes(canvas)

    def start(self, canvas: U8 | None = None) -> U8:
        """Prepare ``canvas`` (or a new one) for this plan: background + static fills.

        Call it once whenever the plan changes (new layout, contents or background).
        """
        if canvas is None:
            canvas = np.empty_like(self.background)
        y, u, v = self._planes(canvas)
        np.copyto(canvas, self.background)
        for step in self._start_steps:
            step(y, u, v, {})
        return canvas

    def draw(self, canvas: U8, pictures: Mapping[Hashable, U8], *,
             unchanged: Collection[Hashable] = ()) -> U8:
        """Draw one frame in place into ``canvas`` and return it.

        Parameters
        ----------
        canvas : ndarray of shape (H * 3 // 2, W), uint8
            C-contiguous; holds the previous frame drawn with this plan, or was prepared
            by :meth:`start`.
        pictures : mapping
            ``Picture.key`` -> I420 buffer of shape ``(h * 3 // 2, w)`` for
            ``src_wh == (w, h)`` (C-contiguous, or it is copied).
        unchanged : collection of keys
            Pictures whose buffers hold exactly what they held in the previous ``draw``
            into this ``canvas`` with this plan (a 15 fps user in a 30 fps recording, a
            frozen last frame).  An opaque picture region that no other per-frame step
            touches is then not drawn again: the canvas already shows it.  Never pass it
            for the first ``draw`` after :meth:`start`.

        Returns
        -------
        ndarray
            ``canvas``.

        Raises
        ------
        KeyError
            A picture of the plan is missing from ``pictures``.
        ValueError
            The canvas or a picture has the wrong shape.
        """
        y, u, v = self._planes(canvas)
        if unchanged:
            for step, key in zip(self._frame_steps, self._skip_keys, strict=True):
                if key is None or key not in unchanged:
                    step(y, u, v, pictures)
            return canvas
        for step in self._frame_steps:
            step(y, u, v, pictures)
        return canvas

    @property
    def skippable(self) -> frozenset[Hashable]:
        """Picture keys whose region :meth:`draw` can skip when they are ``unchanged``."""
        return frozenset(k for k in self._skip_keys if k is not None)

    def render(self, pictures: Mapping[Hashable, U8]) -> U8:
        """Draw one frame from scratch on a new canvas (for previews and tests)."""
        return self.draw(self.start(), pictures)


def _schedule(plans: Sequence[RegionPlan], background: Planes, scratch: AreaScratch, *,
              compiled_copy: bool = False) -> tuple[
        tuple[_Step, ...], tuple[_Step, ...], tuple[tuple[Rect, Rect], ...],
        tuple[Hashable | None, ...]]:
    """Start steps, frame steps, restored rectangles and the frame steps' skip keys.

    ``compiled_copy``: see :func:`_resize_step`.

    A frame step has a skip key when it draws an opaque picture and no other frame step
    writes a pixel it writes: skipping it leaves the previous frame's drawing in place.
    """
    restores = tuple((rp.rect_y, rp.rect_c) for rp in plans if rp.restore)
    earlier = [_Write(_copy_step(ry, rc, background), (ry,), (rc,), static=False)
               for ry, rc in restores]
    start: list[_Step] = []
    frame: list[_Write] = list(earlier)
    for rp in plans:
        for write in _region_writes(rp, background, scratch, compiled_copy=compiled_copy):
            if write.static and not any(e.touches(write) for e in earlier):
                start.append(write.step)
            else:
                frame.append(write)
            earlier.append(write)
    keys = tuple(w.key if w.key is not None and not any(
        o is not w and o.touches(w) for o in frame) else None for w in frame)
    return tuple(start), tuple(w.step for w in frame), restores, keys


def _build_plan(regions: Regions, contents: Sequence[Content], background: U8, *,
                exact_area: bool, fast_linear: bool = False) -> Plan:
    canvas_wh = (int(regions.canvas_wh[0]), int(regions.canvas_wh[1]))
    if background.shape != i420_shape(canvas_wh) or background.dtype != np.uint8:
        raise ShapeError(f"background ({background.dtype})",
                         expected=f"uint8 {i420_shape(canvas_wh)}", actual=background.shape)
    if len(contents) != len(regions):
        raise ShapeError("build_plan contents", expected=(len(regions),),
                         actual=(len(contents),))
    plans: list[RegionPlan] = []
    for i, content in enumerate(contents):
        rect = tuple(int(v) for v in regions.rects[i])
        alpha = min(1.0, max(0.0, float(regions.alphas[i])))
        if content is None or alpha <= 0.0 or rect[2] <= 0 or rect[3] <= 0:
            continue
        rp = _region_plan(i, (rect[0], rect[1], rect[2], rect[3]), content, alpha,
                          int(regions.render_modes[i]), exact_area=exact_area,
                          fast_linear=fast_linear)
        if alpha < 1.0 and not any(_covers_opaque(lower, rp) for lower in plans):
            rp = replace(rp, restore=True)
        plans.append(rp)
    bg_planes = i420_planes(background)
    # the area kernel's scratch planes, shared by all the plan's scalers (one thread draws)
    start, frame, restores, keys = _schedule(plans, bg_planes, AreaScratch(),
                                             compiled_copy=fast_linear)
    return Plan(canvas_wh, background, tuple(plans), restores, start, frame, keys)


def _halving_matches(rp: RegionPlan, shrunk: RegionPlan, k: int) -> bool:
    """Tell whether ``shrunk``, the plan of a picture halved ``k`` times, draws as ``rp``.

    Same destinations, whole windows, and ``rp``'s scaling minus ``k`` halvings.
    """
    pairs = ((rp.scale_y, shrunk.scale_y), (rp.scale_c, shrunk.scale_c))
    return (shrunk.dst_y == rp.dst_y and shrunk.dst_c == rp.dst_c
            and all(a is not None and b is not None and b.src[:2] == (0, 0)
                    and b.src[2:] == a.levels[k - 1] and b.levels == a.levels[k:]
                    and b.interpolation == a.interpolation for a, b in pairs))


def source_halvings(src_wh: tuple[int, int], rect: Rect, render_mode: int) -> int:
    """Count the exact 2x halvings a source may do before the picture is drawn into ``rect``.

    The drawing stays unchanged.

    The plan shrinks a large picture with exact 2x box halvings (``cv2.INTER_AREA`` on
    ``[:2 * (h // 2), :2 * (w // 2)]`` of each plane) before its last step (see
    :class:`Scaling`).  When the window shown is the whole picture, a source that does the
    first ``k`` of those halvings on every plane right after decoding hands over a picture
    of which the plan draws exactly the same pixels, and keeps a quarter of the memory per
    halving.  Counted only while the halved luma stays even with chroma of half its size
    (a valid I420 picture) and the plan of the halved picture has the same destinations
    and the remaining steps.

    Parameters
    ----------
    src_wh : tuple of int
        The picture's ``(width, height)`` as decoded.
    rect : tuple of int
        The region ``(x, y, w, h)`` on the canvas.
    render_mode : int
        0 crop, 1 fit.

    Returns
    -------
    int
        0 when the plan crops a window or enlarges.

    Examples
    --------
    >>> source_halvings((1920, 1080), (192, 0, 384, 216), 0)  # 17 users best fit at 1080p
    2
    >>> source_halvings((640, 360), (0, 0, 640, 360), 0), source_halvings((1920, 1080),
    ...                 (0, 0, 216, 216), 0)  # same size; a cropped window
    (0, 0)
    """
    sw, sh = src_wh
    whole = _region_plan(0, rect, Picture("source", (sw, sh)), 1.0, render_mode,
                         exact_area=False)
    if whole.scale_y is None or whole.scale_c is None or \
            whole.scale_y.src != (0, 0, sw, sh) or whole.scale_c.src != (0, 0, sw // 2, sh // 2):
        return 0
    k = 0
    for w, h in whole.scale_y.levels:
        if w % 2 or h % 2 or k >= len(whole.scale_c.levels) or \
                whole.scale_c.levels[k] != (w // 2, h // 2):
            break
        shrunk = _region_plan(0, rect, Picture("source", (w, h)), 1.0, render_mode,
                              exact_area=False)
        if not _halving_matches(whole, shrunk, k + 1):
            break
        k += 1
    return k


_CACHE: OrderedDict[Hashable, Plan] = OrderedDict()
_CACHE_SIZE = 16


def build_plan(regions: Regions, contents: Sequence[Content], *, background: U8,
               exact_area: bool = False, fast_linear: bool = False) -> Plan:
    """Return the drawing plan of ``contents`` in ``regions`` over ``background`` (cached).

    Parameters
    ----------
    regions : Regions
        Pixel regions in paint order (with render modes and alphas).
    contents : sequence of Content
        What each region shows; same length as ``regions``.  None leaves the region
        transparent.
    background : ndarray of shape (H * 3 // 2, W), uint8
        The prepared I420 canvas background (:func:`prepare_background`).  The plan keeps a
        reference to it and reads it on every frame: do not modify it afterwards.
    exact_area : bool
        False (default): a shrink of 2x or more is done as exact 2x box-filter halvings
        (``cv2.INTER_AREA``'s fast integer path) followed by one bilinear step of less than
        2x, so large shrinks are low-passed at about the cost of plain bilinear; shrinks
        below 2x and enlargements are bilinear (``cv2.INTER_LINEAR``; below 2x it skips
        part of the source, which can alias fine detail a little).  True: every shrink on
        both axes is one area (box) filter, the one of ``cv2.INTER_AREA`` and of the RGB
        reference drawing (an exact 2x halving through OpenCV, any other ratio through
        :mod:`layoutkit.compose.area`, within one gray level of OpenCV; a frame costs no
        more than the default's, 0.7-1.0x in the best-fit benchmarks); enlargements stay
        bilinear.  The
        kernel is compiled by Numba on the first frame drawn with such a plan (once per
        machine, ~2 s; later processes load it from the cache in ~0.4 s).
    fast_linear : bool
        False (default): bilinear steps by OpenCV (``cv2.resize``).  True: by
        :mod:`layoutkit.compose.linear`'s separable kernel, the same weights, within one gray
        level of OpenCV and about 1.5-1.7x faster; for long drawings such as recordings; and
        a window drawn at its own size is copied by one compiled call for its three planes
        (the bytes ``cv2.resize`` copies, ~1.5x faster for 640x360 tiles on 1080p).  The
        kernel is Numba's, like ``exact_area``'s: importing and loading it costs ~0.5 s on
        the first frame a process draws with such a plan (its compilation ~2 s once per
        machine), which a handful of frames (previews, comparisons) would not win back.

    Returns
    -------
    Plan
        The same object for the same ``(regions, contents, background object,
        exact_area, fast_linear)`` while it is in the small LRU cache.
    """
    key = (regions, tuple(contents), id(background), background.shape, bool(exact_area),
           bool(fast_linear))
    plan = _CACHE.get(key)
    if plan is not None and plan.background is background:
        _CACHE.move_to_end(key)
        return plan
    plan = _build_plan(regions, contents, background, exact_area=bool(exact_area),
                       fast_linear=bool(fast_linear))
    _CACHE[key] = plan
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return plan


def clear_plan_cache() -> None:
    """Forget every cached plan (and the backgrounds they hold)."""
    _CACHE.clear()


def prepare_background(canvas_wh: tuple[int, int], *, color: tuple[int, int, int] = (0, 0, 0),
                       image: U8 | None = None) -> U8:
    """Make the I420 canvas background: ``image`` (RGB, in crop mode) if given, else ``color``.

    Examples
    --------
    >>> prepare_background((4, 2)).tolist()
    [[16, 16, 16, 16], [16, 16, 16, 16], [128, 128, 128, 128]]
    """
    if image is None:
        return solid_i420(canvas_wh, color)
    i420_shape(canvas_wh)
    return rgb_to_i420(cover_image(image, canvas_wh))
