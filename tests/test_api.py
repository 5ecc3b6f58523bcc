"""The facade (``import layoutkit as lk``): its surface, and the whole job in a few lines."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import layoutkit as lk
from layoutkit import api

from .helpers import assert_frames_close, scenario_doc

FACADE = ("load_request", "preview", "contact_sheet", "load_scenario", "frame_at", "mix",
          "compare", "scenario_from_events")


def test_every_public_name_resolves_and_is_documented():
    assert len(set(lk.__all__)) == len(lk.__all__)
    for name in lk.__all__:
        obj = getattr(lk, name)
        if name in ("__version__", "DEFAULT_PROFILE"):
            continue
        assert inspect.getdoc(obj), f"lk.{name} has no docstring"


@pytest.mark.parametrize("name", FACADE)
def test_facade_functions_take_options_by_keyword_and_show_an_example(name):
    function = getattr(lk, name)
    assert callable(function) and function is getattr(api, name)
    doc = inspect.getdoc(function)
    assert "Examples" in doc and ">>> " in doc and "Returns" in doc
    params = list(inspect.signature(function).parameters.values())
    positional = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert all(p.default is inspect.Parameter.empty for p in positional), \
        f"{name}: options must be keyword-only"


def test_modes_are_int_enums_equal_to_the_cloud_numbers():
    assert [int(m) for m in lk.LayoutMode] == [0, 1, 2, 3]
    assert lk.LayoutMode.CUSTOM == 3 and lk.RenderMode.FIT == 1
    body = lk.load_request({"mixedVideoLayout": 2})
    assert body.layout.mixed_video_layout is lk.LayoutMode.VERTICAL
    regions = lk.compute_regions(body.layout, ["1", "2"], canvas_wh=(640, 360))
    assert set(regions.render_modes.tolist()) <= {lk.RenderMode.CROP, lk.RenderMode.FIT}


def test_load_request_raises_every_problem_and_warns():
    with pytest.raises(lk.RequestError) as info:
        lk.load_request({"mixedVideoLayout": 9, "backgroundColour": "#000000"})
    paths = sorted(p.path for p in info.value.problems)
    assert paths == ["backgroundColour", "mixedVideoLayout"]
    assert isinstance(info.value, ValueError)
    with pytest.warns(lk.RequestWarning, match="maxResolutionUid"):
        lk.load_request({"mixedVideoLayout": 1, "maxResolutionUid": "3"})


def test_preview_of_a_file_equals_preview_of_its_model(tmp_path):
    Image.new("RGB", (64, 36), (10, 200, 30)).save(tmp_path / "bg.jpg", quality=95)
    path = tmp_path / "req.json"
    path.write_text(json.dumps({"mixedVideoLayout": 1, "backgroundImage": "bg.jpg"}))
    from_file = lk.preview(path, users=3, canvas_wh=(320, 180))
    model = lk.load_request(path)
    assert model.base_dir == tmp_path.resolve()
    assert_frames_close(lk.preview(model, users=3, canvas_wh=(320, 180)), from_file,
                        max_mean_abs=0, name="api-preview")
    assert np.abs(from_file[170, 310].astype(int) - (10, 200, 30)).max() <= 6  # empty cell


def test_frame_at_gives_rgb_or_the_i420_buffer():
    scenario = lk.load_scenario(scenario_doc([{"uid": "1", "source": "#FF0000"}], duration=2,
                                             transcoding={"width": 64, "height": 36}))
    rgb = lk.frame_at(scenario, 0.5)
    i420 = lk.frame_at(scenario, 0.5, i420=True)
    assert rgb.shape == (36, 64, 3) and i420.shape == (54, 64)
    with pytest.raises(lk.ParameterError, match="outside the recording"):
        lk.frame_at(scenario, 2)


SCRIPT = """
import layoutkit as lk
image = lk.preview(lk.load_request("{req}"), users=5)
scenario = lk.load_scenario("{scen}")
frame = lk.frame_at(scenario, 1.5)
result = lk.mix(scenario, "out")
try:
    lk.mix(scenario, "out")
except lk.LayoutkitError as error:
    print("REFUSED", type(error).__name__, error)
again = lk.mix(scenario, "out", overwrite=True)
print("OK", image.shape, frame.shape, *frame[2, 2].tolist(), result.frames, again.frames)
"""


def test_the_six_line_script_from_another_directory(tmp_path):
    """The six-line script works from another directory, and a second mix overwrites.

    load_request + preview, load_scenario (relative image path, run elsewhere) + frame_at
    + mix; a second mix is refused without naming a command-line flag, then overwrites.
    """
    project = tmp_path / "project"
    project.mkdir()
    Image.new("RGB", (80, 46), (250, 120, 0)).save(project / "canvas.jpg", quality=95)
    (project / "req.json").write_text(json.dumps({"mixedVideoLayout": 1}))
    doc = scenario_doc([{"uid": "1", "source": "#0000FF"}], duration=2,
                       transcoding={"width": 80, "height": 46, "mixedVideoLayout": 3,
                                    "backgroundImage": "canvas.jpg",
                                    "layoutConfig": [{"x_axis": 0.5, "y_axis": 0.5,
                                                      "width": 0.5, "height": 0.5}]})
    (project / "scen.json").write_text(json.dumps(doc))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = textwrap.dedent(SCRIPT).format(req=project / "req.json",
                                          scen=Path("..") / "project" / "scen.json")
    assert len([line for line in code.splitlines() if line.strip()]) <= 11
    run = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    refused = next(line for line in run.stdout.splitlines() if line.startswith("REFUSED"))
    assert "OutputExistsError" in refused and "exists" in refused
    assert "--" not in refused and "force" not in refused
    ok = next(line for line in run.stdout.splitlines() if line.startswith("OK"))
    # the top-left pixel is the canvas image (orange), found although the run was elsewhere
    assert ok.startswith("OK (640, 360, 3) (46, 80, 3) ") and ok.endswith(" 30 30")
    red, green, blue = (int(v) for v in ok.split()[-5:-2])
    assert abs(red - 250) <= 8 and abs(green - 120) <= 8 and blue <= 12
    assert (elsewhere / "out" / "serverResponse.json").exists()


def test_the_readme_python_snippet_runs(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Python"):]
    code = section[section.index("```python") + len("```python"):]
    code = code[:code.index("```")]
    samples = Path(lk.__file__).parent / "samples"
    code = code.replace('"samples/', f'"{samples}/') + "\nprint(image.shape, frame.shape)\n"
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "serverResponse.json").exists()


def test_compare_result_and_difference_are_exported_and_typed():
    import typing

    from layoutkit.comparison import events, model

    assert {"CompareResult", "Difference"} <= set(lk.__all__)
    assert lk.CompareResult is model.CompareResult and lk.Difference is model.Difference
    # EventFit is model's only under TYPE_CHECKING (events imports model)
    names = {**vars(model), "EventFit": events.EventFit}
    for cls in (lk.CompareResult, lk.Difference, model.Evidence):
        hints = typing.get_type_hints(cls, names)
        loose = [name for name, hint in hints.items() if hint is typing.Any]
        assert not loose, f"{cls.__name__}: {loose} typed Any"
    d = lk.Difference("drift", "the codes drift", expected=0, observed=[1.5, {"a": None}])
    assert lk.CompareResult("differ", differences=(d,)).to_json()["differences"][0][
        "observed"] == [1.5, {"a": None}]


def test_import_layoutkit_does_not_load_compare():
    code = ("import sys, layoutkit as lk; assert 'layoutkit.comparison.model' not in sys.modules;"
            " lk.Difference; assert 'layoutkit.comparison.model' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
