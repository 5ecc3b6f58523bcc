"""Run every benchmark module and print one table of results.

Each module (:data:`MODULES`: compose, mix, compare, stills) runs as a subprocess of this
Python interpreter with the same flags (``python benchmarks/run.py --quick`` runs each
``<module>.py --quick``), one after the other so that they never compete for the CPU, and in
its own process so that one module's memory (and peak RSS) does not carry into the next.
Their own output goes to ``benchmarks/results/<module>.log`` (``--verbose`` passes it
through).  At the end one table is printed, a row per case and metric, from the JSON file
each module reports (``wrote <path>``); ``--json FILE`` writes ``{"machine": {...},
"results": [{"case", "metric", "layoutkit", "competitor", "ratio", ...}]}``.  The ratio is
"greater than 1: layoutkit faster" (competitor fps / ours for time metrics, ours fps /
competitor fps for rates), except compare's rows against a PyAV decode, whose ratio is
compare's time over the decode's (target "<= 1.50x", issue 23 item 6).  Every row names
its competitor (column "competitor is"; "none" with why for rows measured against a target
only); the line under the table explains "floor".  The exit status is non-zero when any
module failed, and with ``--check`` when a row misses its target.

``--only compose,mix`` picks modules; every other argument is passed to each module, so
give only flags that all the chosen modules know (``--quick``, ``--repeats N``, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from benchmarks.aggregate import combine, disagreeing, machines  # noqa: E402 -- path above
#: Benchmark modules, in running order.
MODULES = ("compose", "mix", "compare", "stills")
_WROTE = re.compile(r"^wrote (?P<path>\S.*\.json)\s*$")


def run_module(name: str, args: list[str], *, verbose: bool = False) -> tuple[
        int, float, Path | None]:
    """Run ``benchmarks/<name>.py args``; return exit status, seconds, result file.

    The module's output goes to ``benchmarks/results/<name>.log`` (and to the terminal
    with ``verbose``, or when the module fails).
    """
    cmd = [sys.executable, str(HERE / f"{name}.py"), *args]
    print(f"=== {name}: {' '.join(cmd[1:])}", flush=True)
    log: list[str] = []
    t0 = time.perf_counter()
    result = None
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.append(line)
            if verbose:
                sys.stdout.write(line)
                sys.stdout.flush()
            match = _WROTE.match(line)
            if match:
                result = Path(match["path"])
        rc = proc.wait()
    if rc and not verbose:
        sys.stdout.writelines(log[-30:])
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"{name}.log").write_text("".join(log))
    return rc, time.perf_counter() - t0, result


# --------------------------------------------------------------------------- rows
Row = dict[str, Any]


def _row(case: str, metric: str, ours: float | None, competitor: float | None,
         ratio: float | None, **extra: Any) -> Row:
    return {"case": case, "metric": metric, "layoutkit": ours, "competitor": competitor,
            "ratio": ratio, **extra}


def _compose(data: dict[str, Any]) -> list[Row]:
    rows = []
    for case, r in data["cases"].items():
        area = case.endswith("-area")
        rows.append(_row(
            case, "frames/s, 1 thread", r["ours"]["fps_median"],
            r.get("ffmpeg", {}).get("fps_median"), r.get("ratio"),
            target=r.get("target_ratio"), meets_target=r.get("meets_target"),
            kernels="area / area" if area else "bilinear / bilinear",
            competitor_is="FFmpeg filter graph (PyAV, graph.threads=1)",
            x_floor=r.get("x_floor"), psnr_y_db=r.get("psnr_y_db"),
            cpu_ratio=r.get("cpu_ratio"), ratio_iqr=r.get("ratio_iqr"),
            ratio_fastest_third=r.get("ratio_fastest_third"),
            **({"psnr_within_0_5_db": r["psnr_within_0_5_db"]} if area else {})))
    return rows


#: The recorder's margins over the ffmpeg command line doing the same job (files cases), and
#: of ``layoutkit mix`` over a hand-written ``xstack`` graph (whole processes).
MIX_TARGETS = {"mix-640x360-bestfit-4-files": 1.3, "mix-1920x1080-bestfit-17-files": 1.5,
               "mix-640x360-bestfit-4-files-xstack": 1.2}


def _mix_xstack(name: str, r: dict[str, Any]) -> Row:
    """Return the row of the by-hand case: whole processes, the median of alternated pairs."""
    target = r.get("target_ratio", MIX_TARGETS.get(name))
    ratio = r.get("ratio_ffmpeg_over_ours")
    return _row(
        name, f"wall s, {r['seconds']} s recording, whole processes ({r['pairs']} pairs)",
        r["ours"]["wall_s_median"], r["ffmpeg"]["wall_s_median"], ratio, target=target,
        meets_target=(ratio >= target) if ratio is not None and target else None,
        kernels="bilinear / bilinear",
        competitor_is="ffmpeg program, hand-written xstack graph, MP4 only",
        cpu_ratio=r.get("cpu_ratio_ffmpeg_over_ours"), psnr_y_db=r.get("psnr_y_db_frame_10"))


def _mix(data: dict[str, Any]) -> list[Row]:
    rows = []
    for name, r in data["cases"].items():
        if r.get("kind") == "xstack":
            rows.append(_mix_xstack(name, r))
            continue
        case = name if name.startswith("mix-") else f"mix-{name}-solid"
        files = name.endswith("-files")
        target = MIX_TARGETS.get(case, 1.0) if files else None
        held = ", both on one core" if r.get("one_core") is not None else ""
        rows.append(_row(
            case, f"wall s, {r['seconds']} s recording{held}", r["ours"]["wall_s_median"],
            r.get("ffmpeg", {}).get("wall_s_median"), r.get("ratio_ffmpeg_over_ours"),
            target=target,
            meets_target=(r["ratio_ffmpeg_over_ours"] >= target) if target else None,
            kernels="bilinear / bilinear",
            competitor_is="ffmpeg program, layoutkit ffmpeg graph + tee" if files else
            "FFmpeg libraries in-process (PyAV), xstack + tee",
            cpu_ratio=r.get("cpu_ratio_ffmpeg_over_ours"),
            startup_s={k: r[k].get("startup_1s_recording_s_median")
                       for k in ("ours", "ffmpeg") if k in r} if files else None,
            psnr_y_db=r.get("psnr_y_db_frame_10")))
    big = data.get("rss_1080p_files")
    if big:
        runs = ", ".join(f"{r['users']} users {r['seconds']} s {r['peak_rss_mib']}"
                         for r in big["runs"])
        rows.append(_row(
            f"{big['case']}-rss", "peak RSS MiB, the largest run", big["max_peak_rss_mib"],
            None, None, target=f"< {big['limit_mib']} MiB", meets_target=big["under_limit"],
            runs_mib=runs))
    rss = data.get("rss_by_duration")
    if rss:
        short, long = rss["runs"]
        rows.append(_row(
            f"{rss['case']}-rss", f"peak RSS MiB, {long['seconds']} s vs {short['seconds']} s",
            long["peak_rss_mib"], None, None, reference=short["peak_rss_mib"],
            growth=rss["growth"], target="<= +10 %",
            meets_target=rss["flat_within_10_percent"]))
    return rows


#: compare's time over a PyAV decode of the same recording, at most (issue 23 item 6).
COMPARE_TARGET = 1.5
_DECODE_IS = "PyAV decoding video + audio of the MP4, every frame to_ndarray"


def _compare_row(case: str, metric: str, r: dict[str, Any], ours: str, decode: str,
                 ratio: str, **extra: Any) -> Row:
    """One compare row: ours against the decode, ratio ours / decode (lower is better)."""
    value = r.get(ratio)
    target = r.get("target_ratio", COMPARE_TARGET)
    return _row(case, metric, r[ours]["wall_s_median"], r[decode]["wall_s_median"], value,
                target=f"<= {target:.2f}x",
                meets_target=None if value is None else value <= target,
                cpu_ratio=r.get(f"{ratio}_cpu"), **extra)


def _compare(data: dict[str, Any]) -> list[Row]:
    rows = []
    for name, r in data["cases"].items():
        rows.append(_compare_row(
            f"compare-{name}", f"wall s, {r['seconds']} s recording, in-process", r,
            "ours", "decode", "ratio_ours_over_decode",
            competitor_is=f"{_DECODE_IS} (ratio: ours / decode)",
            x_realtime=r["ours"]["x_realtime"]))
        if "process_ours" in r:
            rows.append(_compare_row(
                f"compare-{name}-process", f"wall s, {r['seconds']} s recording, whole process",
                r, "process_ours", "process_decode", "ratio_process_ours_over_decode",
                competitor_is=f"python -c: {_DECODE_IS} (ratio: layoutkit compare / decode)"))
        if "ffmpeg" in r:
            rows.append(_floor_row(name, r))
    return rows


def _floor_row(name: str, r: dict[str, Any]) -> Row:
    """FFmpeg decoding the recording: CPU seconds (results before they were kept: wall)."""
    kind = "cpu" if "ratio_ffmpeg_over_ours_cpu" in r else "wall"
    ratio = r.get("ratio_ffmpeg_over_ours_cpu",
                  round(r["ffmpeg"]["wall_s_median"] / r["ours"]["wall_s_median"], 3))
    return _row(f"compare-{name}-ffmpeg", f"{kind} s, {r['seconds']} s recording",
                r["ours"][f"{kind}_s_median"], r["ffmpeg"][f"{kind}_s_median"], ratio,
                competitor_is="ffmpeg -f null - (decode only: a floor, not the same job)",
                x_realtime=r["ours"]["x_realtime"])


def _stills(data: dict[str, Any]) -> list[Row]:
    return [_row(name, f"{r['unit']} per call (median)", r["median"], None, None,
                 target=None if r["target"] is None else f"< {r['target']:g} {r['unit']}",
                 meets_target=r["meets_target"])
            for name, r in data["cases"].items()]


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "compose": _compose, "mix": _mix, "compare": _compare, "stills": _stills}


def rows_of(name: str, path: Path | None) -> tuple[list[Row], dict[str, Any] | None]:
    """Return the table rows of one module's result file, and its metadata."""
    if path is None:
        return [], None
    data = json.loads(path.read_text())
    return ROWS[data.get("benchmark", name)](data), data.get("metadata")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


HEAD = ("case", "metric", "layoutkit", "competitor", "ratio", "target", "met", "notes",
        "competitor is")

#: What "floor" means in the notes and competitor names: printed under every table.
FLOOR_NOTE = ("floor: the memory-copy floor, one copy of the canvas plus one read of every "
              "source (np.copyto), the fastest any compositor could be; \"copy floor Nx\" = "
              "that floor runs N times as many frames/s as layoutkit (compare's \"floor\": "
              "ffmpeg decoding the recording, with no analysis)")


def competitor_is(row: Row) -> str:
    """Name the competitor a row measures against (``none`` with why, for targets only)."""
    if row.get("competitor_is"):
        return str(row["competitor_is"])
    if row.get("reference") is not None:
        return "none: the shorter run is the reference"
    return "none: a target only"


def missed(rows: list[Row]) -> list[str]:
    """``case (metric)`` of every row whose target is missed (``meets_target`` False)."""
    return [f"{r['case']} ({r['metric']})" for r in rows if r.get("meets_target") is False]


def cells(rows: list[Row]) -> list[tuple[str, ...]]:
    """Return the table's cells, a tuple per row (columns :data:`HEAD`)."""
    lines: list[tuple[str, ...]] = []
    for r in rows:
        notes = []
        if r.get("kernels"):
            notes.append(r["kernels"])
        if r.get("x_floor") is not None:
            notes.append(f"copy floor {r['x_floor']:.1f}x")
        ps = r.get("psnr_y_db")
        if ps:
            notes.append("PSNR " + "/".join(f"{v:.1f}" for v in ps.values()) + " dB")
        if r.get("runs_mib"):
            notes.append(f"MiB by run: {r['runs_mib']}")
        if r.get("reference") is not None:
            notes.append(f"short run {r['reference']} MiB, {r['growth'] * 100:+.1f} %")
        target = r.get("target")
        lines.append((r["case"], r["metric"], _fmt(r["layoutkit"]), _fmt(r["competitor"]),
                      _ratio_cell(r),
                      "-" if target is None else (f">= {target:.2f}x" if isinstance(
                          target, float) else str(target)),
                      {True: "yes", False: "NO", None: "-"}[r.get("meets_target")],
                      "; ".join(notes), competitor_is(r)))
    return lines


def _ratio_cell(row: Row) -> str:
    """Return the ratio, with its min-max over runs when the row combines several."""
    ratio = row.get("ratio")
    if ratio is None:
        return "-"
    if row.get("runs", 1) > 1 and row.get("ratio_min") is not None:
        return f"{ratio:.2f}x ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})"
    return f"{ratio:.2f}x"


def table(rows: list[Row]) -> list[str]:
    """Return the one table: a line per row."""
    lines = cells(rows)
    widths = [max(len(str(x[i])) for x in [HEAD, *lines]) for i in range(len(HEAD))]
    fmt = " | ".join(f"{{:{w}s}}" for w in widths)
    return [fmt.format(*HEAD), "-+-".join("-" * w for w in widths),
            *(fmt.format(*line) for line in lines), FLOOR_NOTE]


def markdown(rows: list[Row], info: dict[str, Any]) -> list[str]:
    """Return the machine line and the table in Markdown (the README's speed section)."""
    out = [_machine_line(info), "", "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for c in cells(rows):
        case, *rest = c
        met = "**no**" if rest[5] == "NO" else rest[5]
        out.append("| " + " | ".join([f"`{case}`", *rest[:5], met, *rest[6:]]) + " |")
    return [*out, "", FLOOR_NOTE]


def _machine_line(info: dict[str, Any]) -> str:
    """Return the one line that says where and when the table was measured."""
    versions = info.get("versions") or {}
    libs = versions.get("ffmpeg_libs") or {}
    runs = info.get("runs") or [info]
    loads = ", ".join(f"{_load(r.get('load_average_start'))}-{_load(r.get('load_average_end'))}"
                      for r in runs)
    when = ", ".join(str(r.get("time_utc")) for r in runs)
    return (f"Machine: {info.get('cpu')}, {info.get('cpu_count')} CPUs, {info.get('platform')}; "
            f"Python {versions.get('python')}, NumPy {versions.get('numpy')}, OpenCV "
            f"{versions.get('opencv')}, PyAV {versions.get('pyav')} (libavfilter "
            f"{libs.get('libavfilter')}, libavcodec {libs.get('libavcodec')}); "
            f"{len(runs)} run(s) at {when}, load average (1 min) at start-end {loads}; commit "
            f"{str(info.get('git_commit'))[:7]}{' (dirty)' if info.get('git_dirty') else ''}.")


def write_markdown(path: Path, rows: list[Row], info: dict[str, Any]) -> None:
    """Write :func:`markdown` of ``rows`` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(markdown(rows, info)) + "\n")
    print(f"wrote {path}")


def machine(meta: dict[str, Any] | None, *, load_start: list[float] | None) -> dict[str, Any]:
    """Return the machine the run happened on (from the first module's metadata)."""
    meta = meta or {}
    out = {k: meta.get(k) for k in ("cpu", "cpu_count", "platform", "versions", "git_commit",
                                    "git_dirty")}
    out["load_average_start"] = load_start
    out["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    out["time_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the modules, print the table; exit status 1 if any module failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="other arguments go to every module")
    parser.add_argument("--only", help=f"comma-separated modules (default: {','.join(MODULES)})")
    parser.add_argument("--json", type=Path, help="write the machine and the rows to FILE")
    parser.add_argument("--verbose", action="store_true",
                        help="pass every module's own output through")
    parser.add_argument("--markdown", type=Path,
                        help="write the machine line and the table in Markdown to FILE")
    parser.add_argument("--collect", action="store_true",
                        help="run nothing: make the table from the modules' latest result "
                             "files (benchmarks/results/<module>[-quick].json)")
    parser.add_argument("--check", action="store_true",
                        help="exit status 1 when a row misses its target (met: NO)")
    parser.add_argument("--from", dest="from_json", type=Path, action="append",
                        help="run nothing: print (and with --markdown write) the table of a "
                             "file written by --json; given several times, the median of "
                             "the files and each ratio's min-max (benchmarks/aggregate.py)")
    known, rest = parser.parse_known_args(argv)
    if known.from_json:
        return _from_json(known)
    modules = known.only.split(",") if known.only else list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)} (known: {', '.join(MODULES)})")
    load_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    outcomes = [_outcome(name, rest, collect=known.collect, verbose=known.verbose)
                for name in modules]
    rows: list[Row] = []
    meta = None
    for name, rc, _seconds, path in outcomes:
        if rc != 0:
            continue
        try:
            module_rows, module_meta = rows_of(name, path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"{name}: cannot read {path}: {type(exc).__name__}: {exc}")
            outcomes = [(n, 1 if n == name else c, s, p) for n, c, s, p in outcomes]
            continue
        rows.extend(dict(r, module=name) for r in module_rows)
        meta = meta or module_meta
    info = machine(meta, load_start=load_start)
    total = time.perf_counter() - t0
    print(f"\n=== {len(rows)} results in {total:.0f} s on {info['cpu']} "
          f"({info['cpu_count']} CPUs), load average {_load(load_start)} -> "
          f"{_load(info['load_average_end'])}; ratio > 1: layoutkit faster "
          "(compare vs decode: ours / decode, <= target)")
    for line in table(rows):
        print(line)
    if "--quick" in rest:
        print("quick run: indicative only (runs of a fraction of a second on a few cases); "
              "speed claims are medians of three full runs (docs/benchmarks.md)")
    for name, rc, seconds, path in outcomes:
        status = "ok" if rc == 0 else f"FAILED (exit status {rc})"
        print(f"{name}: {status}, {seconds:.1f} s" + (f", {path}" if path else ""))
    if known.json:
        known.json.parent.mkdir(parents=True, exist_ok=True)
        known.json.write_text(json.dumps(
            {"machine": info, "seconds": round(total, 1),
             "modules": {n: {"exit_status": c, "seconds": round(s, 1),
                             "result_file": str(p) if p else None}
                         for n, c, s, p in outcomes},
             "results": rows}, indent=2) + "\n")
        print(f"wrote {known.json}")
    if known.markdown:
        write_markdown(known.markdown, rows, info)
    failed = [name for name, rc, _, _ in outcomes if rc != 0]
    if failed:
        print(f"failed: {', '.join(failed)}")
    checked = _checked(rows) if known.check else 0
    return 1 if failed else checked


def _outcome(name: str, rest: list[str], *, collect: bool,
             verbose: bool) -> tuple[str, int, float, Path | None]:
    """Run one module, or with ``collect`` take its latest result file.

    Returns the name, exit status, seconds and result file.
    """
    if collect:
        path = HERE / "results" / f"{name}{'-quick' if '--quick' in rest else ''}.json"
        return name, 0 if path.is_file() else 1, 0.0, path
    return (name, *run_module(name, rest, verbose=verbose))


def _from_json(known: argparse.Namespace) -> int:
    """``--from FILE`` (repeatable): the table of files written by ``--json`` (nothing run)."""
    docs = [json.loads(path.read_text()) for path in known.from_json]
    rows = combine([d["results"] for d in docs]) if len(docs) > 1 else docs[0]["results"]
    info = machines([d["machine"] for d in docs]) if len(docs) > 1 else docs[0]["machine"]
    for line in table(rows):
        print(line)
    if len(docs) > 1:
        apart = disagreeing(rows)
        print(f"{len(docs)} runs; ratios that differ by more than 15 % of their median: "
              + ("; ".join(apart) if apart else "none"))
    if known.markdown:
        write_markdown(known.markdown, rows, info)
    return _checked(rows) if known.check else 0


def _checked(rows: list[Row]) -> int:
    """``--check``: 1 (and the rows named) when a target is missed, else 0."""
    misses = missed(rows)
    if misses:
        print(f"--check: {len(misses)} target(s) missed: {', '.join(misses)}")
        return 1
    print("--check: every target met")
    return 0


def _load(values: list[float] | None) -> str:
    return "?" if not values else f"{values[0]:.1f}"


if __name__ == "__main__":
    raise SystemExit(main())
