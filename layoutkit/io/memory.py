"""The C library's heap: keep picture-sized buffers from staying resident after use (glibc).

FFmpeg, x264 and NumPy allocate their pictures with ``malloc``.  glibc gives a block of at
least its mmap threshold a mapping of its own, returned to the system when freed, but it
raises that threshold to the largest block freed so far (up to 32 MiB): after the first
3 MiB picture is freed, every later one comes from heaps that fragment and are not given
back.  Each thread also gets its own heap ("arena"), so memory freed by one thread is not
reused by another until it is trimmed.  Both are harmless where glibc is not the C library:
the functions here then do nothing.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["MMAP_THRESHOLD_BYTES", "RELEASED_MMAP_THRESHOLD_BYTES", "pictures_unmapped",
           "trim_heap"]

#: glibc's ``mallopt`` parameter numbers of the mmap and trim thresholds.
_M_MMAP_THRESHOLD = -3
_M_TRIM_THRESHOLD = -1
#: Blocks of at least this many bytes get their own mapping, returned to the system when
#: freed (pictures, decoder and encoder frames).  Measured: a 17-user 1080p mix of 1080p30
#: files peaked 53 MiB lower than with glibc's moving threshold.
MMAP_THRESHOLD_BYTES = 1 << 20

#: The threshold set when the last recording of the process ends: glibc's own ceiling for
#: its moving threshold (``DEFAULT_MMAP_THRESHOLD_MAX`` on 64-bit), which is where the moving
#: threshold goes once large blocks are freed; the trim threshold is set to twice it, as
#: glibc's moving scheme does.  Picture-sized blocks then come from the heap again: with the
#: 1 MiB threshold kept, every 3 MiB picture of the rest of the process (a compare after a
#: recording: 6.4 s instead of 2.5-3.5 s at 1080p) was a fresh mapping.
RELEASED_MMAP_THRESHOLD_BYTES = 32 << 20

_LIBC: Any = None
_HOLDERS = 0
_HOLDERS_LOCK = threading.Lock()


def _glibc() -> Any:
    """Return glibc through ctypes, or None (another C library or platform)."""
    global _LIBC
    if _LIBC is None:
        _LIBC = False
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                libc = ctypes.CDLL(None)
            except OSError:
                libc = None
            if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim"):
                _LIBC = libc
    return _LIBC or None


def _set_mmap_threshold(size: int) -> bool:
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, size))


def _release_mmap_threshold() -> None:
    libc = _glibc()
    if libc is not None:
        trim_heap()
        libc.mallopt(_M_MMAP_THRESHOLD, RELEASED_MMAP_THRESHOLD_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, 2 * RELEASED_MMAP_THRESHOLD_BYTES)


@contextmanager
def pictures_unmapped() -> Iterator[None]:
    """Fix the mmap threshold at :data:`MMAP_THRESHOLD_BYTES` while the block runs.

    For the span of a recording (several may overlap, e.g. the local service's channels): the
    first to enter sets it, the last to leave sets :data:`RELEASED_MMAP_THRESHOLD_BYTES`, so
    the rest of the caller's process allocates pictures as glibc would have by then.

    Examples
    --------
    >>> with pictures_unmapped():
    ...     pass
    """
    global _HOLDERS
    with _HOLDERS_LOCK:
        _HOLDERS += 1
        if _HOLDERS == 1:
            _set_mmap_threshold(MMAP_THRESHOLD_BYTES)
    try:
        yield
    finally:
        with _HOLDERS_LOCK:
            _HOLDERS -= 1
            if _HOLDERS == 0:
                _release_mmap_threshold()


def trim_heap() -> None:
    """Give the free pages inside glibc's heaps back to the system (``malloc_trim(0)``).

    About a millisecond; call it after freeing something large that the same thread will
    not allocate again (a decoder closed in one thread and reopened in another).
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
