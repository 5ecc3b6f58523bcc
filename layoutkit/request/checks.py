"""The value checkers shared by request and scenario parsing: one message style.

The ``as_*`` functions check one value each and return it (normalized) or :data:`BAD` after
reporting why into a :class:`Problems`; :class:`~layoutkit.request.reader.Reader` walks one
JSON object with them.  Every problem carries the JSON path, the rule and the value.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Collection, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from ..errors import Problem, format_value
from . import limits as lim
from .jsontext import JsonTextError, loads
from .masking import hide_secret
from .model import ALL_STREAMS
from .suggest import did_you_mean

MISSING: Any = Problem.MISSING
BAD: Any = object()  # a checker's "invalid, already reported" result


# --- problems ------------------------------------------------------------------------
def shown(value: Any) -> Any:
    """Return ``value`` if a message can print it, else a placeholder (huge ints, deep nesting)."""
    try:
        format_value(value)
    except (ValueError, RecursionError, TypeError):
        return "<value too large to show>"
    return value


def num(value: int | float) -> str:
    """Format a number for rule text (never fails on huge ints)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return "<huge number>"
    return str(value)


class Problems:
    """Collects every problem of one document."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def error(self, path: str, rule: str, value: Any = MISSING, hint: str | None = None) -> None:
        """Record an error of ``path``: its rule, the value (secrets hidden) and a hint."""
        rule, value, hint = hide_secret(path, rule, value, hint, missing=MISSING)
        self.items.append(Problem(path, rule, shown(value), hint))

    def warn(self, path: str, rule: str, value: Any = MISSING, hint: str | None = None) -> None:
        """Record a warning of ``path``: its rule, the value (secrets hidden) and a hint."""
        rule, value, hint = hide_secret(path, rule, value, hint, missing=MISSING)
        self.items.append(Problem(path, rule, shown(value), hint, severity="warning"))

    def of(self, severity: str) -> list[Problem]:
        """Return the problems of one ``severity`` (``'error'`` or ``'warning'``), in order."""
        return [p for p in self.items if p.severity == severity]


def join_path(path: str, key: object) -> str:
    """Return the JSON path of ``key`` under ``path`` (``key`` alone at the top level)."""
    return f"{path}.{key}" if path else str(key)


# --- value checkers: (value, path, out, **options) -> converted value or BAD --------------
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def as_number(value: Any, path: str, out: Problems) -> Any:
    """Check a JSON number (not a bool, finite); return it or BAD."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = None
        if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
            hint = f"did you mean {value.strip()} (a number, without quotes)?"
        out.error(path, "must be a number", value, hint)
        return BAD
    if isinstance(value, float) and not math.isfinite(value):
        out.error(path, "must be a finite number", value)
        return BAD
    return value


def _range_rule(lo: float | None, hi: float | None, lo_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"must be in {'(' if lo_open else '['}{num(lo)}, {num(hi)}]"
    if lo is not None:
        return f"must be {'>' if lo_open else '>='} {num(lo)}"
    return f"must be <= {num(hi)}"  # type: ignore[arg-type]


def check_range(value: float, path: str, out: Problems, lo: float | None, hi: float | None,
                 lo_open: bool = False) -> bool:
    """Report ``value`` outside ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``); True when inside."""
    too_low = lo is not None and (value <= lo if lo_open else value < lo)
    too_high = hi is not None and value > hi
    if too_low or too_high:
        out.error(path, _range_rule(lo, hi, lo_open), value)
        return False
    return True


def choices_text(choices: Collection[Any]) -> str:
    """Return ``choices`` as a rule lists them: strings in JSON quotes, comma-separated."""
    return ", ".join(json.dumps(c) if isinstance(c, str) else str(c) for c in choices)


def as_int(value: Any, path: str, out: Problems, *, lo: int | None = None, hi: int | None = None,
            choices: Collection[int] | None = None) -> Any:
    """Check an integer (a whole float too) in range and choices; return it as int or BAD."""
    number = as_number(value, path, out)
    if number is BAD:
        return BAD
    if isinstance(number, float):
        if not number.is_integer():
            out.error(path, "must be an integer", value)
            return BAD
        number = int(number)
    if choices is not None and number not in choices:
        out.error(path, f"must be one of {choices_text(choices)}", value)
        return BAD
    return number if check_range(number, path, out, lo, hi) else BAD


def _decimals(value: int | float) -> int:
    if isinstance(value, int):
        return 0
    exponent = Decimal(repr(value)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def as_float(value: Any, path: str, out: Problems, *, lo: float | None = None,
              hi: float | None = None, lo_open: bool = False, decimals: int | None = None) -> Any:
    """Check a number in range with at most ``decimals`` decimals; return a float or BAD."""
    number = as_number(value, path, out)
    if number is BAD or not check_range(number, path, out, lo, hi, lo_open):
        return BAD
    if decimals is not None and _decimals(number) > decimals:
        out.error(path, f"must have at most {decimals} decimals", value)
        return BAD
    return float(number)


def as_bool(value: Any, path: str, out: Problems) -> Any:
    """Check a JSON boolean; return it or BAD."""
    if not isinstance(value, bool):
        out.error(path, "must be true or false", value)
        return BAD
    return value


def as_str(value: Any, path: str, out: Problems, *, nonempty: bool = False,
            choices: Collection[str] | None = None) -> Any:
    """Check a string of valid Unicode, non-blank or one of ``choices`` if asked; or BAD."""
    if not isinstance(value, str):
        out.error(path, "must be a string", value)
        return BAD
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # JSON's "\ud800" escape: not a character
        out.error(path, "must be valid Unicode text (has a lone surrogate "
                        f"U+{ord(value[exc.start]):04X})", value)
        return BAD
    if nonempty and not value.strip():
        out.error(path, "must not be empty", value)
        return BAD
    if choices is not None and value not in choices:
        out.error(path, f"must be one of {choices_text(choices)}", value,
                  did_you_mean(value, choices))
        return BAD
    return value


def as_list(value: Any, path: str, out: Problems, *, nonempty: bool = False,
             max_items: int | None = None) -> Any:
    """Check an array; too many items are reported but the list is still returned, to check."""
    if not isinstance(value, list):
        out.error(path, "must be an array", value)
        return BAD
    if nonempty and not value:
        out.error(path, "must not be empty", value)
        return BAD
    if max_items is not None and len(value) > max_items:
        out.error(path, f"must have at most {max_items} entries (has {len(value)})")
    return value


def each_item(items: list[Any], path: str) -> Iterator[tuple[str, Any]]:
    """Yield the JSON path and value of each item of ``items``."""
    for i, item in enumerate(items):
        yield f"{path}[{i}]", item


def as_uid(value: Any, path: str, out: Problems, *, allow_all: bool = False) -> Any:
    """Check a uid (decimal digits in a string, 1..2**32-1; ``"#allstream#"`` if allowed)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        whole = isinstance(value, int) or value.is_integer()
        hint = f'did you mean "{int(value)}"?' if whole and 1 <= value <= lim.MAX_UID else None
        out.error(path, "must be a string", value, hint)
        return BAD
    if not isinstance(value, str):
        out.error(path, "must be a string", value)
        return BAD
    if allow_all and value == ALL_STREAMS:
        return value
    if not re.fullmatch(r"[0-9]+", value):
        rule = "must be a decimal integer in a string (digits only)"
        hint = f"use {ALL_STREAMS!r} for every stream" if allow_all and "all" in value.lower() \
            else None
        out.error(path, rule, value, hint)
    elif len(value) > 1 and value.startswith("0"):
        out.error(path, "must not have leading zeros", value)
    elif len(value) > 10 or not 1 <= int(value) <= lim.MAX_UID:
        out.error(path, f"must be in [1, {lim.MAX_UID}]", value)
    else:
        return value
    return BAD


def uid_problem(value: Any) -> str | None:
    """Return the rule a uid value breaks, or None for a valid uid.

    Parameters
    ----------
    value : Any
        A candidate uid (valid: a string of the decimal integer 1..2**32-1, no leading
        zeros), e.g. from a command-line option.

    Returns
    -------
    str or None
        E.g. ``"must not have leading zeros"``; None when ``value`` is a valid uid.
    """
    out = Problems()
    as_uid(value, "", out)
    return out.items[0].rule if out.items else None


def as_uid_list(value: Any, path: str, out: Problems, *, allow_all: bool = False) -> Any:
    """Check a non-empty array of distinct uids; return them as a tuple or BAD."""
    items = as_list(value, path, out, nonempty=True, max_items=lim.MAX_UID_LIST)
    if items is BAD:
        return BAD
    uids: list[str] = []
    first_at: dict[str, int] = {}
    ok = True
    for i, (item_path, item) in enumerate(each_item(items, path)):
        uid = as_uid(item, item_path, out, allow_all=allow_all)
        if uid is BAD:
            ok = False
        elif uid in first_at:
            out.error(item_path, f"duplicate entry (same as [{first_at[uid]}])", uid)
            ok = False
        else:
            first_at[uid] = i
            uids.append(uid)
    return tuple(uids) if ok else BAD


def as_str_list(value: Any, path: str, out: Problems) -> Any:
    """Check an array of non-empty strings; return them as a tuple or BAD."""
    items = as_list(value, path, out)
    if items is BAD:
        return BAD
    texts = [as_str(item, item_path, out, nonempty=True)
             for item_path, item in each_item(items, path)]
    return BAD if BAD in texts else tuple(texts)


def as_cname(value: Any, path: str, out: Problems) -> Any:
    """Check a channel name (length and charset of the cloud's rules); return it or BAD."""
    name = as_str(value, path, out)
    if name is BAD:
        return BAD
    if not name:  # (a name of spaces only is in the documented charset)
        out.error(path, "must not be empty", name)
        return BAD
    size = len(name.encode("utf-8"))
    if size > lim.CNAME_MAX_BYTES:
        out.error(path, f"must be shorter than 64 bytes in UTF-8 (has {size})", name)
        return BAD
    bad = sorted(set(name) - lim.CNAME_CHARS)
    if bad:
        shown = " ".join(repr(c) for c in bad)
        out.error(path, f"has characters that are not allowed: {shown}", name,
                  f"allowed: {lim.CNAME_CHARS_TEXT}")
        return BAD
    return name


def as_color(value: Any, path: str, out: Problems) -> Any:
    """Check a ``#RRGGBB`` colour; return it upper-cased or BAD (with a hint for near misses)."""
    text = as_str(value, path, out)
    if text is BAD:
        return BAD
    if re.fullmatch(r"#[0-9A-Fa-f]{6}", text):
        return text.upper()
    hint = None
    if re.fullmatch(r"[0-9A-Fa-f]{6}", text):
        hint = f"did you mean '#{text.upper()}'?"
    elif re.fullmatch(r"#[0-9A-Fa-f]{3}", text):
        hint = "did you mean '#" + "".join(c * 2 for c in text[1:]).upper() + "'?"
    out.error(path, "must be '#RRGGBB' (6 hex digits)", text, hint)
    return BAD


_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):")


def _image_file_part(text: str) -> str | None:
    """Return the file part of an image URL or local path, or None when it is neither."""
    if any(c in text for c in "\r\n\t\0"):
        return None
    scheme = _URL_SCHEME.match(text)
    if not scheme:  # a local path (a one-letter "scheme" is a Windows drive)
        return text
    if scheme.group(1).lower() not in lim.IMAGE_SCHEMES:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme in ("http", "https") and not parts.netloc:
        return None
    return parts.path


def as_image(value: Any, path: str, out: Problems) -> Any:
    """Check an image URL or local path; warn when the cloud will ignore its file type."""
    text = as_str(value, path, out, nonempty=True)
    if text is BAD:
        return BAD
    file_part = _image_file_part(text)
    if file_part is None:
        out.error(path, "must be an http(s):// or file:// URL or a local file path", text)
        return BAD
    if not file_part.lower().endswith(lim.IMAGE_EXTENSIONS):
        out.warn(path, "only JPG and BMP are used by the cloud; this image will be ignored", text)
    return text


def as_private_params(value: Any, path: str, out: Problems) -> Any:
    """Check ``privateParams``: a JSON object in a string; return its items as a tuple or BAD."""
    text = as_str(value, path, out)
    if text is BAD:
        return BAD
    try:
        parsed = loads(text)
    except JsonTextError as exc:
        out.error(path, f"must be a JSON object in a string ({exc.rule})", text)
        return BAD
    if not isinstance(parsed, dict):
        out.error(path, "must be a JSON object in a string", text)
        return BAD
    return tuple(parsed.items())


def as_av_file_types(value: Any, path: str, out: Problems) -> Any:
    """Check ``avFileType``: distinct known types, ``"hls"`` among them; return a tuple or BAD."""
    items = as_list(value, path, out)
    if items is BAD:
        return BAD
    types = [as_str(item, p, out, choices=lim.AV_FILE_TYPES) for p, item in each_item(items, path)]
    if BAD in types:
        return BAD
    if len(set(types)) != len(types):
        out.error(path, "must not repeat a file type", items)
        return BAD
    if "hls" not in types:
        out.error(path, 'must contain "hls" (["mp4"] alone is rejected)', items)
        return BAD
    return tuple(types)


def as_file_name_prefix(value: Any, path: str, out: Problems) -> Any:
    """Check ``fileNamePrefix``: alphanumeric folder names, short enough joined; or BAD."""
    parts = as_str_list(value, path, out)
    if parts is BAD:
        return BAD
    for part_path, part in each_item(list(parts), path):
        if not re.fullmatch(r"[A-Za-z0-9]+", part):
            out.error(part_path, "may only contain letters and digits (a-z A-Z 0-9)", part)
            return BAD
    length = len("/".join(parts))
    if length > lim.PREFIX_MAX_CHARS:
        out.error(path, f"joined with '/' must be at most {lim.PREFIX_MAX_CHARS} characters "
                        f"(has {length})")
        return BAD
    return parts


def is_salt(text: str) -> bool:
    """Tell whether ``text`` is base64 of a salt of the required length."""
    try:
        return len(base64.b64decode(text, validate=True)) == lim.SALT_BYTES
    except (binascii.Error, ValueError):
        return False
