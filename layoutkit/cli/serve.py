"""``serve``: the local Cloud Recording service, until Ctrl-C."""

from __future__ import annotations

import argparse
import os
from typing import IO

from ..errors import ParameterError, UsageError
from .events import SECRET_ENV

__all__ = ["CREDENTIALS_ENV", "cmd_serve"]

#: The environment variable ``serve`` reads ``KEY:SECRET`` from when ``--credentials`` is not
#: given (a secret on the command line is visible to other users in ``ps``).
CREDENTIALS_ENV = "LAYOUTKIT_SERVE_CREDENTIALS"


def _secrets(args: argparse.Namespace) -> tuple[str | None, str | None]:
    credentials = args.credentials if args.credentials is not None \
        else os.environ.get(CREDENTIALS_ENV) or None
    secret = args.notify_secret if args.notify_secret is not None \
        else os.environ.get(SECRET_ENV) or None
    if credentials is not None and ":" not in credentials:
        raise UsageError("--credentials must be KEY:SECRET")
    if args.notify and not secret:
        raise UsageError(f"--notify needs --notify-secret (or {SECRET_ENV})")
    if secret and not args.notify:
        raise UsageError("--notify-secret needs --notify URL")
    return credentials, secret


def cmd_serve(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``serve``: the local Cloud Recording service until Ctrl-C; 0."""
    from ..api import load_scenario
    from ..service.server import ServeOptions, ServiceServer
    from .parser import profile_of

    credentials, secret = _secrets(args)
    scenario = load_scenario(args.scenario)
    try:
        options = ServeOptions(s3_endpoint=args.s3_endpoint, credentials=credentials,
                               notify_url=args.notify, notify_secret=secret,
                               folder=args.output, profile=profile_of(args))
        server = ServiceServer(scenario, host=args.host, port=args.port, options=options)
    except ParameterError as exc:
        raise UsageError(str(exc)) from None
    auth = "Basic authorization required" if credentials else \
        f"NO authorization (give --credentials or {CREDENTIALS_ENV})"
    uploads = f"uploads to {args.s3_endpoint}" if args.s3_endpoint else \
        "no uploads (no --s3-endpoint): files stay local"
    callbacks = f"callbacks to {args.notify}, signed" if args.notify else "no callbacks"
    print(f"serving Cloud Recording (mix mode) at {server.url} : point your backend's base URL "
          f"there; channel {scenario.cname} from {args.scenario} ({len(scenario.users)} users); "
          f"{auth}; {uploads}; {callbacks}", file=out, flush=True)
    print(f"each recording in {server.folder}/NNN/ with serverResponse.json and scenario.json "
          "(what it recorded: give it to layoutkit compare); Ctrl-C stops", file=out,
          flush=True)
    if args.host != "127.0.0.1":
        print(f"warning: listening on {args.host}: anyone who reaches it can start recordings"
              + ("" if credentials else " (and no credentials are required)"), file=err,
              flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping: the running recordings are finished and uploaded", file=out,
              flush=True)
    finally:
        server.close()
    print("stopped", file=out)
    return 0
