"""The local recorder: a scenario -> HLS (.m3u8 + .ts) and MP4, like the cloud's composite mode.

``segmenter`` (pure cut rules) -> ``sinks`` (TS segments, MP4 parts, playlist) ->
``pipeline`` (threads, encoders; :func:`record`).
"""

from .pipeline import RecordingResult, record
from .segmenter import SEGMENT_SECONDS, Cut, Segmenter

__all__ = ["SEGMENT_SECONDS", "Cut", "RecordingResult", "Segmenter", "record"]
