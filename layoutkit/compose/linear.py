"""Bilinear resampling of 8-bit planes by the separable row kernel (the compositor's fast path).

The weights are OpenCV's ``cv2.INTER_LINEAR`` ones (:func:`linear_weights`: source position
``(j + 0.5) * s - 0.5`` of output ``j`` for ``s = ssize / dsize``, two taps, clamped at the
edges), and the result is within one gray level of ``cv2.resize(..., INTER_LINEAR)``: OpenCV
rounds its weights to 11 bits and truncates between its passes, we compute in float32 with
a 16-bit scratch of 8 fractional bits between the passes and round to nearest once at the
end.  It is what :func:`layoutkit.compose.plan.build_plan` draws with ``fast_linear=True``:
about 1.7x faster than ``cv2.resize`` for the tiles of a 1080p grid (640x360 -> 384x216:
~65 us for luma against ~115 us on a 2-vCPU AMD EPYC (Zen 3) VM), because both passes run
along contiguous rows (the second after a ``cv2.transpose``) in SIMD float32, where OpenCV's
horizontal pass gathers pixel pairs one output at a time.

The passes are ordered by cost (:func:`pass_order`): for a shrink the vertical pass comes
first, for an enlargement the horizontal one (so the last pass writes the destination rows
directly, without a last transpose); a width that does not change needs one vertical pass.

Examples
--------
>>> import cv2
>>> import numpy as np
>>> plane = np.random.default_rng(0).integers(0, 256, (60, 90), dtype=np.uint8)
>>> scale = linear_scaler((10, 5, 70, 50), (43, 31))   # window x, y, w, h -> 43 x 31
>>> out = np.empty((31, 43), np.uint8)
>>> scale(plane, out)
>>> ref = cv2.resize(plane[5:55, 10:80], (43, 31), interpolation=cv2.INTER_LINEAR)
>>> int(np.abs(out.astype(int) - ref).max()) <= 1
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .._typing import U8
from .area import AreaScratch, separable_scaler

__all__ = [
    "halved_linear_weights",
    "linear_pair_scaler",
    "linear_scaler",
    "linear_weights",
    "pass_order",
]

Rect = tuple[int, int, int, int]


@functools.cache
def linear_weights(ssize: int, dsize: int) -> tuple[npt.NDArray[np.uint64],
                                                    npt.NDArray[np.float64]]:
    """Bilinear weights of a ``ssize -> dsize`` resize along one axis, as OpenCV places them.

    Output ``j`` samples the source at ``f = (j + 0.5) * ssize / dsize - 0.5`` (computed in
    float32, as OpenCV does), between pixels ``floor(f)`` and ``floor(f) + 1``; positions
    before the first pixel or past the last take that pixel alone.

    Parameters
    ----------
    ssize, dsize : int
        Source and destination length, both at least 1.

    Returns
    -------
    offsets : ndarray of shape (dsize,), uint64
        First source index of each output's two taps (read-only).
    weights : ndarray of shape (dsize, k), float64
        ``k = 2`` weights per output (``k = 1`` for a one-pixel source), summing to 1
        (read-only).

    Examples
    --------
    >>> offsets, weights = linear_weights(5, 3)
    >>> offsets.tolist(), weights.round(3).tolist()
    ([0, 2, 3], [[0.667, 0.333], [1.0, 0.0], [0.333, 0.667]])
    """
    if ssize < 1 or dsize < 1:
        raise ValueError(f"linear_weights: need sizes of at least 1, got {ssize} -> {dsize}")
    k = min(2, ssize)
    offsets = np.zeros(dsize, dtype=np.uint64)
    weights = np.zeros((dsize, k), dtype=np.float64)
    scale = 1.0 / (dsize / ssize)  # OpenCV: scale_x = 1. / inv_scale_x
    for j in range(dsize):
        f = float(np.float32((j + 0.5) * scale - 0.5))
        s = math.floor(f)
        f -= s
        if s < 0:
            s, f = 0, 0.0
        if s >= ssize - 1:
            s, f = ssize - 1, 0.0
        first = min(s, ssize - k)
        offsets[j] = first
        weights[j, s - first] += 1.0 - f
        if f:
            weights[j, s + 1 - first] += f
    offsets.flags.writeable = False
    weights.flags.writeable = False
    return offsets, weights


@functools.cache
def halved_linear_weights(halvings: int) -> Callable[[int, int], tuple[
        npt.NDArray[np.uint64], npt.NDArray[np.float64]]]:
    """Return the weights function of ``halvings`` exact 2x box halvings, then bilinear.

    The compositor's default shrink by 2x or more (:class:`~layoutkit.compose.plan.Scaling`'s
    ``levels``: each level is ``size // 2`` pixels, the mean of two, an odd last pixel
    dropped; then :func:`linear_weights` onto the destination) as one filter per output:
    the product of the levels' matrices, so the kernel draws the whole chain in one set
    of passes, rounding once instead of once per level.

    Examples
    --------
    >>> offsets, weights = halved_linear_weights(1)(8, 3)   # 8 -> 4 (halving) -> 3
    >>> offsets.tolist(), (weights * 12).round(3).tolist()
    ([0, 2, 4], [[5.0, 5.0, 1.0, 1.0], [3.0, 3.0, 3.0, 3.0], [1.0, 1.0, 5.0, 5.0]])
    """
    def weights_of(ssize: int, dsize: int) -> tuple[npt.NDArray[np.uint64],
                                                    npt.NDArray[np.float64]]:
        return _halved_linear(ssize, dsize, halvings)
    return weights_of


@functools.cache
def _halved_linear(ssize: int, dsize: int, halvings: int) -> tuple[
        npt.NDArray[np.uint64], npt.NDArray[np.float64]]:
    matrix = np.eye(ssize)
    size = ssize
    for _ in range(halvings):
        half = np.zeros((size // 2, size))
        rows = np.arange(size // 2)
        half[rows, 2 * rows] = half[rows, 2 * rows + 1] = 0.5
        matrix, size = half @ matrix, size // 2
    offsets_l, weights_l = linear_weights(size, dsize)
    last = np.zeros((dsize, size))
    for j in range(dsize):
        last[j, int(offsets_l[j]):int(offsets_l[j]) + weights_l.shape[1]] = weights_l[j]
    full = last @ matrix
    nonzero = full != 0
    first = nonzero.argmax(axis=1)
    end = ssize - nonzero[:, ::-1].argmax(axis=1)
    k = int((end - first).max())
    if 4 < k < 8 <= ssize:  # eight taps run in one pass (rows_wide)
        k = 8
    first = np.minimum(first, ssize - k)
    offsets = first.astype(np.uint64)
    weights = np.stack([full[j, first[j]:first[j] + k] for j in range(dsize)])
    offsets.flags.writeable = False
    weights.flags.writeable = False
    return offsets, weights


def pass_order(src_wh: tuple[int, int], dst_wh: tuple[int, int]) -> str:
    """Choose the cheaper order of the passes: ``"v1"``, ``"v"`` or ``"h"``.

    The cost counted is the pixels each pass and transpose writes: vertical first writes
    ``dh * w`` twice (pass, transpose) and ``dw * dh`` twice; horizontal first ``w * h``
    (transposed window), ``dw * h`` twice and ``dw * dh`` once.

    Examples
    --------
    >>> pass_order((640, 360), (384, 216)), pass_order((640, 360), (1920, 1080))
    ('v', 'h')
    >>> pass_order((640, 360), (640, 400))
    'v1'
    """
    w, h = src_wh
    dw, dh = dst_wh
    if w == dw:
        return "v1"
    vertical = 2 * dh * w + 2 * dw * dh
    horizontal = w * h + 2 * dw * h + dw * dh
    return "v" if vertical <= horizontal else "h"


def linear_scaler(src: Rect, dst_wh: tuple[int, int], *, halvings: int = 0,
                  scratch: AreaScratch | None = None,
                  checked: bool = True) -> Callable[[U8, U8], None]:
    """Make a function resizing the ``src`` window of a plane bilinearly into a ``dst_wh`` view.

    Parameters
    ----------
    src : tuple of int
        ``(x, y, w, h)`` window of the source plane.
    dst_wh : tuple of int
        ``(dw, dh)``, any size of at least 1 (shrink or enlargement, per axis).
    halvings : int
        Exact 2x box halvings of the window before the bilinear step, drawn as one filter
        (:func:`halved_linear_weights`).
    scratch : AreaScratch, optional
        Where its scratch planes come from (shared with the other scalers of the pool).
    checked : bool
        See :func:`~layoutkit.compose.area.separable_scaler` (False: a plan's own views).

    Returns
    -------
    callable
        ``scale(plane, dst)``: ``plane`` is the whole 2-D ``uint8`` source plane, ``dst`` a
        ``(dh, dw)`` ``uint8`` array or view, written in place.  It uses scratch planes:
        one thread at a time per ``scratch``.  It raises
        :class:`~layoutkit.errors.ShapeError` for a plane that does not hold the window or a
        destination of another shape.
    """
    order = pass_order((int(src[2]), int(src[3])), (int(dst_wh[0]), int(dst_wh[1])))
    weights_of = halved_linear_weights(halvings) if halvings else linear_weights
    scale: Callable[[U8, U8], None] = separable_scaler(
        src, dst_wh, weights_of=weights_of, order="v" if halvings else order,
        scratch=scratch, checked=checked, wide=True)
    return scale


def linear_pair_scaler(src: Rect, dst_wh: tuple[int, int], *, halvings: int = 0,
                       scratch: AreaScratch | None = None,
                       checked: bool = True) -> Callable[[U8, U8, U8, U8], None]:
    """Make :func:`linear_scaler`'s function for two planes with the same window (U and V).

    Returns
    -------
    callable
        ``scale(plane_a, plane_b, dst_a, dst_b)``: both planes go through one set of passes.
    """
    order = pass_order((int(src[2]), int(src[3])), (int(dst_wh[0]), int(dst_wh[1])))
    weights_of = halved_linear_weights(halvings) if halvings else linear_weights
    scale: Callable[[U8, U8, U8, U8], None] = separable_scaler(
        src, dst_wh, weights_of=weights_of, planes=2, order="v" if halvings else order,
        scratch=scratch, checked=checked, wide=True)
    return scale
