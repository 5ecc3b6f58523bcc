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
import threading
import warnings
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from fractions import Fraction
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from .._typing import I420, Samples
from ..cloudfiles.constants import SAMPLE_RATE
from ..errors import MediaError, ParameterError
from .memory import trim_heap

__all__ = [
    "READ_AHEAD_BYTES",
    "SINGLE_THREAD_DECODE_MAX_PIXELS",
    "DamagedMediaWarning",
    "DecodeWorkers",
    "FileAudio",
    "FileVideo",
    "ReadAhead",
    "frame_to_i420",
    "halve_i420",
    "has_stream",
    "iter_luma",
    "media_location",
    "open_input",
    "plane_view",
    "probe_video_size",
    "set_decoder_threads",
    "to_i420",
    "usable_cores",
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


def usable_cores() -> int:
    """Count the CPU cores this process may run on (its affinity mask; at least 1).

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def set_decoder_threads(stream: Any, *, threads: int | None = None) -> None:
    """Choose the decoder threads of a PyAV video stream.

    Parameters
    ----------
    stream : av.video.stream.VideoStream
        Not decoded from yet.
    threads : int, optional
        At most this many frame threads (each holds its own decoded pictures: memory grows
        with the count).  Default: FFmpeg's automatic count.  One thread, or a picture of at
        most :data:`SINGLE_THREAD_DECODE_MAX_PIXELS`, decodes on the calling thread.
    """
    context = stream.codec_context
    if stream.type != "video":
        return
    large = (context.width or 0) * (context.height or 0) > SINGLE_THREAD_DECODE_MAX_PIXELS
    if threads is not None and (threads <= 1 or not large):
        context.thread_count = 1
        return
    if large:
        stream.thread_type = "AUTO"
        if threads is not None:
            context.thread_count = threads


T = TypeVar("T")

#: Decoded pictures a video file's reader may hold ahead of what is drawn, in bytes per file
#: (at most :data:`READ_AHEAD_MAX_FRAMES` frames): four 640x360 frames fit, one 1280x720
#: frame fits, a 1920x1080 frame (3 MiB) does not, so files that large are decoded when
#: asked for, as before (17 of them would otherwise hold 50 MiB more).
READ_AHEAD_BYTES = 1536 * 1024
#: The most frames decoded ahead of a video file's reader.
READ_AHEAD_MAX_FRAMES = 4
#: Audio chunks (about 1024 samples each) decoded ahead of an audio file's reader.
READ_AHEAD_AUDIO_CHUNKS = 16


class DecodeWorkers:
    """Threads that decode the media files of a recording ahead of their readers.

    The sources of one recording share them (one per usable core by default), so decoding
    runs beside drawing and encoding; FFmpeg's decoders release the GIL.  The threads start
    with the first :meth:`read_ahead` that needs one and end in :meth:`close`.  A reader
    whose workers are closed decodes in its own thread, as without read-ahead.

    Parameters
    ----------
    workers : int, optional
        Threads; default :func:`usable_cores`.

    Examples
    --------
    >>> with DecodeWorkers(workers=1) as workers:
    ...     list(workers.read_ahead(iter(range(5)), depth=2))
    [0, 1, 2, 3, 4]
    """

    def __init__(self, *, workers: int | None = None) -> None:
        self.workers = max(1, workers or usable_cores())
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False
        self._lock = threading.Lock()

    def submit(self, task: Callable[[], None]) -> Future[None] | None:
        """Run ``task`` in a worker; return its future, or None once closed (not run then)."""
        with self._lock:
            if self._closed:
                return None
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers,
                                                thread_name_prefix="layoutkit-decode")
            return self._pool.submit(task)

    def read_ahead(self, items: Iterator[T], *, depth: int) -> ReadAhead[T]:
        """Return ``items`` read up to ``depth`` ahead by these workers (:class:`ReadAhead`)."""
        return ReadAhead(items, self, depth=depth)

    def close(self) -> None:
        """Wait for the running tasks and end the threads; later tasks run in their readers."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> DecodeWorkers:
        """Return the workers themselves."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the workers (see :meth:`close`)."""
        self.close()


_END = object()


class ReadAhead(Generic[T]):
    """An iterator's items, taken up to ``depth`` ahead of the reader by a worker thread.

    The reader gets exactly what it would get from ``items`` itself, in the same order, an
    exception included (raised where it happened, after the items before it); the iterator
    is advanced by one thread at a time (a generator may be).  At most ``depth`` items
    wait, so memory is bounded.  :meth:`close` waits for the worker, drops what waits and
    closes ``items``.

    Parameters
    ----------
    items : iterator
        What to read ahead (e.g. a decoder's frames).
    workers : DecodeWorkers
        Where the reading runs.
    depth : int
        Items read ahead at most (at least 1).
    """

    def __init__(self, items: Iterator[T], workers: DecodeWorkers, *, depth: int) -> None:
        self._items = items
        self._workers = workers
        self._depth = max(1, depth)
        self._ready: deque[tuple[Any, BaseException | None]] = deque()
        self._task: Future[None] | None = None
        self._stop = False
        self._ended = False  # the last entry of ``items`` (its end or error) is in _ready
        self._finished = False  # the reader has had it
        self._schedule()

    def _fill(self) -> None:
        """Advance ``items`` until ``depth`` entries wait (runs in one thread at a time)."""
        while not self._stop and not self._ended and len(self._ready) < self._depth:
            try:
                item = next(self._items)
            except StopIteration:
                self._ended = True
                self._ready.append((_END, None))
            except BaseException as exc:  # handed to the reader, in order
                self._ended = True
                self._ready.append((_END, exc))
            else:
                self._ready.append((item, None))

    def _schedule(self) -> None:
        """Start a worker on :meth:`_fill` unless one runs; closed workers: fill here."""
        if self._ended or self._stop or (self._task is not None and not self._task.done()):
            return
        self._task = self._workers.submit(self._fill)
        if self._task is None:
            self._fill()

    def __iter__(self) -> ReadAhead[T]:
        """Return the reader itself."""
        return self

    def __next__(self) -> T:
        """Return the next item (waiting for the worker when none is ready)."""
        if self._finished:
            raise StopIteration
        while not self._ready:
            task = self._task
            if task is not None and not task.done():
                wait((task,))  # _fill catches everything
            else:  # the worker stopped at ``depth`` before the reader took one, or was cancelled
                self._schedule()
        item, exc = self._ready.popleft()
        if item is _END:
            self._finished = True
            if exc is not None:
                raise exc
            raise StopIteration
        if len(self._ready) <= self._depth // 2:  # refill in batches: fewer thread wake-ups
            self._schedule()
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop reading ahead: wait for the worker, drop the waiting items, close ``items``."""
        self._stop = True
        if self._task is not None:
            wait((self._task,))
        self._ready.clear()
        self._finished = True
        close = getattr(self._items, "close", None)
        if close is not None:
            close()


def read_ahead_frames(width: int, height: int) -> int:
    """Return how many decoded frames of ``width`` x ``height`` a file's reader may hold ahead.

    Within :data:`READ_AHEAD_BYTES` (yuv420p), at most :data:`READ_AHEAD_MAX_FRAMES`; 0
    for larger pictures.

    Examples
    --------
    >>> read_ahead_frames(640, 360), read_ahead_frames(1280, 720), read_ahead_frames(1920, 1080)
    (4, 1, 0)
    """
    frame_bytes = max(1, width * height * 3 // 2)
    return min(READ_AHEAD_MAX_FRAMES, READ_AHEAD_BYTES // frame_bytes)


#: Options of the decoders FFmpeg opens while probing a file's streams (see :func:`open_input`).
PROBE_OPTIONS = {"threads": "1"}
#: The brief probe tried first (:func:`open_input`): enough for files whose header describes
#: their streams (MP4, MOV, Matroska).
QUICK_PROBE_OPTIONS = {"probesize": "32", "analyzeduration": "0"}

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

    For audio the streams are probed briefly first (:data:`QUICK_PROBE_OPTIONS`): an MP4's
    header describes its audio, and FFmpeg's default probing would decode about a second of
    every stream, holding several pictures of a 1080p video only to read the sound.  When
    that leaves the audio stream without its parameters (e.g. in an MPEG-TS), the file is
    probed again as FFmpeg does by default, as a video always is (its decoder's start
    depends on what the probe found).

    Raises
    ------
    MediaError
        ``<path>: no such <kind> file``, ``<path>: not a readable <kind> file (...)``,
        ``<path>: has no <kind> stream`` or a refusal of :func:`media_location`.
    """
    import av

    target = media_location(location, kind=kind)
    container = None
    try:
        container = _open_probed(target, quick=kind == "audio")
        if kind == "audio" and not _audio_described(container):
            container.close()
            container = None
            container = _open_probed(target, quick=False)
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


def _open_probed(target: str, *, quick: bool) -> Any:
    """Open ``target`` (from :func:`media_location`) with PyAV, probing briefly when ``quick``."""
    import av

    # the decoders FFmpeg opens to probe the streams decode on one thread: frame threads
    # would each hold pictures of their own (17 1080p files reopened as they loop)
    options = {**PROBE_OPTIONS, **(QUICK_PROBE_OPTIONS if quick else {})}
    if not target.startswith("file:"):
        return av.open(target, timeout=URL_TIMEOUT_S, options=options)
    return av.open(target, options=options)


def _audio_described(container: Any) -> bool:
    """Tell whether the first audio stream's rate, channels and sample format are known.

    True without an audio stream (nothing to probe for).
    """
    if not container.streams.audio:
        return True
    context = container.streams.audio[0].codec_context
    return bool(context.sample_rate and context.channels and context.format is not None)


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


def _no_frames() -> Generator[Any, None, None]:
    """Yield nothing: the frames of a closed file."""
    yield from ()


class _Decoded:
    """One decoded frame of a :class:`FileVideo`: its time, and the frame until converted."""

    __slots__ = ("file_time", "first_pass", "frame", "level", "picture", "time")

    def __init__(self, time: Fraction, file_time: Fraction, frame: Any, *,
                 first_pass: bool) -> None:
        self.time = time  # seconds from the first frame of the first pass (loops added)
        self.file_time = file_time  # the frame's own timestamp in the file
        self.frame = frame
        self.picture: I420 | None = None
        self.level = 0  # exact 2x halvings applied to ``picture``
        self.first_pass = first_pass


def plane_view(frame: Any, index: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Return a view of one plane of a decoded frame (no copy; it keeps the frame alive)."""
    plane = frame.planes[index]
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
    return rows[:height, :width]


def to_i420(frame: Any) -> I420:
    """Convert a decoded PyAV video frame to a new I420 array, rotation applied, sides even.

    A yuv420p frame of even sides without rotation is copied plane by plane (one copy);
    others go through FFmpeg's ``reformat`` (an odd side is scaled down to even) or, when
    rotated, through RGB.

    Examples
    --------
    >>> import av
    >>> frame = av.VideoFrame.from_ndarray(np.arange(24, dtype=np.uint8).reshape(6, 4),
    ...                                    format="yuv420p")
    >>> bool((to_i420(frame) == frame.to_ndarray()).all())
    True
    """
    rotation = round((frame.rotation or 0) / 90) % 4
    width, height = frame.width, frame.height
    if rotation % 2:
        width, height = height, width
    if rotation:
        rgb = np.rot90(frame.to_ndarray(format="rgb24"), k=rotation)
        import cv2

        rgb = np.ascontiguousarray(rgb[: _even(height), : _even(width)])
        return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
    if frame.format.name == "yuv420p" and width % 2 == 0 and height % 2 == 0:
        from ..compose.yuv import i420_from_planes

        return i420_from_planes(plane_view(frame, 0, width, height),
                                plane_view(frame, 1, width // 2, height // 2),
                                plane_view(frame, 2, width // 2, height // 2))
    converted = frame.reformat(width=_even(width), height=_even(height), format="yuv420p")
    return np.ascontiguousarray(converted.to_ndarray())


def _halved(plane: npt.NDArray[np.uint8], times: int) -> npt.NDArray[np.uint8]:
    """Box-filter ``plane`` down by 2 ``times`` times.

    An odd last row or column is dropped first, like the compositor's halvings.
    """
    import cv2

    for _ in range(times):
        h, w = plane.shape[0] // 2, plane.shape[1] // 2
        plane = np.asarray(cv2.resize(plane[:2 * h, :2 * w], (w, h),
                                      interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return plane


def _i420_of(planes: tuple[npt.NDArray[np.uint8], ...]) -> I420 | None:
    """Join Y, U, V planes into one I420 array; None when they do not make one."""
    from ..compose.yuv import i420_from_planes

    y, u, v = planes
    h, w = y.shape
    if h % 2 or w % 2 or u.shape != (h // 2, w // 2) or v.shape != u.shape:
        return None
    return i420_from_planes(y, u, v)


def halve_i420(picture: I420, times: int) -> I420:
    """Halve each plane of an I420 picture ``times`` times (exact 2x box filters).

    Returns ``picture`` itself for 0, or when halving would not leave a valid I420 picture
    (odd luma sides).

    Examples
    --------
    >>> picture = np.zeros((12, 8), dtype=np.uint8); picture[:8] = 200
    >>> halve_i420(picture, 1).shape, int(halve_i420(picture, 1)[0, 0])
    ((6, 4), 200)
    """
    if times <= 0:
        return picture
    h = picture.shape[0] * 2 // 3
    w = picture.shape[1]
    flat = picture.reshape(-1)
    n, q = w * h, w * h // 4
    planes = (picture[:h], flat[n:n + q].reshape(h // 2, w // 2),
              flat[n + q:n + 2 * q].reshape(h // 2, w // 2))
    out = _i420_of(tuple(_halved(p, times) for p in planes))
    return picture if out is None else out


def frame_to_i420(frame: Any, *, halvings: int = 0) -> tuple[I420, int]:
    """Convert a decoded frame to a new I420 array halved up to ``halvings`` times.

    A yuv420p frame without rotation is halved straight from the decoder's planes, so the
    full-size picture is never copied; others are converted by :func:`to_i420` first.
    Fewer halvings are done when one more would leave odd luma sides.

    Returns
    -------
    tuple of (ndarray, int)
        The picture and the halvings done.
    """
    width, height = frame.width, frame.height
    direct = frame.format.name == "yuv420p" and not round((frame.rotation or 0) / 90) % 4 \
        and width % 2 == 0 and height % 2 == 0
    for times in range(halvings, 0, -1):
        if (width >> times) % 2 or (height >> times) % 2 or any(
                (width >> i) % 2 or (height >> i) % 2 for i in range(times)):
            continue
        if not direct:
            return halve_i420(to_i420(frame), times), times
        planes = (plane_view(frame, 0, width, height),
                  plane_view(frame, 1, width // 2, height // 2),
                  plane_view(frame, 2, width // 2, height // 2))
        out = _i420_of(tuple(_halved(p, times) for p in planes))
        if out is not None:
            return out, times
    return to_i420(frame), 0


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

    def __init__(self, path: str | Path, *, label: str | None = None,
                 threads: int | None = None) -> None:
        self.path = path
        self.label = label or str(path)
        self.damaged: list[float] = []
        self._threads = threads
        self._workers: DecodeWorkers | None = None
        self._container: Any = None
        self._origin: Fraction | None = None  # file time of the first decoded frame
        self._offset = Fraction(0)  # added to file times after each loop
        self._length: Fraction | None = None
        self._open()
        self._next: _Decoded | None = None
        self._shown: I420 | None = None
        first = self._pull()
        frame = None
        while first is not None:
            frame = first.frame
            if self._show(first) is not None:  # converts: frames that cannot are skipped
                break
            first = self._pull()
        if first is None:
            self.close()
            msg = f"{self.path}: has no decodable video frame"
            raise MediaError(msg)
        self._current: _Decoded = first
        assert first.picture is not None
        self.size_wh = (first.picture.shape[1], first.picture.shape[0] * 2 // 3)
        # keep the first frame as decoded (the decoder's reference anyway), not as a
        # full-size copy: a source opened but not drawn yet holds no picture of its own
        first.frame, first.picture, self._shown = frame, None, None

    def _open(self) -> None:
        if self._container is not None:  # a loop: the old decoder goes before the new comes
            self._release()
            trim_heap()  # this thread may not be the one that opened it (see io.memory)
        self._container = open_input(self.path, kind="video")
        self._stream = self._container.streams.video[0]
        set_decoder_threads(self._stream, threads=self._threads)
        self._rate = Fraction(self._stream.average_rate or self._stream.guessed_rate or 25)
        self._count = 0  # frames decoded in this pass (times of files without timestamps)
        self._frames: Generator[Any, None, None] | ReadAhead[Any] = self._decode()
        if self._workers is not None:
            self._read_ahead(self._workers)

    def _read_ahead(self, workers: DecodeWorkers) -> None:
        """Decode this pass's next frames in ``workers`` (none when its pictures are large)."""
        context = self._stream.codec_context
        depth = read_ahead_frames(context.width or 0, context.height or 0)
        if depth and not isinstance(self._frames, ReadAhead):
            self._frames = workers.read_ahead(self._frames, depth=depth)

    def read_ahead(self, workers: DecodeWorkers) -> None:
        """Decode the next frames in ``workers`` while the caller draws, from now on.

        The frames, the pictures returned and the damage noted are the same as without;
        up to :func:`read_ahead_frames` decoded frames wait (none for large pictures, which
        are decoded when asked for).  :meth:`close` stops it.
        """
        self._workers = workers
        if self._container is not None:
            self._read_ahead(workers)

    def _note_damage(self, when: Fraction | None, count: int) -> None:
        """Note damage at file time ``when`` (None: after ``count`` frames of this pass)."""
        if self._length is not None:  # noted in the first pass already
            return
        if when is None:
            when = Fraction(count) / self._rate
        origin = self._origin if self._origin is not None else Fraction(0)
        self.damaged.append(float(max(Fraction(0), when - origin)))

    def _packet_time(self, packet: Any) -> Fraction | None:
        if packet.pts is None or packet.time_base is None:
            return None
        return Fraction(packet.pts) * Fraction(packet.time_base)

    def _decode(self) -> Generator[Any, None, None]:
        """Yield the decoded frames of one pass; what cannot be demuxed or decoded is skipped.

        It may run in a worker thread ahead of the reader (:meth:`read_ahead`): it counts
        the frames it yielded itself.
        """
        import av

        packets = self._container.demux(self._stream)
        count = 0
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except (av.error.FFmpegError, OSError):  # the rest cannot be read: loop here
                self._note_damage(None, count)
                return
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                self._note_damage(self._packet_time(packet), count)
                continue
            for frame in frames:
                if frame.is_corrupt:
                    self._note_damage(self._frame_time(frame, count), count)
                    continue
                count += 1
                yield frame

    def _frame_time(self, frame: Any, count: int) -> Fraction:
        """Return a frame's file time; without a timestamp, that of frame ``count`` of the pass."""
        if frame.pts is None or frame.time_base is None:
            return Fraction(count) / self._rate
        return Fraction(frame.pts) * Fraction(frame.time_base)

    def _pull(self) -> _Decoded | None:
        """Return the next decoded frame of this pass (not converted yet), or None at its end."""
        frame = next(self._frames, None)
        if frame is None:
            return None
        when = self._frame_time(frame, self._count)
        self._count += 1
        if self._origin is None:
            self._origin = when
        return _Decoded(when - self._origin + self._offset, when, frame,
                        first_pass=self._length is None)

    def _show(self, entry: _Decoded, halvings: int = 0) -> I420 | None:
        """Return the picture of ``entry`` halved ``halvings`` times (see :meth:`frame_i420`).

        It is converted on first use (the decoded frame is then released); a frame that
        cannot be converted shows the last good picture.
        """
        import av

        if entry.frame is not None:
            frame, entry.frame = entry.frame, None
            try:
                entry.picture, entry.level = frame_to_i420(frame, halvings=halvings)
            except (av.error.FFmpegError, ValueError):
                if entry.first_pass:
                    self.damaged.append(float(max(Fraction(0),
                                                  entry.file_time - (self._origin or 0))))
                entry.picture = self._shown
        elif entry.picture is not None and halvings > entry.level:
            picture = halve_i420(entry.picture, halvings - entry.level)
            if picture is not entry.picture:
                entry.picture, entry.level = picture, halvings
        if entry.picture is not None:
            self._shown = entry.picture
        return entry.picture

    def _rewind(self) -> None:
        if self._length is None:
            self._length = max(self._current.time + 1 / self._rate, 1 / self._rate)
        self._offset += self._length
        self._open()  # reopened, not seeked: raw streams and broken indexes loop too

    def frame_i420(self, t: Fraction, *, halvings: int = 0) -> I420:
        """Return the frame shown at file time ``t`` (seconds from the file's first frame).

        Only the frame shown is converted; the frames decoded past it are dropped as they
        are, and the one after it is kept as decoded (the decoder's reference anyway).

        Parameters
        ----------
        t : Fraction
            File time; non-decreasing from call to call (an earlier one is not rewound to).
        halvings : int
            Halve every plane this many times with exact 2x box filters right after
            decoding (see :func:`layoutkit.compose.plan.source_halvings`), so no full-size
            copy is kept.  A frame already converted with fewer halvings is halved further;
            one converted with more is returned as it is (smaller than asked: only when a
            layout enlarges a picture between two output frames showing the same source
            frame).  The picture is smaller than :attr:`size_wh` by ``2**level``; read its
            size from its shape.
        """
        while True:
            if self._next is None:
                self._next = self._pull()
                if self._next is None:
                    self._rewind()
                    self._next = self._pull()
                    if self._next is None:  # pragma: no cover - a file that vanished
                        break
            if self._next.time > t:
                break
            self._current, self._next = self._next, None
        shown = self._show(self._current, halvings)
        assert shown is not None  # the first frame converted, and later ones fall back on it
        return shown

    def _release(self) -> None:
        """Close the file and drop every reference to its decoder and decoded frames.

        Now, not when the garbage collector breaks the generator's cycle: their buffers go
        at once (the current frame stays: a decoded frame holds its own buffer).
        """
        self._frames.close()
        self._frames = _no_frames()
        self._next = None
        self._stream = None
        self._container.close()
        self._container = None

    def close(self) -> None:
        """Release the decoder and the file; warn once if something had to be skipped."""
        if self._container is not None:
            self._release()
            if getattr(self, "_current", None) is not None:
                self._current.frame = None
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
        self._workers: DecodeWorkers | None = None
        self._chunks: Generator[Samples | int, None, None] | ReadAhead[Samples | int] = \
            self._loop()  # not started: opens nothing yet
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
        del container, stream, resampler
        trim_heap()  # a whole pass: the next opens in the thread that reads, maybe not this one

    def _loop(self) -> Generator[Samples | int, None, None]:
        """Pass after pass through the file, forever: non-empty chunks, each pass's length after it.

        The length is handed over as an item (not set here), so a reader taking the chunks
        from a worker thread (:meth:`read_ahead`) learns it when it reaches the pass's end.
        """
        while True:
            count = 0
            for chunk in self._one_pass():
                if chunk.size:
                    count += chunk.size
                    yield chunk
            if not count:
                msg = f"{self.path}: has no decodable audio"
                raise MediaError(msg)
            yield count

    def _next_chunk(self) -> Samples:
        """Return the next chunk of samples; a pass's end sets :attr:`pass_length`."""
        item = next(self._chunks)
        while isinstance(item, int):
            self.pass_length = item
            item = next(self._chunks)
        return item

    def _start_loop(self) -> None:
        self._chunks = self._loop()
        if self._workers is not None:
            self._chunks = self._workers.read_ahead(self._chunks, depth=READ_AHEAD_AUDIO_CHUNKS)

    def read_ahead(self, workers: DecodeWorkers) -> None:
        """Decode the next chunks in ``workers`` while the caller mixes, from now on.

        The samples are the same as without; :meth:`close` stops it.
        """
        self._workers = workers
        if not isinstance(self._chunks, ReadAhead):
            self._chunks = workers.read_ahead(self._chunks, depth=READ_AHEAD_AUDIO_CHUNKS)

    def _restart(self, pass_start: int) -> None:
        """Reopen the file; its first sample becomes user-clock sample ``pass_start``."""
        self.close()
        self._start_loop()
        self._pos, self._buf = pass_start, self._next_chunk()

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
            self._buf = self._next_chunk()
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
            parts.append(self._next_chunk())
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
