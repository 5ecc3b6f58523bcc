"""Decoded recording data as compare consumes it (pure data, no decoder).

Any decoder can feed content checks: it yields :class:`DecodedFrame` (and, for the A/V
check, :class:`AudioChunk`).  :mod:`layoutkit.io.recorded` is PyAV's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["DecodedFrame", "AudioChunk", "DecodeStats"]


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
    """

    t: float
    i420: npt.NDArray[np.uint8]
    index: int = 0

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
