"""``batch``: many recordings checked against their scenarios, one Dask task per row."""

from __future__ import annotations

import argparse
from typing import IO

from ..cloudfiles.parse import printable

__all__ = ["cmd_batch"]


def cmd_batch(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run the batch; print one line per row that did not match, then the totals.

    Exit 0 when every row matches, 1 otherwise.
    """
    from ..batches import batch
    from ..errors import UsageError

    if args.scheduler is not None and args.workers is not None:
        raise UsageError("--workers sizes the local cluster; with --scheduler the cluster's "
                         "own workers run the rows (start more of them there)")
    result = batch(args.manifest, args.output, scheduler=args.scheduler,
                   workers=args.workers, force=args.force,
                   progress=not args.quiet and err.isatty())
    for row in result.rows:
        if row.verdict != "match":
            why = row.error or " ".join(f"{k}:{n}" for k, n in row.kinds.items())
            print(f"row {row.row} ({printable(row.recording)}): {printable(row.verdict)}: "
                  f"{printable(why)}", file=out)
    counts = result.counts()
    line = (f"{len(result.rows)} rows: {counts['match']} match, {counts['differ']} differ, "
            f"{counts['error']} error")
    if result.skipped:
        line += (f"; {result.skipped} unchanged since the last run, not checked again "
                 "(--force checks them)")
    print(line, file=out)
    print(f"wrote {result.out_dir / 'index.html'}", file=out)
    return 0 if result.matches else 1
