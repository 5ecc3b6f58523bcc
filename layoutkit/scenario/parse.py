"""Scenario JSON -> :class:`Scenario`: who is in the channel, and what happens when.

A scenario (contract section 3.3) describes one recording: the ``start`` body sent to the
cloud, the users of the channel and the events of the session.  :func:`parse_scenario`
checks it with the rules and the message style of request validation (every problem at
once, each with its JSON path, e.g. ``events[3].body.clientRequest.backgroundColor``) and
builds frozen objects.  Nothing here reads files: source, audio and image paths are kept as
the strings the scenario gives; the caller resolves them relative to the scenario file.

Scenario keys (top level exactly these)
---------------------------------------
==========  ========  ===================================================================
key         required  rule
==========  ========  ===================================================================
cname       yes       channel name, the request rules (< 64 bytes, 89 allowed characters)
sid         no        32 lowercase hex characters (the recorder generates one if absent)
start_utc   no        ISO 8601 date-time with ``Z`` or an offset; default
                      ``2026-01-01T00:00:00Z`` (:data:`DEFAULT_START_UTC`)
uid         no        the recorder's uid (string of an integer 1..2^32-1): the default of
                      ``start.uid``
start       yes       the ``start`` body ``{cname, uid, clientRequest}``, checked like
                      ``layoutkit validate``; its cname (and uid) default to the
                      scenario's and, when given, must be the scenario's; a uid is needed
                      in one of the two places.
                      ``storageConfig`` may be absent or incomplete (a local recording
                      does not need a bucket); what is given is checked
duration    yes       seconds, a number > 0
users       yes       non-empty array of users (below)
events      no        array of events (below)
notes       no        array of strings: what the scenario's author assumed (``scenario
                      from-events`` lists every assumption it made here)
confidence  no        ``"full"`` (default) or ``"partial"``: built from incomplete reports
video_      no        array of ``{"t", "stream", "state"}``: what the recorder reported of
reports               the video it received (NCS event 44): ``t`` seconds (0 <= t <=
                      duration), ``stream`` ``"0"`` (the mixed stream) or a uid (digits in
                      a string), ``state`` 0 (receiving) or 1 (not); ``scenario
                      from-events`` writes them, compare reads them
==========  ========  ===================================================================

User: ``uid`` (required; string of an integer 1..2^32-1, unique, not the recorder's
``start.uid``), ``platform`` (``native`` | ``web3`` | ``web4``, default native), ``role``
(``host`` | ``audience``, default host; audience only in live channels, ``channelType`` 1),
``source`` (``testsrc`` | ``#RRGGBB`` | ``unknown``, a real person whose picture is not known
and is drawn as a neutral placeholder | any other string is a file path; default testsrc),
``size`` (``"WxH"``, even positive integers up to 4096, default ``640x360``), ``audio``
(``tone`` | ``silence`` | ``unknown``, mixed as silence | a file path, default tone), ``join``
(seconds, 0 <= join < duration, default 0; > 0 becomes a ``join`` event at that time),
``join_tolerance`` (seconds >= 0, optional: that join event's ``tolerance``).

Event: ``t`` (seconds, 0 <= t < duration), ``action`` (:data:`ACTIONS`), ``uid`` (required
for every action but ``update_layout``, which takes none; must be a declared user),
``body`` (``update_layout`` only, required there: a whole ``updateLayout`` body or just its
``clientRequest``; it replaces the whole layout), ``tolerance`` (seconds >= 0, optional:
how far the event's real time may be from ``t``, its window for compare; default compare's
``event_tolerance``).  Audience members only ``join`` and
``leave``.  Events are then checked in time order (a user's ``join`` > 0 first among events
at the same time, then the file order): ``join`` needs the user absent, every other user
action needs the user present.

Times are exact :class:`~fractions.Fraction` seconds: an integer stays an integer and a
float is read through its shortest decimal text, so ``0.1`` is exactly ``1/10``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, UTC
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import Problem, RequestError, ScenarioError
from ..request.checks import (  # the request checkers, so both files speak alike
    BAD,
    MISSING,
    Problems,
    as_cname,
    as_list,
    as_number,
    as_str,
    as_uid,
    check_range,
    join_path,
)
from ..request.limits import LIVE_CHANNEL
from ..request.reader import Reader
from ..request.model import StartRequest, StorageConfig, UpdateLayoutRequest
from ..request.parse import parse_request
from ..request.suggest import did_you_mean
from .model import (
    ACTIONS,
    AUDIENCE_ACTIONS,
    CONFIDENCES,
    DEFAULT_SIZE_WH,
    DEFAULT_START_UTC,
    PLATFORMS,
    ROLES,
    UPDATE_LAYOUT,
    Event,
    Scenario,
    UserSpec,
    VideoReport,
    as_time,
    format_seconds,
)
from .presence import presence_problems

__all__ = ["parse_scenario"]

_DEFAULT_START = datetime.fromisoformat(DEFAULT_START_UTC)
MAX_SOURCE_SIDE = 4096
MAX_DURATION_S = 30 * 24 * 3600  # the cloud's longest resource life (resourceExpiredHour 720)
MAX_USERS = 1000
MAX_EVENTS = 100_000
_LAST_MOMENT = datetime.max.replace(tzinfo=UTC)

SCENARIO_KEYS = ("cname", "uid", "sid", "start_utc", "start", "duration", "users", "events",
                 "notes", "confidence", "video_reports")
REPORT_KEYS = ("t", "stream", "state")
USER_KEYS = ("uid", "platform", "role", "source", "size", "audio", "join", "join_tolerance")
MAX_NOTES = 10_000
EVENT_KEYS = ("t", "action", "uid", "body", "tolerance")

# A local recording needs no bucket: keys the cloud requires in storageConfig get these
# stand-ins for the check and are then put back to the model's defaults.
_STORAGE_STAND_INS: dict[str, tuple[str, Any]] = {
    "vendor": ("vendor", 1),
    "region": ("region", 0),
    "bucket": ("bucket", "local"),
    "accessKey": ("access_key", "local"),
    "secretKey": ("secret_key", "local"),
}


# --- value checkers: (value, path, out, **options) -> value or BAD -----------------------
def _as_time(value: Any, path: str, out: Problems, *, positive: bool = False) -> Any:
    number = as_number(value, path, out)
    if number is BAD or not check_range(number, path, out, 0, None, lo_open=positive):
        return BAD
    if number > MAX_DURATION_S:  # no time of a recording is later than its longest duration
        out.error(path, f"must be at most {MAX_DURATION_S} s (30 days: the cloud's longest "
                        "recording resource life, resourceExpiredHour 720)", value)
        return BAD
    return as_time(number)


def _as_sid(value: Any, path: str, out: Problems) -> Any:
    text = as_str(value, path, out)
    if text is not BAD and not re.fullmatch(r"[0-9a-f]{32}", text):
        out.error(path, "must be 32 lowercase hex characters", text)
        return BAD
    return text


def _as_utc(value: Any, path: str, out: Problems) -> Any:
    text = as_str(value, path, out)
    if text is BAD:
        return BAD
    example = f"e.g. {DEFAULT_START_UTC!r}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        out.error(path, "must be an ISO 8601 date and time", text, example)
        return BAD
    if moment.tzinfo is None:
        out.error(path, "must say its time zone (Z or an offset like +02:00)", text, example)
        return BAD
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        out.error(path, "is out of the range of dates", text)
        return BAD


def _as_source(value: Any, path: str, out: Problems) -> Any:
    text = as_str(value, path, out, nonempty=True)
    if text is BAD or not text.startswith("#"):
        return text
    if re.fullmatch(r"#[0-9A-Fa-f]{6}", text):
        return text.upper()
    out.error(path, "a colour source must be #RRGGBB", text,
              "write a file whose name starts with '#' as './#...'")
    return BAD


def _as_size(value: Any, path: str, out: Problems) -> Any:
    text = as_str(value, path, out)
    if text is BAD:
        return BAD
    match = re.fullmatch(r"([0-9]{1,5})x([0-9]{1,5})", text)
    size = (int(match[1]), int(match[2])) if match else (0, 0)
    if not all(0 < side <= MAX_SOURCE_SIDE and side % 2 == 0 for side in size):
        out.error(path, f'must be "WxH" with even sizes in [2, {MAX_SOURCE_SIDE}], '
                        'e.g. "640x360"', text)
        return BAD
    return size


def _as_declared_uid(value: Any, path: str, out: Problems, *,
                     declared: dict[str, UserSpec] | None) -> Any:
    """Check a uid that names a declared user (``declared`` None: the user list is broken)."""
    uid = as_uid(value, path, out)
    if uid is BAD or declared is None or uid in declared:
        return uid
    shown = ", ".join(list(declared)[:10]) + (", ..." if len(declared) > 10 else "")
    hint = did_you_mean(uid, declared) or f"declared users: {shown}"
    out.error(path, "unknown user (not in users)", uid, hint)
    return BAD


# --- nested request bodies ------------------------------------------------------------------
def _nested(prefix: str, problems: Sequence[Problem]) -> list[Problem]:
    """Return the problems of a nested body, paths prefixed with the body's scenario path."""
    return [replace(p, path=join_path(prefix, p.path) if p.path else prefix) for p in problems]


def _parse_body(value: Any, path: str, out: Problems, kind: str) -> Any:
    """Run ``parse_request(value, kind=kind)``, reporting into ``out`` under ``path``."""
    try:
        model, warnings = parse_request(value, kind=kind)
    except RequestError as exc:
        out.items.extend(_nested(path, exc.problems))
        out.items.extend(_nested(path, getattr(exc, "warnings", ())))
        return BAD
    out.items.extend(_nested(path, warnings))
    return model


def _check_envelope(model: StartRequest | UpdateLayoutRequest, path: str, out: Problems,
                    cname: str | None, uid: str | None, *,
                    uid_name: str = "the recorder's uid (start.uid)") -> bool:
    """Check that a whole body names the scenario's channel (and the recorder's uid)."""
    ok = True
    for key, got, want, whose in (("cname", model.cname, cname, "the scenario's cname"),
                                  ("uid", model.uid, uid, uid_name)):
        if want is not None and got != want:
            out.error(join_path(path, key), f"must be {whose} {want!r}", got)
            ok = False
    return ok


def _with_stand_ins(value: Any) -> tuple[Any, set[str] | None]:
    """Return ``value`` with stand-ins for the storageConfig keys it lacks, and which were added.

    Returns the body unchanged (and an empty set) when it has no clientRequest object or
    its storageConfig is not an object; None instead of a set when storageConfig is absent.
    """
    client = value.get("clientRequest") if isinstance(value, dict) else None
    if not isinstance(client, dict):
        return value, set()
    storage = client.get("storageConfig", MISSING)
    if storage is not MISSING and not isinstance(storage, dict):
        return value, set()
    given = storage if isinstance(storage, dict) else {}
    added = {key for key in _STORAGE_STAND_INS if key not in given}
    stand_ins = {key: _STORAGE_STAND_INS[key][1] for key in added}
    body = {**value, "clientRequest": {**client, "storageConfig": {**stand_ins, **given}}}
    return body, (None if storage is MISSING else added)


def _without_stand_ins(model: StartRequest, added: set[str] | None) -> StartRequest:
    if added is None:
        return replace(model, storage_config=None)
    if not added or model.storage_config is None:
        return model
    defaults: dict[str, Any] = {f.name: f.default for f in fields(StorageConfig)}
    names = [_STORAGE_STAND_INS[key][0] for key in added]
    return replace(model, storage_config=replace(model.storage_config,
                                                 **{name: defaults[name] for name in names}))


def _with_envelope(value: Any, *, cname: str | None, uid: str | None) -> Any:
    """Give a start body given as ``{clientRequest}`` (no cname or uid) the scenario's.

    Examples
    --------
    >>> _with_envelope({"clientRequest": {}}, cname="demo", uid="999")
    {'cname': 'demo', 'uid': '999', 'clientRequest': {}}
    >>> _with_envelope({"cname": "x", "clientRequest": {}}, cname="demo", uid=None)
    {'cname': 'x', 'clientRequest': {}}
    """
    if not isinstance(value, dict) or "clientRequest" not in value:
        return value
    given = {"cname": cname, "uid": uid}
    defaults = {k: v for k, v in given.items() if isinstance(v, str) and k not in value}
    return {**defaults, **value}


def _as_start(value: Any, path: str, out: Problems, *, cname: str | None,
              uid: str | None) -> Any:
    body, added = _with_stand_ins(_with_envelope(value, cname=cname, uid=uid))
    model = _parse_body(body, path, out, "start")
    if model is BAD:
        return BAD
    if not model.cname:
        out.error(path, "must be a start body {clientRequest} (its cname and uid default "
                        "to the scenario's)")
        return BAD
    if not _check_envelope(model, path, out, cname, uid, uid_name="the scenario's uid"):
        return BAD
    return _without_stand_ins(model, added)


def _as_layout_body(value: Any, path: str, out: Problems, *, cname: str | None,
                    uid: str | None) -> Any:
    model = _parse_body(value, path, out, "updateLayout")
    if model is BAD:
        return BAD
    whole = bool(model.cname)  # a bare clientRequest has no envelope to compare
    if whole and not _check_envelope(model, path, out, cname, uid):
        return BAD
    return model.layout


# --- sections -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Users:
    """The users section as read: valid users, and whether every entry was valid."""

    specs: tuple[UserSpec, ...]
    complete: bool

    @property
    def by_uid(self) -> dict[str, UserSpec] | None:
        """Declared users by uid, None when an entry was broken (unknown uids unsure)."""
        return {u.uid: u for u in self.specs} if self.complete else None


def _read_user(u: Reader, duration: Fraction | None, start: StartRequest | None) -> Any:
    uid = u.uid("uid", required=True)
    platform = u.text("platform", "native", choices=PLATFORMS)
    role = u.text("role", "host", choices=ROLES)
    live = start is not None and start.recording_config.channel_type == LIVE_CHANNEL
    if start is not None and role == "audience" and not live:
        u.error("role", "audience members exist only in live channels "
                        "(start recordingConfig.channelType 1)", role)
    spec = UserSpec(
        uid=uid or "",
        platform=platform,
        source=u.field("source", _as_source, "testsrc"),
        size_wh=u.field("size", _as_size, DEFAULT_SIZE_WH),
        audio=u.text("audio", "tone", nonempty=True),
        join=u.field("join", _as_time, Fraction(0)),
        role=role,
        join_tolerance=u.field("join_tolerance", _as_time, None),
    )
    if duration is not None and u.ok("join") and spec.join >= duration:
        u.error("join", f"must be before the end of the recording "
                        f"(duration {format_seconds(duration)} s)", u.data["join"])
    return spec if uid is not None else BAD


def _read_users(r: Reader, duration: Fraction | None, start: StartRequest | None) -> _Users:
    specs: list[UserSpec] = []
    first_at: dict[str, int] = {}
    complete = True
    for i, u in enumerate(r.entries("users", USER_KEYS, required=True, nonempty=True,
                                    max_items=MAX_USERS)):
        spec = _read_user(u, duration, start)
        if spec is BAD:
            complete = False
            continue
        if spec.uid in first_at:
            u.error("uid", f"duplicate uid (same as users[{first_at[spec.uid]}])", spec.uid)
        elif start is not None and spec.uid == start.uid:
            u.error("uid", "is the recorder's own uid (start.uid); a user needs another",
                    spec.uid)
        else:
            first_at[spec.uid] = i
            specs.append(spec)
    return _Users(tuple(specs), complete and r.has("users") and r.ok("users"))


def _read_event(e: Reader, duration: Fraction | None, users: _Users,
                start: StartRequest | None, cname: str | None) -> Any:
    t = e.field("t", _as_time, None, required=True)
    if duration is not None and t is not None and t >= duration:
        e.error("t", f"is at or after the end of the recording "
                     f"(duration {format_seconds(duration)} s)", e.data["t"])
    action = e.text("action", None, required=True, choices=ACTIONS)
    if action == UPDATE_LAYOUT:
        if e.has("uid"):
            e.error("uid", "update_layout takes no uid (it changes the whole canvas)")
        uid = None
        layout = e.field("body", _as_layout_body, None, required="for update_layout",
                         cname=cname, uid=start.uid if start is not None else None)
    else:
        layout = None
        uid = e.field("uid", _as_declared_uid, None,
                      required=f"for {action}" if action else False, declared=users.by_uid)
        if e.has("body") and action is not None:
            e.error("body", "only update_layout takes a body")
        declared = users.by_uid or {}
        if uid in declared and declared[uid].role == "audience" and action not in (
                None, *AUDIENCE_ACTIONS):
            e.error("action", f"user {uid} is audience and publishes nothing; "
                              "audience members only join and leave", action)
    tolerance = e.field("tolerance", _as_time, None)
    if e.bad or not e.present:
        return BAD
    return Event(t=t, action=action, uid=uid, layout=layout, tolerance=tolerance)


def _read_events(r: Reader, duration: Fraction | None, users: _Users,
                 start: StartRequest | None, cname: str | None
                 ) -> tuple[list[Event], list[str]] | None:
    """Read the file's events with their paths, or None when one of them is broken."""
    events: list[Event] = []
    paths: list[str] = []
    for e in r.entries("events", EVENT_KEYS, max_items=MAX_EVENTS):
        event = _read_event(e, duration, users, start, cname)
        events.append(event)
        paths.append(e.path)
    if not r.ok("events") or BAD in events:
        return None
    return events, paths


def _timed(users: Sequence[UserSpec], events: Sequence[Event], paths: Sequence[str]
           ) -> tuple[tuple[Event, ...], tuple[str, ...]]:
    """Merge late joins and file events by time (joins first at equal times), with paths."""
    entries = [((u.join, 0, i), Event(u.join, "join", u.uid, tolerance=u.join_tolerance),
                f"users[{i}].join")
               for i, u in enumerate(users) if u.join > 0]
    entries += [((e.t, 1, i), e, path)
                for i, (e, path) in enumerate(zip(events, paths, strict=True))]
    entries.sort(key=lambda entry: entry[0])
    return tuple(e for _, e, _ in entries), tuple(p for _, _, p in entries)


def _as_notes(value: Any, path: str, out: Problems) -> Any:
    items = as_list(value, path, out, max_items=MAX_NOTES)
    if items is BAD:
        return BAD
    notes = [as_str(item, f"{path}[{i}]", out) for i, item in enumerate(items)]
    return BAD if BAD in notes else tuple(notes)


def _as_stream(value: Any, path: str, out: Problems) -> Any:
    text = as_str(value, path, out)
    if text is not BAD and not re.fullmatch(r"[0-9]{1,10}", text):
        out.error(path, 'must be "0" (the mixed stream) or a uid: digits in a string', text)
        return BAD
    return text


def _read_reports(r: Reader, duration: Fraction | None) -> tuple[VideoReport, ...]:
    """Read ``video_reports``, sorted by time (stable)."""
    reports = []
    for e in r.entries("video_reports", REPORT_KEYS, max_items=MAX_EVENTS):
        t = e.field("t", _as_time, None, required=True)
        if t is not None and duration is not None and t > duration:
            e.error("t", f"must be at most the duration ({format_seconds(duration)} s)",
                    e.data.get("t"))
            t = None
        stream = e.field("stream", _as_stream, None, required=True)
        state = e.integer("state", None, required=True, choices=(0, 1))
        if t is not None and stream is not None and state is not None:
            reports.append(VideoReport(t, stream, state))
    return tuple(sorted(reports, key=lambda v: v.t))


# --- the document -------------------------------------------------------------------------
def parse_scenario(doc: Any, *, base_dir: Path | None = None) -> Scenario:
    """Check a decoded scenario document and build the :class:`Scenario`.

    Parameters
    ----------
    doc : Any
        The decoded JSON value (see the module docstring for the rules).
    base_dir : Path, optional
        Folder that relative paths in it resolve against (the scenario file's folder).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With every problem at once (warnings of nested bodies in its ``warnings``
        attribute).  No other exception is raised for any JSON value.  Consistency of
        the events with who is in the channel is checked once every entry is valid.

    Examples
    --------
    >>> s = parse_scenario({"cname": "demo", "duration": 10, "users": [{"uid": "1"}],
    ...     "start": {"cname": "demo", "uid": "999", "clientRequest": {"recordingConfig": {}}},
    ...     "events": [{"t": 2.5, "uid": "1", "action": "mute_video"}]})
    >>> s.events[0]
    Event(t=Fraction(5, 2), action='mute_video', uid='1', layout=None, tolerance=None)
    """
    out = Problems()
    r = Reader(doc, "", out, SCENARIO_KEYS)
    cname = r.field("cname", as_cname, None, required=True)
    sid = r.field("sid", _as_sid)
    start_utc = r.field("start_utc", _as_utc, _DEFAULT_START)
    duration = r.field("duration", _as_time, None, required=True, positive=True)
    if duration is not None and start_utc is not None and r.ok("start_utc") and \
            start_utc > _LAST_MOMENT - timedelta(seconds=float(duration) + 1):
        out.error("start_utc", "the recording would end after the year 9999 "
                               f"(start_utc + duration {format_seconds(duration)} s)",
                  r.data.get("start_utc"))
    recorder_uid = r.field("uid", as_uid, None)
    start = r.field("start", _as_start, None, required=True, cname=cname, uid=recorder_uid)
    users = _read_users(r, duration, start)
    read = _read_events(r, duration, users, start, cname)
    events, paths = _timed(users.specs, *read) if read is not None else ((), ())
    notes = r.field("notes", _as_notes, ())
    confidence = r.text("confidence", "full", choices=CONFIDENCES)
    reports = _read_reports(r, duration)
    if not out.of("error") and users.complete:
        out.items.extend(presence_problems(users.specs, events, paths=paths))
    errors, warnings = out.of("error"), out.of("warning")
    if errors:
        raise ScenarioError(errors, warnings=warnings)
    return Scenario(cname=cname, sid=sid, start_utc=start_utc, start=start, duration=duration,
                    users=users.specs, events=events, warnings=tuple(warnings),
                    base_dir=None if base_dir is None else Path(base_dir), notes=notes,
                    confidence=confidence, video_reports=reports)


