"""An exclusive lock on an output folder for the length of a run.

Two recorders writing into the same folder would replace each other's files and each report
success for a mix of both. :func:`folder_lock` takes an advisory ``flock`` on the hidden file
``<folder>/.layoutkit.lock`` (the lock, not the file, is what counts: the kernel releases it
when the process ends however it ends, so a killed run never leaves the folder locked).

The run removes the file when it ends (success or failure), while it still holds the lock;
only a holder ever removes it.  A run that opened the file before it was removed may then
lock a file that is no longer in the folder: so after locking, a run checks that the name
still leads to the very file it locked (same device and inode) and otherwise starts again
with the file now there.  At any time at most one run holds the lock of the file the
folder's name leads to, so two runs never write into the folder at once.  A folder the lock
created for the run (and its parents) is removed again when the run leaves it empty (a
refused run leaves nothing behind).  A run killed with SIGKILL leaves the file (not locked:
the next run takes it).

Platforms without ``fcntl`` (Windows) run unlocked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import StorageError

__all__ = ["LOCK_NAME", "FolderBusyError", "folder_lock"]

#: The lock file in the output folder.
LOCK_NAME = ".layoutkit.lock"


class FolderBusyError(StorageError):
    """Another run holds the output folder's lock."""


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""


def _created_folders(root: Path) -> list[Path]:
    """Make ``root`` (and missing parents); the folders made, deepest first."""
    missing = []
    here = root
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    root.mkdir(parents=True, exist_ok=True)
    return missing


def _same_file(path: Path, fd: int) -> bool:
    """Whether ``path`` (not followed if a link) is the file open at ``fd``."""
    try:
        named = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


_OPEN_FLAGS = (os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_NOFOLLOW", 0))
_ATTEMPTS = 100  # a new lock file per attempt is only needed when a run just ended


def _acquire(root: Path, what: str) -> int:
    """Open and lock ``root/LOCK_NAME``; return its descriptor, that the name still leads to."""
    import fcntl

    path = root / LOCK_NAME
    for _ in range(_ATTEMPTS):
        try:
            fd = os.open(path, _OPEN_FLAGS, 0o666)
        except FileNotFoundError:  # the folder was removed by a run that just ended
            root.mkdir(parents=True, exist_ok=True)
            continue
        except OSError as exc:
            msg = f"{root}: cannot create the output folder's lock file ({exc.strerror or exc})"
            raise StorageError(msg) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            msg = (f"{root}: another {what} is writing into this folder{_holder(path)}; "
                   "wait for it to finish or choose another output folder")
            raise FolderBusyError(msg) from None
        except OSError as exc:
            os.close(fd)
            msg = f"{root}: cannot lock the output folder ({exc.strerror or exc})"
            raise StorageError(msg) from exc
        if _same_file(path, fd):
            return fd
        os.close(fd)  # the holder that just ended removed it: lock the file there now
    msg = f"{root}: cannot lock the output folder (its lock file keeps changing)"
    raise FolderBusyError(msg)


def _release(root: Path, fd: int, created: list[Path]) -> None:
    """Remove the lock file while still holding it, unlock, then remove empty new folders."""
    path = root / LOCK_NAME
    with contextlib.suppress(OSError):
        if _same_file(path, fd):
            path.unlink()
    os.close(fd)  # releases the lock
    _release_folders(created)  # only when empty (a run refused before writing anything)


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], *, what: str = "recording") -> Iterator[Path]:
    """Hold an exclusive lock on ``folder`` (created when missing) while the block runs.

    When the block ends (however it ends) the lock file is removed, and so are the
    folders this call created if the block left them empty.

    Raises
    ------
    FolderBusyError
        At once (never waits) when another process holds the lock.
    StorageError
        When the folder or its lock file cannot be created.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with folder_lock(d):
    ...     try:
    ...         with folder_lock(d):
    ...             pass
    ...     except FolderBusyError as exc:
    ...         print("busy")
    busy
    >>> os.listdir(d)
    []
    """
    root = Path(folder)
    try:
        import fcntl  # noqa: F401 -- only whether it exists (POSIX)
    except ImportError:  # pragma: no cover - Windows
        yield root
        return
    try:
        created = _created_folders(root)
    except OSError as exc:
        msg = f"{root}: cannot create the output folder ({exc.strerror or exc})"
        raise StorageError(msg) from exc
    try:
        fd = _acquire(root, what)
    except BaseException:
        _release_folders(created)
        raise
    try:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield root
    finally:
        _release(root, fd, created)


def _release_folders(created: list[Path]) -> None:
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            break
