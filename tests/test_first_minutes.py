"""Issue 11, request / validate side: what a newcomer runs into in the first minutes."""

from __future__ import annotations


import pytest

from layoutkit.cli import main
from layoutkit.errors import RequestError
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
