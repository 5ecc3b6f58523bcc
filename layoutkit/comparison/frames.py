"""Stage 1, observe: the decoded frames, streamed once, become :class:`Observed`.

Every frame is fitted to the canvas size (:func:`fit_planes`) and turned into compact
observations by the :class:`~layoutkit.comparison.observe.FrameSampler` (region descriptors and
test-stream code readings, and how often each level was a read code's black and white
calibration cell); a few luma planes spread over the recording are kept for the
wrong-layout check (:class:`Reservoir`).  Memory grows by a few KiB per frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from .._typing import F64, I32, I64, U8
from ..errors import MediaError
from ..io.frames import DecodedFrame, Planes
from .observe import Observations, FrameSampler

__all__ = ["Observed", "Reservoir", "canvas_luma", "fit_planes", "observe_frames"]


def _no_levels() -> I64:
    return np.zeros((2, 256), dtype=np.int64)


@dataclass(frozen=True)
class Observed:
    """What the observe stage saw: one row per decoded frame.

    Attributes
    ----------
    times : ndarray (n,) float64
        Recording time of each frame (seconds from the first frame).
    cells : ndarray (n, n_cells, 3) uint8
        Every descriptor cell's mean Y, U, V (:meth:`FrameSampler.describe`).
    code_uids, code_frames : ndarray (n, k) int32
        Per frame and code key: uid index into ``uid_names`` (-1 unread) and frame number.
    uid_names : tuple of str
        Code uid index -> uid.
    origin : float
        Decoder time of the first frame (the recording clock's zero).
    samples : tuple of (float, ndarray)
        A few ``(recording time, luma plane)`` spread over the recording.
    code_levels : ndarray (2, 256) int64
        How often each level was the black (row 0) and the white (row 1) calibration cell
        of a code read (:attr:`~layoutkit.comparison.observe.Observations.code_levels`).
    motion : ndarray (n, n_cells) uint8, optional
        Every descriptor cell's mean absolute luma change from the frame before, in steps
        of ``1 / observe.MOTION_SCALE`` levels (255 on the first frame); None when not
        observed.
    keys : ndarray (n,) bool, optional
        Which frames the recording coded as key frames (``DecodedFrame.key``); None when
        not observed.
    """

    times: F64
    cells: U8
    code_uids: I32
    code_frames: I32
    uid_names: tuple[str, ...]
    origin: float
    samples: tuple[tuple[float, U8], ...] = ()
    code_levels: I64 = field(default_factory=_no_levels)
    motion: U8 | None = None
    keys: npt.NDArray[np.bool_] | None = None

    @property
    def codes_read(self) -> int:
        """How many code readings (frame x code key) found a uid.

        >>> import numpy as np
        >>> o = Observed(np.zeros(2), np.zeros((2, 1, 3), np.uint8),
        ...              np.array([[0, -1], [-1, -1]], np.int32), np.zeros((2, 2), np.int32),
        ...              ("22",), 0.0)
        >>> o.codes_read
        1
        """
        return int((self.code_uids >= 0).sum())

    def __len__(self) -> int:
        """Return the number of frames observed."""
        return len(self.times)

    def take(self, rows: npt.NDArray[np.intp]) -> Observed:
        """Keep the observations of the frames ``rows`` only (no luma samples).

        >>> import numpy as np
        >>> o = Observed(np.arange(3.0), np.zeros((3, 1, 3), np.uint8),
        ...              np.zeros((3, 1), np.int32), np.zeros((3, 1), np.int32), (), 0.0)
        >>> o.take(np.array([2])).times.tolist()
        [2.0]
        """
        return Observed(self.times[rows], self.cells[rows], self.code_uids[rows],
                        self.code_frames[rows], self.uid_names, self.origin, (),
                        self.code_levels, None if self.motion is None else self.motion[rows],
                        None if self.keys is None else self.keys[rows])


class Reservoir:
    """A few luma planes spread over the recording (at most ``cap``, thinned by halves).

    >>> import numpy as np
    >>> r = Reservoir(cap=2, spacing=1.0)
    >>> for t in (0.0, 0.5, 1.0, 2.0, 3.0):
    ...     r.offer(t, np.zeros((2, 2), np.uint8))
    >>> [t for t, _ in r.items]
    [0.0, 2.0]
    """

    def __init__(self, cap: int = 16, spacing: float = 1.0) -> None:
        self.cap, self.spacing = cap, spacing
        self.items: list[tuple[float, U8]] = []

    def offer(self, t: float, luma: U8) -> None:
        """Keep a copy of ``luma`` (frame time ``t``) when it is ``spacing`` after the last.

        When ``cap`` planes are kept, every second one is dropped and the spacing doubles.
        """
        if self.items and t - self.items[-1][0] < self.spacing:
            return
        if len(self.items) >= self.cap:
            self.items = self.items[::2]
            self.spacing *= 2
            if t - self.items[-1][0] < self.spacing:
                return
        self.items.append((t, luma.copy()))


def fit_planes(planes: Planes, canvas_wh: tuple[int, int]) -> Planes:
    """Resize a picture's planes to the canvas when the recording has another size.

    >>> y, u, v = fit_planes((np.zeros((4, 8), np.uint8),) + (np.zeros((2, 4), np.uint8),) * 2,
    ...                      (4, 2))
    >>> y.shape, u.shape, v.shape
    ((2, 4), (1, 2), (1, 2))
    """
    w, h = canvas_wh
    y, u, v = planes
    if y.shape == (h, w):
        return planes
    half = (w // 2, h // 2)
    return (np.asarray(cv2.resize(y, (w, h), interpolation=cv2.INTER_AREA), np.uint8),
            np.asarray(cv2.resize(u, half, interpolation=cv2.INTER_AREA), np.uint8),
            np.asarray(cv2.resize(v, half, interpolation=cv2.INTER_AREA), np.uint8))


def observe_frames(frames: Iterable[DecodedFrame], sampler: FrameSampler, *,
                   reservoir: Reservoir | None = None) -> Observed:
    """Observe every frame once (stage 1).

    Parameters
    ----------
    frames : iterable of DecodedFrame
        The recording's frames in order (its iterator is closed at the end, or when
        observing fails).
    sampler : FrameSampler
        Where to look (every key registered).
    reservoir : Reservoir, optional
        Where the luma samples are kept (default 16, one a second or sparser).

    Returns
    -------
    Observed

    Raises
    ------
    MediaError
        When there is no frame.
    """
    keep = reservoir if reservoir is not None else Reservoir()
    obs = Observations(sampler)
    origin: float | None = None
    keys: list[bool] = []
    items = iter(frames)
    try:
        for frame in items:
            if origin is None:
                origin = frame.t
            keys.append(frame.key)
            planes = fit_planes(frame.planes, sampler.canvas_wh)
            r = frame.t - origin
            obs.add(r, planes)
            keep.offer(r, planes[0])
    finally:  # a decoder running ahead stops at once, also when observing fails
        close = getattr(items, "close", None)
        if close is not None:
            close()
    if origin is None:
        msg = "recording: no video frame could be decoded"
        raise MediaError(msg)
    times, cells, code_uids, code_frames = obs.arrays()
    return Observed(times, cells, code_uids, code_frames, tuple(sampler.uids), origin,
                    tuple(keep.items), obs.code_levels, obs.motion(), np.array(keys, bool))


def canvas_luma(observed: Observed, sampler: FrameSampler) -> F64:
    """Return each frame's mean luma over the whole-canvas descriptor (flash frames are bright)."""
    cells = observed.cells[:, sampler.cell_slice(sampler.canvas_key), 0]
    return np.asarray(cells.mean(axis=1), dtype=np.float64)
