"""Animated scenario previews (GIF or MP4) with a timeline strip naming the events.

Made for a person to watch: the caller's :class:`~layoutkit.render.SceneRenderer` is
usually built with ``flash=False`` (no white test-stream flash); tiles that no longer show
live video carry a ``uid state`` label; a leave or a layout change gets a one-second
caption (and a fading outline where the user was).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .compose.yuv import rgb_to_i420
from .signals.testcard import label_font
from .render import SceneRenderer
from .scenario import Scenario
from ._typing import RGB

__all__ = [
    "SHORT_ACTIONS",
    "Cue",
    "LabelBox",
    "StripLayout",
    "crossings",
    "draw_cues",
    "label_top",
    "layout_strip",
    "place_labels",
    "readable_events",
    "scenario_cues",
    "strip_events",
    "strip_height",
    "timeline_strip",
    "write_gif",
    "write_mp4",
]

STRIP_BG = (24, 24, 28)


#: Shorter action names for narrow strips (video is what a preview shows).
SHORT_ACTIONS = {"mute_video": "mute", "unmute_video": "unmute", "unpublish_video": "unpub",
                 "publish_video": "pub", "mute_audio": "mute a", "unmute_audio": "unmute a",
                 "update_layout": "layout"}


def strip_events(scenario: Scenario, *, short: bool = False) -> list[tuple[Fraction, str]]:
    """Return ``(time, label)`` per event time, e.g. ``(6, '6s 3003 mute_video')``.

    The events of one time share a label (the time is part of it, so no label reads as another
    time's).  ``short`` uses :data:`SHORT_ACTIONS` (``'6s 3003 mute'``).
    """
    by_time: dict[Fraction, list[str]] = {}
    for event in scenario.events:  # a user's "join" > 0 is one of these events already
        action = SHORT_ACTIONS.get(event.action, event.action) if short else event.action
        what = action if event.uid is None else f"{event.uid} {action}"
        by_time.setdefault(event.t, []).append(what)
    return [(when, f"{_seconds(when)}s " + ", ".join(items))
            for when, items in sorted(by_time.items())]


def readable_events(scenario: Scenario, width: int, *,
                    duration: Fraction) -> list[tuple[Fraction, str]]:
    """Return the strip's event labels that fit at ``width``.

    They are :func:`strip_events` with full action names when they fit in at most 3 label
    rows with no crossing and none cut at the edge, else the short ones in at most 5, else
    the times alone (else whichever crosses nothing in the fewest rows).
    """
    best = None
    full = strip_events(scenario)
    tiers = [full, strip_events(scenario, short=True),
             [(when, label.split(" ", 1)[0]) for when, label in full]]
    for tier, events in enumerate(tiers):
        layout = layout_strip(width, duration=duration, events=events)
        rows = layout.upper_rows + layout.lower_rows
        font = label_font(_LABEL_PX)
        clipped = any(b.x1 - b.x0 < font.getlength(label) - 0.5
                      for b, (_, label) in zip(layout.boxes, events, strict=True))
        clean = not clipped and not any(
            crossings([b for b, h in zip(layout.boxes, layout.halves, strict=True) if h == half])
            for half in (0, 1))
        if clean and rows <= (3, 5, 99)[tier]:
            return events
        score = (not clean, rows, tier)
        if best is None or score < best[0]:
            best = (score, events)
    assert best is not None
    return best[1]


def _seconds(when: Fraction) -> str:
    return f"{float(when):g}"


@dataclass(frozen=True)
class LabelBox:
    """Where a strip label goes.

    Row 0 is next to the axis; ``x0..x1`` is its horizontal span; ``marker_x`` its event's
    marker line (from the axis up to this row).
    """

    marker_x: float
    x0: float
    x1: float
    row: int


def place_labels(markers: Sequence[tuple[float, float]], *, width: float,
                 gap: float = 3.0) -> list[LabelBox]:
    """Rows and sides for labels of widths ``w`` at marker positions ``x``, in input order.

    Each label starts just right of its own marker (or ends just left of it when the right
    side does not fit); it shares no pixel with another label of its row and no marker line
    passes through it (a marker line of row ``r`` crosses rows ``0 .. r-1``).  So a label
    whose span holds other markers sits above their labels: the labels are placed in that
    order (a label is flipped to its marker's left when two would have to sit above each
    other), each in the lowest row that allows it; rows are added as needed.

    >>> boxes = place_labels([(10, 60), (30, 60), (200, 60)], width=300)
    >>> [(b.row, b.x0) for b in boxes]
    [(1, 13.0), (0, 33.0), (0, 203.0)]
    """
    n = len(markers)
    right = _initial_sides(markers, width=width, gap=gap)
    seen: set[tuple[bool, ...]] = set()
    for _ in range(4 * n + 1):
        spans, below = _spans_below(markers, right, width=width, gap=gap)
        order, left = _topological(below)
        seen.add(tuple(right))
        if order is not None:
            break
        tried = _flip_one(markers, right, _cycle(below, left), seen, width=width, gap=gap)
        if tried is None:
            break
        right = tried
    if order is None:  # no placement avoids every crossing: right to left, best effort
        order = sorted(range(n), key=lambda i: -markers[i][0])
    return _stack(markers, order, spans, below, gap=gap)


def _initial_sides(markers: Sequence[tuple[float, float]], *, width: float,
                   gap: float) -> list[bool]:
    """Choose each label's side of its marker: True for right.

    A label goes right when that fits and covers no more other markers than the left side
    (right on a tie), or when the left does not fit.
    """
    def covered(lo: float, hi: float) -> int:
        return sum(lo - gap <= mx <= hi + gap for mx, _ in markers)

    return [(x + gap + w <= width
            and (x - gap - w < 0 or covered(x + gap, x + gap + w) <= covered(x - gap - w,
                                                                                x - gap)))
            or x - gap - w < 0 for x, w in markers]


def _spans_below(markers: Sequence[tuple[float, float]], right: Sequence[bool], *,
                 width: float, gap: float
                 ) -> tuple[list[tuple[float, float]], list[set[int]]]:
    """Each label's span on its side, and the other markers inside it (labels to sit above)."""
    spans = [(x + gap, min(width, x + gap + w)) if r else (x - gap - w, x - gap)
             for (x, w), r in zip(markers, right, strict=True)]
    below = [{j for j in range(len(markers)) if j != i
              and spans[i][0] - gap <= markers[j][0] <= spans[i][1] + gap}
             for i in range(len(markers))]
    return spans, below


def _flip_one(markers: Sequence[tuple[float, float]], right: Sequence[bool],
              cycle: Sequence[int], seen: set[tuple[bool, ...]], *, width: float,
              gap: float) -> list[bool] | None:
    """Return ``right`` with one label of ``cycle`` flipped to its other side, or None.

    The label flipped is the rightmost that fits there and gives sides not tried before.
    """
    def can_flip(i: int) -> bool:
        x, w = markers[i]
        return x - gap - w >= 0 if right[i] else x + gap + w <= width

    for i in sorted((i for i in cycle if can_flip(i)), key=lambda i: -markers[i][0]):
        trial = list(right)
        trial[i] = not trial[i]
        if tuple(trial) not in seen:
            return trial
    return None


def _fits(box: LabelBox, placed: Sequence[LabelBox], *, gap: float) -> bool:
    """``box`` shares no pixel with a label of its row, and no marker line crosses a label."""
    for other in placed:
        if other.row == box.row and box.x0 - gap < other.x1 and other.x0 < box.x1 + gap:
            return False
        # the other's marker line crosses this row: not through this label
        if other.row > box.row and box.x0 - gap <= other.marker_x <= box.x1 + gap:
            return False
        # this marker line crosses the other's row (or reaches it): not through it
        if other.row <= box.row and other.x0 - gap <= box.marker_x <= other.x1 + gap:
            return False
    return True


def _stack(markers: Sequence[tuple[float, float]], order: Sequence[int],
           spans: Sequence[tuple[float, float]], below: Sequence[set[int]], *,
           gap: float) -> list[LabelBox]:
    """Place the labels in ``order``; return their boxes in input order.

    Each goes in the lowest row, above the labels of the markers it spans, that it fits in.
    """
    n = len(markers)
    placed: list[LabelBox] = []
    result: dict[int, LabelBox] = {}
    for i in order:
        row = max((result[j].row + 1 for j in below[i] if j in result), default=0)
        box = LabelBox(markers[i][0], *spans[i], row)
        while not _fits(box, placed, gap=gap) and box.row <= 2 * n:
            box = LabelBox(box.marker_x, box.x0, box.x1, box.row + 1)
        placed.append(box)
        result[i] = box
    return [result[i] for i in range(n)]


def crossings(boxes: Sequence[LabelBox], *, gap: float = 3.0) -> list[str]:
    """List what breaks the rules of :func:`place_labels` (empty when nothing does).

    That is a label not next to its own marker, two labels of a row overlapping, a marker
    line through a label.
    """
    bad = []
    for i, a in enumerate(boxes):
        if not (abs(a.x0 - (a.marker_x + gap)) < 1e-6 or abs(a.x1 - (a.marker_x - gap)) < 1e-6):
            bad.append(f"label {i} is not next to its own marker")
        for j, b in enumerate(boxes):
            if j <= i and not (b.row > a.row):
                continue
            if j > i and a.row == b.row and a.x0 < b.x1 and b.x0 < a.x1:
                bad.append(f"labels {i} and {j} overlap")
            if b.row > a.row and a.x0 <= b.marker_x <= a.x1:
                bad.append(f"marker {j} crosses label {i}")
    return bad


def _cycle(below: list[set[int]], nodes: set[int]) -> list[int]:
    """One cycle among ``nodes`` of the graph ``i -> below[i]`` (they hold one)."""
    start = min(nodes)
    path: list[int] = []
    index: dict[int, int] = {}
    node = start
    while node not in index:
        index[node] = len(path)
        path.append(node)
        node = min(j for j in below[node] if j in nodes)
    return path[index[node]:]


def _topological(below: list[set[int]]) -> tuple[list[int] | None, set[int]]:
    """Order the nodes so every ``below[i]`` comes before ``i``; else None and those left over."""
    waiting = {i: set(deps) for i, deps in enumerate(below)}
    order: list[int] = []
    ready = sorted((i for i, deps in waiting.items() if not deps), reverse=True)
    while ready:
        i = ready.pop()
        order.append(i)
        del waiting[i]
        for k, deps in waiting.items():
            if i in deps:
                deps.discard(i)
                if not deps and k not in ready:
                    ready.append(k)
    return (order, set()) if not waiting else (None, set(waiting))


_PAD = 8
_ROW_H = 15
_LABEL_PX = 11
_ABOVE_GAP = 10  # axis to the first upper row (the playhead sits there)
_BELOW_GAP = 6
_TICKS_H = 16


@dataclass(frozen=True)
class StripLayout:
    """Label boxes of a strip.

    ``upper[k]`` / ``lower[k]`` for the events of each half (``halves[i]`` is 0 for upper, 1
    for lower; ``boxes[i]`` event ``i``'s box).
    """

    halves: tuple[int, ...]
    boxes: tuple[LabelBox, ...]
    upper_rows: int
    lower_rows: int

    @property
    def height(self) -> int:
        """The strip's height in pixels (at least 76, even)."""
        height = max(76, 3 + self.upper_rows * _ROW_H + _ABOVE_GAP + _BELOW_GAP
                     + self.lower_rows * _ROW_H + _TICKS_H)
        return height + height % 2

    @property
    def axis_y(self) -> int:
        """Row of the time axis."""
        return self.height - _TICKS_H - _BELOW_GAP - self.lower_rows * _ROW_H


def layout_strip(width: int, *, duration: Fraction,
                 events: Sequence[tuple[Fraction, str]]) -> StripLayout:
    """Lay out the event labels of a strip of ``width``.

    Events alternate above and below the axis (in time order), each half placed by
    :func:`place_labels`.
    """
    font = label_font(_LABEL_PX)
    span = max(1, width - 2 * _PAD)
    markers = [(_PAD + span * float(min(when, duration) / duration), font.getlength(label))
               for when, label in events]
    halves = tuple(i % 2 for i in range(len(markers)))
    boxes: list[LabelBox | None] = [None] * len(markers)
    rows = [0, 0]
    for half in (0, 1):
        members = [i for i in range(len(markers)) if halves[i] == half]
        placed = place_labels([markers[i] for i in members], width=width - 2)
        for i, box in zip(members, placed, strict=True):
            boxes[i] = box
            rows[half] = max(rows[half], box.row + 1)
    return StripLayout(halves, tuple(b for b in boxes if b is not None), rows[0], rows[1])


def strip_height(width: int, *, duration: Fraction, events: list[tuple[Fraction, str]]) -> int:
    """Height of the strip :func:`timeline_strip` draws for these events at ``width``."""
    return layout_strip(width, duration=duration, events=events).height


def label_top(layout: StripLayout, i: int) -> int:
    """Top pixel row of event ``i``'s label (its text is :data:`_LABEL_PX` tall)."""
    box = layout.boxes[i]
    if layout.halves[i] == 0:
        return layout.axis_y - _ABOVE_GAP - (box.row + 1) * _ROW_H + 2
    return layout.axis_y + _BELOW_GAP + box.row * _ROW_H


def timeline_strip(width: int, *, duration: Fraction, events: list[tuple[Fraction, str]],
                   t: Fraction, height: int | None = None) -> RGB:
    """Draw a ``(height, width, 3)`` timeline strip.

    It has a time axis with second ticks, one marker per event time with its label (events
    alternate above and below the axis; placed by :func:`place_labels`, so no marker line
    crosses a label), and a playhead at ``t``.

    ``height`` defaults to the layout's (76 px, more when labels need more rows).
    """
    from PIL import Image, ImageDraw

    layout = layout_strip(width, duration=duration, events=events)
    height = max(height or 0, layout.height)
    img = Image.new("RGB", (width, height), STRIP_BG)
    draw = ImageDraw.Draw(img)
    axis_y = layout.axis_y
    span = max(1, width - 2 * _PAD)

    def x_of(when: Fraction) -> float:
        return _PAD + span * float(min(when, duration) / duration)

    draw.line([(_PAD, axis_y), (_PAD + span, axis_y)], fill=(90, 90, 100), width=2)
    font = label_font(_LABEL_PX)
    widest = font.getlength(f"{int(duration)}s") + 12
    step = next(s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 10**9)
                if span * s / float(duration) >= widest)
    for second in range(0, int(duration) + 1, step):
        x = x_of(Fraction(second))
        draw.line([(x, axis_y - 3), (x, axis_y + 3)], fill=(140, 140, 150))
        text = f"{second}s"
        half = font.getlength(text) / 2
        draw.text((min(max(x, half + 1), width - half - 1), height - _TICKS_H + 2), text,
                  fill=(150, 150, 160), font=font, anchor="mt")
    x = x_of(min(t, duration))
    draw.rectangle([_PAD, axis_y - 2, x, axis_y + 1], fill=(80, 160, 230))
    for i, ((when, label), box) in enumerate(zip(events, layout.boxes, strict=True)):
        color = (250, 200, 90) if when <= t else (160, 160, 172)
        top = label_top(layout, i)
        if layout.halves[i] == 0:
            draw.line([(box.marker_x, axis_y - 3), (box.marker_x, top + 2)], fill=color)
        else:
            draw.line([(box.marker_x, axis_y + 3), (box.marker_x, top + _LABEL_PX)], fill=color)
        draw.text((box.x0, top), label, fill=color, font=font)
    draw.polygon([(x - 5, axis_y - 9), (x + 5, axis_y - 9), (x, axis_y - 2)],
                 fill=(255, 255, 255))
    return np.asarray(img)


@dataclass(frozen=True)
class Cue:
    """A short caption (and a fading outline of where a user was) after a change."""

    t: Fraction
    text: str
    rect: tuple[int, int, int, int] | None = None  # canvas pixels of the user who left


def scenario_cues(renderer: SceneRenderer) -> list[Cue]:
    """Return a cue per leave (with the user's last rectangle) and per layout change."""
    from .enums import LayoutMode
    from .layout import compute_regions

    cues = []
    step = Fraction(1, 1000)
    for event in renderer.scenario.events:
        if event.action not in ("leave", "update_layout") or event.t <= 0:
            continue
        if event.action == "update_layout":
            layout = renderer.timeline.scene_at(event.t).layout
            label = LayoutMode(layout.mixed_video_layout).label
            cues.append(Cue(event.t, f"{_seconds(event.t)}s layout changed: {label}"))
            continue
        before = renderer.timeline.scene_at(event.t - step)
        regions = compute_regions(before.layout, before.order, canvas_wh=renderer.canvas_wh,
                                  profile=renderer.profile)
        i = regions.index_of(event.uid or "")
        rect = None if i is None else tuple(int(v) for v in regions.rects[i])
        cues.append(Cue(event.t, f"{_seconds(event.t)}s {event.uid} left", rect))  # type: ignore[arg-type]
    return cues


CUE_SECONDS = Fraction(1)


def draw_cues(rgb: RGB, cues: Sequence[Cue], t: Fraction, *, scale: float = 1.0) -> RGB:
    """``rgb`` with the cues active at ``t`` (each for :data:`CUE_SECONDS`, fading out)."""
    active = [c for c in cues if c.t <= t < c.t + CUE_SECONDS]
    if not active:
        return rgb
    from PIL import Image, ImageDraw

    img = Image.fromarray(rgb).convert("RGBA")
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    font = label_font(max(12, min(18, img.height // 18)))
    y = max(6, img.height // 2 - len(active) * (font.size + 12) // 2)  # centred: no tile label
    for cue in active:
        fade = 1 - float((t - cue.t) / CUE_SECONDS) * 0.7
        if cue.rect is not None:
            x0, y0, w, h = (round(v * scale) for v in cue.rect)
            draw.rectangle([x0 + 1, y0 + 1, x0 + w - 2, y0 + h - 2],
                           outline=(255, 90, 90, round(255 * fade)), width=3)
        length = font.getlength(cue.text)
        x = (img.width - length) / 2
        draw.rectangle([x - 6, y - 3, x + length + 6, y + font.size + 5],
                       fill=(0, 0, 0, round(200 * fade)))
        draw.text((x, y), cue.text, fill=(255, 255, 255, round(255 * fade)), font=font)
        y += font.size + 12
    return np.asarray(Image.alpha_composite(img, overlay).convert("RGB"))


def _frames(renderer: SceneRenderer, *, fps: int, max_width: int | None,
            annotate: bool = False) -> Iterator[RGB]:
    """Yield the RGB frames (canvas + strip) at ``fps``.

    Non-live tiles are labelled with uid and state (every region outlined and labelled with
    ``annotate``); cues follow leaves and layout changes.
    """
    import cv2

    from .annotate import annotate_frame, frame_states, frame_warnings, tile_labels, warn_all

    duration = renderer.timeline.end_time
    events: list[tuple[Fraction, str]] | None = None
    cues = scenario_cues(renderer)
    warned: set[str] = set()
    for t in renderer.timeline.frame_times(fps):
        frame = renderer.rendered_frame(t)
        rgb = frame.rgb()
        scale = 1.0
        if max_width and rgb.shape[1] > max_width:
            h = round(rgb.shape[0] * max_width / rgb.shape[1])
            scale = max_width / rgb.shape[1]
            rgb = np.asarray(cv2.resize(rgb, (max_width, h - h % 2),
                                        interpolation=cv2.INTER_AREA), dtype=np.uint8)
        if annotate:
            rgb = annotate_frame(frame, rgb=rgb, scale=scale, notes=False)
            fresh = [note for note in frame_warnings(frame) if note not in warned]
            warned.update(fresh)
            warn_all([f"from {float(t):g} s: {note}" for note in fresh], stacklevel=2)
        else:
            still = {uid: state for uid, state in frame_states(frame).items()
                     if state != "live"}
            rgb = tile_labels(rgb, frame.regions, still, scale=scale)
        rgb = draw_cues(rgb, cues, t, scale=scale)
        if events is None:
            events = readable_events(renderer.scenario, rgb.shape[1], duration=duration)
        strip = timeline_strip(rgb.shape[1], duration=duration, events=events, t=t)
        yield np.concatenate([rgb, strip], axis=0)


def write_gif(renderer: SceneRenderer, path: str | os.PathLike[str], *, fps: int = 10,
              max_width: int = 480, overwrite: bool = False, annotate: bool = False) -> int:
    """Write an animated GIF of the whole scenario; returns the number of frames.

    Frames are drawn, quantized (192 colours, each frame its own palette) and written one
    at a time, so memory does not grow with the length of the scenario.
    """
    from PIL import GifImagePlugin, Image

    from .io.atomic import atomic_output

    delay = round(1000 / fps)
    count = 0
    with atomic_output(path, overwrite=overwrite) as tmp, open(tmp, "wb") as fp:
        for rgb in _frames(renderer, fps=fps, max_width=max_width, annotate=annotate):
            frame = Image.fromarray(rgb).quantize(colors=192, method=Image.Quantize.MEDIANCUT)
            if count == 0:
                header, _ = GifImagePlugin.getheader(frame, info={"loop": 0, "duration": delay,
                                                                  "optimize": False})
                fp.writelines(header)
            fp.writelines(GifImagePlugin.getdata(frame, duration=delay, optimize=False,
                                                 include_color_table=True))
            count += 1
        fp.write(b";")  # the GIF trailer
    return count


def write_mp4(renderer: SceneRenderer, path: str | os.PathLike[str], *,
              overwrite: bool = False, annotate: bool = False) -> int:
    """Write an H.264 MP4 of the whole scenario at its fps; returns the number of frames."""
    from .io.encode import MediaFileWriter

    count = 0
    writer = None
    try:
        for frame in _frames(renderer, fps=renderer.fps, max_width=None, annotate=annotate):
            h, w = frame.shape[:2]
            frame = frame[: h - h % 2, : w - w % 2]
            if writer is None:
                writer = MediaFileWriter(path, size_wh=(frame.shape[1], frame.shape[0]),
                                         fps=renderer.fps, overwrite=overwrite)
            writer.write(rgb_to_i420(np.ascontiguousarray(frame)))
            count += 1
    except BaseException as exc:
        if writer is not None:
            writer.close(exc)
        raise
    if writer is not None:
        writer.close()
    return count
