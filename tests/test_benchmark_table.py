"""benchmarks/run.py's tables, and the full-run table they made in docs/benchmarks.md."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_module():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ROWS = [
    {"case": "compose-a", "metric": "frames/s, 1 thread", "layoutkit": 531.0,
     "competitor": 210.8, "ratio": 2.519, "target": 1.0, "meets_target": True,
     "kernels": "area / area", "x_floor": 5.38, "psnr_y_db": {"ours": 44.31, "ffmpeg": 44.3}},
    {"case": "mix-b", "metric": "wall s, 40 s recording", "layoutkit": 4.17, "competitor": 3.65,
     "ratio": 0.875, "target": 1.0, "meets_target": False, "kernels": "bilinear / bilinear"},
    {"case": "stills-c", "metric": "s per call (median)", "layoutkit": 0.178,
     "competitor": None, "ratio": None, "target": "< 1 s", "meets_target": True},
]
MACHINE = {"cpu": "AMD EPYC", "cpu_count": 2, "platform": "Linux", "git_commit": "0123456789",
           "git_dirty": False, "load_average_start": [0.5], "load_average_end": [1.25],
           "time_utc": "2026-12-02T01:12:46Z",
           "versions": {"python": "3.11.7", "numpy": "2.4.6", "opencv": "5.0.0",
                        "pyav": "18.1.0", "ffmpeg_libs": {"libavfilter": "11.14.102",
                                                          "libavcodec": "62.28.102"}}}


def test_markdown_table_of_a_run():
    lines = _run_module().markdown(ROWS, MACHINE)
    assert lines[0].startswith("Machine: AMD EPYC, 2 CPUs, Linux; Python 3.11.7, NumPy 2.4.6")
    assert "load average 0.5 at the start, 1.2 at the end; commit 0123456;" in lines[0]
    assert lines[2] == ("| case | metric | layoutkit | competitor | ratio | target | met | notes "
                        "| competitor is |")
    assert lines[4] == ("| `compose-a` | frames/s, 1 thread | 531.0 | 210.8 | 2.52x | >= 1.00x "
                        "| yes | area / area; copy floor 5.4x; PSNR 44.3/44.3 dB "
                        "| none: a target only |")
    assert lines[5].split(" | ")[4:7] == ["0.88x", ">= 1.00x", "**no**"]
    assert lines[6].split(" | ")[2:7] == ["0.178", "-", "-", "< 1 s", "yes"]


def test_docs_speed_table_says_met_exactly_where_the_ratio_reaches_the_target():
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    section = page[page.index("## The latest full run"):page.index("## Other measurements")]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 40
    checked = 0
    for cells in rows:
        ratio, target, met = cells[4], cells[5], cells[6]
        if ratio.endswith("x") and target.startswith(">= "):
            reached = float(ratio[:-1]) >= float(target[3:-1])
            assert met == ("yes" if reached else "**no**"), cells[0]
            checked += 1
    assert checked >= 30
    assert re.search(r"^Machine: .*; commit [0-9a-f]{7}", section, flags=re.M)
