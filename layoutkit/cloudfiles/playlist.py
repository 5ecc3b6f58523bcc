"""HLS playlist text, shaped like Agora's composite output (pure).

Playlist text (docs/cloud.md#cloud-playlist, manage-files samples)::

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
* segment URIs are the file names percent-encoded (RFC 3986: everything but letters,
  digits and ``-._~``), so channel names the cloud accepts (``room#1``, ``room?x=1``,
  ``a:b``) give URIs that resolve to the file over HTTP and on disk; a plain name is
  written as it is. :func:`segment_uri` encodes, ``PlaylistSegment.file_name`` of
  :mod:`layoutkit.cloudfiles.parse` decodes.
* ``#EXT-X-DISCONTINUITY`` precedes the first segment and every segment marked
  ``discontinuity``; the ``EXT-X-AGORA-TRACK-EVENT`` tags come after it and before
  ``#EXTINF``, in the order of the sample files.

Pure: the recorder's :class:`~layoutkit.record.sinks.PlaylistWriter` writes the text.
"""

from __future__ import annotations

import math
import numbers
from urllib.parse import quote
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from .constants import MIN_TARGET_DURATION
from .naming import TAG_TIMES, format_utc

__all__ = [
    "EVENT_TRACK_TYPES",
    "Segment",
    "check_tag_time",
    "extinf_value",
    "render_playlist",
    "segment_uri",
    "target_duration",
]

EVENT_TRACK_TYPES: tuple[str, ...] = ("AUDIO", "VIDEO")
"""``TRACK_TYPE`` values of ``#EXT-X-AGORA-TRACK-EVENT``."""

_MICRO = 1_000_000


def check_tag_time(tag_time: str) -> None:
    """Raise ValueError unless ``tag_time`` is in :data:`~layoutkit.cloudfiles.naming.TAG_TIMES`."""
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
        :func:`layoutkit.cloudfiles.naming.ts_name`.
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
        """Check every field; store ``duration`` as a Fraction and ``track_events`` as a tuple."""
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


def segment_uri(name: str) -> str:
    """Return the playlist's URI line of a segment file: ``name`` percent-encoded (RFC 3986).

    Examples
    --------
    >>> segment_uri("sid_room1_20190611073246073.ts")
    'sid_room1_20190611073246073.ts'
    >>> segment_uri("sid_room#1_a:b?x=1 %.ts")
    'sid_room%231_a%3Ab%3Fx%3D1%20%25.ts'
    """
    return quote(name, safe="")


def _micros(duration: Fraction) -> int:
    """Return ``duration`` in whole microseconds, rounded half to even."""
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
    """Return ``#EXT-X-TARGETDURATION``: ``max(18, ceil(longest #EXTINF as written))``.

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
    lines.append(segment_uri(segment.name))
    return lines


def render_playlist(segments: Sequence[Segment], *, ended: bool, correct_extinf: bool = False,
                    tag_time: str = "date17") -> str:
    """Render the M3U8 text listing ``segments`` (see the module docstring for the format).

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
        Lines each ending with a newline.
    """
    check_tag_time(tag_time)
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


