"""The test stream as a file: what a tester publishes into a real channel (``testsrc``).

Pictures from :mod:`layoutkit.signals.idstream`, sound from :mod:`layoutkit.signals.tone`,
encoded by the package's one H.264/AAC writer (:class:`layoutkit.io.encode.MediaFileWriter`,
BT.601 limited range, tagged so); :func:`read_idstream_ids` reads the codes back.
"""

from __future__ import annotations

import os

from .cloudfiles.constants import SAMPLE_RATE
from .errors import ParameterError
from .io.decode import iter_luma
from .io.encode import AudioTrack, MediaFileWriter
from .signals.idcode import CodeReading, read_code, uid_number
from .signals.idstream import even_size, idstream_frame_i420
from .signals.tone import tone

MAX_SIDE = 4096  # as a scenario user's source size

__all__ = ["read_idstream_ids", "write_idstream"]

_AAC_FRAME = 1024


def write_idstream(
    path: str | os.PathLike[str],
    *,
    uid: str,
    duration: float = 10,
    size_wh: tuple[int, int] = (640, 360),
    fps: int = 15,
    bitrate_kbps: int = 1000,
    flash: bool = True,
    overwrite: bool = False,
) -> None:
    """Write the test stream of ``uid`` as an MP4 (H.264 yuv420p + AAC 48 kHz mono).

    Parameters
    ----------
    path : str or PathLike
        Output file; written under a temporary name and renamed when complete.
    uid : str
        Decimal uid.
    duration : float
        Seconds; the file has ``round(duration * fps)`` frames and
        ``round(duration * 48000)`` audio samples.
    size_wh : tuple of int
        Even ``(width, height)``; odd sizes are rejected (4:2:0 chroma needs even sides)
        rather than silently changed.
    fps : int
        Frame rate; frame ``i`` has pts ``i`` in time base ``1/fps``.
    bitrate_kbps : int
        Target video bit rate (libx264 ABR).
    flash : bool
        The white flash on every whole second (default).  ``compare`` measures the
        recording's A/V offset from it against the beep; ``flash=False`` makes clips for
        people to watch (the shipped sample clips), the beep stays.
    overwrite : bool
        Replace an existing file.

    Raises
    ------
    ParameterError
        For a bad uid, size, fps, duration or bit rate.
    OutputExistsError
        When the file exists and not ``overwrite``.
    EncodeError
        When FFmpeg fails to encode or mux.
    """
    uid_number(uid)
    size = even_size(size_wh)
    if max(size) > MAX_SIDE:
        msg = f"size_wh: each side must be at most {MAX_SIDE} (got {size[0]}x{size[1]})"
        raise ParameterError(msg)
    fps = int(fps)
    n_frames = round(duration * fps) if fps >= 1 else 0
    if fps < 1 or n_frames < 1 or bitrate_kbps <= 0:
        msg = (f"need fps >= 1, a duration of at least one frame and a positive bit rate "
               f"(got fps {fps}, duration {duration}, {bitrate_kbps} kbps)")
        raise ParameterError(msg)
    n_samples = round(duration * SAMPLE_RATE)
    sent = 0
    with MediaFileWriter(path, size_wh=size, fps=fps, bitrate_kbps=bitrate_kbps,
                         audio=AudioTrack(1), overwrite=overwrite) as writer:
        for index in range(n_frames):
            writer.write(idstream_frame_i420(uid, index, size_wh=size, fps=fps, flash=flash))
            # keep the audio up to the end of this video frame (interleaved muxing)
            until = n_samples if index == n_frames - 1 else \
                min(n_samples, (index + 1) * SAMPLE_RATE // fps)
            while sent < until:
                count = min(_AAC_FRAME, n_samples - sent)
                writer.write_audio(tone(uid, sent, count).reshape(1, -1), start_sample=sent)
                sent += count


def read_idstream_ids(path: str | os.PathLike[str]) -> list[CodeReading | None]:
    """Decode a video file and read the code of every frame (the whole frame is the source).

    Returns
    -------
    list of (CodeReading or None)
        One entry per decoded frame, in decoding output order.

    Raises
    ------
    MediaError
        When the file cannot be opened or decoded.
    """
    readings: list[CodeReading | None] = []
    for luma in iter_luma(path):
        size = (luma.shape[1], luma.shape[0])
        readings.append(read_code(luma, src_wh=size, region=(0, 0, *size)))
    return readings
