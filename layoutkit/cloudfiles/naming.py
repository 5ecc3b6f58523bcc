"""Names of recorded files, shaped like Agora Cloud Recording's composite mode.

The cloud's rules: docs/cloud.md#cloud-file-names.

Pure: no I/O, no clock. Every name is built from the session id (``sid``), the channel name
(``cname``) and, for TS segments, the segment's start time.

==================  ===========================================
file                name
==================  ===========================================
playlist            ``<sid>_<cname>.m3u8``
TS segment          ``<sid>_<cname>_<utc>.ts``
MP4 part            ``<sid>_<cname>_<index>.mp4`` (index from 0)
storage key         ``<prefix[0]>/<prefix[1]>/.../<name>``
==================  ===========================================

``<utc>`` is the segment start in UTC as 17 digits ``yyyyMMddHHmmssSSS`` (default profile
``tag_time="date17"``) or integer epoch milliseconds (``tag_time="epoch_ms"``, the format the
playback page shows; contract section 2). Milliseconds are **truncated**, not rounded: a
segment starting at 07:32:46.073999 is named ``...073``, so a name never claims a start
later than the real one and a name never rolls over into the next second, minute or day.

Channel names are used **as they are**. The request validator restricts ``cname`` to
a-z A-Z 0-9, space and ``! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,`` (no ``/``),
all of which are legal in POSIX file names and S3 keys. The documented replacement of
special characters by ``-`` is written for web-page recording only
(docs/cloud.md#cloud-file-names, open question 10.16), so it is not applied here. Names
still refuse ``/``, NUL and line breaks, which
would change the folder a file lands in or break the playlist's one-name-per-line format.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from ..profile import Profile
from .constants import ROLLOVER_SECONDS

__all__ = [
    "TAG_TIMES",
    "epoch_ms",
    "format_utc",
    "m3u8_name",
    "mp4_name",
    "new_sid",
    "prefix_key",
    "rollover_seconds",
    "ts_name",
]

TAG_TIMES: tuple[str, ...] = ("date17", "epoch_ms")
"""Accepted values of ``tag_time`` (same as :attr:`layoutkit.profile.Profile.tag_time`)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_FORBIDDEN = ("/", "\0", "\n", "\r")


def _utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; refuse naive datetimes (local time for ``timestamp()``)."""
    if not isinstance(moment, datetime):
        msg = f"expected a datetime, got {type(moment).__name__}"
        raise TypeError(msg)
    if moment.tzinfo is None or moment.utcoffset() is None:
        msg = f"{moment.isoformat()}: naive datetime; pass an aware one (e.g. tzinfo=UTC)"
        raise ValueError(msg)
    return moment.astimezone(UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since 1970-01-01 UTC, truncated toward the past (exact integer maths).

    Parameters
    ----------
    moment : datetime
        A timezone-aware time.

    Returns
    -------
    int
        E.g. ``1562724971626`` (the ``sliceStartTime`` unit, contract section 2).

    Raises
    ------
    ValueError
        For a naive datetime.

    Examples
    --------
    >>> epoch_ms(datetime(2019, 7, 10, 2, 16, 11, 626999, tzinfo=UTC))
    1562724971626
    """
    return (_utc(moment) - _EPOCH) // _ONE_MS


def format_utc(moment: datetime, *, tag_time: str = "date17") -> str:
    """Format the TIME of ``EXT-X-AGORA-*`` tags and the ``<utc>`` part of TS names.

    Parameters
    ----------
    moment : datetime
        A timezone-aware time; converted to UTC.
    tag_time : {'date17', 'epoch_ms'}
        ``date17``: 17 digits ``yyyyMMddHHmmssSSS``; ``epoch_ms``: integer epoch milliseconds.
        Milliseconds are truncated in both.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For a naive datetime or an unknown ``tag_time``.

    Examples
    --------
    >>> t = datetime(2019, 6, 11, 7, 32, 46, 73_999, tzinfo=UTC)
    >>> format_utc(t)
    '20190611073246073'
    >>> format_utc(t, tag_time="epoch_ms")
    '1560238366073'
    """
    if tag_time == "date17":
        u = _utc(moment)
        return (f"{u.year:04d}{u.month:02d}{u.day:02d}"
                f"{u.hour:02d}{u.minute:02d}{u.second:02d}{u.microsecond // 1000:03d}")
    if tag_time == "epoch_ms":
        return str(epoch_ms(moment))
    msg = f"tag_time: must be one of {', '.join(TAG_TIMES)} (got {tag_time!r})"
    raise ValueError(msg)


def _check_part(what: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        msg = f"{what}: must be a non-empty string (got {value!r})"
        raise ValueError(msg)
    bad = [c for c in _FORBIDDEN if c in value]
    if bad:
        msg = f"{what}: must not contain {bad[0]!r} in a file name (got {value!r})"
        raise ValueError(msg)
    return value


def m3u8_name(sid: str, cname: str) -> str:
    """Return the playlist's name, ``<sid>_<cname>.m3u8``.

    Examples
    --------
    >>> m3u8_name("432efaf2144e051bb32fb490db89c462", "httpClient463224")
    '432efaf2144e051bb32fb490db89c462_httpClient463224.m3u8'
    """
    return f"{_check_part('sid', sid)}_{_check_part('cname', cname)}.m3u8"


def ts_name(sid: str, cname: str, segment_start: datetime, *, tag_time: str = "date17") -> str:
    """Return a segment's name, ``<sid>_<cname>_<utc>.ts``, ``<utc>`` from :func:`format_utc`.

    Examples
    --------
    >>> ts_name("sid", "room", datetime(2019, 6, 11, 7, 32, 46, 73_000, tzinfo=UTC))
    'sid_room_20190611073246073.ts'
    """
    utc = format_utc(segment_start, tag_time=tag_time)
    return f"{_check_part('sid', sid)}_{_check_part('cname', cname)}_{utc}.ts"


def mp4_name(sid: str, cname: str, index: int) -> str:
    """Return an MP4 part's name, ``<sid>_<cname>_<index>.mp4``; ``index`` counts from 0.

    Examples
    --------
    >>> mp4_name("sid", "room", 0)
    'sid_room_0.mp4'
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        msg = f"index: must be an int >= 0 (got {index!r})"
        raise ValueError(msg)
    return f"{_check_part('sid', sid)}_{_check_part('cname', cname)}_{index}.mp4"


def prefix_key(prefix: Sequence[str], name: str) -> str:
    """Return the storage key of ``name`` under ``fileNamePrefix``: all joined with ``/``.

    Parameters
    ----------
    prefix : sequence of str
        ``storageConfig.fileNamePrefix`` (may be empty); each item a non-empty folder name.
    name : str
        A file name from :func:`m3u8_name`, :func:`ts_name` or :func:`mp4_name`.

    Examples
    --------
    >>> prefix_key(["aaaa"], "sid_room.m3u8")
    'aaaa/sid_room.m3u8'
    >>> prefix_key([], "sid_room.m3u8")
    'sid_room.m3u8'
    """
    if isinstance(prefix, str):
        msg = f"prefix: must be a sequence of folder names, not a string (got {prefix!r})"
        raise TypeError(msg)
    parts = [_check_part(f"prefix[{i}]", p) for i, p in enumerate(prefix)]
    return "/".join([*parts, _check_part("name", name)])


def new_sid(rng: int | random.Random | None = None) -> str:
    """Make a recording id: 32 lowercase hex digits, like the ``sid`` of Agora's examples.

    Parameters
    ----------
    rng : int, random.Random or None
        ``None``: 128 bits from :func:`secrets.token_hex`; an int seeds a private
        :class:`random.Random` (same seed, same sid); a ``Random`` is drawn from.

    Examples
    --------
    >>> new_sid(7) == new_sid(7)
    True
    >>> len(new_sid())
    32
    """
    if rng is None:
        return secrets.token_hex(16)
    if isinstance(rng, bool) or not isinstance(rng, (int, random.Random)):
        msg = f"rng: must be None, an int seed or a random.Random (got {rng!r})"
        raise TypeError(msg)
    source = random.Random(rng) if isinstance(rng, int) else rng
    return f"{source.getrandbits(128):032x}"


def rollover_seconds(profile: Profile) -> int:
    """Seconds after which a new MP4 part starts: 7200 (``2h``, default) or 10800 (``3h``)."""
    return ROLLOVER_SECONDS[profile.mp4_rollover]
