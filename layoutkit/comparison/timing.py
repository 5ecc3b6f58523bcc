"""Check stage, frame timing: drift, dropped and duplicated frames.

* **drift**: the live codes' deviation from their expected frame numbers, median of the
  last tenth minus median of the first tenth (frames in order), when at least 10 are read;
  reported beyond twice the live tolerance;
* **dropped**: frames missing from gaps in the timestamps (a gap over 1.5 frames) plus
  those lost at the content's jumps (:class:`~layoutkit.comparison.alignment.Alignment`);
* **duplicated**: frames whose every matched live code repeats the previous frame's (a
  publisher slower than the canvas repeats its frames by itself: its codes are not
  counted, :attr:`~layoutkit.comparison.alignment.Alignment.rates`), plus those repeated at
  the jumps.  Dropped plus duplicated are reported beyond
  :func:`frame_loss_allowed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .alignment import Alignment
from .classify import RegionObservation
from .findings import Finding
from .frames import Observed
from .model import Difference

__all__ = [
    "FrameTiming",
    "drift_frames",
    "dropped_frames",
    "duplicated_frames",
    "frame_loss_allowed",
    "measure_timing",
    "timing_findings",
]


@dataclass(frozen=True)
class FrameTiming:
    """Drift (frames over the recording), dropped and duplicated frames."""

    drift: float
    dropped: int
    duplicated: int


def frame_loss_allowed(frames: int) -> float:
    """Return the dropped plus repeated frames tolerated before ``dropped_frames`` is reported.

    >>> frame_loss_allowed(120), frame_loss_allowed(9000)
    (3, 90.0)
    """
    return max(3, 0.01 * frames)


def _live(regions: Sequence[RegionObservation]) -> list[RegionObservation]:
    return [ro for ro in regions if ro.expect.kind == "code_live"]


def drift_frames(regions: Sequence[RegionObservation]) -> float:
    """How far the live codes' deviation moves from the first to the last tenth.

    >>> import numpy as np
    >>> from layoutkit.comparison.classify import RegionObservation
    >>> from layoutkit.comparison.expect import RegionExpect
    >>> reg = RegionExpect(0, (0, 0, 8, 8), 1, ("1", "live"), "code_live", 0, code_key=0)
    >>> dev = np.repeat([0.0, 3.0], 10)  # the codes fall 3 frames behind half-way
    >>> ro = RegionObservation(0, reg, np.arange(20), np.zeros(20), np.ones(20, bool),
    ...                        (), dev, np.zeros(20))
    >>> drift_frames([ro])
    3.0
    """
    devs = [(ro.frames, ro.deviation) for ro in _live(regions)]
    if not devs:
        return 0.0
    fr = np.concatenate([f for f, _ in devs])
    dv = np.concatenate([d for _, d in devs])
    ok = ~np.isnan(dv) & (np.abs(dv) < 64)
    if ok.sum() < 10:
        return 0.0
    series = dv[ok][np.argsort(fr[ok])]
    tenth = max(1, series.size // 10)
    return float(np.median(series[-tenth:]) - np.median(series[:tenth]))


def _at_canvas_rate(ro: RegionObservation, rates: Mapping[str, float], fps: int) -> bool:
    """Tell whether the region's publisher sends at least the canvas rate.

    Then a repeated frame is the mix's.
    """
    return rates.get(ro.expect.label[0] or "", fps) >= fps * 0.99


def duplicated_frames(regions: Sequence[RegionObservation], code_uids: npt.NDArray[np.int32],
                      code_frames: npt.NDArray[np.int32], *, rates: Mapping[str, float],
                      fps: int) -> int:
    """Count the frames whose matched live codes (same keys) all repeat the previous frame's.

    Codes of a publisher slower than the canvas (``rates``) are left out.
    """
    live_keys: dict[int, list[tuple[int, int]]] = {}
    for ro in _live(regions):
        key = ro.expect.code_key
        if key is None or not _at_canvas_rate(ro, rates, fps):
            continue
        read = code_uids[ro.frames, key] >= 0
        for f in ro.frames[ro.match & read]:
            live_keys.setdefault(int(f), []).append((key, int(code_frames[f, key])))
    duplicated = 0
    for f, items in live_keys.items():
        prev = live_keys.get(f - 1)
        if prev and {k for k, _ in prev} == {k for k, _ in items} and dict(prev) == dict(items):
            duplicated += 1
    return duplicated


def dropped_frames(times: npt.NDArray[np.float64], step: float) -> int:
    """Frames missing from the gaps in the timestamps.

    >>> import numpy as np
    >>> dropped_frames(np.array([0.0, 0.1, 0.4, 0.5]), 0.1)
    2
    """
    gaps = np.diff(times)
    if not gaps.size:
        return 0
    return int(np.maximum(0, np.round(gaps[gaps > 1.5 * step] / step) - 1).sum())


def measure_timing(observed: Observed, regions: Sequence[RegionObservation],
                   alignment: Alignment, *, fps: int) -> FrameTiming:
    """Drift, dropped and duplicated frames of the recording (``fps``: the canvas's)."""
    drift = drift_frames(regions)
    duplicated = 0
    if _live(regions):
        duplicated = duplicated_frames(regions, observed.code_uids, observed.code_frames,
                                       rates=alignment.rates, fps=fps)
    dropped = dropped_frames(observed.times, 1.0 / fps) + alignment.dropped
    return FrameTiming(drift, dropped, duplicated + alignment.repeated)


def timing_findings(timing: FrameTiming, frames: int, *, tol: int) -> tuple[Finding, ...]:
    """``dropped_frames`` and ``drift`` differences (a check stage).

    >>> [f.difference.kind for f in timing_findings(FrameTiming(7.0, 4, 0), 120, tol=2)]
    ['dropped_frames', 'drift']
    """
    out: list[Finding] = []
    dropped, duplicated = timing.dropped, timing.duplicated
    if dropped + duplicated > frame_loss_allowed(frames):
        out.append(Finding(Difference(
            "dropped_frames",
            f"{dropped} frames missing and {duplicated} repeated out of {frames}",
            expected=0, observed={"dropped": dropped, "duplicated": duplicated})))
    if abs(timing.drift) > 2 * tol:
        out.append(Finding(Difference(
            "drift", f"the test streams' frame numbers drift by {timing.drift:+.1f} frames "
            "over the recording", expected=0, observed=timing.drift)))
    return tuple(out)
