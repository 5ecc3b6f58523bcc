"""The recording's own clock: the UTC time of its first decoded frame, as its files say.

Agora's files carry wall-clock times (docs/cloud.md#cloud-file-names): each TS segment's name
ends with its start
in UTC, the playlist's first segment carries ``#EXT-X-AGORA-TRACK-EVENT:...,TIME=<utc>``
per track, and the ``stop`` response lists ``sliceStartTime`` (epoch ms) per file.  Against
the scenario's ``start_utc`` (its t = 0) they say where t = 0 lies in the recording, without
looking at a single picture: live content cannot pull it
(:func:`~layoutkit.comparison.align.align_recording` uses it first).

:func:`clock_readings` takes every reading the recording offers for **the first decoded
frame** (the frames' clock starts there), most specific first:

==============  ===========================================================================
source          the time of the first decoded frame
==============  ===========================================================================
``ts_name``     the ``<utc>`` of the first TS segment that exists (its own start)
``track_event`` the playlist's ``START`` ``TIME`` of the ``VIDEO`` track, plus the playlist
                time of the missing segments before the first one that exists (``lead_s``)
``slice_start`` the stop response's ``sliceStartTime`` of the playlist (or of the first MP4
                part when the pictures come from MP4 parts), plus ``lead_s`` for a playlist
==============  ===========================================================================

A lone ``.mp4`` has none (its name carries no time, and no stop response is looked for
beside it); a lone ``.ts`` keeps its name's time when the name is Agora's.
:func:`clock_offset` turns the first reading into ``offset_s`` (the recording time of the
scenario's t = 0, seconds from the first decoded frame) and says how far the readings
spread.  Pure apart from the :class:`~layoutkit.comparison.read.Recording` it is given
(which holds the parsed names, tags and stop response; nothing is opened here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..cloudfiles.parse import Playlist, parse_stop_response, parse_ts_name
from ..errors import MediaError
from .read import Recording

__all__ = ["CLOCK_SOURCES", "ClockReading", "RecordingClock", "clock_offset", "clock_readings"]

#: Where a clock reading comes from, most specific first (the first one found is used).
CLOCK_SOURCES: tuple[str, ...] = ("ts_name", "track_event", "slice_start")


@dataclass(frozen=True)
class ClockReading:
    """One statement of the recording's clock.

    Parameters
    ----------
    source : str
        One of :data:`CLOCK_SOURCES`.
    utc : datetime
        The UTC time of the first decoded frame, by this source.
    text : str
        What was read (a file name, a tag value, a ``sliceStartTime``), for messages.
    """

    source: str
    utc: datetime
    text: str


@dataclass(frozen=True)
class RecordingClock:
    """Where the recording's clock puts the scenario's t = 0.

    Parameters
    ----------
    offset_s : float
        Recording time (seconds from the first decoded frame) of the scenario's
        ``start_utc``, by the first reading.
    source : str
        The reading used (:data:`CLOCK_SOURCES`).
    readings : tuple of (str, float, str)
        ``(source, offset_s, text)`` of every reading, in :data:`CLOCK_SOURCES` order.
    """

    offset_s: float
    source: str
    readings: tuple[tuple[str, float, str], ...]

    @property
    def spread_s(self) -> float:
        """How far the readings' offsets lie apart (0 with one reading).

        >>> RecordingClock(0.0, "ts_name", (("ts_name", 0.0, "a"),
        ...                                 ("slice_start", -0.4, "b"))).spread_s
        0.4
        """
        values = [r[1] for r in self.readings]
        return round(max(values) - min(values), 6) if values else 0.0


def _ts_reading(rec: Recording) -> ClockReading | None:
    first = next((s for s in rec.segments if s.exists), None)
    if first is None:
        return None
    parsed = parse_ts_name(first.path.name)
    if parsed is None or parsed.time is None:
        return None
    return ClockReading("ts_name", parsed.time, first.path.name)


def _track_reading(playlist: Playlist | None, lead_s: float) -> ClockReading | None:
    if playlist is None:
        return None
    for event in playlist.track_events:
        if event.event == "START" and event.track_type == "VIDEO" and event.time is not None:
            return ClockReading("track_event", event.time + timedelta(seconds=lead_s),
                                f"TIME={event.time_text}")
    return None


def _slice_reading(rec: Recording, lead_s: float) -> ClockReading | None:
    if rec.server_response is None:
        return None
    try:
        response = parse_stop_response(rec.server_response)
    except MediaError:
        return None
    if rec.segments and rec.playlist_path is not None:
        wanted, lead = rec.playlist_path.name, lead_s
    elif rec.mp4s:
        wanted, lead = rec.mp4s[0].name, 0.0
    else:
        return None
    for listed in response.files:
        if listed.file_name.rsplit("/", 1)[-1] == wanted and listed.slice_start is not None:
            return ClockReading("slice_start", listed.slice_start + timedelta(seconds=lead),
                                f"sliceStartTime={listed.slice_start_raw} ({wanted})")
    return None


def clock_readings(rec: Recording, *, lead_s: float = 0.0) -> tuple[ClockReading, ...]:
    """Every reading of the first decoded frame's UTC time the recording's files give.

    Parameters
    ----------
    rec : Recording
        As :func:`~layoutkit.comparison.read.open_recording` found it.
    lead_s : float
        Playlist time before the first segment that exists (missing leading segments,
        :func:`~layoutkit.comparison.run.lead_lost_s`): the playlist's and the stop
        response's times name the playlist's start, the frames start that much later.

    Returns
    -------
    tuple of ClockReading
        In :data:`CLOCK_SOURCES` order; empty when nothing carries a time (a lone MP4).
    """
    found: tuple[ClockReading | None, ...]
    if rec.segments:
        found = (_ts_reading(rec), _track_reading(rec.playlist, lead_s),
                 _slice_reading(rec, lead_s))
    else:  # the pictures come from the MP4 parts: only their sliceStartTime dates them
        found = (_slice_reading(rec, lead_s),)
    return tuple(r for r in found if r is not None)


def clock_offset(readings: tuple[ClockReading, ...], start_utc: datetime) -> RecordingClock | None:
    """Where ``readings`` put the scenario's t = 0 (``start_utc``) in the recording.

    Examples
    --------
    >>> from datetime import UTC
    >>> t0 = datetime(2026, 3, 4, 10, tzinfo=UTC)
    >>> clock = clock_offset((ClockReading("ts_name", t0 + timedelta(seconds=0.4), "x.ts"),),
    ...                      t0)
    >>> clock.offset_s, clock.source
    (-0.4, 'ts_name')
    >>> clock_offset((), t0) is None
    True
    """
    if not readings:
        return None
    items = tuple((r.source, round((start_utc - r.utc).total_seconds(), 6), r.text)
                  for r in readings)
    return RecordingClock(offset_s=items[0][1], source=items[0][0], readings=items)
