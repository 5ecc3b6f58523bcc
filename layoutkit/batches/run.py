"""A batch on Dask: one task per manifest row, on a local cluster or an existing one.

The client (this process) reads the manifest, decides which rows are unchanged since the
last run, submits one :func:`~layoutkit.batches.task.check_row` task per remaining row and
writes each row's reports as its task finishes.  A worker that dies while running a row
(killed, out of memory) makes the scheduler give the row to another worker; after
``allowed-failures`` deaths Dask gives up on it (``KilledWorker``) and the row's error says
so: no row is ever lost from the summary.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client, Future

from ..errors import LayoutkitError
from .manifest import Row, fingerprint, read_manifest
from .output import RowResult, previous_result, write_row, write_summary
from .task import RowOutcome, check_row, error_outcome

__all__ = ["KEY_PREFIX", "BatchResult", "run_batch"]

#: Every task's key starts so: ``layoutkit-row-<manifest line>-<random>``.
KEY_PREFIX = "layoutkit-row-"
#: How long to try to reach a given scheduler.
CONNECT_TIMEOUT = "20s"


@dataclass(frozen=True)
class BatchResult:
    """What a batch found.

    Attributes
    ----------
    rows : tuple of RowResult
        One per manifest row, in the manifest's order.
    skipped : int
        Rows whose inputs were unchanged since an earlier run (their results are that run's).
    out_dir : Path
        Where ``summary.csv``, ``summary.json``, ``index.html`` and ``rows/`` are.
    """

    rows: tuple[RowResult, ...]
    skipped: int
    out_dir: Path

    @property
    def matches(self) -> bool:
        """True when every row's verdict is ``match``."""
        return all(r.verdict == "match" for r in self.rows)

    def counts(self) -> dict[str, int]:
        """Rows per verdict: ``{"match": 3, "differ": 1, "error": 0}``."""
        return {v: sum(r.verdict == v for r in self.rows) for v in ("match", "differ", "error")}


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int, retries: int) -> Iterator[Client]:
    """Open a Dask client of the cluster at ``scheduler``, else of a new local cluster.

    The local cluster has ``workers`` processes (one thread each, on 127.0.0.1, no
    dashboard).  distributed does not annotate ``Client`` and ``LocalCluster``: their calls
    are marked ``no-untyped-call``; what they return is typed.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
        except (OSError, ValueError, TypeError) as exc:
            msg = f"cannot reach the Dask scheduler at {scheduler} ({exc})"
            raise LayoutkitError(msg) from None
        with client:
            yield client
        return
    with dask.config.set({"distributed.scheduler.allowed-failures": retries}), \
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def _lost(row: Row, exc: BaseException) -> RowOutcome:
    """Return the outcome of a row whose task failed outside compare (its worker died)."""
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        message = (f"the worker running this row died each time it ran it ({exc}); a "
                   "recording that needs more memory than a worker has does this")
    else:
        message = f"the row's task failed: {type(exc).__name__}: {exc}"
    return error_outcome(row, message)


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="row", disable=not enabled, leave=False)


def _slots(client: Client) -> int:
    """Count the rows to keep submitted: one per thread of the cluster's workers (now).

    ``Client.nthreads`` is not annotated; it returns ``{worker address: threads}``.
    """
    threads: dict[str, int] = client.nthreads()  # type: ignore[no-untyped-call]
    return max(1, sum(threads.values()))


def _run_rows(client: Client, todo: list[tuple[Row, str | None]], out_dir: Path, *,
              version: str, progress: bool) -> dict[int, RowResult]:
    """Run one task per row, writing each row's files as it finishes.

    Only as many rows as the cluster has threads are submitted at a time: a worker then
    holds only the row it runs, so when it dies no other row is blamed for its death
    (Dask counts a death against every task the worker held).
    """
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]
    waiting = list(reversed(todo))
    running: dict[Future[RowOutcome], tuple[Row, str | None]] = {}
    pending = as_completed()  # type: ignore[no-untyped-call]  # not annotated

    def submit(count: int) -> None:
        for _ in range(min(count, len(waiting))):
            row, fp = waiting.pop()
            future = client.submit(check_row, row, key=f"{KEY_PREFIX}{row.line}-{token}",
                                   pure=False)
            running[future] = (row, fp)
            pending.add(future)  # type: ignore[no-untyped-call]  # not annotated

    submit(_slots(client))
    done: dict[int, RowResult] = {}
    with _progress(len(todo), progress) as bar:
        for future in pending:
            row, fp = running.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # a dead worker, or a bug: the row's error, not lost
                outcome, fp = _lost(row, exc), None
            done[row.line] = write_row(out_dir, row, outcome, fingerprint=fp,
                                       version=version)
            future.release()
            bar.update(1)
            submit(_slots(client) - len(running))
    return done


def run_batch(manifest: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
              scheduler: str | None = None, workers: int | None = None,
              force: bool = False, retries: int = 2, progress: bool = False) -> BatchResult:
    """Check every row of a manifest on Dask; see :func:`layoutkit.batches.batch`."""
    from .. import __version__
    from ..io.paths import output_folder

    rows = read_manifest(manifest)
    folder = output_folder(out_dir).resolve()
    results: dict[int, RowResult] = {}
    todo: list[tuple[Row, str | None]] = []
    for row in rows:
        fp = fingerprint(row, version=__version__)
        before = None if force else previous_result(folder, row, fp)
        if before is not None:
            results[row.line] = before
        else:
            todo.append((row, fp))
    if todo:
        with _client(scheduler, workers or os.cpu_count() or 1, retries) as client:
            results.update(_run_rows(client, todo, folder, version=__version__,
                                     progress=progress))
    ordered = tuple(results[row.line] for row in rows)
    write_summary(folder, ordered, title=f"layoutkit batch: {Path(manifest).name}")
    return BatchResult(rows=ordered, skipped=len(rows) - len(todo), out_dir=folder)
