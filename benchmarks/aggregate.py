"""Several ``run.py --json`` files of the same machine made into one table: median and spread.

A speed claim is the median of repeated full runs on a quiet machine, with its spread.  This
module reads the files (``python benchmarks/run.py --from A.json --from B.json --from C.json
--markdown speed.md``), keys their rows by ``(case, metric)``, and gives for each the median
of the values and of the ratio, the ratios' min and max, and whether they agree: the spread
``(max - min) / median`` of the ratio at most :data:`AGREEMENT` (15 %).  A row's target is
met only when every run met it.

>>> runs = [[{"case": "c", "metric": "fps", "layoutkit": v, "competitor": 10.0,
...           "ratio": v / 10, "target": 1.0, "meets_target": v >= 10}]
...         for v in (11.0, 12.0, 13.0)]
>>> row = combine(runs)[0]
>>> row["ratio"], row["ratio_min"], row["ratio_max"], row["agree"], row["meets_target"]
(1.2, 1.1, 1.3, False, True)
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

#: The largest spread of a ratio over runs, relative to its median, for runs that agree.
AGREEMENT = 0.15

Row = dict[str, Any]


def _median(values: Sequence[float | None]) -> float | None:
    """Return the median of the values that are not None (None when there are none)."""
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 4) if known else None


def _met(values: Sequence[bool | None]) -> bool | None:
    """Return whether every run met the target (None when no run had one)."""
    known = [v for v in values if v is not None]
    return all(known) if known else None


def combine(runs: Sequence[Sequence[Row]]) -> list[Row]:
    """Return one row per ``(case, metric)`` of ``runs``: medians, ratio range, agreement.

    Parameters
    ----------
    runs : sequence of sequence of dict
        The ``results`` of each ``run.py --json`` file.

    Returns
    -------
    list of dict
        The first run's row (its notes and names), with ``layoutkit``, ``competitor`` and
        ``ratio`` replaced by their medians over the runs that have the row, and
        ``ratio_min``, ``ratio_max``, ``spread``, ``runs``, ``agree``, ``meets_target``
        (met in every run).
    """
    keyed: dict[tuple[str, str], list[Row]] = {}
    for rows in runs:
        for row in rows:
            keyed.setdefault((row["case"], row["metric"]), []).append(row)
    out = []
    for same in keyed.values():
        ratios = [r["ratio"] for r in same if r.get("ratio") is not None]
        ratio = _median(ratios)
        spread = (max(ratios) - min(ratios)) / ratio if ratios and ratio else None
        out.append(dict(
            same[0], layoutkit=_median([r.get("layoutkit") for r in same]),
            competitor=_median([r.get("competitor") for r in same]), ratio=ratio,
            ratio_min=min(ratios, default=None), ratio_max=max(ratios, default=None),
            spread=None if spread is None else round(spread, 4), runs=len(same),
            agree=None if spread is None else spread <= AGREEMENT,
            meets_target=_met([r.get("meets_target") for r in same])))
    return out


def disagreeing(rows: Sequence[Row]) -> list[str]:
    """Return ``case (metric): spread`` of every combined row whose runs do not agree."""
    return [f"{r['case']} ({r['metric']}): ratio {r['ratio_min']:.2f}-{r['ratio_max']:.2f}x, "
            f"spread {r['spread'] * 100:.0f} %" for r in rows if r.get("agree") is False]


def machines(infos: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return the first run's machine, with every run's load averages and times added."""
    first = dict(infos[0]) if infos else {}
    first["runs"] = [{"time_utc": i.get("time_utc"), "git_commit": i.get("git_commit"),
                      "load_average_start": i.get("load_average_start"),
                      "load_average_end": i.get("load_average_end")} for i in infos]
    return first
