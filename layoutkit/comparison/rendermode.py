"""Check stage, render mode: a custom-layout user drawn cropped where asked fit, or the reverse.

A ``layoutConfig`` region (``mixedVideoLayout`` 3) carries its own ``render_mode``; a
recording that draws it the other way shows the right user at the right place, yet every
frame of that region mismatches, and the runs would name it "an unrecognised picture".
For every live user of a custom-layout period, on the luma samples of the period
(:attr:`~.frames.Observed.samples`):

* a test stream whose code is read in place in under half of the period's frames: its
  code read through the *other* mode's cells (:class:`~.codereader.CodeSpot`); read in
  at least half of the samples means it is drawn the other way;
* a video file (or any other picture) whose fit leaves bars of at least :data:`MIN_BAR`
  px (its aspect differs from the region's): asked fit, the bars must be black; bars
  that show neither black nor the canvas are a picture drawn cropped.  Asked crop,
  black bars exactly where fit would put them, around a picture that is not black, are
  a picture drawn fit.  Where the bars are too narrow to see, nothing is said.

Each user drawn the other way is one ``wrong_render_mode`` difference over the periods
it was seen in, e.g. ``"uid 22 drawn cropped where the request asks fit (renderMode 1),
0.00-4.00 s"``; it replaces the run differences of its region in that time
(:func:`apply_render_modes`).  Floating and vertical layouts take their render modes from
the profile (``floating_render``, ``vertical_render``): a difference there is named by
the layout check (:mod:`~.layoutcheck`, ``profile vertical_render=fit``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._typing import U8
from ..compose.fit import CROP, FIT, place
from ..profile import Profile
from ..timeline import DisplayState
from .alignment import Alignment
from .codereader import CodeSpot
from .edges import background_luma
from .expect import Period, RegionExpect
from .findings import Anchor, Finding
from .frames import Observed
from .model import Difference
from .plan import Plan

__all__ = ["MIN_BAR", "RenderModeFault", "apply_render_modes", "bars_of", "check_render_modes",
           "drawn_mode"]

Rect = tuple[int, int, int, int]

#: Fit bars narrower than this (px) are not judged.
MIN_BAR = 6
#: Luma levels within which a bar pixel is black (or the canvas).
LEVELS = 14
#: Below this share of a period's frames read in place, a code is looked for the other way.
MIN_READ = 0.5
#: The custom layout (``mixedVideoLayout``), whose regions carry their render modes.
CUSTOM = 3
#: Layouts whose render modes come from a profile key (``mixedVideoLayout`` -> key).
PROFILE_KEYS = {0: "floating_render", 2: "vertical_render"}
RENDERED = (CUSTOM, *PROFILE_KEYS)
_MODE_WORDS = {int(CROP): "cropped", int(FIT): "fitted"}
_MODE_NAMES = {int(CROP): "crop", int(FIT): "fit"}


@dataclass(frozen=True)
class RenderModeFault:
    """A user drawn in the other render mode than asked.

    ``uid`` in region ``region`` drawn in ``mode`` (the other one than asked) over
    ``[t0, t1)`` scenario seconds; ``seen`` of ``samples`` samples showed it.
    """

    uid: str
    region: int
    mode: int
    t0: float
    t1: float
    seen: int
    samples: int
    how: str


def bars_of(src_wh: tuple[int, int], rect: Rect) -> list[Rect]:
    """Return the fit bars of a ``src_wh`` picture in ``rect`` (none when the aspects agree).

    Each is shrunk by 2 px on every side (clear of blurred edges).

    >>> bars_of((320, 180), (0, 0, 320, 360))
    [(2, 2, 316, 86), (2, 272, 316, 86)]
    >>> bars_of((320, 180), (0, 0, 320, 180))
    []
    """
    x, y, w, h = rect
    dx, dy, dw, dh = place(src_wh, rect, FIT).dst
    raw = [(x, y, w, dy - y), (x, dy + dh, w, y + h - dy - dh),
           (x, y, dx - x, h), (dx + dw, y, x + w - dx - dw, h)]
    return [(bx + 2, by + 2, bw - 4, bh - 4) for bx, by, bw, bh in raw
            if min(bw, bh) >= MIN_BAR]


def _edges_inside(src_wh: tuple[int, int], rect: Rect) -> list[Rect]:
    """Return the 4 px strips of the fitted picture along its bars (where fit's picture starts).

    >>> _edges_inside((320, 180), (0, 0, 320, 360))
    [(0, 90, 320, 4), (0, 266, 320, 4)]
    """
    x, y, w, h = rect
    dx, dy, dw, dh = place(src_wh, rect, FIT).dst
    strips = []
    if min(dy - y, y + h - dy - dh) >= MIN_BAR:
        strips += [(dx, dy, dw, 4), (dx, dy + dh - 4, dw, 4)]
    if min(dx - x, x + w - dx - dw) >= MIN_BAR:
        strips += [(dx, dy, 4, dh), (dx + dw - 4, dy, 4, dh)]
    return strips


def _is_black(pixels: U8, black: float) -> bool:
    """Nine in ten pixels within :data:`LEVELS` of ``black``."""
    return bool(np.percentile(np.abs(pixels.astype(np.int16) - black), 90) <= LEVELS)


def _bar_pixels(luma: U8, bars: list[Rect], above: Sequence[Rect]) -> U8:
    """Gather the pixels of ``bars`` that no region ``above`` covers."""
    keep = np.zeros(luma.shape, bool)
    for x, y, w, h in bars:
        keep[y:y + h, x:x + w] = True
    for x, y, w, h in above:
        keep[max(0, y - 2):y + h + 2, max(0, x - 2):x + w + 2] = False
    return luma[keep]


def drawn_mode(luma: U8, reg: RegionExpect, src_wh: tuple[int, int], *,
               canvas: float, above: Sequence[Rect] = (), black: float = 16.0) -> int | None:
    """Tell how a picture (not a test stream) looks drawn in ``reg`` of ``luma``.

    ``FIT`` (black bars where fit puts them, a picture between), ``CROP`` (the bars show
    neither black nor the ``canvas`` level), or None (cannot tell: no bars, or unclear);
    the regions ``above`` it are left out.

    >>> from layoutkit.comparison.expect import RegionExpect
    >>> reg = RegionExpect(0, (0, 0, 32, 36), 1, ("5", "live"), "file", 0)
    >>> luma = np.full((36, 32), 16, np.uint8); luma[9:27] = 120
    >>> drawn_mode(luma, reg, (32, 18), canvas=60), drawn_mode(luma + 100, reg, (32, 18),
    ...                                                         canvas=60)
    (1, 0)
    """
    pixels = _bar_pixels(luma, bars_of(src_wh, reg.rect), above)
    if pixels.size < MIN_BAR * MIN_BAR:
        return None
    if _is_black(pixels, black):
        # fit: the picture starts right at the bars (a cropped picture dark at its edges
        # stays dark just inside them)
        edge = _bar_pixels(luma, _edges_inside(src_wh, reg.rect), above)
        dark = edge.size == 0 or float(np.median(np.abs(edge.astype(np.int16) - black))) \
            <= LEVELS
        return None if dark else int(FIT)
    if _is_black(pixels, canvas):
        return None  # the canvas: nobody there (the runs say so)
    return int(CROP)


def _period_samples(samples: Sequence[tuple[float, U8]], offset: float, period: Period
                    ) -> list[U8]:
    return [luma for r, luma in samples if period.start <= r - offset < period.end]


def _read_share(observed: Observed, alignment: Alignment, period: Period, reg: RegionExpect,
                uid_index: int) -> float:
    """Return the share of ``period``'s frames whose code at ``reg`` reads its user."""
    t = alignment.scenario_times(observed.times)
    rows = np.flatnonzero((t >= period.start) & (t < period.end))
    if reg.code_key is None or not len(rows):
        return 1.0
    return float((observed.code_uids[rows, reg.code_key] == uid_index).mean())


@dataclass(frozen=True)
class _Context:
    plan: Plan
    observed: Observed
    alignment: Alignment


def _code_fault(ctx: _Context, period: Period, reg: RegionExpect, lumas: list[U8]
                ) -> RenderModeFault | None:
    """Find a test stream whose code reads through the other mode's cells."""
    uid = str(reg.label[0])
    names = list(ctx.observed.uid_names)
    index = names.index(uid) if uid in names else -2  # never read: matches no cell
    if _read_share(ctx.observed, ctx.alignment, period, reg, index) >= MIN_READ:
        return None
    src_wh = ctx.plan.renderer.sources[uid].size_wh
    other = 1 - int(reg.mode)
    spot = CodeSpot(src_wh, reg.rect, other, ctx.plan.sampler.canvas_wh)
    seen = 0
    for luma in lumas:
        reading = spot.read(luma)
        seen += int(reading is not None and reading.uid == uid)
    if 2 * seen < len(lumas) or not seen:
        return None
    return RenderModeFault(uid, reg.index, other, period.start, period.end, seen, len(lumas),
                           f"its code read through {_MODE_NAMES[other]}'s cells")


def _picture_fault(ctx: _Context, period: Period, reg: RegionExpect, lumas: list[U8]
                   ) -> RenderModeFault | None:
    """Find a picture whose fit bars say it is drawn the other way."""
    uid = str(reg.label[0])
    source = ctx.plan.renderer.sources.get(uid)
    if source is None:
        return None
    canvas = float(np.median(background_luma(ctx.plan, period.start)))
    above = [r.rect for r in period.regions if r.index > reg.index]
    looks = [drawn_mode(luma, reg, source.size_wh, canvas=canvas, above=above)
             for luma in lumas]
    other = 1 - int(reg.mode)
    seen = looks.count(other)
    if 2 * seen < len(lumas) or not seen:
        return None
    how = ("the fit bars show a picture" if other == int(CROP)
           else "black bars where fit puts them")
    return RenderModeFault(uid, reg.index, other, period.start, period.end, seen, len(lumas),
                           how)


def _period_faults(ctx: _Context, period: Period) -> list[RenderModeFault]:
    lumas = _period_samples(ctx.observed.samples, ctx.alignment.offset, period)
    if period.layout_mode not in RENDERED or not lumas:
        return []
    out = []
    for reg in period.regions:
        if reg.label[1] != DisplayState.LIVE or reg.label[0] is None:
            continue
        check = _code_fault if reg.kind == "code_live" else _picture_fault
        fault = check(ctx, period, reg, lumas)
        if fault is not None:
            out.append(fault)
    return out


def _merged(faults: list[RenderModeFault]) -> list[RenderModeFault]:
    """Faults of one user, region and mode in consecutive periods joined."""
    out: list[RenderModeFault] = []
    for f in faults:
        prev = next((i for i, o in enumerate(out) if (o.uid, o.region, o.mode)
                     == (f.uid, f.region, f.mode) and abs(o.t1 - f.t0) < 1e-9), None)
        if prev is None:
            out.append(f)
        else:
            o = out[prev]
            out[prev] = RenderModeFault(o.uid, o.region, o.mode, o.t0, f.t1, o.seen + f.seen,
                                        o.samples + f.samples, o.how)
    return out


def _difference(fault: RenderModeFault, end: float) -> Difference:
    asked = 1 - fault.mode
    t1 = min(fault.t1, end)
    return Difference(
        "wrong_render_mode",
        f"uid {fault.uid} drawn {_MODE_WORDS[fault.mode]} where the request asks "
        f"{_MODE_NAMES[asked]} (renderMode {asked}), {fault.t0:.2f}-{t1:.2f} s "
        f"(region {fault.region}: {fault.how} in {fault.seen} of {fault.samples} samples)",
        uid=fault.uid, t=fault.t0, region=fault.region,
        expected={"render_mode": asked}, observed={"render_mode": fault.mode})


def _finding(fault: RenderModeFault, observed: Observed, alignment: Alignment,
             end: float) -> Finding:
    """Turn a fault into its difference, anchored on the frame in the middle of its time."""
    t1 = min(fault.t1, end)
    t = alignment.scenario_times(observed.times)
    frame = int(np.argmin(np.abs(t - (fault.t0 + t1) / 2)))
    return Finding(_difference(fault, end), Anchor(frame, fault.t0, t1))


def check_render_modes(plan: Plan, observed: Observed, alignment: Alignment
                       ) -> tuple[Finding, ...]:
    """Find every custom-layout user drawn the other way (a check stage).

    One ``wrong_render_mode`` finding per such user.
    """
    if not len(observed) or not any(p.layout_mode in RENDERED for p in plan.expectation.periods):
        return ()
    ctx = _Context(plan, observed, alignment)
    end = min(plan.expectation.end, float(observed.times[-1]) - alignment.offset + plan.step)
    custom: list[RenderModeFault] = []
    out: list[Finding] = []
    for period in plan.expectation.periods:
        faults = _period_faults(ctx, period)
        key = PROFILE_KEYS.get(int(period.layout_mode))
        value = _profile_value(key, faults, plan.profile) if key is not None else None
        if key is None or value is None:
            custom += faults
        elif faults:
            out.append(_profile_finding(key, value, faults, plan.profile, (observed, alignment,
                                                                           end)))
    return tuple(_finding(f, observed, alignment, end) for f in _merged(custom)) + tuple(out)


def _profile_value(key: str, faults: list[RenderModeFault], profile: Profile) -> str | None:
    """Find the other value of ``key`` that draws the ``faults``' regions as seen, if any.

    >>> from layoutkit.profile import DEFAULT_PROFILE
    >>> f = RenderModeFault("22", 1, int(FIT), 0.0, 4.0, 4, 4, "bars")
    >>> _profile_value("floating_render", [f], DEFAULT_PROFILE)
    'fit'
    >>> _profile_value("vertical_render", [f], DEFAULT_PROFILE)
    'fit'
    """
    modes = {f.mode for f in faults}
    if len(modes) != 1:
        return None
    fitted = modes == {int(FIT)}
    if key == "floating_render":
        value = "fit" if fitted else "crop"
    else:
        value = "fit" if fitted else "docs"
    return None if value == getattr(profile, key) else value


def _profile_finding(key: str, value: str, faults: list[RenderModeFault], profile: Profile,
                     seen: tuple[Observed, Alignment, float]) -> Finding:
    """Report a floating or vertical period drawn as another value of its render key does.

    The finding is a ``wrong_layout`` naming the key (as :mod:`~.layoutcheck` does), over
    the faults' regions (which it explains, :func:`apply_render_modes`).
    """
    observed, alignment, end = seen
    t0, t1 = faults[0].t0, min(faults[0].t1, end)
    uids = ", ".join(f.uid for f in faults)
    words = _MODE_WORDS[faults[0].mode]
    diff = Difference(
        "wrong_layout",
        f"from {t0:.2f} s the picture fits profile {key}={value} rather than the expected "
        f"{key}={getattr(profile, key)}: uid {uids} drawn {words} ({faults[0].how})",
        t=t0, expected={key: getattr(profile, key)}, observed={key: value})
    t = alignment.scenario_times(observed.times)
    frame = int(np.argmin(np.abs(t - (t0 + t1) / 2)))
    return Finding(diff, Anchor(frame, t0, t1))


def apply_render_modes(findings: tuple[Finding, ...], modes: tuple[Finding, ...]
                       ) -> tuple[Finding, ...]:
    """Replace the run findings each render-mode finding explains by it.

    A render-mode finding replaces the run findings of its region and user that start in
    its time; the render-mode findings go first.

    >>> from layoutkit.comparison.findings import Anchor
    >>> mode = Finding(Difference("wrong_render_mode", "m", uid="22", t=0.0, region=1,
    ...                           expected={"render_mode": 1}, observed={"render_mode": 0}),
    ...                Anchor(0, 0.0, 4.0))
    >>> run = Finding(Difference("wrong_state", "r", region=1, expected={"uid": "22"}),
    ...               Anchor(0, 0.5, 4.0))
    >>> other = Finding(Difference("wrong_state", "r", region=0, expected={"uid": "11"}),
    ...                 Anchor(0, 0.5, 4.0))
    >>> [f.difference.kind for f in apply_render_modes((run, other), (mode,))]
    ['wrong_render_mode', 'wrong_state']
    """
    if not modes:
        return findings
    return modes + tuple(f for f in findings if not any(_explains(m, f) for m in modes))


def _explains(mode: Finding, finding: Finding) -> bool:
    """Tell whether a render-mode finding explains ``finding``.

    It explains the run findings of its region and user in its time; a floating or
    vertical layout drawn as another profile value explains every one in its time.
    """
    d, m = finding.difference, mode.difference
    expected = d.expected if isinstance(d.expected, dict) else {}
    if finding.anchor is None or mode.anchor is None:
        return False
    if m.kind == "wrong_render_mode" and (d.region != m.region or expected.get("uid") != m.uid):
        return False
    return mode.anchor.t0 - 1e-9 <= finding.anchor.t0 < mode.anchor.t1
