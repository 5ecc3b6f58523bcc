"""Write files under a temporary name and rename them into place when whole.

A temporary file is ``.<name>.<random>.part`` beside its target: hidden, and ending in
``.part`` rather than the target's extension, so a glob (``*.ts``) or a bucket sync never
picks up a file that is still being written or was left behind by a killed run.
:func:`stale_temporaries` finds such leftovers (and those of the older naming
``.<name>.<random>.part.<ext>``) so a later run can remove them.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputExistsError, StorageError

__all__ = ["TEMP_SUFFIX", "atomic_output", "check_writable", "stale_temporaries",
           "temporary_target"]

#: Every temporary file ends with this (never with the target's own extension).
TEMP_SUFFIX = ".part"
# .<name>.<8 random characters of mkstemp>.part, optionally followed by the older .<ext>
_TEMP_RE = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.part(?:\.[A-Za-z0-9]{1,5})?")


def temporary_target(name: str) -> str | None:
    """Return the final name a temporary file of :func:`atomic_output` was for, or None.

    Examples
    --------
    >>> temporary_target(".sid_room_0.mp4.k2j4_x9a.part")
    'sid_room_0.mp4'
    >>> temporary_target(".sid_room_0.mp4.k2j4_x9a.part.mp4")   # the older naming
    'sid_room_0.mp4'
    >>> temporary_target("sid_room_0.mp4") is None
    True
    """
    match = _TEMP_RE.fullmatch(name)
    return match.group("name") if match else None


def stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Temporary files of :func:`atomic_output` in ``folder`` (not below it), sorted.

    Only call it while no other writer uses the folder (the recorder holds its lock):
    every such file is then a leftover of a run that was killed.
    """
    root = Path(folder)
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    return [p for p in entries if temporary_target(p.name) is not None and p.is_file()
            and not p.is_symlink()]


def check_writable(path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Refuse to replace an existing file unless ``overwrite`` (never lose a user's file).

    Raises
    ------
    OutputExistsError
        When ``path`` exists and not ``overwrite``.
    StorageError
        When ``path`` is a folder.
    """
    dest = Path(path)
    from .paths import refuse_dangling_link

    refuse_dangling_link(dest)
    if dest.exists() and dest.is_dir():
        msg = f"{dest}: is a folder, not a file"
        raise StorageError(msg)
    if dest.exists() and not overwrite:
        raise OutputExistsError(str(dest))
    return dest


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_output(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("whole")
    >>> (d / "a.txt").read_text()
    'whole'
    """
    dest = check_writable(path, overwrite=overwrite)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"{dest.parent}: cannot create folder ({exc.strerror})"
        raise StorageError(msg) from exc
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=TEMP_SUFFIX,
                                    dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a finished file follows the umask
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
