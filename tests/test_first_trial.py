"""Issue 22, item 6: the first minutes of a new user.

Flash, samples, scenario defaults, swapped compare arguments, designer fields, labels,
sentinels, demo, benchmarks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import scenario_doc

ROOT = Path(__file__).resolve().parents[1]


def _cli(*argv: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m layoutkit ARGV`` with this interpreter, in ``cwd``, this checkout first."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "layoutkit", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _white_share(path: Path) -> float:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    return float((rgb > 225).all(axis=-1).mean())


# --- stills never land on the white flash -------------------------------------------------
def test_still_at_a_whole_second_hides_the_flash_unless_kept(tmp_path):
    doc = scenario_doc([{"uid": "1"}, {"uid": "2"}], [], duration=3,
                       transcoding={"width": 320, "height": 180, "mixedVideoLayout": 1})
    (tmp_path / "s.json").write_text(json.dumps(doc))
    run = _cli("preview", "s.json", "--at", "1", "-o", "calm.png", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _white_share(tmp_path / "calm.png") < 0.3  # the card has some white
    run = _cli("preview", "s.json", "--at", "1", "--keep-flash", "-o", "flash.png",
               cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _white_share(tmp_path / "flash.png") > 0.5


def test_frame_at_keeps_the_recorders_flash_and_hides_it_on_request():
    import layoutkit as lk

    doc = scenario_doc([{"uid": "1"}], [], duration=3,
                       transcoding={"width": 320, "height": 180, "mixedVideoLayout": 1})
    white = (lk.frame_at(doc, 2.0) > 225).all(axis=-1).mean()
    calm = (lk.frame_at(doc, 2.0, flash=False) > 225).all(axis=-1).mean()
    assert white > 0.5 and calm < 0.3


# --- layoutkit samples -o DIR ---------------------------------------------------------------
def test_samples_writes_the_bundled_samples_and_the_examples_paths_work(tmp_path):
    from layoutkit.demo import samples_dir

    run = _cli("samples", "-o", ".", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    bundled = samples_dir()
    for name in ("scenario-demo.json", "start-custom.json", "media/5005.mp4", "background.jpg"):
        assert (tmp_path / "samples" / name).read_bytes() == (bundled / name).read_bytes()
    run = _cli("preview", "samples/scenario-video-files.json", "--at", "1", "-o", "f.png",
               cwd=tmp_path)  # its relative media/ sources came along
    assert run.returncode == 0, run.stderr
    (tmp_path / "samples" / "start-custom.json").write_text("mine")
    run = _cli("samples", "-o", ".", cwd=tmp_path)
    assert run.returncode == 2
    assert "samples/start-custom.json: exists; pass --force to replace it" in run.stderr
    assert (tmp_path / "samples" / "start-custom.json").read_text() == "mine"
    assert _cli("samples", "--force", cwd=tmp_path).returncode == 0
    assert (tmp_path / "samples" / "start-custom.json").read_bytes() == \
        (bundled / "start-custom.json").read_bytes()


# --- a scenario's start.cname and start.uid default to the top-level ones --------------------
def test_start_cname_and_uid_default_to_the_scenarios():
    import pytest

    import layoutkit as lk
    from layoutkit.errors import ScenarioError

    doc = {"cname": "demo", "uid": "999", "duration": 2, "users": [{"uid": "1"}],
           "start": {"clientRequest": {"recordingConfig": {
               "transcodingConfig": {"width": 320, "height": 180}}}}}
    scenario = lk.load_scenario(doc)
    assert (scenario.start.cname, scenario.start.uid) == ("demo", "999")
    assert lk.frame_at(doc, 0.5).shape == (180, 320, 3)
    with pytest.raises(ScenarioError) as info:
        lk.load_scenario({**doc, "start": {**doc["start"], "uid": "998"}})
    assert [str(p) for p in info.value.problems] == [
        "code 2: start.uid: must be the scenario's uid '999' (got \"998\")"]
    without_uid = {k: v for k, v in doc.items() if k != "uid"}
    with pytest.raises(ScenarioError) as info:
        lk.load_scenario(without_uid)
    assert [str(p) for p in info.value.problems] == ["code 2: start.uid: is required"]


# --- compare with its arguments swapped, or a request body where the scenario belongs -------
def test_compare_with_swapped_arguments_says_so_naming_both(tmp_path):
    from layoutkit.demo import samples_dir

    scenario = str(samples_dir() / "scenario-demo.json")
    (tmp_path / "rec").mkdir()
    (tmp_path / "x.m3u8").write_text("#EXTM3U\n")
    for recording, what in (("rec", "a folder"), ("x.m3u8", "a .m3u8 file")):
        run = _cli("compare", recording, scenario, cwd=tmp_path)
        assert run.returncode == 2
        assert run.stderr.splitlines() == [
            f"the arguments are swapped: {recording} is a recording ({what}) and {scenario} a "
            f"scenario; compare takes the scenario first: layoutkit compare {scenario} "
            f"{recording}"]


def test_compare_with_a_request_body_for_the_scenario_says_so_naming_both(tmp_path):
    from layoutkit.demo import samples_dir

    request = str(samples_dir() / "start-custom.json")
    (tmp_path / "rec").mkdir()
    run = _cli("compare", request, "rec", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"{request}: is a request body, not a scenario; compare checks the recording rec "
        "against a scenario: the start body with the duration, users and events (see "
        "samples/scenario-demo.json)"]


# --- RequestError.problems shows no sentinel object ------------------------------------------
def test_request_error_problems_show_no_sentinel_object():
    import pickle

    import pytest

    from layoutkit.errors import Problem, RequestError
    from layoutkit.request.parse import parse_request

    with pytest.raises(RequestError) as info:
        parse_request({"cname": "c"}, kind="start")
    shown = repr(info.value.problems)
    assert "object at 0x" not in shown
    assert "Problem(path='uid', rule='is required', value=Problem.MISSING" in shown
    again = pickle.loads(pickle.dumps(info.value.problems[0]))  # e.g. from a batch worker
    assert again.value is Problem.MISSING and str(again) == "code 2: uid: is required"


# --- layoutkit demo run again says what it replaces -----------------------------------------
@pytest.mark.slow  # a whole demo run (the 24 s sample scenario recorded and compared)
def test_demo_run_again_says_what_it_replaces(tmp_path):
    folder = tmp_path / "layoutkit-demo"  # as an earlier run left it
    (folder / "recording").mkdir(parents=True)
    (folder / ".layoutkit-demo").write_text("made by layoutkit demo\n")
    (folder / "scenario.gif").write_bytes(b"GIF89a")
    run = _cli("demo", cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == (
        "layoutkit-demo/ holds an earlier demo run: replacing its 2 entries "
        "(recording/, scenario.gif)")
    assert (folder / "scenario.gif").stat().st_size > 6


# --- benchmarks/run.py: competitor on every row, "floor" explained, --check -----------------
def test_benchmark_table_names_competitors_explains_floor_and_check_fails_a_miss(tmp_path):
    rows = [{"case": "compose-a", "metric": "frames/s, 1 thread", "layoutkit": 531.0,
             "competitor": 210.8, "ratio": 2.519, "target": 1.0, "meets_target": True,
             "x_floor": 5.38, "competitor_is": "FFmpeg filter graph"},
            {"case": "stills-c", "metric": "s per call (median)", "layoutkit": 1.5,
             "competitor": None, "ratio": None, "target": "< 1 s", "meets_target": False}]
    doc = {"machine": {}, "results": rows}
    (tmp_path / "run.json").write_text(json.dumps(doc))
    script = str(ROOT / "benchmarks" / "run.py")
    run = subprocess.run([sys.executable, script, "--from", "run.json", "--check"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split(" | ")[-1].strip() == "competitor is"
    assert [ln.split(" | ")[-1].strip() for ln in lines[2:4]] == [
        "FFmpeg filter graph", "none: a target only"]
    assert "copy floor 5.4x" in lines[2]
    assert lines[4].startswith("floor: the memory-copy floor")
    assert lines[-1] == "--check: 1 target(s) missed: stills-c (s per call (median))"
    rows[1]["meets_target"] = True
    (tmp_path / "run.json").write_text(json.dumps(doc))
    run = subprocess.run([sys.executable, script, "--from", "run.json", "--check"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.splitlines()[-1] == "--check: every target met"


# --- the designer's number fields accept delete-then-type ------------------------------------
def _poll(driver, script: str, want, timeout: float = 15):
    import time

    end = time.monotonic() + timeout
    got = None
    while time.monotonic() < end:
        got = driver.execute_script(script)
        if got == want:
            return got
        time.sleep(0.05)
    return got


def test_designer_number_fields_accept_delete_then_type():
    from selenium.webdriver.common.keys import Keys

    from layoutkit.demo import samples_dir
    from layoutkit.design import DesignServer, create_app
    from tests.browser import start_browser

    server = DesignServer(create_app(samples_dir() / "start-custom.json",
                                     base_dir=samples_dir())).start()
    driver = start_browser()
    try:
        driver.get(server.url)
        assert _poll(driver, "return typeof S === 'object' && S.seq > 0", True)
        width = "return JSON.parse(document.getElementById('json').value).clientRequest" \
                ".recordingConfig.transcodingConfig.width"
        for field, typed, state in (("canvas-w", "1920", width),
                                    ("users-count", "6", "return S.usersCount")):
            element = driver.find_element("id", field)
            element.clear()  # WebDriver's clear: emptied, with a change event
            element.send_keys(typed)
            assert element.get_attribute("value") == typed
            element.send_keys(Keys.TAB)
            assert _poll(driver, state, int(typed)) == int(typed)
            assert element.get_attribute("value") == typed
    finally:
        driver.quit()
        server.close()


# --- annotation labels never cover the uid they describe -------------------------------------
def test_annotation_labels_leave_the_uid_in_the_middle_of_each_tile_uncovered():
    import layoutkit as lk
    from layoutkit.demo import samples_dir

    request = samples_dir() / "start-vertical.json"
    plain = lk.preview(request, users=11)
    annotated = lk.preview(request, users=11, annotate=True)[:plain.shape[0]]
    regions = lk.compute_regions(lk.load_request(request).recording_config.transcoding_config
                                 .layout, [str(i) for i in range(1, 12)],
                                 canvas_wh=(plain.shape[1], plain.shape[0]))
    for uid, (x, y, w, h) in zip(regions.uids, regions.rects.tolist(), strict=True):
        band = (slice(y + int(0.35 * h), y + int(0.65 * h)), slice(x + 3, x + w - 3))
        assert np.array_equal(annotated[band], plain[band]), f"the label covers uid {uid}"


# --- a uid stays legible in narrow tiles -----------------------------------------------------
def test_a_uid_stays_whole_in_narrow_cropped_tiles():
    import layoutkit as lk

    def region(uid, x, w, h):
        return {"uid": uid, "x_axis": x, "y_axis": 0.0, "width": w, "height": h,
                "render_mode": 0}

    request = {"mixedVideoLayout": 3, "layoutConfig": [
        region("1001", 0.0, 0.1, 1.0), region("2002", 0.2, 0.05, 0.5),
        region("4004", 0.6, 0.4, 0.1)]}
    image = lk.preview(request, users=["1001", "2002", "4004"], canvas_wh=(640, 360))
    regions = lk.compute_regions(lk.load_request(request).layout, ["1001", "2002", "4004"],
                                 canvas_wh=(640, 360))
    for uid, (x, y, w, h) in zip(regions.uids, regions.rects.tolist(), strict=True):
        tile = image[y:y + h, x:x + w]
        white = (tile > 245).all(axis=-1)
        columns = np.flatnonzero(white.any(axis=0))
        assert columns.size, f"no uid text in the tile of {uid}"
        # the text is whole: it does not run into the tile's left or right edge
        assert columns[0] >= 1 and columns[-1] <= w - 2, (uid, columns[0], columns[-1], w)
