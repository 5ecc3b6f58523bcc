"""The argument parser of ``layoutkit``: every subcommand, its options and its examples."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..enums import LayoutMode
from ..errors import ParameterError, UsageError

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = ["EXAMPLES", "build_parser", "profile_of"]


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


def _seconds_window(text: str) -> float:
    """Parse a window in seconds, >= 0 (``--event-tolerance``)."""
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        msg = f"must be a number of seconds >= 0, e.g. 0.5 (got {text!r})"
        raise argparse.ArgumentTypeError(msg)
    return value


def _count(text: str) -> int:
    """Parse a whole number >= 1 (``--workers``)."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        msg = f"must be a whole number >= 1 (got {text!r})"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def _users(text: str) -> list[str]:
    from ..request.parse import uid_problem

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


def profile_of(args: argparse.Namespace) -> Profile:
    """Return the behaviour profile of the ``--profile KEY=VALUE`` options."""
    from ..profile import parse_profile_options


    try:
        return parse_profile_options(args.profile)
    except ParameterError as exc:
        raise UsageError(f"--profile: {exc}") from exc


def _add_profile(p: argparse.ArgumentParser) -> None:
    from ..profile import PROFILE_CHOICES

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
    "batch": ("layoutkit batch nightly.csv -o checked",
              "layoutkit batch nightly.csv -o checked --workers 2 --force",
              "layoutkit batch nightly.csv -o checked --scheduler tcp://10.0.0.5:8786"),
    "design": ("layoutkit design", "layoutkit design samples/start-custom.json --port 8765"),
    "profiles": ("layoutkit profiles", "layoutkit profiles --json"),
    "demo": ("layoutkit demo", "layoutkit demo -o my-demo"),
    "samples": ("layoutkit samples -o .", "layoutkit samples -o elsewhere --force"),
    "scenario": ("layoutkit scenario from-events samples/ncs-events.jsonl "
                 "--requests samples/ncs-requests.jsonl -o rebuilt.json",
                 "layoutkit scenario from-events samples/ncs-events.jsonl "
                 "--requests samples/ncs-requests.jsonl --web-sdk 3 -o rebuilt-web3.json"),
    "events": ("layoutkit events listen --port 8080 --secret S -o events.jsonl",
               "LAYOUTKIT_NCS_SECRET=S layoutkit events listen --port 8080 "
               "--public-name ncs.example.com -o events.jsonl"),
    "serve": (
        "layoutkit serve --scenario samples/scenario-demo.json --port 8088 "
        "--credentials KEY:SECRET --s3-endpoint http://127.0.0.1:9000 -o served",
        "LAYOUTKIT_NCS_SECRET=S layoutkit serve --scenario samples/scenario-demo.json "
        "--port 8088 --notify http://127.0.0.1:8080/ --s3-endpoint http://127.0.0.1:9000",
        "# then, from another shell (the files go to storageConfig.bucket on the endpoint):",
        "B=http://127.0.0.1:8088/v1/apps/APPID/cloud_recording; A=(-s -u KEY:SECRET "
        "-H 'Content-Type: application/json')",
        "curl \"${A[@]}\" $B/acquire -d '{\"cname\":\"demo\",\"uid\":\"999\","
        "\"clientRequest\":{}}'          # -> resourceId: RID=...",
        "python -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[\"start\"]))' "
        "< samples/scenario-demo.json > start.json",
        "curl \"${A[@]}\" $B/resourceid/$RID/mode/mix/start -d @start.json   # -> sid: SID=...",
        "curl \"${A[@]}\" $B/resourceid/$RID/sid/$SID/mode/mix/query",
        "curl \"${A[@]}\" $B/resourceid/$RID/sid/$SID/mode/mix/updateLayout "
        "-d '{\"cname\":\"demo\",\"uid\":\"999\",\"clientRequest\":{\"mixedVideoLayout\":2}}'",
        "curl \"${A[@]}\" $B/resourceid/$RID/sid/$SID/mode/mix/stop "
        "-d '{\"cname\":\"demo\",\"uid\":\"999\",\"clientRequest\":{}}'",
        "layoutkit compare served/000/scenario.json s3://recordings/layoutkit/demo",
    ),
}


def _sub(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    """Add a subcommand whose --help ends with its examples."""
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def _action(sub: Any, parent: str, name: str, help_text: str) -> argparse.ArgumentParser:
    """Add the one action of a two-word command (``scenario from-events``), with the examples."""
    actions = sub.add_subparsers(dest=f"{parent}_command", required=True, metavar="ACTION",
                                 parser_class=_Parser, help=f"what to do: {name}")
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[parent])
    parser: argparse.ArgumentParser = actions.add_parser(
        name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def _web_sdk(text: str) -> int:
    if text not in ("3", "4"):
        msg = f"must be 3 or 4 (got {text!r})"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def _add_events_commands(sub: Any) -> None:
    """Add ``scenario from-events`` and ``events listen``."""
    p = _sub(sub, "scenario", "build a scenario from what the cloud reported (from-events)")
    p = _action(p, "scenario", "from-events",
                "rebuild a production recording's scenario from Agora's notifications (NCS "
                "callback bodies, one a line) and the app's log of the start / updateLayout "
                "requests it sent")
    p.add_argument("events", help="EVENTS.jsonl: NCS bodies as received (RTC and cloud "
                                  "recording mixed; duplicates and any order allowed)")
    p.add_argument("--requests", required=True, metavar="REQUESTS.jsonl",
                   help='the app\'s log, one line each {"ts_ms": <epoch ms>, "kind": "start" | '
                        '"updateLayout", "body": {...}}')
    p.add_argument("-o", "--output", required=True, metavar="SCENARIO.json",
                   help="the scenario file to write")
    p.add_argument("--web-sdk", type=_web_sdk, default=4, metavar="3|4",
                   help="the Web SDK major version of Web users (platform 7); NCS does not "
                        "report it (default 4)")
    p.add_argument("--cname", default=None, metavar="C",
                   help="the channel (default: the only one with a recording in the events)")
    p.add_argument("--sid", default=None,
                   help="the recording session (default: the channel's first)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")

    p = _sub(sub, "events", "collect Agora's notification callbacks (listen)")
    p = _action(p, "events", "listen",
                "answer Agora's notification callbacks (NCS webhooks) with 200 and append "
                "each body to a JSON-lines file, whole")
    p.add_argument("--port", type=int, required=True, help="the port (0: a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (127.0.0.1; put a TLS proxy or tunnel in "
                        "front for Agora to reach it)")
    p.add_argument("--secret", default=None, metavar="S",
                   help="the NCS secret: refuse bodies without a good Agora-Signature-V2 "
                        "(default: $LAYOUTKIT_NCS_SECRET; never printed)")
    p.add_argument("--public-name", action="append", default=[], metavar="NAME",
                   help="also answer requests whose Host is NAME (the proxy's or tunnel's "
                        "public name, when it passes the caller's Host on; repeatable)")
    p.add_argument("-o", "--output", required=True, metavar="EVENTS.jsonl",
                   help="the file each body is appended to (never truncated)")


def _add_serve_command(sub: Any) -> None:
    """Add ``serve``: the local Cloud Recording service."""
    p = _sub(sub, "serve", "serve Cloud Recording's REST API (mix mode) locally: recordings "
                           "of the scenario's channel in real time, uploads, callbacks")
    p.add_argument("--scenario", required=True, metavar="SCENARIO.json",
                   help="the channel: its users and events (time 0 at each start call; the "
                        "calls' start / updateLayout / update bodies replace its own)")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="the port (default: a free one, printed)")
    p.add_argument("--s3-endpoint", default=None, metavar="URL",
                   help="S3-compatible endpoint (MinIO, moto, ...) the files are uploaded to, "
                        "into storageConfig.bucket under fileNamePrefix, as they are finished "
                        "(vendor and region are ignored; keys from the AWS environment, else "
                        "storageConfig's); default: no upload, files stay local")
    p.add_argument("--credentials", default=None, metavar="KEY:SECRET",
                   help="customer ID and secret the clients must send (HTTP Basic; 401 "
                        "otherwise); default: $LAYOUTKIT_SERVE_CREDENTIALS, else none needed; "
                        "never printed")
    p.add_argument("--notify", default=None, metavar="URL",
                   help="POST the notification callbacks (40, 30, 42, 41, 31, 11) there, "
                        "signed, resent three times when refused")
    p.add_argument("--notify-secret", default=None, metavar="SECRET",
                   help="the secret the callbacks are signed with (Agora-Signature-V2, "
                        "Agora-Signature); default: $LAYOUTKIT_NCS_SECRET; never printed")
    p.add_argument("-o", "--output", default=None, metavar="DIR",
                   help="where each recording is written (DIR/000, DIR/001, ... with "
                        "serverResponse.json and scenario.json); default: a new temporary "
                        "folder")
    _add_profile(p)


def _add_request_commands(sub: Any) -> None:
    """Add ``validate``, ``layout`` and ``preview``: the commands on one request."""
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
                   help="scenario: the frame the recorder writes at this time (without the "
                        "test streams' white flash unless --keep-flash)")
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
                   help="scenario: keep the test streams' once-a-second white flash (as "
                        "recorded; hidden by default, so --at 6 shows the users' pictures)")
    _add_profile(p)


def _add_recording_commands(sub: Any) -> None:
    """Add ``mix``, ``upload``, ``compare`` and ``batch``: make and check recordings."""
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
    p.add_argument("--content-only", action="store_true",
                   help="judge only streams and content (pictures, sound), not the files' "
                        "names, playlist tags and segments: for a download re-packaged by "
                        "another tool (a single .ts or .mp4 is always judged so)")
    p.add_argument("--event-tolerance", type=_seconds_window, default=1.0, metavar="S",
                   help="seconds each scenario event may really have happened before or after "
                        "its time (1.0; an event's own \"tolerance\" wins): compare fits the "
                        "event's time in that window and judges the rules from it")
    p.add_argument("--force", action="store_true", help="replace an existing report file")
    _add_profile(p)

    p = _sub(sub, "batch", "compare many recordings with their scenarios, on Dask")
    p.add_argument("manifest", help="CSV with the header recording,scenario; paths relative "
                                    "to its folder (recordings also s3://BUCKET/PREFIX)")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                   help="folder for summary.csv, summary.json, index.html and each row's "
                        "reports (rows/)")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="a running Dask scheduler (default: a local cluster on 127.0.0.1)")
    p.add_argument("--workers", type=_count, default=None, metavar="N",
                   help="worker processes of the local cluster (default: the cores)")
    p.add_argument("--force", action="store_true",
                   help="check every row again, also those unchanged since the last run")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_tool_commands(sub: Any) -> None:
    """Add ``ffmpeg``, ``testsrc`` and ``design``: the tools around a layout."""
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
    p.add_argument("--allow-network", action="store_true",
                   help="download http(s) images the page names (default: never; they are "
                        "drawn without the image)")
    _add_profile(p)


def _add_starter_commands(sub: Any) -> None:
    """Add ``demo`` and ``samples``: the bundled samples."""
    p = _sub(sub, "demo", "run the bundled samples end to end")
    p.add_argument("-o", "--output", default="layoutkit-demo",
                   help="folder for everything it makes (layoutkit-demo)")

    p = _sub(sub, "samples", "copy the bundled samples into DIR/samples/ (the --help "
                             "examples' samples/... paths)")
    p.add_argument("-o", "--output", default=".",
                   help="folder to put samples/ in (the current one)")
    p.add_argument("--force", action="store_true", help="replace sample files already there")


def _add_profiles_command(sub: Any) -> None:
    """Add ``profiles``: the behaviour choices."""
    p = _sub(sub, "profiles", "list the behaviour choices (--profile KEY=VALUE) and their "
                              "values")
    p.add_argument("--json", action="store_true", help="machine-readable output")

def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of every subcommand."""
    parser = _Parser(prog="layoutkit", description=(
        "Preview, reproduce and check Agora Cloud Recording composite (mix) layouts."),
        epilog="run 'layoutkit SUBCOMMAND --help' for its options and examples; "
               "'layoutkit demo' runs everything on the bundled samples")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="SUBCOMMAND")

    _add_request_commands(sub)
    _add_recording_commands(sub)
    _add_tool_commands(sub)
    _add_starter_commands(sub)
    _add_events_commands(sub)
    _add_serve_command(sub)
    _add_profiles_command(sub)
    return parser
