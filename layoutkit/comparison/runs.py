"""Stage 5, runs: each region's frames joined into a track; mismatching frames into runs.

A run is a stretch of consecutive mismatching frames of one region (gaps up to 2.5 frames
joined; one matching frame between two mismatching ones with the same labels, e.g. a test
stream's flash frame, does not break it).  A run's observed and expected labels are the
most common in it; its :class:`Part` items say what was really seen, in time order
(:func:`run_parts`: parts of :data:`FOLDED_FRAMES` frames or fewer, coding glitches and
flash frames, are folded into their neighbours); its representative frame is the darkest
near its middle (never a flash).  :func:`observed_intervals` gives the per-region intervals
of the report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from .._typing import F64
from .classify import RegionObservation
from .expect import Expectation, Label
from .model import Interval

__all__ = [
    "FOLDED_FRAMES",
    "Change",
    "Part",
    "Run",
    "Runs",
    "Track",
    "TrackKey",
    "build_tracks",
    "find_runs",
    "observed_intervals",
    "run_parts",
]

#: A region across periods: (paint index, rect).
TrackKey = tuple[int, tuple[int, int, int, int]]
#: A stretch of a run this many frames long or shorter is folded into its neighbours.
FOLDED_FRAMES = 2


@dataclass(frozen=True)
class Change:
    """The expected label of a region changes at scenario time ``t``.

    ``before`` None: the region appears.
    """

    t: float
    before: Label | None
    after: Label


@dataclass(frozen=True)
class Track:
    """One region's frames over the whole recording (scenario times, in order)."""

    key: TrackKey
    t: F64
    match: npt.NDArray[np.bool_]
    labels: tuple[Label, ...]  # observed
    expected: tuple[Label, ...]
    frames: npt.NDArray[np.intp]  # indices into the observations
    changes: tuple[Change, ...] = ()

    def follows(self, i: int, limit: float) -> bool:
        """Frame ``i + 1`` exists, matches and comes at most ``limit`` s after frame ``i``."""
        return i + 1 < len(self.t) and bool(self.match[i + 1]) and \
            self.t[i + 1] - self.t[i] <= limit

    def same_labels(self, i: int, j: int) -> bool:
        """Frames ``i`` and ``j`` saw and expected the same."""
        return self.labels[i] == self.labels[j] and self.expected[i] == self.expected[j]


@dataclass(frozen=True)
class Part:
    """A stretch of a run that showed one label, scenario times ``t0..t1``."""

    label: Label
    t0: float
    t1: float

    def to_json(self) -> dict[str, str | float | None]:
        """``{"uid", "state", "from", "until"}`` (times in seconds, 3 decimals).

        >>> Part(("22", "live"), 2.0, 4.0).to_json()
        {'uid': '22', 'state': 'live', 'from': 2.0, 'until': 4.0}
        """
        return {"uid": self.label[0], "state": str(self.label[1]), "from": round(self.t0, 3),
                "until": round(self.t1, 3)}


@dataclass(frozen=True)
class Run:
    """Consecutive mismatching frames ``i0..i1`` of a track (scenario times ``t0..t1``)."""

    track: TrackKey
    i0: int
    i1: int
    t0: float
    t1: float
    observed: Label
    expected: Label
    frame: int  # observation index of a representative frame
    region: int
    uid: str | None
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True)
class Runs:
    """Every track and every run of mismatching frames."""

    tracks: Mapping[TrackKey, Track]
    runs: tuple[Run, ...]


def build_tracks(observations: Sequence[RegionObservation],
                 exp: Expectation) -> dict[TrackKey, Track]:
    """Join the region observations of each region (in period order) into tracks."""
    parts: dict[TrackKey, list[RegionObservation]] = {}
    for ro in observations:
        parts.setdefault((ro.expect.index, ro.expect.rect), []).append(ro)
    out: dict[TrackKey, Track] = {}
    for key, ros in parts.items():
        changes: list[Change] = []
        prev: Label | None = None
        expected: list[Label] = []
        labels: list[Label] = []
        for ro in ros:
            if prev != ro.expect.label:
                changes.append(Change(exp.periods[ro.period].start, prev, ro.expect.label))
            prev = ro.expect.label
            labels.extend(ro.labels)
            expected.extend([ro.expect.label] * len(ro.t))
        out[key] = Track(key, np.concatenate([ro.t for ro in ros]).astype(np.float64),
                         np.concatenate([ro.match for ro in ros]).astype(bool),
                         tuple(labels), tuple(expected),
                         np.concatenate([ro.frames for ro in ros]).astype(np.intp),
                         tuple(changes))
    return out


def _run_end(track: Track, i: int, step: float) -> int:
    """Find the last frame of the run that starts at mismatching frame ``i``."""
    t, match = track.t, track.match
    n = len(t)
    j = i
    while j + 1 < n and t[j + 1] - t[j] <= 2.5 * step:
        if not match[j + 1]:
            j += 1
            continue
        # one matching frame inside a mismatching run (same labels on both sides) is a
        # glitch, e.g. a test stream's flash frame, accepted for any user's look
        k = j + 2
        if k < n and not match[k] and t[k] - t[j + 1] <= 2.5 * step and \
                track.same_labels(j, k):
            j += 1
            continue
        break
    return j


def _stretches(labels: Sequence[Label]) -> list[tuple[Label, int, int]]:
    """Split labels into stretches of equal labels: ``(label, first, last)`` each.

    Stretches of :data:`FOLDED_FRAMES` frames or fewer belong to the one before (the first
    ones to the one after); equal neighbours are joined.
    """
    raw: list[tuple[Label, int, int]] = []
    for k, label in enumerate(labels):
        if raw and raw[-1][0] == label:
            raw[-1] = (label, raw[-1][1], k)
        else:
            raw.append((label, k, k))
    joined: list[tuple[Label, int]] = []  # (label, first frame)
    for label, first, last in raw:
        if last - first + 1 > FOLDED_FRAMES and (not joined or joined[-1][0] != label):
            joined.append((label, first))
    if not joined:
        return [(Counter(labels).most_common(1)[0][0], 0, len(labels) - 1)]
    starts = [0] + [first for _, first in joined[1:]]
    ends = [first - 1 for first in starts[1:]] + [len(labels) - 1]
    return [(label, a, b) for (label, _), a, b in zip(joined, starts, ends, strict=True)]


def run_parts(labels: Sequence[Label], t: Sequence[float], step: float) -> tuple[Part, ...]:
    """Say what a run showed, in time order: one :class:`Part` per stretch of one label.

    Parts of :data:`FOLDED_FRAMES` frames or fewer are folded into their neighbours.

    >>> black, b = (None, "black"), ("22", "live")
    >>> [p.label for p in run_parts([black] * 4 + [b] + [black] * 3 + [b] * 5,
    ...                             [k / 10 for k in range(13)], 0.1)]
    [(None, 'black'), ('22', 'live')]
    >>> run_parts([black] * 3 + [b] * 3, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5], 0.1)[1]
    Part(label=('22', 'live'), t0=0.3, t1=0.6)
    """
    stretches = _stretches(labels)
    ends = [float(t[first]) for _, first, _ in stretches[1:]] + [float(t[-1]) + step]
    return tuple(Part(label, float(t[first]), end)
                 for (label, first, _), end in zip(stretches, ends, strict=True))


def _run(track: Track, i: int, j: int, step: float, brightness: F64) -> Run:
    observed = Counter(track.labels[i:j + 1]).most_common(1)[0][0]
    expected = Counter(track.expected[i:j + 1]).most_common(1)[0][0]
    # the representative frame: near the middle, not a test stream's flash
    mid = (i + j) // 2
    near = [int(track.frames[k]) for k in range(max(i, mid - 3), min(j, mid + 3) + 1)]
    frame = min(near, key=lambda f: brightness[f])
    key = track.key
    parts = run_parts(track.labels[i:j + 1], track.t[i:j + 1].tolist(), step)
    return Run(key, i, j, float(track.t[i]), float(track.t[j] + step), observed, expected,
               frame, key[0], expected[0] or observed[0], parts)


def find_runs(observations: Sequence[RegionObservation], exp: Expectation,
              brightness: F64, *, step: float) -> Runs:
    """Tracks and runs of mismatching frames (stage 5).

    Parameters
    ----------
    observations : sequence of RegionObservation
        The classify stage's regions.
    exp : Expectation
        The expectation they were classified against (period starts).
    brightness : ndarray (n,)
        Each frame's mean canvas luma (the representative frame avoids flashes).
    step : float
        One frame, in seconds.
    """
    tracks = build_tracks(observations, exp)
    runs: list[Run] = []
    for track in tracks.values():
        after = 0  # the first frame not yet in a run
        for i in np.flatnonzero(~track.match).tolist():
            if i < after:
                continue
            j = _run_end(track, i, step)
            runs.append(_run(track, i, j, step, brightness))
            after = j + 1
    return Runs(tracks, tuple(runs))


def observed_intervals(track: Track, step: float) -> list[Interval]:
    """Return the track's observed labels as intervals (gaps up to 1.5 frames joined)."""
    out: list[Interval] = []
    t = track.t.tolist()  # Python floats: the same sums, without numpy scalars
    for i, label in enumerate(track.labels):
        if out and out[-1].who == label[0] and out[-1].state == label[1] and \
                t[i] - out[-1].end <= 1.5 * step:
            out[-1] = replace(out[-1], end=float(t[i] + step))
        else:
            out.append(Interval(float(t[i]), float(t[i] + step), label[0], label[1]))
    return out
