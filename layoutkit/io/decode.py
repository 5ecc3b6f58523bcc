"""Decoding users' media files with PyAV (the I/O edge): video frames, audio samples, codes.

Video: a file source is read sequentially (memory stays flat): ask for non-decreasing times
and each call decodes only up to that time.  Rotation metadata (the display matrix) is
applied, variable frame rates are handled by choosing, for each output time, the last
decoded frame whose presentation time is not later than it (the way a recorder samples a
live stream).  When the file ends it starts again from the beginning (a tester publishing a
file loops it).

Audio: decoded samples are concatenated in decoding order (timestamps are not used to insert
gaps); every pass through the file is resampled afresh, so the loop repeats sample for
sample.  Channels are averaged, so a dual-mono stereo file keeps its level (FFmpeg's default
downmix would add 3 dB).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ..errors import MediaError, ParameterError

__all__ = ["open_input", "has_stream", "FileVideo", "FileAudio", "probe_video_size",
           "iter_luma"]

I420 = npt.NDArray[np.uint8]
Samples = npt.NDArray[np.float32]
SAMPLE_RATE = 48000


def _check_span(start: int, n: int) -> None:
    if start < 0 or n < 0:
        msg = f"need start >= 0 and n >= 0 samples (got {start}, {n})"
        raise ParameterError(msg)


def open_input(location: str | Path, *, kind: Literal["audio", "video"]) -> Any:
    """Open a media file for reading with PyAV; it must have a ``kind`` stream.

    Raises
    ------
    MediaError
        ``<path>: no such <kind> file``, ``<path>: not a readable <kind> file (...)`` or
        ``<path>: has no <kind> stream``.
    """
    import av

    try:
        container = av.open(str(location))
    except FileNotFoundError as exc:
        msg = f"{location}: no such {kind} file"
        raise MediaError(msg) from exc
    except (av.error.FFmpegError, OSError) as exc:
        msg = f"{location}: not a readable {kind} file ({exc})"
        raise MediaError(msg) from exc
    if not getattr(container.streams, kind):
        container.close()
        msg = f"{location}: has no {kind} stream"
        raise MediaError(msg)
    return container



def _even(n: int) -> int:
    return max(2, n - (n % 2))


def has_stream(location: str | Path, kind: Literal["audio", "video"]) -> bool:
    """Whether a media file has a ``kind`` stream (False when it cannot be opened)."""
    try:
        open_input(location, kind=kind).close()
    except MediaError:
        return False
    return True


def probe_video_size(path: str | Path) -> tuple[int, int]:
    """Displayed ``(width, height)`` of a video file's first frame, rotation applied."""
    source = FileVideo(path)
    try:
        return source.size_wh
    finally:
        source.close()


class FileVideo:
    """Frames of a video file at arbitrary non-decreasing times, as yuv420p (I420) arrays.

    Parameters
    ----------
    path : str or Path
        Any file FFmpeg reads.

    Attributes
    ----------
    size_wh : tuple of int
        Displayed size (rotation applied; odd sizes rounded down to even for 4:2:0).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._container = open_input(self.path, kind="video")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._frames = self._decode()
        self._offset = Fraction(0)  # added to file times after each loop
        self._current: tuple[Fraction, I420] | None = None
        self._next: tuple[Fraction, I420] | None = None
        first = self._pull()
        if first is None:
            self.close()
            msg = f"{self.path}: has no decodable video frame"
            raise MediaError(msg)
        self._current = first
        self.size_wh = (first[1].shape[1], first[1].shape[0] * 2 // 3)
        self._length: Fraction | None = None

    def _decode(self):  # noqa: ANN202 - generator of av frames
        import av

        try:
            yield from self._container.decode(self._stream)
        except av.error.FFmpegError as exc:
            msg = f"{self.path}: decoding failed ({exc})"
            raise MediaError(msg) from exc

    def _convert(self, frame) -> I420:  # noqa: ANN001 - av.VideoFrame
        rotation = int(round((frame.rotation or 0) / 90)) % 4
        width, height = frame.width, frame.height
        if rotation % 2:
            width, height = height, width
        if rotation:
            rgb = np.rot90(frame.to_ndarray(format="rgb24"), k=rotation)
            import cv2

            rgb = np.ascontiguousarray(rgb[: _even(height), : _even(width)])
            return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
        out = frame.reformat(width=_even(width), height=_even(height), format="yuv420p")
        return np.ascontiguousarray(out.to_ndarray())

    def _pull(self) -> tuple[Fraction, I420] | None:
        frame = next(self._frames, None)
        if frame is None:
            return None
        if frame.pts is None or frame.time_base is None:
            when = Fraction(frame.index, 25)
        else:
            when = Fraction(frame.pts) * Fraction(frame.time_base)
        return (when + self._offset, self._convert(frame))

    def _rewind(self) -> None:
        assert self._current is not None
        if self._length is None:
            rate = self._stream.average_rate or Fraction(25)
            self._length = self._current[0] + 1 / Fraction(rate)
        self._offset += self._length
        self._container.seek(0, stream=self._stream)
        self._frames = self._decode()

    def frame_at(self, t: Fraction) -> I420:
        """The frame shown at file time ``t`` (seconds from the file's start)."""
        assert self._current is not None
        while True:
            if self._next is None:
                self._next = self._pull()
                if self._next is None:
                    self._rewind()
                    self._next = self._pull()
                    if self._next is None:  # pragma: no cover - unseekable file
                        return self._current[1]
            if self._next[0] > t:
                return self._current[1]
            self._current, self._next = self._next, None

    def close(self) -> None:
        """Release the decoder and the file."""
        self._container.close()

    def __enter__(self) -> FileVideo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _mono(frame: Any) -> Samples:
    """A planar float frame as mono: the mean of its channels."""
    planes = frame.to_ndarray()
    return planes.mean(axis=0, dtype=np.float32) if planes.shape[0] > 1 else planes[0]


class FileAudio:
    """An audio file (any format FFmpeg reads) as mono 48 kHz samples, looped.

    Read sequentially, so memory stays flat: a request decodes up to its end and keeps only
    what a later, non-earlier request may still need.  Once a whole pass has been decoded its
    length is known (every pass is resampled afresh, so all passes are alike, sample for
    sample): a request that starts before the previous one, or passes ahead of the decoded
    one, reopens the file at the start of the pass it falls in; before that, an earlier
    request reopens it at sample 0.

    Parameters
    ----------
    path : str or PathLike
        Local path or a URL FFmpeg opens.

    Attributes
    ----------
    pass_length : int or None
        Samples (48 kHz) in one pass through the file, once decoded to its end.

    Raises
    ------
    MediaError
        When the file is missing, unreadable, has no audio stream or no decodable sample.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.pass_length: int | None = None
        self._chunks = self._loop()  # not started: opens nothing yet
        self._pos = 0  # user-clock index of self._buf[0]
        self._buf: Samples = np.zeros(0, dtype=np.float32)
        self._restart(0)

    def _one_pass(self) -> Iterator[Samples]:
        """The file once, resampled to 48 kHz mono (the file is closed at the end)."""
        import av

        container = open_input(self.path, kind="audio")
        try:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
            try:
                for frame in container.decode(stream):
                    yield from map(_mono, resampler.resample(frame))
                yield from map(_mono, resampler.resample(None))
            except av.error.FFmpegError as exc:
                msg = f"{self.path}: decoding audio failed ({exc})"
                raise MediaError(msg) from exc
        finally:
            container.close()

    def _loop(self) -> Generator[Samples, None, None]:
        """Pass after pass through the file, forever (non-empty chunks only)."""
        while True:
            count = 0
            for chunk in self._one_pass():
                if chunk.size:
                    count += chunk.size
                    yield chunk
            if not count:
                msg = f"{self.path}: has no decodable audio"
                raise MediaError(msg)
            self.pass_length = count

    def _restart(self, pass_start: int) -> None:
        """Reopen the file; its first sample becomes user-clock sample ``pass_start``."""
        self.close()
        self._chunks = self._loop()
        self._pos, self._buf = pass_start, next(self._chunks)

    def _seek(self, start: int) -> None:
        """Reopen at the pass of ``start`` when that beats decoding on from here."""
        length = self.pass_length
        if length is None:
            if start < self._pos:
                self._restart(0)
            return
        pass_start = start - start % length
        if start < self._pos or pass_start > self._pos + len(self._buf):
            self._restart(pass_start)

    def _skip_to(self, start: int) -> None:
        """Drop every sample before ``start``, decoding through them."""
        while self._pos + len(self._buf) <= start:
            self._pos += len(self._buf)
            self._buf = next(self._chunks)
        self._buf = self._buf[start - self._pos:]
        self._pos = start

    def samples(self, start: int, n: int) -> Samples:
        """Samples ``[start, start + n)`` of the looped file.

        Parameters
        ----------
        start : int
            First sample, >= 0, from the file's start (looping: the file's length in
            samples later the file starts again).
        n : int
            How many samples.

        Returns
        -------
        ndarray of float32, shape (n,)
            A new array.
        """
        _check_span(start, n)
        self._seek(start)
        self._skip_to(start)
        parts, have = [self._buf], len(self._buf)
        while have < n:
            parts.append(next(self._chunks))
            have += len(parts[-1])
        self._buf = np.concatenate(parts) if len(parts) > 1 else self._buf
        return np.array(self._buf[:n], dtype=np.float32)

    def close(self) -> None:
        """Close the file."""
        self._chunks.close()

    def __enter__(self) -> FileAudio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()



def iter_luma(path: str | os.PathLike[str]) -> Iterator[npt.NDArray[np.uint8]]:
    """The luma plane of every decoded frame of a video file, in decoding output order.

    yuv420p frames give their Y plane as stored; other formats FFmpeg's (full-range) grey.

    Raises
    ------
    MediaError
        When the file cannot be opened or decoded.
    """
    import av

    try:
        with av.open(os.fspath(path)) as container:
            for frame in container.decode(video=0):
                yield np.asarray(frame.to_ndarray()[:frame.height]
                                 if frame.format.name == "yuv420p"
                                 else frame.to_ndarray(format="gray"), dtype=np.uint8)
    except (av.error.FFmpegError, OSError) as exc:
        msg = f"{path}: cannot read video frames ({exc})"
        raise MediaError(msg) from exc
