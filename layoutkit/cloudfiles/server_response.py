"""The ``serverResponse`` of a composite-mode ``stop`` response, pure.

Field by field as docs/cloud.md#cloud-file-list describes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .naming import epoch_ms

__all__ = ["TRACK_TYPES", "UPLOADING_STATUSES", "file_entry", "server_response", "track_type_of"]

TRACK_TYPES: dict[int, str] = {0: "audio", 1: "video", 2: "audio_and_video"}
"""``serverResponse`` ``trackType`` by ``recordingConfig.streamTypes``."""

UPLOADING_STATUSES: tuple[str, ...] = ("uploaded", "backuped", "unknown")
"""``uploadingStatus`` values of a ``stop`` response."""


def track_type_of(stream_types: int) -> str:
    """Return the ``trackType`` for ``recordingConfig.streamTypes`` 0 / 1 / 2.

    Examples
    --------
    >>> track_type_of(2)
    'audio_and_video'
    """
    try:
        return TRACK_TYPES[stream_types]
    except (KeyError, TypeError):
        msg = f"streamTypes: must be 0, 1 or 2 (got {stream_types!r})"
        raise ValueError(msg) from None


def file_entry(name: str, track_type: str, start: datetime) -> dict[str, Any]:
    """One ``fileList`` entry of ``fileListMode`` ``"json"`` (mix: uid ``"0"``, all users)."""
    return {
        "fileName": name,
        "trackType": track_type,
        "uid": "0",
        "mixedAllUser": True,
        "isPlayable": True,
        "sliceStartTime": epoch_ms(start),
    }


def server_response(*, m3u8_key: str, mp4_keys: Sequence[str], slice_start: datetime,
                    mp4_slice_starts: Sequence[datetime] | None = None,
                    track_type: str = "audio_and_video",
                    uploading_status: str = "uploaded") -> dict[str, Any]:
    """Build the ``serverResponse`` of a composite-mode ``stop`` response.

    The fields and their values follow docs/cloud.md#cloud-file-list.

    Parameters
    ----------
    m3u8_key : str
        The playlist's storage key, ``fileNamePrefix`` included.
    mp4_keys : sequence of str
        The MP4 parts' keys in index order; empty for ``avFileType`` ``["hls"]``.
    slice_start : datetime
        Start of the recording (``sliceStartTime`` of the M3U8 entry), timezone-aware.
    mp4_slice_starts : sequence of datetime or None
        Start of each MP4 part (same length as ``mp4_keys``); ``None``: every part uses
        ``slice_start`` (the docs' single-part example shows equal values).
    track_type : {'audio', 'video', 'audio_and_video'}
        See :func:`track_type_of`.
    uploading_status : {'uploaded', 'backuped', 'unknown'}
        ``uploadingStatus``.

    Returns
    -------
    dict
        ``{"fileListMode": "string", "fileList": m3u8_key, "uploadingStatus": ...}`` without
        MP4; with MP4 ``{"fileListMode": "json", "fileList": [m3u8 entry, mp4 entries...],
        "uploadingStatus": ...}``, M3U8 first as in the stop example; ``sliceStartTime`` in
        epoch milliseconds.

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2019, 7, 10, 2, 16, 11, 626_000, tzinfo=UTC)
    >>> server_response(m3u8_key="a/s_c.m3u8", mp4_keys=[], slice_start=t)
    {'fileListMode': 'string', 'fileList': 'a/s_c.m3u8', 'uploadingStatus': 'uploaded'}
    """
    if track_type not in TRACK_TYPES.values():
        msg = f"track_type: must be one of {', '.join(TRACK_TYPES.values())} (got {track_type!r})"
        raise ValueError(msg)
    if uploading_status not in UPLOADING_STATUSES:
        msg = (f"uploading_status: must be one of {', '.join(UPLOADING_STATUSES)} "
               f"(got {uploading_status!r})")
        raise ValueError(msg)
    if isinstance(mp4_keys, str):
        msg = "mp4_keys: must be a sequence of keys, not a string"
        raise TypeError(msg)
    if mp4_slice_starts is None:
        mp4_slice_starts = [slice_start] * len(mp4_keys)
    if len(mp4_slice_starts) != len(mp4_keys):
        msg = (f"mp4_slice_starts: {len(mp4_slice_starts)} times for "
               f"{len(mp4_keys)} MP4 files")
        raise ValueError(msg)
    if not mp4_keys:
        epoch_ms(slice_start)  # same checks as the json mode
        return {"fileListMode": "string", "fileList": m3u8_key,
                "uploadingStatus": uploading_status}
    entries = [file_entry(m3u8_key, track_type, slice_start)]
    entries += [file_entry(k, track_type, t)
                for k, t in zip(mp4_keys, mp4_slice_starts, strict=True)]
    return {"fileListMode": "json", "fileList": entries, "uploadingStatus": uploading_status}
