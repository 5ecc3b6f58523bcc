"""Where the scenario's t = 0 lies in the recording (``offset_s``), and frame drift.

:func:`align_recording` takes the first method that can say, and reports it with a
confidence (:class:`Alignment`; the ``alignment`` of compare's JSON, text and report):

* **codes** (:func:`offset_from_codes`, :func:`code_fit`): every test-stream code read at
  recording time ``r`` with uid ``u`` and frame number ``F`` votes for
  ``offset = r - (join_u + F / fps)`` (the frame number counts frames since the user first
  joined, modulo 4096, so the vote is taken modulo ``4096 / fps`` nearest to the
  recording's clock, else to 0).  ``fps`` is the publisher's rate: each uid's own when
  ``rates`` gives one (:func:`~layoutkit.comparison.rates.publisher_rates`), else the canvas
  rate.  The most common vote wins (frozen codes vote elsewhere and lose); the result is the
  median of the votes within 1.5 frames of it, its confidence their spread.  Codes are the
  per-frame truth of what the publishers sent: they align whenever they are readable, and
  the clock only picks the wrap and is reported beside them.
* **clock** (:mod:`~layoutkit.comparison.clock`): without readable codes, the recording's
  own clock (TS names, the playlist's ``TIME``, the stop response's ``sliceStartTime``)
  against the scenario's ``start_utc``.  Live content cannot pull it.  The pictures are
  fitted too, only to say whether they agree (a decisive fit more than
  :data:`CLOCK_AGREE_S` away lowers the confidence and is named; it never moves the offset).
  A clock that puts the whole scenario outside the recording (a ``start_utc`` left at its
  default) is not used.
* **pictures** (:func:`fit_pictures`), with no code and no clock: the whole-canvas 8 x 8
  descriptor of each recorded frame against the expected canvas of each period, each cell
  weighted by :func:`still_weights` (still regions 1, live video files and test streams
  :data:`LIVE_WEIGHT`: a camera-like picture resembles another moment as often as not); a
  frame the scenario does not cover at an offset counts as an ordinary mismatch; the offset
  minimising the mean distance wins, its confidence the margin to the best rival
  :data:`RIVAL_S` or more away.  The times where the still picture changes are what pin it;
  a scenario whose picture never changes cannot be aligned and gives 0 (the recording is
  assumed to start at t = 0, confidence ``none``).  With a single change, a change that
  comes late is indistinguishable from a recording that starts early: the offset absorbs it
  (test streams do not have this limit).
* :func:`local_offsets` follows content that jumps against the clock (frames lost or
  repeated without a gap in the timestamps) frame by frame.

Recording times are seconds from the first decoded frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._typing import F64
from ..timeline import DisplayState
from .expect import Expectation, RegionExpect

if TYPE_CHECKING:
    from .clock import RecordingClock

__all__ = [
    "CLOCK_AGREE_S",
    "CLOCK_SPREAD_S",
    "CODE_PERIOD_FRAMES",
    "LIVE_WEIGHT",
    "MARGIN_HIGH",
    "METHODS",
    "RIVAL_S",
    "Alignment",
    "CodeFit",
    "CodeInputs",
    "PictureFit",
    "align_recording",
    "clock_plausible",
    "code_fit",
    "fit_pictures",
    "offset_from_codes",
    "offset_from_pictures",
    "still_weights",
]

#: The frame number in a code wraps at this.
CODE_PERIOD_FRAMES = 4096


@dataclass(frozen=True)
class CodeInputs:
    """What the codes' vote needs besides the frame times (see :func:`offset_from_codes`).

    Attributes
    ----------
    code_uids, code_frames : ndarray (n, k)
        Per frame and code key: uid index into ``uid_names`` (-1 unread) and frame number.
    uid_names : tuple of str
    joins : mapping
        uid -> first join time (scenario seconds); uids not in it do not vote.
    fps : int
        The canvas rate (the vote's resolution, and every uid's rate by default).
    rates : mapping, optional
        uid -> the rate its frame numbers advance at (its publisher's).
    """

    code_uids: npt.NDArray[np.int32]
    code_frames: npt.NDArray[np.int32]
    uid_names: tuple[str, ...]
    joins: Mapping[str, float]
    fps: int
    rates: Mapping[str, float] | None = None


def _uid_rates(uid_names: Sequence[str], rates: Mapping[str, float] | None,
               fps: float) -> F64:
    """Return each uid index's publisher rate (canvas ``fps`` by default), plus one for "unread"."""
    rates = rates or {}
    return np.array([rates.get(u, fps) for u in uid_names] + [fps], dtype=np.float64)


def _code_votes(times: F64, codes: CodeInputs, *, near: float) -> F64:
    """Every read code's vote for the offset, wrapped to the code period nearest ``near``."""
    code_uids, code_frames, uid_names = codes.code_uids, codes.code_frames, codes.uid_names
    joins = codes.joins
    rows, cols = np.nonzero(code_uids >= 0)
    if rows.size == 0:
        return np.zeros(0)
    join_of = np.array([joins.get(u, np.nan) for u in uid_names], dtype=np.float64)
    join = join_of[code_uids[rows, cols]]
    keep = ~np.isnan(join)
    rows, cols, join = rows[keep], cols[keep], join[keep]
    rate = _uid_rates(uid_names, codes.rates, codes.fps)[code_uids[rows, cols]]
    period = CODE_PERIOD_FRAMES / rate
    raw = times[rows] - (join + code_frames[rows, cols] / rate)
    return np.asarray(raw - np.round((raw - near) / period) * period, dtype=np.float64)


def _agreeing_votes(votes: F64, fps: int) -> F64:
    """Keep the votes within 1.5 frames of the most common one."""
    if votes.size == 0:
        return votes
    bins = np.round(votes * fps * 2).astype(np.int64)
    values, counts = np.unique(bins, return_counts=True)
    best = values[np.argmax(counts)] / (2 * fps)
    return np.asarray(votes[np.abs(votes - best) <= 1.5 / fps], dtype=np.float64)


def offset_from_codes(times: F64, codes: CodeInputs, *, min_votes: int = 3,
                      near: float = 0.0) -> tuple[float, int] | None:
    """Return the offset voted by the test-stream codes, and how many votes agreed.

    Parameters
    ----------
    times : ndarray (n,)
        Recording time of each frame (seconds from the first frame).
    codes : CodeInputs
        The codes read (uid index and frame number per frame and code key), the users'
        joins, the canvas rate and each publisher's rate.
    min_votes : int
        Fewest agreeing votes for an offset.
    near : float
        The frame number wraps every ``4096 / rate`` seconds: each vote is taken in the
        wrap nearest this offset (the recording's clock when it has one, else 0).

    Returns
    -------
    (offset_s, votes) or None
        None with fewer than ``min_votes`` agreeing votes.
    """
    found = code_fit(times, codes, min_votes=min_votes, near=near)
    return None if found is None else (found.offset_s, found.votes)


@dataclass(frozen=True)
class CodeFit:
    """The codes' offset, how many per-frame votes agree with it and how widely they spread.

    ``spread_s`` is the interquartile range of the agreeing votes (0 when every read code
    says the same offset; about a frame for a publisher slower than the canvas).
    """

    offset_s: float
    votes: int
    spread_s: float


def code_fit(times: F64, codes: CodeInputs, *, min_votes: int = 3,
             near: float = 0.0) -> CodeFit | None:
    """:func:`offset_from_codes` with the spread of the agreeing votes (its confidence).

    Examples
    --------
    >>> times = np.arange(6) / 15
    >>> uids = np.zeros((6, 1), np.int32)
    >>> frames = (np.arange(6) - 3).astype(np.int32)[:, None] % 4096   # t = 0 at frame 3
    >>> fit = code_fit(times, CodeInputs(uids, frames, ("7",), {"7": 0.0}, 15))
    >>> round(fit.offset_s, 3), fit.votes, fit.spread_s
    (0.2, 6, 0.0)
    """
    votes = _code_votes(times, codes, near=near)
    near_votes = _agreeing_votes(votes, codes.fps)
    if near_votes.size < min_votes:
        return None
    q1, q3 = np.percentile(near_votes, [25, 75])
    return CodeFit(float(np.median(near_votes)), int(near_votes.size),
                   round(float(q3 - q1), 6))


def _period_index(exp: Expectation, t: F64) -> npt.NDArray[np.intp]:
    return np.searchsorted(exp.starts, t, side="right") - 1


#: Regions whose expected picture moves within a period (a live video file, a live test
#: stream): their cells count this much against a still cell's 1 when aligning by pictures.
LIVE_WEIGHT = 0.05
#: Region kinds (:class:`~layoutkit.comparison.expect.RegionExpect`) whose live picture moves.
_MOVING_KINDS = ("unchecked", "file", "code_live", "look")
#: A rival alignment lies at least this far from the best one (seconds).
RIVAL_S = 0.5


def _moving(region: RegionExpect) -> bool:
    """Tell whether a region's picture moves or is not known (a real person, live or frozen)."""
    return region.kind == "person" or (region.label[1] == DisplayState.LIVE
                                        and region.kind in _MOVING_KINDS)


def still_weights(exp: Expectation, cell_rects: npt.NDArray[np.int32], factor: int, *,
                  live_weight: float = LIVE_WEIGHT) -> npt.NDArray[np.float32]:
    """Per period and canvas cell: how much the cell counts when aligning by pictures.

    A cell counts 1 where the expected picture is still during the period (the canvas,
    images, colour users, frozen tiles, placeholders) and ``live_weight`` where a region
    whose picture moves or is not known is drawn on top (a live video file or test stream,
    a real person's region whether live or frozen: a camera-like
    picture that resembles another moment as often as not); a cell partly covered counts
    in proportion.

    Parameters
    ----------
    exp : Expectation
    cell_rects : ndarray (c, 4)
        The canvas descriptor's cells ``x0, y0, x1, y1`` in small pixels
        (:meth:`~layoutkit.comparison.observe.FrameSampler.cell_rects`).
    factor : int
        Canvas pixels per small pixel.

    Returns
    -------
    ndarray (periods, c)

    Examples
    --------
    >>> from layoutkit.comparison.expect import Period, RegionExpect
    >>> from fractions import Fraction
    >>> live = RegionExpect(0, (0, 0, 40, 20), 0, ("1", "live"), "unchecked", 0)
    >>> still = RegionExpect(1, (0, 0, 20, 20), 0, ("2", "live"), "desc", 0)
    >>> period = Period(0.0, 1.0, Fraction(0), 1, (live, still), np.zeros((4, 3), np.float32))
    >>> exp = Expectation(None, (period,), 1.0, 15)
    >>> cells = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [10, 0, 20, 10], [20, 0, 40, 20]])
    >>> still_weights(exp, cells, 2, live_weight=0.0).round(2).tolist()
    [[1.0, 0.5, 0.0, 1.0]]
    """
    w = int(cell_rects[:, 2].max(initial=1)) if len(cell_rects) else 1
    h = int(cell_rects[:, 3].max(initial=1)) if len(cell_rects) else 1
    out = np.ones((len(exp.periods), len(cell_rects)), dtype=np.float32)
    for p, period in enumerate(exp.periods):
        moving = np.zeros((h, w), dtype=bool)
        for region in period.regions:  # in drawing order: a later region covers an earlier
            x, y, rw, rh = region.rect
            moving[y // factor:-(-(y + rh) // factor), x // factor:-(-(x + rw) // factor)] = \
                _moving(region)
        for c, (x0, y0, x1, y1) in enumerate(cell_rects):
            share = float(moving[y0:y1, x0:x1].mean()) if x1 > x0 and y1 > y0 else 0.0
            out[p, c] = 1.0 - (1.0 - live_weight) * share
    return out


@dataclass(frozen=True)
class PictureFit:
    """The offset that lines the recorded canvases up with the expected periods best.

    Attributes
    ----------
    offset_s : float
        The best offset (0 when nothing pins it).
    pinned : bool
        False when the scenario's picture never changes (or the recording barely
        overlaps it): then ``offset_s`` is 0, assumed.
    score : float
        The best offset's weighted mean descriptor distance.
    rival_offset_s, margin : float or None
        The best offset at least :data:`RIVAL_S` away, and how much worse it scores
        (the confidence: 0 when another alignment explains the pictures as well).
    weighted : bool
        Whether still regions were weighted above moving ones.
    grid, scores : ndarray
        Every offset tried and its score (``inf`` where the overlap is too short).
    """

    offset_s: float
    pinned: bool
    score: float = float("inf")
    rival_offset_s: float | None = None
    margin: float | None = None
    weighted: bool = False
    grid: F64 = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    scores: F64 = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)

    def score_at(self, offset: float) -> float | None:
        """Return the score of the tried offset nearest ``offset`` (None when nothing was tried)."""
        if self.grid.size == 0:
            return None
        return float(self.scores[int(np.argmin(np.abs(self.grid - offset)))])


def _distances(exp: Expectation, canvas_cells: npt.NDArray[np.uint8],
               weights: npt.NDArray[np.float32] | None) -> npt.NDArray[np.float32]:
    """Return the weighted mean distance of each frame to each period's canvas (frames, periods).

    One period at a time: no (frames, periods, cells, 3) temporary.
    """
    n, c = canvas_cells.shape[0], canvas_cells.shape[1]
    obs = canvas_cells.reshape(n, -1).astype(np.float32)
    if weights is None:
        weights = np.ones((len(exp.periods), c), dtype=np.float32)
    norm = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-6)
    out = np.empty((n, len(exp.periods)), dtype=np.float32)
    for p, period in enumerate(exp.periods):
        per_value = np.repeat(norm[p] / 3.0, 3).astype(np.float32)  # cells x (Y, U, V)
        # einsum, not a BLAS product: no thread pool fighting the decoder for the cores
        out[:, p] = np.einsum("nv,v->n", np.abs(obs - period.canvas_desc.reshape(-1)),
                              per_value)
    return out


def _rival(grid: F64, scores: F64, best: float) -> tuple[float | None, float | None]:
    far = np.isfinite(scores) & (np.abs(grid - best) >= RIVAL_S)
    if not far.any():
        return None, None
    i = int(np.flatnonzero(far)[np.argmin(scores[far])])
    return float(grid[i]), float(scores[i])


def fit_pictures(exp: Expectation, times: F64, canvas_cells: npt.NDArray[np.uint8], *,
                 weights: npt.NDArray[np.float32] | None = None,
                 max_evaluations: float = 3e7) -> PictureFit:
    """Find the offset that best lines the recorded canvases up with the expected periods.

    Parameters
    ----------
    exp : Expectation
    times : ndarray (n,)
        Recording time of each frame.
    canvas_cells : ndarray (n, c, 3)
        The whole-canvas descriptor of each frame.
    weights : ndarray (periods, c), optional
        How much each cell counts per period (:func:`still_weights`); equal by default.

    Returns
    -------
    PictureFit
    """
    n = len(times)
    if n == 0 or not exp.periods:
        return PictureFit(0.0, False, weighted=weights is not None)
    fps = exp.fps
    dist = _distances(exp, canvas_cells, weights)  # (n, P)
    if dist.shape[1] == 1 or np.ptp(dist, axis=1).max() < 1.0:
        return PictureFit(0.0, False, weighted=weights is not None)
    lo, hi = -exp.end, float(times[-1])
    steps = int((hi - lo) * fps) + 1
    stride = max(1, int(np.ceil(steps * n / max_evaluations)))
    need = 0.3 * min(n, exp.end * fps)
    order = np.argsort(times, kind="stable")  # decoded in order: a no-op but for odd files
    times, dist = times[order], dist[order]
    # a frame the scenario does not cover at an offset counts as an ordinary mismatch (its
    # median distance over the periods): else a short overlap that matches well wins
    unmatched = np.concatenate([[0.0], np.cumsum(np.median(dist, axis=1), dtype=np.float64)])

    def score(offset: float) -> float:
        first, stop = np.searchsorted(times, [offset, offset + exp.end], side="left")
        if stop - first < need or stop <= first:
            return np.inf
        p = _period_index(exp, times[first:stop] - offset)
        inside = float(dist[np.arange(first, stop), p].sum())
        outside = float(unmatched[-1] - (unmatched[stop] - unmatched[first]))
        return (inside + outside) / n + 1e-4 * abs(offset)

    grid = lo + np.arange(0, steps, stride) / fps
    scores = np.array([score(o) for o in grid])
    best = float(grid[int(np.argmin(scores))])
    if stride > 1:
        fine = best + np.arange(-stride, stride + 1) / fps
        fine_scores = np.array([score(o) for o in fine])
        best = float(fine[int(np.argmin(fine_scores))])
        grid, scores = np.concatenate([grid, fine]), np.concatenate([scores, fine_scores])
    # sub-frame: the recorded frames sit on the recording's clock; keep the frame grid
    best_score = score(best)
    if not np.isfinite(best_score):
        return PictureFit(0.0, False, weighted=weights is not None)
    rival, rival_score = _rival(grid, scores, best)
    return PictureFit(best, True, best_score, rival,
                      None if rival_score is None else round(rival_score - best_score, 4),
                      weights is not None, grid, scores)


def offset_from_pictures(exp: Expectation, times: F64, canvas_cells: npt.NDArray[np.uint8], *,
                         max_evaluations: float = 3e7,
                         weights: npt.NDArray[np.float32] | None = None) -> float:
    """:func:`fit_pictures`'s offset: 0 when the scenario's picture never changes.

    Parameters
    ----------
    exp : Expectation
    times : ndarray (n,)
        Recording time of each frame.
    canvas_cells : ndarray (n, 64, 3)
        The whole-canvas descriptor of each frame.
    weights : ndarray (periods, 64), optional
        Per period and cell (:func:`still_weights`); equal by default.

    Returns
    -------
    float
        ``offset_s``; 0 when the scenario's picture never changes (nothing to pin it).
    """
    return fit_pictures(exp, times, canvas_cells, weights=weights,
                        max_evaluations=max_evaluations).offset_s


#: Frames whose votes :func:`_frame_votes` weighs at once (memory: frames x codes ** 2 bytes).
_VOTE_BLOCK = 2048


def _frame_votes(votes: F64, fps: int, offset: float) -> F64:
    """Each frame's offset: the whole-frame bin most of its codes vote for (NaN: no vote).

    ``votes`` is ``(frames, codes)`` in seconds, NaN where a code gave none.  A tie between
    bins goes to the one nearest ``offset``, and between two as near to the lower.

    >>> _frame_votes(np.array([[0.0, 0.07, 0.07], [np.nan, np.nan, np.nan],
    ...                        [0.0, 0.2, np.nan]]), 15, 0.19).tolist()
    [0.06666666666666667, nan, 0.2]
    """
    valid = ~np.isnan(votes)
    if not votes.shape[1]:
        return np.full(len(votes), np.nan)
    bins = np.round(np.where(valid, votes, 0.0) * fps).astype(np.int64)
    same = (bins[:, :, None] == bins[:, None, :]) & valid[:, None, :]
    counts = np.where(valid, same.sum(axis=2), 0)  # votes sharing each vote's bin
    top = valid & (counts == counts.max(axis=1, keepdims=True))
    distance = np.where(top, np.abs(bins / fps - offset), np.inf)
    nearest = top & (distance == distance.min(axis=1, keepdims=True))
    pick = np.where(nearest, bins, np.iinfo(np.int64).max).min(axis=1)
    return np.where(valid.any(axis=1), pick / fps, np.nan)


def local_offsets(times: F64, codes: CodeInputs, *, offset: float,
                  settle_frames: int = 15) -> tuple[F64, int, int]:
    """Per-frame offset: ``offset`` until the codes agree on another one for a while.

    A recording that loses (or repeats) frames without a gap in its timestamps shifts its
    content against its clock: from then on the codes vote for another offset.  A new offset
    is taken when the frames' votes agree on it (within half a frame) for ``settle_frames``
    consecutive frames (a frozen code's vote moves every frame, so it never settles).

    ``codes`` as in :func:`offset_from_codes` (each publisher at its rate); offsets are kept
    on the canvas rate's grid.

    Returns
    -------
    (offsets, dropped, repeated)
        Offsets per frame, and the frames lost / repeated at the jumps.
    """
    n = len(times)
    out = np.full(n, offset, dtype=np.float64)
    if n == 0:
        return out, 0, 0
    uid_names, code_uids, code_frames, fps = (codes.uid_names, codes.code_uids,
                                              codes.code_frames, codes.fps)
    join_of = np.array([codes.joins.get(u, np.nan) for u in uid_names] + [np.nan],
                       dtype=np.float64)
    idx = np.where(code_uids >= 0, code_uids, len(uid_names))
    rate = _uid_rates(uid_names, codes.rates, fps)[idx]
    period = CODE_PERIOD_FRAMES / rate
    raw = times[:, None] - (join_of[idx] + code_frames / rate)
    votes = raw - np.round((raw - offset) / period) * period  # nearest to the offset
    per_frame = np.concatenate([_frame_votes(votes[lo:lo + _VOTE_BLOCK], fps, offset)
                                for lo in range(0, n, _VOTE_BLOCK)])
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
            jump = round((v - cur) * fps)
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


# --- choosing the alignment ------------------------------------------------------------------
#: The clock and a decisive picture alignment further apart than this (seconds): the clock
#: still aligns, with confidence ``low`` and a note saying where the pictures put t = 0.
CLOCK_AGREE_S = 1.0
#: Clock readings further apart than this (seconds) make the clock's confidence ``low``.
CLOCK_SPREAD_S = 0.1
#: A picture alignment whose rival (:data:`RIVAL_S` away or more) scores at least this much
#: worse (mean descriptor distance, 0-255 levels) is ``high`` confidence, and decisive.
MARGIN_HIGH = 2.0
#: Alignment methods, in the order they are tried when codes are readable (see
#: :func:`align_recording` for the rule).
METHODS: tuple[str, ...] = ("codes", "clock", "pictures")


@dataclass(frozen=True)
class Alignment:
    """How the scenario's t = 0 was found in the recording, and how sure that is.

    Attributes
    ----------
    method : {'codes', 'clock', 'pictures'}
    offset_s : float
        Recording time (seconds from the first decoded frame) of the scenario's t = 0.
    confidence : {'high', 'low', 'none'}
        ``codes``: high when at least 10 codes agree within a frame (``spread_s``);
        ``clock``: high when its readings agree within :data:`CLOCK_SPREAD_S` and no
        decisive picture alignment lies more than :data:`CLOCK_AGREE_S` away;
        ``pictures``: high when the best rival alignment scores :data:`MARGIN_HIGH`
        worse; ``none`` when nothing pins it (t = 0 assumed at the first frame).
    clock : RecordingClock or None
        The recording's clock, whether used or not.
    codes : CodeFit or None
    pictures : PictureFit or None
        The picture fit when it was made (no readable codes).
    note : str or None
        Why a clock was not used, or where the pictures disagree with it.
    """

    method: str
    offset_s: float
    confidence: str
    clock: RecordingClock | None = None
    codes: CodeFit | None = None
    pictures: PictureFit | None = None
    note: str | None = None

    def describe(self) -> str:
        """One line for the verdict area: method, confidence and the measure behind it.

        >>> Alignment("codes", 0.0, "high", codes=CodeFit(0.0, 412, 0.0)).describe()
        'codes, confidence high (412 code votes, spread 0.000 s)'
        """
        parts = []
        if self.method == "codes" and self.codes is not None:
            parts.append(f"{self.codes.votes} code votes, spread {self.codes.spread_s:.3f} s")
        if self.method == "clock" and self.clock is not None:
            parts.append(_clock_words(self.clock))
        if self.method != "codes" and self.pictures is not None:
            parts.append(_picture_words(self.pictures, self.offset_s, self.method))
        if self.method == "codes" and self.clock is not None:
            parts.append(f"the clock puts t = 0 {self.clock.offset_s - self.offset_s:+.3f} s "
                         "from the codes")
        if self.note:
            parts.append(self.note)
        inner = "; ".join(parts)
        return f"{self.method}, confidence {self.confidence}" + (f" ({inner})" if inner else "")

    def to_json(self, *, shift_s: float = 0.0) -> dict[str, Any]:
        """Return the ``alignment`` fact of the JSON document.

        Its offsets are moved by ``shift_s`` (onto the recording's clock when its first
        segments are lost).
        """
        def at(value: float | None) -> float | None:
            return None if value is None else round(value + shift_s, 4)

        doc: dict[str, Any] = {"method": self.method, "offset_s": at(self.offset_s),
                               "confidence": self.confidence, "summary": self.describe()}
        if self.codes is not None:
            doc["codes"] = {"offset_s": at(self.codes.offset_s), "votes": self.codes.votes,
                            "spread_s": self.codes.spread_s}
        if self.clock is not None:
            doc["clock"] = {"offset_s": at(self.clock.offset_s), "source": self.clock.source,
                            "spread_s": self.clock.spread_s,
                            "readings": [{"source": s, "offset_s": at(o), "read": text}
                                         for s, o, text in self.clock.readings]}
        if self.pictures is not None:
            p = self.pictures
            doc["pictures"] = {"offset_s": at(p.offset_s) if p.pinned else None,
                               "pinned": p.pinned, "weighted": p.weighted,
                               "rival_offset_s": at(p.rival_offset_s), "margin": p.margin}
        if self.note:
            doc["note"] = self.note
        return doc


_SOURCE_WORDS = {"ts_name": "TS name", "track_event": "playlist", "slice_start": "stop response"}


def _clock_words(clock: RecordingClock) -> str:
    """``TS name x_20260304100000000.ts, 3 readings within 0.000 s``."""
    words = f"{_SOURCE_WORDS.get(clock.source, clock.source)} {clock.readings[0][2]}"
    if len(clock.readings) > 1:
        words += f", {len(clock.readings)} readings within {clock.spread_s:.3f} s"
    return words


def _picture_words(fit: PictureFit, offset: float, method: str) -> str:
    if not fit.pinned:
        return "the picture never changes: nothing pins t = 0"
    if method == "clock":
        return f"pictures put t = 0 {fit.offset_s - offset:+.3f} s from the clock"
    still = "still regions weighted; " if fit.weighted else ""
    if fit.margin is None:
        return f"{still}no rival alignment"
    return (f"{still}next best {fit.rival_offset_s:+.2f} s scores {fit.margin:.1f} worse")


def _pictures_confidence(fit: PictureFit) -> str:
    if not fit.pinned:
        return "none"
    return "high" if fit.margin is None or fit.margin >= MARGIN_HIGH else "low"


def _decisive(fit: PictureFit | None) -> bool:
    return fit is not None and fit.pinned and (fit.margin is None or fit.margin >= MARGIN_HIGH)


def _by_clock(clock: RecordingClock, fit: PictureFit) -> Alignment:
    """Align by the clock; the pictures only say whether they agree."""
    confidence, note = "high", None
    if clock.spread_s > CLOCK_SPREAD_S:
        confidence = "low"
        note = f"the clock's readings disagree by {clock.spread_s:.3f} s"
    if _decisive(fit) and abs(fit.offset_s - clock.offset_s) > CLOCK_AGREE_S:
        confidence = "low"
        note = (f"the pictures put t = 0 at {fit.offset_s:+.3f} s, "
                f"{fit.offset_s - clock.offset_s:+.2f} s from the clock: is the scenario's "
                "start_utc the recording's?")
    return Alignment("clock", clock.offset_s, confidence, clock=clock, pictures=fit, note=note)


def clock_plausible(clock: RecordingClock, times: F64, end: float) -> bool:
    """Tell whether the clock puts the scenario inside the recording at all.

    A scenario whose ``start_utc`` was left at its default is months away from a real
    recording.

    >>> from layoutkit.comparison.clock import RecordingClock
    >>> clock = RecordingClock(-2.0, "ts_name", ())
    >>> clock_plausible(clock, np.arange(90) / 15, 8.0), clock_plausible(clock, np.zeros(1), 1.0)
    (True, False)
    """
    return len(times) > 0 and -end < clock.offset_s < float(times[-1])


def align_recording(exp: Expectation, times: F64, canvas_cells: npt.NDArray[np.uint8],
                    codes: CodeInputs, *, clock: RecordingClock | None = None,
                    weights: npt.NDArray[np.float32] | None = None
                    ) -> tuple[Alignment, F64, tuple[int, int]]:
    """Where the scenario's t = 0 lies in the recording, by the first method that can say.

    1. **codes** (test streams): every read code votes; their per-frame offsets follow
       frames lost or repeated (:func:`local_offsets`).  The clock, when there is one,
       only picks the code's 4096-frame wrap (``near``) and is reported beside them: the
       codes are the per-frame truth of what the publishers sent.
    2. **clock** (:mod:`~layoutkit.comparison.clock`): when no code is readable and the
       recording's files date its first frame, that date against ``start_utc`` is t = 0.
       Live content cannot pull it.  The pictures are fitted too, only to report whether
       they agree: a decisive picture fit more than :data:`CLOCK_AGREE_S` away lowers the
       confidence and is named, but does not move the offset (a shift within that is
       event timing, a thing event times are loose about).  A clock that puts the whole
       scenario outside the recording (:func:`clock_plausible`) is not used.
    3. **pictures** (:func:`fit_pictures`) with ``weights``: still regions count above
       moving ones (:func:`still_weights`).

    Returns
    -------
    (Alignment, offsets, (dropped, repeated))
        The per-frame offsets and the frames lost / repeated at the code offset's jumps.
    """
    usable = clock if clock is not None and clock_plausible(clock, times, exp.end) else None
    fit = code_fit(times, codes, near=usable.offset_s if usable else 0.0)
    if fit is not None:
        offsets, dropped, repeated = local_offsets(times, codes, offset=fit.offset_s)
        sure = "high" if fit.votes >= 10 and fit.spread_s <= 1.0 / codes.fps else "low"
        return (Alignment("codes", fit.offset_s, sure, clock=clock, codes=fit),
                offsets, (dropped, repeated))
    pictures = fit_pictures(exp, times, canvas_cells, weights=weights)
    if usable is not None:
        chosen = _by_clock(usable, pictures)
    else:
        note = None if clock is None else (
            f"the recording's clock ({clock.source}) puts t = 0 at {clock.offset_s:+.3f} s, "
            "outside the recording: not used")
        chosen = Alignment("pictures", pictures.offset_s, _pictures_confidence(pictures),
                           clock=clock, pictures=pictures, note=note)
    return chosen, np.full(len(times), chosen.offset_s), (0, 0)
