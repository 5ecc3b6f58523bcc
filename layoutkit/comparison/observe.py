"""Compact, offset-independent observations of each recorded frame.

A :class:`FrameSampler` knows every place where the expectations of a scenario (under each
profile considered) put something: descriptor keys (a region's visible part cut into a
4 x 4 grid of cells, each cell's mean Y, U, V on a downscaled canvas) and code keys (a
region, its render mode and a test-stream picture size, where :func:`read_code` looks).
:meth:`FrameSampler.observe` turns a frame into a few hundred bytes: every descriptor and every
code reading.  Everything after that (alignment, classification, inference) works on these
observations, so the frames stream through and memory grows by a few KiB per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from .._typing import F32, U8
from ..compose.yuv import i420_planes
from ..io.frames import Planes
from .boxsums import box_corners, box_sums
from .codereader import CodeSpot, CodeSpots

__all__ = ["GRID", "MOTION_SCALE", "FrameSampler", "Observations"]

#: Cells per side of a region descriptor.
GRID = 4
#: Cells per side of the whole-canvas descriptor used to align colour-only recordings.
CANVAS_GRID = 8
#: Motion (a cell's mean absolute luma change from one frame to the next) is kept in steps
#: of ``1 / MOTION_SCALE`` levels, up to ``255 / MOTION_SCALE`` (one byte per cell).
MOTION_SCALE = 32

Rect = tuple[int, int, int, int]


def _small_size(canvas_wh: tuple[int, int]) -> tuple[int, int, int]:
    """Downscale factor and small size: about 160 small pixels across."""
    w, h = canvas_wh
    f = max(1, w // 160)
    return f, max(1, w // f), max(1, h // f)


def shrink(plane: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """Area-average ``plane`` down to ``size`` ``(w, h)``: 2x halvings first, while they fit.

    A halving is OpenCV's fast 2x box filter; what remains (any ratio) is ``cv2.INTER_AREA``.
    Each step rounds to whole levels, so a pixel is within half a level per step of the
    exact mean (one level at 4x, where a quarter of the pixels differ by one from a single
    ``INTER_AREA`` pass); the halvings make a 1920x1080 -> 160x90 shrink about 4x faster.
    Expectations and recordings are both observed through this function.

    >>> plane = np.arange(64, dtype=np.uint8).reshape(8, 8)
    >>> shrink(plane, (2, 2)).tolist()
    [[14, 18], [46, 50]]
    """
    w, h = size
    out: npt.NDArray[np.uint8] = plane
    while out.shape[1] % (2 * w) == 0 and out.shape[0] % (2 * h) == 0:
        out = np.asarray(cv2.resize(out, (out.shape[1] // 2, out.shape[0] // 2),
                                    interpolation=cv2.INTER_AREA), np.uint8)
    if out.shape != (h, w):
        out = np.asarray(cv2.resize(out, size, interpolation=cv2.INTER_AREA), np.uint8)
    return out


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@dataclass
class FrameSampler:
    """Where to look in every frame (register keys first, then observe).

    Parameters
    ----------
    canvas_wh : tuple of int
        The recording's canvas ``(W, H)``.
    """

    canvas_wh: tuple[int, int]
    desc_keys: dict[tuple[Rect, tuple[Rect, ...]], int] = field(default_factory=dict)
    code_keys: dict[tuple[Rect, int, tuple[int, int]], int] = field(default_factory=dict)
    uids: dict[str, int] = field(default_factory=dict)
    _cells: list[npt.NDArray[np.int32]] = field(default_factory=list)
    _valid: list[npt.NDArray[np.bool_]] = field(default_factory=list)
    _frozen: bool = False
    #: Each code key's spot, worked out once (keys registered later refreeze the others)
    _spot_of: dict[tuple[Rect, int, tuple[int, int]], CodeSpot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Size the small canvas and register the whole-canvas descriptor."""
        self.factor, self.small_w, self.small_h = _small_size(self.canvas_wh)
        self._canvas_key = self.desc_key((0, 0, *self.canvas_wh), (), grid=CANVAS_GRID)

    # ------------------------------------------------------------------ registration
    def desc_key(self, rect: Rect, occluders: tuple[Rect, ...] = (), *, grid: int = GRID) -> int:
        """Return the descriptor key of ``rect`` minus ``occluders`` (registered if new)."""
        occ = tuple(sorted(o for o in occluders if _overlaps(rect, o)))
        key = (rect, occ)
        if key in self.desc_keys:
            return self.desc_keys[key]
        f = self.factor
        x, y, w, h = rect
        x0, y0 = -(-x // f), -(-y // f)
        x1, y1 = min(self.small_w, (x + w) // f), min(self.small_h, (y + h) // f)
        if x1 - x0 >= 4 and y1 - y0 >= 4:  # keep clear of edges (bleeding, chroma)
            x0, y0, x1, y1 = x0 + 1, y0 + 1, x1 - 1, y1 - 1
        xs = np.linspace(x0, max(x0 + 1, x1), grid + 1).round().astype(np.int32)
        ys = np.linspace(y0, max(y0 + 1, y1), grid + 1).round().astype(np.int32)
        cells = np.array([[xs[i], ys[j], max(xs[i] + 1, xs[i + 1]), max(ys[j] + 1, ys[j + 1])]
                          for j in range(grid) for i in range(grid)], dtype=np.int32)
        cells[:, [0, 2]] = np.clip(cells[:, [0, 2]], 0, self.small_w)
        cells[:, [1, 3]] = np.clip(cells[:, [1, 3]], 0, self.small_h)
        valid = (cells[:, 2] > cells[:, 0]) & (cells[:, 3] > cells[:, 1])
        for o in occ:  # a cell touching a region painted on top is not looked at
            ox0, oy0 = o[0] / f - 1, o[1] / f - 1
            ox1, oy1 = (o[0] + o[2]) / f + 1, (o[1] + o[3]) / f + 1
            hit = ((cells[:, 0] < ox1) & (ox0 < cells[:, 2])
                   & (cells[:, 1] < oy1) & (oy0 < cells[:, 3]))
            valid &= ~hit
        self.desc_keys[key] = len(self._cells)
        self._frozen = False
        self._cells.append(cells)
        self._valid.append(valid)
        return self.desc_keys[key]

    def code_key(self, rect: Rect, mode: int, src_wh: tuple[int, int]) -> int:
        """Return the code key of a test stream of ``src_wh`` drawn into ``rect``.

        The key is registered if new.
        """
        key = (rect, int(mode), (int(src_wh[0]), int(src_wh[1])))
        if key not in self.code_keys:
            self.code_keys[key] = len(self.code_keys)
            self._frozen = False
        return self.code_keys[key]

    def uid_index(self, uid: str) -> int:
        """Return a small integer for ``uid`` (registered if new)."""
        if uid not in self.uids:
            self.uids[uid] = len(self.uids)
        return self.uids[uid]

    def valid(self, key: int) -> npt.NDArray[np.bool_]:
        """Which cells of descriptor ``key`` are looked at."""
        return self._valid[key]

    def cell_rects(self, key: int) -> npt.NDArray[np.int32]:
        """Return the ``(n, 4)`` cells ``x0, y0, x1, y1`` of descriptor ``key``.

        They are in small pixels (canvas pixels divided by :attr:`factor`).
        """
        return self._cells[key]

    @property
    def canvas_key(self) -> int:
        """The whole-canvas descriptor key (8 x 8 cells)."""
        return self._canvas_key

    # ------------------------------------------------------------------ observing
    def _freeze(self) -> None:
        if self._frozen:
            return
        self._frozen = True
        self._sizes = [len(c) for c in self._cells]
        self._offsets = np.concatenate([[0], np.cumsum(self._sizes)]).astype(np.int64)
        allc = np.concatenate(self._cells) if self._cells else np.zeros((0, 4), np.int32)
        x0, y0, x1, y1 = (allc[:, i].astype(np.intp) for i in range(4))
        self._corners = box_corners(x0, y0, x1, y1, self.small_w + 1)
        self._area = ((x1 - x0) * (y1 - y0)).astype(np.float32)
        self._area[self._area <= 0] = 1
        self._code_list = sorted(self.code_keys, key=self.code_keys.__getitem__)
        for key in self._code_list:
            if key not in self._spot_of:
                rect, mode, src_wh = key
                self._spot_of[key] = CodeSpot(src_wh, rect, mode, self.canvas_wh)
        self._spots = [self._spot_of[key] for key in self._code_list]
        self._reader = CodeSpots(self._spots)

    def shrunk_planes(self, planes: Planes) -> tuple[U8, U8, U8]:
        """Downscale the Y, U and V planes each to ``(small_h, small_w)`` (:func:`shrink`)."""
        w, h = self.canvas_wh
        y, u, v = planes
        if y.shape != (h, w) or u.shape != v.shape or u.shape != (h // 2, w // 2):
            msg = f"frame is {y.shape[1]}x{y.shape[0]}, expected {w}x{h}"
            raise ValueError(msg)
        size = (self.small_w, self.small_h)
        return shrink(y, size), shrink(u, size), shrink(v, size)

    def small_planes(self, planes: Planes) -> npt.NDArray[np.float32]:
        """Downscale the canvas to ``(small_h, small_w, 3)`` Y, U, V (float32)."""
        return np.stack(self.shrunk_planes(planes), axis=2).astype(np.float32)

    def describe(self, i420: npt.NDArray[np.uint8]) -> F32:
        """Every descriptor cell's mean ``(n_cells_total, 3)`` of a yuv420p buffer.

        Use :meth:`split` to take one descriptor's cells.
        """
        return self.cell_means(self.small_planes(i420_planes(np.ascontiguousarray(i420))))

    def cell_means(self, small: npt.NDArray[np.uint8] | F32) -> F32:
        """Average ``small`` (``(small_h, small_w, c)``, uint8 or float32) over every cell.

        Returns ``(n_cells_total, c)`` float32 (the sums are exact either way: whole levels
        over at most 160 x 90 small pixels stay below 2 ** 24).
        """
        self._freeze()
        if small.shape[:2] != (self.small_h, self.small_w):
            msg = f"small planes are {small.shape[:2]}, expected {(self.small_h, self.small_w)}"
            raise ValueError(msg)
        depth = cv2.CV_32S if small.dtype == np.uint8 else cv2.CV_32F
        sat = np.asarray(cv2.integral(small, sdepth=depth))
        total = box_sums(sat.reshape(-1, small.shape[2]), self._corners)
        means: F32 = (total / self._area[:, None]).astype(np.float32)
        return means

    def cell_slice(self, key: int) -> slice:
        """Where descriptor ``key``'s cells lie in :meth:`describe`'s result (axis -2)."""
        self._freeze()
        return slice(int(self._offsets[key]), int(self._offsets[key + 1]))

    def split(self, cells: F32, key: int) -> F32:
        """Take the ``(n, 3)`` cells of descriptor ``key`` out of :meth:`describe`'s result.

        ``cells`` must have been described after ``key`` was registered.
        """
        self._freeze()  # a key registered since the last describe has its offsets too
        return cells[self._offsets[key]:self._offsets[key + 1]]

    def read_codes(self, luma: npt.NDArray[np.uint8], *,
                   levels: npt.NDArray[np.int64] | None = None
                   ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Read every code key: its uid index (-1 when unread) and frame number.

        ``levels``: see :meth:`CodeSpot.read`.
        """
        self._freeze()
        n = len(self._code_list)
        uids = np.full(n, -1, dtype=np.int32)
        frames = np.zeros(n, dtype=np.int32)
        for i, reading in enumerate(self._reader.read(luma, levels=levels)):
            if reading is not None:
                uids[i] = self.uid_index(reading.uid)
                frames[i] = reading.frame
        return uids, frames

    def spot(self, key: int) -> CodeSpot:
        """Return where code key ``key`` is read (:class:`CodeSpot`, worked out once)."""
        self._freeze()
        return self._spots[key]

    def n_cells(self) -> int:
        """Return the number of cells of all descriptors registered so far."""
        self._freeze()
        return int(self._offsets[-1])


def _cell_motion(change: F32, *, first: bool) -> U8:
    """Each cell's mean absolute luma change since the previous frame, as motion bytes.

    In :data:`MOTION_SCALE` steps; 255 (the most) for the first frame, which has no
    previous one.

    >>> _cell_motion(np.array([0.0, 0.5, 9.0], np.float32), first=False).tolist()
    [0, 16, 255]
    """
    if first:
        return np.full(change.shape, 255, np.uint8)
    return _bytes(change * MOTION_SCALE)


def _bytes(values: F32) -> npt.NDArray[np.uint8]:
    """Round ``values`` to whole levels, kept within 0..255, as bytes.

    ``np.clip``'s own checks cost more than the clipping of a few hundred values; this is
    the same arithmetic (``values`` is overwritten).

    >>> _bytes(np.array([-3.2, 7.5, 8.5, 300.0], np.float32)).tolist()
    [0, 8, 8, 255]
    """
    np.rint(values, out=values)
    np.maximum(values, 0, out=values)
    np.minimum(values, 255, out=values)
    return values.astype(np.uint8)


@dataclass
class Observations:
    """Per-frame observations, grown one frame at a time (amortised arrays)."""

    sampler: FrameSampler
    times: list[float] = field(default_factory=list)
    _cells: list[npt.NDArray[np.uint8]] = field(default_factory=list)
    _uids: list[npt.NDArray[np.int32]] = field(default_factory=list)
    _frames: list[npt.NDArray[np.int32]] = field(default_factory=list)
    _motion: list[npt.NDArray[np.uint8]] = field(default_factory=list)
    _previous_luma: U8 | None = None
    #: How often each level was the black (row 0) and the white (row 1) calibration cell
    #: of a code read (the recording's own black and white).
    code_levels: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros((2, 256), dtype=np.int64))

    def add(self, t: float, planes: Planes) -> None:
        """Observe one frame's planes: its cells' mean Y, U, V and motion, and its codes."""
        y, u, v = self.sampler.shrunk_planes(planes)
        # kept for the next frame: a copy when the plane is the frame's own (nothing to
        # shrink), which its owner may overwrite with the next frame
        previous, self._previous_luma = self._previous_luma, y if y.base is None else y.copy()
        change = y if previous is None else cv2.absdiff(y, previous)
        # one integral image for the three planes and the change: one pass, one gather
        means = self.sampler.cell_means(np.asarray(cv2.merge([y, u, v, change]), np.uint8))
        uids, frames = self.sampler.read_codes(planes[0], levels=self.code_levels)
        self.times.append(float(t))
        self._cells.append(_bytes(means[:, :3]))  # rounds columns 0-2 in place
        self._motion.append(_cell_motion(means[:, 3], first=previous is None))
        self._uids.append(uids)
        self._frames.append(frames)

    def motion(self) -> npt.NDArray[np.uint8]:
        """``(n, n_cells)``: each frame's cell motion (:func:`_cell_motion`)."""
        if not self._motion:
            return np.zeros((0, self.sampler.n_cells()), np.uint8)
        return np.stack(self._motion)

    def __len__(self) -> int:
        """Return the number of frames observed."""
        return len(self.times)

    def arrays(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint8],
                              npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Return the observations as arrays.

        ``times (n,)``, ``cells (n, n_cells, 3)``, ``code uids (n, k)``,
        ``code frames (n, k)``.
        """
        n = len(self.times)
        k = len(self.sampler.code_keys)
        cells = np.stack(self._cells) if n else np.zeros((0, self.sampler.n_cells(), 3), np.uint8)
        uids = np.stack(self._uids) if n else np.zeros((0, k), np.int32)
        frames = np.stack(self._frames) if n else np.zeros((0, k), np.int32)
        return np.asarray(self.times, dtype=np.float64), cells, uids, frames
