"""The local recorder end to end (compose + H.264/AAC encode + HLS and MP4 mux) vs FFmpeg.

Cases
-----
``a-360p-4users``
    640x360 @ 15 fps, best fit, 4 users, 40 s (``--quick``: 10 s), 400 Kbps; both sides
    timed with every thread held to one core (x264 runs on one thread at this size, and so
    does the whole competitor; see :attr:`Case.one_core`).
``b-1080p-17users``
    1920x1080 @ 15 fps, best fit, 17 users, 20 s (``--quick``: 4 s), 2080 Kbps.

Bitrates are :func:`layoutkit.request.limits.recommended_bitrate` for the canvas; audio is
``audioProfile`` 0 (mono AAC, 48 kHz, 48 Kbps); every user's source is 640x360.

Subjects (timed interleaved, one whole recording per run; see ``benchmarks/README.md``)
---------------------------------------------------------------------------------------
``ours``
    ``record(parse_scenario(doc), tmpdir, quiet=True, overwrite=True)`` with ``avFileType``
    ``["hls", "mp4"]``; every user's source is a solid ``#RRGGBB`` colour (still composed,
    i.e. scaled into its tile, every frame) and every user's audio is ``tone``.
``ffmpeg``
    The same job by FFmpeg's libraries in this process through PyAV: a filter graph
    (``graph.threads = 1``) of one ``buffer`` per user (yuv420p 640x360, the same solid
    colour frame pushed every output frame) -> ``scale=WxH:flags=bilinear`` to the tile of
    :func:`layoutkit.layout.compute_regions` -> ``xstack`` (+ ``pad`` to the canvas) ->
    ``buffersink``; libx264 with :data:`layoutkit.io.encode.X264_OPTIONS`, the same bitrate,
    frame rate and forced key frames every 15 s; AAC with the same profile, fed with the same
    number of frames of the scenario's mixed signal, generated before timing (so both sides
    do the same AAC work; ours also generates and mixes the tones, a small cost).  Muxing:
    FFmpeg's ``tee`` muxer into its ``hls`` muxer (``hls_time=15``, ``hls_list_size=0``)
    and an MP4 (``movflags=+faststart``, like ours): encode once, mux twice.  When ``tee`` is
    unavailable, HLS only (reported in the output and the JSON as ``competitor_mux``).
``ours_testsrc``
    ``ours`` with ``testsrc`` sources (moving test pattern drawn per frame and user);
    reported, no competitor.

``mix-640x360-bestfit-4-files-xstack`` (by hand, whole processes)
    ``python -m layoutkit mix SCENARIO -o DIR`` (the files case's scenario: HLS + MP4) against
    the ``ffmpeg`` program running what a user would write by hand over the same files
    (:func:`xstack_command`: ``scale`` bilinear to the tiles, one ``xstack``, ``amix``; the
    same x264 settings, threads, bit rate and key frames), writing only the MP4; timed
    alternately (ours first) over :data:`XSTACK_PAIRS` pairs after a 1 s run of each; the
    ratio is the median of the pairs' ratios, wall and CPU (children's rusage); target
    :data:`XSTACK_TARGET`.  Full runs only (``--case`` runs it alone).

Reported per subject: median wall seconds per recording, x real time (recorded seconds /
wall seconds), frames/s, process CPU seconds (every thread: drawing, encoder threads,
muxing); ratio = the median over the alternated pairs (ours and FFmpeg run side by side, the
order reversed every other pair) of FFmpeg seconds / ours seconds (> 1: ours is faster).

Memory (fresh subprocesses, peak RSS = ``VmHWM``): the 4-user 360p files case at two
durations, and (full runs, or ``--rss-1080p`` alone) a 1920x1080 best-fit mix whose users
all publish a 1080p30 H.264 file: 17 users for 10 s and 40 s and 24 users (17 drawn) for
10 s (``--quick --rss-1080p``: 2 s, 6 s, 24 users 2 s), against the 400 MiB bound.

Run ``python benchmarks/mix.py`` (``--quick`` for CI); results go to
``benchmarks/results/mix.json`` (``mix-quick.json``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    from ._common import Settings, held_to_one_core, metadata, parse_args, write_result
    from .compose import ffmpeg_graph, psnr, reference_luma
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    from _common import (  # type: ignore[no-redef]
        Settings, held_to_one_core, metadata, parse_args, write_result)
    from compose import ffmpeg_graph, psnr, reference_luma  # type: ignore[no-redef]

from layoutkit.compose.yuv import i420_to_rgb, solid_i420
from layoutkit.layout import compute_regions
from layoutkit.io.encode import X264_OPTIONS, audio_frame, x264_options
from layoutkit.record import SEGMENT_SECONDS, record
from layoutkit.signals.audio import AUDIO_PROFILES, AudioMixer, frame_sample_range
from layoutkit.sources import open_audio_sources
from layoutkit.request.limits import recommended_bitrate
from layoutkit.request.model import LayoutSettings
from layoutkit.scenario import Scenario, parse_scenario
from layoutkit.timeline import Timeline

FPS = 15
SOURCE_WH = (640, 360)
AUDIO_PROFILE = 0
BESTFIT = 1
WARMUP_SECONDS = 2


@dataclass(frozen=True)
class Case:
    """One recording to measure."""

    title: str
    canvas_wh: tuple[int, int]
    users: int
    seconds: int
    quick_seconds: int
    files: bool = False
    #: Alternated pairs in full runs (``--repeats`` when larger; ``--quick``: ``--repeats``).
    #: Whole jobs in which both sides run x264, decoders and the compositor on the same
    #: cores: the pairs' ratios of the solid-colour cases spread 1.06-1.41 within one run,
    #: and three runs of the 640x360 files case with 5 pairs gave 0.82-1.01.
    pairs: int = 5
    #: Time both sides with every thread held to one core (:func:`held_to_one_core`): for
    #: a competitor that runs on one core by design.  Unheld, the 360p solid case's
    #: competitor used 1.00 core and ours 1.56, so its wall ratio followed how much of the
    #: second vCPU the host lent that minute: 1.04-1.26x over three runs of record, 0.96x
    #: and 1.21x alone minutes apart; held (``taskset -c 0``), 0.85-0.87x in three runs.
    one_core: bool = False

    def timed_pairs(self, settings: Settings) -> int:
        """Return the pairs a run of ``settings`` times."""
        return settings.repeats if settings.quick else max(settings.repeats, self.pairs)

    def label(self, seconds: int) -> str:
        """E.g. ``640x360@15, 4 users, 40 s``."""
        return f"{self.title}, {seconds} s"


CASES = {
    "a-360p-4users": Case("640x360@15, 4 users", (640, 360), 4, 40, 10, pairs=15,
                          one_core=True),
    "b-1080p-17users": Case("1920x1080@15, 17 users best fit", (1920, 1080), 17, 20, 4,
                            pairs=9),
    "mix-640x360-bestfit-4-files": Case("640x360@15, 4 H.264 files", (640, 360), 4, 40, 4,
                                        files=True, pairs=15),
    "mix-1920x1080-bestfit-17-files": Case("1920x1080@15, 17 H.264 files best fit",
                                           (1920, 1080), 17, 20, 1, files=True),
}
#: Cases of ``--quick`` (the CI run): the real-source cases.
QUICK_CASES = ("mix-640x360-bestfit-4-files", "mix-1920x1080-bestfit-17-files")
#: Where the generated H.264 user files are kept between runs (git-ignored).
RESULTS_DIR = Path(__file__).resolve().parent / "results"
INPUTS = RESULTS_DIR / "inputs"


# --------------------------------------------------------------------------- inputs
def colours(n: int) -> list[str]:
    """``n`` distinct, saturated ``#RRGGBB`` colours."""
    import colorsys

    out = []
    for i in range(n):
        r, g, b = colorsys.hsv_to_rgb(i / n, 0.7, 0.85)
        out.append("#{:02X}{:02X}{:02X}".format(*(round(c * 255) for c in (r, g, b))))
    return out


def scenario_doc(case: Case, seconds: int, *, testsrc: bool) -> dict[str, Any]:
    """Return the scenario of ``case``: ``seconds`` long, solid colour or ``testsrc`` users."""
    w, h = case.canvas_wh
    uids = [str(1001 + i) for i in range(case.users)]
    sources = ["testsrc"] * case.users if testsrc else colours(case.users)
    return {
        "cname": "bench",
        "sid": "0123456789abcdef0123456789abcdef",
        "start": {
            "cname": "bench", "uid": "999",
            "clientRequest": {
                "recordingConfig": {
                    "channelType": 0, "streamTypes": 2, "audioProfile": AUDIO_PROFILE,
                    "maxIdleTime": 30,
                    "transcodingConfig": {
                        "width": w, "height": h, "fps": FPS,
                        "bitrate": recommended_bitrate(w, h, FPS),
                        "mixedVideoLayout": BESTFIT, "backgroundColor": "#000000",
                    },
                },
                "recordingFileConfig": {"avFileType": ["hls", "mp4"]},
            },
        },
        "duration": seconds,
        "users": [{"uid": uid, "source": src, "size": "{}x{}".format(*SOURCE_WH),
                   "audio": "tone"} for uid, src in zip(uids, sources, strict=True)],
    }


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def case_uids(case: Case) -> list[str]:
    """Return the users of ``case`` in join order."""
    return [str(1001 + i) for i in range(case.users)]


def user_files(case: Case, seconds: int) -> dict[str, Path]:
    """H.264 640x360@15 + AAC test-stream files of the case's users, ``seconds`` long.

    Written by :func:`layoutkit.idstream.write_idstream` into :data:`INPUTS` once and
    reused by later runs (not timed).
    """
    from layoutkit.idstream import write_idstream

    INPUTS.mkdir(parents=True, exist_ok=True)
    out = {}
    for uid in case_uids(case):
        path = INPUTS / f"testsrc-{uid}-{SOURCE_WH[0]}x{SOURCE_WH[1]}-{FPS}fps-{seconds}s.mp4"
        if not path.is_file():
            write_idstream(path, uid=uid, duration=seconds, size_wh=SOURCE_WH, fps=FPS)
        out[uid] = path
    return out


def files_scenario_doc(case: Case, seconds: float, files: dict[str, Path]) -> dict[str, Any]:
    """Return the scenario of ``case`` whose users' video and audio are ``files``."""
    doc = scenario_doc(case, 1, testsrc=True)
    doc["duration"] = seconds
    for user in doc["users"]:
        user["source"] = user["audio"] = str(files[user["uid"]])
    return doc


def ffmpeg_cli_command(case: Case, files: dict[str, Path], seconds: float, tmp: Path, *,
                       tee: bool) -> list[str]:
    """Return the FFmpeg command line doing the files case's job.

    The graph is :func:`layoutkit.ffmpeg_graph.ffmpeg_command`'s (decode every file, crop,
    ``scale`` bilinear, ``overlay`` in paint order on the canvas colour, ``amix``, libx264
    with the recorder's settings and bit rate, AAC); added here: forced IDR key frames every
    15 s, global headers (as ours' MP4 holder asks for), the recorder's x264 thread count,
    and the ``tee`` muxer writing HLS and MP4 from the one encode.
    """
    import imageio_ffmpeg

    from layoutkit.ffmpeg_graph import OutputOptions, ffmpeg_command

    w, h = case.canvas_wh
    options = OutputOptions(canvas_wh=case.canvas_wh, fps=FPS,
                            bitrate_kbps=recommended_bitrate(w, h, FPS), audio=True,
                            audio_profile=AUDIO_PROFILE, duration=seconds)
    cmd = ffmpeg_command(LayoutSettings(mixed_video_layout=BESTFIT), files, tmp / "ffmpeg.mp4",
                         options=options, sizes={uid: SOURCE_WH for uid in files},
                         ffmpeg=imageio_ffmpeg.get_ffmpeg_exe())
    assert cmd[-1] == f"file:{os.path.abspath(tmp / 'ffmpeg.mp4')}"  # the output, as a file
    extra = ["-y", "-forced-idr", "1",
             "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
             "-flags:v", "+global_header", "-flags:a", "+global_header"]
    threads = x264_options(case.canvas_wh).get("threads")
    if threads:
        extra += ["-threads:v", str(threads)]
    target = str(tmp / "ffmpeg.mp4")
    if tee:
        extra += ["-f", "tee"]
        target = tee_target(tmp)
    return [cmd[0], "-nostdin", "-hide_banner", "-loglevel", "error", *cmd[1:-1], *extra,
            target]


def ffmpeg_cli_subject(case: Case, files: dict[str, Path], seconds: float, *,
                       tee: bool) -> Callable[[Path], Any]:
    """``fn(tmpdir)`` running the FFmpeg program on the files case."""
    import subprocess

    def run(tmp: Path) -> Any:
        cmd = ffmpeg_cli_command(case, files, seconds, tmp, tee=tee)
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"ffmpeg failed ({done.returncode}): {done.stderr[-2000:]}")
        return done
    return run


def decoded_frame(path: Path, index: int) -> np.ndarray:
    """Frame ``index`` of ``path``'s video as I420."""
    import av

    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="yuv420p")
    raise ValueError(f"{path}: fewer than {index + 1} frames")


def reference_psnr(case: Case, files: dict[str, Path], outputs: dict[str, Path],
                   index: int) -> dict[str, float]:
    """Return the luma PSNR of output frame ``index`` of each side against a reference.

    The reference is the Lanczos resize of the same decoded source frames (our geometry;
    ``compose.reference_luma``).
    """
    from layoutkit.compose.contents import Picture
    from layoutkit.compose.plan import build_plan, prepare_background
    from layoutkit.compose.yuv import i420_planes

    uids = case_uids(case)
    regions = compute_regions(LayoutSettings(mixed_video_layout=BESTFIT), uids,
                              canvas_wh=case.canvas_wh)
    plan = build_plan(regions, [Picture(uid, SOURCE_WH) for uid in regions.uids],
                      background=prepare_background(case.canvas_wh))
    ref = reference_luma(plan, {uid: decoded_frame(files[uid], index) for uid in uids})
    return {side: psnr(i420_planes(decoded_frame(mp4, index))[0], ref)
            for side, mp4 in outputs.items()}


def rss_child(spec: str) -> int:
    """``--rss-child CASE:SECONDS:FILE_SECONDS``: record ours, print peak RSS as JSON."""
    import json

    name, secs, file_secs = spec.split(":")
    case = CASES[name]
    files = user_files(case, int(file_secs))
    scenario = parse_scenario(files_scenario_doc(case, int(secs), files))
    with tempfile.TemporaryDirectory(prefix="mix-rss-") as folder:
        t0 = time.perf_counter()
        record(scenario, Path(folder), quiet=True, overwrite=True)
        wall = time.perf_counter() - t0
    print(json.dumps({"case": name, "seconds": int(secs), "wall_s": round(wall, 2),
                      "peak_rss_mib": _own_peak_rss_mib()}))
    return 0


def _own_peak_rss_mib() -> float:
    """Return this process's own peak RSS, MiB: ``VmHWM`` of ``/proc/self/status`` (Linux).

    Not ``ru_maxrss``: after ``fork`` + ``exec`` Linux carries the parent's high-water mark
    at the fork into the child's ``ru_maxrss``, so a child of a large parent reports the
    parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return _peak_rss_mib()


def rss_by_duration(name: str, durations: tuple[int, int]) -> dict[str, Any]:
    """Peak RSS of ours recording ``name`` for each duration, each in a fresh subprocess.

    The user files are ``durations[0] + 1`` s long and loop in the longer recording.
    """
    import json
    import subprocess

    runs = []
    for seconds in durations:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--rss-child",
               f"{name}:{seconds}:{durations[0] + 1}"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    short, long = runs[0]["peak_rss_mib"], runs[1]["peak_rss_mib"]
    return {"runs": runs, "growth": round(long / short - 1, 3),
            "flat_within_10_percent": long <= 1.1 * short}


#: The memory row: a 1920x1080 best-fit mix whose users all publish a 1080p30 H.264 file.
RSS_1080P_SOURCE = (1920, 1080, 30)
#: (users, seconds) of the memory row's runs: two durations with 17 users (every user drawn),
#: then more users than best fit draws (17 drawn, the others open but not shown).
RSS_1080P_RUNS = ((17, 10), (17, 40), (24, 10))
RSS_1080P_QUICK_RUNS = ((17, 2), (17, 6), (24, 2))
#: The bound of issue 23 item 5.
RSS_1080P_LIMIT_MIB = 400


def source_1080p30(seconds: int) -> Path:
    """Return a 1080p30 H.264 + AAC file of ``seconds`` (libx264 ultrafast ``testsrc2``).

    Made once into :data:`INPUTS` with the ``ffmpeg`` program of imageio-ffmpeg (not timed).
    """
    import subprocess

    import imageio_ffmpeg

    w, h, rate = RSS_1080P_SOURCE
    path = INPUTS / f"testsrc2-{w}x{h}-{rate}fps-{seconds}s.mp4"
    if not path.is_file():
        INPUTS.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part.mp4")
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner",
                        "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate={rate}:"
                        f"duration={seconds}",
                        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:"
                        f"duration={seconds}",
                        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "48k", "-shortest", str(part)], check=True)
        part.replace(path)
    return path


def rss_1080p_doc(users: int, seconds: int, source: Path) -> dict[str, Any]:
    """Return the memory row's scenario: ``users`` users publishing ``source`` (A and V)."""
    case = Case("1920x1080@15, 1080p30 files", (1920, 1080), users, seconds, seconds)
    doc = scenario_doc(case, seconds, testsrc=True)
    for user in doc["users"]:
        user["source"] = user["audio"] = str(source)
        user["size"] = "{}x{}".format(*RSS_1080P_SOURCE[:2])
    return doc


def rss_1080p_child(spec: str) -> int:
    """``--rss-1080p-child USERS:SECONDS:FILE``: record, print wall time and peak RSS."""
    import json

    users, seconds, source = spec.split(":", 2)
    scenario = parse_scenario(rss_1080p_doc(int(users), int(seconds), Path(source)))
    with tempfile.TemporaryDirectory(prefix="mix-rss-") as folder:
        t0 = time.perf_counter()
        record(scenario, Path(folder), quiet=True, overwrite=True)
        wall = time.perf_counter() - t0
    print(json.dumps({"users": int(users), "seconds": int(seconds), "wall_s": round(wall, 2),
                      "peak_rss_mib": _own_peak_rss_mib()}))
    return 0


def rss_1080p(runs: tuple[tuple[int, int], ...]) -> dict[str, Any]:
    """Measure the peak RSS of ours for each ``(users, seconds)`` of the memory row.

    Each in a fresh subprocess; the source file is as long as the shortest run plus 1 s
    (it loops).
    """
    import json
    import subprocess

    source = source_1080p30(min(s for _, s in runs) + 1)
    done = []
    for users, seconds in runs:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--rss-1080p-child",
               f"{users}:{seconds}:{source}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        done.append(json.loads(out.stdout.strip().splitlines()[-1]))
    peaks = [r["peak_rss_mib"] for r in done]
    base = peaks[0]
    return {"case": "mix-1920x1080-bestfit-17-files-1080p30",
            "source": f"{source.name} (libx264 ultrafast testsrc2 + AAC), every user",
            "runs": done, "max_peak_rss_mib": max(peaks), "limit_mib": RSS_1080P_LIMIT_MIB,
            "under_limit": max(peaks) < RSS_1080P_LIMIT_MIB,
            "growth_by_duration": round(peaks[1] / base - 1, 3),
            "growth_by_users": round(peaks[2] / base - 1, 3) if len(peaks) > 2 else None}


def print_rss_1080p(row: dict[str, Any]) -> None:
    """One line per run of the memory row."""
    print(f"peak RSS of ours, {row['case']} (a subprocess each): " + ", ".join(
        f"{r['users']} users {r['seconds']} s -> {r['peak_rss_mib']} MiB" for r in row["runs"])
        + f" (limit {row['limit_mib']} MiB; growth {row['growth_by_duration'] * 100:+.1f} % "
        f"by duration, {(row['growth_by_users'] or 0) * 100:+.1f} % by users)", flush=True)


def rss_1080p_only(settings: Settings) -> int:
    """``--rss-1080p``: measure the memory row alone and write its result file."""
    row = rss_1080p(RSS_1080P_QUICK_RUNS if settings.quick else RSS_1080P_RUNS)
    print_rss_1080p(row)
    path = write_result("mix-rss-1080p-quick" if settings.quick else "mix-rss-1080p",
                        {"benchmark": "mix", "rss_1080p_files": row,
                         "metadata": metadata(settings=asdict(settings))})
    print(f"wrote {path}")
    return 0


def run_files_case(name: str, settings: Settings, *, tee: bool) -> dict[str, Any]:
    """Measure one files case: ours ``record`` against the FFmpeg command line."""
    case = CASES[name]
    seconds = case.quick_seconds if settings.quick else case.seconds
    frames = seconds * FPS
    files = user_files(case, seconds + 1)
    scenario = parse_scenario(files_scenario_doc(case, seconds, files))
    subjects = {"ours": ours_subject(scenario),
                "ffmpeg": ffmpeg_cli_subject(case, files, seconds, tee=tee)}
    startup = {"ours": ours_subject(parse_scenario(files_scenario_doc(case, 1, files))),
               "ffmpeg": ffmpeg_cli_subject(case, files, 1, tee=tee)}
    if settings.warmup and not settings.quick:  # --quick: the start-up runs warm up
        for fn in startup.values():
            with tempfile.TemporaryDirectory(prefix="mix-") as folder:
                fn(Path(folder))
    starts: dict[str, list[float]] = {k: [] for k in startup}
    for _ in range(1 if settings.quick else 3):  # start-up: a 1 s job, reported apart
        for subject, fn in startup.items():
            with tempfile.TemporaryDirectory(prefix="mix-") as folder:
                t0 = time.perf_counter()
                fn(Path(folder))
                starts[subject].append(time.perf_counter() - t0)
    def keep_mp4(subject: str, tmp: Path, described: dict[str, Any]) -> None:
        mp4 = sorted(p for p in tmp.rglob("*.mp4") if not p.name.startswith("."))
        if mp4:
            keep = Path(tempfile.mkdtemp(prefix="mix-frame-")) / f"{subject}.mp4"
            mp4[0].replace(keep)
            described["_mp4"] = keep

    pairs = case.timed_pairs(settings)
    runs, outputs = _timed_runs(subjects, pairs, last=keep_mp4)
    w, h = case.canvas_wh
    result: dict[str, Any] = {
        "label": case.label(seconds), "case": name, "canvas": [w, h], "fps": FPS,
        "layout": "bestfit", "users": case.users, "source": "H.264 640x360@15 files + AAC "
        "(layoutkit.idstream.write_idstream), decoded by each side",
        "seconds": seconds, "frames": frames, "pairs": pairs,
        "video_bitrate_kbps": recommended_bitrate(w, h, FPS),
        "competitor": "ffmpeg program (imageio-ffmpeg): layoutkit.ffmpeg_graph.ffmpeg_command "
                      + ("+ tee (HLS + MP4)" if tee else "(MP4 only: tee unavailable)"),
        "competitor_command": ffmpeg_cli_command(case, files, seconds, Path("TMP"), tee=tee),
    }
    for subject, subject_runs in runs.items():
        result[subject] = summarize(subject_runs, seconds=seconds, frames=frames)
        result[subject]["startup_1s_recording_s_median"] = round(_median(starts[subject]), 3)
        mp4 = outputs[subject].pop("_mp4", None)
        result[subject]["outputs"] = outputs[subject]
        if mp4 is not None:
            outputs[subject]["_path"] = mp4
    _set_ratios(result, runs)
    paths = {k: v.pop("_path") for k, v in outputs.items() if "_path" in v}
    if len(paths) == 2:
        try:
            result["psnr_y_db_frame_10"] = reference_psnr(case, files, paths, 10)
        finally:
            for p in paths.values():
                p.unlink(missing_ok=True)
                p.parent.rmdir()
    return result


# --------------------------------------------------------------------------- by hand
#: The whole-process row (issue 23 item 4): ``layoutkit mix`` against the ``ffmpeg`` program
#: running an ``xstack`` graph a user would write by hand, MP4 only.  Name -> the files case
#: it records.
XSTACK_CASES = {"mix-640x360-bestfit-4-files-xstack": "mix-640x360-bestfit-4-files"}
#: Its target: ffmpeg's wall seconds over ours, median of the alternated pairs.
XSTACK_TARGET = 1.2
#: Alternated pairs of the row (``--quick`` leaves the row out; ``--quick --case`` it: 1).
#: Three runs of record with 5 pairs gave 0.73-0.93x (one run's pairs drew 0.93); two runs
#: of 15 pairs just after gave 0.726 and 0.716 (pairs 0.64-0.97).
XSTACK_PAIRS = 15


def xstack_filter(case: Case) -> str:
    """Return the ``-filter_complex`` a user would write for the case: scale, ``xstack``, ``amix``.

    Each input's video is cropped (when the tile crops it) and scaled bilinear to its tile of
    :func:`layoutkit.layout.compute_regions`, the tiles are placed by one ``xstack``
    (``fill=black``), padded to the canvas when they do not cover it, and the inputs' audio
    is summed by ``amix`` without normalisation (as the recorder mixes).
    """
    from layoutkit.compose.fit import place

    uids = case_uids(case)
    regions = compute_regions(LayoutSettings(mixed_video_layout=BESTFIT), uids,
                              canvas_wh=case.canvas_wh)
    chains, layout = [], []
    for i, uid in enumerate(regions.uids):
        if uid is None:
            continue
        rect = tuple(int(v) for v in regions.rects[i])
        placement = place(SOURCE_WH, rect, int(regions.render_modes[i]))  # type: ignore[arg-type]
        sx, sy, sw, sh = placement.src
        dx, dy, dw, dh = placement.dst
        crop = f"crop={sw}:{sh}:{sx}:{sy}," if (sx, sy, sw, sh) != (0, 0, *SOURCE_WH) else ""
        pad = f",pad={rect[2]}:{rect[3]}:{dx - rect[0]}:{dy - rect[1]}:black" \
            if (dw, dh) != (rect[2], rect[3]) else ""
        chains.append(f"[{uids.index(uid)}:v]{crop}scale={dw}:{dh}:flags=bilinear{pad}[v{i}]")
        layout.append((i, rect))
    w, h = case.canvas_wh
    right = max(r[0] + r[2] for _, r in layout)
    bottom = max(r[1] + r[3] for _, r in layout)
    stack = "".join(f"[v{i}]" for i, _ in layout) + \
        f"xstack=inputs={len(layout)}:layout=" + "|".join(f"{r[0]}_{r[1]}" for _, r in layout) \
        + ":fill=black" + (f",pad={w}:{h}:0:0:black" if (right, bottom) != (w, h) else "") \
        + "[v]"
    audio = "".join(f"[{k}:a]" for k in range(len(uids))) + \
        f"amix=inputs={len(uids)}:normalize=0:duration=shortest[a]"
    return ";".join([*chains, stack, audio])


def xstack_command(case: Case, files: dict[str, Path], seconds: float, out: Path) -> list[str]:
    """Return the ``ffmpeg`` command of the by-hand row: :func:`xstack_filter` into one MP4.

    The same x264 settings, threads, bit rate, frame rate and forced IDR key frames every
    15 s as the recorder (and :func:`ffmpeg_cli_command`), AAC of ``audioProfile`` 0, MP4
    with ``+faststart``.
    """
    import imageio_ffmpeg

    from layoutkit.ffmpeg_graph import ffmpeg_input, ffmpeg_output

    w, h = case.canvas_wh
    channels, audio_bit_rate = AUDIO_PROFILES[AUDIO_PROFILE]
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
           "-y"]
    for uid in case_uids(case):
        cmd += ["-t", f"{seconds:g}", "-i", ffmpeg_input(files[uid])]
    cmd += ["-filter_complex", xstack_filter(case), "-map", "[v]", "-map", "[a]",
            "-c:v", "libx264", "-b:v", f"{recommended_bitrate(w, h, FPS)}k",
            "-preset", X264_OPTIONS["preset"],
            # the ffmpeg program's libx264 refuses x264's "range=tv": its own option says it
            "-x264-params", X264_OPTIONS["x264-params"].replace(":range=tv", ""),
            "-color_range", "tv", "-r", str(FPS), "-forced-idr", "1",
            "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"]
    threads = x264_options(case.canvas_wh).get("threads")
    if threads:
        cmd += ["-threads:v", str(threads)]
    cmd += ["-c:a", "aac", "-b:a", str(audio_bit_rate), "-ac", str(channels), "-ar", "48000",
            "-t", f"{seconds:g}", "-movflags", "+faststart", ffmpeg_output(out)]
    return cmd


def mix_cli_command(scenario_json: Path, out: Path) -> list[str]:
    """Return the command of ``layoutkit mix`` recording ``scenario_json`` into ``out``."""
    return [sys.executable, "-m", "layoutkit", "mix", str(scenario_json), "-o", str(out),
            "--quiet", "--force"]


def _process_env() -> dict[str, str]:
    """Return the environment of ``layoutkit mix``: this checkout's package first."""
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, LAYOUTKIT_NO_PROGRESS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (user + system)."""
    rc = resource.getrusage(resource.RUSAGE_CHILDREN)
    return rc.ru_utime + rc.ru_stime


def _timed_process(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to its end; return its wall and CPU seconds (it must succeed)."""
    import subprocess

    c0, t0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if done.returncode:
        raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return Run(wall, cpu)


def _set_ratios(result: dict[str, Any], runs: dict[str, list[Run]]) -> None:
    """Set the case's ratios: the medians of the alternated pairs' ratios (the figure of record).

    The ratio of the two sides' medians is kept as ``ratio_of_medians`` (it follows whichever
    side drew the host's fast minutes; see ``benchmarks/README.md``).
    """
    ours, theirs = result["ours"], result["ffmpeg"]
    result["ratio_of_medians"] = round(theirs["wall_s_median"] / ours["wall_s_median"], 3)
    result["by_pair"] = _pair_ratios(runs["ours"], runs["ffmpeg"])
    result["ratio_ffmpeg_over_ours"] = result["by_pair"]["ratio_ffmpeg_over_ours"]
    result["cpu_ratio_ffmpeg_over_ours"] = result["by_pair"]["cpu_ratio_ffmpeg_over_ours"]


def _pair_ratios(ours: list[Run], theirs: list[Run]) -> dict[str, Any]:
    """Return the per-pair ratios (theirs / ours) of wall and CPU seconds, and their medians."""
    wall = [t.wall / o.wall for o, t in zip(ours, theirs, strict=True)]
    cpu = [t.cpu / o.cpu for o, t in zip(ours, theirs, strict=True)]
    return {"ratio_ffmpeg_over_ours": round(statistics.median(wall), 3),
            "cpu_ratio_ffmpeg_over_ours": round(statistics.median(cpu), 3),
            "ratios_by_pair": [round(v, 3) for v in wall],
            "cpu_ratios_by_pair": [round(v, 3) for v in cpu],
            "ratio_min": round(min(wall), 3), "ratio_max": round(max(wall), 3)}


def run_xstack_case(name: str, settings: Settings) -> dict[str, Any]:
    """Measure the by-hand row: whole processes, alternated, ``layoutkit mix`` first in each pair.

    Ours records the files case's scenario (HLS + MP4, as the cloud's ``avFileType``
    ``["hls", "mp4"]``); FFmpeg writes only the MP4.  A 1 s run of each warms the disk
    cache and the interpreter's bytecode first (not timed).
    """
    import json

    case = CASES[XSTACK_CASES[name]]
    seconds = case.quick_seconds if settings.quick else case.seconds
    pairs = 1 if settings.quick else XSTACK_PAIRS
    files = user_files(case, seconds + 1)
    env = _process_env()
    runs: dict[str, list[Run]] = {"ours": [], "ffmpeg": []}
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="mix-xstack-") as folder:
        tmp = Path(folder)
        for secs, file in ((1, "warm.json"), (seconds, "scenario.json")):
            (tmp / file).write_text(json.dumps(files_scenario_doc(case, secs, files)))
        commands = {"ours": mix_cli_command(tmp / "scenario.json", tmp / "ours"),
                    "ffmpeg": xstack_command(case, files, seconds, tmp / "ffmpeg.mp4")}
        _timed_process(mix_cli_command(tmp / "warm.json", tmp / "warm"), env)
        _timed_process(xstack_command(case, files, 1, tmp / "warm.mp4"))
        for _ in range(pairs):
            loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"))
            runs["ours"].append(_timed_process(commands["ours"], env))
            runs["ffmpeg"].append(_timed_process(commands["ffmpeg"]))
        ours_mp4 = sorted(p for p in (tmp / "ours").rglob("*.mp4") if not p.name.startswith("."))
        psnr_y = reference_psnr(case, files, {"ours": ours_mp4[0],
                                              "ffmpeg": tmp / "ffmpeg.mp4"}, 10)
        outputs = {"ours": describe_outputs(tmp / "ours"),
                   "ffmpeg": describe_outputs_file(tmp / "ffmpeg.mp4")}
    w, h = case.canvas_wh
    result: dict[str, Any] = {
        "label": f"{case.title}, whole processes by hand (xstack), {seconds} s",
        "case": name, "kind": "xstack", "canvas": [w, h], "fps": FPS, "layout": "bestfit",
        "users": case.users, "seconds": seconds, "frames": seconds * FPS, "pairs": pairs,
        "video_bitrate_kbps": recommended_bitrate(w, h, FPS),
        "ours_command": "python -m layoutkit mix SCENARIO -o DIR --quiet --force "
                        "(HLS + MP4)",
        "competitor": "ffmpeg program (imageio-ffmpeg): a hand-written scale + xstack + amix "
                      "graph of the same files, MP4 only",
        "competitor_command": xstack_command(case, files, seconds, Path("OUT.mp4")),
        "target_ratio": XSTACK_TARGET, "load_average_1min_by_pair": [round(v, 2) for v in loads],
        "psnr_y_db_frame_10": psnr_y,
    }
    for subject, subject_runs in runs.items():
        result[subject] = summarize(subject_runs, seconds=seconds, frames=seconds * FPS)
        result[subject]["outputs"] = outputs[subject]
    result.update(_pair_ratios(runs["ours"], runs["ffmpeg"]))
    result["meets_target"] = result["ratio_ffmpeg_over_ours"] >= XSTACK_TARGET
    return result


def describe_outputs_file(mp4: Path) -> dict[str, Any]:
    """Describe one MP4 the way :func:`describe_outputs` describes a folder."""
    with tempfile.TemporaryDirectory(prefix="mix-describe-") as folder:
        link = Path(folder) / mp4.name
        link.symlink_to(mp4)
        out = describe_outputs(Path(folder))
    out["mp4_bytes"] = mp4.stat().st_size
    return out


# --------------------------------------------------------------------------- subjects
@dataclass
class Run:
    """One timed recording."""

    wall: float
    cpu: float


def _cpu() -> float:
    """CPU seconds of the whole process (every thread) and of its finished children."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rc = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime + rc.ru_utime + rc.ru_stime


def ours_subject(scenario: Scenario) -> Callable[[Path], Any]:
    """``fn(tmpdir)`` records ``scenario`` into ``tmpdir``."""
    def run(tmp: Path) -> Any:
        return record(scenario, tmp, quiet=True, overwrite=True)
    return run


def tee_target(tmp: Path) -> str:
    """Return the ``tee`` muxer's file name: FFmpeg's HLS muxer and an MP4 in ``tmp``."""
    if any(c in str(tmp) for c in ":|[]\\'"):
        msg = f"{tmp}: a temporary path with tee's special characters"
        raise RuntimeError(msg)
    hls = f"[f=hls:hls_time={SEGMENT_SECONDS}:hls_list_size=0:" \
          f"hls_segment_filename={tmp}/seg%05d.ts]{tmp}/ffmpeg.m3u8"
    return f"{hls}|[f=mp4:movflags=+faststart]{tmp}/ffmpeg.mp4"


def open_output(tmp: Path, *, tee: bool):
    """Open the competitor's output container (tee: HLS + MP4; else HLS only)."""
    import av

    if tee:
        return av.open(tee_target(tmp), "w", format="tee")
    return av.open(str(tmp / "ffmpeg.m3u8"), "w", format="hls",
                   options={"hls_time": str(SEGMENT_SECONDS), "hls_list_size": "0",
                            "hls_segment_filename": str(tmp / "seg%05d.ts")})


def ffmpeg_subject(scenario: Scenario, case: Case, *, tee: bool) -> Callable[[Path], Any]:
    """``fn(tmpdir)`` doing the recording with FFmpeg's filters, encoders and muxers.

    Inputs prepared here, before timing: one yuv420p frame per user (the user's solid
    colour, the very I420 buffer ours draws from) and the AAC input, the scenario's mixed
    signal cut into the same frames ours encodes.
    """
    import av
    import av.codec.context

    tc = scenario.start.transcoding
    uids = [u.uid for u in scenario.users]
    regions = compute_regions(LayoutSettings(mixed_video_layout=BESTFIT), uids,
                              canvas_wh=case.canvas_wh)
    pictures = {u.uid: av.VideoFrame.from_ndarray(solid_i420(u.size_wh, _rgb(u.source)),
                                                  format="yuv420p")
                for u in scenario.users}
    inputs = [pictures[uid] for uid in regions.uids]
    total = int(scenario.duration * FPS)
    channels, audio_bit_rate = AUDIO_PROFILES[scenario.start.recording_config.audio_profile]
    with AudioMixer(scenario, Timeline(scenario), sources=open_audio_sources(scenario)) as mixer:
        audio = []
        for index in range(total):
            lo, hi = frame_sample_range(index, FPS)
            audio.append(np.asarray(mixer.mix(lo, hi - lo), dtype=np.float32).copy())
    key_every = SEGMENT_SECONDS * FPS
    buffer_tb = Fraction(1, 30)  # compose.ffmpeg_graph's buffer time base (labels pts only)
    global_header = int(av.codec.context.Flags.global_header)

    def run(tmp: Path) -> Any:
        graph, sources, sink = ffmpeg_graph(regions, flags="bilinear")
        out = open_output(tmp, tee=tee)
        video = out.add_stream("libx264", rate=Fraction(FPS))
        video.width, video.height = case.canvas_wh
        video.pix_fmt = "yuv420p"
        video.bit_rate = tc.bitrate * 1000
        video.codec_context.time_base = Fraction(1, FPS)
        # ours' encoders live in an MP4 holder, which asks for global headers: same here
        video.codec_context.flags |= global_header
        video.options = x264_options(case.canvas_wh)  # the same settings and threads
        aac = out.add_stream("aac", rate=48000)
        aac.layout = "stereo" if channels == 2 else "mono"
        aac.bit_rate = audio_bit_rate
        aac.codec_context.flags |= global_header
        out.start_encoding()
        frames = 0
        for i in range(total):
            for src, frame in zip(sources, inputs, strict=True):
                frame.pts, frame.time_base = i, buffer_tb
                src.push(frame)
            composed = sink.pull()
            composed.pts, composed.time_base = i, Fraction(1, FPS)
            composed.pict_type = (av.video.frame.PictureType.I if i % key_every == 0
                                  else av.video.frame.PictureType.NONE)
            for packet in video.encode(composed):
                out.mux(packet)
            frames += 1
            lo, _ = frame_sample_range(i, FPS)
            for packet in aac.encode(audio_frame(audio[i], start_sample=lo,
                                                 channels=channels)):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        for packet in aac.encode(None):
            out.mux(packet)
        out.close()
        del graph
        return frames
    return run


def tee_works() -> tuple[bool, str | None]:
    """Whether ``av.open(..., format="tee")`` muxes HLS and MP4 (a 2-frame probe)."""
    import av

    try:
        with tempfile.TemporaryDirectory(prefix="mix-tee-") as name:
            tmp = Path(name)
            out = av.open(tee_target(tmp), "w", format="tee")
            stream = out.add_stream("libx264", rate=FPS)
            stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
            out.start_encoding()
            for i in range(2):
                frame = av.VideoFrame.from_ndarray(np.zeros((96, 64), np.uint8),
                                                   format="yuv420p")
                frame.pts = i
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
            out.close()
            missing = [f for f in ("ffmpeg.m3u8", "ffmpeg.mp4") if not (tmp / f).is_file()]
            if missing or not list(tmp.glob("seg*.ts")):
                return False, f"tee wrote no {missing or 'segments'}"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, None


# --------------------------------------------------------------------------- outputs
def describe_outputs(tmp: Path) -> dict[str, Any]:
    """Segments, sizes and the MP4's frame counts in ``tmp`` (any depth)."""
    import av

    ts = sorted(tmp.rglob("*.ts"))
    mp4 = sorted(p for p in tmp.rglob("*.mp4") if not p.name.startswith("."))
    result: dict[str, Any] = {"segments": len(ts), "ts_bytes": sum(p.stat().st_size for p in ts),
                              "playlists": len(list(tmp.rglob("*.m3u8"))),
                              "mp4_files": len(mp4),
                              "mp4_bytes": sum(p.stat().st_size for p in mp4)}
    if mp4:
        with av.open(str(mp4[0])) as container:
            result["mp4_video_frames"] = container.streams.video[0].frames
            result["mp4_audio_frames"] = container.streams.audio[0].frames
            result["mp4_duration_s"] = round(container.duration / 1e6, 3) \
                if container.duration else None
    return result


def _timed_runs(subjects: dict[str, Callable[[Path], Any]], repeats: int, *,
                last: Callable[[str, Path, dict[str, Any]], None],
                ) -> tuple[dict[str, list[Run]], dict[str, dict[str, Any]]]:
    """Time ``repeats`` interleaved runs of each subject (order reversed every other round).

    Returns the wall and CPU time of every run and each subject's described outputs.  After
    the last run of a subject its outputs are described and ``last(subject, folder,
    description)`` may keep what it needs from the folder before it is removed.
    """
    runs: dict[str, list[Run]] = {k: [] for k in subjects}
    outputs: dict[str, dict[str, Any]] = {}
    names = list(subjects)
    for r in range(repeats):
        # A B, B A, ...: neither side always runs right after the other
        for subject in names if r % 2 == 0 else names[::-1]:
            fn = subjects[subject]
            with tempfile.TemporaryDirectory(prefix="mix-") as folder:
                tmp = Path(folder)
                c0, t0 = _cpu(), time.perf_counter()
                fn(tmp)
                wall, cpu = time.perf_counter() - t0, _cpu() - c0
                runs[subject].append(Run(wall, cpu))
                if r == repeats - 1:
                    outputs[subject] = describe_outputs(tmp)
                    last(subject, tmp, outputs[subject])
    return runs, outputs


def first_frame_rgb(tmp: Path) -> np.ndarray | None:
    """Return the first video frame of the MP4 (else the first segment) in ``tmp``, as RGB."""
    import av

    files = sorted(p for p in tmp.rglob("*.mp4") if not p.name.startswith(".")) or \
        sorted(tmp.rglob("*.ts"))
    if not files:
        return None
    with av.open(str(files[0])) as container:
        for frame in container.decode(video=0):
            return i420_to_rgb(frame.to_ndarray(format="yuv420p"))
    return None


# --------------------------------------------------------------------------- breakdown
def breakdown(scenario: Scenario, case: Case, frames: int) -> dict[str, float]:
    """Milliseconds per frame of the per-frame steps outside the encoders, one thread.

    Ours: ``SceneRenderer.rendered_frame`` (timeline + compositor), the copy of the canvas into an
    ``av.VideoFrame``, the audio mix of every user's tone into an ``av.AudioFrame``.
    FFmpeg: pushing the sources through the graph and pulling the composed frame.  Measured
    after the timed runs, so it tells where the time goes without disturbing them.
    """
    import av

    from layoutkit.signals.audio import to_channels
    from layoutkit.render import SceneRenderer

    channels = AUDIO_PROFILES[scenario.start.recording_config.audio_profile][0]
    out: dict[str, float] = {}
    with SceneRenderer(scenario) as renderer:
        mixer = AudioMixer(scenario, renderer.timeline, sources=open_audio_sources(scenario))
        t0 = time.perf_counter()
        for i in range(frames):
            canvas = renderer.rendered_frame(Fraction(i, FPS), index=i).canvas
        t1 = time.perf_counter()
        for _ in range(frames):
            av.VideoFrame.from_ndarray(canvas, format="yuv420p")
        t2 = time.perf_counter()
        for i in range(frames):
            lo, hi = frame_sample_range(i, FPS)
            audio_frame(to_channels(mixer.mix(lo, hi - lo), channels), start_sample=lo,
                        channels=channels)
        t3 = time.perf_counter()
        mixer.close()
    out["ours_draw_ms"] = (t1 - t0) / frames * 1e3
    out["ours_video_frame_copy_ms"] = (t2 - t1) / frames * 1e3
    out["ours_audio_mix_ms"] = (t3 - t2) / frames * 1e3
    uids = [u.uid for u in scenario.users]
    regions = compute_regions(LayoutSettings(mixed_video_layout=BESTFIT), uids,
                              canvas_wh=case.canvas_wh)
    graph, sources, sink = ffmpeg_graph(regions, flags="bilinear")
    pictures = {u.uid: av.VideoFrame.from_ndarray(solid_i420(u.size_wh, _rgb(u.source)),
                                                  format="yuv420p") for u in scenario.users}
    inputs = [pictures[uid] for uid in regions.uids]
    t0 = time.perf_counter()
    for i in range(frames):
        for src, frame in zip(sources, inputs, strict=True):
            frame.pts, frame.time_base = i, Fraction(1, 30)
            src.push(frame)
        sink.pull()
    out["ffmpeg_graph_ms"] = (time.perf_counter() - t0) / frames * 1e3
    del graph
    return {k: round(v, 3) for k, v in out.items()}


def x264_threading() -> dict[str, object]:
    """Return PyAV's default threading of a libx264 stream.

    Both subjects then apply :func:`layoutkit.io.encode.x264_options`, which pins small
    canvases to one thread.
    """
    import io

    import av

    holder = av.open(io.BytesIO(), "w", format="mp4")
    stream = holder.add_stream("libx264", rate=FPS)
    result = {"thread_count": stream.codec_context.thread_count,
              "thread_type": str(stream.codec_context.thread_type)}
    holder.close()
    return result


# --------------------------------------------------------------------------- timing
def _median(values: list[float]) -> float:
    return statistics.median(values)


def _iqr(values: list[float]) -> list[float]:
    if len(values) < 2:
        return [round(values[0], 3)] * 2
    q = statistics.quantiles(values, n=4, method="inclusive")
    return [round(q[0], 3), round(q[2], 3)]


def summarize(runs: list[Run], *, seconds: int, frames: int) -> dict[str, Any]:
    """JSON-ready numbers of one subject."""
    walls = [r.wall for r in runs]
    cpus = [r.cpu for r in runs]
    wall = _median(walls)
    return {
        "wall_s_median": round(wall, 3),
        "wall_s_iqr": _iqr(walls),
        "wall_s_best": round(min(walls), 3),
        "x_realtime": round(seconds / wall, 2),
        "fps": round(frames / wall, 1),
        "cpu_s_median": round(_median(cpus), 3),
        "cpu_per_wall": round(_median(cpus) / wall, 2),
        "runs_wall_s": [round(v, 3) for v in walls],
        "runs_cpu_s": [round(v, 3) for v in cpus],
    }


def run_case(name: str, settings: Settings, *, with_ffmpeg: bool, with_testsrc: bool,
             tee: bool) -> dict[str, Any]:
    """Measure one case; returns its JSON section."""
    case = CASES[name]
    seconds = case.quick_seconds if settings.quick else case.seconds
    frames = seconds * FPS

    def subjects_for(secs: int) -> dict[str, Callable[[Path], Any]]:
        solid = parse_scenario(scenario_doc(case, secs, testsrc=False))
        out = {"ours": ours_subject(solid)}
        if with_ffmpeg:
            out["ffmpeg"] = ffmpeg_subject(solid, case, tee=tee)
        if with_testsrc:
            out["ours_testsrc"] = ours_subject(
                parse_scenario(scenario_doc(case, secs, testsrc=True)))
        return out

    first_frames: dict[str, np.ndarray | None] = {}

    def keep_first_frame(subject: str, tmp: Path, described: dict[str, Any]) -> None:
        first_frames[subject] = first_frame_rgb(tmp)

    pairs = case.timed_pairs(settings)
    with held_to_one_core() if case.one_core else nullcontext() as core:
        if settings.warmup:  # load libraries, warm caches and allocators: a short run of each
            for fn in subjects_for(WARMUP_SECONDS).values():
                with tempfile.TemporaryDirectory(prefix="mix-") as folder:
                    fn(Path(folder))
        runs, outputs = _timed_runs(subjects_for(seconds), pairs, last=keep_first_frame)
    w, h = case.canvas_wh
    result: dict[str, Any] = {
        "label": case.label(seconds),
        "canvas": [w, h],
        "fps": FPS,
        "layout": "bestfit",
        "users": case.users,
        "source_size": list(SOURCE_WH),
        "seconds": seconds,
        "frames": frames,
        "pairs": pairs,
        "one_core": core,
        "video_bitrate_kbps": recommended_bitrate(w, h, FPS),
        "audio": {"profile": AUDIO_PROFILE, "channels": AUDIO_PROFILES[AUDIO_PROFILE][0],
                  "bit_rate": AUDIO_PROFILES[AUDIO_PROFILE][1]},
        "tiles": compute_regions(LayoutSettings(mixed_video_layout=BESTFIT),
                                 [str(1001 + i) for i in range(case.users)],
                                 canvas_wh=case.canvas_wh).rects.tolist(),
    }
    for subject, subject_runs in runs.items():
        result[subject] = summarize(subject_runs, seconds=seconds, frames=frames)
        result[subject]["outputs"] = outputs[subject]
    if with_ffmpeg:
        _set_ratios(result, runs)
        a, b = first_frames.get("ours"), first_frames.get("ffmpeg")
        if a is not None and b is not None and a.shape == b.shape:
            diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
            result["first_frame_mean_abs_rgb_diff_vs_ffmpeg"] = round(float(diff.mean()), 2)
    solid = parse_scenario(scenario_doc(case, seconds, testsrc=False))
    result["ms_per_frame_outside_encoders"] = breakdown(solid, case, min(frames, 150))
    result["peak_rss_mib_after"] = _peak_rss_mib()
    return result


def _peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--case", choices=sorted([*CASES, *XSTACK_CASES]), action="append",
                        help="run only this case (repeatable)")
    parser.add_argument("--no-ffmpeg", action="store_true", help="skip the FFmpeg competitor")
    parser.add_argument("--no-testsrc", action="store_true", help="skip ours with testsrc")
    parser.add_argument("--no-tee", action="store_true",
                        help="competitor muxes HLS only (do not try FFmpeg's tee muxer)")
    parser.add_argument("--no-rss", action="store_true",
                        help="skip the peak-RSS-by-duration subprocesses")
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--rss-1080p-child", help=argparse.SUPPRESS)
    parser.add_argument("--rss-1080p", action="store_true",
                        help="measure only the peak RSS of the 17-user 1080p mix of 1080p30 "
                             "files (two durations, and 24 users) and write "
                             "results/mix-rss-1080p(-quick).json")
    parser.add_argument("--rss-update", action="store_true",
                        help="measure only the peak RSS by duration and update it in the "
                             "latest result file")


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print a table, write ``benchmarks/results/mix.json``."""
    known, settings = parse_args(__doc__.splitlines()[0], argv, frames=0, repeats=5, warmup=1,
                                 add_arguments=_arguments)
    if known.rss_child:
        return rss_child(known.rss_child)
    if known.rss_1080p_child:
        return rss_1080p_child(known.rss_1080p_child)
    if known.rss_1080p:
        return rss_1080p_only(settings)
    if known.rss_update:
        import json

        path = RESULTS_DIR / ("mix-quick.json" if settings.quick else "mix.json")
        data = json.loads(path.read_text())
        durations = (2, 8) if settings.quick else (60, 600)
        data["rss_by_duration"] = {"case": "mix-640x360-bestfit-4-files",
                                   "durations_s": list(durations),
                                   **rss_by_duration("mix-640x360-bestfit-4-files", durations)}
        path.write_text(json.dumps(data, indent=2) + "\n")
        print(json.dumps(data["rss_by_duration"]))
        print(f"wrote {path}")
        return 0
    if known.frames:
        print("note: --frames is not used by mix (each case records a fixed duration)")
    settings = Settings(frames=0, repeats=settings.repeats, warmup=int(bool(settings.warmup)),
                        quick=settings.quick)
    with_ffmpeg = not known.no_ffmpeg
    tee, tee_error = (False, "disabled by --no-tee") if known.no_tee else tee_works()
    mux = "hls+mp4 (tee: encode once, mux twice)" if tee else "hls only (no mp4)"
    if with_ffmpeg:
        print(f"competitor mux: {mux}" + (f" -- tee unavailable: {tee_error}" if not tee else ""),
              flush=True)
    # --quick: the two files rows (the whole-process xstack row runs in full runs only)
    cases = known.case or (list(QUICK_CASES) if settings.quick else [*CASES, *XSTACK_CASES])
    header = (f"{'case':40s} {'ours s':>7s} {'xRT':>6s} | {'ffmpeg s':>8s} {'xRT':>6s} | "
              f"{'ratio':>6s} | {'testsrc xRT':>11s}")
    print(header)
    print("-" * len(header), flush=True)
    results = {}
    for name in cases:
        if name in XSTACK_CASES:
            r = run_xstack_case(name, settings)
        elif CASES[name].files:
            r = run_files_case(name, settings, tee=tee)
        else:
            r = run_case(name, settings, with_ffmpeg=with_ffmpeg,
                         with_testsrc=not known.no_testsrc, tee=tee)
        results[name] = r
        ff = (f"{r['ffmpeg']['wall_s_median']:8.2f} {r['ffmpeg']['x_realtime']:5.1f}x | "
              f"{r['ratio_ffmpeg_over_ours']:5.2f}x") if with_ffmpeg else \
            f"{'-':>8s} {'-':>6s} | {'-':>6s}"
        ts = f"{r['ours_testsrc']['x_realtime']:10.1f}x" if "ours_testsrc" in r else \
            f"{'-':>11s}"
        print(f"{r['label']:40s} {r['ours']['wall_s_median']:7.2f} "
              f"{r['ours']['x_realtime']:5.1f}x | {ff} | {ts}", flush=True)
    rss = None
    if not known.no_rss:
        durations = (2, 8) if settings.quick else (60, 600)
        rss = {"case": "mix-640x360-bestfit-4-files", "durations_s": list(durations),
               **rss_by_duration("mix-640x360-bestfit-4-files", durations)}
        print(f"peak RSS of ours by duration ({rss['case']}, a subprocess each): " + ", ".join(
            f"{r['seconds']} s -> {r['peak_rss_mib']} MiB" for r in rss["runs"])
            + f" (growth {rss['growth'] * 100:+.1f} %)", flush=True)
    rss_big = None
    if not known.no_rss and not settings.quick:  # --quick: ``--quick --rss-1080p`` alone
        rss_big = rss_1080p(RSS_1080P_RUNS)
        print_rss_1080p(rss_big)
    payload = {
        "benchmark": "mix",
        "rss_by_duration": rss,
        "rss_1080p_files": rss_big,
        "metadata": metadata(settings=asdict(settings), ffmpeg_graph_threads=1,
                             x264_threads=x264_threading(), x264_options=X264_OPTIONS,
                             competitor_mux=mux if with_ffmpeg else None,
                             tee_error=tee_error if with_ffmpeg and not tee else None,
                             peak_rss_mib=_peak_rss_mib()),
        "notes": [
            "ours and ffmpeg compose the same solid-colour 640x360 sources (no test-pattern "
            "drawing); ours_testsrc draws testsrc sources and has no competitor",
            "AAC work is equal: ffmpeg encodes the same number of AAC frames of the "
            "scenario's mixed signal, generated before timing (ours generates and mixes "
            "tones while recording)",
            "ratio_ffmpeg_over_ours = median ffmpeg wall seconds / median ours wall seconds",
        ],
        "cases": results,
    }
    path = write_result("mix-quick" if settings.quick else "mix", payload)
    print(f"peak RSS {payload['metadata']['peak_rss_mib']} MiB")  # type: ignore[index]
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
