"""Every request rule of the brief: one bad body per rule, with the path and the words.

Bodies are built by patching a valid base body (``patched(BASE, {path: value})``); the
path syntax is the one of the messages (``a.b[0].c``), ``DELETE`` removes a key.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from layoutkit.errors import Problem, RequestError, ParameterError
from layoutkit.request import limits
from layoutkit.request.dump import to_json
from layoutkit.request.lint import lint, lint_canvas_vs_sources, lint_start
from layoutkit.request.model import (
    AcquireRequest,
    StartRequest,
    StopRequest,
    UpdateLayoutRequest,
    UpdateRequest,
)
from layoutkit.request.parse import (
    detect_kind,
    load_json,
    parse_layout_settings,
    parse_request,
    uid_problem,
)

DELETE = object()

CR = "clientRequest"
RC = "clientRequest.recordingConfig"
TC = "clientRequest.recordingConfig.transcodingConfig"
LC = "clientRequest.recordingConfig.transcodingConfig.layoutConfig"
BC = "clientRequest.recordingConfig.transcodingConfig.backgroundConfig"
SC = "clientRequest.storageConfig"

START: dict[str, Any] = {
    "cname": "room1",
    "uid": "527841",
    "clientRequest": {
        "token": "tok",
        "recordingConfig": {
            "channelType": 0,
            "streamTypes": 2,
            "maxIdleTime": 30,
            "audioProfile": 0,
            "transcodingConfig": {
                "width": 640,
                "height": 360,
                "fps": 15,
                "bitrate": 400,
                "mixedVideoLayout": 3,
                "backgroundColor": "#000000",
                "layoutConfig": [
                    {"uid": "1", "x_axis": 0, "y_axis": 0, "width": 0.5, "height": 1},
                    {"x_axis": 0.5, "y_axis": 0, "width": 0.5, "height": 1, "alpha": 1,
                     "render_mode": 1},
                ],
                "backgroundConfig": [{"uid": "1", "image_url": "https://example.com/u1.jpg"}],
            },
        },
        "recordingFileConfig": {"avFileType": ["hls", "mp4"]},
        "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "ak",
                          "secretKey": "sk", "fileNamePrefix": ["dir1", "dir2"]},
    },
}
ACQUIRE = {"cname": "room1", "uid": "527841",
           "clientRequest": {"scene": 0, "resourceExpiredHour": 24, "region": "CN"}}
UPDATE = {"cname": "room1", "uid": "527841",
          "clientRequest": {"streamSubscribe": {
              "audioUidList": {"subscribeAudioUids": ["1"]},
              "videoUidList": {"unSubscribeVideoUids": ["2"]}}}}
STOP = {"cname": "room1", "uid": "527841", "clientRequest": {"async_stop": False}}
UPDATE_LAYOUT = {"cname": "room1", "uid": "527841",
                 "clientRequest": {"mixedVideoLayout": 2, "maxResolutionUid": "1",
                                   "backgroundColor": "#ff0000"}}


def _tokens(path: str) -> list[str | int]:
    tokens = re.findall(r"\[\d+\]|[^.\[\]]+", path)
    return [int(t[1:-1]) if t.startswith("[") else t for t in tokens]


def patched(body: dict[str, Any], patches: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``body`` with ``{path: value}`` set.

    A value ``DELETE`` removes the key; an index equal to the list's length appends.
    """
    body = copy.deepcopy(body)
    for path, value in patches.items():
        *parents, last = _tokens(path)
        node: Any = body
        for token in parents:
            if isinstance(token, str) and token not in node:
                node[token] = {}
            node = node[token]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list) and last == len(node):
            node.append(copy.deepcopy(value))
        else:
            node[last] = copy.deepcopy(value)
    return body


def problems_of(body: Any, kind: str | None = None) -> tuple[Problem, ...]:
    with pytest.raises(RequestError) as info:
        parse_request(body, kind=kind)
    assert all(p.severity == "error" for p in info.value.problems)
    return info.value.problems


def assert_reported(problems: tuple[Problem, ...] | list[Problem], path: str,
                    words: str | tuple[str, ...]) -> None:
    words = (words,) if isinstance(words, str) else words
    at_path = [str(p) for p in problems if p.path == path]
    assert at_path, f"nothing at {path!r}; got:\n" + "\n".join(str(p) for p in problems)
    assert any(all(w in text for w in words) for text in at_path), "\n".join(at_path)


def region(x: float, y: float, w: float, h: float, **extra: Any) -> dict[str, Any]:
    return {"x_axis": x, "y_axis": y, "width": w, "height": h, **extra}


# (id, base, patches, path, words)
ERROR_CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, str | tuple[str, ...]]] = [
    # envelope, cname, uid
    ("cname-missing", START, {"cname": DELETE}, "cname", "is required"),
    ("cname-empty", START, {"cname": ""}, "cname", "must not be empty"),
    ("cname-64-bytes", START, {"cname": "a" * 64}, "cname", "shorter than 64 bytes"),
    ("cname-multibyte", START, {"cname": "é" * 32}, "cname", "shorter than 64 bytes"),
    ("cname-bad-char", START, {"cname": "a/b"}, "cname", ("not allowed", "'/'")),
    ("cname-not-string", START, {"cname": 5}, "cname", "must be a string"),
    ("uid-missing", START, {"uid": DELETE}, "uid", "is required"),
    ("uid-zero", START, {"uid": "0"}, "uid", "must be in [1, 4294967295]"),
    ("uid-too-big", START, {"uid": "4294967296"}, "uid", "must be in [1, 4294967295]"),
    ("uid-plus", START, {"uid": "+1"}, "uid", "digits only"),
    ("uid-space", START, {"uid": " 12"}, "uid", "digits only"),
    ("uid-leading-zero", START, {"uid": "012"}, "uid", "leading zeros"),
    ("uid-bool", START, {"uid": True}, "uid", "must be a string"),
    ("client-missing", START, {CR: DELETE}, CR, "is required"),
    ("client-not-object", START, {CR: []}, CR, "must be an object"),
    ("envelope-unknown", START, {"sid": "x"}, "sid", "unknown key"),
    ("token-type", START, {f"{CR}.token": 5}, f"{CR}.token", "must be a string"),
    ("start-unknown", START, {f"{CR}.mode": "mix"}, f"{CR}.mode", "unknown key"),
    # transcodingConfig: canvas and encoder
    ("width-zero", START, {f"{TC}.width": 0}, f"{TC}.width", "must be in [1, 1920]"),
    ("width-big", START, {f"{TC}.width": 1921}, f"{TC}.width", "must be in [1, 1920]"),
    ("height-big", START, {f"{TC}.height": 2000}, f"{TC}.height", "must be in [1, 1920]"),
    ("width-string", START, {f"{TC}.width": "640"}, f"{TC}.width",
     ("must be a number", "did you mean 640")),
    ("width-bool", START, {f"{TC}.width": True}, f"{TC}.width", "must be a number (got true)"),
    ("width-null", START, {f"{TC}.width": None}, f"{TC}.width", "must be a number (got null)"),
    ("width-fraction", START, {f"{TC}.width": 640.5}, f"{TC}.width", "must be an integer"),
    ("area", START, {f"{TC}.width": 1920, f"{TC}.height": 1920}, TC,
     "area 1920x1920 exceeds 1920x1080"),
    ("fps-fraction", START, {f"{TC}.fps": 15.5}, f"{TC}.fps", "must be an integer"),
    ("bitrate-big", START, {f"{TC}.bitrate": 6501}, f"{TC}.bitrate", "must be in [1, 6500]"),
    ("bitrate-zero", START, {f"{TC}.bitrate": 0}, f"{TC}.bitrate", "must be in [1, 6500]"),
    ("layout-mode", START, {f"{TC}.mixedVideoLayout": 4}, f"{TC}.mixedVideoLayout",
     "must be one of 0, 1, 2, 3"),
    ("color-short", START, {f"{TC}.backgroundColor": "#12345"}, f"{TC}.backgroundColor",
     "must be '#RRGGBB'"),
    ("color-name", START, {f"{TC}.backgroundColor": "red"}, f"{TC}.backgroundColor",
     "must be '#RRGGBB'"),
    ("color-no-hash", START, {f"{TC}.backgroundColor": "ff0000"}, f"{TC}.backgroundColor",
     "did you mean '#FF0000'?"),
    ("max-uid-number", START, {f"{TC}.maxResolutionUid": 123}, f"{TC}.maxResolutionUid",
     ('must be a string (got 123); did you mean "123"?',)),
    ("transcoding-unknown", START, {f"{TC}.widht": 1}, f"{TC}.widht",
     ("unknown key", "did you mean 'width'?")),
    ("transcoding-not-object", START, {f"{TC}": "x"}, TC, "must be an object"),
    # images
    ("image-empty", START, {f"{TC}.backgroundImage": ""}, f"{TC}.backgroundImage",
     "must not be empty"),
    ("image-scheme", START, {f"{TC}.backgroundImage": "ftp://h/x.jpg"}, f"{TC}.backgroundImage",
     "must be an http(s):// or file:// URL or a local file path"),
    ("image-no-host", START, {f"{TC}.defaultUserBackgroundImage": "https:///x.jpg"},
     f"{TC}.defaultUserBackgroundImage", "must be an http(s)://"),
    ("image-type", START, {f"{TC}.backgroundImage": 5}, f"{TC}.backgroundImage",
     "must be a string"),
    # layoutConfig
    ("regions-without-custom", START, {f"{TC}.mixedVideoLayout": 1}, LC,
     "is only allowed with mixedVideoLayout 3"),
    ("regions-required", START, {LC: DELETE}, LC, "is required when mixedVideoLayout is 3"),
    ("regions-empty", START, {LC: []}, LC, "must not be empty"),
    ("regions-too-many", START, {LC: [region(0, 0, 0.1, 0.1)] * 18}, LC,
     "must have at most 17 entries (has 18)"),
    ("regions-not-array", START, {LC: {}}, LC, "must be an array"),
    ("region-not-object", START, {f"{LC}[0]": 5}, f"{LC}[0]", "must be an object"),
    ("region-x-missing", START, {f"{LC}[0].x_axis": DELETE}, f"{LC}[0].x_axis", "is required"),
    ("region-x-negative", START, {f"{LC}[0].x_axis": -0.1}, f"{LC}[0].x_axis", "must be in [0, 1]"),
    ("region-y-decimals", START, {f"{LC}[0].y_axis": 0.1234567}, f"{LC}[0].y_axis",
     "must have at most 6 decimals"),
    ("region-tiny-decimals", START, {f"{LC}[0].y_axis": 1e-7}, f"{LC}[0].y_axis",
     "must have at most 6 decimals"),
    ("region-width-zero", START, {f"{LC}[0].width": 0}, f"{LC}[0].width", "must be in (0, 1]"),
    ("region-height-zero", START, {f"{LC}[0].height": 0}, f"{LC}[0].height", "must be in (0, 1]"),
    ("region-height-string", START, {f"{LC}[0].height": "1"}, f"{LC}[0].height",
     "must be a number"),
    ("region-x-overflow", START, {f"{LC}[1].x_axis": 0.6}, f"{LC}[1]",
     "x_axis + width must be <= 1"),
    ("region-y-overflow", START, {f"{LC}[1].y_axis": 0.25}, f"{LC}[1]",
     "y_axis + height must be <= 1 (got 1.25)"),
    ("region-alpha", START, {f"{LC}[0].alpha": 1.5}, f"{LC}[0].alpha", "must be in [0, 1]"),
    ("region-render-mode", START, {f"{LC}[0].render_mode": 2}, f"{LC}[0].render_mode",
     "must be one of 0, 1"),
    ("region-uid-zero", START, {f"{LC}[0].uid": "0"}, f"{LC}[0].uid", "must be in [1, 4294967295]"),
    ("region-uid-duplicate", START, {f"{LC}[1].uid": "1"}, f"{LC}[1].uid",
     "duplicate uid (also in layoutConfig[0])"),
    ("region-unknown", START, {f"{LC}[0].X_axis": 0}, f"{LC}[0].X_axis",
     ("unknown key", "did you mean 'x_axis'?")),
    # backgroundConfig
    ("user-bg-uid-missing", START, {f"{BC}[0].uid": DELETE}, f"{BC}[0].uid", "is required"),
    ("user-bg-url-missing", START, {f"{BC}[0].image_url": DELETE}, f"{BC}[0].image_url",
     "is required"),
    ("user-bg-duplicate", START, {f"{BC}[1]": {"uid": "1", "image_url": "b.jpg"}}, f"{BC}[1].uid",
     "duplicate uid"),
    ("user-bg-render-mode", START, {f"{BC}[0].render_mode": 3}, f"{BC}[0].render_mode",
     "must be one of 0, 1"),
    ("user-bg-not-array", START, {BC: {"uid": "1"}}, BC, "must be an array"),
    # recordingConfig
    ("recording-missing", START, {RC: DELETE}, RC, "is required"),
    ("channel-type", START, {f"{RC}.channelType": 2}, f"{RC}.channelType", "must be one of 0, 1"),
    ("stream-types", START, {f"{RC}.streamTypes": 3}, f"{RC}.streamTypes",
     "must be one of 0, 1, 2"),
    ("decryption-mode", START, {f"{RC}.decryptionMode": 9}, f"{RC}.decryptionMode",
     "must be in [0, 8]"),
    ("secret-required", START, {f"{RC}.decryptionMode": 1}, f"{RC}.secret",
     "is required when decryptionMode is 1"),
    ("salt-required", START, {f"{RC}.decryptionMode": 7, f"{RC}.secret": "s"}, f"{RC}.salt",
     "is required when decryptionMode is 7"),
    ("salt-base64", START, {f"{RC}.decryptionMode": 8, f"{RC}.secret": "s", f"{RC}.salt": "abc"},
     f"{RC}.salt", "must be the Base64 encoding of 32 bytes"),
    ("max-idle-low", START, {f"{RC}.maxIdleTime": 4}, f"{RC}.maxIdleTime",
     "must be in [5, 2592000]"),
    ("max-idle-high", START, {f"{RC}.maxIdleTime": 2592001}, f"{RC}.maxIdleTime",
     "must be in [5, 2592000]"),
    ("audio-profile", START, {f"{RC}.audioProfile": 3}, f"{RC}.audioProfile",
     "must be one of 0, 1, 2"),
    ("video-stream-type", START, {f"{RC}.videoStreamType": 2}, f"{RC}.videoStreamType",
     "must be one of 0, 1"),
    ("list-empty", START, {f"{RC}.subscribeAudioUids": []}, f"{RC}.subscribeAudioUids",
     "must not be empty"),
    ("list-too-long", START, {f"{RC}.subscribeVideoUids": [str(i) for i in range(1, 34)]},
     f"{RC}.subscribeVideoUids", "must have at most 32 entries (has 33)"),
    ("list-duplicate", START, {f"{RC}.unSubscribeAudioUids": ["5", "5"]},
     f"{RC}.unSubscribeAudioUids[1]", "duplicate entry (same as [0])"),
    ("list-not-array", START, {f"{RC}.subscribeAudioUids": "123"}, f"{RC}.subscribeAudioUids",
     "must be an array"),
    ("list-item-number", START, {f"{RC}.subscribeAudioUids": [123]},
     f"{RC}.subscribeAudioUids[0]", 'did you mean "123"?'),
    ("list-item-word", START, {f"{RC}.subscribeAudioUids": ["all"]},
     f"{RC}.subscribeAudioUids[0]", ("digits only", "'#allstream#'")),
    ("allstream-in-blacklist", START, {f"{RC}.unSubscribeVideoUids": ["#allstream#"]},
     f"{RC}.unSubscribeVideoUids[0]", "digits only"),
    ("lists-exclusive-audio", START,
     {f"{RC}.subscribeAudioUids": ["1"], f"{RC}.unSubscribeAudioUids": ["2"]},
     f"{RC}.unSubscribeAudioUids", "cannot be used together with subscribeAudioUids"),
    ("lists-exclusive-video", START,
     {f"{RC}.unsubscribeVideoUids": ["2"], f"{RC}.subscribeVideoUids": ["1"]},
     f"{RC}.subscribeVideoUids", "cannot be used together with unsubscribeVideoUids"),
    ("lists-both-spellings", START,
     {f"{RC}.unSubscribeAudioUids": ["2"], f"{RC}.unsubscribeAudioUids": ["3"]},
     f"{RC}.unsubscribeAudioUids", "cannot be used together with unSubscribeAudioUids"),
    ("audio-list-video-only", START, {f"{RC}.streamTypes": 1, f"{RC}.subscribeAudioUids": ["1"]},
     f"{RC}.subscribeAudioUids", "is not allowed with streamTypes 1"),
    ("video-list-audio-only", START, {f"{RC}.streamTypes": 0, f"{RC}.unSubscribeVideoUids": ["1"]},
     f"{RC}.unSubscribeVideoUids", "is not allowed with streamTypes 0"),
    ("uid-group", START, {f"{RC}.subscribeUidGroup": 6}, f"{RC}.subscribeUidGroup",
     "must be one of 0, 1, 2, 3, 4, 5"),
    ("stream-mode", START, {f"{RC}.streamMode": "default"}, f"{RC}.streamMode",
     "individual mode only"),
    ("private-params-text", START, {f"{RC}.privateParams": "{"}, f"{RC}.privateParams",
     "must be a JSON object in a string (malformed JSON at line 1, column 2"),
    ("private-params-object", START, {f"{RC}.privateParams": {"a": 1}}, f"{RC}.privateParams",
     "must be a string"),
    ("private-params-array", START, {f"{RC}.privateParams": "[1]"}, f"{RC}.privateParams",
     "must be a JSON object in a string"),
    ("recording-unknown", START, {f"{RC}.subscribeAudioUid": ["1"]}, f"{RC}.subscribeAudioUid",
     "did you mean 'subscribeAudioUids'?"),
    # recordingFileConfig
    ("mp4-alone", START, {f"{CR}.recordingFileConfig.avFileType": ["mp4"]},
     f"{CR}.recordingFileConfig.avFileType", 'must contain "hls"'),
    ("av-empty", START, {f"{CR}.recordingFileConfig.avFileType": []},
     f"{CR}.recordingFileConfig.avFileType", 'must contain "hls"'),
    ("av-repeat", START, {f"{CR}.recordingFileConfig.avFileType": ["hls", "hls"]},
     f"{CR}.recordingFileConfig.avFileType", "must not repeat"),
    ("av-value", START, {f"{CR}.recordingFileConfig.avFileType": ["hls", "HLS"]},
     f"{CR}.recordingFileConfig.avFileType[1]",
     ('must be one of "hls", "mp4"', "did you mean 'hls'?")),
    ("av-not-array", START, {f"{CR}.recordingFileConfig.avFileType": "hls"},
     f"{CR}.recordingFileConfig.avFileType", "must be an array"),
    # storageConfig
    ("storage-missing", START, {SC: DELETE}, SC, "is required"),
    ("vendor-missing", START, {f"{SC}.vendor": DELETE}, f"{SC}.vendor", "is required"),
    ("vendor-value", START, {f"{SC}.vendor": 9}, f"{SC}.vendor",
     "must be one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 11"),
    ("region-negative", START, {f"{SC}.region": -1}, f"{SC}.region", "must be >= 0"),
    ("bucket-empty", START, {f"{SC}.bucket": ""}, f"{SC}.bucket", "must not be empty"),
    ("access-key-missing", START, {f"{SC}.accessKey": DELETE}, f"{SC}.accessKey", "is required"),
    ("secret-key-type", START, {f"{SC}.secretKey": 5}, f"{SC}.secretKey", "must be a string"),
    ("prefix-slash", START, {f"{SC}.fileNamePrefix": ["a/b"]}, f"{SC}.fileNamePrefix[0]",
     "may only contain letters and digits"),
    ("prefix-empty-item", START, {f"{SC}.fileNamePrefix": ["a", ""]}, f"{SC}.fileNamePrefix[1]",
     "must not be empty"),
    ("prefix-long", START, {f"{SC}.fileNamePrefix": ["abcde"] * 30}, f"{SC}.fileNamePrefix",
     "at most 128 characters (has 179)"),
    ("sse-value", START, {f"{SC}.extensionParams": {"sse": "AES256"}}, f"{SC}.extensionParams.sse",
     "did you mean 'aes256'?"),
    ("endpoint-vendor-11", START, {f"{SC}.vendor": 11}, f"{SC}.extensionParams",
     "is required when vendor is 11"),
    ("endpoint-missing", START, {f"{SC}.vendor": 11, f"{SC}.extensionParams": {"tag": "t"}},
     f"{SC}.extensionParams.endpoint", "is required when vendor is 11"),
    ("extension-unknown", START, {f"{SC}.extensionParams": {"Endpoint": "x"}},
     f"{SC}.extensionParams.Endpoint", "did you mean 'endpoint'?"),
    ("sts-expiration", START, {f"{SC}.stsExpiration": -1}, f"{SC}.stsExpiration", "must be >= 0"),
    # acquire
    ("scene", ACQUIRE, {f"{CR}.scene": 3}, f"{CR}.scene", "must be one of 0, 1, 2"),
    ("expired-hour-low", ACQUIRE, {f"{CR}.resourceExpiredHour": 0}, f"{CR}.resourceExpiredHour",
     "must be in [1, 720]"),
    ("expired-hour-high", ACQUIRE, {f"{CR}.resourceExpiredHour": 721},
     f"{CR}.resourceExpiredHour", "must be in [1, 720]"),
    ("acquire-region", ACQUIRE, {f"{CR}.region": "cn"}, f"{CR}.region",
     ('must be one of "CN", "AP", "EU", "NA"', "did you mean 'CN'?")),
    ("exclude-ids", ACQUIRE, {f"{CR}.excludeResourceIds": [1]}, f"{CR}.excludeResourceIds[0]",
     "must be a string"),
    ("start-parameter", ACQUIRE,
     {f"{CR}.startParameter": {"recordingConfig": {"transcodingConfig": {"width": 0}}}},
     f"{CR}.startParameter.recordingConfig.transcodingConfig.width", "must be in [1, 1920]"),
    # update
    ("update-empty-list", UPDATE, {f"{CR}.streamSubscribe.audioUidList.subscribeAudioUids": []},
     f"{CR}.streamSubscribe.audioUidList.subscribeAudioUids", "must not be empty"),
    ("update-long-list", UPDATE,
     {f"{CR}.streamSubscribe.videoUidList.unSubscribeVideoUids": [str(i) for i in range(1, 34)]},
     f"{CR}.streamSubscribe.videoUidList.unSubscribeVideoUids", "at most 32 entries"),
    ("update-exclusive", UPDATE,
     {f"{CR}.streamSubscribe.audioUidList.unsubscribeAudioUids": ["2"]},
     f"{CR}.streamSubscribe.audioUidList.unsubscribeAudioUids",
     "cannot be used together with subscribeAudioUids"),
    ("update-unknown", UPDATE, {f"{CR}.streamSubscribe.audioUidlist": {}},
     f"{CR}.streamSubscribe.audioUidlist", "did you mean 'audioUidList'?"),
    ("update-storage", UPDATE, {f"{SC}": {"vendor": 99}}, f"{SC}.vendor", "must be one of"),
    # stop
    ("async-stop-string", STOP, {f"{CR}.async_stop": "true"}, f"{CR}.async_stop",
     "must be true or false"),
    ("async-stop-number", STOP, {f"{CR}.async_stop": 1}, f"{CR}.async_stop",
     "must be true or false"),
    # updateLayout
    ("layout-wrong-case", UPDATE_LAYOUT, {f"{CR}.BackgroundColor": "#000000"},
     f"{CR}.BackgroundColor", "did you mean 'backgroundColor'?"),
    ("layout-regions-default-mode", UPDATE_LAYOUT,
     {f"{CR}.mixedVideoLayout": DELETE, f"{CR}.layoutConfig": [region(0, 0, 1, 1)]},
     f"{CR}.layoutConfig", "is only allowed with mixedVideoLayout 3 (custom), not 0"),
    ("layout-canvas-key", UPDATE_LAYOUT, {f"{CR}.width": 640}, f"{CR}.width", "unknown key"),
    ("layout-max-uid", UPDATE_LAYOUT, {f"{CR}.maxResolutionUid": "x"}, f"{CR}.maxResolutionUid",
     "digits only"),
]


@pytest.mark.parametrize(("base", "patches", "path", "words"),
                         [case[1:] for case in ERROR_CASES], ids=[case[0] for case in ERROR_CASES])
def test_rule(base, patches, path, words):
    assert_reported(problems_of(patched(base, patches)), path, words)


def test_every_base_body_is_valid():
    for body, model_type in ((START, StartRequest), (ACQUIRE, AcquireRequest),
                             (UPDATE, UpdateRequest), (STOP, StopRequest),
                             (UPDATE_LAYOUT, UpdateLayoutRequest)):
        model, warnings = parse_request(body)
        assert type(model) is model_type and list(warnings) == []
        assert (model.cname, model.uid) == (body["cname"], body["uid"])


# --- exact lines ------------------------------------------------------------------------
@pytest.mark.parametrize(("patches", "line"), [
    ({f"{LC}[0].x_axis": 1.5},
     "code 2: clientRequest.recordingConfig.transcodingConfig.layoutConfig[0].x_axis: "
     "must be in [0, 1] (got 1.5)"),
    ({f"{LC}[1].x_axis": 0.6},
     "code 2: clientRequest.recordingConfig.transcodingConfig.layoutConfig[1]: "
     "x_axis + width must be <= 1 (got 1.1)"),
    ({"uid": 123}, 'code 2: uid: must be a string (got 123); did you mean "123"?'),
    ({f"{TC}.BackgroundColor": "#000000"},
     "code 2: clientRequest.recordingConfig.transcodingConfig.BackgroundColor: unknown key; "
     "did you mean 'backgroundColor'?"),
    ({f"{CR}.recordingFileConfig.avFileType": ["mp4"]},
     'code 2: clientRequest.recordingFileConfig.avFileType: must contain "hls" '
     '(["mp4"] alone is rejected) (got ["mp4"])'),
    ({f"{SC}.bucket": DELETE}, "code 2: clientRequest.storageConfig.bucket: is required"),
])
def test_exact_line(patches, line):
    assert line in [str(p) for p in problems_of(patched(START, patches))]


def test_root_not_object_is_one_problem():
    for doc in ([1, 2], None, 3, "x", True):
        problems = problems_of(doc)
        assert len(problems) == 1 and problems[0].path == ""
    assert str(problems_of([1, 2])[0]) == "code 2: <root>: must be a JSON object (got [1, 2])"


def test_all_problems_at_once():
    body = patched(START, {
        "uid": 7,
        f"{TC}.width": 0,
        f"{TC}.backgroundColour": "#fff",
        f"{LC}[0].x_axis": 2,
        f"{RC}.maxIdleTime": 1,
        f"{SC}.vendor": 42,
    })
    problems = problems_of(body)
    paths = {p.path for p in problems}
    assert {"uid", f"{TC}.width", f"{TC}.backgroundColour", f"{LC}[0].x_axis",
            f"{RC}.maxIdleTime", f"{SC}.vendor"} <= paths
    assert len(problems) >= 6


# --- did you mean ------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "suggestion"), [
    ("BackgroundColor", "backgroundColor"),
    ("backgroundColour", "backgroundColor"),
    ("mixedvideolayout", "mixedVideoLayout"),
    ("MixedVideoLayout", "mixedVideoLayout"),
    ("layoutconfig", "layoutConfig"),
    ("maxResolutionUID", "maxResolutionUid"),
    ("defaultUserBackgroundImg", "defaultUserBackgroundImage"),
])
def test_did_you_mean_transcoding(key, suggestion):
    problems = problems_of(patched(START, {f"{TC}.{key}": 0}))
    assert_reported(problems, f"{TC}.{key}", ("unknown key", f"did you mean '{suggestion}'?"))


def test_did_you_mean_envelope_and_bare():
    problems = problems_of({"Cname": "a", "uid": "1", "clientrequest": {"async_stop": True}})
    assert_reported(problems, "Cname", "did you mean 'cname'?")
    assert_reported(problems, "clientrequest", "did you mean 'clientRequest'?")
    bare = problems_of({"mixedVideoLayout": 1, "backgroundcolor": "#000000"})
    assert_reported(bare, "backgroundcolor", "did you mean 'backgroundColor'?")


# --- malformed JSON ----------------------------------------------------------------------
def test_malformed_json_line_and_column():
    text = '{\n  "cname": "a",\n  "uid" "1"\n}'
    with pytest.raises(RequestError) as info:
        load_json(text)
    (problem,) = info.value.problems
    assert problem.path == ""
    assert str(problem) == (
        "code 2: <root>: malformed JSON at line 3, column 9: Expecting ':' delimiter")


@pytest.mark.parametrize(("text", "where"), [
    ('{"a": NaN}', "line 1, column 7"),
    ('{\n "a": [1, -Infinity]}', "line 2, column 11"),
    ("", "line 1, column 1"),
    ("[" * 100_000, "line 1, column 1"),
    ("1" * 5000, "line 1, column 1"),
])
def test_not_json(text, where):
    with pytest.raises(RequestError) as info:
        load_json(text)
    assert f"malformed JSON at {where}" in str(info.value)


def test_load_json_ok():
    assert load_json('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


# --- warnings and replaced values ----------------------------------------------------------
def warnings_of(body: Any, kind: str | None = None) -> list[Problem]:
    _, warnings = parse_request(body, kind=kind)
    assert all(w.severity == "warning" for w in warnings)
    return warnings


def test_fps_20_is_a_warning_and_becomes_15():
    model, warnings = parse_request(patched(START, {f"{TC}.fps": 20}))
    assert model.transcoding.fps == 15
    assert [str(w) for w in warnings] == [
        "warning: clientRequest.recordingConfig.transcodingConfig.fps: fps 20 is not supported; "
        "the cloud uses 15 (got 20); supported: 1, 7, 10, 15, 24, 30, 60"]


@pytest.mark.parametrize(("base", "patches", "path", "words"), [
    (START, {f"{TC}.width": 641}, f"{TC}.width", "odd size is rounded by encoders"),
    (START, {f"{TC}.backgroundImage": "https://x.com/a.png"}, f"{TC}.backgroundImage",
     "only JPG and BMP are used by the cloud; this image will be ignored"),
    (START, {f"{TC}.defaultUserBackgroundImage": "https://x.com/img?id=3"},
     f"{TC}.defaultUserBackgroundImage", "will be ignored"),
    (START, {f"{BC}[0].image_url": "u1.gif"}, f"{BC}[0].image_url", "will be ignored"),
    (START, {f"{RC}.subscribeUidGroup": 0}, f"{RC}.subscribeUidGroup", "individual mode"),
    (START, {f"{SC}.vendor": 0}, f"{SC}.vendor", "no longer in the cloud's vendor list"),
    (START, {f"{TC}.maxResolutionUid": "1"}, f"{TC}.maxResolutionUid",
     "only used by the vertical layout"),
    (START, {f"{RC}.secret": "s"}, f"{RC}.secret", "ignored when decryptionMode is 0"),
    (START, {f"{RC}.decryptionMode": 1, f"{RC}.secret": "s", f"{RC}.salt": "A" * 43 + "="},
     f"{RC}.salt", "only used with decryptionMode 7 or 8"),
    (START, {f"{SC}.vendor": 2, f"{SC}.extensionParams": {"sse": "kms"}},
     f"{SC}.extensionParams.sse", "only used by Amazon S3"),
])
def test_warning(base, patches, path, words):
    assert_reported(warnings_of(patched(base, patches)), path, words)


def test_warnings_ride_along_with_errors():
    with pytest.raises(RequestError) as info:
        parse_request(patched(START, {f"{TC}.fps": 20, f"{TC}.width": 0}))
    assert [w.path for w in info.value.warnings] == [f"{TC}.fps"]


# --- accepted values -----------------------------------------------------------------------
@pytest.mark.parametrize("patches", [
    {f"{TC}.fps": 15.0, f"{TC}.width": 640.0},
    {f"{TC}.width": 1080, f"{TC}.height": 1920},
    {f"{TC}.backgroundColor": "#a0b1c2"},
    {f"{LC}[0].x_axis": 0.0, f"{LC}[0].width": 0.123456},
    {f"{LC}[1]": region(0.333333, 0.666667, 0.666667, 0.333333)},
    {f"{LC}[0]": region(0.1, 0.2, 0.7, 0.8)},  # 0.1 + 0.7 is 0.7999999999999999 in floats
    {f"{RC}.unsubscribeAudioUids": ["1"], f"{RC}.unsubscribeVideoUids": ["4294967295"]},
    {f"{RC}.subscribeAudioUids": ["#allstream#"], f"{RC}.subscribeVideoUids": ["#allstream#"]},
    {f"{RC}.decryptionMode": 7, f"{RC}.secret": "s", f"{RC}.salt": "A" * 43 + "="},
    {f"{RC}.privateParams": '{"correctEXTINF": true}'},
    {f"{TC}.backgroundImage": "bg.jpg", f"{TC}.defaultUserBackgroundImage": "file:///tmp/u.JPEG"},
    {f"{TC}.backgroundImage": "C:\\images\\bg.bmp"},
    {"cname": "".join(sorted(limits.CNAME_CHARS))[:63]},
    {f"{SC}.vendor": 11, f"{SC}.extensionParams": {"endpoint": "https://s3.example.com"}},
    {f"{SC}.stsToken": "t", f"{SC}.stsExpiration": 1700000000},
    {f"{CR}.recordingFileConfig": DELETE, f"{CR}.token": DELETE},
])
def test_accepted(patches):
    model, warnings = parse_request(patched(START, patches))
    assert type(model) is StartRequest and list(warnings) == []
    assert parse_request(to_json(model, mask_secrets=False), kind="start")[0] == model


def test_cname_charset_has_89_characters():
    assert len(limits.CNAME_CHARS) == 89


# --- model values ---------------------------------------------------------------------------
def test_defaults_of_a_minimal_start_body():
    body = {"cname": "c", "uid": "1", "clientRequest": {
        "recordingConfig": {},
        "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "a",
                          "secretKey": "s"},
    }}
    model, warnings = parse_request(body)
    assert isinstance(model, StartRequest) and warnings == []
    tc = model.transcoding
    assert (tc.width, tc.height, tc.fps, tc.bitrate) == (360, 640, 15, 500)
    assert model.layout.mixed_video_layout == 0
    assert model.layout.background_color == "#000000"
    rc = model.recording_config
    assert (rc.audio_profile, rc.max_idle_time, rc.stream_types) == (0, 30, 2)
    assert (rc.channel_type, rc.decryption_mode, rc.video_stream_type) == (0, 0, 0)
    assert rc.subscribe_audio_uids is None and rc.subscribe_uid_group is None
    assert model.recording_file_config.av_file_type == ("hls",)
    assert model.token is None


def test_model_values_of_the_base_body():
    model, _ = parse_request(patched(START, {f"{TC}.backgroundColor": "#a0b1c2",
                                             f"{RC}.unsubscribeAudioUids": ["9"],
                                             f"{RC}.privateParams": '{"correctEXTINF": true}'}))
    assert model.layout.background_color == "#A0B1C2"
    first, second = model.layout.layout_config
    assert (first.uid, first.x_axis, first.width, first.alpha, first.render_mode) == (
        "1", 0.0, 0.5, 1.0, 0)
    assert (second.uid, second.render_mode) == (None, 1)
    assert model.recording_config.unsubscribe_audio_uids == ("9",)
    assert model.recording_config.private == {"correctEXTINF": True}
    assert model.storage_config.prefix_path == "dir1/dir2"
    assert model.layout.user_background("1").image_url == "https://example.com/u1.jpg"


def test_update_layout_is_a_full_overwrite_with_defaults():
    model, _ = parse_request({"cname": "c", "uid": "1", "clientRequest": {"mixedVideoLayout": 1}})
    assert isinstance(model, UpdateLayoutRequest)
    assert model.layout.background_color == "#000000" and model.layout.max_resolution_uid is None


def test_other_kinds():
    acquire, _ = parse_request(ACQUIRE)
    assert acquire == AcquireRequest(cname="room1", uid="527841", scene=0,
                                     resource_expired_hour=24, region="CN")
    assert parse_request({"cname": "c", "uid": "1", "clientRequest": {}}, kind="acquire")[0] \
        .resource_expired_hour == 72
    update, _ = parse_request(UPDATE)
    assert isinstance(update, UpdateRequest)
    assert (update.subscribe_audio_uids, update.unsubscribe_video_uids) == (("1",), ("2",))
    stop, _ = parse_request(patched(STOP, {f"{CR}.async_stop": True}))
    assert stop == StopRequest(cname="room1", uid="527841", async_stop=True)
    with_storage = patched(UPDATE, {SC: {"stsToken": "t", "stsExpiration": 1}})
    assert parse_request(with_storage)[0] == update


# --- kinds and bare clientRequests -----------------------------------------------------------
@pytest.mark.parametrize(("doc", "kind"), [
    (START, "start"),
    (START[CR], "start"),
    (ACQUIRE, "acquire"),
    (UPDATE, "update"),
    (STOP, "stop"),
    (UPDATE_LAYOUT, "updateLayout"),
    (UPDATE_LAYOUT[CR], "updateLayout"),
    ({"recordingconfig": {}}, "start"),
])
def test_detect_kind(doc, kind):
    assert detect_kind(doc.get(CR, doc)) == kind


def test_bare_paths_start_inside_the_client_request():
    bare = {"recordingConfig": {"transcodingConfig": {"width": 0}}}
    assert_reported(problems_of(bare), "recordingConfig.transcodingConfig.width",
                    "must be in [1, 1920]")
    model, _ = parse_request(START[CR])
    assert model.cname == "" and model.uid == "" and model.storage_config is not None
    assert parse_request({"recordingConfig": {}})[0].storage_config is None
    assert_reported(problems_of({"mixedVideoLayout": 5}), "mixedVideoLayout", "must be one of")


def test_kind_argument():
    assert isinstance(parse_request(UPDATE_LAYOUT[CR], kind="updateLayout")[0], UpdateLayoutRequest)
    assert isinstance(parse_request(START[CR], kind="clientRequest")[0], StartRequest)
    assert_reported(problems_of({"recordingConfig": {}}, kind="updateLayout"),
                    "recordingConfig", "unknown key")
    with pytest.raises(ParameterError, match="did you mean 'start'"):
        parse_request(START, kind="strat")


def test_unknown_kind_is_reported():
    assert_reported(problems_of({}), "", "cannot tell the request kind")
    assert_reported(problems_of({"cname": "c", "uid": "1", "clientRequest": {"x": 1}}),
                    CR, "cannot tell the request kind")


# --- parse_layout_settings ------------------------------------------------------------------
def test_parse_layout_settings_returns_problems():
    settings, problems = parse_layout_settings({"mixedVideoLayout": 3, "layoutConfig": [
        region(0, 0, 1, 1, uid="7")]}, path="body")
    assert problems == [] and settings.layout_config[0].uid == "7"
    _, problems = parse_layout_settings({"mixedVideoLayout": 3}, path="body")
    assert [str(p) for p in problems] == [
        "code 2: body.layoutConfig: is required when mixedVideoLayout is 3"]


# --- lint -------------------------------------------------------------------------------------
def start_model(patches: dict[str, Any]) -> StartRequest:
    model, _ = parse_request(patched(START, patches))
    return model


def test_recommended_bitrate_table_and_rules():
    assert limits.recommended_bitrate(640, 360, 15) == 400
    assert limits.recommended_bitrate(360, 640, 15) == 400  # either orientation
    assert limits.recommended_bitrate(1920, 1080, 60, live=True) == 6500  # capped
    assert limits.recommended_bitrate(320, 240, 30) == 300  # the manual's 1.5x example
    assert limits.recommended_bitrate(320, 240, 5) == 100
    mid = limits.recommended_bitrate(800, 600, 15)  # between 848x480 (610) and 1280x720 (1130)
    assert 610 < mid < 1130


@pytest.mark.parametrize(("patches", "words"), [
    ({f"{TC}.bitrate": 100}, "far below the recommended 400 Kbps for 640x360 at 15 fps"),
    ({f"{TC}.bitrate": 900}, "far above the recommended 400 Kbps"),
    ({f"{TC}.width": 1920, f"{TC}.height": 1080, f"{TC}.bitrate": 1000}, "far below"),
    ({f"{RC}.channelType": 1, f"{TC}.bitrate": 300}, "recommended 800 Kbps"),
])
def test_lint_bitrate(patches, words):
    warnings = lint_start(start_model(patches))
    assert_reported(warnings, f"{TC}.bitrate", words)
    assert all(w.severity == "warning" for w in warnings)


@pytest.mark.parametrize("patches", [
    {},
    {f"{TC}.bitrate": 200},
    {f"{TC}.bitrate": 800},
    {f"{RC}.channelType": 1, f"{TC}.bitrate": 1600},
    {f"{RC}.streamTypes": 0, f"{TC}.bitrate": 6500},  # audio only: bitrate unused
])
def test_lint_bitrate_quiet(patches):
    assert lint_start(start_model(patches)) == []


def test_lint_unsubscribed_region_uid():
    warnings = lint_start(start_model({f"{RC}.subscribeVideoUids": ["2"]}))
    assert_reported(warnings, f"{TC}.layoutConfig[0].uid", "not subscribed")


def test_lint_paths_follow_the_body():
    bare, _ = parse_request(patched(START, {f"{TC}.bitrate": 100})[CR])
    assert [w.path for w in lint_start(bare)] == ["recordingConfig.transcodingConfig.bitrate"]
    acquire, _ = parse_request(patched(ACQUIRE, {f"{CR}.startParameter": {
        "recordingConfig": {"transcodingConfig": {"bitrate": 6000}}}}))
    assert [w.path for w in lint(acquire)] == [
        "clientRequest.startParameter.recordingConfig.transcodingConfig.bitrate"]
    assert lint(parse_request(STOP)[0]) == []


def test_lint_canvas_vs_sources():
    model = start_model({f"{TC}.width": 1920, f"{TC}.height": 1080, f"{TC}.bitrate": 2000})
    (warning,) = lint_canvas_vs_sources(model, [(640, 360), (640, 360)])
    assert warning.path == TC and "more pixels than all 2 source(s)" in str(warning)
    assert lint_canvas_vs_sources(model, [(1920, 1080)]) == []
    assert lint_canvas_vs_sources(model, []) == []


# --- dump -------------------------------------------------------------------------------------
def test_to_json_fills_defaults_and_masks_secrets():
    body = {"cname": "c", "uid": "1", "clientRequest": {
        "token": "T", "recordingConfig": {"decryptionMode": 1, "secret": "S"},
        "storageConfig": {"vendor": 1, "region": 0, "bucket": "b", "accessKey": "A",
                          "secretKey": "K"},
    }}
    model, _ = parse_request(body)
    out = to_json(model)
    client = out["clientRequest"]
    assert client["token"] == "***" and client["recordingConfig"]["secret"] == "***"
    assert client["storageConfig"]["accessKey"] == client["storageConfig"]["secretKey"] == "***"
    assert client["recordingConfig"]["transcodingConfig"] == {
        "width": 360, "height": 640, "fps": 15, "bitrate": 500,
        "mixedVideoLayout": 0, "backgroundColor": "#000000"}
    assert client["recordingConfig"]["maxIdleTime"] == 30
    assert client["recordingFileConfig"] == {"avFileType": ["hls"]}
    assert to_json(model, mask_secrets=False)["clientRequest"]["token"] == "T"
    assert parse_request(to_json(model, mask_secrets=False))[0] == model


@pytest.mark.parametrize("body", [START, START[CR], ACQUIRE, UPDATE, STOP, UPDATE_LAYOUT,
                                  UPDATE_LAYOUT[CR], {"async_stop": True}])
def test_to_json_round_trip_examples(body):
    model, _ = parse_request(body)
    assert parse_request(to_json(model, mask_secrets=False))[0] == model


def test_to_json_rejects_other_objects():
    with pytest.raises(TypeError):
        to_json({"a": 1})


@pytest.mark.parametrize(("value", "rule"), [
    ("123", None),
    ("4294967295", None),
    ("012", "must not have leading zeros"),
    ("0", "must be in [1, 4294967295]"),
    ("a1", "must be a decimal integer in a string (digits only)"),
    (123, "must be a string"),
])
def test_uid_problem(value, rule):
    assert uid_problem(value) == rule
