"""A :class:`~layoutkit.scenario.model.Scenario` back to scenario JSON (pure).

What the local service writes beside each recording (``scenario.json``): the channel as it
was recorded, the ``start`` body as sent, every ``updateLayout`` at its arrival, so
``layoutkit compare scenario.json <recording>`` checks the files.  Times are written as
decimal numbers of at most millisecond precision, never above the exact time (a duration of
``37/15`` s is written ``2.466``: still 37 frames at 15 fps).

Examples
--------
>>> from layoutkit.scenario.parse import parse_scenario
>>> doc = {"cname": "c", "duration": 2.5, "users": [{"uid": "1"}, {"uid": "2", "join": 1}],
...        "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {}}},
...        "events": [{"t": 2, "action": "leave", "uid": "1"}]}
>>> again = scenario_to_json(parse_scenario(doc))
>>> again["users"][1]["join"], again["events"], again["duration"]
(1, [{'t': 2, 'action': 'leave', 'uid': '1'}], 2.5)
>>> parse_scenario(again) == parse_scenario(doc)
True
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ..request.dump import to_json
from .model import UPDATE_LAYOUT, Event, Scenario, UserSpec

__all__ = ["scenario_to_json", "seconds_json"]


def seconds_json(t: Fraction) -> int | float:
    """Seconds as a JSON number: an int when whole, else floored to the millisecond.

    Examples
    --------
    >>> seconds_json(Fraction(3)), seconds_json(Fraction(37, 15)), seconds_json(Fraction(1, 10))
    (3, 2.466, 0.1)
    """
    if t.denominator == 1:
        return t.numerator
    return float(Fraction(math.floor(t * 1000), 1000))


def _user(user: UserSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"uid": user.uid, "platform": user.platform, "role": user.role,
                           "source": user.source, "size": "{}x{}".format(*user.size_wh),
                           "audio": user.audio, "join": seconds_json(user.join)}
    if user.join_tolerance is not None:
        doc["join_tolerance"] = seconds_json(user.join_tolerance)
    return doc


def _event(event: Event) -> dict[str, Any]:
    doc: dict[str, Any] = {"t": seconds_json(event.t), "action": event.action}
    if event.action == UPDATE_LAYOUT and event.layout is not None:
        doc["body"] = to_json(event.layout)
    else:
        doc["uid"] = event.uid
    if event.tolerance is not None:
        doc["tolerance"] = seconds_json(event.tolerance)
    return doc


def _own_events(scenario: Scenario) -> list[Event]:
    """Return the events without the join events the users' ``join`` > 0 stand for."""
    pending = {(u.uid, u.join) for u in scenario.users if u.join > 0}
    events = []
    for event in scenario.events:
        key = (event.uid, event.t)
        if event.action == "join" and key in pending:
            pending.discard(key)
            continue
        events.append(event)
    return events


def scenario_to_json(scenario: Scenario, *, mask_secrets: bool = True) -> dict[str, Any]:
    """Return the scenario's JSON document (see the module docs).

    Parameters
    ----------
    scenario : Scenario
        A parsed or built scenario.
    mask_secrets : bool
        Write the ``start`` body's keys and token as ``"***"`` (default).
    """
    doc: dict[str, Any] = {"cname": scenario.cname}
    if scenario.sid:
        doc["sid"] = scenario.sid
    doc["start_utc"] = scenario.start_utc.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")
    doc["start"] = to_json(scenario.start, mask_secrets=mask_secrets)
    doc["duration"] = seconds_json(scenario.duration)
    doc["users"] = [_user(u) for u in scenario.users]
    doc["events"] = [_event(e) for e in _own_events(scenario)]
    if scenario.notes:
        doc["notes"] = list(scenario.notes)
    if scenario.confidence != "full":
        doc["confidence"] = scenario.confidence
    return doc
