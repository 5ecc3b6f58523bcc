"""A layout as an FFmpeg command: compose per-user files in a request's layout with FFmpeg.

:func:`ffmpeg_command` builds, with ``ffmpeg-python``, the command that composes the given
per-user video files (for example the cloud's individual-mode recordings) the way the
composite recorder lays them out: the canvas colour (or the ``backgroundImage``, cropped to
cover), each region in paint order with exactly the crop window and destination rectangle
of :func:`layoutkit.compose.fit.place` (so the geometry is ours to the pixel), black fit
bars that belong to the region, ``alpha`` blending, and the mixed audio (``amix`` without
normalisation, AAC 48 kHz per ``audioProfile``).  The video is H.264 with the recorder's x264
settings and the request's bitrate and fps.  It is what a user takes to their own FFmpeg
pipeline, and the competitor graph of the benchmarks.

Examples
--------
>>> from layoutkit.request.model import LayoutSettings
>>> cmd = ffmpeg_command(LayoutSettings(mixed_video_layout=1), {"1": "a.mp4", "2": "b.mp4"},
...                      "out.mp4", sizes={"1": (640, 360), "2": (640, 360)},
...                      options=OutputOptions(canvas_wh=(640, 360), fps=15,
...                                            bitrate_kbps=500, audio=False))
>>> cmd[0], cmd[-1].startswith("file:/"), cmd[-1].endswith("out.mp4")
('ffmpeg', True, True)
>>> any("overlay" in part for part in cmd)
True
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .compose.fit import FIT, place
from .enums import RenderMode
from .errors import ParameterError
from .io.encode import X264_OPTIONS
from .layout import compute_regions
from .profile import DEFAULT_PROFILE, Profile
from .request.model import LayoutSettings
from .signals.audio import AUDIO_PROFILES

__all__ = ["OutputOptions", "ffmpeg_command", "ffmpeg_input", "ffmpeg_output"]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def ffmpeg_input(location: str | os.PathLike[str]) -> str:
    """Return what the command hands FFmpeg to read.

    An ``http(s)://`` URL is kept as it is, any other name becomes ``file:`` + its absolute
    path.

    A local name never goes through FFmpeg's protocol parsing: ``a:b.mp4`` is a file (not
    the protocol ``a``), ``concat:x.mp4|x.mp4`` is the file of that name (not two copies of
    ``x.mp4``).

    Raises
    ------
    ParameterError
        For a URL of another scheme (``rtmp://``, ``file://``, ...).

    Examples
    --------
    >>> ffmpeg_input("https://example.com/a.mp4")
    'https://example.com/a.mp4'
    >>> ffmpeg_input("/clips/concat:x.mp4|x.mp4")
    'file:/clips/concat:x.mp4|x.mp4'
    """
    text = os.fspath(location)
    if text[:8].lower().startswith(("http://", "https://")):
        return text
    if _SCHEME.match(text):
        msg = f"{text}: only local files and http:// or https:// URLs are read"
        raise ParameterError(msg)
    return "file:" + os.path.abspath(text)


def ffmpeg_output(path: str | os.PathLike[str]) -> str:
    """Return what the command hands FFmpeg to write: ``file:`` + the absolute path; never a URL.

    Raises
    ------
    ParameterError
        For a URL (``http://host/o.mp4`` would make FFmpeg send the video there).

    Examples
    --------
    >>> ffmpeg_output("/out/a:b.mp4")
    'file:/out/a:b.mp4'
    >>> try:
    ...     ffmpeg_output("http://127.0.0.1:8765/o.mp4")
    ... except ParameterError as exc:
    ...     print(str(exc).split(": ", 1)[1])
    the output must be a local file, not a URL (FFmpeg would send the video there)
    """
    text = os.fspath(path)
    if _SCHEME.match(text):
        msg = (f"{text}: the output must be a local file, not a URL (FFmpeg would send the "
               "video there)")
        raise ParameterError(msg)
    return "file:" + os.path.abspath(text)


def _even(n: int) -> int:
    return max(2, n - n % 2)


def _tile(stream: Any, src_wh: tuple[int, int], rect: tuple[int, int, int, int],
          render_mode: int, alpha: float) -> Any:
    """One region's picture: cropped and scaled like ours, bars padded black, alpha set."""
    x, y, w, h = rect
    placement = place(src_wh, rect, render_mode)
    sx, sy, sw, sh = placement.src
    dx, dy, dw, dh = placement.dst
    if (sx, sy, sw, sh) != (0, 0, *src_wh):
        stream = stream.filter("crop", sw, sh, sx, sy)
    stream = stream.filter("scale", dw, dh, flags="bilinear")
    if render_mode == FIT and (dw, dh) != (w, h):
        stream = stream.filter("pad", w, h, dx - x, dy - y, color="black")
    if alpha < 1:
        stream = stream.filter("format", "yuva420p").filter("colorchannelmixer", aa=alpha)
    return stream


@dataclass(frozen=True)
class OutputOptions:
    """What the FFmpeg command writes: picture, sound, length, and whether it replaces.

    Parameters
    ----------
    canvas_wh : tuple of int
        Canvas size (rounded down to even, as the recorder does).
    fps, bitrate_kbps : int
        Output frame rate and H.264 bit rate.
    audio : bool
        Mix the inputs' audio (every input must then have an audio stream).
    audio_profile : {0, 1, 2}
        AAC channels and bit rate, as ``audioProfile``.
    duration : float, optional
        Stop after this many seconds (default: when the shortest input ends).
    overwrite : bool
        Pass ``-y`` (else FFmpeg refuses to replace the output).
    """

    canvas_wh: tuple[int, int]
    fps: int
    bitrate_kbps: int
    audio: bool = True
    audio_profile: int = 0
    duration: float | None = None
    overwrite: bool = False


def ffmpeg_command(layout: LayoutSettings, inputs: Mapping[str, str | os.PathLike[str]],
                   output: str | os.PathLike[str], *, options: OutputOptions,
                   sizes: Mapping[str, tuple[int, int]], profile: Profile = DEFAULT_PROFILE,
                   background_image: str | os.PathLike[str] | None = None,
                   ffmpeg: str = "ffmpeg") -> list[str]:
    """Build the FFmpeg command that composes ``inputs`` in ``layout``.

    Parameters
    ----------
    layout : LayoutSettings
        The layout (mode, background colour, ``maxResolutionUid``, ``layoutConfig``).
    inputs : mapping of uid to path
        Each user's video file, in join order (the order regions are filled in); local
        files go to FFmpeg as ``file:`` paths (:func:`ffmpeg_input`), so no name is read
        as a protocol; ``http(s)://`` URLs are kept.
    output : path
        The local file FFmpeg writes (its extension chooses the container), passed as a
        ``file:`` path (:func:`ffmpeg_output`); a URL is refused.
    options : OutputOptions
        Canvas size, frame rate, bit rate, sound, length and ``-y``.
    sizes : mapping of uid to (int, int)
        Each input's displayed picture size (what the crop window is computed for).
    profile : Profile
        Behaviour choices (render modes of floating and vertical layouts, ...).
    background_image : path, optional
        The canvas image (cropped to cover the canvas); default the colour.
    ffmpeg : str
        The program (e.g. ``imageio_ffmpeg.get_ffmpeg_exe()``).

    Returns
    -------
    list of str
        The argument vector (no shell involved).

    Raises
    ------
    ParameterError
        When no input is given, a size is missing, an input is a URL other than
        ``http(s)://`` or the output is a URL.
    """
    import ffmpeg as ff

    fps, duration = options.fps, options.duration
    if not inputs:
        raise ParameterError("ffmpeg_command: give at least one input file")
    missing = [uid for uid in inputs if uid not in sizes]
    if missing:
        raise ParameterError(f"ffmpeg_command: no picture size for uid(s) {', '.join(missing)}")
    width, height = _even(options.canvas_wh[0]), _even(options.canvas_wh[1])
    uids = list(inputs)
    regions = compute_regions(layout, uids, canvas_wh=(width, height), profile=profile)
    length = {"t": duration} if duration is not None else {}
    target = ffmpeg_output(output)
    streams = {uid: ff.input(ffmpeg_input(path), **length) for uid, path in inputs.items()}
    color = layout.background_color.replace("#", "0x")
    if duration is not None:
        canvas = ff.input(f"color=c={color}:s={width}x{height}:r={fps}:d={duration}",
                          f="lavfi")
    else:  # painted over the first input's frames, so the canvas ends when the inputs do
        canvas = (streams[uids[0]].video.filter("fps", fps).filter("scale", width, height)
                  .filter("drawbox", 0, 0, width, height, color=color, t="fill"))
    if background_image is not None:
        image = ff.input(ffmpeg_input(background_image), loop=1, framerate=fps, **length)
        cover = _tile(image.video, _image_size(background_image), (0, 0, width, height),
                      RenderMode.CROP, 1.0)
        canvas = ff.overlay(canvas, cover, shortest=1)
    picture = canvas
    for index, uid in enumerate(regions.uids):
        if uid is None or uid not in streams:
            continue
        rect = tuple(int(v) for v in regions.rects[index])
        tile = _tile(streams[uid].video, sizes[uid], rect,  # type: ignore[arg-type]
                     int(regions.render_modes[index]), float(regions.alphas[index]))
        picture = ff.overlay(picture, tile, x=rect[0], y=rect[1], eof_action="endall",
                             shortest=1)
    picture = picture.filter("format", "yuv420p")  # timing: the canvas runs at fps
    outputs: list[Any] = [picture]
    channels, audio_bitrate = AUDIO_PROFILES[options.audio_profile]
    arguments: dict[str, Any] = {
        "c:v": "libx264", "b:v": f"{options.bitrate_kbps}k", "preset": X264_OPTIONS["preset"],
        # the FFmpeg program's libx264 refuses x264's own "range=tv": FFmpeg's option says it
        "x264-params": X264_OPTIONS["x264-params"].replace(":range=tv", ""),
        "color_range": "tv", "r": fps,
    }
    if options.audio:
        sounds = [streams[uid].audio for uid in uids]
        mixed = sounds[0] if len(sounds) == 1 else ff.filter(
            sounds, "amix", inputs=len(sounds), normalize=0, duration="shortest")
        outputs.append(mixed)
        arguments.update({"c:a": "aac", "b:a": str(audio_bitrate), "ac": channels,
                          "ar": 48000})
    if duration is not None:
        arguments["t"] = duration
    node = ff.output(*outputs, target, **arguments)
    if options.overwrite:
        node = node.overwrite_output()
    return list(node.compile(cmd=ffmpeg))


def _image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    from PIL import Image

    with Image.open(Path(path)) as img:
        return img.size
