"""The seed document's JSON examples (and the spec's example bodies) validate as they are.

``SEED_ACQUIRE`` and ``SEED_START`` are copied verbatim from
``shared/seed/000_da2318f3ac6f3d8a.txt`` (the Chinese "composite recording" page),
including its spacing and trailing spaces.
"""

from __future__ import annotations

import pytest

from layoutkit.request.dump import to_json
from layoutkit.request.model import (
    AcquireRequest,
    LayoutRegion,
    StartRequest,
    StopRequest,
    UpdateLayoutRequest,
    UpdateRequest,
)
from layoutkit.request.parse import load_json, parse_request

SEED_ACQUIRE = """
{
    "cname": "httpClient463224",
    "uid": "527841",
    "clientRequest":{
      "resourceExpiredHour": 24,
      "scene": 0
   }
}
"""

SEED_START = """
{
    "uid": "527841",
    "cname": "httpClient463224",
    "clientRequest": {
        "token": "<token if any>",
        "recordingConfig": {
            "maxIdleTime": 30,
            "streamTypes": 2,
            "audioProfile": 1,
            "channelType": 0, 
            "videoStreamType": 1, 
            "transcodingConfig": {
                "height": 640, 
                "width": 360,
                "bitrate": 500, 
                "fps": 15, 
                "mixedVideoLayout": 1,
                "backgroundColor": "#FF0000"
                        },
            "subscribeVideoUids": ["123","456"], 
            "subscribeAudioUids": ["123","456"],
            "subscribeUidGroup": 0
       }, 
        "storageConfig": {
            "accessKey": "xxxxxxf",
            "region": 3,
            "bucket": "xxxxx",
            "secretKey": "xxxxx",
            "vendor": 2,
            "fileNamePrefix": ["directory1","directory2"]
       }
   }
}
"""

# Spec 1.5 / 2.2: custom layout, a host region bound to uid "1" and two guest regions
# filled in join order (docs example), plus Flat's full-canvas + overlay pattern (S43).
SPEC_START_CUSTOM = """
{
  "cname": "httpClient463224",
  "uid": "527841",
  "clientRequest": {
    "recordingConfig": {
      "channelType": 1,
      "streamTypes": 2,
      "subscribeVideoUids": ["#allstream#"],
      "subscribeAudioUids": ["#allstream#"],
      "transcodingConfig": {
        "width": 1280, "height": 720, "fps": 30, "bitrate": 1710,
        "mixedVideoLayout": 3,
        "backgroundColor": "#000000",
        "backgroundImage": "https://example.com/canvas.jpg",
        "defaultUserBackgroundImage": "https://example.com/user.jpg",
        "layoutConfig": [
          {"uid": "1", "x_axis": 0.0, "y_axis": 0.0, "width": 1.0, "height": 1.0,
           "alpha": 1.0, "render_mode": 1},
          {"x_axis": 0.0, "y_axis": 0.67, "width": 0.33, "height": 0.33},
          {"x_axis": 0.67, "y_axis": 0.67, "width": 0.33, "height": 0.33, "alpha": 0.8,
           "render_mode": 0}
        ],
        "backgroundConfig": [
          {"uid": "1", "image_url": "https://example.com/host.bmp", "render_mode": 1}
        ]
      },
      "privateParams": "{\\"correctEXTINF\\": true}"
    },
    "recordingFileConfig": {"avFileType": ["hls", "mp4"]},
    "storageConfig": {
      "vendor": 11, "region": 0, "bucket": "rec", "accessKey": "ak", "secretKey": "sk",
      "fileNamePrefix": ["directory1", "directory2"],
      "extensionParams": {"endpoint": "https://s3.example.com"}
    }
  }
}
"""

# Spec 6: updateLayout body (vertical layout with a large-window uid and user images).
SPEC_UPDATE_LAYOUT = """
{
  "cname": "httpClient463224",
  "uid": "527841",
  "clientRequest": {
    "mixedVideoLayout": 2,
    "maxResolutionUid": "123",
    "backgroundColor": "#FF0000",
    "backgroundImage": "https://example.com/canvas.jpg",
    "defaultUserBackgroundImage": "https://example.com/user.jpg",
    "backgroundConfig": [
      {"uid": "123", "image_url": "https://example.com/123.jpg", "render_mode": 0},
      {"uid": "456", "image_url": "https://example.com/456.jpg"}
    ]
  }
}
"""

# Spec 7: update and stop bodies.
SPEC_UPDATE = """
{"cname": "httpClient463224", "uid": "527841", "clientRequest": {"streamSubscribe": {
  "audioUidList": {"subscribeAudioUids": ["#allstream#"]},
  "videoUidList": {"unSubscribeVideoUids": ["123", "456"]}}}}
"""
SPEC_STOP = '{"cname": "httpClient463224", "uid": "527841", "clientRequest": {"async_stop": false}}'


def parse_text(text: str):
    model, warnings = parse_request(load_json(text))
    return model, warnings


def test_seed_acquire_is_valid():
    model, warnings = parse_text(SEED_ACQUIRE)
    assert warnings == []
    assert model == AcquireRequest(cname="httpClient463224", uid="527841", scene=0,
                                   resource_expired_hour=24)


def test_seed_start_is_valid():
    model, warnings = parse_text(SEED_START)
    assert isinstance(model, StartRequest)
    # subscribeUidGroup is an individual-mode setting: accepted, with a warning only.
    assert [w.path for w in warnings] == ["clientRequest.recordingConfig.subscribeUidGroup"]
    tc = model.transcoding
    assert (tc.width, tc.height, tc.fps, tc.bitrate) == (360, 640, 15, 500)
    assert model.layout.mixed_video_layout == 1 and model.layout.background_rgb == (255, 0, 0)
    rc = model.recording_config
    assert rc.audio_profile == 1 and rc.video_stream_type == 1
    assert rc.subscribe_video_uids == ("123", "456") == rc.subscribe_audio_uids
    assert model.storage_config.vendor == 2 and model.storage_config.region == 3
    assert model.storage_config.prefix_path == "directory1/directory2"
    assert model.token == "<token if any>"


def test_seed_start_clientrequest_alone_is_valid():
    body = load_json(SEED_START)["clientRequest"]
    model, _ = parse_request(body)
    assert isinstance(model, StartRequest) and model.cname == ""


def test_spec_custom_start_is_valid():
    model, warnings = parse_text(SPEC_START_CUSTOM)
    assert warnings == []
    regions = model.layout.layout_config
    assert regions[0] == LayoutRegion(0.0, 0.0, 1.0, 1.0, uid="1", alpha=1.0, render_mode=1)
    assert regions[1] == LayoutRegion(0.0, 0.67, 0.33, 0.33)
    assert model.recording_config.private == {"correctEXTINF": True}
    assert model.recording_file_config.av_file_type == ("hls", "mp4")
    assert dict(model.storage_config.extension_params) == {"endpoint": "https://s3.example.com"}


def test_spec_update_layout_is_valid():
    model, warnings = parse_text(SPEC_UPDATE_LAYOUT)
    assert warnings == []
    assert isinstance(model, UpdateLayoutRequest)
    assert model.layout.max_resolution_uid == "123"
    assert model.layout.user_background("456").image_url == "https://example.com/456.jpg"
    assert model.layout.user_background("789").image_url == "https://example.com/user.jpg"


def test_spec_update_and_stop_are_valid():
    update, _ = parse_text(SPEC_UPDATE)
    assert isinstance(update, UpdateRequest) and update.unsubscribe_video_uids == ("123", "456")
    stop, _ = parse_text(SPEC_STOP)
    assert stop == StopRequest(cname="httpClient463224", uid="527841", async_stop=False)


@pytest.mark.parametrize("text", [SEED_ACQUIRE, SEED_START, SPEC_START_CUSTOM, SPEC_UPDATE_LAYOUT,
                                  SPEC_UPDATE, SPEC_STOP])
def test_examples_round_trip(text):
    model, _ = parse_text(text)
    assert parse_request(to_json(model, mask_secrets=False))[0] == model
