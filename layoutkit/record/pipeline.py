"""The recorder's pipeline: a scenario -> HLS (.m3u8 + .ts) and MP4, like the cloud's composite
mode.

timeline -> renderer (video) and mixer (audio) in a drawing thread a few frames ahead ->
one H.264 encode and one AAC encode (:class:`~layoutkit.io.encode.Encoders`) -> the same
packets into TS segments and, when ``avFileType`` has ``mp4``, MP4 parts
(:class:`~layoutkit.record.sinks.Sinks`, cut by :mod:`layoutkit.record.segmenter`).
Everything streams frame by frame: memory stays flat however long the recording.
"""

from __future__ import annotations

import json
import math
import os
import queue
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..cloudfiles.naming import m3u8_name, new_sid
from ..cloudfiles.server_response import server_response
from ..io.atomic import atomic_output, check_writable
from ..io.encode import Encoders
from ..profile import DEFAULT_PROFILE, Profile
from ..render import SceneRenderer, canvas_size
from ..scenario import Scenario
from ..signals.audio import AUDIO_PROFILES, AudioMixer, frame_sample_range, to_channels
from ..sources import open_audio_sources
from ..timeline import Timeline
from .segmenter import SEGMENT_SECONDS
from .sinks import Sinks

__all__ = ["RecordingResult", "record"]


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


def _media_frames(renderer: SceneRenderer | None, mixer: AudioMixer | None, *, total: int,
                  fps: int, channels: int) -> Iterator[tuple[Any, Any]]:
    """``(canvas or None, planar samples or None)`` of each output frame, in order.

    The canvas is a copy (the renderer reuses its buffer; this runs ahead in a thread).
    """
    for index in range(total):
        canvas = samples = None
        if renderer is not None:
            canvas = renderer.frame_at(Fraction(index, fps), index=index).canvas.copy()
        if mixer is not None:
            lo, hi = frame_sample_range(index, fps)
            hi = min(hi, mixer.end_sample)  # the audio ends with the recording, not the frame
            samples = (lo, to_channels(mixer.mix(lo, hi - lo), channels))
        yield canvas, samples


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
    renderer = SceneRenderer(scenario, profile=profile) if records_video else None
    timeline = renderer.timeline if renderer else Timeline(scenario, profile=profile)
    channels, bit_rate = AUDIO_PROFILES[config.audio_profile]
    mixer = AudioMixer(scenario, timeline, sources=open_audio_sources(scenario)) \
        if records_audio else None
    encoders = Encoders(size_wh=canvas if records_video else None, fps=fps,
                        bitrate_kbps=tc.bitrate, audio=(channels, bit_rate) if mixer else None)
    sinks = Sinks(folder, sid=sid, cname=scenario.cname, start_utc=scenario.start_utc,
                  templates=encoders.templates(),
                  mp4="mp4" in start.recording_file_config.av_file_type,
                  profile=profile, correct_extinf=bool(config.private.get("correctEXTINF")),
                  overwrite=overwrite)
    end = timeline.end_time
    total = _frame_count(fps, end)
    bar = _progress(total, quiet=quiet)
    frames = 0
    producer = _prefetch(_media_frames(renderer, mixer, total=total, fps=fps, channels=channels))
    # AAC encodes in its own thread, overlapping x264 on the same frame (both release the
    # GIL); its packets are handed to the sinks after the frame's video packets, as before.
    audio_worker = ThreadPoolExecutor(1, thread_name_prefix="layoutkit-aac") \
        if mixer is not None else None
    try:
        key_every = SEGMENT_SECONDS * fps
        for canvas_i420, audio in producer:
            pending = None
            if audio is not None:
                assert audio_worker is not None
                start_sample, samples = audio
                pending = audio_worker.submit(encoders.encode_audio, samples,
                                              start_sample=start_sample)
            if canvas_i420 is not None:
                for packet in encoders.encode_video(canvas_i420, frames,
                                                    key=frames % key_every == 0):
                    sinks.video(packet)
                frames += 1
            if pending is not None:
                for packet in pending.result():
                    sinks.audio(packet)
            bar.update(1)
        if encoders.video is not None:
            for packet in encoders.encode_video(None, frames):
                sinks.video(packet)
        if encoders.audio is not None:
            for packet in encoders.encode_audio(None):
                sinks.audio(packet)
        sinks.finish(end)
    except BaseException as exc:
        sinks.abort(exc)
        raise
    finally:
        if audio_worker is not None:
            audio_worker.shutdown(wait=True)
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
