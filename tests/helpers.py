"""Test helpers: pixel asserts that save the failing images to tests/_failures/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FAILURES = Path(__file__).parent / "_failures"


def save_failure(name: str, image: np.ndarray) -> Path:
    """Save ``image`` under tests/_failures/ so a failing pixel test can be looked at."""
    from PIL import Image

    FAILURES.mkdir(exist_ok=True)
    path = FAILURES / f"{name}.png"
    Image.fromarray(np.ascontiguousarray(image)).save(path)
    return path


def assert_color(image: np.ndarray, xy: tuple[int, int], rgb: tuple[int, int, int], *,
                 tol: int = 0, name: str = "frame") -> None:
    """Assert the pixel at ``(x, y)`` is ``rgb`` within ``tol`` per channel."""
    x, y = xy
    got = tuple(int(v) for v in image[y, x, :3])
    if max(abs(a - b) for a, b in zip(got, rgb)) > tol:
        path = save_failure(name, image)
        pytest.fail(f"pixel {xy} is {got}, expected {rgb} (tol {tol}); image saved to {path}")
