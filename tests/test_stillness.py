"""Frozen pictures against moving content, on composites encoded by FFmpeg's x264.

Each composite is a 2 x 2 grid of 320x180 tiles on a 640x360 canvas: FFmpeg's natural-looking
sources (``testsrc2``, ``mandelbrot``, ``life``) and one tile that freezes (``trim`` +
``tpad=stop_mode=clone``), encoded as the cloud would (x264, no B-frames, a 2 s GOP), decoded
by layoutkit's reader and measured on the observations' small canvas.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from layoutkit.comparison.observe import Probe
from layoutkit.comparison.stillness import still_spans
from layoutkit.io.recorded import iter_video

TILES = {"testsrc2": (0, 0), "mandelbrot": (320, 0), "life": (0, 180), "frozen": (320, 180)}


def _composite(out: Path, *, seconds: float, fps: int, freeze_at: float, bitrate: str) -> Path:
    import imageio_ffmpeg

    sources = [f"testsrc2=s=320x180:r={fps}", f"mandelbrot=s=320x180:r={fps}",
               f"life=s=320x180:r={fps}:mold=10:ratio=0.1:death_color=#C83232:life_color=#00ff00",
               f"testsrc2=s=320x180:r={fps}", f"color=c=0x303030:s=640x360:r={fps}"]
    graph = (f"[3:v]trim=end={freeze_at},tpad=stop_mode=clone:stop_duration={seconds}[fz];"
             "[4:v][0:v]overlay=0:0[a];[a][1:v]overlay=320:0[b];[b][2:v]overlay=0:180[c];"
             "[c][fz]overlay=320:180,format=yuv420p[v]")
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y"]
    for source in sources:
        command += ["-f", "lavfi", "-i", source]
    command += ["-filter_complex", graph, "-map", "[v]", "-t", str(seconds), "-c:v", "libx264",
                "-b:v", bitrate, "-g", str(2 * fps), "-bf", "0", "-preset", "veryfast", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return out


def _motions(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each tile's motion per frame on the observations' small canvas (160 px across)."""
    from layoutkit.comparison.stillness import region_motion

    probe = Probe((640, 360))
    f = probe.factor
    times, rows, previous = [], [], None
    for frame in iter_video([path]):
        luma = probe.small_planes(frame.i420)[:, :, 0]
        if previous is not None:
            rows.append([region_motion(previous, luma, (x // f + 1, y // f + 1, 320 // f - 2,
                                                        180 // f - 2))
                         for x, y in TILES.values()])
        else:
            rows.append([np.inf] * len(TILES))
        times.append(frame.t)
        previous = luma
    table = np.array(rows, dtype=np.float32)
    return np.array(times), {name: table[:, i] for i, name in enumerate(TILES)}


def _frozen_share(times: np.ndarray, motion: np.ndarray) -> float:
    spans = still_spans(motion, times)
    return sum(s.seconds for s in spans) / (times[-1] - times[0])


@pytest.mark.parametrize(("fps", "bitrate"), [(15, "400k")])
def test_frozen_tile_is_found_to_the_frame_and_moving_content_never(tmp_path, fps, bitrate):
    path = _composite(tmp_path / "grid.mp4", seconds=10, fps=fps, freeze_at=4, bitrate=bitrate)
    times, motion = _motions(path)
    frozen = still_spans(motion["frozen"], times)
    assert len(frozen) == 1, frozen
    # the last live frame is the one at 4 s minus a frame: it shows from there to the end
    assert frozen[0].start == pytest.approx(4 - 1 / fps, abs=1 / fps + 1e-6)
    assert frozen[0].end == pytest.approx(10, abs=1 / fps + 1e-6)
    for name in ("testsrc2", "mandelbrot", "life"):
        assert still_spans(motion[name], times) == (), name


@pytest.mark.slow
@pytest.mark.parametrize(("fps", "bitrate"), [(15, "250k"), (15, "1000k"), (30, "400k")])
def test_false_freeze_rate_on_a_minute_of_moving_content_is_zero(tmp_path, fps, bitrate):
    path = _composite(tmp_path / "grid.mp4", seconds=60, fps=fps, freeze_at=20, bitrate=bitrate)
    times, motion = _motions(path)
    for name in ("testsrc2", "mandelbrot", "life"):
        assert _frozen_share(times, motion[name]) == 0.0, name
    assert _frozen_share(times, motion["frozen"]) == pytest.approx(40 / 60, abs=0.02)
