"""Content checks: whether every region of every frame shows what the rules predict.

:func:`check_content` runs the stages of :mod:`layoutkit.comparison` in order (see that
package's docstring for the flow): plan, observe (the decoded frames stream through once),
align, fit events, classify, runs, displacement (a displaced layout's frames moved back
and analysed again), checks (runs, layout, render modes, background, timing, A/V),
evidence (a second decoding pass) and, with ``infer``, the profile alternatives.

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

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..io.frames import DecodedFrame
from ..profile import DEFAULT_PROFILE, Profile
from ..scenario import Scenario
from . import align
from .alignment import Alignment, align_observed
from .avsync import Sound
from .events import EventFit, FittedEvents, fit_observed, named_by
from .expect import Expectation, file_names
from .findings import Finding, differences_of
from .frames import Observed, canvas_luma, observe_frames
from .model import Difference, Evidence, Interval, RegionTrack
from .people import People, explain_stops, read_people, shows_only_canvas
from .plan import PICTURE_KEYS, ContentOptions, Plan, prepare
from .regions import Classified, classify_observed
from .runs import Runs, find_runs, observed_intervals
from .timing import FrameTiming, frame_loss_allowed, measure_timing, timing_findings

if TYPE_CHECKING:
    from .avsync import AvCheck

# The check, evidence and inference stages (6-8) are imported where they run, after the
# frames are observed: a compare's first frame does not wait for them.

__all__ = [
    "PICTURE_KEYS",
    "Analysis",
    "Checked",
    "ContentOptions",
    "ContentResult",
    "Displacement",
    "analyse",
    "check_content",
    "find_displacement",
    "frame_loss_allowed",
    "moved_back",
    "run_checks",
]

Frames = Iterable[DecodedFrame] | Callable[[], Iterable[DecodedFrame]]


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
        :mod:`~layoutkit.comparison.levels`), ``video_read`` (real people's video stops and
        restarts read from the pictures, :mod:`~layoutkit.comparison.people`); with sound
        ``beeps``, ``av_offset_s``, ``av_method``, ``av_rival_s``
        (:func:`~layoutkit.comparison.avsync.check_av`).
    infer : dict or None
        With ``infer=True``: profile key -> value, or ``"undetermined"``.
    alignment : Alignment or None
        How ``offset_s`` was found, and how sure that is
        (:func:`~layoutkit.comparison.align.align_recording`).
    events : tuple of EventFit
        Each picture event's fitted time in its window (:mod:`~layoutkit.comparison.events`).
    warnings : tuple of Difference
        What the pictures cannot decide and the verdict does not count (a recording that
        shows only the canvas where real people should be, with no report that the recorder
        received video: :func:`~layoutkit.comparison.people.canvas_only`).
    """

    offset_s: float | None
    differences: tuple[Difference, ...] = ()
    tracks: tuple[RegionTrack, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)
    infer: dict[str, str] | None = None
    alignment: align.Alignment | None = None
    events: tuple[EventFit, ...] = ()
    warnings: tuple[Difference, ...] = ()


@dataclass(frozen=True)
class Displacement:
    """A displaced layout's finding, and the offset the frames were moved back by.

    ``finding`` is None when the layout is in place; ``moved`` is the offset the frames
    were moved back by before they were analysed again (:mod:`~.reread`; None: they were
    not).
    """

    finding: Finding | None
    moved: tuple[int, int] | None = None


@dataclass(frozen=True)
class Analysis:
    """The outputs of the stages before the checks (observe, align, fit, classify, runs).

    The checks, the evidence and the inference judge against :attr:`plan`: the scenario's
    at the fitted event times.
    """

    observed: Observed
    alignment: Alignment
    events: FittedEvents
    classified: Classified
    runs: Runs
    displacement: Displacement | None = None
    people: People | None = None

    @property
    def expectation(self) -> Expectation:
        """The expectation judged against (at the fitted event times)."""
        return self.events.expectation

    @property
    def plan(self) -> Plan:
        """The plan judged against (the given one, or one at the fitted event times)."""
        return self.events.plan


@dataclass(frozen=True)
class Checked:
    """The checks' findings (in report order) and their measurements."""

    findings: tuple[Finding, ...]
    glitches: int
    timing: FrameTiming
    av: AvCheck | None = None


def _fitted(plan: Plan, observed: Observed, alignment: Alignment,
            options: ContentOptions) -> FittedEvents:
    """Fit the events in their windows (stage 3), then date a leave's kept layout.

    The kept layout is dated by :func:`~.leaves.keep_layouts`; no event is fitted when
    real people's regions show only backgrounds (:func:`~.people.shows_only_canvas`: no
    join or leave to see).
    """
    from .leaves import keep_layouts

    if shows_only_canvas(plan, observed, alignment):
        return FittedEvents(plan)
    fitted_events = fit_observed(plan, observed, alignment, tol=options.tolerance_frames,
                                 tolerance=Fraction(options.event_tolerance))
    events = keep_layouts(plan, fitted_events, observed, alignment.offsets,
                          mixup=alignment.mixup)
    if events.plan is not fitted_events.plan and fitted_events.plan is not plan:
        fitted_events.plan.renderer.close()  # replaced: a leave's layout was kept
    return events


def analyse(plan: Plan, frames: Iterable[DecodedFrame], *,
            options: ContentOptions) -> Analysis:
    """Observe, align, fit events, classify and find the runs (stages 1-5).

    Alignment is by codes, else the recording's clock, else pictures; events are fitted
    in their windows.  When an event moved, :attr:`Analysis.plan` is a new plan whose
    renderer the caller closes.
    """
    tol = options.tolerance_frames
    observed = observe_frames(frames, plan.sampler)
    alignment = align_observed(observed, plan.expectation, plan.sampler, joins=plan.joins,
                               clock=options.clock)
    events = _fitted(plan, observed, alignment, options)
    people = read_people(events.plan, observed, alignment)
    if people.plan is not events.plan:  # real people's stops read from the pictures
        if events.plan is not plan:
            events.plan.renderer.close()
        events = replace(events, plan=people.plan)
    exp, fitted = events.expectation, events.plan
    classified = classify_observed(observed, alignment, exp, plan.sampler, joins=fitted.joins,
                                   tol=tol)
    runs = find_runs(classified.regions, exp, canvas_luma(observed, plan.sampler),
                     step=plan.step)
    return Analysis(observed, alignment, events, classified, runs, people=people)


def _event_and_run_findings(analysis: Analysis, judged: tuple[Finding, ...]
                            ) -> tuple[Finding, ...]:
    """Return the fitted events' differences first, then the runs'.

    A run of a frozen picture that an event's difference already names is left out
    (:func:`~.events.named_by`).
    """
    named = analysis.events.differences
    return tuple(Finding(d) for d in named) + tuple(
        f for f in judged if not named_by(f.difference, named))


def find_displacement(analysis: Analysis) -> Finding | None:
    """Find a displaced layout (a check stage).

    By the test-stream codes where they are expected (:func:`~.displacement.check_codes`,
    also ``unreadable_codes``), else by the tiles' edges against the canvas
    (:func:`~.edges.check_edges`).
    """
    plan, observed, alignment = analysis.plan, analysis.observed, analysis.alignment
    from .displacement import check_codes, expects_codes
    from .edges import check_edges

    if expects_codes(plan, observed, alignment):
        return check_codes(plan, observed, alignment)
    return check_edges(plan, observed.samples, alignment.offset)


def _displaced(analysis: Analysis) -> Finding | None:
    """Return the displacement found before (:func:`moved_back`), else find it now."""
    if analysis.displacement is not None:
        return analysis.displacement.finding
    return find_displacement(analysis)


def moved_back(plan: Plan, analysis: Analysis,
               source: Callable[[], Iterable[DecodedFrame]] | None, *,
               options: ContentOptions) -> Analysis:
    """Return ``analysis`` with its displacement found, re-analysed when displaced.

    When the layout is displaced (and the frames can be decoded again), the result is the
    analysis of the frames moved back by the offset (:mod:`~.reread`: the codes read again
    at the shifted place), its rebuilt plan (if any) closed.
    """
    from .reread import moved_frames, shift_of

    found = find_displacement(analysis)
    shift = shift_of(found)
    if shift is None or source is None:
        return replace(analysis, displacement=Displacement(found))
    again = analyse(plan, moved_frames(source(), shift, plan.sampler.canvas_wh),
                    options=options)
    if analysis.plan is not plan:
        analysis.plan.renderer.close()
    return replace(again, displacement=Displacement(found, shift))


def run_checks(analysis: Analysis, *, audio: Sound | None,
               options: ContentOptions) -> Checked:
    """Run every check (stage 6) against :attr:`Analysis.plan`.

    Findings come in report order: a displaced layout or unreadable codes
    (:func:`find_displacement`, found before when :func:`moved_back` ran), the render modes
    (:func:`~.rendermode.check_render_modes`, each replacing the runs it explains), the
    fitted events', runs (a period in another layout replaces its runs), background, frame
    timing, A/V.
    """
    from .avcheck import av_findings, measure_av
    from .layoutcheck import apply_wrong_layouts, find_wrong_layouts
    from .leaves import departures, kept_wrong_layouts, still_shown
    from .rendermode import apply_render_modes, check_render_modes
    from .runcheck import judge_runs

    plan, exp = analysis.plan, analysis.expectation
    tol = options.tolerance_frames
    away = departures(analysis.events.fits)
    judged = judge_runs(analysis.runs, tol_s=options.tolerance_s(exp.fps), min_frames=tol,
                        files=file_names(plan.scenario), away=away)
    kept = kept_wrong_layouts(analysis.events, analysis.observed, analysis.alignment.offsets)
    wrong = tuple(w for w in find_wrong_layouts(plan, analysis.classified.bad_share(),
                                                analysis.observed.samples,
                                                analysis.alignment.offset)
                  if w.period not in {k.period for k in kept}) + kept
    shown = still_shown(exp, analysis.observed, analysis.alignment.offsets, away)
    people = analysis.people
    found = tuple(Finding(d) for d in (people.differences if people is not None else ()))
    found += explain_stops(_event_and_run_findings(analysis, judged.findings) + shown, people)
    findings = apply_wrong_layouts(found, wrong, exp)
    modes = check_render_modes(plan, analysis.observed, analysis.alignment)
    findings = apply_render_modes(findings, modes)
    # a period in another layout explains its missing codes
    displaced = None if wrong else _displaced(analysis)
    if modes and displaced is not None and displaced.difference.kind == "unreadable_codes":
        displaced = None  # the codes are drawn the other way (read through those cells)
    findings = ((displaced,) if displaced is not None else ()) + findings
    if not any(f.difference.kind == "wrong_background" for f in findings):
        findings += _background(analysis, [(s.anchor.t0, s.anchor.t1) for s in shown
                                           if s.anchor is not None] +
                                [(float(k.fit.fitted_t), k.until)
                                 for k in analysis.events.kept])
    regions = analysis.classified.regions
    timing = measure_timing(analysis.observed, regions, analysis.alignment, fps=exp.fps)
    findings += timing_findings(timing, len(analysis.observed), tol=tol)
    av = None
    if audio is not None:
        av = measure_av(plan, analysis.observed, regions, analysis.alignment, audio=audio,
                        tolerance_s=options.av_tolerance_s)
        findings += av_findings(av)
    return Checked(findings, judged.glitches, timing, av)


def _background(analysis: Analysis, explained: list[tuple[float, float]]
                ) -> tuple[Finding, ...]:
    """Return the background check's finding, unless another finding explains its span.

    ``explained`` are those spans: a user still shown after leaving, a layout kept after a
    leave.
    """
    from .background import check_background

    found = check_background(analysis.observed, analysis.alignment, analysis.expectation,
                             analysis.plan.sampler, mixup=analysis.alignment.mixup)
    if found is None or found.anchor is None or any(
            t0 < found.anchor.t1 and found.anchor.t0 < t1 for t0, t1 in explained):
        return ()
    return (found,)


def _stats(analysis: Analysis, checked: Checked, options: ContentOptions) -> dict[str, Any]:
    """Return the content facts of the JSON document (``streams.content``)."""
    plan = analysis.plan
    exp, observed, alignment = analysis.expectation, analysis.observed, analysis.alignment
    video_range = alignment.video_range
    stats: dict[str, Any] = {
        "frames": len(observed), "codes_read": observed.codes_read,
        "tolerance_s": round(options.tolerance_s(exp.fps), 3), "fps": options.fps or exp.fps,
        "publisher_fps": {u: round(r, 3) for u, r in alignment.rates.items()
                          if u in plan.joins},
        "alignment": alignment.method, "alignment_confidence": alignment.confidence,
        "votes": alignment.votes,
        "video_range": video_range.describe() if video_range is not None else None,
        "user_shift_frames": dict(analysis.classified.shifts),
        "drift_frames": round(checked.timing.drift, 2),
        "dropped_frames": checked.timing.dropped,
        "duplicated_frames": checked.timing.duplicated, "glitches": checked.glitches}
    if analysis.people is not None and analysis.people.inferred:  # read from the pictures
        stats["video_read"] = [{"uid": e.uid, "action": e.action, "t": round(float(e.t), 4)}
                               for e in analysis.people.inferred]
    if checked.av is not None:
        stats.update(checked.av.stats)
    return stats


def _tracks(analysis: Analysis, step: float) -> tuple[RegionTrack, ...]:
    """Per region: expected intervals (periods joined) and the observed ones."""
    expected: dict[tuple[int, tuple[int, int, int, int]], list[Interval]] = {}
    for period in analysis.expectation.periods:
        for reg in period.regions:
            items = expected.setdefault((reg.index, reg.rect), [])
            if items and items[-1].who == reg.label[0] and items[-1].state == reg.label[1] \
                    and abs(items[-1].end - period.start) < 1e-9:
                items[-1] = replace(items[-1], end=period.end)
            else:
                items.append(Interval(period.start, period.end, reg.label[0], reg.label[1]))
    out = []
    for key, intervals in sorted(expected.items(), key=lambda kv: (kv[1][0].start, kv[0][0])):
        track = analysis.runs.tracks.get(key)
        observed = observed_intervals(track, step) if track is not None else []
        out.append(RegionTrack(key[0], key[1], tuple(intervals), tuple(observed)))
    return tuple(out)


def _judged(analysis: Analysis, source: Callable[[], Iterable[DecodedFrame]] | None, *,
            audio: Sound | None,
            options: ContentOptions) -> ContentResult:
    """Stages 6-8 against the fitted plan."""
    from .evidence import collect_evidence
    from .inference import infer_keys

    plan = analysis.plan
    checked = run_checks(analysis, audio=audio, options=options)
    evidence = collect_evidence(plan, checked.findings, source, analysis.observed,
                                analysis.alignment, cap=options.evidence_cap)
    inferred = infer_keys(plan, analysis.observed, analysis.alignment, analysis.classified,
                          tol=options.tolerance_frames) if plan.alternatives else None
    return ContentResult(offset_s=analysis.alignment.offset,
                         differences=differences_of(checked.findings),
                         tracks=_tracks(analysis, plan.step), evidence=evidence,
                         stats=_stats(analysis, checked, options), infer=inferred,
                         alignment=analysis.alignment.found, events=analysis.events.fits,
                         warnings=analysis.people.warnings if analysis.people else ())


def _pipeline(plan: Plan, frames: Frames, *, audio: Sound | None,
              options: ContentOptions) -> ContentResult:
    source = frames if callable(frames) else None
    analysis = analyse(plan, frames() if callable(frames) else frames, options=options)
    analysis = moved_back(plan, analysis, source, options=options)
    try:
        return _judged(analysis, source, audio=audio, options=options)
    finally:
        if analysis.plan is not plan:  # rebuilt at the fitted event times
            analysis.plan.renderer.close()


def check_content(frames: Frames, scenario: Scenario, *, profile: Profile = DEFAULT_PROFILE,
                  audio: Sound | None = None,
                  options: ContentOptions | None = None,
                  infer: bool = False) -> ContentResult:
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
    audio : iterable of AudioChunk, or BeepReader, optional
        The recording's audio (same clock as the frames), for the A/V offset: chunks are
        read once the frames are observed; a :class:`~.avsync.BeepReader` may have read
        some already (:func:`~layoutkit.comparison.run.recorded_media` reads the sound
        while the pictures decode).
    options : ContentOptions, optional
        The recording's frame rate and own clock (used when no code is readable), the
        transition and A/V tolerances, the evidence cap (default :class:`ContentOptions`).
    infer : bool
        Also evaluate each single-key profile alternative in the same pass
        (:attr:`ContentResult.infer`).

    Returns
    -------
    ContentResult

    Raises
    ------
    MediaError
        When no frame could be decoded.
    """
    plan = prepare(scenario, profile=profile, infer=infer)
    try:
        return _pipeline(plan, frames, audio=audio, options=options or ContentOptions())
    finally:
        plan.renderer.close()
