"""A Dask worker preload for tests/test_batch.py that kills the worker of one batch row.

The worker that starts running the batch row ``LAYOUTKIT_TEST_KILL_ROW`` (its manifest line)
dies at once with ``os._exit``, once per marker file ``LAYOUTKIT_TEST_KILL_MARKER`` (or every
time when ``LAYOUTKIT_TEST_KILL_ALWAYS`` is set); the marker gets a line per death.  Used as
``distributed.worker.preload``.
"""

from __future__ import annotations

import os
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class KillInRow(WorkerPlugin):
    """Die when the row's task starts executing."""

    def __init__(self, line: str, marker: str, always: bool) -> None:
        self.prefix = f"layoutkit-row-{line}-"
        self.marker, self.always = marker, always

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing" or not str(key).startswith(self.prefix):
            return
        if self.always or not os.path.exists(self.marker):
            with open(self.marker, "a") as f:
                f.write("died\n")
            os._exit(1)


async def dask_setup(worker: Any) -> None:
    line = os.environ.get("LAYOUTKIT_TEST_KILL_ROW")
    if line:
        await worker.plugin_add(KillInRow(line, os.environ["LAYOUTKIT_TEST_KILL_MARKER"],
                                          bool(os.environ.get("LAYOUTKIT_TEST_KILL_ALWAYS"))),
                                name="kill-in-row")
