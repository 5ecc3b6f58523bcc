"""The service's notification callbacks: cloud-recording NCS bodies POSTed to one URL.

Each event is a JSON body with the cloud's envelope (``noticeId``, ``productId`` 3,
``eventType``, ``notifyMs``, ``payload`` ``{cname, uid, sid, sequence, sendts, serviceType,
details}``) signed with ``Agora-Signature-V2`` (hex HMAC-SHA256 of the raw body) and
``Agora-Signature`` (hex HMAC-SHA1).  One thread sends them in the order they happened; a
receiver that does not answer 200 within 10 s gets the body again, at most three more
times, after growing waits (``notifyMs`` updated on each resend, as the cloud does).  The
secret is kept only to sign; it is never printed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from ..ncs.receiver import SIGNATURE_HEADER, signature_v2

__all__ = ["EVENT_NAMES", "RETRY_WAITS_S", "Notifier", "envelope", "signature_v1"]

#: msgName and serviceType (0 service, 1 recorder, 2 uploader) of each event type sent.
EVENT_NAMES: dict[int, tuple[str, int]] = {
    11: ("session_exit", 0),
    30: ("uploader_started", 2),
    31: ("uploaded", 2),
    40: ("recorder_started", 1),
    41: ("recorder_leave", 1),
    42: ("recorder_slice_start", 1),
}
#: Seconds before each resend of a body the receiver did not take (three resends).
RETRY_WAITS_S: tuple[float, ...] = (1.0, 2.0, 4.0)
#: Seconds the receiver has to answer (the cloud's 10 s).
ANSWER_TIMEOUT_S = 10.0


def signature_v1(body: bytes, secret: str) -> str:
    """Return the ``Agora-Signature`` of ``body``: hex HMAC-SHA1 with the NCS secret.

    Examples
    --------
    >>> len(signature_v1(b"{}", "s"))
    40
    """
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def envelope(event_type: int, *, cname: str, uid: str, sid: str, sequence: int,
             sendts: int, details: dict[str, Any], notice_id: str) -> dict[str, Any]:
    """One cloud-recording notification body (``notifyMs`` set when it is sent).

    Examples
    --------
    >>> body = envelope(40, cname="c", uid="9", sid="s", sequence=0, sendts=1,
    ...                 details={"status": 0}, notice_id="n")
    >>> body["productId"], body["payload"]["details"]
    (3, {'msgName': 'recorder_started', 'status': 0})
    """
    name, service_type = EVENT_NAMES[event_type]
    return {"noticeId": notice_id, "productId": 3, "eventType": event_type, "notifyMs": sendts,
            # real bodies carry it here too (docs/cloud.md#cloud-notifications, the sample)
            "sid": sid,
            "payload": {"cname": cname, "uid": uid, "sid": sid, "sequence": sequence,
                        "sendts": sendts, "serviceType": service_type,
                        "details": {"msgName": name, **details}}}


@dataclass
class _Sequence:
    """The next ``sequence`` of each session (from 0)."""

    counters: dict[str, int] = field(default_factory=dict)

    def next(self, sid: str) -> int:
        value = self.counters.get(sid, 0)
        self.counters[sid] = value + 1
        return value


class Notifier:
    """Send notification bodies to ``url`` in order, signed, with the cloud's resends.

    Parameters
    ----------
    url : str
        The receiver (``http://`` or ``https://``).
    secret : str
        The NCS secret both signatures are made with.
    retry_waits : sequence of float
        Seconds before each resend (default :data:`RETRY_WAITS_S`).
    log : text stream, optional
        Where a body given up on is reported (one line, no secret); default stderr.
    """

    def __init__(self, url: str, secret: str, *, retry_waits: Sequence[float] = RETRY_WAITS_S,
                 log: IO[str] | None = None) -> None:
        self.url = url
        self._secret = secret
        self._waits = tuple(retry_waits)
        self._log = log
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._sequence = _Sequence()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.delivered = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name="layoutkit-notify")
        self._thread.start()

    def __repr__(self) -> str:
        """Show the URL, never the secret."""
        return f"Notifier({self.url!r}, secret=***)"

    def send(self, event_type: int, *, cname: str, uid: str, sid: str,
             **details: Any) -> None:
        """Queue one event of session ``sid`` (its ``sequence`` and ``sendts`` are now's)."""
        with self._lock:  # sequence numbers in the order the events are queued
            body = envelope(event_type, cname=cname, uid=uid, sid=sid,
                            sequence=self._sequence.next(sid), sendts=int(time.time() * 1000),
                            details=details, notice_id=uuid.uuid4().hex)
            self._queue.put(body)

    def _post(self, body: dict[str, Any]) -> bool:
        body["notifyMs"] = int(time.time() * 1000)
        raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(self.url, raw, method="POST", headers={
            "Content-Type": "application/json", SIGNATURE_HEADER: signature_v2(raw, self._secret),
            "Agora-Signature": signature_v1(raw, self._secret)})
        try:
            with urllib.request.urlopen(request, timeout=ANSWER_TIMEOUT_S) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _deliver(self, body: dict[str, Any]) -> None:
        for wait in (0.0, *self._waits):
            if wait and self._closed.wait(wait):
                break
            if self._post(body):
                self.delivered += 1
                return
        self.failed += 1
        print(f"layoutkit serve: notification {body['eventType']} ({body['noticeId']}) not "
              f"taken by {self.url} after {1 + len(self._waits)} tries",
              file=self._log or sys.stderr)

    def _run(self) -> None:
        while True:
            body = self._queue.get()
            try:
                if body is None:
                    return
                self._deliver(body)
            finally:
                self._queue.task_done()

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for every queued body to be sent or given up on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.05)
        return False

    def close(self, *, timeout: float = 5.0) -> None:
        """Send what is queued (up to ``timeout`` s), then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)
        self._closed.set()
        self._thread.join(1.0)
