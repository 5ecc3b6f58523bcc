"""Probe and decode recording files with PyAV (the only compare module that imports ``av``).

:func:`inspect_media` opens one TS / MP4 file, reads its streams' headers (codec, size,
frame rate, sample rate, channels), walks every packet (bytes, first and last time, key
frames) and, with ``decode=True``, decodes every packet (frame threads above 320x240) and counts
what fails (``decode="audio"``: only the audio, when the pictures are decoded elsewhere).
Results are frozen dataclasses of plain numbers, cached per (path, size, mtime), so the file
and stream checks can both ask without reading a file twice: a walk without decoding
(``decode=False``, what the stream checks need) is answered by any walk of the same file
already made, decoding or not.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import av

from ..errors import MediaError
from .decode import set_decoder_threads
from .frames import missing_pictures, pts_seconds

__all__ = ["MediaProbe", "StreamProbe", "inspect_media"]


@dataclass(frozen=True)
class StreamProbe:
    """One stream of a file: header facts and what walking its packets showed.

    Times are seconds on the file's own clock (pts x time base). ``end`` is the last
    packet's time plus its duration. ``key_times`` are the times of key-frame packets
    (video only). ``frames`` counts decoded frames (0 without decoding), ``errors`` the
    packets that failed to decode or were flagged corrupt.
    """

    index: int
    kind: str
    codec: str | None
    profile: str | None
    width: int | None
    height: int | None
    fps: float | None
    sample_rate: int | None
    channels: int | None
    header_bit_rate: int | None
    packets: int
    bytes: int
    start: float | None
    end: float | None
    key_times: tuple[float, ...]
    frames: int
    errors: int
    peak_bytes_per_s: int = 0

    @property
    def duration(self) -> float | None:
        """``end - start`` when both are known."""
        return None if self.start is None or self.end is None else self.end - self.start


@dataclass(frozen=True)
class MediaProbe:
    """One media file: its container format, size, streams and decode errors."""

    path: str
    format: str | None
    size: int
    duration: float | None
    streams: tuple[StreamProbe, ...]
    decoded: bool | Literal["audio"]
    errors: int
    first_error: str | None

    def stream(self, kind: str) -> StreamProbe | None:
        """Return the first stream of ``kind`` (``'video'`` / ``'audio'``), or None."""
        return next((s for s in self.streams if s.kind == kind), None)


def _channels(stream: Any) -> int | None:
    ctx = stream.codec_context
    layout = getattr(ctx, "layout", None)
    if layout is not None and getattr(layout, "nb_channels", None):
        return int(layout.nb_channels)
    channels = getattr(ctx, "channels", None)
    return int(channels) if channels else None


def inspect_media(path: str | os.PathLike[str], *,
                  decode: bool | Literal["audio"] = True) -> MediaProbe:
    """Probe one file and walk (and with ``decode``, decode) all its packets.

    ``decode="audio"`` decodes only the audio packets (the pictures' decoding errors then
    come from whoever decodes them, e.g. :class:`~layoutkit.io.frames.DecodeStats`).
    Each file (path, size, mtime) is walked once per ``decode`` level; ``decode=False`` is
    answered by any walk of it already made, decoding or not (its ``decoded`` then says
    which): the packets' counts are the same.

    Raises
    ------
    MediaError
        When the file is missing or FFmpeg cannot open it at all. Errors while reading or
        decoding packets are counted, not raised.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise MediaError(f"{p}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):  # FFmpeg would wait on a FIFO for ever
        raise MediaError(f"{p}: not a regular file; a media file is read only from one")
    key = (str(p), st.st_size, st.st_mtime_ns)
    with _WALKED_LOCK:
        walks = _WALKED.pop(key, {})
        _WALKED[key] = walks  # the most recently asked file goes last
        known = walks.get(decode)
        if known is None and decode is False:  # its packet counts are those of any walk
            known = next(iter(walks.values()), None)
    if known is not None:
        return known
    probe = _inspect(*key, decode)
    with _WALKED_LOCK:
        _WALKED.setdefault(key, {})[decode] = probe
        while len(_WALKED) > _WALKED_MAX:
            del _WALKED[next(iter(_WALKED))]
    return probe


#: The walks of each file (path, size, mtime) by ``decode``, least recently asked first, for
#: at most :data:`_WALKED_MAX` files.
_WALKED: dict[tuple[str, int, int], dict[bool | str, MediaProbe]] = {}
_WALKED_MAX = 256
_WALKED_LOCK = threading.Lock()


def _count(packet: Any, st: _Acc) -> None:
    """Add a packet with data to its stream's counts: packets, bytes and time span."""
    st.packets += 1
    st.bytes += packet.size
    if packet.pts is None or st.base is None:  # a demuxed packet's is its stream's
        return
    t = pts_seconds(packet.pts, *st.base)
    d = pts_seconds(packet.duration or 0, *st.base)
    st.start = t if st.start is None else min(st.start, t)
    st.end = t + d if st.end is None else max(st.end, t + d)
    if packet.is_keyframe and packet.stream.type == "video":
        st.keys.append(t)
    second = int(t // 1)
    st.buckets[second] = st.buckets.get(second, 0) + packet.size


def _inspect(path: str, size: int, mtime_ns: int, decode: bool | Literal["audio"]
             ) -> MediaProbe:
    kinds = ("video", "audio") if decode is True else (decode,) if decode else ()
    try:
        container = av.open(path)
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"{path}: not a readable media file ({exc})") from None
    errors = 0
    first_error: str | None = None
    with container:
        streams: list[Any] = [s for s in container.streams if s.type in ("video", "audio")]
        stats = {s.index: _Acc(base=(s.time_base.numerator, s.time_base.denominator)
                               if s.time_base else None) for s in streams}
        for s in streams:
            set_decoder_threads(s)
        try:
            packets = container.demux(*streams)
            for packet in packets:
                stream = packet.stream
                st = stats.get(stream.index)
                if st is None or packet.size == 0:
                    if st is not None and stream.type in kinds:  # flush
                        _decode(packet, st)
                    continue
                _count(packet, st)
                if packet.is_corrupt:
                    st.errors += 1
                    first_error = first_error or f"corrupt packet in stream {stream.index}"
                if stream.type in kinds:
                    message = _decode(packet, st)
                    first_error = first_error or message
        except av.error.FFmpegError as exc:
            errors += 1
            first_error = first_error or f"demuxing stopped: {exc}"
        result = []
        for s in streams:
            st = stats[s.index]
            if "video" in kinds and s.type == "video":
                missing, message = missing_pictures(st.packets, st.frames, st.errors)
                st.errors += missing
                first_error = first_error or message
            ctx = s.codec_context
            rate = (s.average_rate or s.guessed_rate) if s.type == "video" else None
            result.append(StreamProbe(
                index=s.index, kind=s.type, codec=ctx.name if ctx else None,
                profile=getattr(ctx, "profile", None),
                width=ctx.width if s.type == "video" else None,
                height=ctx.height if s.type == "video" else None,
                fps=float(rate) if s.type == "video" and rate else None,
                sample_rate=ctx.sample_rate if s.type == "audio" else None,
                channels=_channels(s) if s.type == "audio" else None,
                header_bit_rate=ctx.bit_rate or s.bit_rate or None,
                packets=st.packets, bytes=st.bytes, start=st.start, end=st.end,
                key_times=tuple(st.keys), frames=st.frames, errors=st.errors,
                peak_bytes_per_s=_peak(st.buckets)))
            errors += st.errors
        duration = (container.duration / av.time_base) if container.duration else None
        fmt = container.format.name if container.format else None
    return MediaProbe(path=path, format=fmt, size=size, duration=duration,
                      streams=tuple(result), decoded=decode, errors=errors,
                      first_error=first_error)


@dataclass
class _Acc:
    base: tuple[int, int] | None = None  # the stream's time base
    packets: int = 0
    bytes: int = 0
    start: float | None = None
    end: float | None = None
    keys: list[float] = field(default_factory=list)
    buckets: dict[int, int] = field(default_factory=dict)
    frames: int = 0
    errors: int = 0


def _peak(buckets: dict[int, int]) -> int:
    """Return the most bytes in one whole second, not counting a partial first or last one."""
    if len(buckets) > 2:
        inner = sorted(buckets)[1:-1]
        return max(buckets[k] for k in inner)
    return max(buckets.values(), default=0)


def _decode(packet: av.packet.Packet[av.stream.Stream], st: _Acc) -> str | None:
    """Decode ``packet``, counting its frames; return why it failed, or None."""
    try:
        frames = packet.decode()
    except av.error.FFmpegError as exc:
        st.errors += 1
        return f"decoding failed: {exc}"
    st.frames += len(frames)
    return None
