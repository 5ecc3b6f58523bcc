"""PyAV decoding of a recording for compare (the only compare module that imports av).

A playlist's TS segments are one continuous stream cut into files: they are decoded in
order and their presentation times stay continuous (a clock that restarts in a new file is
shifted to follow the previous one).  A truncated last file and corrupt packets are
tolerated: what decodes is yielded, the rest counted in :class:`DecodeStats`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from ..errors import MediaError
from .ahead import ahead as run_ahead
from .decode import plane_view, set_decoder_threads
from .frames import (AudioChunk, DecodedFrame, DecodeStats, Planes, missing_pictures,
                     pts_seconds)

__all__ = ["AHEAD_FRAMES", "AUDIO_RATE", "iter_audio", "iter_video"]

#: Sample rate of :func:`iter_audio`'s chunks.
AUDIO_RATE = 48000
#: Frames :func:`iter_video` decodes ahead of its consumer, in a background thread (25 MiB
#: of 1080p pictures): decoding overlaps with the analysis of the frames already decoded.
AHEAD_FRAMES = 8

_DECODE_ERRORS = (av.error.InvalidDataError, av.error.EOFError, av.error.FFmpegError)


def _open(path: Path) -> av.container.InputContainer:
    """Open a regular media file for reading; MediaError for anything else or a bad file."""
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        raise MediaError(f"{path}: cannot open as a media file ({exc.strerror})") from exc
    if not regular:  # FFmpeg would wait on a FIFO for ever
        raise MediaError(f"{path}: not a regular file; a media file is read only from one")
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        msg = f"{path}: cannot open as a media file ({exc})"
        raise MediaError(msg) from exc


class _Clock:
    """Keeps times continuous across files: a file whose clock starts in the past follows on."""

    def __init__(self) -> None:
        self.shift = 0.0
        self.last: float | None = None
        self._file_first: float | None = None

    def new_file(self) -> None:
        """Start a new file: its first time decides whether its clock is shifted."""
        self._file_first = None

    def __call__(self, t: float, step: float) -> float:
        """Return the continuous time of a frame at file time ``t`` (``step``: one frame)."""
        if self._file_first is None:
            self._file_first = t
            if self.last is not None and t + self.shift < self.last - 0.5:
                self.shift = self.last + step - t
        out = t + self.shift
        self.last = out if self.last is None else max(self.last, out)
        return out


class _FileErrors:
    """Count one file's video packets and pictures and its decoding errors.

    The errors are those the probe would count beyond the ones its packet walk sees anyway
    (packets flagged corrupt).
    """

    def __init__(self) -> None:
        self.packets = self.frames = self.flagged = self.failures = 0
        self.first: str | None = None

    def failed(self) -> tuple[int, str | None]:
        """Return ``(errors, first error)``: the packets that failed to decode."""
        return self.failures, self.first

    def result(self) -> tuple[int, str | None]:
        """Return ``(errors, first error)``: failed packets, and packets that gave no picture."""
        missing, message = missing_pictures(self.packets, self.frames,
                                            self.flagged + self.failures)
        return self.failures + missing, self.first or message


def _decoded(container: Any, stream: Any, stats: DecodeStats,
             count: _FileErrors | None = None) -> Iterator[Any]:
    """Yield every frame of ``stream``, counting what does not decode.

    A packet that does not decode is skipped and counted; a file that ends mid-packet
    (truncated) ends the stream and is counted.
    """
    count = count or _FileErrors()
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except _DECODE_ERRORS:
            stats.truncated_files += 1
            return
        if packet.size:
            count.packets += 1
            count.flagged += bool(packet.is_corrupt)
        try:
            frames = packet.decode()
        except _DECODE_ERRORS as exc:
            stats.corrupt_packets += 1
            count.failures += 1
            count.first = count.first or f"decoding failed: {exc}"
            continue
        count.frames += len(frames)
        yield from frames


def _first_streams(paths: Sequence[str | Path], kind: str,
                   stats: DecodeStats) -> Iterator[tuple[Path, Any, Any]]:
    """Yield ``(path, container, stream)`` of each file's first ``kind`` stream.

    ``kind`` is ``"video"`` or ``"audio"``.  The file is open while the caller reads it
    (closed after, or when the caller stops); files without such a stream are counted and
    skipped.
    """
    for path in paths:
        stats.files += 1
        container = _open(Path(path))
        try:
            streams = getattr(container.streams, kind)
            if streams:
                yield Path(path), container, streams[0]
        finally:
            container.close()


def iter_video(paths: Sequence[str | Path], *, threads: bool = True,
               stats: DecodeStats | None = None, ahead: int = AHEAD_FRAMES,
               idle: Callable[[], bool] | None = None) -> Iterator[DecodedFrame]:
    """Decode the video of ``paths`` in order, one frame at a time.

    Parameters
    ----------
    paths : sequence of path
        TS segments of one playlist in order, or one MP4 (or TS).
    threads : bool
        Decoder threads on for pictures larger than 320x240 (:func:`set_decoder_threads`).
    stats : DecodeStats, optional
        Filled with the number of frames, corrupt packets and truncated files, and each
        file's ``video_errors`` once its video is decoded to the end.
    ahead : int
        Decode in a background thread, at most this many frames ahead of the consumer
        (:func:`~layoutkit.io.ahead.ahead`; stopping early stops the thread); 0 decodes on
        the calling thread.
    idle : callable, optional
        Other work for the consumer's thread, a step per call, done while no decoded frame
        is waiting (:func:`~layoutkit.io.ahead.ahead`'s ``idle``); only with ``ahead``.

    Yields
    ------
    DecodedFrame
        ``t`` from the frame's pts in seconds (continuous across files), ``planes``
        read-only views of the decoder's yuv420p picture (no copy).

    Raises
    ------
    MediaError
        When a file cannot be opened at all (a file that breaks off is only counted).
    """
    stats = stats if stats is not None else DecodeStats()
    if ahead > 0:
        return run_ahead(lambda: _video(paths, threads=threads, stats=stats), depth=ahead,
                         name="layoutkit-decode", idle=idle)
    return _video(paths, threads=threads, stats=stats)


def _planes(frame: Any) -> Planes:
    """Read-only views of a yuv420p frame's planes, rows cut to the picture's width.

    No copy: the views keep the decoder's picture alive until the consumer drops them
    (``to_ndarray`` would copy every picture once more, 3 MiB at 1080p).
    """
    y, u, v = (plane_view(frame, i, plane.width, plane.height)
               for i, plane in enumerate(frame.planes))
    for view in (y, u, v):
        view.flags.writeable = False
    return y, u, v


def _video(paths: Sequence[str | Path], *, threads: bool,
           stats: DecodeStats) -> Iterator[DecodedFrame]:
    """Decode the video of ``paths`` on the calling thread (:func:`iter_video`)."""
    clock = _Clock()
    index = 0
    for path, container, stream in _first_streams(paths, "video", stats):
        if threads:
            set_decoder_threads(stream)
        rate = stream.average_rate or stream.guessed_rate or 15
        step = 1.0 / float(rate)
        base = stream.time_base
        clock.new_file()
        count = _FileErrors()
        for frame in _decoded(container, stream, stats, count):
            if frame.pts is None or base is None:
                continue
            if frame.format.name != "yuv420p":
                frame = frame.reformat(format="yuv420p")
            t = clock(pts_seconds(frame.pts, base.numerator, base.denominator), step)
            stats.frames += 1
            yield DecodedFrame(t, _planes(frame), index, key=bool(frame.key_frame))
            index += 1
        stats.video_errors[str(path)] = count.result()


class _Mono:
    """Turn one file's audio frames into mono float32 samples at :data:`AUDIO_RATE`.

    Frames already so (float, one channel, 48 kHz, as the recorder's AAC decodes) are taken
    as they are: FFmpeg's resampler would give the same samples, only later.  Any other
    frame goes through the resampler, and so does every frame after it (samples it holds
    back stay in order).
    """

    def __init__(self) -> None:
        self._resampler: Any = None

    @staticmethod
    def ready(frame: Any) -> bool:
        """Whether ``frame`` holds mono float samples at :data:`AUDIO_RATE` already."""
        return bool(frame.format.name in ("flt", "fltp") and frame.layout.nb_channels == 1
                    and frame.rate == AUDIO_RATE)

    def __call__(self, frame: Any) -> list[npt.NDArray[np.float32]]:
        """Return the samples of ``frame`` (none, one or several arrays, in order)."""
        if self._resampler is None and self.ready(frame):  # one plane of float32 samples
            return [np.frombuffer(frame.planes[0], np.float32, count=frame.samples)]
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        return [out.to_ndarray().reshape(-1).astype(np.float32)
                for out in self._resampler.resample(frame)]


def iter_audio(paths: Sequence[str | Path], *, chunk_s: float = 1.0,
               stats: DecodeStats | None = None) -> Iterator[AudioChunk]:
    """Decode the audio of ``paths`` in order as mono float32 chunks at 48 kHz.

    Parameters
    ----------
    paths : sequence of path
        As :func:`iter_video`.
    chunk_s : float
        About how many seconds each chunk holds.
    stats : DecodeStats, optional
        Filled with the corrupt packets and truncated files, and each file's
        ``audio_errors`` once its sound is decoded to the end.

    Yields
    ------
    AudioChunk
        ``t`` is the time of the chunk's first sample on the same clock as the video's
        frames; channels are averaged.
    """
    stats = stats if stats is not None else DecodeStats()
    clock = _Clock()
    want = max(1, int(chunk_s * AUDIO_RATE))
    for path, container, stream in _first_streams(paths, "audio", stats):
        mono = _Mono()
        clock.new_file()
        count = _FileErrors()
        pending: list[np.ndarray] = []
        pending_n = 0
        start: float | None = None
        for frame in _decoded(container, stream, stats, count):
            pts, base = frame.pts, frame.time_base
            if pts is None or base is None:
                continue
            t = clock(pts_seconds(pts, base.numerator, base.denominator), 0.02)
            for data in mono(frame):
                if start is None:
                    start = t
                pending.append(data)
                pending_n += data.size
            if pending_n >= want and start is not None:
                yield AudioChunk(start, np.concatenate(pending), AUDIO_RATE)
                start, pending, pending_n = None, [], 0
        if pending and start is not None:
            yield AudioChunk(start, np.concatenate(pending), AUDIO_RATE)
        stats.audio_errors[str(path)] = count.failed()
