"""Find the files of a recording: a downloaded folder, an ``.m3u8``, a ``.ts`` or an ``.mp4``.

:func:`open_recording` takes what the engineer has (local or ``s3://bucket/prefix``) and lists
what is there, in a :class:`Recording`; it reads only the playlist text and the ``stop``
response JSON (no media is decoded here).

* A **folder** is searched recursively (the ``fileNamePrefix`` folders): its playlist (when
  several, the one the stop response names, else the one listing the most segments; the
  others are kept in ``other_playlists``), the playlist's TS segments and the MP4 parts beside
  it, and a saved stop response: ``serverResponse.json`` or any JSON object that looks like
  one (:func:`~layoutkit.cloudfiles.parse.looks_like_stop_response`).
* An **.m3u8**: its segments and MP4s beside it; a ``serverResponse.json`` in its folder or
  up to three folders above it is used when it names this playlist.
* A **.ts** or **.mp4** alone: just that file.
* ``s3://bucket/prefix``: everything under the prefix is downloaded with
  :func:`layoutkit.storage.download_tree` (its endpoint and credential rules: ``AWS_ENDPOINT_URL``
  / ``AWS_ENDPOINT_URL_S3``, boto3's credential chain, or the ``s3`` options) into
  ``work_dir``, then read as a folder. An ``s3://.../x.m3u8`` downloads the playlist's folder.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MediaError
from ..io.s3 import download_tree, parse_s3_url
from ..cloudfiles.parse import (
    Playlist,
    looks_like_stop_response,
    parse_mp4_name,
    parse_playlist,
    parse_stop_response,
)

__all__ = ["KINDS", "SegmentFile", "Recording", "open_recording"]

#: What a recording was given as.
KINDS: tuple[str, ...] = ("folder", "m3u8", "ts", "mp4")
_MEDIA_SUFFIXES = (".m3u8", ".ts", ".mp4")
_MAX_JSON_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class SegmentFile:
    """One TS segment: its URI in the playlist, its local path and whether it exists."""

    uri: str
    path: Path
    exists: bool
    size: int | None


@dataclass(frozen=True)
class Recording:
    """What :func:`open_recording` found.

    Parameters
    ----------
    kind : {'folder', 'm3u8', 'ts', 'mp4'}
    location : str
        As given (a path or an ``s3://`` URL).
    root : Path
        The local folder the recording lies in (the download folder for S3).
    playlist_path : Path or None
    playlist : Playlist or None
    segments : tuple of SegmentFile
        In playlist order (for a ``.ts`` input, that one file).
    unlisted_segments : tuple of Path
        ``.ts`` files beside the playlist that it does not list.
    mp4s : tuple of Path
        MP4 parts, in index order (names that do not parse last, by name).
    server_response : dict or None
        The stop response (or its ``serverResponse``) as read.
    server_response_path : Path or None
    other_playlists : tuple of Path
        Further ``.m3u8`` files of a folder.
    """

    kind: str
    location: str
    root: Path
    playlist_path: Path | None = None
    playlist: Playlist | None = None
    segments: tuple[SegmentFile, ...] = ()
    unlisted_segments: tuple[Path, ...] = ()
    mp4s: tuple[Path, ...] = ()
    server_response: dict[str, Any] | None = None
    server_response_path: Path | None = None
    other_playlists: tuple[Path, ...] = ()

    def relative(self, path: Path) -> str:
        """``path`` relative to :attr:`root` with ``/`` (the storage key), else its name."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.name


def _visible(path: Path, root: Path) -> bool:
    """Not hidden (the recorder's temporary ``.*.part`` files) below ``root``."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = (path.name,)
    return not any(p.startswith(".") for p in parts)


def _read_json(path: Path) -> Any:
    try:
        if path.stat().st_size > _MAX_JSON_BYTES:
            return None
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None


def _load_response(source: str | os.PathLike[str] | Mapping[str, Any]
                   ) -> tuple[dict[str, Any], Path | None]:
    if isinstance(source, Mapping):
        doc: Any = dict(source)
        path = None
    else:
        path = Path(source)
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise MediaError(f"{path}: cannot read the stop response ({exc.strerror})") from None
        except ValueError as exc:
            raise MediaError(f"{path}: the stop response is not valid JSON ({exc})") from None
    if not looks_like_stop_response(doc):
        where = path or "server_response"
        raise MediaError(f"{where}: not a stop response (no serverResponse / fileList)")
    parse_stop_response(doc, source=str(path or "server_response"))  # raises when unusable
    return doc, path


def _read_playlist(path: Path) -> Playlist:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MediaError(f"{path}: cannot read the playlist ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise MediaError(f"{path}: the playlist is not UTF-8 text") from None
    return parse_playlist(text, source=str(path))


def _segment_files(playlist: Playlist, folder: Path) -> tuple[SegmentFile, ...]:
    out = []
    for seg in playlist.segments:
        uri = seg.uri
        path = folder / seg.file_name  # percent-decoded, without query or folder
        exists = path.is_file()
        out.append(SegmentFile(uri=uri, path=path, exists=exists,
                               size=path.stat().st_size if exists else None))
    return tuple(out)


def _mp4_order(path: Path) -> tuple[int, int, str]:
    parsed = parse_mp4_name(path.name)
    return (0, parsed.index, path.name) if parsed and parsed.index is not None else (1, 0,
                                                                                     path.name)


def _around_playlist(kind: str, location: str, root: Path, playlist_path: Path,
                     playlist: Playlist, response: tuple[dict[str, Any], Path | None] | None,
                     others: tuple[Path, ...] = ()) -> Recording:
    folder = playlist_path.parent
    segments = _segment_files(playlist, folder)
    listed = {s.path.resolve() for s in segments}
    unlisted = tuple(sorted(p for p in folder.glob("*.ts")
                            if _visible(p, folder) and p.resolve() not in listed))
    mp4s = tuple(sorted((p for p in folder.glob("*.mp4") if _visible(p, folder)),
                        key=_mp4_order))
    doc, doc_path = response if response else (None, None)
    return Recording(kind=kind, location=location, root=root, playlist_path=playlist_path,
                     playlist=playlist, segments=segments, unlisted_segments=unlisted,
                     mp4s=mp4s, server_response=doc, server_response_path=doc_path,
                     other_playlists=others)


def _response_names(doc: dict[str, Any]) -> set[str]:
    try:
        return {f.file_name for f in parse_stop_response(doc).files}
    except MediaError:
        return set()


def _find_response(candidates: list[Path]) -> tuple[dict[str, Any], Path] | None:
    for path in candidates:
        doc = _read_json(path)
        if looks_like_stop_response(doc):
            try:
                parse_stop_response(doc, source=str(path))
            except MediaError:
                continue
            return doc, path
    return None


def _open_folder(location: str, root: Path,
                 response: tuple[dict[str, Any], Path | None] | None) -> Recording:
    files = sorted(p for p in root.rglob("*") if p.is_file() and _visible(p, root))
    if response is None:
        jsons = [p for p in files if p.suffix.lower() == ".json"]
        jsons.sort(key=lambda p: (p.name != "serverResponse.json", len(p.parts), str(p)))
        found = _find_response(jsons)
        response = found
    playlists = [p for p in files if p.suffix.lower() == ".m3u8"]
    if not playlists:
        media = [p for p in files if p.suffix.lower() in (".ts", ".mp4")]
        if not media:
            raise MediaError(f"{location}: no recording found (no .m3u8, .ts or .mp4 file)")
        mp4s = tuple(sorted((p for p in media if p.suffix.lower() == ".mp4"), key=_mp4_order))
        ts = tuple(p for p in media if p.suffix.lower() == ".ts")
        doc, doc_path = response if response else (None, None)
        return Recording(kind="folder", location=location, root=root, unlisted_segments=ts,
                         mp4s=mp4s, server_response=doc, server_response_path=doc_path)
    parsed = {p: _read_playlist(p) for p in playlists}
    named = _response_names(response[0]) if response else set()
    chosen = next((p for p in playlists if any(n == p.relative_to(root).as_posix()
                                                or n.rsplit("/", 1)[-1] == p.name
                                                for n in named)), None)
    if chosen is None:
        chosen = max(playlists, key=lambda p: (len(parsed[p].segments), -len(p.parts)))
    others = tuple(p for p in playlists if p != chosen)
    return _around_playlist("folder", location, root, chosen, parsed[chosen], response, others)


def _open_local(location: str, path: Path,
                response: tuple[dict[str, Any], Path | None] | None) -> Recording:
    if path.is_dir():
        return _open_folder(location, path, response)
    if not path.exists():
        raise MediaError(f"{location}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".m3u8":
        if response is None:
            folders = [path.parent, *list(path.parent.parents)[:3]]
            for folder in folders:
                found = _find_response([folder / "serverResponse.json"])
                if found and any(n.rsplit("/", 1)[-1] == path.name
                                 for n in _response_names(found[0])):
                    response = found
                    break
        return _around_playlist("m3u8", location, path.parent, path, _read_playlist(path),
                                response)
    doc, doc_path = response if response else (None, None)
    if suffix == ".ts":
        size = path.stat().st_size
        seg = SegmentFile(uri=path.name, path=path, exists=True, size=size)
        return Recording(kind="ts", location=location, root=path.parent, segments=(seg,),
                         server_response=doc, server_response_path=doc_path)
    if suffix == ".mp4":
        return Recording(kind="mp4", location=location, root=path.parent, mp4s=(path,),
                         server_response=doc, server_response_path=doc_path)
    raise MediaError(f"{location}: not a recording (expected a folder, .m3u8, .ts or .mp4)")


def open_recording(location: str | os.PathLike[str], *,
                   server_response: str | os.PathLike[str] | Mapping[str, Any] | None = None,
                   work_dir: str | os.PathLike[str] | None = None,
                   s3: Mapping[str, Any] | None = None) -> Recording:
    """List the files of a recording (see the module docstring for what is looked for).

    Parameters
    ----------
    location : str or path
        A folder, ``.m3u8``, ``.ts`` or ``.mp4``, or ``s3://bucket[/prefix]``.
    server_response : path, dict or None
        A saved ``stop`` response (``--server-response FILE``) or its parsed JSON; default:
        found beside the recording.
    work_dir : path or None
        Where an ``s3://`` recording is downloaded (a new temporary folder when None; it is
        left in place for the checks that read the files afterwards).
    s3 : mapping or None
        Extra arguments for :func:`layoutkit.storage.download_tree` (``endpoint_url``,
        ``access_key``, ``secret_key``, ``region``, ``retries``).

    Returns
    -------
    Recording

    Raises
    ------
    MediaError
        Nothing found, an unreadable playlist or stop response, an unknown file type.
    StorageError
        The S3 download failed.
    ParameterError
        A malformed ``s3://`` URL.
    """
    text = os.fspath(location)
    response = _load_response(server_response) if server_response is not None else None
    if text[:5].lower() != "s3://":
        return _open_local(text, Path(text), response)
    bucket, prefix = parse_s3_url(text)
    single = prefix.lower().endswith(_MEDIA_SUFFIXES)
    folder_prefix = prefix.rpartition("/")[0] if prefix.lower().endswith(".m3u8") else prefix
    dest = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="lk-s3-"))
    dest.mkdir(parents=True, exist_ok=True)
    url = f"s3://{bucket}/{folder_prefix}" if folder_prefix else f"s3://{bucket}"
    download_tree(url, dest, overwrite=True, **dict(s3 or {}))  # raises StorageError
    if single:
        return _open_local(text, dest / prefix.rpartition("/")[2], response)
    return _open_local(text, dest, response)
