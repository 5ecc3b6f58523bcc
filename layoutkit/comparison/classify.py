"""Per region and frame: whether the recording shows what was expected, and if not, what.

Rules (``tol`` = :data:`LIVE_TOLERANCE_FRAMES`):

* a region expected **live** with a test stream matches when its code reads the expected
  uid with a frame number within ``tol`` frames of the expected one
  (``floor((t - first join) * rate)`` modulo 4096, ``rate`` the user's publisher rate from
  ``rates``, by default the canvas fps);
* **frozen last frame** of a test stream: the expected uid, frame number within 1 of the
  frame shown when the video stopped (at the publisher's rate); when no code at all is
  readable in the region (a poor encode), the region's nearest candidate look must be the
  expected user's;
* anything else (black, canvas colour, canvas background, user image, a colour source, an
  empty region): the region's 4 x 4 descriptor within :data:`DESC_MEAN` (mean over cells of
  the per-cell mean |dY|, |dU|, |dV|) and :data:`DESC_MAX` (worst cell) of the expected
  canvas's, its mean luma within :data:`DESC_LUMA` (a canvas ``#101010`` is not black);
  when the recording *as a whole* shows a limited/full range mix-up (``range_mixup``,
  found by :mod:`~layoutkit.comparison.levels`), of the expected canvas with that mix-up
  instead, in every region and frame alike (never a mix-up per region or frame: a canvas
  ``#101010`` where black is expected is a difference); a region blended with ``alpha`` < 1
  over a live test stream may also show that stream's flash frame;
* a test stream whose code is covered by a region painted over it (floating layouts):
  the nearest candidate look (median cell distance) must be the expected user's, flash
  frames excepted;
* a real person (``person``, a ``source: "unknown"`` user live or on its last frame): the
  picture is not predicted; the region matches when it is none of its looks without a
  picture (black, canvas colour, canvas background, the user's image:
  :func:`background_frames`, within the still-picture thresholds);
* a live video file (``file``): the region's descriptor within :data:`FILE_MEAN` (mean)
  and :data:`FILE_MAX` (worst cell) of the file's own frame nearest to it among those
  within :data:`~layoutkit.comparison.expect.FILE_WINDOW_S` of the source time the
  scenario expects (the file drawn into the region,
  :class:`~layoutkit.comparison.expect.FileFrames`).

A region that does not match is named: a readable code gives ``(uid, live)`` when its
frame number is within ``tol`` of that user's expected one, else ``(uid, last_frame)``;
otherwise the nearest candidate look (black, canvas colour, canvas background, each
user's picture), or ``(None, "unknown")`` when none is within 3 x :data:`DESC_MEAN`.  A real
person's region (expected showing the person or a background) that shows a picture is
``(uid, "live")`` when it moves and ``(uid, "last_frame")`` when it stands still
(:func:`picture_states`: :func:`~layoutkit.comparison.stillness.still_spans`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..timeline import DisplayState
from .align import CODE_PERIOD_FRAMES
from .expect import FILE_WINDOW_S, Expectation, Label, RegionExpect
from .frames import Observed
from .model import NoUser
from .observe import MOTION_SCALE, FrameSampler
from .stillness import key_motion, still_spans

__all__ = [
    "DESC_LUMA",
    "DESC_MAX",
    "DESC_MEAN",
    "FILE_MAX",
    "FILE_MEAN",
    "LIVE_TOLERANCE_FRAMES",
    "PICTURE_BACKGROUND",
    "PICTURE_FROZEN",
    "PICTURE_LIVE",
    "RANGE_MIXUPS",
    "BackgroundMemo",
    "Judging",
    "RegionObservation",
    "background_frames",
    "background_misses",
    "classify",
    "desc_distance",
    "file_distance",
    "luma_shift",
    "partly_canvas",
    "picture_states",
    "range_undone",
    "range_variant",
    "range_variants",
    "region_motion",
    "user_shifts",
    "window_distance",
]

#: A live code's frame number may differ by this many frames (duplicates, jitter).
LIVE_TOLERANCE_FRAMES = 2
#: Descriptor match thresholds (8-bit levels).
DESC_MEAN = 6.0
DESC_MAX = 24.0
#: Most a still region's mean luma may differ from the expected (8-bit levels): black is
#: Y 16, ``#101010`` Y 30 and ``#080808`` Y 23.
DESC_LUMA = 8.0
#: A live video file's region matches the file's nearest frame (within the window) when
#: its mean and worst cell distance are within these (8-bit levels: an encoded moving
#: picture at another frame than drawn).
FILE_MEAN = 12.0
FILE_MAX = 48.0
#: What a real person's region shows per frame (:func:`picture_states`).
PICTURE_BACKGROUND, PICTURE_LIVE, PICTURE_FROZEN = 0, 1, 2
#: The limited/full range mix-ups, in :func:`range_variants`' order.
RANGE_MIXUPS = ("expanded", "compressed")


@dataclass(frozen=True)
class RegionObservation:
    """One region during one period: which frames, whether each matched, what was seen."""

    period: int
    expect: RegionExpect
    frames: npt.NDArray[np.intp]  # indices into the observations
    t: npt.NDArray[np.float64]  # scenario times
    match: npt.NDArray[np.bool_]
    labels: tuple[Label, ...]  # observed label per frame (the expected one where matched)
    deviation: npt.NDArray[np.float64]  # live code frame - expected (NaN when not read)
    distance: npt.NDArray[np.float64]  # descriptor distance to the expected look (NaN: none)


def _wrap(d: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    half = CODE_PERIOD_FRAMES // 2
    return ((d + half) % CODE_PERIOD_FRAMES) - half


def desc_distance(obs: npt.NDArray[np.generic], ref: npt.NDArray[np.generic],
                  valid: npt.NDArray[np.bool_]
                  ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean and worst cell distance between observed ``(n, c, 3)`` and a reference ``(c, 3)``."""
    if not valid.any():
        zeros = np.zeros(obs.shape[0])
        return zeros, zeros
    diff = obs[:, valid].astype(np.float32) - ref[valid][None].astype(np.float32)
    cell = np.abs(diff).mean(axis=2)
    return cell.mean(axis=1).astype(np.float64), cell.max(axis=1).astype(np.float64)


def luma_shift(obs: npt.NDArray[np.generic], ref: npt.NDArray[np.generic],
               valid: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Mean luma of observed ``(n, c, 3)`` minus that of the reference ``(c, 3)``, per frame.

    >>> ref = np.array([[16, 128, 128]] * 2, np.float32)
    >>> luma_shift(ref[None] + [14, 0, 0], ref, np.array([True, True]))
    array([14.])
    """
    if not valid.any():
        return np.zeros(obs.shape[0])
    seen = obs[:, valid, 0].astype(np.float64).mean(axis=1)
    return np.asarray(seen - float(np.asarray(ref)[valid, 0].astype(np.float64).mean()),
                      dtype=np.float64)


def range_variants(ref: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], ...]:
    """``ref`` as it looks when limited-range levels are shown as full range, and back."""
    expand = np.array([255 / 219, 255 / 224, 255 / 224], dtype=np.float32)
    base = np.array([16, 128, 128], dtype=np.float32)
    mid = np.array([0, 128, 128], dtype=np.float32)
    expanded = np.clip((ref - base) * expand + mid, 0, 255)
    compressed = (ref - mid) / expand + base
    return (expanded.astype(np.float32), compressed.astype(np.float32))


def range_variant(ref: npt.NDArray[np.float32], mixup: str | None) -> npt.NDArray[np.float32]:
    """Return ``ref`` as the recording shows it under ``mixup`` (``ref`` itself for None).

    ``mixup`` is one of :data:`RANGE_MIXUPS`.

    >>> range_variant(np.array([[16.0, 128, 128]], np.float32), "compressed").round(1)
    array([[ 29.7, 128. , 128. ]], dtype=float32)
    """
    if mixup is None:
        return ref
    return range_variants(ref)[RANGE_MIXUPS.index(mixup)]


def range_undone(seen: npt.NDArray[np.float32], mixup: str | None) -> npt.NDArray[np.float32]:
    """Undo ``mixup`` on levels ``seen``: what was drawn (to name colours).

    >>> range_undone(np.array([16.0, 128, 128], np.float32), "expanded").round(1)
    array([ 29.7, 128. , 128. ], dtype=float32)
    """
    if mixup is None:
        return seen
    return range_variant(seen, RANGE_MIXUPS[1 - RANGE_MIXUPS.index(mixup)])


def _expected_frame(t: npt.NDArray[np.float64], join: float, fps: float) -> npt.NDArray[np.int64]:
    return np.floor(np.maximum(0.0, t - join) * fps + 0.5).astype(np.int64)


def _frozen_frame(reg: RegionExpect, rate: float, fps: int) -> int:
    """Return the frame number a frozen test stream shows.

    That is ``reg.frozen_frame`` at the canvas rate, else the publisher's frame at the last
    live canvas frame.
    """
    if rate == fps or reg.frozen_t is None:
        return int(reg.frozen_frame or 0)
    return int(np.floor(max(0.0, reg.frozen_t - reg.join) * rate + 1e-9)) % CODE_PERIOD_FRAMES


@dataclass(frozen=True)
class Judging:
    """How :func:`classify` judges the frames.

    Attributes
    ----------
    tol : int
        Live tolerance in frames.
    name : bool
        Name what mismatching regions show (False: only match / no match, for inference).
    shifts : mapping
        uid -> frames by which that user's test stream runs ahead of its scenario clock
        (its frame numbers are ``shift`` higher than the join time predicts; see
        :func:`user_shifts`).
    rates : mapping
        uid -> the rate its test stream's frame numbers advance at (its publisher's; see
        :func:`~layoutkit.comparison.rates.publisher_rates`); the canvas fps by default.
    range_mixup : {None, 'expanded', 'compressed'}
        The limited/full range mix-up the whole recording shows (see
        :func:`~layoutkit.comparison.levels.recording_range`): still pictures are expected
        with it, everywhere.  None (default): as drawn.
    memo : BackgroundMemo or None
        Reuse real people's background tests across calls on the same observations (event
        fitting: one per span, shared by the candidates).
    """

    tol: int = LIVE_TOLERANCE_FRAMES
    name: bool = True
    shifts: Mapping[str, int] = field(default_factory=dict)
    rates: Mapping[str, float] = field(default_factory=dict)
    range_mixup: str | None = None
    memo: BackgroundMemo | None = None


class BackgroundMemo:
    """:func:`background_frames` of every frame of one set of observations.

    Computed once per region place and looks (event fitting classifies the same frames
    under many candidates).
    """

    def __init__(self) -> None:
        self._found: dict[tuple[int, bytes], tuple[npt.NDArray[np.bool_],
                                                    npt.NDArray[np.intp]]] = {}

    def lookup(self, reg: RegionExpect, seen: _Seen, frames: npt.NDArray[np.intp]
               ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
        """:func:`background_frames` of ``reg`` at ``frames`` of ``seen.observed``."""
        key = (reg.desc_key, b"".join(look.tobytes() for _, look in reg.backgrounds))
        if key not in self._found:
            self._found[key] = background_frames(reg, seen.sampler, seen.observed.cells,
                                                 seen.range_mixup)
        hit, nearest = self._found[key]
        return hit[frames], nearest[frames]

    def in_part(self, reg: RegionExpect, sampler: FrameSampler, observed: Observed,
                frames: npt.NDArray[np.intp], range_mixup: str | None) -> int:
        """How many of ``frames`` show :func:`partly_canvas`."""
        key = (-1 - reg.desc_key, b"".join(look.tobytes() for _, look in reg.backgrounds))
        if key not in self._found:
            part = partly_canvas(reg, sampler, observed.cells, range_mixup)
            self._found[key] = (part, np.zeros(0, np.intp))
        return int(self._found[key][0][frames].sum())


@dataclass(frozen=True)
class _Seen:
    """What the matching and :func:`_name` read.

    The observations, the users' (shifted) joins and rates, and how to judge.
    """

    sampler: FrameSampler
    observed: Observed
    joins: Mapping[str, float]
    rates: Mapping[str, float]
    tol: int
    fps: int = 15
    shifts: Mapping[str, int] = field(default_factory=dict)
    range_mixup: str | None = None
    rect_keys: Mapping[tuple[int, ...], list[int]] = field(default_factory=dict)
    uid_of: Mapping[str, int] = field(default_factory=dict)  # uid -> its index in code readings
    memo: BackgroundMemo | None = None

    def keys(self, reg: RegionExpect) -> list[int]:
        """Return the code keys of ``reg``'s rect and mode."""
        return list(self.rect_keys.get((*reg.rect, reg.mode), []))


def classify(exp: Expectation, sampler: FrameSampler, observed: Observed, *,
             offset: float | npt.NDArray[np.float64], joins: Mapping[str, float],
             judging: Judging = Judging()) -> list[RegionObservation]:
    """Classify every region of every period over the frames that fall in it.

    Parameters
    ----------
    exp : Expectation
    sampler : FrameSampler
        The sampler the observations were made with.
    observed : Observed
        The frames' times, descriptor cells and code readings
        (:func:`~layoutkit.comparison.frames.observe_frames`).
    offset : float or ndarray (n,)
        ``offset_s`` (or one per frame): scenario time = recording time - offset.
    joins : mapping
        uid -> first join time.
    judging : Judging
        The live tolerance, whether to name mismatches, the users' shifts and rates, the
        recording's range mix-up.
    """
    fps = exp.fps
    shifts = dict(judging.shifts)
    rate_of = {u: float(judging.rates.get(u, fps)) for u in joins}
    joins = {u: j - shifts.get(u, 0) / rate_of[u] for u, j in joins.items()}
    rect_keys: dict[tuple[int, ...], list[int]] = {}
    for (rect, mode, _size), k in sampler.code_keys.items():
        rect_keys.setdefault((*rect, mode), []).append(k)
    seen = _Seen(sampler, observed, joins, rate_of, judging.tol, fps, shifts, judging.range_mixup,
                 rect_keys, {u: i for i, u in enumerate(observed.uid_names)}, judging.memo)
    t_all = observed.times - offset
    inside = (t_all >= 0) & (t_all < exp.end)
    pidx = np.searchsorted(exp.starts, t_all, side="right") - 1
    out: list[RegionObservation] = []
    for p, period in enumerate(exp.periods):
        frames = np.nonzero(inside & (pidx == p))[0]
        if frames.size == 0:
            continue
        t = t_all[frames]
        for reg in period.regions:
            match, deviation, distance = _match_region(reg, seen, frames, t)
            labels: list[Label] = [reg.label] * frames.size
            if judging.name and not match.all():
                labels = _labels(reg, seen, frames, t, match)
            out.append(RegionObservation(p, reg, frames, t, match, tuple(labels), deviation,
                                         distance))
    return out


def _match_region(reg: RegionExpect, seen: _Seen, frames: npt.NDArray[np.intp],
                  t: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.bool_],
                                                        npt.NDArray[np.float64],
                                                        npt.NDArray[np.float64]]:
    """Per frame of one region: matched, the live code deviation, the descriptor distance."""
    n = frames.size
    deviation = np.full(n, np.nan)
    distance = np.full(n, np.nan)
    sampler, cells = seen.sampler, seen.observed.cells
    who = reg.label[0]
    if reg.kind in ("code_live", "code_frozen"):
        match, deviation = _code_region(reg, seen, frames, t)
    elif reg.kind == "desc" and reg.expected is not None:
        match, distance = _still_match(reg, sampler, cells[frames], seen.range_mixup)
        ks = seen.keys(reg)
        if match.any() and ks:  # a test stream's code where none is expected is never a match
            match &= ~(seen.observed.code_uids[frames][:, ks] >= 0).any(axis=1)
    elif reg.kind == "look" and reg.candidates:
        nearest, bright = _nearest_look(reg, sampler, cells[frames])
        match = np.array([b >= 0 and reg.candidates[int(b)][0][0] == who
                          for b in nearest], dtype=bool) | bright
    elif reg.kind == "person" and reg.backgrounds:
        match = ~(seen.memo.lookup(reg, seen, frames)[0] if seen.memo is not None else
                  background_frames(reg, sampler, cells[frames], seen.range_mixup)[0])
    elif reg.kind == "file" and reg.files is not None and who is not None:
        distance, worst = file_distance(reg, who, seen, frames, t)
        match = (distance <= FILE_MEAN) & (worst <= FILE_MAX)
    else:
        match = np.ones(n, dtype=bool)
    return match, deviation, distance


def _code_region(reg: RegionExpect, seen: _Seen, frames: npt.NDArray[np.intp],
                 t: npt.NDArray[np.float64]
                 ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """Match a test stream's region by its code, else (no code readable) by its look."""
    who = reg.label[0]
    assert reg.code_key is not None and who is not None
    observed, fps = seen.observed, seen.fps
    code_uids = observed.code_uids
    right = code_uids[frames, reg.code_key] == seen.uid_of.get(who, -2)
    expected = _expected_code(reg, t, shift=seen.shifts.get(who, 0),
                              rate=seen.rates.get(who, float(fps)), fps=fps)
    match, deviation = _code_match(reg, observed.code_frames[frames, reg.code_key], right,
                                   expected, tol=seen.tol)
    ks = seen.keys(reg) or [reg.code_key]
    unread = ~(code_uids[frames][:, ks] >= 0).any(axis=1) & ~match
    if unread.any() and reg.candidates:
        # no code readable (a poor encode): the user's look must still be right
        rows = np.nonzero(unread)[0]
        nearest, bright = _nearest_look(reg, seen.sampler, observed.cells[frames[rows]])
        match[rows] = np.array([b >= 0 and reg.candidates[int(b)][0][0] == who
                                for b in nearest]) | bright
    return match, deviation


def file_distance(reg: RegionExpect, uid: str, seen: _Seen, frames: npt.NDArray[np.intp],
                  t: npt.NDArray[np.float64]
                  ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return per frame the mean and worst cell distance of the region to file ``uid``.

    The distance is to the video file's nearest frame within
    :data:`~layoutkit.comparison.expect.FILE_WINDOW_S` of the source time the scenario
    expects (``uid``'s frames as drawn in this region's place).
    """
    assert reg.files is not None
    fps = seen.fps
    half = round(FILE_WINDOW_S * fps)
    ks = np.rint(t * fps).astype(np.int64)[:, None] + np.arange(-half, half + 1)[None]
    refs = range_variant(reg.files.cells(uid, reg.place, ks), seen.range_mixup)
    return window_distance(seen.observed.cells[frames][:, seen.sampler.cell_slice(reg.desc_key)],
                           refs, seen.sampler.valid(reg.desc_key))


def window_distance(obs: npt.NDArray[np.generic], refs: npt.NDArray[np.generic],
                    valid: npt.NDArray[np.bool_]
                    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return the mean and worst cell distance of observed ``(n, c, 3)`` to its references.

    Each frame is measured against the nearest (by mean) of its references ``(n, w, c, 3)``.

    >>> obs = np.full((2, 2, 3), 100, np.uint8)
    >>> refs = np.stack([np.full((3, 2, 3), v, np.float32) for v in (90, 40)])
    >>> refs[0, 1] = 101
    >>> window_distance(obs, refs, np.array([True, True]))
    (array([ 1., 60.]), array([ 1., 60.]))
    """
    if not valid.any() or refs.shape[1] == 0:
        zeros = np.zeros(obs.shape[0])
        return zeros, zeros
    diff = np.abs(obs[:, None][:, :, valid].astype(np.float32)
                  - refs[:, :, valid].astype(np.float32))
    cell = diff.mean(axis=3)  # (n, w, c)
    mean = cell.mean(axis=2)
    best = np.argmin(mean, axis=1)
    rows = np.arange(len(best))
    return mean[rows, best].astype(np.float64), cell.max(axis=2)[rows, best].astype(np.float64)


def _expected_code(reg: RegionExpect, t: npt.NDArray[np.float64], *, shift: int, rate: float,
                   fps: int) -> npt.NDArray[np.int64] | int:
    """Return the frame number a test stream's code should show at scenario times ``t``.

    Per frame when live, the one frozen frame's otherwise.
    """
    if reg.kind == "code_live":
        return _expected_frame(t, reg.join - shift / rate, rate) % CODE_PERIOD_FRAMES
    return _frozen_frame(reg, rate, fps) + shift


def _code_match(reg: RegionExpect, frames: npt.NDArray[np.int32], right: npt.NDArray[np.bool_],
                expected: npt.NDArray[np.int64] | int, *,
                tol: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """Match a test stream's code frame numbers against the ``expected`` ones.

    Per frame: whether the code (read as the right uid where ``right``) shows the
    ``expected`` frame number (:func:`_expected_code`), and the live deviation (NaN for
    frozen or unread codes).
    """
    d = _wrap(frames.astype(np.int64) - expected)
    if reg.kind == "code_live":
        return right & (np.abs(d) <= tol), np.where(right, d, np.nan)
    return right & (np.abs(d) <= 1), np.full(len(frames), np.nan)


def _still_match(reg: RegionExpect, sampler: FrameSampler, cells: npt.NDArray[np.uint8],
                 range_mixup: str | None) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """Match a still region against its expected picture, per frame.

    Whether it shows it (under the recording's range mix-up), and the mean descriptor
    distance.
    """
    obs = cells[:, _cell_slice(sampler, reg.desc_key)]
    valid = sampler.valid(reg.desc_key)
    assert reg.expected is not None
    ref = range_variant(reg.expected, range_mixup)
    mean, worst = desc_distance(obs, ref, valid)
    shift = luma_shift(obs, ref, valid)
    if reg.flash is not None:  # blended over a test stream: its flash shows
        ref = range_variant(reg.flash, range_mixup)
        m2, w2 = desc_distance(obs, ref, valid)
        better = m2 < mean
        mean, worst = np.where(better, m2, mean), np.where(better, w2, worst)
        shift = np.where(better, luma_shift(obs, ref, valid), shift)
    return (mean <= DESC_MEAN) & (worst <= DESC_MAX) & (np.abs(shift) <= DESC_LUMA), mean


def user_shifts(observations: Sequence[RegionObservation], *, tol: int = LIVE_TOLERANCE_FRAMES,
                agree: float = 0.8, min_reads: int = 15) -> dict[str, int]:
    """Users whose live codes lag or lead their scenario clock by a constant number of frames.

    A test stream started later (or earlier) than its user's join, or a join that happened
    later than the scenario says, shows frame numbers off by a constant.  A user is shifted
    when at least ``min_reads`` live readings exist, ``agree`` of them lie within one frame
    of their median and the median is beyond ``tol``.  (A frozen picture's deviation
    grows every frame, so it never looks like a shift.)
    """
    by_user: dict[str, list[npt.NDArray[np.float64]]] = {}
    for ro in observations:
        if ro.expect.kind == "code_live" and ro.expect.label[0] is not None:
            d = ro.deviation[~np.isnan(ro.deviation)]
            if d.size:
                by_user.setdefault(ro.expect.label[0], []).append(d)
    out: dict[str, int] = {}
    for uid, parts in by_user.items():
        d = np.concatenate(parts)
        if d.size < min_reads:
            continue
        median = float(np.median(d))
        if abs(median) > tol and np.mean(np.abs(d - median) <= 1) >= agree:
            out[uid] = round(median)
    return out


def _nearest_look(reg: RegionExpect, sampler: FrameSampler, cells: npt.NDArray[np.uint8]
                  ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Find per frame the candidate look nearest by median cell distance, and the flashes.

    The look is -1 when none is within 2 x DESC_MEAN.
    """
    obs = cells[:, _cell_slice(sampler, reg.desc_key)].astype(np.float32)
    valid = sampler.valid(reg.desc_key)
    if not valid.any():
        return np.zeros(len(cells), dtype=np.intp), np.ones(len(cells), dtype=bool)
    dists = np.stack([np.median(np.abs(obs[:, valid] - ref[valid][None]).mean(axis=2), axis=1)
                      for _, ref in reg.candidates], axis=1)
    bright = obs[:, valid, 0].mean(axis=1) > 190  # the test stream's flash frame
    nearest = np.argmin(dists, axis=1)
    close = dists[np.arange(len(nearest)), nearest] <= 2 * DESC_MEAN
    return np.where(close, nearest, -1), bright


def _cell_slice(sampler: FrameSampler, key: int) -> slice:
    return sampler.cell_slice(key)


def background_frames(reg: RegionExpect, sampler: FrameSampler, cells: npt.NDArray[np.uint8],
                      range_mixup: str | None
                      ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
    """Tell per frame whether the region shows one of ``reg.backgrounds``, and which.

    A background is shown within :data:`DESC_MEAN`, :data:`DESC_MAX` and :data:`DESC_LUMA`,
    under the range mix-up; the second array is the index of the nearest (by mean distance)
    in ``reg.backgrounds``.
    """
    n = len(cells)
    if not reg.backgrounds:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=np.intp)
    obs = cells[:, _cell_slice(sampler, reg.desc_key)]
    valid = sampler.valid(reg.desc_key)
    hit = np.zeros(n, dtype=bool)
    means = []
    for _, look in reg.backgrounds:
        ref = range_variant(look, range_mixup)
        mean, worst = desc_distance(obs, ref, valid)
        hit |= (mean <= DESC_MEAN) & (worst <= DESC_MAX) & \
            (np.abs(luma_shift(obs, ref, valid)) <= DESC_LUMA)
        means.append(mean)
    return hit, np.argmin(np.stack(means, axis=1), axis=1)


#: Looks of the canvas itself (not black: a fit-mode picture has black bars of its own).
_CANVAS_LOOKS = (DisplayState.CANVAS_COLOR, DisplayState.CANVAS_BACKGROUND)


def partly_canvas(reg: RegionExpect, sampler: FrameSampler, cells: npt.NDArray[np.uint8],
                  range_mixup: str | None) -> npt.NDArray[np.bool_]:
    """Tell per frame whether a real person's region shows the canvas in part.

    In part: in at least a quarter of its cells (at least 2) but not in all, a picture that
    does not fill the region, i.e. a region of another layout (a reflow early, late or
    missing).

    >>> from layoutkit.comparison.observe import FrameSampler
    >>> sampler = FrameSampler((64, 64))
    >>> key = sampler.desc_key((0, 0, 32, 64))
    >>> canvas = np.full((16, 3), (40, 140, 120), np.float32)
    >>> reg = RegionExpect(0, (0, 0, 32, 64), 0, ("1", "live"), "person", key,
    ...                    backgrounds=(((None, "canvas_color"), canvas),))
    >>> frames = np.zeros((2, sampler.n_cells(), 3), np.uint8)
    >>> frames[:, sampler.cell_slice(key)] = canvas
    >>> frames[0, sampler.cell_slice(key).start:sampler.cell_slice(key).start + 8] = 200
    >>> partly_canvas(reg, sampler, frames, None).tolist()
    [True, False]
    """
    valid = sampler.valid(reg.desc_key)
    looks = [look for label, look in reg.backgrounds if label[1] in _CANVAS_LOOKS]
    out = np.zeros(len(cells), dtype=bool)
    if not looks or valid.sum() < 4:
        return out
    obs = cells[:, _cell_slice(sampler, reg.desc_key)][:, valid].astype(np.float32)
    need = max(2, int(valid.sum()) // 4)
    for look in looks:
        ref = range_variant(look, range_mixup)[valid]
        same = (np.abs(obs - ref[None]).mean(axis=2) <= DESC_MEAN).sum(axis=1)
        out |= (same >= need) & (same < valid.sum())
    return out


def background_misses(exp: Expectation, sampler: FrameSampler, observed: Observed,
                      offset: npt.NDArray[np.float64], range_mixup: str | None,
                      memo: BackgroundMemo | None = None) -> int:
    """Count the frames whose background shows a region appear, go away or move.

    Frames whose canvas outside every region (a period's ``bg_key``) is not the expected
    background, plus frames of a real person's region that show the canvas in part
    (:func:`partly_canvas`): where a region appears, goes away or moves when no region's own
    check can see it (a real person's region matches any picture, so a join, a leave or a
    reflow shows here; ``memo``: one for these observations, to reuse).
    """
    memo = BackgroundMemo() if memo is None else memo
    t = observed.times - offset
    period = np.searchsorted(exp.starts, t, side="right") - 1
    period[(t < 0) | (t >= exp.end)] = -1
    total = 0
    for p, expected in enumerate(exp.periods):
        rows = np.nonzero(period == p)[0]
        if not rows.size:
            continue
        total += sum(memo.in_part(reg, sampler, observed, rows, range_mixup)
                     for reg in expected.regions if reg.kind == "person")
        cells = observed.cells[rows]
        if expected.bg_key is None or expected.bg_expected is None:
            continue
        ref = range_variant(expected.bg_expected, range_mixup)
        mean, worst = desc_distance(cells[:, sampler.cell_slice(expected.bg_key)],
                                    ref, sampler.valid(expected.bg_key))
        total += int(((mean > DESC_MEAN) | (worst > DESC_MAX)).sum())
    return total


def region_motion(reg: RegionExpect, sampler: FrameSampler, observed: Observed,
                  frames: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
    """Return the region's motion at ``frames``.

    Levels from the decoded frame before each; zeros when the observations carry none.
    """
    if observed.motion is None:
        return np.zeros(len(frames), np.float32)
    return key_motion(observed.motion[frames], sampler.cell_slice(reg.desc_key),
                      sampler.valid(reg.desc_key), scale=MOTION_SCALE)


def picture_states(background: npt.NDArray[np.bool_], motion: npt.NDArray[np.float32],
                   times: npt.NDArray[np.float64], keys: npt.NDArray[np.bool_] | None = None
                   ) -> npt.NDArray[np.int8]:
    """Tell per frame of a region whether it shows a background, a frozen or a live picture.

    :data:`PICTURE_BACKGROUND`, :data:`PICTURE_FROZEN` (a picture inside a
    :func:`~layoutkit.comparison.stillness.still_spans` span of the pictures; a background
    breaks a span) or :data:`PICTURE_LIVE`; ``keys``: the recording's key frames (a picture
    that froze on one is frozen from there).

    >>> t = np.arange(8) / 2
    >>> bg = np.array([0, 0, 0, 0, 0, 1, 1, 0], bool)
    >>> picture_states(bg, np.array([5, 5, 0, 0, 0, 0, 0, 9], np.float32), t).tolist()
    [1, 2, 2, 2, 2, 0, 0, 1]
    """
    masked = np.where(background, np.float32(255), motion).astype(np.float32)
    states = np.where(background, PICTURE_BACKGROUND, PICTURE_LIVE).astype(np.int8)
    for span in still_spans(masked, times, keys=keys):
        inside = (times >= span.start) & (times < span.end) & ~background
        states[inside] = PICTURE_FROZEN
    return states


def _person_labels(reg: RegionExpect, seen: _Seen, frames: npt.NDArray[np.intp]
                   ) -> list[Label | None]:
    """Name what a real person's region shows per frame.

    ``(uid, live)``, ``(uid, last_frame)``, the nearest background look, or None (a
    background-like picture none is near).
    """
    cells = seen.observed.cells[frames]
    background, nearest = background_frames(reg, seen.sampler, cells, seen.range_mixup)
    states = picture_states(background, region_motion(reg, seen.sampler, seen.observed, frames),
                            seen.observed.times[frames])
    who = reg.label[0]
    words = {PICTURE_LIVE: (who, DisplayState.LIVE), PICTURE_FROZEN: (who, DisplayState.LAST_FRAME)}
    return [reg.backgrounds[int(b)][0] if s == PICTURE_BACKGROUND else words[int(s)]
            for s, b in zip(states.tolist(), nearest, strict=True)]


def _labels(reg: RegionExpect, seen: _Seen, frames: npt.NDArray[np.intp],
            t: npt.NDArray[np.float64], match: npt.NDArray[np.bool_]) -> list[Label]:
    """Per frame of a region: the expected label where it matched, else what it shows."""
    labels: list[Label] = [reg.label] * frames.size
    bad = np.nonzero(~match)[0]
    named = _name(reg, seen, frames[bad], t[bad], seen.keys(reg))
    person = _person_labels(reg, seen, frames) if reg.backgrounds else None
    for i, label in zip(bad, named, strict=True):
        labels[i] = person[i] or label if person is not None else label
    return labels


def _name(reg: RegionExpect, seen: _Seen, frames: npt.NDArray[np.intp],
          t: npt.NDArray[np.float64], keys: list[int]) -> list[Label]:
    """Name what mismatching frames of a region show (``keys``: the code keys of its rect)."""
    sampler, joins, rates, tol = seen.sampler, seen.joins, seen.rates, seen.tol
    cells, uid_names = seen.observed.cells, seen.observed.uid_names
    code_uids, code_frames = seen.observed.code_uids, seen.observed.code_frames
    labels: list[Label] = [(None, NoUser.UNKNOWN)] * len(frames)
    named = np.zeros(len(frames), dtype=bool)
    own = [reg.code_key] if reg.code_key is not None else []
    for k in [*own, *(k for k in keys if k != reg.code_key)]:
        u = code_uids[frames, k]
        f = code_frames[frames, k].astype(np.int64)
        for i in np.nonzero((u >= 0) & ~named)[0]:
            uid = uid_names[int(u[i])]
            join = joins.get(uid)
            state = DisplayState.LIVE
            if join is not None:
                d = _wrap(np.array([f[i]]) - _expected_frame(np.array([t[i]]), join, rates[uid])
                          % CODE_PERIOD_FRAMES)
                state = DisplayState.LIVE if abs(int(d[0])) <= tol else DisplayState.LAST_FRAME
            labels[i] = (uid, state)
            named[i] = True
    rest = np.nonzero(~named)[0]
    if rest.size and reg.candidates:
        obs = cells[frames[rest]][:, _cell_slice(sampler, reg.desc_key)]
        valid = sampler.valid(reg.desc_key)
        dists = np.stack([desc_distance(obs, ref, valid)[0] for _, ref in reg.candidates], axis=1)
        best = np.argmin(dists, axis=1)
        for row, (i, b) in enumerate(zip(rest, best, strict=True)):
            if dists[row, b] <= 3 * DESC_MEAN:
                labels[i] = reg.candidates[int(b)][0]
    return _name_files(reg, seen, frames, t, labels)


def _name_files(reg: RegionExpect, seen: _Seen, frames: npt.NDArray[np.intp],
                t: npt.NDArray[np.float64], labels: list[Label]) -> list[Label]:
    """Name the frames still unknown after another video file user whose frames they show.

    Returns ``labels`` with such frames (showing that user's frames near its expected
    source time) named ``(uid, "live")``; the others as they were.
    """
    unknown = np.array([label == (None, NoUser.UNKNOWN) for label in labels], dtype=bool)
    others = [u for u in (reg.files.uids if reg.files is not None else ()) if u != reg.label[0]]
    if not unknown.any() or not others:
        return labels
    rows = np.nonzero(unknown)[0]
    dists = np.stack([file_distance(reg, u, seen, frames[rows], t[rows])[0] for u in others],
                     axis=1)
    best = np.argmin(dists, axis=1)
    out = list(labels)
    for row, (i, b) in enumerate(zip(rows, best, strict=True)):
        if dists[row, b] <= FILE_MEAN:
            out[i] = (others[int(b)], DisplayState.LIVE)
    return out
