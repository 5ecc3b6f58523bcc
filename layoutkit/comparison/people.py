"""Stage 3b, people: real people's video stops and starts, read from the recording.

A ``source: "unknown"`` user (a real person, e.g. a scenario rebuilt by ``scenario
from-events``) has a picture compare cannot predict, and Agora reports no event when such a
user stops or starts video.  So their video states are read from the pictures, on the
aligned observations and the plan at the fitted event times (:func:`read_people`):

* each person's region is, per frame, a background (black, canvas colour, canvas
  background, the user's image: :func:`~layoutkit.comparison.classify.background_frames`),
  a frozen picture (a span of :func:`~layoutkit.comparison.stillness.still_spans`, which
  never calls camera content frozen) or a live picture
  (:func:`~layoutkit.comparison.classify.picture_states`);
* a freeze starting on frame ``f`` is a stop one frame after ``f`` (the frozen picture is
  the last live frame); a background not preceded by a freeze is a stop at its first frame;
  a live picture after a freeze or a background is a restart (:func:`video_events`);
* these become ``mute_video`` / ``unmute_video`` events of the scenario, exact (they come
  from the pictures, on the canvas frame grid), and the plan is rebuilt with them, so the
  rules judge what follows: 3.5 s of last frame then the user's image or the canvas
  background (native, Web 4.x; ``after_stop``), black or the canvas colour at once (Web 3.x).
  A user whose scenario already has video events keeps them (nothing is inferred).

**Canvas only** (:func:`canvas_only`): when every person's region shows only backgrounds
while the scenario has them in the channel, the pictures cannot tell a camera that was off
from the known layout failure (a string user account where ``layoutConfig`` wants integer
uids, a misplaced ``transcodingConfig``).  The recorder's report that it received video
(``video_reports``: NCS event 44, ``state`` 0, for the mixed stream ``"0"`` or the user)
decides: with one each such user is ``missing_user``; without one a warning names both
readings.  Such a recording shows none of their joins and leaves: the events keep their
scenario times (:func:`shows_only_canvas`, before fitting).

:func:`explain_stops` words the differences of a stop's aftermath after the 3.5 s rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..errors import ScenarioError
from ..scenario import Event, Scenario, VideoReport, presence_problems
from ..timeline import VIDEO_STOP_GRACE, DisplayState
from .classify import (
    PICTURE_BACKGROUND,
    PICTURE_FROZEN,
    PICTURE_LIVE,
    background_frames,
    picture_states,
    region_motion,
)
from .expect import person_uids
from .findings import Finding
from .frames import Observed
from .model import Difference, NoUser
from .runcheck import state_name

if TYPE_CHECKING:
    from .alignment import Alignment
    from .plan import Plan

__all__ = ["CANVAS_ONLY_SHARE", "MIN_RUN_FRAMES", "People", "PersonTrack", "canvas_only",
           "explain_stops", "person_tracks", "read_people", "shows_only_canvas", "video_events"]

#: A background or a live picture counts as a stop or a restart when it lasts this many
#: frames (a shorter one is a glitch, which the runs tolerate too).
MIN_RUN_FRAMES = 3
#: A recording shows "only the canvas" for a person when this share of its frames do.
CANVAS_ONLY_SHARE = 0.98
_VIDEO_ACTIONS = ("mute_video", "unmute_video", "unpublish_video", "publish_video")
_BACKGROUNDS = (DisplayState.BLACK, DisplayState.CANVAS_COLOR, DisplayState.CANVAS_BACKGROUND,
                DisplayState.USER_IMAGE, NoUser.EMPTY)


@dataclass(frozen=True)
class PersonTrack:
    """What one person's region showed, frame by frame, while the plan displays them.

    ``frames`` index the observations (increasing), ``t`` their scenario times, ``states``
    :data:`~layoutkit.comparison.classify.PICTURE_BACKGROUND` / ``_LIVE`` / ``_FROZEN``, and
    ``looks`` the nearest background's state name per frame.
    """

    uid: str
    frames: npt.NDArray[np.intp]
    t: npt.NDArray[np.float64]
    states: npt.NDArray[np.int8]
    looks: tuple[str, ...]

    def background_share(self) -> float:
        """Return the share of frames that show a background (0 without frames)."""
        return float(np.mean(self.states == PICTURE_BACKGROUND)) if self.states.size else 0.0


@dataclass(frozen=True)
class People:
    """What stage 3b read.

    The plan judged from here on, the events it added, the tracks, and the canvas-only
    findings (differences and warnings).
    """

    plan: Plan
    inferred: tuple[Event, ...] = ()
    tracks: Mapping[str, PersonTrack] | None = None
    differences: tuple[Difference, ...] = ()
    warnings: tuple[Difference, ...] = ()


def person_tracks(plan: Plan, observed: Observed, alignment: Alignment
                  ) -> dict[str, PersonTrack]:
    """Read, per person displayed somewhere, the states of its region over the frames showing it.

    :func:`~layoutkit.comparison.classify.picture_states` runs over all of them at once, so
    a freeze runs across period changes.
    """
    exp, sampler = plan.expectation, plan.sampler
    t_all = observed.times - alignment.offsets
    period = np.searchsorted(exp.starts, t_all, side="right") - 1
    period[(t_all < 0) | (t_all >= exp.end)] = -1
    parts: dict[str, list[tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_],
                                npt.NDArray[np.float32], list[str]]]] = {}
    for p, expected in enumerate(exp.periods):
        frames = np.nonzero(period == p)[0]
        for reg in expected.regions if frames.size else ():
            if reg.kind != "person" or reg.label[0] is None:
                continue
            bg, nearest = background_frames(reg, sampler, observed.cells[frames], alignment.mixup)
            parts.setdefault(reg.label[0], []).append(
                (frames, bg, region_motion(reg, sampler, observed, frames),
                 [reg.backgrounds[int(i)][0][1] for i in nearest]))
    tracks = {}
    for uid, items in parts.items():
        frames = np.concatenate([i[0] for i in items])
        order = np.argsort(frames, kind="stable")
        frames = frames[order]
        bg = np.concatenate([i[1] for i in items])[order]
        motion = np.concatenate([i[2] for i in items])[order]
        looks = [look for i in items for look in i[3]]
        keys = None if observed.keys is None else observed.keys[frames]
        states = picture_states(bg, motion, observed.times[frames], keys)
        tracks[uid] = PersonTrack(uid, frames, t_all[frames], states,
                                  tuple(looks[int(k)] for k in order))
    return tracks


def _runs(states: npt.NDArray[np.int8]) -> list[tuple[int, int, int]]:
    """``(state, first, last)`` of each run of equal states.

    >>> _runs(np.array([1, 1, 2, 0, 0], np.int8))
    [(1, 0, 1), (2, 2, 2), (0, 3, 4)]
    """
    edges = np.flatnonzero(np.diff(states)) + 1
    starts = [0, *edges.tolist()]
    ends = [*(edges - 1).tolist(), len(states) - 1]
    return [(int(states[a]), a, b) for a, b in zip(starts, ends, strict=True) if len(states)]


def _segments(frames: npt.NDArray[np.intp]) -> list[slice]:
    """Stretches of consecutive observations (a person who left and came back: two)."""
    cuts = (np.flatnonzero(np.diff(frames) > 1) + 1).tolist()
    bounds = [0, *cuts, len(frames)]
    return [slice(a, b) for a, b in pairwise(bounds) if b > a]


def _grid(t: float, fps: int, *, later: int = 0) -> Fraction:
    """``t`` on the canvas frame grid, ``later`` frames on."""
    return Fraction(round(t * fps) + later, fps)


def video_events(track: PersonTrack, fps: int) -> list[Event]:
    """Read the stops and restarts a person's region shows, in time order.

    They are ``mute_video`` / ``unmute_video`` events, exact (tolerance 0).

    >>> t = np.arange(12) / 2
    >>> states = np.array([1, 1, 2, 2, 2, 0, 0, 0, 1, 1, 1, 1], np.int8)
    >>> tr = PersonTrack("22", np.arange(12), t, states, ("",) * 12)
    >>> [(float(e.t), e.action) for e in video_events(tr, 2)]
    [(1.5, 'mute_video'), (4.0, 'unmute_video')]
    """
    out: list[Event] = []
    for part in _segments(track.frames):
        flowing = True
        t = track.t[part]
        for state, first, last in _runs(track.states[part]):
            long = last - first + 1 >= MIN_RUN_FRAMES
            if flowing and state == PICTURE_FROZEN:
                at = _grid(float(t[first]), fps, later=1)
            elif long and state == (PICTURE_BACKGROUND if flowing else PICTURE_LIVE):
                at = _grid(float(t[first]), fps)  # a background stops, a live picture restarts
            else:
                continue
            flowing = not flowing
            out.append(Event(at, "unmute_video" if flowing else "mute_video", track.uid,
                             tolerance=Fraction(0)))
    return out


def _with_events(scenario: Scenario, added: Sequence[Event]) -> Scenario:
    """``scenario`` with ``added`` among its events (after its own at equal times)."""
    events = sorted([*scenario.events, *added], key=lambda e: e.t)
    return replace(scenario, events=tuple(events))


def _inferred(scenario: Scenario, tracks: Mapping[str, PersonTrack], fps: int) -> list[Event]:
    """Gather every person's read stops and restarts that fit who is in the channel.

    A person whose scenario has video events keeps them.
    """
    given = {e.uid for e in scenario.events if e.action in _VIDEO_ACTIONS}
    added: list[Event] = []
    for uid in person_uids(scenario):
        if uid in given or uid not in tracks:
            continue
        mine = [e for e in video_events(tracks[uid], fps) if e.t < scenario.duration]
        if mine and not presence_problems(scenario.users,
                                          _with_events(scenario, [*added, *mine]).events):
            added += mine
    return added


def _report(reports: Sequence[VideoReport], uid: str) -> VideoReport | None:
    """Return the first report of video received for the mixed stream or ``uid``."""
    return next((r for r in reports if r.state == 0 and r.stream in ("0", uid)), None)


def _looks_words(looks: Sequence[str]) -> str:
    """Name the backgrounds seen, most common first, in words."""
    return " and ".join(state_name((None, k)) for k, _ in Counter(looks).most_common(2))


def _only_backgrounds(tracks: Mapping[str, PersonTrack]) -> list[PersonTrack]:
    """Return the displayed people's tracks when every one shows only backgrounds, else none."""
    shown = [tr for tr in tracks.values() if tr.frames.size]
    if any(tr.background_share() < CANVAS_ONLY_SHARE for tr in shown):
        return []
    return shown


def shows_only_canvas(plan: Plan, observed: Observed, alignment: Alignment) -> bool:
    """Tell whether every real person's region shows only backgrounds.

    This is :func:`canvas_only`'s test: the recording then shows none of their joins and
    leaves, so no event is fitted on it.
    """
    return bool(person_uids(plan.scenario)) and \
        bool(_only_backgrounds(person_tracks(plan, observed, alignment)))


def canvas_only(scenario: Scenario, tracks: Mapping[str, PersonTrack]
                ) -> tuple[tuple[Difference, ...], tuple[Difference, ...]]:
    """Report a recording whose people's regions show only backgrounds.

    Returns ``(differences, warnings)`` when every displayed person's region shows only
    backgrounds (at least :data:`CANVAS_ONLY_SHARE` of its frames), else nothing.

    With a video report for the user (:func:`_report`), a ``missing_user`` per person;
    without, one ``canvas_only`` warning naming both readings.
    """
    shown = _only_backgrounds(tracks)
    if not shown:
        return (), ()
    missing, unreported = [], []
    for tr in shown:
        report = _report(scenario.video_reports, tr.uid)
        if report is None:
            unreported.append(tr)
            continue
        words = _looks_words(tr.looks)
        missing.append(Difference(
            "missing_user",
            f"uid {tr.uid} is in the channel and the recorder reported receiving video (NCS "
            f"event 44 at {float(report.t):.2f} s), but its region shows only the {words} "
            f"from {tr.t[0]:.2f} s to {tr.t[-1]:.2f} s",
            uid=tr.uid, t=float(tr.t[0]), expected={"uid": tr.uid, "state": DisplayState.LIVE},
            observed={"state": Counter(tr.looks).most_common(1)[0][0],
                      "until": round(float(tr.t[-1]), 3),
                      "video_report_t": round(float(report.t), 3)}))
    warnings: tuple[Difference, ...] = ()
    if unreported:
        uids = ", ".join(tr.uid for tr in unreported)
        words = _looks_words([k for tr in unreported for k in tr.looks])
        warnings = (Difference(
            "canvas_only",
            f"the regions of uid {uids} show only the {words} while the scenario has them in "
            "the channel, and no video report (NCS event 44) says the recorder received "
            "video: either every camera was off, or the known layout failure (a string user "
            "account where layoutConfig wants integer uids, or a misplaced transcodingConfig)",
            uid=unreported[0].uid if len(unreported) == 1 else None,
            t=min(float(tr.t[0]) for tr in unreported),
            expected={"uids": [tr.uid for tr in unreported], "state": DisplayState.LIVE},
            observed={"state": Counter(k for tr in unreported
                                       for k in tr.looks).most_common(1)[0][0]}),)
    return tuple(missing), warnings


def read_people(plan: Plan, observed: Observed, alignment: Alignment) -> People:
    """Read the people's tracks (stage 3b).

    Their read stops and restarts are added to the plan's scenario (a new plan, its renderer
    to be closed by the caller, when any was read); also the canvas-only findings.
    """
    if not person_uids(plan.scenario):
        return People(plan)
    tracks = person_tracks(plan, observed, alignment)
    differences, warnings = canvas_only(plan.scenario, tracks)
    added = _inferred(plan.scenario, tracks, plan.expectation.fps)
    if not added:
        return People(plan, (), tracks, differences, warnings)
    try:
        rebuilt = plan.retimed(_with_events(plan.scenario, added))
    except ScenarioError:  # not a scenario the rules can replay: judged as given
        return People(plan, (), tracks, differences, warnings)
    return People(rebuilt, tuple(added), tracks, differences, warnings)


def _stop_before(inferred: Sequence[Event], uid: str, t: float) -> Fraction | None:
    """Find the last read stop of ``uid`` at or before ``t`` (with slack at the run's start)."""
    stops = [e.t for e in inferred if e.uid == uid and e.action == "mute_video"
             and float(e.t) <= t + 0.2]
    return max(stops) if stops else None


def _explained(diff: Difference, inferred: Sequence[Event]) -> Difference:
    """Word a difference after the 3.5 s rule when a stop read from the pictures explains it.

    The difference is a person's last frame that stays past the 3.5 s, or a background
    where the last frame should stay.
    """
    seen = diff.observed if isinstance(diff.observed, dict) else {}
    wanted = diff.expected if isinstance(diff.expected, dict) else {}
    stop = _stop_before(inferred, diff.uid, diff.t) if diff.uid is not None and \
        diff.t is not None else None
    if stop is None or diff.t is None:
        return diff
    until = float(seen.get("until", diff.t))
    grace = float(VIDEO_STOP_GRACE)
    if seen.get("state") == DisplayState.LAST_FRAME and wanted.get("state") in _BACKGROUNDS:
        what = state_name((None, str(wanted.get("state"))))
        return replace(diff, message=(
            f"uid {diff.uid}'s last frame stays {diff.t:.2f}-{until:.2f} s: it should give "
            f"way to the {what} {grace:g} s after the video stopped at {float(stop):.2f} s"))
    if wanted.get("state") == DisplayState.LAST_FRAME and seen.get("state") in _BACKGROUNDS and \
            abs(diff.t - float(stop)) <= 0.2:
        what = state_name((None, str(seen.get("state"))))
        return replace(diff, message=(
            f"uid {diff.uid}'s region shows the {what} {diff.t:.2f}-{until:.2f} s, from when "
            f"its video stopped at {float(stop):.2f} s: its last frame should stay {grace:g} "
            f"s first (until {float(stop) + grace:.2f} s)"))
    return diff


def explain_stops(findings: Sequence[Finding], people: People | None) -> tuple[Finding, ...]:
    """Word a person's last frame that outstays the 3.5 s rule after that rule.

    The stop is the one read from the recording (:func:`read_people`); other findings are
    returned as they are.
    """
    if people is None or not people.inferred:
        return tuple(findings)
    return tuple(replace(f, difference=_explained(f.difference, people.inferred))
                 for f in findings)
