"""Reading untrusted files safely: regular files only, with a size limit, inside a folder.

A recording (and the playlist and stop response in it) is untrusted input: a name may be a
link to ``/dev/zero``, a FIFO that never ends, or a path that leaves the recording's folder.

* :func:`read_limited` reads one regular file of at most ``limit`` bytes; a FIFO, device or
  folder is refused at once (the open does not wait for a FIFO's writer), a bigger file is
  refused before it is read.
* :func:`resolve_inside` follows a path's symbolic links one by one without ever looking
  outside a root folder: a link that leaves it is reported, never followed.
* :func:`walk_files` lists a folder's files recursively without entering linked folders.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MediaError

__all__ = ["MAX_LINKS", "MAX_TEXT_FILE", "Resolved", "file_type", "read_json_file", "read_limited",
           "resolve_inside", "walk_files"]

#: The size limit of a playlist or a stop response (the real ones are a few KiB).
MAX_TEXT_FILE = 4 * 2**20
#: Symbolic links followed in one path before it is refused (as the kernel's ELOOP).
MAX_LINKS = 40

_TYPES = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def file_type(mode: int) -> str:
    """Name what a ``st_mode`` is, for messages: ``'a regular file'``, ``'a FIFO (named pipe)'``...

    Examples
    --------
    >>> file_type(stat.S_IFIFO | 0o644)
    'a FIFO (named pipe)'
    >>> file_type(stat.S_IFREG | 0o644)
    'a regular file'
    """
    return next((name for test, name in _TYPES if test(mode)), "a regular file"
                if stat.S_ISREG(mode) else "not a regular file")


def _mib(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


def read_limited(path: str | os.PathLike[str], *, limit: int, what: str,
                 follow: bool = True) -> bytes:
    """Read the bytes of a regular file of at most ``limit`` bytes.

    Parameters
    ----------
    path : path-like
        The file.
    limit : int
        Most bytes accepted (the file is refused, not cut, when it is bigger).
    what : str
        What the file is meant to be, for messages (``"playlist"``, ``"stop response"``).
    follow : bool
        Follow a symbolic link at the last part of ``path`` (False: refuse it, for paths
        already resolved by :func:`resolve_inside`).

    Raises
    ------
    MediaError
        ``<path>: is a FIFO (named pipe), not a regular file; a <what> is read only from a
        regular file``, ``<path>: larger than 4 MiB; a <what> is at most 4 MiB``, or
        ``<path>: cannot read the <what> (<reason>)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"hello")
    >>> read_limited(p, limit=5, what="note")
    b'hello'
    >>> read_limited(p, limit=4, what="note")
    Traceback (most recent call last):
    layoutkit.errors.MediaError: ...x.txt: larger than 4 bytes; a note is at most 4 bytes
    >>> read_limited("/dev/zero", limit=4, what="note")
    Traceback (most recent call last):
    layoutkit.errors.MediaError: /dev/zero: is a character device, not a regular file; ...
    >>> read_limited(p.parent, limit=4, what="note")
    Traceback (most recent call last):
    layoutkit.errors.MediaError: ...: is a folder, not a regular file; ...
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    too_big = f"{path}: larger than {_mib(limit)}; a {what} is at most {_mib(limit)}"
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow and os.path.islink(path):
            raise MediaError(f"{path}: is a symbolic link; a {what} is read only from a "
                             "regular file") from None
        raise MediaError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    mode = os.fstat(fd)  # before fdopen, which refuses a folder with its own error
    if not stat.S_ISREG(mode.st_mode):
        os.close(fd)
        raise MediaError(f"{path}: is {file_type(mode.st_mode)}, not a regular file; "
                         f"a {what} is read only from a regular file")
    if mode.st_size > limit:
        os.close(fd)
        raise MediaError(too_big)
    with os.fdopen(fd, "rb") as file:
        os.set_blocking(fd, True)
        try:
            data = file.read(limit + 1)
        except OSError as exc:
            raise MediaError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    if len(data) > limit:  # it grew while being read
        raise MediaError(too_big)
    return data



def read_json_file(path: str | os.PathLike[str], *, what: str, limit: int = MAX_TEXT_FILE,
                   follow: bool = True) -> Any:
    """Read the JSON value of a file with :func:`read_limited`: the one hardened JSON reader.

    UTF-8 (a leading byte order mark is skipped), strict JSON: ``NaN`` and ``Infinity``,
    which Python's ``json`` accepts, are refused.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        What the file is meant to be, for messages (``"stop response"``).
    limit : int
        Most bytes accepted (default 4 MiB).
    follow : bool
        As for :func:`read_limited`.

    Raises
    ------
    MediaError
        What :func:`read_limited` raises; ``<path>: the <what> is not UTF-8 text (...)``;
        ``<path>: the <what> is not valid JSON (malformed JSON at line L, column C: ...)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.json"
    >>> _ = p.write_text('\ufeff{"a": [1, 2]}', encoding="utf-8")
    >>> read_json_file(p, what="note")
    {'a': [1, 2]}
    >>> _ = p.write_text('{"a": NaN}')
    >>> read_json_file(p, what="note")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layoutkit.errors.MediaError: /.../r.json: the note is not valid JSON (malformed JSON at \
line 1, column 7: NaN is not valid JSON)
    """
    from ..request.jsontext import JsonTextError, loads

    data = read_limited(path, limit=limit, what=what, follow=follow)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{path}: the {what} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise MediaError(msg) from None
    try:
        return loads(text)
    except JsonTextError as exc:
        raise MediaError(f"{path}: the {what} is not valid JSON ({exc.rule})") from None


@dataclass(frozen=True)
class Resolved:
    """Where a path inside a root leads.

    ``path`` is the real path (links followed, inside the root) when ``outside`` is false;
    ``mode`` and ``size`` its ``st_mode`` and ``st_size`` (None when it does not exist).
    ``outside`` is true when the path, or a link on the way, leads out of the root (nothing
    out there was looked at).
    """

    path: Path
    mode: int | None
    outside: bool = False
    size: int | None = None

    @property
    def is_file(self) -> bool:
        """Whether the path is a regular file inside the root."""
        return not self.outside and self.mode is not None and stat.S_ISREG(self.mode)


def _parts(text: str) -> list[str]:
    return [p for p in text.split("/") if p not in ("", ".")]


def resolve_inside(root: str | os.PathLike[str], relative: str) -> Resolved:
    """Follow ``relative`` (``/``-separated, below ``root``) link by link, staying inside.

    Only paths inside ``root`` are ever looked at (``lstat`` and ``readlink``): a ``..``
    above the root, an absolute link target outside it, or a link to such a place makes
    the result ``outside``. ``root`` itself is taken as it is (resolve it first).

    Examples
    --------
    >>> import tempfile, pathlib, os
    >>> d = pathlib.Path(tempfile.mkdtemp()).resolve()
    >>> _ = (d / "a.ts").write_bytes(b"x"); os.symlink("a.ts", d / "b.ts")
    >>> os.symlink("/etc/passwd", d / "c.ts"); os.symlink("../x", d / "e.ts")
    >>> resolve_inside(d, "b.ts").path.name, resolve_inside(d, "b.ts").is_file
    ('a.ts', True)
    >>> [resolve_inside(d, n).outside for n in ("c.ts", "e.ts", "../x", "nope.ts")]
    [True, True, True, False]
    """
    base = os.fspath(root)
    if relative.startswith("/"):
        return Resolved(Path(relative), None, outside=True)
    done: list[str] = []
    todo = _parts(relative)
    todo.reverse()  # a stack: the next part last
    links = 0
    try:
        st: os.stat_result | None = os.lstat(base)
    except OSError:
        st = None
    while todo:
        part = todo.pop()
        if part == "..":
            if not done:
                return Resolved(Path(base), None, outside=True)
            done.pop()
            continue
        here = os.path.join(base, *done, part)
        try:
            st = os.lstat(here)
        except OSError:  # missing (or not a folder on the way): nothing more to follow
            return Resolved(Path(base, *done, part, *reversed(todo)), None)
        if not stat.S_ISLNK(st.st_mode):
            done.append(part)
            continue
        links += 1
        if links > MAX_LINKS:
            return Resolved(Path(here), None)
        if not _follow_link(here, base, done, todo):
            return Resolved(Path(here), None, outside=True)
    path = Path(base, *done)
    return Resolved(path, None) if st is None else Resolved(path, st.st_mode, size=st.st_size)


def _follow_link(link: str, base: str, done: list[str], todo: list[str]) -> bool:
    """Put the parts of ``link``'s target on the stack ``todo``; False when it leads outside.

    An absolute target inside ``base`` starts again from ``base`` (``done`` is emptied).
    """
    target = os.readlink(link)
    if target.startswith("/"):
        if not _below(target, base):
            return False
        done.clear()
        todo += reversed(_parts(target[len(base):]))
    else:
        todo += reversed(_parts(target))
    return True


def _below(target: str, base: str) -> bool:
    """Tell whether ``target`` is ``base`` or below it, as text.

    A ``..`` after that is walked by the caller, which goes up real folders only.
    """
    return target == base or target.startswith(base.rstrip("/") + "/")


def walk_files(root: str | os.PathLike[str], *, limit: int = 100_000) -> Iterator[Path]:
    """Yield every entry below ``root`` that is not a folder (links included, not followed).

    Recursively, skipping hidden names and linked folders; at most ``limit`` entries.
    """
    count = 0
    stack = [Path(root)]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
                continue
            count += 1
            if count > limit:
                raise MediaError(f"{root}: more than {limit} files; not a recording folder")
            yield Path(entry.path)
