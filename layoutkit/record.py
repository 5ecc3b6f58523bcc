"""The local recorder: a scenario -> HLS (.m3u8 + .ts) and MP4, like the cloud's composite mode.

One H.264 encode and one AAC encode; the same packets are muxed into MPEG-TS segments and,
when ``avFileType`` has ``mp4``, into the MP4 (encode once, mux twice).  Everything streams
frame by frame: memory stays flat however long the recording.

Files are always whole where a reader can see them:

* a ``.ts`` segment is written under a temporary name and renamed when closed, and only then
  added to the playlist; the playlist itself is replaced atomically after each segment, so a
  run killed at any moment leaves a playlist whose every segment plays;
* an ``.mp4`` is written under a temporary name and renamed when finalized (a killed run
  leaves only a hidden ``.*.part.mp4``, never a broken MP4 under a final name).

Segmentation (contract section 2): a key frame is forced at every 15 s boundary and a segment
is cut at the first key frame at or after it.  MP4 files roll over after 2 h (profile
``mp4_rollover``) or 2 GB, at a key frame.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
from collections import deque
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import EncodeError
from .media.atomic import atomic_output, check_writable
from .media.hls import PlaylistWriter, Segment, server_response
from .media.naming import (
    MP4_MAX_BYTES,
    m3u8_name,
    mp4_name,
    new_sid,
    rollover_seconds,
    ts_name,
)
from .profile import DEFAULT_PROFILE, Profile
from .scenario import Scenario

__all__ = ["SEGMENT_SECONDS", "X264_OPTIONS", "RecordingResult", "record", "x264_options"]

#: Target length of a TS segment; a key frame is forced at each multiple.
SEGMENT_SECONDS = 15
#: x264 settings: fast enough for > 20x real time at 640x360@15 on 2 cores, no B-frames
#: (a live recorder's low-latency encode), IDR at forced key frames, SPS/PPS repeated in-band,
#: and the colour description of the canvas (BT.601, limited range) written into the stream.
X264_OPTIONS: dict[str, str] = {
    "preset": "veryfast", "forced-idr": "1",
    "x264-params": "bframes=0:repeat-headers=1:scenecut=0:colorprim=smpte170m:"
                   "transfer=smpte170m:colormatrix=smpte170m:range=tv"}
#: Canvases up to this many pixels encode on one x264 thread (the drawing thread has the
#: other core; measured on 2 cores: 640x360@15 with 4 test streams 18x -> 22x real time);
#: larger ones use x264's automatic thread count (1080p with 17 test streams: 4.1x -> 4.8x).
SINGLE_THREAD_MAX_PIXELS = 640 * 480


def x264_options(size_wh: tuple[int, int]) -> dict[str, Any]:
    """The x264 options for a canvas: :data:`X264_OPTIONS` plus the thread count."""
    options: dict[str, Any] = dict(X264_OPTIONS)
    if size_wh[0] * size_wh[1] <= SINGLE_THREAD_MAX_PIXELS:
        options["threads"] = "1"
    return options


#: Streams are identified by these kinds inside the recorder.
VIDEO, AUDIO = "video", "audio"


@dataclass(frozen=True)
class RecordingResult:
    """What :func:`record` wrote.

    Attributes
    ----------
    folder : Path
        ``DIR/<fileNamePrefix joined by />``, where the files are.
    keys : tuple of str
        Storage keys (``prefix/name``) of every file, segments first, the playlist last.
    server_response : dict
        The ``stop`` response's ``serverResponse`` (also in ``DIR/serverResponse.json``).
    frames : int
        Video frames encoded (0 for audio-only recordings).
    duration : Fraction
        Recorded seconds.
    sid : str
        The recording's sid.
    """

    folder: Path
    keys: tuple[str, ...]
    server_response: dict[str, Any]
    frames: int
    duration: Fraction
    sid: str


def _clone(packet: Any, stream: Any) -> Any:
    """A copy of ``packet`` for another container (muxing takes ownership of a packet)."""
    import av

    copy = av.Packet(bytes(packet))
    copy.pts, copy.dts, copy.time_base = packet.pts, packet.dts, packet.time_base
    copy.is_keyframe = packet.is_keyframe
    copy.stream = stream
    return copy


class _Encoders:
    """The one H.264 and one AAC encoder, held by a never-written MP4 container.

    The MP4 format makes the encoders produce global headers (``avcC`` / AudioSpecificConfig)
    that every output stream copies as its template.
    """

    def __init__(self, *, size_wh: tuple[int, int] | None, fps: int, bitrate_kbps: int,
                 audio: tuple[int, int] | None) -> None:
        import av

        self._holder = av.open(io.BytesIO(), "w", format="mp4")
        self.video: Any = None
        self.audio: Any = None
        self.fps = fps
        try:
            if size_wh is not None:
                stream = self._holder.add_stream("libx264", rate=Fraction(fps))
                stream.width, stream.height = size_wh
                stream.pix_fmt = "yuv420p"
                stream.bit_rate = bitrate_kbps * 1000
                stream.codec_context.time_base = Fraction(1, fps)
                stream.options = x264_options(size_wh)
                self.video = stream
            if audio is not None:
                channels, bit_rate = audio
                sound = self._holder.add_stream("aac", rate=48000)
                sound.layout = "stereo" if channels == 2 else "mono"
                sound.bit_rate = bit_rate
                self.audio = sound
            self._holder.start_encoding()
        except av.error.FFmpegError as exc:
            msg = f"cannot start the encoders ({exc})"
            raise EncodeError(msg) from exc

    def templates(self) -> dict[str, Any]:
        """Streams to copy into each output container, by kind."""
        return {k: s for k, s in ((VIDEO, self.video), (AUDIO, self.audio)) if s is not None}

    def close(self) -> None:
        """Release the encoders."""
        try:
            self._holder.close()
        except Exception:  # noqa: BLE001 - the holder is never written; closing may complain
            pass


class _Output:
    """One output container (a TS segment or an MP4 part) under a temporary name."""

    def __init__(self, path: Path, fmt: str, templates: dict[str, Any], *, start: Fraction,
                 overwrite: bool, options: dict[str, str] | None = None) -> None:
        import av

        self.path = path
        self.start = start  # recording time of the first packet
        self._atomic = atomic_output(path, overwrite=overwrite)
        self._tmp = self._atomic.__enter__()
        try:
            self._container = av.open(str(self._tmp), "w", format=fmt, options=options or {})
            self._streams = {k: self._container.add_stream_from_template(t)
                             for k, t in templates.items()}
        except Exception as exc:
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)
            msg = f"{path}: cannot create the {fmt} file ({exc})"
            raise EncodeError(msg) from exc

    def mux(self, packet: Any, kind: str) -> None:
        """Write a copy of ``packet`` into this file's stream of ``kind``."""
        self._container.mux(_clone(packet, self._streams[kind]))

    def size(self) -> int:
        try:
            return self._tmp.stat().st_size
        except OSError:
            return 0

    def close(self, exc: BaseException | None = None) -> None:
        """Finish the container and rename it into place (or discard it on error)."""
        try:
            self._container.close()
        except Exception as close_exc:
            exc = exc or close_exc
        if exc is None:
            self._atomic.__exit__(None, None, None)
        else:
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)


class _Sinks:
    """Routes encoded packets to TS segments and MP4 parts, cutting at key frames."""

    def __init__(self, folder: Path, *, sid: str, cname: str, start_utc: datetime,
                 templates: dict[str, Any], mp4: bool, profile: Profile, correct_extinf: bool,
                 overwrite: bool) -> None:
        self.folder = folder
        self.sid, self.cname, self.start_utc = sid, cname, start_utc
        self.templates = templates
        self.profile = profile
        self.overwrite = overwrite
        self.has_video = VIDEO in templates
        self.playlist = PlaylistWriter(folder / m3u8_name(sid, cname),
                                       correct_extinf=correct_extinf, tag_time=profile.tag_time)
        self.segment: _Output | None = None
        self.segment_names: list[str] = []
        self.next_cut = Fraction(SEGMENT_SECONDS)
        self.mp4_enabled = mp4
        self.mp4: _Output | None = None
        self.mp4_parts: list[tuple[str, Fraction]] = []
        self.mp4_limit = Fraction(rollover_seconds(profile))
        self._audio: deque[tuple[Any, Fraction]] = deque()
        self._video_time = Fraction(-1)

    # ---------------------------------------------------------------- segments
    def _utc(self, when: Fraction) -> datetime:
        return self.start_utc + timedelta(seconds=float(when))

    def _open_segment(self, when: Fraction) -> None:
        name = ts_name(self.sid, self.cname, self._utc(when), tag_time=self.profile.tag_time)
        # keep the encoder's timestamps as they are in every segment (the first one holds
        # the AAC priming packet at a negative time; shifting only that segment would make
        # consecutive segments overlap)
        self.segment = _Output(self.folder / name, "mpegts", self.templates, start=when,
                               overwrite=self.overwrite,
                               options={"avoid_negative_ts": "disabled",
                                        # PAT/PMT once at the segment's start, as FFmpeg's
                                        # own HLS muxer does (not every 0.1 s)
                                        "pat_period": "3600", "sdt_period": "3600"})

    def _close_segment(self, end: Fraction) -> None:
        if self.segment is None:
            return
        segment, self.segment = self.segment, None
        segment.close()
        start = segment.start
        first = not self.segment_names
        events = tuple((kind.upper(), self._utc(start)) for kind in (AUDIO, VIDEO)
                       if kind in self.templates) if first else ()
        self.playlist.add(Segment(name=segment.path.name, duration=end - start,
                                  start=self._utc(start), discontinuity=first,
                                  track_events=events))
        self.segment_names.append(segment.path.name)

    def _open_mp4(self, when: Fraction) -> None:
        name = mp4_name(self.sid, self.cname, len(self.mp4_parts))
        self.mp4 = _Output(self.folder / name, "mp4", self.templates, start=when,
                           overwrite=self.overwrite, options={"movflags": "+faststart"})
        self.mp4_parts.append((name, when))

    def _cut(self, when: Fraction, *, key: bool) -> None:
        """Start new files at ``when`` where a boundary has been reached."""
        if self.segment is None:
            self._open_segment(when)
        elif key and when >= self.next_cut:
            self._close_segment(when)
            self._open_segment(when)
        if key:  # the next cut waits for the first key frame at or after the next boundary
            while self.next_cut <= when:
                self.next_cut += SEGMENT_SECONDS
        if not self.mp4_enabled:
            return
        if self.mp4 is None:
            self._open_mp4(when)
        elif key and (when - self.mp4.start >= self.mp4_limit
                      or self.mp4.size() >= MP4_MAX_BYTES - 64 * 1024**2):
            self.mp4.close()
            self._open_mp4(when)

    def _write(self, packet: Any, kind: str) -> None:
        assert self.segment is not None
        self.segment.mux(packet, kind)
        if self.mp4 is not None:
            self.mp4.mux(packet, kind)

    # ---------------------------------------------------------------- packets
    def video(self, packet: Any) -> None:
        """Route one video packet (cuts files at key frames on the boundaries)."""
        when = Fraction(packet.pts) * packet.time_base
        self._flush_audio(before=when)  # earlier audio stays in the segment it belongs to
        self._cut(when, key=packet.is_keyframe)
        self._write(packet, VIDEO)
        self._video_time = when
        self._flush_audio(before=when, inclusive=True)

    def audio(self, packet: Any) -> None:
        """Route one audio packet (held back until the video has passed its time)."""
        when = Fraction(packet.pts) * packet.time_base
        if not self.has_video:
            self._cut(max(when, Fraction(0)), key=True)
            self._write(packet, AUDIO)
            return
        self._audio.append((packet, when))
        self._flush_audio(before=self._video_time, inclusive=True)

    def _flush_audio(self, *, before: Fraction | None, inclusive: bool = False) -> None:
        """Write held-back audio earlier than ``before`` (everything when None)."""
        while self._audio and self.segment is not None and (
                before is None or self._audio[0][1] < before
                or (inclusive and self._audio[0][1] <= before)):
            packet, when = self._audio.popleft()
            self._write(packet, AUDIO)

    def finish(self, end: Fraction) -> None:
        """Write what is held back, close every file and finish the playlist."""
        if self.segment is None and self._audio:
            self._cut(self._audio[0][1], key=True)
        self._flush_audio(before=None)
        self._close_segment(end)
        if self.mp4 is not None:
            self.mp4.close()
            self.mp4 = None
        self.playlist.finish()

    def abort(self, exc: BaseException) -> None:
        """Discard the files being written (finished segments and the playlist stay)."""
        for output in (self.segment, self.mp4):
            if output is not None:
                output.close(exc)
        self.segment = self.mp4 = None


def _progress(total: int, *, quiet: bool) -> Any:
    """A tqdm bar on a terminal; a no-op object otherwise."""
    enabled = not quiet and sys.stderr.isatty() and not os.environ.get("LAYOUTKIT_NO_PROGRESS")
    if enabled:
        from tqdm import tqdm

        return tqdm(total=total, unit="frame", desc="mix", leave=False, dynamic_ncols=True)

    class _Silent:
        def update(self, n: int = 1) -> None:
            pass

        def close(self) -> None:
            pass

    return _Silent()


def _media_frames(renderer: Any, mixer: Any, *, total: int, fps: int,
                  channels: int) -> Iterator[tuple[Any, Any]]:
    """``(av.VideoFrame or None, av.AudioFrame or None)`` for each output frame, in order.

    A key frame is forced at every 15 s boundary.
    """
    import av

    from .media.audio import audio_frame, frame_sample_range, to_channels

    key_every = SEGMENT_SECONDS * fps
    for index in range(total):
        video = audio = None
        if renderer is not None:
            canvas = renderer.frame_at(Fraction(index, fps), index=index).canvas
            video = av.VideoFrame.from_ndarray(canvas, format="yuv420p")  # copies the canvas
            video.pts = index
            if index % key_every == 0:
                video.pict_type = av.video.frame.PictureType.I
        if mixer is not None:
            lo, hi = frame_sample_range(index, fps)
            hi = min(hi, mixer.end_sample)  # the audio ends with the recording, not the frame
            audio = audio_frame(to_channels(mixer.mix(lo, hi - lo), channels), start_sample=lo,
                                channels=channels)
        yield video, audio


class _prefetch:  # noqa: N801 - used like a function
    """Run a generator in a background thread, ``depth`` items ahead (bounded memory).

    Drawing (NumPy/OpenCV) and encoding (x264/AAC) both release the GIL, so the recorder
    draws the next frames while the encoder works on this one.  An exception in the
    generator is re-raised in the consumer; :meth:`close` stops the thread.
    """

    _DONE = object()

    def __init__(self, items: Iterator[Any], *, depth: int = 4) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(items,), daemon=True,
                                        name="layoutkit-draw")
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, items: Iterator[Any]) -> None:
        try:
            for item in items:
                if not self._put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer
            self._put((None, exc))
            return
        self._put((self._DONE, None))

    def __iter__(self) -> Iterator[Any]:
        while True:
            item, exc = self._queue.get()
            if exc is not None:
                raise exc
            if item is self._DONE:
                return
            yield item

    def close(self) -> None:
        """Stop the producer thread and wait for it."""
        self._stop.set()
        self._thread.join(timeout=10)


def _frame_count(fps: int, end: Fraction) -> int:
    """Number of output frames k with k / fps < end."""
    return math.ceil(end * fps)


def record(
    scenario: Scenario,
    out_dir: str | os.PathLike[str],
    *,
    profile: Profile = DEFAULT_PROFILE,
    base_dir: Path | None = None,
    sid: str | None = None,
    overwrite: bool = False,
    quiet: bool = True,
) -> RecordingResult:
    """Record ``scenario`` into ``out_dir`` the way the cloud's composite mode would.

    Parameters
    ----------
    scenario : Scenario
        The parsed scenario (its ``start`` body gives canvas, fps, bitrate, audio profile,
        stream types, file types and the file name prefix).
    out_dir : path
        Files go under ``out_dir/<fileNamePrefix joined by />/``; ``serverResponse.json``
        into ``out_dir``.
    profile : Profile
        Behaviour choices (TIME format, MP4 rollover, display rules).
    base_dir : Path, optional
        Folder that relative source, audio and image paths are relative to.
    sid : str, optional
        The recording's sid; default the scenario's, else a new random one.
    overwrite : bool
        Replace existing files of the same names.
    quiet : bool
        No progress bar.

    Returns
    -------
    RecordingResult
    """
    from .media.audio import AUDIO_PROFILES, AudioMixer
    from .render import SceneRenderer, canvas_size

    start = scenario.start
    config = start.recording_config
    tc = start.transcoding
    fps = tc.fps
    sid = sid or scenario.sid or new_sid()
    storage = start.storage_config
    prefix = tuple(storage.file_name_prefix) if storage else ()
    root = Path(out_dir)
    folder = root.joinpath(*prefix)
    check_writable(folder / m3u8_name(sid, scenario.cname), overwrite=overwrite)
    check_writable(root / "serverResponse.json", overwrite=overwrite)
    folder.mkdir(parents=True, exist_ok=True)

    records_video, records_audio = config.records_video(), config.records_audio()
    canvas = canvas_size(scenario)
    renderer = SceneRenderer(scenario, profile=profile, base_dir=base_dir) if records_video else None
    timeline = renderer.timeline if renderer else None
    if timeline is None:
        from .timeline import Timeline

        timeline = Timeline(scenario, profile=profile)
    channels, bit_rate = AUDIO_PROFILES[config.audio_profile]
    mixer = AudioMixer(scenario, timeline, base_dir=base_dir) if records_audio else None
    encoders = _Encoders(size_wh=canvas if records_video else None, fps=fps,
                         bitrate_kbps=tc.bitrate, audio=(channels, bit_rate) if mixer else None)
    sinks = _Sinks(folder, sid=sid, cname=scenario.cname, start_utc=scenario.start_utc,
                   templates=encoders.templates(), mp4="mp4" in start.recording_file_config.av_file_type,
                   profile=profile, correct_extinf=bool(config.private.get("correctEXTINF")),
                   overwrite=overwrite)
    end = timeline.end_time
    total = _frame_count(fps, end)
    bar = _progress(total, quiet=quiet)
    frames = 0
    producer = _prefetch(_media_frames(renderer, mixer, total=total, fps=fps, channels=channels))
    try:
        for video_frame, audio in producer:
            if video_frame is not None:
                for packet in encoders.video.encode(video_frame):
                    sinks.video(packet)
                frames += 1
            if audio is not None:
                for packet in encoders.audio.encode(audio):
                    sinks.audio(packet)
            bar.update(1)
        if encoders.video is not None:
            for packet in encoders.video.encode(None):
                sinks.video(packet)
        if encoders.audio is not None:
            for packet in encoders.audio.encode(None):
                sinks.audio(packet)
        sinks.finish(end)
    except BaseException as exc:
        sinks.abort(exc)
        raise
    finally:
        producer.close()
        bar.close()
        encoders.close()
        if renderer is not None:
            renderer.close()
        if mixer is not None:
            mixer.close()

    keys = [*sinks.segment_names, *(name for name, _ in sinks.mp4_parts),
            m3u8_name(sid, scenario.cname)]
    prefixed = tuple("/".join((*prefix, k)) for k in keys)
    track = {(True, True): "audio_and_video", (True, False): "video",
             (False, True): "audio"}[(records_video, records_audio)]
    response = server_response(
        m3u8_key="/".join((*prefix, m3u8_name(sid, scenario.cname))),
        mp4_keys=["/".join((*prefix, name)) for name, _ in sinks.mp4_parts],
        slice_start=scenario.start_utc,
        mp4_slice_starts=[scenario.start_utc + timedelta(seconds=float(t))
                          for _, t in sinks.mp4_parts],
        track_type=track)
    with atomic_output(root / "serverResponse.json", overwrite=True) as tmp:
        tmp.write_text(json.dumps(response, indent=2) + "\n")
    return RecordingResult(folder=folder, keys=prefixed, server_response=response,
                           frames=frames, duration=end, sid=sid)
