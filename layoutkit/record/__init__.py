"""The local recorder: a scenario -> HLS (.m3u8 + .ts) and MP4, like the cloud's composite mode.

``segmenter`` (pure cut rules) -> ``sinks`` (TS segments, MP4 parts, playlist) ->
``pipeline`` (threads, encoders; :func:`record`).  ``pipeline`` is imported on first use of
``record`` or ``RecordingResult``: compare reads the segmenter's rules without the encoders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..cloudfiles.constants import SEGMENT_SECONDS
from .segmenter import Cut, Segmenter

if TYPE_CHECKING:
    from .pipeline import RecordingResult, record

__all__ = ["SEGMENT_SECONDS", "Cut", "RecordingResult", "Segmenter", "record"]

_LAZY = ("RecordingResult", "record")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import pipeline

        value = getattr(pipeline, name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
