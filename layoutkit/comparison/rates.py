"""Each publisher's frame rate, read from its test-stream codes (pure numpy).

A test stream's code carries the number of frames since its user first joined, counted at
the *publisher's* rate (24, 25, 30, 60 fps, ...), not at the canvas rate the recording is
mixed at.  Before the codes can align the recording (:mod:`~layoutkit.comparison.align`) or
say which frame a region should show (:mod:`~layoutkit.comparison.classify`), each user's
rate is estimated from the codes themselves:

1. per uid, the readings ``(recording time, frame number)`` sorted by time, the frame
   numbers unwrapped (they count modulo 4096); a frame number read again right after
   itself (a frozen picture, a publisher slower than the canvas) counts once, when first
   shown;
2. a coarse rate: the median slope between readings about half a second apart whose frame
   numbers advanced (a frozen picture's pairs do not advance and do not vote);
3. a robust line fit: least squares on the readings within 2 frames of the line, three
   rounds (a frozen stretch, a misread or a jump falls out);
4. the rate is snapped to a common rate (:data:`COMMON_RATES` and the canvas rate) when
   within 2 % of it (:data:`SNAP_SHARE`: a recording whose clock runs a little fast or slow
   keeps its publishers' rates, and the drift of its frame numbers is reported) or when
   that rate moves no reading's expected frame number by more than half a frame over the
   readings' span; else to the nearest whole rate under that same half-frame rule.

Too few readings (fewer than :data:`MIN_READINGS`, or less than half a second of them)
give no estimate: the caller keeps the canvas rate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .._typing import F64

__all__ = ["COMMON_RATES", "MIN_READINGS", "SNAP_SHARE", "estimate_rate", "flashes_at_rate",
           "publisher_rates"]

#: Publisher rates a fitted rate is snapped to when it is indistinguishable from one.
COMMON_RATES: tuple[int, ...] = (15, 24, 25, 30, 60)
#: A fitted rate this close (relative) to a common rate is taken as that rate.
SNAP_SHARE = 0.02
#: Fewest readings of a uid that give an estimate.
MIN_READINGS = 8
#: The frame number in a code wraps at this (as :data:`align.CODE_PERIOD_FRAMES`).
_PERIOD = 4096
_MIN_SPAN_S = 0.5
_INLIER_FRAMES = 2.0


def _coarse_rate(t: F64, f: F64) -> float | None:
    """Median slope of pairs about 0.5 s apart whose frame numbers advanced."""
    j = np.searchsorted(t, t + 0.5)
    ok = j < t.size
    i, j = np.nonzero(ok)[0], j[ok]
    dt, df = t[j] - t[i], f[j] - f[i]
    moving = (dt > 0.25) & (df > 0.5)
    if not moving.any():
        return None
    return float(np.median(df[moving] / dt[moving]))


def _fit(t: F64, f: F64, rate: float) -> float:
    """Least-squares slope on the readings within 2 frames of the line, three rounds."""
    intercept = float(np.median(f - rate * t))
    for _ in range(3):
        inside = np.abs(f - (rate * t + intercept)) <= _INLIER_FRAMES
        if inside.sum() < MIN_READINGS or np.ptp(t[inside]) <= 0:
            break
        rate, intercept = (float(v) for v in np.polyfit(t[inside], f[inside], 1))
    return rate


def _snap(rate: float, span_s: float, common: Sequence[int]) -> float:
    """Snap ``rate`` to a common or whole rate when the readings cannot tell them apart.

    The nearest common rate when within :data:`SNAP_SHARE` of it or half a frame over
    ``span_s``; else the nearest whole rate within half a frame; else ``rate``.

    A recording whose clock runs 1 % fast still gets its publishers' common rates (and
    its frame numbers then drift, which compare reports); a 20 fps publisher stays at 20.

    >>> [_snap(r, 60, COMMON_RATES) for r in (14.8, 20.004, 20.3)]
    [15.0, 20.0, 20.3]
    """
    best = min(common, key=lambda c: abs(c - rate))
    if abs(best - rate) <= SNAP_SHARE * best or abs(best - rate) * span_s <= 0.5:
        return float(best)
    whole = round(rate)
    return float(whole) if abs(whole - rate) * span_s <= 0.5 else rate


def estimate_rate(times: F64, frames: npt.NDArray[np.integer], *,
                  common: Sequence[int] = COMMON_RATES) -> float | None:
    """Estimate the rate at which one test stream's frame numbers advance, from its readings.

    Parameters
    ----------
    times : ndarray (n,)
        Recording time of each reading (seconds).
    frames : ndarray (n,)
        The frame number read (modulo 4096).
    common : sequence of int
        Rates to snap to when indistinguishable from the fit.

    Returns
    -------
    float or None
        Frames per second; None with too few readings or no advancing pair.

    Examples
    --------
    >>> t = np.arange(60) / 15                      # a 15 fps canvas, 4 s
    >>> estimate_rate(t, np.floor(t * 25).astype(int))  # a 25 fps publisher
    25.0
    >>> estimate_rate(t[:3], np.arange(3)) is None
    True
    """
    order = np.argsort(times, kind="stable")
    t = np.asarray(times, dtype=np.float64)[order]
    f = np.unwrap(np.asarray(frames, dtype=np.float64)[order], period=_PERIOD)
    fresh = np.ones(t.size, dtype=bool)  # a frame shown again (frozen, or a slower publisher)
    fresh[1:] = f[1:] != f[:-1]  # counts once, when first shown
    t, f = t[fresh], f[fresh]
    if t.size < MIN_READINGS or t[-1] - t[0] < _MIN_SPAN_S:
        return None
    coarse = _coarse_rate(t, f)
    if coarse is None or coarse <= 0:
        return None
    rate = _fit(t, f, coarse)
    if not np.isfinite(rate) or rate < 1:
        return None
    return _snap(rate, float(t[-1] - t[0]), common)


def publisher_rates(times: F64, code_uids: npt.NDArray[np.int32],
                    code_frames: npt.NDArray[np.int32], uid_names: Sequence[str], *,
                    fps: float, common: Sequence[int] = COMMON_RATES) -> dict[str, float]:
    """Each uid's estimated rate (the canvas ``fps`` for a uid with no estimate).

    Parameters
    ----------
    times : ndarray (n,)
        Recording time of each frame.
    code_uids, code_frames : ndarray (n, k)
        Per frame and code key: uid index into ``uid_names`` (-1 unread) and frame number.
        A frame reading the same uid at several keys counts once (the first key).
    uid_names : sequence of str
    fps : float
        The canvas rate, kept for uids without an estimate.

    Returns
    -------
    dict
        uid -> frames per second, for every name in ``uid_names``.

    Examples
    --------
    >>> t = np.arange(45) / 15
    >>> uids = np.zeros((45, 1), dtype=np.int32)
    >>> frames = np.floor(t * 30).astype(np.int32)[:, None]
    >>> publisher_rates(t, uids, frames, ["7", "8"], fps=15)
    {'7': 30.0, '8': 15.0}
    """
    out = {name: float(fps) for name in uid_names}
    common = (*common, int(fps)) if float(fps).is_integer() else tuple(common)
    for index, name in enumerate(uid_names):
        hit = code_uids == index
        rows = np.nonzero(hit.any(axis=1))[0]
        if rows.size < MIN_READINGS:
            continue
        cols = np.argmax(hit[rows], axis=1)
        rate = estimate_rate(times[rows], code_frames[rows, cols], common=common)
        if rate is not None:
            out[name] = rate
    return out


def flashes_at_rate(times: F64, frames: npt.NDArray[np.integer], *, rate: float,
                    fps: float) -> tuple[F64, npt.NDArray[np.int64]]:
    """When a test stream's whole-second flashes were shown, and which second each starts.

    A publisher faster than the canvas may have its flash frame (frame numbers ``0, rate,
    2 rate, ...``) skipped by the mix: a canvas frame showing frame ``f`` within one canvas
    frame after a flash (``f mod rate < rate / fps``) dates it at ``t - (f mod rate) / rate``.
    A slower publisher's flash stays on several canvas frames: only the first counts.

    Parameters
    ----------
    times : ndarray (n,)
        Recording times of frames whose region showed the user live, sorted.
    frames : ndarray (n,)
        The frame number read in each.
    rate : float
        The publisher's rate (rounded to whole frames, as the test stream counts).
    fps : float
        The canvas rate.

    Returns
    -------
    t : ndarray of float64
        The flashes' recording times.
    second : ndarray of int64
        The second of the stream's own clock each flash starts (its frame number // rate),
        which the numbered beep of :mod:`layoutkit.signals.tone` carries too.

    Examples
    --------
    >>> t = np.arange(30) / 15                    # 2 s of a 15 fps canvas
    >>> when, second = flashes_at_rate(t, 2 * np.arange(30) + 1, rate=30, fps=15)
    >>> when, second                              # a 30 fps publisher, odd frames
    (array([-0.03333333,  0.96666667]), array([0, 1]))
    >>> flashes_at_rate(t, np.arange(30), rate=15, fps=15)[0]
    array([0., 1.])
    """
    whole = max(1, round(rate))
    f = np.asarray(frames, dtype=np.int64)
    phase = f % whole
    hit = phase < max(1.0, whole / fps)
    t = np.asarray(times, dtype=np.float64)[hit] - phase[hit] / whole
    ids = (f - phase)[hit]
    first = np.ones(t.size, dtype=bool)
    first[1:] = (ids[1:] != ids[:-1]) | (np.diff(t) > 0.5)
    return t[first], ids[first] // whole
