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
import re
import stat
import warnings
from collections.abc import Generator, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .._typing import I420, Samples
from ..cloudfiles.constants import SAMPLE_RATE
from ..errors import MediaError, ParameterError

__all__ = [
    "SINGLE_THREAD_DECODE_MAX_PIXELS",
    "DamagedMediaWarning",
    "FileAudio",
    "FileVideo",
    "has_stream",
    "iter_luma",
    "media_location",
    "open_input",
    "probe_video_size",
    "set_decoder_threads",
]

URL_TIMEOUT_S = 10.0


def _check_span(start: int, n: int) -> None:
    if start < 0 or n < 0:
        msg = f"need start >= 0 and n >= 0 samples (got {start}, {n})"
        raise ParameterError(msg)


#: Pictures up to this many pixels decode on one thread: FFmpeg's frame threads cost more CPU
#: than they save there (450 frames of 320x180 H.264 on 2 cores: 0.14-0.15 s of CPU on one
#: thread, 0.18-0.37 s with frame threads, for the same wall time); larger ones use them.
SINGLE_THREAD_DECODE_MAX_PIXELS = 320 * 240


def set_decoder_threads(stream: Any) -> None:
    """Turn on FFmpeg's frame threads (``thread_type = "AUTO"``) for a large video stream.

    A PyAV video stream larger than :data:`SINGLE_THREAD_DECODE_MAX_PIXELS` gets them;
    others stay on one thread.
    """
    context = stream.codec_context
    if stream.type == "video" and \
            (context.width or 0) * (context.height or 0) > SINGLE_THREAD_DECODE_MAX_PIXELS:
        stream.thread_type = "AUTO"


URL_SCHEMES = ("http://", "https://")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def media_location(location: str | os.PathLike[str], *, kind: str) -> str:
    """Return what FFmpeg is handed for ``location``: an ``http(s)://`` URL or ``file:`` + path.

    Local paths never go through FFmpeg's protocol parsing (``12:30:00.mp4`` is a file,
    ``pipe:0`` is a file of that name), and only regular files are read: a folder, a FIFO
    or a device would make a reader wait forever or read without end.

    Raises
    ------
    MediaError
        ``<path>: no such <kind> file``, ``<path>: is a folder, not a <kind> file``,
        ``<path>: is not a regular file (a FIFO, device or socket); ...`` or
        ``<url>: only http:// and https:// URLs are read``.

    Examples
    --------
    >>> media_location("https://example.com/a.mp4", kind="video")
    'https://example.com/a.mp4'
    >>> media_location("/no/such/12:30:00.mp4", kind="video")
    Traceback (most recent call last):
    layoutkit.errors.MediaError: /no/such/12:30:00.mp4: no such video file
    """
    text = os.fspath(location)
    if text[:8].lower().startswith(URL_SCHEMES):
        return text
    if _SCHEME.match(text):
        msg = f"{text}: only http:// and https:// URLs (and local files) are read"
        raise MediaError(msg)
    try:
        mode = os.stat(text).st_mode
    except FileNotFoundError as exc:
        msg = f"{text}: no such {kind} file"
        raise MediaError(msg) from exc
    except (OSError, ValueError) as exc:
        msg = f"{text}: cannot be read ({getattr(exc, 'strerror', None) or exc})"
        raise MediaError(msg) from exc
    if stat.S_ISDIR(mode):
        msg = f"{text}: is a folder, not a {kind} file"
        raise MediaError(msg)
    if not stat.S_ISREG(mode):
        msg = (f"{text}: is not a regular file (a FIFO, device or socket); only files and "
               "http(s) URLs are read")
        raise MediaError(msg)
    return "file:" + os.path.abspath(text)


def open_input(location: str | Path, *, kind: Literal["audio", "video"]) -> Any:
    """Open a media file (or an http(s) URL) for reading with PyAV; it must have a ``kind`` stream.

    Raises
    ------
    MediaError
        ``<path>: no such <kind> file``, ``<path>: not a readable <kind> file (...)``,
        ``<path>: has no <kind> stream`` or a refusal of :func:`media_location`.
    """
    import av

    target = media_location(location, kind=kind)
    try:
        if not target.startswith("file:"):
            container = av.open(target, timeout=URL_TIMEOUT_S)
        else:
            container = av.open(target)
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
    """Return the displayed ``(width, height)`` of a video file's first frame, rotated."""
    source = FileVideo(path)
    try:
        return source.size_wh
    finally:
        source.close()


class DamagedMediaWarning(UserWarning):
    """Part of a media file could not be decoded; it was skipped (the last good frame held)."""


class FileVideo:
    """Frames of a video file at arbitrary non-decreasing times, as yuv420p (I420) arrays.

    File times start at the first decoded frame, whatever the container's first timestamp
    (an MPEG-TS often starts at 1.4 s or later): that frame is shown at time 0 and again at
    every loop.  A packet that cannot be decoded (or a frame FFmpeg marks corrupt) is
    skipped and the last good frame is held; :meth:`close` then warns once with
    :class:`DamagedMediaWarning`, naming ``label`` and the file times.

    Parameters
    ----------
    path : str or Path
        A local file or an ``http(s)://`` URL (see :func:`media_location`).
    label : str, optional
        What the warnings call the file, e.g. ``users[2].source (clip.mp4)``.

    Attributes
    ----------
    size_wh : tuple of int
        Displayed size (rotation applied; odd sizes rounded down to even for 4:2:0).
    damaged : list of float
        File times (seconds from the first frame) of what was skipped in the first pass.
    """

    def __init__(self, path: str | Path, *, label: str | None = None) -> None:
        self.path = path
        self.label = label or str(path)
        self.damaged: list[float] = []
        self._container: Any = None
        self._origin: Fraction | None = None  # file time of the first decoded frame
        self._offset = Fraction(0)  # added to file times after each loop
        self._length: Fraction | None = None
        self._open()
        self._current: tuple[Fraction, I420] | None = None
        self._next: tuple[Fraction, I420] | None = None
        first = self._pull()
        if first is None:
            self.close()
            msg = f"{self.path}: has no decodable video frame"
            raise MediaError(msg)
        self._current = first
        self.size_wh = (first[1].shape[1], first[1].shape[0] * 2 // 3)

    def _open(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = open_input(self.path, kind="video")
        self._stream = self._container.streams.video[0]
        set_decoder_threads(self._stream)
        self._rate = Fraction(self._stream.average_rate or self._stream.guessed_rate or 25)
        self._count = 0  # frames decoded in this pass (times of files without timestamps)
        self._frames = self._decode()

    def _note_damage(self, when: Fraction | None) -> None:
        if self._length is not None:  # noted in the first pass already
            return
        if when is None:
            when = Fraction(self._count) / self._rate
        origin = self._origin if self._origin is not None else Fraction(0)
        self.damaged.append(float(max(Fraction(0), when - origin)))

    def _packet_time(self, packet: Any) -> Fraction | None:
        if packet.pts is None or packet.time_base is None:
            return None
        return Fraction(packet.pts) * Fraction(packet.time_base)

    def _decode(self) -> Iterator[Any]:
        """Yield the decoded frames of one pass; what cannot be demuxed or decoded is skipped."""
        import av

        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except (av.error.FFmpegError, OSError):  # the rest cannot be read: loop here
                self._note_damage(None)
                return
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                self._note_damage(self._packet_time(packet))
                continue
            for frame in frames:
                if frame.is_corrupt:
                    self._note_damage(self._frame_time(frame))
                    continue
                yield frame

    def _frame_time(self, frame: Any) -> Fraction:
        if frame.pts is None or frame.time_base is None:
            return Fraction(self._count) / self._rate
        return Fraction(frame.pts) * Fraction(frame.time_base)

    def _convert(self, frame: Any) -> I420:
        rotation = round((frame.rotation or 0) / 90) % 4
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
        import av

        while True:
            frame = next(self._frames, None)
            if frame is None:
                return None
            when = self._frame_time(frame)
            self._count += 1
            if self._origin is None:
                self._origin = when
            try:
                picture = self._convert(frame)
            except (av.error.FFmpegError, ValueError):
                self._note_damage(when)
                continue
            return (when - self._origin + self._offset, picture)

    def _rewind(self) -> None:
        assert self._current is not None
        if self._length is None:
            self._length = max(self._current[0] + 1 / self._rate, 1 / self._rate)
        self._offset += self._length
        self._open()  # reopened, not seeked: raw streams and broken indexes loop too

    def frame_i420(self, t: Fraction) -> I420:
        """Return the frame shown at file time ``t`` (seconds from the file's first frame)."""
        assert self._current is not None
        while True:
            if self._next is None:
                self._next = self._pull()
                if self._next is None:
                    self._rewind()
                    self._next = self._pull()
                    if self._next is None:  # pragma: no cover - a file that vanished
                        return self._current[1]
            if self._next[0] > t:
                return self._current[1]
            self._current, self._next = self._next, None

    def close(self) -> None:
        """Release the decoder and the file; warn once if something had to be skipped."""
        if self._container is not None:
            self._container.close()
            self._container = None
        if self.damaged:
            first, last, n = min(self.damaged), max(self.damaged), len(self.damaged)
            span = f"at {first:.2f} s" if n == 1 else f"between {first:.2f} s and {last:.2f} s"
            warnings.warn(f"{self.label}: {n} damaged packet{'s' if n > 1 else ''} could not be "
                          f"decoded ({span} of the file) and {'were' if n > 1 else 'was'} "
                          "skipped; the last good frame is shown in their place",
                          DamagedMediaWarning, stacklevel=2)
            self.damaged = []

    def __enter__(self) -> FileVideo:
        """Return the source itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the source (see :meth:`close`)."""
        self.close()


def _mono(frame: Any) -> Samples:
    """Return a planar float frame as mono: the mean of its channels."""
    planes: Samples = frame.to_ndarray()
    mono: Samples = planes.mean(axis=0, dtype=np.float32) if planes.shape[0] > 1 else planes[0]
    return mono


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
        self.damaged = 0  # audio packets that could not be decoded (skipped)
        self._chunks = self._loop()  # not started: opens nothing yet
        self._pos = 0  # user-clock index of self._buf[0]
        self._buf: Samples = np.zeros(0, dtype=np.float32)
        self._restart(0)

    def _one_pass(self) -> Iterator[Samples]:
        """Yield the file once, resampled to 48 kHz mono (the file is closed at the end)."""
        import av

        container = open_input(self.path, kind="audio")
        try:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:  # a damaged packet: skipped (the loop goes on)
                    self.damaged += 1
                    continue
                for frame in frames:
                    try:
                        resampled = resampler.resample(frame)
                    except (av.error.FFmpegError, ValueError):
                        self.damaged += 1
                        continue
                    yield from map(_mono, resampled)
            yield from map(_mono, resampler.resample(None))
        except (av.error.FFmpegError, OSError) as exc:
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
        """Return samples ``[start, start + n)`` of the looped file.

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
        """Return the source itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the file."""
        self.close()



def iter_luma(path: str | os.PathLike[str]) -> Iterator[npt.NDArray[np.uint8]]:
    """Yield the luma plane of every decoded frame of a video file, in decoding order.

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
