"""After a displaced layout is found: the frames moved back, and judged again.

A layout shifted by ``(dx, dy)`` px (:mod:`~.displacement` by the test-stream codes,
:mod:`~.edges` by the tiles' edges) puts every region's picture beside its place, so the
codes are not read where they are looked for and the pictures are judged by colours only.
The content stages are run once more on the frames moved back by the offset found
(:func:`moved_frames`; a strip of ``|dx|`` / ``|dy|`` px at the far edge repeats the edge
pixels): the codes are read again at the shifted place, so the rest of the recording is
still judged by who is where (a user also missing, frozen or swapped is named as in an
unshifted recording).  It costs a second decoding pass, only when a shift is found.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from .._typing import U8
from ..io.frames import DecodedFrame, Planes
from .findings import Finding
from .frames import fit_planes

__all__ = ["move_plane", "moved_frames", "shift_of"]


def shift_of(finding: Finding | None) -> tuple[int, int] | None:
    """Return the ``(dx, dy)`` of a displaced layout's finding, else None.

    Such a finding is a ``wrong_layout`` whose observed value is the offset.

    >>> from layoutkit.comparison.model import Difference
    >>> shift_of(Finding(Difference("wrong_layout", "m", expected=[0, 0], observed=[8, -4])))
    (8, -4)
    >>> shift_of(None), shift_of(Finding(Difference("wrong_layout", "m", observed=1)))
    (None, None)
    """
    if finding is None or finding.difference.kind != "wrong_layout":
        return None
    observed = finding.difference.observed
    if not isinstance(observed, list) or len(observed) != 2:
        return None
    dx, dy = observed
    return (int(dx), int(dy)) if isinstance(dx, int) and isinstance(dy, int) else None


def move_plane(plane: U8, dx: int, dy: int) -> U8:
    """Move ``plane`` ``dx`` px right and ``dy`` px down.

    The uncovered strip repeats the edge pixels.

    >>> move_plane(np.arange(6, dtype=np.uint8).reshape(2, 3), -1, 0).tolist()
    [[1, 2, 2], [4, 5, 5]]
    """
    h, w = plane.shape
    ax, ay = min(abs(dx), w), min(abs(dy), h)
    padded = np.pad(plane, ((ay, ay), (ax, ax)), mode="edge")
    return np.ascontiguousarray(padded[ay - dy:ay - dy + h, ax - dx:ax - dx + w])


def _move_planes(planes: Planes, dx: int, dy: int) -> Planes:
    """Move a picture's planes by ``dx``, ``dy`` pixels (its chroma by half, rounded)."""
    y, u, v = planes
    cx, cy = round(dx / 2), round(dy / 2)
    return move_plane(y, dx, dy), move_plane(u, cx, cy), move_plane(v, cx, cy)


def moved_frames(frames: Iterable[DecodedFrame], shift: tuple[int, int],
                 canvas_wh: tuple[int, int]) -> Iterator[DecodedFrame]:
    """Move the frames (fitted to the canvas) back by ``shift``.

    A layout displaced by ``shift`` lands on its place again.
    """
    dx, dy = shift
    for frame in frames:
        planes = fit_planes(frame.planes, canvas_wh)
        yield replace(frame, planes=_move_planes(planes, -dx, -dy))
