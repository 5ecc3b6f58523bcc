"""Leaves: a layout not reflowed after a leave, and a user still shown after leaving.

When a user leaves, the others are laid out again (reflow) at the leave.  A recording that
keeps the layout from before the leave cannot be explained by any time of the leave (every
later time explains more of it), so without this module it was reported as an event out
of its window and a swarm of per-region runs.

* :func:`keep_layouts` (after the fit-events stage): for each ``leave``, the expectation of
  the period before it (its regions) is tried on the frames after it, as the layout check
  tries alternatives (:mod:`~layoutkit.comparison.layoutcheck`): the staying users whose
  region moves at the leave are looked for by their test-stream codes in their regions
  from before (:func:`kept_share`).  When those codes are read in at least
  :data:`KEPT_SHARE` of the frames from the end of the leave's window to the next change,
  and in clearly more than in the new regions (by :data:`KEPT_MARGIN`), the layout was not
  reflowed: the leave is dated where its user's picture went from its old region (the
  code no longer read, or frozen: :func:`~layoutkit.comparison.events.freeze_onset`), or
  at the scenario's time when it stayed, and the period after it is one ``wrong_layout``
  difference (:meth:`KeptLayout.difference`, replacing the period's runs as a wrong
  layout does).  Real people (``source: "unknown"``, no code to read) are judged by their
  regions instead (:func:`_kept_people`): after the leave's window the staying users'
  regions from before still show pictures, not backgrounds (:data:`KEPT_SHARE` of the
  frames), and as many frames do not show the new layout (its canvas covered by a
  picture, or one of its regions part canvas); the leave keeps its scenario time (the
  pictures cannot say when a person went) and its user's old region says ``live``,
  ``last_frame`` or ``gone``.
* :func:`departures` gives each user who left (at the fitted time) to the run check, which
  names the user where it is still shown (:mod:`~layoutkit.comparison.runcheck`);
  :func:`still_shown` finds a user's picture still in its place from before the leave
  where no region is any more (the canvas background, which the background check would
  otherwise report as a colour).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from .._typing import F64, IDX
from ..timeline import DisplayState
from .classify import (
    DESC_MAX,
    DESC_MEAN,
    PICTURE_BACKGROUND,
    PICTURE_FROZEN,
    PICTURE_LIVE,
    background_frames,
    desc_distance,
    partly_canvas,
    picture_states,
    range_variant,
    region_motion,
)
from .events import EventFit, FittedEvents, freeze_onset, scenario_at
from .expect import Expectation, Period, RegionExpect
from .findings import Anchor, Finding
from .frames import Observed
from .layoutcheck import WrongLayout
from .model import Difference
from .plan import Plan
from .runcheck import Departure

__all__ = ["KEPT_MARGIN", "KEPT_SHARE", "KeptLayout", "departures", "keep_layouts",
           "kept_share", "kept_wrong_layouts", "still_shown"]

#: Share of the staying users' codes read in their regions from before the leave.
KEPT_SHARE = 0.6
#: ... and by how much more than in their new regions.
KEPT_MARGIN = 0.3


@dataclass(frozen=True)
class KeptLayout:
    """A leave after which the recording kept the layout from before it.

    Attributes
    ----------
    fit : EventFit
        The leave, dated where its user's picture went (``seen`` False: it stayed, the
        scenario's time).
    until : float
        Scenario time the period after the leave ends (the next change).
    users : int
        Users in the layout kept.
    shown : str
        What the leaving user's old region showed: ``gone``, ``live`` or ``last_frame``.
    share : float
        Share of the staying users' codes read in their regions from before (real people:
        of their regions from before showing a picture, not a background).
    """

    fit: EventFit
    until: float
    users: int
    shown: str
    share: float

    def difference(self) -> Difference:
        """Return the ``wrong_layout`` difference.

        >>> fit = EventFit(0, "leave", "44", Fraction(8), Fraction(8), Fraction(1))
        >>> print(KeptLayout(fit, 12.0, 4, "gone", 1.0).difference().message)
        ... # doctest: +NORMALIZE_WHITESPACE
        layout not reflowed after uid 44 left at 8.00 s (fitted; scenario 8.00 s):
        8.00-12.00 s shows the 4-user layout from before the leave
        >>> print(KeptLayout(replace(fit, seen=False), 12.0, 4, "live", 1.0).difference().message)
        ... # doctest: +NORMALIZE_WHITESPACE
        layout not reflowed after uid 44 left at 8.00 s (scenario time; not seen):
        8.00-12.00 s shows the 4-user layout from before the leave, uid 44 still shown
        """
        fit = self.fit
        t = float(fit.fitted_t)
        when = f"fitted; scenario {float(fit.scenario_t):.2f} s" if fit.seen else \
            "scenario time; not seen"
        tail = {"gone": "", DisplayState.LIVE: f", uid {fit.uid} still shown",
                DisplayState.LAST_FRAME: f", uid {fit.uid}'s last frame still shown"}[self.shown]
        msg = (f"layout not reflowed after uid {fit.uid} left at {t:.2f} s ({when}): "
               f"{t:.2f}-{self.until:.2f} s shows the {self.users}-user layout from before "
               f"the leave{tail}")
        return Difference("wrong_layout", msg, uid=fit.uid, t=t,
                          expected={"reflow": True, "users": self.users - 1,
                                    "t": round(t, 3)},
                          observed={"reflow": False, "users": self.users,
                                    "until": round(self.until, 3), "left_user": self.shown,
                                    "share": round(self.share, 3)})


def _period_at(exp: Expectation, t: float) -> int | None:
    """Return the index of the period starting at ``t`` (None: none, or the first)."""
    for p, period in enumerate(exp.periods):
        if p and abs(period.start - t) < 1e-6:
            return p
    return None


def _live_regions(period: Period) -> dict[str, RegionExpect]:
    return {r.label[0]: r for r in period.regions
            if r.kind == "code_live" and r.label[0] is not None and r.code_key is not None}


def _person_regions(period: Period) -> dict[str, RegionExpect]:
    return {r.label[0]: r for r in period.regions
            if r.kind == "person" and r.label[0] is not None}


def _picture_share(plan: Plan, observed: Observed, rows: IDX,
                   regions: dict[str, RegionExpect], mixup: str | None) -> float:
    """Return the share of (frame, user) pairs whose region shows a picture.

    A picture is none of the region's backgrounds (:func:`~.classify.background_frames`).
    """
    if not regions or not rows.size:
        return 0.0
    cells = observed.cells[rows]
    return float(np.mean([~background_frames(r, plan.sampler, cells, mixup)[0]
                          for r in regions.values()]))


def _canvas_share(plan: Plan, observed: Observed, rows: IDX, period: Period,
                  mixup: str | None) -> float | None:
    """Return the share of frames whose canvas is not the expected background.

    The canvas is what lies outside every region of ``period`` (its ``bg_key``); None when
    the period shows no canvas to look at.
    """
    if period.bg_key is None or period.bg_expected is None or not rows.size:
        return None
    sampler = plan.sampler
    mean, worst = desc_distance(observed.cells[rows][:, sampler.cell_slice(period.bg_key)],
                                range_variant(period.bg_expected, mixup),
                                sampler.valid(period.bg_key))
    return float(np.mean((mean > DESC_MEAN) | (worst > DESC_MAX)))


def _person_shown(plan: Plan, observed: Observed, rows: IDX, region: RegionExpect | None,
                  mixup: str | None) -> str:
    """Tell what a leaving person's old region showed.

    ``gone``: mostly a background, ``last_frame``: mostly a frozen picture, else ``live``.
    """
    if region is None or rows.size < 3:
        return "gone"
    bg = background_frames(region, plan.sampler, observed.cells[rows], mixup)[0]
    states = picture_states(bg, region_motion(region, plan.sampler, observed, rows),
                            observed.times[rows],
                            None if observed.keys is None else observed.keys[rows])
    words = {PICTURE_BACKGROUND: "gone", PICTURE_LIVE: DisplayState.LIVE,
             PICTURE_FROZEN: DisplayState.LAST_FRAME}
    return words[int(np.argmax(np.bincount(states, minlength=3)))]


def _new_layout_misses(plan: Plan, observed: Observed, rows: IDX, period: Period,
                       mixup: str | None) -> float:
    """Return the share of frames that do not show ``period``'s layout.

    Such a frame has its canvas covered by a picture (:func:`_canvas_share`) or, when the
    period has no canvas to see, one of its people's regions showing the canvas in part
    (:func:`~.classify.partly_canvas`).
    """
    covered = _canvas_share(plan, observed, rows, period, mixup)
    if covered is not None:
        return covered
    regions = _person_regions(period).values()
    if not regions or not rows.size:
        return 0.0
    cells = observed.cells[rows]
    return float(np.mean(np.any([partly_canvas(r, plan.sampler, cells, mixup)
                                 for r in regions], axis=0)))


def _kept_people(plan: Plan, observed: Observed, t: F64, fit: EventFit,
                 mixup: str | None) -> KeptLayout | None:
    """Find the layout kept after one leave, judged by real people's regions (no codes).

    After the leave's window the staying users' regions from before still show pictures
    (not backgrounds) in at least :data:`KEPT_SHARE` of the (frame, user) pairs, and as many
    frames do not show the new layout (:func:`_new_layout_misses`).
    """
    exp = plan.expectation
    p = _period_at(exp, float(fit.scenario_t))
    if p is None:
        return None
    before, after = exp.periods[p - 1], exp.periods[p]
    old, new = _person_regions(before), _person_regions(after)
    moved = {u: r for u, r in old.items() if u != fit.uid and u in new and new[u].rect != r.rect}
    rows = _rows(t, float(fit.scenario_t + fit.window), after.end)
    if not moved or rows.size < 3:
        return None
    was = _picture_share(plan, observed, rows, moved, mixup)
    if was < KEPT_SHARE or _new_layout_misses(plan, observed, rows, after, mixup) < KEPT_SHARE:
        return None
    shown = _person_shown(plan, observed, rows, old.get(fit.uid or ""), mixup)
    unseen = replace(fit, fitted_t=fit.scenario_t, seen=False, explained=True)
    users = sum(1 for r in before.regions if r.label[0] is not None)
    return KeptLayout(unseen, after.end, users, shown, was)


def kept_share(observed: Observed, rows: IDX, regions: dict[str, RegionExpect]) -> float:
    """Share of (frame, user) pairs whose code is read as that user in its region.

    >>> from layoutkit.comparison.expect import RegionExpect
    >>> o = Observed(np.zeros(2), np.zeros((2, 1, 3), np.uint8),
    ...              np.array([[0], [-1]], np.int32), np.zeros((2, 1), np.int32), ("22",), 0.0)
    >>> kept_share(o, np.arange(2), {"22": RegionExpect(0, (0, 0, 8, 8), 1, ("22", "live"),
    ...                                                  "code_live", 0, code_key=0)})
    0.5
    """
    names = observed.uid_names
    hits = [observed.code_uids[rows, r.code_key] == (names.index(u) if u in names else -2)
            for u, r in regions.items()]
    return float(np.mean(hits)) if hits and rows.size else 0.0


def _rows(t: F64, start: float, end: float) -> IDX:
    return np.nonzero((t >= start) & (t < end))[0]


def _on_grid(t: float, fit: EventFit, step: Fraction) -> Fraction:
    """``t`` on the frame grid, inside the fit's window."""
    k = Fraction(t).limit_denominator(10 ** 6) / step
    at = Fraction(round(k)) * step
    return min(max(at, fit.scenario_t - fit.window), fit.scenario_t + fit.window)


def _went(observed: Observed, t: F64, fit: EventFit, region: RegionExpect | None, *,
          until: float, step: Fraction) -> tuple[EventFit, str]:
    """Date the leave where its user's picture went from its old region.

    Also returns what that region showed after the window (``gone``, ``live``,
    ``last_frame``).
    """
    s, w = float(fit.scenario_t), float(fit.window)
    unseen = replace(fit, fitted_t=fit.scenario_t, seen=False, explained=True)
    names = observed.uid_names
    if region is None or fit.uid not in names:
        return unseen, "gone"
    key, idx = region.code_key, names.index(fit.uid or "")
    rows = _rows(t, s - w, until)
    reads = observed.code_uids[rows, key] == idx
    frames = observed.code_frames[rows, key]
    after = t[rows] >= s + w
    if after.any() and reads[after].mean() > 0.5:
        shown = frames[after & reads]
        if np.unique(shown).size > shown.size // 2:
            return unseen, DisplayState.LIVE
        frozen = freeze_onset(t[rows][reads], frames[reads].astype(np.int64))
        if frozen is None:
            return unseen, DisplayState.LAST_FRAME
        return replace(unseen, fitted_t=_on_grid(frozen.t, fit, step), seen=True), \
            DisplayState.LAST_FRAME
    read = np.flatnonzero(reads & ~after)
    if read.size == 0 or read[-1] + 1 >= rows.size:
        return unseen, "gone"
    went = float(t[rows[read[-1] + 1]])
    return replace(unseen, fitted_t=_on_grid(went, fit, step), seen=True), "gone"


def _kept(exp: Expectation, observed: Observed, t: F64, fit: EventFit, *,
          step: Fraction) -> KeptLayout | None:
    """Find the layout kept after one leave by the codes, if the recording shows it."""
    p = _period_at(exp, float(fit.scenario_t))
    if p is None:
        return None
    old, new = _live_regions(exp.periods[p - 1]), _live_regions(exp.periods[p])
    moved = [u for u, r in old.items() if u != fit.uid and u in new and new[u].rect != r.rect]
    if not moved:
        return None
    until = exp.periods[p].end
    rows = _rows(t, float(fit.scenario_t + fit.window), until)
    if rows.size < 3:
        rows = _rows(t, float(fit.scenario_t), until)
    was = kept_share(observed, rows, {u: old[u] for u in moved})
    now = kept_share(observed, rows, {u: new[u] for u in moved})
    if rows.size < 3 or was < KEPT_SHARE or was < now + KEPT_MARGIN:
        return None
    dated, shown = _went(observed, t, fit, old.get(fit.uid or ""), until=until, step=step)
    users = sum(1 for r in exp.periods[p - 1].regions if r.label[0] is not None)
    return KeptLayout(dated, until, users, shown, was)


def _kept_any(plan: Plan, observed: Observed, t: F64, fit: EventFit, *, step: Fraction,
              mixup: str | None) -> KeptLayout | None:
    """Find the layout kept after one leave.

    By the codes (:func:`_kept`), else by the people's regions (:func:`_kept_people`).
    """
    found = _kept(plan.expectation, observed, t, fit, step=step)
    return found if found is not None else _kept_people(plan, observed, t, fit, mixup)


def keep_layouts(plan: Plan, events: FittedEvents, observed: Observed,
                 offsets: F64, *, mixup: str | None = None) -> FittedEvents:
    """Redate each leave after which the recording kept the layout from before.

    Such a leave is dated where its user's picture went (:class:`KeptLayout`, in
    :attr:`FittedEvents.kept`; its ``event_time`` difference dropped); the plan is rebuilt
    when a leave moved (the caller closes the renderer of a plan it no longer uses).
    """
    t = observed.times - offsets
    step = Fraction(1, plan.expectation.fps)
    kept = [k for fit in events.fits if fit.kind == "leave"
            for k in [_kept_any(plan, observed, t, fit, step=step, mixup=mixup)]
            if k is not None]
    if not kept:
        return events
    dated = {k.fit.index: k.fit for k in kept}
    fits = tuple(dated.get(f.index, f) for f in events.fits)
    dropped = {(k.fit.uid, float(k.fit.scenario_t)) for k in kept}
    differences = tuple(d for d in events.differences if not (
        d.kind == "event_time" and (d.uid, d.t) in dropped))
    fitted = scenario_at(plan.scenario, fits)
    new_plan = plan if fitted == plan.scenario else plan.retimed(fitted)
    return FittedEvents(new_plan, fits, differences, tuple(kept))


def kept_wrong_layouts(events: FittedEvents, observed: Observed,
                       offsets: F64) -> tuple[WrongLayout, ...]:
    """Turn the kept layouts into wrong layouts of the fitted expectation's periods.

    Each replaces the runs of its period (:func:`~.layoutcheck.apply_wrong_layouts`) and is
    anchored on a frame in the middle of the span.
    """
    exp = events.expectation
    t = observed.times - offsets
    out = []
    for k in events.kept:
        p = _period_at(exp, float(k.fit.fitted_t))
        rows = _rows(t, float(k.fit.fitted_t), k.until)
        if p is not None:
            anchor = Anchor(int(rows[rows.size // 2]), float(k.fit.fitted_t), k.until) \
                if rows.size else None
            out.append(WrongLayout(p, k.difference(), anchor))
    return tuple(out)


def departures(fits: tuple[EventFit, ...]) -> tuple[Departure, ...]:
    """Turn each leave into a :class:`~.runcheck.Departure`.

    It starts at the leave's fitted time and lasts until the user's next join.

    >>> leave = EventFit(0, "leave", "44", Fraction(8), Fraction(17, 2), Fraction(1))
    >>> departures((leave,))
    (Departure(uid='44', t=8.5, scenario_t=8.0, until=inf),)
    """
    out = []
    for fit in fits:
        if fit.kind != "leave" or fit.uid is None:
            continue
        back = [float(f.fitted_t) for f in fits if f.kind == "join" and f.uid == fit.uid
                and f.fitted_t > fit.fitted_t]
        out.append(Departure(fit.uid, float(fit.fitted_t), float(fit.scenario_t),
                             min(back, default=math.inf)))
    return tuple(out)


def _shown_at(exp: Expectation, observed: Observed, t: F64, away: Departure,
              step: float) -> Finding | None:
    """Find the departed user's code read in its old region, which no region covers now."""
    p = _period_at(exp, away.t)
    if p is None or away.uid not in observed.uid_names:
        return None
    old = _live_regions(exp.periods[p - 1]).get(away.uid)
    if old is None or old.rect in {r.rect for r in exp.periods[p].regions}:
        return None
    rows = _rows(t, away.t, min(away.until, exp.end))
    reads = rows[observed.code_uids[rows, old.code_key] == observed.uid_names.index(away.uid)]
    if reads.size < 3 or reads.size < 0.5 * rows.size:
        return None
    t0, t1 = float(t[reads[0]]), float(t[reads[-1]]) + step
    msg = (f"uid {away.uid} still shown {t0:.2f}-{t1:.2f} s after leaving {away.at()}, in "
           f"its place from before the leave")
    diff = Difference("extra_user", msg, uid=away.uid, t=t0,
                      expected={"uid": None, "left": round(away.t, 3)},
                      observed={"uid": away.uid, "from": round(t0, 3),
                                "until": round(t1, 3), "rect": list(old.rect)})
    return Finding(diff, Anchor(int(reads[reads.size // 2]), t0, t1))


def still_shown(exp: Expectation, observed: Observed, offsets: F64,
                away: tuple[Departure, ...]) -> tuple[Finding, ...]:
    """Find users still shown after leaving, in their place from before the leave.

    Only where no region is any more (``extra_user``; in a region, the run check names
    them).
    """
    t = observed.times - offsets
    step = 1.0 / exp.fps
    found = (_shown_at(exp, observed, t, a, step) for a in away)
    return tuple(f for f in found if f is not None)
