"""Frozen pictures against moving content, on composites encoded by FFmpeg's x264.

Each composite is a 2 x 2 grid of 320x180 tiles on a 640x360 canvas: FFmpeg's natural-looking
sources (``testsrc2``, ``mandelbrot``, ``life``) and one tile that freezes (``trim`` +
``tpad=stop_mode=clone``), encoded as the cloud would (x264, no B-frames, a 2 s GOP), decoded
by layoutkit's reader and observed as compare observes them (``Observed.motion``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from layoutkit.comparison.frames import observe_frames
from layoutkit.comparison.observe import MOTION_SCALE, FrameSampler
from layoutkit.comparison.stillness import key_motion, still_spans
from layoutkit.io.recorded import iter_video

TILES = {"testsrc2": (0, 0), "mandelbrot": (320, 0), "life": (0, 180), "frozen": (320, 180)}


def _composite(out: Path, *, seconds: float, fps: int, freeze_at: float, bitrate: str,
               seed: int = 1) -> Path:
    import imageio_ffmpeg

    sources = [f"testsrc2=s=320x180:r={fps}", f"mandelbrot=s=320x180:r={fps}",
               f"life=s=320x180:r={fps}:mold=10:ratio=0.1:seed={seed}:death_color=#C83232:life_color=#00ff00",
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


def _motions(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Return each tile's motion per frame as compare observes it, and the key frames.

    One descriptor per tile.
    """
    sampler = FrameSampler((640, 360))
    keys = {name: sampler.desc_key((x, y, 320, 180)) for name, (x, y) in TILES.items()}
    observed = observe_frames(iter_video([path]), sampler)
    assert observed.keys is not None
    return observed.times, {
        name: key_motion(observed.motion, sampler.cell_slice(key), sampler.valid(key),
                         scale=MOTION_SCALE) for name, key in keys.items()}, observed.keys


def _frozen_share(times: np.ndarray, motion: np.ndarray, keys: np.ndarray) -> float:
    spans = still_spans(motion, times, keys=keys)
    return sum(s.seconds for s in spans) / (times[-1] - times[0])


# (freeze_at, the last live frame's number) at 15 fps, GOP 30: the first repeated frame a
# key frame (60), neither, the last live frame a key frame (60: live motion ends there)
@pytest.mark.parametrize(("freeze_at", "last_live"), [(4, 59), (4.2, 62), (4.07, 60)])
def test_frozen_tile_is_found_to_the_frame_and_moving_content_never(tmp_path, freeze_at,
                                                                    last_live):
    fps = 15
    path = _composite(tmp_path / "grid.mp4", seconds=10, fps=fps, freeze_at=freeze_at,
                      bitrate="400k")
    times, motion, keys = _motions(path)
    assert np.flatnonzero(keys).tolist() == [0, 30, 60, 90, 120]
    frozen = still_spans(motion["frozen"], times, keys=keys)
    assert len(frozen) == 1, frozen
    # the last live frame shows from its own time to the end, to the frame
    assert frozen[0].start == pytest.approx(last_live / fps, abs=1e-6)
    assert frozen[0].end == pytest.approx(10, abs=1e-6)
    for name in ("testsrc2", "mandelbrot", "life"):
        assert still_spans(motion[name], times, keys=keys) == (), name


@pytest.mark.slow
@pytest.mark.parametrize(("fps", "bitrate"), [(15, "250k"), (15, "1000k"), (30, "400k")])
def test_false_freeze_rate_on_minutes_of_moving_content_is_under_one_percent(tmp_path, fps,
                                                                              bitrate):
    """The false freeze rate on minutes of moving content is under one percent.

    Six minutes of each source (six seeds of ``life``); measured: 0 s of 1080 tile-seconds
    at 15 fps, 7.6 s at 30 fps / 400k (seed 3: a ``life`` board that has nearly died out
    after 50 s, under 0.03 levels a frame).
    """
    frozen_life = 0.0
    for seed in range(1, 7):
        path = _composite(tmp_path / f"grid{seed}.mp4", seconds=60, fps=fps, freeze_at=20,
                          bitrate=bitrate, seed=seed)
        times, motion, keys = _motions(path)
        for name in ("testsrc2", "mandelbrot"):
            assert _frozen_share(times, motion[name], keys) == 0.0, (name, seed)
        frozen_life += _frozen_share(times, motion["life"], keys) / 6
        spans = still_spans(motion["frozen"], times, keys=keys)
        # the freeze is on a key frame (20 s): the last live frame (a frame before) shows
        # from its own time; at 30 fps the re-codes (2-3 levels) can outweigh live motion
        # and leave it a frame late (stillness._key_burst_before)
        late = 1 if fps == 30 else 0
        assert len(spans) == 1 and spans[0].end == pytest.approx(60, abs=1e-6), (seed, spans)
        assert 20 - 1 / fps - 1e-6 <= spans[0].start <= 20 - (1 - late) / fps + 1e-6, \
            (seed, spans)
    assert frozen_life < 0.01 * 3  # of the three sources' time
