"""``mix`` and ``upload``: record a scenario (stopping cleanly on signals) and upload it."""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .output import print_problems
from .parser import profile_of

__all__ = ["cmd_mix", "cmd_upload"]


def cmd_mix(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``mix``: record a scenario (and upload it with ``--upload``).

    Returns 0, or 128 + the signal's number when a signal stopped the recording early (the
    files kept are whole).
    """
    from ..inputs import check_scenario_sources, load_scenario_file, scenario_lint
    from ..record import record

    profile = profile_of(args)
    uploader = None
    if args.upload:
        from ..io.s3 import parse_s3_url

        parse_s3_url(args.upload)  # a bad URL is a usage error before any work
    scenario = load_scenario_file(args.scenario)
    check_scenario_sources(scenario, args.scenario)  # as validate does; before any folder
    print_problems([*scenario.warnings,
                    *scenario_lint(scenario)], err, source=args.scenario)
    if args.upload:
        from ..io.s3 import parse_s3_url, uploader_from_storage_config
        from ..request.model import StorageConfig

        bucket, prefix = parse_s3_url(args.upload)
        uploader = uploader_from_storage_config(scenario.start.storage_config or StorageConfig(),
                                                bucket_override=bucket, prefix=prefix)
    from ..io.paths import output_folder

    output_folder(args.output)  # a file, a broken link or a read-only place: said now
    stop = threading.Event()
    with _stop_on_signals(stop) as caught:
        result = record(scenario, args.output, profile=profile,
                        overwrite=args.force, quiet=args.quiet, stop=stop)
    if result.removed:
        print(f"removed {len(result.removed)} file(s) of an earlier or killed run: "
              + ", ".join(p.name for p in result.removed[:5])
              + (", ..." if len(result.removed) > 5 else ""), file=err)
    if result.interrupted:
        name = _signal_name(caught[0]) if caught else "a stop request"
        print(f"interrupted by {name}: recorded {float(result.duration):g} s "
              f"({result.frames} frames) of {float(scenario.duration):g} s; kept these whole "
              f"files (the playlist ends with #EXT-X-ENDLIST), sid {result.sid}, "
              f"into {result.folder}/", file=err)
        for key in result.keys:
            print(f"  {key}", file=err)
        if uploader is not None:
            print(f"not uploaded; to upload it: layoutkit upload {args.output} {args.upload}",
                  file=err)
        return 128 + caught[0] if caught else 130
    print(f"recorded {float(result.duration):g} s ({result.frames} frames), sid {result.sid}, "
          f"into {result.folder}/", file=out)
    for key in result.keys:
        print(f"  {key}", file=out)
    if uploader is not None:
        from ..record.upload import mark_uploaded

        uploaded = uploader.upload_tree(Path(args.output), list(result.keys))
        mark_uploaded(args.output)
        print(f"uploaded {len(uploaded)} files to {uploader.url()}", file=out)
    return 0


def _signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[list[int]]:
    """Let SIGINT, SIGTERM and SIGHUP set ``stop`` while recording.

    The recorder then finishes its files; a second signal interrupts at once. Yields the
    signals caught.
    """
    import signal

    caught: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        caught.append(signum)
        stop.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            # a signal the caller ignores stays ignored (nohup, background jobs)
            if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
                previous[number] = signal.signal(number, handler)
    try:
        yield caught
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def cmd_upload(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``upload``: put a finished local recording on S3-compatible storage; 0."""
    from ..io.s3 import parse_s3_url
    from ..record.upload import upload_recording

    parse_s3_url(args.url)  # a bad URL is a usage error
    keys = upload_recording(args.recording, args.url)
    print(f"uploaded {len(keys)} files to {args.url.rstrip('/')}", file=out)
    for key in keys:
        print(f"  {key}", file=out)
    return 0
