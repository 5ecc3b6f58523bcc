"""Stage 3, fit events: the scenario's events at the times the recording shows them.

This is the seam for event windows: a scenario's event times are known to a few hundred
milliseconds at best, so each event may be fitted inside a window around its scenario time,
and every later stage judges against :attr:`FittedEvents.expectation` (the periods at the
fitted times), never the scenario's own.  Today no event is moved: :func:`fit_events`
returns the plan's expectation unchanged and no fitted event.
"""

from __future__ import annotations

from dataclasses import dataclass

from .alignment import Alignment
from .expect import Expectation
from .frames import Observed

__all__ = ["FittedEvent", "FittedEvents", "fit_events"]


@dataclass(frozen=True)
class FittedEvent:
    """One scenario event seen at another time than the scenario's."""

    uid: str | None
    action: str
    scenario_t: float
    fitted_t: float


@dataclass(frozen=True)
class FittedEvents:
    """The expectation the recording is judged against, and the events moved to fit it."""

    expectation: Expectation
    events: tuple[FittedEvent, ...] = ()


def fit_events(observed: Observed, alignment: Alignment, exp: Expectation) -> FittedEvents:
    """Fit the events (stage 3); today every event stays at its scenario time.

    >>> import numpy as np
    >>> from layoutkit.profile import DEFAULT_PROFILE
    >>> exp = Expectation(DEFAULT_PROFILE, (), 0.0, 15)
    >>> obs = Observed(np.zeros(0), np.zeros((0, 0, 3), np.uint8), np.zeros((0, 0), np.int32),
    ...                np.zeros((0, 0), np.int32), (), 0.0)
    >>> fit_events(obs, Alignment(0.0, np.zeros(0), "pictures"), exp).expectation is exp
    True
    """
    del observed, alignment  # what event windows will fit with
    return FittedEvents(exp)
