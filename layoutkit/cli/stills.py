"""``validate``, ``layout``, ``preview`` and ``profiles``: requests and scenarios looked at."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..enums import LayoutMode, RenderMode
from ..errors import UsageError
from .output import print_problems
from .parser import profile_of

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = ["cmd_layout", "cmd_preview", "cmd_profiles", "cmd_validate"]


def cmd_validate(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``validate``: check a request body or a scenario, print its problems; 0."""
    from ..inputs import (check_scenario_sources, image_lint, is_scenario_file,
                          load_request_file, load_scenario_file, scenario_lint)
    from ..request.dump import to_json
    from ..request.lint import lint

    if args.kind is None and is_scenario_file(args.request):
        scenario = load_scenario_file(args.request)  # a scenario: its rules and its start body
        check_scenario_sources(scenario, args.request)  # the files mix would refuse
        print_problems([*scenario.warnings,
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
    print_problems([*loaded.warnings, *lint(loaded.model), *image_lint(loaded.model)], err,
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

    from ..request.model import LayoutSettings

    loaded = None
    settings = LayoutSettings()
    canvas = (360, 640)
    if args.request:
        from ..inputs import load_request_file

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


def cmd_layout(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``layout``: print the regions of a layout (a table, or JSON); 0."""
    from ..layout import compute_regions

    profile = profile_of(args)
    settings, canvas, loaded = _layout_inputs(args)
    if loaded:
        print_problems(loaded.warnings, err, source=loaded.path)
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
        print(f"{item['z']:>3} {item['uid'] or '-'!s:>12} {item['x']:>6} {item['y']:>6} "
              f"{item['width']:>6} {item['height']:>6} {mode:>5} {item['alpha']:>6}", file=out)
    return 0


_FORMATS = {".png": "png", ".gif": "gif", ".mp4": "mp4"}


def _preview_format(args: argparse.Namespace, *, scenario: bool) -> tuple[str, str]:
    """Return ``(format, output)`` of a preview.

    The output's extension is the format; the flags must agree with it (a mismatch is
    refused, never written under the wrong name).
    """
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


def cmd_profiles(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``profiles``: list the behaviour choices, their values and defaults; 0."""
    from ..profile import DEFAULT_PROFILE, PROFILE_MEANINGS

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


def cmd_preview(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``preview``: write a request's canvas (PNG) or a scenario's frames (PNG, GIF, MP4); 0."""
    from ..io.atomic import check_writable
    from ..io.png import write_png
    from ..stills import DEFAULT_SOURCE_WH, contact_sheet

    profile = profile_of(args)
    from ..inputs import is_scenario_file

    if is_scenario_file(args.request):
        return _preview_scenario(args, profile, out, err)
    if args.at is not None or args.gif or args.mp4:
        msg = "--at, --gif and --mp4 take a scenario file (with users and events)"
        raise UsageError(msg)
    _, output = _preview_format(args, scenario=False)
    check_writable(output, overwrite=args.force)
    settings, canvas, loaded = _layout_inputs(args)
    print_problems(loaded.warnings if loaded else (), err, source=loaded and loaded.path)
    from ..inputs import background_image_of

    background = background_image_of(settings, base_dir=loaded.base_dir if loaded else None,
                                     canvas_wh=canvas)
    from ..request.model import RecordingConfig

    config = getattr(loaded.model, "recording_config", None) if loaded else None
    config = config or RecordingConfig()
    users = args.users if args.users is not None else config.preview_uids()
    source_wh = args.source_size or DEFAULT_SOURCE_WH
    sizes = {uid: source_wh for uid in users}
    if args.sheet:
        from ..layout import MAX_DISPLAYED

        order = (config.split_video_subscribed(args.users)[0] if args.users
                 else config.sheet_uids(MAX_DISPLAYED))
        if not order and args.users:
            raise UsageError("--users: none of them is subscribed (subscribeVideoUids / "
                             "unSubscribeVideoUids), the sheet would be empty")
        if not order:
            raise UsageError("the request subscribes to no video (streamTypes or only audio "
                             "subscription lists), the sheet would be empty")
        image = contact_sheet(settings, canvas_wh=canvas, profile=profile, uids=order,
                              source_sizes={uid: source_wh for uid in order},
                              background_image=background)
    else:
        from ..annotate import annotated_preview

        image = annotated_preview(settings, users, canvas_wh=canvas, profile=profile,
                                  source_sizes=sizes, background_image=background,
                                  config=config, annotate=args.annotate)
    write_png(image, output, overwrite=args.force)
    print(f"wrote {output} ({image.shape[1]}x{image.shape[0]})", file=out)
    return 0


def _preview_scenario(args: argparse.Namespace, profile: Profile, out: IO[str],
                      err: IO[str]) -> int:
    from fractions import Fraction

    from ..inputs import load_scenario_file
    from ..io.atomic import check_writable
    from ..render import SceneRenderer

    if args.sheet or args.users or args.canvas or args.source_size:
        msg = "--sheet, --users, --canvas and --source-size are for request previews"
        raise UsageError(msg)
    kind, output = _preview_format(args, scenario=True)
    if kind == "png" and args.at is None:
        raise UsageError("a scenario's still needs --at SECONDS (or -o NAME.gif / NAME.mp4 "
                         "for the whole scenario)")
    check_writable(output, overwrite=args.force)
    scenario = load_scenario_file(args.request)
    print_problems(scenario.warnings, err, source=args.request)
    with SceneRenderer(scenario, profile=profile, flash=args.keep_flash) as renderer:
        if kind == "png":
            if not math.isfinite(args.at):
                msg = f"--at {args.at}: must be a finite number of seconds"
                raise UsageError(msg)
            t = Fraction(str(args.at))
            if not 0 <= t < renderer.timeline.end_time:
                msg = (f"--at {args.at}: outside the recording "
                       f"[0, {float(renderer.timeline.end_time):g}) s")
                raise UsageError(msg)
            from ..io.png import write_png

            frame = renderer.rendered_frame(t)
            from ..annotate import annotate_frame, frame_warnings, warn_all

            if args.annotate:
                warn_all(frame_warnings(frame))
            write_png(annotate_frame(frame) if args.annotate else frame.rgb(), output,
                      overwrite=args.force)
            states = ", ".join(f"{v.uid} {v.state.value}" for v in frame.scene.views)
            print(f"wrote {output}: t={args.at:g} s, {states or 'nobody displayed'}", file=out)
            return 0
        from ..animate import write_gif, write_mp4

        writer = write_gif if kind == "gif" else write_mp4
        count = writer(renderer, output, overwrite=args.force, annotate=args.annotate)
    print(f"wrote {output} ({count} frames)", file=out)
    return 0
