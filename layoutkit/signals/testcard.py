"""Still test cards that identify a user: per-uid colour, the uid in large type."""

from __future__ import annotations

import colorsys
from functools import lru_cache
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

__all__ = ["label_font", "labelled_card", "uid_color"]


def uid_color(uid: str) -> tuple[int, int, int]:
    """Return a stable, distinct mid-saturation colour for ``uid`` (golden-ratio hue walk)."""
    try:
        key = int(uid)
    except ValueError:
        key = sum(ord(c) * 131**i for i, c in enumerate(uid))
    hue = (key * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.55, 0.80)
    return (round(r * 255), round(g * 255), round(b * 255))


@lru_cache(maxsize=64)
def label_font(size: int) -> FreeTypeFont:
    """Return Pillow's bundled scalable font at ``size`` px (no system fonts needed)."""
    from PIL import ImageFont

    # Pillow's wheels bundle FreeType, so with a size load_default gives the scalable font
    # (typed as also possibly the fixed bitmap one, which only a FreeType-less build returns).
    return cast("FreeTypeFont", ImageFont.load_default(size=max(6, int(size))))


@lru_cache(maxsize=128)
def _card(uid: str, size_wh: tuple[int, int]) -> bytes:
    from PIL import Image, ImageDraw

    w, h = size_wh
    color = uid_color(uid)
    img = Image.new("RGB", (w, h), color)
    draw = ImageDraw.Draw(img)
    dark = tuple(int(c * 0.45) for c in color)
    light = tuple(min(255, int(c * 0.5 + 128)) for c in color)
    m = max(2, min(w, h) // 60)
    draw.rectangle([0, 0, w - 1, h - 1], outline=light, width=m)
    # a circle shows stretching; corner triangles show what crop trims
    r = min(w, h) * 0.42
    draw.ellipse([w / 2 - r, h / 2 - r, w / 2 + r, h / 2 + r], outline=light, width=m)
    t = min(w, h) // 6
    for (cx, cy, sx, sy) in ((0, 0, 1, 1), (w, 0, -1, 1), (0, h, 1, -1), (w, h, -1, -1)):
        draw.polygon([(cx, cy), (cx + sx * t, cy), (cx, cy + sy * t)], fill=dark)
    font = label_font(int(min(h * 0.30, w * 0.9 / max(3, len(uid)) * 1.45)))
    draw.text((w / 2, h / 2), uid, fill=(255, 255, 255), font=font, anchor="mm",
              stroke_width=max(1, m), stroke_fill=dark)
    small = label_font(max(8, h // 12))
    draw.text((w / 2, h / 2 + h * 0.24), f"{w}x{h}", fill=light, font=small, anchor="mm")
    return np.asarray(img).tobytes()


def labelled_card(uid: str, size_wh: tuple[int, int] = (640, 360)) -> npt.NDArray[np.uint8]:
    """Return an ``(H, W, 3)`` RGB card that names ``uid`` in large type on its own colour.

    The card has a border, a circle (to show stretching) and dark corner triangles (to show
    what crop trims), so a preview shows how the recorder fits the picture in its region.
    """
    w, h = size_wh
    return np.frombuffer(_card(uid, (int(w), int(h))), dtype=np.uint8).reshape(h, w, 3).copy()
