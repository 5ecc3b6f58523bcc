"""Shared benchmark helpers: timing, run metadata, JSON results, command line.

Timing method (see ``benchmarks/README.md``): a warm-up, then ``repeats`` runs of
``frames`` calls each; every run records wall-clock and thread CPU time.  Results report the
median frames/s and the interquartile range over runs.  When two subjects are compared they
are run interleaved (A, B, A, B, ...) so that a change in machine load hits both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "RESULTS",
    "Settings",
    "Timing",
    "metadata",
    "parse_args",
    "time_interleaved",
    "write_result",
]

#: Where result files go (ignored by git).
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Settings:
    """How long to measure.

    Attributes
    ----------
    frames : int
        Calls per timed run.
    repeats : int
        Timed runs per subject.
    warmup : int
        Untimed calls before the first run.
    quick : bool
        The short CI variant.
    """

    frames: int
    repeats: int
    warmup: int
    quick: bool


@dataclass(frozen=True)
class Timing:
    """Frames/s of one subject over several runs.

    Attributes
    ----------
    wall_fps : tuple of float
        Per run, from wall-clock time.
    cpu_fps : tuple of float
        Per run, from this thread's CPU time (insensitive to other processes taking the
        CPU; equal to ``wall_fps`` on an idle machine for single-threaded work).
    frames : int
        Calls per run.
    """

    wall_fps: tuple[float, ...]
    cpu_fps: tuple[float, ...]
    frames: int

    @property
    def median(self) -> float:
        """Median wall-clock frames/s."""
        return statistics.median(self.wall_fps)

    @property
    def cpu_median(self) -> float:
        """Median CPU-time frames/s."""
        return statistics.median(self.cpu_fps)

    def summary(self) -> dict[str, object]:
        """JSON-ready numbers: medians, IQRs, best and every run."""
        return {
            "fps_median": round(self.median, 1),
            "fps_iqr": _iqr(self.wall_fps),
            "fps_best": round(max(self.wall_fps), 1),
            "cpu_fps_median": round(self.cpu_median, 1),
            "cpu_fps_iqr": _iqr(self.cpu_fps),
            "cpu_per_wall": round(self.median / self.cpu_median, 3),
            "frames_per_run": self.frames,
            "runs_wall_fps": [round(v, 1) for v in self.wall_fps],
            "runs_cpu_fps": [round(v, 1) for v in self.cpu_fps],
        }


def _iqr(values: Sequence[float]) -> list[float]:
    if len(values) < 2:
        return [round(values[0], 1)] * 2
    q = statistics.quantiles(values, n=4, method="inclusive")
    return [round(q[0], 1), round(q[2], 1)]


def _run(fn: Callable[[int], object], start: int, frames: int) -> tuple[float, float]:
    c0, t0 = time.thread_time(), time.perf_counter()
    for i in range(start, start + frames):
        fn(i)
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    return frames / wall, frames / max(cpu, 1e-9)


def time_interleaved(subjects: dict[str, Callable[[int], object]], settings: Settings) -> dict[
        str, Timing]:
    """Time several per-frame functions, interleaving their runs.

    Parameters
    ----------
    subjects : dict of str to callable
        ``fn(i)`` draws frame ``i``.
    settings : Settings
        Frames per run, runs, warm-up.

    Returns
    -------
    dict of str to Timing
    """
    for fn in subjects.values():
        for i in range(settings.warmup):
            fn(i)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in subjects}
    for r in range(settings.repeats):
        for name, fn in subjects.items():
            runs[name].append(_run(fn, settings.warmup + r * settings.frames, settings.frames))
    return {name: Timing(tuple(w for w, _ in v), tuple(c for _, c in v), settings.frames)
            for name, v in runs.items()}


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def metadata(**extra: object) -> dict[str, object]:
    """Run metadata: git commit, versions, platform, machine load, plus ``extra``."""
    import cv2
    import numpy as np

    versions: dict[str, object] = {"python": platform.python_version(), "numpy": np.__version__,
                "opencv": cv2.__version__}
    try:
        import av

        versions["pyav"] = av.__version__
        versions["ffmpeg_libs"] = {k: ".".join(map(str, v))
                                   for k, v in av.library_versions.items()}
    except ImportError:
        pass
    status = _git("status", "--porcelain")
    return {
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "versions": versions,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "argv": sys.argv,
        **extra,
    }


def write_result(name: str, payload: dict[str, object]) -> Path:
    """Write ``payload`` to ``benchmarks/results/<name>.json`` and return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def parse_args(description: str, argv: Sequence[str] | None = None, *,
               frames: int = 500, repeats: int = 7, warmup: int = 50,
               add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
               ) -> tuple[argparse.Namespace, Settings]:
    """Parse the common options and the benchmark's own.

    Common options: ``--quick`` (a few hundred frames, for CI), ``--frames``, ``--repeats``,
    ``--warmup``; ``add_arguments(parser)`` adds the benchmark's own.
    """
    parser = argparse.ArgumentParser(description=description)
    if add_arguments is not None:
        add_arguments(parser)
    parser.add_argument("--quick", action="store_true",
                        help="short run for CI (100 frames x 3 runs per subject)")
    parser.add_argument("--frames", type=int, help=f"frames per timed run ({frames})")
    parser.add_argument("--repeats", type=int, help=f"timed runs per subject ({repeats})")
    parser.add_argument("--warmup", type=int, help=f"untimed frames first ({warmup})")
    args = parser.parse_args(argv)
    if args.quick:
        frames, repeats, warmup = 100, 3, 20
    settings = Settings(frames=args.frames or frames, repeats=args.repeats or repeats,
                        warmup=args.warmup if args.warmup is not None else warmup,
                        quick=bool(args.quick))
    return args, settings
