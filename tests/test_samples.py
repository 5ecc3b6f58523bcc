"""The bundled samples: every one validates, every scenario records, the media are ours."""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
import numpy as np
import pytest

import layoutkit as lk
from layoutkit.idstream import read_idstream_ids
from layoutkit.cli import main
from layoutkit.demo import samples_dir

SAMPLES = samples_dir()
ALL = sorted(p.name for p in SAMPLES.glob("*.json"))
SCENARIOS = [name for name in ALL if name.startswith("scenario")]
SLOW = {"scenario-demo.json"}  # 24 s of video


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", ALL)
def test_every_sample_validates(name):
    code, out, err = _run("validate", str(SAMPLES / name))
    assert code == 0, err
    assert "valid" in out


def test_the_samples_cover_what_a_designer_looks_for():
    modes = set()
    alpha = False
    for name in ALL:
        doc = json.loads((SAMPLES / name).read_text())
        body = doc.get("start", doc)["clientRequest"]
        tc = body.get("recordingConfig", {}).get("transcodingConfig", body)
        modes.add(tc.get("mixedVideoLayout", 0))
        alpha |= any("alpha" in r for r in tc.get("layoutConfig", []))
    assert modes == {0, 1, 2, 3} and alpha
    assert {"start-pip.json", "start-screenshare.json", "start-images.json",
            "scenario-display-rules.json", "scenario-update-layout.json",
            "scenario-18-users.json", "scenario-audio-only.json",
            "scenario-video-files.json"} <= set(ALL)
    images = json.loads((SAMPLES / "start-images.json").read_text())
    tc = images["clientRequest"]["recordingConfig"]["transcodingConfig"]
    assert {"backgroundImage", "defaultUserBackgroundImage", "backgroundConfig"} <= set(tc)


def test_shipped_video_files_are_small_h264_without_the_flash():
    files = sorted((SAMPLES / "media").glob("*.mp4"))
    assert len(files) == 2
    for path in files:
        assert path.stat().st_size < 200_000
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
            assert abs(float(container.duration / av.time_base) - 4) < 0.2
            # made without the test stream's flash: whole-second frames are not white
            means = [f.to_ndarray(format="gray").mean() for f in container.decode(video=0)]
        assert len(means) == 60 and max(means) - min(means) < 15, (path.name, means[::15])
        assert read_idstream_ids(path)[30].uid == path.stem  # and still code their uid


def test_display_rules_sample_shows_each_rule():
    path = SAMPLES / "scenario-display-rules.json"
    from layoutkit.render import SceneRenderer

    with SceneRenderer(lk.load_scenario(path)) as renderer:
        early = {v.uid: v.state.value for v in renderer.rendered_frame(2).scene.views}
        late = {v.uid: v.state.value for v in renderer.rendered_frame(5).scene.views}
    assert early == {"1001": "last_frame", "2002": "black", "3003": "canvas_color",
                     "4004": "last_frame"}
    assert late["4004"] == "user_image" and late["1001"] == "canvas_background"


def test_eighteenth_user_is_promoted():
    path = SAMPLES / "scenario-18-users.json"
    from layoutkit.render import SceneRenderer

    with SceneRenderer(lk.load_scenario(path)) as renderer:
        before = renderer.rendered_frame(1).regions.uids
        after = renderer.rendered_frame(3).regions.uids
    assert "118" not in before and len(before) == 17
    assert "118" in after and "105" not in after


def _record(name: str, folder: Path) -> None:
    result = lk.mix(SAMPLES / name, folder)
    scenario = lk.load_scenario(SAMPLES / name)
    assert float(result.duration) == pytest.approx(float(scenario.duration))
    if scenario.start.recording_config.records_video():
        assert result.frames == round(float(scenario.duration) * scenario.start.transcoding.fps)
    else:
        assert result.frames == 0  # audio only
    assert (folder / "serverResponse.json").is_file()


@pytest.mark.parametrize("name", [n for n in SCENARIOS if n not in SLOW])
def test_every_short_scenario_records(name, tmp_path):
    _record(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW))
def test_long_scenarios_record(name, tmp_path):
    _record(name, tmp_path)


def test_video_file_sample_shows_the_files(tmp_path):
    frame = lk.frame_at(SAMPLES / "scenario-video-files.json", 1.5)
    assert frame.shape == (216, 384, 3)
    # both clips' own colours fill the two cells (their test pictures name 5005 and 6006)
    from layoutkit.signals.testcard import uid_color

    for x, uid in ((20, "5005"), (212, "6006")):
        assert np.abs(frame[150, x].astype(int) - uid_color(uid)).max() < 30


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    from PIL import Image

    code, out, err = _run("demo", "-o", str(tmp_path / "d"))
    assert code == 0, err
    folder = tmp_path / "d"
    for name in ("start-floating.png", "start-bestfit.png", "start-vertical.png",
                 "start-custom.png", "start-pip-sheet.png", "start-screenshare-annotated.png",
                 "scenario.gif", "compare-report.html", "recording/serverResponse.json"):
        assert (folder / name).is_file(), name
    assert "compare of that recording: match" in out
    assert out.rstrip().splitlines()[-3].strip().startswith("1. ")  # what to open first
    with Image.open(folder / "start-screenshare-annotated.png") as image:
        assert image.size[1] > 720  # the margin says user 5 is not drawn
    assert "not drawn" not in err  # only the annotated preview has (and shows) a warning
