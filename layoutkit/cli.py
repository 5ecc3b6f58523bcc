"""``layoutkit`` command line: each subcommand parses its arguments and calls the library.

Exit codes (contract 3.2): 0 success / match, 1 invalid input or mismatch, 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from .enums import LayoutMode, RenderMode
from .errors import LayoutkitError, OutputExistsError, ParameterError, RequestError, UsageError

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        msg = f"{self.prog}: {message}"
        raise UsageError(msg)


def _size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    digits = (w + h).isascii() and w.isdigit() and h.isdigit()
    if not sep or not digits or int(w) < 1 or int(h) < 1:
        msg = f"size must be WIDTHxHEIGHT in pixels, e.g. 640x360 (got {text!r})"
        raise argparse.ArgumentTypeError(msg)
    return (int(w), int(h))


def _users(text: str) -> list[str]:
    from .request.parse import uid_problem

    text = text.strip()
    if text.isascii() and text.isdigit() and "," not in text and len(text) <= 3:
        return [str(i) for i in range(1, int(text) + 1)]
    uids = [u.strip() for u in text.split(",") if u.strip()]
    for uid in uids:
        problem = uid_problem(uid)
        if problem:
            msg = f"--users: {uid!r}: {problem}"
            raise argparse.ArgumentTypeError(msg)
    if len(set(uids)) != len(uids):
        msg = f"--users: a uid is listed twice (got {text!r})"
        raise argparse.ArgumentTypeError(msg)
    return uids


def _profile(args: argparse.Namespace) -> Any:
    """The behaviour profile of ``--profile KEY=VALUE`` options."""
    from .profile import parse_profile_options


    try:
        return parse_profile_options(args.profile)
    except ParameterError as exc:
        raise UsageError(f"--profile: {exc}") from exc


def _add_profile(p: argparse.ArgumentParser) -> None:
    from .profile import PROFILE_CHOICES

    keys = ", ".join(f"{k} ({'|'.join(v)})" for k, v in PROFILE_CHOICES.items())
    p.add_argument("--profile", action="append", default=[], metavar="KEY=VALUE",
                   help="switch a behaviour choice where the sources disagree (repeatable; "
                        f"'layoutkit profiles' explains them): {keys}")


#: The examples each subcommand's --help ends with (all run by tests/test_cli_help.py).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "validate": ("layoutkit validate samples/start-bestfit-seed.json",
                 "layoutkit validate samples/scenario-demo.json --json"),
    "layout": ("layoutkit layout --mode vertical --users 5 --max-resolution-uid 3",
               "layoutkit layout samples/start-custom.json --json"),
    "preview": ("layoutkit preview samples/start-floating.json --users 4 -o floating.png",
                "layoutkit preview samples/start-bestfit-seed.json --sheet -o sheet.png",
                "layoutkit preview samples/scenario-demo.json --at 10.5 -o frame.png",
                "layoutkit preview samples/scenario-demo.json -o scenario.gif"),
    "mix": ("layoutkit mix samples/scenario-demo.json -o recording",
            "layoutkit mix samples/scenario-demo.json -o last-frame "
            "--profile after_stop=last_frame"),
    "upload": ("layoutkit upload recording s3://my-bucket/calls",),
    "compare": ("layoutkit compare samples/scenario-demo.json recording",
                "layoutkit compare samples/scenario-demo.json last-frame "
                "--profile after_stop=last_frame",
                "layoutkit compare samples/scenario-demo.json recording --infer "
                "--report report.html",
                "layoutkit compare samples/scenario-demo.json s3://my-bucket/calls --json"),
    "ffmpeg": ("layoutkit ffmpeg samples/start-bestfit-seed.json --input 1=u1.mp4 "
               "--input 2=u2.mp4 -o mixed.mp4",),
    "testsrc": ("layoutkit testsrc --uid 1001 --duration 10 -o 1001.mp4",
                "layoutkit testsrc --uid 5005 --duration 4 --size 320x180 --bitrate 100 "
                "--no-flash -o 5005.mp4"),
    "design": ("layoutkit design", "layoutkit design samples/start-custom.json --port 8765"),
    "profiles": ("layoutkit profiles", "layoutkit profiles --json"),
    "demo": ("layoutkit demo", "layoutkit demo -o my-demo"),
}


def _sub(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with its examples."""
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _Parser(prog="layoutkit", description=(
        "Preview, reproduce and check Agora Cloud Recording composite (mix) layouts."),
        epilog="run 'layoutkit SUBCOMMAND --help' for its options and examples; "
               "'layoutkit demo' runs everything on the bundled samples")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="SUBCOMMAND")

    p = _sub(sub, "validate", "check a start / updateLayout / ... body, or a scenario")
    p.add_argument("request", help="request JSON (whole body or just clientRequest) or scenario")
    p.add_argument("--kind", choices=["start", "updateLayout", "acquire", "update", "stop",
                                      "clientRequest"], help="body kind (default: detect)")
    p.add_argument("--json", action="store_true", help="print the normalized body with defaults")

    p = _sub(sub, "layout", "region geometry of a layout")
    p.add_argument("request", nargs="?", help="start or updateLayout JSON (optional)")
    p.add_argument("--mode", choices=LayoutMode.labels(),
                   help="mixedVideoLayout to use instead of the request's")
    p.add_argument("--users", type=_users, default=None, help="N, or uid,uid,... in join order")
    p.add_argument("--canvas", type=_size, default=None, help="WxH (default: request's or 360x640)")
    p.add_argument("--max-resolution-uid", default=None, metavar="UID",
                   help="vertical layout: the user in the large region")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_profile(p)

    p = _sub(sub, "preview", "PNG of a request's canvas, or a scenario's frames")
    p.add_argument("request", help="start / updateLayout JSON, or a scenario JSON")
    p.add_argument("--at", type=float, default=None, metavar="SECONDS",
                   help="scenario: the exact frame the recorder writes at this time")
    p.add_argument("--gif", action="store_true",
                   help="scenario: animated GIF of it all (same as -o NAME.gif)")
    p.add_argument("--mp4", action="store_true",
                   help="scenario: MP4 of it all (same as -o NAME.mp4)")
    p.add_argument("--users", type=_users, default=None,
                   help="N, or uid,uid,... in join order (default 4; with --sheet the join "
                        "order of the counts, default 1..17 less unsubscribed uids)")
    p.add_argument("--canvas", type=_size, default=None,
                   help="canvas WxH (default: the request's, else 360x640)")
    p.add_argument("--source-size", type=_size, default=None, help="users' video WxH (640x360)")
    p.add_argument("--sheet", action="store_true", help="every user count 1..17 on one image")
    p.add_argument("-o", "--output", default=None,
                   help="output file; its extension is the format: .png (a still), .gif or "
                        ".mp4 (a scenario's animation); default preview.png / sheet.png")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--annotate", action="store_true",
                   help="outline and label every region (index, uid, x,y,w,h, crop/fit, "
                        "state) and list what is not drawn in a margin")
    p.add_argument("--keep-flash", action="store_true",
                   help="--gif / --mp4: keep the test streams' once-a-second white flash")
    _add_profile(p)

    p = _sub(sub, "mix", "record a scenario: HLS + MP4 named like the cloud's files")
    p.add_argument("scenario", help="scenario JSON")
    p.add_argument("-o", "--output", required=True, help="folder for the recording")
    p.add_argument("--upload", default=None, metavar="s3://BUCKET[/PREFIX]",
                   help="also put the files on S3-compatible storage (AWS_ENDPOINT_URL etc.)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true", help="replace files of the same names")
    _add_profile(p)

    p = _sub(sub, "upload", "upload a finished local recording (what mix --upload "
                                      "does), e.g. to retry after a failed upload")
    p.add_argument("recording", help="the folder mix wrote into (with serverResponse.json)")
    p.add_argument("url", metavar="s3://BUCKET[/PREFIX]",
                   help="where to put the files (endpoint and keys: AWS_ENDPOINT_URL etc.)")

    p = _sub(sub, "compare", "check a (cloud) recording against the layout rules")
    p.add_argument("scenario", help="scenario JSON: what happened in the channel")
    p.add_argument("recording", help="folder, .m3u8, .ts or .mp4; local or s3://BUCKET/PREFIX")
    p.add_argument("--report", default=None, metavar="FILE.html",
                   help="also write a self-contained HTML report")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--infer", action="store_true",
                   help="tell which value of each --profile key the recording agrees with")
    p.add_argument("--server-response", default=None, metavar="FILE",
                   help="a saved stop response to check (default: found beside the files)")
    p.add_argument("--force", action="store_true", help="replace an existing report file")
    _add_profile(p)

    p = _sub(sub, "ffmpeg", "the FFmpeg command composing per-user files in a layout")
    p.add_argument("request", help="start or updateLayout JSON: the layout")
    p.add_argument("--input", action="append", default=[], metavar="UID=FILE", required=True,
                   help="a user's video file, in join order (repeatable)")
    p.add_argument("-o", "--output", required=True, help="the file FFmpeg writes (e.g. out.mp4)")
    p.add_argument("--canvas", type=_size, default=None, help="WxH (default: the request's)")
    p.add_argument("--fps", type=int, default=None, help="frames per second (the request's)")
    p.add_argument("--bitrate", type=int, default=None, help="video Kbps (the request's)")
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--no-audio", action="store_true", help="video only (no amix)")
    p.add_argument("--run", action="store_true",
                   help="run it (FFmpeg from the imageio-ffmpeg wheel) instead of printing it")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    _add_profile(p)

    p = _sub(sub, "testsrc", "write the identifying test stream of a uid as MP4")
    p.add_argument("--uid", required=True, help="the uid the stream identifies")
    p.add_argument("--duration", type=float, default=10.0, help="seconds (10)")
    p.add_argument("--size", type=_size, default=(640, 360), help="WxH, even (640x360)")
    p.add_argument("--fps", type=int, default=15, help="frames per second (15)")
    p.add_argument("--bitrate", type=int, default=1000, help="video Kbps (1000)")
    p.add_argument("--no-flash", action="store_true",
                   help="no white flash on whole seconds (a clip to watch; compare measures "
                        "A/V sync from the flash, so publish streams with it)")
    p.add_argument("-o", "--output", required=True, help="MP4 file")
    p.add_argument("--force", action="store_true", help="replace an existing output file")

    p = _sub(sub, "design", "a local web page to build a layout and see the frames")
    p.add_argument("request", nargs="?", help="start / updateLayout JSON or a scenario (optional)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="print the URL, open no browser")
    _add_profile(p)

    p = _sub(sub, "demo", "run the bundled samples end to end")
    p.add_argument("-o", "--output", default="layoutkit-demo",
                   help="folder for everything it makes (layoutkit-demo)")

    p = _sub(sub, "profiles", "list the behaviour choices (--profile KEY=VALUE) and their "
                              "values")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _print_problems(problems: Sequence[Any], err: IO[str], *, source: Any = None) -> None:
    """One line per problem; prefixed ``FILE: `` (as compilers do) when ``source`` is given."""
    prefix = f"{source}: " if source else ""
    for problem in problems:
        print(f"{prefix}{problem}", file=err)


def _print_request_error(exc: Any, err: IO[str]) -> None:
    """A refused document: its lines named by file, then a count saying what "code 2" is."""
    _print_problems((*exc.warnings, *exc.problems), err, source=exc.source)
    count = len(exc.problems)
    print(f"{exc.source}: {count} problem{'s' if count != 1 else ''} "
          "(Agora error code 2: invalid parameter)", file=err)


def _cmd_validate(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .inputs import (image_lint, is_scenario_file, load_request_file, load_scenario_file,
                         scenario_lint)
    from .request.dump import to_json
    from .request.lint import lint

    if args.kind is None and is_scenario_file(args.request):
        scenario = load_scenario_file(args.request)  # a scenario: its rules and its start body
        _print_problems([*scenario.warnings,
                         *scenario_lint(scenario), *image_lint(scenario)], err,
                        source=args.request)
        if args.json:
            json.dump(to_json(scenario.start), out, indent=2, ensure_ascii=False)
            out.write("\n")
        else:
            print(f"{args.request}: valid scenario ({len(scenario.users)} users, "
                  f"{len(scenario.events)} events, {float(scenario.duration):g} s)", file=out)
        return 0
    loaded = load_request_file(args.request, kind=args.kind)
    _print_problems([*loaded.warnings, *lint(loaded.model), *image_lint(loaded.model)], err,
                    source=loaded.path)
    if args.json:
        json.dump(to_json(loaded.model), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        print(f"{args.request}: valid {type(loaded.model).__name__}", file=out)
    return 0


def _layout_inputs(args: argparse.Namespace) -> tuple[Any, tuple[int, int], Any]:
    """Layout settings, canvas and the loaded request (or None) for layout/preview."""
    from dataclasses import replace

    from .request.model import LayoutSettings

    loaded = None
    settings = LayoutSettings()
    canvas = (360, 640)
    if args.request:
        from .inputs import load_request_file

        loaded = load_request_file(args.request)
        settings = loaded.layout
        canvas = loaded.canvas_wh or canvas
    if getattr(args, "mode", None):
        mode = LayoutMode.from_label(args.mode)
        if mode == LayoutMode.CUSTOM and not settings.layout_config:
            msg = "--mode custom needs a request with layoutConfig"
            raise UsageError(msg)
        settings = replace(settings, mixed_video_layout=mode)
    if getattr(args, "max_resolution_uid", None):
        settings = replace(settings, max_resolution_uid=args.max_resolution_uid)
    if args.canvas:
        canvas = args.canvas
    return settings, canvas, loaded


def _cmd_layout(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .layout import compute_regions

    profile = _profile(args)
    settings, canvas, loaded = _layout_inputs(args)
    if loaded:
        _print_problems(loaded.warnings, err, source=loaded.path)
    users = args.users if args.users is not None else [str(i) for i in range(1, 5)]
    regions = compute_regions(settings, users, canvas_wh=canvas, profile=profile)
    if args.json:
        json.dump(regions.to_json(), out, indent=2)
        out.write("\n")
        return 0
    print(f"canvas {canvas[0]}x{canvas[1]}, mixedVideoLayout {settings.mixed_video_layout}, "
          f"{len(users)} user(s), paint order bottom first", file=out)
    print(f"{'z':>3} {'uid':>12} {'x':>6} {'y':>6} {'width':>6} {'height':>6} "
          f"{'mode':>5} {'alpha':>6}", file=out)
    items: list[dict[str, Any]] = regions.to_json()["regions"]  # type: ignore[assignment]
    for item in items:
        mode = RenderMode(item["render_mode"]).label
        print(f"{item['z']:>3} {str(item['uid'] or '-'):>12} {item['x']:>6} {item['y']:>6} "
              f"{item['width']:>6} {item['height']:>6} {mode:>5} {item['alpha']:>6}", file=out)
    return 0


_FORMATS = {".png": "png", ".gif": "gif", ".mp4": "mp4"}


def _preview_format(args: argparse.Namespace, *, scenario: bool) -> tuple[str, str]:
    """``(format, output)`` of a preview: the output's extension is the format; the flags
    must agree with it (a mismatch is refused, never written under the wrong name)."""
    flags = [f for f, on in (("png", args.at is not None), ("gif", args.gif),
                             ("mp4", args.mp4)) if on]
    if len(flags) > 1:
        raise UsageError("a scenario preview takes one of --at SECONDS, --gif or --mp4")
    if args.output is None:
        kind = flags[0] if flags else "png"
        default = "sheet" if getattr(args, "sheet", False) else "preview"
        return kind, f"{default}.{kind}"
    suffix = Path(args.output).suffix.lower()
    if suffix not in _FORMATS:
        raise UsageError(f"-o {args.output}: name the format with the extension "
                         f"(.png, .gif or .mp4)")
    kind = _FORMATS[suffix]
    if flags and flags[0] != kind:
        flag = "--at" if flags[0] == "png" else f"--{flags[0]}"
        raise UsageError(f"-o {args.output}: a {suffix} file, but {flag} makes "
                         f"{'a PNG still' if flags[0] == 'png' else flags[0].upper()}")
    if not scenario and kind != "png":
        raise UsageError(f"-o {args.output}: a request preview is a still (.png); "
                         f"animations (.gif, .mp4) are of a scenario file")
    return kind, args.output


def _cmd_profiles(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .profile import DEFAULT_PROFILE, PROFILE_MEANINGS

    if args.json:
        json.dump({key: {"question": question, "default": getattr(DEFAULT_PROFILE, key),
                         "values": values} for key, (question, values)
                   in PROFILE_MEANINGS.items()}, out, indent=2)
        out.write("\n")
        return 0
    print("Behaviour choices where the sources disagree; switch one with "
          "--profile KEY=VALUE.\ncompare --infer tells which value a real recording follows.",
          file=out)
    for key, (question, values) in PROFILE_MEANINGS.items():
        print(f"\n{key}: {question}", file=out)
        for value, meaning in values.items():
            mark = " (default)" if value == getattr(DEFAULT_PROFILE, key) else ""
            print(f"  {value}{mark}: {meaning}", file=out)
    return 0


def _cmd_preview(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .io.atomic import check_writable
    from .io.png import write_png
    from .stills import DEFAULT_SOURCE_WH, contact_sheet

    profile = _profile(args)
    from .inputs import is_scenario_file

    if is_scenario_file(args.request):
        return _preview_scenario(args, profile, out, err)
    if args.at is not None or args.gif or args.mp4:
        msg = "--at, --gif and --mp4 take a scenario file (with users and events)"
        raise UsageError(msg)
    _, output = _preview_format(args, scenario=False)
    check_writable(output, overwrite=args.force)
    settings, canvas, loaded = _layout_inputs(args)
    _print_problems(loaded.warnings if loaded else (), err, source=loaded and loaded.path)
    from .inputs import background_image_of

    background = background_image_of(settings, base_dir=loaded.base_dir if loaded else None,
                                     canvas_wh=canvas)
    from .annotate import default_users

    config = getattr(loaded.model, "recording_config", None) if loaded else None
    users = args.users if args.users is not None else default_users(config)
    source_wh = args.source_size or DEFAULT_SOURCE_WH
    sizes = {uid: source_wh for uid in users}
    if args.sheet:
        from .annotate import sheet_users, subscribed_split

        order = subscribed_split(config, args.users)[0] if args.users else sheet_users(config)
        if not order:
            raise UsageError("--users: none of them is subscribed (subscribeVideoUids / "
                             "unSubscribeVideoUids), the sheet would be empty")
        image = contact_sheet(settings, canvas_wh=canvas, profile=profile, uids=order,
                              source_sizes={uid: source_wh for uid in order},
                              background_image=background)
    else:
        from .annotate import annotated_preview

        image = annotated_preview(settings, users, canvas_wh=canvas, profile=profile,
                                  source_sizes=sizes, background_image=background,
                                  config=config, annotate=args.annotate)
    write_png(image, output, overwrite=args.force)
    print(f"wrote {output} ({image.shape[1]}x{image.shape[0]})", file=out)
    return 0


def _preview_scenario(args: argparse.Namespace, profile: Any, out: IO[str],
                      err: IO[str]) -> int:
    from fractions import Fraction

    from .inputs import load_scenario_file
    from .io.atomic import check_writable
    from .render import SceneRenderer

    if args.sheet or args.users or args.canvas or args.source_size:
        msg = "--sheet, --users, --canvas and --source-size are for request previews"
        raise UsageError(msg)
    kind, output = _preview_format(args, scenario=True)
    if kind == "png" and args.at is None:
        raise UsageError("a scenario's still needs --at SECONDS (or -o NAME.gif / NAME.mp4 "
                         "for the whole scenario)")
    check_writable(output, overwrite=args.force)
    scenario = load_scenario_file(args.request)
    _print_problems(scenario.warnings, err, source=args.request)
    with SceneRenderer(scenario, profile=profile,
                       flash=kind == "png" or args.keep_flash) as renderer:
        if kind == "png":
            if not math.isfinite(args.at):
                msg = f"--at {args.at}: must be a finite number of seconds"
                raise UsageError(msg)
            t = Fraction(str(args.at))
            if not 0 <= t < renderer.timeline.end_time:
                msg = (f"--at {args.at}: outside the recording "
                       f"[0, {float(renderer.timeline.end_time):g}) s")
                raise UsageError(msg)
            from .io.png import write_png

            frame = renderer.frame_at(t)
            from .annotate import annotate_frame, frame_warnings, warn_all

            if args.annotate:
                warn_all(frame_warnings(frame))
            write_png(annotate_frame(frame) if args.annotate else frame.rgb(), output,
                      overwrite=args.force)
            states = ", ".join(f"{v.uid} {v.state.value}" for v in frame.scene.views)
            print(f"wrote {output}: t={args.at:g} s, {states or 'nobody displayed'}", file=out)
            return 0
        from .animate import write_gif, write_mp4

        writer = write_gif if kind == "gif" else write_mp4
        count = writer(renderer, output, overwrite=args.force, annotate=args.annotate)
    print(f"wrote {output} ({count} frames)", file=out)
    return 0


def _cmd_mix(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .inputs import load_scenario_file, scenario_lint
    from .record import record

    profile = _profile(args)
    uploader = None
    if args.upload:
        from .io.s3 import parse_s3_url

        parse_s3_url(args.upload)  # a bad URL is a usage error before any work
    scenario = load_scenario_file(args.scenario)
    _print_problems([*scenario.warnings,
                     *scenario_lint(scenario)], err, source=args.scenario)
    if args.upload:
        from .io.s3 import parse_s3_url, uploader_from_storage_config
        from .request.model import StorageConfig

        bucket, prefix = parse_s3_url(args.upload)
        uploader = uploader_from_storage_config(scenario.start.storage_config or StorageConfig(),
                                                bucket_override=bucket, prefix=prefix)
    from .io.paths import output_folder

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
        from .record.upload import mark_uploaded

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
    """While recording, SIGINT, SIGTERM and SIGHUP set ``stop`` (the recorder then finishes
    its files); a second signal interrupts at once. Yields the signals caught."""
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


def _cmd_upload(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .io.s3 import parse_s3_url
    from .record.upload import upload_recording

    parse_s3_url(args.url)  # a bad URL is a usage error
    keys = upload_recording(args.recording, args.url)
    print(f"uploaded {len(keys)} files to {args.url.rstrip('/')}", file=out)
    for key in keys:
        print(f"  {key}", file=out)
    return 0


def _cmd_compare(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .api import compare
    from .inputs import load_scenario_file
    from .io.atomic import check_writable

    profile = _profile(args)
    if args.report:
        check_writable(args.report, overwrite=args.force)
    scenario = load_scenario_file(args.scenario)
    _print_problems(scenario.warnings, err, source=args.scenario)
    result = compare(scenario, args.recording, profile=profile, infer=args.infer,
                     server_response=args.server_response, report=args.report,
                     overwrite=args.force)
    if args.json:
        json.dump(result.to_json(), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    else:
        _print_compare(result, out)
    if args.report:
        print(f"wrote {args.report}", file=err if args.json else out)
    return 0 if result.verdict == "match" else 1


def _print_compare(result: Any, out: IO[str]) -> None:
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


def _cmd_ffmpeg(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    import shlex
    import subprocess

    from .ffmpeg_graph import ffmpeg_command
    from .inputs import load_request_file
    from .io.atomic import check_writable
    from .io.decode import has_stream, probe_video_size
    from .request.model import StartRequest, TranscodingConfig

    profile = _profile(args)
    inputs: dict[str, str] = {}
    for item in args.input:
        uid, sep, path = item.partition("=")
        if not sep or not uid.strip() or not path:
            raise UsageError(f"--input takes UID=FILE (got {item!r})")
        inputs[uid.strip()] = path
    loaded = load_request_file(args.request)
    _print_problems(loaded.warnings, err, source=loaded.path)
    model = loaded.model
    tc = model.transcoding if isinstance(model, StartRequest) else TranscodingConfig()
    layout = loaded.layout
    sizes = {uid: probe_video_size(path) for uid, path in inputs.items()}
    audio = not args.no_audio and all(has_stream(path, "audio") for path in inputs.values())
    image = None
    if layout.background_image:
        from .io.images import load_image, resolve_location

        if load_image(layout.background_image, base_dir=loaded.base_dir) is not None:
            image = resolve_location(layout.background_image, base_dir=loaded.base_dir)
    program = "ffmpeg"
    if args.run:
        check_writable(args.output, overwrite=args.force)
        import imageio_ffmpeg

        program = imageio_ffmpeg.get_ffmpeg_exe()
    cmd = ffmpeg_command(layout, inputs, args.output, canvas_wh=args.canvas or tc.canvas_wh,
                         fps=args.fps or tc.fps, bitrate_kbps=args.bitrate or tc.bitrate,
                         sizes=sizes, profile=profile, audio=audio,
                         audio_profile=model.recording_config.audio_profile
                         if isinstance(model, StartRequest) else 0,
                         duration=args.duration, background_image=image, ffmpeg=program,
                         overwrite=args.force)
    if not args.run:
        print(shlex.join(cmd), file=out)
        return 0
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        tail = "\n".join(run.stderr.strip().splitlines()[-5:])
        print(f"ffmpeg failed (exit {run.returncode}):\n{tail}", file=err)
        return 1
    print(f"wrote {args.output}", file=out)
    return 0


def _cmd_testsrc(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .teststream import write_testsrc
    from .request.parse import uid_problem

    problem = uid_problem(args.uid)
    if problem:
        msg = f"--uid: {problem} (got {args.uid!r})"
        raise UsageError(msg)
    if not 0 < args.duration <= 24 * 3600 or not 1 <= args.fps <= 60 or args.bitrate < 1:
        msg = "--duration must be in (0, 86400] s, --fps in 1..60, --bitrate >= 1"
        raise UsageError(msg)
    from .teststream import MAX_SIDE

    if max(args.size) > MAX_SIDE:
        msg = f"--size: each side must be at most {MAX_SIDE} (got {args.size[0]}x{args.size[1]})"
        raise UsageError(msg)
    write_testsrc(args.output, uid=args.uid, duration=args.duration, size_wh=args.size,
                  fps=args.fps, bitrate_kbps=args.bitrate, flash=not args.no_flash,
                  overwrite=args.force)
    print(f"wrote {args.output}: uid {args.uid}, {args.duration:g} s, "
          f"{args.size[0]}x{args.size[1]} @ {args.fps} fps", file=out)
    return 0


def _cmd_demo(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .demo import run_demo

    try:
        run_demo(Path(args.output), out=out)
    except OutputExistsError as exc:
        msg = f"{exc.path}: exists and was not made by layoutkit demo; choose another -o folder"
        raise UsageError(msg) from exc
    return 0


def _cmd_design(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .design import DesignServer, create_app

    if args.request is not None and not Path(args.request).is_file():
        msg = f"{args.request}: no such file"
        raise UsageError(msg)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535 (got {args.port})")
    app = create_app(args.request, profile=_profile(args))
    try:
        server = DesignServer(app, port=args.port)
    except OSError as exc:
        raise UsageError(f"--port {args.port}: cannot listen on 127.0.0.1 ({exc.strerror or exc}); "
                         "choose another port or leave --port out") from exc
    print(f"layoutkit design: {server.url}  (Ctrl-C stops it)", file=out, flush=True)
    if not args.no_browser:
        import webbrowser

        webbrowser.open(server.url)
    server.serve_forever()  # until Ctrl-C (werkzeug returns from it) and closes
    print("layoutkit design: stopped", file=out)
    return 0


_COMMANDS = {
    "validate": _cmd_validate,
    "layout": _cmd_layout,
    "preview": _cmd_preview,
    "mix": _cmd_mix,
    "upload": _cmd_upload,
    "compare": _cmd_compare,
    "ffmpeg": _cmd_ffmpeg,
    "testsrc": _cmd_testsrc,
    "demo": _cmd_demo,
    "profiles": _cmd_profiles,
    "design": _cmd_design,
}


def main(argv: Sequence[str] | None = None, *, out: IO[str] | None = None,
         err: IO[str] | None = None) -> int:
    """Run the command line; returns the exit code (never raises for bad input)."""
    for given, stream in ((out, sys.stdout), (err, sys.stderr)):
        if given is None:  # file names with undecodable bytes print escaped, never fail
            with contextlib.suppress(AttributeError, ValueError):
                stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        parser = build_parser()
        argv = list(argv) if argv is not None else sys.argv[1:]
        for i, arg in enumerate(argv):
            try:
                os.fsencode(arg)
            except UnicodeError:
                msg = (f"argument {i + 1} is not valid text "
                       f"({arg.encode('utf-8', 'backslashreplace').decode()})")
                raise UsageError(msg) from None
        args = parser.parse_args(argv)
        if args.version:
            from . import __version__

            print(f"layoutkit {__version__}", file=out)
            return 0
        if not args.command:
            parser.print_help(out)
            return 2
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = _COMMANDS[args.command](args, out, err)
        for w in caught:
            print(f"warning: {w.message}", file=err)
        return code
    except OutputExistsError as exc:  # the library speaks Python; the command line adds its flag
        print(f"{exc}; pass --force to replace it", file=err)
        return 2
    except RequestError as exc:
        if exc.source is None:
            _print_problems(exc.warnings, err)
            print(str(exc), file=err)
        else:
            _print_request_error(exc, err)
        return exc.exit_code
    except LayoutkitError as exc:
        _print_problems(getattr(exc, "warnings", ()), err)
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
