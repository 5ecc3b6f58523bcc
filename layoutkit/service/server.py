"""The local Cloud Recording service: its calls and its HTTP server.

:class:`Service` makes the calls; :class:`ServiceServer` serves them (what
``layoutkit serve`` and :func:`layoutkit.serve` run).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, cast

from ..errors import ParameterError, StorageError
from ..profile import DEFAULT_PROFILE, Profile
from ..request.model import AcquireRequest, StartRequest
from ..scenario import Scenario
from .notify import RETRY_WAITS_S, Notifier
from .routes import Guard, create_app
from .session import Session
from .state import CloudAnswer, Registry

__all__ = ["ServeOptions", "Service", "ServiceServer"]


@dataclass(frozen=True)
class ServeOptions:
    """Where a :class:`ServiceServer` puts the files, whom it lets in and whom it tells.

    Parameters
    ----------
    s3_endpoint : str, optional
        S3-compatible endpoint for the uploads (None: the files stay in ``folder``).
    credentials : str, optional
        ``KEY:SECRET`` the clients must send (HTTP Basic); None: no authorization.
    notify_url, notify_secret : str, optional
        Where the callbacks go and the secret they are signed with (both or neither).
    notify_retry_waits : tuple of float
        Seconds before each resend of a callback.
    folder : path, optional
        Where the recordings are written (default: a new temporary folder, kept).
    profile : Profile
        Behaviour choices, as for ``mix``.
    """

    s3_endpoint: str | None = None
    credentials: str | None = None
    notify_url: str | None = None
    notify_secret: str | None = None
    notify_retry_waits: tuple[float, ...] = RETRY_WAITS_S
    folder: str | os.PathLike[str] | None = None
    profile: Profile = DEFAULT_PROFILE


class Service:
    """The calls of the service, without HTTP.

    Parameters
    ----------
    scenario : Scenario
        The channel: its users and events (time 0 at each ``start``).
    folder : Path
        Where each recording's files are written (one folder per sid).
    s3_endpoint : str or None
        The S3-compatible endpoint the files are uploaded to (None: kept locally).
    notifier : Notifier or None
        Where the callbacks go.
    profile : Profile
        Behaviour choices, as for ``mix``.
    """

    def __init__(self, scenario: Scenario, folder: Path, *, s3_endpoint: str | None = None,
                 notifier: Notifier | None = None, profile: Profile = DEFAULT_PROFILE) -> None:
        self.scenario = scenario
        self.folder = folder
        self.s3_endpoint = s3_endpoint
        self.notifier = notifier
        self.profile = profile
        self.registry = Registry()
        from ..design.files import FileRoots

        base = scenario.base_dir or Path.cwd()
        #: The only folder images named by the calls are read from; nothing from the network.
        self.roots = FileRoots(base, base, allow_network=False)

    def acquire(self, appid: str, request: AcquireRequest) -> dict[str, Any]:
        """``acquire``: a new resource for ``cname`` and ``uid``."""
        resource = self.registry.acquire(appid, request.cname, request.uid,
                                         expired_hour=request.resource_expired_hour)
        return {"cname": request.cname, "uid": request.uid,
                "resourceId": resource.resource_id}

    def start(self, appid: str, resource_id: str, request: StartRequest,
              text: str) -> dict[str, Any]:
        """``start``: one recording per resource; the same body again gets the same answer."""
        with self.registry.lock:
            resource = self.registry.resource(appid, resource_id, for_start=True)
            if resource.session is not None:
                if text == resource.start_body:
                    return dict(resource.session.ids())
                raise CloudAnswer(201, 7, "already started: this resource already has a "
                                  "recording", **resource.session.ids())
            if (request.cname, request.uid) != (resource.cname, resource.uid):
                raise CloudAnswer(400, 432, f"cname {request.cname!r} and uid {request.uid!r} "
                                  "do not match the resource's acquire "
                                  f"({resource.cname!r}, {resource.uid!r})",
                                  resourceId=resource_id)
            if self.registry.running(appid, request.cname, request.uid) is not None:
                raise CloudAnswer(400, 53, "task conflict: a recording with this cname and uid "
                                  "is running", resourceId=resource_id)
            session = Session(resource, request, self.scenario,
                              root=self.folder / f"{len(self.registry.sessions()):03d}",
                              s3_endpoint=self.s3_endpoint, notifier=self.notifier,
                              profile=self.profile)
            resource.session, resource.sid = session, session.sid
            resource.start_body, resource.started = text, time.monotonic()
            return session.ids()

    def session(self, appid: str, resource_id: str, sid: str) -> Session:
        """Return the session of ``sid`` (404 unknown; past ``resourceExpiredHour``: ended, 404)."""
        resource = self.registry.session(appid, resource_id, sid)
        # Registry.session returns only a started resource: its session is set
        session = cast("Session", resource.session)
        if resource.expired(time.monotonic()) and session.active:
            session.recording.stop()
            session.stop_requested = True
        return session

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stop every recording (the server is shutting down) and wait for their files."""
        sessions = self.registry.sessions()
        for session in sessions:
            if session.active:
                session.stop_requested = True
                session.recording.stop()
        deadline = time.monotonic() + timeout
        for session in sessions:
            session.finished.wait(max(0.0, deadline - time.monotonic()))


class ServiceServer:
    """The service on HTTP (werkzeug, threaded), bound to ``host`` (127.0.0.1).

    Parameters
    ----------
    scenario : Scenario
        The channel.
    host : str
        Address to listen on.
    port : int
        Port (0: a free one; :attr:`port` tells which).
    options : ServeOptions, optional
        Uploads, credentials, callbacks, folder and profile (default: none of them, a new
        temporary folder, the default profile).

    Raises
    ------
    ParameterError
        For credentials without ``:``, a notify URL without secret (or the reverse).
    ScenarioError
        When a source file of the scenario is missing or unusable.
    StorageError
        When the port cannot be bound.
    """

    def __init__(self, scenario: Scenario, *, host: str = "127.0.0.1", port: int = 0,
                 options: ServeOptions | None = None) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        from ..sources import check_sources

        opts = options or ServeOptions()
        credentials = opts.credentials
        _check_options(credentials, opts.notify_url, opts.notify_secret)
        check_sources(scenario)  # a missing source file: refused now, not at each start
        self.folder = Path(opts.folder) if opts.folder \
            else Path(tempfile.mkdtemp(prefix="layoutkit-serve-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        notifier = Notifier(opts.notify_url, opts.notify_secret,
                            retry_waits=opts.notify_retry_waits) \
            if opts.notify_url and opts.notify_secret else None
        self.service = Service(scenario, self.folder, s3_endpoint=opts.s3_endpoint,
                               notifier=notifier, profile=opts.profile)

        class _Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self._guard = Guard(set(), credentials)
        try:
            self._server = make_server(host, port, create_app(self.service, self._guard),
                                       threaded=True, request_handler=_Quiet)
        except OSError as exc:
            raise StorageError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") \
                from None
        self.host = host
        self.port = int(self._server.server_port)
        self._guard.hosts = {f"{name}:{self.port}" for name in {host, "127.0.0.1", "localhost"}}
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        """Show the URL it serves at."""
        return f"ServiceServer({self.url!r})"

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C (KeyboardInterrupt); then call :meth:`close`."""
        self._server.serve_forever(poll_interval=0.2)

    def start(self) -> ServiceServer:
        """Serve in a daemon thread; returns self."""
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True,
                                        name="layoutkit-serve")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, stop the recordings (their files finished and uploaded)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.close()

    def close(self) -> None:
        """Release the socket; stop the recordings; send the callbacks still queued."""
        self._server.server_close()
        self.service.stop_all()
        if self.service.notifier is not None:
            self.service.notifier.drain(10.0)
            self.service.notifier.close()

    def scenario_of(self, sid: str) -> Scenario:
        """Return what recording ``sid`` recorded (the scenario to ``compare`` its files with)."""
        for session in self.service.registry.sessions():
            if session.sid == sid:
                return session.recorded_scenario()
        raise KeyError(sid)

    def __enter__(self) -> Self:
        """Start serving in a thread unless already started (:meth:`start`)."""
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving and the recordings (:meth:`stop`)."""
        self.stop()


def _check_options(credentials: str | None, url: str | None, secret: str | None) -> None:
    if credentials is not None and ":" not in credentials:
        raise ParameterError("credentials must be KEY:SECRET (the customer ID and secret "
                             "the clients send with HTTP Basic)")
    if bool(url) != bool(secret):
        raise ParameterError("notifications need both a receiver URL and a secret")
    if url and not url.startswith(("http://", "https://")):
        raise ParameterError(f"the notification URL must start with http:// or https:// "
                             f"(got {url!r})")
