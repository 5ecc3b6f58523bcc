"""Write PNG files atomically."""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt

from .atomic import atomic_output

__all__ = ["write_png"]


def write_png(image: npt.NDArray[np.uint8], path: str | os.PathLike[str], *,
              overwrite: bool = False) -> None:
    """Save an ``(H, W, 3)`` RGB array as PNG under a temporary name, then rename."""
    from PIL import Image

    with atomic_output(path, overwrite=overwrite) as tmp:
        Image.fromarray(np.ascontiguousarray(image)).save(tmp, format="PNG")
