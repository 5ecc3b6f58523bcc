"""The cloud's fixed numbers for composite-mode files: one home for the recorder and compare.

What Agora Cloud Recording's mix mode writes (docs/cloud.md#cloud-segments): TS segments of
15 s, a playlist whose ``#EXT-X-TARGETDURATION`` is 18 in the cloud's samples, MP4 parts that
end at about 2 GB or after 2 h (3 h by profile), 48 kHz audio.  The recorder makes files of
these shapes; ``compare`` checks a real recording against the same numbers.  Pure: no I/O.

Examples
--------
>>> from layoutkit.cloudfiles.constants import ROLLOVER_SECONDS, SEGMENT_SECONDS
>>> SEGMENT_SECONDS, ROLLOVER_SECONDS["2h"] // 3600
(15, 2)
"""

from __future__ import annotations

__all__ = ["MIN_TARGET_DURATION", "MP4_MAX_BYTES", "ROLLOVER_SECONDS", "SAMPLE_RATE",
           "SEGMENT_SECONDS"]

SEGMENT_SECONDS = 15
"""Target length of a TS segment, seconds; a key frame starts each one."""

MIN_TARGET_DURATION = 18
"""``#EXT-X-TARGETDURATION`` of Agora's samples with 15 s segments."""

MP4_MAX_BYTES = 2 * 1024**3
"""A new MP4 part starts when the current one would exceed about 2 GB
(docs/cloud.md#cloud-segments)."""

ROLLOVER_SECONDS: dict[str, int] = {"2h": 2 * 3600, "3h": 3 * 3600}
"""A new MP4 part starts after this duration, by profile ``mp4_rollover``
(docs/cloud.md#cloud-segments)."""

SAMPLE_RATE = 48000
"""Audio sample rate of the recorded AAC track, Hz (also the rate sound is mixed at)."""
