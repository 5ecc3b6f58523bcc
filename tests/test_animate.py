"""Scenario previews: --at PNG, animated GIF and MP4 with the timeline strip."""

from __future__ import annotations

import io

import av
import numpy as np
from PIL import Image

from layoutkit.cli import main
from layoutkit.demo import samples_dir

SCENARIO = str(samples_dir() / "scenario-demo.json")


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def test_preview_at_writes_the_exact_frame(in_tmp):
    code, out, err = _run("preview", SCENARIO, "--at", "10.5", "-o", "f.png")
    assert code == 0, err
    assert "2002 last_frame" in out and "3003 canvas_background" in out
    image = np.asarray(Image.open(in_tmp / "f.png").convert("RGB"))
    assert image.shape == (360, 640, 3)
    # 3003 (web3, muted at 6 s) shows the canvas background #1E2A38 in the 3rd cell
    assert np.abs(image[270, 160].astype(int) - (30, 42, 56)).max() <= 3


def test_preview_mp4_and_gif(in_tmp):
    code, out, err = _run("preview", SCENARIO, "--mp4", "-o", "p.mp4")
    assert code == 0, err
    with av.open(str(in_tmp / "p.mp4")) as c:
        stream = c.streams.video[0]
        frames = list(c.decode(stream))
    assert stream.codec_context.name == "h264"
    assert len(frames) == 24 * 15
    assert (frames[0].width, frames[0].height) == (640, 360 + 80)  # canvas + strip
    code, out, err = _run("preview", SCENARIO, "--gif", "-o", "p.gif")
    assert code == 0, err
    with Image.open(in_tmp / "p.gif") as gif:
        assert gif.n_frames == 24 * 10
        assert gif.size == (480, 270 + 80)


def test_scenario_preview_usage_errors(in_tmp):
    code, _, err = _run("preview", SCENARIO, "-o", "x.png")
    assert code == 2 and "exactly one of --at" in err
    code, _, err = _run("preview", SCENARIO, "--at", "99")
    assert code == 2 and "outside the recording" in err
    code, _, err = _run("preview", str(samples_dir() / "start-vertical.json"), "--at", "1")
    assert code == 2 and "take a scenario file" in err
    assert not list(in_tmp.iterdir())
