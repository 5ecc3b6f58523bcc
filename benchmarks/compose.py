"""Compositor speed: layoutkit's yuv420p plan vs FFmpeg's filter graph, one thread, same process.

Cases (``--list`` prints them)
------------------------------
``compose-<W>x<H>-<layout>-<n>``
    Canvas 1920x1080 or 360x640; layout ``bestfit``, ``floating``, ``vertical`` or
    ``custom`` (a grid of slightly overlapping regions, every odd one at ``alpha`` 0.6);
    4, 9 or 17 users (vertical shows at most 16).  Every source is 640x360.
    Ours: ``build_plan(..., fast_linear=True)``: bilinear by the compositor's separable kernel
    (``layoutkit.compose.linear``), the 2x box halvings of shrinks of 2x or more folded in.
    FFmpeg: ``scale=...:flags=bilinear`` (the matched kernel).
``compose-<W>x<H>-bestfit-<n>-area``
    The anti-aliased class.  Ours: ``build_plan(..., exact_area=True)``: every shrink is an
    area (box) filter, ``cv2.INTER_AREA``'s weights computed by our separable kernel
    (:mod:`layoutkit.compose.area`: Numba row passes and ``cv2.transpose``; OpenCV itself
    for an exact 2x halving), enlargements bilinear; FFmpeg: ``flags=area``.  Both sides'
    luma PSNR against the reference is reported; ours must be within 0.5 dB of FFmpeg's.

``compose-<W>x<H>-<layout>-<n>-15in30fps``
    Sources at 15 fps in a 30 fps output: every source frame is shown twice.  FFmpeg gets
    the same frame pushed again (what ``framesync`` does with a slower input); ours is
    told, as ``SceneRenderer`` tells it, which pictures are the previous frame's
    (``Plan.draw(..., unchanged=...)``) and leaves their tiles as they are.

Each source is a distinct test card with noise; 8 different frames per source are cycled so
that every frame reads source pixels that are not already in the CPU caches (cold sources).

Subjects (timed interleaved; see ``benchmarks/README.md``)
----------------------------------------------------------
``ours``
    ``Plan.draw`` into one canvas (the plan is built once and one frame drawn, before
    timing: the ``-area`` kernel compiles, or loads from Numba's cache, on its first use).
``ffmpeg``
    FFmpeg's best graph for the job in a PyAV filter graph (``graph.threads = 1``): per
    region ``buffer`` -> ``crop`` (when the window is not the whole source) -> ``scale`` to
    the destination of :func:`layoutkit.compose.fit.place`; the opaque regions at the bottom
    of the paint order in one ``xstack`` (``fill=black``; ``pad`` to the canvas when the
    tiles' bounding box is smaller); regions from the first ``alpha < 1`` one on go through
    ``overlay`` (``format=yuva420p,lut=a=<255*alpha>`` for the translucent ones), as
    :mod:`layoutkit.ffmpeg_graph` draws them.  Per frame: one push per source, one pull.
``floor``
    The memory-copy floor: one copy of the canvas plus a read of every source's bytes
    (``np.copyto`` into a cache-resident scratch buffer).  ``x_floor`` = floor fps / ours fps.

PSNR: one output frame of each side, luma plane (chroma siting conventions differ between
FFmpeg's ``scale`` and ours), against a reference drawn with our geometry and a float
Lanczos resize of every window (Pillow, anti-aliased), alpha-blended in paint order.

Run ``python benchmarks/compose.py`` (``--quick`` for CI: the headline cases only);
results go to ``benchmarks/results/compose.json``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    from ._common import copy_bandwidth, machine, metadata, parse_args, write_result
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    from _common import (  # type: ignore[no-redef]
        copy_bandwidth,
        machine,
        metadata,
        parse_args,
        write_result,
    )

from layoutkit.compose.contents import Picture
from layoutkit.compose.fit import place
from layoutkit.compose.plan import Plan, build_plan, prepare_background
from layoutkit.compose.yuv import i420_planes, rgb_to_i420
from layoutkit.layout import compute_regions
from layoutkit.layout.regions import Regions
from layoutkit.request.model import LayoutRegion, LayoutSettings
from layoutkit.signals.testcard import labelled_card

SOURCE_WH = (640, 360)
FRAMES_PER_SOURCE = 8
CANVASES = ((1920, 1080), (360, 640))
LAYOUTS = {"floating": 0, "bestfit": 1, "vertical": 2, "custom": 3}
USERS = (4, 9, 17)
HEADLINE = "compose-1920x1080-bestfit-17"
#: Targets of issue 12 (ours fps / FFmpeg fps).
TARGETS = {HEADLINE: 1.25}
QUICK_CASES = ("compose-1920x1080-bestfit-17", "compose-360x640-floating-4",
               "compose-1920x1080-custom-9", "compose-1920x1080-bestfit-17-area")
CUSTOM_ALPHA = 0.6
#: The memory-copy floor is a reference, not a competitor: shorter runs.
FLOOR_RUN_SECONDS = 0.5
#: Seconds per subject and round (``--run-seconds``): many short interleaved pairs rather
#: than a few long runs (see :func:`paired_ratio`).
RUN_SECONDS = 0.3
#: Full runs: passes over every case, each pass a fresh process (``--processes``), each case
#: :data:`ROUNDS_PER_PROCESS` rounds per pass (see :func:`run_in_passes`).
PASSES = 7
ROUNDS_PER_PROCESS = 3


@dataclass(frozen=True)
class Case:
    """One compositor case."""

    name: str
    canvas_wh: tuple[int, int]
    layout: str
    users: int
    area: bool = False
    #: Sources at half the output rate (15 fps users in a 30 fps recording): each source
    #: frame is shown twice; ours is told which pictures did not change since the last frame.
    half_rate: bool = False

    @property
    def target(self) -> float:
        """The ratio ours / FFmpeg asked for."""
        return TARGETS.get(self.name, 1.0)


def all_cases() -> dict[str, Case]:
    """Every case of the matrix, by name."""
    cases = {}
    for w, h in CANVASES:
        for layout in LAYOUTS:
            for n in USERS:
                name = f"compose-{w}x{h}-{layout}-{n}"
                cases[name] = Case(name, (w, h), layout, n)
        for n in (4, 17):
            name = f"compose-{w}x{h}-bestfit-{n}-area"
            cases[name] = Case(name, (w, h), "bestfit", n, area=True)
    for (w, h), layout, n in (((1920, 1080), "bestfit", 17), ((360, 640), "floating", 4)):
        name = f"compose-{w}x{h}-{layout}-{n}-15in30fps"
        cases[name] = Case(name, (w, h), layout, n, half_rate=True)
    return cases


CASES = all_cases()


def custom_layout(n: int) -> LayoutSettings:
    """Return a custom layout of ``n`` regions: a grid of overlapping cells.

    The cells are 15 % larger than the grid's (overlapping their right/bottom neighbours);
    every odd region is at alpha 0.6.
    """
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    regions = []
    for i in range(n):
        r, c = divmod(i, cols)
        x, y = c / cols, r / rows
        regions.append(LayoutRegion(x_axis=x, y_axis=y, width=min(1.0 - x, 1.15 / cols),
                                    height=min(1.0 - y, 1.15 / rows), uid=str(1000 + i),
                                    alpha=CUSTOM_ALPHA if i % 2 else 1.0))
    return LayoutSettings(mixed_video_layout=3, layout_config=tuple(regions))


def case_regions(case: Case) -> Regions:
    """Return the regions of ``case`` (users ``1000``, ``1001``, ... in join order)."""
    uids = [str(1000 + i) for i in range(case.users)]
    settings = custom_layout(case.users) if case.layout == "custom" else \
        LayoutSettings(mixed_video_layout=LAYOUTS[case.layout])
    return compute_regions(settings, uids, canvas_wh=case.canvas_wh)


_SOURCES: dict[str, list[np.ndarray]] = {}
#: A folder where the source frames are kept between the processes of one run (``--child-out``
#: processes load them instead of drawing their noise again, ~2.4 s for 17 users).
SOURCES_CACHE: Path | None = None


def _card_frames(uid: str, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    cached = SOURCES_CACHE / f"{uid}-{count}.npy" if SOURCES_CACHE else None
    if cached is not None and cached.is_file():
        return list(np.load(cached))
    card = labelled_card(uid, SOURCE_WH).astype(np.int16)
    frames = []
    for _ in range(count):
        noise = rng.normal(0.0, 8.0, card.shape).astype(np.int16)
        frames.append(rgb_to_i420(np.clip(card + noise, 0, 255).astype(np.uint8)))
    if cached is not None:
        np.save(cached, np.stack(frames))
    return frames


def source_frames(uids: list[str], *, count: int = FRAMES_PER_SOURCE,
                  seed: int = 0) -> list[dict[str, np.ndarray]]:
    """``count`` frames; each maps uid -> I420 buffer of a noisy test card (cached per uid)."""
    for uid in uids:
        if uid not in _SOURCES or len(_SOURCES[uid]) < count:
            # one generator per uid: the same frames whether cached on disk or not
            _SOURCES[uid] = _card_frames(uid, count, np.random.default_rng([seed, int(uid)]))
    return [{uid: _SOURCES[uid][k] for uid in uids} for k in range(count)]


# --------------------------------------------------------------------------- FFmpeg
def _tile_chains(graph: Any, regions: Regions, *, flags: str | None,
                 src_wh: tuple[int, int]) -> tuple[list[Any], list[Any]]:
    """Add each drawn region's ``buffer -> crop -> scale (-> alpha)`` chain to ``graph``.

    Returns the ``buffer`` contexts in paint order and, per tile, ``(last filter, (dx, dy),
    (dx + dw, dy + dh), alpha)``.
    """
    tiles = []  # (last filter of the tile's chain, (dx, dy), end, alpha)
    sources = []
    for i, rect in enumerate(regions.rects.tolist()):
        if regions.uids[i] is None or rect[2] <= 0 or rect[3] <= 0:
            continue
        src = graph.add_buffer(width=src_wh[0], height=src_wh[1], format="yuv420p",
                               time_base=Fraction(1, 30))
        placement = place(src_wh, tuple(rect), int(regions.render_modes[i]))
        chain = [src]
        sx, sy, sw, sh = placement.src
        if (sw, sh) != src_wh:
            chain.append(graph.add("crop", f"{sw}:{sh}:{sx}:{sy}:exact=1"))
        dx, dy, dw, dh = placement.dst
        chain.append(graph.add("scale", f"{dw}:{dh}" + (f":flags={flags}" if flags else "")))
        alpha = float(regions.alphas[i])
        if alpha < 1.0:
            chain.append(graph.add("format", "yuva420p"))
            chain.append(graph.add("lut", f"a={round(255 * alpha)}"))
        for a, b in itertools.pairwise(chain):
            a.link_to(b)
        sources.append(src)
        tiles.append((chain[-1], (dx, dy), (dx + dw, dy + dh), alpha))
    return sources, tiles


def ffmpeg_graph(regions: Regions, *, flags: str | None,
                 src_wh: tuple[int, int] = SOURCE_WH):
    """FFmpeg's graph drawing ``regions`` like the plan does (see the module docstring).

    Returns
    -------
    (graph, sources, sink)
        The graph (keep it alive: its filter contexts die with it), one ``buffer`` context
        per drawn region in paint order and the ``buffersink``.
    """
    import av.filter

    graph = av.filter.Graph()
    graph.threads = 1  # before adding filters: every filter runs in the calling thread
    width, height = regions.canvas_wh
    sources, tiles = _tile_chains(graph, regions, flags=flags, src_wh=src_wh)
    opaque = 0
    while opaque < len(tiles) and tiles[opaque][3] >= 1.0:
        opaque += 1
    if any(-(-p // 2) + -(-(e - p) // 2) > -(-c // 2)
           for _, pos, end, _ in tiles[:opaque]
           for p, e, c in zip(pos, end, (width, height), strict=True)):
        # xstack places a tile's chroma at ceil(x / 2), ceil(y / 2): a tile with odd
        # edges that ends at the canvas edge then writes one chroma row or column past the
        # frame and corrupts the heap (FFmpeg 8 in PyAV 18; 360x640 best fit with 9 users).
        # Such layouts go through overlay instead.
        opaque = 1
    opaque = max(opaque, 1)
    base_tiles = tiles[:opaque]
    if len(base_tiles) > 1:
        last = graph.add("xstack", inputs=str(len(base_tiles)), fill="black",
                         layout="|".join(f"{x}_{y}" for _, (x, y), _, _ in base_tiles))
        for j, (tile, _, _, _) in enumerate(base_tiles):
            tile.link_to(last, 0, j)
        box = (max(e[0] for _, _, e, _ in base_tiles), max(e[1] for _, _, e, _ in base_tiles))
        origin = (0, 0)
    else:  # one opaque tile below translucent ones: over a canvas-sized colour source
        tile, (ox, oy), _, _ = base_tiles[0]
        color = graph.add("color", f"c=black:s={width}x{height}:r=30")
        opaque_format = graph.add("format", "yuv420p")
        color.link_to(opaque_format)
        last = graph.add("overlay", f"x={ox}:y={oy}:format=yuv420")
        opaque_format.link_to(last, 0, 0)
        tile.link_to(last, 0, 1)
        box, origin = (width, height), (0, 0)
    if box != (width, height) or origin != (0, 0):
        pad = graph.add("pad", f"{width}:{height}:{origin[0]}:{origin[1]}:black")
        last.link_to(pad)
        last = pad
    for tile, (x, y), _, _ in tiles[opaque:]:
        over = graph.add("overlay", f"x={x}:y={y}:format=yuv420")
        last.link_to(over, 0, 0)
        tile.link_to(over, 0, 1)
        last = over
    sink = graph.add("buffersink")
    last.link_to(sink)
    graph.configure()
    return graph, sources, sink


def ffmpeg_subject(regions: Regions, frames: list[dict[str, np.ndarray]], *,
                   flags: str | None, half_rate: bool = False) -> Callable[[int], Any]:
    """``fn(i)`` pushing frame ``i`` of every source and pulling the composed frame."""
    import av

    graph, sources, sink = ffmpeg_graph(regions, flags=flags)
    uids = [uid for uid, rect in zip(regions.uids, regions.rects.tolist(), strict=True)
            if uid is not None and rect[2] > 0 and rect[3] > 0]
    av_frames = [[av.VideoFrame.from_ndarray(frame[uid], format="yuv420p") for uid in uids]
                 for frame in frames]
    tb = Fraction(1, 30)

    def draw(i: int) -> Any:
        assert graph.configured  # the closure keeps the graph alive
        row = av_frames[(i // 2 if half_rate else i) % len(av_frames)]
        for src, frame in zip(sources, row, strict=True):
            frame.pts = i
            frame.time_base = tb
            src.push(frame)
        return sink.pull()
    return draw


# --------------------------------------------------------------------------- ours, floor
def ours_subject(plan: Plan, frames: list[dict[str, np.ndarray]], *,
                 half_rate: bool = False) -> Callable[[int], Any]:
    """``fn(i)`` drawing frame ``i`` in place into one canvas.

    ``half_rate``: output frame ``i`` shows source frame ``i // 2``; pictures that are the
    ones of the previous draw are passed as ``unchanged`` (as ``SceneRenderer`` does).
    """
    canvas = plan.start()
    if not half_rate:
        def draw(i: int) -> np.ndarray:
            return plan.draw(canvas, frames[i % len(frames)])
        return draw
    last = [-1]
    every = frozenset(frames[0])

    def draw_half(i: int) -> np.ndarray:
        k = i // 2
        unchanged = every if k == last[0] else frozenset()
        last[0] = k
        return plan.draw(canvas, frames[k % len(frames)], unchanged=unchanged)
    return draw_half


def floor_subject(plan: Plan, frames: list[dict[str, np.ndarray]]) -> Callable[[int], Any]:
    """``fn(i)``: one copy of the canvas and a read of every source of frame ``i``."""
    canvas = np.empty_like(plan.background)
    keys = [rp.content.key for rp in plan.regions if isinstance(rp.content, Picture)]
    scratch = np.empty_like(frames[0][keys[0]]) if keys else None

    def draw(i: int) -> np.ndarray:
        np.copyto(canvas, plan.background)
        pictures = frames[i % len(frames)]
        for key in keys:
            np.copyto(scratch, pictures[key])
        return canvas
    return draw


# --------------------------------------------------------------------------- reference
def _lanczos(plane: np.ndarray, window: tuple[int, int, int, int],
             size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    x, y, w, h = window
    img = Image.fromarray(np.ascontiguousarray(plane[y:y + h, x:x + w], dtype=np.float32), "F")
    return np.asarray(img.resize(size, Image.Resampling.LANCZOS), dtype=np.float64)


def reference_luma(plan: Plan, pictures: dict[str, np.ndarray]) -> np.ndarray:
    """Draw the luma plane with the plan's geometry and a float Lanczos resize."""
    canvas = i420_planes(plan.background)[0].astype(np.float64)
    for rp in plan.regions:
        assert isinstance(rp.content, Picture) and rp.dst_y and rp.scale_y
        x, y, w, h = rp.rect_y
        layer = np.full((h, w), 16.0)
        dx, dy, dw, dh = rp.dst_y
        layer[dy - y:dy - y + dh, dx - x:dx - x + dw] = _lanczos(
            i420_planes(pictures[rp.content.key])[0], rp.scale_y.src, (dw, dh))
        view = canvas[y:y + h, x:x + w]
        view[...] = rp.alpha * layer + (1.0 - rp.alpha) * view
    return np.clip(np.round(canvas), 0, 255)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of ``a`` against ``b`` (8-bit peak), dB."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return round(10 * math.log10(255 ** 2 / max(mse, 1e-12)), 2)


# --------------------------------------------------------------------------- timing
def _iqr(values: list[float]) -> list[float]:
    return [round(q, 1) for q in _iqr_raw(values)]


def time_subjects(subjects: dict[str, Callable[[int], Any]], *, rounds: int,
                  run_seconds: float, warmup: int) -> tuple[dict[str, dict[str, Any]],
                                                            dict[str, int]]:
    """Interleaved rounds of about ``run_seconds`` per subject; medians of frames/s.

    The frames per run of each subject come from its warm-up rate, so every run lasts about
    ``run_seconds`` whatever the subject's speed (the ``floor`` reference at most
    :data:`FLOOR_RUN_SECONDS`).  A round runs every subject once, in the order of
    ``subjects`` in even rounds and reversed in odd ones (A B, B A, ...), so that neither
    side always runs first after the other.  Returns the summaries (with every round's
    frames/s, from which :func:`paired_ratio` takes the ratio) and each subject's next
    frame number.
    """
    counts = {}
    for name, fn in subjects.items():
        t0 = time.perf_counter()
        for i in range(warmup):
            fn(i)
        rate = warmup / max(time.perf_counter() - t0, 1e-9)
        seconds = min(run_seconds, FLOOR_RUN_SECONDS) if name == "floor" else run_seconds
        counts[name] = max(10, math.ceil(rate * seconds))
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in subjects}
    # each subject's frame numbers run on without gaps (FFmpeg's generated sources, e.g.
    # the canvas ``color`` under overlays, would otherwise catch up on skipped timestamps)
    position = dict.fromkeys(subjects, warmup)
    names = list(subjects)
    for k in range(rounds):
        for name in names if k % 2 == 0 else names[::-1]:
            fn, n, start = subjects[name], counts[name], position[name]
            c0, t0 = time.thread_time(), time.perf_counter()
            for i in range(start, start + n):
                fn(i)
            wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
            runs[name].append((n / wall, n / max(cpu, 1e-9), wall))
            position[name] = start + n
    return _summaries(runs, counts), position


def paired_ratio(ours: dict[str, Any], theirs: dict[str, Any], *,
                 key: str = "runs_wall_fps") -> tuple[float, list[float]]:
    """Return the median of the rounds' ratios ``ours / theirs`` and its quartiles.

    Each round timed both sides within about a second of each other, so a change of the
    host's speed between rounds (a neighbour's load, the memory system's) moves both sides
    of a round together: the ratio of a round keeps what the code decides, and the median
    over rounds drops the rounds in which the host changed mid-round.

    >>> paired_ratio({"runs_wall_fps": [200.0, 100.0, 150.0]},
    ...              {"runs_wall_fps": [100.0, 80.0, 100.0]})
    (1.5, [1.375, 1.75])
    """
    ratios = [a / b for a, b in zip(ours[key], theirs[key], strict=True)]
    return round(statistics.median(ratios), 3), [round(q, 3) for q in _iqr_raw(ratios)]


def fastest_third_ratio(ours: dict[str, Any], theirs: dict[str, Any]) -> float:
    """Return the ratio of the two sides' speeds over their fastest third of rounds.

    Each side's median over its fastest third of rounds (at least one): the speed of the
    rounds the host disturbed least, in the spirit of ``timeit``'s minimum but not one
    lucky round.  Recorded beside :func:`paired_ratio` (the row's ratio) because a case
    whose FFmpeg side suffers more from the host's load than ours (1080p best fit with 4
    users: FFmpeg's frames/s varied 25 % between rounds, ours 15 %) moves its paired ratio
    with the host's state between runs.

    >>> fastest_third_ratio({"runs_wall_fps": [200.0, 100.0, 150.0]},
    ...                     {"runs_wall_fps": [100.0, 80.0, 90.0]})
    2.0
    """
    def quiet(values: list[float]) -> float:
        top = sorted(values)[-max(1, len(values) // 3):]
        return statistics.median(top)

    return round(quiet(ours["runs_wall_fps"]) / quiet(theirs["runs_wall_fps"]), 3)


def _iqr_raw(values: list[float]) -> list[float]:
    if len(values) < 2:
        return [values[0]] * 2
    q = statistics.quantiles(values, n=4, method="inclusive")
    return [q[0], q[2]]


def _summaries(runs: dict[str, list[tuple[float, float, float]]],
               counts: dict[str, int]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, values in runs.items():
        wall_fps = [v[0] for v in values]
        cpu_fps = [v[1] for v in values]
        med = statistics.median(wall_fps)
        out[name] = {"fps_median": round(med, 1), "fps_iqr": _iqr(wall_fps),
                     "cpu_fps_median": round(statistics.median(cpu_fps), 1),
                     "cpu_per_wall": round(med / statistics.median(cpu_fps), 3),
                     "frames_per_run": counts[name],
                     "run_seconds": [round(v[2], 2) for v in values],
                     "runs_wall_fps": [round(v, 1) for v in wall_fps],
                     "runs_cpu_fps": [round(v, 1) for v in cpu_fps]}
    return out


def run_case(case: Case, *, rounds: int, run_seconds: float, warmup: int,
             with_ffmpeg: bool = True, quality: bool = True) -> dict[str, Any]:
    """Measure one case; returns its JSON section (``quality=False``: no PSNR, no floor)."""
    regions = case_regions(case)
    uids = [u for u in regions.uids if u is not None]
    frames = source_frames(uids)
    plan = build_plan(regions, [Picture(uid, SOURCE_WH) if uid else None for uid in regions.uids],
                      background=prepare_background(case.canvas_wh), exact_area=case.area,
                      fast_linear=True)
    plan.render(frames[0])  # untimed: the area kernel is compiled (or loaded) on first use
    kernel = "area" if case.area else "bilinear"
    subjects = {"ours": ours_subject(plan, frames, half_rate=case.half_rate)}
    if with_ffmpeg:
        subjects["ffmpeg"] = ffmpeg_subject(regions, frames, flags=kernel,
                                            half_rate=case.half_rate)
    if quality:
        subjects["floor"] = floor_subject(plan, frames)
    timings, position = time_subjects(subjects, rounds=rounds, run_seconds=run_seconds,
                                      warmup=warmup)
    source_mib = sum(frames[0][u].nbytes for u in uids) / 2 ** 20
    result: dict[str, Any] = {
        "case": case.name, "canvas": list(case.canvas_wh), "layout": case.layout,
        "users": case.users, "regions_drawn": len(plan.regions),
        "kernel": {"ours": "area (layoutkit.compose.area: cv2.INTER_AREA's weights, "
                           "Numba row passes + cv2.transpose; enlargements bilinear)"
                   if case.area else
                   "bilinear (cv2.INTER_LINEAR's weights, layoutkit.compose.linear: Numba row "
                   "passes + cv2.transpose; 2x box halvings first for shrinks >= 2x)",
                   "ffmpeg": f"scale flags={kernel}"},
        "sources": {"size": list(SOURCE_WH), "format": "yuv420p",
                    "bytes_per_frame_mib": round(source_mib, 2),
                    **source_check(frames, half_rate=case.half_rate)},
        "target_ratio": case.target,
        **{name: t for name, t in timings.items()},
    }
    ours = timings["ours"]
    if quality:
        result["x_floor"] = round(timings["floor"]["fps_median"] / ours["fps_median"], 2)
    if with_ffmpeg:
        theirs = timings["ffmpeg"]
        result["ratio"], result["ratio_iqr"] = paired_ratio(ours, theirs)
        result["cpu_ratio"], _ = paired_ratio(ours, theirs, key="runs_cpu_fps")
        result["ratio_fastest_third"] = fastest_third_ratio(ours, theirs)
        result["meets_target"] = result["ratio"] >= case.target
    if quality:
        result.update(_quality(case, plan, frames, subjects, position))
    return result


def _quality(case: Case, plan: Plan, frames: list[dict[str, np.ndarray]],
             subjects: dict[str, Callable[[int], Any]],
             position: dict[str, int]) -> dict[str, Any]:
    """Return the PSNR of each side's next frame against the reference (see the module notes)."""
    out: dict[str, Any] = {}
    # the quality frame: each subject's next frame number (FFmpeg needs rising timestamps)
    frame = position["ours"]
    ref = reference_luma(plan, frames[(frame // 2 if case.half_rate else frame)
                                      % FRAMES_PER_SOURCE])
    mine = i420_planes(subjects["ours"](frame))[0]
    out["psnr_y_db"] = {"ours": psnr(mine, ref)}
    if "ffmpeg" in subjects:
        their_at = position["ffmpeg"]  # shows the same sources as ours' frame
        their_at += (frame - their_at) % (2 * FRAMES_PER_SOURCE)
        for i in range(position["ffmpeg"], their_at):
            subjects["ffmpeg"](i)
        their_frame = subjects["ffmpeg"](their_at).to_ndarray(format="yuv420p")
        out["psnr_y_db"]["ffmpeg"] = psnr(i420_planes(their_frame)[0], ref)
        out["mean_abs_y_diff_vs_ffmpeg"] = round(float(np.abs(
            mine.astype(np.int16) - i420_planes(their_frame)[0]).mean()), 2)
        if case.area:
            out["psnr_within_0_5_db"] = \
                out["psnr_y_db"]["ours"] >= out["psnr_y_db"]["ffmpeg"] - 0.5
    return out


def _best_us(fn: Callable[[], object], *, seconds: float = 0.2) -> float:
    """Best of 5 runs of ``fn``, microseconds per call of this thread's CPU time."""
    fn()
    t0 = time.thread_time()
    fn()
    count = max(3, math.ceil(seconds / 5 / max(time.thread_time() - t0, 1e-6)))
    best = math.inf
    for _ in range(5):
        c0 = time.thread_time()
        for _ in range(count):
            fn()
        best = min(best, (time.thread_time() - c0) / count)
    return round(best * 1e6, 1)


def calibration() -> dict[str, Any]:
    """Per-operation times of one best-fit tile (640x360 -> 384x216), for comparing machines.

    The compositor's ratio to FFmpeg is the ratio of these kernels: OpenCV's
    ``cv2.resize`` (``INTER_LINEAR``, what ``fast_linear=False`` draws), our separable
    kernel (``fast_linear=True``) and FFmpeg's ``scale`` (``flags=bilinear``, one thread,
    in a PyAV graph, the whole I420 frame); sources in cache, one thread, CPU time.
    """
    import av

    from layoutkit.compose.linear import linear_pair_scaler, linear_scaler

    frame = source_frames(["1000"], count=1)[0]["1000"]
    y, u, v = i420_planes(frame)
    canvas = np.zeros((1620, 1920), np.uint8)
    dst_y, dst_u, dst_v = canvas[:216, :384], canvas[1080:1188, :192], canvas[1350:1458, :192]
    ours_y, ours_c = linear_scaler((0, 0, 640, 360), (384, 216)), \
        linear_pair_scaler((0, 0, 320, 180), (192, 108))
    out = {
        "cv2_resize_linear_y_us": _best_us(lambda: cv2.resize(
            y, (384, 216), dst=dst_y, interpolation=cv2.INTER_LINEAR)),
        "cv2_resize_linear_uv_us": _best_us(lambda: (
            cv2.resize(u, (192, 108), dst=dst_u, interpolation=cv2.INTER_LINEAR),
            cv2.resize(v, (192, 108), dst=dst_v, interpolation=cv2.INTER_LINEAR))),
        "ours_linear_y_us": _best_us(lambda: ours_y(y, dst_y)),
        "ours_linear_uv_us": _best_us(lambda: ours_c(u, v, dst_u, dst_v)),
    }
    graph = av.filter.Graph()
    graph.threads = 1
    src = graph.add_buffer(width=640, height=360, format="yuv420p",  # type: ignore[arg-type]
                           time_base=Fraction(1, 30))
    scale = graph.add("scale", "384:216:flags=bilinear")
    sink = graph.add("buffersink")
    src.link_to(scale)
    scale.link_to(sink)
    graph.configure()
    picture = av.VideoFrame.from_ndarray(frame, format="yuv420p")
    pts = [0]

    def ffmpeg_tile() -> None:
        picture.pts = pts[0]
        pts[0] += 1
        src.push(picture)
        sink.pull()
    out["ffmpeg_scale_bilinear_yuv_us"] = _best_us(ffmpeg_tile)
    out["latency_chain_ghz"] = _chain_ghz()
    return out


def _chain_ghz() -> float:
    """Clock rate seen by a latency-bound loop (3 dependent 1-cycle integer ops per step).

    Unlike the per-tile kernels (SIMD throughput), it hardly slows when another thread
    shares the core, so the two together tell a slower clock from a shared core.
    """
    import numba

    @numba.njit(cache=False)
    def chain(n: int, x: int) -> int:  # pragma: no cover - runs compiled
        for i in range(n):
            x = (x ^ (x >> 3)) + i
        return x

    steps = 20_000_000
    chain(10, 1)
    best = math.inf
    for _ in range(5):
        c0 = time.thread_time()
        chain(steps, 12345)
        best = min(best, time.thread_time() - c0)
    return round(3 * steps / best / 1e9, 2)


def source_check(frames: list[dict[str, np.ndarray]], *, half_rate: bool) -> dict[str, Any]:
    """Whether the timed frames' sources really change: distinct contents, share changed.

    Frame ``i`` shows source frame ``i // 2`` (``half_rate``) or ``i``, cycled; a frame's
    sources changed when that index differs from the previous frame's and the buffers'
    contents differ (checked here for every source and every step of the cycle).
    """
    count = len(frames)
    distinct = count > 1 and all(
        not np.array_equal(frames[k][uid], frames[(k + 1) % count][uid])
        for k in range(count) for uid in frames[k])
    return {"frames_cycled": count, "consecutive_contents_differ": distinct,
            "changed_share_of_frames": 0.5 if half_rate else 1.0}


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="run only this case (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the case names and exit")
    parser.add_argument("--no-ffmpeg", action="store_true", help="time only ours and the floor")
    parser.add_argument("--processes", type=int,
                        help=f"passes over the cases, a fresh process each, "
                             f"{ROUNDS_PER_PROCESS} rounds per case and pass (default "
                             f"{PASSES}; --quick: 0, --repeats rounds in this process)")
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-quality", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sources-cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--run-seconds", type=float,
                        help=f"seconds per subject and round (default {RUN_SECONDS}; --quick 0.1)")


def merge_processes(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one case's result from the results of several processes: every round of each.

    The ratio is the median of the rounds' ratios over all processes; ``ratio_by_process``
    keeps each process's own; the PSNR and the floor are the first part's (the only one that
    measures them).
    Why processes: a process's memory layout (where its sources and canvas fall in the
    caches) moves its ratio by up to ~12 % (1080p bestfit-17: 1.30-1.47 over six processes of
    the same code), which rounds within one process cannot average out.
    """
    out = dict(parts[0])
    for name in ("ours", "ffmpeg", "floor"):
        if name not in out:
            continue
        wall = [v for p in parts if name in p for v in p[name]["runs_wall_fps"]]
        cpu = [v for p in parts if name in p for v in p[name]["runs_cpu_fps"]]
        med = statistics.median(wall)
        out[name] = dict(parts[0][name], fps_median=round(med, 1), fps_iqr=_iqr(wall),
                         cpu_fps_median=round(statistics.median(cpu), 1),
                         cpu_per_wall=round(med / statistics.median(cpu), 3),
                         run_seconds=[v for p in parts if name in p
                                      for v in p[name]["run_seconds"]],
                         runs_wall_fps=wall, runs_cpu_fps=cpu)
    if "ffmpeg" in out:
        out["ratio"], out["ratio_iqr"] = paired_ratio(out["ours"], out["ffmpeg"])
        out["cpu_ratio"], _ = paired_ratio(out["ours"], out["ffmpeg"], key="runs_cpu_fps")
        out["ratio_fastest_third"] = fastest_third_ratio(out["ours"], out["ffmpeg"])
        out["meets_target"] = out["ratio"] >= out["target_ratio"]
        out["ratio_by_process"] = [p["ratio"] for p in parts]
    out["processes"] = len(parts)
    return out


def pass_order(names: list[str], k: int, passes: int) -> list[str]:
    """Return the cases of pass ``k``: ``names`` rotated by ``k / passes`` of their number.

    Each case comes at a different point of each pass (after other cases, at another
    minute of the run), so neither what ran before it nor the host's slow minutes stay
    with one case.

    >>> pass_order(["a", "b", "c", "d"], 1, 2)
    ['c', 'd', 'a', 'b']
    """
    shift = len(names) * k // passes if passes else 0
    return names[shift:] + names[:shift]


def run_in_passes(names: list[str], passes: int, argv: list[str]) -> dict[str, dict[str, Any]]:
    """Measure ``names`` in ``passes`` fresh processes, each running every case once; merged.

    A process measures its cases one after the other (:data:`ROUNDS_PER_PROCESS` rounds
    each, :func:`pass_order`); the first also draws the PSNR frames.  Every case then has
    rounds from ``passes`` processes spread over the whole run: what differs between
    processes (memory layout) and between minutes of the host is spread over the cases
    rather than landing on the few that ran at that moment.
    """
    import json
    import subprocess

    parts: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="compose-") as folder:
        for k in range(passes):
            t0 = time.perf_counter()
            out = Path(folder) / f"{k}.json"
            cases = [a for name in pass_order(names, k, passes) for a in ("--case", name)]
            subprocess.run([sys.executable, str(Path(__file__).resolve()), *cases,
                            "--child-out", str(out), *argv,
                            *(["--no-quality"] if k else [])], check=True,
                           stdout=subprocess.DEVNULL)
            for name, result in json.loads(out.read_text()).items():
                parts[name].append(result)
            print(f"pass {k + 1}/{passes}: {len(names)} cases in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    return {name: merge_processes(parts[name]) for name in names}


def _child(names: list[str], out: Path, *, run_seconds: float, warmup: int,
           with_ffmpeg: bool, quality: bool) -> int:
    """Measure ``names`` in this process (:data:`ROUNDS_PER_PROCESS` rounds each) into ``out``."""
    import json

    results = {name: run_case(CASES[name], rounds=ROUNDS_PER_PROCESS, run_seconds=run_seconds,
                              warmup=warmup, with_ffmpeg=with_ffmpeg, quality=quality)
               for name in names}
    out.write_text(json.dumps(results, default=float))
    return 0


def _print_row(name: str, r: dict[str, Any]) -> None:
    ff = r.get("ffmpeg", {}).get("fps_median", float("nan"))
    ratio = r.get("ratio", float("nan"))
    ps = r["psnr_y_db"]
    print(f"{name:38s} {r['ours']['fps_median']:9.1f} {ff:8.1f} {ratio:5.2f}x "
          f"{r['target_ratio']:5.2f}x {r['x_floor']:6.2f}x "
          f"{ps['ours']:6.2f}/{ps.get('ffmpeg', float('nan')):5.2f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print a table, write ``benchmarks/results/compose.json``."""
    known, settings = parse_args(__doc__.splitlines()[0], argv, frames=0, repeats=5,
                                 warmup=30, add_arguments=_arguments)
    if known.list:
        print("\n".join(CASES))
        return 0
    cv2.setNumThreads(1)  # the compositor is single-threaded by design
    run_seconds = known.run_seconds or (0.1 if settings.quick else RUN_SECONDS)
    if known.child_out is not None:
        global SOURCES_CACHE
        SOURCES_CACHE = known.sources_cache
        return _child(known.case, known.child_out, run_seconds=run_seconds,
                      warmup=settings.warmup, with_ffmpeg=not known.no_ffmpeg,
                      quality=not known.no_quality)
    processes = (known.processes if known.processes is not None
                 else 0 if settings.quick else PASSES)
    cache = tempfile.TemporaryDirectory(prefix="compose-sources-")
    child_argv = ["--run-seconds", str(run_seconds), "--warmup", str(settings.warmup),
                  "--sources-cache", cache.name, *(["--no-ffmpeg"] if known.no_ffmpeg else [])]
    names = known.case or (list(QUICK_CASES) if settings.quick else list(CASES))
    canvas_bytes = 1920 * 1080 * 3 // 2
    info = machine(
        copy_canvas=[copy_bandwidth(canvas_bytes), copy_bandwidth(canvas_bytes, buffers=24)],
        copy_source=[copy_bandwidth(640 * 540), copy_bandwidth(640 * 540, buffers=136)],
        calibration=calibration())
    results = run_in_passes(names, processes, child_argv) if processes else {}
    header = (f"{'case':38s} {'ours fps':>9s} {'ffmpeg':>8s} {'ratio':>6s} {'target':>6s} "
              f"{'x floor':>7s} {'PSNR ours/ff':>13s}")
    print(header)
    print("-" * len(header), flush=True)
    for name in names:
        if not processes:
            results[name] = run_case(CASES[name], rounds=settings.repeats,
                                     run_seconds=run_seconds, warmup=settings.warmup,
                                     with_ffmpeg=not known.no_ffmpeg)
        _print_row(name, results[name])
    info["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    payload = {
        "benchmark": "compose",
        "machine": info,
        "metadata": metadata(settings=asdict(settings), run_seconds=run_seconds,
                             rounds=(ROUNDS_PER_PROCESS * processes if processes
                                     else settings.repeats),
                             processes_per_case=processes,
                             opencv_threads=cv2.getNumThreads(), ffmpeg_graph_threads=1),
        "cases": results,
    }
    path = write_result("compose-quick" if settings.quick else "compose", payload)
    cache.cleanup()
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
