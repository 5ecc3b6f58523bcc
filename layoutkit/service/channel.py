"""The channel a local recording sees (pure).

The scenario's users and events, as the REST calls change them.

The service's scenario file describes the channel: its users and their events, with the
scenario's time 0 at the ``start`` call.  What the calls send replaces the scenario's own
request parts: the ``start`` body gives canvas, layout, subscriptions, files and storage;
each ``updateLayout`` body becomes an ``update_layout`` event at its arrival; an ``update``
body replaces the subscriptions from its arrival on.  The scenario's own ``update_layout``
events are dropped (the calls drive the layout); its user events are kept.

Examples
--------
>>> from fractions import Fraction
>>> import layoutkit as lk
>>> base = lk.load_scenario({"cname": "c", "duration": 5, "users": [{"uid": "1"}],
...     "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {}}}})
>>> live = live_scenario(base, base.start, sid="0" * 32, start_utc=base.start_utc,
...                      horizon=Fraction(3600))
>>> live.duration, live.sid
(Fraction(3600, 1), '00000000000000000000000000000000')
>>> recorded(live, Fraction(4)).duration
Fraction(4, 1)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from fractions import Fraction

from ..request.model import LayoutSettings, StartRequest, UpdateRequest
from ..scenario.model import UPDATE_LAYOUT, Event, Scenario

__all__ = ["live_scenario", "recorded", "with_layout", "with_subscriptions"]


def live_scenario(base: Scenario, start: StartRequest, *, sid: str, start_utc: datetime,
                  horizon: Fraction) -> Scenario:
    """Return the channel of one recording, from its ``start`` call on.

    Parameters
    ----------
    base : Scenario
        The service's scenario (users and events).
    start : StartRequest
        The ``start`` body the client sent.
    sid : str
        The recording's sid.
    start_utc : datetime
        Wall clock of the ``start`` call (the scenario's time 0).
    horizon : Fraction
        Seconds the recording may run at most (the resource's lifetime): the channel keeps
        the state of the scenario's last event until then.
    """
    events = tuple(e for e in base.events if e.action != UPDATE_LAYOUT and e.t < horizon)
    return replace(base, cname=start.cname, sid=sid, start_utc=start_utc,
                   start=replace(start, base_dir=base.base_dir), duration=horizon,
                   events=events)


def with_layout(scenario: Scenario, t: Fraction, layout: LayoutSettings) -> Scenario:
    """Return ``scenario`` with an ``updateLayout`` body arriving at ``t``.

    The body replaces the whole layout from ``t`` on.
    """
    event = Event(t=t, action=UPDATE_LAYOUT, layout=layout)
    events = sorted((*scenario.events, event), key=lambda e: e.t)  # stable: after equals
    return replace(scenario, events=tuple(events))


def with_subscriptions(scenario: Scenario, update: UpdateRequest) -> Scenario:
    """Return ``scenario`` with the subscriptions of an ``update`` body.

    They replace the previous ones; the recorder draws forward, so they apply from their
    arrival.
    """
    config = replace(scenario.start.recording_config,
                     subscribe_audio_uids=update.subscribe_audio_uids,
                     unsubscribe_audio_uids=update.unsubscribe_audio_uids,
                     subscribe_video_uids=update.subscribe_video_uids,
                     unsubscribe_video_uids=update.unsubscribe_video_uids)
    return replace(scenario, start=replace(scenario.start, recording_config=config))


def recorded(scenario: Scenario, end: Fraction) -> Scenario:
    """Return the scenario of what was recorded (what ``compare`` checks the files against).

    Its ``duration`` is ``end``; it keeps the events before it.
    """
    return replace(scenario, duration=end, events=tuple(e for e in scenario.events if e.t < end))
