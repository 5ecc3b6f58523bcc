"""Stage 7, evidence: expected and recorded frames of the longest differences.

Every finding with an :class:`~.findings.Anchor` (the frame it is seen on), or else with a
time (:attr:`~.model.Difference.t`: the frame nearest that scenario time), may get
pictures; the ``cap`` longest anchored come first.  A test stream's whole-second flash
frame (:func:`flash_frames`) is never shown: the nearest frame without one within a second
is taken instead.  Those frames are decoded again (a second pass that stops at the last one
needed) and paired with the renderer's expected frame at the same scenario time, with the
difference's region on the canvas (:func:`region_rect`) for the report to mark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from .._typing import BoolArray
from ..compose.yuv import i420_from_planes, i420_to_rgb
from ..errors import ScenarioError
from ..io.frames import DecodedFrame
from ..render import SceneRenderer
from .alignment import Alignment
from .events import EventFit, scenario_at
from .expect import Expectation, Rect
from .findings import Anchor, Finding
from .frames import Observed, canvas_luma, fit_planes
from .model import Difference, Evidence
from .plan import Plan

__all__ = ["FLASH_JUMP", "Shot", "clear_frame", "collect_evidence", "finding_anchors",
           "flash_frames", "region_rect", "scheduled_renderer", "wanted_frames"]

FrameSource = Callable[[], Iterable[DecodedFrame]]

#: Mean canvas luma a frame must exceed its neighbours' (3 on each side) by to be taken
#: for a flash when no code on it says so (one 640x360 tile of 17 flashing: ~7).
FLASH_JUMP = 3.0


@dataclass(frozen=True)
class Shot:
    """Where one finding's pictures are taken.

    The frame (index into the observations), whether it was moved off a test-stream flash,
    and the region to mark (canvas pixels).
    """

    finding: int
    frame: int
    moved: bool = False
    rect: Rect | None = None


def wanted_frames(anchors: Sequence[Anchor | None], *, cap: int) -> dict[int, list[int]]:
    """Frame index -> indices of the findings shown on it: the ``cap`` longest anchored.

    >>> wanted_frames([Anchor(5, 0, 1), None, Anchor(9, 0, 3)], cap=1)
    {9: [2]}
    """
    anchored = [i for i, a in enumerate(anchors) if a is not None]
    ranked = sorted(anchored, key=lambda i: -anchors[i].length)[:cap]  # type: ignore[union-attr]
    wanted: dict[int, list[int]] = {}
    for i in ranked:
        wanted.setdefault(anchors[i].frame, []).append(i)  # type: ignore[union-attr]
    return wanted


def finding_anchors(findings: Sequence[Finding], scenario_t: npt.NDArray[np.float64], *,
                    step: float) -> list[Anchor | None]:
    """Return each finding's anchor, anchoring those with a time but no anchor.

    A finding without an anchor but with a time is anchored on the frame nearest that
    scenario time (when one lies within a frame of it), or, when it also says where it was
    seen (``observed["t"]``, e.g. an event outside its window), on the frame halfway
    between the two: where expected and recorded pictures disagree.

    >>> import numpy as np
    >>> found = [Finding(Difference("event_time", "x", t=1.0)), Finding(Difference("drift", "y")),
    ...          Finding(Difference("event_time", "z", t=0.4, observed={"t": 1.2}))]
    >>> finding_anchors(found, np.arange(30) / 15, step=1 / 15)
    [Anchor(frame=15, t0=1.0, t1=1.0), None, Anchor(frame=12, t0=0.4, t1=1.2)]
    """
    out: list[Anchor | None] = []
    for f in findings:
        t = f.difference.t
        if f.anchor is not None or t is None or not np.isfinite(t) or not len(scenario_t):
            out.append(f.anchor)
            continue
        t0, t1 = _fault_span(f.difference, float(t))
        n = int(np.argmin(np.abs(scenario_t - (t0 + t1) / 2)))
        out.append(Anchor(n, float(t0), float(t1))
                   if abs(scenario_t[n] - (t0 + t1) / 2) <= step else None)
    return out


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else None


def _fault_span(difference: Difference, t: float) -> tuple[float, float]:
    """Return the scenario times over which a difference with time ``t`` shows.

    ``t`` alone, or up to where it was seen (``observed["t"]``), from the edge of its
    window when it has one (``expected["window"]``: inside the window the judged plan
    agrees with the recording).

    >>> _fault_span(Difference("event_time", "x", t=2.0, expected={"window": 1.0},
    ...                        observed={"t": 3.6}), 2.0)
    (3.0, 3.6)
    """
    observed = difference.observed if isinstance(difference.observed, dict) else {}
    expected = difference.expected if isinstance(difference.expected, dict) else {}
    seen = _number(observed.get("t"))
    if seen is None:
        return t, t
    window = _number(expected.get("window")) or 0.0
    edge = t + float(np.copysign(min(window, abs(seen - t)), seen - t))
    return min(edge, seen), max(edge, seen)


def _code_flashes(observed: Observed, rates: Mapping[str, float], fps: int) -> BoolArray:
    """Find the frames on which a code read shows a whole-second frame number.

    A whole second of its publisher (``frame % rate == 0``) is the test stream's flash.
    """
    if not observed.code_uids.size:
        return np.zeros(len(observed), dtype=bool)
    rate = np.array([max(1, round(rates.get(u, fps))) for u in observed.uid_names] or [fps],
                    dtype=np.int64)
    read = observed.code_uids >= 0
    per = rate[np.where(read, observed.code_uids, 0)]
    return np.asarray((read & (observed.code_frames.astype(np.int64) % per == 0)).any(axis=1))


def _bright_flashes(luma: npt.NDArray[np.float64]) -> BoolArray:
    """Find the frames whose mean canvas luma jumps above their neighbours'.

    Above both the median of the 3 frames before and that of the 3 after by more than
    :data:`FLASH_JUMP` (a step up, e.g. a user joining, is not brighter than what follows).

    >>> import numpy as np
    >>> _bright_flashes(np.array([50.0, 50, 50, 90, 50, 51, 52, 60, 60, 60])).tolist()
    [False, False, False, True, False, False, False, False, False, False]
    """
    n = len(luma)
    if n < 3:
        return np.zeros(n, dtype=bool)
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(luma, 3, mode="edge"), 7)
    before = np.median(windows[:, :3], axis=1)
    after = np.median(windows[:, 4:], axis=1)
    return np.asarray(luma - np.maximum(before, after) > FLASH_JUMP)


def flash_frames(observed: Observed, plan: Plan, rates: Mapping[str, float]) -> BoolArray:
    """Tell per frame whether a test stream's whole-second flash shows on it.

    By its codes (each publisher at its own rate, ``rates``) or, where no code says so, by
    a jump of the canvas's mean luma (:data:`FLASH_JUMP`).
    """
    codes = _code_flashes(observed, rates, plan.expectation.fps)
    return codes | _bright_flashes(canvas_luma(observed, plan.sampler))


def clear_frame(frame: int, flash: BoolArray, *, reach: int) -> tuple[int, bool]:
    """Find the frame nearest ``frame`` that is no flash, within ``reach`` frames.

    Itself first, then earlier before later; ``frame`` itself when there is none.  The
    flag says whether it moved.

    >>> import numpy as np
    >>> flash = np.array([False, False, True, True, False])
    >>> [clear_frame(n, flash, reach=3) for n in (2, 3, 0)]
    [(1, True), (4, True), (0, False)]
    >>> clear_frame(2, np.ones(5, bool), reach=3)
    (2, False)
    """
    n = len(flash)
    for d in range(reach + 1):
        for k in (frame - d, frame + d):
            if 0 <= k < n and not flash[k]:
                return k, k != frame
    return frame, False


def region_rect(difference: Difference, exp: Expectation, t: float) -> Rect | None:
    """Return the canvas rectangle ``(x, y, w, h)`` of the difference's region at ``t``.

    ``t`` is a scenario time; the region is found by its ``region`` index, else its user's
    region; None for the whole canvas.
    """
    if not exp.periods:
        return None
    p = int(np.clip(np.searchsorted(exp.starts, t, side="right") - 1, 0, len(exp.periods) - 1))
    regions = exp.periods[p].regions
    for reg in regions:
        if difference.region is not None and reg.index == difference.region:
            return reg.rect
    if difference.region is None and difference.uid is not None:
        for reg in regions:
            if reg.label[0] == difference.uid:
                return reg.rect
    return None


def _decode(source: FrameSource, wanted: Iterable[int], observed: Observed,
            canvas_wh: tuple[int, int]) -> dict[int, tuple[float, npt.NDArray[np.uint8]]]:
    """Decode the recording time and RGB picture of each wanted frame (up to the last)."""
    wanted = set(wanted)
    last = max(wanted)
    got: dict[int, tuple[float, npt.NDArray[np.uint8]]] = {}
    for n, frame in enumerate(source()):
        if n in wanted:
            picture = i420_from_planes(*fit_planes(frame.planes, canvas_wh))
            got[n] = (frame.t - observed.origin, i420_to_rgb(picture))
        if n >= last:
            break
    return got


def _shots(plan: Plan, findings: Sequence[Finding], observed: Observed,
           alignment: Alignment, cap: int) -> list[Shot]:
    """Where the pictures of the ``cap`` longest anchored findings are taken (off flashes)."""
    exp = plan.expectation
    scenario_t = alignment.scenario_times(observed.times)
    anchors = finding_anchors(findings, scenario_t, step=1 / exp.fps)
    wanted = wanted_frames(anchors, cap=cap)
    if not wanted:
        return []
    flash = flash_frames(observed, plan, alignment.rates)
    shots = []
    for n, indices in wanted.items():
        frame, moved = clear_frame(n, flash, reach=exp.fps)
        for i in indices:
            rect = region_rect(findings[i].difference, exp, float(scenario_t[frame]))
            shots.append(Shot(i, frame, moved, rect))
    return shots


def collect_evidence(plan: Plan, findings: Sequence[Finding], source: FrameSource | None,
                     observed: Observed, alignment: Alignment, *, cap: int
                     ) -> tuple[Evidence, ...]:
    """Evidence of the longest findings (stage 7); none without a frame source or cap."""
    if source is None or cap <= 0:
        return ()
    shots = _shots(plan, findings, observed, alignment, cap)
    if not shots:
        return ()
    got = _decode(source, (s.frame for s in shots), observed, plan.sampler.canvas_wh)
    fps = plan.expectation.fps
    expected: dict[tuple[int, Fraction], npt.NDArray[np.uint8]] = {}
    out = []
    for shot in shots:
        if shot.frame not in got:
            continue
        r, rgb = got[shot.frame]
        t = max(Fraction(0), Fraction(round((r - alignment.offsets[shot.frame]) * fps), fps))
        renderer = scheduled_renderer(plan, findings[shot.finding].difference)
        if (id(renderer), t) not in expected:
            expected[(id(renderer), t)] = renderer.rendered_frame(t).rgb()
        out.append(Evidence(shot.finding, float(t), expected[(id(renderer), t)], rgb,
                            rect=shot.rect, moved_off_flash=shot.moved))
    return tuple(sorted(out, key=lambda e: e.difference))


def scheduled_renderer(plan: Plan, difference: Difference) -> SceneRenderer:
    """Return the renderer that draws a difference's expected picture.

    For an event no time in its window explains (``event_time``), the plan's scenario with
    that event back at the scenario's time (the plan judges the rest from where it was
    seen, so its own pictures agree with the recording there); the plan's renderer
    otherwise.
    """
    expected = difference.expected if isinstance(difference.expected, dict) else {}
    t = _number(expected.get("t"))
    if difference.kind != "event_time" or t is None:
        return plan.renderer
    events = [i for i, e in enumerate(plan.scenario.events)
              if e.uid == difference.uid and e.action == expected.get("event")]
    if not events:
        return plan.renderer
    observed = difference.observed if isinstance(difference.observed, dict) else {}
    seen = _number(observed.get("t"))
    index = min(events, key=lambda i: abs(float(plan.scenario.events[i].t) - (seen or t)))
    when = Fraction(str(t))
    back = EventFit(index, str(expected["event"]), difference.uid, when, when, Fraction(0))
    try:
        return plan.renderer.retimed(scenario_at(plan.scenario, [back]))
    except ScenarioError:
        return plan.renderer
