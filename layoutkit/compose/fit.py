"""Crop (cover) and fit (contain) placement of a picture in a region.

Semantics follow Pillow's ``ImageOps.cover`` / ``ImageOps.contain`` with centring
(0.5, 0.5): crop scales uniformly until the region is filled and trims the overflow
equally on both sides; fit scales uniformly until one side touches and leaves black bars.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..enums import RenderMode

__all__ = ["CROP", "FIT", "Placement", "place"]

CROP = RenderMode.CROP
FIT = RenderMode.FIT


@dataclass(frozen=True)
class Placement:
    """Which source window lands on which destination rectangle.

    Attributes
    ----------
    src : tuple of int
        ``(x, y, w, h)`` window of the source picture that is shown.
    dst : tuple of int
        ``(x, y, w, h)`` canvas rectangle it is scaled into (inside the region; for fit,
        the area of the region outside ``dst`` shows black bars).
    """

    src: tuple[int, int, int, int]
    dst: tuple[int, int, int, int]


def place(src_wh: tuple[int, int], region: tuple[int, int, int, int],
          render_mode: int) -> Placement:
    """Place a ``src_wh`` picture into the pixel ``region`` with ``render_mode``.

    Parameters
    ----------
    src_wh : tuple of int
        Source ``(width, height)``.
    region : tuple of int
        Destination ``(x, y, w, h)`` on the canvas.
    render_mode : {0, 1}
        0 crop (cover), 1 fit (contain).

    Returns
    -------
    Placement

    Notes
    -----
    Sizes are rounded with ``round()`` of the same float expressions as Pillow (so an exact
    half can round down where the float product falls just below it); a dimension never
    rounds to 0.
    """
    sw, sh = src_wh
    x, y, w, h = region
    if render_mode == CROP:
        # keep the full region; show the centred source window of the region's aspect
        if sw * h > sh * w:  # source wider than region: trim left/right
            cw = max(1, min(sw, round(sh * w / h)))
            return Placement(((sw - cw) // 2, 0, cw, sh), (x, y, w, h))
        ch = max(1, min(sh, round(sw * h / w)))
        return Placement((0, (sh - ch) // 2, sw, ch), (x, y, w, h))
    if sw * h > sh * w:  # source wider: full width, bars top and bottom
        dh = max(1, min(h, round(sh / sw * w)))  # Pillow's float formula
        return Placement((0, 0, sw, sh), (x, y + (h - dh) // 2, w, dh))
    dw = max(1, min(w, round(sw / sh * h)))
    return Placement((0, 0, sw, sh), (x + (w - dw) // 2, y, dw, h))
