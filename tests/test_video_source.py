"""Real video files as sources: VFR sampling, rotation, looping, bad files."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from layoutkit.errors import MediaError
from layoutkit.io.decode import FileVideo, probe_video_size


def _write(path, pts_ms, *, size=(64, 48), rotation=None):
    """Frames i of grey level 30*i at the given presentation times (ms)."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height = size
        s.pix_fmt = "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            s.set_display_rotation(rotation)
        for i, p in enumerate(pts_ms):
            img = np.full((size[1], size[0], 3), 30 * i, np.uint8)
            img[: size[1] // 4, : size[0] // 4] = 255  # a white top-left corner marker
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts, f.time_base = p, Fraction(1, 1000)
            for pk in s.encode(f):
                c.mux(pk)
        for pk in s.encode():
            c.mux(pk)


def _level(i420: np.ndarray) -> int:
    """Mean luma of the bottom-right quarter (away from the marker) -> frame index."""
    h = i420.shape[0] * 2 // 3
    w = i420.shape[1]
    y = float(i420[h // 2:h, w // 2:].mean())
    grey = (y - 16) * 255 / 219
    return round(grey / 30)


def test_vfr_file_sampled_at_output_times(tmp_path):
    path = tmp_path / "vfr.mp4"
    _write(path, [0, 33, 50, 200, 210, 500, 900])
    with FileVideo(path) as video:
        assert video.size_wh == (64, 48)
        got = [_level(video.frame_i420(Fraction(k, 10))) for k in range(10)]
    # at t = k/10 s the last frame with pts <= t is shown
    assert got == [0, 2, 3, 4, 4, 5, 5, 5, 5, 6]


def test_file_loops_after_its_end(tmp_path):
    path = tmp_path / "cfr.mp4"
    _write(path, [0, 100, 200, 300])
    with FileVideo(path) as video:
        levels = [_level(video.frame_i420(Fraction(k, 10))) for k in range(12)]
    assert levels[:4] == [0, 1, 2, 3]
    assert levels[4:8] == [0, 1, 2, 3]  # second pass


@pytest.mark.parametrize(("rotation", "marker"), [(90, "bottom-left"), (-90, "top-right")])
def test_rotation_metadata_is_applied(tmp_path, rotation, marker):
    path = tmp_path / "rot.mp4"
    _write(path, [0, 100], size=(64, 32), rotation=rotation)
    assert probe_video_size(path) == (32, 64)
    with FileVideo(path) as video:
        frame = video.frame_i420(Fraction(0))
    y = frame[:64]
    corners = {"top-left": y[:8, :4], "top-right": y[:8, -4:],
               "bottom-left": y[-8:, :4], "bottom-right": y[-8:, -4:]}
    bright = max(corners, key=lambda k: corners[k].mean())
    assert bright == marker


def test_missing_and_unreadable_files_are_clear_errors(tmp_path):
    with pytest.raises(MediaError, match="no such video file"):
        FileVideo(tmp_path / "absent.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    with pytest.raises(MediaError, match="not a readable video file"):
        FileVideo(bad)
