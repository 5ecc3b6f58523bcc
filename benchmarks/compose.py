"""Compositor speed: layoutkit's yuv420p plan vs FFmpeg's xstack, one thread, same process.

Cases
-----
``bestfit-1080p``
    1920x1080 canvas, best-fit layout, 17 sources of 640x360 (each scaled to a 384x216 tile).
``floating-360x640``
    360x640 canvas (the cloud's default size), floating layout, 17 sources of 640x360 (the
    full region and 16 small windows of 85x150, all in crop mode).

Each source is a distinct test card with noise; 8 different frames per source are cycled so
that every frame reads source pixels that are not already in the CPU caches.

Subjects (timed interleaved; see ``benchmarks/README.md``)
----------------------------------------------------------
``ours``
    ``Plan.draw`` into one canvas (the plan is built once, before timing).
``ffmpeg``
    A PyAV filter graph (``graph.threads = 1``): 17 ``buffer`` sources -> ``crop`` (when the
    crop window is not the whole source) -> ``scale`` (FFmpeg's default flags, bicubic) ->
    ``xstack`` (``fill=black``) -> ``pad`` to the canvas (when the tiles' bounding box is
    smaller) -> ``buffersink``; per frame 17 pushes and one pull.
``ffmpeg_bilinear``
    The same graph with ``scale=...:flags=bilinear`` (the filter closest to ours).

Run ``python benchmarks/compose.py`` (``--quick`` for CI); results go to
``benchmarks/results/compose.json``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    from ._common import Settings, metadata, parse_args, time_interleaved, write_result
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    from _common import (  # type: ignore[no-redef]
        Settings,
        metadata,
        parse_args,
        time_interleaved,
        write_result,
    )

from layoutkit.compose.fit import place
from layoutkit.compose.contents import Picture
from layoutkit.compose.plan import Plan, build_plan, prepare_background
from layoutkit.compose.yuv import i420_to_rgb, rgb_to_i420
from layoutkit.layout import compute_regions
from layoutkit.layout.regions import Regions
from layoutkit.signals.testcard import test_card
from layoutkit.request.model import LayoutSettings

SOURCE_WH = (640, 360)
USERS = 17
FRAMES_PER_SOURCE = 8
TARGET_FPS = 600
CASES = {
    "bestfit-1080p": (1, (1920, 1080)),
    "floating-360x640": (0, (360, 640)),
}


def source_frames(uids: list[str], *, count: int = FRAMES_PER_SOURCE,
                  seed: int = 0) -> list[dict[str, np.ndarray]]:
    """``count`` frames; each maps uid -> I420 buffer of a noisy test card."""
    rng = np.random.default_rng(seed)
    frames: list[dict[str, np.ndarray]] = [{} for _ in range(count)]
    for uid in uids:
        card = test_card(uid, SOURCE_WH).astype(np.int16)
        for frame in frames:
            noise = rng.normal(0.0, 8.0, card.shape).astype(np.int16)
            frame[uid] = rgb_to_i420(np.clip(card + noise, 0, 255).astype(np.uint8))
    return frames


def ffmpeg_graph(regions: Regions, *, flags: str | None):  # noqa: ANN201 - av types
    """The xstack graph drawing ``regions`` (crop mode) like the plan does.

    Returns
    -------
    (graph, sources, sink)
        The graph (keep it alive: its filter contexts die with it), the 17 ``buffer``
        contexts in paint order and the ``buffersink``.
    """
    import av.filter

    graph = av.filter.Graph()
    graph.threads = 1  # before adding filters: every filter runs in the calling thread
    width, height = regions.canvas_wh
    sources, positions = [], []
    stack = graph.add("xstack", inputs=str(len(regions)), fill="black",
                      layout="|".join(f"{x}_{y}" for x, y, _, _ in regions.rects.tolist()))
    for i, rect in enumerate(regions.rects.tolist()):
        src = graph.add_buffer(width=SOURCE_WH[0], height=SOURCE_WH[1],
                               format="yuv420p",  # type: ignore[arg-type]
                               time_base=Fraction(1, 30))
        placement = place(SOURCE_WH, tuple(rect), int(regions.render_modes[i]))
        chain = [src]
        sx, sy, sw, sh = placement.src
        if (sw, sh) != SOURCE_WH:
            chain.append(graph.add("crop", f"{sw}:{sh}:{sx}:{sy}:exact=1"))
        dx, dy, dw, dh = placement.dst
        scale_args = f"{dw}:{dh}" + (f":flags={flags}" if flags else "")
        chain.append(graph.add("scale", scale_args))
        for a, b in zip(chain, chain[1:]):
            a.link_to(b)
        chain[-1].link_to(stack, 0, i)
        sources.append(src)
        positions.append((dx + dw, dy + dh))
    last = stack
    box = (max(p[0] for p in positions), max(p[1] for p in positions))
    if box != (width, height):
        pad = graph.add("pad", f"{width}:{height}:0:0:black")
        last.link_to(pad)
        last = pad
    sink = graph.add("buffersink")
    last.link_to(sink)
    graph.configure()
    return graph, sources, sink


def ffmpeg_subject(regions: Regions, frames: list[dict[str, np.ndarray]], *,
                   flags: str | None):  # noqa: ANN201
    """``fn(i)`` pushing frame ``i`` of every source and pulling the composed frame."""
    import av

    graph, sources, sink = ffmpeg_graph(regions, flags=flags)
    uids = list(regions.uids)
    av_frames = [[av.VideoFrame.from_ndarray(frame[uid], format="yuv420p") for uid in uids]
                 for frame in frames]
    tb = Fraction(1, 30)

    def draw(i: int):  # noqa: ANN202
        assert graph.configured  # the closure keeps the graph alive
        row = av_frames[i % len(av_frames)]
        for src, frame in zip(sources, row):
            frame.pts = i
            frame.time_base = tb
            src.push(frame)
        return sink.pull()
    return draw


def ours_subject(plan: Plan, frames: list[dict[str, np.ndarray]]):  # noqa: ANN201
    """``fn(i)`` drawing frame ``i`` in place into one canvas."""
    canvas = plan.start()

    def draw(i: int) -> np.ndarray:
        return plan.draw(canvas, frames[i % len(frames)])
    return draw


def run_case(name: str, settings: Settings, *, with_ffmpeg: bool,
             frames_per_source: int = FRAMES_PER_SOURCE) -> dict[str, object]:
    """Measure one case; returns its JSON section."""
    mode, canvas_wh = CASES[name]
    uids = [str(1000 + i) for i in range(USERS)]
    regions = compute_regions(LayoutSettings(mixed_video_layout=mode), uids,
                              canvas_wh=canvas_wh)
    frames = source_frames(uids, count=frames_per_source)
    plan = build_plan(regions, [Picture(uid, SOURCE_WH) for uid in uids],
                      background=prepare_background(canvas_wh))
    subjects = {"ours": ours_subject(plan, frames)}
    if with_ffmpeg:
        subjects["ffmpeg"] = ffmpeg_subject(regions, frames, flags=None)
        subjects["ffmpeg_bilinear"] = ffmpeg_subject(regions, frames, flags="bilinear")
    timings = time_interleaved(subjects, settings)
    result: dict[str, object] = {
        "canvas": list(canvas_wh),
        "layout": {0: "floating", 1: "bestfit"}[mode],
        "sources": {"count": USERS, "size": list(SOURCE_WH), "format": "yuv420p",
                    "frames_cycled": frames_per_source},
        "target_fps": TARGET_FPS,
        "regions": [
            {"dst": list(rp.dst_y or ()), "src": list(rp.scale_y.src if rp.scale_y else ()),
             "halvings": len(rp.scale_y.levels) if rp.scale_y else 0,
             "interpolation": {cv2.INTER_LINEAR: "linear", cv2.INTER_AREA: "area"}.get(
                 rp.scale_y.interpolation if rp.scale_y else -1, "-")}
            for rp in plan.regions],
    }
    for subject, timing in timings.items():
        result[subject] = timing.summary()
    if with_ffmpeg:
        ours = timings["ours"]
        for ref in ("ffmpeg", "ffmpeg_bilinear"):
            result[f"ratio_vs_{ref}"] = round(ours.median / timings[ref].median, 3)
            result[f"cpu_ratio_vs_{ref}"] = round(ours.cpu_median / timings[ref].cpu_median, 3)
        frame = 3
        theirs = subjects["ffmpeg"](frame).to_ndarray()
        mine = subjects["ours"](frame)
        diff = np.abs(i420_to_rgb(mine).astype(np.int16) - i420_to_rgb(theirs))
        result["mean_abs_rgb_diff_vs_ffmpeg"] = round(float(diff.mean()), 2)
    return result


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="run only this case (repeatable)")
    parser.add_argument("--no-ffmpeg", action="store_true", help="time only ours")
    parser.add_argument("--frames-per-source", type=int, default=FRAMES_PER_SOURCE,
                        help="distinct frames cycled per source (default %(default)s; "
                             "1 keeps the sources in the CPU caches)")


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print a table, write ``benchmarks/results/compose.json``."""
    known, settings = parse_args(__doc__.splitlines()[0], argv, add_arguments=_arguments)
    cv2.setNumThreads(1)  # the compositor is single-threaded by design
    cases = known.case or list(CASES)
    results = {}
    for name in cases:
        results[name] = run_case(name, settings, with_ffmpeg=not known.no_ffmpeg,
                                 frames_per_source=known.frames_per_source)
        r: dict[str, Any] = results[name]
        line = (f"{name:18s} ours {r['ours']['fps_median']:7.1f} fps "
                f"(cpu {r['ours']['cpu_fps_median']:7.1f})")
        if not known.no_ffmpeg:
            line += (f" | ffmpeg {r['ffmpeg']['fps_median']:6.1f} "
                     f"(bilinear {r['ffmpeg_bilinear']['fps_median']:6.1f})"
                     f" | ratio {r['ratio_vs_ffmpeg']:.2f}x "
                     f"(vs bilinear {r['ratio_vs_ffmpeg_bilinear']:.2f}x)"
                     f" | diff {r['mean_abs_rgb_diff_vs_ffmpeg']}")
        print(line, flush=True)
    payload = {
        "benchmark": "compose",
        "metadata": metadata(settings=asdict(settings), opencv_threads=cv2.getNumThreads(),
                             ffmpeg_graph_threads=1),
        "cases": results,
    }
    suffix = "" if known.frames_per_source == FRAMES_PER_SOURCE else \
        f"-{known.frames_per_source}-frames-per-source"
    path = write_result(("compose-quick" if settings.quick else "compose") + suffix, payload)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
