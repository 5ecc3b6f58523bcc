"""Opening users' media files, with the same clear errors for video and audio."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from ..errors import MediaError, Problem, ScenarioError
from ..scenario import Scenario, UserSpec

__all__ = ["open_input", "open_for_users"]

T = TypeVar("T")


def open_input(location: str | Path, *, kind: Literal["audio", "video"]) -> Any:
    """Open a media file for reading with PyAV; it must have a ``kind`` stream.

    Raises
    ------
    MediaError
        ``<path>: no such <kind> file``, ``<path>: not a readable <kind> file (...)`` or
        ``<path>: has no <kind> stream``.
    """
    import av

    try:
        container = av.open(str(location))
    except FileNotFoundError as exc:
        msg = f"{location}: no such {kind} file"
        raise MediaError(msg) from exc
    except (av.error.FFmpegError, OSError) as exc:
        msg = f"{location}: not a readable {kind} file ({exc})"
        raise MediaError(msg) from exc
    if not getattr(container.streams, kind):
        container.close()
        msg = f"{location}: has no {kind} stream"
        raise MediaError(msg)
    return container


def open_for_users(scenario: Scenario, open_one: Callable[[UserSpec], T], *,
                   field: Literal["source", "audio"]) -> dict[str, T]:
    """Open one media object per host, reporting every failure at once.

    Parameters
    ----------
    scenario : Scenario
        Its hosts are opened in order (audience members publish nothing).
    open_one : callable
        Opens one user's media; raises :class:`MediaError` when it cannot.
    field : {'source', 'audio'}
        The user key the media comes from (for the problem paths ``users[i].<field>``).

    Raises
    ------
    ScenarioError
        One problem per user whose media could not be opened; whatever was opened is closed.
    """
    opened: dict[str, T] = {}
    problems: list[Problem] = []
    for i, user in enumerate(scenario.users):
        if user.role == "audience":
            continue
        try:
            opened[user.uid] = open_one(user)
        except MediaError as exc:
            rule = str(exc).split(": ", 1)[-1]
            problems.append(Problem(f"users[{i}].{field}", rule, getattr(user, field)))
    if problems:
        for item in opened.values():
            item.close()  # type: ignore[attr-defined]
        raise ScenarioError(problems)
    return opened
