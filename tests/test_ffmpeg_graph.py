"""``layoutkit ffmpeg``: FFmpeg composing per-user files in a layout matches our preview."""

from __future__ import annotations

import io
import json
import shlex
import subprocess

import av
import pytest

import layoutkit as lk
from layoutkit.cli import main
from layoutkit.compose.yuv import rgb_to_i420
from layoutkit.ffmpeg_graph import OutputOptions, ffmpeg_command
from layoutkit.io.encode import MediaFileWriter
from layoutkit.signals import testcard

from .helpers import assert_frames_close

CUSTOM = {"mixedVideoLayout": 3, "backgroundColor": "#3366CC", "layoutConfig": [
    {"x_axis": 0.0, "y_axis": 0.0, "width": 0.6, "height": 1.0, "render_mode": 1},
    {"x_axis": 0.5, "y_axis": 0.1, "width": 0.45, "height": 0.5, "alpha": 0.6},
    {"x_axis": 0.05, "y_axis": 0.7, "width": 0.3, "height": 0.25, "render_mode": 0}]}


def _cards(folder, uids, size=(640, 360), frames=6):
    """Per-user files holding the labelled test card of ``lk.preview`` (H.264, near lossless)."""
    paths = {}
    for uid in uids:
        path = folder / f"{uid}.mp4"
        with MediaFileWriter(path, size_wh=size, fps=15, crf=8) as writer:
            for _ in range(frames):
                writer.write(rgb_to_i420(testcard.labelled_card(uid, size)))
        paths[uid] = path
    return paths


def _first_frame(path):
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


@pytest.mark.parametrize("body, canvas", [({"mixedVideoLayout": 1}, (640, 360)),
                                          (CUSTOM, (640, 360)),
                                          ({"mixedVideoLayout": 0}, (360, 640))],
                         ids=["bestfit", "custom-fit-alpha", "floating"])
def test_ffmpeg_composes_what_preview_draws(tmp_path, body, canvas):
    import imageio_ffmpeg

    uids = ["1", "2", "3"]
    inputs = _cards(tmp_path, uids)
    layout = lk.load_request(body).layout
    cmd = ffmpeg_command(layout, inputs, tmp_path / "out.mp4",
                         options=OutputOptions(canvas_wh=canvas, fps=15, bitrate_kbps=6000,
                                               audio=False),
                         sizes={u: (640, 360) for u in uids},
                         ffmpeg=imageio_ffmpeg.get_ffmpeg_exe())
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    with av.open(str(tmp_path / "out.mp4")) as container:  # ends with its inputs (6 frames)
        assert sum(1 for _ in container.decode(video=0)) == 6
    expected = lk.preview(body, users=uids, canvas_wh=canvas)
    # the same geometry to the pixel; the rest is H.264 and two colour conversions
    assert_frames_close(_first_frame(tmp_path / "out.mp4"), expected, min_psnr=28,
                        name=f"ffmpeg-{body['mixedVideoLayout']}")


def test_cli_prints_the_command_and_runs_it(tmp_path):
    inputs = _cards(tmp_path, ["7", "8"], frames=3)
    request = tmp_path / "start.json"
    request.write_text(json.dumps({"cname": "c", "uid": "1", "clientRequest": {
        "recordingConfig": {"transcodingConfig": {"width": 320, "height": 180, "fps": 15,
                                                  "bitrate": 400, "mixedVideoLayout": 1}},
        "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "k",
                          "secretKey": "s"}}}))
    argv = ["ffmpeg", str(request), "--input", f"7={inputs['7']}", "--input",
            f"8={inputs['8']}", "-o", str(tmp_path / "mix.mp4")]
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, out=out, err=err) == 0, err.getvalue()
    printed = shlex.split(out.getvalue())
    assert printed[0] == "ffmpeg" and "-filter_complex" in printed and "amix" not in out.getvalue()
    assert main([*argv, "--run"], out=out, err=err) == 0, err.getvalue()
    frame = _first_frame(tmp_path / "mix.mp4")
    assert frame.shape == (180, 320, 3)
    assert main([*argv, "--run"], out=io.StringIO(), err=err) == 2  # exists: --force needed
    assert "pass --force" in err.getvalue()
