"""Run every benchmark module and print a combined summary.

Each module (:data:`MODULES`) runs as a subprocess of this Python interpreter with the same
flags (``python benchmarks/run.py --quick`` runs ``compose.py --quick`` then ``mix.py
--quick``), one after the other so that they never compete for the CPU, and in its own
process so that one module's memory (and peak RSS) does not carry into the next.  Their
output is passed through as it comes; at the end a summary reads the JSON file each module
reports (``wrote <path>``).  The exit status is non-zero when any module failed.

``--only compose,mix`` picks modules; every other argument is passed to each module, so
give only flags that all the chosen modules know (``--quick``, ``--repeats N``, ...).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: Benchmark modules, in running order.
MODULES = ("compose", "mix", "compare")
_WROTE = re.compile(r"^wrote (?P<path>\S.*\.json)\s*$")


def run_module(name: str, args: list[str]) -> tuple[int, float, Path | None]:
    """Run ``benchmarks/<name>.py args``; return exit status, seconds, result file."""
    cmd = [sys.executable, str(HERE / f"{name}.py"), *args]
    print(f"=== {name}: {' '.join(cmd[1:])}", flush=True)
    t0 = time.perf_counter()
    result = None
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            match = _WROTE.match(line)
            if match:
                result = Path(match["path"])
        rc = proc.wait()
    return rc, time.perf_counter() - t0, result


# --------------------------------------------------------------------------- summaries
def _compose(data: dict[str, Any]) -> list[str]:
    lines = []
    for case, r in data["cases"].items():
        line = f"{case}: ours {r['ours']['fps_median']:.0f} fps"
        if "ffmpeg" in r:
            line += (f", ffmpeg {r['ffmpeg']['fps_median']:.0f} "
                     f"(bilinear {r['ffmpeg_bilinear']['fps_median']:.0f}), "
                     f"ours/ffmpeg {r['ratio_vs_ffmpeg']:.2f}x "
                     f"(vs bilinear {r['ratio_vs_ffmpeg_bilinear']:.2f}x)")
        lines.append(line)
    return lines


def _mix(data: dict[str, Any]) -> list[str]:
    lines = []
    for r in data["cases"].values():
        line = f"{r['label']}: ours {r['ours']['wall_s_median']:.2f} s " \
               f"({r['ours']['x_realtime']:.1f}x real time)"
        if "ffmpeg" in r:
            line += (f", ffmpeg {r['ffmpeg']['wall_s_median']:.2f} s "
                     f"({r['ffmpeg']['x_realtime']:.1f}x), "
                     f"ffmpeg/ours time {r['ratio_ffmpeg_over_ours']:.2f}x")
        if "ours_testsrc" in r:
            line += f", ours testsrc {r['ours_testsrc']['x_realtime']:.1f}x"
        lines.append(line)
    mux = data.get("metadata", {}).get("competitor_mux")
    if mux:
        lines.append(f"competitor mux: {mux}")
    return lines


def _compare(data: dict[str, Any]) -> list[str]:
    lines = []
    for r in data["cases"].values():
        line = (f"{r['label']}: ours {r['ours']['wall_s_median']:.2f} s "
                f"({r['ours']['x_realtime']:.1f}x real time), decode "
                f"{r['decode']['x_realtime']:.1f}x, ours/decode time "
                f"{r['ratio_ours_over_decode']:.2f}x")
        if "ffmpeg" in r:
            line += f", ffmpeg -f null {r['ffmpeg']['x_realtime']:.1f}x"
        lines.append(line)
    return lines


SUMMARIES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "compose": _compose, "mix": _mix, "compare": _compare}


def summarize(name: str, path: Path | None) -> list[str]:
    """Key numbers of one module's result file (or why there are none)."""
    if path is None:
        return ["(no result file reported)"]
    try:
        data = json.loads(path.read_text())
        return SUMMARIES.get(data.get("benchmark", name), lambda d: [])(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"(cannot read {path}: {type(exc).__name__}: {exc})"]


def main(argv: list[str] | None = None) -> int:
    """Run the modules, print the summary; exit status 1 if any module failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="other arguments go to every module")
    parser.add_argument("--only", help=f"comma-separated modules (default: {','.join(MODULES)})")
    known, rest = parser.parse_known_args(argv)
    modules = known.only.split(",") if known.only else list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)} (known: {', '.join(MODULES)})")
    outcomes = []
    t0 = time.perf_counter()
    for name in modules:
        rc, seconds, path = run_module(name, rest)
        outcomes.append((name, rc, seconds, path))
    print(f"\n=== summary ({time.perf_counter() - t0:.0f} s)")
    for name, rc, seconds, path in outcomes:
        status = "ok" if rc == 0 else f"FAILED (exit status {rc})"
        print(f"{name}: {status}, {seconds:.1f} s" + (f", {path}" if path else ""))
        if rc == 0:
            for line in summarize(name, path):
                print(f"  {line}")
    failed = [name for name, rc, _, _ in outcomes if rc != 0]
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
