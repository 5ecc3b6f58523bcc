"""Frozen pictures: when a region's picture stops changing beyond coding noise.

A user whose camera is live changes its region from frame to frame (a person sitting still
breathes, blinks and carries sensor noise; FFmpeg's ``testsrc2``, ``mandelbrot`` and
``life`` move); a frozen tile (the cloud's last frame after a user stops video) does not
change at all, except that the recording's own encoder re-codes it at each key frame (a jump
of up to about one luma level on the ~160-pixel canvas the observations use).  So a region is
*still* from frame to frame when the mean absolute difference of its luma
(:func:`region_motion`) stays at or under :data:`STILL` levels, one isolated jump up to
:data:`SPIKE` levels allowed between still pairs (a key frame), and it is *frozen* over a
stretch of such frames that lasts at least ``min_s`` seconds (:func:`still_spans`).

Measured (``tests/test_stillness.py``, 640x360 composites by FFmpeg's x264 at 400 kb/s,
GOP 2 s): a frozen tile moves 0.00-0.06 levels between frames and up to 1.0 at key frames;
``testsrc2``, ``mandelbrot`` and ``life`` tiles have median motion 0.75-4.7 levels and never
stay under 0.15 for two frames in a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["MIN_FROZEN_S", "SPIKE", "STILL", "StillSpan", "region_motion", "still_spans"]

#: Mean absolute luma change (levels, on the observations' small canvas) under which two
#: consecutive frames of a region show the same picture.
STILL = 0.15
#: The largest change allowed once between still frames (the encoder's key-frame refresh).
SPIKE = 2.0
#: The shortest stretch of still frames called frozen, in seconds.
MIN_FROZEN_S = 1.0

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class StillSpan:
    """A region shows one unchanging picture from ``start`` until ``end`` (recording seconds;
    ``end`` is the time of the first frame that differs, or just after the last frame)."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        """How long the picture stays."""
        return self.end - self.start


def region_motion(previous: F32, current: F32, rect: tuple[int, int, int, int]) -> float:
    """The mean absolute difference of two luma planes inside ``rect`` ``(x, y, w, h)``.

    >>> a = np.zeros((4, 6), np.float32); b = a.copy(); b[0, 0] = 8
    >>> region_motion(a, b, (0, 0, 2, 2)), region_motion(a, b, (2, 0, 4, 4))
    (2.0, 0.0)
    """
    x, y, w, h = rect
    diff = np.abs(current[y:y + h, x:x + w] - previous[y:y + h, x:x + w])
    return float(diff.mean()) if diff.size else 0.0


def _still_frames(motion: F32, *, still: float, spike: float) -> npt.NDArray[np.bool_]:
    """Which frames (from the second) repeat the picture of the frame before them: motion
    at most ``still``, or one isolated jump up to ``spike`` between two such frames."""
    calm = motion <= still
    jump = (motion <= spike) & ~calm
    before = np.concatenate([[False], calm[:-1]])
    after = np.concatenate([calm[1:], [False]])
    out = calm | (jump & before & after)
    out[0] = False  # the first frame has nothing before it
    return out


def still_spans(motion: F32, times: F64, *, still: float = STILL, spike: float = SPIKE,
                min_s: float = MIN_FROZEN_S) -> tuple[StillSpan, ...]:
    """The stretches in which a region's picture does not change.

    Parameters
    ----------
    motion : ndarray (n,)
        ``motion[i]``: the region's change from frame ``i - 1`` to frame ``i``
        (:func:`region_motion`; ``motion[0]`` is ignored).
    times : ndarray (n,)
        Each frame's time, increasing.
    still, spike, min_s : float
        See :data:`STILL`, :data:`SPIKE`, :data:`MIN_FROZEN_S`.

    Returns
    -------
    tuple of StillSpan
        In time order; a span starts at the first frame showing the picture.

    Examples
    --------
    >>> t = np.arange(10) / 2  # 2 frames a second
    >>> m = np.array([9, 3, 0, 0, 0.9, 0, 0, 5, 4, 3], np.float32)
    >>> still_spans(m, t)
    (StillSpan(start=0.5, end=3.5),)
    >>> still_spans(m, t, min_s=4)
    ()
    """
    flags = _still_frames(np.asarray(motion, np.float32), still=still, spike=spike)
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    spans = []
    for first, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        start = float(times[first - 1])  # the picture first appears one frame before
        end = float(times[stop]) if stop < len(times) else float(times[-1]) + step
        if end - start >= min_s:
            spans.append(StillSpan(start, end))
    return tuple(spans)
