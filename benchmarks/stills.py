"""Stills speed: the contact sheet and ``frame_at`` (the paths with no encoder beside them).

Cases
-----
``contact-sheet-1920x1080-<layout>``
    ``lk.contact_sheet({"mixedVideoLayout": mode}, canvas_wh=(1920, 1080))``: the 17
    canvases of 1..17 users drawn in RGB and thumbnailed into one sheet (target < 1 s).
``frame_at-1920x1080-bestfit-17-warm``
    A 1080p best-fit scenario of 17 ``testsrc`` users: one ``SceneRenderer`` kept open, a
    new time per call, RGB out (what ``lk.frame_at`` returns; target < 50 ms).
    ``-warm-i420`` is the same without the RGB conversion (the recorder's own buffer).
``frame_at-1920x1080-bestfit-17-cold``
    ``lk.frame_at(scenario, t)``: opens the renderer (sources, plan) every call.

Each run is timed on the wall clock (these paths may use every core: the contact sheet draws
its canvases in parallel, the RGB conversion works in row bands); reported: the median over
runs and every run.  Run ``python benchmarks/stills.py`` (``--quick`` for CI).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    from ._common import metadata, parse_args, write_result
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    from _common import metadata, parse_args, write_result  # type: ignore[no-redef]

import layoutkit as lk
from layoutkit.render import SceneRenderer

LAYOUTS = {"floating": 0, "bestfit": 1, "vertical": 2}
SHEET_TARGET_S = 1.0
FRAME_TARGET_MS = 50.0
FPS = 15


def scenario_doc(users: int = 17, seconds: int = 60) -> dict[str, Any]:
    """Return a 1080p best-fit scenario of ``users`` testsrc users."""
    return {"cname": "c", "duration": seconds,
            "users": [{"uid": str(1001 + i), "source": "testsrc"} for i in range(users)],
            "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {
                "transcodingConfig": {"width": 1920, "height": 1080, "fps": FPS,
                                      "mixedVideoLayout": 1}}}}}


def _time(fn: Callable[[int], Any], runs: int, calls: int) -> list[float]:
    """Seconds per call of each run (``calls`` calls per run)."""
    out = []
    for r in range(runs):
        t0 = time.perf_counter()
        for i in range(calls):
            fn(r * calls + i)
        out.append((time.perf_counter() - t0) / calls)
    return out


def _summary(per_call: list[float], *, unit: str, target: float | None) -> dict[str, Any]:
    scale = 1e3 if unit == "ms" else 1.0
    values = [v * scale for v in per_call]
    med = statistics.median(values)
    return {"unit": unit, "median": round(med, 3), "runs": [round(v, 3) for v in values],
            "target": target, "meets_target": None if target is None else med < target}


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print a table, write ``benchmarks/results/stills.json``."""
    _known, settings = parse_args(__doc__.splitlines()[0], argv, frames=0, repeats=5,
                                  warmup=1)
    runs = settings.repeats
    results: dict[str, Any] = {}
    lk.contact_sheet({"mixedVideoLayout": 1}, canvas_wh=(320, 180))  # imports, fonts
    layouts = ["bestfit"] if settings.quick else list(LAYOUTS)
    for name in layouts:
        def sheet(i: int, mode: int = LAYOUTS[name]) -> Any:
            return lk.contact_sheet({"mixedVideoLayout": mode}, canvas_wh=(1920, 1080))
        if not settings.quick:
            sheet(0)
        results[f"contact-sheet-1920x1080-{name}"] = _summary(
            _time(sheet, runs, 1), unit="s", target=SHEET_TARGET_S)
    scenario = lk.load_scenario(scenario_doc())
    calls = 10 if settings.quick else 30
    with SceneRenderer(scenario) as renderer:
        renderer.rendered_frame(Fraction(0))

        def warm_rgb(i: int) -> Any:
            return renderer.rendered_frame(Fraction(i + 1, FPS)).rgb()

        def warm_i420(i: int) -> Any:
            return renderer.rendered_frame(Fraction(i + 1, FPS)).canvas

        results["frame_at-1920x1080-bestfit-17-warm"] = _summary(
            _time(warm_rgb, runs, calls), unit="ms", target=FRAME_TARGET_MS)
        results["frame_at-1920x1080-bestfit-17-warm-i420"] = _summary(
            _time(warm_i420, runs, calls), unit="ms", target=FRAME_TARGET_MS)

    def cold(i: int) -> Any:
        return lk.frame_at(scenario, Fraction(i % 50 + 1, 2))

    cold(0)
    results["frame_at-1920x1080-bestfit-17-cold"] = _summary(
        _time(cold, runs, 2 if settings.quick else 5), unit="ms", target=None)
    for name, r in results.items():
        target = "" if r["target"] is None else f"(target < {r['target']:g})"
        print(f"{name:42s} {r['median']:9.3f} {r['unit']:2s} {target}", flush=True)
    payload = {"benchmark": "stills",
               "metadata": metadata(settings=asdict(settings)),
               "cases": results}
    path = write_result("stills-quick" if settings.quick else "stills", payload)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
