"""Where the scenario's t = 0 lies in the recording (``offset_s``), and frame drift.

Two ways, both on the compact observations of :mod:`layoutkit.comparison.observe`:

* **codes** (:func:`offset_from_codes`): every test-stream code read at recording time
  ``r`` with uid ``u`` and frame number ``F`` votes for ``offset = r - (join_u + F / fps)``
  (the frame number counts frames since the user first joined, modulo 4096, so the vote is
  taken modulo ``4096 / fps`` nearest to 0).  ``fps`` is the publisher's rate: each uid's
  own when ``rates`` gives one (:func:`~layoutkit.comparison.rates.publisher_rates`), else
  the canvas rate.  The most common vote wins (frozen codes vote
  elsewhere and lose); the result is the median of the votes within 1.5 frames of it.
* **pictures** (:func:`offset_from_pictures`), when no code is readable (colour or file
  sources): the whole-canvas 8 x 8 descriptor of each recorded frame against the expected
  canvas of each period; the offset minimising the mean distance over the overlap wins.
  The times where the picture changes are what pin it; a scenario whose picture never
  changes cannot be aligned and gives 0 (the recording is assumed to start at t = 0).
  With a single change, a change that comes late is indistinguishable from a recording
  that starts early: the offset absorbs it (test streams do not have this limit).
* :func:`local_offsets` follows content that jumps against the clock (frames lost or
  repeated without a gap in the timestamps) frame by frame.

Recording times are seconds from the first decoded frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from .expect import Expectation

__all__ = ["offset_from_codes", "offset_from_pictures", "CODE_PERIOD_FRAMES"]

#: The frame number in a code wraps at this.
CODE_PERIOD_FRAMES = 4096

F64 = npt.NDArray[np.float64]


def _uid_rates(uid_names: Sequence[str], rates: Mapping[str, float] | None,
               fps: float) -> F64:
    """Per uid index (plus one for "unread"): the publisher's rate, the canvas ``fps`` by default."""
    rates = rates or {}
    return np.array([rates.get(u, fps) for u in uid_names] + [fps], dtype=np.float64)


def offset_from_codes(times: F64, code_uids: npt.NDArray[np.int32],
                      code_frames: npt.NDArray[np.int32], uid_names: Sequence[str], *,
                      joins: Mapping[str, float], fps: int,
                      min_votes: int = 3,
                      rates: Mapping[str, float] | None = None) -> tuple[float, int] | None:
    """The offset voted by the test-stream codes, and how many votes agreed.

    Parameters
    ----------
    times : ndarray (n,)
        Recording time of each frame (seconds from the first frame).
    code_uids, code_frames : ndarray (n, k)
        Per frame and code key: uid index into ``uid_names`` (-1 unread) and frame number.
    uid_names : sequence of str
    joins : mapping
        uid -> first join time (scenario seconds); uids not in it do not vote.
    fps : int
        The canvas rate (the vote's resolution, and every uid's rate by default).
    rates : mapping, optional
        uid -> the rate its frame numbers advance at (its publisher's).

    Returns
    -------
    (offset_s, votes) or None
        None with fewer than ``min_votes`` agreeing votes.
    """
    rows, cols = np.nonzero(code_uids >= 0)
    if rows.size == 0:
        return None
    join_of = np.array([joins.get(u, np.nan) for u in uid_names], dtype=np.float64)
    join = join_of[code_uids[rows, cols]]
    keep = ~np.isnan(join)
    rows, cols, join = rows[keep], cols[keep], join[keep]
    if rows.size < min_votes:
        return None
    rate = _uid_rates(uid_names, rates, fps)[code_uids[rows, cols]]
    period = CODE_PERIOD_FRAMES / rate
    raw = times[rows] - (join + code_frames[rows, cols] / rate)
    votes = raw - np.round(raw / period) * period
    bins = np.round(votes * fps * 2).astype(np.int64)
    values, counts = np.unique(bins, return_counts=True)
    best = values[np.argmax(counts)] / (2 * fps)
    near = votes[np.abs(votes - best) <= 1.5 / fps]
    if near.size < min_votes:
        return None
    return float(np.median(near)), int(near.size)


def _period_index(exp: Expectation, t: F64) -> npt.NDArray[np.intp]:
    return np.searchsorted(exp.starts, t, side="right") - 1


def offset_from_pictures(exp: Expectation, times: F64, canvas_cells: npt.NDArray[np.uint8], *,
                         max_evaluations: float = 3e7) -> float:
    """The offset that best lines the recorded canvases up with the expected periods.

    Parameters
    ----------
    exp : Expectation
    times : ndarray (n,)
        Recording time of each frame.
    canvas_cells : ndarray (n, 64, 3)
        The whole-canvas descriptor of each frame.

    Returns
    -------
    float
        ``offset_s``; 0 when the scenario's picture never changes (nothing to pin it).
    """
    n = len(times)
    if n == 0 or not exp.periods:
        return 0.0
    fps = exp.fps
    expected = np.stack([p.canvas_desc for p in exp.periods]).astype(np.float32)  # (P, 64, 3)
    obs = canvas_cells.astype(np.float32)
    dist = np.abs(obs[:, None] - expected[None]).mean(axis=(2, 3))  # (n, P)
    if dist.shape[1] == 1 or np.ptp(dist, axis=1).max() < 1.0:
        return 0.0
    lo, hi = -exp.end, float(times[-1])
    steps = int((hi - lo) * fps) + 1
    stride = max(1, int(np.ceil(steps * n / max_evaluations)))
    need = 0.3 * min(n, exp.end * fps)
    rows = np.arange(n)

    def score(offset: float) -> float:
        t = times - offset
        ok = (t >= 0) & (t < exp.end)
        if ok.sum() < need:
            return np.inf
        p = _period_index(exp, t[ok])
        return float(dist[rows[ok], p].mean()) + 1e-4 * abs(offset)

    grid = lo + np.arange(0, steps, stride) / fps
    scores = np.array([score(o) for o in grid])
    best = float(grid[int(np.argmin(scores))])
    if stride > 1:
        fine = best + np.arange(-stride, stride + 1) / fps
        scores = np.array([score(o) for o in fine])
        best = float(fine[int(np.argmin(scores))])
    # sub-frame: the recorded frames sit on the recording's clock; keep the frame grid
    return best if np.isfinite(score(best)) else 0.0


def local_offsets(times: F64, code_uids: npt.NDArray[np.int32], code_frames: npt.NDArray[np.int32],
                  uid_names: Sequence[str], *, joins: Mapping[str, float], fps: int,
                  offset: float, settle_frames: int = 15,
                  rates: Mapping[str, float] | None = None) -> tuple[F64, int, int]:
    """Per-frame offset: ``offset`` until the codes agree on another one for a while.

    A recording that loses (or repeats) frames without a gap in its timestamps shifts its
    content against its clock: from then on the codes vote for another offset.  A new offset
    is taken when the frames' votes agree on it (within half a frame) for ``settle_frames``
    consecutive frames (a frozen code's vote moves every frame, so it never settles).

    ``rates`` (uid -> publisher rate) as in :func:`offset_from_codes`; offsets are kept on
    the canvas rate's grid.

    Returns
    -------
    (offsets, dropped, repeated)
        Offsets per frame, and the frames lost / repeated at the jumps.
    """
    n = len(times)
    out = np.full(n, offset, dtype=np.float64)
    if n == 0:
        return out, 0, 0
    join_of = np.array([joins.get(u, np.nan) for u in uid_names] + [np.nan], dtype=np.float64)
    idx = np.where(code_uids >= 0, code_uids, len(uid_names))
    rate = _uid_rates(uid_names, rates, fps)[idx]
    period = CODE_PERIOD_FRAMES / rate
    raw = times[:, None] - (join_of[idx] + code_frames / rate)
    votes = raw - np.round((raw - offset) / period) * period  # nearest to the offset
    per_frame = np.full(n, np.nan)
    for f in range(n):
        v = votes[f][~np.isnan(votes[f])]
        if v.size == 0:
            continue
        bins = np.round(v * fps).astype(np.int64)
        values, counts = np.unique(bins, return_counts=True)
        top = values[counts == counts.max()]
        per_frame[f] = top[np.argmin(np.abs(top / fps - offset))] / fps
    half = 0.5 / fps
    cur = offset
    known = per_frame[~np.isnan(per_frame)]
    for start in range(max(0, known.size - settle_frames + 1)):  # the first settled value
        window = known[start:start + settle_frames]
        if np.all(np.abs(window - window[0]) <= half):
            cur = float(window[0])
            break
    dropped = repeated = 0
    f = 0
    while f < n:
        v = per_frame[f]
        if np.isnan(v) or abs(v - cur) <= half:
            out[f] = cur
            f += 1
            continue
        g = f
        while g + 1 < n and (np.isnan(per_frame[g + 1]) or abs(per_frame[g + 1] - v) <= half):
            g += 1
        voted = int(np.sum(~np.isnan(per_frame[f:g + 1])))
        if voted >= settle_frames or (g == n - 1 and voted >= 5 and f > 0):
            jump = int(round((v - cur) * fps))
            if jump < 0:
                dropped += -jump
            else:
                repeated += jump
            cur = float(v)
            out[f:g + 1] = cur
        else:
            out[f:g + 1] = cur
        f = g + 1
    return out, dropped, repeated
