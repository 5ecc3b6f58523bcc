"""A scenario rebuilt from what the cloud reported (NCS bodies) and what the app sent (pure).

:func:`rebuild` takes the decoded lines of an NCS log (RTC channel and cloud-recording
bodies mixed, duplicated, in any order) and of the app's request log, and returns the scenario
document that :func:`~layoutkit.scenario.parse_scenario` (``lk.load_scenario``) reads, with
every assumption listed in ``"notes"`` and ``"confidence": "partial"`` when events are missing.

The rules it applies (each is also written into the scenario's notes):

* **Duplicates.** Bodies with the same ``noticeId`` and ``notifyMs`` are one; a resend (same
  event, a later ``notifyMs``) is read once, at its first ``notifyMs``.  The result depends on
  the set of bodies only, never on their order or how often they came.
* **t = 0** is the session's earliest ``recorder_slice_start`` (42) ``startUtcMs``: the time the
  first segment's name and the playlist's ``TIME`` tag carry, so the scenario's clock is the
  files' clock.  ``recorder_started`` (40) only says when the recorder reported starting (its
  ``sendts``, before its first frame); it is used, and the scenario marked partial, only when no
  42 came.  With neither, the app's logged ``start`` time is used (partial).
* **The end** is the last ``recorder_leave`` (41) ``sendts``; without one, the last reported time
  (partial).
* **Users** are the channel's uids in RTC events 103-108, 111, 112 except the recorder (the
  ``start`` body's uid, or ``clientType`` 10): ``source`` and ``audio`` ``"unknown"`` (real
  people), platform from the NCS code (7 Web = Web SDK 4.x unless ``web_sdk=3``; every other
  code is a native SDK), role ``host`` when they were ever a broadcaster, else ``audience``.
  A user's events are read in ``clientSeq`` order; broadcasters are drawn, so a role change to
  audience (112) is a leave of the picture and one to broadcaster (111) a join.  A user's
  changes within one second are read as the last of them.  Joins and leaves are at the RTC
  ``ts`` (whole seconds of Agora's server clock) with a ``tolerance`` of 1 s.  A leave
  without a join (or a role change without the state it changes from) means a lost event:
  the user is taken to have been in that state since their previous event (or before the
  recording), and the scenario is partial.
* **Layouts.** The ``start`` body is the channel's last logged ``start`` sent at or before
  t = 0 (its ``token`` and ``storageConfig`` left out: they are secrets and a local recording
  needs no bucket); each later ``updateLayout`` of the channel is an ``update_layout`` event at
  the time the app logged sending it (its own clock).
* **Video mutes** are not reported by NCS: the scenario has none.
* **Video reports.** Each ``recorder_video_stream_state_changed`` (44) of the session is a
  ``video_reports`` item ``{"t", "stream", "state"}`` (``t`` from ``utcMs``, else ``sendts``;
  a report before t = 0 is put at 0, one after the end at the end), for compare to tell a
  recording that shows only the canvas while the recorder received video.
* **Sequence.** The recorder numbers a session's events from 0; a missing number is a lost
  event (partial).

Bad lines are refused with :class:`~layoutkit.errors.ScenarioError`, each problem naming the
line, its JSON path, the rule and the value (``line 12: payload.uid: must be a uid ...``);
a request body the scenario refuses is reported at its line of the request log.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from ..errors import ParameterError, Problem, ScenarioError
from .model import UNKNOWN
from .ncs import (
    LoggedRequest,
    Notice,
    RecorderEvent,
    RtcEvent,
    check_notices,
    check_requests,
    numbered,
)
from .parse import parse_scenario

__all__ = [
    "JOIN_TOLERANCE_S",
    "PLATFORM_NAMES",
    "TEST_CNAME",
    "Rebuilt",
    "rebuild",
    "scenario_from_events",
]

#: NCS ``platform`` codes and what they are.
PLATFORM_NAMES = {0: "other", 1: "Android", 2: "iOS", 5: "Windows", 6: "Linux", 7: "Web",
                  8: "macOS"}
_WEB = 7
_CLOUD_RECORDER = 10  # clientType of a cloud recorder (platform 6)
#: The window of a join or leave: RTC ``ts`` is whole seconds (floor or round, not said),
#: so the real time is within 1 s of it.
JOIN_TOLERANCE_S = 1
#: The channel of the console's "Check" button's synthetic events.
TEST_CNAME = "test_webhook"
_BEFORE = -1  # "before anything": earlier than every epoch time
_SHOWN = 10  # items listed in a note before "..."

# eventType -> (state before, state after): out of the channel, audience, broadcaster
_EFFECTS = {103: ("out", "bro"), 107: ("out", "bro"), 104: ("bro", "out"), 108: ("bro", "out"),
            105: ("out", "aud"), 106: ("aud", "out"), 111: ("aud", "bro"), 112: ("bro", "aud")}
_EVENT_WORDS = {103: "broadcaster join (103)", 104: "broadcaster leave (104)",
                105: "audience join (105)", 106: "audience leave (106)",
                107: "join (107)", 108: "leave (108)",
                111: "role change to broadcaster (111)", 112: "role change to audience (112)"}
_STATE_WORDS = {"out": "out of the channel", "aud": "audience", "bro": "a broadcaster"}


@dataclass
class _Notes:
    """The assumptions made so far, and whether events were missing."""

    items: list[str] = field(default_factory=list)
    partial: bool = False

    def add(self, text: str, *, partial: bool = False) -> None:
        if text not in self.items:
            self.items.append(text)
        self.partial = self.partial or partial


@dataclass(frozen=True)
class Rebuilt:
    """What :func:`rebuild` made: the scenario document and what it read.

    Attributes
    ----------
    doc : dict
        The scenario document (JSON-ready; ``lk.load_scenario`` reads it).
    bodies : int
        NCS bodies read.
    duplicates : int
        Bodies dropped as copies (same ``noticeId`` and ``notifyMs``) or resends.
    ignored : dict
        ``"productId/eventType"`` -> how many bodies of a kind the scenario does not read.
    """

    doc: dict[str, Any]
    bodies: int
    duplicates: int
    ignored: dict[str, int]


# --- small helpers --------------------------------------------------------------------------
def _listed(items: Iterable[Any]) -> str:
    items = [str(i) for i in items]
    return ", ".join(items[:_SHOWN]) + (", ..." if len(items) > _SHOWN else "")


def _utc(ms: int) -> str:
    """Format epoch milliseconds as ``2026-12-06T14:00:00.250Z``."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _seconds(ms: int) -> int | float:
    """Milliseconds as JSON seconds, exact (an integer when whole).

    >>> _seconds(12000), _seconds(12345), _seconds(-5)
    (12, 12.345, -0.005)
    """
    t = Fraction(ms, 1000)
    return t.numerator if t.denominator == 1 else float(t)


# --- reading the bodies once ----------------------------------------------------------------
Record = Notice | RtcEvent | RecorderEvent


def _notice_of(record: Record) -> Notice:
    return record if isinstance(record, Notice) else record.notice


def _dedupe(records: Sequence[Record]) -> tuple[list[Record], int]:
    """Each event once (its first notification), in an order that depends on the set only."""
    first: dict[tuple[Any, ...], Record] = {}
    for record in records:
        notice = _notice_of(record)
        key = (notice.notice_id, notice.notify_ms) if isinstance(record, Notice) \
            else record.identity
        kept = first.get(key)
        if kept is None or (notice.notify_ms, notice.notice_id) < \
                (_notice_of(kept).notify_ms, _notice_of(kept).notice_id):
            first[key] = record
    ordered = sorted(first.values(), key=lambda r: (repr(getattr(r, "identity", ())),
                                                    _notice_of(r).notice_id,
                                                    _notice_of(r).notify_ms))
    return ordered, len(records) - len(ordered)


def _channel(recs: Sequence[RecorderEvent], rtc: Sequence[RtcEvent],
             starts: Sequence[LoggedRequest], cname: str | None) -> str:
    """Choose the channel to rebuild: the one asked for, else the only one reported."""
    if cname is not None:
        return cname
    found = sorted({r.cname for r in recs} - {TEST_CNAME})
    if not found:
        found = sorted({q.body.get("cname") for q in starts if isinstance(q.body.get("cname"),
                                                                          str)})
    if not found:
        found = sorted({r.channel for r in rtc} - {TEST_CNAME})
    if len(found) == 1:
        return found[0]
    if not found:
        raise ScenarioError([Problem("", "no channel to rebuild: the events hold no recording "
                                         "event, no start request and no channel event "
                                         f"(other than the console's {TEST_CNAME!r} checks)")])
    raise ParameterError(f"the events report {len(found)} channels ({_listed(found)}): "
                         "say which one to rebuild (cname)")


# --- the recording session ------------------------------------------------------------------
@dataclass(frozen=True)
class _Session:
    sid: str | None
    t0_ms: int | None
    end_ms: int | None
    recorder_uid: str | None


def _pick_sid(recs: Sequence[RecorderEvent], sid: str | None, cname: str,
              notes: _Notes) -> str | None:
    sessions: dict[str, int] = {}
    for r in recs:
        sessions[r.sid] = min(sessions.get(r.sid, r.sendts), r.sendts)
    if sid is not None:
        if sid not in sessions:
            raise ParameterError(f"no recording session {sid!r} in channel {cname!r} "
                                 f"(its sessions: {_listed(sorted(sessions)) or 'none'})")
        return sid
    if not sessions:
        return None
    chosen = min(sessions, key=lambda s: (sessions[s], s))
    others = sorted(set(sessions) - {chosen})
    if others:
        notes.add(f"channel {cname!r} had {len(sessions)} recording sessions; this scenario is "
                  f"the first, sid {chosen} (the others, rebuilt with their sid: "
                  f"{_listed(others)})")
    return chosen


def _t0(recs: Sequence[RecorderEvent], notes: _Notes) -> int | None:
    slices = sorted(r.detail("startUtcMs") for r in recs if r.notice.event_type == 42)
    started = sorted(r.sendts for r in recs if r.notice.event_type == 40)
    if slices:
        also = f" ({_utc(started[0])} here)" if started else ""
        notes.add(f"t = 0 is the first recorder_slice_start (42) startUtcMs, {_utc(slices[0])}: "
                  "the time of the first segment's name and of the playlist's TIME tag, so "
                  "the scenario runs on the files' clock; recorder_started (40) only tells when "
                  f"the recorder reported starting{also}, before its first frame")
        restarts = [r for r in recs if r.notice.event_type == 42
                    and (r.detail("discontinueUtcMs") or 0) > 0]
        for r in sorted(restarts, key=lambda r: r.sendts):
            notes.add(f"the recording was discontinued at {_utc(r.detail('discontinueUtcMs'))} "
                      f"and a new slice started at {_utc(r.detail('startUtcMs'))} (event 42)")
        return int(slices[0])
    if started:
        notes.add(f"no recorder_slice_start (42) came: t = 0 is recorder_started (40) at "
                  f"{_utc(started[0])}, when the recorder reported starting (its first frame "
                  "is a little later)", partial=True)
        return started[0]
    return None


def _end(recs: Sequence[RecorderEvent], notes: _Notes) -> int | None:
    leaves = sorted((r.sendts, r.detail("leaveCode")) for r in recs if r.notice.event_type == 41)
    if not leaves:
        return None
    end, code = leaves[-1]
    said = "" if code is None else f", leaveCode {code}"
    notes.add(f"the recording ends at recorder_leave (41), {_utc(end)}{said}")
    return int(end)


def _sequence_gaps(recs: Sequence[RecorderEvent], notes: _Notes) -> None:
    seen = {r.sequence for r in recs}
    if not seen:
        return
    missing = sorted(set(range(max(seen) + 1)) - seen)
    if missing:
        notes.add(f"the recorder's events numbered {_listed(missing)} never came (its sequence "
                  "counts from 0): lost notifications", partial=True)


def _stream_states(recs: Sequence[RecorderEvent], t0_ms: int | None, notes: _Notes) -> None:
    for r in sorted((r for r in recs if r.notice.event_type in (43, 44)),
                    key=lambda r: (r.detail("utcMs") or r.sendts, r.notice.event_type)):
        kind = "audio" if r.notice.event_type == 43 else "video"
        at = r.detail("utcMs") or r.sendts
        when = _utc(at) if t0_ms is None else f"t = {_seconds(at - t0_ms)} s"
        state = {0: "receiving", 1: "not receiving"}.get(r.detail("state"), f"state "
                                                                            f"{r.detail('state')}")
        notes.add(f'the recorder reported {state} {kind} of stream "{r.detail("streamUid")}" '
                  f"at {when} (event {r.notice.event_type})")


def _video_reports(recs: Sequence[RecorderEvent], t0_ms: int, end_ms: int
                   ) -> list[dict[str, Any]]:
    """Return the session's event 44 reports as ``video_reports`` items, in time order."""
    out = []
    for r in sorted((r for r in recs if r.notice.event_type == 44 and r.detail("state") in (0, 1)),
                    key=lambda r: (r.detail("utcMs") or r.sendts, r.sequence)):
        at = min(max(int(r.detail("utcMs") or r.sendts), t0_ms), end_ms)
        stream = r.detail("streamUid")
        out.append({"t": _seconds(at - t0_ms), "stream": "0" if stream is None else str(stream),
                    "state": r.detail("state")})
    return out


def _session(recs: Sequence[RecorderEvent], *, cname: str, sid: str | None,
             notes: _Notes) -> _Session:
    chosen = _pick_sid(recs, sid, cname, notes)
    mine = [r for r in recs if r.sid == chosen]
    t0 = _t0(mine, notes)
    _sequence_gaps(mine, notes)
    _stream_states(mine, t0, notes)
    uids = sorted({r.uid for r in mine})
    return _Session(chosen, t0, _end(mine, notes), uids[0] if len(uids) == 1 else None)


# --- the requests -----------------------------------------------------------------------------
def _cname_of(q: LoggedRequest) -> Any:
    return q.body.get("cname")


def _choose_start(starts: Sequence[LoggedRequest], t0_ms: int | None, cname: str,
                  source: str | None, notes: _Notes) -> LoggedRequest:
    mine = sorted((q for q in starts if _cname_of(q) == cname), key=lambda q: (q.ts_ms, q.line))
    if not mine:
        raise ScenarioError([Problem("", f"no start request for channel {cname!r} (a line "
                                         f'"kind": "start" whose body.cname is {cname!r}): '
                                         "the scenario needs its layout and canvas")],
                            source=source)
    before = [q for q in mine if t0_ms is None or q.ts_ms <= t0_ms]
    chosen = before[-1] if before else mine[0]
    if len(mine) > 1:
        notes.add(f"{len(mine)} start requests were logged for the channel; the scenario uses "
                  f"the one sent at {_utc(chosen.ts_ms)}, the last before t = 0")
    return chosen


def _scenario_start(body: dict[str, Any]) -> dict[str, Any]:
    """Return the start body without its secrets (``token``, ``storageConfig``)."""
    client = body.get("clientRequest")
    if not isinstance(client, dict):
        return dict(body)
    kept = {k: v for k, v in client.items() if k not in ("token", "storageConfig")}
    return {**body, "clientRequest": kept}


@dataclass(frozen=True)
class _Planned:
    """A scenario event and where it came from (a request log line, or None)."""

    order: tuple[Any, ...]
    doc: dict[str, Any]
    line: int | None = None


def _layouts(updates: Sequence[LoggedRequest], start: LoggedRequest, cname: str, t0_ms: int,
             end_ms: int, notes: _Notes) -> list[_Planned]:
    later_starts = [q.ts_ms for q in updates if q.kind == "start" and _cname_of(q) == cname
                    and q.ts_ms > start.ts_ms]
    until = min(later_starts, default=None)
    planned = []
    for q in sorted(updates, key=lambda q: (q.ts_ms, q.line)):
        if q.kind != "updateLayout" or _cname_of(q) not in (cname, None) or \
                q.ts_ms < start.ts_ms or (until is not None and q.ts_ms >= until):
            continue
        if _cname_of(q) is None:
            notes.add("an updateLayout body without cname (a bare clientRequest) is taken to "
                      "be for this channel")
        t_ms = q.ts_ms - t0_ms
        if t_ms >= end_ms - t0_ms:
            notes.add(f"an updateLayout sent at {_utc(q.ts_ms)}, after the recording ended, "
                      "is left out")
            continue
        if t_ms < 0:
            notes.add(f"an updateLayout sent at {_utc(q.ts_ms)}, before t = 0 (the app's clock "
                      "is not Agora's), is put at t = 0")
            t_ms = 0
        planned.append(_Planned((t_ms, 2, q.ts_ms, q.line), {
            "t": _seconds(t_ms), "action": "update_layout", "body": q.body}, q.line))
    return planned


# --- the users --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Change:
    """A user's state from ``at_ms`` on; ``event`` is None for an assumed (lost) change."""

    at_ms: int
    state: str
    event: RtcEvent | None


def _changes(uid: str, events: Sequence[RtcEvent], notes: _Notes) -> list[_Change]:
    """Return the user's states in ``clientSeq`` order, lost events filled in (and noted)."""
    changes = [_Change(_BEFORE, "out", None)]
    for e in sorted(events, key=lambda e: (e.client_seq, e.ts, e.notice.event_type)):
        pre, post = _EFFECTS[e.notice.event_type]
        last = changes[-1]
        if last.state != pre:
            since = "before the recording (first in the join order: a guess)" \
                if last.at_ms == _BEFORE else "their previous event"
            notes.add(f"user {uid}: {_EVENT_WORDS[e.notice.event_type]} at {_utc(e.ts * 1000)} "
                      f"while {_STATE_WORDS[last.state]}: an event was lost; taken as "
                      f"{_STATE_WORDS[pre]} since {since}", partial=True)
            changes.append(_Change(last.at_ms, pre, None))
        changes.append(_Change(e.ts * 1000, post, e))
    return changes


def _on_off(changes: Sequence[_Change], *, host: bool) -> list[_Change]:
    """Return when the user is in the picture (host) or in the channel (audience).

    The last change of each second counts, repeats dropped; ``state`` is ``"on"`` or
    ``"off"``.
    """
    by_time: dict[int, _Change] = {}
    for change in changes:
        by_time[change.at_ms] = change
    result: list[_Change] = []
    for at, change in sorted(by_time.items()):
        on = change.state == "bro" if host else change.state != "out"
        state = "on" if on else "off"
        if (result[-1].state if result else "off") != state:
            result.append(_Change(at, state, change.event))
    return result


def _platform(uid: str, events: Sequence[RtcEvent], web_sdk: int, notes: _Notes) -> str:
    codes = [e.platform for e in sorted(events, key=lambda e: e.client_seq)
             if e.platform is not None]
    if not codes:
        notes.add(f"user {uid}: no event names the platform; taken as a native SDK")
        return "native"
    if len(set(codes)) > 1:
        notes.add(f"user {uid} came from several platforms "
                  f"({_listed(PLATFORM_NAMES.get(c, str(c)) for c in dict.fromkeys(codes))}); "
                  "the first is used")
    if codes[0] == _WEB:
        return "web3" if web_sdk == 3 else "web4"
    if codes[0] not in PLATFORM_NAMES:
        notes.add(f"user {uid}: platform code {codes[0]} is not one NCS documents; taken as a "
                  "native SDK")
    return "native"


def _first_notify(change: _Change) -> int:
    return change.event.notice.notify_ms if change.event is not None else 0


@dataclass(frozen=True)
class _User:
    order: tuple[Any, ...]
    doc: dict[str, Any]
    events: tuple[_Planned, ...]


def _user(uid: str, events: Sequence[RtcEvent], *, t0_ms: int, end_ms: int, web_sdk: int,
          live: bool, notes: _Notes) -> _User | None:
    changes = _changes(uid, events, notes)
    host = any(c.state == "bro" for c in changes)
    if not host and not live:
        notes.add(f"user {uid} was only ever audience, in a communication channel (start "
                  "channelType 0, where the scenario has no audience): left out")
        return None
    flips = _on_off(changes, host=host)
    at_start = [c for c in flips if c.at_ms <= t0_ms]
    during = [c for c in flips if t0_ms < c.at_ms < end_ms]
    present = bool(at_start) and at_start[-1].state == "on"
    if not present and not during:
        notes.add(f"user {uid} was not {'on camera' if host else 'in the channel'} while "
                  "the recording ran: left out")
        return None
    first = at_start[-1] if present else during[0]
    join_ms = 0 if present else first.at_ms - t0_ms
    doc: dict[str, Any] = {"uid": uid, "platform": _platform(uid, events, web_sdk, notes),
                           "role": "host" if host else "audience", "source": UNKNOWN,
                           "audio": UNKNOWN, "join": _seconds(join_ms)}
    if join_ms > 0:
        doc["join_tolerance"] = JOIN_TOLERANCE_S
    planned = tuple(
        _Planned((c.at_ms - t0_ms, 1, _first_notify(c), uid), {
            "t": _seconds(c.at_ms - t0_ms), "action": "join" if c.state == "on" else "leave",
            "uid": uid, "tolerance": JOIN_TOLERANCE_S})
        for c in (during if present else during[1:]))
    return _User((first.at_ms, _first_notify(first), uid), doc, planned)


def _same_second_joins(users: Sequence[_User], notes: _Notes) -> None:
    by_second: dict[int, list[str]] = defaultdict(list)
    for u in users:
        by_second[u.order[0]].append(u.doc["uid"])
    for at, uids in sorted(by_second.items()):
        if len(uids) > 1 and at != _BEFORE:
            notes.add(f"users {_listed(uids)} joined in the same second ({_utc(at)}); their "
                      "order (which sets the layout's order) follows Agora's first "
                      "notification of each join, which may not be the real order")


def _users(rtc: Sequence[RtcEvent], *, recorder_uid: str, t0_ms: int, end_ms: int,
           web_sdk: int, live: bool, notes: _Notes) -> list[_User]:
    by_uid: dict[str, list[RtcEvent]] = defaultdict(list)
    for e in rtc:
        if e.uid == recorder_uid:
            notes.add(f"uid {e.uid} is the recorder itself (start uid): not a user")
        elif e.client_type == _CLOUD_RECORDER:
            notes.add(f"uid {e.uid} is a cloud recorder (clientType 10): not a user")
        else:
            by_uid[e.uid].append(e)
    users = [u for uid, events in sorted(by_uid.items())
             if (u := _user(uid, events, t0_ms=t0_ms, end_ms=end_ms, web_sdk=web_sdk, live=live,
                            notes=notes)) is not None]
    users.sort(key=lambda u: u.order)
    _same_second_joins(users, notes)
    return users


# --- the standing notes -----------------------------------------------------------------------
def _standing_notes(web_sdk: int, notes: _Notes) -> None:
    sdk = "3.x (as told)" if web_sdk == 3 else "4.x (NCS does not say; web_sdk=3 says 3.x)"
    for text in (
            ("bodies with the same noticeId and notifyMs are one; a resend of an event (a "
             "later notifyMs) is read once"),
            ("users are real people: their pictures and sounds are unknown (source and audio "
             '"unknown", drawn by mix and preview as a grey striped placeholder, mixed as '
             "silence); their picture size is taken as 640x360"),
            (f"platform from the NCS code: 7 (Web) is Web SDK {sdk}; every other code is a "
             "native SDK"),
            ("a user's events are read in clientSeq order; changes within one second are read "
             "as the last of them"),
            (f"joins and leaves are at the RTC ts (whole seconds, Agora's server clock) with a "
             f"window (tolerance) of {JOIN_TOLERANCE_S} s"),
            ("broadcasters are drawn, audience members are not: a role change to audience (112) "
             "is a leave of the picture, to broadcaster (111) a join"),
            ("video mute and unmute times are unknown (NCS reports none): the scenario has no "
             "mute events"),
            ("the start body's token and storageConfig are left out (secrets; a local recording "
             "needs no bucket)"),
            "updateLayout events are at the time the app logged sending them (the app's clock)",
    ):
        notes.add(text)


# --- the document -----------------------------------------------------------------------------
def _fallback_times(session: _Session, start: LoggedRequest, rtc: Sequence[RtcEvent],
                    recs: Sequence[RecorderEvent], notes: _Notes) -> tuple[int, int]:
    """T = 0 and the end in epoch ms, from the next best report when the recorder's are lost."""
    t0 = session.t0_ms
    if t0 is None:
        t0 = start.ts_ms
        notes.add(f"no recorder_started (40) or recorder_slice_start (42) came: t = 0 is the "
                  f"app's logged start request, {_utc(t0)} (the recorder starts a little "
                  "later)", partial=True)
    end = session.end_ms
    if end is None:
        last = [r.sendts for r in recs if r.sid == session.sid] + [e.ts * 1000 + 1000
                                                                   for e in rtc]
        end = max([t0 + 1000, *last])
        notes.add(f"no recorder_leave (41) came: the recording is taken to end at the last "
                  f"reported time, {_utc(end)}", partial=True)
    if end <= t0:
        raise ScenarioError([Problem("", f"the recorder left ({_utc(end)}) before the "
                                         f"recording started ({_utc(t0)})")])
    return t0, end


def _live(body: dict[str, Any]) -> bool:
    client = body.get("clientRequest")
    config = client.get("recordingConfig") if isinstance(client, dict) else None
    return isinstance(config, dict) and config.get("channelType") == 1


def _document(*, cname: str, session: _Session, t0_ms: int, end_ms: int,
              start: LoggedRequest, users: Sequence[_User], planned: Sequence[_Planned],
              notes: _Notes) -> dict[str, Any]:
    doc: dict[str, Any] = {"cname": cname}
    if session.sid is not None and re.fullmatch(r"[0-9a-f]{32}", session.sid):
        doc["sid"] = session.sid
    elif session.sid is not None:
        notes.add(f"the session id {session.sid!r} is not 32 lowercase hex characters: left "
                  "out (a local recording makes its own)")
    doc.update(start_utc=_utc(t0_ms), duration=_seconds(end_ms - t0_ms),
               confidence="partial" if notes.partial else "full", notes=list(notes.items),
               start=_scenario_start(start.body), users=[u.doc for u in users],
               events=[p.doc for p in planned])
    return doc


def _line_path(line: int, path: str, prefix: str) -> str:
    rest = path[len(prefix):]
    return f"line {line}: body{rest}" if rest.startswith((".", "[")) or not rest else \
        f"line {line}: body.{rest}"


def _checked(doc: dict[str, Any], start: LoggedRequest, planned: Sequence[_Planned], *,
             events_source: str | None, requests_source: str | None) -> None:
    """Refuse the document as :func:`parse_scenario` would, naming request log lines."""
    try:
        parse_scenario(doc)
    except ScenarioError as exc:
        logged, other = [], []
        for p in exc.problems:
            match = re.match(r"events\[(\d+)\]\.body", p.path)
            line = planned[int(match[1])].line if match else None
            if p.path == "start" or p.path.startswith(("start.", "start[")):
                logged.append(Problem(_line_path(start.line, p.path, "start"), p.rule, p.value,
                                      p.hint))
            elif match and line is not None:
                logged.append(Problem(_line_path(line, p.path, match[0]), p.rule, p.value,
                                      p.hint))
            else:
                other.append(p)
        if logged:
            raise ScenarioError(logged, source=requests_source) from None
        raise ScenarioError(other, source=f"{events_source or 'events'} (the scenario built "
                                          "from it)") from None


def rebuild(events: Iterable[Any], requests: Iterable[Any], *, web_sdk: int = 4,
            cname: str | None = None, sid: str | None = None,
            events_source: str | None = None, requests_source: str | None = None) -> Rebuilt:
    """Rebuild the scenario of one recording session from NCS bodies and the app's request log.

    Parameters
    ----------
    events : iterable
        Decoded NCS bodies (or :class:`~layoutkit.scenario.ncs.Line` with their line
        numbers), RTC and recording products mixed, duplicates and disorder allowed.
    requests : iterable
        Decoded request log lines ``{"ts_ms", "kind": "start" | "updateLayout", "body"}``
        (or :class:`~layoutkit.scenario.ncs.Line`).
    web_sdk : {4, 3}
        The Web SDK major version of users on platform 7 (NCS does not report it).
    cname : str, optional
        The channel (default: the only one the bodies report a recording of).
    sid : str, optional
        The recording session (default: the channel's first).
    events_source, requests_source : str, optional
        The files' names, for messages.

    Returns
    -------
    Rebuilt

    Raises
    ------
    ScenarioError
        A bad line (its file, ``line N: path``, the rule, the value), a channel without a
        start request, or a request body the scenario refuses (named by its line).
    ParameterError
        Several channels and no ``cname``, or an unknown ``sid``.
    """
    if web_sdk not in (3, 4):
        raise ParameterError(f"web_sdk must be 3 or 4 (got {web_sdk!r})")
    records = check_notices(numbered(events), source=events_source)
    logged = check_requests(numbered(requests), source=requests_source)
    unique, duplicates = _dedupe(records)
    recs = [r for r in unique if isinstance(r, RecorderEvent)]
    rtc_all = [r for r in unique if isinstance(r, RtcEvent)]
    starts = [q for q in logged if q.kind == "start"]
    channel = _channel(recs, rtc_all, starts, cname)
    notes = _Notes()
    _standing_notes(web_sdk, notes)
    session = _session([r for r in recs if r.cname == channel], cname=channel, sid=sid,
                       notes=notes)
    start = _choose_start(starts, session.t0_ms, channel, requests_source, notes)
    rtc = [e for e in rtc_all if e.channel == channel]
    t0_ms, end_ms = _fallback_times(session, start, rtc, recs, notes)
    recorder = str(start.body.get("uid", session.recorder_uid))
    users = _users(rtc, recorder_uid=recorder, t0_ms=t0_ms, end_ms=end_ms, web_sdk=web_sdk,
                   live=_live(start.body), notes=notes)
    planned = sorted([p for u in users for p in u.events]
                     + _layouts(logged, start, channel, t0_ms, end_ms, notes),
                     key=lambda p: p.order)
    doc = _document(cname=channel, session=session, t0_ms=t0_ms, end_ms=end_ms, start=start,
                    users=users, planned=planned, notes=notes)
    reports = _video_reports([r for r in recs if r.cname == channel and r.sid == session.sid],
                             t0_ms, end_ms)
    if reports:
        doc["video_reports"] = reports
    _checked(doc, start, planned, events_source=events_source, requests_source=requests_source)
    ignored: dict[str, int] = defaultdict(int)
    for r in unique:
        if isinstance(r, Notice):
            ignored[f"{r.product}/{r.event_type}"] += 1
    return Rebuilt(doc, len(records), duplicates, dict(sorted(ignored.items())))


def scenario_from_events(events: Iterable[Any], requests: Iterable[Any], *, web_sdk: int = 4,
                         cname: str | None = None, sid: str | None = None) -> dict[str, Any]:
    """Return the scenario document of :func:`rebuild` (see there)."""
    return rebuild(events, requests, web_sdk=web_sdk, cname=cname, sid=sid).doc
