"""Stage 8 (``infer`` only): per picture key, the value whose expectation fits best.

The plan's alternatives (each single-key profile change) are classified on the same
observations, alignment, publisher rates, range mix-up and user shifts as the checks; a key's
value is the one with the fewest mismatching region-frames when it wins by at least 3 and 2 %
of the frames.
"""

from __future__ import annotations

from dataclasses import replace

from ..profile import PROFILE_CHOICES
from .alignment import Alignment
from .classify import Judging, classify
from .expect import Expectation
from .frames import Observed
from .plan import PICTURE_KEYS, Plan
from .regions import Classified

__all__ = ["infer_keys", "pick", "without_looks"]


def without_looks(exp: Expectation) -> Expectation:
    """Return ``exp`` with no candidate looks and video files unchecked.

    The inference's alternatives are built from it.
    """
    return replace(exp, periods=tuple(
        replace(p, regions=tuple(replace(r, looks=None, files=None,
                                         kind="unchecked" if r.kind == "file" else r.kind)
                                 for r in p.regions))
        for p in exp.periods))


def pick(scores: dict[str, int], frames: int) -> str:
    """Pick the value with the fewest misses when it wins clearly, else ``"undetermined"``.

    >>> pick({"a": 10, "b": 40}, 100), pick({"a": 10, "b": 11}, 100)
    ('a', 'undetermined')
    """
    best = min(scores, key=scores.__getitem__)
    runner = min(v for k, v in scores.items() if k != best)
    # a clear winner: fewer mismatching region-frames by at least 2 % of the frames
    return best if runner - scores[best] >= max(3, 0.02 * frames) else "undetermined"


def infer_keys(plan: Plan, observed: Observed, alignment: Alignment,
               classified: Classified, *, tol: int) -> dict[str, str]:
    """Per profile key: the value the frames agree with, or ``"undetermined"``."""
    judging = Judging(tol, name=False, shifts=classified.shifts, rates=alignment.rates,
                      range_mixup=alignment.mixup)

    def misses(exp: Expectation) -> int:
        ros = classify(exp, plan.sampler, observed, offset=alignment.offsets, joins=plan.joins,
                       judging=judging)
        return Classified(tuple(ros)).misses()

    # the alternatives are built without candidate looks; judge the base the same way, or
    # its look fallback for unreadable codes (tiny tiles) and flash frames biases the vote
    base = misses(without_looks(plan.expectation))
    signature = plan.expectation.signature()
    result: dict[str, str] = {}
    for key in PICTURE_KEYS:
        scores = {getattr(plan.profile, key): base}
        for (k, value), exp in plan.alternatives.items():
            if k == key and exp.signature() != signature:
                scores[value] = misses(exp)
        result[key] = pick(scores, max(1, len(observed))) if len(scores) > 1 else "undetermined"
    for key in PROFILE_CHOICES:
        result.setdefault(key, "undetermined")
    return result
