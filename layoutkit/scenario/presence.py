"""Whether a scenario's events fit who is in the channel at their times (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import Problem
from .model import Event, UserSpec, format_seconds

__all__ = ["presence_problems"]


def presence_problems(users: Sequence[UserSpec], events: Sequence[Event], *,
                      paths: Sequence[str] | None = None) -> list[Problem]:
    """Check that every user event fits who is in the channel at its time.

    Parameters
    ----------
    users : sequence of UserSpec
        Users with ``join == 0`` are in the channel at the start.
    events : sequence of Event
        Sorted by time, late joins included (as :attr:`Scenario.events`).
    paths : sequence of str, optional
        JSON path of each event for messages; default ``events[i]``.

    Returns
    -------
    list of Problem
        One per ``join`` of a user already in the channel and per other user action
        (``leave``, mutes, publishes) of a user who is not in it.
    """
    present = {u.uid for u in users if u.join == 0}
    problems = []
    for i, event in enumerate(events):
        if event.uid is None:
            continue
        path = paths[i] if paths is not None else f"events[{i}]"
        here = event.uid in present
        if event.action == "join" and here:
            where = "already in"
        elif event.action != "join" and not here:
            where = "not in"
        else:
            where = ""
        if where:
            problems.append(Problem(path, f"{event.action} at t={format_seconds(event.t)}: "
                                          f"user {event.uid} is {where} the channel"))
        if event.action == "join":
            present.add(event.uid)
        elif event.action == "leave":
            present.discard(event.uid)
    return problems
