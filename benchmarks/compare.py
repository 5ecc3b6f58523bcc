"""Content checks of ``compare`` (decode + observe + align + classify) vs a pure decode.

Cases
-----
``a-360p-4users``
    640x360 @ 15 fps, best fit, 4 test-stream users, 40 s (``--quick``: 10 s).
``b-1080p-17users``
    1920x1080 @ 15 fps, best fit, 17 test-stream users, 20 s (``--quick``: 5 s).

The recording is made once per case, before timing, by the local recorder
(:func:`layoutkit.record.record`, its MP4); every user's source is ``testsrc`` (so every
region's code is read in every frame) with a mute at 1/3 and a leave at 2/3 of the length.

Subjects (timed interleaved, one whole recording per run; see ``benchmarks/README.md``)
---------------------------------------------------------------------------------------
``ours``
    :func:`layoutkit.comparison.content.check_content` on PyAV frames
    (:func:`layoutkit.io.recorded.iter_video`, decoder threads on) with the audio
    (:func:`iter_audio`, for the A/V offset): decode, observe every frame, align, classify,
    differences.  The result must be clean (no difference): it is checked.
``decode``
    PyAV decoding the same file with the same threads, each frame converted to the same
    ``(H*3/2, W)`` array (``to_ndarray``): the floor of any analysis in Python.
``ffmpeg``
    The ``ffmpeg`` program of ``imageio-ffmpeg`` decoding the file to ``-f null -``
    (threads automatic, audio too): FFmpeg's own decode speed, subprocess included.

Reported: median wall seconds per recording, x real time (recorded seconds / wall
seconds); ``ours / decode`` and ``ours / ffmpeg`` time ratios (how many pure decodes one
compare costs).  Targets (issue 8): >= 30x real time for the first case, >= 5x for the
second, on a 2-core machine.

Run ``python benchmarks/compare.py`` (``--quick`` for CI); results go to
``benchmarks/results/compare.json`` (``compare-quick.json``).
"""

from __future__ import annotations

import argparse
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
from layoutkit.io.recorded import iter_audio, iter_video
from layoutkit.comparison.content import check_content
from layoutkit.record import record
from layoutkit.request.limits import recommended_bitrate
from layoutkit.scenario import Scenario, parse_scenario

FPS = 15


@dataclass(frozen=True)
class Case:
    title: str
    canvas_wh: tuple[int, int]
    users: int
    seconds: int
    quick_seconds: int


CASES = {
    "a-360p-4users": Case("640x360@15, 4 users", (640, 360), 4, 40, 10),
    "b-1080p-17users": Case("1920x1080@15, 17 users best fit", (1920, 1080), 17, 20, 5),
}


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
        result = check_content(lambda: iter_video([mp4]), scenario,
                               audio=iter_audio([mp4]))
        if result.differences:
            msg = f"compare of the recorder's own output differs: {result.differences[:3]}"
            raise AssertionError(msg)
        return result
    return run


def decode(mp4: Path) -> Callable[[], Any]:
    import av

    def run() -> Any:
        n = 0
        with av.open(str(mp4)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
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


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


def run_case(name: str, settings: Settings, *, with_ffmpeg: bool) -> dict[str, Any]:
    case = CASES[name]
    seconds = case.quick_seconds if settings.quick else case.seconds
    scenario = parse_scenario(scenario_doc(case, seconds))
    with tempfile.TemporaryDirectory() as tmp:
        result = record(scenario, Path(tmp), quiet=True)
        mp4 = sorted(result.folder.glob("*.mp4"))[0]
        subjects = {"ours": ours(scenario, mp4), "decode": decode(mp4)}
        if with_ffmpeg:
            subjects["ffmpeg"] = ffmpeg(mp4)
        for fn in subjects.values():  # warm-up (and the clean check)
            for _ in range(settings.warmup):
                fn()
        walls: dict[str, list[float]] = {k: [] for k in subjects}
        cpus: dict[str, list[float]] = {k: [] for k in subjects}
        for _ in range(settings.repeats):
            for key, fn in subjects.items():
                c0, t0 = _cpu(), time.perf_counter()
                fn()
                walls[key].append(time.perf_counter() - t0)
                cpus[key].append(_cpu() - c0)
        stats = ours(scenario, mp4)().stats
    out: dict[str, Any] = {"label": f"{case.title}, {seconds} s", "seconds": seconds,
                           "frames": seconds * FPS, "ours_stats": stats}
    for key in subjects:
        wall = statistics.median(walls[key])
        out[key] = {"wall_s": [round(w, 3) for w in walls[key]], "wall_s_median": round(wall, 3),
                    "cpu_s_median": round(statistics.median(cpus[key]), 3),
                    "x_realtime": round(seconds / wall, 2)}
    out["ratio_ours_over_decode"] = round(out["ours"]["wall_s_median"]
                                          / out["decode"]["wall_s_median"], 2)
    if with_ffmpeg:
        out["ratio_ours_over_ffmpeg"] = round(out["ours"]["wall_s_median"]
                                              / out["ffmpeg"]["wall_s_median"], 2)
    return out


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="run only this case (repeatable)")
    parser.add_argument("--no-ffmpeg", action="store_true", help="skip the ffmpeg program")


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print a table, write ``benchmarks/results/compare.json``."""
    known, settings = parse_args(__doc__.splitlines()[0], argv, frames=0, repeats=5, warmup=1,
                                 add_arguments=_arguments)
    settings = Settings(frames=0, repeats=settings.repeats, warmup=int(bool(settings.warmup)),
                        quick=settings.quick)
    with_ffmpeg = not known.no_ffmpeg
    header = (f"{'case':40s} {'ours s':>7s} {'xRT':>6s} | {'decode s':>8s} {'xRT':>6s} | "
              f"{'ffmpeg s':>8s} {'xRT':>6s} | {'ours/decode':>11s}")
    print(header)
    print("-" * len(header), flush=True)
    results = {}
    for name in known.case or list(CASES):
        r = run_case(name, settings, with_ffmpeg=with_ffmpeg)
        results[name] = r
        ff = (f"{r['ffmpeg']['wall_s_median']:8.2f} {r['ffmpeg']['x_realtime']:5.1f}x"
              if with_ffmpeg else f"{'-':>8s} {'-':>6s}")
        print(f"{r['label']:40s} "
              f"{r['ours']['wall_s_median']:7.2f} {r['ours']['x_realtime']:5.1f}x | "
              f"{r['decode']['wall_s_median']:8.2f} {r['decode']['x_realtime']:5.1f}x | {ff} | "
              f"{r['ratio_ours_over_decode']:10.2f}x", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    payload = {"benchmark": "compare",
               "metadata": metadata(settings=asdict(settings), peak_rss_mib=round(peak, 1)),
               "notes": ["ours = check_content (decode + observe + align + classify + A/V), "
                         "decode = PyAV decode + to_ndarray, ffmpeg = ffmpeg -f null -",
                         "ratio_ours_over_decode = median ours seconds / median decode seconds"],
               "cases": results}
    path = write_result("compare-quick" if settings.quick else "compare", payload)
    print(f"peak RSS {round(peak, 1)} MiB")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
