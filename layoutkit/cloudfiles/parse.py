"""Read what the cloud wrote: HLS playlists, file names and ``stop`` responses (pure).

No file system and no media library: text and dicts in, frozen dataclasses out. Parsing is
lenient where the real service is looser than its docs (docs/cloud.md#cloud-real-artefacts):

* ``#EXT-X-DISCONTINUITY`` before the first ``#EXT-X-AGORA-TRACK-EVENT`` or not;
* ``TIME`` (and the ``<utc>`` of TS names) as 17-digit UTC ``yyyyMMddHHmmssSSS`` or 13-digit
  epoch milliseconds (the two :data:`~layoutkit.cloudfiles.naming.TAG_TIMES`);
* ``#EXTINF:<seconds>`` with or without the trailing comma (and a title after it);
* a ``stop`` response whose list is ``fileList`` (a string or a list of dicts) or
  ``fileListStr``, entries with ``fileName`` or ``filename``, booleans and numbers as
  strings, ``sliceStartTime`` in milliseconds (13 digits) or seconds (10 digits).

The playlist is parsed by the ``m3u8`` library; the Agora tags and the exact ``#EXTINF``
text go through its ``custom_tags_parser`` hook.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace  # noqa: F401 - replace is used in a doctest
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import MediaError
from .naming import TAG_TIMES, format_utc

__all__ = [
    "AgoraTag",
    "ListedFile",
    "Playlist",
    "PlaylistSegment",
    "RecordingName",
    "StopResponse",
    "TrackEvent",
    "looks_like_stop_response",
    "parse_m3u8_name",
    "parse_mp4_name",
    "parse_name",
    "parse_playlist",
    "parse_stop_response",
    "parse_time",
    "parse_ts_name",
    "printable",
    "segment_file_name",
    "segment_uri_problem",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_AGORA = "#EXT-X-AGORA-"
_ATTR_RE = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("[^"]*"|[^,]*)\s*(?:,|$)')
_TIME_RE = re.compile(r"\d{13}|\d{17}")
_FAILOVER_RE = re.compile(r"bak(\d+)_(.+)")


# --- times ----------------------------------------------------------------------------------
def parse_time(text: str) -> tuple[datetime, str] | None:
    """Parse a TIME / ``<utc>`` value: 17-digit UTC or 13-digit epoch ms.

    Returns
    -------
    (datetime, str) or None
        The UTC time and its format (``'date17'`` or ``'epoch_ms'``, see
        :data:`~layoutkit.cloudfiles.naming.TAG_TIMES`); None when ``text`` is neither.

    Examples
    --------
    >>> parse_time("20190611073246073")[1]
    'date17'
    >>> parse_time("1560238366073")[0].isoformat()
    '2019-06-11T07:32:46.073000+00:00'
    >>> parse_time("2019-06-11") is None
    True
    """
    text = text.strip()
    if not _TIME_RE.fullmatch(text):
        return None
    if len(text) == 13:
        moment = _EPOCH + timedelta(milliseconds=int(text))
        fmt = TAG_TIMES[1]
    else:
        try:
            moment = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(
                microsecond=int(text[14:]) * 1000, tzinfo=UTC)
        except ValueError:
            return None
        fmt = TAG_TIMES[0]
    if format_utc(moment, tag_time=fmt) != text:  # the recorder's own formatter round-trips
        return None
    return moment, fmt


# --- playlist -------------------------------------------------------------------------------
@dataclass(frozen=True)
class AgoraTag:
    """One ``#EXT-X-AGORA-<NAME>:K=V,...`` tag (e.g. ``ROTATE``), attributes as written."""

    name: str
    attributes: tuple[tuple[str, str], ...]
    line: int

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return the value of attribute ``key`` (case-sensitive), or ``default``."""
        return dict(self.attributes).get(key, default)


@dataclass(frozen=True)
class TrackEvent:
    """``#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=AUDIO|VIDEO,TIME=<utc>``.

    ``time`` is None when ``time_text`` is neither TIME format (``time_format`` None then).
    """

    event: str | None
    track_type: str | None
    time_text: str | None
    time: datetime | None
    time_format: str | None
    line: int


@dataclass(frozen=True)
class PlaylistSegment:
    """One ``#EXTINF`` + URI entry.

    ``duration`` is exact (the decimal text of ``#EXTINF``); ``extinf_comma`` says whether the
    value was followed by a comma; ``track_events`` and ``agora_tags`` are the Agora tags
    written between the previous segment and this one.
    """

    uri: str
    duration: Fraction
    extinf_text: str
    extinf_comma: bool
    discontinuity: bool
    track_events: tuple[TrackEvent, ...]
    agora_tags: tuple[AgoraTag, ...]
    line: int

    @property
    def seconds(self) -> float:
        """``duration`` as float seconds."""
        return float(self.duration)

    @property
    def file_name(self) -> str:
        """The file the URI names: its path's last part, percent-decoded (RFC 3986).

        Examples
        --------
        >>> from fractions import Fraction
        >>> seg = PlaylistSegment("sid_room%231_a%3Ab.ts", Fraction(1), "1", False, False,
        ...                       (), (), 1)
        >>> seg.file_name
        'sid_room#1_a:b.ts'
        >>> replace(seg, uri="https://cdn.example/x/sid_c_1.ts?token=9").file_name
        'sid_c_1.ts'
        """
        return segment_file_name(self.uri)


@dataclass(frozen=True)
class Playlist:
    """A parsed media playlist.

    ``tags`` lists the names of the standard tags seen (``EXTM3U``, ``EXT-X-VERSION``, ...)
    in order of first appearance; ``trailing_agora_tags`` the Agora tags after the last
    segment.
    """

    segments: tuple[PlaylistSegment, ...]
    target_duration: int | float | None
    version: int | None
    media_sequence: int | None
    allow_cache: str | None
    endlist: bool
    tags: tuple[str, ...]
    trailing_track_events: tuple[TrackEvent, ...] = ()
    trailing_agora_tags: tuple[AgoraTag, ...] = ()

    @property
    def duration(self) -> Fraction:
        """Sum of the ``#EXTINF`` durations."""
        return sum((s.duration for s in self.segments), Fraction(0))

    @property
    def track_events(self) -> tuple[TrackEvent, ...]:
        """Every track event, in order."""
        return (*(e for s in self.segments for e in s.track_events),
                *self.trailing_track_events)


def _attributes(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((m.group(1), m.group(2).strip().strip('"'))
                 for m in _ATTR_RE.finditer(text) if m.group(0).strip())


def _track_event(attrs: tuple[tuple[str, str], ...], line: int) -> TrackEvent:
    values = dict(attrs)
    time_text = values.get("TIME")
    parsed = parse_time(time_text) if time_text is not None else None
    return TrackEvent(event=values.get("EVENT"), track_type=values.get("TRACK_TYPE"),
                      time_text=time_text, time=parsed[0] if parsed else None,
                      time_format=parsed[1] if parsed else None, line=line)


def _decimal_fraction(text: str, *, what: str, lineno: int, source: str) -> Fraction:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise MediaError(f"{source}: line {lineno}: {what} is not a number "
                         f"(got {text.strip()!r})") from None
    if not value.is_finite() or value < 0:
        raise MediaError(f"{source}: line {lineno}: {what} must be a finite number >= 0 "
                         f"(got {text.strip()!r})")
    return Fraction(value)


def _parse_tag(line: str, lineno: int, data: dict[str, Any], state: dict[str, Any], *,
               source: str) -> bool:
    """Read one tag line for :func:`parse_playlist` (its ``custom_tags_parser``).

    Takes Agora's tags, ``#EXTINF`` (exact durations, the comma), and the numeric tags read
    leniently.  True when the line was taken.
    """
    if line.startswith(_AGORA):
        tag, _, rest = line[len(_AGORA):].partition(":")
        attrs = _attributes(rest)
        segment = state.setdefault("segment", {})
        if tag == "TRACK-EVENT":
            segment.setdefault("lk_events", []).append(_track_event(attrs, lineno))
        else:
            segment.setdefault("lk_tags", []).append(AgoraTag(tag, attrs, lineno))
        return True
    if line.startswith("#EXTINF:"):
        value, comma, _title = line[len("#EXTINF:"):].partition(",")
        duration = _decimal_fraction(value, what="#EXTINF", lineno=lineno, source=source)
        segment = state.setdefault("segment", {})
        segment.update(lk_duration=duration, lk_text=value.strip(), lk_comma=bool(comma),
                       lk_line=lineno, duration=float(duration), title=_title)
        state["expect_segment"] = True
        return True
    if line.startswith("#EXT-X-TARGETDURATION:"):
        value = line.partition(":")[2]
        number = _decimal_fraction(value, what="#EXT-X-TARGETDURATION", lineno=lineno,
                                   source=source)
        data["targetduration"] = int(number) if number.denominator == 1 else float(number)
        return True
    if line.startswith(("#EXT-X-VERSION:", "#EXT-X-MEDIA-SEQUENCE:")):
        value = line.partition(":")[2].strip()
        key = "version" if line.startswith("#EXT-X-VERSION") else "media_sequence"
        data[key] = int(value) if value.isascii() and value.isdigit() else None
        return True
    return False


def parse_playlist(text: str, *, source: str = "playlist") -> Playlist:
    """Parse M3U8 text leniently (see the module docstring).

    Parameters
    ----------
    text : str
        The playlist's text.
    source : str
        Name used in error messages (e.g. the file path).

    Returns
    -------
    Playlist

    Raises
    ------
    MediaError
        When the text is not an M3U8 media playlist (no ``#EXTM3U``, a variant playlist),
        or a ``#EXTINF`` / ``#EXT-X-TARGETDURATION`` value is not a number.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if first != "#EXTM3U":
        raise MediaError(f"{source}: not an M3U8 playlist (the first line is "
                         f"{first[:40]!r}, expected '#EXTM3U')")
    tags: list[str] = []

    def custom(line: str, lineno: int, data: dict[str, Any], state: dict[str, Any]) -> bool:
        name = line[1:].partition(":")[0]
        if name not in tags:
            tags.append(name)
        return _parse_tag(line, lineno, data, state, source=source)

    import m3u8  # here, not at import: it pulls in ssl and urllib.request (compare's start-up)

    try:
        data = m3u8.parse(text, strict=False, custom_tags_parser=custom)
    except MediaError:
        raise
    except Exception as exc:  # m3u8 raises ValueError, ParseError, ...
        raise MediaError(f"{source}: unreadable playlist ({type(exc).__name__}: {exc})") from None
    if data.get("playlists"):
        raise MediaError(f"{source}: a master (variant) playlist, not a media playlist")
    segments = []
    for raw in data.get("segments", []):
        if "uri" not in raw:  # a trailing #EXTINF without a URI
            continue
        segments.append(PlaylistSegment(
            uri=str(raw["uri"]).strip(),
            duration=raw.get("lk_duration", Fraction(0)),
            extinf_text=raw.get("lk_text", ""),
            extinf_comma=raw.get("lk_comma", False),
            discontinuity=bool(raw.get("discontinuity")),
            track_events=tuple(raw.get("lk_events", ())),
            agora_tags=tuple(raw.get("lk_tags", ())),
            line=raw.get("lk_line", 0)))
    # tags after the last segment stay in the parser's state
    leftover: dict[str, Any] = {}
    for raw in data.get("segments", []):
        if "uri" not in raw:
            leftover = raw
    allow = data.get("allow_cache")
    return Playlist(
        segments=tuple(segments),
        target_duration=data.get("targetduration"),
        version=data.get("version"),
        media_sequence=data.get("media_sequence"),
        allow_cache=str(allow) if allow is not None else None,
        endlist=bool(data.get("is_endlist")),
        tags=tuple(tags),
        trailing_track_events=tuple(leftover.get("lk_events", ())),
        trailing_agora_tags=tuple(leftover.get("lk_tags", ())))


#: Longest segment URI accepted (characters) and longest file name (UTF-8 bytes, as the
#: usual file systems' 255).
MAX_URI_CHARS = 1024
MAX_NAME_BYTES = 255
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _uri_path(uri: str) -> tuple[str | None, str]:
    """Split a URI into (scheme or None, its path part percent-decoded)."""
    text = uri.strip()
    m = _SCHEME_RE.match(text)
    scheme = m.group(0)[:-1].lower() if m else None
    if scheme in ("http", "https"):
        path = urlsplit(text).path
    else:
        path = text.split("?", 1)[0].split("#", 1)[0]
    return scheme, unquote(path)


def segment_file_name(uri: str) -> str:
    """Return the file name a playlist URI line names: its percent-decoded path's last part.

    A query (``?...``) and fragment (``#...``) are dropped, as a URI reader does; our
    recorder and players write ``?`` and ``#`` of names as ``%3F`` / ``%23``.  The path is
    decoded before it is cut, so an encoded ``/`` (``%2F``) separates parts too (a
    backslash does not: it is a character of POSIX names); whether the URI may be read at
    all is :func:`segment_uri_problem`'s question.

    Examples
    --------
    >>> segment_file_name("sid_a%3Ab_20190611073246073.ts")
    'sid_a:b_20190611073246073.ts'
    >>> segment_file_name("sid_c_1.ts")
    'sid_c_1.ts'
    >>> segment_file_name("..%2F..%2Fetc%2Fhostname")
    'hostname'
    """
    _, path = _uri_path(uri)
    return path.rsplit("/", 1)[-1]


def segment_uri_problem(uri: str) -> tuple[str, str] | None:
    """Why a playlist URI is not read as a file of the recording's folder, or None.

    Returns
    -------
    (kind, rule) or None
        ``kind`` is ``'outside_uri'`` for a URI that names a file elsewhere (an absolute
        path, a ``..`` part, a scheme other than ``http(s)``, also when percent-encoded)
        and ``'bad_uri'`` for one that names no usable file (too long, a NUL, no name).
        ``http(s)://`` URLs name the file of their path's last part, as before.

    Examples
    --------
    >>> segment_uri_problem("sid_c_20190611073246073.ts") is None
    True
    >>> segment_uri_problem("https://cdn.example/x/sid_c_1.ts?token=9") is None
    True
    >>> segment_uri_problem("%2Fetc%2Fpasswd")
    ('outside_uri', 'names an absolute path, not a file of the recording folder')
    >>> segment_uri_problem("..%2F..%2Fetc%2Fhostname")[0]
    'outside_uri'
    >>> segment_uri_problem("file:///etc/passwd")[1]
    "a 'file:' URI, not a file of the recording folder"
    >>> segment_uri_problem("x" * 2000)
    ('bad_uri', 'longer than 1024 characters (2000)')
    """
    if len(uri) > MAX_URI_CHARS:
        return "bad_uri", f"longer than {MAX_URI_CHARS} characters ({len(uri)})"
    scheme, path = _uri_path(uri)
    if "\x00" in path:
        return "bad_uri", "holds a NUL character"
    outside = _outside_rule(scheme, path)
    if outside is not None:
        return "outside_uri", outside
    bad_name = _bad_name_rule(path.rsplit("/", 1)[-1])
    return None if bad_name is None else ("bad_uri", bad_name)


def _outside_rule(scheme: str | None, path: str) -> str | None:
    """Return the rule a URI's scheme or decoded path breaks by naming a file elsewhere."""
    if scheme is not None and scheme not in ("http", "https"):
        return f"a {scheme + ':'!r} URI, not a file of the recording folder"
    if scheme is None and path.startswith("/"):
        return "names an absolute path, not a file of the recording folder"
    if scheme is None and ".." in path.split("/"):
        return "goes up out of the recording folder ('..')"
    return None


def _bad_name_rule(name: str) -> str | None:
    """Return the rule a URI's file name (its path's last part) breaks, or None."""
    if name in ("", ".", ".."):
        return "names no file"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"its file name is longer than {MAX_NAME_BYTES} bytes"
    return None


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    n = ord(ch)
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def printable(text: str) -> str:
    r"""Return ``text`` safe to show, each unprintable character escaped as Python does.

    Control characters (``ESC``, newline, ``BEL``, C1), format characters (the right-to-left
    override ``U+202E`` and the other bidi controls), separators and lone surrogates become
    ``\x1b``, ``\n``, ``\u202e``...; other text, including the space and every letter
    and symbol, is left as it is.  Names and texts from a recording go through this before
    they are printed to a terminal, a JSON document or a page.

    Examples
    --------
    >>> printable("sid_c_1.ts")
    'sid_c_1.ts'
    >>> print(printable("a\x1b]0;TITLE\x07b\nverdict: match"))
    a\x1b]0;TITLE\x07b\nverdict: match
    >>> print(printable("evil\u202egnp.ts"), printable("caf\u00e9 \u00b1"))
    evil\u202egnp.ts café ±
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in text)


# --- file names -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordingName:
    """The parts of a recording file's name.

    ``kind`` is ``'m3u8'``, ``'ts'`` or ``'mp4'``; ``time`` / ``time_format`` are set for TS
    names, ``index`` for MP4 names; ``failover`` is ``n`` of a ``bak<n>_`` prefix
    (docs/cloud.md#cloud-file-names).
    """

    name: str
    kind: str
    sid: str
    cname: str
    time: datetime | None = None
    time_format: str | None = None
    time_text: str | None = None
    index: int | None = None
    failover: int | None = None


def _split_stem(stem: str, *, sid: str | None, cname: str | None) -> tuple[str, str] | None:
    """Split ``<sid>_<cname>`` into (sid, cname); with hints the known part is matched exactly."""
    if sid is not None:
        if not stem.startswith(sid + "_"):
            return None
        rest = stem[len(sid) + 1:]
        return (sid, rest) if rest and (cname is None or rest == cname) else None
    if cname is not None:
        if not stem.endswith("_" + cname):
            return None
        head = stem[:-len(cname) - 1]
        return (head, cname) if head else None
    head, sep, rest = stem.partition("_")
    return (head, rest) if sep and head and rest else None


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _failover(stem: str) -> tuple[str, int | None]:
    m = _FAILOVER_RE.fullmatch(stem)
    return (m.group(2), int(m.group(1))) if m else (stem, None)


def parse_m3u8_name(name: str, *, sid: str | None = None,
                    cname: str | None = None) -> RecordingName | None:
    """Parse ``<sid>_<cname>.m3u8`` (a folder part is ignored); None when it is not one.

    Without hints, the sid is the text before the first ``_`` (Agora's sids are hex).

    Examples
    --------
    >>> parse_m3u8_name("rec/ab12_room_1.m3u8").cname
    'room_1'
    >>> parse_m3u8_name("ab12_room.m3u8", cname="other") is None
    True
    """
    base = _base(name)
    if not base.endswith(".m3u8"):
        return None
    stem, failover = _failover(base[:-5])
    parts = _split_stem(stem, sid=sid, cname=cname)
    if parts is None:
        return None
    return RecordingName(name=base, kind="m3u8", sid=parts[0], cname=parts[1],
                         failover=failover)


def parse_ts_name(name: str, *, sid: str | None = None,
                  cname: str | None = None) -> RecordingName | None:
    """Parse ``<sid>_<cname>_<utc17 or epoch13>.ts``; None when it is not one.

    Examples
    --------
    >>> n = parse_ts_name("ab12_room_20190611073246073.ts")
    >>> (n.sid, n.cname, n.time_format)
    ('ab12', 'room', 'date17')
    """
    base = _base(name)
    if not base.endswith(".ts"):
        return None
    stem, failover = _failover(base[:-3])
    head, sep, time_text = stem.rpartition("_")
    parsed = parse_time(time_text) if sep else None
    if parsed is None:
        return None
    parts = _split_stem(head, sid=sid, cname=cname)
    if parts is None:
        return None
    return RecordingName(name=base, kind="ts", sid=parts[0], cname=parts[1], time=parsed[0],
                         time_format=parsed[1], time_text=time_text, failover=failover)


def parse_mp4_name(name: str, *, sid: str | None = None,
                   cname: str | None = None) -> RecordingName | None:
    """Parse ``<sid>_<cname>_<n>.mp4``; None when it is not one.

    Examples
    --------
    >>> parse_mp4_name("ab12_room_0.mp4").index
    0
    """
    base = _base(name)
    if not base.endswith(".mp4"):
        return None
    stem, failover = _failover(base[:-4])
    head, sep, index = stem.rpartition("_")
    digits = index.isascii() and index.isdigit()
    if not sep or not digits or (len(index) > 1 and index.startswith("0")):
        return None
    parts = _split_stem(head, sid=sid, cname=cname)
    if parts is None:
        return None
    return RecordingName(name=base, kind="mp4", sid=parts[0], cname=parts[1], index=int(index),
                         failover=failover)


def parse_name(name: str, *, sid: str | None = None,
               cname: str | None = None) -> RecordingName | None:
    """Parse any of the three names by its suffix; None when it is none of them."""
    for parser in (parse_m3u8_name, parse_ts_name, parse_mp4_name):
        parsed = parser(name, sid=sid, cname=cname)
        if parsed is not None:
            return parsed
    return None


# --- stop responses -------------------------------------------------------------------------
@dataclass(frozen=True)
class ListedFile:
    """One entry of a ``stop`` response's file list (fields None where the entry lacks them).

    ``slice_start_unit`` is ``'ms'`` or ``'s'`` (guessed from the magnitude).
    """

    file_name: str
    track_type: str | None = None
    uid: str | None = None
    mixed_all_user: bool | None = None
    is_playable: bool | None = None
    slice_start: datetime | None = None
    slice_start_raw: Any = None
    slice_start_unit: str | None = None


@dataclass(frozen=True)
class StopResponse:
    """The parts of a ``stop`` response compare uses.

    ``list_key`` is the key the list was found under (``fileList`` or ``fileListStr``);
    ``list_shape`` ``'string'`` or ``'json'`` (what the value was, whatever
    ``file_list_mode`` says).
    """

    files: tuple[ListedFile, ...]
    file_list_mode: str | None
    list_key: str | None
    list_shape: str | None
    uploading_status: str | None
    sid: str | None = None
    cname: str | None = None
    slice_start: datetime | None = None


def looks_like_stop_response(doc: Any) -> bool:
    """Tell whether ``doc`` is a dict that is a ``stop`` response or its ``serverResponse``."""
    if not isinstance(doc, Mapping):
        return False
    inner = doc.get("serverResponse")
    if isinstance(inner, Mapping):
        doc = inner
    return any(k in doc for k in ("fileList", "fileListStr", "fileListMode"))


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _slice_start(value: Any) -> tuple[datetime | None, str | None]:
    if isinstance(value, bool):
        return None, None
    number: float | None = None
    numeric_text = isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip())
    if isinstance(value, (int, float)) or numeric_text:
        number = float(value)
    if number is None or not number > 0:  # NaN too
        return None, None
    unit = "ms" if number >= 1e11 else "s"  # 13 digits: ms (every real example); 10: seconds
    try:
        return _EPOCH + timedelta(**{"milliseconds" if unit == "ms" else "seconds": number}), unit
    except (OverflowError, ValueError):  # after year 9999 (or infinite): no time, the unit stays
        return None, unit


def _listed(entry: Any) -> ListedFile | None:
    if isinstance(entry, str):
        return ListedFile(file_name=entry.strip()) if entry.strip() else None
    if not isinstance(entry, Mapping):
        return None
    name = entry.get("fileName", entry.get("filename"))
    if not isinstance(name, str) or not name.strip():
        return None
    start, unit = _slice_start(entry.get("sliceStartTime"))
    uid = entry.get("uid")
    return ListedFile(file_name=name.strip(),
                      track_type=entry.get("trackType") if isinstance(entry.get("trackType"),
                                                                      str) else None,
                      uid=None if uid is None else str(uid),
                      mixed_all_user=_bool(entry.get("mixedAllUser")),
                      is_playable=_bool(entry.get("isPlayable")),
                      slice_start=start, slice_start_raw=entry.get("sliceStartTime"),
                      slice_start_unit=unit)


def parse_stop_response(doc: Any, *, source: str = "stop response") -> StopResponse:
    """Parse a ``stop`` response (or its ``serverResponse`` alone).

    Raises
    ------
    MediaError
        When ``doc`` has no file list under any known key.
    """
    if not isinstance(doc, Mapping):
        raise MediaError(f"{source}: not a JSON object")
    outer = doc
    inner = doc.get("serverResponse")
    body: Mapping[str, Any] = inner if isinstance(inner, Mapping) else doc
    key = next((k for k in ("fileList", "fileListStr") if k in body), None)
    if key is None:
        raise MediaError(f"{source}: no fileList or fileListStr in the serverResponse")
    value = body[key]
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise MediaError(f"{source}: {key} is not valid JSON") from None
    if isinstance(value, Mapping):
        value = [value]
    if isinstance(value, str):
        shape = "string"
        names = [n for n in re.split(r"[,\s]+", value) if n]
        files = tuple(ListedFile(file_name=n) for n in names)
    elif isinstance(value, list):
        shape = "json"
        files = tuple(f for f in (_listed(e) for e in value) if f is not None)
    else:
        raise MediaError(f"{source}: {key} is neither a string nor a list")
    mode = body.get("fileListMode")
    status = body.get("uploadingStatus")
    top_start, _ = _slice_start(outer.get("sliceStartTime", body.get("sliceStartTime")))
    sid, cname = outer.get("sid"), outer.get("cname")
    return StopResponse(files=files, file_list_mode=mode if isinstance(mode, str) else None,
                        list_key=key, list_shape=shape,
                        uploading_status=status if isinstance(status, str) else None,
                        sid=sid if isinstance(sid, str) else None,
                        cname=cname if isinstance(cname, str) else None,
                        slice_start=top_start)
