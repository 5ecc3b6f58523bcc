"""``layoutkit`` command line: each subcommand parses its arguments and calls the library.

Exit codes (docs/getting-started.md): 0 success / match, 1 invalid input or mismatch, 2 usage error.
The package: :mod:`.parser` (subcommands, options, examples), :mod:`.output` (what is
printed), and the commands by what they work on: :mod:`.stills` (validate, layout, preview,
profiles), :mod:`.recording` (mix, upload), :mod:`.tools` (compare, ffmpeg, testsrc, demo,
design), :mod:`.events` (scenario from-events, events listen), :mod:`.batch` (batch),
:mod:`.serve` (serve).
Only this package knows flags and exit codes and raises ``UsageError``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import IO

from ..errors import LayoutkitError, OutputExistsError, RequestError, UsageError
from .batch import cmd_batch
from .events import cmd_events, cmd_scenario
from .output import print_problems, print_request_error
from .parser import EXAMPLES, build_parser
from .recording import cmd_mix, cmd_upload
from .serve import cmd_serve
from .stills import cmd_layout, cmd_preview, cmd_profiles, cmd_validate
from .tools import cmd_compare, cmd_demo, cmd_design, cmd_ffmpeg, cmd_samples, cmd_testsrc

__all__ = ["EXAMPLES", "build_parser", "main"]


_COMMANDS = {
    "validate": cmd_validate,
    "layout": cmd_layout,
    "preview": cmd_preview,
    "mix": cmd_mix,
    "upload": cmd_upload,
    "compare": cmd_compare,
    "batch": cmd_batch,
    "ffmpeg": cmd_ffmpeg,
    "testsrc": cmd_testsrc,
    "demo": cmd_demo,
    "samples": cmd_samples,
    "profiles": cmd_profiles,
    "design": cmd_design,
    "scenario": cmd_scenario,
    "events": cmd_events,
    "serve": cmd_serve,
}


def main(argv: Sequence[str] | None = None, *, out: IO[str] | None = None,
         err: IO[str] | None = None) -> int:
    """Run the command line; returns the exit code (never raises for bad input)."""
    _escape_undecodable(out, err)
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _run(list(argv) if argv is not None else sys.argv[1:], out, err)
    except OutputExistsError as exc:  # the library speaks Python; the command line adds its flag
        print(f"{exc}; pass --force to replace it", file=err)
        return 2
    except RequestError as exc:
        if exc.source is None:
            print_problems(exc.warnings, err)
            print(str(exc), file=err)
        else:
            print_request_error(exc, err)
        return exc.exit_code
    except LayoutkitError as exc:
        print_problems(getattr(exc, "warnings", ()), err)
        print(str(exc), file=err)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130
    except Exception as exc:  # never a traceback for the user (LAYOUTKIT_DEBUG=1 shows it)
        if os.environ.get("LAYOUTKIT_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc} "
              "(please report it; set LAYOUTKIT_DEBUG=1 for details)", file=err)
        return 1


def _escape_undecodable(out: IO[str] | None, err: IO[str] | None) -> None:
    """File names with undecodable bytes print escaped on the standard streams, never fail."""
    for given, stream in ((out, sys.stdout), (err, sys.stderr)):
        if given is None:
            with contextlib.suppress(AttributeError, ValueError):
                stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


def _check_text(argv: Sequence[str]) -> None:
    """Refuse an argument that is not valid text (naming it, escaped)."""
    for i, arg in enumerate(argv):
        try:
            os.fsencode(arg)
        except UnicodeError:
            msg = (f"argument {i + 1} is not valid text "
                   f"({arg.encode('utf-8', 'backslashreplace').decode()})")
            raise UsageError(msg) from None


def _run(argv: list[str], out: IO[str], err: IO[str]) -> int:
    """Parse ``argv`` and run its subcommand; its warnings printed after it."""
    parser = build_parser()
    _check_text(argv)
    args = parser.parse_args(argv)
    if args.version:
        from .. import __version__

        print(f"layoutkit {__version__}", file=out)
        return 0
    if not args.command:
        parser.print_help(out)
        return 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code: int = _COMMANDS[args.command](args, out, err)
    for w in caught:
        print(f"warning: {w.message}", file=err)
    return code
