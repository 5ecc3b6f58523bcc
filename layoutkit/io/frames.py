"""Decoded recording data as compare consumes it (pure data, no decoder).

Any decoder can feed content checks: it yields :class:`DecodedFrame` (and, for the A/V
check, :class:`AudioChunk`).  :mod:`layoutkit.io.recorded` is PyAV's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..compose.yuv import i420_planes

__all__ = ["AudioChunk", "DecodeStats", "DecodedFrame", "Planes", "missing_pictures",
           "pts_seconds"]

#: A yuv420p picture as its three planes: Y ``(H, W)``, then U and V ``(H / 2, W / 2)``.
Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded video frame.

    Attributes
    ----------
    t : float
        Presentation time in seconds (the recording's clock, continuous across files).
    planes : Planes
        The picture's Y, U and V planes.  A decoder may hand out views of its own picture
        (rows longer than the picture, read-only): a consumer reads them and copies what it
        keeps.
    index : int
        Position in decoding output order, from 0.
    key : bool
        The encoder coded it as a key frame (its whole picture is coded again: a frozen
        picture jumps by its coding noise there).

    Examples
    --------
    >>> i420 = np.zeros((6, 4), np.uint8)
    >>> frame = DecodedFrame.from_i420(0.5, i420)
    >>> frame.size_wh, [p.shape for p in frame.planes]
    ((4, 4), [(4, 4), (2, 2), (2, 2)])
    """

    t: float
    planes: Planes
    index: int = 0
    key: bool = False

    @classmethod
    def from_i420(cls, t: float, i420: npt.NDArray[np.uint8], index: int = 0, *,
                  key: bool = False) -> DecodedFrame:
        """Return the frame whose picture is the ``(H * 3 // 2, W)`` yuv420p buffer ``i420``.

        The planes are views of ``i420`` (:func:`~layoutkit.compose.yuv.i420_planes`).
        """
        return cls(t, i420_planes(i420), index, key)

    @property
    def size_wh(self) -> tuple[int, int]:
        """Picture ``(width, height)``."""
        height, width = self.planes[0].shape
        return (int(width), int(height))


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


def pts_seconds(pts: int, num: int, den: int) -> float:
    """Return ``pts`` ticks of ``num / den`` s in seconds, rounded once as ``float(Fraction)`` is.

    PyAV hands out each packet's and frame's time base as a new ``Fraction``, and a product
    with it makes more: integer arithmetic gives the same float (Python rounds ``int / int``
    once), without them.

    >>> from fractions import Fraction
    >>> pts_seconds(1001, 1, 30000) == float(1001 * Fraction(1, 30000))
    True
    """
    return pts * num / den


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
    check can take them instead of decoding the pictures again.  ``audio_errors`` is the
    same for a file whose sound was decoded to its end: audio packets that failed to decode.
    """

    frames: int = 0
    corrupt_packets: int = 0
    truncated_files: int = 0
    files: int = 0
    video_errors: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    audio_errors: dict[str, tuple[int, str | None]] = field(default_factory=dict)
