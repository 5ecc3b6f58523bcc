"""Best-fit layout (``mixedVideoLayout`` 1), docs/cloud.md#cloud-layout-bestfit."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["bestfit_fractions", "bestfit_grid"]


def bestfit_grid(n_users: int) -> tuple[int, int]:
    """Return ``(columns, rows)`` of the best-fit grid for ``n_users`` (17: 5x5 of 0.2)."""
    if n_users <= 1:
        return (1, 1)
    if n_users == 2:
        return (2, 1)
    if n_users <= 4:
        return (2, 2)
    if n_users <= 9:
        return (3, 3)
    if n_users <= 16:
        return (4, 4)
    return (5, 5)


def bestfit_fractions(n_users: int) -> npt.NDArray[np.float64]:
    """Fractional ``[x, y, w, h]`` rows of the best-fit layout, in join order.

    Cells are filled row-major from the top-left; unused cells are not returned.  With 17
    users the tiles are 0.2 x 0.2: four rows of four starting at x = 0.1, the 17th centred
    in the fifth row.
    """
    if n_users <= 0:
        return np.zeros((0, 4))
    i = np.arange(n_users)
    if n_users == 17:
        x = np.where(i < 16, 0.1 + 0.2 * (i % 4), 0.4)
        y = np.where(i < 16, 0.2 * (i // 4), 0.8)
        size = np.full(n_users, 0.2)
        return np.stack([x, y, size, size], axis=1)
    cols, rows = bestfit_grid(n_users)
    return np.stack([
        (i % cols) / cols,
        (i // cols) / rows,
        np.full(n_users, 1.0 / cols),
        np.full(n_users, 1.0 / rows),
    ], axis=1)
