"""Vertical layout (``mixedVideoLayout`` 2), docs/cloud.md#cloud-layout-vertical."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["VerticalTier", "vertical_fractions", "vertical_tier"]


@dataclass(frozen=True)
class VerticalTier:
    """One row of the spec's tier table: ``slots`` small regions of ``small_w`` x ``small_h``."""

    slots: int
    rows: int
    small_w: float
    small_h: float

    @property
    def large_w(self) -> float:
        """Width of the large region (the canvas left of the small column(s))."""
        return 1.0 - self.small_w if self.slots <= 8 else 1.0 - 2 * self.small_w


_TIERS = (
    (5, VerticalTier(slots=4, rows=4, small_w=1 / 5, small_h=1 / 4)),
    (7, VerticalTier(slots=6, rows=6, small_w=1 / 7, small_h=1 / 6)),
    (9, VerticalTier(slots=8, rows=8, small_w=1 / 9, small_h=1 / 8)),
    (17, VerticalTier(slots=16, rows=8, small_w=1 / 10, small_h=1 / 8)),
)


def vertical_tier(count: int) -> VerticalTier:
    """Return the tier for ``count`` users (the docs count the large user too)."""
    for upper, tier in _TIERS:
        if count <= upper:
            return tier
    return _TIERS[-1][1]


def vertical_fractions(
    n_small: int,
    *,
    with_large: bool,
    column_order: str = "figure",
    without_large: str = "background",
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Large and small regions of the vertical layout.

    Parameters
    ----------
    n_small : int
        Users other than the large one, in join order.
    with_large : bool
        Whether the ``maxResolutionUid`` user is displayed.
    column_order : {'figure', 'sample'}
        10-17 users: which column gets smalls 1-8 (figure: outer x = 0.9).
    without_large : {'background', 'sample'}
        Without a large user: tier from the user count (extra smalls not drawn), or
        escalated from the number of smalls (sample code).

    Returns
    -------
    large : ndarray of shape (1, 4) or (0, 4)
    smalls : ndarray of shape (M, 4)
        ``M <= n_small``: smalls beyond the tier's slots are not drawn.
    """
    if with_large or without_large == "sample":
        tier = vertical_tier(n_small + 1)
    else:
        tier = vertical_tier(n_small)
    m = min(n_small, tier.slots)
    k = np.arange(m)
    if tier.slots <= 8:
        x = np.full(m, 1.0 - tier.small_w)
    else:
        first, second = (0.9, 0.8) if column_order == "figure" else (0.8, 0.9)
        x = np.where(k < tier.rows, first, second)
    smalls = np.stack([
        x,
        (k % tier.rows) * tier.small_h,
        np.full(m, tier.small_w),
        np.full(m, tier.small_h),
    ], axis=1).reshape(-1, 4)
    large = np.array([[0.0, 0.0, tier.large_w, 1.0]]) if with_large else np.zeros((0, 4))
    return large, smalls
