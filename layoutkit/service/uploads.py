"""Upload a running recording's files as they are finished.

They go in an order a reader of the bucket can trust.

The recorder hands over each file once it is whole on disk: a segment, then the playlist
that now lists it (so the bucket's playlist never names a missing segment), and at the end
the MP4 parts and the final playlist.  One thread per recording sends them in that order
with :class:`~layoutkit.io.s3.S3Uploader`; ``stop`` then has only the last segment, the MP4
and the playlist left to send.  :attr:`SegmentUploads.status` is what ``uploadingStatus``
says: ``"uploaded"`` once everything handed over is in the bucket, ``"unknown"`` while some
is not (still sending, or a failure, whose message is in :attr:`SegmentUploads.error`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import LayoutkitError

__all__ = ["SegmentUploads"]


class SegmentUploads:
    """Send files below ``root`` to a bucket, in the order given, in a background thread.

    Parameters
    ----------
    root : Path
        The folder the keys are relative to.
    make_uploader : callable
        Makes the :class:`~layoutkit.io.s3.S3Uploader` the files go to (its prefix empty:
        the keys hold ``fileNamePrefix``); called in the thread, before the first file, so
        ``start`` does not wait for boto3.
    """

    def __init__(self, root: Path, make_uploader: Callable[[], Any]) -> None:
        self.root = root
        self._make_uploader = make_uploader
        self.uploader: Any = None
        self.sent: list[str] = []
        self.error: str | None = None
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="layoutkit-upload")
        self._thread.start()

    def put(self, keys: Sequence[str]) -> None:
        """Queue files (keys relative to ``root``), sent in this order after the others."""
        for key in keys:
            self._queue.put(key)

    def _send(self, key: str) -> None:
        if self.error is not None:
            return  # after a failure nothing more is sent: the bucket stays consistent
        try:
            if self.uploader is None:
                self.uploader = self._make_uploader()
            self.uploader.upload_file(self.root / key, key)
        except (LayoutkitError, OSError) as exc:
            self.error = str(exc)
            return
        self.sent.append(key)

    def _run(self) -> None:
        while True:
            key = self._queue.get()
            try:
                if key is None:
                    return
                self._send(key)
            finally:
                self._queue.task_done()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for what is queued; True when nothing is left."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self._queue.unfinished_tasks

    @property
    def status(self) -> str:
        """``"uploaded"`` when every file handed over is in the bucket, else ``"unknown"``."""
        done = self.error is None and not self._queue.unfinished_tasks
        return "uploaded" if done else "unknown"

    def close(self) -> None:
        """Stop the thread once the queue is sent."""
        self._queue.put(None)
