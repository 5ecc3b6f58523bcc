"""The Numba row kernel of the separable scalers (imported, and so compiled, only on first use).

:func:`rows` combines whole rows of a 2-D plane with per-output-row weights::

    out[i, :n] = sum_t weights[i, t] * src[r0 + offsets[i] + t, c0:c0 + n]   (rounded)

It is the only arithmetic of :mod:`layoutkit.compose.area` and :mod:`layoutkit.compose.linear`
(each pass of a separable resize is a row pass, the other axis after a ``cv2.transpose``).
Importing this module imports Numba; :func:`layoutkit.compose.area.row_kernel` imports it
lazily so that importing the compositor does not.  The machine code is cached on disk
(``cache=True``): next to this file, or in Numba's user cache directory.

Written for Numba: 2-D indexing, no row views (a view per row costs more than the row's
arithmetic), unsigned indices (no negative-index checks), float32 arithmetic with fused
multiply-adds; rounds to nearest (half to even, as OpenCV does) and saturates to ``out``'s
type.  1..4 taps are one pass over each row (one helper per tap count, so the tap count is
not tested per pixel); more taps accumulate in ``acc`` (float32, at least ``n`` long).

Reading an 8-bit plane (a source picture: the first pass), :func:`rows` hands the output
rows to the kernels two at a time and before each pair asks the CPU to prefetch the source
rows of the next pair (:func:`_run`, LLVM's ``llvm.prefetch``): a tile's window is short
rows at a large stride, mostly not in the caches, which the hardware prefetchers follow
late.  It is a hint only: the kernels' loops are unchanged, and so is every pixel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["copy_planes", "rows", "rows_wide"]

_U = np.uint64
#: Output rows per block, and blocks ahead, of the prefetch (see :func:`_run`).
_AHEAD = 2
#: Bytes per cache line (prefetch stride).
_LINE = 64


@intrinsic
def _prefetch_intrinsic(typingctx: Any, src: Any, row: Any, col: Any) -> Any:
    """``prefetch(src, row, col)``: ask the CPU to load the cache line of ``src[row, col]``.

    LLVM's ``llvm.prefetch`` (read, high locality): a hint, never a fault, no result.
    """
    if not isinstance(src, types.Array) or src.ndim != 2:
        return None
    sig = types.void(src, row, col)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        index = [context.cast(builder, value, kind, types.intp)
                 for value, kind in zip(args[1:], signature.args[1:], strict=True)]
        ptr = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]  # numba: no annotations
            context, builder, aryty, ary, index, wraparound=False)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, i32, i32, i32])
        fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]  # as above
            builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, cgutils.voidptr_t), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return sig, codegen


#: How the kernels call it: ``_prefetch(src, row, col)`` (Numba passes the typing context;
#: the cast only tells mypy so, it is the same object).
_prefetch = cast("Callable[[Any, Any, Any], None]", _prefetch_intrinsic)


@numba.njit(cache=True, nogil=True)
def _fetch(src: Any, p: Any, k: Any, c0: Any, n: Any) -> None:  # pragma: no cover - compiled
    """Prefetch rows ``p .. p + k - 1``, columns ``c0 .. c0 + n - 1`` of an 8-bit plane."""
    for t in range(k):
        c = _U(0)
        while c < n:
            _prefetch(src, p + t, c0 + c)
            c += _U(_LINE)
        _prefetch(src, p + t, c0 + n - _U(1))


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _rows1(src: Any, r0: Any, c0: Any, n: Any, out: Any, offsets: Any, weights: Any,
           top: Any) -> None:  # pragma: no cover - runs compiled
    """One tap per output row."""
    for i in range(offsets.shape[0]):
        p0 = r0 + offsets[i]
        a = weights[i, 0]
        for c in range(n):
            out[i, c] = min(np.rint(a * np.float32(src[p0, c0 + c])), top)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _rows2(src: Any, r0: Any, c0: Any, n: Any, out: Any, offsets: Any, weights: Any,
           top: Any) -> None:  # pragma: no cover - runs compiled
    """Two taps per output row (bilinear, and area shrinks below 2x that straddle one edge)."""
    for i in range(offsets.shape[0]):
        p0 = r0 + offsets[i]
        p1 = p0 + _U(1)
        a, b = weights[i, 0], weights[i, 1]
        for c in range(n):
            out[i, c] = min(np.rint(a * np.float32(src[p0, c0 + c])
                                    + b * np.float32(src[p1, c0 + c])), top)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _rows3(src: Any, r0: Any, c0: Any, n: Any, out: Any, offsets: Any, weights: Any,
           top: Any) -> None:  # pragma: no cover - runs compiled
    """Three taps per output row."""
    for i in range(offsets.shape[0]):
        p0 = r0 + offsets[i]
        p1, p2 = p0 + _U(1), p0 + _U(2)
        a, b, g = weights[i, 0], weights[i, 1], weights[i, 2]
        for c in range(n):
            out[i, c] = min(np.rint(a * np.float32(src[p0, c0 + c])
                                    + b * np.float32(src[p1, c0 + c])
                                    + g * np.float32(src[p2, c0 + c])), top)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _rows4(src: Any, r0: Any, c0: Any, n: Any, out: Any, offsets: Any, weights: Any,
           top: Any) -> None:  # pragma: no cover - runs compiled
    """Four taps per output row."""
    for i in range(offsets.shape[0]):
        p0 = r0 + offsets[i]
        p1, p2, p3 = p0 + _U(1), p0 + _U(2), p0 + _U(3)
        a, b, g, h = weights[i, 0], weights[i, 1], weights[i, 2], weights[i, 3]
        for c in range(n):
            out[i, c] = min(np.rint(a * np.float32(src[p0, c0 + c])
                                    + b * np.float32(src[p1, c0 + c])
                                    + g * np.float32(src[p2, c0 + c])
                                    + h * np.float32(src[p3, c0 + c])), top)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _start4(src: Any, p0: Any, c0: Any, n: Any, w: Any, acc: Any) -> None:  # pragma: no cover
    """``acc[:n] = w[0] * src[p0, c0:] + ... + w[3] * src[p0 + 3, c0:]``."""
    p1, p2, p3 = p0 + _U(1), p0 + _U(2), p0 + _U(3)
    a, b, g, h = w[0], w[1], w[2], w[3]
    for c in range(n):
        acc[c] = (a * np.float32(src[p0, c0 + c]) + b * np.float32(src[p1, c0 + c])
                  + g * np.float32(src[p2, c0 + c]) + h * np.float32(src[p3, c0 + c]))


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _add2(src: Any, p0: Any, c0: Any, n: Any, a: Any, b: Any,
          acc: Any) -> None:  # pragma: no cover - runs compiled
    """``acc[:n] += a * src[p0, c0:] + b * src[p0 + 1, c0:]``."""
    p1 = p0 + _U(1)
    for c in range(n):
        acc[c] += a * np.float32(src[p0, c0 + c]) + b * np.float32(src[p1, c0 + c])


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _add1(src: Any, p0: Any, c0: Any, n: Any, a: Any,
          acc: Any) -> None:  # pragma: no cover - runs compiled
    """``acc[:n] += a * src[p0, c0:]``."""
    for c in range(n):
        acc[c] += a * np.float32(src[p0, c0 + c])


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _rows_many(src: Any, r0: Any, c0: Any, n: Any, out: Any, offsets: Any, weights: Any,
               acc: Any) -> None:  # pragma: no cover - runs compiled
    """Five or more taps per output row: four, then pairs, then an odd last one, in ``acc``."""
    k = _U(weights.shape[1])
    top = np.float32(np.iinfo(out.dtype).max)
    for i in range(offsets.shape[0]):
        _start4(src, r0 + offsets[i], c0, n, weights[i], acc)
        t = _U(4)
        while t + _U(1) < k:
            _add2(src, r0 + offsets[i] + t, c0, n, weights[i, t], weights[i, t + _U(1)], acc)
            t += _U(2)
        if t < k:
            _add1(src, r0 + offsets[i] + t, c0, n, weights[i, t], acc)
        for c in range(n):
            out[i, c] = min(np.rint(acc[c]), top)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _rows8(src: Any, r0: Any, c0: Any, n: Any, out: Any, offsets: Any,
           weights: Any) -> None:  # pragma: no cover - runs compiled
    """Eight taps per output row in one pass over each row (the sum stays in registers)."""
    top = np.float32(np.iinfo(out.dtype).max)
    for i in range(offsets.shape[0]):
        p = r0 + offsets[i]
        w = weights[i]
        for c in range(n):
            x = c0 + c
            out[i, c] = min(np.rint(
                w[0] * np.float32(src[p, x]) + w[1] * np.float32(src[p + _U(1), x])
                + w[2] * np.float32(src[p + _U(2), x]) + w[3] * np.float32(src[p + _U(3), x])
                + w[4] * np.float32(src[p + _U(4), x]) + w[5] * np.float32(src[p + _U(5), x])
                + w[6] * np.float32(src[p + _U(6), x])
                + w[7] * np.float32(src[p + _U(7), x])), top)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _dispatch(src: Any, r0: Any, c0: Any, n: Any, out: Any, offsets: Any, weights: Any,  # noqa: PLR0913, PLR0917 -- Numba kernel: positional only
              acc: Any, wide: Any) -> None:  # pragma: no cover - runs compiled
    """Run the row kernel of the tap count (``wide``: eight taps in one pass)."""
    k = weights.shape[1]
    top = np.float32(np.iinfo(out.dtype).max)
    if wide and k == 8:
        _rows8(src, r0, c0, n, out, offsets, weights)
    elif k == 1:
        _rows1(src, r0, c0, n, out, offsets, weights, top)
    elif k == 2:
        _rows2(src, r0, c0, n, out, offsets, weights, top)
    elif k == 3:
        _rows3(src, r0, c0, n, out, offsets, weights, top)
    elif k == 4:
        _rows4(src, r0, c0, n, out, offsets, weights, top)
    else:
        _rows_many(src, r0, c0, n, out, offsets, weights, acc)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _run(src: Any, r0: Any, c0: Any, n: Any, out: Any, offsets: Any, weights: Any,  # noqa: PLR0913, PLR0917 -- Numba kernel: positional only
         acc: Any, fetch: Any, wide: Any) -> None:  # pragma: no cover - runs compiled
    """Run the row kernels, prefetching an 8-bit source's rows ``_AHEAD`` outputs ahead.

    The output rows go to the kernels in blocks of ``_AHEAD``; before each block the source
    rows of the next block are prefetched (the first block's too).  The kernels' loops are
    left as they are: a 16-bit plane, or ``fetch`` False, runs them in one call.
    """
    r0, c0, n = _U(r0), _U(c0), _U(n)
    m = offsets.shape[0]
    if not fetch or src.itemsize != 1 or n == 0:
        _dispatch(src, r0, c0, n, out, offsets, weights, acc, wide)
        return
    k = _U(weights.shape[1])
    for j in range(min(_AHEAD, m)):
        _fetch(src, r0 + offsets[j], k, c0, n)
    for i0 in range(0, m, _AHEAD):
        i1 = min(i0 + _AHEAD, m)
        for j in range(i1, min(i1 + _AHEAD, m)):
            _fetch(src, r0 + offsets[j], k, c0, n)
        _dispatch(src, r0, c0, n, out[i0:i1], offsets[i0:i1], weights[i0:i1], acc, wide)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def rows(src: Any, r0: Any, c0: Any, n: Any, out: Any, offsets: Any, weights: Any,  # noqa: PLR0913, PLR0917 -- Numba kernel: positional only
         acc: Any, fetch: Any = True) -> None:  # pragma: no cover - runs compiled
    """Set ``out[i, :n] = sum_t weights[i, t] * src[r0 + offsets[i] + t, c0:c0 + n]``, rounded.

    Parameters
    ----------
    src : ndarray, 2-D, uint8 or uint16
        The plane read (not bounds-checked: the callers check the window).
    r0, c0 : int
        Row and column of the window's corner in ``src``.
    n : int
        Columns per row.
    out : ndarray, 2-D, uint8 or uint16
        ``len(offsets)`` rows of at least ``n`` columns (a view is fine).
    offsets : ndarray of uint64
        First source row (from ``r0``) of each output row.
    weights : ndarray of float32, shape (len(offsets), k)
        Consecutive tap weights (any gain: the result is rounded to ``out``'s type).
    acc : ndarray of float32
        Scratch of at least ``n`` values, used for ``k > 4``.
    fetch : bool
        Prefetch the rows of an 8-bit ``src`` ahead (True: a source picture; False: a
        plane already in the caches).
    """
    _run(src, r0, c0, n, out, offsets, weights, acc, fetch, False)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def rows_wide(src: Any, r0: Any, c0: Any, n: Any, out: Any, offsets: Any, weights: Any,  # noqa: PLR0913, PLR0917 -- Numba kernel: positional only
              acc: Any, fetch: Any = True) -> None:  # pragma: no cover - runs compiled
    """Do what :func:`rows` does, eight taps in one pass (the bilinear scalers' halvings).

    :func:`rows` sums more than four taps through ``acc`` in an order the area scalers'
    pixels depend on; this entry, for the bilinear scalers only, sums eight at once.
    """
    _run(src, r0, c0, n, out, offsets, weights, acc, fetch, True)


@numba.njit(cache=True, nogil=True)
def _copy_plane(flat: Any, dst: Any, g: Any) -> None:  # pragma: no cover - runs compiled
    """Copy ``g = (offset, stride, dx, dy, w, h)``: ``h`` rows of ``w`` bytes into ``dst``."""
    offset, stride, dx, dy, w, h = g[0], g[1], g[2], g[3], g[4], g[5]
    for r in range(h):
        a = offset + r * stride
        for c in range(w):
            dst[dy + r, dx + c] = flat[a + c]


@numba.njit(cache=True, nogil=True)
def copy_planes(src: Any, y: Any, u: Any, v: Any,
                geometry: Any) -> None:  # pragma: no cover - runs compiled
    """Copy a window of each plane of the I420 buffer ``src`` into the planes ``y, u, v``.

    Parameters
    ----------
    src : ndarray, 2-D, uint8, C-contiguous
        The I420 picture (read as its flat bytes; not bounds-checked).
    y, u, v : ndarray, 2-D, uint8
        The canvas planes written.
    geometry : ndarray of uint64, shape (3, 6)
        Per plane ``(offset, stride, dx, dy, w, h)``: the flat offset of the window's first
        byte in ``src`` and the plane's row stride, where it lands, its size.
    """
    flat = src.reshape(-1)
    _copy_plane(flat, y, geometry[0])
    _copy_plane(flat, u, geometry[1])
    _copy_plane(flat, v, geometry[2])
