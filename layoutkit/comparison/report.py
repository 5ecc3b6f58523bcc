"""The ``compare --report`` page: one self-contained HTML file for people.

The verdict first (with the differences per category: files, streams, content), then a
per-region timeline of expected vs observed states (inline SVG), each difference tagged with
its category and its figures and, where the result carries :class:`Evidence`, the expected
frame, the recorded frame and a difference heat map side by side (PNG data URIs),
then the file and stream facts and the ``infer`` table.  No external URL, no script: the page
opens from a mail attachment or a CI artefact as it is.  Drawn by Jinja2 with autoescaping
from the package template ``templates/report.html.j2``.
"""

from __future__ import annotations

import base64
import json
import math
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypedDict, Unpack

import jinja2
import markupsafe
import numpy as np
import numpy.typing as npt

from .. import __version__
from ..cloudfiles.parse import printable
from ..errors import StorageError
from ..io.atomic import atomic_output
from ..io.png import encode_png
from .heatmap import colormap_stops, difference_heatmap, difference_stats
from .model import CATEGORIES, CompareResult, Difference, Evidence
from .timeline_plot import plot_timeline

__all__ = ["IMAGE_MAX_WIDTH", "MAX_ENTRIES", "MAX_EVIDENCE", "render_report", "write_report"]

#: Differences drawn with their pictures, and listed as cards at least (the rest are one
#: line each in a table).
MAX_EVIDENCE = 12
#: Differences listed at all (the rest are counted; ``--json`` has every one).
MAX_ENTRIES = 500
#: Width above which frames are reduced for the page.
IMAGE_MAX_WIDTH = 480
#: Rows of a list shown in the facts tables before "... and N more".
MAX_LIST_ROWS = 60

_HEADLINES = {
    "match": "The recording matches the rules within the stated tolerances",
    "differ": "The recording differs from the rules",
    "error": "The recording could not be analysed",
}


# --- values for people ----------------------------------------------------------------------
def _text(value: Any, *, limit: int = 400) -> str:
    """Write a value as text: strings as they are, numbers short, the rest as compact JSON."""
    if value is None:
        return "\N{EM DASH}"
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = "∞" if math.isinf(value) else f"{value:.6g}"
    elif isinstance(value, int):
        text = str(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "\N{HORIZONTAL ELLIPSIS}"


def _seconds(t: float | None) -> str:
    return "\N{EM DASH}" if t is None else f"{t:.3f} s"


def _scalar_class(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "num"
    return "str"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def fact_tree(value: Any, *, depth: int = 0) -> dict[str, Any]:
    """Turn a JSON-able value into the nodes the report's template draws.

    Dicts become key/value tables, lists of objects tables with a column per key, lists of
    scalars one inline text; long lists are cut at :data:`MAX_LIST_ROWS`, nesting at depth 5.

    Parameters
    ----------
    value : Any
        A JSON-able value (the facts of a comparison).
    depth : int
        How deep ``value`` sits in the tree it comes from.

    Returns
    -------
    dict
        A node: ``kind`` is ``scalar``, ``dict``, ``inline``, ``table`` or ``list``.

    Examples
    --------
    >>> fact_tree(3)
    {'kind': 'scalar', 'text': '3', 'cls': 'num'}
    >>> fact_tree([1, 2])
    {'kind': 'inline', 'text': '1, 2', 'count': 2}
    """
    if _is_scalar(value):
        return {"kind": "scalar", "text": _text(value), "cls": _scalar_class(value)}
    if depth >= 5:
        return {"kind": "scalar", "text": _text(value), "cls": "str"}
    if isinstance(value, Mapping):
        return _dict_tree(value, depth=depth)
    if isinstance(value, list | tuple):
        return _seq_tree(list(value), depth=depth)
    return {"kind": "scalar", "text": _text(value), "cls": "str"}


def _dict_tree(value: Mapping[Any, Any], *, depth: int) -> dict[str, Any]:
    """Draw a mapping as key/value rows (``(none)`` when empty)."""
    items = [(str(k), fact_tree(v, depth=depth + 1)) for k, v in value.items()]
    if not items:
        return {"kind": "scalar", "text": "(none)", "cls": "null"}
    return {"kind": "dict", "items": items}


def _seq_tree(seq: list[Any], *, depth: int) -> dict[str, Any]:
    """Draw a list: scalars inline, objects as a table when they have few keys, else rows."""
    shown, more = seq[:MAX_LIST_ROWS], max(0, len(seq) - MAX_LIST_ROWS)
    if not seq:
        return {"kind": "scalar", "text": "(none)", "cls": "null"}
    if all(_is_scalar(v) for v in seq):
        return {"kind": "inline", "text": _text(", ".join(_text(v) for v in seq),
                                                 limit=600), "count": len(seq)}
    if all(isinstance(v, Mapping) for v in seq):
        table = _table_tree(shown, more=more, depth=depth)
        if table is not None:
            return table
    return {"kind": "list", "items": [fact_tree(v, depth=depth + 1) for v in shown],
            "more": more}


def _table_tree(shown: list[Mapping[Any, Any]], *, more: int,
                depth: int) -> dict[str, Any] | None:
    """Draw objects as a table with a column per key; None when they have over 10 keys."""
    columns: list[str] = []
    for row in shown:
        columns += [str(k) for k in row if str(k) not in columns]
    if len(columns) > 10:
        return None
    blank = {"kind": "scalar", "text": "", "cls": "null"}
    rows = [[fact_tree(row[c], depth=depth + 1) if c in row else blank
             for c in columns] for row in shown]
    return {"kind": "table", "columns": columns, "rows": rows, "more": more}


# --- pictures -------------------------------------------------------------------------------
def _as_rgb(image: Any) -> npt.NDArray[np.uint8] | None:
    """Return an evidence frame as (H, W, 3) uint8, or None when it is no picture."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] < 3 or 0 in arr.shape or arr.dtype.kind not in "uif":
        return None
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr[:, :, :3])


def png_data_uri(image: npt.NDArray[np.uint8], *, size: tuple[int, int] | None = None) -> str:
    """Encode ``image`` (RGB uint8) as a ``data:image/png;base64,...`` URI.

    It is resized to ``size`` (width, height) when given.
    """
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(image))
    if size is not None and img.size != size:
        img = img.resize(size, Image.Resampling.LANCZOS)
    # the package's one encoder, at level 1 (a report holds up to 36 such pictures)
    data = encode_png(np.asarray(img.convert("RGB"), dtype=np.uint8), level=1)
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class _Pictures:
    t: float
    expected: str
    observed: str
    heatmap: str
    width: int
    height: int
    max_abs: int
    mean_abs: str
    psnr: str
    note: str | None
    mark: tuple[str, str, str, str] | None  # the region: left, top, width, height in %
    moved: bool  # shown on the nearest frame without a test-stream flash


def region_mark(rect: tuple[int, int, int, int] | None,
                size_wh: tuple[int, int]) -> tuple[str, str, str, str] | None:
    """Express a region ``(x, y, w, h)`` of a ``size_wh`` canvas as CSS percentages.

    The percentages are (left, top, width, height), clipped to the canvas; None without a
    region or when it is the whole canvas.

    >>> region_mark((320, 0, 320, 180), (640, 360))
    ('50.00%', '0.00%', '50.00%', '50.00%')
    >>> region_mark((0, 0, 640, 360), (640, 360)) is None
    True
    """
    w, h = size_wh
    if rect is None or w <= 0 or h <= 0:
        return None
    x0, y0 = max(0, rect[0]), max(0, rect[1])
    x1, y1 = min(w, rect[0] + rect[2]), min(h, rect[1] + rect[3])
    if x1 <= x0 or y1 <= y0 or (x0, y0, x1, y1) == (0, 0, w, h):
        return None
    return (f"{100 * x0 / w:.2f}%", f"{100 * y0 / h:.2f}%", f"{100 * (x1 - x0) / w:.2f}%",
            f"{100 * (y1 - y0) / h:.2f}%")


def _pictures(ev: Evidence) -> _Pictures | None:
    """Draw the three pictures of one evidence (None when its frames are not RGB pictures)."""
    expected, observed = _as_rgb(ev.expected), _as_rgb(ev.observed)
    if expected is None or observed is None:
        return None
    stats = difference_stats(expected, observed)
    heat = difference_heatmap(expected, observed, max_width=IMAGE_MAX_WIDTH)
    h, w = heat.shape[:2]
    eh, ew = expected.shape[:2]
    oh, ow = observed.shape[:2]
    note = None
    if (oh, ow) != (eh, ew):
        note = (f"The recorded frame is {ow}\N{MULTIPLICATION SIGN}{oh}, the expected "
                f"{ew}\N{MULTIPLICATION SIGN}{eh}; the difference is taken at "
                f"{ew}\N{MULTIPLICATION SIGN}{eh}.")
    return _Pictures(t=float(ev.t), expected=png_data_uri(expected, size=(w, h)),
                     observed=png_data_uri(observed, size=(w, h)),
                     heatmap=png_data_uri(heat), width=w, height=h, max_abs=stats.max_abs,
                     mean_abs=f"{stats.mean_abs:.1f}", psnr=stats.psnr_text(), note=note,
                     mark=region_mark(ev.rect, (ew, eh)), moved=ev.moved_off_flash)


# --- the page ---------------------------------------------------------------------------------
def _figures(d: Difference) -> list[tuple[str, str, str]]:
    """(label, text, css class) of a difference's figures; those it does not have left out."""
    rows = [("kind", d.kind, "mono")]
    if d.uid is not None:
        rows.append(("uid", _text(d.uid), "mono"))
    if d.t is not None:
        rows.append(("time", _seconds(d.t), "num"))
    if d.region is not None:
        rows.append(("region", _text(d.region), "num"))
    for label, value in (("expected", d.expected), ("observed", d.observed), ("file", d.file)):
        if value is not None:
            rows.append((label, _text(value), "mono"))
    return rows


def _evidence_by_difference(result: CompareResult) -> dict[int, Evidence]:
    out: dict[int, Evidence] = {}
    for ev in result.evidence:
        if 0 <= ev.difference < len(result.differences):
            out.setdefault(ev.difference, ev)
    return out


def _summary(differences: tuple[Difference, ...]) -> list[tuple[str, list[tuple[str, int]]]]:
    """Count the differences per category and kind.

    Returns (category, [(kind, count), ...] most frequent first) for each category that has
    differences, in :data:`~.model.CATEGORIES` order.
    """
    out = []
    for category in CATEGORIES:
        kinds = Counter(d.kind for d in differences if d.category == category)
        if kinds:
            out.append((category, sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))))
    return out


def _headline(result: CompareResult) -> str:
    n = len(result.differences)
    if result.verdict == "differ" and n:
        return f"The recording differs from the rules in {n} way{'s' if n != 1 else ''}"
    return _HEADLINES.get(result.verdict, f"Verdict: {result.verdict}")


def _offset_text(offset: float | None) -> str:
    if offset is None:
        return "not found"
    return f"{offset:+.3f} s"


def _finalize(value: Any) -> Any:
    """Escape control and bidi characters from every text the page shows.

    Such texts are names from the recording; HTML escaping follows.  Markup (a macro's
    output) was made of such texts and passes as it is.
    """
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return printable(value)
    return value


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("layoutkit.comparison", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"],
                                                                 default_for_string=True,
                                                                 default=True),
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, finalize=_finalize)
    env.filters["px"] = lambda v: f"{float(v):.1f}"
    return env


def render_report(result: CompareResult, *, title: str, scenario_name: str | None = None,
                  recording_name: str | None = None, max_evidence: int = MAX_EVIDENCE,
                  max_entries: int = MAX_ENTRIES) -> str:
    """Render the report page of ``result`` as HTML text (pure; nothing is written).

    Parameters
    ----------
    result : CompareResult
        What compare found.
    title : str
        The page's heading (e.g. ``"compare: scenario.json vs recording/"``).
    scenario_name, recording_name : str, optional
        Shown under the title (file names, not read).
    max_evidence : int
        Differences drawn with their frames and heat map; the first ``max_evidence``
        differences and those drawn are cards, further ones one line each.
    max_entries : int
        Differences listed at all; the rest are counted (the JSON document has them all).

    Returns
    -------
    str
        One self-contained HTML5 document (inline CSS and SVG, images as data URIs).
    """
    evidence = _evidence_by_difference(result)
    entries: list[dict[str, Any]] = []  # full cards
    rows: list[dict[str, Any]] = []  # the rest, one line each
    drawn = 0
    with_pictures = sum(1 for i in evidence if i < max_entries)
    for i, d in enumerate(result.differences[:max_entries]):
        pictures = None
        if i in evidence and drawn < max_evidence:
            pictures = _pictures(evidence[i])
            drawn += pictures is not None
        entry = {"number": i + 1, "kind": d.kind, "category": d.category,
                 "message": d.message,
                 "t": None if d.t is None else f"{d.t:.2f} s", "uid": d.uid,
                 "region": d.region, "figures": _figures(d), "pictures": pictures}
        (entries if i < max_evidence or pictures is not None else rows).append(entry)
    summary = _summary(result.differences)
    plot = (plot_timeline(result.tracks, result.differences[:max_entries], result.events)
            if result.tracks else None)
    infer = (sorted(result.infer.items()) if result.infer is not None else None)
    context = {
        "title": title,
        "scenario_name": scenario_name,
        "recording_name": recording_name,
        "version": __version__,
        "verdict": result.verdict if result.verdict in ("match", "differ", "error")
        else "error",
        "verdict_word": result.verdict.upper(),
        "headline": _headline(result),
        "error": result.error,
        "offset": _offset_text(result.offset_s),
        "alignment": result.alignment,
        "n_differences": len(result.differences),
        "categories": [(c, result.counts().get(c, "not judged")) for c in CATEGORIES],
        "not_judged": [{"kind": d.kind, "category": d.category, "message": d.message,
                        "file": d.file} for d in result.not_judged[:max_entries]],
        "n_not_judged": len(result.not_judged),
        "warnings": [{"kind": w.kind, "message": w.message,
                      "t": None if w.t is None else f"{w.t:.2f} s"}
                     for w in result.warnings[:max_entries]],
        "n_regions": len(result.tracks),
        "summary": summary,
        "plot": plot,
        "entries": entries,
        "rows": rows,
        "more_entries": max(0, len(result.differences) - max_entries),
        "pictures_drawn": drawn,
        "pictures_total": with_pictures,
        "max_evidence": max_evidence,
        "files": fact_tree(result.files) if result.files else None,
        "streams": fact_tree(result.streams) if result.streams else None,
        "infer": infer,
        "colorbar": ", ".join(colormap_stops(9)),
    }
    return _environment().get_template("report.html.j2").render(**context)


class PageOptions(TypedDict, total=False):
    """:func:`render_report`'s optional keywords, as :func:`write_report` passes them on."""

    scenario_name: str | None
    recording_name: str | None
    max_evidence: int
    max_entries: int


def write_report(result: CompareResult, path: str | os.PathLike[str], *,
                 overwrite: bool = False, title: str, **page: Unpack[PageOptions]) -> Path:
    """Write :func:`render_report`'s page to ``path`` (temporary name, renamed when whole).

    ``title`` and the ``page`` keywords (``scenario_name``, ``recording_name``,
    ``max_evidence``, ``max_entries``) are :func:`render_report`'s.

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    StorageError
        When the file cannot be written.
    """
    html = render_report(result, title=title, **page)
    dest = Path(path)
    with atomic_output(dest, overwrite=overwrite) as tmp:
        try:
            tmp.write_text(html, encoding="utf-8")
        except OSError as exc:
            msg = f"{dest}: cannot write the report ({exc.strerror})"
            raise StorageError(msg) from exc
    return dest
