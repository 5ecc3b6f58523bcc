"""Animated scenario previews (GIF or MP4) with a timeline strip naming the events."""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from .compose.yuv import rgb_to_i420
from .signals.testcard import label_font
from .render import SceneRenderer
from .scenario import Scenario

__all__ = ["timeline_strip", "strip_events", "write_gif", "write_mp4"]

RGB = npt.NDArray[np.uint8]
STRIP_BG = (24, 24, 28)


def strip_events(scenario: Scenario) -> list[tuple[Fraction, str]]:
    """``(time, label)`` of every event, e.g. ``(6, '3003 mute_video')``."""
    items = []
    for event in scenario.events:  # a user's "join" > 0 is one of these events already
        label = event.action if event.uid is None else f"{event.uid} {event.action}"
        items.append((event.t, label))
    return sorted(items, key=lambda item: item[0])


def timeline_strip(width: int, *, duration: Fraction, events: list[tuple[Fraction, str]],
                   t: Fraction, height: int = 76) -> RGB:
    """A ``(height, width, 3)`` strip: a time axis, event markers with labels, a playhead."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), STRIP_BG)
    draw = ImageDraw.Draw(img)
    pad = 8
    axis_y = height - 14
    span = max(1, width - 2 * pad)

    def x_of(when: Fraction) -> float:
        return pad + span * float(when / duration)

    draw.line([(pad, axis_y), (pad + span, axis_y)], fill=(90, 90, 100), width=2)
    step = max(1, int(duration) // 12 or 1)
    tick_font = label_font(9)
    for second in range(0, int(duration) + 1, step):
        x = x_of(Fraction(second))
        draw.line([(x, axis_y - 3), (x, axis_y + 3)], fill=(120, 120, 130))
        draw.text((x, axis_y + 5), f"{second}s", fill=(120, 120, 130), font=tick_font,
                  anchor="mt")
    x = x_of(min(t, duration))
    draw.rectangle([pad, axis_y - 2, x, axis_y + 1], fill=(80, 160, 230))
    font = label_font(10)
    row_ends = [-1e9] * 4  # right end of the last label in each of 4 rows
    for when, label in events:
        ex = x_of(when)
        length = font.getlength(label)
        right = ex + 3 + length > width - 2  # near the right edge: label left of the marker
        x0 = ex - 3 - length if right else ex + 3
        free = [r for r, end in enumerate(row_ends) if end < x0]
        row = free[0] if free else min(range(len(row_ends)), key=row_ends.__getitem__)
        row_ends[row] = x0 + length + 4
        color = (250, 200, 90) if when <= t else (150, 150, 160)
        draw.line([(ex, axis_y - 6), (ex, 6 + row * 13)], fill=color)
        draw.text((x0, 2 + row * 13), label, fill=color, font=font)
    draw.polygon([(x - 5, axis_y - 9), (x + 5, axis_y - 9), (x, axis_y - 2)],
                 fill=(255, 255, 255))
    return np.asarray(img)


def _frames(renderer: SceneRenderer, *, fps: int, max_width: int | None):
    """RGB frames (canvas + strip) at ``fps``."""
    import cv2

    duration = renderer.timeline.end_time
    events = strip_events(renderer.scenario)
    for t in renderer.timeline.frame_times(fps):
        rgb = renderer.frame_at(t).rgb()
        if max_width and rgb.shape[1] > max_width:
            h = round(rgb.shape[0] * max_width / rgb.shape[1])
            rgb = np.asarray(cv2.resize(rgb, (max_width, h - h % 2),
                                        interpolation=cv2.INTER_AREA), dtype=np.uint8)
        strip = timeline_strip(rgb.shape[1], duration=duration, events=events, t=t)
        yield np.concatenate([rgb, strip], axis=0)


def write_gif(renderer: SceneRenderer, path: str | os.PathLike[str], *, fps: int = 10,
              max_width: int = 480, overwrite: bool = False) -> int:
    """Write an animated GIF of the whole scenario; returns the number of frames.

    Frames are drawn, quantized (192 colours, each frame its own palette) and written one
    at a time, so memory does not grow with the length of the scenario.
    """
    from PIL import GifImagePlugin, Image

    from .io.atomic import atomic_output

    delay = round(1000 / fps)
    count = 0
    with atomic_output(path, overwrite=overwrite) as tmp, open(tmp, "wb") as fp:
        for rgb in _frames(renderer, fps=fps, max_width=max_width):
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
              overwrite: bool = False) -> int:
    """Write an H.264 MP4 of the whole scenario at its fps; returns the number of frames."""
    from .io.encode import MediaFileWriter

    count = 0
    writer = None
    try:
        for frame in _frames(renderer, fps=renderer.fps, max_width=None):
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
