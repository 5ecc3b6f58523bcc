"""The ``Regions`` result type and the fraction-to-pixel rule shared by every layout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import ShapeError

__all__ = ["MAX_DISPLAYED", "Regions", "displayed_users", "make_regions", "to_pixels"]

#: At most this many users are drawn on the canvas (docs/cloud.md#cloud-layout).
MAX_DISPLAYED = 17

# Tolerance that keeps float error from flipping an exact .5 (or exact integer) the wrong
# way: layout fractions have at most 6 decimals, so x*W has at most 6 decimals as well.
_EPS = 1e-7


def to_pixels(fractions: npt.ArrayLike, canvas_wh: tuple[int, int]) -> npt.NDArray[np.int32]:
    """Convert fractional ``[x, y, w, h]`` rows to integer pixel rectangles.

    Parameters
    ----------
    fractions : array_like of shape (N, 4)
        Regions as fractions of the canvas: left, top, width, height.
    canvas_wh : tuple of int
        Canvas ``(width, height)`` in pixels.

    Returns
    -------
    rects : ndarray of shape (N, 4), int32
        ``[x, y, w, h]`` in pixels.  Edges are rounded, not sizes: left = round(x*W),
        right = round((x+w)*W) (same for y), rounding half up, so neighbours that share a
        fractional edge share a pixel edge (no gaps, no overlaps).
    """
    frac = np.asarray(fractions, dtype=np.float64).reshape(-1, 4)
    width, height = canvas_wh
    scale = np.array([width, height], dtype=np.float64)
    near = frac[:, :2] * scale
    far = (frac[:, :2] + frac[:, 2:]) * scale
    near_px = np.floor(near + 0.5 + _EPS)
    far_px = np.floor(far + 0.5 + _EPS)
    far_px = np.minimum(far_px, scale)
    return np.concatenate([near_px, far_px - near_px], axis=1).astype(np.int32)


def displayed_users(join_order: Sequence[str]) -> tuple[str, ...]:
    """Return the users that get a region: the first 17 of the join order.

    The rule is docs/cloud.md#cloud-join-order.

    When one of the first 17 leaves, the caller removes it from ``join_order`` and the
    18th joiner is promoted automatically.
    """
    return tuple(join_order[:MAX_DISPLAYED])


@dataclass(frozen=True, eq=False)
class Regions:
    """Where each displayed user is drawn on the canvas, in paint order.

    Attributes
    ----------
    canvas_wh : tuple of int
        Canvas ``(width, height)``.
    rects : ndarray of shape (N, 4), int32
        ``[x, y, w, h]`` pixels; row ``i`` is painted after rows ``< i``.
    uids : tuple of (str or None)
        Who is drawn in each region; None for a configured custom region nobody fills.
    render_modes : ndarray of shape (N,), int8
        0 crop (cover), 1 fit (contain, black bars).
    alphas : ndarray of shape (N,), float32
        Opacity of each region over what lies below it.
    z : ndarray of shape (N,), int32
        Paint order index (0 = bottom); equal to ``arange(N)``.
    fractions : ndarray of shape (N, 4), float64
        The same regions as canvas fractions (before rounding).
    """

    canvas_wh: tuple[int, int]
    rects: npt.NDArray[np.int32]
    uids: tuple[str | None, ...]
    render_modes: npt.NDArray[np.int8]
    alphas: npt.NDArray[np.float32]
    z: npt.NDArray[np.int32]
    fractions: npt.NDArray[np.float64]

    def __len__(self) -> int:
        """Return the number of regions drawn."""
        return len(self.uids)

    def __eq__(self, other: object) -> bool:
        """Compare canvas, uids, rectangles, render modes and alphas (not ``z``, ``fractions``)."""
        if not isinstance(other, Regions):
            return NotImplemented
        return (
            self.canvas_wh == other.canvas_wh
            and self.uids == other.uids
            and np.array_equal(self.rects, other.rects)
            and np.array_equal(self.render_modes, other.render_modes)
            and np.array_equal(self.alphas, other.alphas)
        )

    def __hash__(self) -> int:
        """Hash what :meth:`__eq__` compares."""
        return hash((self.canvas_wh, self.uids, self.rects.tobytes(),
                     self.render_modes.tobytes(), self.alphas.tobytes()))

    def index_of(self, uid: str) -> int | None:
        """Return the row of ``uid``, or None when that user is not drawn."""
        try:
            return self.uids.index(uid)
        except ValueError:
            return None

    def to_json(self) -> dict[str, object]:
        """Return the JSON shape of ``layout --json``: pixels, in paint order."""
        items = []
        for i, uid in enumerate(self.uids):
            x, y, w, h = (int(v) for v in self.rects[i])
            items.append({
                "uid": uid, "x": x, "y": y, "width": w, "height": h,
                "render_mode": int(self.render_modes[i]),
                "alpha": round(float(self.alphas[i]), 6), "z": int(self.z[i]),
            })
        return {"canvas": list(self.canvas_wh), "regions": items}


def make_regions(
    fractions: npt.ArrayLike,
    uids: Sequence[str | None],
    *,
    canvas_wh: tuple[int, int],
    render_modes: npt.ArrayLike | int = 0,
    alphas: npt.ArrayLike | float = 1.0,
) -> Regions:
    """Assemble a :class:`Regions` from fractional rows already in paint order."""
    frac = np.asarray(fractions, dtype=np.float64).reshape(-1, 4)
    n = frac.shape[0]
    if len(uids) != n:
        raise ShapeError("make_regions uids", expected=(n,), actual=(len(uids),))
    modes = np.broadcast_to(np.asarray(render_modes, dtype=np.int8), (n,)).copy()
    alpha = np.broadcast_to(np.asarray(alphas, dtype=np.float32), (n,)).copy()
    return Regions(
        canvas_wh=(int(canvas_wh[0]), int(canvas_wh[1])),
        rects=to_pixels(frac, canvas_wh),
        uids=tuple(uids),
        render_modes=modes,
        alphas=alpha,
        z=np.arange(n, dtype=np.int32),
        fractions=frac,
    )
