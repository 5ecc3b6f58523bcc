"""The recorder's cut rules (pure): when a TS segment or an MP4 part ends.

Contract section 2: a key frame is forced at every 15 s boundary and a segment is cut at the
first key frame at or after it; MP4 files roll over after 2 h (profile ``mp4_rollover``) or
2 GB, at a key frame.  :class:`Segmenter` sees each packet's time, whether it is a key frame
and the current MP4 part's size, and says what to cut; it knows nothing of encoders or
files, so tests drive it with made-up packets.

Examples
--------
>>> from fractions import Fraction
>>> cuts = Segmenter(mp4=False)
>>> cuts.next(Fraction(0), key=True)
Cut(segment=True, mp4=False)
>>> cuts.next(Fraction(15), key=False)   # the boundary waits for a key frame
Cut(segment=False, mp4=False)
>>> cuts.next(Fraction(31, 2), key=True)
Cut(segment=True, mp4=False)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..cloudfiles.constants import MP4_MAX_BYTES, ROLLOVER_SECONDS, SEGMENT_SECONDS

__all__ = ["MP4_SIZE_MARGIN", "Cut", "Segmenter"]

#: A new part starts at the first key frame once a part is this close to the limit.
MP4_SIZE_MARGIN = 64 * 1024**2


@dataclass(frozen=True)
class Cut:
    """What to do before writing a packet: start a new TS segment, a new MP4 part.

    ``segment`` / ``mp4`` True means: close the current file of that kind (if one is open)
    and open the next one at this packet's time.
    """

    segment: bool = False
    mp4: bool = False


class Segmenter:
    """Decide the cuts of one recording, packet by packet.

    Parameters
    ----------
    segment_seconds : int
        TS boundaries at each multiple (15).
    mp4 : bool
        Whether MP4 parts are written.
    mp4_seconds : int
        Duration after which a new MP4 part starts (at the next key frame).
    mp4_max_bytes : int
        Size limit of an MP4 part; a part is cut at the first key frame once it is within
        :data:`MP4_SIZE_MARGIN` of it.
    """

    def __init__(self, *, segment_seconds: int = SEGMENT_SECONDS, mp4: bool = True,
                 mp4_seconds: int = ROLLOVER_SECONDS["2h"],
                 mp4_max_bytes: int = MP4_MAX_BYTES) -> None:
        self.segment_seconds = segment_seconds
        self.mp4_enabled = mp4
        self.mp4_limit = Fraction(mp4_seconds)
        self.mp4_max_bytes = mp4_max_bytes
        self.next_boundary = Fraction(segment_seconds)
        self.segment_start: Fraction | None = None
        self.mp4_start: Fraction | None = None

    def next(self, when: Fraction, *, key: bool, mp4_bytes: int = 0) -> Cut:
        """Return the cut before a packet at recording time ``when``.

        Parameters
        ----------
        when : Fraction
            The packet's time in seconds.
        key : bool
            Whether it is a key frame (audio-only recordings pass True for every packet).
        mp4_bytes : int
            Size of the current MP4 part so far.
        """
        segment = self.segment_start is None or (key and when >= self.next_boundary)
        if segment:
            self.segment_start = when
        if key:  # the next cut waits for the first key frame at or after the next boundary
            while self.next_boundary <= when:
                self.next_boundary += self.segment_seconds
        mp4 = False
        if self.mp4_enabled:
            mp4 = self.mp4_start is None or (key and (
                when - self.mp4_start >= self.mp4_limit
                or mp4_bytes >= self.mp4_max_bytes - MP4_SIZE_MARGIN))
            if mp4:
                self.mp4_start = when
        return Cut(segment=segment, mp4=mp4)
