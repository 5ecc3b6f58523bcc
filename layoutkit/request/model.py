"""Frozen, typed model of the cloud-recording request bodies (composite mode).

Field names are the snake_case forms of the cloud's JSON keys; every default is the
cloud's default (docs/cloud.md#cloud-transcoding, #cloud-recording-config, #cloud-files).
``parse`` builds these objects; nothing
here validates or does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..enums import LayoutMode, RenderMode


def _as_enum(obj: Any, name: str, enum_type: type[LayoutMode] | type[RenderMode]) -> None:
    """Hold a known integer of a frozen dataclass field as its ``IntEnum`` member."""
    value = getattr(obj, name)
    if isinstance(value, int) and not isinstance(value, bool) and \
            value in enum_type._value2member_map_:
        object.__setattr__(obj, name, enum_type(value))

__all__ = [
    "ALL_STREAMS",
    "AcquireRequest",
    "LayoutRegion",
    "LayoutSettings",
    "RecordingConfig",
    "RecordingFileConfig",
    "StartRequest",
    "StopRequest",
    "StorageConfig",
    "TranscodingConfig",
    "UpdateLayoutRequest",
    "UpdateRequest",
    "UserBackground",
]

ALL_STREAMS = "#allstream#"


@dataclass(frozen=True)
class LayoutRegion:
    """One ``layoutConfig`` entry: a custom region in canvas fractions."""

    x_axis: float
    y_axis: float
    width: float
    height: float
    uid: str | None = None
    alpha: float = 1.0
    render_mode: RenderMode = RenderMode.CROP

    def __post_init__(self) -> None:
        """Hold a known integer ``render_mode`` as its :class:`RenderMode` member."""
        _as_enum(self, "render_mode", RenderMode)


@dataclass(frozen=True)
class UserBackground:
    """One ``backgroundConfig`` entry: the image shown for ``uid`` after it stops video."""

    uid: str
    image_url: str
    render_mode: RenderMode = RenderMode.CROP

    def __post_init__(self) -> None:
        """Hold a known integer ``render_mode`` as its :class:`RenderMode` member."""
        _as_enum(self, "render_mode", RenderMode)


@dataclass(frozen=True)
class LayoutSettings:
    """Everything ``updateLayout`` can change (it always overwrites all of it).

    ``background_color`` is kept as the validated ``#RRGGBB`` text, upper-cased.
    """

    mixed_video_layout: LayoutMode = LayoutMode.FLOATING
    max_resolution_uid: str | None = None
    background_color: str = "#000000"
    background_image: str | None = None
    default_user_background_image: str | None = None
    layout_config: tuple[LayoutRegion, ...] = ()
    background_config: tuple[UserBackground, ...] = ()

    @property
    def background_rgb(self) -> tuple[int, int, int]:
        """The canvas colour as an ``(r, g, b)`` tuple of ints."""
        h = self.background_color
        return (int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16))

    def user_background(self, uid: str) -> UserBackground | None:
        """Return the image a region of ``uid`` shows after its video stopped, or None.

        Priority (docs/cloud.md#cloud-backgrounds): ``backgroundConfig`` for the uid, then
        ``defaultUserBackgroundImage`` (render mode 0, crop).
        """
        for entry in self.background_config:
            if entry.uid == uid:
                return entry
        if self.default_user_background_image:
            return UserBackground(uid=uid, image_url=self.default_user_background_image)
        return None


    def __post_init__(self) -> None:
        """Hold a known integer ``mixed_video_layout`` as its :class:`LayoutMode` member."""
        _as_enum(self, "mixed_video_layout", LayoutMode)

@dataclass(frozen=True)
class TranscodingConfig:
    """``recordingConfig.transcodingConfig``: canvas, encoder and layout."""

    width: int = 360
    height: int = 640
    fps: int = 15
    bitrate: int = 500
    layout: LayoutSettings = field(default_factory=LayoutSettings)

    @property
    def canvas_wh(self) -> tuple[int, int]:
        """Canvas size as ``(width, height)`` in pixels."""
        return (self.width, self.height)


@dataclass(frozen=True)
class RecordingConfig:
    """``clientRequest.recordingConfig`` for composite mode.

    Subscription lists are ``None`` when absent.  ``private_params`` is the parsed JSON
    object of the ``privateParams`` string.
    """

    channel_type: int = 0
    stream_types: int = 2
    decryption_mode: int = 0
    secret: str | None = None
    salt: str | None = None
    max_idle_time: int = 30
    audio_profile: int = 0
    video_stream_type: int = 0
    subscribe_audio_uids: tuple[str, ...] | None = None
    unsubscribe_audio_uids: tuple[str, ...] | None = None
    subscribe_video_uids: tuple[str, ...] | None = None
    unsubscribe_video_uids: tuple[str, ...] | None = None
    subscribe_uid_group: int | None = None
    transcoding_config: TranscodingConfig = field(default_factory=TranscodingConfig)
    private_params: tuple[tuple[str, Any], ...] = ()

    @property
    def private(self) -> dict[str, Any]:
        """``privateParams`` as a dict."""
        return dict(self.private_params)

    def records_video(self) -> bool:
        """Tell whether ``streamTypes`` includes video (1 or 2)."""
        return self.stream_types in (1, 2)

    def records_audio(self) -> bool:
        """Tell whether ``streamTypes`` includes audio (0 or 2)."""
        return self.stream_types in (0, 2)

    def subscribes_video(self, uid: str) -> bool:
        """Tell whether the recorder subscribes to ``uid``'s video.

        By the subscription lists and ``streamTypes`` (docs/cloud.md#cloud-recording-config).
        """
        return _subscribed(uid, self.subscribe_video_uids, self.unsubscribe_video_uids,
                           other_set=self.subscribe_audio_uids is not None
                           or self.unsubscribe_audio_uids is not None) and self.records_video()

    def subscribes_audio(self, uid: str) -> bool:
        """Tell whether the recorder subscribes to ``uid``'s audio.

        By the subscription lists and ``streamTypes`` (docs/cloud.md#cloud-recording-config).
        """
        return _subscribed(uid, self.subscribe_audio_uids, self.unsubscribe_audio_uids,
                           other_set=self.subscribe_video_uids is not None
                           or self.unsubscribe_video_uids is not None) and self.records_audio()

    def preview_uids(self, count: int = 4) -> list[str]:
        """Return the users a preview draws when none are given.

        The uids of an explicit ``subscribeVideoUids`` list, else ``"1"`` .. ``count``.

        >>> RecordingConfig(subscribe_video_uids=("123", "456")).preview_uids()
        ['123', '456']
        >>> RecordingConfig().preview_uids(3)
        ['1', '2', '3']
        """
        listed = self.subscribe_video_uids
        if listed and ALL_STREAMS not in listed:
            return list(listed)
        return [str(i) for i in range(1, count + 1)]

    def sheet_uids(self, count: int) -> list[str]:
        """Return a contact sheet's join order: users whose video the recorder subscribes to.

        An explicit ``subscribeVideoUids`` list gives its uids (the sheet then has as many
        cells as it lists, up to ``count``); otherwise ``"1"``, ``"2"``, ... skipping the
        ``unSubscribeVideoUids``, until ``count`` users; none when the recorder subscribes
        to no video at all (audio only, or only audio lists set).

        >>> RecordingConfig(subscribe_video_uids=("7", "8")).sheet_uids(17)
        ['7', '8']
        >>> RecordingConfig(unsubscribe_video_uids=("2",)).sheet_uids(4)
        ['1', '3', '4', '5']
        >>> RecordingConfig(stream_types=0).sheet_uids(4)
        []
        """
        listed = self.preview_uids(0)
        if listed:
            return listed[:count]
        # only the listed are left out: ``count`` numbers past them are enough, or none is
        reach = count + len(self.unsubscribe_video_uids or ())
        return [uid for uid in map(str, range(1, reach + 1)) if self.subscribes_video(uid)][:count]

    def split_video_subscribed(self, users: Sequence[str]) -> tuple[list[str], list[str]]:
        """Split ``users`` into ``(subscribed, unsubscribed)`` video, as scenarios do.

        The first are those whose video the recorder subscribes to (``subscribeVideoUids`` /
        ``unSubscribeVideoUids``), the second the others, each in the given order.

        >>> RecordingConfig(unsubscribe_video_uids=("2",)).split_video_subscribed(["1", "2", "3"])
        (['1', '3'], ['2'])
        """
        kept = [uid for uid in users if self.subscribes_video(uid)]
        return kept, [uid for uid in users if uid not in kept]


def _subscribed(uid: str, allow: tuple[str, ...] | None, deny: tuple[str, ...] | None,
                *, other_set: bool) -> bool:
    # "if a list is set for only one media type, the other type is not subscribed at all"
    if allow is None and deny is None:
        return not other_set
    if allow is not None:
        return ALL_STREAMS in allow or uid in allow
    assert deny is not None
    return uid not in deny


@dataclass(frozen=True)
class RecordingFileConfig:
    """``clientRequest.recordingFileConfig``."""

    av_file_type: tuple[str, ...] = ("hls",)


@dataclass(frozen=True)
class StorageConfig:
    """``clientRequest.storageConfig`` (credentials are kept; never printed by the CLI)."""

    vendor: int = 1
    region: int = 0
    bucket: str = ""
    access_key: str = ""
    secret_key: str = ""
    file_name_prefix: tuple[str, ...] = ()
    extension_params: tuple[tuple[str, Any], ...] = ()

    @property
    def prefix_path(self) -> str:
        """``fileNamePrefix`` joined with ``/`` (empty when absent)."""
        return "/".join(self.file_name_prefix)


@dataclass(frozen=True)
class StartRequest:
    """A whole ``start`` body (or a bare ``clientRequest``, with empty cname/uid)."""

    cname: str = ""
    uid: str = ""
    token: str | None = None
    recording_config: RecordingConfig = field(default_factory=RecordingConfig)
    recording_file_config: RecordingFileConfig = field(default_factory=RecordingFileConfig)
    storage_config: StorageConfig | None = None
    #: Folder of the file the body came from: relative image paths resolve against it.
    base_dir: Path | None = field(default=None, compare=False, repr=False)

    @property
    def transcoding(self) -> TranscodingConfig:
        """Shortcut to ``recording_config.transcoding_config``."""
        return self.recording_config.transcoding_config

    @property
    def layout(self) -> LayoutSettings:
        """Shortcut to the layout settings."""
        return self.recording_config.transcoding_config.layout


@dataclass(frozen=True)
class UpdateLayoutRequest:
    """An ``updateLayout`` body: replaces the whole layout."""

    cname: str = ""
    uid: str = ""
    layout: LayoutSettings = field(default_factory=LayoutSettings)
    #: Folder of the file the body came from: relative image paths resolve against it.
    base_dir: Path | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class AcquireRequest:
    """An ``acquire`` body (``startParameter``, if any, is parsed as a start clientRequest)."""

    cname: str = ""
    uid: str = ""
    scene: int = 0
    resource_expired_hour: int = 72
    region: str | None = None
    start_parameter: StartRequest | None = None


@dataclass(frozen=True)
class UpdateRequest:
    """An ``update`` body (subscription changes)."""

    cname: str = ""
    uid: str = ""
    subscribe_audio_uids: tuple[str, ...] | None = None
    unsubscribe_audio_uids: tuple[str, ...] | None = None
    subscribe_video_uids: tuple[str, ...] | None = None
    unsubscribe_video_uids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class StopRequest:
    """A ``stop`` body."""

    cname: str = ""
    uid: str = ""
    async_stop: bool = False
