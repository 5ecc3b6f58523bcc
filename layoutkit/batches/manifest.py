"""The batch manifest: a CSV file of ``recording,scenario`` rows, read safely.

The manifest is read whole with a size limit (:func:`~layoutkit.io.limited.read_limited`),
parsed with :mod:`csv`; every relative path is followed with
:func:`~layoutkit.io.limited.resolve_inside` from the manifest's folder, so a value that
leaves the folder (``..``, an absolute path, a link to elsewhere) is refused naming its row
and column, before anything outside is looked at.  ``s3://`` URLs are accepted for
recordings, as :func:`layoutkit.compare` reads them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import LayoutkitError, ManifestError, format_value
from ..io.limited import read_limited, resolve_inside, walk_files

__all__ = ["COLUMNS", "MAX_MANIFEST", "Row", "fingerprint", "read_manifest", "row_name"]

#: The columns a manifest's header names (in any order; other columns are ignored).
COLUMNS = ("recording", "scenario")
#: The size limit of a manifest (about 100 000 rows of long paths).
MAX_MANIFEST = 32 * 2**20
#: The size limit of a scenario file read for the fingerprint.
MAX_SCENARIO = 64 * 2**20
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Row:
    """One manifest row, resolved.

    Attributes
    ----------
    line : int
        The row's line in the manifest (the header is line 1).
    recording, scenario : str
        The values as written in the manifest.
    recording_path : str
        The recording's real path (links followed inside the manifest's folder) or its
        ``s3://`` URL.
    scenario_path : str
        The scenario file's real path.
    name : str
        The stem of the row's report files: its number and a safe form of the recording's
        name (letters, digits, ``.``, ``_``, ``-`` only; never a folder).
    """

    line: int
    recording: str
    scenario: str
    recording_path: str
    scenario_path: str
    name: str


def row_name(number: int, recording: str) -> str:
    """Return the stem of a row's report files: ``0003-room_a`` (never ``/``, never ``..``).

    Examples
    --------
    >>> row_name(3, "nightly/room a/")
    '0003-room_a'
    >>> row_name(12, "../../etc/passwd")
    '0012-passwd'
    >>> row_name(1, "s3://bucket/calls/sid_1.m3u8")
    '0001-sid_1.m3u8'
    """
    last = [p for p in recording.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    slug = _UNSAFE.sub("_", last[-1] if last else "recording").strip("._-")[:60]
    return f"{number:04d}-{slug or 'recording'}"


def _where(manifest: Path, line: int, column: str) -> str:
    return f"{manifest}: row {line}, column {column}"


def _resolve(root: Path, value: str, *, where: str, s3: bool) -> str:
    """Return the path (or URL) a manifest value names, or raise :class:`ManifestError`."""
    if not value.strip():
        raise ManifestError(f"{where}: is empty; a path relative to the manifest's folder "
                            "is needed")
    if value.startswith("s3://"):
        if not s3:
            raise ManifestError(f"{where}: {format_value(value)} is an s3:// URL; a scenario "
                                "is a file in the manifest's folder")
        from ..io.s3 import parse_s3_url

        try:
            parse_s3_url(value)
        except LayoutkitError as exc:
            raise ManifestError(f"{where}: {exc}") from None
        return value
    relative = value.replace(os.sep, "/")
    # ".." past the folder is refused as written too: a missing folder on the way would
    # stop resolve_inside before it reaches the ".."
    lexical = posixpath.normpath(relative)
    found = resolve_inside(root, relative)
    if found.outside or lexical == ".." or lexical.startswith("../"):
        raise ManifestError(f"{where}: {format_value(value)} leads outside the manifest's "
                            f"folder {root}; paths are relative to it and stay inside")
    return str(found.path)


def _header(rows: list[list[str]], manifest: Path) -> dict[str, int]:
    """Column name -> index from the header row, or :class:`ManifestError`."""
    if not rows:
        raise ManifestError(f"{manifest}: is empty; the first row names the columns "
                            "recording,scenario")
    names = [c.strip().lower() for c in rows[0]]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ManifestError(f"{manifest}: row 1 (the header) has no column "
                            f"{' or '.join(missing)} (got {format_value(rows[0])}); the first "
                            "row names the columns recording,scenario")
    return {c: names.index(c) for c in COLUMNS}


def _parse(text: str, manifest: Path) -> list[tuple[int, list[str]]]:
    """(line, cells) of every non-blank row, the header first."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise ManifestError(f"{manifest}: row {reader.line_num}: not valid CSV ({exc})") from None
    return rows


def read_manifest(path: str | os.PathLike[str]) -> list[Row]:
    r"""Read the rows of a manifest, each path resolved inside the manifest's folder.

    Parameters
    ----------
    path : path-like
        A CSV file (UTF-8) whose first row names the columns ``recording`` and
        ``scenario``; each later row names a recording (a folder, ``.m3u8``, ``.ts`` or
        ``.mp4`` relative to the manifest's folder, or ``s3://bucket/prefix``) and the
        scenario file it is checked against (relative to the manifest's folder).

    Returns
    -------
    list of Row
        In the manifest's order (blank rows skipped).

    Raises
    ------
    MediaError
        When the manifest is not a regular file or is larger than :data:`MAX_MANIFEST`.
    ManifestError
        Not UTF-8, not CSV, a header without the columns, a row without a value, or a path
        that leads outside the manifest's folder: ``<manifest>: row 3, column recording:
        "../x" leads outside the manifest's folder ...``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()).resolve()
    >>> _ = (d / "m.csv").write_text("recording,scenario\nrec1,s.json\n")
    >>> [(r.line, r.name, r.recording_path == str(d / "rec1")) for r in read_manifest(d / "m.csv")]
    [(2, '0001-rec1', True)]
    >>> _ = (d / "m.csv").write_text("recording,scenario\n../rec1,s.json\n")
    >>> read_manifest(d / "m.csv")
    Traceback (most recent call last):
    layoutkit.errors.ManifestError: ...m.csv: row 2, column recording: "../rec1" leads outside ...
    """
    manifest = Path(path)
    data = read_limited(manifest, limit=MAX_MANIFEST, what="manifest")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{manifest}: not UTF-8 text (byte {exc.start})") from None
    parsed = _parse(text, manifest)
    columns = _header([cells for _, cells in parsed[:1]], manifest)
    root = manifest.resolve().parent
    rows = []
    for number, (line, cells) in enumerate(parsed[1:], start=1):
        values = {c: cells[i].strip() if i < len(cells) else "" for c, i in columns.items()}
        rec = _resolve(root, values["recording"], where=_where(manifest, line, "recording"),
                       s3=True)
        scen = _resolve(root, values["scenario"], where=_where(manifest, line, "scenario"),
                        s3=False)
        rows.append(Row(line=line, recording=values["recording"], scenario=values["scenario"],
                        recording_path=rec, scenario_path=scen,
                        name=row_name(number, values["recording"])))
    return rows


def _recording_files(path: Path) -> list[Path]:
    """List the files a local recording is made of.

    They are a folder's files, an ``.m3u8``'s folder's files (its segments are beside it), or
    the one ``.ts`` / ``.mp4``.
    """
    if path.is_dir():
        return list(walk_files(path))
    if path.suffix.lower() == ".m3u8":
        return list(walk_files(path.parent))
    return [path]


def fingerprint(row: Row, *, version: str) -> str | None:
    """Digest what a row's result depends on (SHA-256, hex); None when unknown.

    It covers the recording's files (relative name, size and modification time, as ``make`` and
    ``rsync`` judge a change), the scenario file's bytes and layoutkit's ``version``.  An
    ``s3://`` recording has no fingerprint (it is checked again on every run), nor has a
    row whose files cannot be listed (its error is reported when it runs).
    """
    if row.recording_path.startswith("s3://"):
        return None
    rec = Path(row.recording_path)
    try:
        base = rec if rec.is_dir() else rec.parent
        files = [(str(p.relative_to(base)), st.st_size, st.st_mtime_ns)
                 for p in _recording_files(rec) for st in [p.lstat()]]
        scenario = read_limited(row.scenario_path, limit=MAX_SCENARIO, what="scenario")
    except (OSError, LayoutkitError):
        return None
    doc = {"version": version, "recording": files,
           "scenario": hashlib.sha256(scenario).hexdigest()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
