"""The recorder's pipeline: a scenario -> HLS (.m3u8 + .ts) and MP4, as in composite mode.

timeline -> renderer (video) and mixer (audio) in a drawing thread a few frames ahead ->
one H.264 encode and one AAC encode (:class:`~layoutkit.io.encode.Encoders`) -> the same
packets into TS segments and, when ``avFileType`` has ``mp4``, MP4 parts
(:class:`~layoutkit.record.sinks.Sinks`, cut by :mod:`layoutkit.record.segmenter`).
Everything streams frame by frame: memory stays flat however long the recording.

Every source file is checked first (a refused run creates no folder).  A run holds a lock on
the output folder (:func:`~layoutkit.io.lock.folder_lock`, removed when the run ends), removes
the temporary files a killed run left there, and, when replacing a recording
(``overwrite``), first removes the old recording's files (its ``serverResponse.json``, its
playlist, the segments that lists, its MP4s), so nothing of it stays beside the new one.
Setting the ``stop`` event (the command line does on SIGINT, SIGTERM and SIGHUP) ends the
recording at the next frame: the open segment and MP4 part are finished, the playlist gets
``#EXT-X-ENDLIST`` and ``serverResponse.json`` lists what was kept.
"""

from __future__ import annotations

import json
import math
import os
import queue
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..cloudfiles.naming import m3u8_name, new_sid
from ..cloudfiles.parse import parse_name, parse_playlist, parse_stop_response
from ..cloudfiles.server_response import server_response
from ..errors import LayoutkitError, StorageError
from ..io.atomic import atomic_output, check_writable, stale_temporaries, temporary_target
from ..io.limited import read_json_file
from ..io.lock import folder_lock
from ..io.memory import pictures_unmapped, trim_heap
from ..io.decode import DecodeWorkers, FileAudio
from ..io.encode import Encoders, FramePool, video_frame
from ..profile import DEFAULT_PROFILE, Profile
from ..render import SceneRenderer, canvas_size
from ..scenario import Scenario
from ..signals.audio import (AUDIO_PROFILES, AudioMixer, AudioSource, frame_sample_range,
                             to_channels)
from ..sources import FileSource, check_sources, open_audio_sources
from ..timeline import Timeline
from .sinks import FileNames, Sinks
from ..cloudfiles.constants import SEGMENT_SECONDS

__all__ = ["LOCAL_UPLOADING_STATUS", "RecordingResult", "encode_frame", "flush_encoders",
           "media_frame", "record", "write_server_response"]


@dataclass(frozen=True)
class RecordingResult:
    """What the recorder wrote (:func:`layoutkit.mix`).

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
    interrupted : bool
        The ``stop`` event ended the recording before the scenario's end; ``duration`` is
        what was recorded, and every file listed is whole.
    removed : tuple of Path
        Files removed before recording: leftovers of killed runs and, with ``overwrite``,
        the replaced recording's files.
    """

    folder: Path
    keys: tuple[str, ...]
    server_response: dict[str, Any]
    frames: int
    duration: Fraction
    sid: str
    interrupted: bool = False
    removed: tuple[Path, ...] = ()


def _progress(total: int, *, quiet: bool) -> Any:
    """Return a tqdm bar on a terminal, a no-op object otherwise."""
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
                  fps: int, channels: int, pool: FramePool | None = None,
                  ) -> Iterator[tuple[Any, Any]]:
    """``(video frame or None, planar samples or None)`` of each output frame, in order.

    The video frame holds a copy of the canvas (the renderer reuses its buffer; this runs
    ahead in a thread), in a frame of ``pool`` when one was given back; a key frame is
    forced at every 15 s boundary.
    """
    for index in range(total):
        yield media_frame(renderer, mixer, index=index, fps=fps, channels=channels, pool=pool)


def media_frame(renderer: SceneRenderer | None, mixer: AudioMixer | None, *, index: int,
                fps: int, channels: int, pool: FramePool | None = None) -> tuple[Any, Any]:
    """Draw and mix output frame ``index``.

    Returns ``(video frame or None, (first sample, planar samples) or None)`` (see
    :func:`_media_frames`; the local service draws frame by frame with it).  ``pool``: the
    frames given back after their encode, reused for the canvas (:class:`FramePool`).
    """
    canvas = samples = None
    if renderer is not None:
        canvas = video_frame(renderer.rendered_frame(Fraction(index, fps), index=index).canvas,
                             index, key=index % (SEGMENT_SECONDS * fps) == 0, pool=pool)
    if mixer is not None:
        lo, hi = frame_sample_range(index, fps)
        hi = min(hi, mixer.end_sample)  # the audio ends with the recording, not the frame
        samples = (lo, to_channels(mixer.mix(lo, hi - lo), channels))
    return canvas, samples


class _prefetch:
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


def _read_ahead(renderer: SceneRenderer | None,
                audio: dict[str, AudioSource]) -> DecodeWorkers:
    """Return the threads decoding the recording's files ahead of drawing and mixing.

    Every file source of ``renderer`` and every audio file of ``audio`` reads ahead in them
    (the pictures and samples are the same as without); close them after the sources.
    """
    workers = DecodeWorkers()
    sources: list[Any] = list(renderer.sources.values()) if renderer is not None else []
    for source in [*sources, *audio.values()]:
        if isinstance(source, (FileSource, FileAudio)):
            source.read_ahead(workers)
    return workers


#: Output frames between two trims of the C heap (:func:`~layoutkit.io.memory.trim_heap`, about
#: a millisecond): a 17-user 1080p mix otherwise kept 8 MiB more resident by the end of each
#: pass through its files.
TRIM_EVERY_FRAMES = 16


def _frame_count(fps: int, end: Fraction) -> int:
    """Count the output frames k with k / fps < end."""
    return math.ceil(end * fps)


def record(
    scenario: Scenario,
    out_dir: str | os.PathLike[str],
    *,
    profile: Profile = DEFAULT_PROFILE,
    sid: str | None = None,
    overwrite: bool = False,
    quiet: bool = True,
    stop: threading.Event | None = None,
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
    stop : threading.Event, optional
        When set (e.g. by a signal handler), the recording ends at the next frame and its
        files are finished as at the scenario's end (``RecordingResult.interrupted``).

    Returns
    -------
    RecordingResult

    Raises
    ------
    ScenarioError
        When a source file is missing or cannot be used (:func:`~layoutkit.sources.check_sources`);
        nothing is created then.
    OutputExistsError
        When a file of the recording exists and not ``overwrite``.
    FolderBusyError
        When another run is writing into ``out_dir``.
    StorageError
        When a file cannot be written whole (e.g. the disk is full): nothing that is not
        whole on disk is listed in the playlist, and ``serverResponse.json`` is not written.
    """
    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        msg = f"{root}: is a file, not a folder"
        raise StorageError(msg)
    sid = sid or scenario.sid or new_sid()
    # picture-sized buffers go back to the system when freed, for the recording's span only
    with pictures_unmapped():
        check_sources(scenario)  # every source file, before any folder is made
        _check_outputs(scenario, root, sid=sid, overwrite=overwrite)  # refuse before touching
        with folder_lock(root):
            return _record(scenario, root, profile=profile, sid=sid, overwrite=overwrite,
                           quiet=quiet, stop=stop)


def _check_outputs(scenario: Scenario, root: Path, *, sid: str, overwrite: bool) -> Path:
    """Return the recording's folder, after refusing to replace its files unless ``overwrite``."""
    storage = scenario.start.storage_config
    folder = root.joinpath(*(tuple(storage.file_name_prefix) if storage else ()))
    check_writable(folder / m3u8_name(sid, scenario.cname), overwrite=overwrite)
    check_writable(root / "serverResponse.json", overwrite=overwrite)
    return folder


def _inside(root: Path, relative: str) -> Path | None:
    """``root/relative`` when it is a regular file inside ``root`` (no link, no escape)."""
    if not relative or relative.startswith("/") or "\\" in relative:
        return None
    path = root / relative
    try:
        if path.is_symlink() or not path.is_file():
            return None
        path.resolve().relative_to(root.resolve())
    except (OSError, ValueError):
        return None
    return path


def _old_recording(root: Path, folder: Path, *, sid: str, cname: str) -> list[Path]:
    """List the files of the recording ``overwrite`` replaces, in removal order.

    ``serverResponse.json`` first (it lists the others), then playlists, then the media:
    the files named like this recording in its folder, those the old
    ``serverResponse.json`` lists, and the segments of every playlist among them.
    """
    found: set[Path] = set()
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and not path.is_symlink() and parse_name(
                    path.name, sid=sid, cname=cname) is not None:
                found.add(path)
    response = root / "serverResponse.json"
    listed: list[str] = []
    if response.is_file():
        try:
            listed = [f.file_name for f in
                      parse_stop_response(read_json_file(response, what="stop response")).files]
        except (OSError, ValueError, LayoutkitError):
            listed = []
    for name in listed:
        entry = _inside(root, name)
        if entry is not None and entry.suffix in (".m3u8", ".ts", ".mp4"):
            found.add(entry)
    for playlist in [p for p in found if p.suffix == ".m3u8"]:
        try:
            segments = parse_playlist(playlist.read_text("utf-8")).segments
        except (OSError, ValueError, LayoutkitError):
            continue
        for seg in segments:
            rel = playlist.parent.relative_to(root) / seg.file_name
            segment = _inside(root, rel.as_posix())
            if segment is not None and segment.suffix == ".ts":
                found.add(segment)
    order = {".m3u8": 1, ".mp4": 2, ".ts": 3}
    head = [response] if response.is_file() and not response.is_symlink() else []
    return head + sorted(found, key=lambda p: (order.get(p.suffix, 4), str(p)))


def _leftovers(root: Path, folder: Path) -> list[Path]:
    """List the temporary files killed runs left.

    They are those of recording files in ``folder`` and of ``serverResponse.json`` in ``root``
    (the folder is locked: nobody else writes them).
    """
    found = [p for p in stale_temporaries(folder)
             if parse_name(temporary_target(p.name) or "") is not None]
    found += [p for p in stale_temporaries(root)
              if temporary_target(p.name) == "serverResponse.json"]
    return sorted(set(found))


def _remove(paths: list[Path]) -> tuple[Path, ...]:
    removed = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            msg = f"{path}: cannot remove ({exc.strerror or exc})"
            raise StorageError(msg) from exc
        removed.append(path)
    return tuple(removed)


LOCAL_UPLOADING_STATUS = "unknown"
"""``uploadingStatus`` of a recording only on local disk: nothing was uploaded, so not
``"uploaded"`` (``"backuped"`` would claim Agora's backup); upload sets ``"uploaded"``."""


def write_server_response(root: Path, response: dict[str, Any]) -> None:
    """Write ``root/serverResponse.json`` atomically (a reader never sees half of it).

    Raises
    ------
    StorageError
        When it cannot be written.
    """
    target = Path(root) / "serverResponse.json"
    try:
        with atomic_output(target, overwrite=True) as tmp, open(tmp, "w") as f:
            f.write(json.dumps(response, indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        msg = f"{target}: cannot write the stop response ({exc.strerror or exc})"
        raise StorageError(msg) from exc


def _prepare_folder(scenario: Scenario, root: Path, *, sid: str,
                    overwrite: bool) -> tuple[Path, tuple[Path, ...]]:
    """Check and make the recording's folder (under the lock); return it and the files removed.

    The files removed from it are a killed run's temporaries and, with ``overwrite``, the
    older recording.
    """
    folder = _check_outputs(scenario, root, sid=sid, overwrite=overwrite)
    removed = _remove(_leftovers(root, folder))
    if overwrite:
        removed += _remove(_old_recording(root, folder, sid=sid, cname=scenario.cname))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"{folder}: cannot create folder ({exc.strerror or exc})"
        raise StorageError(msg) from exc
    return folder, removed


def encode_frame(picture: Any, audio: Any, encoders: Encoders, sinks: Sinks,
                  audio_worker: ThreadPoolExecutor | None) -> int:
    """Encode one frame's picture and sound into the sinks; return 1 when a picture was encoded.

    AAC runs in its worker thread, overlapping x264; its packets go after the frame's video
    packets.
    """
    pending = None
    if audio is not None:
        assert audio_worker is not None
        start_sample, samples = audio
        pending = audio_worker.submit(encoders.encode_audio, samples, start_sample=start_sample)
    if picture is not None:
        for packet in encoders.encode_video(picture):
            sinks.video(packet)
    if pending is not None:
        for packet in pending.result():
            sinks.audio(packet)
    return int(picture is not None)


def flush_encoders(encoders: Encoders, sinks: Sinks, frames: int) -> None:
    """Drain both encoders into the sinks at the end."""
    if encoders.video is not None:
        for packet in encoders.encode_video(None, frames):
            sinks.video(packet)
    if encoders.audio is not None:
        for packet in encoders.encode_audio(None):
            sinks.audio(packet)


def _encode_frames(producer: Iterable[tuple[Any, Any]], encoders: Encoders, sinks: Sinks, *,
                   audio_worker: ThreadPoolExecutor | None, bar: Any,
                   stop: threading.Event | None,
                   pool: FramePool | None = None) -> tuple[int, int, bool]:
    """Encode the produced frames into the sinks until they end or ``stop`` is set.

    Each picture, once encoded, goes back to ``pool`` for a later canvas.

    Returns
    -------
    frames : int
        Pictures encoded.
    done : int
        Output frames taken from ``producer``.
    interrupted : bool
        Whether ``stop`` ended it before the last frame.
    """
    frames = done = 0
    for picture, audio in producer:
        if stop is not None and stop.is_set():
            return frames, done, True
        done += 1
        frames += encode_frame(picture, audio, encoders, sinks, audio_worker)
        if pool is not None:
            pool.give_back(picture)
        if done % TRIM_EVERY_FRAMES == 0:
            trim_heap()  # freed pictures, packets and samples stay resident otherwise
        bar.update(1)
    return frames, done, False


def _record(scenario: Scenario, root: Path, *, profile: Profile, sid: str,
            overwrite: bool, quiet: bool, stop: threading.Event | None) -> RecordingResult:
    """:func:`record` with the output folder locked."""
    start = scenario.start
    config = start.recording_config
    tc = start.transcoding
    fps = tc.fps
    storage = start.storage_config
    prefix = tuple(storage.file_name_prefix) if storage else ()
    folder, removed = _prepare_folder(scenario, root, sid=sid, overwrite=overwrite)

    records_video, records_audio = config.records_video(), config.records_audio()
    canvas = canvas_size(scenario)
    # OpenCV's bilinear kernel, not the compositor's Numba one (fast_linear): loading Numba
    # and LLVM costs ~127 MiB, more than the drawing it saves in a decode- and encode-bound
    # recording (a 17x1080p30 mix: 384 MiB peak without it, 510 with it).
    renderer = SceneRenderer(scenario, profile=profile, park_hidden=True) \
        if records_video else None
    timeline = renderer.timeline if renderer else Timeline(scenario, profile=profile)
    channels, bit_rate = AUDIO_PROFILES[config.audio_profile]
    audio_sources = open_audio_sources(scenario) if records_audio else {}
    mixer = AudioMixer(scenario, timeline, sources=audio_sources) if records_audio else None
    # the files are decoded in these threads a few frames ahead of drawing and mixing
    workers = _read_ahead(renderer, audio_sources)
    encoders = Encoders(size_wh=canvas if records_video else None, fps=fps,
                        bitrate_kbps=tc.bitrate, audio=(channels, bit_rate) if mixer else None)
    sinks = Sinks(folder, names=FileNames(sid, scenario.cname, scenario.start_utc),
                  templates=encoders.templates(),
                  mp4="mp4" in start.recording_file_config.av_file_type,
                  profile=profile, correct_extinf=bool(config.private.get("correctEXTINF")),
                  overwrite=overwrite)
    end = timeline.end_time
    total = _frame_count(fps, end)
    bar = _progress(total, quiet=quiet)
    pool = FramePool()  # canvases are copied into frames given back after their encode
    producer = _prefetch(_media_frames(renderer, mixer, total=total, fps=fps, channels=channels,
                                       pool=pool))
    # AAC encodes in its own thread, overlapping x264 on the same frame (both release the
    # GIL); its packets are handed to the sinks after the frame's video packets, as before.
    audio_worker = ThreadPoolExecutor(1, thread_name_prefix="layoutkit-aac") \
        if mixer is not None else None
    try:
        frames, done, interrupted = _encode_frames(producer, encoders, sinks,
                                                   audio_worker=audio_worker, bar=bar,
                                                   stop=stop, pool=pool)
        flush_encoders(encoders, sinks, frames)
        if interrupted:
            end = Fraction(done, fps)
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
        try:
            if renderer is not None:
                renderer.close()
            if mixer is not None:
                mixer.close()
        finally:
            workers.close()

    prefixed, response = _stop_response(scenario, sinks, prefix=prefix, sid=sid,
                                        video=records_video, audio=records_audio)
    write_server_response(root, response)
    return RecordingResult(folder=folder, keys=prefixed, server_response=response,
                           frames=frames, duration=end, sid=sid, interrupted=interrupted,
                           removed=removed)


def _stop_response(scenario: Scenario, sinks: Sinks, *, prefix: tuple[str, ...], sid: str,
                   video: bool, audio: bool) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Return the storage keys of the files written (the playlist last) and the stop response."""
    keys = [*sinks.segment_names, *(name for name, _ in sinks.mp4_parts),
            m3u8_name(sid, scenario.cname)]
    prefixed = tuple("/".join((*prefix, k)) for k in keys)
    track = {(True, True): "audio_and_video", (True, False): "video",
             (False, True): "audio"}[(video, audio)]
    response = server_response(
        m3u8_key="/".join((*prefix, m3u8_name(sid, scenario.cname))),
        mp4_keys=["/".join((*prefix, name)) for name, _ in sinks.mp4_parts],
        slice_start=scenario.start_utc,
        mp4_slice_starts=[scenario.start_utc + timedelta(seconds=float(t))
                          for _, t in sinks.mp4_parts],
        track_type=track, uploading_status=LOCAL_UPLOADING_STATUS)
    return prefixed, response
