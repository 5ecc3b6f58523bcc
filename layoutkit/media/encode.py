"""H.264 video writing with PyAV, from yuv420p (I420) canvases, written atomically."""

from __future__ import annotations

import os
from fractions import Fraction
from types import TracebackType

import numpy as np
import numpy.typing as npt

from ..errors import EncodeError
from .atomic import atomic_output

__all__ = ["PreviewVideoWriter"]


class PreviewVideoWriter:
    """Write I420 frames to an MP4 (H.264, yuv420p, constant frame rate).

    The file appears under its final name only when :meth:`close` succeeds; an exception
    inside the ``with`` block leaves no file behind.

    Parameters
    ----------
    path : str or PathLike
        The MP4 file.
    size_wh : tuple of int
        Even ``(width, height)``.
    fps : int
        Frames per second (frame ``i`` has pts ``i`` in time base ``1/fps``).
    crf : int
        x264 constant rate factor (quality; 23 is x264's default).
    overwrite : bool
        Replace an existing file.
    """

    def __init__(self, path: str | os.PathLike[str], *, size_wh: tuple[int, int], fps: int,
                 crf: int = 23, overwrite: bool = False) -> None:
        import av

        self._atomic = atomic_output(path, overwrite=overwrite)
        tmp = self._atomic.__enter__()
        try:
            self._container = av.open(str(tmp), "w", format="mp4")
            stream = self._container.add_stream("libx264", rate=Fraction(fps))
            stream.width, stream.height = size_wh
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf), "preset": "veryfast",
                              "x264-params": "colorprim=smpte170m:transfer=smpte170m:"
                                             "colormatrix=smpte170m:range=tv"}
            stream.codec_context.time_base = Fraction(1, fps)
            self._stream = stream
        except Exception as exc:
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)
            msg = f"{path}: cannot start the H.264 encoder ({exc})"
            raise EncodeError(msg) from exc
        self._count = 0

    def write(self, i420: npt.NDArray[np.uint8]) -> None:
        """Encode one frame."""
        import av

        frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
        frame.pts = self._count
        self._count += 1
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except av.error.FFmpegError as exc:
            msg = f"encoding frame {self._count - 1} failed ({exc})"
            raise EncodeError(msg) from exc

    def close(self, exc: BaseException | None = None) -> None:
        """Flush the encoder, close the file and move it into place (or discard it)."""
        try:
            if exc is None:
                for packet in self._stream.encode():
                    self._container.mux(packet)
        finally:
            self._container.close()
            if exc is None:
                self._atomic.__exit__(None, None, None)
            else:
                self._atomic.__exit__(type(exc), exc, exc.__traceback__)

    def __enter__(self) -> PreviewVideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(exc)
