"""Write files under a temporary name and rename them into place when whole."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputExistsError, StorageError

__all__ = ["atomic_output", "check_writable"]


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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part" + dest.suffix,
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
