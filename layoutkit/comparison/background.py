"""Check stage, background: the canvas outside every region, period by period.

A period's background (its descriptor over the part of the canvas no region covers) is
wrong when more than half of its frames (at least 3) are farther than
:data:`~layoutkit.comparison.classify.DESC_MEAN` from the expected one, or their mean luma
is more than :data:`~layoutkit.comparison.classify.DESC_LUMA` off (#101010 is not black);
the expected one is taken in the limited/full range mix-up the whole recording shows, if
any (:attr:`~layoutkit.comparison.alignment.Alignment.mixup`).  The first wrong period is
reported, with both colours in RGB (the one seen with the mix-up undone).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..compose.yuv import i420_to_rgb
from .alignment import Alignment
from .classify import DESC_LUMA, DESC_MEAN, desc_distance, luma_shift, range_undone, range_variant
from .expect import Expectation, Period
from .findings import Anchor, Finding
from .frames import Observed
from .model import Difference
from .observe import FrameSampler

__all__ = ["check_background", "yuv_rgb"]


def yuv_rgb(yuv: npt.NDArray[np.floating]) -> list[int]:
    """One ``(Y, U, V)`` triple as ``[R, G, B]`` (the compositor's conversion).

    >>> import numpy as np
    >>> yuv_rgb(np.array([16.0, 128.0, 128.0]))
    [0, 0, 0]
    """
    pixel = np.zeros((3, 2), dtype=np.uint8)
    pixel[:2] = round(float(yuv[0]))
    flat = pixel.reshape(-1)
    flat[4] = round(float(yuv[1]))
    flat[5] = round(float(yuv[2]))
    return [int(v) for v in i420_to_rgb(pixel)[0, 0]]


def _period_finding(observed: Observed, rows: npt.NDArray[np.intp], period: Period,
                    sampler: FrameSampler, mixup: str | None) -> Finding | None:
    assert period.bg_key is not None and period.bg_expected is not None
    got = observed.cells[rows][:, sampler.cell_slice(period.bg_key)]
    valid = sampler.valid(period.bg_key)
    ref = range_variant(period.bg_expected, mixup)
    mean, _ = desc_distance(got, ref, valid)
    bad = (mean > DESC_MEAN) | (np.abs(luma_shift(got, ref, valid)) > DESC_LUMA)
    if not (bad.mean() > 0.5 and valid.any()):
        return None
    seen = yuv_rgb(range_undone(got[:, valid].reshape(-1, 3).mean(axis=0), mixup))
    want = yuv_rgb(period.bg_expected[valid].mean(axis=0))
    diff = Difference("wrong_background",
                      f"canvas background from {period.start:.2f} s is RGB {tuple(seen)}, "
                      f"expected RGB {tuple(want)}", t=period.start, expected=want,
                      observed=seen)
    return Finding(diff, Anchor(int(rows[0]), period.start, period.end))


def check_background(observed: Observed, alignment: Alignment, exp: Expectation,
                     sampler: FrameSampler, *, mixup: str | None = None) -> Finding | None:
    """Return the first period whose background is wrong (a check stage), or None.

    ``mixup`` is the limited/full range mix-up the whole recording shows
    (:attr:`~layoutkit.comparison.alignment.Alignment.mixup`): the expected background is
    taken in it, and the colour seen is reported with it undone.
    """
    t_all = alignment.scenario_times(observed.times)
    pidx = np.searchsorted(exp.starts, t_all, side="right") - 1
    inside = (t_all >= 0) & (t_all < exp.end)
    for p, period in enumerate(exp.periods):
        if period.bg_key is None or period.bg_expected is None:
            continue
        rows = np.nonzero(inside & (pidx == p))[0]
        if rows.size < 3:
            continue
        found = _period_finding(observed, rows, period, sampler, mixup)
        if found is not None:
            return found
    return None
