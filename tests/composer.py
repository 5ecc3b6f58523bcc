"""A whole session composed by FFmpeg's filters: the rules drawn by hand, no layoutkit drawing.

:func:`compose_session` draws every scene of a scenario (joins, leaves and their reflow,
``updateLayout``, stopped video) as an FFmpeg filter graph: for each stretch between two
changes of :meth:`Timeline.change_times`, each displayed user's clip is scaled and cropped into
its region (:func:`lk.compute_regions`) and overlaid with ``enable='between(t,a,b)'`` on a
``color`` canvas; a user showing the last frame gets a ``trim`` + ``tpad=stop_mode=clone`` copy of
its clip; black is a ``drawbox``; the canvas colour shows through otherwise.  Layoutkit only
says *what* each region shows when (the timeline and the geometry); FFmpeg draws and encodes it.

``timeline_doc`` (default ``doc``) is what the composer draws, ``doc`` what compare is told: a
fault is composed by drawing another scenario than the one compared (a leave left out: no
reflow; a mute left in with ``hold``: a tile frozen to the end).
"""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise
from pathlib import Path

from .helpers import encode_composite

__all__ = ["compose_session"]


def _tile(ffmpeg, path: Path, view, join: Fraction, size: tuple[int, int], seconds: float,
          use: int):
    """One user's clip for one stretch: on the session's clock, frozen when the view says.

    Each use reads its own input (``use`` varies a queue size: ffmpeg-python merges identical
    inputs into one, and one demuxer feeding a trimmed and an untrimmed branch can stall).
    """
    from layoutkit.timeline import DisplayState

    video = ffmpeg.input(str(path), an=None, thread_queue_size=64 + use).video
    if view.state is DisplayState.LAST_FRAME:
        video = video.filter("trim", end=float(view.frozen_at - join)).filter(
            "tpad", stop_mode="clone", stop_duration=seconds)
    w, h = size
    return (video.filter("setpts", f"PTS-STARTPTS+{float(join)}/TB")
            .filter("scale", w, h, force_original_aspect_ratio="increase").filter("crop", w, h))


def _stretches(timeline, seconds: float):
    """Yield ``(a, b, scene)`` for every stretch with one scene, up to ``seconds``."""
    times = [t for t in timeline.change_times() if t < seconds] + [Fraction(str(seconds))]
    for a, b in pairwise(times):
        if b > a:
            yield a, b, timeline.scene_at(a)


def compose_session(doc: dict, clips: dict[str, Path], out: Path, *, seconds: float,
                    timeline_doc: dict | None = None, profile=None,
                    bitrate: int | None = None) -> Path:
    """``timeline_doc``'s (default ``doc``'s) scenes composed by FFmpeg into ``out`` (an MP4).

    ``clips``: uid -> a video file starting at the user's first join (its audio, when it has
    one, is mixed from the join to the end).  ``profile``: the behaviour drawn (e.g.
    ``Profile(after_stop="last_frame")``: a stopped video's last frame stays, a fault when the
    scenario compared says otherwise).
    """
    import ffmpeg

    import layoutkit as lk
    from layoutkit.scenario.model import first_join_times
    from layoutkit.timeline import DisplayState, Timeline

    scenario = lk.load_scenario(timeline_doc or doc)
    tc = scenario.start.transcoding
    timeline = Timeline(scenario, profile=profile or lk.Profile())
    joins = first_join_times(scenario)
    colour = timeline.scene_at(0).layout.background_color.lstrip("#")
    video = ffmpeg.input(f"color=c=0x{colour}:s={tc.width}x{tc.height}:r={tc.fps}:d={seconds}",
                         f="lavfi")
    uses = 0
    for a, b, scene in _stretches(timeline, seconds):
        regions = lk.compute_regions(scene.layout, scene.order, canvas_wh=(tc.width, tc.height))
        enable = f"between(t,{float(a)},{float(b) - 1e-3})"
        if scene.layout.background_color.lstrip("#") != colour:  # updateLayout's canvas
            video = video.filter("drawbox", x=0, y=0, w=tc.width, h=tc.height, t="fill",
                                 color=f"0x{scene.layout.background_color.lstrip('#')}",
                                 enable=enable)
        for view, (x, y, w, h) in zip(scene.views, regions.rects.tolist(), strict=True):
            if view.state is DisplayState.BLACK:
                video = video.filter("drawbox", x=x, y=y, w=w, h=h, color="black", t="fill",
                                     enable=enable)
            elif view.state in (DisplayState.LIVE, DisplayState.LAST_FRAME):
                uses += 1
                tile = _tile(ffmpeg, clips[view.uid], view, joins[view.uid], (w, h), seconds,
                             uses)
                video = ffmpeg.overlay(video, tile, x=x, y=y, eof_action="pass", enable=enable)
    audio = [ffmpeg.input(str(p), vn=None).audio.filter("adelay", f"{int(joins[u] * 1000)}", all=1)
             for u, p in clips.items() if _has_audio(p)]
    mixed = (ffmpeg.filter(audio, "amix", inputs=len(audio), normalize=0) if len(audio) > 1
             else audio[0] if audio else None)
    return encode_composite(video, mixed, out, fps=tc.fps, bitrate=bitrate or tc.bitrate,
                            seconds=seconds, gop=2 * tc.fps)


def _has_audio(path: Path) -> bool:
    import av

    with av.open(str(path)) as container:
        return bool(container.streams.audio)
