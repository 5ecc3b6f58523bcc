"""Stage 4, classify: every region of every frame matched against what was expected.

:func:`classify_observed` runs :func:`~layoutkit.comparison.classify.classify` on the
aligned observations, each test stream at its publisher's rate and still pictures with the
recording's range mix-up, if any (:attr:`Alignment.rates`, :attr:`Alignment.mixup`); when
some users' test streams run a constant number of frames off their join
(:func:`~layoutkit.comparison.classify.user_shifts`), it classifies again with those shifts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .alignment import Alignment
from .classify import Judging, RegionObservation, classify, user_shifts
from .expect import Expectation
from .frames import Observed
from .observe import FrameSampler

__all__ = ["Classified", "classify_observed"]


@dataclass(frozen=True)
class Classified:
    """Per region and period: which frames matched and what the others showed.

    Attributes
    ----------
    regions : tuple of RegionObservation
    shifts : mapping
        uid -> frames by which that user's test stream runs ahead of its scenario clock.
    """

    regions: tuple[RegionObservation, ...]
    shifts: Mapping[str, int] = field(default_factory=dict)

    def bad_share(self) -> dict[int, float]:
        """Per period (that has frames): the share of region-frames that mismatch.

        >>> import numpy as np
        >>> from layoutkit.comparison.classify import RegionObservation
        >>> ro = RegionObservation(0, None, np.arange(4), np.zeros(4),  # type: ignore[arg-type]
        ...                        np.array([True, False, False, True]), (), np.zeros(4),
        ...                        np.zeros(4))
        >>> Classified((ro,)).bad_share()
        {0: 0.5}
        """
        counts: dict[int, list[int]] = {}
        for ro in self.regions:
            share = counts.setdefault(ro.period, [0, 0])
            share[0] += int((~ro.match).sum())
            share[1] += len(ro.match)
        return {p: b / n for p, (b, n) in counts.items() if n}

    def misses(self) -> int:
        """Mismatching region-frames in all."""
        return int(sum(int(np.count_nonzero(~ro.match)) for ro in self.regions))


def classify_observed(observed: Observed, alignment: Alignment, exp: Expectation,
                      sampler: FrameSampler, *, joins: Mapping[str, float], tol: int) -> Classified:
    """Classify every region of every frame (stage 4), with the users' shifts found."""

    def run(shifts: Mapping[str, int] | None) -> list[RegionObservation]:
        return classify(exp, sampler, observed, offset=alignment.offsets, joins=joins,
                        judging=Judging(tol, shifts=shifts or {}, rates=alignment.rates,
                                        range_mixup=alignment.mixup))

    region_obs = run(None)
    shifts = user_shifts(region_obs, tol=tol)
    if shifts:  # test streams whose clocks start elsewhere than their joins
        region_obs = run(shifts)
    return Classified(tuple(region_obs), shifts)
