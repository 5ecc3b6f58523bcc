"""Run an iterator in a background thread a bounded number of items ahead of its consumer.

Decoding (FFmpeg) and most NumPy/OpenCV work release the GIL, so a decoder running ahead
in its own thread overlaps with the analysis of the frames already decoded, on another
core.  Memory stays bounded: at most ``depth`` items wait in the queue.

The consumer's side is a generator: when it stops early (``close()``, ``break``, an
exception, garbage collection) the producer thread is told to stop, the queue drained, the
producer's iterator closed (its files too) and the thread joined, so no thread is left
running.  An exception raised by the producer is raised in the consumer, where the item
it stopped would have come.

The consumer's thread may have other work that needs no item (``idle``): while the queue is
empty it runs that work a small step at a time instead of waiting, so the time it would
spend waiting for the producer does that work (compare reads the sound's beeps there while
the pictures decode: :class:`~layoutkit.comparison.avsync.BeepReader`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

__all__ = ["ahead"]

T = TypeVar("T")


class _End:
    """The producer's last message: done, or the exception it stopped on."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def _produce(make: Callable[[], Iterator[T]], out: queue.Queue[T | _End],
             stop: threading.Event) -> None:
    """Put every item of ``make()`` on ``out`` until the items end or ``stop`` is set."""
    end = _End()
    items: Iterator[T] | None = None
    try:
        items = make()
        for item in items:
            if stop.is_set():
                return
            out.put(item)
    except BaseException as exc:  # handed to the consumer, which raises it
        end = _End(exc)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
    if not stop.is_set():
        out.put(end)


def ahead(make: Callable[[], Iterator[T]], *, depth: int = 8,
          name: str = "layoutkit-ahead", idle: Callable[[], bool] | None = None
          ) -> Iterator[T]:
    """Yield the items of ``make()``, produced in a background thread ``depth`` items ahead.

    Parameters
    ----------
    make : callable
        Returns the iterator; called in the background thread (a generator's set-up, such
        as opening a file, runs there too and its errors reach the consumer).
    depth : int
        At most this many items wait for the consumer (at least 1).
    name : str
        The thread's name.
    idle : callable, optional
        Called on the consumer's thread whenever no item is waiting, again and again until
        an item is there or it returns False (its work is done); each call should be short
        (a few milliseconds: the producer's items wait for it to return).  An exception
        it raises is raised in the consumer.

    Yields
    ------
    object
        The items of ``make()``, in order.

    Examples
    --------
    >>> list(ahead(lambda: iter(range(5)), depth=2))
    [0, 1, 2, 3, 4]
    >>> items = ahead(lambda: iter(range(100)), depth=2)
    >>> next(items), next(items)
    (0, 1)
    >>> items.close()  # the producer thread is stopped and joined
    >>> steps = iter(range(3))
    >>> list(ahead(lambda: iter("ab"), idle=lambda: next(steps, None) is not None))
    ['a', 'b']
    """
    out: queue.Queue[T | _End] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    thread = threading.Thread(target=_produce, args=(make, out, stop), daemon=True, name=name)
    thread.start()
    work = idle
    try:
        while True:
            while work is not None and out.empty():
                work = work if work() else None
            item = out.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                out.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.01)
