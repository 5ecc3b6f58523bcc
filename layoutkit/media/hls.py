"""HLS playlists and the stop response's file list, shaped like Agora's composite output.

Playlist text (spec 5.3, manage-files samples)::

    #EXTM3U
    #EXT-X-VERSION:3
    #EXT-X-MEDIA-SEQUENCE:0
    #EXT-X-ALLOW-CACHE:YES
    #EXT-X-TARGETDURATION:18
    #EXT-X-DISCONTINUITY
    #EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=AUDIO,TIME=20190920125142289
    #EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=VIDEO,TIME=20190920125142289
    #EXTINF:15.019000
    <sid>_<cname>_20190920125142289.ts
    ...
    #EXT-X-ENDLIST

* ``#EXT-X-TARGETDURATION`` is ``max(18, ceil(longest #EXTINF))``: Agora's samples show 18
  for 15 s segments and 34 for a 33.326 s one (open question 10.11); the floor of 18 is
  copied, the ceiling keeps the HLS rule "every EXTINF rounded <= target duration".
* ``#EXTINF`` carries 6 decimals and **no trailing comma** (Agora's documented quirk)
  unless ``correct_extinf`` (``privateParams`` ``{"correctEXTINF": true}``). Durations are
  exact :class:`~fractions.Fraction` seconds rounded half-to-even to the microsecond.
* ``#EXT-X-DISCONTINUITY`` precedes the first segment and every segment marked
  ``discontinuity``; the ``EXT-X-AGORA-TRACK-EVENT`` tags come after it and before
  ``#EXTINF``, in the order of the sample files.

Only :class:`PlaylistWriter` touches files; everything else is pure.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import StorageError
from .atomic import atomic_output
from .naming import TAG_TIMES, epoch_ms, format_utc

__all__ = [
    "MIN_TARGET_DURATION",
    "TRACK_TYPES",
    "UPLOADING_STATUSES",
    "EVENT_TRACK_TYPES",
    "Segment",
    "extinf_value",
    "target_duration",
    "render_playlist",
    "PlaylistWriter",
    "track_type_of",
    "server_response",
]

MIN_TARGET_DURATION = 18
"""``#EXT-X-TARGETDURATION`` of Agora's samples with 15 s segments."""

TRACK_TYPES: dict[int, str] = {0: "audio", 1: "video", 2: "audio_and_video"}
"""``serverResponse`` ``trackType`` by ``recordingConfig.streamTypes``."""

EVENT_TRACK_TYPES: tuple[str, ...] = ("AUDIO", "VIDEO")
"""``TRACK_TYPE`` values of ``#EXT-X-AGORA-TRACK-EVENT``."""

UPLOADING_STATUSES: tuple[str, ...] = ("uploaded", "backuped", "unknown")
"""``uploadingStatus`` values of a ``stop`` response."""

_MICRO = 1_000_000


def _check_tag_time(tag_time: str) -> None:
    if tag_time not in TAG_TIMES:
        msg = f"tag_time: must be one of {', '.join(TAG_TIMES)} (got {tag_time!r})"
        raise ValueError(msg)


@dataclass(frozen=True)
class Segment:
    """One complete TS segment as the playlist lists it.

    Parameters
    ----------
    name : str
        File name relative to the playlist (no ``fileNamePrefix``), e.g. from
        :func:`layoutkit.media.naming.ts_name`.
    duration : Fraction
        Exact length in seconds (> 0). An ``int`` is accepted; a ``float`` is refused so
        durations stay exact (use ``Fraction(pts) * time_base``).
    start : datetime
        Wall-clock (timezone-aware) start of the segment.
    discontinuity : bool
        Write ``#EXT-X-DISCONTINUITY`` before this segment (the first segment always gets one).
    track_events : tuple of (str, datetime)
        ``("AUDIO" | "VIDEO", time)`` pairs, written as
        ``#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE=<type>,TIME=<utc>`` before the
        segment's ``#EXTINF`` (the first segment after a stream starts or restarts).
    """

    name: str
    duration: Fraction
    start: datetime
    discontinuity: bool = False
    track_events: tuple[tuple[str, datetime], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or self.name != self.name.strip():
            msg = ("Segment.name: must be a non-empty string without outer spaces "
                   f"(got {self.name!r})")
            raise ValueError(msg)
        if "\n" in self.name or "\r" in self.name or self.name.startswith("#"):
            msg = f"Segment.name: must be one line not starting with '#' (got {self.name!r})"
            raise ValueError(msg)
        if isinstance(self.duration, bool) or not isinstance(self.duration, numbers.Rational):
            msg = (f"Segment.duration: must be a Fraction or int of seconds "
                   f"(got {type(self.duration).__name__} {self.duration!r})")
            raise TypeError(msg)
        duration = Fraction(self.duration)
        if duration <= 0:
            msg = f"Segment.duration: must be > 0 (got {duration})"
            raise ValueError(msg)
        object.__setattr__(self, "duration", duration)
        format_utc(self.start)  # refuses naive datetimes early
        events = tuple((kind, when) for kind, when in self.track_events)
        for kind, when in events:
            if kind not in EVENT_TRACK_TYPES:
                msg = (f"Segment.track_events: TRACK_TYPE must be one of "
                       f"{', '.join(EVENT_TRACK_TYPES)} (got {kind!r})")
                raise ValueError(msg)
            format_utc(when)
        object.__setattr__(self, "track_events", events)


def _micros(duration: Fraction) -> int:
    """``duration`` in whole microseconds, rounded half to even."""
    return round(duration * _MICRO)


def extinf_value(duration: Fraction) -> str:
    """Seconds with exactly 6 decimals, as Agora writes them.

    Examples
    --------
    >>> extinf_value(Fraction(15019, 1000))
    '15.019000'
    >>> extinf_value(Fraction(1, 3))
    '0.333333'
    """
    us = _micros(Fraction(duration))
    return f"{us // _MICRO}.{us % _MICRO:06d}"


def target_duration(segments: Iterable[Segment]) -> int:
    """``max(18, ceil(longest #EXTINF as written))``.

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2019, 9, 20, tzinfo=UTC)
    >>> target_duration([Segment("a.ts", Fraction(33326, 1000), t)])
    34
    >>> target_duration([])
    18
    """
    longest = max((_micros(s.duration) for s in segments), default=0)
    return max(MIN_TARGET_DURATION, math.ceil(Fraction(longest, _MICRO)))


def _segment_lines(segment: Segment, *, first: bool, correct_extinf: bool,
                   tag_time: str) -> list[str]:
    lines = []
    if first or segment.discontinuity:
        lines.append("#EXT-X-DISCONTINUITY")
    for kind, when in segment.track_events:
        lines.append(f"#EXT-X-AGORA-TRACK-EVENT:EVENT=START,TRACK_TYPE={kind},"
                     f"TIME={format_utc(when, tag_time=tag_time)}")
    lines.append(f"#EXTINF:{extinf_value(segment.duration)}{',' if correct_extinf else ''}")
    lines.append(segment.name)
    return lines


def render_playlist(segments: Sequence[Segment], *, ended: bool, correct_extinf: bool = False,
                    tag_time: str = "date17") -> str:
    """The M3U8 text listing ``segments`` (see the module docstring for the format).

    Parameters
    ----------
    segments : sequence of Segment
        Complete segments, in play order.
    ended : bool
        Append ``#EXT-X-ENDLIST`` (the recording stopped).
    correct_extinf : bool
        Write ``#EXTINF:<d>,`` (``privateParams`` ``correctEXTINF``) instead of ``#EXTINF:<d>``.
    tag_time : {'date17', 'epoch_ms'}
        TIME format of the ``EXT-X-AGORA-TRACK-EVENT`` tags.

    Returns
    -------
    str
        Lines each ending with ``"\\n"``.
    """
    _check_tag_time(tag_time)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-ALLOW-CACHE:YES",
        f"#EXT-X-TARGETDURATION:{target_duration(segments)}",
    ]
    for i, segment in enumerate(segments):
        lines += _segment_lines(segment, first=i == 0, correct_extinf=correct_extinf,
                                tag_time=tag_time)
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "".join(line + "\n" for line in lines)


class PlaylistWriter:
    """Keep one M3U8 file on disk up to date while segments are recorded.

    The file on disk is always whole (written beside the target, flushed to disk, then
    renamed over it) and lists only segments passed to :meth:`add`, which the recorder calls
    after the segment's ``.ts`` file is closed. Nothing is written before the first
    :meth:`add` (Agora creates the M3U8 after the first segment) unless :meth:`finish` is
    called first, which writes an ended playlist without segments.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.m3u8`` file.
    correct_extinf : bool
        ``#EXTINF`` with a trailing comma (``privateParams`` ``correctEXTINF``).
    tag_time : {'date17', 'epoch_ms'}
        TIME format of the ``EXT-X-AGORA-*`` tags.
    overwrite : bool
        Whether the first write may replace a file already at ``path`` (later writes always
        replace this writer's own file). Default ``True``: the caller checks the output
        folder before recording (``record`` does, honouring ``--force``). ``False`` makes
        an existing file raise :class:`~layoutkit.errors.UsageError`, left untouched.

    Raises
    ------
    StorageError
        When the playlist cannot be written.
    """

    def __init__(self, path: str | os.PathLike[str], *, correct_extinf: bool = False,
                 tag_time: str = "date17", overwrite: bool = True) -> None:
        _check_tag_time(tag_time)
        self._path = Path(path)
        self._correct_extinf = correct_extinf
        self._tag_time = tag_time
        self._overwrite = overwrite
        self._segments: list[Segment] = []
        self._names: set[str] = set()
        self._written = False
        self._finished = False

    @property
    def path(self) -> Path:
        """The playlist file."""
        return self._path

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The segments listed so far, in order."""
        return tuple(self._segments)

    @property
    def finished(self) -> bool:
        """True after :meth:`finish`."""
        return self._finished

    def render(self) -> str:
        """The playlist text as it is (or would be) on disk now."""
        return render_playlist(self._segments, ended=self._finished,
                               correct_extinf=self._correct_extinf, tag_time=self._tag_time)

    def add(self, segment: Segment) -> None:
        """Append a complete segment and rewrite the playlist atomically.

        Raises
        ------
        RuntimeError
            After :meth:`finish`.
        ValueError
            When a segment with the same name is already listed.
        StorageError
            When the playlist cannot be written (the segment is then not listed).
        """
        if self._finished:
            msg = f"{self._path}: playlist already finished; cannot add {segment.name}"
            raise RuntimeError(msg)
        if not isinstance(segment, Segment):
            msg = f"expected a Segment, got {type(segment).__name__}"
            raise TypeError(msg)
        if segment.name in self._names:
            msg = f"{self._path}: segment {segment.name} is already listed"
            raise ValueError(msg)
        self._segments.append(segment)
        try:
            self._write()
        except BaseException:
            self._segments.pop()
            raise
        self._names.add(segment.name)

    def finish(self) -> None:
        """Write the final playlist, with ``#EXT-X-ENDLIST``. Calling it again does nothing."""
        if self._finished:
            return
        self._finished = True
        try:
            self._write()
        except BaseException:
            self._finished = False
            raise

    def _write(self) -> None:
        data = self.render().encode("utf-8")
        overwrite = self._overwrite or self._written
        try:
            with atomic_output(self._path, overwrite=overwrite) as tmp, open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except StorageError:
            raise
        except OSError as exc:
            msg = f"{self._path}: cannot write playlist ({exc.strerror or exc})"
            raise StorageError(msg) from exc
        self._written = True


def track_type_of(stream_types: int) -> str:
    """``trackType`` for ``recordingConfig.streamTypes`` 0 / 1 / 2.

    Examples
    --------
    >>> track_type_of(2)
    'audio_and_video'
    """
    try:
        return TRACK_TYPES[stream_types]
    except (KeyError, TypeError):
        msg = f"streamTypes: must be 0, 1 or 2 (got {stream_types!r})"
        raise ValueError(msg) from None


def _entry(name: str, track_type: str, start: datetime) -> dict[str, Any]:
    return {
        "fileName": name,
        "trackType": track_type,
        "uid": "0",
        "mixedAllUser": True,
        "isPlayable": True,
        "sliceStartTime": epoch_ms(start),
    }


def server_response(*, m3u8_key: str, mp4_keys: Sequence[str], slice_start: datetime,
                    mp4_slice_starts: Sequence[datetime] | None = None,
                    track_type: str = "audio_and_video",
                    uploading_status: str = "uploaded") -> dict[str, Any]:
    """The ``serverResponse`` of a composite-mode ``stop`` response (spec 5.5).

    Parameters
    ----------
    m3u8_key : str
        The playlist's storage key, ``fileNamePrefix`` included.
    mp4_keys : sequence of str
        The MP4 parts' keys in index order; empty for ``avFileType`` ``["hls"]``.
    slice_start : datetime
        Start of the recording (``sliceStartTime`` of the M3U8 entry), timezone-aware.
    mp4_slice_starts : sequence of datetime or None
        Start of each MP4 part (same length as ``mp4_keys``); ``None``: every part uses
        ``slice_start`` (the docs' single-part example shows equal values).
    track_type : {'audio', 'video', 'audio_and_video'}
        See :func:`track_type_of`.
    uploading_status : {'uploaded', 'backuped', 'unknown'}
        ``uploadingStatus``.

    Returns
    -------
    dict
        ``{"fileListMode": "string", "fileList": m3u8_key, "uploadingStatus": ...}`` without
        MP4; with MP4 ``{"fileListMode": "json", "fileList": [m3u8 entry, mp4 entries...],
        "uploadingStatus": ...}``, M3U8 first as in the stop example; ``sliceStartTime`` in
        epoch milliseconds.

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2019, 7, 10, 2, 16, 11, 626_000, tzinfo=UTC)
    >>> server_response(m3u8_key="a/s_c.m3u8", mp4_keys=[], slice_start=t)
    {'fileListMode': 'string', 'fileList': 'a/s_c.m3u8', 'uploadingStatus': 'uploaded'}
    """
    if track_type not in TRACK_TYPES.values():
        msg = f"track_type: must be one of {', '.join(TRACK_TYPES.values())} (got {track_type!r})"
        raise ValueError(msg)
    if uploading_status not in UPLOADING_STATUSES:
        msg = (f"uploading_status: must be one of {', '.join(UPLOADING_STATUSES)} "
               f"(got {uploading_status!r})")
        raise ValueError(msg)
    if isinstance(mp4_keys, str):
        msg = "mp4_keys: must be a sequence of keys, not a string"
        raise TypeError(msg)
    if mp4_slice_starts is None:
        mp4_slice_starts = [slice_start] * len(mp4_keys)
    if len(mp4_slice_starts) != len(mp4_keys):
        msg = (f"mp4_slice_starts: {len(mp4_slice_starts)} times for "
               f"{len(mp4_keys)} MP4 files")
        raise ValueError(msg)
    if not mp4_keys:
        epoch_ms(slice_start)  # same checks as the json mode
        return {"fileListMode": "string", "fileList": m3u8_key,
                "uploadingStatus": uploading_status}
    entries = [_entry(m3u8_key, track_type, slice_start)]
    entries += [_entry(k, track_type, t) for k, t in zip(mp4_keys, mp4_slice_starts, strict=True)]
    return {"fileListMode": "json", "fileList": entries, "uploadingStatus": uploading_status}
