"""Draw a canvas in RGB from regions and the current picture of each region (pure)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .._typing import RGB
from ..layout.regions import Regions
from .fit import FIT, place

__all__ = ["cover_image", "draw_rgb", "paste", "solid_canvas"]


def solid_canvas(canvas_wh: tuple[int, int], rgb: tuple[int, int, int]) -> RGB:
    """Make a ``(H, W, 3)`` canvas of one colour."""
    width, height = canvas_wh
    row = np.empty((1, width, 3), dtype=np.uint8)
    row[...] = rgb  # broadcasting a 3-tuple is slow; copying whole rows is a memcpy each
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[...] = row
    return out


def _resize(picture: RGB, size_wh: tuple[int, int]) -> RGB:
    w, h = size_wh
    ph, pw = picture.shape[:2]
    if (pw, ph) == (w, h):
        return picture
    interp = cv2.INTER_AREA if (w < pw and h < ph) else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(picture, (w, h), interpolation=interp), dtype=np.uint8)


def cover_image(image: RGB, canvas_wh: tuple[int, int]) -> RGB:
    """``image`` scaled to fill ``canvas_wh`` with the overflow cropped (canvas background)."""
    p = place((image.shape[1], image.shape[0]), (0, 0, *canvas_wh), 0)
    sx, sy, sw, sh = p.src
    return np.ascontiguousarray(_resize(image[sy:sy + sh, sx:sx + sw], canvas_wh))


def paste(canvas: RGB, picture: RGB, rect: Sequence[int], *, render_mode: int = 0,
          alpha: float = 1.0) -> None:
    """Scale ``picture`` into ``rect`` of ``canvas`` in place (crop or fit, alpha over).

    Fit leaves black bars inside the region.  ``alpha`` < 1 blends the region (picture and
    bars) over what is already on the canvas.
    """
    x, y, w, h = (int(v) for v in rect)
    if w <= 0 or h <= 0:
        return
    p = place((picture.shape[1], picture.shape[0]), (x, y, w, h), render_mode)
    sx, sy, sw, sh = p.src
    dx, dy, dw, dh = p.dst
    scaled = _resize(picture[sy:sy + sh, sx:sx + sw], (dw, dh))
    if alpha >= 1.0:
        if render_mode == FIT:
            canvas[y:y + h, x:x + w] = 0
        canvas[dy:dy + dh, dx:dx + dw] = scaled
        return
    if alpha <= 0.0:
        return
    layer = np.zeros((h, w, 3), dtype=np.uint8)
    layer[dy - y:dy - y + dh, dx - x:dx - x + dw] = scaled
    below = canvas[y:y + h, x:x + w]
    blended = below.astype(np.float32) * (1.0 - alpha) + layer.astype(np.float32) * alpha
    canvas[y:y + h, x:x + w] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def draw_rgb(background: RGB, regions: Regions, pictures: Sequence[RGB | None]) -> RGB:
    """Draw ``pictures[i]`` into region ``i`` over a copy of ``background``.

    A ``None`` picture leaves the region showing what lies below.
    """
    canvas = background.copy()
    for i, picture in enumerate(pictures):
        if picture is None:
            continue
        paste(canvas, picture, regions.rects[i], render_mode=int(regions.render_modes[i]),
              alpha=float(regions.alphas[i]))
    return canvas
