"""One started recording of the local service: its files, uploads, events and answers.

A session starts its :class:`~.live.LiveRecording` at once (time 0 of the channel is the
``start`` call) and keeps one watcher thread that, when the recording ends (``stop``, the
idle exit, an error), sends ``recorder_leave`` (41), waits for the uploads, sends
``uploaded`` (31) and ``session_exit`` (11).  ``stop`` waits for the recording's last
files and their upload for at most :data:`STOP_BUDGET_S` seconds so that it always answers
within the client's 10 s; ``uploadingStatus`` then says whether everything is in the bucket.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..cloudfiles.naming import epoch_ms, new_sid
from ..cloudfiles.server_response import file_entry
from ..profile import DEFAULT_PROFILE, Profile
from ..request.model import LayoutSettings, StartRequest, UpdateRequest
from ..scenario import Scenario
from .channel import live_scenario, with_layout, with_subscriptions
from .live import LiveRecording
from .notify import Notifier
from .state import CloudAnswer, Resource
from .uploads import SegmentUploads

__all__ = ["LEAVE_NO_USERS", "LEAVE_STOPPED", "STOP_BUDGET_S", "Session"]

#: Seconds ``stop`` waits for the last files and their upload before it answers.
STOP_BUDGET_S = 8.0
#: ``leaveCode`` of ``recorder_leave`` after ``stop`` (the recorder is told to quit: SIGINT).
LEAVE_STOPPED = 2
#: ``leaveCode`` after ``maxIdleTime`` with nobody in the channel.
LEAVE_NO_USERS = 4
#: ``leaveCode`` when the recorder could not go on (an unusable source, a full disk).
LEAVE_INIT_FAILED = 0
#: Seconds the watcher waits for the uploads after the recording ends.
UPLOAD_WAIT_S = 600.0


class Session:
    """A started recording (see the module docs).

    Parameters
    ----------
    resource : Resource
        Its resource (cname, uid, lifetime).
    start : StartRequest
        The ``start`` body.
    base : Scenario
        The service's channel (users, events).
    root : Path
        Its own folder (files under ``fileNamePrefix``, ``serverResponse.json``).
    s3_endpoint : str or None
        Where the files are uploaded (``storageConfig.bucket``); None: kept locally only.
    notifier : Notifier or None
        Where the events go.
    profile : Profile
        Behaviour choices, as for ``mix``.
    """

    def __init__(self, resource: Resource, start: StartRequest, base: Scenario, *, root: Path,
                 s3_endpoint: str | None, notifier: Notifier | None,
                 profile: Profile = DEFAULT_PROFILE) -> None:
        self.resource = resource
        self.sid = new_sid()
        self.cname, self.uid = start.cname, start.uid
        now = datetime.now(UTC)  # to the millisecond, as the file names and callbacks
        self.start_utc = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self.notifier = notifier
        self.stop_requested = False
        self.finished = threading.Event()
        horizon = Fraction(resource.expired_hour * 3600)
        scenario = live_scenario(base, start, sid=self.sid, start_utc=self.start_utc,
                                 horizon=horizon)
        self.uploads = self._uploads(root, start, s3_endpoint)
        self.recording = LiveRecording(scenario, root, profile=profile,
                                       hand_over=self.uploads.put if self.uploads else None,
                                       notify=self._event)
        self._event(40, {"status": 0})
        if self.uploads is not None:
            self._event(30, {"status": 0})
        self.recording.start()
        threading.Thread(target=self._watch, daemon=True,
                         name=f"layoutkit-session-{self.sid}").start()

    def _uploads(self, root: Path, start: StartRequest,
                 endpoint: str | None) -> SegmentUploads | None:
        from ..io.s3 import S3Settings, uploader_from_storage_config

        if endpoint is None or start.storage_config is None:
            return None
        storage = start.storage_config
        return SegmentUploads(root, lambda: uploader_from_storage_config(
            storage, settings=S3Settings(endpoint_url=endpoint, retries=2)))

    def _event(self, event_type: int, details: dict[str, Any]) -> None:
        if self.notifier is not None:
            self.notifier.send(event_type, cname=self.cname, uid=self.uid, sid=self.sid,
                               **details)

    # ------------------------------------------------------------------ state
    @property
    def active(self) -> bool:
        """Recording, and no ``stop`` yet."""
        return not self.stop_requested and not self.recording.done.is_set()

    def _leave_code(self) -> int:
        return {"stop": LEAVE_STOPPED, "expired": LEAVE_STOPPED, "idle": LEAVE_NO_USERS}.get(
            self.recording.end_reason or "", LEAVE_INIT_FAILED)

    def _watch(self) -> None:
        self.recording.done.wait()
        self._event(41, {"leaveCode": self._leave_code()})
        if self.uploads is not None:
            self.uploads.wait(UPLOAD_WAIT_S)
            uploaded = self.uploads.status == "uploaded"
            self.uploads.close()
            if uploaded and self.recording.server_response:
                self._event(31, {"status": 0, "fileList": self._uploaded_list()})
        for problem in (self.recording.error, self.uploads.error if self.uploads else None):
            if problem:  # the service's log: the answers only say uploadingStatus "unknown"
                print(f"layoutkit serve: recording {self.sid}: {problem}", file=sys.stderr)
        self._event(11, {"exitStatus": 0 if self.recording.error is None else 1})
        self.finished.set()

    def _uploaded_list(self) -> list[dict[str, Any]]:
        """Return ``fileList`` of ``uploaded``: MP4 parts first, then the playlist.

        See docs/cloud.md#cloud-file-list.
        """
        response = self.recording.server_response or {}
        listed = response.get("fileList")
        if isinstance(listed, str):
            listed = [file_entry(listed, self.recording.track_type, self.start_utc)]
        entries = list(listed or [])
        return [*entries[1:], *entries[:1]]

    # ------------------------------------------------------------------ calls
    def ids(self) -> dict[str, Any]:
        """``{cname, uid, resourceId, sid}`` of every answer."""
        return {"cname": self.cname, "uid": self.uid,
                "resourceId": self.resource.resource_id, "sid": self.sid}

    def _check_task(self, cname: str, uid: str) -> None:
        if (cname, uid) != (self.cname, self.uid):
            raise CloudAnswer(400, 432, f"cname {cname!r} and uid {uid!r} do not match the "
                              f"resource's ({self.cname!r}, {self.uid!r})", **self.ids())

    def _check_alive(self) -> None:
        if not self.active:
            raise CloudAnswer(404, 404, "failed to find worker", **self.ids())

    def query(self) -> dict[str, Any]:
        """Answer ``query`` while recording (404 once it has ended)."""
        self._check_alive()
        written = self.recording.playlist_written
        sent = bool(self.uploads.sent) if self.uploads else written
        json_mode = "mp4" in self.recording.scenario.start.recording_file_config.av_file_type
        listed: Any = self.recording.key if written else ""
        if json_mode:
            listed = [file_entry(self.recording.key, self.recording.track_type, self.start_utc)] \
                if written else []
        return {**self.ids(), "serverResponse": {
            "status": 5 if sent else 4, "fileListMode": "json" if json_mode else "string",
            "fileList": listed, "sliceStartTime": epoch_ms(self.start_utc)}}

    def update_layout(self, cname: str, uid: str, layout: LayoutSettings) -> dict[str, Any]:
        """Apply an ``updateLayout`` body from now on."""
        self._check_task(cname, uid)
        self._check_alive()
        self.recording.change(lambda scenario, t: with_layout(scenario, t, layout))
        return self.ids()

    def update(self, request: UpdateRequest) -> dict[str, Any]:
        """Apply an ``update`` body's subscriptions from now on."""
        self._check_task(request.cname, request.uid)
        self._check_alive()
        lists = (request.subscribe_audio_uids, request.unsubscribe_audio_uids,
                 request.subscribe_video_uids, request.unsubscribe_video_uids)
        if any(x is not None for x in lists):
            self.recording.change(lambda scenario, t: with_subscriptions(scenario, request))
        return self.ids()

    def stop(self, cname: str, uid: str, *, async_stop: bool) -> dict[str, Any]:
        """End the recording and answer with its files (code 49 when already ended)."""
        self._check_task(cname, uid)
        if not self.active:
            raise CloudAnswer(400, 49, "invalid operation: the recording is already stopped "
                              "or exiting", **self.ids())
        self.stop_requested = True
        self.recording.stop()
        deadline = time.monotonic() + (0.0 if async_stop else STOP_BUDGET_S)
        self.recording.done.wait(max(0.0, deadline - time.monotonic()))
        if self.uploads is not None:
            self.uploads.wait(max(0.0, deadline - time.monotonic()))
        return {**self.ids(), "serverResponse": self._stop_response()}

    def _stop_response(self) -> dict[str, Any]:
        response = self.recording.server_response
        if response is None:  # async_stop, or the last files not yet whole
            json_mode = "mp4" in self.recording.scenario.start.recording_file_config.av_file_type
            return {"fileListMode": "json" if json_mode else "string",
                    "fileList": [] if json_mode else "", "uploadingStatus": "unknown"}
        status = self.uploads.status if self.uploads is not None else "unknown"
        return {**response, "uploadingStatus": status}

    def recorded_scenario(self) -> Scenario:
        """Return what was recorded (with the ``start`` body's secrets as sent)."""
        return replace(self.recording.recorded_scenario())
