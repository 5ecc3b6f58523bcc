"""The one exception tree of layoutkit.

Every error raised on purpose derives from :class:`LayoutkitError` *and* from the
builtin that fits it, so callers can catch either (the PyAV ``FFmpegError`` pattern).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "LayoutkitError",
    "Problem",
    "RequestError",
    "ScenarioError",
    "UsageError",
    "MediaError",
    "EncodeError",
    "StorageError",
]


def format_value(value: Any) -> str:
    """Render a JSON-ish value the way messages quote it (JSON text, shortened)."""
    import json

    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return text


_MISSING = object()


@dataclass(frozen=True)
class Problem:
    """One problem found in an input document.

    Parameters
    ----------
    path : str
        Dotted JSON path from the document root, ``[i]`` for array items.
    rule : str
        What is wrong, said as the rule that was broken.
    value : Any
        The offending value (omitted from the message when it is ``MISSING``).
    hint : str or None
        A suggestion, e.g. ``did you mean 'backgroundColor'?``.
    severity : {'error', 'warning'}
        Errors reject the document; warnings are printed and the document is used.
    """

    path: str
    rule: str
    value: Any = _MISSING
    hint: str | None = None
    severity: str = "error"

    MISSING = _MISSING

    def __str__(self) -> str:
        head = "code 2" if self.severity == "error" else "warning"
        text = f"{head}: {self.path or '<root>'}: {self.rule}"
        if self.value is not _MISSING:
            text += f" (got {format_value(self.value)})"
        if self.hint:
            text += f"; {self.hint}"
        return text


class LayoutkitError(Exception):
    """Root of every error layoutkit raises on purpose."""

    exit_code = 1


class RequestError(LayoutkitError, ValueError):
    """A cloud-recording request body broke one or more rules.

    Attributes
    ----------
    problems : tuple of Problem
        Every problem found (all of them, not just the first).
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ScenarioError(RequestError):
    """A scenario file broke one or more rules (same message style as requests)."""


class UsageError(LayoutkitError, ValueError):
    """The command line was used wrongly (exit code 2)."""

    exit_code = 2


class MediaError(LayoutkitError, OSError):
    """A media or image file is missing, unreadable or not what it should be."""


class EncodeError(LayoutkitError, RuntimeError):
    """Encoding or muxing failed."""


class StorageError(LayoutkitError, OSError):
    """Writing to local or S3 storage failed."""
