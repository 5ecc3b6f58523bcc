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

A recording is untrusted input (:mod:`layoutkit.io.limited`):

* every file opened is a regular file inside the recording's folder (the folder given, the
  ``.m3u8``'s folder, the download folder), its links followed one by one without looking
  outside: a segment URI that leaves the folder (an absolute path, ``..``, a ``file:`` URI,
  also percent-encoded as ``%2F``) or a link out of it is refused as ``outside_uri`` /
  ``outside_link``, and nothing about the outside path (exists, size) is looked at;
* a URI longer than :data:`~layoutkit.cloudfiles.parse.MAX_URI_CHARS` or naming more than
  255 bytes is ``bad_uri``; a FIFO, device or socket named like a recording file is
  ``special_file``, never opened;
* playlists and stop responses are read only from regular files of at most 4 MiB
  (:data:`~layoutkit.io.limited.MAX_TEXT_FILE`); a FIFO or device given as the recording
  or the stop response is refused at once with its path;
* folders are walked without entering linked folders (at most 100,000 files).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import MediaError
from ..io.limited import MAX_TEXT_FILE, Resolved, file_type, read_json_file, read_limited, \
    resolve_inside, walk_files
from ..io.s3 import download_tree, parse_s3_url
from ..cloudfiles.parse import (
    Playlist,
    looks_like_stop_response,
    parse_mp4_name,
    parse_playlist,
    parse_stop_response,
    segment_uri_problem,
)

__all__ = ["KINDS", "Recording", "SegmentFile", "open_recording"]

#: What a recording was given as.
KINDS: tuple[str, ...] = ("folder", "m3u8", "ts", "mp4")
_MEDIA_SUFFIXES = (".m3u8", ".ts", ".mp4")
#: Playlists in one recording folder at most (one per recording, a few with failovers).
MAX_PLAYLISTS = 100


@dataclass(frozen=True)
class SegmentFile:
    """One TS segment: its URI in the playlist, its local path and whether it exists.

    ``real`` is the file the path leads to (links inside the folder followed), the same for
    two URIs naming one file. ``problem`` is ``(kind, rule)`` when the URI is not read at all
    (``outside_uri``, ``bad_uri``, ``special_file``); ``exists`` is false then.
    """

    uri: str
    path: Path
    exists: bool
    size: int | None
    real: Path | None = None
    problem: tuple[str, str] | None = None


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
    refused : tuple of (str, Path, str)
        Files of the folder that are not read: ``(kind, path, rule)`` with kind
        ``outside_link`` (a symbolic link leading out of the folder, not followed) or
        ``special_file`` (a FIFO, device, socket named like a recording file).
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
    refused: tuple[tuple[str, Path, str], ...] = ()

    def media_segments(self) -> list[Path]:
        """Return the files of the segments that exist, each file once, in playlist order.

        A URI listed again, or two names of one file, are decoded once.
        """
        return list(dict.fromkeys(s.real for s in self.segments if s.real is not None))

    def relative(self, path: Path) -> str:
        """``path`` relative to :attr:`root` with ``/`` (the storage key), else its name."""
        text, root = str(path), str(self.root).rstrip("/") + "/"
        return text[len(root):] if text.startswith(root) else path.name


_OUTSIDE_LINK = "is a symbolic link that leads out of the recording folder (not followed)"
_WATCHED = (".m3u8", ".ts", ".mp4", ".json")


def _read_json(path: Path) -> Any:
    try:
        return read_json_file(path, what="stop response", follow=False)
    except OSError:
        return None


def _load_response(source: str | os.PathLike[str] | Mapping[str, Any]
                   ) -> tuple[dict[str, Any], Path | None]:
    if isinstance(source, Mapping):
        doc: Any = dict(source)
        path = None
    else:
        path = Path(source)
        doc = read_json_file(path, what="stop response")
    if not looks_like_stop_response(doc):
        where = path or "server_response"
        raise MediaError(f"{where}: not a stop response (no serverResponse / fileList)")
    parse_stop_response(doc, source=str(path or "server_response"))  # raises when unusable
    return doc, path


def _read_playlist(path: Path, *, follow: bool = False) -> Playlist:
    data = read_limited(path, limit=MAX_TEXT_FILE, what="playlist", follow=follow)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MediaError(f"{path}: the playlist is not UTF-8 text") from None
    return parse_playlist(text, source=str(path))


def _key(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _segment(uri: str, name: str, folder: Path, root: Path, below: str) -> SegmentFile:
    """Find one URI's file in ``folder`` (``below`` is its key under ``root``).

    It is refused when it is not a regular file of the folder; nothing outside ``root`` is
    looked at.
    """
    problem = segment_uri_problem(uri)
    if problem is not None:
        return SegmentFile(uri=uri, path=folder, exists=False, size=None, problem=problem)
    path = folder / name
    found = resolve_inside(root, f"{below}/{name}" if below else name)
    why = _refusal(path, found)
    if why is not None:  # a listed link out is an outside URI
        kind = "outside_uri" if why[0] == "outside_link" else why[0]
        return SegmentFile(uri=uri, path=path, exists=False, size=None, problem=(kind, why[2]))
    return SegmentFile(uri=uri, path=path, exists=found.is_file, size=found.size,
                       real=found.path if found.is_file else None)


def _segment_files(playlist: Playlist, folder: Path, root: Path) -> tuple[SegmentFile, ...]:
    seen: dict[str, SegmentFile] = {}  # a URI listed again is resolved once
    below = "" if folder == root else _key(folder, root)
    out = []
    for seg in playlist.segments:
        if seg.uri not in seen:
            seen[seg.uri] = _segment(seg.uri, seg.file_name, folder, root, below)
        out.append(seen[seg.uri])
    return tuple(out)


def _mp4_order(path: Path) -> tuple[int, int, str]:
    parsed = parse_mp4_name(path.name)
    return (0, parsed.index, path.name) if parsed and parsed.index is not None else (1, 0,
                                                                                     path.name)


def _refusal(path: Path, found: Resolved) -> tuple[str, Path, str] | None:
    """Why a watched file of the folder is not read, or None when it is a regular file."""
    if found.outside:
        return "outside_link", path, _OUTSIDE_LINK
    if found.mode is not None and not found.is_file:
        return "special_file", path, f"is {file_type(found.mode)}, not a regular file"
    return None


def _sort_files(paths: list[Path], root: Path
                ) -> tuple[list[tuple[Path, Path]], list[tuple[str, Path, str]]]:
    """Sort ``paths`` into regular files inside ``root`` and refusals.

    Returns (path, real path) of the regular files among ``paths`` and the refusals of the
    others that are named like recording files.
    """
    files, refused = [], []
    for path in sorted(paths):
        found = resolve_inside(root, _key(path, root))
        if found.is_file:
            files.append((path, found.path))
            continue
        why = _refusal(path, found)
        if why is not None and path.suffix.lower() in _WATCHED:
            refused.append(why)
    return files, refused


def _beside(folder: Path, root: Path) -> tuple[list[tuple[Path, Path]], list[tuple[str, Path,
                                                                                 str]]]:
    try:
        names = [folder / e.name for e in os.scandir(folder)
                 if not e.name.startswith(".") and not e.is_dir(follow_symlinks=False)]
    except OSError:
        names = []
    return _sort_files(names, root)


def _unlisted(refused: list[tuple[str, Path, str]], segments: tuple[SegmentFile, ...]
              ) -> list[tuple[str, Path, str]]:
    """Keep the refusals of files the playlist does not list (a listed one is reported there)."""
    named = {s.path for s in segments if s.problem is not None}
    return [r for r in refused if r[1] not in named]


def _around_playlist(kind: str, location: str, root: Path, found: tuple[Path, Playlist],
                     response: tuple[dict[str, Any], Path | None] | None,
                     others: tuple[Path, ...] = ()) -> Recording:
    """Read the recording of a playlist (``found``: its path and content) and its folder."""
    playlist_path, playlist = found
    folder = playlist_path.parent
    segments = _segment_files(playlist, folder, root)
    listed = {s.real for s in segments if s.real is not None}
    files, refused = _beside(folder, root)
    unlisted = tuple(p for p, real in files if p.suffix.lower() == ".ts" and real not in listed)
    mp4s = tuple(sorted((p for p, _ in files if p.suffix.lower() == ".mp4"), key=_mp4_order))
    refused = _unlisted(refused, segments)
    doc, doc_path = response if response else (None, None)
    return Recording(kind=kind, location=location, root=root, playlist_path=playlist_path,
                     playlist=playlist, segments=segments, unlisted_segments=unlisted,
                     mp4s=mp4s, server_response=doc, server_response_path=doc_path,
                     other_playlists=others, refused=tuple(refused))


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


def _choose(playlists: list[tuple[Path, Path]], root: Path,
            response: tuple[dict[str, Any], Path | None] | None
            ) -> tuple[Path, Playlist, tuple[Path, ...]]:
    """Choose the playlist the stop response names, else the one listing the most segments.

    Each is parsed in turn; only the chosen one is kept.
    """
    if len(playlists) > MAX_PLAYLISTS:
        raise MediaError(f"{root}: {len(playlists)} .m3u8 files, more than {MAX_PLAYLISTS}; "
                         "not one recording (give the recording's own folder or playlist)")
    real = dict(playlists)
    paths = [p for p, _ in playlists]
    named = _response_names(response[0]) if response else set()
    chosen = next((p for p in paths if any(n == _key(p, root) or n.rsplit("/", 1)[-1] == p.name
                                           for n in named)), None)
    best: tuple[tuple[int, int], Path, Playlist] | None = None
    for p in paths:  # every one must be a playlist; the best is kept
        playlist = _read_playlist(real[p])
        rank = (1 if p == chosen else 0, len(playlist.segments)) if chosen else \
            (len(playlist.segments), -len(p.parts))
        if best is None or rank > best[0]:
            best = (rank, p, playlist)
    assert best is not None
    return best[1], best[2], tuple(p for p in paths if p != best[1])


def _open_folder(location: str, root: Path,
                 response: tuple[dict[str, Any], Path | None] | None) -> Recording:
    files, refused = _sort_files(list(walk_files(root)), root)
    if response is None:
        jsons = [real for p, real in files if p.suffix.lower() == ".json"]
        jsons.sort(key=lambda p: (p.name != "serverResponse.json", len(p.parts), str(p)))
        response = _find_response(jsons)
    playlists = [(p, real) for p, real in files if p.suffix.lower() == ".m3u8"]
    if not playlists:
        media = [p for p, _ in files if p.suffix.lower() in (".ts", ".mp4")]
        if not media:
            raise MediaError(f"{location}: no recording found (no .m3u8, .ts or .mp4 file)")
        mp4s = tuple(sorted((p for p in media if p.suffix.lower() == ".mp4"), key=_mp4_order))
        ts = tuple(p for p in media if p.suffix.lower() == ".ts")
        doc, doc_path = response if response else (None, None)
        return Recording(kind="folder", location=location, root=root, unlisted_segments=ts,
                         mp4s=mp4s, server_response=doc, server_response_path=doc_path,
                         refused=tuple(refused))
    chosen, playlist, others = _choose(playlists, root, response)
    found = _around_playlist("folder", location, root, (chosen, playlist), response, others)
    refused = _unlisted([*refused, *found.refused], found.segments)
    return replace(found, refused=tuple(dict.fromkeys(refused)))


def _regular(path: Path, location: str) -> None:
    """Refuse a file given on its own that is not a regular file (a FIFO would block)."""
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        raise MediaError(f"{location}: is {file_type(mode)}, not a regular file; a "
                         "recording file is read only from a regular file")


def _response_above(path: Path) -> tuple[dict[str, Any], Path] | None:
    """Find a ``serverResponse.json`` naming the playlist, in its folder or up to three above.

    Links out of each folder are not followed.
    """
    for folder in [path.parent, *list(path.parent.parents)[:3]]:
        found = resolve_inside(folder, "serverResponse.json")
        if not found.is_file:
            continue
        response = _find_response([found.path])
        if response and any(n.rsplit("/", 1)[-1] == path.name
                            for n in _response_names(response[0])):
            return response
    return None


def _open_local(location: str, path: Path,
                response: tuple[dict[str, Any], Path | None] | None) -> Recording:
    if path.is_dir():
        return _open_folder(location, path.resolve(), response)
    if not path.exists():
        raise MediaError(f"{location}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix not in _MEDIA_SUFFIXES:
        raise MediaError(f"{location}: not a recording (expected a folder, .m3u8, .ts or .mp4)")
    _regular(path, location)
    root = path.parent.resolve()
    path = root / path.name
    if suffix == ".m3u8":
        playlist = _read_playlist(path, follow=True)
        if response is None:
            response = _response_above(path)
        return _around_playlist("m3u8", location, root, (path, playlist), response)
    doc, doc_path = response if response else (None, None)
    if suffix == ".ts":
        size = path.stat().st_size
        seg = SegmentFile(uri=path.name, path=path, exists=True, size=size, real=path.resolve())
        return Recording(kind="ts", location=location, root=root, segments=(seg,),
                         server_response=doc, server_response_path=doc_path)
    return Recording(kind="mp4", location=location, root=root, mp4s=(path,),
                     server_response=doc, server_response_path=doc_path)


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
