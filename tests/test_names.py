"""One name per thing (issue 22, item 5): display states, subscription rules, file reading.

* compare speaks of a region's state with the timeline's :class:`DisplayState` (a ``str``
  enum) and its own two :class:`NoUser` states, never with string literals; the JSON output
  keeps the plain strings;
* the recorder's subscription rules for previews are methods of the request model;
* request and scenario text is read by ``layoutkit.io``, not by ``layoutkit.inputs``.
"""

from __future__ import annotations

import ast
import json
import threading
from pathlib import Path

import pytest

import layoutkit as lk

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "layoutkit"
SAMPLES = PACKAGE / "samples"


# --------------------------------------------------------------------------- display states

def _docstring_ids(tree: ast.Module) -> set[int]:
    kinds = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, kinds) and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)}


def test_compare_spells_no_display_state_as_a_string() -> None:
    """Every state compare compares, stores or keys on is an enum member, not a literal."""
    from layoutkit.comparison.model import NoUser
    from layoutkit.timeline import DisplayState

    values = {s.value for s in DisplayState} | {s.value for s in NoUser}
    found = []
    for path in sorted((PACKAGE / "comparison").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstring_ids(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):  # a words table's values are words, not states
                skip |= {id(v) for v in node.values}
            if isinstance(node, ast.ClassDef) and node.name == "NoUser":  # the definitions
                skip |= {id(n) for n in ast.walk(node)}
        found += [f"{path.name}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in values
                  and id(node) not in skip]
    assert found == []


def test_expected_states_are_the_timelines_enum_and_json_keeps_the_strings() -> None:
    from layoutkit.comparison.expect import build_expectation
    from layoutkit.comparison.model import Interval, NoUser
    from layoutkit.comparison.observe import FrameSampler
    from layoutkit.comparison.runs import Part
    from layoutkit.profile import DEFAULT_PROFILE
    from layoutkit.render import SceneRenderer
    from layoutkit.timeline import DisplayState

    scenario = lk.load_scenario(SAMPLES / "scenario-display-rules.json")
    with SceneRenderer(scenario) as renderer:
        expectation = build_expectation(scenario, FrameSampler((640, 360)),
                                        profile=DEFAULT_PROFILE, renderer=renderer)
    states = [r.label[1] for p in expectation.periods for r in p.regions]
    assert all(isinstance(s, DisplayState | NoUser) for s in states), set(map(type, states))
    # the sample's display rules: live, frozen, black, canvas colour and a user's image
    assert {DisplayState.LIVE, DisplayState.LAST_FRAME, DisplayState.BLACK,
            DisplayState.USER_IMAGE} <= set(states)
    label = ("1001", DisplayState.LAST_FRAME)
    for doc in (Part(label, 1.0, 2.0).to_json(), Interval(1.0, 2.0, None, NoUser.EMPTY).to_json()):
        assert type(doc["state"]) is str
    assert json.dumps(Part(label, 1.0, 2.0).to_json()) == \
        '{"uid": "1001", "state": "last_frame", "from": 1.0, "until": 2.0}'
    assert json.dumps({"state": NoUser.UNKNOWN}) == '{"state": "unknown"}'


# --------------------------------------------------------------------------- subscriptions

def _start_body(**recording: object) -> dict:
    import copy

    doc = json.loads((SAMPLES / "start-bestfit.json").read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    doc["clientRequest"]["recordingConfig"].update(recording)
    return doc


def _within(seconds: float, call):  # type: ignore[no-untyped-def]
    """Run ``call()`` in a thread: its result or exception; fail when it takes over ``seconds``."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = call()
        except Exception as exc:  # handed back to the test
            out["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    return out


@pytest.mark.parametrize("recording", [{"streamTypes": 0}, {"subscribeAudioUids": ["1"]}],
                         ids=["audio-only", "audio-list-only"])
def test_a_contact_sheet_of_no_subscribed_video_says_so_instead_of_hanging(recording) -> None:
    """The sheet's join order skipped unsubscribed numbers forever when none is subscribed."""
    out = _within(20, lambda: lk.contact_sheet(_start_body(**recording), canvas_wh=(160, 90)))
    assert isinstance(out.get("error"), lk.ParameterError), out
    assert "subscribes to no video" in str(out["error"])


def test_the_subscription_rules_are_methods_of_the_request_model() -> None:
    import layoutkit.annotate as annotate
    from layoutkit.request.model import RecordingConfig

    assert not {"default_users", "sheet_users", "subscribed_split"} & set(vars(annotate))
    config = RecordingConfig(unsubscribe_video_uids=("2", "4"))
    assert config.sheet_uids(3) == ["1", "3", "5"]
    assert config.split_video_subscribed(["1", "2", "3"]) == (["1", "3"], ["2"])
    assert RecordingConfig(subscribe_video_uids=("9", "8")).preview_uids() == ["9", "8"]
    assert RecordingConfig(subscribe_audio_uids=("1",)).sheet_uids(17) == []
    sheet = lk.contact_sheet(_start_body(unSubscribeVideoUids=["2"]), canvas_wh=(160, 90))
    assert sheet.ndim == 3


# --------------------------------------------------------------------------- file reading

def test_inputs_reads_no_file_itself_io_text_does() -> None:
    """``layoutkit.inputs`` parses; every byte of a request, scenario or log is read in io/."""
    from layoutkit import inputs
    from layoutkit.io import text

    tree = ast.parse((PACKAGE / "inputs.py").read_text(encoding="utf-8"))
    readers = {"open", "read", "fdopen", "fstat", "read_limited", "read_bytes"}
    calls = sorted(f"{node.lineno}: {ast.unparse(node.func)}" for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
                   and (node.func.attr if isinstance(node.func, ast.Attribute)
                        else node.func.id) in readers)
    assert calls == []
    assert inputs.read_text is text.read_text


def test_io_text_reads_a_file_and_refuses_a_fifo_at_once(tmp_path: Path) -> None:
    import os

    from layoutkit.io.text import read_text, read_text_file

    path = tmp_path / "s.json"
    path.write_text('{"a": "\u00e9"}', encoding="utf-8")
    assert read_text(path) == read_text_file(path, limit=100, what="note") == '{"a": "\u00e9"}'
    with pytest.raises(lk.MediaError, match=r"s\.json: larger than 4 bytes"):
        read_text_file(path, limit=4, what="note")
    fifo = tmp_path / "f.json"
    os.mkfifo(fifo)
    out = _within(10, lambda: read_text(fifo))
    assert isinstance(out.get("error"), lk.MediaError), out
    assert "f.json: is a FIFO" in str(out["error"])


def test_report_pictures_use_the_one_png_encoder() -> None:
    import base64

    import numpy as np

    from layoutkit.comparison.report import png_data_uri
    from layoutkit.io.png import encode_png

    picture = np.random.default_rng(7).integers(0, 256, (27, 48, 3), dtype=np.uint8)
    uri = png_data_uri(picture)
    assert uri == "data:image/png;base64," + base64.b64encode(encode_png(picture)).decode()
    assert png_data_uri(picture, size=(24, 14)).startswith("data:image/png;base64,")
