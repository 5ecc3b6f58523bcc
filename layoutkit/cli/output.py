"""What the command line prints for problems and compare results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import IO, Any

from ..cloudfiles.parse import printable
from ..comparison.model import CATEGORIES, MAX_JSON_PER_KIND, CompareResult
from ..errors import RequestError

__all__ = [
    "TEXT_PER_KIND",
    "print_compare",
    "print_problems",
    "print_request_error",
    "verdict_line",
]

#: Differences of one kind printed by ``compare`` (the rest are counted on one line).
TEXT_PER_KIND = 10


def print_problems(problems: Sequence[Any], err: IO[str], *, source: Any = None) -> None:
    """One line per problem; prefixed ``FILE: `` (as compilers do) when ``source`` is given."""
    prefix = f"{source}: " if source else ""
    for problem in problems:
        print(f"{prefix}{problem}", file=err)


def print_request_error(exc: RequestError, err: IO[str]) -> None:
    """Print a refused document's problems named by file, then a count saying what "code 2" is."""
    print_problems((*exc.warnings, *exc.problems), err, source=exc.source)
    count = len(exc.problems)
    print(f"{exc.source}: {count} problem{'s' if count != 1 else ''} "
          "(Agora error code 2: invalid parameter)", file=err)


def verdict_line(result: CompareResult) -> str:
    """Return the verdict line of a compare result.

    E.g. ``verdict: differ: 2 files, 0 streams, 1 content (offset +0.000 s)``: the
    verdict, the differences per judged category when there are any, the offset; when the
    files are not judged (``--content-only``, a single file), how many file differences
    were left aside.
    """
    offset = "unknown" if result.offset_s is None else f"{result.offset_s:+.3f} s"
    counts = result.counts()
    listed = ", ".join(f"{n} {printable(c)}" for c, n in counts.items())
    aside = ""
    if "files" not in result.judged:
        n = len(result.not_judged)
        aside = f"; files not judged, {n} difference{'s' if n != 1 else ''}"
    head = f"verdict: {printable(result.verdict)}"
    if any(counts.values()):
        head += f": {listed}"
    return f"{head} (offset {offset}{aside})"


def _print_group(title: str, differences: Sequence[Any], out: IO[str]) -> None:
    """Print a category's heading, then its differences one a line.

    At most :data:`TEXT_PER_KIND` of each kind are printed, the rest counted.
    """
    if not differences:
        return
    print(f"{title}: {len(differences)}", file=out)
    seen: Counter[str] = Counter()
    for diff in differences:
        seen[diff.kind] += 1
        if seen[diff.kind] > TEXT_PER_KIND:
            continue
        when = "" if diff.t is None else f" at {diff.t:.2f} s"
        print(f"  {printable(diff.kind)}{when}: {printable(diff.message)}", file=out)
    for kind, n in seen.items():
        if n > TEXT_PER_KIND:
            print(f"  ... and {n - TEXT_PER_KIND} more {printable(kind)} ({TEXT_PER_KIND} of "
                  f"{n} shown; --json lists up to {MAX_JSON_PER_KIND} of each kind)", file=out)


def print_compare(result: CompareResult, out: IO[str]) -> None:
    """Print a compare result for people.

    The verdict line (:func:`verdict_line`) first, how the offset was found (the
    alignment's method, confidence and measure), then the events the recording shows, each
    with its fitted time beside the scenario's, then the differences grouped by category
    (``files``, ``streams``, ``content``), then the file differences that were
    not judged, then what --infer found.  Every text passes through
    :func:`~layoutkit.cloudfiles.parse.printable`: a name from the recording cannot move
    the cursor, retitle the terminal or fake a line.
    """
    print(verdict_line(result), file=out)
    if result.alignment:
        print(f"  aligned by {printable(result.alignment['summary'])}", file=out)
    if result.error:
        print(f"  cannot analyse: {printable(result.error)}", file=out)
    seen = [e for e in result.events if e.seen]
    if seen:
        print("events:", file=out)
        for event in seen:
            print(f"  {printable(event.line())}", file=out)
    for category in CATEGORIES:
        _print_group(category, [d for d in result.differences if d.category == category], out)
    _print_group("files, not judged", result.not_judged, out)
    _print_group("warnings (not counted)", getattr(result, "warnings", ()), out)
    if result.infer:
        print("infer:", file=out)
        for key, value in result.infer.items():
            print(f"  {printable(key)} = {printable(value)}", file=out)
