"""Check stage, A/V: the test streams' flashes against the beeps in the sound.

A flash is dated from the frames whose code was read, as the expected user's, live and
matching, at (or just after) frame 0 of a second, at that publisher's own rate
(:func:`~layoutkit.comparison.rates.flashes_at_rate`; an unread code's frame number is 0
too: it is no flash).  :func:`~layoutkit.comparison.avsync.check_av` pairs each flash with
the numbered beep of the same second (modulo 1 s for plain beeps), only while the
scenario mixes that user's sound (:func:`~layoutkit.comparison.avsync.heard_spans`), and
reports ``av_offset`` (positive = sound ahead, ITU-R BT.1359) or ``no_beep``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from .alignment import Alignment
from .avsync import AvCheck, Flashes, Sound, check_av, heard_spans
from .classify import RegionObservation
from .findings import Finding
from .frames import Observed
from .plan import Plan
from .rates import flashes_at_rate

__all__ = ["av_findings", "flashes_of", "measure_av"]


def _flash_part(observed: Observed, ro: RegionObservation, rates: Mapping[str, float],
                fps: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], str]:
    """One live region's flashes: times, the second each starts, and whose they are."""
    key = ro.expect.code_key
    assert key is not None
    uid = ro.expect.label[0] or ""
    who = observed.uid_names.index(uid) if uid in observed.uid_names else -2
    frames = observed.code_frames[ro.frames, key]
    hit = ro.match & (observed.code_uids[ro.frames, key] == who)
    t, second = flashes_at_rate(observed.times[ro.frames[hit]], frames[hit], fps=fps,
                                rate=rates.get(uid, fps))
    return t, second, uid


def flashes_of(observed: Observed, regions: Sequence[RegionObservation],
               rates: Mapping[str, float], *, fps: int) -> Flashes:
    """Return the test streams' flashes (recording times, seconds, uids).

    Each publisher's frames are counted at its own rate (``rates``, the canvas ``fps`` by
    default).
    """
    return Flashes.of(_flash_part(observed, ro, rates, fps) for ro in regions
                      if ro.expect.kind == "code_live" and ro.expect.code_key is not None)


def measure_av(plan: Plan, observed: Observed, regions: Sequence[RegionObservation],
               alignment: Alignment, *, audio: Sound,
               tolerance_s: tuple[float, float]) -> AvCheck:
    """Check A/V sync of ``audio`` (same clock as the frames): its facts and differences."""
    flashes = flashes_of(observed, regions, alignment.rates, fps=plan.expectation.fps)
    return check_av(flashes, audio, origin=observed.origin, offset=alignment.offset,
                    tolerance=tolerance_s, spans=heard_spans(plan.scenario, profile=plan.profile))


def av_findings(av: AvCheck) -> tuple[Finding, ...]:
    """Return the A/V check's differences as findings (no frame to show: no anchor)."""
    return tuple(Finding(d) for d in av.differences)
