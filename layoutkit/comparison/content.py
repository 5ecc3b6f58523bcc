"""Content checks: does every region of every frame show what the rules predict?

:func:`check_content` streams the decoded frames once through a :class:`Probe` (compact
observations), aligns them (:mod:`~layoutkit.comparison.align`), classifies every region of
every frame (:mod:`~layoutkit.comparison.classify`) and turns the mismatches into
:class:`~layoutkit.comparison.model.Difference` items, per-region tracks and evidence.

Tolerances
----------
* A transition is on time when it happens within ``tolerance_frames`` (default 2) frames
  plus half a frame of decoder jitter of the expected time (133 ms + 33 ms at 15 fps): a
  region that still shows the old state (or already the new one) for longer is reported as
  ``late_transition`` / ``early_transition`` with both times.
* Any other mismatch must last more than ``tolerance_frames`` frames to be reported.
* A/V offset (test stream flash vs beep): +45 / -125 ms, positive = sound ahead
  (ITU-R BT.1359); see :mod:`~layoutkit.comparison.avsync`.
* Dropped + duplicated frames are reported when more than 1 % of the frames (at least 3).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import numpy.typing as npt

from ..compose.yuv import i420_to_rgb
from ..errors import MediaError
from ..profile import DEFAULT_PROFILE, PROFILE_CHOICES, Profile
from ..render import SceneRenderer, canvas_size
from ..scenario import Scenario, first_join_times
from .align import Alignment, CodeInputs, align_recording, still_weights
from .avsync import AV_TOLERANCE_S, Flashes, check_av, heard_spans
from .classify import (DESC_LUMA, DESC_MEAN, LIVE_TOLERANCE_FRAMES, RegionObservation, classify,
                       desc_distance, luma_shift, range_undone, range_variant,
                       user_shifts)
from .events import (DEFAULT_EVENT_TOLERANCE, EventFit, FrameData, classify_cost,
                     event_difference, fit_events, frozen_picture_difference, named_by,
                     observed_freezes)
from .expect import Expectation, Label, build_expectation, source_kind
from ..io.frames import AudioChunk, DecodedFrame
from .model import Difference, Evidence, Interval, RegionTrack
from .observe import Observations, Probe
from .levels import recording_range
from .rates import flashes_at_rate, publisher_rates

if TYPE_CHECKING:
    from .clock import RecordingClock

__all__ = ["ContentResult", "check_content", "PICTURE_KEYS"]

#: Profile keys that change pictures (the others are decided from the files).
PICTURE_KEYS = ("vertical_column_order", "vertical_without_large", "floating_render",
                "vertical_render", "after_stop")

Frames = Iterable[DecodedFrame] | Callable[[], Iterable[DecodedFrame]]

_STATE_NAMES = {"live": "live", "last_frame": "last frame", "black": "black",
                "canvas_color": "canvas colour", "canvas_background": "canvas background",
                "user_image": "user image", "empty": "empty", "unknown": "an unrecognised picture"}
_BACKGROUNDISH = ("canvas_color", "canvas_background", "empty")


@dataclass(frozen=True)
class ContentResult:
    """What the content checks found.

    Attributes
    ----------
    offset_s : float or None
        Recording time (seconds from the first frame) of the scenario's t = 0.
    differences : tuple of Difference
    tracks : tuple of RegionTrack
    evidence : tuple of Evidence
    stats : dict
        ``frames``, ``codes_read``, ``alignment`` (``codes`` | ``clock`` | ``pictures``),
        ``alignment_confidence`` (``high`` | ``low`` | ``none``), ``votes``,
        ``drift_frames``, ``dropped_frames``, ``duplicated_frames``, ``glitches`` (short
        mismatches within tolerance), ``tolerance_s``, ``publisher_fps`` (uid -> the rate its
        test stream's frame numbers advance at, :mod:`~layoutkit.comparison.rates`),
        ``video_range`` (the limited/full range mix-up the whole recording shows, if any,
        :mod:`~layoutkit.comparison.levels`); with sound ``beeps``, ``av_offset_s``,
        ``av_method``, ``av_rival_s`` (:func:`~layoutkit.comparison.avsync.check_av`).
    infer : dict or None
        With ``infer=True``: profile key -> value, or ``"undetermined"``.
    alignment : Alignment or None
        How ``offset_s`` was found, and how sure that is
        (:func:`~layoutkit.comparison.align.align_recording`).
    events : tuple of EventFit
        Each picture event's fitted time in its window (:mod:`~layoutkit.comparison.events`).
    """

    offset_s: float | None
    differences: tuple[Difference, ...] = ()
    tracks: tuple[RegionTrack, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)
    infer: dict[str, str] | None = None
    alignment: Alignment | None = None
    events: tuple[EventFit, ...] = ()


class _Reservoir:
    """A few luma planes spread over the recording (for the wrong-layout check)."""

    def __init__(self, cap: int = 16, spacing: float = 1.0) -> None:
        self.cap, self.spacing = cap, spacing
        self.items: list[tuple[float, npt.NDArray[np.uint8]]] = []

    def offer(self, t: float, luma: npt.NDArray[np.uint8]) -> None:
        if self.items and t - self.items[-1][0] < self.spacing:
            return
        if len(self.items) >= self.cap:
            self.items = self.items[::2]
            self.spacing *= 2
            if t - self.items[-1][0] < self.spacing:
                return
        self.items.append((t, luma.copy()))


def _fit_frame(i420: npt.NDArray[np.uint8], canvas_wh: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """The frame resized to the canvas when the recording has another size."""
    w, h = canvas_wh
    if i420.shape == (h * 3 // 2, w):
        return i420
    sh, sw = i420.shape[0] * 2 // 3, i420.shape[1]
    flat = i420.reshape(-1)
    y = i420[:sh]
    u = flat[sw * sh: sw * sh + (sw // 2) * (sh // 2)].reshape(sh // 2, sw // 2)
    v = flat[sw * sh + (sw // 2) * (sh // 2):].reshape(sh // 2, sw // 2)
    out = np.empty((h * 3 // 2, w), dtype=np.uint8)
    oflat = out.reshape(-1)
    out[:h] = cv2.resize(y, (w, h), interpolation=cv2.INTER_AREA)
    q = (w // 2) * (h // 2)
    oflat[w * h:w * h + q] = cv2.resize(u, (w // 2, h // 2), interpolation=cv2.INTER_AREA).reshape(-1)
    oflat[w * h + q:] = cv2.resize(v, (w // 2, h // 2), interpolation=cv2.INTER_AREA).reshape(-1)
    return out


def _state(label: Label) -> str:
    return _STATE_NAMES.get(label[1], label[1])


def _describe(label: Label) -> str:
    who, state = label
    if who is None:
        return _state(label)
    return f"uid {who} {_state(label)}"


def _kind(expected: Label, observed: Label) -> str:
    ew, es = expected
    ow, os_ = observed
    if os_ == "unknown":
        return "wrong_background" if es in _BACKGROUNDISH else "wrong_state"
    if ew is None:
        return "extra_user" if ow is not None else "wrong_state"
    if ow is not None and ow != ew:
        return "wrong_user"
    if ow is None and es in ("live", "last_frame"):
        return "missing_user"
    return "wrong_state"


def _rle(t: npt.NDArray[np.float64], labels: Sequence[Label], step: float) -> list[Interval]:
    out: list[Interval] = []
    for i, label in enumerate(labels):
        if out and out[-1].who == label[0] and out[-1].state == label[1] and \
                t[i] - out[-1].end <= 1.5 * step:
            out[-1] = replace(out[-1], end=float(t[i] + step))
        else:
            out.append(Interval(float(t[i]), float(t[i] + step), label[0], label[1]))
    return out


@dataclass
class _Run:
    track: tuple[int, tuple[int, int, int, int]]
    i0: int
    i1: int
    t0: float
    t1: float
    observed: Label
    expected: Label
    frame: int  # observation index of a representative frame
    region: int
    uid: str | None


def frame_loss_allowed(frames: int) -> float:
    """Dropped plus repeated frames tolerated before ``dropped_frames`` is reported.

    >>> frame_loss_allowed(120), frame_loss_allowed(9000)
    (3, 90.0)
    """
    return max(3, 0.01 * frames)


def _lone_match(tr: dict[str, Any], match: npt.NDArray[np.bool_], t: npt.NDArray[np.float64],
                j: int, step: float) -> bool:
    """Frame ``j + 1`` is one matching frame inside a mismatching run (same expected and
    observed label on both sides): a glitch, e.g. a test stream's flash frame, which is
    accepted for any user's look; the run goes on over it."""
    k = j + 2
    return (k < len(t) and not match[k] and t[k] - t[j + 1] <= 2.5 * step
            and tr["labels"][j] == tr["labels"][k] and tr["expected"][j] == tr["expected"][k])


def _track_runs(obs: list[RegionObservation], exp: Expectation, step: float,
                brightness: npt.NDArray[np.float64]) -> tuple[
        dict[tuple[int, tuple[int, int, int, int]], dict[str, Any]], list[_Run]]:
    """Join region observations into tracks; find the runs of mismatching frames."""
    tracks: dict[tuple[int, tuple[int, int, int, int]], dict[str, Any]] = {}
    for ro in obs:
        key = (ro.expect.index, ro.expect.rect)
        tr = tracks.setdefault(key, {"t": [], "match": [], "labels": [], "expected": [],
                                     "frames": [], "changes": [], "periods": []})
        prev = tr["expected"][-1] if tr["expected"] else None
        if prev != ro.expect.label:
            tr["changes"].append((exp.periods[ro.period].start, prev, ro.expect.label))
        tr["t"].extend(ro.t.tolist())
        tr["match"].extend(ro.match.tolist())
        tr["labels"].extend(ro.labels)
        tr["expected"].extend([ro.expect.label] * len(ro.t))
        tr["frames"].extend(ro.frames.tolist())
    runs: list[_Run] = []
    for key, tr in tracks.items():
        t = np.asarray(tr["t"])
        match = np.asarray(tr["match"], dtype=bool)
        i = 0
        n = len(t)
        while i < n:
            if match[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and t[j + 1] - t[j] <= 2.5 * step and (
                    not match[j + 1] or _lone_match(tr, match, t, j, step)):
                j += 1
            observed = Counter(tr["labels"][i:j + 1]).most_common(1)[0][0]
            expected = Counter(tr["expected"][i:j + 1]).most_common(1)[0][0]
            # the representative frame: near the middle, not a test stream's flash
            mid = (i + j) // 2
            near = [tr["frames"][k] for k in range(max(i, mid - 3), min(j, mid + 3) + 1)]
            frame = int(min(near, key=lambda f: brightness[f]))
            runs.append(_Run(key, i, j, float(t[i]), float(t[j] + step), observed, expected,
                             frame, key[0], expected[0] or observed[0]))
            i = j + 1
    return tracks, runs


def _transition(kind: str, run: _Run, expected_t: float, seen_t: float, before: Any,
                after: Any) -> Difference:
    """A ``late_transition`` / ``early_transition``: the change from ``before`` to ``after``
    (``(uid, state)`` pairs) seen at ``seen_t`` instead of ``expected_t``."""
    uid = after[0] or before[0]
    return Difference(kind,
                      f"uid {uid}: {_state(before)} -> {_state(after)} at {seen_t:.2f} s, "
                      f"expected {expected_t:.2f} s", uid=uid, t=expected_t,
                      expected={"t": round(expected_t, 3), "from": before[1], "to": after[1]},
                      observed={"t": round(seen_t, 3)}, region=run.region)


def _run_difference(run: _Run, tr: dict[str, Any], tol_s: float, min_frames: int
                    ) -> Difference | None:
    """The difference a mismatching run stands for, or None when within tolerance."""
    t = tr["t"]
    match = tr["match"]
    n_frames = run.i1 - run.i0 + 1
    # the region shows the expected picture right after (before) the run
    ends_right = run.i1 + 1 < len(t) and match[run.i1 + 1] and \
        t[run.i1 + 1] - t[run.i1] <= 2.5 * tol_s
    starts_right = run.i0 > 0 and match[run.i0 - 1] and t[run.i0] - t[run.i0 - 1] <= 2.5 * tol_s
    for c, before, after in tr["changes"]:
        if before is None:  # the region appears: what it showed first stands for "before"
            before = run.observed if abs(run.t0 - c) <= tol_s else None
        if before is None:
            continue
        if abs(run.t0 - c) <= tol_s and run.observed == before and ends_right:
            seen = t[run.i1 + 1]
            if seen - c <= tol_s:
                return None
            return _transition("late_transition", run, c, seen, before, after)
        if abs(run.t1 - c) <= tol_s and run.observed == after and starts_right:
            if c - run.t0 <= tol_s:
                return None
            return _transition("early_transition", run, c, run.t0, before, after)
    if n_frames <= min_frames:
        return None
    kind = _kind(run.expected, run.observed)
    where = f"region {run.region}"
    msg = (f"{where}: {_describe(run.observed)} from {run.t0:.2f} s to {run.t1:.2f} s, "
           f"expected {_describe(run.expected)}")
    uid = run.expected[0] if run.expected[0] is not None else run.observed[0]
    return Difference(kind, msg, uid=uid, t=run.t0,
                      expected={"uid": run.expected[0], "state": run.expected[1]},
                      observed={"uid": run.observed[0], "state": run.observed[1],
                                "until": round(run.t1, 3)},
                      region=run.region)


def _yuv_rgb(yuv: npt.NDArray[np.floating]) -> list[int]:
    pixel = np.array([[yuv[0]] * 2] * 2 + [[yuv[1], yuv[2]]], dtype=np.uint8)
    pixel = np.zeros((3, 2), dtype=np.uint8)
    pixel[:2] = int(round(float(yuv[0])))
    flat = pixel.reshape(-1)
    flat[4] = int(round(float(yuv[1])))
    flat[5] = int(round(float(yuv[2])))
    return [int(v) for v in i420_to_rgb(pixel)[0, 0]]


def _as_factory(frames: Frames) -> tuple[Iterable[DecodedFrame], Callable[[], Iterable[DecodedFrame]] | None]:
    if callable(frames):
        return frames(), frames
    return frames, None


@dataclass
class _Prepared:
    scenario: Scenario
    profile: Profile
    probe: Probe
    expectation: Expectation
    renderer: SceneRenderer
    alternatives: dict[tuple[str, str], Expectation]
    joins: dict[str, float]


def _prepare(scenario: Scenario, *, profile: Profile, infer: bool,
             probe: Probe | None = None) -> _Prepared:
    probe = Probe(canvas_size(scenario)) if probe is None else probe
    renderer = SceneRenderer(scenario, profile=profile)
    exp = build_expectation(scenario, probe, profile=profile, renderer=renderer)
    alternatives: dict[tuple[str, str], Expectation] = {}
    if infer:
        for key in PICTURE_KEYS:
            for value in PROFILE_CHOICES[key]:
                if value == getattr(profile, key):
                    continue
                alt = replace(profile, **{key: value})  # type: ignore[arg-type]
                with SceneRenderer(scenario, profile=alt) as r2:
                    alternatives[(key, value)] = build_expectation(
                        scenario, probe, profile=alt, renderer=r2, candidates=False)
    joins = {u: float(t) for u, t in first_join_times(scenario).items()}
    return _Prepared(scenario, profile, probe, exp, renderer, alternatives, joins)


def _observe(frames: Iterable[DecodedFrame], probe: Probe,
             reservoir: _Reservoir) -> tuple[Observations, float | None]:
    obs = Observations(probe)
    origin: float | None = None
    h = probe.canvas_wh[1]
    for frame in frames:
        if origin is None:
            origin = frame.t
        picture = _fit_frame(frame.i420, probe.canvas_wh)
        r = frame.t - origin
        obs.add(r, picture)
        reservoir.offer(r, picture[:h])
    return obs, origin


#: Profile keys that move regions (tried by the wrong-layout check).
GEOMETRY_KEYS = ("vertical_column_order", "vertical_without_large", "floating_render",
                 "vertical_render")
_MODE_NAMES = {0: "floating", 1: "best fit", 2: "vertical", 3: "custom"}


def _wrong_layout(prep: _Prepared, runs_by_period: dict[int, float], reservoir: _Reservoir,
                  offset: float, uid_names: list[str]) -> list[tuple[int, Difference]]:
    """Periods whose frames fit another layout better (test-stream codes only).

    Tried for a period where most region-frames mismatch, on the sampled frames of the
    period: every other ``mixedVideoLayout`` and every other value of each profile key that
    moves regions.  The share of expected live users whose code is read in the right
    region must reach 60 % and beat the expected layout's by 30 points.
    """
    out: list[tuple[int, Difference]] = []
    has_codes = any(source_kind(u.source) == "testsrc" for u in prep.scenario.users)
    if not has_codes or not runs_by_period:
        return out
    exp = prep.expectation
    for p, bad_share in runs_by_period.items():
        if bad_share < 0.5:
            continue
        period = exp.periods[p]
        samples = [luma for r, luma in reservoir.items if period.start <= r - offset < period.end]
        if not samples:
            continue
        own_mode = period.layout_mode
        tries: list[tuple[str, Any, Any, int, Profile]] = []
        for mode in (0, 1, 2):
            tries.append((f"layout {mode} ({_MODE_NAMES[mode]})", own_mode, mode, mode,
                          prep.profile))
        for key in GEOMETRY_KEYS:
            for value in PROFILE_CHOICES[key]:
                if value != getattr(prep.profile, key):
                    tries.append((f"profile {key}={value}", {key: getattr(prep.profile, key)},
                                  {key: value}, own_mode,
                                  replace(prep.profile, **{key: value})))  # type: ignore[arg-type]
        own_score = None
        scores: list[tuple[float, str, Any, Any]] = []
        for label, expected, observed, mode, profile in tries:
            probe = Probe(prep.probe.canvas_wh)
            alt = build_expectation(prep.scenario, probe, profile=profile,
                                    renderer=prep.renderer, mode_override=mode, candidates=False)
            if p >= len(alt.periods):
                continue
            regs = [r for r in alt.periods[p].regions if r.kind == "code_live"]
            if not regs:
                continue
            hits = 0
            for luma in samples:
                uids, _ = probe.read_codes(luma)
                names = list(probe.uids)
                hits += sum(int(uids[r.code_key] >= 0 and names[uids[r.code_key]] == r.label[0])
                            for r in regs)
            score = hits / (len(regs) * len(samples))
            if mode == own_mode and profile == prep.profile:
                own_score = score
            else:
                signature = alt.periods[p].regions
                if any(signature == s[3] for s in scores):
                    continue
                scores.append((score, label, (expected, observed), signature))
        own = own_score or 0.0
        if not scores:
            continue
        best, label, (expected, observed), _ = max(scores, key=lambda s: s[0])
        if best >= 0.6 and best > own + 0.3:
            out.append((p, Difference(
                "wrong_layout",
                f"from {period.start:.2f} s the picture fits {label} ({best:.0%} of users "
                f"found) rather than the expected layout {own_mode} ({_MODE_NAMES[own_mode]}) "
                f"with this profile ({own:.0%})",
                t=period.start, expected=expected, observed=observed)))
    return out


def check_content(frames: Frames, scenario: Scenario, *, profile: Profile = DEFAULT_PROFILE,
                  fps: float | None = None,
                  audio: Iterable[AudioChunk] | None = None,
                  tolerance_frames: int = LIVE_TOLERANCE_FRAMES,
                  av_tolerance_s: tuple[float, float] = AV_TOLERANCE_S,
                  evidence_cap: int = 12, infer: bool = False,
                  clock: RecordingClock | None = None,
                  event_tolerance: Fraction = DEFAULT_EVENT_TOLERANCE) -> ContentResult:
    """Compare the decoded pictures of a recording with what ``scenario`` predicts.

    Parameters
    ----------
    frames : iterable of DecodedFrame, or a callable returning one
        The recording's frames in order (one pass).  With a callable, the frames behind
        the worst differences are decoded again for :class:`Evidence` (a plain iterable
        gives no evidence).
    scenario : Scenario
        Relative source and image paths resolve against its ``base_dir``.
    profile : Profile
        Behaviour choices the expectations follow.
    fps : float, optional
        The recording's frame rate (default the scenario's); times are judged on the
        scenario's frame grid.
    audio : iterable of AudioChunk, optional
        The recording's audio (same clock as the frames), for the A/V offset.
    tolerance_frames : int
        Transition timing tolerance and live-code tolerance, in frames.
    av_tolerance_s : (float, float)
        Most sound-ahead (positive) and most sound-behind (negative) A/V offset accepted.
    evidence_cap : int
        At most this many evidence frame pairs.
    infer : bool
        Also evaluate each single-key profile alternative in the same pass
        (:attr:`ContentResult.infer`).
    clock : RecordingClock, optional
        Where the recording's own clock puts the scenario's t = 0
        (:func:`~layoutkit.comparison.clock.clock_offset`): used when no code is readable
        (:func:`~layoutkit.comparison.align.align_recording`).
    event_tolerance : Fraction
        Seconds each event (without its own ``tolerance``) may really have happened before
        or after its scenario time (:mod:`~layoutkit.comparison.events`).

    Returns
    -------
    ContentResult

    Raises
    ------
    MediaError
        When no frame could be decoded.
    """
    prep = _prepare(scenario, profile=profile, infer=infer)
    try:
        return _check(prep, frames, fps=fps, audio=audio, tol=tolerance_frames,
                      av_tol=av_tolerance_s, evidence_cap=evidence_cap, clock=clock,
                      event_tolerance=Fraction(event_tolerance))
    finally:
        prep.renderer.close()


def _check(prep: _Prepared, frames: Frames, *, fps: float | None,
           audio: Iterable[AudioChunk] | None, tol: int, av_tol: tuple[float, float],
           evidence_cap: int, event_tolerance: Fraction,
           clock: RecordingClock | None = None) -> ContentResult:
    exp = prep.expectation
    probe = prep.probe
    step = 1.0 / exp.fps
    tol_s = (tol + 0.5) * step
    iterable, factory = _as_factory(frames)
    reservoir = _Reservoir()
    obs, origin = _observe(iterable, probe, reservoir)
    if origin is None:
        msg = "recording: no video frame could be decoded"
        raise MediaError(msg)
    times, cells, code_uids, code_frames = obs.arrays()
    uid_names = list(probe.uids)
    stats: dict[str, Any] = {"frames": len(times), "codes_read": int((code_uids >= 0).sum()),
                             "tolerance_s": round(tol_s, 3), "fps": fps or exp.fps}
    rates = publisher_rates(times, code_uids, code_frames, uid_names, fps=exp.fps)
    stats["publisher_fps"] = {u: round(r, 3) for u, r in rates.items() if u in prep.joins}
    # --- alignment (align.align_recording): codes, else the recording's clock, else the
    # pictures with still regions weighted above moving ones
    alignment, offsets, jumps = align_recording(
        exp, times, cells[:, _slice(probe, probe.canvas_key)],
        CodeInputs(code_uids, code_frames, tuple(uid_names), prep.joins, exp.fps, rates),
        clock=clock, weights=still_weights(exp, probe.cell_rects(probe.canvas_key),
                                           probe.factor))
    offset = alignment.offset_s
    stats.update(alignment=alignment.method, alignment_confidence=alignment.confidence,
                 votes=alignment.codes.votes if alignment.codes else 0)
    # --- end of alignment
    levels = recording_range(obs.code_levels, exp, probe, times, cells, offset=offsets)
    stats["video_range"] = levels.describe()
    mixup = levels.mixup
    # --- event windows (comparison/events.py): each event's time fitted in its window; ---
    # --- the expectation is rebuilt for the fitted times and judged from them          ---
    fits, fit_diffs = _fit_windows(prep, FrameData(times, cells, code_uids, code_frames,
                                                   offsets, dict(prep.joins), tuple(uid_names),
                                                   rates, mixup),
                                   tol=tol, tolerance=event_tolerance)
    exp = prep.expectation
    # ------------------------------------------------------------------------------------
    region_obs = classify(exp, probe, times, cells, code_uids, code_frames, offset=offsets,
                          joins=prep.joins, uid_names=uid_names, tol=tol, rates=rates,
                          range_mixup=mixup)
    shifts = user_shifts(region_obs, tol=tol)
    if shifts:  # test streams whose clocks start elsewhere than their joins
        region_obs = classify(exp, probe, times, cells, code_uids, code_frames, offset=offsets,
                              joins=prep.joins, uid_names=uid_names, tol=tol, shifts=shifts,
                              rates=rates, range_mixup=mixup)
    stats["user_shift_frames"] = shifts
    brightness = cells[:, _slice(probe, probe.canvas_key), 0].mean(axis=1).astype(np.float64)
    tracks_data, runs = _track_runs(region_obs, exp, step, brightness)
    differences = list(fit_diffs)
    run_of: list[_Run | None] = [None] * len(differences)
    glitches = 0
    bad_by_period: dict[int, list[int]] = {}
    for ro in region_obs:
        share = bad_by_period.setdefault(ro.period, [0, 0])
        share[0] += int((~ro.match).sum())
        share[1] += len(ro.match)
    for run in runs:
        diff = _run_difference(run, tracks_data[run.track], tol_s, tol)
        if diff is None:
            glitches += 1
            continue
        if named_by(diff, fit_diffs):  # event windows: a wrong frozen picture, named once
            continue
        differences.append(diff)
        run_of.append(run)
    # whole periods in another layout mode
    bad_share = {p: b / n for p, (b, n) in bad_by_period.items() if n}
    for p, diff in _wrong_layout(prep, bad_share, reservoir, offset, uid_names):
        period = exp.periods[p]
        keep = [(d, r) for d, r in zip(differences, run_of)
                if r is None or not (period.start <= r.t0 < period.end)]
        differences = [d for d, _ in keep] + [diff]
        run_of = [r for _, r in keep] + [None]
    # background outside every region
    t_all = times - offsets
    pidx = np.searchsorted(exp.starts, t_all, side="right") - 1
    inside = (t_all >= 0) & (t_all < exp.end)
    for p, period in enumerate(exp.periods):
        if period.bg_key is None or period.bg_expected is None:
            continue
        rows = np.nonzero(inside & (pidx == p))[0]
        if rows.size < 3:
            continue
        got = cells[rows][:, _slice(probe, period.bg_key)]
        valid = probe.valid(period.bg_key)
        ref = range_variant(period.bg_expected, mixup)
        mean, _ = desc_distance(got, ref, valid)
        bad = (mean > DESC_MEAN) | (np.abs(luma_shift(got, ref, valid)) > DESC_LUMA)
        if bad.mean() > 0.5 and valid.any():
            seen = _yuv_rgb(range_undone(got[:, valid].reshape(-1, 3).mean(axis=0), mixup))
            want = _yuv_rgb(period.bg_expected[valid].mean(axis=0))
            if not any(d.kind == "wrong_background" for d in differences):
                differences.append(Difference(
                    "wrong_background",
                    f"canvas background from {period.start:.2f} s is RGB {tuple(seen)}, "
                    f"expected RGB {tuple(want)}", t=period.start, expected=want, observed=seen))
                run_of.append(_Run((-1, (0, 0, 0, 0)), 0, 0, period.start, period.end,
                                   (None, "unknown"), (None, "canvas_background"),
                                   int(rows[0]), -1, None))
    # frame timing: drift, dropped and duplicated frames
    devs = [(ro.frames, ro.deviation) for ro in region_obs if ro.expect.kind == "code_live"]
    drift = 0.0
    duplicated = 0
    if devs:
        fr = np.concatenate([f for f, _ in devs])
        dv = np.concatenate([d for _, d in devs])
        ok = ~np.isnan(dv) & (np.abs(dv) < 64)
        if ok.sum() >= 10:
            order = np.argsort(fr[ok])
            series = dv[ok][order]
            tenth = max(1, series.size // 10)
            drift = float(np.median(series[-tenth:]) - np.median(series[:tenth]))
        live_keys: dict[int, list[tuple[int, int]]] = {}
        for ro in region_obs:
            # a publisher slower than the canvas repeats its frames by itself: not counted
            if ro.expect.kind == "code_live" and ro.expect.code_key is not None and \
                    rates.get(ro.expect.label[0] or "", exp.fps) >= exp.fps * 0.99:
                read = code_uids[ro.frames, ro.expect.code_key] >= 0
                for f in ro.frames[ro.match & read]:
                    live_keys.setdefault(int(f), []).append(
                        (ro.expect.code_key, int(code_frames[f, ro.expect.code_key])))
        for f, items in live_keys.items():
            prev = live_keys.get(f - 1)
            if prev and {k for k, _ in prev} == {k for k, _ in items} and \
                    dict(prev) == dict(items):
                duplicated += 1
    gaps = np.diff(times)
    dropped = int(np.maximum(0, np.round(gaps[gaps > 1.5 * step] / step) - 1).sum()) if gaps.size else 0
    dropped += jumps[0]
    duplicated += jumps[1]
    stats.update(drift_frames=round(drift, 2), dropped_frames=dropped,
                 duplicated_frames=duplicated, glitches=glitches)
    if dropped + duplicated > frame_loss_allowed(len(times)):
        differences.append(Difference(
            "dropped_frames",
            f"{dropped} frames missing and {duplicated} repeated out of {len(times)}",
            expected=0, observed={"dropped": dropped, "duplicated": duplicated}))
        run_of.append(None)
    if abs(drift) > 2 * tol:
        differences.append(Difference(
            "drift", f"the test streams' frame numbers drift by {drift:+.1f} frames over the "
            "recording", expected=0, observed=drift))
        run_of.append(None)
    # A/V offset
    if audio is not None:
        flashes = []
        uid_of = {u: i for i, u in enumerate(uid_names)}
        for ro in region_obs:
            if ro.expect.kind == "code_live" and ro.expect.code_key is not None:
                f = code_frames[ro.frames, ro.expect.code_key]
                # a flash is dated from the frames whose code was read, as this user's, at
                # (or just after) frame 0 of a second, at the user's own rate (an unread
                # code's frame number is 0 too: it is no flash)
                who_uid = ro.expect.label[0] or ""
                who = uid_of.get(who_uid, -2)
                read = code_uids[ro.frames, ro.expect.code_key] == who
                hit = ro.match & read
                flashes.append((*flashes_at_rate(times[ro.frames[hit]], f[hit], fps=exp.fps,
                                                 rate=rates.get(who_uid, exp.fps)), who_uid))
        av = check_av(Flashes.of(flashes), audio, origin=origin, offset=offset, tolerance=av_tol,
                      spans=heard_spans(prep.scenario, profile=prep.profile))
        stats.update(av.stats)
        differences += av.differences
        run_of += [None] * len(av.differences)
    tracks = _tracks(prep, region_obs, tracks_data, step)
    evidence = _evidence(prep, differences, run_of, factory, offsets, origin, cap=evidence_cap)
    infer_result = _infer(prep, times, cells, code_uids, code_frames, offsets, uid_names, tol,
                          shifts, rates, mixup) \
        if prep.alternatives else None
    return ContentResult(offset_s=offset, differences=tuple(differences), tracks=tracks,
                         evidence=evidence, stats=stats, infer=infer_result,
                         alignment=alignment, events=fits)


def _fit_windows(prep: _Prepared, data: FrameData, *, tol: int, tolerance: Fraction
                 ) -> tuple[tuple[EventFit, ...], tuple[Difference, ...]]:
    """Fit each event's time in its window (:func:`~layoutkit.comparison.events.fit_events`,
    a test stream's observed freeze first); when one moved, ``prep`` is rebuilt in place
    for the fitted scenario (its renderer replaced and the old one closed; the probe and
    its keys kept).  Returns the fits and their differences: events no time in the window
    explains, freezes on another picture than the last live frame."""
    cost = classify_cost(data, prep.probe, prep.renderer, tol=tol)
    step = Fraction(1, prep.expectation.fps)
    freezes = observed_freezes(prep.scenario, prep.expectation, data, tolerance=tolerance)
    fitted, fits = fit_events(prep.scenario, cost, step=step, tolerance=tolerance,
                              seen_at={i: Fraction(f.t) for i, f in freezes.items()})
    if fitted != prep.scenario:
        new = _prepare(fitted, profile=prep.profile, infer=bool(prep.alternatives),
                       probe=prep.probe)
        prep.renderer.close()
        prep.scenario, prep.expectation, prep.renderer = new.scenario, new.expectation, new.renderer
        prep.alternatives, prep.joins = new.alternatives, new.joins
    found = [event_difference(fit) for fit in fits]
    found += [frozen_picture_difference(fit, freezes[fit.index]) for fit in fits
              if fit.index in freezes]
    return fits, tuple(d for d in found if d is not None)


def _slice(probe: Probe, key: int) -> slice:
    probe._freeze()
    return slice(int(probe._offsets[key]), int(probe._offsets[key + 1]))


def _tracks(prep: _Prepared, region_obs: list[RegionObservation],
            tracks_data: dict[tuple[int, tuple[int, int, int, int]], dict[str, Any]],
            step: float) -> tuple[RegionTrack, ...]:
    expected: dict[tuple[int, tuple[int, int, int, int]], list[Interval]] = {}
    for period in prep.expectation.periods:
        for reg in period.regions:
            items = expected.setdefault((reg.index, reg.rect), [])
            if items and items[-1].who == reg.label[0] and items[-1].state == reg.label[1] \
                    and abs(items[-1].end - period.start) < 1e-9:
                items[-1] = replace(items[-1], end=period.end)
            else:
                items.append(Interval(period.start, period.end, reg.label[0], reg.label[1]))
    out = []
    for key, intervals in sorted(expected.items(), key=lambda kv: (kv[1][0].start, kv[0][0])):
        data = tracks_data.get(key)
        observed = _rle(np.asarray(data["t"]), data["labels"], step) if data else []
        out.append(RegionTrack(key[0], key[1], tuple(intervals), tuple(observed)))
    return tuple(out)


def _evidence(prep: _Prepared, differences: list[Difference], run_of: list[_Run | None],
              factory: Callable[[], Iterable[DecodedFrame]] | None,
              offsets: npt.NDArray[np.float64], origin: float, *, cap: int) -> tuple[Evidence, ...]:
    """Expected and recorded frames of the longest differences (a second decoding pass)."""
    if factory is None or cap <= 0:
        return ()
    ranked = sorted((i for i, r in enumerate(run_of) if r is not None),
                    key=lambda i: -(run_of[i].t1 - run_of[i].t0))[:cap]  # type: ignore[union-attr]
    if not ranked:
        return ()
    wanted: dict[int, list[int]] = {}
    for i in ranked:
        wanted.setdefault(run_of[i].frame, []).append(i)  # type: ignore[union-attr]
    last = max(wanted)
    got: dict[int, tuple[float, npt.NDArray[np.uint8]]] = {}
    for n, frame in enumerate(factory()):
        if n in wanted:
            got[n] = (frame.t - origin, i420_to_rgb(_fit_frame(frame.i420, prep.probe.canvas_wh)))
        if n >= last:
            break
    fps = prep.expectation.fps
    out = []
    for n, indices in sorted(wanted.items()):
        if n not in got:
            continue
        r, rgb = got[n]
        t = max(Fraction(0), Fraction(round((r - offsets[n]) * fps), fps))
        expected = prep.renderer.frame_at(t).rgb()
        for i in indices:
            out.append(Evidence(i, float(t), expected, rgb))
    return tuple(sorted(out, key=lambda e: e.difference))


def _without_looks(exp: Expectation) -> Expectation:
    """``exp`` with no candidate looks (as the inference alternatives are built)."""
    return replace(exp, periods=tuple(
        replace(p, regions=tuple(replace(r, looks=None) for r in p.regions))
        for p in exp.periods))


def _infer(prep: _Prepared, times: npt.NDArray[np.float64], cells: npt.NDArray[np.uint8],
           code_uids: npt.NDArray[np.int32], code_frames: npt.NDArray[np.int32],
           offset: npt.NDArray[np.float64],
           uid_names: list[str], tol: int, shifts: dict[str, int],
           rates: dict[str, float] | None = None, mixup: str | None = None) -> dict[str, str]:
    """Per picture key: the value whose expectation the frames match best."""

    def misses(exp: Expectation) -> int:
        ros = classify(exp, prep.probe, times, cells, code_uids, code_frames, offset=offset,
                       joins=prep.joins, uid_names=uid_names, tol=tol, name=False,
                       shifts=shifts, rates=rates, range_mixup=mixup)
        return int(sum((~ro.match).sum() for ro in ros))

    # the alternatives are built without candidate looks; judge the base the same way, or
    # its look fallback for unreadable codes (tiny tiles) and flash frames biases the vote
    base = misses(_without_looks(prep.expectation))
    signature = prep.expectation.signature()
    result: dict[str, str] = {}
    n = max(1, len(times))
    for key in PICTURE_KEYS:
        own = getattr(prep.profile, key)
        scores = {own: base}
        differs = False
        for (k, value), exp in prep.alternatives.items():
            if k != key:
                continue
            if exp.signature() == signature:
                continue
            differs = True
            scores[value] = misses(exp)
        if not differs:
            result[key] = "undetermined"
            continue
        best = min(scores, key=scores.__getitem__)
        runner = min(v for k2, v in scores.items() if k2 != best)
        # a clear winner: fewer mismatching region-frames by at least 2 % of the frames
        result[key] = best if runner - scores[best] >= max(3, 0.02 * n) else "undetermined"
    for key in PROFILE_CHOICES:
        result.setdefault(key, "undetermined")
    return result
