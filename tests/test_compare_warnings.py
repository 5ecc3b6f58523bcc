"""Warnings (not counted in the verdict) where people read results.

Compare's HTML report and batch's summary and index, each checked in headless Chromium with
a screenshot.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from layoutkit.batches.manifest import Row
from layoutkit.batches.output import write_row, write_summary
from layoutkit.batches.task import RowOutcome, warnings_of
from layoutkit.comparison.model import CompareResult, Difference
from layoutkit.comparison.report import render_report, write_report

from .browser import open_file, save_full_page_screenshot
from .helpers import FAILURES

CANVAS_ONLY = ("the regions of uid 1001, 1002 show only the canvas colour while the scenario "
               "has them in the channel, and no video report (NCS event 44) says the recorder "
               "received video: either every camera was off, or the known layout failure (a "
               "string user account where layoutConfig wants integer uids, or a misplaced "
               "transcodingConfig)")


def _warned() -> CompareResult:
    return CompareResult("match", 0.0, warnings=(Difference("canvas_only", CANVAS_ONLY,
                                                            t=0.0),))


def _pixel(shot: Path, browser: Any, selector: str) -> tuple[int, int, int]:
    """Return the screenshot's colour 3 px inside the element's left edge, 12 px down."""
    left, top = browser.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return [r.left + window.scrollX, r.top + window.scrollY];", selector)
    img = np.asarray(Image.open(shot).convert("RGB"))
    return tuple(int(v) for v in img[int(top + 12), int(left + 3)])  # type: ignore


# --- compare's report -------------------------------------------------------------------------
def test_a_report_without_warnings_has_no_warning_block():
    html = render_report(CompareResult("match", 0.0), title="clean")
    assert "Warnings (not counted)" not in html and 'id="warnings"' not in html


def test_the_report_shows_each_warning_apart_from_the_verdict_in_the_browser(browser,
                                                                            tmp_path):
    path = write_report(_warned(), tmp_path / "warned.html", title="compare: canvas only")
    open_file(browser, path)
    seen = browser.execute_script("""
      const box = document.getElementById('warnings');
      return {verdict: document.querySelector('#verdict .word').textContent.trim(),
              heading: box.querySelector('h2').textContent,
              items: [...box.querySelectorAll('li.warning')].map(
                  li => [li.dataset.kind, li.querySelector('.message').textContent]),
              count: document.querySelector('#warning-count span').textContent,
              visible: box.getBoundingClientRect().height,
              differences: document.querySelectorAll('.difference').length};""")
    assert seen["verdict"] == "MATCH" and seen["differences"] == 0
    assert seen["heading"].startswith("Warnings (not counted)")
    assert seen["items"] == [["canvas_only", CANVAS_ONLY]] and seen["count"] == "1"
    assert seen["visible"] > 60
    FAILURES.mkdir(exist_ok=True)
    shot = save_full_page_screenshot(browser, FAILURES / "compare_report_warnings.png")
    r, g, b = _pixel(shot, browser, "#warnings")
    assert r > 200 and g > 150 and b < 120, (r, g, b)  # the amber edge, not the page


# --- batch's summary and index ----------------------------------------------------------------
def _row(tmp_path: Path, line: int, name: str) -> Row:
    return Row(line, f"{name}/", f"{name}.json", str(tmp_path / name),
               str(tmp_path / f"{name}.json"), f"{line:04d}-{name}")


def test_warnings_of_counts_a_results_warnings_by_kind():
    assert warnings_of(_warned()) == (1, {"canvas_only": 1})
    assert warnings_of(CompareResult("match", 0.0)) == (0, {})


def test_the_summary_counts_warnings_and_the_index_marks_a_warned_match(browser, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    outcomes = [("clean", RowOutcome("match", report_html="<p>clean</p>")),
                ("dark", RowOutcome("match", report_html="<p>dark</p>", warnings=1,
                                    warning_kinds={"canvas_only": 1})),
                ("broken", RowOutcome("differ", 1, {"missing_user": 1}, report_html="x"))]
    results = [write_row(out, _row(tmp_path, i + 2, name), outcome, fingerprint="f",
                         version="0")
               for i, (name, outcome) in enumerate(outcomes)]
    write_summary(out, results, title="nightly")
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [(r["verdict"], r["warnings"], r["warning_kinds"]) for r in table] == [
        ("match", "0", ""), ("match", "1", "canvas_only:1"), ("differ", "0", "")]
    doc = json.loads((out / "summary.json").read_text())
    assert [(r["warnings"], r["warning_kinds"]) for r in doc["rows"]] == [
        (0, {}), (1, {"canvas_only": 1}), (0, {})]
    row_doc = json.loads((out / "rows" / "0003-dark.json").read_text())
    assert row_doc["batch"]["warning_kinds"] == {"canvas_only": 1}

    open_file(browser, out / "index.html")
    rows = browser.execute_script("""
      return [...document.querySelectorAll('#rows tbody tr')].map(tr => [
          tr.className, tr.querySelector('td.verdict').textContent,
          tr.querySelector('td.warnings').textContent,
          getComputedStyle(tr.querySelector('td.verdict')).backgroundColor]);""")
    assert [r[1] for r in rows] == ["match", "match\u26a0 1 warning", "differ"]
    assert rows[1][0] == "match warned" and rows[1][2] == "1 (canvas_only:1)"
    assert rows[0][3] != rows[1][3], rows  # a warned match looks unlike a clean one
    assert "(1 with warnings)" in browser.find_element("id", "totals").text
    FAILURES.mkdir(exist_ok=True)
    shot = save_full_page_screenshot(browser, FAILURES / "batch_index_warnings.png")
    clean = _pixel(shot, browser, "#rows tbody tr:nth-child(1) td.verdict")
    warned = _pixel(shot, browser, "#rows tbody tr:nth-child(2) td.verdict")
    assert clean == (255, 255, 255) and warned != clean, (clean, warned)
