"""Check stage, layout: periods whose frames fit another layout better (test-stream codes).

Tried for a period where most region-frames mismatch, on the luma samples of the period:
every other ``mixedVideoLayout`` and every other value of each profile key that moves
regions.  The share of expected live users whose code is read in the right region must
reach 60 % and beat the expected layout's by 30 points.  A wrong layout replaces the run
differences of its period (:func:`apply_wrong_layouts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from ..profile import PROFILE_CHOICES, Profile
from .expect import Expectation, ExpectOptions, RegionExpect, build_expectation, source_kind
from .findings import Anchor, Finding
from .model import Difference
from .observe import FrameSampler
from .plan import Plan

__all__ = [
    "GEOMETRY_KEYS",
    "LayoutTry",
    "WrongLayout",
    "apply_wrong_layouts",
    "code_hits",
    "find_wrong_layouts",
]

#: Profile keys that move regions (tried by the wrong-layout check).
GEOMETRY_KEYS = ("vertical_column_order", "vertical_without_large", "floating_render",
                 "vertical_render")
_MODE_NAMES = {0: "floating", 1: "best fit", 2: "vertical", 3: "custom"}

JSONish = int | dict[str, str]


@dataclass(frozen=True)
class LayoutTry:
    """One alternative layout tried.

    Its label, what the difference reports as expected and observed, and the layout mode and
    profile that draw it.
    """

    label: str
    expected: JSONish
    observed: JSONish
    mode: int
    profile: Profile


@dataclass(frozen=True)
class WrongLayout:
    """A period (index) whose frames fit another layout, and its difference.

    ``anchor`` is a frame it is seen on, if known.
    """

    period: int
    difference: Difference
    anchor: Anchor | None = None


def layout_tries(profile: Profile, own_mode: int) -> list[LayoutTry]:
    """Every layout mode (own included) and every other geometry-key value.

    >>> from layoutkit.profile import DEFAULT_PROFILE
    >>> [t.label for t in layout_tries(DEFAULT_PROFILE, 1)][:3]
    ['layout 0 (floating)', 'layout 1 (best fit)', 'layout 2 (vertical)']
    """
    tries = [LayoutTry(f"layout {mode} ({_MODE_NAMES[mode]})", own_mode, mode, mode, profile)
             for mode in (0, 1, 2)]
    for key in GEOMETRY_KEYS:
        own = getattr(profile, key)
        for value in PROFILE_CHOICES[key]:
            if value != own:
                tries.append(LayoutTry(f"profile {key}={value}", {key: own}, {key: value},
                                       own_mode,
                                       replace(profile, **{key: value})))  # type: ignore[arg-type]
    return tries


def code_hits(sampler: FrameSampler, regions: Sequence[RegionExpect],
              samples: Sequence[npt.NDArray[np.uint8]]) -> float:
    """Return the share of (region, sample) pairs whose code reads the region's expected uid."""
    hits = 0
    for luma in samples:
        uids, _ = sampler.read_codes(luma)
        names = list(sampler.uids)
        hits += sum(int(uids[r.code_key] >= 0 and names[uids[r.code_key]] == r.label[0])
                    for r in regions)
    return hits / (len(regions) * len(samples))


def _period_scores(plan: Plan, p: int, samples: Sequence[npt.NDArray[np.uint8]]
                   ) -> tuple[float, list[tuple[float, LayoutTry]]]:
    """Score the expected layout, and each distinct alternative, on a period's samples."""
    own_mode = plan.expectation.periods[p].layout_mode
    own_score = None
    scores: list[tuple[float, LayoutTry, object]] = []
    for attempt in layout_tries(plan.profile, own_mode):
        sampler = FrameSampler(plan.sampler.canvas_wh)
        alt = build_expectation(plan.scenario, sampler, profile=attempt.profile,
                                renderer=plan.renderer,
                                options=ExpectOptions(mode_override=attempt.mode,
                                                      candidates=False))
        if p >= len(alt.periods):
            continue
        regs = [r for r in alt.periods[p].regions if r.kind == "code_live"]
        if not regs:
            continue
        score = code_hits(sampler, regs, samples)
        if attempt.mode == own_mode and attempt.profile == plan.profile:
            own_score = score
            continue
        signature = alt.periods[p].regions
        if not any(signature == s[2] for s in scores):
            scores.append((score, attempt, signature))
    return own_score or 0.0, [(s, a) for s, a, _ in scores]


def _period_difference(exp: Expectation, p: int, own: float,
                       scores: list[tuple[float, LayoutTry]]) -> Difference | None:
    if not scores:
        return None
    best, attempt = max(scores, key=lambda s: s[0])
    if not (best >= 0.6 and best > own + 0.3):
        return None
    period = exp.periods[p]
    own_mode = period.layout_mode
    return Difference(
        "wrong_layout",
        f"from {period.start:.2f} s the picture fits {attempt.label} ({best:.0%} of users "
        f"found) rather than the expected layout {own_mode} ({_MODE_NAMES[own_mode]}) "
        f"with this profile ({own:.0%})",
        t=period.start, expected=attempt.expected, observed=attempt.observed)


def find_wrong_layouts(plan: Plan, bad_share: Mapping[int, float],
                       samples: Sequence[tuple[float, npt.NDArray[np.uint8]]],
                       offset: float) -> tuple[WrongLayout, ...]:
    """Periods (mostly mismatching) whose samples fit another layout (a check stage).

    Parameters
    ----------
    plan : Plan
    bad_share : mapping
        Period index -> share of its region-frames that mismatch.
    samples : sequence of (float, ndarray)
        ``(recording time, luma plane)`` samples (:attr:`Observed.samples`).
    offset : float
        Recording time of the scenario's t = 0.
    """
    has_codes = any(source_kind(u.source) == "testsrc" for u in plan.scenario.users)
    if not has_codes:
        return ()
    exp = plan.expectation
    out: list[WrongLayout] = []
    for p, share in bad_share.items():
        if share < 0.5:
            continue
        period = exp.periods[p]
        lumas = [luma for r, luma in samples if period.start <= r - offset < period.end]
        if not lumas:
            continue
        own, scores = _period_scores(plan, p, lumas)
        diff = _period_difference(exp, p, own, scores)
        if diff is not None:
            out.append(WrongLayout(p, diff))
    return tuple(out)


def apply_wrong_layouts(findings: tuple[Finding, ...], wrong: Sequence[WrongLayout],
                        exp: Expectation) -> tuple[Finding, ...]:
    """Replace the anchored findings that start in a wrong layout's period by that layout.

    Each wrong layout goes last.

    >>> from layoutkit.profile import DEFAULT_PROFILE
    >>> from layoutkit.comparison.expect import Period
    >>> from layoutkit.comparison.findings import Anchor
    >>> exp = Expectation(DEFAULT_PROFILE, (Period(0, 5, 0, 1, (), None),), 5.0, 15)
    >>> runs = (Finding(Difference("wrong_user", "a"), Anchor(0, 1.0, 2.0)),
    ...         Finding(Difference("drift", "b")))
    >>> out = apply_wrong_layouts(runs, [WrongLayout(0, Difference("wrong_layout", "c"))], exp)
    >>> [f.difference.kind for f in out]
    ['drift', 'wrong_layout']
    """
    for wl in wrong:
        period = exp.periods[wl.period]
        findings = (*(f for f in findings if f.anchor is None
                      or not period.start <= f.anchor.t0 < period.end),
                    Finding(wl.difference, wl.anchor))
    return findings
