"""Decoded recording data as compare consumes it (pure data, no decoder).

Any decoder can feed content checks: it yields :class:`DecodedFrame` (and, for the A/V
check, :class:`AudioChunk`).  :mod:`layoutkit.io.recorded` is PyAV's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["AudioChunk", "DecodeStats", "DecodedFrame", "missing_pictures"]


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded video frame.

    Attributes
    ----------
    t : float
        Presentation time in seconds (the recording's clock, continuous across files).
    i420 : ndarray of uint8, shape (H * 3 // 2, W)
        The picture, yuv420p as :mod:`layoutkit.compose.yuv` lays it out.
    index : int
        Position in decoding output order, from 0.
    key : bool
        The encoder coded it as a key frame (its whole picture is coded again: a frozen
        picture jumps by its coding noise there).
    """

    t: float
    i420: npt.NDArray[np.uint8]
    index: int = 0
    key: bool = False

    @property
    def size_wh(self) -> tuple[int, int]:
        """Picture ``(width, height)``."""
        return (int(self.i420.shape[1]), int(self.i420.shape[0] * 2 // 3))


@dataclass(frozen=True)
class AudioChunk:
    """Consecutive mono samples.

    Attributes
    ----------
    t : float
        Time of the first sample (same clock as :attr:`DecodedFrame.t`).
    samples : ndarray of float32
        Mono samples in [-1, 1] at ``rate`` Hz.
    rate : int
    """

    t: float
    samples: npt.NDArray[np.float32]
    rate: int = 48000


def missing_pictures(packets: int, pictures: int, errors: int) -> tuple[int, str | None]:
    """Video packets that gave no picture, and the error naming them (None when none).

    B-frames or not, after the decoder's flush every video packet that neither failed nor
    was flagged corrupt (``errors``) has given one picture.

    >>> missing_pictures(30, 28, 1)
    (1, '1 video packet(s) gave no picture')
    >>> missing_pictures(30, 30, 0)
    (0, None)
    """
    missing = max(0, packets - pictures - errors)
    return missing, f"{missing} video packet(s) gave no picture" if missing else None


@dataclass
class DecodeStats:
    """What went wrong while decoding (filled in as the iterator runs).

    ``video_errors`` maps each file whose video was decoded to its end (``str(path)``) to
    ``(errors, first error)``: video packets that failed to decode and packets that gave no
    picture, counted as :func:`~layoutkit.io.probe.inspect_media` counts them (packets
    flagged corrupt are left out: the probe's packet walk counts those itself), so a file
    check can take them instead of decoding the pictures again.
    """

    frames: int = 0
    corrupt_packets: int = 0
    truncated_files: int = 0
    files: int = 0
    video_errors: dict[str, tuple[int, str | None]] = field(default_factory=dict)
