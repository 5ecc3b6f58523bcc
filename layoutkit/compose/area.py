"""Area (box) resampling of 8-bit planes: the compositor's anti-aliased shrink.

Each output pixel is the mean of the source pixels under it, partly covered pixels counted
by the covered fraction: the weights of OpenCV's ``cv2.INTER_AREA`` for a shrink (computed
the way OpenCV computes them, :func:`area_weights`), and the result equals OpenCV's to
within one gray level.  It is about ten times faster than OpenCV's fractional-ratio path
(640x360 -> 384x216: ~35 us for luma against ~480 us), which is why it exists: no OpenCV or
NumPy kernel computes an area shrink at swscale's speed.

How: separable, two passes of the same vectorised kernel (:func:`_rows`, compiled with
Numba on first use and cached on disk), each combining whole rows with the precomputed
weights of one output row:

1. vertical: ``dh`` rows of the source window, each a weighted sum of at most
   ``ceil(sh / dh) + 1`` source rows, into a 16-bit scratch (8 fractional bits);
2. ``cv2.transpose`` of that scratch, so the horizontal pass is a row pass too;
3. horizontal: ``dw`` rows of the transposed scratch, each a weighted sum of at most
   ``ceil(sw / dw) + 1`` rows, rounded to 8 bits;
4. ``cv2.transpose`` into the destination (a view into the canvas plane).

Both passes run along contiguous rows (SIMD in float32 with fused multiply-adds); the
transposes are OpenCV's SIMD ones.  The weights and scratch planes are made once per scaler
(:func:`area_scaler`, :func:`area_pair_scaler`), nothing is allocated per call.  The two
chroma planes of a picture go through one scaler: stacked in the scratch (they do not mix),
one transpose and one horizontal pass for both.

An exact 2x halving is left to OpenCV's own fast path (``cv2.INTER_AREA`` at 2x).

Importing this module neither imports Numba nor compiles anything: making a scaler imports
Numba (~0.2 s), its first call compiles the kernel (~2 s for the two versions the
compositor uses, once per machine: the machine code is cached next to this file, or in
Numba's user cache directory; a later process loads it in ~0.4 s).

Examples
--------
>>> import cv2
>>> import numpy as np
>>> plane = np.random.default_rng(0).integers(0, 256, (60, 90), dtype=np.uint8)
>>> scale = area_scaler((10, 5, 70, 50), (31, 20))   # window x, y, w, h -> 31 x 20
>>> out = np.empty((20, 31), np.uint8)
>>> scale(plane, out)
>>> ref = cv2.resize(plane[5:55, 10:80], (31, 20), interpolation=cv2.INTER_AREA)
>>> int(np.abs(out.astype(int) - ref).max()) <= 1
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .._typing import U8
from ..errors import ShapeError

__all__ = ["AreaScratch", "area_pair_scaler", "area_scaler", "area_weights"]

Rect = tuple[int, int, int, int]

#: Scale of the 16-bit scratch between the passes (8 fractional bits; 255 * 256 < 2 ** 16).
_GAIN = 256.0


@functools.cache
def area_weights(ssize: int, dsize: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.float64]]:
    """Area weights of a ``ssize -> dsize`` shrink along one axis, as OpenCV computes them.

    Output ``j`` covers source ``[j * s, (j + 1) * s)`` with ``s = ssize / dsize``; a source
    pixel counts by the part of it that is covered, divided by ``s`` (the tables of OpenCV's
    ``computeResizeAreaTab``, ignoring slivers under 1e-3 of a pixel as it does).

    Parameters
    ----------
    ssize, dsize : int
        Source and destination length, ``ssize >= dsize >= 1``.

    Returns
    -------
    offsets : ndarray of shape (dsize,), uint64
        First source index of each output's taps (read-only).
    weights : ndarray of shape (dsize, k), float64
        ``k`` consecutive weights per output, zero-padded (read-only); ``k <= ceil(s) + 1``
        and every ``offsets[j] + k <= ssize``.

    Examples
    --------
    >>> offsets, weights = area_weights(5, 3)
    >>> offsets.tolist(), weights.round(3).tolist()
    ([0, 1, 2], [[0.6, 0.4, 0.0], [0.2, 0.6, 0.2], [0.0, 0.4, 0.6]])
    """
    if not 1 <= dsize <= ssize:
        raise ValueError(f"area_weights: need 1 <= dsize <= ssize, got {ssize} -> {dsize}")
    scale = 1.0 / (dsize / ssize)  # OpenCV: scale_x = 1. / inv_scale_x
    taps: list[list[tuple[int, float]]] = []
    for dx in range(dsize):
        fsx1 = dx * scale
        fsx2 = fsx1 + scale
        cell = min(scale, ssize - fsx1)
        sx2 = min(math.floor(fsx2), ssize - 1)
        sx1 = min(math.ceil(fsx1), sx2)
        row = []
        if sx1 - fsx1 > 1e-3:
            row.append((sx1 - 1, (sx1 - fsx1) / cell))
        row.extend((sx, 1.0 / cell) for sx in range(sx1, sx2))
        if fsx2 - sx2 > 1e-3:
            row.append((sx2, min(fsx2 - sx2, 1.0, cell) / cell))
        taps.append(row)
    k = min(max(len(row) for row in taps), ssize)
    offsets = np.empty(dsize, dtype=np.uint64)
    weights = np.zeros((dsize, k), dtype=np.float64)
    for j, row in enumerate(taps):
        first = min(row[0][0], ssize - k)
        offsets[j] = first
        for si, alpha in row:
            weights[j, si - first] += alpha
    offsets.flags.writeable = False
    weights.flags.writeable = False
    return offsets, weights


Weights = Callable[[int, int], tuple[npt.NDArray[np.uint64], npt.NDArray[np.float64]]]
Tables = tuple[npt.NDArray[np.uint64], npt.NDArray[np.float32]]


@functools.cache
def _tables(weights_of: Weights, ssize: int, dsize: int, gain: float) -> Tables:
    """``weights_of(ssize, dsize)`` as the kernel's float32 tables, times ``gain``."""
    offsets, weights = weights_of(ssize, dsize)
    scaled = (weights * gain).astype(np.float32)
    scaled.flags.writeable = False
    return offsets, scaled


def _wide_kernel() -> Callable[..., None]:
    """Return :func:`layoutkit.compose._kernels.rows_wide` (imports Numba, like :func:`_kernel`)."""
    from . import _kernels

    kernel: Callable[..., None] = _kernels.rows_wide
    return kernel


def _kernel() -> Callable[..., None]:
    """Return :func:`layoutkit.compose._kernels.rows` (imports Numba and the cached kernel).

    Nothing is compiled here: Numba compiles (or loads from its cache) per argument types on
    the first call.
    """
    from . import _kernels

    kernel: Callable[..., None] = _kernels.rows
    return kernel


class AreaScratch:
    """Scratch planes shared by scalers that never run at the same time.

    Scalers given the same ``AreaScratch`` (one compositor plan's, all drawn by one thread
    in turn) share their scratch planes of equal shape, so a grid of equal tiles needs one
    set, which also stays in the CPU caches from tile to tile.  Scalers made without one
    get their own.
    """

    def __init__(self) -> None:
        self._planes: dict[tuple[tuple[int, ...], str], npt.NDArray[Any]] = {}

    def get(self, shape: tuple[int, ...], dtype: type[np.generic]) -> npt.NDArray[Any]:
        """Return the scratch plane of ``shape`` and ``dtype`` (contents undefined)."""
        key = (shape, np.dtype(dtype).str)
        plane = self._planes.get(key)
        if plane is None:
            plane = self._planes[key] = np.empty(shape, dtype=dtype)
        return plane


class _Passes:
    """The scratch planes and tables of a separable resize of ``planes`` same-sized windows.

    ``order`` is ``"v"`` (the vertical pass first: source rows -> 16-bit scratch,
    transpose, horizontal pass as a row pass, transpose into the destination), ``"h"`` (the
    source window transposed first, the horizontal pass as a row pass into 16-bit scratch,
    transpose, the vertical pass straight into the destination: cheaper for enlargements)
    or ``"v1"`` (the width is unchanged: one vertical pass straight into the destination).
    """

    def __init__(self, src: Rect, dst_wh: tuple[int, int], *, planes: int,
                 weights_of: Weights, order: str, scratch: AreaScratch | None,
                 checked: bool = True, wide: bool = False) -> None:
        x, y, w, h = (int(v) for v in src)
        self.rows = _wide_kernel() if wide else _kernel()
        dw, dh = (int(v) for v in dst_wh)
        if min(w, h, dw, dh) < 1 or x < 0 or y < 0:
            raise ValueError(f"separable scaler: {w}x{h} at ({x}, {y}) -> {dw}x{dh}")
        pool = AreaScratch() if scratch is None else scratch
        self.x, self.y, self.w, self.h, self.dw, self.dh = x, y, w, h, dw, dh
        self.order = order
        first, second = (_GAIN, 1.0 / _GAIN) if order != "v1" else (1.0, 1.0)
        y_gain, x_gain = (second, first) if order == "h" else (first, second)
        self.y_tables = _tables(weights_of, h, dh, y_gain)
        self.x_tables = _tables(weights_of, w, dw, x_gain)
        if order == "v":
            self.first = pool.get((planes * dh, w), np.uint16)  # vertical pass, stacked
            self.turned = pool.get((w, planes * dh), np.uint16)
            self.second = pool.get((dw, planes * dh), np.uint8)  # horizontal pass
        elif order == "h":
            self.source = pool.get((w, planes * h), np.uint8)  # the windows, transposed
            self.first = pool.get((dw, planes * h), np.uint16)  # horizontal pass
            self.turned = pool.get((planes * h, dw), np.uint16)
        self.acc = pool.get((max(w, h, planes * max(h, dh)),), np.float32)
        self.reach = (y + h, x + w)
        self.dst_shape = (dh, dw)
        self.check = self._check if checked else _trusted

    def _check(self, plane: U8, dst: U8) -> None:
        """Refuse a plane that does not hold the window (the kernel does not bounds-check)."""
        shape = plane.shape
        if (len(shape) != 2 or shape[0] < self.reach[0] or shape[1] < self.reach[1]
                or plane.dtype != np.uint8):
            raise ShapeError("area scaler source plane (uint8)",
                             expected=f"at least {self.reach}", actual=shape)
        if dst.shape != self.dst_shape:
            raise ShapeError("area scaler destination", expected=self.dst_shape,
                             actual=dst.shape)


def _trusted(plane: U8, dst: U8) -> None:
    """Check nothing: the caller made the views and checked the sources (a plan)."""


def _vertical_first(passes: _Passes, planes: int) -> Callable[..., None]:
    """``scale(*sources, *destinations)`` by vertical pass, transpose, row pass, transpose."""
    rows, transpose = passes.rows, cv2.transpose
    x, y, w, dh = passes.x, passes.y, passes.w, passes.dh
    (yo, yw), (xo, xw) = passes.y_tables, passes.x_tables
    vertical, turned, horizontal, acc = passes.first, passes.turned, passes.second, passes.acc
    bands = [vertical[p * dh:(p + 1) * dh] for p in range(planes)]
    parts = [horizontal[:, p * dh:(p + 1) * dh] for p in range(planes)]
    check = passes.check
    if planes == 1:
        def scale(plane: U8, dst: U8) -> None:
            check(plane, dst)
            rows(plane, y, x, w, vertical, yo, yw, acc)
            transpose(vertical, turned)
            rows(turned, 0, 0, dh, horizontal, xo, xw, acc)
            transpose(horizontal, dst)
        return scale
    (band_a, band_b), (part_a, part_b) = bands, parts

    def scale_pair(plane_a: U8, plane_b: U8, dst_a: U8, dst_b: U8) -> None:
        check(plane_a, dst_a)
        check(plane_b, dst_b)
        rows(plane_a, y, x, w, band_a, yo, yw, acc)
        rows(plane_b, y, x, w, band_b, yo, yw, acc)
        transpose(vertical, turned)
        rows(turned, 0, 0, 2 * dh, horizontal, xo, xw, acc)
        transpose(part_a, dst_a)
        transpose(part_b, dst_b)
    return scale_pair


def _horizontal_first(passes: _Passes, planes: int) -> Callable[..., None]:
    """``scale(*sources, *destinations)`` by transpose, row pass, transpose, vertical pass."""
    rows, transpose = passes.rows, cv2.transpose
    h, dw = passes.h, passes.dw
    window = (slice(passes.y, passes.y + h), slice(passes.x, passes.x + passes.w))
    (yo, yw), (xo, xw) = passes.y_tables, passes.x_tables
    source, horizontal, turned, acc = passes.source, passes.first, passes.turned, passes.acc
    columns = [source[:, p * h:(p + 1) * h] for p in range(planes)]
    check = passes.check
    if planes == 1:
        def scale(plane: U8, dst: U8) -> None:
            check(plane, dst)
            transpose(plane[window], source)
            rows(source, 0, 0, h, horizontal, xo, xw, acc, False)  # in the caches: no prefetch
            transpose(horizontal, turned)
            rows(turned, 0, 0, dw, dst, yo, yw, acc)
        return scale
    column_a, column_b = columns

    def scale_pair(plane_a: U8, plane_b: U8, dst_a: U8, dst_b: U8) -> None:
        check(plane_a, dst_a)
        check(plane_b, dst_b)
        transpose(plane_a[window], column_a)
        transpose(plane_b[window], column_b)
        rows(source, 0, 0, 2 * h, horizontal, xo, xw, acc, False)
        transpose(horizontal, turned)
        rows(turned, 0, 0, dw, dst_a, yo, yw, acc)
        rows(turned, h, 0, dw, dst_b, yo, yw, acc)
    return scale_pair


def _vertical_only(passes: _Passes, planes: int) -> Callable[..., None]:
    """``scale(*sources, *destinations)`` by one vertical pass (the width is unchanged)."""
    rows = passes.rows
    x, y, w = passes.x, passes.y, passes.w
    yo, yw = passes.y_tables
    acc, check = passes.acc, passes.check
    if planes == 1:
        def scale(plane: U8, dst: U8) -> None:
            check(plane, dst)
            rows(plane, y, x, w, dst, yo, yw, acc)
        return scale

    def scale_pair(plane_a: U8, plane_b: U8, dst_a: U8, dst_b: U8) -> None:
        check(plane_a, dst_a)
        check(plane_b, dst_b)
        rows(plane_a, y, x, w, dst_a, yo, yw, acc)
        rows(plane_b, y, x, w, dst_b, yo, yw, acc)
    return scale_pair


def separable_scaler(src: Rect, dst_wh: tuple[int, int], *, weights_of: Weights,
                     planes: int = 1, order: str = "v", scratch: AreaScratch | None = None,
                     checked: bool = True, wide: bool = False) -> Callable[..., None]:
    """Make a function resizing the ``src`` window of 1 or 2 planes with separable weights.

    Parameters
    ----------
    src : tuple of int
        ``(x, y, w, h)`` window of the source planes.
    dst_wh : tuple of int
        ``(dw, dh)``.
    weights_of : callable
        ``weights_of(ssize, dsize) -> (offsets, weights)`` for one axis (:func:`area_weights`,
        :func:`layoutkit.compose.linear.linear_weights`), applied to both axes.
    planes : int
        1: ``scale(plane, dst)``; 2: ``scale(plane_a, plane_b, dst_a, dst_b)`` (two planes
        with the same window, such as U and V, through one set of passes).
    order : str
        ``"v"``, ``"h"`` or ``"v1"`` (see :class:`_Passes`).
    scratch : AreaScratch, optional
        Where its scratch planes come from (shared with the other scalers of the pool).
    checked : bool
        Check every call's planes and destinations (the kernel reads and writes without
        bounds checks); False only for callers that made the destination views and checked
        the sources' shapes themselves (a compositor plan).
    wide : bool
        Sum eight taps in one pass (:func:`layoutkit.compose._kernels.rows_wide`) instead of
        :func:`~layoutkit.compose._kernels.rows`'s order (the area scalers keep that one).

    Returns
    -------
    callable
        Writes the destination views in place; uses scratch planes (one thread at a time).
    """
    passes = _Passes(src, dst_wh, planes=planes, weights_of=weights_of, order=order,
                     scratch=scratch, checked=checked, wide=wide)
    build = {"v": _vertical_first, "h": _horizontal_first, "v1": _vertical_only}[order]
    return build(passes, planes)


def _check_shrink(src: Rect, dst_wh: tuple[int, int]) -> None:
    w, h, dw, dh = int(src[2]), int(src[3]), int(dst_wh[0]), int(dst_wh[1])
    if not (1 <= dw <= w and 1 <= dh <= h) or src[0] < 0 or src[1] < 0:
        raise ValueError(f"area scaler: {w}x{h} at ({src[0]}, {src[1]}) -> {dw}x{dh} "
                         "is not a shrink")


def _halving(src: Rect, dst_wh: tuple[int, int]) -> bool:
    return (int(src[2]), int(src[3])) == (2 * int(dst_wh[0]), 2 * int(dst_wh[1]))


def _halver(src: Rect, dst_wh: tuple[int, int]) -> Callable[[U8, U8], None]:
    """Make an exact 2x halving: OpenCV's own fast integer path.

    About 2.5x faster than ours, and the same pixels: it rounds halves up there, where ours
    would round them to even.
    """
    x, y, w, h = (int(v) for v in src)
    window = (slice(y, y + h), slice(x, x + w))
    size = (int(dst_wh[0]), int(dst_wh[1]))
    resize, area = cv2.resize, cv2.INTER_AREA

    def halve(plane: U8, dst: U8) -> None:
        resize(plane[window], size, dst=dst, interpolation=area)
    return halve


def area_scaler(src: Rect, dst_wh: tuple[int, int], *, scratch: AreaScratch | None = None,
                checked: bool = True) -> Callable[[U8, U8], None]:
    """Make a function area-shrinking the ``src`` window of a plane into a ``dst_wh`` view.

    Parameters
    ----------
    src : tuple of int
        ``(x, y, w, h)`` window of the source plane.
    dst_wh : tuple of int
        ``(dw, dh)`` with ``dw <= w`` and ``dh <= h``.
    scratch : AreaScratch, optional
        Where its scratch planes come from (shared with the other scalers of the pool).
    checked : bool
        See :func:`separable_scaler` (False: a plan's own views).

    Returns
    -------
    callable
        ``scale(plane, dst)``: ``plane`` is the whole 2-D ``uint8`` source plane (the window
        is read from it), ``dst`` a ``(dh, dw)`` ``uint8`` array or view, written in place.
        It uses scratch planes: do not call it, or another scaler of its ``scratch``, from
        two threads at once.

    Raises
    ------
    ValueError
        ``dst_wh`` is larger than the window on an axis.  The returned function raises
        :class:`~layoutkit.errors.ShapeError` (a ``ValueError``) for a plane that does not
        hold the window or a destination of another shape.
    """
    if _halving(src, dst_wh):
        return _halver(src, dst_wh)
    _check_shrink(src, dst_wh)
    scale: Callable[[U8, U8], None] = separable_scaler(src, dst_wh, weights_of=area_weights,
                                                       scratch=scratch, checked=checked)
    return scale


def area_pair_scaler(src: Rect, dst_wh: tuple[int, int], *, scratch: AreaScratch | None = None,
                     checked: bool = True) -> Callable[[U8, U8, U8, U8], None]:
    """Like :func:`area_scaler` for two planes with the same window (U and V) at once.

    Returns
    -------
    callable
        ``scale(plane_a, plane_b, dst_a, dst_b)``.
    """
    if _halving(src, dst_wh):
        halve = _halver(src, dst_wh)

        def halve_pair(plane_a: U8, plane_b: U8, dst_a: U8, dst_b: U8) -> None:
            halve(plane_a, dst_a)
            halve(plane_b, dst_b)
        return halve_pair
    _check_shrink(src, dst_wh)
    scale: Callable[[U8, U8, U8, U8], None] = separable_scaler(
        src, dst_wh, weights_of=area_weights, planes=2, scratch=scratch, checked=checked)
    return scale
