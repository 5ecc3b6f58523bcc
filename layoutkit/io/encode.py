"""The one H.264 + AAC writer: encoders, output containers and a simple file writer.

Everything layoutkit encodes goes through :class:`Encoders` (one libx264 and one AAC
encoder, with the x264 settings and colour tags in :data:`X264_OPTIONS`) and
:class:`ContainerFile` (one output container under a temporary name, renamed when whole):

* the recorder encodes once and muxes the same packets into TS segments and MP4 parts;
* :class:`MediaFileWriter` (encoders + one MP4) writes the MP4 scenario preview and the
  ``testsrc`` stream.

Frames come in as yuv420p (I420) arrays and planar float samples; packets go out as PyAV
packets, which callers only route (``pts``, ``time_base``, ``is_keyframe``).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import EncodeError, MediaError, StorageError
from .atomic import atomic_output
from .decode import usable_cores
from .mpegts import TS_PACKET, ContinuityCounters

__all__ = [
    "AUDIO",
    "AUDIO_RATE",
    "SINGLE_THREAD_MAX_PIXELS",
    "VIDEO",
    "X264_OPTIONS",
    "AudioTrack",
    "ContainerFile",
    "Encoders",
    "FramePool",
    "MediaFileWriter",
    "check_mp4_boxes",
    "copy_i420_into",
    "video_frame",
    "x264_options",
]

#: x264 settings: fast enough for > 20x real time at 640x360@15 on 2 cores, no B-frames
#: (a live recorder's low-latency encode), a rate-control lookahead of 5 frames (veryfast's
#: 10 hold 10 canvases: 30 MiB more at 1080p), IDR at forced key frames, SPS/PPS repeated
#: in-band, and the colour description of the canvas (BT.601, limited range) in the stream.
X264_OPTIONS: dict[str, str] = {
    "preset": "veryfast", "forced-idr": "1",
    "x264-params": "bframes=0:rc-lookahead=5:repeat-headers=1:scenecut=0:colorprim=smpte170m:"
                   "transfer=smpte170m:colormatrix=smpte170m:range=tv"}
#: Canvases up to this many pixels encode on one x264 thread (the drawing thread has the
#: other core; measured on 2 cores: 640x360@15 with 4 test streams 18x -> 22x real time);
#: larger ones one thread per usable core (x264's automatic count, 1.5 per core, holds a
#: frame pool larger than the cores; 1080p with 17 test streams: 4.1x -> 4.8x real time).
SINGLE_THREAD_MAX_PIXELS = 640 * 480
#: Audio sample rate of every output (the cloud's 48 kHz).
AUDIO_RATE = 48000
#: Stream kinds inside the writers.
VIDEO, AUDIO = "video", "audio"
_LAYOUTS = {1: "mono", 2: "stereo"}


def x264_options(size_wh: tuple[int, int]) -> dict[str, Any]:
    """Return the x264 options for a canvas: :data:`X264_OPTIONS` plus the thread count.

    Examples
    --------
    >>> x264_options((640, 360))["threads"]
    '1'
    >>> x264_options((1920, 1080))["threads"] == str(usable_cores())
    True
    """
    options: dict[str, Any] = dict(X264_OPTIONS)
    small = size_wh[0] * size_wh[1] <= SINGLE_THREAD_MAX_PIXELS
    options["threads"] = "1" if small else str(usable_cores())
    return options


class Encoders:
    """One H.264 and one AAC encoder, held by a never-written MP4 container.

    The MP4 format makes the encoders produce global headers (``avcC`` /
    AudioSpecificConfig) that every output stream copies as its template.

    Parameters
    ----------
    size_wh : tuple of int or None
        Even canvas size; None for no video.
    fps : int
        Frame rate; video frame ``i`` has pts ``i`` in time base ``1/fps``.
    bitrate_kbps : int or None
        x264 average bit rate; None for constant quality ``crf``.
    audio : tuple of int or None
        ``(channels, bit_rate)`` of the AAC encoder; None for no audio.
    crf : int
        x264 constant rate factor when ``bitrate_kbps`` is None.
    threads : int, optional
        x264 threads (0: automatic); default :func:`x264_options`' choice for a recorder,
        which leaves a core to its drawing thread.

    Raises
    ------
    EncodeError
        When FFmpeg cannot open an encoder.
    """

    def __init__(self, *, size_wh: tuple[int, int] | None, fps: int,
                 bitrate_kbps: int | None = None, audio: tuple[int, int] | None = None,
                 crf: int = 23, threads: int | None = None) -> None:
        import av

        self.video: Any = None
        self.audio: Any = None
        self.fps = int(fps)
        self.channels = audio[0] if audio else 0
        try:
            self._holder = av.open(io.BytesIO(), "w", format="mp4")
            if size_wh is not None:
                stream = self._holder.add_stream("libx264", rate=Fraction(self.fps))
                stream.width, stream.height = size_wh
                stream.pix_fmt = "yuv420p"
                options = x264_options(size_wh)
                if threads is not None:
                    options["threads"] = str(threads)
                if bitrate_kbps is None:
                    options["crf"] = str(crf)
                else:
                    stream.bit_rate = int(bitrate_kbps) * 1000
                stream.codec_context.time_base = Fraction(1, self.fps)
                stream.options = options
                self.video = stream
            if audio is not None:
                channels, bit_rate = audio
                sound = self._holder.add_stream("aac", rate=AUDIO_RATE)
                sound.layout = _LAYOUTS[channels]
                if bit_rate:
                    sound.bit_rate = bit_rate
                self.audio = sound
            self._holder.start_encoding()
        except (av.error.FFmpegError, KeyError, ValueError) as exc:
            msg = f"cannot start the encoders ({exc})"
            raise EncodeError(msg) from exc

    def templates(self) -> dict[str, Any]:
        """Streams to copy into each output container, by kind."""
        return {k: s for k, s in ((VIDEO, self.video), (AUDIO, self.audio)) if s is not None}

    def encode_video(self, i420: npt.NDArray[np.uint8] | Any | None, index: int = 0, *,
                     key: bool = False) -> list[Any]:
        """Encode canvas number ``index`` (None flushes); ``key`` forces an IDR frame.

        ``i420`` is the canvas array, or a frame already made by :func:`video_frame` (then
        ``index`` and ``key`` are its own).
        """
        import av

        frame = i420
        if isinstance(i420, np.ndarray):
            frame = video_frame(i420, index, key=key)
        try:
            return list(self.video.encode(frame))
        except av.error.FFmpegError as exc:
            msg = f"encoding video frame {index} failed ({exc})"
            raise EncodeError(msg) from exc

    def encode_audio(self, samples: npt.ArrayLike | None, *, start_sample: int = 0) -> list[Any]:
        """Encode planar ``(channels, n)`` float samples from ``start_sample`` on (None flushes)."""
        import av

        frame = None
        if samples is not None:
            frame = audio_frame(samples, start_sample=start_sample, channels=self.channels)
        try:
            return list(self.audio.encode(frame))
        except av.error.FFmpegError as exc:
            msg = f"encoding audio at sample {start_sample} failed ({exc})"
            raise EncodeError(msg) from exc

    def close(self) -> None:
        """Release the encoders."""
        with contextlib.suppress(Exception):  # closing a never-written container: nothing lost
            self._holder.close()


def video_frame(i420: npt.NDArray[np.uint8], index: int, *, key: bool = False,
                pool: FramePool | None = None) -> Any:
    """Make a PyAV frame holding a copy of the I420 canvas, ``pts = index``; ``key``: an IDR.

    Made where the canvas is drawn (the recorder's drawing thread), the one copy of the
    reused canvas buffer is this one; with ``pool`` it goes into a frame handed back after
    an earlier encode (:class:`FramePool`).
    """
    import av

    frame = pool.take(i420) if pool is not None else None
    if frame is None:
        frame = av.VideoFrame(i420.shape[1], i420.shape[0] * 2 // 3, "yuv420p")
        copy_i420_into(frame, i420)
    frame.pts = index
    frame.pict_type = av.video.frame.PictureType.I if key else av.video.frame.PictureType.NONE
    return frame


def copy_i420_into(frame: Any, i420: npt.NDArray[np.uint8]) -> None:
    """Copy an I420 array into a yuv420p PyAV frame of its size, plane by plane (one copy).

    Examples
    --------
    >>> import av
    >>> picture = np.arange(24, dtype=np.uint8).reshape(6, 4)
    >>> frame = av.VideoFrame(4, 4, "yuv420p")
    >>> copy_i420_into(frame, picture)
    >>> bool((frame.to_ndarray() == picture).all())
    True
    """
    height, width = i420.shape[0] * 2 // 3, i420.shape[1]
    flat = i420.reshape(-1)
    n, q = width * height, width * height // 4
    sources = (i420[:height], flat[n:n + q].reshape(height // 2, width // 2),
               flat[n + q:n + 2 * q].reshape(height // 2, width // 2))
    for plane, source in zip(frame.planes, sources, strict=True):
        rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
        np.copyto(rows[:source.shape[0], :source.shape[1]], source)


class FramePool:
    """PyAV frames handed back after their encode, to carry the next canvases.

    A picture-sized buffer is a mapping of its own (:mod:`layoutkit.io.memory`), whose pages
    the kernel clears on first use: at 1920x1080 a new frame per canvas costs more than the
    copy into it.  The encoder copies a frame's picture when it takes it (libx264 does), so
    a frame given back after its encode can carry a later canvas; one still referenced
    elsewhere gets a buffer of its own first (``av_frame_make_writable``), so no picture
    handed out is ever overwritten.  Safe across two threads (one takes, one gives back).

    Parameters
    ----------
    keep : int
        Frames kept for reuse at most (more given back are dropped).

    Examples
    --------
    >>> pool = FramePool()
    >>> first = video_frame(np.zeros((6, 4), np.uint8), 0, pool=pool)
    >>> pool.give_back(first)
    >>> video_frame(np.ones((6, 4), np.uint8), 1, pool=pool) is first
    True
    """

    def __init__(self, *, keep: int = 8) -> None:
        self._free: deque[Any] = deque()
        self._keep = keep

    def take(self, i420: npt.NDArray[np.uint8]) -> Any | None:
        """Return a free frame of ``i420``'s size holding a copy of it (None: none is free)."""
        height, width = i420.shape[0] * 2 // 3, i420.shape[1]
        while True:
            try:
                frame = self._free.popleft()
            except IndexError:
                return None
            if (frame.width, frame.height) == (width, height):
                frame.make_writable()
                copy_i420_into(frame, i420)
                return frame

    def give_back(self, frame: Any) -> None:
        """Offer ``frame`` (encoded) for a later canvas."""
        if frame is not None and len(self._free) < self._keep:
            self._free.append(frame)


def audio_frame(samples: npt.ArrayLike, *, start_sample: int, channels: int) -> Any:
    """Make a PyAV frame for the AAC encoder: fltp, 48 kHz, ``pts = start_sample``.

    Parameters
    ----------
    samples : array_like of float, shape (channels, n) or (n,)
        Planar samples, or mono samples duplicated to ``channels``.
    start_sample : int
        Index of the first sample from the start of recording (time base 1/48000).
    channels : int
        1 (mono layout) or 2 (stereo).

    Raises
    ------
    ShapeError
        When the array's shape does not fit ``channels``.
    """
    import av

    from ..errors import ShapeError

    array = np.asarray(samples, dtype=np.float32)
    if array.ndim == 1:  # mono: the same signal on every channel
        array = np.repeat(array.reshape(1, -1), channels, axis=0)
    if array.ndim != 2 or array.shape[0] != channels or channels not in _LAYOUTS:
        raise ShapeError("audio samples", expected=f"({channels}, n)", actual=array.shape)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(array), format="fltp",
                                       layout=_LAYOUTS[channels])
    frame.sample_rate = AUDIO_RATE
    frame.pts, frame.time_base = start_sample, Fraction(1, AUDIO_RATE)
    return frame


def _clone(packet: Any, stream: Any, offset: Fraction = Fraction(0)) -> Any:
    """Copy ``packet`` for another container, ``offset`` seconds earlier.

    Muxing takes ownership of a packet, so each container gets its own copy.
    """
    import av

    copy = av.Packet(bytes(packet))
    shift = round(offset / packet.time_base) if offset else 0
    copy.pts = None if packet.pts is None else packet.pts - shift
    copy.dts = None if packet.dts is None else packet.dts - shift
    copy.time_base = packet.time_base
    copy.is_keyframe = packet.is_keyframe
    copy.stream = stream
    return copy


class ContainerFile:
    """One output container (a TS segment, an MP4 part) under a temporary name.

    The file appears under ``path`` only when :meth:`close` succeeds: the container is
    finished, checked to be whole (TS: whole packets; MP4: its top-level boxes fill the
    file and include ``moov``) and flushed to disk first. An error while writing, closing
    or checking removes the temporary file and raises.

    Parameters
    ----------
    path : Path
        Final name.
    fmt : str
        FFmpeg muxer (``mpegts``, ``mp4``).
    templates : dict
        Encoder streams by kind (:meth:`Encoders.templates`).
    start : Fraction
        Recording time of the first packet.
    overwrite : bool
        Replace an existing file at ``path``.
    options : dict, optional
        Muxer options.
    offset : Fraction
        Seconds subtracted from every packet's time (an MP4 part after a rollover starts
        at 0; its start is its ``sliceStartTime``).
    continuity : ContinuityCounters, optional
        For ``mpegts``: renumber the continuity counters so they run on from the previous
        segment's (as one FFmpeg ``hls`` muxer would write them).

    Raises
    ------
    OutputExistsError
        When ``path`` exists and not ``overwrite``.
    EncodeError
        When the container cannot be created.
    """

    def __init__(self, path: Path, fmt: str, templates: dict[str, Any], *,
                 start: Fraction = Fraction(0), overwrite: bool = False,
                 options: dict[str, str] | None = None, offset: Fraction = Fraction(0),
                 continuity: ContinuityCounters | None = None) -> None:
        import av

        self.path = Path(path)
        self.start = start
        self.fmt = fmt
        self._offset = Fraction(offset)
        self._continuity = continuity
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
        import av

        try:
            self._container.mux(_clone(packet, self._streams[kind], self._offset))
        except (av.error.FFmpegError, OSError) as exc:
            msg = f"{self.path}: writing failed ({exc})"
            raise StorageError(msg) from exc

    def size(self) -> int:
        """Bytes written so far.

        Raises
        ------
        StorageError
            When the temporary file cannot be looked at.
        """
        try:
            return self._tmp.stat().st_size
        except OSError as exc:
            msg = f"{self.path}: cannot read the size of the file being written ({exc})"
            raise StorageError(msg) from exc

    def close(self, exc: BaseException | None = None) -> None:
        """Finish the container and rename it into place, or discard it when ``exc`` is given.

        Raises
        ------
        StorageError
            When finishing the file fails (it is then discarded, never published).
        """
        close_error: BaseException | None = None
        try:
            self._container.close()
            if exc is None:
                self._finish_file()
        except Exception as error:
            close_error = error
        if exc is None and close_error is None:
            self._atomic.__exit__(None, None, None)
            return
        failure = exc or close_error
        assert failure is not None
        self._atomic.__exit__(type(failure), failure, failure.__traceback__)
        if exc is None:
            msg = f"{self.path}: finishing the file failed ({close_error})"
            raise StorageError(msg) from close_error

    def _finish_file(self) -> None:
        """Check the closed temporary file is whole, renumber TS counters, flush to disk."""
        size = self._tmp.stat().st_size
        if self.fmt == "mpegts":
            if size == 0 or size % TS_PACKET:
                msg = f"{size} bytes written, not a whole number of TS packets"
                raise MediaError(msg)
            if self._continuity is not None:
                self._continuity.renumber_file(self._tmp)
                return  # flushed to disk there
        elif self.fmt == "mp4":
            check_mp4_boxes(self._tmp)
        with open(self._tmp, "rb+") as f:
            os.fsync(f.fileno())


def check_mp4_boxes(path: Path) -> None:
    """Raise :class:`MediaError` unless an MP4's top-level boxes make a whole file.

    The boxes must fill the file exactly and include ``ftyp``, ``moov`` and ``mdat``: a
    truncated or unfinished file fails.
    """
    import struct

    size = path.stat().st_size
    seen = set()
    with open(path, "rb") as f:
        offset = 0
        while offset < size:
            f.seek(offset)
            header = f.read(16)
            if len(header) < 8:
                break
            length, kind = struct.unpack(">I4s", header[:8])
            if length == 1 and len(header) == 16:
                length = struct.unpack(">Q", header[8:16])[0]
            elif length == 0:
                length = size - offset
            if length < 8:
                break
            seen.add(kind)
            offset += length
    missing = {b"ftyp", b"moov", b"mdat"} - seen
    if offset != size or missing:
        msg = (f"{path.name}: not a whole MP4 ({size} bytes; boxes end at {offset}"
               + (f"; no {', '.join(sorted(m.decode() for m in missing))}" if missing else "")
               + ")")
        raise MediaError(msg)


@dataclass(frozen=True)
class AudioTrack:
    """The AAC track of a :class:`MediaFileWriter` file (48 kHz).

    Parameters
    ----------
    channels : int
        1 (mono) or 2 (stereo).
    bit_rate : int
        AAC bit rate in bit/s; 0 for FFmpeg's default.
    """

    channels: int
    bit_rate: int = 0


class MediaFileWriter:
    """Encoders + one container: write I420 frames (and optionally audio) to one file.

    Used for the MP4 scenario preview and the ``testsrc`` stream. The file appears under its
    final name only when :meth:`close` succeeds.

    Parameters
    ----------
    path : str or PathLike
        Output file.
    size_wh : tuple of int
        Even ``(width, height)``.
    fps : int
        Frame rate (frame ``i`` has pts ``i`` in time base ``1/fps``).
    bitrate_kbps : int or None
        Average bit rate; None for constant quality ``crf``.
    audio : AudioTrack or None
        The AAC track's channels and bit rate; None for video only.
    crf : int
        x264 constant rate factor when ``bitrate_kbps`` is None.
    overwrite : bool
        Replace an existing file.
    fmt : str
        FFmpeg muxer.
    """

    def __init__(self, path: str | os.PathLike[str], *, size_wh: tuple[int, int], fps: int,
                 bitrate_kbps: int | None = None, audio: AudioTrack | None = None,
                 crf: int = 23, overwrite: bool = False, fmt: str = "mp4") -> None:
        track = None if audio is None else (audio.channels, audio.bit_rate)
        self._encoders = Encoders(size_wh=size_wh, fps=fps, bitrate_kbps=bitrate_kbps,
                                  audio=track, crf=crf, threads=0)  # nothing draws beside it
        try:
            self._file = ContainerFile(Path(path), fmt, self._encoders.templates(),
                                       overwrite=overwrite, options={"movflags": "+faststart"}
                                       if fmt == "mp4" else None)
        except BaseException:
            self._encoders.close()
            raise
        self._frames = 0
        self._closed = False

    def write(self, i420: npt.NDArray[np.uint8]) -> None:
        """Encode the next video frame."""
        for packet in self._encoders.encode_video(i420, self._frames):
            self._file.mux(packet, VIDEO)
        self._frames += 1

    def write_audio(self, samples: npt.ArrayLike, *, start_sample: int) -> None:
        """Encode planar ``(channels, n)`` float samples from ``start_sample`` on."""
        for packet in self._encoders.encode_audio(samples, start_sample=start_sample):
            self._file.mux(packet, AUDIO)

    def close(self, exc: BaseException | None = None) -> None:
        """Flush the encoders, close the file and move it into place (or discard it)."""
        if self._closed:
            return
        self._closed = True
        try:
            if exc is None:
                for packet in self._encoders.encode_video(None, self._frames):
                    self._file.mux(packet, VIDEO)
                if self._encoders.audio is not None:
                    for packet in self._encoders.encode_audio(None):
                        self._file.mux(packet, AUDIO)
        except BaseException as error:
            self._file.close(error)
            raise
        finally:
            self._encoders.close()
        self._file.close(exc)

    def __enter__(self) -> MediaFileWriter:
        """Return the writer itself."""
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Close the writer: the file is kept when the block ended without an exception."""
        self.close(exc)
