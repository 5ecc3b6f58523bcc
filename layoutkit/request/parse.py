"""Parse cloud-recording request bodies (composite mode) into the model, checking every rule.

Every problem is collected before anything is raised, so one :class:`RequestError`
lists all of them.  Each problem carries the JSON path from the body root (``[i]`` for
array items); for a bare ``clientRequest`` the paths start inside it.  Rules are those of
``shared/spec/agora-composite.md`` sections 2, 3, 5, 6 and 7; values that the cloud
silently replaces (``fps``) and settings the cloud ignores are warnings.

The walking is done by :class:`_Reader` (one JSON object at one path) with the value
checkers ``_as_*`` (one JSON value at one path); both report into one ``_Problems``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Collection, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from ..errors import Problem, RequestError, UsageError, format_value
from . import limits as lim
from .model import (
    ALL_STREAMS,
    AcquireRequest,
    LayoutRegion,
    LayoutSettings,
    RecordingConfig,
    RecordingFileConfig,
    StartRequest,
    StopRequest,
    StorageConfig,
    TranscodingConfig,
    UpdateLayoutRequest,
    UpdateRequest,
    UserBackground,
)
from .suggest import did_you_mean

__all__ = [
    "KINDS",
    "load_json",
    "parse_request",
    "parse_layout_settings",
    "detect_kind",
    "uid_problem",
]

KINDS: tuple[str, ...] = ("start", "updateLayout", "acquire", "update", "stop")
_BARE = "clientRequest"  # kind= value meaning "a bare clientRequest, detect which"

MISSING: Any = Problem.MISSING
_BAD: Any = object()  # a checker's "invalid, already reported" result

# --- key sets of every object ----------------------------------------------------------
ENVELOPE_KEYS = ("cname", "uid", "clientRequest")
LAYOUT_KEYS = (
    "mixedVideoLayout",
    "maxResolutionUid",
    "backgroundColor",
    "backgroundImage",
    "defaultUserBackgroundImage",
    "layoutConfig",
    "backgroundConfig",
)
TRANSCODING_KEYS = ("width", "height", "fps", "bitrate", *LAYOUT_KEYS)
REGION_KEYS = ("uid", "x_axis", "y_axis", "width", "height", "alpha", "render_mode")
USER_BACKGROUND_KEYS = ("uid", "image_url", "render_mode")
AUDIO_LIST_KEYS = ("subscribeAudioUids", "unSubscribeAudioUids", "unsubscribeAudioUids")
VIDEO_LIST_KEYS = ("subscribeVideoUids", "unSubscribeVideoUids", "unsubscribeVideoUids")
RECORDING_KEYS = (
    "channelType",
    "streamTypes",
    "decryptionMode",
    "secret",
    "salt",
    "maxIdleTime",
    "audioProfile",
    "videoStreamType",
    *AUDIO_LIST_KEYS,
    *VIDEO_LIST_KEYS,
    "subscribeUidGroup",
    "streamMode",
    "transcodingConfig",
    "privateParams",
)
FILE_CONFIG_KEYS = ("avFileType",)
STORAGE_KEYS = (
    "vendor",
    "region",
    "bucket",
    "accessKey",
    "secretKey",
    "fileNamePrefix",
    "extensionParams",
    "stsToken",
    "stsExpiration",
)
EXTENSION_KEYS = ("sse", "tag", "endpoint")
START_KEYS = ("token", "recordingConfig", "recordingFileConfig", "storageConfig")
ACQUIRE_KEYS = ("scene", "resourceExpiredHour", "region", "excludeResourceIds", "startParameter")
UPDATE_KEYS = ("streamSubscribe", "storageConfig")
STREAM_SUBSCRIBE_KEYS = ("audioUidList", "videoUidList")
STOP_KEYS = ("async_stop",)
CLIENT_KEYS: dict[str, tuple[str, ...]] = {
    "start": START_KEYS,
    "updateLayout": LAYOUT_KEYS,
    "acquire": ACQUIRE_KEYS,
    "update": UPDATE_KEYS,
    "stop": STOP_KEYS,
}


# --- problems ------------------------------------------------------------------------
def _shown(value: Any) -> Any:
    """``value`` if a message can print it, else a placeholder (huge ints, deep nesting)."""
    try:
        format_value(value)
    except (ValueError, RecursionError, TypeError):
        return "<value too large to show>"
    return value


def _num(value: int | float) -> str:
    """A number for rule text (never fails on huge ints)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return "<huge number>"
    return str(value)


class _Problems:
    """Collects every problem of one document."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def error(self, path: str, rule: str, value: Any = MISSING, hint: str | None = None) -> None:
        self.items.append(Problem(path, rule, _shown(value), hint))

    def warn(self, path: str, rule: str, value: Any = MISSING, hint: str | None = None) -> None:
        self.items.append(Problem(path, rule, _shown(value), hint, severity="warning"))

    def of(self, severity: str) -> list[Problem]:
        return [p for p in self.items if p.severity == severity]


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


# --- JSON text -------------------------------------------------------------------------
class _JsonTextError(Exception):
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


def _loads(text: str) -> Any:
    """``json.loads`` that rejects NaN/Infinity and turns every failure into ``_JsonTextError``."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _JsonTextError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise _JsonTextError("nested too deeply", 1, 1) from None
    except ValueError as exc:  # NaN/Infinity, or an integer with too many digits
        odd = next((m for m in _ODD_TOKEN.finditer(text) if m.group(1)), None)
        line, column = _position(text, odd.start(1)) if odd else (1, 1)
        raise _JsonTextError(str(exc).split(";")[0], line, column) from None


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
        return _loads(text)
    except _JsonTextError as exc:
        raise RequestError([Problem(path="", rule=exc.rule)]) from None


# --- value checkers: (value, path, out, **options) -> converted value or _BAD --------------
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _as_number(value: Any, path: str, out: _Problems) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = None
        if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
            hint = f"did you mean {value.strip()} (a number, without quotes)?"
        out.error(path, "must be a number", value, hint)
        return _BAD
    if isinstance(value, float) and not math.isfinite(value):
        out.error(path, "must be a finite number", value)
        return _BAD
    return value


def _range_rule(lo: float | None, hi: float | None, lo_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"must be in {'(' if lo_open else '['}{_num(lo)}, {_num(hi)}]"
    if lo is not None:
        return f"must be {'>' if lo_open else '>='} {_num(lo)}"
    return f"must be <= {_num(hi)}"  # type: ignore[arg-type]


def _check_range(value: float, path: str, out: _Problems, lo: float | None, hi: float | None,
                 lo_open: bool = False) -> bool:
    too_low = lo is not None and (value <= lo if lo_open else value < lo)
    too_high = hi is not None and value > hi
    if too_low or too_high:
        out.error(path, _range_rule(lo, hi, lo_open), value)
        return False
    return True


def _choices_text(choices: Collection[Any]) -> str:
    return ", ".join(json.dumps(c) if isinstance(c, str) else str(c) for c in choices)


def _as_int(value: Any, path: str, out: _Problems, *, lo: int | None = None, hi: int | None = None,
            choices: Collection[int] | None = None) -> Any:
    number = _as_number(value, path, out)
    if number is _BAD:
        return _BAD
    if isinstance(number, float):
        if not number.is_integer():
            out.error(path, "must be an integer", value)
            return _BAD
        number = int(number)
    if choices is not None and number not in choices:
        out.error(path, f"must be one of {_choices_text(choices)}", value)
        return _BAD
    return number if _check_range(number, path, out, lo, hi) else _BAD


def _decimals(value: int | float) -> int:
    if isinstance(value, int):
        return 0
    exponent = Decimal(repr(value)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _as_float(value: Any, path: str, out: _Problems, *, lo: float | None = None,
              hi: float | None = None, lo_open: bool = False, decimals: int | None = None) -> Any:
    number = _as_number(value, path, out)
    if number is _BAD or not _check_range(number, path, out, lo, hi, lo_open):
        return _BAD
    if decimals is not None and _decimals(number) > decimals:
        out.error(path, f"must have at most {decimals} decimals", value)
        return _BAD
    return float(number)


def _as_bool(value: Any, path: str, out: _Problems) -> Any:
    if not isinstance(value, bool):
        out.error(path, "must be true or false", value)
        return _BAD
    return value


def _as_str(value: Any, path: str, out: _Problems, *, nonempty: bool = False,
            choices: Collection[str] | None = None) -> Any:
    if not isinstance(value, str):
        out.error(path, "must be a string", value)
        return _BAD
    if nonempty and not value.strip():
        out.error(path, "must not be empty", value)
        return _BAD
    if choices is not None and value not in choices:
        out.error(path, f"must be one of {_choices_text(choices)}", value,
                  did_you_mean(value, choices))
        return _BAD
    return value


def _as_list(value: Any, path: str, out: _Problems, *, nonempty: bool = False,
             max_items: int | None = None) -> Any:
    """A list (too many items is reported but the list is still returned for checking)."""
    if not isinstance(value, list):
        out.error(path, "must be an array", value)
        return _BAD
    if nonempty and not value:
        out.error(path, "must not be empty", value)
        return _BAD
    if max_items is not None and len(value) > max_items:
        out.error(path, f"must have at most {max_items} entries (has {len(value)})")
    return value


def _each(items: list[Any], path: str) -> Iterator[tuple[str, Any]]:
    for i, item in enumerate(items):
        yield f"{path}[{i}]", item


def _as_uid(value: Any, path: str, out: _Problems, *, allow_all: bool = False) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        whole = isinstance(value, int) or value.is_integer()
        hint = f'did you mean "{int(value)}"?' if whole and 1 <= value <= lim.MAX_UID else None
        out.error(path, "must be a string", value, hint)
        return _BAD
    if not isinstance(value, str):
        out.error(path, "must be a string", value)
        return _BAD
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
    return _BAD


def uid_problem(value: Any) -> str | None:
    """The rule a uid value breaks, or None for a valid uid.

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
    out = _Problems()
    _as_uid(value, "", out)
    return out.items[0].rule if out.items else None


def _as_uid_list(value: Any, path: str, out: _Problems, *, allow_all: bool = False) -> Any:
    items = _as_list(value, path, out, nonempty=True, max_items=lim.MAX_UID_LIST)
    if items is _BAD:
        return _BAD
    uids: list[str] = []
    first_at: dict[str, int] = {}
    ok = True
    for i, (item_path, item) in enumerate(_each(items, path)):
        uid = _as_uid(item, item_path, out, allow_all=allow_all)
        if uid is _BAD:
            ok = False
        elif uid in first_at:
            out.error(item_path, f"duplicate entry (same as [{first_at[uid]}])", uid)
            ok = False
        else:
            first_at[uid] = i
            uids.append(uid)
    return tuple(uids) if ok else _BAD


def _as_str_list(value: Any, path: str, out: _Problems) -> Any:
    items = _as_list(value, path, out)
    if items is _BAD:
        return _BAD
    texts = [_as_str(item, item_path, out, nonempty=True) for item_path, item in _each(items, path)]
    return _BAD if _BAD in texts else tuple(texts)


def _as_cname(value: Any, path: str, out: _Problems) -> Any:
    name = _as_str(value, path, out)
    if name is _BAD:
        return _BAD
    if not name:  # (a name of spaces only is in the documented charset)
        out.error(path, "must not be empty", name)
        return _BAD
    size = len(name.encode("utf-8"))
    if size > lim.CNAME_MAX_BYTES:
        out.error(path, f"must be shorter than 64 bytes in UTF-8 (has {size})", name)
        return _BAD
    bad = sorted(set(name) - lim.CNAME_CHARS)
    if bad:
        shown = " ".join(repr(c) for c in bad)
        out.error(path, f"has characters that are not allowed: {shown}", name,
                  f"allowed: {lim.CNAME_CHARS_TEXT}")
        return _BAD
    return name


def _as_color(value: Any, path: str, out: _Problems) -> Any:
    text = _as_str(value, path, out)
    if text is _BAD:
        return _BAD
    if re.fullmatch(r"#[0-9A-Fa-f]{6}", text):
        return text.upper()
    hint = None
    if re.fullmatch(r"[0-9A-Fa-f]{6}", text):
        hint = f"did you mean '#{text.upper()}'?"
    elif re.fullmatch(r"#[0-9A-Fa-f]{3}", text):
        hint = "did you mean '#" + "".join(c * 2 for c in text[1:]).upper() + "'?"
    out.error(path, "must be '#RRGGBB' (6 hex digits)", text, hint)
    return _BAD


_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):")


def _image_file_part(text: str) -> str | None:
    """The file part of an image URL or local path, or None when it is neither."""
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


def _as_image(value: Any, path: str, out: _Problems) -> Any:
    text = _as_str(value, path, out, nonempty=True)
    if text is _BAD:
        return _BAD
    file_part = _image_file_part(text)
    if file_part is None:
        out.error(path, "must be an http(s):// or file:// URL or a local file path", text)
        return _BAD
    if not file_part.lower().endswith(lim.IMAGE_EXTENSIONS):
        out.warn(path, "only JPG and BMP are used by the cloud; this image will be ignored", text)
    return text


def _as_private_params(value: Any, path: str, out: _Problems) -> Any:
    text = _as_str(value, path, out)
    if text is _BAD:
        return _BAD
    try:
        parsed = _loads(text)
    except _JsonTextError as exc:
        out.error(path, f"must be a JSON object in a string ({exc.rule})", text)
        return _BAD
    if not isinstance(parsed, dict):
        out.error(path, "must be a JSON object in a string", text)
        return _BAD
    return tuple(parsed.items())


def _as_av_file_types(value: Any, path: str, out: _Problems) -> Any:
    items = _as_list(value, path, out)
    if items is _BAD:
        return _BAD
    types = [_as_str(item, p, out, choices=lim.AV_FILE_TYPES) for p, item in _each(items, path)]
    if _BAD in types:
        return _BAD
    if len(set(types)) != len(types):
        out.error(path, "must not repeat a file type", items)
        return _BAD
    if "hls" not in types:
        out.error(path, 'must contain "hls" (["mp4"] alone is rejected)', items)
        return _BAD
    return tuple(types)


def _as_file_name_prefix(value: Any, path: str, out: _Problems) -> Any:
    parts = _as_str_list(value, path, out)
    if parts is _BAD:
        return _BAD
    for part_path, part in _each(list(parts), path):
        if not re.fullmatch(r"[A-Za-z0-9]+", part):
            out.error(part_path, "may only contain letters and digits (a-z A-Z 0-9)", part)
            return _BAD
    length = len("/".join(parts))
    if length > lim.PREFIX_MAX_CHARS:
        out.error(path, f"joined with '/' must be at most {lim.PREFIX_MAX_CHARS} characters "
                        f"(has {length})")
        return _BAD
    return parts


def _is_salt(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) == lim.SALT_BYTES
    except (binascii.Error, ValueError):
        return False


# --- the object walker -----------------------------------------------------------------
Required = bool | str  # True, or the condition text of "is required <when ...>"


class _Reader:
    """One JSON object at one path: typed field reads, unknown-key and required checks.

    Parameters
    ----------
    value : Any
        The object (``MISSING`` when the key was absent: every field then takes its
        default, and required fields are not reported).
    path : str
        Its JSON path.
    out : _Problems
        Where problems go.
    keys : collection of str
        The keys this object may have; any other key is reported with a "did you
        mean" hint.
    """

    def __init__(self, value: Any, path: str, out: _Problems, keys: Collection[str]) -> None:
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
        return _join(self.path, key)

    def has(self, key: str) -> bool:
        return key in self.data

    def ok(self, key: str) -> bool:
        """True when ``key`` is absent or passed its checks."""
        return key not in self.bad

    def error(self, key: str, rule: str, value: Any = MISSING, hint: str | None = None) -> None:
        self.bad.add(key)
        self.out.error(self.at(key), rule, value, hint)

    def warn(self, key: str, rule: str, value: Any = MISSING, hint: str | None = None) -> None:
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
        if result is _BAD:
            self.bad.add(key)
            return default
        return result

    def integer(self, key: str, default: int | None = None, *, required: Required = False,
                lo: int | None = None, hi: int | None = None,
                choices: Collection[int] | None = None) -> Any:
        return self.field(key, _as_int, default, required=required, lo=lo, hi=hi, choices=choices)

    def fraction(self, key: str, default: float | None = None, *, required: Required = False,
                 lo_open: bool = False, decimals: int | None = None) -> Any:
        """A number in ``[0, 1]`` (``(0, 1]`` with ``lo_open``)."""
        return self.field(key, _as_float, default, required=required, lo=0, hi=1,
                          lo_open=lo_open, decimals=decimals)

    def text(self, key: str, default: str | None = None, *, required: Required = False,
             nonempty: bool = False, choices: Collection[str] | None = None) -> Any:
        return self.field(key, _as_str, default, required=required, nonempty=nonempty,
                          choices=choices)

    def uid(self, key: str, *, required: Required = False) -> Any:
        return self.field(key, _as_uid, None, required=required)

    def child(self, key: str, keys: Collection[str], *, required: Required = False) -> _Reader:
        if key not in self.data:
            self._require(key, required)
        reader = _Reader(self.data.get(key, MISSING), self.at(key), self.out, keys)
        if key in self.data and not reader.present:
            self.bad.add(key)
        return reader

    def entries(self, key: str, keys: Collection[str], **options: Any) -> Iterator[_Reader]:
        """A reader for every item of the array at ``key`` (none when absent or not an array)."""
        items = self.field(key, _as_list, None, **options)
        for item_path, item in _each(items or [], self.at(key)):
            yield _Reader(item, item_path, self.out, keys)


# --- layout settings (transcodingConfig and updateLayout) -------------------------------------
def _check_unique_uid(entry: _Reader, uid: str | None, first_at: dict[str, str]) -> None:
    """Report ``uid`` if an earlier entry of the array has it (``first_at``: uid -> entry)."""
    if uid is None:
        return
    if uid in first_at:
        entry.error("uid", f"duplicate uid (also in {first_at[uid]})", uid)
    else:
        first_at[uid] = entry.path.rsplit(".", 1)[-1]


def _read_regions(r: _Reader, mode: int | None) -> tuple[LayoutRegion, ...]:
    key, custom = "layoutConfig", mode == lim.CUSTOM_LAYOUT
    if not r.has(key):
        if custom:
            r.error(key, "is required when mixedVideoLayout is 3")
        return ()
    if mode is not None and not custom:
        r.error(key, f"is only allowed with mixedVideoLayout 3 (custom), not {mode}")
    regions: list[LayoutRegion] = []
    uid_at: dict[str, str] = {}
    for e in r.entries(key, REGION_KEYS, nonempty=custom, max_items=lim.MAX_REGIONS):
        uid = e.uid("uid")
        box = {k: e.fraction(k, required=True, lo_open=k in ("width", "height"),
                             decimals=lim.FRACTION_DECIMALS)
               for k in ("x_axis", "y_axis", "width", "height")}
        for start, size in (("x_axis", "width"), ("y_axis", "height")):
            if box[start] is None or box[size] is None:
                continue
            end = box[start] + box[size]
            if end > 1 + 1e-9:
                r.out.error(e.path, f"{start} + {size} must be <= 1", round(end, 9))
        _check_unique_uid(e, uid, uid_at)
        regions.append(LayoutRegion(
            x_axis=box["x_axis"] or 0.0, y_axis=box["y_axis"] or 0.0,
            width=box["width"] or 0.0, height=box["height"] or 0.0, uid=uid,
            alpha=e.fraction("alpha", 1.0),
            render_mode=e.integer("render_mode", 0, choices=lim.RENDER_MODES)))
    return tuple(regions)


def _read_user_backgrounds(r: _Reader) -> tuple[UserBackground, ...]:
    entries: list[UserBackground] = []
    uid_at: dict[str, str] = {}
    for e in r.entries("backgroundConfig", USER_BACKGROUND_KEYS):
        uid = e.uid("uid", required=True)
        _check_unique_uid(e, uid, uid_at)
        entries.append(UserBackground(
            uid=uid or "",
            image_url=e.field("image_url", _as_image, "", required=True),
            render_mode=e.integer("render_mode", 0, choices=lim.RENDER_MODES)))
    return tuple(entries)


def _read_layout(r: _Reader) -> LayoutSettings:
    mode = r.integer("mixedVideoLayout", 0, choices=lim.LAYOUT_MODES)
    known_mode = mode if r.ok("mixedVideoLayout") else None
    max_uid = r.uid("maxResolutionUid")
    if max_uid is not None and known_mode not in (None, lim.VERTICAL_LAYOUT):
        r.warn("maxResolutionUid", "is only used by the vertical layout (mixedVideoLayout 2); "
                                   "ignored here", max_uid)
    return LayoutSettings(
        mixed_video_layout=mode,
        max_resolution_uid=max_uid,
        background_color=r.field("backgroundColor", _as_color, "#000000"),
        background_image=r.field("backgroundImage", _as_image),
        default_user_background_image=r.field("defaultUserBackgroundImage", _as_image),
        layout_config=_read_regions(r, known_mode),
        background_config=_read_user_backgrounds(r),
    )


def _read_transcoding(r: _Reader) -> TranscodingConfig:
    side = {"lo": 1, "hi": lim.MAX_SIDE}
    width = r.integer("width", lim.DEFAULT_WIDTH, **side)
    height = r.integer("height", lim.DEFAULT_HEIGHT, **side)
    if r.ok("width") and r.ok("height") and width * height > lim.MAX_AREA:
        r.out.error(r.path, f"area {width}x{height} exceeds {lim.MAX_AREA_TEXT} "
                            f"({width * height} > {lim.MAX_AREA} pixels)")
    for key, size in (("width", width), ("height", height)):
        if r.has(key) and r.ok(key) and size % 2:
            r.warn(key, "odd size is rounded by encoders (yuv420p needs even sizes)", size)
    fps = r.integer("fps", lim.DEFAULT_FPS)
    if r.ok("fps") and fps not in lim.ALLOWED_FPS:
        r.warn("fps", f"fps {_num(fps)} is not supported; the cloud uses {lim.DEFAULT_FPS}", fps,
               "supported: " + _choices_text(sorted(lim.ALLOWED_FPS)))
        fps = lim.DEFAULT_FPS
    bitrate = r.integer("bitrate", lim.DEFAULT_BITRATE, lo=1, hi=lim.MAX_BITRATE)
    return TranscodingConfig(width=width, height=height, fps=fps, bitrate=bitrate,
                             layout=_read_layout(r))


def parse_layout_settings(obj: Any, *, path: str = "") -> tuple[LayoutSettings, list[Problem]]:
    """Check and convert an ``updateLayout`` ``clientRequest`` (the layout keys only).

    The same rules apply to the layout keys of ``transcodingConfig`` in a ``start`` body.

    Parameters
    ----------
    obj : Any
        The JSON object with ``mixedVideoLayout``, ``layoutConfig`` etc.
    path : str, optional
        JSON path of ``obj`` used in problems (e.g. ``"clientRequest"``).

    Returns
    -------
    settings : LayoutSettings
        The settings, every omitted field at its default (only meaningful when
        ``problems`` holds no error).
    problems : list of Problem
        Errors and warnings (nothing is raised).
    """
    out = _Problems()
    return _read_layout(_Reader(obj, path, out, LAYOUT_KEYS)), out.items


# --- recordingConfig --------------------------------------------------------------------
_MEDIA_LISTS = {
    "audio": (AUDIO_LIST_KEYS, lim.STREAM_TYPES_WITH_AUDIO),
    "video": (VIDEO_LIST_KEYS, lim.STREAM_TYPES_WITH_VIDEO),
}


def _read_uid_lists(r: _Reader, media: str, stream_types: int | None = None
                    ) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """``(subscribe, unsubscribe)`` lists of one media; both spellings of unSubscribe."""
    keys, allowed = _MEDIA_LISTS[media]
    given = [k for k in r.data if k in keys]
    lists: dict[bool, tuple[str, ...] | None] = {True: None, False: None}
    for i, key in enumerate(given):
        subscribe = key == keys[0]
        lists[subscribe] = r.field(key, _as_uid_list, allow_all=subscribe)
        if i:
            r.error(key, f"cannot be used together with {given[0]}")
        if stream_types is not None and stream_types not in allowed:
            r.error(key, f"is not allowed with streamTypes {stream_types} ({media} lists need "
                         f"streamTypes {allowed[0]} or {allowed[1]})")
    return lists[True], lists[False]


def _read_decryption(r: _Reader, mode: int | None) -> tuple[str | None, str | None]:
    needs_salt = mode in lim.SALT_DECRYPTION_MODES
    secret = r.text("secret", nonempty=True,
                    required=f"when decryptionMode is {mode}" if mode else False)
    salt = r.text("salt", nonempty=True,
                  required=f"when decryptionMode is {mode}" if needs_salt else False)
    if salt is not None and not _is_salt(salt):
        r.error("salt", f"must be the Base64 encoding of {lim.SALT_BYTES} bytes", salt)
    if mode == 0 and secret is not None:
        r.warn("secret", "is ignored when decryptionMode is 0")
    if mode is not None and not needs_salt and salt is not None:
        r.warn("salt", "is only used with decryptionMode 7 or 8")
    return secret, salt


def _read_recording(r: _Reader) -> RecordingConfig:
    channel_type = r.integer("channelType", 0, choices=lim.CHANNEL_TYPES)
    stream_types = r.integer("streamTypes", 2, choices=lim.STREAM_TYPES)
    known_types = stream_types if r.ok("streamTypes") else None
    mode = r.integer("decryptionMode", 0, lo=0, hi=max(lim.DECRYPTION_MODES))
    secret, salt = _read_decryption(r, mode if r.ok("decryptionMode") else None)
    sub_audio, unsub_audio = _read_uid_lists(r, "audio", known_types)
    sub_video, unsub_video = _read_uid_lists(r, "video", known_types)
    group = r.integer("subscribeUidGroup", choices=lim.SUBSCRIBE_UID_GROUPS)
    if group is not None:
        r.warn("subscribeUidGroup", "is only used in individual mode; ignored in composite mode",
               group)
    if r.has("streamMode"):
        r.error("streamMode", "is for individual mode only; not allowed in composite (mix) mode",
                r.data["streamMode"])
    return RecordingConfig(
        channel_type=channel_type,
        stream_types=stream_types,
        decryption_mode=mode,
        secret=secret,
        salt=salt,
        max_idle_time=r.integer("maxIdleTime", lim.DEFAULT_MAX_IDLE_TIME,
                                lo=lim.MAX_IDLE_TIME[0], hi=lim.MAX_IDLE_TIME[1]),
        audio_profile=r.integer("audioProfile", 0, choices=lim.AUDIO_PROFILES),
        video_stream_type=r.integer("videoStreamType", 0, choices=lim.VIDEO_STREAM_TYPES),
        subscribe_audio_uids=sub_audio,
        unsubscribe_audio_uids=unsub_audio,
        subscribe_video_uids=sub_video,
        unsubscribe_video_uids=unsub_video,
        subscribe_uid_group=group,
        transcoding_config=_read_transcoding(r.child("transcodingConfig", TRANSCODING_KEYS)),
        private_params=r.field("privateParams", _as_private_params, ()),
    )


# --- storageConfig ----------------------------------------------------------------------
def _read_extension_params(r: _Reader, vendor: int | None) -> tuple[tuple[str, Any], ...]:
    s3_compatible = vendor == lim.S3_COMPATIBLE_VENDOR
    e = r.child("extensionParams", EXTENSION_KEYS,
                required="when vendor is 11 (for endpoint)" if s3_compatible else False)
    values = {
        "sse": e.text("sse", choices=lim.SSE_VALUES),
        "tag": e.text("tag"),
        "endpoint": e.text("endpoint", nonempty=True,
                           required="when vendor is 11" if s3_compatible else False),
    }
    if values["sse"] is not None and vendor not in (None, lim.S3_VENDOR):
        e.warn("sse", "is only used by Amazon S3 (vendor 1)", values["sse"])
    return tuple((k, v) for k, v in values.items() if v is not None)


def _read_storage(r: _Reader, *, complete: bool = True) -> StorageConfig:
    """``storageConfig``; ``complete=False`` (``update``) makes every key optional.

    ``stsToken`` and ``stsExpiration`` are checked but not kept (the model has no field).
    """
    vendor = r.integer("vendor", 1, required=complete, choices=lim.VENDORS)
    known_vendor = vendor if r.has("vendor") and r.ok("vendor") else None
    if known_vendor in lim.LEGACY_VENDORS:
        r.warn("vendor", f"vendor {vendor} ({lim.LEGACY_VENDORS[vendor]}) is no longer in the "
                         f"cloud's vendor list", vendor)
    r.text("stsToken", nonempty=True)
    r.integer("stsExpiration", lo=0)
    return StorageConfig(
        vendor=vendor,
        region=r.integer("region", 0, required=complete, lo=0),
        bucket=r.text("bucket", "", required=complete, nonempty=True),
        access_key=r.text("accessKey", "", required=complete, nonempty=True),
        secret_key=r.text("secretKey", "", required=complete, nonempty=True),
        file_name_prefix=r.field("fileNamePrefix", _as_file_name_prefix, ()),
        extension_params=_read_extension_params(r, known_vendor),
    )


def _read_file_config(r: _Reader) -> RecordingFileConfig:
    return RecordingFileConfig(av_file_type=r.field("avFileType", _as_av_file_types, ("hls",)))


# --- the five bodies --------------------------------------------------------------------
def _read_start(r: _Reader, cname: str, uid: str, *, storage_required: bool) -> StartRequest:
    token = r.text("token")
    recording = _read_recording(r.child("recordingConfig", RECORDING_KEYS, required=True))
    files = _read_file_config(r.child("recordingFileConfig", FILE_CONFIG_KEYS))
    storage = r.child("storageConfig", STORAGE_KEYS, required=storage_required)
    return StartRequest(cname=cname, uid=uid, token=token, recording_config=recording,
                        recording_file_config=files,
                        storage_config=_read_storage(storage) if storage.present else None)


def _read_update_layout(r: _Reader, cname: str, uid: str, whole: bool) -> UpdateLayoutRequest:
    return UpdateLayoutRequest(cname=cname, uid=uid, layout=_read_layout(r))


def _read_acquire(r: _Reader, cname: str, uid: str, whole: bool) -> AcquireRequest:
    r.field("excludeResourceIds", _as_str_list)
    start = None
    if r.has("startParameter"):
        start = _read_start(r.child("startParameter", START_KEYS), "", "", storage_required=False)
    return AcquireRequest(
        cname=cname,
        uid=uid,
        scene=r.integer("scene", 0, choices=lim.SCENES),
        resource_expired_hour=r.integer("resourceExpiredHour", lim.DEFAULT_RESOURCE_EXPIRED_HOUR,
                                        lo=lim.RESOURCE_EXPIRED_HOUR[0],
                                        hi=lim.RESOURCE_EXPIRED_HOUR[1]),
        region=r.text("region", choices=lim.ACQUIRE_REGIONS),
        start_parameter=start,
    )


def _read_update(r: _Reader, cname: str, uid: str, whole: bool) -> UpdateRequest:
    subscribe = r.child("streamSubscribe", STREAM_SUBSCRIBE_KEYS)
    audio = subscribe.child("audioUidList", AUDIO_LIST_KEYS)
    video = subscribe.child("videoUidList", VIDEO_LIST_KEYS)
    sub_audio, unsub_audio = _read_uid_lists(audio, "audio")
    sub_video, unsub_video = _read_uid_lists(video, "video")
    if r.has("storageConfig"):
        _read_storage(r.child("storageConfig", STORAGE_KEYS), complete=False)
    return UpdateRequest(cname=cname, uid=uid,
                         subscribe_audio_uids=sub_audio, unsubscribe_audio_uids=unsub_audio,
                         subscribe_video_uids=sub_video, unsubscribe_video_uids=unsub_video)


def _read_stop(r: _Reader, cname: str, uid: str, whole: bool) -> StopRequest:
    return StopRequest(cname=cname, uid=uid, async_stop=r.field("async_stop", _as_bool, False))


_CLIENT_READERS: dict[str, Callable[[_Reader, str, str, bool], object]] = {
    "start": lambda r, cname, uid, whole: _read_start(r, cname, uid, storage_required=whole),
    "updateLayout": _read_update_layout,
    "acquire": _read_acquire,
    "update": _read_update,
    "stop": _read_stop,
}


# --- kind detection ----------------------------------------------------------------------
def _key_matches(key: object, keys: Collection[str]) -> int:
    """2 for an exact key, 1 for a misspelt or wrong-case one, else 0."""
    if key in keys:
        return 2
    return 1 if isinstance(key, str) and did_you_mean(key, keys) else 0


def detect_kind(client_request: Any) -> str | None:
    """Guess the request kind from the keys of a ``clientRequest`` object.

    Parameters
    ----------
    client_request : Any
        The ``clientRequest`` object (or a bare one).

    Returns
    -------
    str or None
        One of :data:`KINDS`, the one whose keys match best (misspelt keys count
        half; ties go to the earlier kind in ``KINDS``), or None when no key matches.
    """
    if not isinstance(client_request, dict):
        return None
    scores = {kind: sum(_key_matches(key, CLIENT_KEYS[kind]) for key in client_request)
              for kind in KINDS}
    best = max(KINDS, key=lambda kind: scores[kind])
    return best if scores[best] else None


def _is_whole(doc: dict[Any, Any]) -> bool:
    return any(_key_matches(k, ENVELOPE_KEYS) for k in doc)


def _client_request_value(doc: dict[Any, Any]) -> Any:
    if "clientRequest" in doc:
        return doc["clientRequest"]
    return next((v for k, v in doc.items() if _key_matches(k, ("clientRequest",))), MISSING)


def parse_request(doc: Any, *, kind: str | None = None) -> tuple[object, list[Problem]]:
    """Check a request body against every rule and build its model.

    Parameters
    ----------
    doc : Any
        The decoded JSON: a whole body ``{"cname", "uid", "clientRequest"}`` or a bare
        ``clientRequest`` (paths of a bare one start inside it, e.g.
        ``recordingConfig.transcodingConfig.width``).
    kind : {'start', 'updateLayout', 'acquire', 'update', 'stop', 'clientRequest'}, optional
        The request kind; None detects it from the keys (:func:`detect_kind`);
        ``'clientRequest'`` says ``doc`` is a bare clientRequest of a detected kind.

    Returns
    -------
    model : object
        :class:`StartRequest`, :class:`UpdateLayoutRequest`, :class:`AcquireRequest`,
        :class:`UpdateRequest` or :class:`StopRequest`; every omitted field at the
        cloud's default.  Bare bodies have empty ``cname`` and ``uid``.
    warnings : list of Problem
        Problems of severity ``"warning"`` (replaced or ignored values).

    Raises
    ------
    RequestError
        With every error at once (its ``warnings`` attribute holds the warnings).  No
        other exception is raised for any JSON value.
    UsageError
        For an unknown ``kind``.
    """
    if kind is not None and kind not in (*KINDS, _BARE):
        hint = did_you_mean(kind, (*KINDS, _BARE))
        raise UsageError(f"unknown request kind {kind!r}" + (f"; {hint}" if hint else "")
                         + f" (kinds: {', '.join((*KINDS, _BARE))})")
    if not isinstance(doc, dict):
        raise RequestError([Problem("", "must be a JSON object", _shown(doc))])
    whole = kind != _BARE and _is_whole(doc)
    client_value = _client_request_value(doc) if whole else doc
    if kind not in KINDS:
        kind = detect_kind(client_value) or ("start" if whole and not isinstance(client_value, dict)
                                             else None)
    out = _Problems()
    model: object = None
    if whole:
        envelope = _Reader(doc, "", out, ENVELOPE_KEYS)
        cname = envelope.field("cname", _as_cname, "", required=True)
        uid = envelope.uid("uid", required=True) or ""
        if kind is not None:
            client = envelope.child("clientRequest", CLIENT_KEYS[kind], required=True)
            model = _CLIENT_READERS[kind](client, cname, uid, True)
    elif kind is not None:
        model = _CLIENT_READERS[kind](_Reader(doc, "", out, CLIENT_KEYS[kind]), "", "", False)
    if kind is None:
        out.error("clientRequest" if whole else "", "cannot tell the request kind from its keys",
                  hint="give the kind: " + ", ".join(KINDS))
    errors, warnings = out.of("error"), out.of("warning")
    if errors:
        error = RequestError(errors)
        error.warnings = tuple(warnings)  # type: ignore[attr-defined]
        raise error
    return model, warnings
