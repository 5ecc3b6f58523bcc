"""The identifying test stream: pictures and a tone that name their uid and frame number.

Every frame shows, on the uid's own colour (:func:`~layoutkit.media.testcard.uid_color`):

* the uid in large type in the centre third of the long axis (so a crop keeps it), first
  half of the short axis;
* the machine-readable code of ``(uid, frame)`` (:mod:`layoutkit.media.idcode`) below it;
* moving parts in the outer thirds: a white bar sweeping across each outer band (there and
  back every 2 seconds), a frame counter, and a progress tick along the far edge of the
  short axis that fills once per second;
* a flash on every whole second (``index % fps == 0``): everything outside the code's
  quiet zone is white for that one frame, the code stays readable.

The audio is a per-uid sine tone with a 1 kHz beep at the start of every whole second.

Colours: pictures are RGB; :func:`test_frame_i420` and :func:`write_testsrc` convert them
with BT.601 limited range ("studio swing", Y 16..235), the matrix and range of OpenCV's
``COLOR_RGB2YUV_I420`` and of FFmpeg's default RGB <-> yuv420p conversion, and the MP4 is
tagged that way (smpte170m, tv range).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from ..errors import EncodeError, MediaError, UsageError
from .atomic import atomic_output
from ..compose.yuv import i420_planes
from .idcode import (
    CodeReading,
    code_geometry,
    draw_code,
    paint_code_luma,
    quiet_zone,
    read_code,
    uid_number,
)
from .testcard import label_font, uid_color

__all__ = [
    "test_frame",
    "test_frame_i420",
    "tone",
    "write_testsrc",
    "read_testsrc_ids",
    "SAMPLE_RATE",
    "TONE_DBFS",
    "BEEP_DBFS",
    "BEEP_HZ",
    "BEEP_SECONDS",
    "tone_frequency",
]

#: Audio sample rate of the test stream (Hz).
SAMPLE_RATE = 48000
#: Level of the per-uid tone.
TONE_DBFS = -18.0
#: Level, frequency and length of the beep at every whole second.
BEEP_DBFS = -6.0
BEEP_HZ = 1000
BEEP_SECONDS = 0.05

# Layout along the (long, short) axes, as fractions.
_CODE_LONG = (0.35, 0.65)  # the centre third the code and the uid share
_TEXT_SHORT = (0.05, 0.47)
_STRIP_SHORT = 0.965  # the progress tick runs from here to the far edge
_SWEEP_SECONDS = 2  # a bar goes across its band and back in this time
_COUNTER_DIGITS = 6

_WHITE = (255, 255, 255)
RGB = npt.NDArray[np.uint8]
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
    """The part of ``image`` at the given long / short axis spans (a writable view)."""
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
    """Masks of the digits 0-9 in Pillow's font, shape (10, h, advance)."""
    from PIL import Image, ImageDraw

    font = label_font(size)
    advance = max(int(np.ceil(font.getlength(d))) for d in "0123456789")
    left, top, _, bottom = font.getbbox("0123456789")
    masks = []
    for digit in "0123456789":
        img = Image.new("L", (advance, bottom - top))
        ImageDraw.Draw(img).text((-left, -top), digit, fill=255, font=font)
        masks.append(np.asarray(img) >= 128)
    out = np.stack(masks)
    out.setflags(write=False)
    return out


def _counter_size(layout: _Layout) -> int:
    return max(6, round(layout.short_px * 0.07))


def _wrappings(uid: str) -> list[str]:
    """The uid on one line and, when long, split over two (whichever prints larger wins)."""
    if len(uid) < 6:
        return [uid]
    half = (len(uid) + 1) // 2
    return [uid, f"{uid[:half]}\n{uid[half:]}"]


def _fit_font(draw, text: str, box_wh: tuple[int, int], stroke: int) -> int:  # noqa: ANN001
    """The largest font size (down to 6) at which ``text`` fits in ``box_wh``."""
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
    """The static picture of ``uid`` and its flash picture (read-only)."""
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
    code_geometry((width, height))  # raises UsageError when too small
    return (width, height)


def test_frame(uid: str, index: int, *, size_wh: tuple[int, int] = (640, 360),
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
    UsageError
        For an invalid uid, a picture too small for the code or ``fps`` < 1.

    Examples
    --------
    >>> from layoutkit.media.idcode import read_code
    >>> import cv2
    >>> rgb = test_frame("1001", 7)
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
    """Checked ``(size, index, fps)`` of a test frame."""
    uid_number(uid)
    size = _check_size(size_wh)
    fps = int(fps)
    if fps < 1:
        msg = f"fps must be at least 1 (got {fps})"
        raise UsageError(msg)
    return size, int(index), fps


def _white_spans(index: int, fps: int, lay: _Layout) -> list[tuple[Span, Span]]:
    """(long, short) spans painted white on frame ``index``: the two bars and the tick."""
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


test_frame.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _even_size(size_wh: tuple[int, int]) -> tuple[int, int]:
    width, height = _check_size(size_wh)
    if width % 2 or height % 2:
        msg = f"video size must be even for yuv420p (got {width}x{height})"
        raise UsageError(msg)
    return (width, height)


def test_frame_i420(uid: str, index: int, *, size_wh: tuple[int, int] = (640, 360),
                    fps: int = 15) -> npt.NDArray[np.uint8]:
    """:func:`test_frame` as yuv420p (I420) planes stacked into one array.

    Returns
    -------
    ndarray of uint8, shape (H * 3 // 2, W)
        Y, then U, then V; BT.601 limited range (OpenCV ``COLOR_RGB2YUV_I420``), the
        same conversion ``av.VideoFrame.from_ndarray(arr, format="yuv420p")`` and
        ``to_ndarray(format="rgb24")`` assume.

    Raises
    ------
    UsageError
        When a side is odd (4:2:0 needs even sizes), besides :func:`test_frame`'s cases.
    """
    size, index, fps = _frame_inputs(uid, index, _even_size(size_wh), fps)
    base, flash, grey = _backgrounds_i420(uid, size)
    out = (flash if index % fps == 0 else base).copy()
    y, u, v = i420_planes(out)
    if index % fps:
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
    """:func:`_backgrounds` in I420 (read-only), and the luma of the code's quiet zone."""
    base, flash = (np.asarray(cv2.cvtColor(p, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
                   for p in _backgrounds(uid, size_wh))
    for picture in (base, flash):
        picture.setflags(write=False)
    qx, qy, _, _ = quiet_zone(size_wh)
    return base, flash, int(base[qy, qx])


test_frame_i420.__test__ = False  # type: ignore[attr-defined]


def tone_frequency(uid: str) -> int:
    """The tone of ``uid`` in Hz: ``300 + (uid % 17) * 40`` (300 .. 940 Hz)."""
    return 300 + (uid_number(uid) % 17) * 40


def _sine(freq: int, samples: npt.NDArray[np.int64], sample_rate: int) -> npt.NDArray[np.float64]:
    """``sin(2 pi f n / sr)`` with the phase reduced exactly in integers (no drift)."""
    return np.sin(2 * np.pi * ((freq * samples) % sample_rate) / sample_rate)


def tone(uid: str, start_sample: int, n_samples: int, *,
         sample_rate: int = SAMPLE_RATE) -> npt.NDArray[np.float32]:
    """Samples ``start_sample`` .. ``start_sample + n_samples - 1`` of the test tone of ``uid``.

    A sine at :func:`tone_frequency` at -18 dBFS, plus a 1 kHz beep at -6 dBFS during the
    first 50 ms of every whole second (starting at sample ``k * sample_rate``, at phase 0,
    so it begins and ends on a zero crossing).  Each sample depends only on its absolute
    index, so consecutive calls join without a phase step.

    Parameters
    ----------
    uid : str
        Decimal uid.
    start_sample : int
        Index of the first sample from the stream's start.
    n_samples : int
        How many samples.
    sample_rate : int
        Hz.

    Returns
    -------
    ndarray of float32, shape (n_samples,)
        Mono samples in [-1, 1].
    """
    if n_samples < 0 or sample_rate < 1:
        msg = f"need n_samples >= 0 and sample_rate >= 1 (got {n_samples}, {sample_rate})"
        raise UsageError(msg)
    n = np.arange(int(start_sample), int(start_sample) + int(n_samples), dtype=np.int64)
    out = 10 ** (TONE_DBFS / 20) * _sine(tone_frequency(uid), n, sample_rate)
    within = n % sample_rate
    beep = within < round(BEEP_SECONDS * sample_rate)
    out[beep] += 10 ** (BEEP_DBFS / 20) * _sine(BEEP_HZ, within[beep], sample_rate)
    return out.astype(np.float32)


def _encode(container, stream, frame) -> None:  # noqa: ANN001 - PyAV objects
    for packet in stream.encode(frame):
        container.mux(packet)


def write_testsrc(
    path: str | os.PathLike[str],
    *,
    uid: str,
    duration: float = 10,
    size_wh: tuple[int, int] = (640, 360),
    fps: int = 15,
    bitrate_kbps: int = 1000,
    overwrite: bool = False,
) -> None:
    """Write the test stream of ``uid`` as an MP4 (H.264 yuv420p + AAC 48 kHz mono).

    Parameters
    ----------
    path : str or PathLike
        Output file; written under a temporary name and renamed when complete.
    uid : str
        Decimal uid.
    duration : float
        Seconds; the file has ``round(duration * fps)`` frames and
        ``round(duration * 48000)`` audio samples.
    size_wh : tuple of int
        Even ``(width, height)``; odd sizes are rejected (4:2:0 chroma needs even sides)
        rather than silently changed.
    fps : int
        Frame rate; frame ``i`` has pts ``i`` in time base ``1/fps``.
    bitrate_kbps : int
        Target video bit rate (libx264 ABR).
    overwrite : bool
        Replace an existing file.

    Raises
    ------
    UsageError
        For a bad uid, size, fps, duration or bit rate, or an existing file without
        ``overwrite``.
    EncodeError
        When FFmpeg fails to encode or mux.
    """
    import av

    uid_number(uid)
    size = _even_size(size_wh)
    fps = int(fps)
    n_frames = round(duration * fps) if fps >= 1 else 0
    if fps < 1 or n_frames < 1 or bitrate_kbps <= 0:
        msg = (f"need fps >= 1, a duration of at least one frame and a positive bit rate "
               f"(got fps {fps}, duration {duration}, {bitrate_kbps} kbps)")
        raise UsageError(msg)
    n_samples = round(duration * SAMPLE_RATE)
    chunk = 1024  # AAC frame size
    with atomic_output(path, overwrite=overwrite) as tmp:
        try:
            with av.open(str(tmp), mode="w", format="mp4") as container:
                video = container.add_stream("libx264", rate=fps)
                video.width, video.height = size
                video.pix_fmt = "yuv420p"
                video.bit_rate = int(bitrate_kbps * 1000)
                ctx = video.codec_context
                ctx.time_base = Fraction(1, fps)
                ctx.color_range = 1  # MPEG / tv range
                ctx.colorspace = ctx.color_primaries = ctx.color_trc = 6  # smpte170m (BT.601)
                audio = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
                sent = 0
                for index in range(n_frames):
                    frame = av.VideoFrame.from_ndarray(
                        test_frame_i420(uid, index, size_wh=size, fps=fps), format="yuv420p")
                    frame.pts, frame.time_base = index, Fraction(1, fps)
                    _encode(container, video, frame)
                    # keep the audio up to the end of this video frame (interleaved muxing)
                    until = n_samples if index == n_frames - 1 else \
                        min(n_samples, (index + 1) * SAMPLE_RATE // fps)
                    while sent < until:
                        count = min(chunk, n_samples - sent)
                        samples = tone(uid, sent, count).reshape(1, -1)
                        block = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
                        block.sample_rate = SAMPLE_RATE
                        block.pts, block.time_base = sent, Fraction(1, SAMPLE_RATE)
                        _encode(container, audio, block)
                        sent += count
                _encode(container, video, None)
                _encode(container, audio, None)
        except av.error.FFmpegError as exc:
            msg = f"{path}: encoding the test stream failed ({exc})"
            raise EncodeError(msg) from exc


def read_testsrc_ids(path: str | os.PathLike[str]) -> list[CodeReading | None]:
    """Decode a video file and read the code of every frame (the whole frame is the source).

    Returns
    -------
    list of (CodeReading or None)
        One entry per decoded frame, in decoding output order.

    Raises
    ------
    MediaError
        When the file cannot be opened or decoded.
    """
    import av

    readings: list[CodeReading | None] = []
    try:
        with av.open(os.fspath(path)) as container:
            for frame in container.decode(video=0):
                # the Y plane as stored; other formats through FFmpeg's (full-range) grey
                luma = np.asarray(frame.to_ndarray()[:frame.height] if frame.format.name == "yuv420p"
                                  else frame.to_ndarray(format="gray"), dtype=np.uint8)
                size = (frame.width, frame.height)
                readings.append(read_code(luma, src_wh=size, region=(0, 0, *size)))
    except (av.error.FFmpegError, OSError) as exc:
        msg = f"{path}: cannot read video frames ({exc})"
        raise MediaError(msg) from exc
    return readings
