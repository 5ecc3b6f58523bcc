"""``lk.batch`` on a local Dask cluster: rows per minute by workers, peak memory per worker.

Case
----
``rows`` rows (default 100, the issue's figure; ``--quick``: 8) of ``seconds``-second
recordings (default 20; ``--quick``: 5) at ``--size`` (640x360, 15 fps, 4 test-stream users,
a mute and a leave, as ``benchmarks/compare.py`` records them), each checked against its own
scenario (every row must match: it is checked).  ``--distinct`` recordings (default 10) are
made once, before timing, by the local recorder; the manifest names them in turn, so each
row is its own task with its own reports, whatever ``--distinct`` is.

Subjects
--------
For each worker count of ``--workers`` (default ``1,2``): a local cluster of that many
worker processes (one thread each, 127.0.0.1, no dashboard) is started, then timed:
``lk.batch(manifest, fresh_outdir, scheduler=<that cluster>)``, every row checked (a fresh
output folder, nothing skipped), the reports, summary and index written.  The cluster's
start is timed apart (``start_s``): it is paid once per batch, not per row.

Reported per worker count: the 1-minute load average before the batch (other processes
on the machine make the wall times meaningless when it exceeds the cores), the workers'
CPU seconds per row and rows per CPU-minute (insensitive to that load), wall seconds, rows
per minute (with and without the cluster's start), the median seconds of one row on its
worker, and each worker's peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``
read in the worker after the batch: the largest it ever was, imports included).  A worker
count given twice (``--workers 1,2,1,2``) is timed twice, interleaved; ``speedup`` is the
median rows/min of the largest worker count over that of the smallest.

Run ``python benchmarks/batch.py`` (``--quick`` for CI, ``--rows 20`` to shorten); results
go to ``benchmarks/results/batch.json`` (``batch-quick.json``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import metadata, write_result
from benchmarks.compare import FPS, Case, scenario_doc

import layoutkit as lk


def _peak_rss_mib() -> float:
    """Return this process's peak resident memory in MiB (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """Return this process's CPU seconds (user + system)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_rows(folder: Path, *, rows: int, distinct: int, seconds: int,
              size: tuple[int, int]) -> tuple[Path, float]:
    """Record ``distinct`` recordings and write their scenarios and a manifest.

    The manifest has ``rows`` rows naming the recordings in turn; returns (manifest,
    seconds spent recording).
    """
    case = Case("batch", size, 4, seconds, seconds)
    start = time.perf_counter()
    for i in range(distinct):
        doc = scenario_doc(case, seconds)
        (folder / f"s{i}.json").write_text(json.dumps(doc))
        lk.mix(folder / f"s{i}.json", folder / f"r{i}")
    made = time.perf_counter() - start
    lines = ["recording,scenario"] + [f"r{i % distinct},s{i % distinct}.json"
                                      for i in range(rows)]
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest, made


def run_workers(manifest: Path, out_dir: Path, workers: int) -> dict[str, Any]:
    """One timed batch on a fresh local cluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None,
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)
        started = time.perf_counter() - start
        cpu0 = sum(client.run(_cpu_s).values())
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        result = lk.batch(manifest, out_dir, scheduler=cluster.scheduler_address, force=True)
        wall = time.perf_counter() - t0
        cpu = sum(client.run(_cpu_s).values()) - cpu0
        peaks = client.run(_peak_rss_mib)
    if not result.matches:
        msg = f"a row did not match: {[r for r in result.rows if r.verdict != 'match'][:3]}"
        raise AssertionError(msg)
    n = len(result.rows)
    return {"workers": workers, "rows": n, "start_s": round(started, 2),
            "wall_s": round(wall, 2), "rows_per_min": round(n / wall * 60, 1),
            "rows_per_min_with_start": round(n / (wall + started) * 60, 1),
            "row_median_s": round(statistics.median(r.seconds for r in result.rows), 3),
            "worker_cpu_s_per_row": round(cpu / n, 3),
            "rows_per_cpu_min": round(n / cpu * 60, 1) if cpu else None,
            "load_average_before": round(load, 2),
            "peak_rss_mib_per_worker": sorted(round(v, 1) for v in peaks.values())}


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=None, help="manifest rows (100)")
    parser.add_argument("--seconds", type=int, default=None,
                        help="seconds per recording (20)")
    parser.add_argument("--distinct", type=int, default=10,
                        help="distinct recordings the rows name in turn (10)")
    parser.add_argument("--size", type=_size, default=(640, 360), help="WxH (640x360)")
    parser.add_argument("--workers", default="1,2", help="worker counts to time (1,2)")
    parser.add_argument("--quick", action="store_true", help="8 rows of 5 s (CI)")
    args = parser.parse_args(argv)
    args.rows = args.rows or (8 if args.quick else 100)
    args.seconds = args.seconds or (5 if args.quick else 20)
    args.distinct = max(1, min(args.distinct, args.rows))
    args.workers = [int(w) for w in args.workers.split(",")]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="layoutkit-bench-batch-") as tmp:
        folder = Path(tmp)
        manifest, made = make_rows(folder, rows=args.rows, distinct=args.distinct,
                                   seconds=args.seconds, size=args.size)
        print(f"{args.distinct} recordings of {args.seconds} s at "
              f"{args.size[0]}x{args.size[1]}@{FPS} made in {made:.1f} s; "
              f"{args.rows} rows", flush=True)
        results = []
        for i, workers in enumerate(args.workers):
            res = run_workers(manifest, folder / f"out-{i}-{workers}", workers)
            results.append(res)
            print(f"workers {workers}: {res['wall_s']:7.1f} s  {res['rows_per_min']:6.1f} "
                  f"rows/min ({res['rows_per_min_with_start']:.1f} with the cluster's "
                  f"{res['start_s']:.1f} s start)  row median {res['row_median_s']:.2f} s  "
                  f"peak RSS/worker {res['peak_rss_mib_per_worker']} MiB  "
                  f"{res['worker_cpu_s_per_row']:.2f} worker CPU s/row "
                  f"(load {res['load_average_before']})", flush=True)
    by_workers: dict[int, list[float]] = {}
    for res in results:
        by_workers.setdefault(res["workers"], []).append(res["rows_per_min"])
    low, high = min(by_workers), max(by_workers)
    speedup = statistics.median(by_workers[high]) / statistics.median(by_workers[low])
    payload = metadata(case={"rows": args.rows, "seconds": args.seconds,
                             "distinct_recordings": args.distinct,
                             "size": f"{args.size[0]}x{args.size[1]}", "fps": FPS,
                             "users": 4},
                       results=results,
                       speedup=round(speedup, 2) if speedup else None)
    path = write_result("batch-quick" if args.quick else "batch", payload)
    print(f"speedup {high} vs {low} workers: {speedup:.2f}x; wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
