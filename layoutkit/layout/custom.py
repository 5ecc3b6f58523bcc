"""Custom layout (``mixedVideoLayout`` 3, ``layoutConfig``), docs/cloud.md#cloud-layout-custom."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..request.model import LayoutRegion

__all__ = ["assign_custom_regions", "custom_fractions"]


def assign_custom_regions(
    config: Sequence[LayoutRegion], users: Sequence[str]
) -> tuple[str | None, ...]:
    """Who fills each ``layoutConfig`` entry.

    A region with a ``uid`` shows that user when displayed (else nobody).  Regions without
    a ``uid`` are filled, in array order, by the displayed users that no region names, in
    join order.  Users left over are not drawn (their audio is still mixed).
    """
    present = set(users)
    bound = {r.uid for r in config if r.uid is not None}
    free = iter([u for u in users if u not in bound])
    assigned: list[str | None] = []
    for region in config:
        if region.uid is not None:
            assigned.append(region.uid if region.uid in present else None)
        else:
            assigned.append(next(free, None))
    return tuple(assigned)


def custom_fractions(config: Sequence[LayoutRegion]) -> npt.NDArray[np.float64]:
    """Fractional ``[x, y, w, h]`` rows of ``layoutConfig`` in array (= paint) order."""
    return np.array(
        [[r.x_axis, r.y_axis, r.width, r.height] for r in config], dtype=np.float64
    ).reshape(-1, 4)
