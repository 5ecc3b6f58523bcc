"""Check stage, A/V: the test streams' flash frames against the beeps in the sound.

A flash frame is one whose code was read, as the expected user's, live and matching, at
frame 0 of a second (an unread code's frame number is 0 too: it is no flash).  The offset
is measured by :func:`~layoutkit.comparison.avsync.av_offset` against
:func:`~layoutkit.comparison.avsync.beep_onsets` (positive = sound ahead, ITU-R BT.1359).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..io.frames import AudioChunk
from .avsync import av_offset, beep_onsets
from .classify import RegionObservation
from .findings import Finding
from .frames import Observed
from .model import Difference

__all__ = ["AVSync", "av_findings", "flash_times", "measure_av"]


@dataclass(frozen=True)
class AVSync:
    """What the sound showed: beeps found, and the offset over ``flashes`` flashes (None:
    no flash had a beep near it)."""

    beeps: int
    offset_s: float | None = None
    flashes: int = 0


def flash_times(observed: Observed, regions: Sequence[RegionObservation], *,
                fps: int) -> npt.NDArray[np.float64]:
    """Recording times of the test streams' flash frames (sorted, each once)."""
    uid_of = {u: i for i, u in enumerate(observed.uid_names)}
    flashes = []
    for ro in regions:
        key = ro.expect.code_key
        if ro.expect.kind != "code_live" or key is None:
            continue
        f = observed.code_frames[ro.frames, key]
        who = uid_of.get(ro.expect.label[0] or "", -2)
        read = observed.code_uids[ro.frames, key] == who
        hit = ro.match & read & (f % fps == 0)
        flashes.append(observed.times[ro.frames[hit]])
    return np.unique(np.concatenate(flashes)) if flashes else np.zeros(0)


def measure_av(observed: Observed, regions: Sequence[RegionObservation],
               audio: Iterable[AudioChunk], *, fps: int) -> AVSync:
    """Beeps in ``audio`` (same clock as the frames) against the flash frames."""
    flashes = flash_times(observed, regions, fps=fps)
    beeps = beep_onsets(audio, origin=observed.origin)
    found = av_offset(flashes, beeps)
    if found is None:
        return AVSync(int(beeps.size))
    return AVSync(int(beeps.size), found[0], found[1])


def av_findings(sync: AVSync, *, tolerance_s: tuple[float, float]) -> tuple[Finding, ...]:
    """An ``av_offset`` difference when the offset is beyond the tolerance (a check stage).

    >>> av_findings(AVSync(8, 0.02, 8), tolerance_s=(0.045, -0.125))
    ()
    >>> print(av_findings(AVSync(8, -0.3, 8), tolerance_s=(0.045, -0.125))[0].difference.message)
    sound is 300 ms behind the picture (tolerance +45 / -125 ms, positive = sound ahead; 8 flashes)
    """
    av = sync.offset_s
    ahead, behind = tolerance_s
    if av is None or behind <= av <= ahead:
        return ()
    side = "ahead of" if av > 0 else "behind"
    return (Finding(Difference(
        "av_offset",
        f"sound is {abs(av) * 1000:.0f} ms {side} the picture (tolerance "
        f"+{ahead * 1000:.0f} / {behind * 1000:.0f} ms, positive = sound ahead; "
        f"{sync.flashes} flashes)", expected=[ahead, behind], observed=round(av, 4))),)
