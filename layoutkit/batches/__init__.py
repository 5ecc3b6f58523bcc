"""Check many recordings at once: a manifest of ``recording,scenario`` rows, run on Dask.

:func:`batch` is ``lk.batch``; the parts are :mod:`.manifest` (reading the CSV safely),
:mod:`.task` (one row on a worker), :mod:`.output` (the reports, the summary, the index)
and :mod:`.run` (the Dask client and cluster).
"""

from __future__ import annotations

import os

from .output import RowResult
from .run import BatchResult, run_batch

__all__ = ["BatchResult", "RowResult", "batch"]


def batch(manifest: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
          scheduler: str | None = None, workers: int | None = None, force: bool = False,
          retries: int = 2, progress: bool = False) -> BatchResult:
    """Compare every recording of a manifest with its scenario, one Dask task per row.

    Parameters
    ----------
    manifest : path
        A CSV file whose header names the columns ``recording`` and ``scenario``; each row
        a recording (folder, ``.m3u8``, ``.ts``, ``.mp4`` relative to the manifest's folder,
        or ``s3://bucket/prefix``) and its scenario file (relative to the manifest's folder).
        A path leading outside the manifest's folder is refused, naming its row and column.
    out_dir : path
        Made if missing. Gets ``summary.csv``, ``summary.json`` (per row: recording,
        scenario, verdict, number and kinds of differences, seconds, error), ``index.html``
        (a table of the rows, sortable by a click on a heading, linking each row's
        reports) and ``rows/<NNNN>-<name>.html`` / ``.json`` (compare's report and JSON
        document of each row; the JSON's ``batch`` section holds the row's fingerprint).
    scheduler : str, optional
        The address of a running Dask scheduler (``tcp://host:8786``); its workers need
        layoutkit and the recordings (a shared folder or ``s3://``), never ``out_dir``.
        Default: a local cluster of ``workers`` processes on 127.0.0.1, without dashboard.
    workers : int, optional
        Processes of the local cluster (default: the machine's cores).
    force : bool
        Check every row again, even those whose inputs are unchanged since the last run
        (the recording's file names, sizes and modification times, the scenario's bytes
        and layoutkit's version).
    retries : int
        How many times the local cluster gives a row to a new worker after the worker
        running it died, before reporting it as the row's error (with ``scheduler``, the
        scheduler's own ``distributed.scheduler.allowed-failures`` decides).
    progress : bool
        Show a progress bar (on standard error).

    Returns
    -------
    BatchResult
        ``rows`` (one :class:`~layoutkit.batches.RowResult` per manifest row, in its
        order), ``skipped``, ``matches`` (every row matched), ``counts()``.

    Raises
    ------
    ManifestError
        For a manifest that cannot be used (nothing is checked then).
    StorageError
        When ``out_dir`` cannot be made or written.

    Notes
    -----
    The local cluster starts its workers as new Python processes that import the calling
    script's module again: a script calling ``batch`` without ``scheduler`` keeps that call
    under ``if __name__ == "__main__":``.

    Examples
    --------
    >>> import layoutkit as lk
    >>> result = lk.batch("nightly.csv", "checked")            # doctest: +SKIP
    >>> result.counts(), result.skipped                       # doctest: +SKIP
    ({'match': 98, 'differ': 2, 'error': 0}, 0)
    """
    return run_batch(manifest, out_dir, scheduler=scheduler, workers=workers, force=force,
                     retries=retries, progress=progress)
