"""Difference heat maps of two frames (pure numpy): a perceptual colormap and the figures.

The colormap is D. A. Green's *cubehelix* (2011): brightness rises monotonically from black to
white while the hue turns, so a larger difference always looks brighter, also in greyscale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .._typing import RGB

__all__ = ["DiffStats", "colormap_stops", "cubehelix_lut", "difference_heatmap", "difference_stats",
           "match_size"]


def cubehelix_lut(*, start: float = 3.0, rotations: float = 0.6, hue: float = 2.0,
                  gamma: float = 1.0, n: int = 256) -> RGB:
    """Build a ``(n, 3)`` uint8 lookup table of the cubehelix colormap.

    Parameters
    ----------
    start : float
        Starting hue (0..3: 0 blue, 1 red, 2 green).
    rotations : float
        Turns of hue from black to white (the default: purple, red, orange, yellow).
    hue : float
        Saturation of the hues.
    gamma : float
        Brightness exponent (1 is linear in perceived brightness).
    n : int
        Entries of the table.

    Examples
    --------
    >>> lut = cubehelix_lut()
    >>> lut.shape, lut[0].tolist(), lut[-1].tolist()
    ((256, 3), [0, 0, 0], [255, 255, 255])
    """
    lam = np.linspace(0.0, 1.0, n) ** gamma
    phi = 2.0 * math.pi * (start / 3.0 + rotations * np.linspace(0.0, 1.0, n))
    amp = hue * lam * (1.0 - lam) / 2.0
    cos, sin = np.cos(phi), np.sin(phi)
    r = lam + amp * (-0.14861 * cos + 1.78277 * sin)
    g = lam + amp * (-0.29227 * cos - 0.90649 * sin)
    b = lam + amp * (1.97294 * cos)
    rgb = np.stack([r, g, b], axis=1)
    return np.asarray(np.clip(np.rint(rgb * 255.0), 0, 255), dtype=np.uint8)


_LUT = cubehelix_lut()


@dataclass(frozen=True)
class DiffStats:
    """Figures of an absolute difference: max and mean (0..255 per channel) and PSNR (dB)."""

    max_abs: int
    mean_abs: float
    psnr_db: float  # math.inf for identical frames

    def psnr_text(self) -> str:
        """PSNR as people read it (``"inf"`` for identical frames)."""
        return "∞" if math.isinf(self.psnr_db) else f"{self.psnr_db:.1f}"


def match_size(observed: RGB, shape: tuple[int, ...]) -> RGB:
    """``observed`` resized (bilinear) to the ``(H, W)`` of ``shape`` when they differ."""
    h, w = int(shape[0]), int(shape[1])
    if observed.shape[:2] == (h, w):
        return observed
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(observed)).resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def _abs_diff(expected: RGB, observed: RGB) -> npt.NDArray[np.int16]:
    a = np.asarray(expected, dtype=np.int16)[..., :3]
    b = np.asarray(match_size(np.asarray(observed, dtype=np.uint8), a.shape),
                   dtype=np.int16)[..., :3]
    diff: npt.NDArray[np.int16] = np.abs(a - b)
    return diff


def difference_stats(expected: RGB, observed: RGB) -> DiffStats:
    """Max and mean absolute difference and PSNR of two RGB frames.

    ``observed`` is resized to ``expected``'s size first when the sizes differ.

    Examples
    --------
    >>> a = np.zeros((2, 2, 3), np.uint8); b = a.copy(); b[0, 0, 0] = 255
    >>> s = difference_stats(a, b)
    >>> s.max_abs, round(s.mean_abs, 2), round(s.psnr_db, 1)
    (255, 21.25, 10.8)
    """
    d = _abs_diff(expected, observed)
    mse = float(np.mean(d.astype(np.float64) ** 2)) if d.size else 0.0
    psnr = math.inf if mse == 0.0 else 10.0 * math.log10(255.0 ** 2 / mse)
    return DiffStats(max_abs=int(d.max()) if d.size else 0,
                     mean_abs=float(d.mean()) if d.size else 0.0, psnr_db=psnr)


def difference_heatmap(expected: RGB, observed: RGB, *, max_width: int | None = None) -> RGB:
    """Draw the per-pixel absolute difference (max over channels) through the colormap.

    The scale is fixed (0 black .. 255 white) so heat maps of different differences compare;
    ``observed`` is resized to ``expected``'s size first when the sizes differ. With
    ``max_width``, wider maps are reduced by an integer factor taking the *maximum* of each
    block, so a difference of one pixel stays visible.

    Examples
    --------
    >>> a = np.zeros((4, 960, 3), np.uint8); b = a.copy(); b[1, 5] = 200
    >>> m = difference_heatmap(a, b, max_width=480)
    >>> m.shape, int(m[0, 2].sum()) > 0, int(m[1, 3].sum())
    ((2, 480, 3), True, 0)
    """
    d = _abs_diff(expected, observed).max(axis=2).astype(np.uint8)
    h, w = d.shape
    if max_width is not None and w > max_width:
        k = w // max_width
        if k >= 2:  # reduce by the largest whole factor keeping each block's maximum
            hp, wp = math.ceil(h / k) * k, math.ceil(w / k) * k
            padded = np.zeros((hp, wp), np.uint8)
            padded[:h, :w] = d
            d = padded.reshape(hp // k, k, wp // k, k).max(axis=(1, 3))
            h, w = d.shape
        if w > max_width:  # then the rest of the way, smoothly
            from PIL import Image

            size = (max_width, max(1, round(h * max_width / w)))
            d = np.asarray(Image.fromarray(d).resize(size, Image.Resampling.BILINEAR))
    return np.asarray(_LUT[d], dtype=np.uint8)


def colormap_stops(n: int = 9) -> tuple[str, ...]:
    """``n`` evenly spaced colours of the colormap as ``#rrggbb`` (for a CSS colour bar)."""
    idx = np.linspace(0, len(_LUT) - 1, n).round().astype(int)
    return tuple("#{:02x}{:02x}{:02x}".format(*(int(c) for c in _LUT[i])) for i in idx)
