"""The cloud's request JSON: model, parsing with every rule, lint."""

from .model import (
    ALL_STREAMS,
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
