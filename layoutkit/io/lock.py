"""An exclusive lock on an output folder for the length of a run.

Two recorders writing into the same folder would replace each other's files and each report
success for a mix of both. :func:`folder_lock` takes an advisory ``flock`` on the hidden file
``<folder>/.layoutkit.lock`` (the lock, not the file, is what counts: the kernel releases it
when the process ends however it ends, so a killed run never leaves the folder locked). The
file stays, empty but for the pid of the last holder, so that its inode is the same for every
run (removing it would let two runs lock two different files).

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


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], *, what: str = "recording") -> Iterator[Path]:
    """Hold an exclusive lock on ``folder`` (created when missing) while the block runs.

    Raises
    ------
    FolderBusyError
        At once (never waits) when another process holds the lock.
    StorageError
        When the folder or its lock file cannot be created.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> with folder_lock(d):
    ...     try:
    ...         with folder_lock(d):
    ...             pass
    ...     except FolderBusyError as exc:
    ...         print("busy")
    busy
    """
    root = Path(folder)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield root
        return
    path = root / LOCK_NAME
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        msg = f"{root}: cannot create the output folder's lock file ({exc.strerror or exc})"
        raise StorageError(msg) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            msg = (f"{root}: another {what} is writing into this folder{_holder(path)}; "
                   "wait for it to finish or choose another output folder")
            raise FolderBusyError(msg) from None
        except OSError as exc:
            msg = f"{root}: cannot lock the output folder ({exc.strerror or exc})"
            raise StorageError(msg) from exc
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield root
    finally:
        os.close(fd)  # releases the lock
