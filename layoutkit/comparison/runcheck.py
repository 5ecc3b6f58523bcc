"""Check stage, runs: each run of mismatching frames becomes a difference, or is tolerated.

* A run next to an expected change whose region shows the old state (or already the new
  one), and then (before) the expected one, is a ``late_transition`` / ``early_transition``
  when it lasts more than the transition tolerance, else nothing.
* Any other run is a difference when it lasts more than ``min_frames`` frames, named by
  what was expected and what was seen (:func:`difference_kind`): each part of the run that
  showed one thing, in time order (``observed["parts"]``, :func:`~.runs.run_parts`), another
  user as "uid 22 where uid 11 should be" (two regions showing each other's users at
  overlapping times: "uid 11 and uid 22 swapped", :func:`swapped_runs`), a user who left
  (:class:`Departure`, from the fitted events) as "uid 44 still shown ... after leaving at
  ...".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..timeline import DisplayState
from .expect import Label
from .findings import Anchor, Finding
from .model import Difference, NoUser
from .runs import Run, Runs, Track, TrackKey

__all__ = ["Departure", "JudgedRuns", "describe", "describe_user", "difference_kind",
           "judge_runs", "run_message", "state_name", "swapped_runs"]

_STATE_NAMES: dict[str, str] = {  # RegionState -> words
    DisplayState.LIVE: "live", DisplayState.LAST_FRAME: "last frame",
    DisplayState.BLACK: "black", DisplayState.CANVAS_COLOR: "canvas colour",
    DisplayState.CANVAS_BACKGROUND: "canvas background", DisplayState.USER_IMAGE: "user image",
    NoUser.EMPTY: "empty", NoUser.UNKNOWN: "an unrecognised picture"}
_BACKGROUNDISH = (DisplayState.CANVAS_COLOR, DisplayState.CANVAS_BACKGROUND, NoUser.EMPTY)
#: What a region without a picture shows.
_NO_PICTURE = (DisplayState.BLACK, DisplayState.CANVAS_COLOR, DisplayState.CANVAS_BACKGROUND,
               DisplayState.USER_IMAGE)


@dataclass(frozen=True)
class Departure:
    """A user who left, and until when they are away.

    They left at (fitted) time ``t`` (the scenario's ``scenario_t``) and are away until
    ``until`` (a later join, or infinity).
    """

    uid: str
    t: float
    scenario_t: float
    until: float = math.inf

    def at(self) -> str:
        """``at 8.00 s``, with the scenario's time when the fitted one differs.

        >>> Departure("44", 8.0, 8.0).at(), Departure("44", 8.2, 8.0).at()
        ('at 8.00 s', 'at 8.20 s (scenario 8.00 s)')
        """
        scenario = "" if abs(self.t - self.scenario_t) < 0.005 else \
            f" (scenario {self.scenario_t:.2f} s)"
        return f"at {self.t:.2f} s{scenario}"


@dataclass(frozen=True)
class JudgedRuns:
    """The runs that are differences (in run order), and how many were tolerated."""

    findings: tuple[Finding, ...]
    glitches: int


def state_name(label: tuple[str | None, str]) -> str:
    """Name a label's state in words (a ``RegionState`` or its value).

    >>> state_name(("22", "last_frame")), state_name((None, "canvas_color"))
    ('last frame', 'canvas colour')
    """
    return _STATE_NAMES.get(label[1], label[1])


def describe(label: Label) -> str:
    """Describe a label in words.

    >>> describe(("22", "live")), describe((None, "black"))
    ('uid 22 live', 'black')
    """
    who = label[0]
    return state_name(label) if who is None else f"uid {who} {state_name(label)}"


def describe_user(label: Label, files: Mapping[str, str]) -> str:
    """:func:`describe`, a video-file user (``files``: uid -> file name) with its file.

    >>> describe_user(("44", "live"), {"44": "clip.mp4"}), describe_user((None, "black"), {})
    ('uid 44 live (video file clip.mp4)', 'black')
    """
    who = label[0]
    return describe(label) + (f" (video file {files[who]})" if who is not None and who in files
                              else "")


def difference_kind(expected: Label, observed: Label) -> str:
    """Name the kind of difference a region showing ``observed`` instead of ``expected`` is.

    >>> difference_kind(("1", "live"), ("2", "live"))
    'wrong_user'
    >>> difference_kind(("1", "live"), (None, "black"))
    'missing_user'
    >>> difference_kind((None, "canvas_color"), (None, "unknown"))
    'wrong_background'
    >>> difference_kind(("1", "canvas_background"), (None, "black"))
    'wrong_background'
    """
    ew, es = expected
    ow, os_ = observed
    if os_ == NoUser.UNKNOWN:
        return "wrong_background" if es in _BACKGROUNDISH else "wrong_state"
    if ew is None:
        return "extra_user" if ow is not None else "wrong_state"
    if ow is not None and ow != ew:
        return "wrong_user"
    if ow is None and es in (DisplayState.LIVE, DisplayState.LAST_FRAME):
        return "missing_user"
    if ow is None and es in (*_BACKGROUNDISH, DisplayState.USER_IMAGE) and os_ in _NO_PICTURE:
        return "wrong_background"  # one background where another was due
    return "wrong_state"


def _transition(kind: str, run: Run, expected_t: float, seen_t: float,
                change: tuple[Label, Label]) -> Difference:
    """Report a ``late_transition`` / ``early_transition``.

    The change from ``before`` to ``after`` (``change``) is seen at ``seen_t`` instead of
    ``expected_t``.
    """
    before, after = change
    uid = after[0] or before[0]
    return Difference(kind,
                      f"uid {uid}: {state_name(before)} -> {state_name(after)} at "
                      f"{seen_t:.2f} s, expected {expected_t:.2f} s", uid=uid, t=expected_t,
                      expected={"t": round(expected_t, 3), "from": before[1], "to": after[1]},
                      observed={"t": round(seen_t, 3)}, region=run.region)


def _at_change(run: Run, track: Track, tol_s: float) -> tuple[bool, Difference | None]:
    """Tell whether the run lies at one of the track's expected changes.

    When it does, also its transition difference (None: on time, tolerated).
    """
    t = track.t
    ends_right = track.follows(run.i1, 2.5 * tol_s)
    starts_right = run.i0 > 0 and bool(track.match[run.i0 - 1]) and \
        t[run.i0] - t[run.i0 - 1] <= 2.5 * tol_s
    for change in track.changes:
        c, after = change.t, change.after
        before = change.before
        if before is None:  # the region appears: what it showed first stands for "before"
            before = run.observed if abs(run.t0 - c) <= tol_s else None
        if before is None:
            continue
        if abs(run.t0 - c) <= tol_s and run.observed == before and ends_right:
            seen = float(t[run.i1 + 1])
            return True, None if seen - c <= tol_s else \
                _transition("late_transition", run, c, seen, (before, after))
        if abs(run.t1 - c) <= tol_s and run.observed == after and starts_right:
            return True, None if c - run.t0 <= tol_s else \
                _transition("early_transition", run, c, run.t0, (before, after))
    return False, None


def _who(label: Label, files: Mapping[str, str]) -> str:
    """Name a user by uid, with its state when not live (and its video file).

    >>> _who(("22", "live"), {}), _who(("22", "last_frame"), {"22": "a.mp4"})
    ('uid 22', 'uid 22 last frame (video file a.mp4)')
    """
    who = label[0]
    text = f"uid {who}" if label[1] == DisplayState.LIVE else describe(label)
    return text + (f" (video file {files[who]})" if who is not None and who in files else "")


def _departure(run: Run, away: Sequence[Departure], tol_s: float) -> Departure | None:
    """Find the departure of the user the run shows, when it shows one who had left."""
    return next((d for d in away if d.uid == run.observed[0] and d.t <= run.t0 + tol_s
                 and run.t0 < d.until), None)


def run_message(run: Run, files: Mapping[str, str], left: Departure | None = None, *,
                swapped: bool = False) -> str:
    """Say what a run showed in words.

    A user who had left, each of its parts, or the one thing it showed (another user:
    "uid 22 where uid 11 should be", ``swapped``: with "(uid 11 and uid 22 swapped)").
    """
    times = f"from {run.t0:.2f} s to {run.t1:.2f} s"
    if left is not None:
        subject = f"uid {left.uid}" if run.observed[1] == DisplayState.LIVE else \
            f"uid {left.uid}'s {state_name(run.observed)}"
        where = f"region {run.region}" + ("" if run.expected[0] is None else
                                          f" where {_who(run.expected, files)} should be")
        return (f"{subject} still shown {run.t0:.2f}-{run.t1:.2f} s after leaving "
                f"{left.at()}, in {where}")
    if len(run.parts) > 1:
        seen = ", ".join(f"{describe_user(p.label, files)} {p.t0:.2f}-{p.t1:.2f} s"
                         for p in run.parts)
        return f"region {run.region}: {seen}; expected {describe_user(run.expected, files)}"
    if difference_kind(run.expected, run.observed) != "wrong_user":
        return (f"region {run.region}: {describe_user(run.observed, files)} {times}, "
                f"expected {describe_user(run.expected, files)}")
    pair = " and ".join(sorted(f"uid {u}" for u in (run.expected[0], run.observed[0])))
    return (f"region {run.region}: {_who(run.observed, files)} where "
            f"{_who(run.expected, files)} should be, {times}" +
            (f" ({pair} swapped)" if swapped else ""))


def run_difference(run: Run, track: Track, tol_s: float, min_frames: int, *,
                   words: Callable[[Run], str] | None = None) -> Difference | None:
    """Return the difference a mismatching run stands for, or None when within tolerance.

    ``words`` gives the run's message, by default :func:`run_message` without names of
    files, departures or swaps.
    """
    at_change, timed = _at_change(run, track, tol_s)
    if at_change:
        return timed
    if run.i1 - run.i0 + 1 <= min_frames:
        return None
    kind = difference_kind(run.expected, run.observed)
    msg = (words or (lambda r: run_message(r, {})))(run)
    uid = run.expected[0] if run.expected[0] is not None else run.observed[0]
    return Difference(kind, msg, uid=uid, t=run.t0,
                      expected={"uid": run.expected[0], "state": run.expected[1]},
                      observed={"uid": run.observed[0], "state": run.observed[1],
                                "until": round(run.t1, 3),
                                "parts": [p.to_json() for p in run.parts]},
                      region=run.region)


def swapped_runs(runs: Sequence[Run]) -> set[int]:
    """Find the runs that show two users swapped.

    Returns the indices of the runs of one part that show another user where a run of
    another region shows this one's expected user the other way round, at an overlapping
    time.

    >>> from layoutkit.comparison.runs import Part
    >>> def run(r, e, o):
    ...     return Run((r, (0, 0, 1, 1)), 0, 9, 0.0, 4.0, (o, "live"), (e, "live"), 0, r, e,
    ...                (Part((o, "live"), 0.0, 4.0),))
    >>> sorted(swapped_runs([run(0, "11", "22"), run(1, "22", "11"), run(2, "33", "11")]))
    [0, 1]
    """
    users = [(r.expected[0], r.observed[0]) if len(r.parts) <= 1 and
             difference_kind(r.expected, r.observed) == "wrong_user" else None for r in runs]
    return {i for i, (a, pair) in enumerate(zip(runs, users, strict=True))
            if pair is not None and any(
                other == pair[::-1] and b.region != a.region and b.t0 < a.t1 and a.t0 < b.t1
                for b, other in zip(runs, users, strict=True))}


def judge_runs(runs: Runs, *, tol_s: float, min_frames: int,
               files: Mapping[str, str] | None = None,
               away: Sequence[Departure] = ()) -> JudgedRuns:
    """Judge the runs (a check stage): their differences, anchored on each run's frame.

    ``files``: uid -> file name of the video-file users, named in the messages; ``away``:
    users who left, named as still shown where they still are; swaps are named
    (:func:`swapped_runs`).
    """
    tracks: Mapping[TrackKey, Track] = runs.tracks
    found: list[Finding] = []
    glitches = 0
    swapped = swapped_runs(runs.runs)
    for i, run in enumerate(runs.runs):
        def words(r: Run, i: int = i) -> str:
            return run_message(r, files or {}, _departure(r, away, tol_s), swapped=i in swapped)

        diff = run_difference(run, tracks[run.track], tol_s, min_frames, words=words)
        if diff is None:
            glitches += 1
            continue
        found.append(Finding(diff, Anchor(run.frame, run.t0, run.t1)))
    return JudgedRuns(tuple(found), glitches)
