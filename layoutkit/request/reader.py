"""The object walker shared by request and scenario parsing: typed reads, unknown keys."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any

from .checks import (
    BAD,
    MISSING,
    Problems,
    as_float,
    as_int,
    as_list,
    as_str,
    as_uid,
    each_item,
    join_path,
)
from .suggest import did_you_mean

__all__ = ["Reader", "Required"]


Required = bool | str  # True, or the condition text of "is required <when ...>"


class Reader:
    """One JSON object at one path: typed field reads, unknown-key and required checks.

    Parameters
    ----------
    value : Any
        The object (``MISSING`` when the key was absent: every field then takes its
        default, and required fields are not reported).
    path : str
        Its JSON path.
    out : Problems
        Where problems go.
    keys : collection of str
        The keys this object may have; any other key is reported with a "did you
        mean" hint.
    """

    def __init__(self, value: Any, path: str, out: Problems, keys: Collection[str]) -> None:
        self.path = path
        self.out = out
        self.bad: set[str] = set()
        self.present = isinstance(value, dict)
        self.data: dict[Any, Any] = value if self.present else {}
        if value is not MISSING and not self.present:
            out.error(path, "must be an object", value)
        for key in self.data:
            if key not in keys:
                out.error(self.at(key), "unknown key", hint=did_you_mean(str(key), keys))

    def at(self, key: object) -> str:
        """Return the JSON path of ``key`` in this object."""
        return join_path(self.path, key)

    def has(self, key: str) -> bool:
        """Tell whether this object has ``key`` (whatever its value)."""
        return key in self.data

    def ok(self, key: str) -> bool:
        """Tell whether ``key`` is absent or passed its checks."""
        return key not in self.bad

    def error(self, key: str, rule: str, value: Any = MISSING, hint: str | None = None) -> None:
        """Report an error of ``key`` and mark it bad (see :meth:`ok`)."""
        self.bad.add(key)
        self.out.error(self.at(key), rule, value, hint)

    def warn(self, key: str, rule: str, value: Any = MISSING, hint: str | None = None) -> None:
        """Report a warning of ``key``; it stays usable."""
        self.out.warn(self.at(key), rule, value, hint)

    def _require(self, key: str, required: Required) -> None:
        if required and self.present:
            self.error(key, "is required" if required is True else f"is required {required}")

    def field(self, key: str, check: Callable[..., Any], default: Any = None, *,
              required: Required = False, **options: Any) -> Any:
        """Check ``key`` with ``check(value, path, out, **options)``; default when absent or bad."""
        if key not in self.data:
            self._require(key, required)
            return default
        result = check(self.data[key], self.at(key), self.out, **options)
        if result is BAD:
            self.bad.add(key)
            return default
        return result

    def integer(self, key: str, default: int | None = None, *, required: Required = False,
                lo: int | None = None, hi: int | None = None,
                choices: Collection[int] | None = None) -> Any:
        """Check an integer at ``key`` (see ``as_int``); default when absent or bad."""
        return self.field(key, as_int, default, required=required, lo=lo, hi=hi, choices=choices)

    def fraction(self, key: str, default: float | None = None, *, required: Required = False,
                 lo_open: bool = False, decimals: int | None = None) -> Any:
        """Check a number in ``[0, 1]`` (``(0, 1]`` with ``lo_open``) at ``key``, as a float."""
        return self.field(key, as_float, default, required=required, lo=0, hi=1,
                          lo_open=lo_open, decimals=decimals)

    def text(self, key: str, default: str | None = None, *, required: Required = False,
             nonempty: bool = False, choices: Collection[str] | None = None) -> Any:
        """Check a string at ``key`` (see ``as_str``); default when absent or bad."""
        return self.field(key, as_str, default, required=required, nonempty=nonempty,
                          choices=choices)

    def uid(self, key: str, *, required: Required = False) -> Any:
        """Check a uid at ``key`` (see ``as_uid``); None when absent or bad."""
        return self.field(key, as_uid, None, required=required)

    def child(self, key: str, keys: Collection[str], *, required: Required = False) -> Reader:
        """Return a reader of the object at ``key`` (empty when absent; reported if required)."""
        if key not in self.data:
            self._require(key, required)
        reader = Reader(self.data.get(key, MISSING), self.at(key), self.out, keys)
        if key in self.data and not reader.present:
            self.bad.add(key)
        return reader

    def entries(self, key: str, keys: Collection[str], **options: Any) -> Iterator[Reader]:
        """Yield a reader for every item of the array at ``key`` (none when absent or not one)."""
        items = self.field(key, as_list, None, **options)
        for item_path, item in each_item(items or [], self.at(key)):
            yield Reader(item, item_path, self.out, keys)
