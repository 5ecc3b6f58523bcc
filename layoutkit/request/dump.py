"""Turn request models back into the cloud's JSON (camelCase, every default filled in).

This is the normalized body ``layoutkit validate --json`` prints.  Fields the model keeps
as ``None`` (absent optional values) are left out; everything with a default is written.
With ``mask_secrets=False`` the output parses back to an equal model::

    parse_request(to_json(model, mask_secrets=False))[0] == model
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .model import (
    AcquireRequest,
    LayoutRegion,
    LayoutSettings,
    RecordingConfig,
    RecordingFileConfig,
    StartRequest,
    StopRequest,
    StorageConfig,
    TranscodingConfig,
    UpdateLayoutRequest,
    UpdateRequest,
    UserBackground,
)
from .masking import MASK, SECRET_KEYS

__all__ = ["MASK", "SECRET_KEYS", "masked", "to_json"]



def _compact(pairs: dict[str, Any]) -> dict[str, Any]:
    """Drop the keys whose value is None (absent optional fields)."""
    return {k: v for k, v in pairs.items() if v is not None}


def _list(values: tuple[Any, ...] | None) -> list[Any] | None:
    return None if values is None else list(values)


def _nonempty(values: list[Any]) -> list[Any] | None:
    return values or None


def _region(region: LayoutRegion) -> dict[str, Any]:
    return _compact({
        "uid": region.uid,
        "x_axis": region.x_axis,
        "y_axis": region.y_axis,
        "width": region.width,
        "height": region.height,
        "alpha": region.alpha,
        "render_mode": region.render_mode,
    })


def _user_background(entry: UserBackground) -> dict[str, Any]:
    return {"uid": entry.uid, "image_url": entry.image_url, "render_mode": entry.render_mode}


def _layout(layout: LayoutSettings) -> dict[str, Any]:
    return _compact({
        "mixedVideoLayout": layout.mixed_video_layout,
        "maxResolutionUid": layout.max_resolution_uid,
        "backgroundColor": layout.background_color,
        "backgroundImage": layout.background_image,
        "defaultUserBackgroundImage": layout.default_user_background_image,
        "layoutConfig": _nonempty([_region(r) for r in layout.layout_config]),
        "backgroundConfig": _nonempty([_user_background(b) for b in layout.background_config]),
    })


def _transcoding(config: TranscodingConfig) -> dict[str, Any]:
    return {
        "width": config.width,
        "height": config.height,
        "fps": config.fps,
        "bitrate": config.bitrate,
        **_layout(config.layout),
    }


def _recording(config: RecordingConfig) -> dict[str, Any]:
    return _compact({
        "channelType": config.channel_type,
        "streamTypes": config.stream_types,
        "decryptionMode": config.decryption_mode,
        "secret": config.secret,
        "salt": config.salt,
        "maxIdleTime": config.max_idle_time,
        "audioProfile": config.audio_profile,
        "videoStreamType": config.video_stream_type,
        "subscribeAudioUids": _list(config.subscribe_audio_uids),
        "unSubscribeAudioUids": _list(config.unsubscribe_audio_uids),
        "subscribeVideoUids": _list(config.subscribe_video_uids),
        "unSubscribeVideoUids": _list(config.unsubscribe_video_uids),
        "subscribeUidGroup": config.subscribe_uid_group,
        "transcodingConfig": _transcoding(config.transcoding_config),
        "privateParams": json.dumps(dict(config.private_params)) if config.private_params else None,
    })


def _file_config(config: RecordingFileConfig) -> dict[str, Any]:
    return {"avFileType": list(config.av_file_type)}


def _storage(config: StorageConfig) -> dict[str, Any]:
    return _compact({
        "vendor": config.vendor,
        "region": config.region,
        "bucket": config.bucket,
        "accessKey": config.access_key,
        "secretKey": config.secret_key,
        "fileNamePrefix": _nonempty(list(config.file_name_prefix)),
        "extensionParams": dict(config.extension_params) or None,
    })


def _start_client(request: StartRequest) -> dict[str, Any]:
    storage = request.storage_config
    return _compact({
        "token": request.token,
        "recordingConfig": _recording(request.recording_config),
        "recordingFileConfig": _file_config(request.recording_file_config),
        "storageConfig": None if storage is None else _storage(storage),
    })


def _acquire_client(request: AcquireRequest) -> dict[str, Any]:
    start = request.start_parameter
    return _compact({
        "scene": request.scene,
        "resourceExpiredHour": request.resource_expired_hour,
        "region": request.region,
        "startParameter": None if start is None else _start_client(start),
    })


def _uid_list_pair(subscribe_key: str, subscribe: tuple[str, ...] | None, unsubscribe_key: str,
                   unsubscribe: tuple[str, ...] | None) -> dict[str, Any] | None:
    pair = _compact({subscribe_key: _list(subscribe), unsubscribe_key: _list(unsubscribe)})
    return pair or None


def _update_client(request: UpdateRequest) -> dict[str, Any]:
    return {"streamSubscribe": _compact({
        "audioUidList": _uid_list_pair("subscribeAudioUids", request.subscribe_audio_uids,
                                       "unSubscribeAudioUids", request.unsubscribe_audio_uids),
        "videoUidList": _uid_list_pair("subscribeVideoUids", request.subscribe_video_uids,
                                       "unSubscribeVideoUids", request.unsubscribe_video_uids),
    })}


def _stop_client(request: StopRequest) -> dict[str, Any]:
    return {"async_stop": request.async_stop}


_REQUEST_TYPES = (StartRequest, UpdateLayoutRequest, AcquireRequest, UpdateRequest, StopRequest)
_BODIES: dict[type, Callable[[Any], dict[str, Any]]] = {
    StartRequest: _start_client,
    UpdateLayoutRequest: lambda request: _layout(request.layout),
    AcquireRequest: _acquire_client,
    UpdateRequest: _update_client,
    StopRequest: _stop_client,
}

_PARTS: dict[type, Callable[[Any], dict[str, Any]]] = {
    LayoutSettings: _layout,
    LayoutRegion: _region,
    UserBackground: _user_background,
    TranscodingConfig: _transcoding,
    RecordingConfig: _recording,
    RecordingFileConfig: _file_config,
    StorageConfig: _storage,
}


def masked(value: Any) -> Any:
    """Return a copy of a decoded JSON value with its secrets replaced by :data:`MASK`.

    A secret is the value under a :data:`SECRET_KEYS` key, at any depth, of any type but null.

    Examples
    --------
    >>> masked({"storageConfig": {"bucket": "b", "secretKey": "s3cr3t"}, "token": 7})
    {'storageConfig': {'bucket': 'b', 'secretKey': '***'}, 'token': '***'}
    """
    if isinstance(value, dict):
        return {k: MASK if k in SECRET_KEYS and v is not None else masked(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def to_json(obj: object, *, mask_secrets: bool = True) -> dict[str, Any]:
    """Return the cloud's JSON for a request model, every default written out.

    Parameters
    ----------
    obj : object
        A request model (:class:`StartRequest`, :class:`UpdateLayoutRequest`,
        :class:`AcquireRequest`, :class:`UpdateRequest`, :class:`StopRequest`) or one of
        its parts (:class:`LayoutSettings`, :class:`TranscodingConfig`, ...).
    mask_secrets : bool, optional
        Replace the values of ``secretKey``, ``accessKey``, ``token``, ``secret`` and
        ``stsToken``, whatever their type, by ``"***"`` (default), so the output can be
        printed or logged.

    Returns
    -------
    dict
        For a request with ``cname``/``uid`` the whole body ``{"cname", "uid",
        "clientRequest"}``; for one without (a bare ``clientRequest``) just the
        ``clientRequest`` object; for a part, that part's object.

    Raises
    ------
    TypeError
        For an object that is not a request model or part.
    """
    body_of = _BODIES.get(type(obj))
    if body_of is not None and isinstance(obj, _REQUEST_TYPES):  # the same test, typed
        client = body_of(obj)
        cname, uid = obj.cname, obj.uid
        result = {"cname": cname, "uid": uid, "clientRequest": client} if cname or uid else client
    elif type(obj) in _PARTS:
        result = _PARTS[type(obj)](obj)
    else:
        raise TypeError(f"to_json: not a request model: {type(obj).__name__}")
    return masked(result) if mask_secrets else result
