"""compare, end to end: read the recording, check its files, streams and pictures, decide.

:func:`compare` joins the parts: :func:`~layoutkit.comparison.read.open_recording` (folder,
``.m3u8``, ``.ts``, ``.mp4``, ``s3://``), :func:`~layoutkit.comparison.files.check_files`,
the content checks on the decoded frames (:func:`~layoutkit.comparison.content.check_content`,
which also finds ``offset_s``), then :func:`~layoutkit.comparison.streams.check_streams`
with that offset.  The expected picture of any instant is what the renderer draws for
``rendered_frame``, so compare and the recorder can never drift apart.

Each difference has a category (:data:`~layoutkit.comparison.model.CATEGORIES`, from its
kind): ``files``, ``streams`` or ``content``. The verdict stands on all three, or on the
streams and content only (:func:`judged_categories`: ``content_only``, or a single file
given by path, whose name and packaging are the user's).

Verdict: ``match`` when nothing differs beyond the stated tolerances, ``differ`` when
something does, ``error`` when the recording cannot be analysed (nothing found, no
decodable frame); the reason is in :attr:`CompareResult.error`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..cloudfiles.constants import ROLLOVER_SECONDS
from ..errors import LayoutkitError
from ..io.frames import DecodedFrame, DecodeStats
from ..io.recorded import iter_audio, iter_video
from ..profile import DEFAULT_PROFILE, PROFILE_CHOICES, Profile
from ..scenario import Scenario
from .avsync import BeepReader
from .clock import RecordingClock, clock_offset, clock_readings
from .content import ContentOptions, check_content, frame_loss_allowed
from .events import DEFAULT_EVENT_TOLERANCE, as_tolerance
from .model import CATEGORIES, CompareResult, Difference, Evidence
from .read import Recording, open_recording

__all__ = [
    "CompareOptions",
    "compare",
    "judged_categories",
    "lead_lost_s",
    "lost_inside_frames",
    "media_paths",
    "recorded_media",
    "recording_clock",
]


def media_paths(recording: Recording) -> list[Path]:
    """Return the files whose pictures and sound are analysed.

    The playlist's segments that exist (one continuous stream; each file once), else the
    MP4 parts.
    """
    return recording.media_segments() or list(recording.mp4s)


def recorded_media(paths: Sequence[str | os.PathLike[str]], *, decoded: DecodeStats,
                   heard: DecodeStats | None
                   ) -> tuple[Callable[[], Iterator[DecodedFrame]], BeepReader | None]:
    """Return the pictures (decoded afresh at each call) and the sound's beep reader.

    The sound (None when ``heard`` is None: no sound recorded) is read while the pictures
    decode, in the time the observing loop would wait for the next picture (``idle``
    of :func:`~layoutkit.io.recorded.iter_video`); what is left when the A/V check asks is
    read then.  ``decoded`` and ``heard`` are filled with each file's decoding errors.
    """
    files = [Path(p) for p in paths]
    reader = BeepReader(iter_audio(files, stats=heard)) if heard is not None else None
    idle = reader.step if reader is not None else None

    def frames() -> Iterator[DecodedFrame]:
        return iter_video(files, stats=decoded, idle=idle)

    return frames, reader


def lead_lost_s(recording: Recording) -> float:
    """Seconds of the playlist before its first segment that exists (missing segments).

    The frames' clock starts at the first decoded frame; a recording whose first segments
    are lost starts that much later than the recording itself, so the offset found on the
    frames is moved by this much to stay on the recording's clock (the MP4's too).
    """
    playlist = recording.playlist
    if playlist is None or len(playlist.segments) != len(recording.segments):
        return 0.0
    lost = 0.0
    for seg, listed in zip(recording.segments, playlist.segments, strict=True):
        if seg.exists:
            return lost
        lost += float(listed.duration)
    return 0.0


def lost_inside_frames(recording: Recording, fps: float) -> int:
    """Frames of the missing segments that lie between two present ones.

    They leave a gap in the frames' times, which the content check counts as dropped
    frames; ``missing_segment`` already names them.
    """
    playlist = recording.playlist
    present = [s.exists for s in recording.segments]
    if playlist is None or len(playlist.segments) != len(present) or True not in present:
        return 0
    first, last = present.index(True), len(present) - 1 - present[::-1].index(True)
    lost = sum(float(playlist.segments[i].duration) for i in range(first, last + 1)
               if not present[i])
    return round(lost * fps)


def recording_clock(recording: Recording, scenario: Scenario) -> RecordingClock | None:
    """Find where the recording's own clock puts the scenario's ``start_utc``.

    The recording's clock is its TS names, the playlist's ``TIME`` and the stop response's
    ``sliceStartTime``; the result is on the frames' clock (:mod:`~layoutkit.comparison.clock`),
    None when its files carry no time.
    """
    readings = clock_readings(recording, lead_s=lead_lost_s(recording))
    return clock_offset(readings, scenario.start_utc)


def _discount_lost(differences: tuple[Difference, ...], lost: int,
                   frames: int) -> list[Difference | None]:
    """``dropped_frames`` without the frames of missing segments (None: nothing left)."""
    out: list[Difference | None] = []
    for d in differences:
        if d.kind == "dropped_frames" and lost and isinstance(d.observed, dict):
            dropped = max(0, int(d.observed.get("dropped", 0)) - lost)
            repeated = int(d.observed.get("duplicated", 0))
            if dropped + repeated <= frame_loss_allowed(frames):
                out.append(None)
                continue
            d = replace(d, message=f"{dropped} frames missing (besides the {lost} of the "
                        f"missing segments) and {repeated} repeated out of {frames}",
                        observed={"dropped": dropped, "duplicated": repeated})
        out.append(d)
    return out


def _file_infer(files: dict[str, Any]) -> dict[str, str]:
    """``tag_time`` from the TS names' time format; ``mp4_rollover`` from MP4 part lengths."""
    found: dict[str, str] = {}
    formats = files.get("tag_time") or []
    found["tag_time"] = formats[0] if len(formats) == 1 else "undetermined"
    parts = files.get("mp4s") or []
    found["mp4_rollover"] = "undetermined"
    first = parts[0].get("duration_s") if len(parts) > 1 else None
    if isinstance(first, int | float):  # a part ends at the first key frame after its limit
        for value, seconds in ROLLOVER_SECONDS.items():
            if 0 <= first - seconds < 60:
                found["mp4_rollover"] = value
    return found


def judged_categories(recording: Recording, *, content_only: bool = False) -> tuple[str, ...]:
    """Return the categories a recording's verdict stands on.

    All of :data:`~.model.CATEGORIES`, or only ``streams`` and ``content`` for a re-packaged
    download (``content_only``) and for a single file given by path
    (:func:`~.files.user_named`), whose files are not the cloud's.
    """
    from .files import user_named

    if content_only or user_named(recording):
        return tuple(c for c in CATEGORIES if c != "files")
    return CATEGORIES


@dataclass(frozen=True)
class CompareOptions:
    """How :func:`compare` judges a recording (the keywords of :func:`layoutkit.compare`).

    Attributes
    ----------
    profile : Profile
        The behaviour variant the expectations follow.
    server_response : path, optional
        A saved ``stop`` response to check too (default: one found beside the recording).
    infer : bool
        Also say, for each profile key, which value the recording agrees with.
    work_dir : path, optional
        Where an ``s3://`` recording is downloaded (default a temporary folder).
    content_only : bool
        Judge only the streams and the content (a download re-packaged by another tool,
        e.g. FFmpeg's HLS muxer): the file checks still run, but what they find is in
        :attr:`CompareResult.not_judged`, not in the verdict. A single ``.ts`` or ``.mp4``
        given by path is always judged so.
    event_tolerance : float or Fraction
        Seconds an event without its own ``tolerance`` may really have happened before or
        after its scenario time: compare fits each event's time in that window
        (:mod:`~layoutkit.comparison.events`).

    Examples
    --------
    >>> CompareOptions(event_tolerance=0).infer
    False
    """

    profile: Profile = DEFAULT_PROFILE
    server_response: str | os.PathLike[str] | None = None
    infer: bool = False
    work_dir: str | os.PathLike[str] | None = None
    content_only: bool = False
    event_tolerance: float | Fraction = DEFAULT_EVENT_TOLERANCE


def compare(scenario: Scenario, recording: str | os.PathLike[str], *,
            options: CompareOptions | None = None) -> CompareResult:
    """Check a recording against what ``scenario`` predicts under ``options.profile``.

    Parameters
    ----------
    scenario : Scenario
        What happened in the channel (relative paths resolve against its ``base_dir``).
    recording : path or str
        A folder as downloaded from the bucket, an ``.m3u8``, a ``.ts`` or an ``.mp4``;
        local or ``s3://bucket/prefix``.
    options : CompareOptions, optional
        The profile, stop response, inference, work folder, what is judged and the event
        window (default :class:`CompareOptions`'s).

    Returns
    -------
    CompareResult
        Never raises for a bad recording: the verdict is ``error`` with the reason.

    Raises
    ------
    ParameterError
        For an ``event_tolerance`` that is not a number >= 0.
    """
    opts = CompareOptions() if options is None else options
    profile, infer, content_only = opts.profile, opts.infer, opts.content_only
    window = as_tolerance(opts.event_tolerance)
    try:
        rec = open_recording(recording, server_response=opts.server_response,
                             work_dir=opts.work_dir)
    except LayoutkitError as exc:
        return CompareResult(verdict="error", error=str(exc))
    paths = media_paths(rec)
    records_video = scenario.start.recording_config.records_video()
    records_audio = scenario.start.recording_config.records_audio()
    content = None
    error = None
    # the file check takes each file's decoding errors from here (pictures, sound); a later
    # pass (evidence) that decodes a file to its end writes the same counts again
    decoded, heard = DecodeStats(), DecodeStats()
    if not paths:
        error = "no media file to analyse (no TS segment and no MP4 found)"
    elif records_video:
        frames, sound = recorded_media(paths, decoded=decoded,
                                       heard=heard if records_audio else None)
        try:
            content = check_content(frames, scenario, profile=profile, audio=sound,
                                    infer=infer,
                                    options=ContentOptions(clock=recording_clock(rec, scenario),
                                                           event_tolerance=window))
        except LayoutkitError as exc:
            error = str(exc)
    # the pictures and the sound are decoded once: by the content check, whose errors the
    # file check counts (the file and stream checks are imported here: the first frame does
    # not wait for them)
    from .files import DecodedErrors, check_files
    from .streams import check_streams

    file_diffs, files = check_files(
        rec, scenario, profile=profile,
        decoded=DecodedErrors(decoded.video_errors, heard.audio_errors) if content else None)
    judged = judged_categories(rec, content_only=content_only)
    differences: list[Difference] = list(file_diffs) if "files" in judged else []
    offset = content.offset_s if content else None
    if offset is not None:
        offset += lead_lost_s(rec)
    stream_diffs, streams = check_streams(rec, scenario, profile=profile, offset_s=offset)
    differences += stream_diffs
    evidence: tuple[Evidence, ...] = ()
    if content is not None:
        # the content's own differences come last: its evidence indices move with them
        kept = _discount_lost(content.differences,
                              lost_inside_frames(rec, scenario.start.transcoding.fps),
                              int(content.stats.get("frames", 0)))
        index: dict[int, int] = {}
        for i, d in enumerate(kept):
            if d is not None:
                index[i] = len(differences)
                differences.append(d)
        evidence = tuple(replace(e, difference=index[e.difference]) for e in content.evidence
                         if e.difference in index)
        streams = {**streams, "content": content.stats}
    inferred = None
    if infer:
        inferred = {key: "undetermined" for key in PROFILE_CHOICES}
        if content is not None and content.infer:
            inferred.update({k: v for k, v in content.infer.items() if v != "undetermined"})
        inferred.update({k: v for k, v in _file_infer(files).items()
                         if v != "undetermined"})
    verdict = "error" if error else ("differ" if differences else "match")
    alignment = (content.alignment.to_json(shift_s=lead_lost_s(rec))
                 if content is not None and content.alignment is not None else None)
    return CompareResult(verdict=verdict, offset_s=offset, differences=tuple(differences),
                         alignment=alignment,
                         files=files, streams=streams,
                         tracks=content.tracks if content else (),
                         infer=inferred, evidence=evidence,
                         error=error, judged=judged,
                         not_judged=() if "files" in judged else tuple(file_diffs),
                         events=content.events if content else (),
                         warnings=content.warnings if content else ())
