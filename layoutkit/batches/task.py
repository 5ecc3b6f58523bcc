"""One batch row, as a Dask worker runs it: compare, then the row's reports as text.

:func:`check_row` is a module-level function of plain frozen dataclasses, so Dask ships it to
a worker of any cluster (``cloudpickle`` by reference: the worker imports layoutkit).  The
worker only reads the row's inputs; the client writes every file under the output folder,
so workers on other machines need the recordings (a shared folder or ``s3://``) but never
the output folder.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LayoutkitError
from .manifest import Row

if TYPE_CHECKING:
    from ..comparison.model import CompareResult

__all__ = ["RowOutcome", "check_row", "error_outcome", "summary_of", "warnings_of"]


@dataclass(frozen=True)
class RowOutcome:
    """What one row came to.

    Attributes
    ----------
    verdict : {'match', 'differ', 'error'}
    differences : int
        How many differences compare found.
    kinds : dict
        Difference kind -> count (e.g. ``{"missing_user": 2}``).
    seconds : float
        Wall seconds the row took on its worker (0 when it never finished).
    error : str or None
        Why the row could not be checked (an unreadable scenario or recording, a worker
        that died every time it ran the row).
    report_html, report_json : str or None
        The row's reports (compare's HTML page and JSON document), written by the client.
    warnings : int
        How many warnings compare gave (not counted in the verdict, e.g. ``canvas_only``).
    warning_kinds : dict
        Warning kind -> count.
    """

    verdict: str
    differences: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    report_html: str | None = None
    report_json: dict[str, Any] | None = None
    warnings: int = 0
    warning_kinds: dict[str, int] = field(default_factory=dict)


def summary_of(result: CompareResult) -> tuple[int, dict[str, int]]:
    """Count the differences of a :class:`~layoutkit.CompareResult` and their kinds."""
    kinds = Counter(d.kind for d in result.differences if d.category in result.judged)
    return sum(kinds.values()), dict(sorted(kinds.items()))


def warnings_of(result: CompareResult) -> tuple[int, dict[str, int]]:
    """Count the warnings of a :class:`~layoutkit.CompareResult` and their kinds."""
    kinds = Counter(w.kind for w in result.warnings)
    return sum(kinds.values()), dict(sorted(kinds.items()))


def _reports(result: CompareResult, row: Row) -> tuple[str, dict[str, Any]]:
    from ..comparison.report import render_report

    html = render_report(result, title=f"compare: {row.scenario} vs {row.recording}",
                         scenario_name=row.scenario, recording_name=row.recording)
    return html, result.to_json()


def error_outcome(row: Row, message: str, *, seconds: float = 0.0) -> RowOutcome:
    """Return the outcome of a row that could not be checked: verdict ``error``, and why."""
    from ..comparison.model import CompareResult

    html, doc = _reports(CompareResult(verdict="error", error=message), row)
    return RowOutcome(verdict="error", seconds=seconds, error=message, report_html=html,
                      report_json=doc)


def check_row(row: Row) -> RowOutcome:
    """Compare a row's recording with its scenario (on a Dask worker).

    A :class:`~layoutkit.LayoutkitError` (an invalid scenario, say) is the row's error,
    never the batch's.  An ``s3://`` recording is downloaded into a temporary folder that
    is removed when the row is done.
    """
    from ..api import load_scenario
    from ..comparison.run import CompareOptions, compare

    start = time.perf_counter()
    try:
        scenario = load_scenario(row.scenario_path)
        with tempfile.TemporaryDirectory(prefix="layoutkit-batch-") as work:
            result = compare(scenario, row.recording_path,
                             options=CompareOptions(work_dir=Path(work)))
            html, doc = _reports(result, row)
    except LayoutkitError as exc:
        source = getattr(exc, "source", None)
        message = f"{source}: {exc}" if source else str(exc)
        return error_outcome(row, message, seconds=time.perf_counter() - start)
    count, kinds = summary_of(result)
    warned, warning_kinds = warnings_of(result)
    return RowOutcome(verdict=result.verdict, differences=count, kinds=kinds,
                      seconds=time.perf_counter() - start, error=result.error,
                      report_html=html, report_json=doc, warnings=warned,
                      warning_kinds=warning_kinds)
