"""Start-up of ``compare``: interpreter start to the first decoded frame at the observe stage.

Case
----
``startup-360p-20s``
    A 20 s 640x360 @ 15 fps recording of 4 test-stream users (the local recorder's, made once
    before timing, with the scenario of ``benchmarks/compare.py``'s first case), compared as
    the folder (``--input folder``, the default: its playlist is parsed first) or as its
    MP4 (``--input mp4``).

Subject
-------
A fresh ``python`` process (``python -c``, ``PYTHONPATH`` = the tree measured) that imports
``layoutkit.comparison.run``, loads the scenario file and calls ``compare`` on it; a
hook on the observe stage (``layoutkit.comparison.content.observe_frames``) notes the time
its first frame arrives and stops the compare there.  Wall-clock seconds:

* ``interpreter_s``: from just before the process is spawned (``time.time()`` in the parent,
  passed in the environment) to the first line of the script: Python's own start, with the
  ``.pth`` files of the installation (not layoutkit's);
* ``import_s``: from the script's first line until ``import layoutkit.comparison.run``
  returned;
* ``first_frame_s``: from the script's first line until the first decoded frame reached the
  observe stage (the import, reading the scenario, opening the recording, the plan): the
  start-up of issue 19 ("import to first frame");
* ``spawn_to_first_frame_s``: the two together;
* ``import_cpu_s``, ``first_frame_cpu_s``: the process's CPU time (user + system) over the
  same spans as ``import_s`` and ``first_frame_s``: less sensitive to other load on the
  machine than wall time.

Bytecode: every tree gets its own ``PYTHONPYCACHEPREFIX`` (written by one untimed run), as
an installed package has its ``.pyc`` files; ``--no-bytecode`` measures with
``PYTHONDONTWRITEBYTECODE=1`` and no cache (every module compiled on every start).

Several ``--tree`` folders (e.g. the branch before and after a change, from
``git archive``) are run interleaved (A, B, A, B, ...) so that machine load falls on all
alike.  Reported per tree: median and min-max of the runs.  Target (issue 19): median
``first_frame_s`` under 0.5 s.

Run ``python benchmarks/startup.py`` (``--repeats 5``, ``--tree PATH`` repeatable, default
this checkout); results go to ``benchmarks/results/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import metadata, parse_args, write_result

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 20
KEYS = ("interpreter_s", "import_s", "first_frame_s", "spawn_to_first_frame_s", "import_cpu_s",
        "first_frame_cpu_s")

#: The measured process: prints one JSON line of seconds since the parent's spawn time.
CHILD = r"""
import json, os, sys, time
t0, t_start, c_start = float(os.environ["LK_STARTUP_T0"]), time.time(), time.process_time()
import layoutkit.comparison.run as run
t_import, c_import = time.time(), time.process_time()
import layoutkit.comparison.content as content
from layoutkit.inputs import load_scenario_file

class FirstFrame(BaseException):
    pass

seen = {}

def observe(frames, sampler, **kw):
    for _ in frames:
        seen["t"], seen["cpu"] = time.time(), time.process_time()
        raise FirstFrame
    raise SystemExit("no frame")

content.observe_frames = observe
try:
    run.compare(load_scenario_file(sys.argv[1]), sys.argv[2])
except FirstFrame:
    pass
print(json.dumps({"interpreter_s": t_start - t0, "import_s": t_import - t_start,
                  "first_frame_s": seen["t"] - t_start, "spawn_to_first_frame_s": seen["t"] - t0,
                  "import_cpu_s": c_import - c_start, "first_frame_cpu_s": seen["cpu"] - c_start,
                  "modules": len(sys.modules)}))
"""


def make_recording(folder: Path) -> tuple[Path, Path]:
    """Record the case in ``folder``; return its scenario file and the local recorder's folder."""
    from benchmarks.compare import CASES, scenario_doc
    from layoutkit.record import record
    from layoutkit.scenario import parse_scenario

    doc = scenario_doc(CASES["a-360p-4users"], SECONDS)
    scenario_path = folder / "scenario.json"
    scenario_path.write_text(json.dumps(doc))
    result = record(parse_scenario(doc), folder / "rec", quiet=True)
    return scenario_path, result.folder


def _env(tree: Path, cache: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env["PYTHONPATH"] = str(tree)
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def measure_once(tree: Path, scenario: Path, recording: Path, cache: Path | None) -> dict[str, Any]:
    """One fresh process's times (seconds since just before it was spawned)."""
    env = _env(tree, cache)
    env["LK_STARTUP_T0"] = repr(time.time())
    out = subprocess.run([sys.executable, "-c", CHILD, str(scenario), str(recording)], env=env,
                         cwd=tree, check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def summary(values: list[float]) -> dict[str, Any]:
    """Median and min-max of ``values`` (and the values), rounded to ms.

    >>> summary([0.5, 0.3, 0.4])
    {'runs': [0.5, 0.3, 0.4], 'median': 0.4, 'min': 0.3, 'max': 0.5}
    """
    return {"runs": [round(v, 3) for v in values], "median": round(statistics.median(values), 3),
            "min": round(min(values), 3), "max": round(max(values), 3)}


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tree", action="append", type=Path,
                        help="a checkout whose layoutkit is measured (repeatable; default this "
                             "one); several are run interleaved")
    parser.add_argument("--input", choices=("folder", "mp4"), default="folder",
                        help="compare the recording's folder (default) or its MP4")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="no .pyc cache: every module compiled on every start")


def main(argv: list[str] | None = None) -> int:
    """Run the case, print a table, write ``benchmarks/results/startup.json``."""
    known, settings = parse_args(__doc__.splitlines()[0], argv, frames=0, repeats=5, warmup=1,
                                 add_arguments=_arguments)
    trees = [t.resolve() for t in (known.tree or [ROOT])]
    times: dict[str, dict[str, list[float]]] = {str(t): {k: [] for k in KEYS} for t in trees}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario, rec = make_recording(folder)
        target = rec if known.input == "folder" else min(rec.glob("*.mp4"))
        caches = {t: None if known.no_bytecode else folder / f"pyc-{i}"
                  for i, t in enumerate(trees)}
        for tree in trees:  # warm-up: writes the bytecode cache
            for _ in range(max(1, settings.warmup)):
                measure_once(tree, scenario, target, caches[tree])
        for _ in range(settings.repeats):
            for tree in trees:
                got = measure_once(tree, scenario, target, caches[tree])
                for k in KEYS:
                    times[str(tree)][k].append(got[k])
    header = f"{'tree':24s}" + "".join(f"{k:>24s}" for k in KEYS)
    print(header)
    print("-" * len(header))
    results = {}
    for tree, got in times.items():
        results[tree] = {k: summary(v) for k, v in got.items()}
        cells = [f"{s['median']:.3f} ({s['min']:.3f}-{s['max']:.3f})"
                 for s in results[tree].values()]
        print(f"{tree[-24:]:24s}" + "".join(f"{c:>24s}" for c in cells))
    payload = {"benchmark": "startup",
               "metadata": metadata(settings=asdict(settings), bytecode=not known.no_bytecode,
                                    input=known.input),
               "notes": [(f"a {SECONDS} s 640x360 recording ({known.input}); seconds from the "
                          "script's start to the import's end and to the first frame at the "
                          "observe stage (median, min-max)")],
               "cases": {"startup-360p-20s": results}}
    path = write_result("startup", payload)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
