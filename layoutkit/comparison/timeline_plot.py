"""Geometry of the report's timeline (pure): bars, ticks, markers and legend in SVG units.

One row pair per region (expected above observed), one bar per :class:`Interval`, coloured by
state, the uid written in bars wide enough for it; a time axis in seconds; a numbered marker
per difference with a time; a dashed line per scenario event at its fitted time
(:class:`~layoutkit.comparison.events.EventFit`), labelled in a band above the rows (labels
that would overlap go to further lines), with the scenario's time beside the fitted one when
they differ and a dotted line there.  The HTML template only draws what this computes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..timeline import DisplayState
from .model import Difference, Interval, NoUser, RegionTrack

if TYPE_CHECKING:
    from .events import EventFit

__all__ = ["STATE_STYLE", "Bar", "EventMark", "Marker", "Row", "Tick", "TimelinePlot",
           "nice_step", "place_labels", "plot_timeline", "state_style"]

#: state -> (fill colour, text colour, label for people)
STATE_STYLE: dict[str, tuple[str, str, str]] = {
    DisplayState.LIVE: ("#2f6fb3", "#ffffff", DisplayState.LIVE),
    DisplayState.LAST_FRAME: ("#8db4dc", "#10243a", "last frame (frozen)"),
    DisplayState.BLACK: ("#1d1d1f", "#ffffff", DisplayState.BLACK),
    DisplayState.CANVAS_COLOR: ("#d9a33f", "#2b1d00", "canvas colour"),
    DisplayState.CANVAS_BACKGROUND: ("#b98b63", "#2b1a0b", "canvas background"),
    DisplayState.USER_IMAGE: ("#8a63b8", "#ffffff", "user background image"),
    NoUser.EMPTY: ("#e3e5e8", "#4a4f57", "empty region (no user)"),
}
_EXTRA = ("#3f9d8f", "#c45c8a", "#6b8e23", "#a0522d", "#5f6b7a", "#d2691e")

#: SVG layout constants (px in the viewBox; the SVG scales to the page width)
WIDTH = 1140
LABEL_W = 186
RIGHT_PAD = 16
TOP = 30
ROW_H = 20
ROW_GAP = 4
PAIR_GAP = 14
AXIS_H = 28
CHAR_W = 6.4  # average glyph width of the 11 px label font
MAX_NUMBERED = 40  # more markers than this are all drawn as dots
MIN_GAP = 18.0  # numbered markers on one line at least this far apart
LANE_H = 15.0  # one line of event labels
LABEL_GAP = 12.0  # event labels on one line at least this far apart
_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def state_style(state: str) -> tuple[str, str, str]:
    """Fill colour, text colour and people's label of a state (stable for unknown ones)."""
    if state in STATE_STYLE:
        return STATE_STYLE[state]
    fill = _EXTRA[sum(state.encode()) % len(_EXTRA)]
    return fill, "#ffffff", state.replace("_", " ")


def nice_step(span: float, *, max_ticks: int = 14) -> float:
    """Pick the smallest of 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60 ... s giving <= max_ticks.

    Examples
    --------
    >>> nice_step(12.0), nice_step(24.0), nice_step(600.0)
    (1, 2, 60)
    """
    for step in _STEPS:
        if span / step <= max_ticks:
            return step
    return math.ceil(span / max_ticks / 3600) * 3600


@dataclass(frozen=True)
class Bar:
    """One interval drawn: its box, colours, the uid written in it and its tooltip."""

    x: float
    y: float
    w: float
    h: float
    fill: str
    text_fill: str
    label: str | None  # uid written in the bar, when it fits
    title: str  # tooltip
    state: str


@dataclass(frozen=True)
class Row:
    """One region's pair of rows (expected above observed) and their bars."""

    region: int
    y: float  # top of the expected row
    height: float  # both rows
    bars: tuple[Bar, ...]
    rect: tuple[int, int, int, int]


@dataclass(frozen=True)
class Tick:
    """A tick of the time axis at ``x``, with its label in seconds (or m:ss)."""

    x: float
    label: str


@dataclass(frozen=True)
class Marker:
    """A difference's marker at its time ``x``, spanning ``y0`` to ``y1``."""

    number: int  # 1-based, as the difference entries are numbered
    x: float
    y0: float
    y1: float
    title: str
    compact: bool  # drawn as a small dot without its number (too close to another, or many)


@dataclass(frozen=True)
class EventMark:
    """A scenario event at its fitted time ``x``.

    ``scenario_x`` is where the scenario puts it when that differs; its label is at
    ``(label_x, label_y)`` (SVG ``text-anchor`` ``anchor``).
    """

    x: float
    scenario_x: float | None
    y0: float
    y1: float
    label: str
    label_x: float
    label_y: float
    anchor: str  # "start" or "end"
    title: str
    explained: bool


@dataclass(frozen=True)
class TimelinePlot:
    """The whole timeline in SVG units: size, plot area, rows, axis, markers and events."""

    width: float
    height: float
    label_w: float
    plot_x0: float
    plot_x1: float
    axis_y: float
    rows: tuple[Row, ...]
    ticks: tuple[Tick, ...]
    markers: tuple[Marker, ...]
    legend: tuple[tuple[str, str, str], ...]  # (state, fill, label) of the states drawn
    row_h: float
    row_gap: float
    events: tuple[EventMark, ...] = ()


def place_labels(xs: Sequence[float], widths: Sequence[float], *, x1: float
                 ) -> list[tuple[float, str, int]]:
    """Place labels: each one's x, text anchor and line.

    A label goes right of its mark (left when it would pass ``x1``), on the first line
    where it keeps :data:`LABEL_GAP` from the labels already there (marks taken left to
    right).

    >>> place_labels([100.0, 110.0, 400.0], [120.0, 60.0, 50.0], x1=1000.0)
    [(104.0, 'start', 0), (114.0, 'start', 1), (404.0, 'start', 0)]
    >>> place_labels([990.0], [80.0], x1=1000.0)
    [(986.0, 'end', 0)]
    """
    ends: list[float] = []  # per line: the right end of its last label
    out: list[tuple[float, str, int]] = [(0.0, "start", 0)] * len(xs)
    for i in sorted(range(len(xs)), key=lambda k: xs[k]):
        x, w = xs[i], widths[i]
        at, anchor, left = (x + 4, "start", x + 4) if x + 4 + w <= x1 else (x - 4, "end", x - 4 - w)
        lane = next((k for k, end in enumerate(ends) if end + LABEL_GAP <= left), len(ends))
        if lane == len(ends):
            ends.append(0.0)
        ends[lane] = left + w
        out[i] = (at, anchor, lane)
    return out


def _event_marks(events: Sequence[EventFit], placed: Sequence[tuple[float, str, int]],
                 x_of: Callable[[float], float], axis_y: float) -> tuple[EventMark, ...]:
    marks = []
    for ev, (at, anchor, lane) in zip(events, placed, strict=True):
        x, sx = x_of(float(ev.fitted_t)), x_of(float(ev.scenario_t))
        y = 12 + lane * LANE_H
        marks.append(EventMark(x=x, scenario_x=sx if abs(sx - x) >= 0.5 else None, y0=y + 3,
                               y1=axis_y, label=ev.label(), label_x=at, label_y=y,
                               anchor=anchor, title=ev.line(), explained=ev.explained))
    return tuple(marks)


def _seconds_label(t: float, step: float) -> str:
    if step < 1:
        return f"{t:.1f}"
    if t >= 60 and step >= 60:
        m, s = divmod(round(t), 60)
        return f"{m}:{s:02d}"
    return f"{t:g}"


def _span(tracks: Sequence[RegionTrack], differences: Sequence[Difference],
          events: Sequence[EventFit] = ()) -> float:
    ends = [i.end for tr in tracks for i in (*tr.expected, *tr.observed)]
    ends += [d.t for d in differences if d.t is not None]
    ends += [float(max(e.fitted_t, e.scenario_t)) for e in events]
    return max([1.0, *[float(e) for e in ends if e is not None and math.isfinite(e)]])


def _bar(iv: Interval, y: float, x_of: Callable[[float], float], which: str,
         region: int) -> Bar:
    x0, x1 = x_of(max(0.0, iv.start)), x_of(max(iv.start, iv.end))
    fill, text_fill, label = state_style(iv.state)
    who = f"uid {iv.who}" if iv.who is not None else "nobody"
    title = (f"region {region}, {which}: {who}, {label}, "
             f"{iv.start:.2f}\N{EN DASH}{iv.end:.2f} s")
    text = iv.who if iv.who is not None else None
    if text is not None and (x1 - x0) < len(text) * CHAR_W + 8:
        text = None
    return Bar(x=x0, y=y, w=max(0.5, x1 - x0), h=ROW_H, fill=fill, text_fill=text_fill,
               label=text, title=title, state=iv.state)


def _place_markers(raw: Sequence[tuple[int, float, float, float, str]]) -> list[Marker]:
    """Place numbered markers, or small dots where a number would not fit.

    A number does not fit with more than MAX_NUMBERED markers, over 99, or closer than
    MIN_GAP to a numbered one on the same line.
    """
    many = len(raw) > MAX_NUMBERED
    last_x: dict[float, float] = {}  # y0 -> x of the last numbered marker on that line
    out: list[Marker] = []
    for number, x, y0, y1, title in sorted(raw, key=lambda m: (m[2], m[1], m[0])):
        compact = many or number > 99 or x - last_x.get(y0, -math.inf) < MIN_GAP
        if not compact:
            last_x[y0] = x
        out.append(Marker(number=number, x=x, y0=y0, y1=y1, title=title, compact=compact))
    return sorted(out, key=lambda m: m.number)


def _row_of(rows: Sequence[Row], tracks: Sequence[RegionTrack], region: int,
            t: float) -> Row | None:
    """Find the row of ``region`` at time ``t``.

    After an ``update_layout`` a region index has a track per layout, each covering its own
    stretch of time (the first one if none covers ``t``).
    """
    candidates = [(row, tr) for row, tr in zip(rows, tracks, strict=True)
                  if tr.region == region]
    for row, tr in candidates:
        if tr.expected and tr.expected[0].start <= t < tr.expected[-1].end:
            return row
    return candidates[0][0] if candidates else None


def plot_timeline(tracks: Sequence[RegionTrack],
                  differences: Sequence[Difference] = (),
                  events: Sequence[EventFit] = ()) -> TimelinePlot:
    """Lay out the timeline of ``tracks``, its timed differences and its events.

    A marker per timed difference and a line per event at its fitted time (labelled above
    the rows).

    Markers of a difference with a ``region`` span that region's rows; others span all rows.
    """
    span = _span(tracks, differences, events)
    step = nice_step(span)
    end = math.ceil(span / step - 1e-9) * step
    x0, x1 = float(LABEL_W), float(WIDTH - RIGHT_PAD)

    def x_of(t: float) -> float:
        return x0 + (x1 - x0) * min(max(t, 0.0), end) / end

    placed = place_labels([x_of(float(e.fitted_t)) for e in events],
                          [len(e.label()) * CHAR_W for e in events], x1=x1)
    lanes = 1 + max((lane for _, _, lane in placed), default=-1)
    top = TOP + lanes * LANE_H
    rows: list[Row] = []
    seen: dict[str, tuple[str, str]] = {}
    y = float(top)
    for tr in tracks:
        bars = [_bar(iv, y, x_of, "expected", tr.region) for iv in tr.expected]
        bars += [_bar(iv, y + ROW_H + ROW_GAP, x_of, "observed", tr.region)
                 for iv in tr.observed]
        for b in bars:
            seen.setdefault(b.state, (b.fill, state_style(b.state)[2]))
        rx, ry, rw, rh = (int(v) for v in tr.rect)
        rows.append(Row(region=tr.region, y=y, height=2 * ROW_H + ROW_GAP, bars=tuple(bars),
                        rect=(rx, ry, rw, rh)))
        y += 2 * ROW_H + ROW_GAP + PAIR_GAP
    axis_y = y - PAIR_GAP + 8 if rows else y
    n = round(end / step)
    ticks = tuple(Tick(x=x_of(k * step), label=_seconds_label(k * step, step))
                  for k in range(n + 1))
    raw: list[tuple[int, float, float, float, str]] = []
    for number, d in enumerate(differences, start=1):
        if d.t is None or not math.isfinite(d.t):
            continue
        row = _row_of(rows, tracks, d.region, float(d.t)) if d.region is not None else None
        y0, y1 = ((row.y - 4, row.y + row.height + 4) if row is not None
                  else (top - 4.0, axis_y))
        raw.append((number, x_of(float(d.t)), y0, y1,
                    f"#{number} {d.kind} at {d.t:.2f} s: {d.message}"))
    markers = _place_markers(raw)
    order = list(STATE_STYLE)
    legend = tuple((s, f, lab) for s, (f, lab) in
                   sorted(seen.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                        else len(order), kv[0])))
    return TimelinePlot(width=WIDTH, height=axis_y + AXIS_H, label_w=LABEL_W, plot_x0=x0,
                        plot_x1=x1, axis_y=axis_y, rows=tuple(rows), ticks=ticks,
                        markers=tuple(markers), legend=legend, row_h=ROW_H, row_gap=ROW_GAP,
                        events=_event_marks(events, placed, x_of, axis_y))
