"""Output folders: made, or refused with a clear reason, before any work is done."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import StorageError

__all__ = ["output_folder", "refuse_dangling_link"]


def refuse_dangling_link(path: str | os.PathLike[str]) -> None:
    """Refuse an output path that is a symbolic link to nothing (writing would replace it).

    Raises
    ------
    StorageError
        ``<path>: is a symbolic link to a missing <target>``.
    """
    p = Path(path)
    if p.is_symlink() and not p.exists():
        msg = f"{p}: is a symbolic link to a missing {os.readlink(p)}; remove it or choose another"
        raise StorageError(msg)


def output_folder(path: str | os.PathLike[str]) -> Path:
    """Make the folder ``path`` (and its parents) or say why it cannot be one.

    Returns
    -------
    Path
        The folder, existing and writable.

    Raises
    ------
    StorageError
        ``<path>: is a file, not a folder``, ``... is a symbolic link to a missing ...``,
        ``<path>: cannot create folder (<reason>)`` or ``<path>: folder is not writable``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> output_folder(d / "a" / "b").is_dir()
    True
    >>> (d / "f").write_text("x") and output_folder(d / "f")
    Traceback (most recent call last):
    layoutkit.errors.StorageError: ...: is a file, not a folder
    """
    folder = Path(path)
    refuse_dangling_link(folder)
    if folder.exists() and not folder.is_dir():
        msg = f"{folder}: is a file, not a folder"
        raise StorageError(msg)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except NotADirectoryError as exc:
        msg = f"{folder}: cannot create folder (a part of the path is a file)"
        raise StorageError(msg) from exc
    except FileExistsError as exc:  # a parent is a dangling link
        msg = f"{folder}: cannot create folder (a part of the path is a file or a broken link)"
        raise StorageError(msg) from exc
    except OSError as exc:
        msg = f"{folder}: cannot create folder ({exc.strerror or exc})"
        raise StorageError(msg) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        msg = f"{folder}: folder is not writable"
        raise StorageError(msg)
    return folder
