"""Shared benchmark helpers: timing, run metadata, JSON results, command line.

Timing method (see ``benchmarks/README.md``): a warm-up, then ``repeats`` runs of
``frames`` calls each; every run records wall-clock and thread CPU time.  Results report the
median frames/s and the interquartile range over runs.  When two subjects are compared they
are run interleaved (A, B, A, B, ...) so that a change in machine load hits both.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "RESULTS",
    "Settings",
    "Timing",
    "held_to_one_core",
    "machine",
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


def _threads() -> list[int]:
    """Return the ids of this process's threads (Linux: ``/proc/self/task``)."""
    return [int(name) for name in os.listdir("/proc/self/task")]


@contextmanager
def held_to_one_core() -> Iterator[int | None]:
    """Hold every thread of this process, and the threads they start, to one core.

    Yields the core, or None where the affinity cannot be set (not Linux): then nothing
    changes.  Every thread is pinned (``os.sched_setaffinity`` pins one thread; threads
    started before, such as pools made by a warm-up, keep their own mask), and each gets
    its own mask back on leaving.  Used where a competitor runs on one core by design, so
    that a ratio measures the work rather than how much of a second core the host lends.
    """
    try:
        before = {tid: os.sched_getaffinity(tid) for tid in _threads()}
    except (AttributeError, OSError):
        yield None
        return
    core = min(before[os.getpid()])
    for tid in before:
        _set_affinity(tid, {core})
    try:
        yield core
    finally:
        for tid in _threads():
            _set_affinity(tid, before.get(tid, before[os.getpid()]))


def _set_affinity(tid: int, cores: set[int]) -> None:
    """Set one thread's cores; a thread that ended meanwhile is passed over."""
    with suppress(ProcessLookupError):
        os.sched_setaffinity(tid, cores)


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


#: CPU flags that decide which SIMD code runs (OpenCV's and Numba's dispatch, glibc's memcpy).
_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "erms", "fsrm", "hypervisor")


def _cpuinfo() -> dict[str, str]:
    """Return the first processor's fields of ``/proc/cpuinfo`` (empty if unreadable)."""
    fields: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return fields
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _caches() -> list[dict[str, object]]:
    """Return the cache levels of CPU 0 from sysfs: level, type, size, CPUs sharing it."""
    out: list[dict[str, object]] = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            out.append({name: (index / name).read_text().strip()
                        for name in ("level", "type", "size", "shared_cpu_list")})
        except OSError:
            continue
    return out


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _opencv() -> dict[str, object]:
    """Describe OpenCV's build and the SIMD code it dispatches to here (``?``: not used)."""
    import cv2

    info = cv2.getBuildInformation()
    lines = {k.strip(): v.strip() for k, _, v in
             (line.partition(":") for line in info.splitlines()) if v}
    ipp = cv2.ipp.getIppVersion() if hasattr(cv2.ipp, "getIppVersion") else None
    return {"version": cv2.__version__, "cpu_features": cv2.getCPUFeaturesLine(),
            "baseline": lines.get("Baseline"),
            "dispatched": lines.get("Dispatched code generation"),
            "use_optimized": cv2.useOptimized(), "ipp": ipp if cv2.ipp.useIPP() else None,
            "threads": cv2.getNumThreads()}


def copy_bandwidth(nbytes: int, *, buffers: int = 1,
                   seconds: float = 0.2) -> dict[str, float]:
    """Measure the GB/s of ``np.copyto`` of ``nbytes``.

    One buffer again and again (in cache when it fits), or cycling through ``buffers``
    different ones (cold when together they exceed the caches).  Reported from wall time
    and from this thread's CPU time (best of 5 runs; bytes copied, not bytes moved: a copy
    reads and writes each byte).
    """
    import numpy as np

    sources = [np.full(nbytes, i, dtype=np.uint8) for i in range(buffers)]
    target = np.empty(nbytes, dtype=np.uint8)
    np.copyto(target, sources[0])
    t0 = time.perf_counter()
    np.copyto(target, sources[-1])
    count = max(3, math.ceil(seconds / 5 / max(time.perf_counter() - t0, 1e-7)))
    best_wall = best_cpu = 0.0
    for _ in range(5):
        c0, t0 = time.thread_time(), time.perf_counter()
        for i in range(count):
            np.copyto(target, sources[i % buffers])
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        best_wall = max(best_wall, nbytes * count / wall / 1e9)
        best_cpu = max(best_cpu, nbytes * count / max(cpu, 1e-9) / 1e9)
    return {"mib": round(nbytes / 2 ** 20, 2), "buffers": buffers,
            "gb_per_s_wall": round(best_wall, 2), "gb_per_s_cpu": round(best_cpu, 2)}


def machine(**extra: object) -> dict[str, object]:
    """Describe what decides a CPU-bound result: CPU model and flags, caches, load, libraries.

    ``cpu``'s family/model/stepping name the microarchitecture where the model name does
    not (a VM may show every AMD host as "AMD EPYC": family 25 model 1 is Zen 3, model 17
    Zen 4 with AVX-512).  ``extra`` adds the benchmark's own measurements.
    """
    import numpy as np

    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    versions: dict[str, object] = {"python": platform.python_version(), "numpy": np.__version__,
                                   "glibc": "-".join(platform.libc_ver())}
    try:
        import numba

        versions["numba"] = numba.__version__
    except ImportError:
        versions["numba"] = None
    return {
        "cpu": {
            "model_name": info.get("model name") or platform.processor(),
            "vendor": info.get("vendor_id"), "family": info.get("cpu family"),
            "model": info.get("model"), "stepping": info.get("stepping"),
            "mhz": info.get("cpu MHz"), "bogomips": info.get("bogomips"),
            "scaling_cur_khz": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq"),
            "flags": sorted(f for f in flags if f in _FLAGS or f.startswith("avx512")),
            "avx512": sorted(f for f in flags if f.startswith("avx512")),
            "count": os.cpu_count(),
        },
        "caches": _caches(),
        "platform": platform.platform(),
        "transparent_hugepages": _read("/sys/kernel/mm/transparent_hugepage/enabled"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": versions,
        "opencv": _opencv(),
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
