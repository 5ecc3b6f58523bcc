"""What a batch writes under its output folder, each file whole or not at all.

``OUTDIR/rows/<name>.html`` and ``<name>.json`` per row (compare's report and JSON document;
the JSON also carries a ``batch`` section with the row's fingerprint, so a later run can
tell the row is unchanged), then ``OUTDIR/summary.csv``, ``summary.json`` and
``index.html``.  Every file is written through :func:`~layoutkit.io.atomic.atomic_output`
(a temporary name renamed when whole) and every row file's path is checked with
:func:`~layoutkit.io.limited.resolve_inside` to be inside the output folder.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LayoutkitError, StorageError
from ..io.atomic import atomic_output
from ..io.limited import read_limited, resolve_inside
from .manifest import Row
from .task import RowOutcome

__all__ = [
    "ROWS",
    "SUMMARY_FIELDS",
    "RowResult",
    "kinds_text",
    "previous_result",
    "render_index",
    "write_row",
    "write_summary",
]

#: The subfolder of the output folder holding every row's reports.
ROWS = "rows"
#: The columns of ``summary.csv`` (the keys of each row of ``summary.json``).
SUMMARY_FIELDS = ("row", "recording", "scenario", "verdict", "differences", "kinds",
                  "warnings", "warning_kinds", "seconds", "error", "skipped", "report_html",
                  "report_json")
#: The size limit of a row's JSON report read back to see whether it can be skipped.
MAX_ROW_JSON = 64 * 2**20


@dataclass(frozen=True)
class RowResult:
    """One row of the summary.

    Attributes
    ----------
    row : int
        The row's line in the manifest.
    recording, scenario : str
        As written in the manifest.
    verdict : {'match', 'differ', 'error'}
    differences : int
    kinds : dict
        Difference kind -> count.
    seconds : float
        Wall seconds of the run that produced the result.
    error : str or None
    skipped : bool
        True when the row's inputs were unchanged since the run that wrote its reports.
    report_html, report_json : str
        The reports' paths relative to the output folder.
    warnings : int
        Warnings compare gave (not counted in the verdict: a match may carry one).
    warning_kinds : dict
        Warning kind -> count (e.g. ``{"canvas_only": 1}``).
    """

    row: int
    recording: str
    scenario: str
    verdict: str
    differences: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    skipped: bool = False
    report_html: str = ""
    report_json: str = ""
    warnings: int = 0
    warning_kinds: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the row as ``summary.json`` lists it."""
        return {k: getattr(self, k) for k in SUMMARY_FIELDS}


def kinds_text(kinds: dict[str, int]) -> str:
    """``missing_user:2 frozen_region:1``: the kinds as ``summary.csv`` writes them.

    Examples
    --------
    >>> kinds_text({"missing_user": 2, "layout": 1})
    'missing_user:2 layout:1'
    """
    return " ".join(f"{k}:{n}" for k, n in kinds.items())


def _paths(out_dir: Path, row: Row) -> tuple[str, str]:
    """Return the row's report paths relative to ``out_dir`` (checked to stay inside)."""
    names = (f"{ROWS}/{row.name}.html", f"{ROWS}/{row.name}.json")
    for name in names:
        if resolve_inside(out_dir, name).outside:
            raise StorageError(f"{out_dir / name}: leads outside the output folder {out_dir}")
    return names


def _result(row: Row, batch: dict[str, Any], *, skipped: bool, names: tuple[str, str]
            ) -> RowResult:
    return RowResult(row=row.line, recording=row.recording, scenario=row.scenario,
                     verdict=str(batch["verdict"]), differences=int(batch["differences"]),
                     kinds={str(k): int(v) for k, v in dict(batch["kinds"]).items()},
                     seconds=float(batch["seconds"]), error=batch.get("error"),
                     skipped=skipped, report_html=names[0], report_json=names[1],
                     warnings=int(batch.get("warnings", 0)),
                     warning_kinds={str(k): int(v) for k, v in
                                    dict(batch.get("warning_kinds", {})).items()})


def previous_result(out_dir: Path, row: Row, fingerprint: str | None) -> RowResult | None:
    """Return the row's result from an earlier run when its inputs are unchanged, else None.

    Unchanged: the row's JSON report and HTML report exist and the JSON's
    ``batch.fingerprint`` equals ``fingerprint`` (which covers layoutkit's version).
    """
    if fingerprint is None:
        return None
    names = _paths(out_dir, row)
    try:
        doc = json.loads(read_limited(out_dir / names[1], limit=MAX_ROW_JSON,
                                      what="row report", follow=False))
        batch = doc["batch"]
        if batch.get("fingerprint") != fingerprint or not (out_dir / names[0]).is_file():
            return None
        return _result(row, batch, skipped=True, names=names)
    except (LayoutkitError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_text(path: Path, text: str) -> None:
    with atomic_output(path, overwrite=True) as tmp:
        try:
            tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise StorageError(f"{path}: cannot write ({exc.strerror})") from exc


def write_row(out_dir: Path, row: Row, outcome: RowOutcome, *, fingerprint: str | None,
              version: str) -> RowResult:
    """Write the row's HTML and JSON reports and return its summary line.

    The JSON is written last: it is what marks the row done.
    """
    names = _paths(out_dir, row)
    batch = {"recording": row.recording, "scenario": row.scenario,
             "verdict": outcome.verdict, "differences": outcome.differences,
             "kinds": outcome.kinds, "seconds": round(outcome.seconds, 3),
             "error": outcome.error, "warnings": outcome.warnings,
             "warning_kinds": outcome.warning_kinds, "fingerprint": fingerprint,
             "layoutkit": version}
    doc = {**(outcome.report_json or {"verdict": outcome.verdict}), "batch": batch}
    _write_text(out_dir / names[0], outcome.report_html or "")
    _write_text(out_dir / names[1], json.dumps(doc, indent=2, ensure_ascii=False,
                                               default=str) + "\n")
    return _result(row, batch, skipped=False, names=names)


def render_index(results: Sequence[RowResult], *, title: str) -> str:
    """Render ``index.html``: a table of every row, linking its reports.

    A click on a heading sorts the rows by that column (again: the other way).
    """
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("layoutkit.batches", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    verdicts = [r.verdict for r in results]
    warned = sum(1 for r in results if r.verdict == "match" and r.warnings)
    totals = (f"{len(results)} rows: {verdicts.count('match')} match"
              f"{f' ({warned} with warnings)' if warned else ''}, "
              f"{verdicts.count('differ')} differ, {verdicts.count('error')} error "
              f"({sum(r.skipped for r in results)} unchanged since the last run)")
    rows = [{**r.to_json(), "kinds_text": kinds_text(r.kinds),
             "warning_text": kinds_text(r.warning_kinds)} for r in results]
    return env.get_template("index.html.j2").render(title=title, totals=totals, rows=rows)


def write_summary(out_dir: Path, results: Sequence[RowResult], *, title: str) -> None:
    """``summary.csv``, ``summary.json`` and ``index.html``, each whole."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(SUMMARY_FIELDS)
    for r in results:
        line = r.to_json()
        line["kinds"] = kinds_text(r.kinds)
        line["warning_kinds"] = kinds_text(r.warning_kinds)
        line["error"] = r.error or ""
        writer.writerow([line[k] for k in SUMMARY_FIELDS])
    _write_text(out_dir / "summary.csv", buffer.getvalue())
    _write_text(out_dir / "summary.json",
                json.dumps({"rows": [r.to_json() for r in results]}, indent=2,
                           ensure_ascii=False) + "\n")
    _write_text(out_dir / "index.html", render_index(results, title=title))
