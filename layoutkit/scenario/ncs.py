"""Agora's notification bodies (NCS webhooks) and the app's request log, checked line by line.

Pure: the records come in decoded (:class:`Line`: a JSON value and its line number); what the
scenario builder needs of them comes out as frozen records, or a :class:`ScenarioError`
naming each bad line, its JSON path, the rule and the value.

An NCS body is ``{noticeId, productId, eventType, notifyMs, payload}``.  Only what the
builder uses is checked: the envelope of every line, then

* RTC channel events (``productId`` 1) 103-108, 111, 112: ``payload.channelName``, ``uid`` (a
  number, or a string of digits), ``clientSeq``, ``ts`` (Unix seconds), and when given
  ``platform``, ``clientType``, ``reason``;
* cloud-recording events (``productId`` 3): ``payload.cname``, ``sid``, ``uid``, ``sequence``,
  ``sendts`` (ms), ``details`` (an object); 42 needs ``details.startUtcMs``; 43 / 44 read
  ``details.streamUid``, ``state`` and ``utcMs`` (or ``UtcMs``).

Every other body (other products, channel create / destroy, uploader progress, ...) is kept
as an envelope only, and counted.

A request log line is ``{"ts_ms": <epoch ms>, "kind": "start" | "updateLayout", "body": {...}}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Problem, ScenarioError
from ..request.checks import BAD, MISSING, Problems, as_int, as_str, join_path
from ..request.reader import Reader

__all__ = [
    "MAX_EPOCH_MS",
    "RECORDING",
    "RTC",
    "RTC_EVENTS",
    "Line",
    "LoggedRequest",
    "Notice",
    "RecorderEvent",
    "RtcEvent",
    "check_notices",
    "check_requests",
    "numbered",
]

RTC = 1
RECORDING = 3
#: RTC channel events the builder reads: joins, leaves and role changes.
RTC_EVENTS = frozenset({103, 104, 105, 106, 107, 108, 111, 112})
#: No time of a notification is later than the year 9999 (ms since 1970).
MAX_EPOCH_MS = 253_402_300_799_999
_MAX_UID = 2**32 - 1
ENVELOPE_KEYS = ("noticeId", "productId", "eventType", "notifyMs", "payload")


@dataclass(frozen=True)
class Line:
    """One decoded JSON line and where it came from (``number`` counts from 1)."""

    number: int
    doc: Any


@dataclass(frozen=True)
class Notice:
    """A body's envelope: the duplicate key ``(notice_id, notify_ms)``, its kind, its line."""

    line: int
    notice_id: str
    notify_ms: int
    product: int
    event_type: int


@dataclass(frozen=True)
class RtcEvent:
    """An RTC channel join, leave or role change (``ts`` whole seconds, server clock)."""

    notice: Notice
    channel: str
    uid: str
    client_seq: int
    ts: int
    platform: int | None = None
    client_type: int | None = None
    reason: int | None = None

    @property
    def identity(self) -> tuple[Any, ...]:
        """Return what makes two bodies the same event (a resend changes only ``notifyMs``)."""
        return ("rtc", self.channel, self.uid, self.notice.event_type, self.client_seq, self.ts)


@dataclass(frozen=True)
class RecorderEvent:
    """A cloud-recording event of one session (``sendts`` ms UTC)."""

    notice: Notice
    cname: str
    sid: str
    uid: str
    sequence: int
    sendts: int
    details: tuple[tuple[str, Any], ...] = ()

    @property
    def identity(self) -> tuple[Any, ...]:
        """Return what makes two bodies the same event (a resend changes only ``notifyMs``)."""
        return ("rec", self.cname, self.sid, self.sequence, self.notice.event_type)

    def detail(self, key: str, default: Any = None) -> Any:
        """Return a ``details`` value (checked for the keys the builder reads)."""
        return dict(self.details).get(key, default)


@dataclass(frozen=True)
class LoggedRequest:
    """A line of the app's request log (the body is kept as decoded; the scenario checks it)."""

    line: int
    ts_ms: int
    kind: str
    body: Any


def numbered(records: Iterable[Any]) -> list[Line]:
    """Return records as :class:`Line` (those that are not get numbers 1, 2, ... in order).

    Examples
    --------
    >>> numbered([{"a": 1}, Line(7, {"b": 2})])
    [Line(number=1, doc={'a': 1}), Line(number=7, doc={'b': 2})]
    """
    return [r if isinstance(r, Line) else Line(i + 1, r) for i, r in enumerate(records)]


# --- checkers: (value, path, out) -> value or BAD ------------------------------------------
def _as_epoch_ms(value: Any, path: str, out: Problems) -> Any:
    return as_int(value, path, out, lo=0, hi=MAX_EPOCH_MS)


def _as_epoch_s(value: Any, path: str, out: Problems) -> Any:
    number = as_int(value, path, out, lo=0, hi=MAX_EPOCH_MS // 1000)
    if number is not BAD and number > 10**11:
        out.error(path, "must be Unix seconds (this looks like milliseconds)", value)
        return BAD
    return number


def _as_any_uid(value: Any, path: str, out: Problems) -> Any:
    """Check a uid as NCS sends it: a number (RTC) or a string of digits (recording)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str) and text.isascii() and text.isdigit() and \
            0 <= int(text) <= _MAX_UID and str(int(text)) == text:
        return text
    out.error(path, f"must be a uid: an integer 0..{_MAX_UID} (a number or a string of "
                    "digits)", value)
    return BAD


def _as_object(value: Any, path: str, out: Problems) -> Any:
    if isinstance(value, dict):
        return value
    out.error(path, "must be an object", value)
    return BAD


def _as_id(value: Any, path: str, out: Problems) -> Any:
    return as_str(value, path, out, nonempty=True)


# --- one line -----------------------------------------------------------------------------
class _LineReader(Reader):
    """A :class:`Reader` that lets unknown keys be (NCS adds fields as it likes)."""

    def __init__(self, value: Any, path: str, out: Problems) -> None:
        super().__init__(value, path, out, keys=tuple(value) if isinstance(value, dict) else ())


def _envelope(r: Reader, number: int) -> Notice | None:
    notice_id = r.field("noticeId", _as_id, None, required=True)
    product = r.field("productId", as_int, None, required=True)
    event_type = r.field("eventType", as_int, None, required=True)
    notify_ms = r.field("notifyMs", _as_epoch_ms, None, required=True)
    r.field("payload", _as_object, None, required=True)
    if None in (notice_id, product, event_type, notify_ms) or not r.present:
        return None
    return Notice(number, notice_id, notify_ms, product, event_type)


def _rtc(notice: Notice, p: Reader) -> RtcEvent | None:
    channel = p.field("channelName", as_str, None, required=True)
    uid = p.field("uid", _as_any_uid, None, required=True)
    client_seq = p.field("clientSeq", as_int, None,
                         required="(it orders the user's own events)", lo=0)
    ts = p.field("ts", _as_epoch_s, None, required=True)
    platform = p.field("platform", as_int, None, lo=0)
    client_type = p.field("clientType", as_int, None, lo=0)
    reason = p.field("reason", as_int, None, lo=0)
    if None in (channel, uid, client_seq, ts) or p.bad:
        return None
    return RtcEvent(notice, channel, uid, client_seq, ts, platform, client_type, reason)


def _details(notice: Notice, d: Reader) -> tuple[tuple[str, Any], ...]:
    """Check and return the ``details`` keys the builder reads."""
    wanted: dict[str, Any] = {}
    if notice.event_type == 42:
        wanted["startUtcMs"] = d.field("startUtcMs", _as_epoch_ms, None, required=True)
        wanted["discontinueUtcMs"] = d.field("discontinueUtcMs", _as_epoch_ms, None)
    if notice.event_type in (43, 44):
        wanted["streamUid"] = d.field("streamUid", _as_any_uid, None)
        wanted["state"] = d.field("state", as_int, None, required=True)
        key = "UtcMs" if d.has("UtcMs") and not d.has("utcMs") else "utcMs"
        wanted["utcMs"] = d.field(key, _as_epoch_ms, None)
    if notice.event_type == 41:
        wanted["leaveCode"] = d.field("leaveCode", as_int, None)
    return tuple(sorted((k, v) for k, v in wanted.items() if v is not None))


def _recording(notice: Notice, p: Reader) -> RecorderEvent | None:
    cname = p.field("cname", as_str, None, required=True)
    sid = p.field("sid", _as_id, None, required=True)
    uid = p.field("uid", _as_any_uid, None, required=True)
    sequence = p.field("sequence", as_int, None, required=True, lo=0)
    sendts = p.field("sendts", _as_epoch_ms, None, required=True)
    d = _LineReader(p.data.get("details", MISSING), p.at("details"), p.out)
    if not p.has("details"):
        p.error("details", "is required")
    details = _details(notice, d)
    if None in (cname, sid, uid, sequence, sendts) or p.bad or d.bad:
        return None
    return RecorderEvent(notice, cname, sid, uid, sequence, sendts, details)


def _notice(line: Line, out: Problems) -> Notice | RtcEvent | RecorderEvent | None:
    """One body as a record (None when it is bad; its problems are in ``out``)."""
    r = _LineReader(line.doc, "", out)
    notice = _envelope(r, line.number)
    if notice is None:
        return None
    p = _LineReader(r.data["payload"], "payload", out)
    if notice.product == RTC and notice.event_type in RTC_EVENTS:
        return _rtc(notice, p)
    if notice.product == RECORDING:
        return _recording(notice, p)
    return notice


def _at_line(number: int, problems: Sequence[Problem]) -> list[Problem]:
    """Problems of one line, their paths prefixed ``line N: ``."""
    return [Problem(f"line {number}: {p.path or '<root>'}", p.rule, p.value, p.hint, p.severity)
            for p in problems]


def check_notices(lines: Sequence[Line], *, source: str | None = None
                  ) -> list[Notice | RtcEvent | RecorderEvent]:
    """Every NCS body as a record, in the order given.

    Raises
    ------
    ScenarioError
        One problem per broken field, its path ``line N: payload.uid`` (``source`` names the
        file).

    Examples
    --------
    >>> body = {"noticeId": "n1", "productId": 1, "eventType": 103, "notifyMs": 1000,
    ...         "payload": {"channelName": "c", "uid": 7, "clientSeq": 1, "ts": 5}}
    >>> check_notices([Line(1, body)])[0].uid
    '7'
    >>> body["payload"]["uid"] = "x"
    >>> check_notices([Line(3, body)], source="events.jsonl")
    Traceback (most recent call last):
    layoutkit.errors.ScenarioError: code 2: line 3: payload.uid: must be a uid: ... (got "x")
    """
    records: list[Notice | RtcEvent | RecorderEvent] = []
    problems: list[Problem] = []
    for line in lines:
        out = Problems()
        record = _notice(line, out)
        problems += _at_line(line.number, out.of("error"))
        if record is not None:
            records.append(record)
    if problems:
        raise ScenarioError(problems, source=source)
    return records


_REQUEST_KEYS = ("ts_ms", "kind", "body")
REQUEST_KINDS = ("start", "updateLayout")


def check_requests(lines: Sequence[Line], *, source: str | None = None) -> list[LoggedRequest]:
    """Check every line of the app's request log and return it as a :class:`LoggedRequest`.

    The bodies are not checked here: the scenario built from them checks the ones it uses,
    naming their lines.

    Raises
    ------
    ScenarioError
        One problem per broken field (``line N: kind``), ``source`` naming the file.

    Examples
    --------
    >>> check_requests([Line(2, {"ts_ms": 5, "kind": "stop", "body": {}})])
    Traceback (most recent call last):
    layoutkit.errors.ScenarioError: code 2: line 2: kind: must be one of "start", ... (got "stop")
    """
    logged: list[LoggedRequest] = []
    problems: list[Problem] = []
    for line in lines:
        out = Problems()
        r = Reader(line.doc, "", out, _REQUEST_KEYS)
        ts_ms = r.field("ts_ms", _as_epoch_ms, None, required=True)
        kind = r.text("kind", None, required=True, choices=REQUEST_KINDS)
        body = r.field("body", _as_object, None, required=True)
        problems += _at_line(line.number, out.of("error"))
        if r.present and None not in (ts_ms, kind, body) and not out.of("error"):
            logged.append(LoggedRequest(line.number, ts_ms, kind, body))
    if problems:
        raise ScenarioError(problems, source=source)
    return logged


def where(line: int, path: str) -> str:
    """Return ``line N: path``, the path of a problem in a line."""
    return f"line {line}: {join_path('', path) or '<root>'}"
