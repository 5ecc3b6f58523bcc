"""Annotated previews: region outlines and labels drawn over a canvas, warnings in a margin.

Pure: RGB arrays in, a new RGB array out (Pillow draws).  Every region gets an outline and,
where it fits, a label box inside it (never outside the region): ``#index uid``, the pixel
rectangle ``x,y,w,h``, ``crop`` / ``fit`` (and ``alpha``), and for scenario frames the
display state.  Empty regions (a custom region nobody fills) get a dashed outline.
:func:`layout_warnings` tells what a preview silently leaves out; :func:`annotate` prints
those lines in a margin under the canvas.

Examples
--------
>>> import numpy as np
>>> from layoutkit.layout import make_regions
>>> regions = make_regions([[0, 0, 0.5, 1], [0.5, 0, 0.5, 1]], ["1", None],
...                        canvas_wh=(320, 180))
>>> out = annotate(np.zeros((180, 320, 3), np.uint8), regions, notes=["a warning"])
>>> out.shape[1], out.shape[0] > 180      # the margin holds the warning
(320, True)
>>> out[90, 0].tolist() == list(OUTLINE)  # the first region's left edge is outlined
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._typing import RGB
from .enums import LayoutMode
from .layout import MAX_DISPLAYED, Regions
from .request.model import LayoutSettings, RecordingConfig
from .signals.testcard import label_font

if TYPE_CHECKING:
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont

    from .render import RenderedFrame

__all__ = [
    "EMPTY_OUTLINE",
    "OUTLINE",
    "Label",
    "PreviewWarning",
    "annotate",
    "annotate_frame",
    "annotated_preview",
    "frame_states",
    "frame_warnings",
    "label_lines",
    "layout_warnings",
    "region_label",
    "tile_labels",
    "warn_all",
]

#: Outline of a region with a user (a saturated yellow, visible on every test card colour).
OUTLINE = (255, 214, 0)
#: Outline of an empty region (dashed magenta).
EMPTY_OUTLINE = (255, 64, 200)
LABEL_BG = (16, 16, 20)
LABEL_FG = (255, 255, 255)
WARN_FG = (255, 200, 90)
MARGIN_BG = (32, 32, 36)
_PAD = 3


class PreviewWarning(UserWarning):
    """Something a preview leaves out (an absent named uid, users not drawn)."""


def warn_all(lines: Sequence[str], *, stacklevel: int = 3) -> None:
    """Issue each line as a :class:`PreviewWarning`."""
    import warnings

    for line in lines:
        warnings.warn(line, PreviewWarning, stacklevel=stacklevel)


@dataclass(frozen=True)
class Label:
    """What a region's label says (one entry per line, most important first)."""

    index: int
    uid: str | None
    rect: tuple[int, int, int, int]
    fit: str
    alpha: float
    state: str | None = None


def region_label(regions: Regions, i: int, *, state: str | None = None) -> Label:
    """Return the :class:`Label` of region ``i``."""
    x, y, w, h = (int(v) for v in regions.rects[i])
    return Label(i, regions.uids[i], (x, y, w, h),
                 "fit" if int(regions.render_modes[i]) == 1 else "crop",
                 round(float(regions.alphas[i]), 3), state)


def label_lines(label: Label) -> list[str]:
    """Label text, most important line first (a small region keeps only the first lines).

    >>> label_lines(Label(2, "3003", (0, 180, 320, 180), "crop", 1.0, "black"))
    ['#2 3003', 'black', '0,180,320,180', 'crop']
    """
    head = f"#{label.index} {label.uid if label.uid is not None else 'empty'}"
    lines = [head]
    if label.state:
        lines.append(label.state)
    x, y, w, h = label.rect
    lines.append(f"{x},{y},{w},{h}")
    lines.append(label.fit if label.alpha >= 1 else f"{label.fit} alpha {label.alpha:g}")
    return lines


def layout_warnings(settings: LayoutSettings, users: Sequence[str], regions: Regions, *,
                    unsubscribed: Sequence[str] = ()) -> list[str]:
    """List what a preview leaves out without saying so, one sentence each.

    Parameters
    ----------
    settings : LayoutSettings
        The layout drawn.
    users : sequence of str
        The users given to the preview, in join order (subscribed ones).
    regions : Regions
        What :func:`~layoutkit.layout.compute_regions` made of them.
    unsubscribed : sequence of str
        Users left out because the recorder does not subscribe to their video.

    Examples
    --------
    >>> from layoutkit.layout import compute_regions
    >>> from layoutkit.request.model import LayoutSettings, LayoutRegion
    >>> s = LayoutSettings(mixed_video_layout=3, layout_config=(
    ...     LayoutRegion(uid="7", x_axis=0, y_axis=0, width=0.5, height=1),
    ...     LayoutRegion(x_axis=0.5, y_axis=0, width=0.5, height=1)))
    >>> r = compute_regions(s, ["1", "2"], canvas_wh=(320, 180))
    >>> for line in layout_warnings(s, ["1", "2"], r): print(line)
    layoutConfig[0] names uid 7, not among the users (1, 2): its region stays empty
    user 2 is not drawn: 2 region(s), 1 filled, for 2 user(s)
    """
    found = []
    shown = set(users)
    if settings.mixed_video_layout == LayoutMode.CUSTOM:
        listed = ", ".join(users) if len(users) <= 6 else ", ".join(users[:6]) + ", ..."
        for i, region in enumerate(settings.layout_config):
            if region.uid is not None and region.uid not in shown:
                found.append(f"layoutConfig[{i}] names uid {region.uid}, not among the users "
                             f"({listed or 'none'}): its region stays empty")
    drawn = {uid for uid in regions.uids if uid is not None}
    missing = [uid for uid in users if uid not in drawn]
    if missing:
        who = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
        if len(users) > MAX_DISPLAYED and missing == list(users[MAX_DISPLAYED:]):
            why = f"at most {MAX_DISPLAYED} users are drawn"
        else:
            why = f"{len(regions)} region(s), {len(drawn)} filled, for {len(users)} user(s)"
        found.append(f"user{'s' if len(missing) > 1 else ''} {who} "
                     f"{'are' if len(missing) > 1 else 'is'} not drawn: {why}")
    if unsubscribed:
        who = ", ".join(unsubscribed)
        found.append(f"user{'s' if len(unsubscribed) > 1 else ''} {who} not drawn: video not "
                     "subscribed (subscribeVideoUids / unSubscribeVideoUids)")
    return found


def _font_px(canvas_wh: tuple[int, int]) -> int:
    """Label type size: 11 px on small canvases, up to 16 px on 1080p."""
    return max(11, min(16, round(min(canvas_wh) / 45)))


def _dashed(draw: ImageDraw, box: tuple[int, int, int, int], color: tuple[int, int, int],
            width: int) -> None:
    """Outline ``box`` with a dashed line (an empty region)."""
    x0, y0, x1, y1 = box
    dash = 6
    for x in range(x0, x1 + 1, 2 * dash):
        draw.line([(x, y0), (min(x + dash, x1), y0)], fill=color, width=width)
        draw.line([(x, y1), (min(x + dash, x1), y1)], fill=color, width=width)
    for y in range(y0, y1 + 1, 2 * dash):
        draw.line([(x0, y), (x0, min(y + dash, y1))], fill=color, width=width)
        draw.line([(x1, y), (x1, min(y + dash, y1))], fill=color, width=width)


#: An annotation label stays in the top part of its region: the test card's uid, in the
#: middle (from 35 % of the height down), stays uncovered.
LABEL_BAND = 0.33


def _label_box(draw: ImageDraw, box: tuple[int, int, int, int], lines: Sequence[str],
               font_px: int, *, band: float = 1.0) -> None:
    """Draw as many ``lines`` as fit, in a dark box inside ``box`` (top-left corner).

    The box stays within the top ``band`` of ``box`` (a fraction of its height).
    """
    x0, y0, x1, y1 = box
    avail_w = x1 - x0 - 2 * _PAD
    avail_h = min(y1 - y0 - 2 * _PAD, int((y1 - y0 + 1) * band) - _PAD)
    for size in (font_px, 11, 9):
        font = label_font(size)
        line_h = size + 2
        kept: list[str] = []
        for line in lines:
            if (len(kept) + 1) * line_h + 2 > avail_h:
                break
            if font.getlength(line) + 4 > avail_w:
                continue
            kept.append(line)
        if kept and kept[0] == lines[0]:
            break
    else:
        return  # too small for even the index: the outline alone
    width = int(max(font.getlength(line) for line in kept)) + 4
    bx, by = x0 + _PAD, y0 + _PAD
    draw.rectangle([bx, by, bx + width, by + len(kept) * line_h + 2], fill=LABEL_BG)
    for k, line in enumerate(kept):
        draw.text((bx + 2, by + 1 + k * line_h), line, fill=LABEL_FG, font=font)


def _wrap(text: str, font: FreeTypeFont, width: int) -> list[str]:
    """Break ``text`` into lines at most ``width`` pixels wide in ``font``."""
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if line and font.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def annotate(rgb: RGB, regions: Regions, *, states: Mapping[str, str] | None = None,
             notes: Sequence[str] = (), scale: float = 1.0, outline: bool = True) -> RGB:
    """Outline and label every region of a canvas, with ``notes`` in a margin below.

    Parameters
    ----------
    rgb : ndarray of shape (H, W, 3), uint8
        The canvas (e.g. :func:`~layoutkit.stills.preview_canvas`'s).
    regions : Regions
        Its regions (pixel rectangles of the canvas ``regions.canvas_wh``).
    states : mapping of uid to str, optional
        Display state per uid (scenario frames), shown on the label.
    notes : sequence of str
        Warnings printed in a margin under the canvas (none: no margin).
    scale : float
        ``rgb`` is the canvas scaled by this factor (the labels keep canvas pixels).
    outline : bool
        Draw outlines (False: labels only).

    Returns
    -------
    ndarray of shape (H + margin, W, 3), uint8
        A new array; the canvas part keeps its pixels where nothing is drawn.
    """
    from PIL import Image, ImageDraw

    img = Image.fromarray(np.ascontiguousarray(rgb))
    draw = ImageDraw.Draw(img)
    font_px = _font_px((img.width, img.height))
    states = states or {}
    boxes = []
    for i in range(len(regions)):
        x, y, w, h = (round(float(v) * scale) for v in regions.rects[i])
        if w <= 0 or h <= 0:
            continue
        box = (x, y, min(img.width, x + w) - 1, min(img.height, y + h) - 1)
        boxes.append(box)
        uid = regions.uids[i]
        thick = 2 if min(w, h) >= 40 else 1
        if outline and uid is None:
            _dashed(draw, box, EMPTY_OUTLINE, thick)
        elif outline:
            draw.rectangle(box, outline=OUTLINE, width=thick)
        label = region_label(regions, i, state=states.get(uid) if uid else None)
        _label_box(draw, box, label_lines(label), font_px, band=LABEL_BAND)
    if not notes:
        return np.asarray(img)
    font = label_font(max(12, font_px))
    lines = [wrapped for note in notes
             for wrapped in _wrap(f"! {note}", font, img.width - 12)]
    line_h = max(12, font_px) + 4
    margin = Image.new("RGB", (img.width, 8 + line_h * len(lines)), MARGIN_BG)
    mdraw = ImageDraw.Draw(margin)
    for k, line in enumerate(lines):
        mdraw.text((6, 4 + k * line_h), line, fill=WARN_FG, font=font)
    return np.concatenate([np.asarray(img), np.asarray(margin)], axis=0)


def tile_labels(rgb: RGB, regions: Regions, states: Mapping[str, str], *,
                scale: float = 1.0) -> RGB:
    """Label the tiles of ``states`` only with a small ``uid state``; return a new array.

    These are e.g. frozen or background tiles of an animated preview, whose picture no longer
    names the user.
    """
    from PIL import Image, ImageDraw

    if not states:
        return rgb
    img = Image.fromarray(np.ascontiguousarray(rgb))
    draw = ImageDraw.Draw(img)
    font_px = _font_px((img.width, img.height))
    for i, uid in enumerate(regions.uids):
        if uid is None or uid not in states:
            continue
        x, y, w, h = (round(float(v) * scale) for v in regions.rects[i])
        box = (x, y, min(img.width, x + w) - 1, min(img.height, y + h) - 1)
        _label_box(draw, box, [f"{uid} {states[uid]}"], font_px)
    return np.asarray(img)


def frame_states(frame: RenderedFrame) -> dict[str, str]:
    """``uid -> display state`` of a scenario frame (e.g. ``'live'``, ``'last_frame'``)."""
    return {view.uid: view.state.value for view in frame.scene.views}


def frame_warnings(frame: RenderedFrame) -> list[str]:
    """:func:`layout_warnings` of a scenario frame (its displayed users and layout)."""
    return layout_warnings(frame.scene.layout, list(frame.scene.order), frame.regions)


def annotate_frame(frame: RenderedFrame, *, rgb: RGB | None = None, scale: float = 1.0,
                   notes: bool = True) -> RGB:
    """:func:`annotate` for a scenario frame: states on the labels, its warnings below."""
    picture = frame.rgb() if rgb is None else rgb
    return annotate(picture, frame.regions, states=frame_states(frame),
                    notes=frame_warnings(frame) if notes else (), scale=scale)


def annotated_preview(settings: LayoutSettings, users: Sequence[str], *,
                      canvas_wh: tuple[int, int], config: RecordingConfig | None = None,
                      annotate: bool = False, **options: Any) -> RGB:
    """Draw :func:`~layoutkit.stills.preview_canvas` honouring a start body's video subscription.

    The subscription is ``config``'s; :func:`layout_warnings` are issued as
    :class:`PreviewWarning`; with ``annotate`` the regions are outlined and labelled and those
    warnings printed in a margin.

    ``options`` are :func:`~layoutkit.stills.preview_canvas`'s (``profile``,
    ``source_sizes``, ``background_image``).
    """
    from .layout import compute_regions
    from .profile import DEFAULT_PROFILE
    from .stills import preview_canvas

    drawn, unsubscribed = (config or RecordingConfig()).split_video_subscribed(users)
    image = preview_canvas(settings, drawn, canvas_wh=canvas_wh, **options)
    regions = compute_regions(settings, drawn, canvas_wh=canvas_wh,
                              profile=options.get("profile", DEFAULT_PROFILE))
    notes = layout_warnings(settings, drawn, regions, unsubscribed=unsubscribed)
    warn_all(notes, stacklevel=4)
    return _draw(image, regions, notes=notes) if annotate else image


_draw = annotate  # ``annotated_preview`` has a keyword of the same name
