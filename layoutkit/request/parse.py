"""Parse cloud-recording request bodies (composite mode) into the model, checking every rule.

Every problem is collected before anything is raised, so one :class:`RequestError`
lists all of them.  Each problem carries the JSON path from the body root (``[i]`` for
array items); for a bare ``clientRequest`` the paths start inside it.  Rules are those of
``shared/spec/agora-composite.md`` sections 2, 3, 5, 6 and 7; values that the cloud
silently replaces (``fps``) and settings the cloud ignores are warnings.

The walking is done by :class:`Reader` (one JSON object at one path) with the value
checkers ``_as_*`` (one JSON value at one path); both report into one ``Problems``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from ..errors import Problem, RequestError, ParameterError
from . import limits as lim
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
from .checks import (  # uid_problem is re-exported: part of this API
    MISSING,
    join_path,
    Problems,
    as_av_file_types,
    as_bool,
    as_cname,
    as_color,
    as_file_name_prefix,
    as_image,
    as_private_params,
    as_str_list,
    as_uid_list,
    choices_text,
    is_salt,
    num,
    shown,
    uid_problem,
)
from .jsontext import load_json  # re-exported: part of this API
from .reader import Reader
from .suggest import did_you_mean

__all__ = [
    "KINDS",
    "canvas_problems",
    "detect_kind",
    "load_json",
    "parse_layout_settings",
    "parse_request",
    "uid_problem",
]

KINDS: tuple[str, ...] = ("start", "updateLayout", "acquire", "update", "stop")
_BARE = "clientRequest"  # kind= value meaning "a bare clientRequest, detect which"


# --- key sets of every object ----------------------------------------------------------
ENVELOPE_KEYS = ("cname", "uid", "clientRequest")
LAYOUT_KEYS = (
    "mixedVideoLayout",
    "maxResolutionUid",
    "backgroundColor",
    "backgroundImage",
    "defaultUserBackgroundImage",
    "layoutConfig",
    "backgroundConfig",
)
TRANSCODING_KEYS = ("width", "height", "fps", "bitrate", *LAYOUT_KEYS)
REGION_KEYS = ("uid", "x_axis", "y_axis", "width", "height", "alpha", "render_mode")
USER_BACKGROUND_KEYS = ("uid", "image_url", "render_mode")
AUDIO_LIST_KEYS = ("subscribeAudioUids", "unSubscribeAudioUids", "unsubscribeAudioUids")
VIDEO_LIST_KEYS = ("subscribeVideoUids", "unSubscribeVideoUids", "unsubscribeVideoUids")
RECORDING_KEYS = (
    "channelType",
    "streamTypes",
    "decryptionMode",
    "secret",
    "salt",
    "maxIdleTime",
    "audioProfile",
    "videoStreamType",
    *AUDIO_LIST_KEYS,
    *VIDEO_LIST_KEYS,
    "subscribeUidGroup",
    "streamMode",
    "transcodingConfig",
    "privateParams",
)
FILE_CONFIG_KEYS = ("avFileType",)
STORAGE_KEYS = (
    "vendor",
    "region",
    "bucket",
    "accessKey",
    "secretKey",
    "fileNamePrefix",
    "extensionParams",
    "stsToken",
    "stsExpiration",
)
EXTENSION_KEYS = ("sse", "tag", "endpoint")
START_KEYS = ("token", "recordingConfig", "recordingFileConfig", "storageConfig")
ACQUIRE_KEYS = ("scene", "resourceExpiredHour", "region", "excludeResourceIds", "startParameter")
UPDATE_KEYS = ("streamSubscribe", "storageConfig")
STREAM_SUBSCRIBE_KEYS = ("audioUidList", "videoUidList")
STOP_KEYS = ("async_stop",)
CLIENT_KEYS: dict[str, tuple[str, ...]] = {
    "start": START_KEYS,
    "updateLayout": LAYOUT_KEYS,
    "acquire": ACQUIRE_KEYS,
    "update": UPDATE_KEYS,
    "stop": STOP_KEYS,
}


# --- layout settings (transcodingConfig and updateLayout) -------------------------------------
def _check_unique_uid(entry: Reader, uid: str | None, first_at: dict[str, str]) -> None:
    """Report ``uid`` if an earlier entry of the array has it (``first_at``: uid -> entry)."""
    if uid is None:
        return
    if uid in first_at:
        entry.error("uid", f"duplicate uid (also in {first_at[uid]})", uid)
    else:
        first_at[uid] = entry.path.rsplit(".", 1)[-1]


def _read_regions(r: Reader, mode: int | None) -> tuple[LayoutRegion, ...]:
    key, custom = "layoutConfig", mode == lim.CUSTOM_LAYOUT
    if not r.has(key):
        if custom:
            r.error(key, "is required when mixedVideoLayout is 3")
        return ()
    if mode is not None and not custom:
        r.error(key, f"is only allowed with mixedVideoLayout 3 (custom), not {mode}")
    regions: list[LayoutRegion] = []
    uid_at: dict[str, str] = {}
    for e in r.entries(key, REGION_KEYS, nonempty=custom, max_items=lim.MAX_REGIONS):
        uid = e.uid("uid")
        box = {k: e.fraction(k, required=True, lo_open=k in ("width", "height"),
                             decimals=lim.FRACTION_DECIMALS)
               for k in ("x_axis", "y_axis", "width", "height")}
        for start, size in (("x_axis", "width"), ("y_axis", "height")):
            if box[start] is None or box[size] is None:
                continue
            end = box[start] + box[size]
            if end > 1 + 1e-9:
                r.out.error(e.path, f"{start} + {size} must be <= 1", round(end, 9))
        _check_unique_uid(e, uid, uid_at)
        regions.append(LayoutRegion(
            x_axis=box["x_axis"] or 0.0, y_axis=box["y_axis"] or 0.0,
            width=box["width"] or 0.0, height=box["height"] or 0.0, uid=uid,
            alpha=e.fraction("alpha", 1.0),
            render_mode=e.integer("render_mode", 0, choices=lim.RENDER_MODES)))
    return tuple(regions)


def _read_user_backgrounds(r: Reader) -> tuple[UserBackground, ...]:
    entries: list[UserBackground] = []
    uid_at: dict[str, str] = {}
    for e in r.entries("backgroundConfig", USER_BACKGROUND_KEYS):
        uid = e.uid("uid", required=True)
        _check_unique_uid(e, uid, uid_at)
        entries.append(UserBackground(
            uid=uid or "",
            image_url=e.field("image_url", as_image, "", required=True),
            render_mode=e.integer("render_mode", 0, choices=lim.RENDER_MODES)))
    return tuple(entries)


def _read_layout(r: Reader) -> LayoutSettings:
    mode = r.integer("mixedVideoLayout", 0, choices=lim.LAYOUT_MODES)
    known_mode = mode if r.ok("mixedVideoLayout") else None
    max_uid = r.uid("maxResolutionUid")
    if max_uid is not None and known_mode not in (None, lim.VERTICAL_LAYOUT):
        r.warn("maxResolutionUid", "is only used by the vertical layout (mixedVideoLayout 2); "
                                   "ignored here", max_uid)
    return LayoutSettings(
        mixed_video_layout=mode,
        max_resolution_uid=max_uid,
        background_color=r.field("backgroundColor", as_color, "#000000"),
        background_image=r.field("backgroundImage", as_image),
        default_user_background_image=r.field("defaultUserBackgroundImage", as_image),
        layout_config=_read_regions(r, known_mode),
        background_config=_read_user_backgrounds(r),
    )


def _read_transcoding(r: Reader) -> TranscodingConfig:
    side: dict[str, Any] = {"lo": 1, "hi": lim.MAX_SIDE}
    width = r.integer("width", lim.DEFAULT_WIDTH, **side)
    height = r.integer("height", lim.DEFAULT_HEIGHT, **side)
    if r.ok("width") and r.ok("height") and width * height > lim.MAX_AREA:
        r.out.error(r.path, f"area {width}x{height} exceeds {lim.MAX_AREA_TEXT} "
                            f"({width * height} > {lim.MAX_AREA} pixels)")
    for key, size in (("width", width), ("height", height)):
        if r.has(key) and r.ok(key) and size % 2:
            r.warn(key, "odd size is rounded by encoders (yuv420p needs even sizes)", size)
    fps = r.integer("fps", lim.DEFAULT_FPS)
    if r.ok("fps") and fps not in lim.ALLOWED_FPS:
        r.warn("fps", f"fps {num(fps)} is not supported; the cloud uses {lim.DEFAULT_FPS}", fps,
               "supported: " + choices_text(sorted(lim.ALLOWED_FPS)))
        fps = lim.DEFAULT_FPS
    bitrate = r.integer("bitrate", lim.DEFAULT_BITRATE, lo=1, hi=lim.MAX_BITRATE)
    return TranscodingConfig(width=width, height=height, fps=fps, bitrate=bitrate,
                             layout=_read_layout(r))


def parse_layout_settings(obj: Any, *, path: str = "") -> tuple[LayoutSettings, list[Problem]]:
    """Check and convert an ``updateLayout`` ``clientRequest`` (the layout keys only).

    The same rules apply to the layout keys of ``transcodingConfig`` in a ``start`` body.

    Parameters
    ----------
    obj : Any
        The JSON object with ``mixedVideoLayout``, ``layoutConfig`` etc.
    path : str, optional
        JSON path of ``obj`` used in problems (e.g. ``"clientRequest"``).

    Returns
    -------
    settings : LayoutSettings
        The settings, every omitted field at its default (only meaningful when
        ``problems`` holds no error).
    problems : list of Problem
        Errors and warnings (nothing is raised).
    """
    out = Problems()
    return _read_layout(Reader(obj, path, out, LAYOUT_KEYS)), out.items


def canvas_problems(width: Any, height: Any, *, path: str = "") -> list[Problem]:
    """Return the errors of a canvas size, by the rules of ``transcodingConfig``.

    ``width`` and ``height`` are integers 1..1920, at most 1920x1080 pixels in all.

    Examples
    --------
    >>> for problem in canvas_problems(30000, "tall", path="canvas"):
    ...     print(problem)
    code 2: canvas.width: must be in [1, 1920] (got 30000)
    code 2: canvas.height: must be a number (got "tall")
    >>> canvas_problems(1280, 720)
    []
    """
    out = Problems()
    _read_transcoding(Reader({"width": width, "height": height}, path, out, TRANSCODING_KEYS))
    return out.of("error")


# --- recordingConfig --------------------------------------------------------------------
_MEDIA_LISTS = {
    "audio": (AUDIO_LIST_KEYS, lim.STREAM_TYPES_WITH_AUDIO),
    "video": (VIDEO_LIST_KEYS, lim.STREAM_TYPES_WITH_VIDEO),
}


def _read_uid_lists(r: Reader, media: str, stream_types: int | None = None
                    ) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """Read the ``(subscribe, unsubscribe)`` lists of one media; both spellings of unSubscribe."""
    keys, allowed = _MEDIA_LISTS[media]
    given = [k for k in r.data if k in keys]
    lists: dict[bool, tuple[str, ...] | None] = {True: None, False: None}
    for i, key in enumerate(given):
        subscribe = key == keys[0]
        lists[subscribe] = r.field(key, as_uid_list, allow_all=subscribe)
        if i:
            r.error(key, f"cannot be used together with {given[0]}")
        if stream_types is not None and stream_types not in allowed:
            r.error(key, f"is not allowed with streamTypes {stream_types} ({media} lists need "
                         f"streamTypes {allowed[0]} or {allowed[1]})")
    return lists[True], lists[False]


def _read_decryption(r: Reader, mode: int | None) -> tuple[str | None, str | None]:
    needs_salt = mode in lim.SALT_DECRYPTION_MODES
    secret = r.text("secret", nonempty=True,
                    required=f"when decryptionMode is {mode}" if mode else False)
    salt = r.text("salt", nonempty=True,
                  required=f"when decryptionMode is {mode}" if needs_salt else False)
    if salt is not None and not is_salt(salt):
        r.error("salt", f"must be the Base64 encoding of {lim.SALT_BYTES} bytes", salt)
    if mode == 0 and secret is not None:
        r.warn("secret", "is ignored when decryptionMode is 0")
    if mode is not None and not needs_salt and salt is not None:
        r.warn("salt", "is only used with decryptionMode 7 or 8")
    return secret, salt


def _read_recording(r: Reader) -> RecordingConfig:
    channel_type = r.integer("channelType", 0, choices=lim.CHANNEL_TYPES)
    stream_types = r.integer("streamTypes", 2, choices=lim.STREAM_TYPES)
    known_types = stream_types if r.ok("streamTypes") else None
    mode = r.integer("decryptionMode", 0, lo=0, hi=max(lim.DECRYPTION_MODES))
    secret, salt = _read_decryption(r, mode if r.ok("decryptionMode") else None)
    sub_audio, unsub_audio = _read_uid_lists(r, "audio", known_types)
    sub_video, unsub_video = _read_uid_lists(r, "video", known_types)
    group = r.integer("subscribeUidGroup", choices=lim.SUBSCRIBE_UID_GROUPS)
    if group is not None:
        r.warn("subscribeUidGroup", "is only used in individual mode; ignored in composite mode",
               group)
    if r.has("streamMode"):
        r.error("streamMode", "is for individual mode only; not allowed in composite (mix) mode",
                r.data["streamMode"])
    return RecordingConfig(
        channel_type=channel_type,
        stream_types=stream_types,
        decryption_mode=mode,
        secret=secret,
        salt=salt,
        max_idle_time=r.integer("maxIdleTime", lim.DEFAULT_MAX_IDLE_TIME,
                                lo=lim.MAX_IDLE_TIME[0], hi=lim.MAX_IDLE_TIME[1]),
        audio_profile=r.integer("audioProfile", 0, choices=lim.AUDIO_PROFILES),
        video_stream_type=r.integer("videoStreamType", 0, choices=lim.VIDEO_STREAM_TYPES),
        subscribe_audio_uids=sub_audio,
        unsubscribe_audio_uids=unsub_audio,
        subscribe_video_uids=sub_video,
        unsubscribe_video_uids=unsub_video,
        subscribe_uid_group=group,
        transcoding_config=_read_transcoding(r.child("transcodingConfig", TRANSCODING_KEYS)),
        private_params=r.field("privateParams", as_private_params, ()),
    )


# --- storageConfig ----------------------------------------------------------------------
def _read_extension_params(r: Reader, vendor: int | None) -> tuple[tuple[str, Any], ...]:
    s3_compatible = vendor == lim.S3_COMPATIBLE_VENDOR
    e = r.child("extensionParams", EXTENSION_KEYS,
                required="when vendor is 11 (for endpoint)" if s3_compatible else False)
    values = {
        "sse": e.text("sse", choices=lim.SSE_VALUES),
        "tag": e.text("tag"),
        "endpoint": e.text("endpoint", nonempty=True,
                           required="when vendor is 11" if s3_compatible else False),
    }
    if values["sse"] is not None and vendor not in (None, lim.S3_VENDOR):
        e.warn("sse", "is only used by Amazon S3 (vendor 1)", values["sse"])
    return tuple((k, v) for k, v in values.items() if v is not None)


def _read_storage(r: Reader, *, complete: bool = True) -> StorageConfig:
    """Read ``storageConfig``; ``complete=False`` (``update``) makes every key optional.

    ``stsToken`` and ``stsExpiration`` are checked but not kept (the model has no field).
    """
    vendor = r.integer("vendor", 1, required=complete, choices=lim.VENDORS)
    known_vendor = vendor if r.has("vendor") and r.ok("vendor") else None
    if known_vendor in lim.LEGACY_VENDORS:
        r.warn("vendor", f"vendor {vendor} ({lim.LEGACY_VENDORS[vendor]}) is no longer in the "
                         f"cloud's vendor list", vendor)
    r.text("stsToken", nonempty=True)
    r.integer("stsExpiration", lo=0)
    return StorageConfig(
        vendor=vendor,
        region=r.integer("region", 0, required=complete, lo=0),
        bucket=r.text("bucket", "", required=complete, nonempty=True),
        access_key=r.text("accessKey", "", required=complete, nonempty=True),
        secret_key=r.text("secretKey", "", required=complete, nonempty=True),
        file_name_prefix=r.field("fileNamePrefix", as_file_name_prefix, ()),
        extension_params=_read_extension_params(r, known_vendor),
    )


def _read_file_config(r: Reader) -> RecordingFileConfig:
    return RecordingFileConfig(av_file_type=r.field("avFileType", as_av_file_types, ("hls",)))


# --- the five bodies --------------------------------------------------------------------
def _read_start(r: Reader, cname: str, uid: str, *, storage_required: bool,
                bare: bool = False) -> StartRequest:
    """Read a ``start`` clientRequest.

    ``storageConfig`` is required in a whole body (the cloud's rule) and a warning when
    missing from a ``bare`` one (checked for its layout and recording settings, e.g. for a
    local recording, which writes to disk).
    """
    token = r.text("token")
    recording = _read_recording(r.child("recordingConfig", RECORDING_KEYS, required=True))
    files = _read_file_config(r.child("recordingFileConfig", FILE_CONFIG_KEYS))
    storage = r.child("storageConfig", STORAGE_KEYS, required=storage_required)
    if bare and r.present and not r.has("storageConfig"):
        r.warn("storageConfig", "is missing; the cloud refuses a start request without it "
                                "(code 2); this bare clientRequest is checked without storage",
               hint="add storageConfig before sending it (vendor, region, bucket, accessKey, "
                    "secretKey)")
    return StartRequest(cname=cname, uid=uid, token=token, recording_config=recording,
                        recording_file_config=files,
                        storage_config=_read_storage(storage) if storage.present else None)


def _read_update_layout(r: Reader, cname: str, uid: str, whole: bool) -> UpdateLayoutRequest:
    return UpdateLayoutRequest(cname=cname, uid=uid, layout=_read_layout(r))


def _read_acquire(r: Reader, cname: str, uid: str, whole: bool) -> AcquireRequest:
    r.field("excludeResourceIds", as_str_list)
    start = None
    if r.has("startParameter"):
        start = _read_start(r.child("startParameter", START_KEYS), "", "", storage_required=False)
    return AcquireRequest(
        cname=cname,
        uid=uid,
        scene=r.integer("scene", 0, choices=lim.SCENES),
        resource_expired_hour=r.integer("resourceExpiredHour", lim.DEFAULT_RESOURCE_EXPIRED_HOUR,
                                        lo=lim.RESOURCE_EXPIRED_HOUR[0],
                                        hi=lim.RESOURCE_EXPIRED_HOUR[1]),
        region=r.text("region", choices=lim.ACQUIRE_REGIONS),
        start_parameter=start,
    )


def _read_update(r: Reader, cname: str, uid: str, whole: bool) -> UpdateRequest:
    subscribe = r.child("streamSubscribe", STREAM_SUBSCRIBE_KEYS)
    audio = subscribe.child("audioUidList", AUDIO_LIST_KEYS)
    video = subscribe.child("videoUidList", VIDEO_LIST_KEYS)
    sub_audio, unsub_audio = _read_uid_lists(audio, "audio")
    sub_video, unsub_video = _read_uid_lists(video, "video")
    if r.has("storageConfig"):
        _read_storage(r.child("storageConfig", STORAGE_KEYS), complete=False)
    return UpdateRequest(cname=cname, uid=uid,
                         subscribe_audio_uids=sub_audio, unsubscribe_audio_uids=unsub_audio,
                         subscribe_video_uids=sub_video, unsubscribe_video_uids=unsub_video)


def _read_stop(r: Reader, cname: str, uid: str, whole: bool) -> StopRequest:
    return StopRequest(cname=cname, uid=uid, async_stop=r.field("async_stop", as_bool, False))


_CLIENT_READERS: dict[str, Callable[[Reader, str, str, bool], object]] = {
    "start": lambda r, cname, uid, whole: _read_start(r, cname, uid, storage_required=whole,
                                                      bare=not whole),
    "updateLayout": _read_update_layout,
    "acquire": _read_acquire,
    "update": _read_update,
    "stop": _read_stop,
}


# --- inner objects given at the top of a body --------------------------------------------
CONTENTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("transcodingConfig", TRANSCODING_KEYS, "clientRequest.recordingConfig"),
    ("recordingConfig", RECORDING_KEYS, "clientRequest"),
    ("storageConfig", STORAGE_KEYS, "clientRequest"),
    ("recordingFileConfig", FILE_CONFIG_KEYS, "clientRequest"),
    ("extensionParams", EXTENSION_KEYS, "clientRequest.storageConfig"),
    ("streamSubscribe", STREAM_SUBSCRIBE_KEYS, "clientRequest"),
    ("layoutConfig[0]", REGION_KEYS, "clientRequest.recordingConfig.transcodingConfig"),
    ("backgroundConfig[0]", USER_BACKGROUND_KEYS,
     "clientRequest.recordingConfig.transcodingConfig"),
)
"""Inner objects a body is mistaken for: ``(name, its keys, where it belongs)``."""

HOMES: dict[str, tuple[str, ...]] = {
    **{name: (home,) for name, _, home in CONTENTS if "[" not in name},
    "startParameter": ("clientRequest",),
    "audioUidList": ("clientRequest.streamSubscribe",),
    "videoUidList": ("clientRequest.streamSubscribe",),
    "layoutConfig": ("clientRequest", "clientRequest.recordingConfig.transcodingConfig"),
    "backgroundConfig": ("clientRequest", "clientRequest.recordingConfig.transcodingConfig"),
}
"""Where each inner object of a body belongs (paths from the root of a whole body)."""


_ARRAYS = ("layoutConfig", "backgroundConfig")


def _wrapped(key: str, rel: str) -> str:
    """Wrap ``key`` in the objects of ``rel``: ``{"a": {"b": {"key": {...}}}}`` for ``"a.b"``.

    An array's key gets ``[{...}]``.

    Examples
    --------
    >>> _wrapped("transcodingConfig", "recordingConfig")
    '{"recordingConfig": {"transcodingConfig": {...}}}'
    """
    name = key.split("[")[0]
    text = f'"{name}": ' + ("[{...}]" if name in _ARRAYS else "{...}")
    for part in reversed([p for p in rel.split(".") if p]):
        text = f'"{part}": {{{text}}}'
    return "{" + text + "}"


def _relative(home: str, level: str, whole: bool) -> str | None:
    """Return ``home`` (from a whole body's root) relative to the object at ``level``, or None."""
    full = level if whole else ("clientRequest." + level if level else "clientRequest")
    if home == full:
        return None
    if not full:
        return home
    return home[len(full) + 1:] if home.startswith(full + ".") else None


def _chain(level: str, rel: str) -> set[str]:
    """Return the objects from ``level`` to ``rel`` (their "is required" is explained)."""
    parts = [p for p in rel.split(".") if p]
    return {join_path(level, ".".join(parts[:i])) for i in range(1, len(parts) + 1)}


def _misplaced(obj: Any, level: str, allowed: Collection[str], *, whole: bool,
               kind_name: str) -> tuple[list[Problem], set[str]]:
    """Return one clear problem for an inner object given where a body was expected.

    Either the object *is* the content of an inner object (more of its keys unknown than
    known, all of them that object's keys, e.g. ``width``, ``height``, ``fps`` of a
    ``transcodingConfig``): one problem at ``level``; or it holds inner objects that belong
    deeper (``transcodingConfig`` in a bare ``clientRequest``): one problem each.  Also
    returns the paths whose "is required" these problems explain.  Nothing for other objects.
    """
    if not isinstance(obj, dict) or not obj:
        return [], set()
    keys = [k for k in obj if isinstance(k, str)]
    unknown = [k for k in keys if k not in allowed]
    if len(keys) < len(obj) or not unknown:
        return [], set()
    found: list[Problem] = []
    chains: set[str] = set()
    for key in unknown:
        rels = [(home, rel) for home in HOMES.get(key, ())
                if (rel := _relative(home, level, whole)) is not None]
        if rels:
            home, rel = rels[0]
            found.append(Problem(join_path(level, key), f"belongs in {home}, not here",
                                 hint="wrap it as " + _wrapped(key, rel)))
            chains |= _chain(level, rel)
    if found and len(found) == len(unknown):
        return found, chains
    if len(unknown) > len(keys) - len(unknown):
        for name, inner_keys, home in CONTENTS:
            if all(k in inner_keys for k in keys):
                rel = _relative(home, level, whole) or ""
                shown_keys = ", ".join(unknown[:4]) + (", ..." if len(unknown) > 4 else "")
                what = f"an item of {name[:-3]}" if "[" in name else f"a {name}"
                return [Problem(level, f"is the content of {what}, not {kind_name} "
                                       f"({shown_keys} are not its keys)",
                                hint=f"{name.split('[')[0]} belongs in {home}: wrap it as "
                                     + _wrapped(name, rel))], set()
    return found, chains


def _explain_misplaced(doc: dict[Any, Any], client_value: Any, items: list[Problem], *,
                       kind: str | None, whole: bool) -> list[Problem]:
    """Replace the "unknown key" errors of an inner object given at the top of a body.

    One problem instead says where it belongs (at the envelope and ``clientRequest`` level).
    """
    levels: list[tuple[str, Any, Collection[str], str]] = (
        [("", doc, ENVELOPE_KEYS, "a whole body")] if whole else [])
    client_keys = CLIENT_KEYS[kind] if kind else ()
    kind_name = (f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} clientRequest" if kind
                 else "a clientRequest")
    levels.append(("clientRequest" if whole else "", client_value, client_keys, kind_name))
    for level, obj, allowed, name in levels:
        moved, chains = _misplaced(obj, level, allowed, whole=whole, kind_name=name)
        if not moved:
            continue
        if moved[0].path == level:  # the object is an inner object's content: only that is said
            return [*moved, *(p for p in items if level and not p.path.startswith(level))]
        paths = {p.path for p in moved}
        items = [*moved, *(p for p in items
                           if not (p.path in paths and p.rule == "unknown key")
                           and not (p.path in chains and p.rule.startswith("is required")))]
    return items


# --- kind detection ----------------------------------------------------------------------
def _key_matches(key: object, keys: Collection[str]) -> int:
    """2 for an exact key, 1 for a misspelt or wrong-case one, else 0."""
    if key in keys:
        return 2
    return 1 if isinstance(key, str) and did_you_mean(key, keys) else 0


def detect_kind(client_request: Any) -> str | None:
    """Guess the request kind from the keys of a ``clientRequest`` object.

    Parameters
    ----------
    client_request : Any
        The ``clientRequest`` object (or a bare one).

    Returns
    -------
    str or None
        One of :data:`KINDS`, the one whose keys match best (misspelt keys count
        half; ties go to the earlier kind in ``KINDS``), or None when no key matches.
    """
    if not isinstance(client_request, dict):
        return None
    scores = {kind: sum(_key_matches(key, CLIENT_KEYS[kind]) for key in client_request)
              for kind in KINDS}
    best = max(KINDS, key=lambda kind: scores[kind])
    return best if scores[best] else None


def _is_whole(doc: dict[Any, Any]) -> bool:
    return any(_key_matches(k, ENVELOPE_KEYS) for k in doc)


def _client_request_value(doc: dict[Any, Any]) -> Any:
    if "clientRequest" in doc:
        return doc["clientRequest"]
    return next((v for k, v in doc.items() if _key_matches(k, ("clientRequest",))), MISSING)


def parse_request(doc: Any, *, kind: str | None = None) -> tuple[object, list[Problem]]:
    """Check a request body against every rule and build its model.

    Parameters
    ----------
    doc : Any
        The decoded JSON: a whole body ``{"cname", "uid", "clientRequest"}`` or a bare
        ``clientRequest`` (paths of a bare one start inside it, e.g.
        ``recordingConfig.transcodingConfig.width``).
    kind : {'start', 'updateLayout', 'acquire', 'update', 'stop', 'clientRequest'}, optional
        The request kind; None detects it from the keys (:func:`detect_kind`);
        ``'clientRequest'`` says ``doc`` is a bare clientRequest of a detected kind.

    Returns
    -------
    model : object
        :class:`StartRequest`, :class:`UpdateLayoutRequest`, :class:`AcquireRequest`,
        :class:`UpdateRequest` or :class:`StopRequest`; every omitted field at the
        cloud's default.  Bare bodies have empty ``cname`` and ``uid``.
    warnings : list of Problem
        Problems of severity ``"warning"`` (replaced or ignored values).

    Raises
    ------
    RequestError
        With every error at once (its ``warnings`` attribute holds the warnings).  No
        other exception is raised for any JSON value.
    ParameterError
        For an unknown ``kind``.
    """
    if kind is not None and kind not in (*KINDS, _BARE):
        hint = did_you_mean(kind, (*KINDS, _BARE))
        raise ParameterError(f"unknown request kind {kind!r}" + (f"; {hint}" if hint else "")
                         + f" (kinds: {', '.join((*KINDS, _BARE))})")
    if not isinstance(doc, dict):
        raise RequestError([Problem("", "must be a JSON object", shown(doc))])
    whole = kind != _BARE and _is_whole(doc)
    client_value = _client_request_value(doc) if whole else doc
    if kind not in KINDS:
        kind = detect_kind(client_value) or ("start" if whole and not isinstance(client_value, dict)
                                             else None)
    out = Problems()
    model: object = None
    if whole:
        envelope = Reader(doc, "", out, ENVELOPE_KEYS)
        cname = envelope.field("cname", as_cname, "", required=True)
        uid = envelope.uid("uid", required=True) or ""
        if kind is not None:
            client = envelope.child("clientRequest", CLIENT_KEYS[kind], required=True)
            model = _CLIENT_READERS[kind](client, cname, uid, True)
    elif kind is not None:
        model = _CLIENT_READERS[kind](Reader(doc, "", out, CLIENT_KEYS[kind]), "", "", False)
    if kind is None:
        out.error("clientRequest" if whole else "", "cannot tell the request kind from its keys",
                  hint="give the kind: " + ", ".join(KINDS))
    out.items = _explain_misplaced(doc, client_value, out.items, kind=kind, whole=whole)
    errors, warnings = out.of("error"), out.of("warning")
    if errors:
        raise RequestError(errors, warnings=warnings)
    return model, warnings
