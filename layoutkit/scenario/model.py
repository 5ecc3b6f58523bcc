"""The scenario model (pure): users, events and the scenario, as frozen dataclasses.

See :mod:`layoutkit.scenario.parse` for the file's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Literal

from ..errors import Problem
from ..request.model import LayoutSettings, StartRequest

__all__ = ["ACTIONS", "AUDIENCE_ACTIONS", "CONFIDENCES", "DEFAULT_SIZE_WH", "DEFAULT_START_UTC",
           "PLATFORMS", "ROLES", "UNKNOWN", "UPDATE_LAYOUT", "USER_ACTIONS", "Event", "Scenario",
           "UserSpec", "VideoReport", "as_time", "first_join_times", "format_seconds"]

Platform = Literal["native", "web3", "web4"]
Role = Literal["host", "audience"]

PLATFORMS: tuple[str, ...] = ("native", "web3", "web4")
ROLES: tuple[str, ...] = ("host", "audience")
USER_ACTIONS: tuple[str, ...] = (
    "mute_video", "unmute_video", "unpublish_video", "publish_video",
    "mute_audio", "unmute_audio", "leave", "join",
)
UPDATE_LAYOUT = "update_layout"
ACTIONS: tuple[str, ...] = (*USER_ACTIONS, UPDATE_LAYOUT)
#: What an audience member may do (it publishes nothing).
AUDIENCE_ACTIONS: tuple[str, ...] = ("join", "leave")

DEFAULT_START_UTC = "2026-01-01T00:00:00Z"
#: The ``source`` (and ``audio``) of a user whose picture (sound) is not known: a real person
#: in a production recording.  ``mix`` and ``preview`` draw a neutral placeholder (and mix
#: silence); a file really named ``unknown`` is written ``./unknown``.
UNKNOWN = "unknown"
#: ``"full"``: every event the scenario was built from was there; ``"partial"``: some were
#: missing (a leave without a join, a gap in the recorder's ``sequence``), see ``notes``.
CONFIDENCES: tuple[str, ...] = ("full", "partial")
DEFAULT_SIZE_WH = (640, 360)
MAX_SOURCE_SIDE = 4096


@dataclass(frozen=True)
class UserSpec:
    """One user of the channel, as the scenario declares it.

    Parameters
    ----------
    uid : str
        The user's uid (string of an integer 1..2^32-1).
    platform : {'native', 'web3', 'web4'}
        Publisher SDK: native, Web SDK 3.x and older, Web SDK 4.x and newer.
    source : str
        ``'testsrc'``, a ``'#RRGGBB'`` colour (upper-case) or a file path as written.
    size_wh : tuple of int
        Picture size ``(width, height)`` of ``testsrc`` and colour sources.
    audio : str
        ``'tone'``, ``'silence'`` or a file path as written.
    join : Fraction
        Seconds from the start of recording; 0 = in the channel at the start.
    role : {'host', 'audience'}
        Audience members (live channels only) publish nothing and are never drawn.
    join_tolerance : Fraction or None
        Seconds the join at ``join`` > 0 may really have happened before or after it (its
        window for compare, like an event's ``tolerance``); None: compare's default.
    """

    uid: str
    platform: Platform = "native"
    source: str = "testsrc"
    size_wh: tuple[int, int] = DEFAULT_SIZE_WH
    audio: str = "tone"
    join: Fraction = Fraction(0)
    role: Role = "host"
    join_tolerance: Fraction | None = None


@dataclass(frozen=True)
class Event:
    """One thing that happens at time ``t``.

    Parameters
    ----------
    t : Fraction
        Seconds from the start of recording.
    action : str
        One of :data:`ACTIONS`.
    uid : str or None
        The user it applies to (None for ``update_layout``).
    layout : LayoutSettings or None
        The new layout of an ``update_layout`` event (it replaces the whole layout).
    tolerance : Fraction or None
        Seconds the event may really have happened before or after ``t`` (its time
        window, ``"tolerance"`` in the file); None: compare's default window.
    """

    t: Fraction
    action: str
    uid: str | None = None
    layout: LayoutSettings | None = None
    tolerance: Fraction | None = None


@dataclass(frozen=True)
class VideoReport:
    """The recorder reported the state of a video stream.

    Agora NCS event 44, ``recorder_video_stream_state_changed``.

    Parameters
    ----------
    t : Fraction
        Seconds from the start of recording (a report before t = 0 is at 0).
    stream : str
        ``"0"`` for the mixed stream (what mix mode reports), else the user's uid.
    state : int
        0: the recorder receives the stream's video; 1: it does not.
    """

    t: Fraction
    stream: str
    state: int


@dataclass(frozen=True)
class Scenario:
    """A checked scenario.

    Parameters
    ----------
    cname : str
        Channel name.
    sid : str or None
        Recording session id (32 lowercase hex), None when the scenario gives none.
    start_utc : datetime
        Wall-clock start of recording, timezone-aware, in UTC.
    start : StartRequest
        The ``start`` body; ``storage_config`` is None when the scenario gives none, and
        storage keys it omits keep the model's defaults.
    duration : Fraction
        Seconds the recording runs unless the channel idles out first.
    users : tuple of UserSpec
        In the order of the file (users present at the start join in this order).
    events : tuple of Event
        Sorted by time, stable: a user's ``join`` > 0 comes first among events of the same
        time (in user order), then the file's events in file order.
    warnings : tuple of Problem
        Warnings of the nested request bodies (paths from the scenario root).
    base_dir : Path or None
        The scenario file's folder: relative source, audio and image paths resolve against
        it (None: the current directory).
    notes : tuple of str
        What the scenario's author (e.g.
        :func:`~layoutkit.scenario.fromevents.scenario_from_events`) assumed, one sentence
        each.
    confidence : {'full', 'partial'}
        ``'partial'`` when the scenario was rebuilt from incomplete reports.
    video_reports : tuple of VideoReport
        What the recorder reported of the video it received (NCS event 44), in time order;
        compare reads them when the recording shows only the canvas.
    """

    cname: str
    sid: str | None
    start_utc: datetime
    start: StartRequest
    duration: Fraction
    users: tuple[UserSpec, ...]
    events: tuple[Event, ...] = ()
    warnings: tuple[Problem, ...] = field(default=(), compare=False)
    base_dir: Path | None = field(default=None, compare=False)
    notes: tuple[str, ...] = ()
    confidence: str = "full"
    video_reports: tuple[VideoReport, ...] = ()

    def user(self, uid: str) -> UserSpec:
        """Return the declared user ``uid`` (``KeyError`` if there is none)."""
        for spec in self.users:
            if spec.uid == uid:
                return spec
        raise KeyError(uid)


def as_time(value: int | float | Fraction) -> Fraction:
    """Return exact seconds from a JSON number: ``0.1`` gives ``Fraction(1, 10)``, not 0.1000...01.

    Parameters
    ----------
    value : int, float or Fraction
        A finite number.

    Returns
    -------
    Fraction

    Examples
    --------
    >>> as_time(0.1), as_time(3), as_time(1e-05)
    (Fraction(1, 10), Fraction(3, 1), Fraction(1, 100000))
    """
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def format_seconds(t: Fraction) -> str:
    """Format a time for messages: ``60``, ``2.5``."""
    return str(t.numerator) if t.denominator == 1 else str(float(t))


def first_join_times(scenario: Scenario) -> dict[str, Fraction]:
    """When each user first joined (0 for users present at the start): their clock's origin."""
    first = {u.uid: u.join for u in scenario.users}
    for event in scenario.events:  # a late join is an event too; the earliest one wins
        if event.action == "join" and event.uid in first:
            first[event.uid] = min(first[event.uid], event.t)
    return first
