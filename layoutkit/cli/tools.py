"""``compare``, ``ffmpeg``, ``testsrc``, ``demo``, ``samples`` and ``design``."""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import LayoutkitError, OutputExistsError, UsageError
from .output import print_compare, print_problems
from .parser import profile_of

__all__ = ["cmd_compare", "cmd_demo", "cmd_design", "cmd_ffmpeg", "cmd_samples", "cmd_testsrc"]


def cmd_compare(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``compare``: check a recording against a scenario.

    Returns 0 when the verdict is "match", else 1.
    """
    from ..api import compare
    from ..inputs import load_scenario_file
    from ..io.atomic import check_writable

    profile = profile_of(args)
    if args.report:
        check_writable(args.report, overwrite=args.force)
    try:
        scenario = load_scenario_file(args.scenario)
    except LayoutkitError as exc:
        misplaced = _misplaced_scenario(args.scenario, args.recording)
        if misplaced is None:
            raise
        raise UsageError(misplaced) from exc
    print_problems(scenario.warnings, err, source=args.scenario)
    result = compare(scenario, args.recording, profile=profile, infer=args.infer,
                     server_response=args.server_response, report=args.report,
                     overwrite=args.force, content_only=args.content_only,
                     event_tolerance=args.event_tolerance)
    if args.json:
        json.dump(result.to_json(), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    else:
        print_compare(result, out)
    if args.report:
        print(f"wrote {args.report}", file=err if args.json else out)
    return 0 if result.verdict == "match" else 1


def _recording_kind(arg: str) -> str | None:
    """Name the kind of recording ``arg`` is by its form (a folder, an s3:// URL, a media file)."""
    if arg.startswith("s3://"):
        return "an s3:// location"
    suffix = Path(arg).suffix.lower()
    if suffix in (".m3u8", ".ts", ".mp4"):
        return f"a {suffix} file"
    return "a folder" if Path(arg).is_dir() else None


def _json_kind(arg: str) -> str | None:
    """"scenario" or "request" for such a JSON file, else None (unreadable: None)."""
    from ..inputs import is_request_body_file, is_scenario_file

    if _recording_kind(arg) is not None:
        return None
    try:
        if is_scenario_file(arg):
            return "scenario"
        return "request" if is_request_body_file(arg) else None
    except LayoutkitError:
        return None


def _misplaced_scenario(scenario: str, recording: str) -> str | None:
    """Explain a recording or a request body given where the scenario belongs (else None)."""
    what = _recording_kind(scenario)
    if what is not None and _json_kind(recording) == "scenario":
        return (f"the arguments are swapped: {scenario} is a recording ({what}) and "
                f"{recording} a scenario; compare takes the scenario first: "
                f"layoutkit compare {shlex.quote(recording)} {shlex.quote(scenario)}")
    if what is not None:
        return (f"{scenario}: is a recording ({what}) where the scenario belongs; compare "
                f"takes SCENARIO.json first, then the recording ({recording} given)")
    if _json_kind(scenario) == "request":
        return (f"{scenario}: is a request body, not a scenario; compare checks the "
                f"recording {recording} against a scenario: the start body with the "
                f"duration, users and events (see samples/scenario-demo.json)")
    return None


def cmd_ffmpeg(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``ffmpeg``: print the FFmpeg command composing per-user files, or run it.

    Returns 0, or 1 when the FFmpeg run fails.
    """
    import shlex
    import subprocess

    from ..errors import ParameterError
    from ..ffmpeg_graph import OutputOptions, ffmpeg_command, ffmpeg_output
    from ..inputs import load_request_file
    from ..io.atomic import check_writable
    from ..io.decode import has_stream, probe_video_size
    from ..request.model import StartRequest, TranscodingConfig

    profile = profile_of(args)
    inputs: dict[str, str] = {}
    for item in args.input:
        uid, sep, path = item.partition("=")
        if not sep or not uid.strip() or not path:
            raise UsageError(f"--input takes UID=FILE (got {item!r})")
        inputs[uid.strip()] = path
    try:
        ffmpeg_output(args.output)  # a URL is refused before any file is read
    except ParameterError as exc:
        raise UsageError(f"-o {exc}; write a local file, then copy or upload it") from None
    loaded = load_request_file(args.request)
    print_problems(loaded.warnings, err, source=loaded.path)
    model = loaded.model
    tc = model.transcoding if isinstance(model, StartRequest) else TranscodingConfig()
    layout = loaded.layout
    sizes = {uid: probe_video_size(path) for uid, path in inputs.items()}
    audio = not args.no_audio and all(has_stream(path, "audio") for path in inputs.values())
    image = None
    if layout.background_image:
        from ..io.images import load_image, resolve_location

        if load_image(layout.background_image, base_dir=loaded.base_dir) is not None:
            image = resolve_location(layout.background_image, base_dir=loaded.base_dir)
    program = "ffmpeg"
    if args.run:
        check_writable(args.output, overwrite=args.force)
        import imageio_ffmpeg

        program = imageio_ffmpeg.get_ffmpeg_exe()
    options = OutputOptions(canvas_wh=args.canvas or tc.canvas_wh, fps=args.fps or tc.fps,
                            bitrate_kbps=args.bitrate or tc.bitrate, audio=audio,
                            audio_profile=model.recording_config.audio_profile
                            if isinstance(model, StartRequest) else 0,
                            duration=args.duration, overwrite=args.force)
    cmd = ffmpeg_command(layout, inputs, args.output, options=options, sizes=sizes,
                         profile=profile, background_image=image, ffmpeg=program)
    if not args.run:
        print(shlex.join(cmd), file=out)
        print("note: local files are given to FFmpeg as file:/absolute/path, so no file name is "
              "read as a protocol (a:b.mp4, concat:...)", file=err)
        return 0
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        tail = "\n".join(run.stderr.strip().splitlines()[-5:])
        print(f"ffmpeg failed (exit {run.returncode}):\n{tail}", file=err)
        return 1
    print(f"wrote {args.output}", file=out)
    return 0


def cmd_testsrc(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``testsrc``: write the identifying test stream of a uid as MP4; 0."""
    from ..idstream import write_idstream
    from ..request.parse import uid_problem

    problem = uid_problem(args.uid)
    if problem:
        msg = f"--uid: {problem} (got {args.uid!r})"
        raise UsageError(msg)
    if not 0 < args.duration <= 24 * 3600 or not 1 <= args.fps <= 60 or args.bitrate < 1:
        msg = "--duration must be in (0, 86400] s, --fps in 1..60, --bitrate >= 1"
        raise UsageError(msg)
    from ..idstream import MAX_SIDE

    if max(args.size) > MAX_SIDE:
        msg = f"--size: each side must be at most {MAX_SIDE} (got {args.size[0]}x{args.size[1]})"
        raise UsageError(msg)
    write_idstream(args.output, uid=args.uid, duration=args.duration, size_wh=args.size,
                  fps=args.fps, bitrate_kbps=args.bitrate, flash=not args.no_flash,
                  overwrite=args.force)
    print(f"wrote {args.output}: uid {args.uid}, {args.duration:g} s, "
          f"{args.size[0]}x{args.size[1]} @ {args.fps} fps", file=out)
    return 0


def cmd_demo(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``demo``: the bundled samples end to end into one folder; 0."""
    from ..demo import run_demo

    try:
        run_demo(Path(args.output), out=out)
    except OutputExistsError as exc:
        msg = f"{exc.path}: exists and was not made by layoutkit demo; choose another -o folder"
        raise UsageError(msg) from exc
    return 0


def cmd_samples(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``samples``: copy the bundled samples into ``DIR/samples/``; 0."""
    from ..demo import copy_samples

    made = copy_samples(args.output, overwrite=args.force)
    folder = Path(args.output) / "samples"
    done = f"wrote {len(made)} sample files to" if made else "the samples are already in"
    print(f"{done} {folder}/; from {args.output}, every --help "
          f"example runs as written, e.g.\n  layoutkit preview samples/scenario-demo.json "
          f"--at 6 -o frame.png", file=out)
    return 0


def cmd_design(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``design``: serve the designer page on 127.0.0.1 until Ctrl-C or SIGTERM; 0."""
    from ..design import DesignServer, create_app

    if args.request is not None and not Path(args.request).is_file():
        msg = f"{args.request}: no such file"
        raise UsageError(msg)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535 (got {args.port})")
    app = create_app(args.request, profile=profile_of(args), allow_network=args.allow_network)
    try:
        server = DesignServer(app, port=args.port)
    except OSError as exc:
        app.config["DESIGN_UPLOADS"].cleanup()
        raise UsageError(f"--port {args.port}: cannot listen on 127.0.0.1 ({exc.strerror or exc}); "
                         "choose another port or leave --port out") from exc
    print(f"layoutkit design: {server.url}  (Ctrl-C stops it)", file=out, flush=True)
    if not args.no_browser:
        import webbrowser

        webbrowser.open(server.url)
    with _sigterm_as_ctrl_c():
        server.serve_forever()  # until Ctrl-C or SIGTERM (werkzeug returns) and closes
    print("layoutkit design: stopped", file=out)
    return 0


@contextlib.contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """Make SIGTERM and SIGHUP stop a server as Ctrl-C does.

    The server's ``finally`` then removes its temporary files; a signal the caller ignores
    stays ignored; the previous handlers are put back after.
    """
    import signal
    import threading

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
                previous[number] = signal.signal(number, stop)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)  # type: ignore[arg-type]
