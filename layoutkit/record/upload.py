"""Upload a finished local recording to S3-compatible storage (``layoutkit upload``).

What ``mix --upload`` does after recording, for a recording already on disk (e.g. to retry
after a failed upload): the files ``serverResponse.json`` lists, the segments its playlist
lists, in the order a reader of the bucket never sees a playlist naming a missing segment:
segments, then MP4 parts, then the playlist; each under ``prefix/<its path below DIR>``.
After a complete upload ``serverResponse.json`` says ``uploadingStatus: "uploaded"``
(:func:`mark_uploaded`); a local recording says ``"unknown"`` until then.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from ..cloudfiles.parse import parse_playlist, parse_stop_response
from ..errors import LayoutkitError, MediaError, StorageError
from ..io.limited import read_json_file
from ..io.lock import folder_lock

__all__ = ["mark_uploaded", "recording_keys", "upload_recording"]


def recording_keys(root: str | os.PathLike[str]) -> list[str]:
    """List the keys (paths below ``root``) of the recording in ``root``, in upload order.

    Read from ``root/serverResponse.json`` (written when a recording is finished, also after
    an interrupt) and the playlist it lists.

    Raises
    ------
    StorageError
        When there is no readable ``serverResponse.json``, it lists no playlist, or a file
        it or the playlist lists is missing.
    """
    folder = Path(root)
    response = folder / "serverResponse.json"
    if not os.path.lexists(response):
        msg = (f"{response}: not found; only a finished recording can be uploaded (the "
               "recorder writes this file last)")
        raise StorageError(msg)
    try:
        doc = read_json_file(response, what="stop response")
        files = parse_stop_response(doc, source=str(response)).files
    except MediaError as exc:
        raise StorageError(str(exc)) from None
    except (OSError, ValueError, LayoutkitError) as exc:
        msg = f"{response}: cannot read the stop response ({exc})"
        raise StorageError(msg) from None
    playlists = [f.file_name for f in files if f.file_name.endswith(".m3u8")]
    mp4s = [f.file_name for f in files if f.file_name.endswith(".mp4")]
    if not playlists:
        msg = f"{response}: lists no .m3u8 playlist"
        raise StorageError(msg)
    segments: list[str] = []
    for key in playlists:
        path = folder / key
        try:
            playlist = parse_playlist(path.read_text(encoding="utf-8"), source=str(path))
        except OSError as exc:
            msg = f"{path}: cannot read the playlist ({exc.strerror or exc})"
            raise StorageError(msg) from None
        except LayoutkitError as exc:
            raise StorageError(str(exc)) from None
        parent = PurePosixPath(key).parent
        segments += [(parent / seg.file_name).as_posix() for seg in playlist.segments]
    keys = [*segments, *mp4s, *playlists]
    for key in keys:
        if not (folder / key).is_file():
            msg = f"{folder / key}: listed by the recording but missing; nothing was uploaded"
            raise StorageError(msg)
    return keys


def upload_recording(root: str | os.PathLike[str], url: str, *,
                     storage_config: Any = None) -> list[str]:
    """Upload the recording in ``root`` to ``s3://bucket[/prefix]``; returns the keys written.

    Parameters
    ----------
    root : path
        The folder ``mix`` wrote into (``-o``), holding ``serverResponse.json``.
    url : str
        ``s3://bucket[/prefix]``.
    storage_config : StorageConfig, optional
        Endpoint and credentials to fall back on (as ``mix --upload`` takes the scenario's);
        default the AWS environment variables only.

    Raises
    ------
    ParameterError
        For a bad URL.
    StorageError
        When the recording is incomplete, or the upload fails (a failure part-way says how
        many files were sent; running it again sends them all again).
    FolderBusyError
        When a recorder is writing into ``root``.
    """
    from ..io.s3 import parse_s3_url, uploader_from_storage_config
    from ..request.model import StorageConfig

    bucket, prefix = parse_s3_url(url)
    folder = Path(root)
    if not folder.is_dir():
        msg = f"{folder}: no such folder"
        raise StorageError(msg)
    with folder_lock(folder, what="run"):
        keys = recording_keys(folder)
        uploader = uploader_from_storage_config(storage_config or StorageConfig(),
                                                bucket_override=bucket, prefix=prefix)
        written = uploader.upload_tree(folder, keys)
        mark_uploaded(folder)
        return written


def mark_uploaded(root: str | os.PathLike[str]) -> None:
    """Set ``uploadingStatus`` of ``root/serverResponse.json`` to ``"uploaded"``.

    Called once every file of the recording is in the bucket (``mix --upload``,
    ``layoutkit upload``); the rest of the file is kept as it is.

    Raises
    ------
    StorageError
        When the file cannot be read or written.
    """
    from .pipeline import write_server_response

    response = Path(root) / "serverResponse.json"
    try:
        doc = read_json_file(response, what="stop response")
    except MediaError as exc:
        raise StorageError(str(exc)) from None
    if not isinstance(doc, dict):
        msg = f"{response}: not a JSON object"
        raise StorageError(msg)
    inner = doc.get("serverResponse")
    body: dict[str, Any] = inner if isinstance(inner, dict) else doc
    body["uploadingStatus"] = "uploaded"
    write_server_response(Path(root), doc)
