"""Property tests of the request parser.

* For any JSON value (anywhere in a body) the parser either returns a model or raises a
  :class:`RequestError` whose message renders - never any other exception.
* Valid generated bodies parse, and ``to_json`` of the model parses back to an equal model
  (also through JSON text).
"""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layoutkit.errors import RequestError
from layoutkit.request import limits
from layoutkit.request.dump import MASK, to_json
from layoutkit.request.parse import (
    ACQUIRE_KEYS,
    CLIENT_KEYS,
    KINDS,
    RECORDING_KEYS,
    REGION_KEYS,
    STORAGE_KEYS,
    TRANSCODING_KEYS,
    parse_request,
)

from .test_request_rules import ACQUIRE, LC, RC, SC, START, STOP, TC, UPDATE, UPDATE_LAYOUT, patched

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# --- arbitrary JSON --------------------------------------------------------------------------
KNOWN_KEYS = sorted({*TRANSCODING_KEYS, *RECORDING_KEYS, *REGION_KEYS, *STORAGE_KEYS,
                     *ACQUIRE_KEYS, *(k for keys in CLIENT_KEYS.values() for k in keys),
                     "cname", "uid", "clientRequest", "audioUidList", "videoUidList"})
# (integers too long to print are built by a map: hypothesis reprs sampled_from elements)
ODD_VALUES = st.sampled_from([-(10**400), 2**32, 2**64, 1e308, float("nan"), float("inf"), -0.0,
                              "", "#allstream#", "0", "007", "\x00"]) | st.integers(
    4400, 4500).map(lambda digits: 10**digits)
leaves = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
          | ODD_VALUES)
json_values = st.recursive(
    leaves,
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=6),
                                        children, max_size=5)),
    max_leaves=25,
)
kinds = st.sampled_from([None, *KINDS, "clientRequest"])


def parse_or_request_error(doc: Any, kind: str | None = None) -> None:
    try:
        parse_request(doc, kind=kind)
    except RequestError as error:
        assert error.problems and str(error)


@SETTINGS
@given(json_values, kinds)
def test_any_json_value_gives_a_model_or_a_request_error(doc, kind):
    parse_or_request_error(doc, kind)


@SETTINGS
@given(st.dictionaries(st.sampled_from(KNOWN_KEYS), json_values, max_size=6), kinds)
def test_any_object_of_known_keys(doc, kind):
    parse_or_request_error({"cname": "c", "uid": "1", "clientRequest": doc}, kind)
    parse_or_request_error(doc, kind)


INJECTION_POINTS = [
    (START, path) for path in (
        "cname", "uid", "clientRequest", "clientRequest.token", RC, SC, TC, LC,
        "clientRequest.recordingFileConfig", "clientRequest.recordingFileConfig.avFileType",
        f"{TC}.width", f"{TC}.height", f"{TC}.fps", f"{TC}.bitrate", f"{TC}.mixedVideoLayout",
        f"{TC}.backgroundColor", f"{TC}.backgroundImage", f"{TC}.maxResolutionUid",
        f"{TC}.backgroundConfig", f"{TC}.backgroundConfig[0]", f"{TC}.backgroundConfig[0].uid",
        f"{TC}.backgroundConfig[0].image_url", f"{LC}[0]", f"{LC}[0].x_axis", f"{LC}[0].width",
        f"{LC}[1].uid", f"{LC}[1].alpha", f"{LC}[1].render_mode", f"{RC}.streamTypes",
        f"{RC}.decryptionMode", f"{RC}.secret", f"{RC}.salt", f"{RC}.maxIdleTime",
        f"{RC}.subscribeAudioUids", f"{RC}.unSubscribeVideoUids", f"{RC}.unsubscribeAudioUids",
        f"{RC}.subscribeUidGroup", f"{RC}.privateParams", f"{RC}.streamMode",
        f"{SC}.vendor", f"{SC}.region", f"{SC}.bucket", f"{SC}.fileNamePrefix",
        f"{SC}.extensionParams", f"{SC}.stsExpiration",
    )
] + [
    (ACQUIRE, "clientRequest.scene"), (ACQUIRE, "clientRequest.region"),
    (ACQUIRE, "clientRequest.startParameter"), (ACQUIRE, "clientRequest.excludeResourceIds"),
    (UPDATE, "clientRequest.streamSubscribe"),
    (UPDATE, "clientRequest.streamSubscribe.audioUidList"),
    (UPDATE, "clientRequest.streamSubscribe.videoUidList.unSubscribeVideoUids"),
    (UPDATE, "clientRequest.storageConfig"), (STOP, "clientRequest.async_stop"),
    (UPDATE_LAYOUT, "clientRequest.layoutConfig"),
    (UPDATE_LAYOUT, "clientRequest.backgroundConfig"),
]


@SETTINGS
@given(st.sampled_from(INJECTION_POINTS), json_values, st.booleans())
def test_any_value_at_a_known_key(point, value, bare):
    base, path = point
    body = patched(base, {path: value})
    if bare and path.startswith("clientRequest.") and isinstance(body["clientRequest"], dict):
        body = body["clientRequest"]
    parse_or_request_error(body)


# --- valid bodies ------------------------------------------------------------------------------
uids = st.integers(1, limits.MAX_UID).map(str)
hex_colors = st.text("0123456789abcdefABCDEF", min_size=6, max_size=6).map(lambda s: "#" + s)
images = st.sampled_from(["https://example.com/a.jpg", "http://h/b.JPEG", "file:///tmp/c.bmp",
                          "bg/d.jpg", "https://example.com/x.png"])
micro = 1_000_000


@st.composite
def spans(draw) -> tuple[float, float]:
    """Draw a start and a positive size in millionths with start + size <= 1."""
    start = draw(st.integers(0, micro - 1))
    return start / micro, draw(st.integers(1, micro - start)) / micro


@st.composite
def regions(draw, uid: str | None) -> dict[str, Any]:
    (x, w), (y, h) = draw(spans()), draw(spans())
    region: dict[str, Any] = {"x_axis": x, "y_axis": y, "width": w, "height": h}
    if uid is not None:
        region["uid"] = uid
    if draw(st.booleans()):
        region["alpha"] = draw(st.integers(0, 100)) / 100
    if draw(st.booleans()):
        region["render_mode"] = draw(st.sampled_from(limits.RENDER_MODES))
    return region


def optional(draw, obj: dict[str, Any], key: str, strategy: st.SearchStrategy[Any]) -> None:
    if draw(st.booleans()):
        obj[key] = draw(strategy)


@st.composite
def layout_settings(draw) -> dict[str, Any]:
    mode = draw(st.sampled_from(limits.LAYOUT_MODES))
    layout: dict[str, Any] = {}
    if mode or draw(st.booleans()):
        layout["mixedVideoLayout"] = mode
    if mode == limits.VERTICAL_LAYOUT:
        optional(draw, layout, "maxResolutionUid", uids)
    optional(draw, layout, "backgroundColor", hex_colors)
    optional(draw, layout, "backgroundImage", images)
    optional(draw, layout, "defaultUserBackgroundImage", images)
    if mode == limits.CUSTOM_LAYOUT:
        count = draw(st.integers(1, limits.MAX_REGIONS))
        bound = draw(st.lists(uids, unique=True, max_size=count))
        layout["layoutConfig"] = [draw(regions(bound[i] if i < len(bound) else None))
                                  for i in range(count)]
    if draw(st.booleans()):
        layout["backgroundConfig"] = [
            {"uid": uid, "image_url": draw(images), "render_mode": draw(st.sampled_from((0, 1)))}
            for uid in draw(st.lists(uids, unique=True, min_size=1, max_size=4))]
    return layout


@st.composite
def transcoding_configs(draw) -> dict[str, Any]:
    width = draw(st.integers(1, limits.MAX_SIDE))
    config = draw(layout_settings())
    optional(draw, config, "width", st.just(width))
    optional(draw, config, "height", st.integers(1, min(limits.MAX_SIDE, limits.MAX_AREA // width)))
    if "height" in config and "width" not in config:  # the default width is 360
        config["height"] = min(config["height"], limits.MAX_AREA // limits.DEFAULT_WIDTH)
    optional(draw, config, "fps", st.integers(0, 90))
    optional(draw, config, "bitrate", st.integers(1, limits.MAX_BITRATE))
    return config


@st.composite
def recording_configs(draw) -> dict[str, Any]:
    config: dict[str, Any] = {}
    stream_types = draw(st.sampled_from(limits.STREAM_TYPES))
    config["streamTypes"] = stream_types
    optional(draw, config, "channelType", st.sampled_from(limits.CHANNEL_TYPES))
    mode = draw(st.sampled_from(limits.DECRYPTION_MODES))
    if mode:
        config.update(decryptionMode=mode, secret="s3cret")
        if mode in limits.SALT_DECRYPTION_MODES:
            config["salt"] = "A" * 43 + "="
    optional(draw, config, "maxIdleTime", st.integers(*limits.MAX_IDLE_TIME))
    optional(draw, config, "audioProfile", st.sampled_from(limits.AUDIO_PROFILES))
    optional(draw, config, "videoStreamType", st.sampled_from(limits.VIDEO_STREAM_TYPES))
    for media, allowed in (("Audio", limits.STREAM_TYPES_WITH_AUDIO),
                           ("Video", limits.STREAM_TYPES_WITH_VIDEO)):
        key = draw(st.sampled_from([None, f"subscribe{media}Uids", f"unSubscribe{media}Uids",
                                    f"unsubscribe{media}Uids"]))
        if key and stream_types in allowed:
            items = uids | st.just("#allstream#") if key.startswith("sub") else uids
            config[key] = draw(st.lists(items, unique=True, min_size=1,
                                        max_size=limits.MAX_UID_LIST))
    optional(draw, config, "privateParams",
             st.dictionaries(st.text(max_size=5),
                             st.booleans() | st.integers() | st.text(max_size=5),
                             max_size=3).map(json.dumps))
    optional(draw, config, "transcodingConfig", transcoding_configs())
    return config


cnames = st.text(sorted(limits.CNAME_CHARS), min_size=1, max_size=limits.CNAME_MAX_BYTES)
prefix_items = st.text(string.ascii_letters + string.digits, min_size=1, max_size=20)


@st.composite
def storage_configs(draw) -> dict[str, Any]:
    vendor = draw(st.sampled_from(limits.VENDORS))
    config: dict[str, Any] = {"vendor": vendor, "region": draw(st.integers(0, 30)),
                              "bucket": "bucket", "accessKey": "ak", "secretKey": "sk"}
    optional(draw, config, "fileNamePrefix", st.lists(prefix_items, max_size=6))
    extension: dict[str, Any] = {}
    if vendor == limits.S3_COMPATIBLE_VENDOR:
        extension["endpoint"] = "https://s3.example.com"
    optional(draw, extension, "sse", st.sampled_from(limits.SSE_VALUES))
    optional(draw, extension, "tag", st.text(max_size=5))
    if extension:
        config["extensionParams"] = extension
    return config


@st.composite
def start_clients(draw, *, whole: bool) -> dict[str, Any]:
    client: dict[str, Any] = {"recordingConfig": draw(recording_configs())}
    optional(draw, client, "token", st.text(max_size=10))
    optional(draw, client, "recordingFileConfig",
             st.sampled_from([["hls"], ["hls", "mp4"], ["mp4", "hls"]])
             .map(lambda types: {"avFileType": types}))
    if whole or draw(st.booleans()):
        client["storageConfig"] = draw(storage_configs())
    return client


@st.composite
def acquire_clients(draw, *, whole: bool) -> dict[str, Any]:
    client: dict[str, Any] = {"scene": draw(st.sampled_from(limits.SCENES))}
    optional(draw, client, "resourceExpiredHour", st.integers(*limits.RESOURCE_EXPIRED_HOUR))
    optional(draw, client, "region", st.sampled_from(limits.ACQUIRE_REGIONS))
    optional(draw, client, "startParameter", start_clients(whole=False))
    return client


@st.composite
def update_clients(draw, *, whole: bool) -> dict[str, Any]:
    lists = st.lists(uids, unique=True, min_size=1, max_size=limits.MAX_UID_LIST)
    subscribe: dict[str, Any] = {}
    for media in ("Audio", "Video"):
        key = draw(st.sampled_from([None, f"subscribe{media}Uids", f"unSubscribe{media}Uids"]))
        if key:
            subscribe[f"{media.lower()}UidList"] = {key: draw(lists)}
    return {"streamSubscribe": subscribe}


CLIENTS = {
    "start": start_clients,
    "updateLayout": lambda whole: layout_settings().filter(bool),
    "acquire": acquire_clients,
    "update": update_clients,
    "stop": lambda whole: st.booleans().map(lambda b: {"async_stop": b}),
}


@st.composite
def valid_bodies(draw) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(KINDS))
    whole = draw(st.booleans())
    client = draw(CLIENTS[kind](whole=whole))
    if not whole:
        return kind, client
    return kind, {"cname": draw(cnames), "uid": draw(uids), "clientRequest": client}


@SETTINGS
@given(valid_bodies())
def test_valid_bodies_parse_and_round_trip(kind_and_body):
    kind, body = kind_and_body
    model, _ = parse_request(body, kind=kind)
    again = to_json(model, mask_secrets=False)
    assert parse_request(again)[0] == model
    assert parse_request(json.loads(json.dumps(again)))[0] == model
    masked = json.dumps(to_json(model))
    for secret in ("s3cret", '"ak"', '"sk"'):
        assert secret not in masked
    if kind == "start" and "storageConfig" in body.get("clientRequest", body):
        assert f'"secretKey": "{MASK}"' in masked


@SETTINGS
@given(valid_bodies())
def test_valid_bodies_detect_their_kind(kind_and_body):
    kind, body = kind_and_body
    assert parse_request(body)[0] == parse_request(body, kind=kind)[0]
