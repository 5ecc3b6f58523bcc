"""Reading the text files a user names: request and scenario files, JSON-lines logs.

:func:`read_text` reads a regular file of at most 64 MiB
(:func:`~layoutkit.io.limited.read_limited`), standard input for ``-``, or a pipe named by a
descriptor path (``<(...)``); a FIFO, device or folder is refused at once with its path.
:func:`read_text_file` reads a regular file only, with the caller's limit.  Both decode
UTF-8 and name the file in every error.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

from ..errors import MediaError
from .limited import file_type, read_limited

__all__ = ["MAX_TEXT_BYTES", "read_text", "read_text_file"]

MAX_TEXT_BYTES = 64 * 2**20  # a request or scenario file (100,000 events are ~6 MiB)


#: The pipe read last and its text: commands that look at a file twice (is it a scenario?
#: then parse it) get the same text from a pipe (``validate <(...)``, ``-`` for standard
#: input), which can be read only once.  Regular files are read each time.
_LAST_READ: dict[tuple[Any, ...], str] = {}


def _identity(p: Path) -> tuple[Any, ...] | None:
    """Return the key of a pipe in :data:`_LAST_READ`; None for a regular file (or none at all)."""
    if str(p) == "-":
        return ("-",)
    try:
        st = os.stat(p)
    except OSError:
        return None
    return None if stat.S_ISREG(st.st_mode) else (str(p), st.st_dev, st.st_ino)


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file (at most 64 MiB), turning OS errors into :class:`MediaError`.

    Only a regular file is read; a FIFO, device or folder is refused at once, naming the
    path.  ``-`` is standard input, and a pipe named by ``/dev/fd/N`` (``<(...)``) is read
    to its end; both are refused past 64 MiB.  Reading the same pipe (or standard input)
    again returns the text read the first time.
    """
    p = Path(path)
    key = _identity(p)
    if key is not None and key in _LAST_READ:
        return _LAST_READ[key]
    text = _read_text(p)
    if key is not None:
        _LAST_READ.clear()
        _LAST_READ[key] = text
    return text


#: Paths that name a descriptor the caller opened on purpose: ``<(...)`` (bash's
#: ``/dev/fd/63``), ``/dev/stdin``; these may be pipes (read to their end, bounded).
_DESCRIPTOR = re.compile(r"/dev/fd/[0-9]+|/proc/self/fd/[0-9]+|/dev/stdin")
_WHAT = "request or scenario file"


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise MediaError(msg) from exc


def _read_pipe(fd: int, name: str) -> bytes:
    """Read a pipe's bytes to its end, refused past :data:`MAX_TEXT_BYTES` (read in chunks)."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_TEXT_BYTES:
        chunk = os.read(fd, min(2**20, MAX_TEXT_BYTES + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    msg = f"{name}: larger than {MAX_TEXT_BYTES // 2**20} MiB; not a {_WHAT}"
    raise MediaError(msg)


def _read_stdin() -> bytes:
    """Read standard input (``-``): a pipe, a file or a terminal.

    Never a device (``< /dev/zero``).
    """
    name = "standard input"
    if sys.stdin is None:
        raise MediaError(f"{name}: is closed")
    try:
        fd = sys.stdin.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError) as exc:  # closed, or not a real file
        msg = f"{name}: cannot be read ({getattr(exc, 'strerror', None) or exc})"
        raise MediaError(msg) from None
    if (stat.S_ISCHR(mode) and not os.isatty(fd)) or stat.S_ISBLK(mode) or stat.S_ISDIR(mode):
        msg = f"{name}: is {file_type(mode)}, not text; give a {_WHAT} or a pipe"
        raise MediaError(msg)
    try:
        return _read_pipe(fd, name)
    except MediaError:
        raise
    except OSError as exc:
        msg = f"{name}: cannot be read ({exc.strerror or exc})"
        raise MediaError(msg) from None


def _read_descriptor(p: Path) -> bytes:
    """Read a pipe given on purpose (``<(...)``) to its end, bounded; never wait to open it."""
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        msg = f"{p}: cannot be read ({exc.strerror or exc})"
        raise MediaError(msg) from None
    try:
        os.set_blocking(fd, True)
        return _read_pipe(fd, str(p))
    except MediaError:
        raise
    except OSError as exc:
        msg = f"{p}: cannot be read ({exc.strerror or exc})"
        raise MediaError(msg) from None
    finally:
        os.close(fd)


def _read_text(p: Path) -> str:
    """Read the text of ``p``.

    It is a regular file of at most 64 MiB (:func:`read_limited`), standard input for ``-``,
    or a pipe named by a descriptor path (``<(...)``); a FIFO, device or folder is refused at
    once with its path.
    """
    if str(p) == "-":
        return _decode(_read_stdin(), "standard input")
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise MediaError(f"{p}: no such file") from None
    except (OSError, ValueError) as exc:
        msg = f"{p}: cannot be read ({getattr(exc, 'strerror', None) or exc})"
        raise MediaError(msg) from None
    if stat.S_ISDIR(mode):
        raise MediaError(f"{p}: is a folder, not a file")
    if (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)) and _DESCRIPTOR.fullmatch(str(p)):
        return _decode(_read_descriptor(p), str(p))
    return _decode(read_limited(p, limit=MAX_TEXT_BYTES, what=_WHAT), str(p))


def read_text_file(path: str | os.PathLike[str], *, limit: int, what: str) -> str:
    """Read the UTF-8 text of a regular file of at most ``limit`` bytes.

    Parameters
    ----------
    path : path-like
        The file.
    limit : int
        Most bytes accepted (a bigger file is refused, not cut).
    what : str
        What the file is meant to be, for messages (``"NCS event log"``).

    Raises
    ------
    MediaError
        What :func:`~layoutkit.io.limited.read_limited` raises, or ``<path>: not UTF-8
        text (...)``.
    """
    return _decode(read_limited(path, limit=limit, what=what), str(path))
