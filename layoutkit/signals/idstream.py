"""The identifying test stream's pictures (pure): they name their uid and frame number.

Every frame shows, on the uid's own colour (:func:`~layoutkit.signals.testcard.uid_color`):

* the uid in large type in the centre third of the long axis (so a crop keeps it), first
  half of the short axis;
* the machine-readable code of ``(uid, frame)`` (:mod:`layoutkit.signals.idcode`) below it;
* moving parts in the outer thirds: a white bar sweeping across each outer band (there and
  back every 2 seconds), a frame counter, and a progress tick along the far edge of the
  short axis that fills once per second;
* a flash on every whole second (``index % fps == 0``): everything outside the code's
  quiet zone is white for that one frame, the code stays readable.

Its audio is :func:`layoutkit.signals.tone.tone`: a per-uid sine with a beep at the start
of every whole second whose frequency numbers the second (modulo 16), so the flash of second
``k`` (its code's frame number) pairs with the beep of second ``k`` only.
:mod:`layoutkit.idstream` writes both into an MP4.

Colours: pictures are RGB; :func:`idstream_frame_i420` converts them
with BT.601 limited range ("studio swing", Y 16..235), the matrix and range of OpenCV's
``COLOR_RGB2YUV_I420`` and of FFmpeg's default RGB <-> yuv420p conversion, and the MP4 is
tagged that way (smpte170m, tv range).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from .._typing import RGB
from ..compose.yuv import i420_planes
from ..errors import ParameterError
from .idcode import code_geometry, draw_code, paint_code_luma, quiet_zone, uid_number
from .testcard import label_font, uid_color

if TYPE_CHECKING:
    from PIL.ImageDraw import ImageDraw

__all__ = ["even_size", "idstream_frame", "idstream_frame_i420"]

# Layout along the (long, short) axes, as fractions.
_CODE_LONG = (0.35, 0.65)  # the centre third the code and the uid share
_TEXT_SHORT = (0.05, 0.47)
_STRIP_SHORT = 0.965  # the progress tick runs from here to the far edge
_SWEEP_SECONDS = 2  # a bar goes across its band and back in this time
_COUNTER_DIGITS = 6

_WHITE = (255, 255, 255)
Span = tuple[int, int]


@dataclass(frozen=True)
class _Layout:
    """Pixel spans of the moving parts along the (long, short) axes."""

    portrait: bool
    long_px: int
    short_px: int
    edge: int  # border width
    band_a: Span  # outer band before the code (long axis)
    band_b: Span  # outer band after the code
    bar_px: int
    strip: Span  # short-axis span of the progress tick
    counter_xy: tuple[int, int]


def _view(image: RGB, long_span: Span, short_span: Span, portrait: bool) -> RGB:
    """Return the part of ``image`` at the given long / short axis spans (a writable view)."""
    (a0, a1), (b0, b1) = long_span, short_span
    return image[a0:a1, b0:b1] if portrait else image[b0:b1, a0:a1]


def _xyxy(long_span: Span, short_span: Span, portrait: bool) -> tuple[int, int, int, int]:
    (a0, a1), (b0, b1) = long_span, short_span
    return (b0, a0, b1, a1) if portrait else (a0, b0, a1, b1)


@lru_cache(maxsize=64)
def _layout(size_wh: tuple[int, int]) -> _Layout:
    width, height = size_wh
    portrait = height > width
    long_px, short_px = (height, width) if portrait else (width, height)
    qx, qy, qw, qh = quiet_zone(size_wh)
    q0, q1 = (qy, qy + qh) if portrait else (qx, qx + qw)
    gap = max(1, long_px // 80)
    edge = max(1, min(width, height) // 120)
    return _Layout(
        portrait=portrait,
        long_px=long_px,
        short_px=short_px,
        edge=edge,
        band_a=(edge, q0 - gap),
        band_b=(q1 + gap, long_px - edge),
        bar_px=max(2, round(long_px / 64)),
        strip=(round(_STRIP_SHORT * short_px), short_px),
        counter_xy=(2 * edge, 2 * edge),
    )


@lru_cache(maxsize=16)
def _glyphs(size: int) -> npt.NDArray[np.bool_]:
    """Return masks of the digits 0-9 in Pillow's font, shape (10, h, advance)."""
    from PIL import Image, ImageDraw

    font = label_font(size)
    advance = max(int(np.ceil(font.getlength(d))) for d in "0123456789")
    left, top, _, bottom = font.getbbox("0123456789")
    masks = []
    for digit in "0123456789":
        img = Image.new("L", (advance, int(bottom - top)))  # int already (FreeType: typed float)
        ImageDraw.Draw(img).text((-left, -top), digit, fill=255, font=font)
        masks.append(np.asarray(img) >= 128)
    out = np.stack(masks)
    out.setflags(write=False)
    return out


def _counter_size(layout: _Layout) -> int:
    return max(6, round(layout.short_px * 0.07))


def _wrappings(uid: str) -> list[str]:
    """Return the uid on one line and, when long, split over two (whichever prints larger wins)."""
    if len(uid) < 6:
        return [uid]
    half = (len(uid) + 1) // 2
    return [uid, f"{uid[:half]}\n{uid[half:]}"]


def _fit_font(draw: ImageDraw, text: str, box_wh: tuple[int, int], stroke: int) -> int:
    """Return the largest font size (down to 6) at which ``text`` fits in ``box_wh``."""
    size = max(6, box_wh[1])
    for _ in range(6):  # shrink until the text fits the box
        left, top, right, bottom = draw.multiline_textbbox(
            (0, 0), text, font=label_font(size), stroke_width=stroke, align="center")
        fit = min(box_wh[0] / max(1, right - left), box_wh[1] / max(1, bottom - top))
        if fit >= 1.0 or size == 6:
            break
        size = max(6, min(size - 1, int(size * fit)))
    return size


@lru_cache(maxsize=32)
def _backgrounds(uid: str, size_wh: tuple[int, int]) -> tuple[RGB, RGB]:
    """Draw the static picture of ``uid`` and its flash picture (read-only)."""
    from PIL import Image, ImageDraw

    width, height = size_wh
    lay = _layout(size_wh)
    color = uid_color(uid)
    dark = tuple(int(c * 0.35) for c in color)
    img = Image.new("RGB", size_wh, color)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, width - 1, height - 1], outline=_WHITE, width=lay.edge)
    # the uid, as large as fits in the first half of the centre third
    long_span = (round(_CODE_LONG[0] * lay.long_px), round(_CODE_LONG[1] * lay.long_px))
    short_span = (round(_TEXT_SHORT[0] * lay.short_px), round(_TEXT_SHORT[1] * lay.short_px))
    x0, y0, x1, y1 = _xyxy(long_span, short_span, lay.portrait)
    stroke = max(1, min(width, height) // 90)
    size, text = max((_fit_font(draw, line, (x1 - x0, y1 - y0), stroke), line)
                     for line in _wrappings(uid))
    draw.multiline_text(((x0 + x1) / 2, (y0 + y1) / 2), text, fill=_WHITE,
                        font=label_font(size), anchor="mm", align="center",
                        stroke_width=stroke, stroke_fill=dark)
    base = np.array(img)
    # dark plates under the progress tick and the frame counter
    _view(base, (0, lay.long_px), lay.strip, lay.portrait)[...] = dark
    glyph_h, glyph_w = _glyphs(_counter_size(lay)).shape[1:]
    cx, cy = lay.counter_xy
    base[cy - 1:cy + glyph_h + 1, cx - 1:cx + glyph_w * _COUNTER_DIGITS + 1] = dark
    flash = np.full_like(base, 255)
    for picture in (base, flash):
        draw_code(picture, uid, 0)  # the quiet zone; the cells are redrawn every frame
        picture.setflags(write=False)
    return base, flash


def _sweep(index: int, fps: int, span: Span, bar_px: int) -> Span:
    """Where a bar that crosses ``span`` and comes back every 2 s is at frame ``index``."""
    period = _SWEEP_SECONDS * fps
    phase = (index % period) / period
    travel = 2 * phase if phase < 0.5 else 2 - 2 * phase
    start = span[0] + round(travel * max(0, span[1] - span[0] - bar_px))
    return (start, min(span[1], start + bar_px))


def _counter_pixels(index: int, layout: _Layout) -> tuple[npt.NDArray[np.intp], ...]:
    """Row and column indices of the frame counter's white pixels."""
    glyphs = _glyphs(_counter_size(layout))
    text = str(index)[-_COUNTER_DIGITS:]
    mask = np.concatenate([glyphs[int(d)] for d in text], axis=1)
    rows, cols = np.nonzero(mask)
    cx, cy = layout.counter_xy
    rows, cols = rows + cy, cols + cx
    height, width = ((layout.long_px, layout.short_px) if layout.portrait
                     else (layout.short_px, layout.long_px))
    inside = (rows < height) & (cols < width)  # tiny pictures clip the counter
    return (rows[inside], cols[inside])


def _check_size(size_wh: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(v) for v in size_wh)
    code_geometry((width, height))  # raises ParameterError when too small
    return (width, height)


def idstream_frame(uid: str, index: int, *, size_wh: tuple[int, int] = (640, 360),
               fps: int = 15) -> RGB:
    """Frame ``index`` of the test stream of ``uid`` as an RGB picture.

    Parameters
    ----------
    uid : str
        Decimal uid ``"0"`` .. ``"4294967295"``.
    index : int
        Frame number from 0; the code carries it modulo 4096.
    size_wh : tuple of int
        Picture ``(width, height)``, at least about 64x36; portrait sizes use the
        transposed placement.
    fps : int
        Frame rate: the sweep period and the once-a-second flash and tick depend on it.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
        A new array; the same inputs always give the same pixels.

    Raises
    ------
    ParameterError
        For an invalid uid, a picture too small for the code or ``fps`` < 1.

    Examples
    --------
    >>> from layoutkit.signals.idcode import read_code
    >>> import cv2
    >>> rgb = idstream_frame("1001", 7)
    >>> luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    >>> read_code(luma, src_wh=(640, 360), region=(0, 0, 640, 360))
    CodeReading(uid='1001', frame=7, margin=0.5)
    """
    size, index, fps = _frame_inputs(uid, index, size_wh, fps)
    base, flash = _backgrounds(uid, size)
    if index % fps == 0:
        return _with_code(flash.copy(), uid, index)
    lay = _layout(size)
    picture = base.copy()
    for long_span, short_span in _white_spans(index, fps, lay):
        _view(picture, long_span, short_span, lay.portrait)[...] = _WHITE
    picture[_counter_pixels(index, lay)] = _WHITE
    return _with_code(picture, uid, index)


def _with_code(picture: RGB, uid: str, index: int) -> RGB:
    draw_code(picture, uid, index)
    return picture


def _frame_inputs(uid: str, index: int, size_wh: tuple[int, int],
                  fps: int) -> tuple[tuple[int, int], int, int]:
    """Check and return the ``(size, index, fps)`` of a test frame."""
    uid_number(uid)
    size = _check_size(size_wh)
    fps = int(fps)
    if fps < 1:
        msg = f"fps must be at least 1 (got {fps})"
        raise ParameterError(msg)
    return size, int(index), fps


def _white_spans(index: int, fps: int, lay: _Layout) -> list[tuple[Span, Span]]:
    """Return the (long, short) spans painted white on frame ``index``: two bars and the tick."""
    spans = []
    bar_short = (0, lay.strip[0])
    for band, forward in ((lay.band_a, True), (lay.band_b, False)):
        a0, a1 = _sweep(index, fps, band, lay.bar_px)
        if not forward:  # the second bar mirrors the first
            a0, a1 = band[0] + band[1] - a1, band[0] + band[1] - a0
        spans.append(((a0, a1), bar_short))
    tick = round((index % fps + 1) * lay.long_px / fps)
    spans.append(((0, tick), lay.strip))
    return spans


def even_size(size_wh: tuple[int, int]) -> tuple[int, int]:
    """Return ``size_wh`` as ints, checked to be even and large enough for the test stream's code.

    Raises
    ------
    ParameterError
        For an odd or too small size.
    """
    width, height = _check_size(size_wh)
    if width % 2 or height % 2:
        msg = f"video size must be even for yuv420p (got {width}x{height})"
        raise ParameterError(msg)
    return (width, height)


def idstream_frame_i420(uid: str, index: int, *, size_wh: tuple[int, int] = (640, 360),
                    fps: int = 15, flash: bool = True) -> npt.NDArray[np.uint8]:
    """Draw :func:`idstream_frame` as yuv420p (I420) planes stacked into one array.

    ``flash=False`` draws the whole-second frames like the others (no white flash): for
    previews a person watches; the recorder keeps the flash (compare's A/V sync uses it).

    Returns
    -------
    ndarray of uint8, shape (H * 3 // 2, W)
        Y, then U, then V; BT.601 limited range (OpenCV ``COLOR_RGB2YUV_I420``), the
        same conversion ``av.VideoFrame.from_ndarray(arr, format="yuv420p")`` and
        ``to_ndarray(format="rgb24")`` assume.

    Raises
    ------
    ParameterError
        When a side is odd (4:2:0 needs even sizes), besides :func:`idstream_frame`'s cases.
    """
    size, index, fps = _frame_inputs(uid, index, even_size(size_wh), fps)
    base, flash_picture, grey = _backgrounds_i420(uid, size)
    flashing = flash and index % fps == 0
    out = (flash_picture if flashing else base).copy()
    y, u, v = i420_planes(out)
    if not flashing:
        lay = _layout(size)
        for long_span, short_span in _white_spans(index, fps, lay):
            _view(y, long_span, short_span, lay.portrait)[...] = 235
            halves = [(a // 2, -(-b // 2)) for a, b in (long_span, short_span)]
            for plane in (u, v):  # white is neutral: chroma 128 wherever white touches
                _view(plane, halves[0], halves[1], lay.portrait)[...] = 128
        y[_counter_pixels(index, lay)] = 235
    paint_code_luma(y, uid, index, grey=grey)
    return out


@lru_cache(maxsize=32)
def _backgrounds_i420(uid: str, size_wh: tuple[int, int]) -> tuple[
        npt.NDArray[np.uint8], npt.NDArray[np.uint8], int]:
    """Return :func:`_backgrounds` in I420 (read-only), and the luma of the code's quiet zone."""
    base, flash = (np.asarray(cv2.cvtColor(p, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
                   for p in _backgrounds(uid, size_wh))
    for picture in (base, flash):
        picture.setflags(write=False)
    qx, qy, _, _ = quiet_zone(size_wh)
    return base, flash, int(base[qy, qx])
