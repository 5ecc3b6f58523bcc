"""A test-stream code reader for a fixed place, with its geometry worked out once.

:func:`layoutkit.signals.idcode.read_code` works out where the 56 cells land in the canvas on
every call; compare reads the same places in every frame, so :class:`CodeSpot` does that
once and then only sums pixels (an integral image of the code's bounding box, cell boxes
rounded inwards to whole pixels) and checks the CRC.  The reading rules are those of
``read_code``: calibration on the first (black) and last (white) cell, at least 24 levels
of contrast, every data cell at least 0.12 of the range from the threshold, CRC-10.
"""

from __future__ import annotations

import copy

import cv2
import numpy as np
import numpy.typing as npt

from .boxsums import box_corners, box_sums
from ..signals.idcode import CodeReading, code_boxes, reading_from_means, readings_from_means

__all__ = ["CodeSpot", "CodeSpots"]

_SAMPLE_FRACTION = 0.5
class CodeSpot:
    """Where the code of a ``src_wh`` test stream drawn into ``region`` lies in a canvas.

    Parameters
    ----------
    src_wh : tuple of int
        Test-stream picture size.
    region : tuple of int
        ``(x, y, w, h)`` canvas region.
    render_mode : {0, 1}
        0 crop, 1 fit.
    canvas_wh : tuple of int
        Canvas size (boxes outside it make the spot unreadable).
    """

    def __init__(self, src_wh: tuple[int, int], region: tuple[int, int, int, int],
                 render_mode: int, canvas_wh: tuple[int, int]) -> None:
        self.readable = False
        self.canvas_wh = canvas_wh
        boxes = code_boxes(src_wh, region, int(render_mode))
        if boxes is None:
            return
        a, b = boxes[:, :2], boxes[:, 2:]
        x0, y0 = np.ceil(a[:, 0] - 0.25), np.ceil(a[:, 1] - 0.25)
        x1, y1 = np.floor(b[:, 0] + 0.25), np.floor(b[:, 1] + 0.25)
        x1, y1 = np.maximum(x1, x0 + 1), np.maximum(y1, y0 + 1)
        w, h = canvas_wh
        if x0.min() < 0 or y0.min() < 0 or x1.max() > w or y1.max() > h:
            return
        self.bx0, self.by0 = int(x0.min()), int(y0.min())
        self.bx1, self.by1 = int(x1.max()), int(y1.max())
        self.x0 = (x0 - self.bx0).astype(np.intp)
        self.y0 = (y0 - self.by0).astype(np.intp)
        self.x1 = (x1 - self.bx0).astype(np.intp)
        self.y1 = (y1 - self.by0).astype(np.intp)
        self.area = ((self.x1 - self.x0) * (self.y1 - self.y0)).astype(np.float64)
        # the cells' corners in the bounding box's integral image (the same after moved())
        self.corners = box_corners(self.x0, self.y0, self.x1, self.y1,
                                   self.bx1 - self.bx0 + 1)
        self.readable = True

    def moved(self, dx: int, dy: int) -> CodeSpot:
        """Return the same spot ``dx``, ``dy`` canvas pixels away.

        It is unreadable when it leaves the canvas: a displaced layout's code, without
        working the geometry out again.

        >>> spot = CodeSpot((320, 180), (0, 0, 320, 180), 1, (640, 360))
        >>> spot.moved(8, 0).bx0 - spot.bx0, spot.moved(-400, 0).readable
        (8, False)
        """
        out = copy.copy(self)
        if not self.readable:
            return out
        out.bx0, out.bx1, out.by0, out.by1 = self.bx0 + dx, self.bx1 + dx, self.by0 + dy, \
            self.by1 + dy
        w, h = self.canvas_wh
        out.readable = out.bx0 >= 0 and out.by0 >= 0 and out.bx1 <= w and out.by1 <= h
        return out

    def read(self, luma: npt.NDArray[np.uint8], *,
             levels: npt.NDArray[np.int64] | None = None) -> CodeReading | None:
        """Read the code in ``luma`` (the canvas' Y plane) at this spot, or return None.

        ``levels`` (a ``(2, 256)`` count array), when given, counts the black and the white
        calibration cell's mean level (rounded) of a successful reading: the recording's
        own black and white (see :mod:`~layoutkit.comparison.levels`).
        """
        if not self.readable:
            return None
        sat = cv2.integral(luma[self.by0:self.by1, self.bx0:self.bx1], sdepth=cv2.CV_32S)
        means = box_sums(sat.reshape(-1), self.corners) / self.area
        reading = reading_from_means(means)
        if reading is not None and levels is not None:
            _count_levels(levels, means)
        return reading


def _count_levels(levels: npt.NDArray[np.int64], means: npt.NDArray[np.float64]) -> None:
    """Count a read code's black (first) and white (last) cell mean, rounded, in ``levels``."""
    levels[0, min(max(round(float(means[0])), 0), 255)] += 1
    levels[1, min(max(round(float(means[-1])), 0), 255)] += 1


class CodeSpots:
    """Several :class:`CodeSpot` read together in each frame (what compare does).

    Each spot's cells are summed from an integral image of its own bounding box, as
    :meth:`CodeSpot.read` does; the sums of all spots are then gathered, averaged and read
    in one go (:func:`~layoutkit.signals.idcode.readings_from_means`): the same readings.
    The integral images are written into one buffer the object owns, so one object reads
    in one thread at a time.

    Examples
    --------
    >>> import numpy as np
    >>> spots = CodeSpots([CodeSpot((320, 180), (0, 0, 320, 180), 1, (640, 360))])
    >>> spots.read(np.zeros((360, 640), np.uint8))
    [None]
    """

    def __init__(self, spots: list[CodeSpot]) -> None:
        self.spots = spots
        self._live = [i for i, spot in enumerate(spots) if spot.readable]
        corners: list[npt.NDArray[np.intp]] = []
        parts: list[tuple[int, tuple[int, int]]] = []  # each integral image: offset, shape
        offset = 0
        for i in self._live:
            spot = spots[i]
            shape = (spot.by1 - spot.by0 + 1, spot.bx1 - spot.bx0 + 1)
            corners.append(offset + spot.corners)
            parts.append((offset, shape))
            offset += shape[0] * shape[1]
        self._corners = (np.stack(corners).transpose(1, 0, 2) if corners
                         else np.zeros((4, 0, 0), np.intp))
        # every spot's integral image is written into its own part of one buffer (no copy
        # to gather them)
        self._sums = np.zeros(offset, np.int32)
        self._views = [self._sums[start:start + h * w].reshape(h, w)
                       for start, (h, w) in parts]
        self._area = (np.stack([spots[i].area for i in self._live]) if self._live
                      else np.zeros((0, 0)))

    def read(self, luma: npt.NDArray[np.uint8], *,
             levels: npt.NDArray[np.int64] | None = None) -> list[CodeReading | None]:
        """Read every spot in ``luma`` (the canvas' Y plane): a reading or None each.

        ``levels``: as :meth:`CodeSpot.read`.
        """
        out: list[CodeReading | None] = [None] * len(self.spots)
        if not self._live:
            return out
        for i, view in zip(self._live, self._views, strict=True):
            s = self.spots[i]
            cv2.integral(luma[s.by0:s.by1, s.bx0:s.bx1], view, sdepth=cv2.CV_32S)
        means = box_sums(self._sums, self._corners) / self._area
        for i, reading, row in zip(self._live, readings_from_means(means), means,
                                   strict=True):
            out[i] = reading
            if reading is not None and levels is not None:
                _count_levels(levels, row)
        return out
