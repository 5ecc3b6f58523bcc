"""Resources and sessions of the local service, with the cloud's answers.

The cloud's endpoints and codes: docs/cloud.md#cloud-endpoints.

A resource comes from ``acquire`` and lives five minutes unless ``start`` uses it; used,
it is the recording's for ``resourceExpiredHour`` hours.  Every refusal is a
:class:`CloudAnswer` holding the HTTP status and the cloud's ``code`` and ``reason``:

=====================================================  ======  =====================
case                                                   HTTP    code
=====================================================  ======  =====================
a body breaks a rule of ``validate``                   400     2
a second ``start`` with another body                   201     7 already started
``start`` with a cname/uid the resource was not for    400     432
``start`` more than 5 minutes after ``acquire``        400     433 resource expired
a task with the same cname and uid is running          400     53 task conflict
unknown resource, unknown sid, a session that ended    404     404 failed to find worker
``stop`` after ``stop`` (or after the idle exit)       400     49 invalid operation
=====================================================  ======  =====================

A ``start`` sent again with the very same body (the client's retry after no answer) gets
the first answer again and starts nothing.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import Session

__all__ = ["RESOURCE_WINDOW_S", "CloudAnswer", "Registry", "Resource"]

#: Seconds a resource may wait for its ``start`` (the cloud's five minutes).
RESOURCE_WINDOW_S = 300.0


class CloudAnswer(Exception):
    """A refusal: HTTP ``status`` and a JSON body ``{"code", "reason", ...}``."""

    def __init__(self, status: int, code: int, reason: str, **fields: Any) -> None:
        super().__init__(reason)
        self.status = status
        self.body: dict[str, Any] = {**fields, "code": code, "reason": reason}


def not_found(**fields: Any) -> CloudAnswer:
    """Return the cloud's 404 (its real body also names the command's ``payload.message``)."""
    return CloudAnswer(404, 404, "failed to find worker", **fields)


@dataclass
class Resource:
    """One ``acquire``: for one appid, cname and uid.

    ``session`` is the object the service keeps for the started recording (None before
    ``start``); ``start_body`` the canonical text of the body that started it.
    """

    resource_id: str
    appid: str
    cname: str
    uid: str
    expired_hour: int
    acquired: float = field(default_factory=time.monotonic)
    start_body: str | None = None
    sid: str | None = None
    started: float | None = None
    session: Session | None = None

    def expired(self, now: float) -> bool:
        """Past its window to start, or past ``resourceExpiredHour`` after it started."""
        if self.started is None:
            return now - self.acquired > RESOURCE_WINDOW_S
        return now - self.started > self.expired_hour * 3600


def canonical(doc: Any) -> str:
    """Return a body's text for comparing two bodies (key order and spacing ignored)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


class Registry:
    """Every resource of the service, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._resources: dict[str, Resource] = {}

    @property
    def lock(self) -> threading.RLock:
        """Held while a call changes a resource (start, stop)."""
        return self._lock

    def acquire(self, appid: str, cname: str, uid: str, *, expired_hour: int) -> Resource:
        """Make a new resource (its id is opaque, like the cloud's: long URL-safe text)."""
        resource = Resource(secrets.token_urlsafe(96), appid, cname, uid, expired_hour)
        with self._lock:
            self._resources[resource.resource_id] = resource
        return resource

    def resource(self, appid: str, resource_id: str, *, for_start: bool = False) -> Resource:
        """Return the resource, or raise the cloud's refusal (unknown: 404; old: 433 at start)."""
        with self._lock:
            resource = self._resources.get(resource_id)
        if resource is None or resource.appid != appid:
            raise not_found(resourceId=resource_id)
        if for_start and resource.started is None and resource.expired(time.monotonic()):
            raise CloudAnswer(400, 433, "resource expired: start must follow acquire within "
                              "5 minutes", resourceId=resource_id)
        return resource

    def session(self, appid: str, resource_id: str, sid: str) -> Resource:
        """Return the started resource whose sid is ``sid`` (404 otherwise)."""
        resource = self.resource(appid, resource_id)
        if resource.sid != sid or resource.session is None:
            raise not_found(resourceId=resource_id, sid=sid)
        return resource

    def running(self, appid: str, cname: str, uid: str) -> Resource | None:
        """Return a started resource of the same task (appid, cname, uid) still recording."""
        with self._lock:
            for resource in self._resources.values():
                if (resource.appid, resource.cname, resource.uid) == (appid, cname, uid) \
                        and resource.session is not None and resource.session.active:
                    return resource
        return None

    def sessions(self) -> list[Session]:
        """Every started session."""
        with self._lock:
            return [r.session for r in self._resources.values() if r.session is not None]
