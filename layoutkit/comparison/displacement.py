"""Check stage, displacement: test-stream codes that cannot be read where they belong.

Compare never goes blind in silence.  When the scenario expects live test streams, the
observe stage's code readings in the regions where a live code is expected
(:func:`code_share`) say whether the codes were read:

* far fewer than expected (under :data:`MIN_SHARE`): the code of each expected live region
  is searched for on a few luma samples (:attr:`~.frames.Observed.samples`), its spot
  (:class:`~.codereader.CodeSpot`) displaced by up to :data:`REACH` px in steps smaller than
  the reader's tolerance (:func:`find_code`).  Codes found displaced mean the whole layout
  is: ``wrong_layout`` with the offset in pixels; none found is ``unreadable_codes``.
* read: a cheap centring check on one sample: each code read in place has its centre
  measured (:func:`code_centre`: the middle of the span of positions where it reads, its
  edges found by galloping and halving, about two dozen readings a code), so a layout
  shifted by a few pixels, whose codes the reader's tolerance still reads, is found too.

A displacement is reported from :data:`MIN_SHIFT` px (the centre of a clean recording's
code is within a pixel of its place).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from .._typing import U8
from .alignment import Alignment
from .codereader import CodeSpot
from .expect import Expectation
from .findings import Finding
from .frames import Observed
from .model import Difference
from .observe import FrameSampler
from .plan import Plan

__all__ = [
    "MIN_SHARE",
    "MIN_SHIFT",
    "REACH",
    "LiveSpot",
    "Shift",
    "box_size",
    "check_codes",
    "code_centre",
    "code_share",
    "describe_shift",
    "expects_codes",
    "find_code",
    "find_shift",
    "legible_keys",
    "live_spots",
    "spiral",
]

T = TypeVar("T")

#: Below this share of the expected live-code region-frames read, the codes are missing.
MIN_SHARE = 0.5
#: How far (px) a missing code is searched for, each way.
REACH = 48
#: The smallest displacement (px, either axis) reported.
MIN_SHIFT = 3
#: Luma samples searched (spread over the recording).
SEARCH_SAMPLES = 3
#: Fewer expected live-code region-frames than this are not judged.
MIN_EXPECTED = 10
#: A code whose sampled cell boxes are smaller than this (px) is not expected to be read
#: back (its cells are a pixel or two: compression blurs them away).
MIN_BOX = 2


@dataclass(frozen=True)
class LiveSpot:
    """Where ``uid``'s live code is expected in a sample."""

    uid: str
    uid_index: int
    spot: CodeSpot


@dataclass(frozen=True)
class Shift:
    """``uid``'s code found ``(dx, dy)`` px from its place (positive: right, down)."""

    uid: str
    dx: float
    dy: float


def box_size(spot: CodeSpot) -> int:
    """Return the smallest sampled cell box of a readable spot, in px (0: unreadable).

    >>> box_size(CodeSpot((320, 180), (0, 0, 320, 180), 1, (640, 360)))
    4
    >>> box_size(CodeSpot((320, 180), (0, 0, 64, 36), 1, (640, 360)))
    1
    """
    if not spot.readable:
        return 0
    return int(np.min(np.minimum(spot.x1 - spot.x0, spot.y1 - spot.y0)))


def legible_keys(sampler: FrameSampler) -> frozenset[int]:
    """Return the code keys whose codes are big enough to be read back (:data:`MIN_BOX`)."""
    return frozenset(k for k in sampler.code_keys.values()
                     if box_size(sampler.spot(k)) >= MIN_BOX)


def code_share(observed: Observed, alignment: Alignment, exp: Expectation,
               legible: frozenset[int]) -> tuple[int, int]:
    """Count the region-frames where a live code is expected, and those read.

    Returns ``(read, expected)``; only codes of ``legible`` keys count.

    >>> import numpy as np
    >>> from layoutkit.comparison.expect import Period, RegionExpect
    >>> from layoutkit.profile import DEFAULT_PROFILE
    >>> reg = RegionExpect(0, (0, 0, 8, 8), 1, ("11", "live"), "code_live", 0, code_key=1)
    >>> exp = Expectation(DEFAULT_PROFILE, (Period(0, 5, 0, 1, (reg,), None),), 5.0, 15)
    >>> o = Observed(np.arange(4.0), np.zeros((4, 1, 3), np.uint8),
    ...              np.array([[-1, 0], [-1, -1], [-1, 0], [0, -1]], np.int32),
    ...              np.zeros((4, 2), np.int32), ("11",), 0.0)
    >>> code_share(o, Alignment(0.0, np.zeros(4), "codes"), exp, frozenset({1}))
    (2, 4)
    >>> code_share(o, Alignment(0.0, np.zeros(4), "codes"), exp, frozenset())
    (0, 0)
    """
    t = alignment.scenario_times(observed.times)
    period = np.searchsorted(exp.starts, t, side="right") - 1
    read = expected = 0
    for p, per in enumerate(exp.periods):
        keys = [r.code_key for r in per.regions if r.kind == "code_live" and r.code_key in legible]
        rows = np.flatnonzero((period == p) & (t < per.end))
        if not keys or not len(rows):
            continue
        expected += len(rows) * len(keys)
        read += int((observed.code_uids[np.ix_(rows, np.array(keys, np.intp))] >= 0).sum())
    return read, expected


def _period_at(exp: Expectation, t: float) -> int | None:
    """Return the period at scenario time ``t`` (None outside the scenario)."""
    p = int(np.searchsorted(exp.starts, t, side="right")) - 1
    return None if p < 0 or t >= exp.periods[p].end else p


def _live_samples(plan: Plan, samples: Sequence[tuple[float, U8]], offset: float,
                  legible: frozenset[int]) -> list[tuple[float, U8]]:
    """Keep the samples taken while a live code (of a ``legible`` key) is expected."""
    out = []
    for r, luma in samples:
        p = _period_at(plan.expectation, r - offset)
        if p is not None and any(reg.kind == "code_live" and reg.code_key in legible
                                 for reg in plan.expectation.periods[p].regions):
            out.append((r, luma))
    return out


def live_spots(plan: Plan, t: float, legible: frozenset[int]) -> list[LiveSpot]:
    """Return the live codes (of ``legible`` keys) expected at scenario time ``t``.

    Empty outside the scenario.
    """
    exp, sampler = plan.expectation, plan.sampler
    p = _period_at(exp, t)
    if p is None:
        return []
    out = []
    for reg in exp.periods[p].regions:
        if reg.kind != "code_live" or reg.code_key not in legible:
            continue
        uid = str(reg.label[0])
        out.append(LiveSpot(uid, sampler.uid_index(uid), sampler.spot(reg.code_key)))
    return out


def _reads(spot: CodeSpot, luma: U8, uid: str, dx: int, dy: int) -> bool:
    """Whether ``uid``'s code reads at ``spot`` moved by ``(dx, dy)``."""
    reading = spot.moved(dx, dy).read(luma)
    return reading is not None and reading.uid == uid


def spiral(reach: int, step: int) -> list[tuple[int, int]]:
    """Offsets within ``reach`` on a ``step`` grid, nearest first (``(0, 0)`` left out).

    >>> spiral(4, 4)[:4]
    [(-4, 0), (0, -4), (0, 4), (4, 0)]
    >>> len(spiral(4, 4))
    8
    """
    grid = range(-(reach // step) * step, reach + 1, step)
    offsets = [(dx, dy) for dx in grid for dy in grid if (dx, dy) != (0, 0)]
    return sorted(offsets, key=lambda d: (d[0] ** 2 + d[1] ** 2, d))


def _search_step(spot: CodeSpot) -> int:
    """Return a grid step under the reader's tolerance: the smallest sampled cell box.

    A box is a cell's central half, so a code moved by that much still has every box inside
    its cell.

    >>> _search_step(CodeSpot((320, 180), (0, 0, 320, 180), 1, (640, 360)))
    4
    """
    return max(1, box_size(spot))


def _edge(spot: CodeSpot, luma: U8, uid: str, start: tuple[int, int], step: tuple[int, int]
          ) -> int:
    """Count how many ``step`` s from ``start`` (where the code reads) it still reads.

    Galloping, then halving: a dozen readings, not one per pixel.
    """
    def reads(n: int) -> bool:
        return _reads(spot, luma, uid, start[0] + n * step[0], start[1] + n * step[1])

    good, bad = 0, 1
    while bad <= REACH and reads(bad):
        good, bad = bad, bad * 2
    bad = min(bad, REACH + 1)
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if reads(mid) else (good, mid)
    return good


def _span(spot: CodeSpot, luma: U8, uid: str, start: tuple[int, int], axis: int) -> float:
    """Return the middle of the positions along ``axis`` (0: x, 1: y) where the code reads.

    Searched from ``start`` (where it reads) outwards.
    """
    unit = (1, 0) if axis == 0 else (0, 1)
    ahead = _edge(spot, luma, uid, start, unit)
    behind = _edge(spot, luma, uid, start, (-unit[0], -unit[1]))
    return start[axis] + (ahead - behind) / 2


def code_centre(spot: CodeSpot, luma: U8, uid: str, start: tuple[int, int]
                ) -> tuple[float, float]:
    """Find where ``uid``'s code, read at ``start``, is centred.

    The centre is the middle of the span of positions where it reads, along x at
    ``start``'s y and along y at ``start``'s x.
    """
    return _span(spot, luma, uid, start, 0), _span(spot, luma, uid, start, 1)


def find_code(spot: CodeSpot, luma: U8, uid: str) -> tuple[float, float] | None:
    """Search for ``uid``'s code around ``spot`` (up to :data:`REACH` px).

    Returns its centre's offset, or None when it reads nowhere.
    """
    if not spot.readable:
        return None
    for d in [(0, 0), *spiral(REACH, _search_step(spot))]:
        if _reads(spot, luma, uid, *d):
            return code_centre(spot, luma, uid, d)
    return None


def _spread(samples: Sequence[T], k: int) -> list[T]:
    """At most ``k`` of ``samples``, spread evenly."""
    if len(samples) <= k:
        return list(samples)
    idx = np.linspace(0, len(samples) - 1, k).round().astype(int)
    return [samples[i] for i in idx]


def find_shift(plan: Plan, samples: Sequence[tuple[float, U8]], offset: float, *,
               search: bool, legible: frozenset[int]) -> list[Shift]:
    """Each expected live code's displacement on a few samples.

    ``search``: the codes are missing, look around (:func:`find_code`) on a few samples;
    otherwise the centre of each code read in place is measured on one sample
    (:func:`code_centre`).
    """
    shifts: list[Shift] = []
    live = _live_samples(plan, samples, offset, legible)
    for r, luma in _spread(live, SEARCH_SAMPLES if search else 1):
        for spot in live_spots(plan, r - offset, legible):
            if search:
                found = find_code(spot.spot, luma, spot.uid)
            elif _reads(spot.spot, luma, spot.uid, 0, 0):
                found = code_centre(spot.spot, luma, spot.uid, (0, 0))
            else:
                continue
            if found is not None:
                shifts.append(Shift(spot.uid, *found))
    return shifts


def _signed(v: int) -> str:
    return f"{v:+d}"


def describe_shift(shift: Shift) -> str:
    """Where a code was found, in words.

    >>> describe_shift(Shift("11", 8.0, 0.0))
    "uid 11's code found 8 px right of its region"
    >>> describe_shift(Shift("22", -4.5, 16.0))
    "uid 22's code found 4 px left of and 16 px below its region"
    """
    dx, dy = round(shift.dx), round(shift.dy)
    parts = [f"{abs(dx)} px {'right of' if dx > 0 else 'left of'}"] if dx else []
    parts += [f"{abs(dy)} px {'below' if dy > 0 else 'above'}"] if dy else []
    where = " and ".join(parts) if parts else "0 px away from"
    return f"uid {shift.uid}'s code found {where} its region"


def _shift_finding(shifts: list[Shift]) -> Finding | None:
    """Return ``wrong_layout`` when the codes found are displaced, else None.

    Displaced: by :data:`MIN_SHIFT` px or more (the median over the codes found).
    """
    if not shifts:
        return None
    dx = round(float(np.median([s.dx for s in shifts])))
    dy = round(float(np.median([s.dy for s in shifts])))
    if max(abs(dx), abs(dy)) < MIN_SHIFT:
        return None
    near = min(shifts, key=lambda s: abs(s.dx - dx) + abs(s.dy - dy))
    return Finding(Difference(
        "wrong_layout",
        f"layout shifted by ({_signed(dx)}, {_signed(dy)}) px: {describe_shift(near)} "
        f"({len(shifts)} code sightings on the samples searched)",
        expected=[0, 0], observed=[dx, dy]))


def _unreadable(plan: Plan, read: int, expected: int, found: int) -> Finding:
    users = sorted({u.uid for u in plan.scenario.users if u.uid in plan.joins
                    and any(r.label[0] == u.uid and r.kind == "code_live"
                            for p in plan.expectation.periods for r in p.regions)})
    return Finding(Difference(
        "unreadable_codes",
        f"test-stream codes of uid {', '.join(users)} expected in {expected} region-frames "
        f"but read in {read} ({read / expected:.0%}); searched within {REACH} px of their "
        f"regions on a few samples: {found} found, none displaced; the content is judged "
        f"by colours only",
        expected=expected, observed=read))


def expects_codes(plan: Plan, observed: Observed, alignment: Alignment) -> bool:
    """Whether enough live test-stream codes are expected (and legible) to be judged."""
    legible = legible_keys(plan.sampler)
    return code_share(observed, alignment, plan.expectation, legible)[1] >= MIN_EXPECTED


def check_codes(plan: Plan, observed: Observed, alignment: Alignment) -> Finding | None:
    """Check the layout's place by its codes (a check stage).

    Returns ``wrong_layout`` with the offset in pixels, ``unreadable_codes`` when the
    expected codes are missing and found nowhere near, or None.  Searches only when the
    codes are missing; a recording whose codes read pays for about two dozen readings per
    code on one sample.
    """
    legible = legible_keys(plan.sampler)
    read, expected = code_share(observed, alignment, plan.expectation, legible)
    if expected < MIN_EXPECTED:
        return None
    missing = read < MIN_SHARE * expected
    shifts = find_shift(plan, observed.samples, alignment.offset, search=missing,
                        legible=legible)
    shifted = _shift_finding(shifts)
    if shifted is not None or not missing:
        return shifted
    return _unreadable(plan, read, expected, len(shifts))
