"""JSON text -> value, with malformed text reported as a :class:`RequestError` (line, column)."""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import Problem, RequestError

__all__ = ["JsonTextError", "load_json", "loads"]


class JsonTextError(Exception):
    """Malformed JSON text; ``rule`` says where and why."""

    def __init__(self, msg: str, line: int, column: int) -> None:
        super().__init__(msg)
        self.rule = f"malformed JSON at line {line}, column {column}: {msg}"


class _NotJson(ValueError):
    """Raised for a token Python's json accepts but JSON does not (NaN, Infinity)."""


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not valid JSON")


# First token outside strings that Python's json cannot or should not turn into a value.
_ODD_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(NaN|-?Infinity|-?[0-9]{4000,})')


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def loads(text: str) -> Any:
    """``json.loads`` that rejects NaN/Infinity and turns every failure into ``JsonTextError``."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise JsonTextError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsonTextError("nested too deeply", 1, 1) from None
    except ValueError as exc:  # NaN/Infinity, or an integer with too many digits
        odd = next((m for m in _ODD_TOKEN.finditer(text) if m.group(1)), None)
        line, column = _position(text, odd.start(1)) if odd else (1, 1)
        raise JsonTextError(str(exc).split(";")[0], line, column) from None


def load_json(text: str, *, source: str = "<request>") -> Any:
    """Decode a request document, reporting malformed JSON as a :class:`RequestError`.

    Parameters
    ----------
    text : str
        The JSON text.
    source : str, optional
        Name of the document, used in the message for an empty document.

    Returns
    -------
    Any
        The decoded value (any JSON value; :func:`parse_request` checks its shape).

    Raises
    ------
    RequestError
        One problem at path ``""``: ``malformed JSON at line L, column C: <reason>``.
        ``NaN`` and ``Infinity`` are rejected as they are not JSON.
    """
    if not text.strip():
        rule = f"malformed JSON at line 1, column 1: {source} is empty"
        raise RequestError([Problem(path="", rule=rule)])
    try:
        return loads(text)
    except JsonTextError as exc:
        raise RequestError([Problem(path="", rule=exc.rule)]) from None
