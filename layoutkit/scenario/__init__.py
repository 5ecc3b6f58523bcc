"""Scenario JSON -> :class:`Scenario` (pure): who is in the channel, and what happens when.

``model`` (the frozen dataclasses), ``parse`` (the file's rules), ``presence`` (events vs who
is in the channel).
"""

from .model import (
    ACTIONS,
    AUDIENCE_ACTIONS,
    CONFIDENCES,
    DEFAULT_SIZE_WH,
    DEFAULT_START_UTC,
    PLATFORMS,
    ROLES,
    UNKNOWN,
    UPDATE_LAYOUT,
    USER_ACTIONS,
    Event,
    Scenario,
    UserSpec,
    VideoReport,
    as_time,
    first_join_times,
)
from .parse import parse_scenario
from .presence import presence_problems

__all__ = ["ACTIONS", "AUDIENCE_ACTIONS", "CONFIDENCES", "DEFAULT_SIZE_WH", "DEFAULT_START_UTC",
           "PLATFORMS", "ROLES", "UNKNOWN", "UPDATE_LAYOUT", "USER_ACTIONS", "Event", "Scenario",
           "UserSpec", "VideoReport", "as_time", "first_join_times", "parse_scenario",
           "presence_problems"]
