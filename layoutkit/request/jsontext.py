"""JSON text -> value, with malformed text reported as a :class:`RequestError` (line, column)."""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import Problem, RequestError
from .masking import is_secret_path

__all__ = ["JsonTextError", "load_json", "load_json_document", "loads"]


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


def loads(text: str, *, duplicates: list[tuple[dict[str, Any], list[str]]] | None = None) -> Any:
    """Parse JSON like ``json.loads`` but refuse NaN/Infinity; every failure a ``JsonTextError``.

    A leading UTF-8 byte order mark (Windows editors write one) is skipped.  With
    ``duplicates`` given, every object that repeats a key is appended to it as
    ``(object, [repeated keys])`` (the last value of a key is the one kept, as in JSON
    parsers generally).
    """
    if text.startswith("\ufeff"):
        text = text[1:]

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if duplicates is not None and len(obj) != len(pairs):
            seen: set[str] = set()
            repeated = [k for k, _ in pairs if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
            duplicates.append((obj, list(dict.fromkeys(repeated))))
        return obj

    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        raise JsonTextError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsonTextError("nested too deeply", 1, 1) from None
    except ValueError as exc:  # NaN/Infinity, or an integer with too many digits
        odd = next((m for m in _ODD_TOKEN.finditer(text) if m.group(1)), None)
        line, column = _position(text, odd.start(1)) if odd else (1, 1)
        raise JsonTextError(str(exc).split(";")[0], line, column) from None


def _paths_of(value: Any, wanted: set[int]) -> dict[int, str]:
    """JSON paths (``a.b[0]``) of the objects whose ``id`` is in ``wanted``."""
    found: dict[int, str] = {}
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack and len(found) < len(wanted):
        item, path = stack.pop()
        if isinstance(item, dict):
            if id(item) in wanted:
                found[id(item)] = path
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))
    return found


def load_json_document(text: str, *, source: str = "<request>") -> tuple[Any, list[Problem]]:
    """Parse with :func:`load_json`; warn for every key an object repeats (the last one wins).

    Examples
    --------
    >>> doc, warnings = load_json_document('{"a": {"b": 1, "b": 2}}')
    >>> doc, [str(w) for w in warnings]
    ({'a': {'b': 2}}, ['warning: a.b: duplicate key: only its last value (2) is used'])
    """
    duplicates: list[tuple[dict[str, Any], list[str]]] = []
    doc = load_json(text, source=source, _duplicates=duplicates)
    paths = _paths_of(doc, {id(obj) for obj, _ in duplicates})
    problems = []
    for obj, keys in duplicates:
        where = paths.get(id(obj), "")
        for key in keys:
            path = f"{where}.{key}" if where else key
            shown = json.dumps(obj[key], ensure_ascii=False)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            rule = ("duplicate key: only its last value is used (a secret's value is never "
                    "shown)" if is_secret_path(path)
                    else f"duplicate key: only its last value ({shown}) is used")
            problems.append(Problem(path, rule, severity="warning"))
    return doc, problems


def load_json(text: str, *, source: str = "<request>",
              _duplicates: list[tuple[dict[str, Any], list[str]]] | None = None) -> Any:
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
    if not text.lstrip("\ufeff").strip():
        rule = f"malformed JSON at line 1, column 1: {source} is empty"
        raise RequestError([Problem(path="", rule=rule)])
    try:
        return loads(text, duplicates=_duplicates)
    except JsonTextError as exc:
        raise RequestError([Problem(path="", rule=exc.rule)]) from None
