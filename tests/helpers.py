"""Test helpers: pixel asserts that save the failing images to tests/_failures/."""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

FAILURES = Path(__file__).parent / "_failures"


def save_failure(name: str, image: np.ndarray) -> Path:
    """Save ``image`` under tests/_failures/ so a failing pixel test can be looked at."""
    from PIL import Image

    FAILURES.mkdir(exist_ok=True)
    path = FAILURES / f"{name}.png"
    Image.fromarray(np.ascontiguousarray(image)).save(path)
    return path


def assert_color(image: np.ndarray, xy: tuple[int, int], rgb: tuple[int, int, int], *,
                 tol: int = 0, name: str = "frame") -> None:
    """Assert the pixel at ``(x, y)`` is ``rgb`` within ``tol`` per channel."""
    x, y = xy
    got = tuple(int(v) for v in image[y, x, :3])
    if max(abs(a - b) for a, b in zip(got, rgb, strict=True)) > tol:
        path = save_failure(name, image)
        pytest.fail(f"pixel {xy} is {got}, expected {rgb} (tol {tol}); image saved to {path}")


def scenario_doc(users: list | None = None, events: list | None = None, *, cname: str = "demo",
                 duration: object = 60, transcoding: dict | None = None,
                 recording: dict | None = None, file_config: dict | None = None,
                 storage: dict | None = None, **top: object) -> dict:
    """Build a valid scenario document (recorder uid 999) with the given parts; the one builder.

    ``transcoding`` becomes ``recordingConfig.transcodingConfig`` (merged into ``recording``);
    ``top`` sets top-level keys (``sid``, ``start_utc``, ...), a value ``...`` removes one.
    """
    rc = dict(recording or {})
    if transcoding is not None:
        rc["transcodingConfig"] = {**rc.get("transcodingConfig", {}), **transcoding}
    client: dict = {"recordingConfig": rc}
    if file_config is not None:
        client["recordingFileConfig"] = file_config
    if storage is not None:
        client["storageConfig"] = storage
    doc: dict = {
        "cname": cname,
        "start": {"cname": cname, "uid": "999", "clientRequest": client},
        "duration": duration,
        "users": users if users is not None else [{"uid": "1"}, {"uid": "2"}],
        "events": list(events or []),
    }
    for key, value in top.items():
        if value is ...:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images in dB (inf when identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def assert_frames_close(actual: np.ndarray, expected: np.ndarray, *,
                        max_mean_abs: float | None = None, min_psnr: float | None = None,
                        name: str = "frame") -> None:
    """Assert two images agree (mean absolute error and/or PSNR).

    On failure save the actual, expected and difference images under tests/_failures/ (as
    Pillow's test helper does).
    """
    if actual.shape != expected.shape:
        save_failure(f"{name}-actual", actual)
        save_failure(f"{name}-expected", expected)
        pytest.fail(f"{name}: shape {actual.shape} != expected {expected.shape}")
    diff = np.abs(actual.astype(np.int16) - expected.astype(np.int16))
    mean_abs = float(diff.mean())
    quality = psnr(actual, expected)
    problems = []
    if max_mean_abs is not None and mean_abs > max_mean_abs:
        problems.append(f"mean |diff| {mean_abs:.2f} > {max_mean_abs}")
    if min_psnr is not None and quality < min_psnr:
        problems.append(f"PSNR {quality:.2f} dB < {min_psnr} dB")
    if problems:
        paths = [save_failure(f"{name}-{kind}", image) for kind, image in
                 (("actual", actual), ("expected", expected),
                  ("diff", np.clip(diff * 4, 0, 255).astype(np.uint8)))]
        pytest.fail(f"{name}: {'; '.join(problems)}; images saved: "
                    + ", ".join(str(p) for p in paths))


def compose_first_scene(doc: dict, clips: dict[str, Path], out: Path, *, seconds: float,
                        canvas: str | None = None, freeze: dict[str, float] | None = None,
                        hold: float | None = None) -> Path:
    """``doc``'s first scene composed by FFmpeg's filters (no layoutkit drawing).

    Regions from :func:`lk.compute_regions` (the scenario's geometry); each clip scaled and
    cropped into its region (best fit crops), overlaid on a ``color`` source of the canvas
    colour (``canvas`` overrides the scenario's), written at the canvas fps for ``seconds``.
    ``freeze``: uid -> time from which that tile shows its last frame (``trim`` + ``tpad``),
    for ``hold`` seconds (then the canvas shows through; default: to the end).  Audio: the
    clips' ``amix`` (AAC 48 kHz).  Needs ffmpeg-python (tests skip without it).
    """
    import ffmpeg

    import layoutkit as lk
    from layoutkit.timeline import Timeline

    scenario = lk.load_scenario(doc)
    tc = scenario.start.transcoding
    scene = Timeline(scenario).scene_at(0)
    regions = lk.compute_regions(scene.layout, scene.order, canvas_wh=(tc.width, tc.height))
    colour = (canvas or scene.layout.background_color).lstrip("#")
    video = ffmpeg.input(f"color=c=0x{colour}:s={tc.width}x{tc.height}:r={tc.fps}:d={seconds}",
                         f="lavfi")
    inputs = {uid: ffmpeg.input(str(path)) for uid, path in clips.items()}
    for uid, (x, y, w, h) in zip(regions.uids, regions.rects.tolist(), strict=True):
        tile = inputs[uid].video
        if freeze and uid in freeze:
            # a frozen tile reads its own copy of the file: an input whose video is trimmed
            # while its audio feeds amix can stall FFmpeg's threaded demuxer (seen: a CI hang)
            tile = ffmpeg.input(str(clips[uid])).video.filter("trim", end=freeze[uid]).filter(
                "tpad", stop_mode="clone", stop_duration=seconds if hold is None else hold)
        tile = tile.filter("scale", w, h, force_original_aspect_ratio="increase") \
            .filter("crop", w, h)
        video = ffmpeg.overlay(video, tile, x=x, y=y, eof_action="pass")
    audio = ffmpeg.filter([inputs[u].audio for u in clips], "amix", inputs=len(clips),
                          normalize=0)
    return encode_composite(video, audio, out, fps=tc.fps, bitrate=tc.bitrate, seconds=seconds)


#: Seconds one FFmpeg run of a test may take, and how many times a stalled run is started again.
FFMPEG_TIMEOUT_S = 120
FFMPEG_TRIES = 3


def run_ffmpeg_command(command: list[str]) -> subprocess.CompletedProcess:
    """Run an FFmpeg command line with a bound: a stalled FFmpeg is stopped and run again.

    A many-input graph once stalled for good in a clean CI run (no CPU for 7 minutes): a
    bounded wait (:data:`FFMPEG_TIMEOUT_S`) and the same command again, at most
    :data:`FFMPEG_TRIES` times, instead of a hung test run.  A failure raises with FFmpeg's
    own message.
    """
    for attempt in range(FFMPEG_TRIES):
        try:
            return subprocess.run(command, check=True, capture_output=True,
                                  stdin=subprocess.DEVNULL, timeout=FFMPEG_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            if attempt == FFMPEG_TRIES - 1:
                raise
        except subprocess.CalledProcessError as err:
            message = err.stderr.decode(errors="replace")[-2000:]
            raise AssertionError(f"ffmpeg failed ({err.returncode}): {message}") from err
    raise AssertionError("unreachable")


def run_ffmpeg(*args: str) -> subprocess.CompletedProcess:
    """Run the ``ffmpeg`` program of imageio-ffmpeg on ``args`` (``-y -v error`` first), bounded."""
    import imageio_ffmpeg

    return run_ffmpeg_command([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", *args])


def encode_composite(video, audio, out: Path, *, fps: int, bitrate: int, seconds: float,
                     gop: int | None = None) -> Path:
    """Encode an ffmpeg-python ``video`` graph (and ``audio``, or None) as the cloud would.

    As the cloud's recorder would: x264 without B-frames at ``bitrate`` Kbps, AAC 48 kHz
    mono; FFmpeg runs bounded (:func:`run_ffmpeg_command`).
    """
    import ffmpeg
    import imageio_ffmpeg

    out.parent.mkdir(parents=True, exist_ok=True)
    streams = [video.filter("format", "yuv420p")] + ([audio] if audio is not None else [])
    options = {"g": gop} if gop else {}
    stream = ffmpeg.output(*streams, str(out), vcodec="libx264", video_bitrate=f"{bitrate}k",
                           r=fps, acodec="aac", audio_bitrate="48k", ar=48000, ac=1, t=seconds,
                           preset="veryfast", **options, **{"x264-params": "bframes=0"})
    command = stream.overwrite_output().global_args("-v", "error").compile(
        cmd=imageio_ffmpeg.get_ffmpeg_exe())
    run_ffmpeg_command(command)
    return out


def venv_cli_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """Return ``env`` (default: this process's) with this interpreter's folder first on ``PATH``.

    A command line such as ``layoutkit validate ...`` (in a shell block) then runs the console
    script next to ``sys.executable``, the one of this venv, never another on ``PATH``.
    """
    import os
    import sys

    base = dict(os.environ if env is None else env)
    base["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                    *filter(None, [base.get("PATH")])])
    return base


def lavfi_clip(path: Path, source: str, *, seconds: float, ahead: float = 0.0) -> Path:
    """Make a 320x180 25 fps clip, ``seconds`` long, of FFmpeg's lavfi ``source`` with a sine.

    The sine is there because compositions mix the clips' audio; ``ahead``: the clip starts
    that many seconds into the source.
    """
    sep = ":" if "=" in source else "="
    seek = ["-ss", str(ahead)] if ahead else []  # (even "-ss 0" changes the clip's start)
    run_ffmpeg(*seek, "-f", "lavfi", "-i", f"{source}{sep}s=320x180:r=25",
               "-f", "lavfi", "-i", f"sine=f=440:d={seconds}",
               "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
               "-c:a", "aac", "-t", str(seconds), str(path))
    return path


def jpeg_claiming(path: Path, width: int, height: int) -> Path:
    """Write a real small JPEG whose frame header (SOF0) says ``width`` x ``height``."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path
