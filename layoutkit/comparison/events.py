"""Event windows: each scenario event's real time, fitted inside its window from the recording.

Real sessions are timed by people, bots and SDK callbacks: an event's time is known to a few
hundred milliseconds at best.  Every picture event of a scenario (``mute_video``,
``unmute_video``, ``unpublish_video``, ``publish_video``, ``join``, ``leave``,
``update_layout``; not the audio ones) gets a window ``t ± tolerance`` (the event's
``"tolerance"``, else compare's ``event_tolerance``, default :data:`DEFAULT_EVENT_TOLERANCE`).

Fitting (:func:`fit_events`), events one at a time in time order, each fitted shift applied
to the scenario before the next event is fitted:

0. a stop (``mute_video``, ``unpublish_video``) of a test stream whose code is read just
   before it is seen directly: its code stops advancing (:func:`observed_freezes`,
   :func:`freeze_onset`); the fitted time is the first frame of the freeze, and the frozen
   picture must be the last live frame, the code read just before it
   (:func:`frozen_picture_difference` names both frame numbers otherwise).  Other events
   (and stops not seen so) are fitted by cost:

1. every shift ``d`` of the event in ``[-tolerance, +tolerance]`` on the canvas frame grid
   (:func:`candidate_shifts`) is scored by a cost: how many region-frames near the event
   disagree with the expectation rebuilt for the scenario with the event at ``t + d``
   (:func:`classify_cost`: :func:`~layoutkit.comparison.expect.build_expectation` +
   :func:`~layoutkit.comparison.classify.classify` over the frames from ``tolerance + 0.5 s``
   before the event to ``tolerance + 0.5 s`` after it, plus the 3.5 s of last frame when the
   event stops a video; a live video file's region is checked against the file's frames as
   the rules check it, so a reflow only a file region shows is fitted where it is seen);
   a frozen test stream (at the canvas rate) must show exactly the
   frame live at the candidate's stop, not one frame off as the rules accept, so the frozen
   code pins a stop to one canvas frame;
2. the fitted shift is the middle of the run of least-cost shifts nearest to 0
   (:func:`best_shift`: a change seen between two canvas frames is explained equally by
   the shifts around it); when every shift costs the same the recording does not show the
   event and it keeps its scenario time (``seen`` False);
3. when even the best shift leaves more than :data:`RESIDUAL_FRAMES` region-frames
   unexplained, shifts up to :data:`SEARCH_BEYOND_S` beyond the window are scored on the
   same frames; one that explains clearly more (by :data:`RESIDUAL_FRAMES`) makes the event
   *unexplained*: a difference names the event, its window and where it was seen, and the
   rest of the recording is judged with the event there (so the one fault is reported once).

The rules are then judged relative to the fitted times (the expectation is rebuilt for the
fitted scenario): the last frame lasts 3.5 s from the observed freeze, the frozen picture is
the user's frame at the fitted stop, reflow and ``updateLayout`` happen at the fitted time.

This is stage 3 of the content check (:mod:`layoutkit.comparison`): :func:`fit_observed`
fits the events on the aligned observations and returns :class:`FittedEvents`, whose
``plan`` (the scenario at the fitted times) every later stage judges against.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import ParameterError, ScenarioError, format_value
from ..render import SceneRenderer
from ..scenario import UPDATE_LAYOUT, Event, Scenario, as_time
from ..timeline import VIDEO_STOP_GRACE, DisplayState
from .align import CODE_PERIOD_FRAMES
from .classify import BackgroundMemo, Judging, RegionObservation, background_misses, classify
from .expect import Expectation, ExpectOptions, FileFrames, Label, build_expectation, person_uids
from .frames import Observed
from .model import Difference
from .observe import FrameSampler

if TYPE_CHECKING:
    from .alignment import Alignment
    from .leaves import KeptLayout
    from .plan import Plan

__all__ = [
    "DEFAULT_EVENT_TOLERANCE",
    "RESIDUAL_FRAMES",
    "SEARCH_BEYOND_S",
    "EventFit",
    "FittedEvents",
    "FrameData",
    "Freeze",
    "as_tolerance",
    "best_shift",
    "candidate_shifts",
    "classify_cost",
    "event_difference",
    "fit_events",
    "fit_observed",
    "freeze_onset",
    "frozen_picture_difference",
    "label_cost",
    "named_by",
    "observed_freezes",
    "scenario_at",
    "seen_shift",
    "shift_event",
]

#: Seconds an event may really have happened before or after its scenario time.
DEFAULT_EVENT_TOLERANCE = Fraction(1)
#: Region-frames left unexplained by the best shift in the window before a wider search.
RESIDUAL_FRAMES = 3
#: How far beyond its window an unexplained event is looked for (seconds).
SEARCH_BEYOND_S = Fraction(2)
#: Frames around the window that are scored too (seconds).
_MARGIN_S = Fraction(1, 2)

#: Actions that change a picture (audio ones are not fitted).
FITTED_ACTIONS = ("mute_video", "unmute_video", "unpublish_video", "publish_video", "join",
                  "leave", UPDATE_LAYOUT)
_STOPS = ("mute_video", "unpublish_video")
_VERBS = {"mute_video": "stopped video", "unmute_video": "restarted video",
          "unpublish_video": "unpublished video", "publish_video": "published video",
          "join": "joined", "leave": "left", UPDATE_LAYOUT: "the layout changed"}
_SEEN = {"mute_video": "video froze", "unpublish_video": "video froze",
         "unmute_video": "video resumed", "publish_video": "video resumed",
         "join": "joined", "leave": "left", UPDATE_LAYOUT: "layout changed"}

#: A cost: the scenario with one event moved, and the scenario-time span to score -> how
#: many region-frames disagree (None: that scenario is impossible, e.g. a mute before a join).
Cost = Callable[[Scenario, tuple[Fraction, Fraction]], int | None]


@dataclass(frozen=True)
class EventFit:
    """Where one scenario event was seen.

    Parameters
    ----------
    index : int
        Index in ``scenario.events``.
    kind : str
        The event's action.
    uid : str or None
        Its user (None for ``update_layout``).
    scenario_t : Fraction
        The scenario's time.
    fitted_t : Fraction
        The time compare judges the rules from: inside the window, or where it was seen
        beyond it (``explained`` False).
    window : Fraction
        The tolerance: the window is ``scenario_t ± window``.
    seen : bool
        The recording shows the event (not every time in the window explains it equally).
    explained : bool
        A time in the window explains what the recording shows.
    """

    index: int
    kind: str
    uid: str | None
    scenario_t: Fraction
    fitted_t: Fraction
    window: Fraction
    seen: bool = True
    explained: bool = True

    def who(self) -> str:
        """``uid 22`` or ``the layout``."""
        return "update_layout" if self.uid is None else f"uid {self.uid}"

    def line(self) -> str:
        """One line for people, e.g. ``uid 22 stopped video at 6.25 s; scenario 6.00 s``.

        >>> EventFit(0, "mute_video", "22", Fraction(6), Fraction(25, 4), Fraction(1)).line()
        'uid 22 stopped video at 6.25 s; scenario 6.00 s'
        >>> EventFit(1, "update_layout", None, Fraction(3), Fraction(3), Fraction(1)).line()
        'the layout changed at 3.00 s; scenario 3.00 s'
        >>> EventFit(2, "leave", "4", Fraction(8), Fraction(10), Fraction(1), explained=False
        ...          ).line()
        'uid 4 left at 10.00 s; scenario 8.00 s, outside its window ± 1.00 s'
        """
        verb = _VERBS.get(self.kind, self.kind)
        subject = "" if self.uid is None else f"uid {self.uid} "
        outside = "" if self.explained else f", outside its window ± {float(self.window):.2f} s"
        return (f"{subject}{verb} at {float(self.fitted_t):.2f} s; "
                f"scenario {float(self.scenario_t):.2f} s{outside}")

    def label(self) -> str:
        """Return a short label for the report's timeline.

        The fitted time, and the scenario's beside it when they differ.

        >>> EventFit(0, "mute_video", "22", Fraction(6), Fraction(25, 4), Fraction(1)).label()
        'uid 22 stopped video 6.25 s (scenario 6.00 s)'
        >>> EventFit(1, "update_layout", None, Fraction(3), Fraction(3), Fraction(1)).label()
        'the layout changed 3.00 s'
        """
        verb = _VERBS.get(self.kind, self.kind)
        subject = "" if self.uid is None else f"uid {self.uid} "
        fitted, scenario = f"{float(self.fitted_t):.2f}", f"{float(self.scenario_t):.2f}"
        also = "" if fitted == scenario else f" (scenario {scenario} s)"
        return f"{subject}{verb} {fitted} s{also}"

    def to_json(self) -> dict[str, Any]:
        """Return the ``events`` item of compare's JSON document (times in seconds)."""
        return {"index": self.index, "kind": self.kind, "uid": self.uid,
                "scenario_t": round(float(self.scenario_t), 4),
                "fitted_t": round(float(self.fitted_t), 4),
                "window": round(float(self.window), 4), "seen": self.seen,
                "explained": self.explained}


def as_tolerance(value: object) -> Fraction:
    """Read a window in seconds: a finite number >= 0 (a float read as its decimal text).

    >>> as_tolerance(0.25), as_tolerance(1)
    (Fraction(1, 4), Fraction(1, 1))
    >>> as_tolerance(-1)
    Traceback (most recent call last):
    ...
    layoutkit.errors.ParameterError: event_tolerance must be a number >= 0 seconds (got -1)
    """
    ok = isinstance(value, (int, float, Fraction)) and not isinstance(value, bool) and \
        math.isfinite(value) and value >= 0
    if not ok:
        msg = f"event_tolerance must be a number >= 0 seconds (got {format_value(value)})"
        raise ParameterError(msg)
    return as_time(value)  # type: ignore[arg-type]


def event_difference(fit: EventFit) -> Difference | None:
    """Return the ``event_time`` difference of an event no time in its window explains.

    >>> d = event_difference(EventFit(0, "mute_video", "22", Fraction(6), Fraction(38, 5),
    ...                               Fraction(1), explained=False))
    >>> d.message  # doctest: +NORMALIZE_WHITESPACE
    "uid 22's mute_video at 6.00 s ± 1.00 s: no time in the window explains what the
    recording shows (video froze at 7.60 s)"
    """
    if fit.explained:
        return None
    whose = "update_layout" if fit.uid is None else f"uid {fit.uid}'s {fit.kind}"
    seen = _SEEN.get(fit.kind, fit.kind)
    msg = (f"{whose} at {float(fit.scenario_t):.2f} s ± {float(fit.window):.2f} s: no time in "
           f"the window explains what the recording shows ({seen} at "
           f"{float(fit.fitted_t):.2f} s)")
    return Difference("event_time", msg, uid=fit.uid, t=float(fit.scenario_t),
                      expected={"t": round(float(fit.scenario_t), 4),
                                "window": round(float(fit.window), 4), "event": fit.kind},
                      observed={"t": round(float(fit.fitted_t), 4)})


def candidate_shifts(window: Fraction, step: Fraction, *, beyond: Fraction = Fraction(0)
                     ) -> tuple[Fraction, ...]:
    """Shifts ``k * step`` with ``|shift| <= window + beyond``, nearest to 0 first.

    >>> candidate_shifts(Fraction(1, 5), Fraction(1, 10))
    (Fraction(0, 1), Fraction(-1, 10), Fraction(1, 10), Fraction(-1, 5), Fraction(1, 5))
    """
    k = int((window + beyond) / step)
    out = [Fraction(0)]
    for i in range(1, k + 1):
        out += [-i * step, i * step]
    return tuple(out)


def best_shift(costs: Mapping[Fraction, int]) -> tuple[Fraction, bool]:
    """Find the shift that best explains the recording, and whether the event is seen at all.

    Seen: some shift did better than another.

    Among the least-cost shifts, the contiguous run (on the grid of the given shifts) that
    lies nearest to 0, and its middle shift (the earlier of two middles).

    >>> best_shift({Fraction(k, 10): c for k, c in zip(range(-3, 4), [9, 0, 0, 0, 9, 9, 9])})
    (Fraction(-1, 10), True)
    >>> best_shift({Fraction(k, 10): 5 for k in range(-3, 4)})
    (Fraction(0, 1), False)
    """
    if not costs:
        return Fraction(0), False
    low = min(costs.values())
    if all(c == low for c in costs.values()):
        return (Fraction(0) if Fraction(0) in costs else min(costs, key=abs)), False
    grid = sorted(costs)
    runs: list[list[Fraction]] = []
    for i, d in enumerate(grid):
        if costs[d] != low:
            continue
        if runs and grid.index(runs[-1][-1]) == i - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    nearest = min(runs, key=lambda run: min(abs(d) for d in run))
    return nearest[(len(nearest) - 1) // 2], True


def label_cost(expected: Sequence[Label], observed: Sequence[Label]) -> int:
    """How many frames show another label than expected.

    >>> label_cost([("1", "live"), ("1", "last_frame")], [("1", "live"), ("1", "live")])
    1
    """
    return sum(1 for e, o in zip(expected, observed, strict=True) if e != o)


def shift_event(scenario: Scenario, index: int, t: Fraction) -> Scenario:
    """Return ``scenario`` with event ``index`` at time ``t``.

    The events are re-sorted by time, stably; a user's late join moves the user's ``join``
    too.

    >>> from layoutkit.scenario import parse_scenario
    >>> s = parse_scenario({"cname": "c", "duration": 9, "users": [{"uid": "1"}],
    ...     "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {}}},
    ...     "events": [{"t": 2, "uid": "1", "action": "mute_video"},
    ...                {"t": 3, "uid": "1", "action": "mute_audio"}]})
    >>> [(float(e.t), e.action) for e in shift_event(s, 0, Fraction(7, 2)).events]
    [(3.0, 'mute_audio'), (3.5, 'mute_video')]
    """
    times = [e.t for e in scenario.events]
    times[index] = t
    return _with_times(scenario, times)[0]


def scenario_at(scenario: Scenario, fits: Sequence[EventFit]) -> Scenario:
    """Return ``scenario`` with each fitted event at its fitted time.

    As :func:`fit_events` builds it.

    >>> from layoutkit.scenario import parse_scenario
    >>> s = parse_scenario({"cname": "c", "duration": 9, "users": [{"uid": "1"}],
    ...     "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {}}},
    ...     "events": [{"t": 2, "uid": "1", "action": "mute_video"}]})
    >>> fit = EventFit(0, "mute_video", "1", Fraction(2), Fraction(5, 2), Fraction(1))
    >>> float(scenario_at(s, [fit]).events[0].t)
    2.5
    """
    times = [e.t for e in scenario.events]
    for fit in fits:
        times[fit.index] = fit.fitted_t
    return _with_times(scenario, times)[0]


def _span(event: Event, window: Fraction) -> tuple[Fraction, Fraction]:
    """Return the scenario-time span whose frames score a shift of ``event`` in ``window``."""
    after = VIDEO_STOP_GRACE if event.action in _STOPS else Fraction(0)
    return event.t - window - _MARGIN_S, event.t + window + after + _MARGIN_S


def _costs(scenario: Scenario, index: int, shifts: Sequence[Fraction],
           span: tuple[Fraction, Fraction], cost: Cost, *,
           walk: bool = False) -> dict[Fraction, int]:
    """Score each shift of event ``index`` that keeps it inside the recording.

    Shifts are tried nearest to 0 first; inside is ``[0, scenario.duration)``.

    With ``walk``, when the scenario's own time explains every frame (cost 0, the least
    there is), each side is followed only until a shift costs more: the least-cost run
    nearest to 0 is the one around 0, as when every shift is scored (and it is cheaper).
    """
    event, end = scenario.events[index], scenario.duration
    out: dict[Fraction, int] = {}
    done: set[int] = set()  # sides (-1, +1) walked to their end
    for d in shifts:
        t = event.t + d
        side = (d > 0) - (d < 0)
        if side in done or t < 0 or t >= end or (event.action == "join" and t <= 0):
            continue
        value = cost(shift_event(scenario, index, t), span)
        if value is None:
            continue
        out[d] = value
        if walk and value > 0 and out.get(Fraction(0)) == 0:
            done.add(side)
    return out


def _fit_one(scenario: Scenario, index: int, window: Fraction, step: Fraction,
             cost: Cost) -> tuple[Fraction, bool, bool]:
    """(shift, seen, explained) of event ``index``."""
    event = scenario.events[index]
    costs = _costs(scenario, index, candidate_shifts(window, step), _span(event, window),
                   cost, walk=True)
    d, seen = best_shift(costs)
    if not seen or costs[d] <= RESIDUAL_FRAMES:
        return d, seen, True
    wide = window + SEARCH_BEYOND_S
    span = _span(event, wide)
    every = _costs(scenario, index, candidate_shifts(window, step, beyond=SEARCH_BEYOND_S),
                   span, cost)
    inside = {k: v for k, v in every.items() if abs(k) <= window}
    d, _ = best_shift(inside)
    d_all, _ = best_shift(every)
    if abs(d_all) > window and every[d_all] + RESIDUAL_FRAMES < every.get(d, 0):
        return d_all, True, False
    return d, True, True


def seen_shift(seen: Fraction, t: Fraction, step: Fraction) -> Fraction:
    """Return the shift that moves an event at ``t`` to the last grid time not after ``seen``.

    The grid is ``t + k * step``; ``seen`` is the first frame that shows the event.

    A stop happened after the last live frame and at or before the first frozen one, a
    span one frame long: the grid time in it (the scenario's own time when that is in it,
    even off the frame grid) explains both frames.

    >>> step = Fraction(1, 15)
    >>> seen_shift(Fraction(23, 15), Fraction(3, 2), step)  # 1.5 s: frame 23 is the first after
    Fraction(0, 1)
    >>> seen_shift(Fraction(23, 15), Fraction(1), step)
    Fraction(8, 15)
    >>> seen_shift(Fraction(1.5333333333333334), Fraction(1), step)  # a float's noise
    Fraction(8, 15)
    >>> seen_shift(Fraction(1), Fraction(2), step)
    Fraction(-1, 1)
    """
    return math.floor((seen - t) / step + Fraction(1, 1000)) * step


def _tolerance(event: Event, default: Fraction) -> Fraction:
    return default if event.tolerance is None else event.tolerance


def fit_events(scenario: Scenario, cost: Cost, *, step: Fraction,
               tolerance: Fraction = DEFAULT_EVENT_TOLERANCE,
               seen_at: Mapping[int, Fraction] | None = None
               ) -> tuple[Scenario, tuple[EventFit, ...]]:
    """Fit every picture event's time inside its window, in time order.

    Parameters
    ----------
    scenario : Scenario
    cost : callable
        ``cost(candidate_scenario, (t0, t1))``: region-frames with scenario times in
        ``[t0, t1)`` that disagree with ``candidate_scenario``'s expectation (None when the
        candidate is impossible); e.g. :func:`classify_cost`.
    step : Fraction
        The shift grid (the canvas frame step).
    tolerance : Fraction
        The window of events without their own ``tolerance``.
    seen_at : mapping, optional
        Event index -> the time the recording shows it directly (a test stream's observed
        freeze, :func:`freeze_onset`): the event's fitted time is the last one on the
        ``step`` grid through its scenario time not after it (:func:`seen_shift`;
        unexplained when outside its window); no cost is scored.

    Returns
    -------
    (Scenario, tuple of EventFit)
        The scenario with every event at its fitted time, and one fit per picture event
        (index into the *given* scenario's events).

    Examples
    --------
    A synthetic recording: user 1's video froze 0.3 s after the scenario's 2 s; the cost
    counts the frames (step 0.1 s, 0-5 s) whose label differs from the candidate's.

    >>> from layoutkit.scenario import parse_scenario
    >>> s = parse_scenario({"cname": "c", "duration": 5, "users": [{"uid": "1"}],
    ...     "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {}}},
    ...     "events": [{"t": 2, "uid": "1", "action": "mute_video"}]})
    >>> seen = ["live" if k < 23 else "last_frame" for k in range(50)]
    >>> def cost(candidate, span):
    ...     stop = candidate.events[0].t * 10
    ...     return sum(("live" if k < stop else "last_frame") != seen[k] for k in range(50))
    >>> fitted, fits = fit_events(s, cost, step=Fraction(1, 10))
    >>> fits[0].line(), fits[0].explained
    ('uid 1 stopped video at 2.30 s; scenario 2.00 s', True)
    """
    times = [e.t for e in scenario.events]
    current, order = scenario, list(range(len(times)))
    fits: list[EventFit] = []
    for given, event in enumerate(scenario.events):
        if event.action not in FITTED_ACTIONS:
            continue
        window = _tolerance(event, tolerance)
        if seen_at is not None and given in seen_at:
            d = seen_shift(seen_at[given], event.t, step)
            seen, explained = True, abs(d) <= window
        else:
            d, seen, explained = _fit_one(current, order.index(given), window, step, cost)
        fits.append(EventFit(given, event.action, event.uid, event.t, event.t + d, window,
                             seen, explained))
        if d:
            times[given] = event.t + d
            current, order = _with_times(scenario, times)
    return current, tuple(fits)


@dataclass(frozen=True)
class Freeze:
    """A test stream's code seen to stop advancing.

    Parameters
    ----------
    t : float
        Scenario time of the first frame showing the frozen code.
    frame : int
        The frozen code's frame number.
    before : int
        The code read in the frame just before (the last live frame).
    before_t : float
        That frame's scenario time.
    """

    t: float
    frame: int
    before: int
    before_t: float


def freeze_onset(t: npt.NDArray[np.float64], frames: npt.NDArray[np.int64], *,
                 hold: int = 4) -> Freeze | None:
    """Find the first freeze in readings of one user's code.

    A freeze is the first run of more than ``hold`` equal frame numbers (over no gap) after
    a different reading.

    When the run's first reading continues the live count (1 to 3 frames on), it is the
    last live frame and the freeze shows from the next frame on; otherwise the frozen
    picture is another frame, shown from the run's start (``frame`` != ``before``).

    Parameters
    ----------
    t : ndarray
        Scenario times of the frames whose code was read as the user's, increasing.
    frames : ndarray
        The frame numbers read.
    hold : int
        Repeats a frozen code shows at least (more than a slow publisher repeats a frame
        at the canvas rate).

    >>> t = np.arange(10) / 10
    >>> freeze_onset(t, np.array([5, 6, 7, 8, 8, 8, 8, 8, 8, 8]))
    Freeze(t=0.4, frame=8, before=8, before_t=0.3)
    >>> freeze_onset(t, np.array([5, 6, 7, 2, 2, 2, 2, 2, 2, 2]))
    Freeze(t=0.3, frame=2, before=7, before_t=0.2)
    >>> freeze_onset(t, np.arange(10)) is None
    True
    """
    if t.size <= hold + 1:
        return None
    step = float(np.median(np.diff(t)))
    for j in range(1, t.size - hold):
        run = frames[j:j + hold + 1]
        if frames[j - 1] == frames[j] or not (run == frames[j]).all() or \
                (np.diff(t[j - 1:j + hold + 1]) > 1.5 * step + 1e-9).any():
            continue
        if 1 <= (int(frames[j]) - int(frames[j - 1])) % CODE_PERIOD_FRAMES <= 3:
            return Freeze(float(t[j + 1]), int(frames[j]), int(frames[j]), float(t[j]))
        return Freeze(float(t[j]), int(frames[j]), int(frames[j - 1]), float(t[j - 1]))
    return None


def observed_freezes(scenario: Scenario, exp: Expectation, data: FrameData, *,
                     tolerance: Fraction) -> dict[int, Freeze]:
    """Find the freeze each stop event's test stream shows, by event index.

    A freeze: its code, read where the user was live just before the event, stops
    advancing; looked for from :data:`SEARCH_BEYOND_S` before to after the event's window.
    """
    scenario_t = data.times - data.offsets
    out: dict[int, Freeze] = {}
    for i, event in enumerate(scenario.events):
        key = _live_code_key(exp, event) if event.action in _STOPS else None
        if key is None or event.uid not in data.uid_names:
            continue
        reach = float(_tolerance(event, tolerance) + SEARCH_BEYOND_S)
        rows = np.nonzero((np.abs(scenario_t - float(event.t)) <= reach)
                          & (data.code_uids[:, key] == data.uid_names.index(event.uid)))[0]
        found = freeze_onset(scenario_t[rows], data.code_frames[rows, key].astype(np.int64))
        if found is not None:
            out[i] = found
    return out


def _live_code_key(exp: Expectation, event: Event) -> int | None:
    """Return the code key of the event's user, live just before the event, if readable."""
    p = int(np.searchsorted(exp.starts, float(event.t), side="left")) - 1
    if p < 0:
        return None
    for reg in exp.periods[p].regions:
        if reg.label == (event.uid, DisplayState.LIVE) and reg.kind == "code_live":
            return reg.code_key
    return None


def frozen_picture_difference(fit: EventFit, freeze: Freeze) -> Difference | None:
    """Return a difference for a freeze on another picture than the last live frame.

    The last live frame is the code read just before the freeze; the difference names both
    frame numbers.

    >>> fit = EventFit(0, "mute_video", "22", Fraction(3), Fraction(3), Fraction(1))
    >>> frozen_picture_difference(fit, Freeze(3.0, 30, 44, 2.933)).message
    'uid 22 froze at 3.00 s on frame 30, not on its last live frame 44 (read at 2.93 s)'
    """
    off = (freeze.frame - freeze.before) % CODE_PERIOD_FRAMES
    if min(off, CODE_PERIOD_FRAMES - off) <= 1:
        return None
    msg = (f"uid {fit.uid} froze at {freeze.t:.2f} s on frame {freeze.frame}, not on its "
           f"last live frame {freeze.before} (read at {freeze.before_t:.2f} s)")
    return Difference("wrong_state", msg, uid=fit.uid, t=freeze.t,
                      expected={"state": DisplayState.LAST_FRAME, "frame": freeze.before},
                      observed={"state": DisplayState.LAST_FRAME, "frame": freeze.frame})


def named_by(diff: Difference, named: Sequence[Difference]) -> bool:
    """Tell whether ``diff`` is a run of a frozen picture that another difference named.

    Named by :func:`frozen_picture_difference`: the user's last frame, another frame than
    expected, within 3.5 s of the freeze.

    >>> frozen = Difference("wrong_state", "", uid="22", t=3.0, observed={"frame": 30})
    >>> run = Difference("wrong_state", "", uid="22", t=3.0,
    ...                  expected={"uid": "22", "state": "last_frame"},
    ...                  observed={"uid": "22", "state": "last_frame", "until": 6.6})
    >>> named_by(run, [frozen]), named_by(run, [])
    (True, False)
    """
    seen = diff.observed if isinstance(diff.observed, dict) else {}
    if diff.kind != "wrong_state" or diff.t is None or \
            seen.get("state") != DisplayState.LAST_FRAME or \
            diff.expected != {"uid": diff.uid, "state": DisplayState.LAST_FRAME}:
        return False
    return any(n.uid == diff.uid and n.t is not None and isinstance(n.observed, dict)
               and "frame" in n.observed and -0.2 <= diff.t - n.t <= float(VIDEO_STOP_GRACE)
               for n in named)


def _with_times(scenario: Scenario, times: Sequence[Fraction]) -> tuple[Scenario, list[int]]:
    """Return ``scenario`` with its events at ``times``, and where each event came from.

    The events are re-sorted stably; the list gives the given index of each event of the
    result.  A user's late join (``users[i].join``) moves with its event.
    """
    order = sorted(range(len(times)), key=lambda i: times[i])
    events = tuple(replace(scenario.events[i], t=times[i]) for i in order)
    moved = {e.uid: times[i] for i, e in enumerate(scenario.events)
             if e.action == "join" and e.t != times[i]}
    users = tuple(replace(u, join=moved[u.uid]) if u.join > 0 and u.uid in moved else u
                  for u in scenario.users)
    return replace(scenario, events=events, users=users), order


@dataclass(frozen=True)
class FrameData:
    """The observations a cost scores: aligned frames and their codes.

    ``observed`` holds the frames (recording times, cells, codes), ``offsets`` the
    alignment per frame (scenario time = time - offset), ``joins`` each user's first join
    (fixed while fitting: a test stream's own clock is judged by the shifts found later,
    not by a join's fitted time), ``rates`` each publisher's, ``range_mixup`` the
    recording's.
    """

    observed: Observed
    offsets: npt.NDArray[np.float64]
    joins: Mapping[str, float]
    rates: Mapping[str, float]
    range_mixup: str | None = None

    @property
    def times(self) -> npt.NDArray[np.float64]:
        """Recording time of each frame (seconds from the first frame)."""
        return self.observed.times

    @property
    def code_uids(self) -> npt.NDArray[np.int32]:
        """Per frame and code key: the uid index into :attr:`uid_names` read (-1: unread)."""
        return self.observed.code_uids

    @property
    def code_frames(self) -> npt.NDArray[np.int32]:
        """Per frame and code key: the frame number read."""
        return self.observed.code_frames

    @property
    def uid_names(self) -> tuple[str, ...]:
        """Code uid index -> uid."""
        return self.observed.uid_names


def _scratch(sampler: FrameSampler) -> FrameSampler:
    """Copy ``sampler`` so that new keys do not reach ``sampler`` (the arrays are shared)."""
    scratch = replace(sampler, desc_keys=dict(sampler.desc_keys), code_keys=dict(sampler.code_keys),
                      uids=dict(sampler.uids), _cells=list(sampler._cells),
                      _valid=list(sampler._valid), _frozen=False)
    scratch.cell_slice(scratch.canvas_key)  # its cell offsets, as observed
    return scratch


def classify_cost(data: FrameData, sampler: FrameSampler, renderer: SceneRenderer, *,
                  tol: int) -> Cost:
    """Make a :data:`Cost` that counts the mismatching region-frames of a candidate.

    It rebuilds the expectation of the candidate scenario and counts the region-frames of
    the span that :func:`~layoutkit.comparison.classify.classify` finds mismatching.

    The candidate is drawn by ``renderer`` retimed (its sources shared), each scene once
    for all candidates; the expectation's keys are registered in a copy of ``sampler``.  A
    candidate that needs a region the frames were not observed in (a scene no shift of the
    given scenario's events made) is impossible (None), as is one whose events do not fit
    who is in the channel.
    """
    scenario_t = data.times - data.offsets
    size = (len(sampler.desc_keys), len(sampler.code_keys))
    drawn: dict[Hashable, Any] = {}
    judging = Judging(tol, name=False, rates=data.rates, range_mixup=data.range_mixup)
    # video files' regions are checked as the rules check them (their frames drawn once for
    # all candidates): a reflow only a file region shows is fitted where it is seen
    files = FileFrames(renderer, sampler)
    # a real person's region matches any picture: its joins and leaves are seen on the
    # canvas outside the regions
    people = bool(person_uids(renderer.scenario))
    memos: dict[tuple[Fraction, Fraction], Judging] = {}  # per span: the same frames

    def cost(candidate: Scenario, span: tuple[Fraction, Fraction]) -> int | None:
        rows = np.nonzero((scenario_t >= float(span[0])) & (scenario_t < float(span[1])))[0]
        if rows.size == 0:
            return 0
        scratch = _scratch(sampler)
        try:
            exp = build_expectation(candidate, scratch, profile=renderer.profile,
                                    renderer=renderer.retimed(candidate),
                                    options=ExpectOptions(candidates=False, drawn=drawn,
                                                          span=span, files=files))
        except ScenarioError:
            return None
        if (len(scratch.desc_keys), len(scratch.code_keys)) != size:
            return None  # a region the frames were not observed in: not a candidate
        taken = data.observed.take(rows)
        judged = memos.setdefault(span, replace(judging, memo=BackgroundMemo()))
        found = classify(exp, scratch, taken, offset=data.offsets[rows], joins=data.joins,
                         judging=judged)
        around = background_misses(exp, scratch, taken, data.offsets[rows], data.range_mixup,
                                   judged.memo) if people else 0
        return around + int(sum(int((~ro.match).sum()) for ro in found)) + sum(
            _inexact_freeze(ro, data.code_uids[rows], data.code_frames[rows], data.rates,
                            exp.fps) for ro in found)

    return cost


def _inexact_freeze(ro: RegionObservation, code_uids: npt.NDArray[np.int32],
                    code_frames: npt.NDArray[np.int32], rates: Mapping[str, float],
                    fps: int) -> int:
    """Count frames of a frozen test stream whose code reads one frame off the frozen frame.

    Only at the canvas rate.  A match for the rules (within one frame), but not for
    fitting: the frozen frame pins the stop to one canvas frame, so a fault after the event
    (e.g. no canvas after the 3.5 s) cannot pull the fit by a frame.
    """
    reg = ro.expect
    who = reg.label[0] or ""
    if reg.kind != "code_frozen" or reg.code_key is None or rates.get(who, fps) != fps:
        return 0
    read = code_uids[ro.frames, reg.code_key] >= 0
    off = code_frames[ro.frames, reg.code_key] % CODE_PERIOD_FRAMES != (reg.frozen_frame or 0)
    return int((ro.match & read & off).sum())


# --- the fit-events stage of the content check ----------------------------------------------
@dataclass(frozen=True)
class FittedEvents:
    """What the recording is judged against after fitting (stage 3).

    Attributes
    ----------
    plan : Plan
        The plan of the scenario with every event at its fitted time (the given plan itself
        when no event moved; else a new one, its renderer to be closed by the caller).
    fits : tuple of EventFit
        One per picture event (index into the given scenario's events).
    differences : tuple of Difference
        Events no time in their window explains, freezes on another picture than the last
        live frame (:func:`event_difference`, :func:`frozen_picture_difference`).
    kept : tuple of KeptLayout
        Leaves after which the recording kept the layout from before
        (:func:`~layoutkit.comparison.leaves.keep_layouts`; their fits dated where the
        user's picture went).
    """

    plan: Plan
    fits: tuple[EventFit, ...] = ()
    differences: tuple[Difference, ...] = ()
    kept: tuple[KeptLayout, ...] = ()

    @property
    def expectation(self) -> Expectation:
        """The expectation at the fitted event times."""
        return self.plan.expectation


def fit_observed(plan: Plan, observed: Observed, alignment: Alignment, *, tol: int,
                 tolerance: Fraction) -> FittedEvents:
    """Fit each event's time in its window on the aligned observations (stage 3).

    By :func:`fit_events`, a test stream's observed freeze first; when one moved, the plan
    is rebuilt for the fitted scenario (:meth:`~layoutkit.comparison.plan.Plan.retimed`:
    the sampler and its keys kept).
    """
    data = FrameData(observed, alignment.offsets, dict(plan.joins), alignment.rates,
                     alignment.mixup)
    cost = classify_cost(data, plan.sampler, plan.renderer, tol=tol)
    step = Fraction(1, plan.expectation.fps)
    freezes = observed_freezes(plan.scenario, plan.expectation, data, tolerance=tolerance)
    fitted, fits = fit_events(plan.scenario, cost, step=step, tolerance=tolerance,
                              seen_at={i: Fraction(f.t) for i, f in freezes.items()})
    found = [event_difference(fit) for fit in fits]
    found += [frozen_picture_difference(fit, freezes[fit.index]) for fit in fits
              if fit.index in freezes]
    differences = tuple(d for d in found if d is not None)
    return FittedEvents(plan if fitted == plan.scenario else plan.retimed(fitted), fits,
                        differences)
