"""Stream checks: codecs, picture size, frame rate, bit rates, audio format and duration.

:func:`check_streams` probes the recording's media (the TS segments together as one HLS
stream, and each MP4 part on its own) and compares them with the scenario's ``start`` body.

Expected values and tolerances
------------------------------
* codecs: video ``h264``, audio ``aac`` (docs/cloud.md#cloud-output-codec).
* size: the canvas of ``transcodingConfig`` rounded down to even sides
  (:func:`layoutkit.render.canvas_size`), exactly.
* fps: ``transcodingConfig.fps`` within :data:`FPS_TOLERANCE` (relative), from the stream
  header and from the frame count over the media duration.
* video bit rate, over the whole recording (all video bytes x 8 / media duration): at most
  :data:`VIDEO_BITRATE_MAX` x ``transcodingConfig.bitrate``. There is **no lower bound**:
  still or flat pictures (solid colours, a frozen frame) code far below any target, and a
  low rate is no departure from the rules; the ratio is reported in the facts.
* audio: sample rate 48000 exactly; channels per ``audioProfile``
  (:data:`~layoutkit.signals.audio.AUDIO_PROFILES`: 1, 1, 2) exactly; bit rate against the
  profile's rate R (48 / 128 / 192 Kbps), which tells the three profiles apart: over the
  whole recording at most ``AUDIO_BITRATE_RANGE[1]`` x R (1.4), and in the busiest second
  at least ``AUDIO_BITRATE_RANGE[0]`` x R (0.6). AAC codes silence far below its target, so a
  recording whose busiest second stays under :data:`AUDIO_SILENT` x R (0.25) is taken as
  silent and its lower bound is not judged.
* streams: video present iff ``streamTypes`` is 1 or 2, audio iff 0 or 2.
* duration: the media's length vs the scenario's recording end
  (:attr:`layoutkit.timeline.Timeline.end_time`) plus the alignment's ``offset_s``, within
  ``max(``:data:`DURATION_TOLERANCE_S` ``, 2 %)``; without an offset (not aligned), within
  :data:`UNALIGNED_TOLERANCE_S` (5 s) more, as a real recording starts and stops a little off
  the plan. Not checked for a lone ``.ts`` segment, nor for each of several MP4 parts, nor
  for the HLS stream when a listed segment is missing (``missing_segment`` tells the time
  lost).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import MediaError
from ..signals.audio import AUDIO_PROFILES
from ..profile import DEFAULT_PROFILE, Profile
from ..render import canvas_size
from ..scenario import Scenario
from ..timeline import Timeline
from ..io import probe as _probe_av
from .model import STREAM_KINDS, Difference
from .read import Recording
from ..cloudfiles.constants import SAMPLE_RATE

__all__ = [
    "AUDIO_BITRATE_RANGE",
    "DURATION_TOLERANCE_S",
    "FPS_TOLERANCE",
    "KINDS",
    "UNALIGNED_TOLERANCE_S",
    "VIDEO_BITRATE_MAX",
    "check_streams",
]

#: Difference kinds this module reports (all in the ``streams`` category,
#: :data:`~layoutkit.comparison.model.KIND_CATEGORY`).
KINDS: tuple[str, ...] = STREAM_KINDS
VIDEO_CODEC, AUDIO_CODEC = "h264", "aac"
FPS_TOLERANCE = 0.02
VIDEO_BITRATE_MAX = 1.5
AUDIO_BITRATE_RANGE = (0.6, 1.4)
AUDIO_SILENT = 0.25
DURATION_TOLERANCE_S = 1.0
UNALIGNED_TOLERANCE_S = 5.0


def _merge(probes: list[_probe_av.MediaProbe], kind: str) -> dict[str, Any] | None:
    """One stream's facts over several files (HLS segments)."""
    streams = [s for p in probes for s in p.streams if s.kind == kind]
    if not streams:
        return None
    head = streams[0]
    starts = [s.start for s in streams if s.start is not None]
    ends = [s.end for s in streams if s.end is not None]
    duration = (max(ends) - min(starts)) if starts and ends else None
    # rates over the media actually there (a missing segment leaves a gap in the span)
    held = sum(s.duration or 0.0 for s in streams) or None
    nbytes = sum(s.bytes for s in streams)
    out: dict[str, Any] = {
        "codec": head.codec, "profile": head.profile,
        "codecs": sorted({s.codec or "?" for s in streams}),
        "packets": sum(s.packets for s in streams), "bytes": nbytes,
        "start_s": _r(min(starts)) if starts else None, "duration_s": _r(duration),
        "bitrate_kbps": _r(nbytes * 8 / held / 1000) if held else None,
        "peak_kbps": _r(max(s.peak_bytes_per_s for s in streams) * 8 / 1000),
    }
    if kind == "video":
        sizes = sorted({(s.width, s.height) for s in streams})
        rates = sorted({s.fps for s in streams if s.fps})
        frames = sum(s.packets for s in streams)
        out.update(width=head.width, height=head.height, sizes=[list(x) for x in sizes],
                   fps=rates[0] if len(rates) == 1 else rates,
                   measured_fps=_r(frames / held) if held else None, frames=frames)
    else:
        out.update(sample_rate=head.sample_rate, channels=head.channels,
                   sample_rates=sorted({s.sample_rate or 0 for s in streams}),
                   channel_counts=sorted({s.channels or 0 for s in streams}))
    return out


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _probe_all(paths: list[Path], recording: Recording,
               found: list[Difference]) -> list[_probe_av.MediaProbe]:
    probes = []
    for path in paths:
        try:
            probes.append(_probe_av.inspect_media(path, decode=False))
        except MediaError as exc:
            found.append(Difference(kind="unreadable_media", message=str(exc),
                                    file=recording.relative(path)))
    return probes


#: Reports one difference of a group: kind, message, expected, observed.
_Add = Callable[[str, str, Any, Any], None]


def _check_presence(add: _Add, scenario: Scenario, video: dict[str, Any] | None,
                    audio: dict[str, Any] | None) -> None:
    """Each stream the ``streamTypes`` asks for, and no other."""
    config = scenario.start.recording_config
    for kind, wanted, got in (("video", config.records_video(), video),
                              ("audio", config.records_audio(), audio)):
        if wanted and got is None:
            add("missing_stream", f"no {kind} stream, but streamTypes is "
                f"{config.stream_types}", kind, None)
        elif not wanted and got is not None:
            add("unexpected_stream", f"a {kind} stream, but streamTypes is "
                f"{config.stream_types}", None, kind)


def _check_video(add: _Add, scenario: Scenario, video: dict[str, Any]) -> None:
    """Codec, size, frame rate and bit rate (adds ``bitrate_ratio`` to the facts)."""
    tc = scenario.start.transcoding
    if video["codecs"] != [VIDEO_CODEC]:
        add("wrong_codec", f"video codec {video['codecs']}, expected {VIDEO_CODEC}",
            VIDEO_CODEC, video["codecs"])
    want = list(canvas_size(scenario))
    if video["sizes"] != [want]:
        shown = ", ".join(f"{w}x{h}" for w, h in video["sizes"])
        add("wrong_resolution", f"video is {shown}, expected {want[0]}x{want[1]} "
            "(transcodingConfig, even sides)", want,
            video["sizes"][0] if len(video["sizes"]) == 1 else video["sizes"])
    rates = video["fps"] if isinstance(video["fps"], list) else [video["fps"]]
    measured = video["measured_fps"]
    bad = [r for r in [*rates, measured] if r is not None
           and abs(r - tc.fps) > FPS_TOLERANCE * tc.fps]
    if bad:
        add("wrong_fps", f"{rates} fps in the header, {measured} fps measured, expected "
            f"{tc.fps}", tc.fps, measured if measured is not None else rates)
    rate = video["bitrate_kbps"]
    if rate is not None:
        video["bitrate_ratio"] = _r(rate / tc.bitrate)
        if rate > VIDEO_BITRATE_MAX * tc.bitrate:
            add("video_bitrate", f"video {rate:.0f} Kbps over the recording, expected at "
                f"most {VIDEO_BITRATE_MAX} x {tc.bitrate} Kbps", tc.bitrate, rate)


def _check_audio(add: _Add, scenario: Scenario, audio: dict[str, Any]) -> None:
    """Codec, sample rate, channels and bit rate against the ``audioProfile``."""
    config = scenario.start.recording_config
    channels, bit_rate = AUDIO_PROFILES[config.audio_profile]
    if audio["codecs"] != [AUDIO_CODEC]:
        add("wrong_codec", f"audio codec {audio['codecs']}, expected {AUDIO_CODEC}",
            AUDIO_CODEC, audio["codecs"])
    if audio["sample_rates"] != [SAMPLE_RATE]:
        add("audio_sample_rate", f"audio at {audio['sample_rates']} Hz, expected "
            f"{SAMPLE_RATE}", SAMPLE_RATE, audio["sample_rates"])
    if audio["channel_counts"] != [channels]:
        add("audio_channels", f"audio has {audio['channel_counts']} channel(s), expected "
            f"{channels} (audioProfile {config.audio_profile})", channels,
            audio["channel_counts"][0] if len(audio["channel_counts"]) == 1
            else audio["channel_counts"])
    rate, peak = audio["bitrate_kbps"], audio["peak_kbps"]
    low, high = AUDIO_BITRATE_RANGE
    want_k = bit_rate / 1000
    if rate is not None and rate > high * want_k:
        add("audio_bitrate", f"audio {rate:.0f} Kbps, expected ~{want_k:.0f} Kbps "
            f"(at most {high}x; audioProfile {config.audio_profile})", want_k, rate)
    elif peak is not None and AUDIO_SILENT * want_k <= peak < low * want_k:
        add("audio_bitrate", f"audio peaks at {peak:.0f} Kbps in its busiest second, "
            f"expected ~{want_k:.0f} Kbps (at least {low}x; audioProfile "
            f"{config.audio_profile})", want_k, peak)


def _check_group(name: str, probes: list[_probe_av.MediaProbe], scenario: Scenario, *,
                 end_s: float | None, file: str | None,
                 tolerance_s: float) -> tuple[list[Difference], dict[str, Any]]:
    out: list[Difference] = []
    config = scenario.start.recording_config
    video, audio = _merge(probes, "video"), _merge(probes, "audio")
    facts: dict[str, Any] = {"video": video, "audio": audio}

    def add(kind: str, message: str, expected: Any, observed: Any) -> None:
        out.append(Difference(kind=kind, message=f"{name}: {message}", expected=expected,
                              observed=observed, file=file))

    _check_presence(add, scenario, video, audio)
    if video is not None and config.records_video():
        _check_video(add, scenario, video)
    if audio is not None and config.records_audio():
        _check_audio(add, scenario, audio)
    # the video's span when there is video (audio may carry encoder priming or, after a cut,
    # pre-roll packets before the first picture that players drop)
    main = video if video is not None and video["duration_s"] else audio
    length = main["duration_s"] if main is not None else None
    facts["duration_s"] = length
    if end_s is not None and length is not None and abs(length - end_s) > tolerance_s:
        add("duration", f"lasts {length:.3f} s, expected {end_s:.3f} s "
            f"(+/- {tolerance_s:.2f} s)", _r(end_s), length)
    return out, facts


def check_streams(recording: Recording, scenario: Scenario, *,
                  profile: Profile = DEFAULT_PROFILE,
                  offset_s: float | None = None) -> tuple[list[Difference], dict[str, Any]]:
    """Check the recording's streams against the scenario's ``start`` body.

    Parameters
    ----------
    recording : Recording
    scenario : Scenario
    profile : Profile
        For the timeline's recording end (idle exit).
    offset_s : float or None
        Recording time of the scenario's t = 0, from the alignment (negative when the
        recording starts late). Given, the media must last ``end + offset_s`` within
        ``max(1 s, 2 %)``; None (not aligned yet), within :data:`UNALIGNED_TOLERANCE_S`
        more, since a real recording starts and stops a little off the plan.

    Returns
    -------
    (list of Difference, dict)
        Differences (kinds in :data:`KINDS`; see the module docstring for every tolerance)
        and JSON-able facts: ``{"expected": ..., "hls": {...}, "mp4": [{...}, ...]}``.
    """
    found: list[Difference] = []
    end_s = float(Timeline(scenario, profile=profile).end_time)
    tolerance = max(DURATION_TOLERANCE_S, 0.02 * end_s)
    if offset_s is None:
        tolerance += UNALIGNED_TOLERANCE_S
        want_s = end_s
    else:
        want_s = end_s + offset_s
    tc = scenario.start.transcoding
    config = scenario.start.recording_config
    channels, bit_rate = AUDIO_PROFILES[config.audio_profile]
    facts: dict[str, Any] = {"expected": {
        "video": [*canvas_size(scenario), tc.fps] if config.records_video() else None,
        "video_bitrate_kbps": tc.bitrate if config.records_video() else None,
        "audio": [SAMPLE_RATE, channels, bit_rate] if config.records_audio() else None,
        "duration_s": _r(want_s), "duration_tolerance_s": _r(tolerance),
        "offset_s": _r(offset_s)}}
    segments = recording.media_segments()
    if segments:
        probes = _probe_all(segments, recording, found)
        name = "HLS" if recording.kind != "ts" else recording.relative(segments[0])
        whole = recording.kind != "ts"
        complete = all(s.exists for s in recording.segments)
        diffs, hls = _check_group(name, probes, scenario,
                                  end_s=want_s if whole and complete else None,
                                  file=None if whole else recording.relative(segments[0]),
                                  tolerance_s=tolerance)
        found += diffs
        facts["hls"] = hls
    mp4_facts = []
    for path in recording.mp4s:
        probes = _probe_all([path], recording, found)
        if not probes:
            continue
        key = recording.relative(path)
        single = len(recording.mp4s) == 1
        diffs, one = _check_group(key, probes, scenario, end_s=want_s if single else None,
                                  file=key, tolerance_s=tolerance)
        found += diffs
        one["file"] = key
        mp4_facts.append(one)
    facts["mp4"] = mp4_facts
    return found, facts
