"""The one exception tree of layoutkit.

Every error raised on purpose derives from :class:`LayoutkitError` *and* from the
builtin that fits it, so callers can catch either (the PyAV ``FFmpegError`` pattern).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EncodeError",
    "LayoutkitError",
    "ManifestError",
    "MediaError",
    "OutputExistsError",
    "ParameterError",
    "Problem",
    "RequestError",
    "ScenarioError",
    "ShapeError",
    "StorageError",
    "UsageError",
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
    return text.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates


class _Missing:
    """The marker of a :class:`Problem` without a value.

    Its repr names it (never ``<object object at 0x...>``) and it stays itself through
    pickling.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "Problem.MISSING"

    def __reduce__(self) -> str:
        return "_MISSING"


_MISSING: Any = _Missing()


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
        """Return ``code 2: PATH: RULE (got VALUE); HINT`` (``warning: ...`` for a warning)."""
        head = "code 2" if self.severity == "error" else "warning"
        text = f"{head}: {self.path or '<root>'}: {self.rule}"
        if self.value is not _MISSING:
            text += f" (got {format_value(self.value)})"
        if self.hint:
            text += f"; {self.hint}"
        return text.encode("utf-8", "backslashreplace").decode("utf-8")  # always printable


class LayoutkitError(Exception):
    """Root of every error layoutkit raises on purpose."""

    exit_code = 1


class RequestError(LayoutkitError, ValueError):
    """A cloud-recording request body broke one or more rules.

    Parameters
    ----------
    problems : sequence of Problem
        Every problem found (all of them, not just the first).
    warnings : sequence of Problem
        Warnings found in the same document; shown even though the document is refused.
    source : str, optional
        The file the document was read from (the command line prefixes its lines with it,
        ``req.json: code 2: ...``); ``str(err)`` does not show it.

    Examples
    --------
    >>> err = RequestError([Problem("a.b", "must be a number", "x")])
    >>> str(err)
    'code 2: a.b: must be a number (got "x")'
    >>> isinstance(err, ValueError), err.warnings
    (True, ())
    """

    def __init__(self, problems: Sequence[Problem], *,
                 warnings: Sequence[Problem] = (), source: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.warnings: tuple[Problem, ...] = tuple(warnings)
        self.source = source
        super().__init__("\n".join(str(p) for p in self.problems))


class ScenarioError(RequestError):
    """A scenario file broke one or more rules (same message style as requests)."""


class ParameterError(LayoutkitError, ValueError):
    """A function was called with a value outside what it accepts (a size, a time, a uid).

    The command line reports it as a usage error (exit code 2).
    """

    exit_code = 2


class ShapeError(LayoutkitError, ValueError):
    """An array handed to the pure core has the wrong shape (a programming error).

    Parameters
    ----------
    what : str
        Which array.
    expected : str or tuple
        The shape wanted, e.g. ``"(H * 3 // 2, W)"``.
    actual : tuple
        The shape given.

    Examples
    --------
    >>> str(ShapeError("canvas", expected="(540, 640)", actual=(360, 640)))
    'canvas: expected shape (540, 640), got (360, 640)'
    """

    def __init__(self, what: str, *, expected: Any, actual: Any) -> None:
        self.what, self.expected, self.actual = what, expected, tuple(actual)
        super().__init__(f"{what}: expected shape {expected}, got {self.actual}")


class OutputExistsError(LayoutkitError, FileExistsError):
    """An output file exists and replacing it was not asked for (``overwrite=False``).

    Attributes
    ----------
    path : str
        The file that exists.
    """

    def __init__(self, path: str) -> None:
        self.path = str(path)
        super().__init__(f"{path}: exists")


class UsageError(LayoutkitError, ValueError):
    """The command line was used wrongly (exit code 2); raised by :mod:`layoutkit.cli` only."""

    exit_code = 2


class MediaError(LayoutkitError, OSError):
    """A media or image file is missing, unreadable or not what it should be."""


class EncodeError(LayoutkitError, RuntimeError):
    """Encoding or muxing failed."""


class StorageError(LayoutkitError, OSError):
    """Writing to local or S3 storage failed."""


class ManifestError(LayoutkitError, ValueError):
    """A batch manifest (CSV) cannot be used.

    The message names its header, or a row's value by row and column.
    """
