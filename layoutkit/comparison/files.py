"""File checks: names, playlist tags, segment lengths, MP4 parts and the stop response's list.

:func:`check_files` compares the files of a :class:`~layoutkit.comparison.read.Recording` with
what the cloud (and our recorder, which copies it) writes for a scenario. Every problem is a
:class:`~layoutkit.comparison.model.Difference` with one of the stable kinds of :data:`KINDS`.

Tolerances and what is accepted (docs/cloud.md#cloud-file-names to #cloud-file-list,
#cloud-real-artefacts):

* A single ``.ts`` or ``.mp4`` given by path (:func:`user_named`) keeps the name the user
  gave it: only the cloud's own files (a folder, a playlist's) are held to its patterns.

* TS names' times advance by the previous ``#EXTINF`` within :data:`NAME_TIME_TOLERANCE_S`
  (names truncate to the millisecond); either TIME format is accepted in names and tags.
* Segment lengths: every segment but the last lasts at least ``15 s -``
  :data:`SEGMENT_SHORT_TOLERANCE_S` and at most 15 s plus the wait for a key frame (the
  longest key-frame interval seen in the video, plus one frame; 0.1 s without video); the
  last one is shorter or as long.
* ``#EXT-X-TARGETDURATION`` = ``max(18, ceil(longest #EXTINF))``.
* ``#EXT-X-DISCONTINUITY`` before the first segment and the comma after ``#EXTINF`` are
  optional; ``#EXTM3U``, ``#EXT-X-VERSION:3``, ``#EXT-X-MEDIA-SEQUENCE:0`` and
  ``#EXT-X-ENDLIST`` are required; the first segment carries a ``START`` track event per
  recorded track (``AUDIO`` / ``VIDEO``) whose TIME is the segment's name time.
* MP4 parts: a new part after ``mp4_rollover`` (2 h, or 3 h) or about 2 GB, within
  :data:`ROLLOVER_SLACK_S`.
* Each segment's media lasts its ``#EXTINF`` within :data:`EXTINF_TOLERANCE_S` (plus one
  frame), its size is whole 188-byte TS packets, and every packet decodes (MP4 parts are
  decoded only when there are no segments; otherwise their packets are walked). Within
  ``compare`` the pictures and the sound are decoded once, by the content check, whose
  per-file errors this check takes (:class:`DecodedErrors`); it only walks the packets then.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import MediaError
from ..cloudfiles.playlist import EVENT_TRACK_TYPES
from ..cloudfiles.server_response import TRACK_TYPES
from ..cloudfiles.naming import rollover_seconds
from ..profile import DEFAULT_PROFILE, Profile
from ..request.model import RecordingConfig
from ..scenario import Scenario
from ..io import probe as _probe_av
from .model import FILE_KINDS, Difference
from ..cloudfiles.parse import (
    ListedFile,
    Playlist,
    PlaylistSegment,
    RecordingName,
    StopResponse,
    parse_m3u8_name,
    parse_mp4_name,
    parse_stop_response,
    parse_ts_name,
)
from .read import Recording, SegmentFile
from ..cloudfiles.constants import MIN_TARGET_DURATION, MP4_MAX_BYTES, SEGMENT_SECONDS

__all__ = [
    "EXTINF_TOLERANCE_S",
    "KINDS",
    "NAME_TIME_TOLERANCE_S",
    "SEGMENT_SHORT_TOLERANCE_S",
    "DecodedErrors",
    "check_files",
    "user_named",
]

#: Difference kinds this module reports (all in the ``files`` category,
#: :data:`~layoutkit.comparison.model.KIND_CATEGORY`).
KINDS: tuple[str, ...] = FILE_KINDS
#: Segments described one by one in the facts (``segments``); ``segments_total`` counts all.
MAX_SEGMENT_FACTS = 1000
#: Characters of a refused URI shown in a message (the rest is counted).
URI_SHOWN = 200
NAME_TIME_TOLERANCE_S = 0.002
SEGMENT_SHORT_TOLERANCE_S = 0.05
EXTINF_TOLERANCE_S = 0.1
#: An MP4 part may run this much past (or stop this much short of) ``mp4_rollover``: the
#: cut waits for a key frame.
ROLLOVER_SLACK_S = 20.0
_TS_PACKET = 188
_LAST = "; the last may be shorter"


def _ms(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds()


class _Found:
    def __init__(self) -> None:
        self.items: list[Difference] = []

    def add(self, kind: str, message: str, *, file: str | None = None, expected: Any = None,
            observed: Any = None, t: float | None = None) -> None:
        self.items.append(Difference(kind=kind, message=message, file=file, expected=expected,
                                     observed=observed, t=t))


_NAME_PARSERS = {"m3u8": parse_m3u8_name, "ts": parse_ts_name, "mp4": parse_mp4_name}


def user_named(recording: Recording) -> bool:
    """Tell whether the recording is a single ``.ts`` or ``.mp4`` given by path.

    Such a file's name is the user's (a download renamed ``meeting.mp4``), so it is not
    checked against the cloud's pattern.

    Examples
    --------
    >>> from pathlib import Path
    >>> user_named(Recording(kind="mp4", location="meeting.mp4", root=Path(".")))
    True
    """
    return recording.kind in ("ts", "mp4")


@dataclass(frozen=True)
class _Context:
    """What every part of the file check reads, and the facts and sids it gathers."""

    recording: Recording
    scenario: Scenario
    profile: Profile
    decode: bool
    decoded: DecodedErrors
    facts: dict[str, Any]
    seen_sids: set[str] = field(default_factory=set)

    @property
    def sid(self) -> str | None:
        return self.scenario.sid

    @property
    def cname(self) -> str:
        return self.scenario.cname


@dataclass(frozen=True)
class _Slot:
    """A playlist entry: its position, storage key, playlist line and lost time span."""

    n: int
    key: str
    line: int
    span: str


def _check_name(found: _Found, ctx: _Context, name: str, kind: str) -> RecordingName | None:
    """Parse a file name by the cloud's pattern; its sid joins ``ctx.seen_sids``.

    A name that does not follow the cloud's pattern for the scenario's sid and cname is a
    ``bad_name``, except a lone file's (:func:`user_named`), whose name is not judged at all.
    """
    parser = _NAME_PARSERS[kind]
    if user_named(ctx.recording):
        return None
    sid, cname = ctx.sid, ctx.cname
    parsed = parser(name, sid=sid, cname=cname)
    pattern = {"m3u8": "<sid>_<cname>.m3u8", "ts": "<sid>_<cname>_<utc>.ts",
               "mp4": "<sid>_<cname>_<n>.mp4"}[kind]
    if parsed is None:
        loose = parser(name)
        shown = f"{sid or '<sid>'}_{cname}"
        if loose is not None:
            found.add("bad_name", f"{name}: sid/cname are {loose.sid!r}/{loose.cname!r}, "
                      f"expected {shown} ({pattern})", file=name,
                      expected=pattern.replace("<sid>_<cname>", shown), observed=name)
        else:
            found.add("bad_name", f"{name}: not named {pattern} with cname {cname!r}",
                      file=name, expected=pattern.replace("<sid>_<cname>", shown),
                      observed=name)
        return None
    ctx.seen_sids.add(parsed.sid)
    return parsed


def _media_seconds(probe: _probe_av.MediaProbe) -> float | None:
    video = probe.stream("video")
    stream = video if video is not None and video.packets else probe.stream("audio")
    return stream.duration if stream is not None else None


@dataclass(frozen=True)
class DecodedErrors:
    """Each file's decoding errors found by whoever decoded it to its end (compare's content check).

    Attributes
    ----------
    video, audio : mapping
        ``str(path) -> (errors, first error)`` of the files whose pictures, and whose sound,
        were decoded (:attr:`~layoutkit.io.frames.DecodeStats.video_errors` and
        ``audio_errors``).
    """

    video: Mapping[str, tuple[int, str | None]] = field(default_factory=dict)
    audio: Mapping[str, tuple[int, str | None]] = field(default_factory=dict)


def _probe(path: Path, *, decode: bool, decoded: DecodedErrors) -> _probe_av.MediaProbe:
    """Probe a file.

    With ``decode``, its pictures' (and its sound's) decoding errors are taken from
    ``decoded`` when the content check decoded them: the pictures' then, the sound is decoded
    here only when the content check did not, and a file decoded whole is only walked.
    """
    key = str(path)
    if not decode or key not in decoded.video:
        return _probe_av.inspect_media(path, decode=decode)
    probe = _probe_av.inspect_media(path, decode=False if key in decoded.audio else "audio")
    # a walk already made may have decoded more (its errors then include those)
    known = [] if probe.decoded is True else [decoded.video[key]]
    if probe.decoded is False:
        known.append(decoded.audio[key])
    errors = sum(n for n, _ in known)
    if not errors:
        return probe
    first = probe.first_error or next((f for _, f in known if f), None)
    return replace(probe, errors=probe.errors + errors, first_error=first)


def _playlist_spans(playlist: Playlist | None) -> list[tuple[float, float]]:
    """Return each listed segment's (start, end) in recording time, from the ``#EXTINF`` sums.

    Examples
    --------
    >>> _playlist_spans(None)
    []
    """
    spans: list[tuple[float, float]] = []
    if playlist is not None:
        at = Fraction(0)
        for entry_seg in playlist.segments:
            spans.append((float(at), float(at + entry_seg.duration)))
            at += entry_seg.duration
    return spans


@dataclass(frozen=True)
class _Listed:
    """What reading the playlist's entries gave: per segment its key, name, probe and facts."""

    labels: list[str]
    names: list[RecordingName | None]
    probes: list[_probe_av.MediaProbe | None]
    facts: list[dict[str, Any]]


def _read_listed(found: _Found, ctx: _Context, spans: list[tuple[float, float]]) -> _Listed:
    """Check every listed segment's name and file, in playlist order."""
    recording, playlist = ctx.recording, ctx.recording.playlist
    listed = _Listed(labels=[_segment_key(recording, file) for file in recording.segments],
                     names=[], probes=[], facts=[])
    first_at: dict[Path, int] = {}
    for n, file in enumerate(recording.segments):
        key = listed.labels[n]
        entry: dict[str, Any] = {"file": key, "exists": file.exists, "size": file.size}
        span = (f" (recording time {spans[n][0]:.3f}-{spans[n][1]:.3f} s is lost)"
                if n < len(spans) else "")
        line = playlist.segments[n].line if playlist is not None else 0
        listed.names.append(None if file.problem
                            else _check_name(found, ctx, file.path.name, "ts"))
        listed.probes.append(_listed_segment(found, ctx, file, _Slot(n, key, line, span),
                                             first_at=first_at, entry=entry))
        listed.facts.append(entry)
    return listed


def _check_unlisted(found: _Found, recording: Recording) -> None:
    """Report every TS file of the folder that the playlist does not list."""
    for path in recording.unlisted_segments:
        key = recording.relative(path)
        found.add("unlisted_segment", f"{key}: a TS file the playlist does not list", file=key,
                  expected="listed", observed="not listed")


def _check_segments(found: _Found, ctx: _Context) -> None:
    """Check the listed segments (names, files, lengths, name times) and record their facts."""
    recording, facts = ctx.recording, ctx.facts
    playlist = recording.playlist
    spans = _playlist_spans(playlist)
    listed = _read_listed(found, ctx, spans)
    facts["segments"] = listed.facts[:MAX_SEGMENT_FACTS]
    facts["segments_total"] = len(listed.facts)
    facts["unlisted_segments"] = [recording.relative(p) for p in recording.unlisted_segments]
    _check_unlisted(found, recording)
    if playlist is None:
        return
    segs = playlist.segments
    for seg, entry, bounds in zip(segs, listed.facts, spans, strict=True):
        entry["extinf"] = seg.extinf_text
        entry["start_s"] = _round(bounds[0])  # recording time, from the #EXTINF sums
    _check_lengths(found, ctx, segs, listed)
    _check_name_times(found, segs, listed.names)
    facts["tag_time"] = sorted({n.time_format for n in listed.names if n and n.time_format})


def _check_lengths(found: _Found, ctx: _Context, segs: tuple[PlaylistSegment, ...],
                   listed: _Listed) -> None:
    """Check each segment's length: 15 s plus the wait for a key frame, cut at a key frame."""
    fps = ctx.scenario.start.transcoding.fps
    probes = listed.probes
    # lengths: 15 s plus the wait for a key frame
    keys = sorted({t for p in probes if p is not None
                   for s in p.streams if s.kind == "video" for t in s.key_times})
    gop = max((b - a for a, b in itertools.pairwise(keys)), default=0.0)
    wait = (gop + 1 / fps) if ctx.scenario.start.recording_config.records_video() and keys \
        else 0.1
    ctx.facts["key_frame_interval_s"] = _round(gop) if keys else None
    rule = _LengthRule(keys=keys, fps=fps, wait=wait)
    for i, seg in enumerate(segs):
        _check_length(found, seg, i, listed, rule=rule, last=i == len(segs) - 1)


@dataclass(frozen=True)
class _LengthRule:
    """What every segment's length is judged by.

    The video's key frame times (sorted), the frame rate, and the wait for a key frame
    allowed past 15 s.
    """

    keys: list[float]
    fps: float
    wait: float


def _check_length(found: _Found, seg: PlaylistSegment, i: int, listed: _Listed, *,
                  rule: _LengthRule, last: bool) -> None:
    """Check segment ``i``'s cut, ``#EXTINF`` range and media length against its ``#EXTINF``."""
    keys, fps, wait = rule.keys, rule.fps, rule.wait
    key, probe = listed.labels[i], listed.probes[i]
    after = listed.probes[i + 1] if i + 1 < len(listed.probes) else None
    d = float(seg.duration)
    low = 0.0 if last else SEGMENT_SECONDS - SEGMENT_SHORT_TOLERANCE_S
    high = SEGMENT_SECONDS + wait
    cut = _first_key_cut(probe, after, keys)
    late = False
    if cut is not None and not last:
        start_t, expected_cut, observed_cut = cut
        if abs(observed_cut - expected_cut) > 1 / fps + 0.01:
            late = True
            found.add("segment_length", f"{key}: cut at {observed_cut - start_t:.3f} s, "
                      f"expected at the first key frame 15 s or more after its start "
                      f"({expected_cut - start_t:.3f} s)", file=key,
                      expected=_round(expected_cut - start_t),
                      observed=_round(observed_cut - start_t))
    if not late and not low < d <= high:
        expected = (f"at most {high:.3f} s" if last
                    else f"{SEGMENT_SECONDS} s to {high:.3f} s")
        found.add("segment_length", f"{key}: #EXTINF {seg.extinf_text} s, expected {expected} "
                  f"(15 s plus the wait for a key frame{_LAST if last else ''})",
                  file=key, expected=expected, observed=d)
    media = _media_seconds(probe) if probe is not None else None
    if media is not None and abs(media - d) > EXTINF_TOLERANCE_S + 1 / fps:
        found.add("extinf_mismatch", f"{key}: holds {media:.3f} s of media, #EXTINF says "
                  f"{seg.extinf_text} s", file=key, expected=d, observed=_round(media))


def _check_name_times(found: _Found, segs: tuple[PlaylistSegment, ...],
                      names: list[RecordingName | None]) -> None:
    """TS names' times advance by the previous ``#EXTINF``."""
    previous: tuple[RecordingName, Fraction] | None = None
    for seg, name in zip(segs, names, strict=True):
        if name is None or name.time is None:
            previous = None
            continue
        if previous is not None:
            prev_name, prev_d = previous
            assert prev_name.time is not None
            step = _ms(name.time, prev_name.time)
            if abs(step - float(prev_d)) > NAME_TIME_TOLERANCE_S:
                found.add("name_time", f"{name.name}: starts {step:.3f} s after "
                          f"{prev_name.name}, whose #EXTINF is {float(prev_d):.3f} s",
                          file=name.name, expected=_round(float(prev_d)), observed=_round(step))
        previous = (name, seg.duration)


def _listed_segment(found: _Found, ctx: _Context, file: SegmentFile, slot: _Slot, *,
                    first_at: dict[Path, int], entry: dict[str, Any]
                    ) -> _probe_av.MediaProbe | None:
    """One playlist entry: refused, repeated, missing, or probed (its probe)."""
    n, key, line, span = slot.n, slot.key, slot.line, slot.span
    if file.problem is not None:
        kind, rule = file.problem
        found.add(kind, f"playlist line {line}: segment URI '{key}' {rule}; not read{span}",
                  file=key, expected="a file of the recording folder", observed=key)
        return None
    if file.real is None:
        found.add("missing_segment", f"{key}: listed in the playlist but missing{span}",
                  file=key, expected="present", observed="missing")
        return None
    if file.real in first_at:
        found.add("repeated_segment", f"{key}: listed again (segment {n + 1}), first "
                  f"listed as segment {first_at[file.real] + 1}", file=key,
                  expected="listed once", observed=f"segment {n + 1}")
    else:
        first_at[file.real] = n
    return _segment_probe(found, ctx, file.real, key, size=file.size, entry=entry)


def _segment_key(recording: Recording, file: SegmentFile) -> str:
    """Return a segment's storage key; for a refused URI the URI itself (shortened)."""
    if file.problem is None:
        return recording.relative(file.path)
    uri = file.uri
    return uri if len(uri) <= URI_SHOWN else f"{uri[:URI_SHOWN]}... ({len(uri)} characters)"


def _segment_probe(found: _Found, ctx: _Context, real: Path, key: str, *, size: int | None,
                   entry: dict[str, Any]) -> _probe_av.MediaProbe | None:
    """Probe one present segment (cached per file) and report what is wrong with it."""
    probe = None
    try:
        probe = _probe(real, decode=ctx.decode, decoded=ctx.decoded)
    except MediaError as exc:
        found.add("undecodable_segment", str(exc), file=key, expected="decodable",
                  observed="unreadable")
    fmt = probe.format if probe is not None else None
    if fmt is not None and "mpegts" not in fmt.split(","):
        what = "an MP4 file" if "mp4" in fmt.split(",") else f"a {fmt!r} file"
        found.add("not_mpegts", f"{key}: is {what}, not MPEG-TS (an HLS segment of the "
                  "recording is MPEG-TS)", file=key, expected="mpegts", observed=fmt)
    elif size is not None and size % _TS_PACKET:
        found.add("truncated_segment",
                  f"{key}: {size} bytes is not whole 188-byte TS packets "
                  f"(cut short?)", file=key, expected=f"a multiple of {_TS_PACKET}",
                  observed=size)
    if probe is not None:
        entry.update(media_s=_round(_media_seconds(probe)), errors=probe.errors)
        if probe.errors or not probe.streams:
            why = probe.first_error or "no audio or video stream"
            found.add("undecodable_segment",
                      f"{key}: {probe.errors} decoding error(s) ({why})", file=key,
                      expected=0, observed=probe.errors)
    return probe


def _first_key_cut(probe: _probe_av.MediaProbe | None, after: _probe_av.MediaProbe | None,
                   keys: list[float]) -> tuple[float, float, float] | None:
    """(segment start, expected cut, observed cut) on the video clock, when both are known."""
    if probe is None or after is None:
        return None
    this, nxt = probe.stream("video"), after.stream("video")
    if this is None or nxt is None or this.start is None or nxt.start is None:
        return None
    boundary = this.start + SEGMENT_SECONDS - SEGMENT_SHORT_TOLERANCE_S
    expected = next((k for k in keys if k >= boundary), None)
    return None if expected is None else (this.start, expected, nxt.start)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _check_playlist(found: _Found, recording: Recording, scenario: Scenario,
                    facts: dict[str, Any]) -> None:
    playlist = recording.playlist
    assert playlist is not None and recording.playlist_path is not None
    key = recording.relative(recording.playlist_path)
    config = scenario.start.recording_config
    facts["playlist"] = {
        "file": key, "segments": len(playlist.segments),
        "duration_s": _round(float(playlist.duration)),
        "target_duration": playlist.target_duration, "version": playlist.version,
        "media_sequence": playlist.media_sequence, "endlist": playlist.endlist,
        "extinf_comma": sorted({s.extinf_comma for s in playlist.segments}),
        "discontinuity_first": bool(playlist.segments and playlist.segments[0].discontinuity),
        "tags": list(playlist.tags),
    }
    if not playlist.segments:
        found.add("empty_playlist", f"{key}: lists no segment", file=key, expected=">= 1",
                  observed=0)
    for tag, value, want in (("EXT-X-VERSION", playlist.version, 3),
                             ("EXT-X-MEDIA-SEQUENCE", playlist.media_sequence, 0)):
        if value != want:
            seen = "missing" if tag not in playlist.tags else value
            found.add("missing_tag", f"{key}: #{tag} is {seen}, expected {want}", file=key,
                      expected=f"#{tag}:{want}", observed=seen)
    if (playlist.allow_cache or "").upper() != "YES":
        seen = "missing" if "EXT-X-ALLOW-CACHE" not in playlist.tags else playlist.allow_cache
        found.add("missing_tag", f"{key}: #EXT-X-ALLOW-CACHE is {seen}, expected YES",
                  file=key, expected="#EXT-X-ALLOW-CACHE:YES", observed=seen)
    if not playlist.endlist:
        found.add("missing_endlist", f"{key}: no #EXT-X-ENDLIST (the recording did not end "
                  "cleanly, or the playlist was read mid-recording)", file=key,
                  expected="#EXT-X-ENDLIST", observed="missing")
    if playlist.segments:
        longest = max(s.duration for s in playlist.segments)
        want_td = max(MIN_TARGET_DURATION, math.ceil(longest))
        if playlist.target_duration != want_td:
            found.add("target_duration", f"{key}: #EXT-X-TARGETDURATION is "
                      f"{playlist.target_duration}, expected {want_td} "
                      f"(max(18, ceil(longest #EXTINF {float(longest):.3f})))", file=key,
                      expected=want_td, observed=playlist.target_duration)
        _check_track_events(found, key, playlist, config)
        facts["playlist"]["track_events"] = [
            {"track": e.track_type, "event": e.event, "time": e.time_text,
             "format": e.time_format} for e in playlist.track_events]


def _check_track_events(found: _Found, key: str, playlist: Playlist,
                        config: RecordingConfig) -> None:
    """Check the first segment's START track events: one per recorded track, at its name time."""
    first = playlist.segments[0]
    audio_tag, video_tag = EVENT_TRACK_TYPES
    want_tracks = [k for k, on in ((audio_tag, config.records_audio()),
                                   (video_tag, config.records_video())) if on]
    events = [e for e in first.track_events if (e.event or "").upper() == "START"]
    got = sorted({(e.track_type or "").upper() for e in events})
    if got != sorted(want_tracks):
        found.add("track_events", f"{key}: the first segment's START track events are "
                  f"{got or 'none'}, expected {want_tracks}", file=key,
                  expected=want_tracks, observed=got)
    first_name = parse_ts_name(first.file_name)
    for e in playlist.track_events:
        if e.time is None:
            found.add("track_events", f"{key}: line {e.line}: TIME {e.time_text!r} is "
                      "neither 17-digit UTC nor 13-digit epoch ms", file=key,
                      expected="yyyyMMddHHmmssSSS or epoch ms", observed=e.time_text)
    for e in events:
        if e.time is not None and first_name is not None and first_name.time is not None:
            gap = _ms(e.time, first_name.time)
            if abs(gap) > NAME_TIME_TOLERANCE_S:
                found.add("track_events", f"{key}: {e.track_type} START TIME {e.time_text} "
                          f"differs from the first segment's name time "
                          f"{first_name.time_text} by {gap:.3f} s", file=key,
                          expected=first_name.time_text, observed=e.time_text)


def _check_rollover(found: _Found, lengths: list[tuple[str, float | None, int]], *,
                    profile: Profile) -> None:
    """Check that a new MP4 part starts after ``mp4_rollover`` (2 h / 3 h) or about 2 GB."""
    limit = rollover_seconds(profile)
    big = MP4_MAX_BYTES - 128 * 1024**2
    for i, (key, length, size) in enumerate(lengths):
        if length is None:
            continue
        last = i == len(lengths) - 1
        if length > limit + ROLLOVER_SLACK_S:
            found.add("mp4_rollover", f"{key}: lasts {length:.1f} s, more than the "
                      f"{limit} s after which a new MP4 starts (mp4_rollover "
                      f"{profile.mp4_rollover})", file=key, expected=limit, observed=_round(length))
        elif not last and length < limit - ROLLOVER_SLACK_S and size < big:
            found.add("mp4_rollover", f"{key}: a new MP4 part started after {length:.1f} s "
                      f"and {size} bytes, expected after {limit} s (mp4_rollover "
                      f"{profile.mp4_rollover}) or about 2 GB", file=key, expected=limit,
                      observed=_round(length))


def _check_mp4s(found: _Found, ctx: _Context, *, decode: bool) -> None:
    recording, scenario, facts = ctx.recording, ctx.scenario, ctx.facts
    sid, cname = ctx.sid, ctx.cname
    wants_mp4 = "mp4" in scenario.start.recording_file_config.av_file_type
    mp4_facts = []
    indexes = []
    lengths: list[tuple[str, float | None, int]] = []
    for path in recording.mp4s:
        key = recording.relative(path)
        parsed = _check_name(found, ctx, path.name, "mp4")
        if parsed is not None and parsed.index is not None:
            indexes.append(parsed.index)
        entry: dict[str, Any] = {"file": key, "size": path.stat().st_size}
        try:
            probe = _probe(path, decode=decode, decoded=ctx.decoded)
        except MediaError as exc:
            found.add("undecodable_mp4", str(exc), file=key, expected="decodable",
                      observed="unreadable")
        else:
            entry.update(duration_s=_round(probe.duration), errors=probe.errors)
            lengths.append((key, probe.duration, probe.size))
            if probe.errors or not probe.streams:
                found.add("undecodable_mp4", f"{key}: {probe.errors} decoding error(s) "
                          f"({probe.first_error or 'no audio or video stream'})", file=key,
                          expected=0, observed=probe.errors)
        mp4_facts.append(entry)
    facts["mp4s"] = mp4_facts
    if recording.kind in ("ts", "mp4"):
        return
    if wants_mp4 and not recording.mp4s:
        found.add("missing_mp4", "no MP4 file, but avFileType is "
                  f"{list(scenario.start.recording_file_config.av_file_type)}",
                  expected=f"{sid or '<sid>'}_{cname}_0.mp4", observed=None)
    elif not wants_mp4 and recording.mp4s:
        found.add("unexpected_mp4", f"{len(recording.mp4s)} MP4 file(s), but avFileType is "
                  f"{list(scenario.start.recording_file_config.av_file_type)}",
                  file=recording.relative(recording.mp4s[0]), expected=None,
                  observed=[recording.relative(p) for p in recording.mp4s])
    _check_rollover(found, lengths, profile=ctx.profile)
    if indexes and sorted(indexes) != list(range(len(indexes))):
        found.add("mp4_index", f"MP4 parts are numbered {sorted(indexes)}, expected "
                  f"{list(range(len(indexes)))}", expected=list(range(len(indexes))),
                  observed=sorted(indexes))


def _keys_present(recording: Recording) -> dict[str, Path]:
    paths = [*(s.path for s in recording.segments if s.exists), *recording.mp4s]
    if recording.playlist_path is not None:
        paths.append(recording.playlist_path)
    return {recording.relative(p): p for p in paths}


def _check_response(found: _Found, recording: Recording, scenario: Scenario,
                    facts: dict[str, Any]) -> None:
    doc = recording.server_response
    if doc is None:
        facts["server_response"] = None
        return
    where = (recording.relative(recording.server_response_path)
             if recording.server_response_path else "server response")
    try:
        response: StopResponse = parse_stop_response(doc, source=where)
    except MediaError as exc:
        found.add("file_list", str(exc), file=where, expected="a file list", observed=None)
        return
    start = scenario.start
    prefix = "/".join(start.storage_config.file_name_prefix) if start.storage_config else ""
    wants_mp4 = "mp4" in start.recording_file_config.av_file_type
    track = TRACK_TYPES.get(start.recording_config.stream_types)
    listed = [f.file_name for f in response.files]
    facts["server_response"] = {
        "file": where, "list_key": response.list_key, "list_shape": response.list_shape,
        "file_list_mode": response.file_list_mode, "files": listed,
        "uploading_status": response.uploading_status,
        "slice_start_ms": [f.slice_start_raw for f in response.files
                           if f.slice_start_raw is not None],
        "slice_start_unit": sorted({f.slice_start_unit for f in response.files
                                    if f.slice_start_unit}),
    }
    file_sids = facts.get("sids") or ([scenario.sid] if scenario.sid else [])
    if response.sid is not None and file_sids and response.sid not in file_sids:
        found.add("file_list", f"{where}: sid {response.sid!r}, but the files carry "
                  f"{file_sids}", file=where, expected=file_sids[0], observed=response.sid)
    if response.cname is not None and response.cname != scenario.cname:
        found.add("file_list", f"{where}: cname {response.cname!r}, expected "
                  f"{scenario.cname!r}", file=where, expected=scenario.cname,
                  observed=response.cname)
    want_mode = "json" if wants_mp4 else "string"
    mode = response.file_list_mode or response.list_shape
    if mode != want_mode:
        found.add("file_list", f"{where}: fileListMode {mode!r}, expected {want_mode!r} for "
                  f"avFileType {list(start.recording_file_config.av_file_type)}", file=where,
                  expected=want_mode, observed=mode)
    present = _keys_present(recording)
    by_name = {Path(k).name: k for k in present}
    for f in response.files:
        name = f.file_name.rsplit("/", 1)[-1]
        if prefix and not f.file_name.startswith(prefix + "/"):
            found.add("file_list", f"{where}: {f.file_name} is not under fileNamePrefix "
                      f"{prefix!r}", file=where, expected=f"{prefix}/{name}",
                      observed=f.file_name)
        if recording.kind in ("folder", "m3u8") and f.file_name not in present \
                and name not in by_name:
            found.add("file_list", f"{where}: lists {f.file_name}, which is not in the "
                      "recording", file=f.file_name, expected="present", observed="missing")
        _check_entry(found, f, where=where, track=track)
    if recording.kind in ("folder", "m3u8"):
        names = {n.rsplit("/", 1)[-1] for n in listed}
        wanted = [p for p in [recording.playlist_path, *recording.mp4s] if p is not None]
        for p in wanted:
            if p.name not in names:
                key = recording.relative(p)
                found.add("file_list", f"{where}: does not list {key}", file=key,
                          expected="listed", observed="not listed")


def _check_entry(found: _Found, f: ListedFile, *, where: str, track: str | None) -> None:
    if f.track_type is not None and track is not None and f.track_type != track:
        found.add("file_list", f"{where}: {f.file_name}: trackType {f.track_type!r}, expected "
                  f"{track!r}", file=f.file_name, expected=track, observed=f.track_type)
    if f.uid is not None and f.uid != "0":
        found.add("file_list", f"{where}: {f.file_name}: uid {f.uid!r}, expected '0' in mix "
                  "mode", file=f.file_name, expected="0", observed=f.uid)
    if f.mixed_all_user is False:
        found.add("file_list", f"{where}: {f.file_name}: mixedAllUser false in mix mode",
                  file=f.file_name, expected=True, observed=False)


def check_files(recording: Recording, scenario: Scenario, *, profile: Profile = DEFAULT_PROFILE,
                decode: bool = True, decoded: DecodedErrors | None = None,
                ) -> tuple[list[Difference], dict[str, Any]]:
    """Check a recording's files against what the cloud writes for ``scenario``.

    Parameters
    ----------
    recording : Recording
        From :func:`~layoutkit.comparison.read.open_recording`.
    scenario : Scenario
        Gives the cname, the sid (when it has one), ``streamTypes``, ``avFileType``,
        ``fileNamePrefix`` and the fps.
    profile : Profile
        Behaviour choices: ``mp4_rollover`` gives the MP4 parts' length. Both TIME formats
        are accepted whatever ``tag_time`` says (the format seen is reported in the facts as
        ``tag_time``, for ``--infer``).
    decode : bool
        Decode every packet of every TS segment (the "decodable" check; of the MP4 parts
        only when there is no segment, as they hold the same packets again); False only
        walks the packets (sizes, times, corrupt flags).
    decoded : DecodedErrors, optional
        The decoding errors of files whose pictures (and sound) were already decoded to the
        end, by the content check: they are not decoded again.

    Returns
    -------
    (list of Difference, dict)
        The differences (kinds in :data:`KINDS`) and the JSON-able file facts.
    """
    found = _Found()
    sid = scenario.sid
    seen_sids: set[str] = set()
    facts: dict[str, Any] = {"kind": recording.kind, "location": recording.location}
    ctx = _Context(recording, scenario, profile, decode, decoded or DecodedErrors(), facts,
                   seen_sids)
    if recording.playlist is not None and recording.playlist_path is not None:
        key = recording.relative(recording.playlist_path)
        _check_name(found, ctx, recording.playlist_path.name, "m3u8")
        _check_playlist(found, recording, scenario, facts)
        facts["playlist"]["file"] = key
    elif recording.kind == "folder" and recording.unlisted_segments:
        found.add("no_playlist", f"{recording.location}: TS files but no .m3u8 playlist",
                  expected="<sid>_<cname>.m3u8", observed=None)
    for kind, path, rule in recording.refused:
        key = recording.relative(path)
        found.add(kind, f"{key}: {rule}; not read", file=key,
                  expected="a regular file of the folder", observed=rule)
    _check_segments(found, ctx)
    # the MP4 holds the segments' packets again: decoded only when it is all there is
    _check_mp4s(found, ctx, decode=decode and not recording.segments)
    if sid is None and len(seen_sids) > 1:
        found.add("name_mismatch", f"the files carry {len(seen_sids)} different sids: "
                  f"{sorted(seen_sids)}", expected="one sid", observed=sorted(seen_sids))
    facts["sids"] = sorted(seen_sids)
    facts["other_playlists"] = [recording.relative(p) for p in recording.other_playlists]
    _check_response(found, recording, scenario, facts)
    return found.items, facts
