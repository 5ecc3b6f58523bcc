"""Floating layout (``mixedVideoLayout`` 0), docs/cloud.md#cloud-layout-floating."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["floating_fractions"]

SMALL = 0.235
GAP = 0.012
STEP = SMALL + GAP  # 0.247
PER_ROW = 4


def floating_fractions(n_users: int) -> npt.NDArray[np.float64]:
    """Fractional ``[x, y, w, h]`` rows of the floating layout for ``n_users`` users.

    Row 0 is the first joiner on the whole canvas; rows 1.. are the small regions,
    left to right from the bottom-left corner, rows going upward, 4 per row.

    Parameters
    ----------
    n_users : int
        Displayed users, 0..17.

    Returns
    -------
    ndarray of shape (n_users, 4)
    """
    if n_users <= 0:
        return np.zeros((0, 4))
    k = np.arange(n_users - 1)
    col = k % PER_ROW
    row = k // PER_ROW
    small = np.stack([
        GAP + STEP * col,
        1.0 - STEP * (row + 1),
        np.full(k.shape, SMALL),
        np.full(k.shape, SMALL),
    ], axis=1)
    return np.concatenate([[[0.0, 0.0, 1.0, 1.0]], small]).reshape(-1, 4)
