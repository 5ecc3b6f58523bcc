"""What the command line prints for problems and compare results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

__all__ = ["print_problems", "print_request_error", "print_compare"]


def print_problems(problems: Sequence[Any], err: IO[str], *, source: Any = None) -> None:
    """One line per problem; prefixed ``FILE: `` (as compilers do) when ``source`` is given."""
    prefix = f"{source}: " if source else ""
    for problem in problems:
        print(f"{prefix}{problem}", file=err)


def print_request_error(exc: Any, err: IO[str]) -> None:
    """A refused document: its lines named by file, then a count saying what "code 2" is."""
    print_problems((*exc.warnings, *exc.problems), err, source=exc.source)
    count = len(exc.problems)
    print(f"{exc.source}: {count} problem{'s' if count != 1 else ''} "
          "(Agora error code 2: invalid parameter)", file=err)


def print_compare(result: Any, out: IO[str]) -> None:
    """The verdict first, then every difference on one line, then what --infer found."""
    offset = "unknown" if result.offset_s is None else f"{result.offset_s:+.3f} s"
    print(f"verdict: {result.verdict} (offset {offset}, {len(result.differences)} "
          f"difference{'s' if len(result.differences) != 1 else ''})", file=out)
    if result.error:
        print(f"  cannot analyse: {result.error}", file=out)
    for diff in result.differences:
        when = "" if diff.t is None else f" at {diff.t:.2f} s"
        print(f"  {diff.kind}{when}: {diff.message}", file=out)
    if result.infer:
        print("infer:", file=out)
        for key, value in result.infer.items():
            print(f"  {key} = {value}", file=out)
