"""Frozen pictures: when a region's picture stops changing beyond coding noise.

A user whose camera is live changes its region from frame to frame (a person sitting still
breathes, blinks and carries sensor noise; FFmpeg's ``testsrc2``, ``mandelbrot`` and
``life`` move); a frozen tile (the cloud's last frame after a user stops video) does not
change at all, except that the recording's own encoder re-codes it at each key frame (a jump
of up to about one luma level on the ~160-pixel canvas the observations use).  So a region is
*still* from frame to frame when the mean absolute difference of its luma
(:func:`key_motion`, from :attr:`Observed.motion
<layoutkit.comparison.frames.Observed.motion>`) stays at or under :data:`STILL` levels, a
burst of at most :data:`SPIKE_FRAMES` frames up to :data:`SPIKE` levels allowed between
still frames (a key frame and the encoder's refinement after it), and it is *frozen* over a
stretch of such frames that lasts at least ``min_s`` seconds (:func:`still_spans`).  A
picture that froze on a key frame has no calm frame before its first re-code: with the
recording's key frames (``keys``) that burst is taken in when it is smaller than live
motion plus a re-code (:func:`_key_burst_before`), so such a freeze starts on its frame too.

Measured (``tests/test_stillness.py``: 640x360 composites by FFmpeg's x264, 250-1000 kb/s,
15 and 30 fps, GOP 2 s, six minutes each, as compare observes them): a frozen tile moves
0.000 levels between frames (90th percentile 0.03) and up to 3 at key frames, and is found
from the frame it freezes to the end in every case; ``testsrc2`` and ``mandelbrot`` move
0.2-8 levels a frame and are never frozen; ``life`` is frozen 7.6 s of 1080 tile-seconds at
30 fps / 400 kb/s (one board that has nearly died out, under 0.03 levels a frame) and never
at 15 fps (unchanged with the key-frame rule: measured again on the same six seeds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .._typing import F32, F64

__all__ = ["MIN_FROZEN_S", "SPIKE", "STILL", "StillSpan", "key_motion", "still_spans"]

#: Mean absolute luma change (levels, on the observations' small canvas) under which two
#: consecutive frames of a region show the same picture.
STILL = 0.07
#: The largest change allowed once between still frames (the encoder's key-frame refresh).
SPIKE = 4.0
#: The longest burst of such changes (frames) inside a frozen stretch.
SPIKE_FRAMES = 3
#: The shortest stretch of still frames called frozen, in seconds.
MIN_FROZEN_S = 1.0


@dataclass(frozen=True)
class StillSpan:
    """A region shows one unchanging picture from ``start`` until ``end``.

    Both are recording seconds; ``end`` is the time of the first frame that differs, or just
    after the last frame.
    """

    start: float
    end: float

    @property
    def seconds(self) -> float:
        """How long the picture stays."""
        return self.end - self.start


def _still_frames(motion: F32, *, still: float, spike: float) -> npt.NDArray[np.bool_]:
    """Tell which frames (from the second) repeat the picture of the frame before them.

    Such a frame has motion at most ``still``, or is in a short burst (at most
    :data:`SPIKE_FRAMES` frames) up to ``spike`` between two such frames (a key frame and
    the encoder's refinement after it).

    >>> m = np.array([9, 0, 1, 1, 0, 1, 1, 1, 1, 0], np.float32)
    >>> _still_frames(m, still=0.1, spike=2).astype(int).tolist()
    [0, 1, 1, 1, 1, 0, 0, 0, 0, 1]
    """
    calm = motion <= still
    out = calm.copy()
    edges = np.flatnonzero(np.diff(np.concatenate([[1], calm.astype(np.int8), [1]])))
    for first, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        inside = first > 0 and stop < len(motion)  # calm frames on both sides
        if inside and stop - first <= SPIKE_FRAMES and bool((motion[first:stop] <= spike).all()):
            out[first:stop] = True
    out[0] = False  # the first frame has nothing before it
    return out


#: Live frames before a burst that its motion is weighed against.
LIVE_FRAMES = 3


def _burst_peaks(motion: F32, first: int, stop: int, *, still: float, spike: float) -> F32:
    """Return the largest motion of each burst inside the still frames ``first:stop``.

    Such bursts are the encoder's key-frame re-codes of the unchanging picture.

    >>> _burst_peaks(np.array([0, 0, 2, 1, 0, 0, 3, 0], np.float32), 0, 8, still=0.1, spike=4)
    array([2., 3.], dtype=float32)
    """
    part = motion[first:stop]
    loud = (part > still) & (part <= spike)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(np.int8), [0]])))
    # edges alternate rise, fall (the padding makes every burst end), so the halves pair up
    return np.array([part[a:b].max() for a, b in zip(edges[::2], edges[1::2], strict=True)],
                    np.float32)


def _key_burst_before(motion: F32, keys: npt.NDArray[np.bool_], first: int, stop: int, *,
                      still: float, spike: float) -> int:
    """Count the frames right before the still frames ``first:stop`` that re-code their picture.

    The count is 0 to :data:`SPIKE_FRAMES`: the picture froze on a key frame, so its first
    repeated frame is coded again and changes by the coding noise, with live motion before
    it and no calm frame between.

    Such a burst starts on a key frame (``keys``), stays up to ``spike``, and changes less
    than a live change plus a re-code would: its largest change squared is under the
    median live change of the :data:`LIVE_FRAMES` frames before it squared plus the
    largest re-code inside the span squared (:func:`_burst_peaks`; 0 without one; the
    largest, as a picture re-coded after live motion jumps more than one re-coded after
    stillness).  Live motion that ends on a key frame changes by its own motion and the
    re-code, so it is not taken in; live motion ending elsewhere is not on a key frame.
    Longest burst first; none without live frames before it.

    Measured (``tests/test_stillness.py``'s composites, 10 s, GOP 2 s): a freeze on a key
    frame starts on its frame at 15 fps (250k, 400k, 1000k) and a frame late at 30 fps /
    400k (re-codes of 2.3 levels against live motion of 1.8: nothing tells them apart);
    a freeze's burst squared is 0.04-0.94 times the bound where it is taken in (0.94 on
    ``mandelbrot`` at 600k, ``tests/test_compare_unknown.py``), 1.23 at 30 fps; live
    motion ending on a key frame is never taken in (1.3-2.45 times the bound, 15 and 30
    fps, 250k-1000k).

    >>> m = np.array([9, 2.5, 2.6, 2.4, 1.6, 0, 0, 1.0, 0, 0, 1.1, 0], np.float32)
    >>> keys = np.zeros(12, bool); keys[[4, 7, 10]] = True
    >>> _key_burst_before(m, keys, 5, 12, still=0.07, spike=4)
    1
    >>> m[4] = 2.9  # live change and re-code: the last live frame
    >>> _key_burst_before(m, keys, 5, 12, still=0.07, spike=4)
    0
    >>> _key_burst_before(m, np.zeros(12, bool), 5, 12, still=0.07, spike=4)  # no key frame
    0
    """
    peaks = _burst_peaks(motion, first, stop, still=still, spike=spike)
    recode = float(peaks.max()) if peaks.size else 0.0
    for n in range(min(SPIKE_FRAMES, first - 1), 0, -1):
        burst = float(motion[first - n:first].max())
        live = motion[max(1, first - n - LIVE_FRAMES):first - n]
        live = live[live < 255]  # 255: no picture there (a background) or the first frame
        if not keys[first - n] or live.size < 2 or burst > spike:
            continue
        if burst ** 2 < float(np.median(live)) ** 2 + recode ** 2:
            return n
    return 0


def still_spans(motion: F32, times: F64, *, still: float = STILL, spike: float = SPIKE,
                min_s: float = MIN_FROZEN_S, keys: npt.NDArray[np.bool_] | None = None
                ) -> tuple[StillSpan, ...]:
    """Find the stretches in which a region's picture does not change.

    Parameters
    ----------
    motion : ndarray (n,)
        ``motion[i]``: the region's change from frame ``i - 1`` to frame ``i``
        (:func:`key_motion`; ``motion[0]`` is ignored).
    times : ndarray (n,)
        Each frame's time, increasing.
    still, spike, min_s : float
        See :data:`STILL`, :data:`SPIKE`, :data:`MIN_FROZEN_S`.
    keys : ndarray (n,) bool, optional
        Which frames are key frames: a picture that froze on one starts a frame earlier
        than its first calm frame says (:func:`_key_burst_before`).

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
    motion = np.asarray(motion, np.float32)
    flags = _still_frames(motion, still=still, spike=spike)
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    spans = []
    for first, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        if keys is not None:
            first -= _key_burst_before(motion, keys, first, stop, still=still, spike=spike)
        start = float(times[first - 1])  # the picture first appears one frame before
        end = float(times[stop]) if stop < len(times) else float(times[-1]) + step
        if end - start >= min_s:
            spans.append(StillSpan(start, end))
    return tuple(spans)


def key_motion(motion: npt.NDArray[np.uint8], cells: slice, valid: npt.NDArray[np.bool_],
               *, scale: int) -> F32:
    """Measure a descriptor's motion per frame (levels): the mean of its looked-at cells'.

    ``motion`` is :attr:`Observed.motion <layoutkit.comparison.frames.Observed.motion>`,
    ``cells`` and ``valid`` the descriptor's (``FrameSampler.cell_slice``, ``FrameSampler.valid``),
    ``scale`` ``observe.MOTION_SCALE``.

    >>> m = np.array([[255, 255, 255], [0, 64, 9]], np.uint8)
    >>> key_motion(m, slice(0, 2), np.array([True, True]), scale=32).tolist()
    [7.96875, 1.0]
    """
    part = motion[:, cells][:, valid] if valid.any() else motion[:, cells]
    if part.shape[1] == 0:
        return np.zeros(len(motion), np.float32)
    return np.asarray(part.astype(np.float32).mean(axis=1) / scale, dtype=np.float32)
