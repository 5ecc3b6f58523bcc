"""Scenario + profile -> what the recorder shows and mixes at any exact time.

Pure: no files, no clocks.  Times are :class:`~fractions.Fraction` seconds from the start
of recording.  :class:`Timeline` replays the scenario's events once, keeping one snapshot
per distinct event time; :meth:`Timeline.scene_at` then finds the snapshot by bisection
and only works out the 3.5 s rules, so it is cheap enough to call for every output frame.

Rules
-----
From docs/cloud.md#cloud-layout, #cloud-join-order, #cloud-recording-config,
#cloud-display-rules and #cloud-update-layout.

State at ``t`` = every event with time <= ``t`` applied; events of one time apply in
scenario order (a user's late ``join`` first, then the file's events).

==========================  ==============================================================
topic                       rule
==========================  ==============================================================
present                     joined (``join`` 0 = at the start) and not left since
video flows                 present, published and not muted.  A (re-)join starts
                            published and unmuted, video and audio; ``unpublish_video`` /
                            ``publish_video`` and ``mute_video`` / ``unmute_video`` change it
stopped at                  the time the video stopped flowing; a user whose video does not
                            flow right after joining (e.g. unpublished at the join time) is
                            stopped from the join and has no last frame.  A publish and an
                            unpublish at the same instant cancel out
eligible for a region       present, role host, video subscribed (``subscribeVideoUids`` /
                            ``unSubscribeVideoUids``, none when ``streamTypes`` is 0)
order                       join order of the eligible users: users present at the start in
                            the scenario's order, each later join (re-joins too) at the end;
                            a leave removes the user at once (later users move up)
displayed                   the first 17 of the order (an 18th moves in when one leaves)
audible                     present host, audio not muted, audio subscribed (and
                            ``streamTypes`` 0 or 2); not limited to 17
idle                        no present user (communication channel), no present host (live);
                            idle from t = 0 if nobody is there at the start
end_time                    ``duration``, or ``idle start + maxIdleTime`` if the channel is
                            still idle then (a join at that very time is too late)
recording                   ``t < end_time``
layout                      ``start``'s layout; each ``update_layout`` replaces all of it
==========================  ==============================================================

Display state of a displayed user (``s`` = time since the video stopped; the after-rule
applies from ``s == 3.5`` on):

=======================  ================  ================================================
platform / how stopped   s < 3.5           s >= 3.5
=======================  ================  ================================================
any, video flowing       LIVE              LIVE
native, web4             LAST_FRAME        USER_IMAGE if the layout has a user image for the
                                           uid (``backgroundConfig``, else
                                           ``defaultUserBackgroundImage``); else
                                           CANVAS_BACKGROUND (profile ``after_stop``
                                           ``background``) or LAST_FRAME (``last_frame``)
web3, not published      CANVAS_COLOR      as native
web3, published + muted  BLACK             as native
=======================  ================  ================================================

LAST_FRAME needs a frame: a user who never sent video since joining shows
CANVAS_BACKGROUND instead.  ``frozen_at`` of LAST_FRAME is the time the video stopped (the
renderer shows the last live frame before it).  The user image is that of the layout in
force at ``t``; whether the image can be used (JPG/BMP, <= 6 MB) is the renderer's affair.
"""

from __future__ import annotations

import enum
import itertools
import math
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

from .errors import ScenarioError, ParameterError
from .layout import displayed_users
from .profile import DEFAULT_PROFILE, Profile
from .request.limits import LIVE_CHANNEL
from .request.model import LayoutSettings, RecordingConfig, UserBackground
from .scenario import UPDATE_LAYOUT, Event, Scenario, UserSpec, as_time, presence_problems

__all__ = ["VIDEO_STOP_GRACE", "DisplayState", "Scene", "Timeline", "UserView"]

#: Seconds a region keeps its "just stopped" look before the user background applies.
VIDEO_STOP_GRACE = Fraction(7, 2)

# action -> (attribute of _UserState, value it sets)
_SWITCHES: dict[str, tuple[str, bool]] = {
    "mute_video": ("muted", True),
    "unmute_video": ("muted", False),
    "unpublish_video": ("published", False),
    "publish_video": ("published", True),
    "mute_audio": ("audio_muted", True),
    "unmute_audio": ("audio_muted", False),
}


class DisplayState(enum.StrEnum):
    """What a displayed user's region shows (a ``str``: compare's JSON holds the values)."""

    #: The user's live video.
    LIVE = "live"
    #: The last live frame, frozen (see :attr:`UserView.frozen_at`).
    LAST_FRAME = "last_frame"
    #: Black (Web SDK 3.x muted video).
    BLACK = "black"
    #: The canvas colour only (Web SDK 3.x unpublished video).
    CANVAS_COLOR = "canvas_color"
    #: The canvas background: its image if set, else its colour.
    CANVAS_BACKGROUND = "canvas_background"
    #: The user's background image (:attr:`UserView.image`).
    USER_IMAGE = "user_image"


@dataclass(frozen=True)
class UserView:
    """How one displayed user is drawn.

    Parameters
    ----------
    uid : str
    state : DisplayState
    frozen_at : Fraction or None
        For LAST_FRAME: when the video stopped; the last live frame before it is shown.
    image : UserBackground or None
        For USER_IMAGE: the image entry (``backgroundConfig`` or the default image).
    """

    uid: str
    state: DisplayState
    frozen_at: Fraction | None = None
    image: UserBackground | None = None


@dataclass(frozen=True)
class Scene:
    """Everything the recorder needs at one instant.

    Parameters
    ----------
    t : Fraction
        Seconds from the start of recording.
    layout : LayoutSettings
        The layout in force.
    order : tuple of str
        Displayed users in join order (at most 17).
    views : tuple of UserView
        One per displayed user, same order.
    audible : tuple of str
        Users whose audio is mixed, in join order.
    recording : bool
        False from :attr:`Timeline.end_time` on.
    """

    t: Fraction
    layout: LayoutSettings
    order: tuple[str, ...]
    views: tuple[UserView, ...]
    audible: tuple[str, ...]
    recording: bool


@dataclass(frozen=True)
class _Video:
    """A displayed user's video at a snapshot: flowing, or since when it is stopped."""

    flowing: bool
    since: Fraction  # start of the flow, or the stop time
    had_frame: bool  # sent video since its last join (before ``since`` when stopped)
    published: bool


@dataclass(frozen=True)
class _Snapshot:
    """The channel after all events of one time."""

    layout: LayoutSettings
    order: tuple[str, ...]
    video: tuple[_Video, ...]
    audible: tuple[str, ...]


@dataclass
class _UserState:
    """Mutable replay state of one user."""

    spec: UserSpec
    present: bool = False
    published: bool = True
    muted: bool = False
    audio_muted: bool = False
    since: Fraction = Fraction(0)
    had_frame: bool = False

    @property
    def flowing(self) -> bool:
        return self.present and self.published and not self.muted

    @property
    def host(self) -> bool:
        return self.spec.role == "host"

    def video(self) -> _Video:
        return _Video(self.flowing, self.since, self.had_frame, self.published)


class _Channel:
    """Replays events; one :meth:`step` per distinct time."""

    def __init__(self, scenario: Scenario) -> None:
        self.users = {u.uid: _UserState(u) for u in scenario.users}
        self.order: list[str] = []
        self.layout = scenario.start.layout
        self.config: RecordingConfig = scenario.start.recording_config
        self.live = self.config.channel_type == LIVE_CHANNEL

    def _apply(self, event: Event, joined: set[str]) -> None:
        if event.action == UPDATE_LAYOUT:
            assert event.layout is not None
            self.layout = event.layout
            return
        assert event.uid is not None
        user = self.users[event.uid]
        if event.action == "join":
            user.present, user.published, user.muted, user.audio_muted = True, True, False, False
            self.order.append(event.uid)
            joined.add(event.uid)
        elif event.action == "leave":
            user.present = False
            self.order.remove(event.uid)
        else:
            setattr(user, *_SWITCHES[event.action])

    def step(self, t: Fraction, events: Sequence[Event]) -> list[Fraction]:
        """Apply the events of time ``t``; return the stop times that began at ``t``."""
        was_flowing = {uid: user.flowing for uid, user in self.users.items()}
        joined: set[str] = set()
        for event in events:
            self._apply(event, joined)
        stops = []
        for uid, user in self.users.items():
            if not user.present:
                continue
            if uid in joined:
                user.since, user.had_frame = t, False
            elif was_flowing[uid] != user.flowing:
                user.since = t
                user.had_frame = user.had_frame or was_flowing[uid]
            else:
                continue
            if not user.flowing:
                stops.append(t)
        return stops

    def active(self) -> bool:
        """Not idle: a present user (communication) or a present host (live)."""
        return any(self.users[uid].host or not self.live for uid in self.order)

    def snapshot(self) -> _Snapshot:
        present = [self.users[uid] for uid in self.order]
        eligible = [u.spec.uid for u in present
                    if u.host and self.config.subscribes_video(u.spec.uid)]
        shown = displayed_users(eligible)
        audible = tuple(u.spec.uid for u in present if u.host and not u.audio_muted
                        and self.config.subscribes_audio(u.spec.uid))
        return _Snapshot(self.layout, shown, tuple(self.users[uid].video() for uid in shown),
                         audible)


def _groups(scenario: Scenario) -> Iterator[tuple[Fraction, list[Event]]]:
    """Events grouped by time, users present at the start as joins at 0; always a group at 0."""
    starters = [Event(Fraction(0), "join", u.uid) for u in scenario.users if u.join == 0]
    events = [*starters, *scenario.events]
    if not events or events[0].t != 0:
        yield Fraction(0), []
    for t, group in itertools.groupby(events, key=lambda e: e.t):
        yield t, list(group)


class Timeline:
    """The scenes of a scenario at any exact time.

    Parameters
    ----------
    scenario : Scenario
        From :func:`~layoutkit.scenario.parse_scenario` (events sorted by time).
    profile : Profile, optional
        Behaviour choices; only ``after_stop`` matters here.

    Raises
    ------
    ScenarioError
        When an event does not fit who is in the channel (only possible for a scenario
        built by hand; paths are ``events[i]`` of ``scenario.events``).

    Examples
    --------
    >>> from layoutkit.scenario import parse_scenario
    >>> s = parse_scenario({"cname": "demo", "duration": 10, "users": [{"uid": "1"}],
    ...     "start": {"cname": "demo", "uid": "999", "clientRequest": {"recordingConfig": {}}},
    ...     "events": [{"t": 2, "uid": "1", "action": "mute_video"}]})
    >>> tl = Timeline(s)
    >>> [tl.scene_at(t).views[0].state.name for t in (0, 2, Fraction(11, 2))]
    ['LIVE', 'LAST_FRAME', 'CANVAS_BACKGROUND']
    >>> tl.change_times()
    (Fraction(0, 1), Fraction(2, 1), Fraction(11, 2), Fraction(10, 1))
    """

    def __init__(self, scenario: Scenario, *, profile: Profile = DEFAULT_PROFILE) -> None:
        problems = presence_problems(scenario.users, scenario.events)
        if problems:
            raise ScenarioError(problems)
        self.scenario = scenario
        self.profile = profile
        self._platform = {u.uid: u.platform for u in scenario.users}
        self._times: list[Fraction] = []
        self._snapshots: list[_Snapshot] = []
        self._thresholds: list[Fraction] = []
        self._end = self._replay(scenario)

    def _replay(self, scenario: Scenario) -> Fraction:
        """Fill the snapshots; return the end time (duration or idle exit)."""
        channel = _Channel(scenario)
        max_idle = Fraction(channel.config.max_idle_time)
        idle_since: Fraction | None = None
        for t, events in _groups(scenario):
            if idle_since is not None and idle_since + max_idle <= t:
                break
            stops = channel.step(t, events)
            self._thresholds += [stop + VIDEO_STOP_GRACE for stop in stops]
            self._times.append(t)
            self._snapshots.append(channel.snapshot())
            if channel.active():
                idle_since = None
            elif idle_since is None:
                idle_since = t
        if idle_since is None:
            return scenario.duration
        return min(scenario.duration, idle_since + max_idle)

    @property
    def end_time(self) -> Fraction:
        """When the recording stops: ``duration``, or earlier after ``maxIdleTime`` idle."""
        return self._end

    @property
    def idle_exit(self) -> bool:
        """True when the recording ended because the channel was idle (not by duration)."""
        return self._end < self.scenario.duration

    def scene_at(self, t: Fraction | int | float) -> Scene:
        """Return the scene at time ``t`` (every event with time <= ``t`` applied).

        Parameters
        ----------
        t : Fraction, int or float
            Seconds from the start of recording, >= 0 (a float is read as its decimal
            text, like scenario times).

        Returns
        -------
        Scene
            ``recording`` is False from :attr:`end_time` on; the rest then shows the
            channel as it was when the recording stopped.

        Raises
        ------
        ParameterError
            For a negative time.
        """
        t = as_time(t)
        if t < 0:
            msg = f"time must be >= 0 (got {t})"
            raise ParameterError(msg)
        snapshot = self._snapshots[bisect_right(self._times, t) - 1]
        views = tuple(self._view(uid, video, snapshot.layout, t)
                      for uid, video in zip(snapshot.order, snapshot.video, strict=True))
        return Scene(t=t, layout=snapshot.layout, order=snapshot.order, views=views,
                     audible=snapshot.audible, recording=t < self._end)

    def _view(self, uid: str, video: _Video, layout: LayoutSettings, t: Fraction) -> UserView:
        if video.flowing:
            return UserView(uid, DisplayState.LIVE)
        if t - video.since < VIDEO_STOP_GRACE:
            if self._platform[uid] == "web3":
                state = DisplayState.CANVAS_COLOR if not video.published else DisplayState.BLACK
                return UserView(uid, state)
            return self._last_frame(uid, video)
        image = layout.user_background(uid)
        if image is not None:
            return UserView(uid, DisplayState.USER_IMAGE, image=image)
        if self.profile.after_stop == "last_frame":
            return self._last_frame(uid, video)
        return UserView(uid, DisplayState.CANVAS_BACKGROUND)

    @staticmethod
    def _last_frame(uid: str, video: _Video) -> UserView:
        if video.had_frame:
            return UserView(uid, DisplayState.LAST_FRAME, frozen_at=video.since)
        return UserView(uid, DisplayState.CANVAS_BACKGROUND)

    def change_times(self) -> tuple[Fraction, ...]:
        """Every time at which the scene may change, sorted, from 0 to :attr:`end_time`.

        Event times, the 3.5 s marks after each video stop, and the end.  Between two
        consecutive times the scene (apart from ``t``) is constant.
        """
        times = {*self._times, *self._thresholds}
        return (*sorted(t for t in times if t < self._end), self._end)

    def frame_times(self, fps: int | Fraction | float) -> Iterator[Fraction]:
        """Output frame times ``k / fps`` for every k with ``k / fps < end_time``.

        Parameters
        ----------
        fps : int, Fraction or float
            Frames per second, > 0 (a float is read as its decimal text).

        Returns
        -------
        iterator of Fraction
            Exact times ``Fraction(k) / fps``, no accumulated float error.

        Raises
        ------
        ParameterError
            For ``fps <= 0``.
        """
        rate = as_time(fps)
        if rate <= 0:
            msg = f"fps must be > 0 (got {fps})"
            raise ParameterError(msg)
        return (k / rate for k in range(math.ceil(self._end * rate)))
