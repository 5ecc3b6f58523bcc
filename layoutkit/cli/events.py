"""``scenario from-events`` and ``events listen``: production recordings' notifications."""

from __future__ import annotations

import argparse
import json
import os
from typing import IO

from ..errors import ParameterError, UsageError

__all__ = ["SECRET_ENV", "cmd_events", "cmd_scenario"]

#: The environment variable ``events listen`` reads the NCS secret from when ``--secret`` is
#: not given (a secret on the command line is visible to other users in ``ps``).
SECRET_ENV = "LAYOUTKIT_NCS_SECRET"


def cmd_scenario(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``scenario from-events``: rebuild a scenario from NCS bodies and the request log; 0."""
    from ..inputs import read_json_lines
    from ..io.atomic import atomic_output, check_writable
    from ..scenario.fromevents import rebuild

    check_writable(args.output, overwrite=args.force)
    events = read_json_lines(args.events, what="NCS event log")
    requests = read_json_lines(args.requests, what="request log")
    try:
        rebuilt = rebuild(events, requests, web_sdk=args.web_sdk, cname=args.cname,
                          sid=args.sid, events_source=args.events,
                          requests_source=args.requests)
    except ParameterError as exc:
        flag = "--sid" if "session" in str(exc) else "--cname"
        raise UsageError(f"{exc}; pass {flag}") from None
    doc = rebuilt.doc
    with atomic_output(args.output, overwrite=args.force) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    ignored = sum(rebuilt.ignored.values())
    print(f"wrote {args.output}: channel {doc['cname']}, {len(doc['users'])} users, "
          f"{len(doc['events'])} events, {doc['duration']} s, confidence {doc['confidence']} "
          f"({rebuilt.bodies} bodies read, {rebuilt.duplicates} duplicates dropped, "
          f"{ignored} of kinds not used)", file=out)
    print(f"its \"notes\" list {len(doc['notes'])} assumptions", file=out)
    return 0


def cmd_events(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``events listen``: append each NCS callback body to a file until Ctrl-C; 0.

    The signature is checked when a secret is given (``--secret`` or :data:`SECRET_ENV`).
    """
    from ..ncs.receiver import SIGNATURE_HEADER, EventReceiver

    secret = args.secret if args.secret is not None else os.environ.get(SECRET_ENV) or None
    if args.secret == "":
        raise UsageError("--secret must not be empty")
    receiver = EventReceiver(args.output, host=args.host, port=args.port, secret=secret,
                             public_names=args.public_name, log=err)
    if receiver.log.repaired:
        print(f"{args.output}: did not end with a newline; one was added so the next line "
              "is whole", file=err)
    checked = f"checked ({SIGNATURE_HEADER})" if secret else \
        f"NOT checked (no --secret or {SECRET_ENV})"
    print(f"listening on {receiver.url} ; appending each callback to {args.output}; "
          f"signatures {checked}; Ctrl-C stops", file=out, flush=True)
    if args.host != "127.0.0.1" and not secret:
        print(f"warning: listening on {args.host} without a secret: anyone who reaches it can "
              "add events", file=err, flush=True)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=out)
    finally:
        receiver.shutdown()
    return 0
