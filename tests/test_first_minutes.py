"""Issue 11, request / validate side: what a newcomer runs into in the first minutes."""

from __future__ import annotations


import io
import json

import pytest

from layoutkit.cli import main
from layoutkit.errors import RequestError, format_value
from layoutkit.request.parse import parse_request


def _errors(doc):
    with pytest.raises(RequestError) as info:
        parse_request(doc)
    return [str(p) for p in info.value.problems]


# --- 1. an inner object given at the top of a body: one problem naming the wrapping ----------
def test_bare_transcoding_content_is_one_problem_naming_the_wrapping():
    lines = _errors({"width": 640, "height": 360, "fps": 15, "bitrate": 500,
                     "mixedVideoLayout": 1})
    assert lines == [
        'code 2: <root>: is the content of a transcodingConfig, not an updateLayout '
        'clientRequest (width, height, fps, bitrate are not its keys); transcodingConfig '
        'belongs in clientRequest.recordingConfig: wrap it as '
        '{"recordingConfig": {"transcodingConfig": {...}}}']


@pytest.mark.parametrize(("doc", "path", "home"), [
    ({"transcodingConfig": {"width": 640}}, "transcodingConfig",
     "clientRequest.recordingConfig"),
    ({"cname": "c", "uid": "1", "recordingConfig": {}}, "recordingConfig", "clientRequest"),
    ({"cname": "c", "uid": "1", "clientRequest": {"transcodingConfig": {}}},
     "clientRequest.transcodingConfig", "clientRequest.recordingConfig"),
    ({"recordingConfig": {}, "layoutConfig": []}, "layoutConfig",
     "clientRequest.recordingConfig.transcodingConfig"),
])
def test_inner_object_at_the_top_is_one_problem(doc, path, home):
    lines = _errors(doc)
    assert not [x for x in lines if "unknown key" in x or "recordingConfig: is required" in x]
    assert len(lines) == 1 + ("cname" in doc and "clientRequest" in doc), lines  # storageConfig
    assert lines[0].startswith(f"code 2: {path}: belongs in {home}, not here; wrap it as {{")


@pytest.mark.parametrize(("doc", "name"), [
    ({"vendor": 1, "region": 0, "bucket": "b", "accessKey": "a", "secretKey": "s"},
     "storageConfig"),
    ({"channelType": 0, "streamTypes": 2, "transcodingConfig": {}}, "recordingConfig"),
    ({"cname": "c", "uid": "1", "clientRequest": {"width": 640, "height": 360, "fps": 15}},
     "transcodingConfig"),
])
def test_content_of_other_inner_objects(doc, name):
    lines = _errors(doc)
    assert len(lines) == 1 and f"is the content of a {name}" in lines[0], lines


def test_an_array_is_wrapped_as_an_array():
    assert _errors({"recordingConfig": {}, "layoutConfig": []}) == [
        "code 2: layoutConfig: belongs in clientRequest.recordingConfig.transcodingConfig, "
        'not here; wrap it as {"recordingConfig": {"transcodingConfig": '
        '{"layoutConfig": [{...}]}}}']


def test_a_wrong_key_among_right_ones_stays_an_unknown_key():
    body = {"cname": "c", "uid": "1", "clientRequest": {"mixedVideoLayout": 1, "width": 640}}
    assert _errors(body) == ["code 2: clientRequest.width: unknown key"]


# --- 2. storageConfig: required in a whole start body, a warning in a bare one -----------------
def test_storage_config_rule_is_coherent():
    bare = {"recordingConfig": {"channelType": 0}}
    _, warnings = parse_request(bare)
    assert [str(w) for w in warnings] == [
        "warning: storageConfig: is missing; the cloud refuses a start request without it "
        "(code 2); this bare clientRequest is checked without storage; add storageConfig "
        "before sending it (vendor, region, bucket, accessKey, secretKey)"]
    whole = {"cname": "c", "uid": "1", "clientRequest": bare}
    assert _errors(whole) == ["code 2: clientRequest.storageConfig: is required"]
    storage = {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "a", "secretKey": "s"}
    _, warnings = parse_request({**bare, "storageConfig": storage})
    assert warnings == []
    _, warnings = parse_request({"mixedVideoLayout": 1})  # updateLayout: no storage at all
    assert warnings == []


def _validate(path):
    out, err = io.StringIO(), io.StringIO()
    code = main(["validate", str(path)], out=out, err=err)
    return code, out.getvalue(), err.getvalue().splitlines()


STORAGE = {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "a", "secretKey": "s"}


# --- 3. a missing local image is a warning at validate time -----------------------------------
def test_missing_local_images_are_warned_with_the_resolved_file(tmp_path):
    from PIL import Image

    (tmp_path / "imgs").mkdir()
    (tmp_path / "dir.jpg").mkdir()
    Image.new("RGB", (16, 16)).save(tmp_path / "imgs" / "here.jpg")
    body = {"cname": "c", "uid": "1", "clientRequest": {
        "recordingConfig": {"transcodingConfig": {
            "backgroundImage": "imgs/gone.jpg",
            "defaultUserBackgroundImage": "https://example.invalid/never-fetched.jpg",
            "backgroundConfig": [{"uid": "2", "image_url": "imgs/here.jpg"},
                                 {"uid": "3", "image_url": (tmp_path / "u3.jpg").as_uri()},
                                 {"uid": "4", "image_url": "dir.jpg"}]}},
        "storageConfig": STORAGE}}
    path = tmp_path / "req.json"
    path.write_text(json.dumps(body))
    code, out, lines = _validate(path)
    assert code == 0 and out == f"{path}: valid StartRequest\n"
    tc = "clientRequest.recordingConfig.transcodingConfig"
    tail = "; the cloud ignores an image it cannot fetch (no image is drawn)"
    assert lines == [
        f'{path}: warning: {tc}.backgroundImage: local image not found: '
        f'{tmp_path / "imgs" / "gone.jpg"}{tail} (got "imgs/gone.jpg")',
        f'{path}: warning: {tc}.backgroundConfig[1].image_url: local image not found: '
        f'{tmp_path / "u3.jpg"}{tail} (got {format_value((tmp_path / "u3.jpg").as_uri())})',
        f'{path}: warning: {tc}.backgroundConfig[2].image_url: local image is a folder: '
        f'{tmp_path / "dir.jpg"}{tail} (got "dir.jpg")']


def test_missing_image_of_a_bare_update_layout_and_of_a_scenario(tmp_path):
    from layoutkit.inputs import image_lint, load_request_file
    from layoutkit.scenario import parse_scenario
    from tests.helpers import scenario_doc

    path = tmp_path / "u.json"
    path.write_text(json.dumps({"mixedVideoLayout": 1, "backgroundImage": "no.jpg"}))
    problems = image_lint(load_request_file(path).model)
    assert [(p.path, p.severity) for p in problems] == [("backgroundImage", "warning")]
    doc = scenario_doc(transcoding={"backgroundImage": "missing.jpg"})
    problems = image_lint(parse_scenario(doc, base_dir=tmp_path))
    assert [p.path for p in problems] == [
        "start.clientRequest.recordingConfig.transcodingConfig.backgroundImage"]
    assert str(tmp_path / "missing.jpg") in problems[0].rule


# --- 4. messages name the file; the count line explains "code 2" --------------------------------
def test_refused_body_lines_name_the_file_and_end_with_the_count(tmp_path):
    path = tmp_path / "req.json"
    path.write_text(json.dumps({"cname": "c", "uid": "1", "clientRequest": {
        "recordingConfig": {"transcodingConfig": {"width": "640", "fps": 20}}}}))
    code, out, lines = _validate(path)
    assert code == 1 and out == ""
    tc = "clientRequest.recordingConfig.transcodingConfig"
    assert lines[0].startswith(f"{path}: warning: {tc}.fps: fps 20 is not supported")
    assert lines[1:] == [
        f'{path}: code 2: {tc}.width: must be a number (got "640"); '
        "did you mean 640 (a number, without quotes)?",
        f"{path}: code 2: clientRequest.storageConfig: is required",
        f"{path}: 2 problems (Agora error code 2: invalid parameter)"]


def test_malformed_json_and_a_scenario_name_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"a": 1,,}')
    code, _, lines = _validate(path)
    assert code == 1 and lines == [
        f"{path}: code 2: <root>: malformed JSON at line 1, column 9: "
        "Expecting property name enclosed in double quotes",
        f"{path}: 1 problem (Agora error code 2: invalid parameter)"]
    from tests.helpers import scenario_doc

    doc = scenario_doc()
    doc["duration"] = -1
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    code, _, lines = _validate(path)
    assert code == 1 and lines[-1].startswith(f"{path}: ")
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert lines[-1].endswith(" (Agora error code 2: invalid parameter)")
