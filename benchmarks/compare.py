"""Content checks of ``compare`` (decode + observe + align + classify) vs a pure decode.

Cases
-----
``a-360p-4users``
    640x360 @ 15 fps, best fit, 4 test-stream users, 40 s (``--quick``: 6 s).
``b-1080p-17users``
    1920x1080 @ 15 fps, best fit, 17 test-stream users, 20 s (``--quick``: 3 s).

The recording is made once per case, before timing, by the local recorder
(:func:`layoutkit.record.record`, its MP4: H.264 video and AAC sound) in a child process:
a compare process never records, so the timed process does not either (the recorder fixes
glibc's mmap threshold while it records, :func:`layoutkit.io.memory.pictures_unmapped`;
before that was scoped, every later 3 MiB picture of the process was a fresh mapping).
Every user's source is ``testsrc`` (so every region's code is read in every frame) with a
mute at 1/3 and a leave at 2/3 of the length.

What "decoding the same recording with PyAV" means (issue 23 item 6)
--------------------------------------------------------------------
The recording is video + audio and compare reads both (the pictures, and the sound for the
A/V offset), so the decode subject decodes **both streams** of the MP4 in one demux pass
(``container.decode(video, audio)``), the video with the decoder threads compare uses
(``thread_type = "AUTO"``), and converts **every frame of both** to an ndarray
(``to_ndarray``): what an analysis in Python usually does before it looks at anything.
compare itself reads the decoder's planes as views (no copy), which that subject keeps
(its copies are part of what PyAV decoding to arrays costs).
The target is ``ours / decode <= 1.5`` (:data:`TARGET`), in-process and whole-process.

Subjects, in-process (timed interleaved, one whole recording per run)
---------------------------------------------------------------------
``ours``
    :func:`layoutkit.comparison.content.check_content` on the MP4's pictures and sound as
    ``compare`` reads them (:func:`layoutkit.comparison.run.recorded_media`: PyAV frames
    decoded ahead in a thread, decoder threads on; the sound's beeps read while the
    observing loop would wait for the next picture): decode, observe every frame, align,
    classify, A/V, differences.  The result must be clean (no difference): it is checked.
``decode``
    PyAV decoding both streams of the same file as above (:func:`decode`).
``ffmpeg``
    The ``ffmpeg`` program of ``imageio-ffmpeg`` decoding the file to ``-f null -``
    (threads automatic, audio too): FFmpeg's own decode speed, subprocess included.  A
    floor, not the same job: its row in ``run.py``'s table compares CPU seconds
    (``ratio_ffmpeg_over_ours_cpu``), since at 360p FFmpeg's frame threads gain little and
    its wall time swung with the host (one full run: 0.45-0.85 s for the same file, its
    CPU seconds 0.64-0.81).

Subjects, whole process ("start-up included"; alternated, ``--pairs`` pairs)
---------------------------------------------------------------------------
``process_ours``
    ``python -m layoutkit compare SCENARIO MP4 --json`` (what a user types; the content
    check, the file and stream checks of the MP4, the JSON printed; the exit status must
    say ``match``).
``process_decode``
    ``python -c`` running :data:`DECODE_PROGRAM` on the MP4: import PyAV and NumPy, decode
    both streams as ``decode`` does.
``process_report`` (full runs only, one per pair, not in the ratio)
    ``process_ours`` plus ``--report FILE.html`` into a temporary folder: what the HTML
    report costs on top.

Both processes run with the same ``python`` and ``PYTHONPATH`` (this checkout), and with
their byte code cached in a temporary folder (``PYTHONPYCACHEPREFIX``, warm after the
warm-up run; ``PYTHONDONTWRITEBYTECODE`` removed): an installed package has its ``.pyc``
files, and compiling layoutkit's sources afresh in every process (0.4 s) is no part of a
compare.

Reported: median wall and CPU seconds per recording (CPU: this process and its children,
:func:`resource.getrusage`), x real time; ``ratio_ours_over_decode`` and
``ratio_process_ours_over_decode``: the median of the per-pair ratios of wall seconds
(``*_cpu``: of CPU seconds), ``target_ratio`` and ``meets_target`` (both ratios within
the target); ``ratio_ours_over_ffmpeg`` (wall) and ``ratio_ffmpeg_over_ours_cpu`` (the
floor's row in ``run.py``); the load average before and after each case.
Issue 8's targets still hold: >= 30x real time for the first case, >= 5x for the second,
on a 2-core machine.

Run ``python benchmarks/compare.py`` (15 in-process pairs per case; ``--quick`` for CI:
shorter recordings, 3 in-process runs, one whole-process pair of the first case only:
indicative); results go to
``benchmarks/results/compare.json`` (``compare-quick.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import Settings, metadata, parse_args, write_result
from layoutkit.comparison.content import check_content
from layoutkit.comparison.run import recorded_media
from layoutkit.io.frames import DecodeStats
from layoutkit.request.limits import recommended_bitrate
from layoutkit.scenario import Scenario, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
FPS = 15
#: ours / decode at most this (issue 23 item 6), in-process and whole-process.
TARGET = 1.5
#: Whole-process pairs per case in full runs (5 let the 1080p row move 15 % between runs).
WHOLE_PAIRS = 9


@dataclass(frozen=True)
class Case:
    title: str
    canvas_wh: tuple[int, int]
    users: int
    seconds: int
    quick_seconds: int


CASES = {
    "a-360p-4users": Case("640x360@15, 4 users", (640, 360), 4, 40, 6),
    "b-1080p-17users": Case("1920x1080@15, 17 users best fit", (1920, 1080), 17, 20, 3),
}

#: The whole-process decode: ``python -c DECODE_PROGRAM FILE`` (as :func:`decode`).
DECODE_PROGRAM = """\
import sys
import av
import numpy
with av.open(sys.argv[1]) as container:
    streams = [*container.streams.video[:1], *container.streams.audio[:1]]
    streams[0].thread_type = "AUTO"
    n = 0
    for frame in container.decode(*streams):
        frame.to_ndarray()
        n += 1
print(n)
"""


#: Records a scenario in a child process: ``python -c RECORD_PROGRAM SCENARIO FOLDER``.
RECORD_PROGRAM = """\
import json
import sys
from pathlib import Path
from layoutkit.record import record
from layoutkit.scenario import parse_scenario
scenario = parse_scenario(json.loads(Path(sys.argv[1]).read_text()))
result = record(scenario, Path(sys.argv[2]), quiet=True)
print(sorted(result.folder.glob("*.mp4"))[0])
"""


def record_mp4(scenario_json: Path, folder: Path, env: dict[str, str]) -> Path:
    """Record the scenario in a child process (:data:`RECORD_PROGRAM`); return its MP4."""
    done = subprocess.run([sys.executable, "-c", RECORD_PROGRAM, str(scenario_json),
                           str(folder)], env=env, capture_output=True, text=True, check=True)
    return Path(done.stdout.strip().splitlines()[-1])


def scenario_doc(case: Case, seconds: int) -> dict[str, Any]:
    """Return the case's scenario: test-stream users, a mute and a leave."""
    w, h = case.canvas_wh
    uids = [str(1001 + i) for i in range(case.users)]
    return {
        "cname": "bench", "sid": "0123456789abcdef0123456789abcdef",
        "start": {"cname": "bench", "uid": "999", "clientRequest": {
            "recordingConfig": {
                "channelType": 0, "streamTypes": 2, "audioProfile": 0, "maxIdleTime": 30,
                "transcodingConfig": {"width": w, "height": h, "fps": FPS,
                                      "bitrate": recommended_bitrate(w, h, FPS),
                                      "mixedVideoLayout": 1, "backgroundColor": "#000000"}},
            "recordingFileConfig": {"avFileType": ["hls", "mp4"]}}},
        "duration": seconds,
        "users": [{"uid": uid, "source": "testsrc", "size": "640x360"} for uid in uids],
        "events": [{"t": seconds // 3, "uid": uids[1], "action": "mute_video"},
                   {"t": 2 * seconds // 3, "uid": uids[2], "action": "leave"}],
    }


def ours(scenario: Scenario, mp4: Path) -> Callable[[], Any]:
    def run() -> Any:
        frames, sound = recorded_media([mp4], decoded=DecodeStats(), heard=DecodeStats())
        result = check_content(frames, scenario, audio=sound)
        if result.differences:
            msg = f"compare of the recorder's own output differs: {result.differences[:3]}"
            raise AssertionError(msg)
        return result
    return run


def decode(mp4: Path) -> Callable[[], Any]:
    """Decode both streams of ``mp4``, every frame to an ndarray (see the module notes)."""
    import av

    def run() -> Any:
        n = 0
        with av.open(str(mp4)) as container:
            streams = [*container.streams.video[:1], *container.streams.audio[:1]]
            streams[0].thread_type = "AUTO"
            for frame in container.decode(*streams):
                frame.to_ndarray()
                n += 1
        return n
    return run


def ffmpeg(mp4: Path) -> Callable[[], Any]:
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()

    def run() -> Any:
        return subprocess.run([exe, "-v", "error", "-i", str(mp4), "-f", "null", "-"],
                              check=True, capture_output=True)
    return run


def process_env(pycache: Path) -> dict[str, str]:
    """Return the whole-process subjects' environment (this checkout, byte code cached)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def process_ours(scenario_json: Path, mp4: Path, env: dict[str, str], *,
                 report: Path | None = None) -> Callable[[], Any]:
    """``python -m layoutkit compare SCENARIO MP4 --json`` (its verdict must be match)."""
    args = [sys.executable, "-m", "layoutkit", "compare", str(scenario_json), str(mp4), "--json"]
    if report is not None:
        args += ["--report", str(report), "--force"]

    def run() -> Any:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        verdict = json.loads(done.stdout).get("verdict") if done.stdout.strip() else None
        if done.returncode != 0 or verdict != "match":
            msg = (f"compare process: exit {done.returncode}, verdict {verdict}: "
                   f"{done.stderr[-500:]}")
            raise AssertionError(msg)
        return verdict
    return run


def process_decode(mp4: Path, env: dict[str, str]) -> Callable[[], Any]:
    """``python -c DECODE_PROGRAM MP4``."""
    args = [sys.executable, "-c", DECODE_PROGRAM, str(mp4)]

    def run() -> Any:
        return subprocess.run(args, env=env, capture_output=True, check=True)
    return run


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


def alternate(subjects: dict[str, Callable[[], Any]], *, pairs: int,
              warmup: int) -> dict[str, dict[str, list[float]]]:
    """Run the subjects in turn (A B C A B C ...), ``pairs`` times: their wall and CPU seconds."""
    for fn in subjects.values():  # warm-up (and the clean check)
        for _ in range(warmup):
            fn()
    out: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in subjects}
    for _ in range(pairs):
        for key, fn in subjects.items():
            c0, t0 = _cpu(), time.perf_counter()
            fn()
            out[key]["wall"].append(time.perf_counter() - t0)
            out[key]["cpu"].append(_cpu() - c0)
    return out


def summary(times: dict[str, list[float]], seconds: int) -> dict[str, Any]:
    """Return one subject's wall and CPU seconds per run, medians and x real time."""
    wall = statistics.median(times["wall"])
    return {"wall_s": [round(w, 3) for w in times["wall"]], "wall_s_median": round(wall, 3),
            "cpu_s": [round(c, 3) for c in times["cpu"]],
            "cpu_s_median": round(statistics.median(times["cpu"]), 3),
            "x_realtime": round(seconds / wall, 2)}


def pair_ratio(times: dict[str, dict[str, list[float]]], a: str, b: str,
               kind: str = "wall") -> float:
    """Return the median over pairs of ``a``'s seconds over ``b``'s (``kind``: wall or cpu).

    >>> pair_ratio({"a": {"wall": [2.0, 3.0, 9.0]}, "b": {"wall": [1.0, 1.0, 3.0]}}, "a", "b")
    3.0
    """
    return round(statistics.median(x / y for x, y in zip(times[a][kind], times[b][kind],
                                                          strict=True)), 3)


def _load() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _in_process(scenario: Scenario, mp4: Path, settings: Settings, *,
                with_ffmpeg: bool) -> dict[str, dict[str, list[float]]]:
    subjects = {"ours": ours(scenario, mp4), "decode": decode(mp4)}
    if with_ffmpeg:
        subjects["ffmpeg"] = ffmpeg(mp4)
    return alternate(subjects, pairs=settings.repeats, warmup=settings.warmup)


def _whole_process(scenario_json: Path, mp4: Path, tmp: Path, *, pairs: int,
                   report: bool) -> dict[str, dict[str, list[float]]]:
    env = process_env(tmp / "pycache")
    subjects = {"process_ours": process_ours(scenario_json, mp4, env),
                "process_decode": process_decode(mp4, env)}
    if report:
        subjects["process_report"] = process_ours(scenario_json, mp4, env,
                                                  report=tmp / "out" / "report.html")
        (tmp / "out").mkdir()
    return alternate(subjects, pairs=pairs, warmup=1)


def run_case(name: str, settings: Settings, *, with_ffmpeg: bool,
             pairs: int) -> dict[str, Any]:
    case = CASES[name]
    seconds = case.quick_seconds if settings.quick else case.seconds
    doc = scenario_doc(case, seconds)
    scenario = parse_scenario(doc)
    load_start = _load()
    with tempfile.TemporaryDirectory() as tmp:
        scenario_json = Path(tmp) / "scenario.json"
        scenario_json.write_text(json.dumps(doc))
        mp4 = record_mp4(scenario_json, Path(tmp) / "rec", process_env(Path(tmp) / "pycache"))
        times = _in_process(scenario, mp4, settings, with_ffmpeg=with_ffmpeg)
        if pairs:
            times.update(_whole_process(scenario_json, mp4, Path(tmp), pairs=pairs,
                                        report=not settings.quick))
        stats = ours(scenario, mp4)().stats
    out: dict[str, Any] = {"label": f"{case.title}, {seconds} s", "seconds": seconds,
                           "frames": seconds * FPS, "ours_stats": stats,
                           "load_average_start": load_start, "load_average_end": _load()}
    out.update({key: summary(t, seconds) for key, t in times.items()})
    out["ratio_ours_over_decode"] = pair_ratio(times, "ours", "decode")
    out["ratio_ours_over_decode_cpu"] = pair_ratio(times, "ours", "decode", "cpu")
    ratios = [out["ratio_ours_over_decode"]]
    if pairs:
        out["ratio_process_ours_over_decode"] = pair_ratio(times, "process_ours",
                                                           "process_decode")
        out["ratio_process_ours_over_decode_cpu"] = pair_ratio(times, "process_ours",
                                                               "process_decode", "cpu")
        ratios.append(out["ratio_process_ours_over_decode"])
    out["target_ratio"] = TARGET
    out["meets_target"] = all(r <= TARGET for r in ratios)
    if with_ffmpeg:
        out["ratio_ours_over_ffmpeg"] = pair_ratio(times, "ours", "ffmpeg")
        out["ratio_ffmpeg_over_ours_cpu"] = pair_ratio(times, "ffmpeg", "ours", "cpu")
    return out


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="run only this case (repeatable)")
    parser.add_argument("--no-ffmpeg", action="store_true", help="skip the ffmpeg program")
    parser.add_argument("--pairs", type=int,
                        help=f"whole-process pairs per case ({WHOLE_PAIRS}; --quick: 1, first "
                             "case only; 0: none)")


def _line(r: dict[str, Any]) -> str:
    proc = r.get("ratio_process_ours_over_decode")
    whole = (f"{r['process_ours']['wall_s_median']:6.2f} "
             f"{r['process_decode']['wall_s_median']:6.2f} {proc:6.2f}x"
             if proc is not None else f"{'-':>22s}")
    return (f"{r['label']:38s} {r['ours']['wall_s_median']:7.2f} {r['ours']['x_realtime']:5.1f}x | "
            f"{r['decode']['wall_s_median']:8.2f} | {r['ratio_ours_over_decode']:6.2f}x "
            f"{r['ratio_ours_over_decode_cpu']:6.2f}x | "
            f"{whole} | {'yes' if r['meets_target'] else 'NO'}")


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print a table, write ``benchmarks/results/compare.json``."""
    known, settings = parse_args(__doc__.splitlines()[0], argv, frames=0, repeats=15, warmup=1,
                                 add_arguments=_arguments)
    settings = Settings(frames=0, repeats=settings.repeats, warmup=int(bool(settings.warmup)),
                        quick=settings.quick)
    with_ffmpeg = not known.no_ffmpeg
    header = (f"{'case':38s} {'ours s':>7s} {'xRT':>6s} | {'decode s':>8s} | "
              f"{'ours/decode wall cpu':>21s} | {'process ours decode ratio':>22s} | "
              f"<= {TARGET}x")
    print(header)
    print("-" * len(header), flush=True)
    results = {}
    for i, name in enumerate(known.case or list(CASES)):
        pairs = known.pairs if known.pairs is not None else (
            (1 if i == 0 else 0) if settings.quick else WHOLE_PAIRS)
        r = run_case(name, settings, with_ffmpeg=with_ffmpeg, pairs=pairs)
        results[name] = r
        print(_line(r), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    payload = {"benchmark": "compare",
               "metadata": metadata(settings=asdict(settings), peak_rss_mib=round(peak, 1)),
               "notes": ["ours = check_content (decode + observe + align + classify + A/V); "
                         "decode = PyAV decoding video and audio, every frame to_ndarray; "
                         "ffmpeg = ffmpeg -f null -",
                         "process_ours = python -m layoutkit compare SCENARIO MP4 --json; "
                         "process_decode = python -c (the same PyAV decode); byte code cached",
                         "ratio_* = median over alternated pairs of ours / decode seconds; "
                         f"target <= {TARGET} for both (issue 23 item 6)"],
               "cases": results}
    path = write_result("compare-quick" if settings.quick else "compare", payload)
    print(f"peak RSS {round(peak, 1)} MiB")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
