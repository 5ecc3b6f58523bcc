"""Real video files as user sources: decoded with PyAV, resampled to the output fps.

A file source is read sequentially (memory stays flat): ask for non-decreasing times and
each call decodes only up to that time.  Rotation metadata (the display matrix) is applied,
variable frame rates are handled by choosing, for each output time, the last decoded frame
whose presentation time is not later than it (the way a recorder samples a live stream).
When the file ends it starts again from the beginning (a tester publishing a file loops it).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..errors import MediaError
from .container import open_input

__all__ = ["FileVideo", "probe_video_size"]

I420 = npt.NDArray[np.uint8]


def _even(n: int) -> int:
    return max(2, n - (n % 2))


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
