"""The facade: a handful of functions that do the whole job (``import layoutkit as lk``).

Requests and scenarios come in as a file path or an already decoded JSON ``dict``; pictures
come out as ``(H, W, 3)`` uint8 RGB arrays.  Everything else in the package is reachable
from its own module; these functions are what a script needs.

Examples
--------
>>> import layoutkit as lk
>>> request = lk.load_request({"mixedVideoLayout": 1, "backgroundColor": "#202020"},
...                           kind="updateLayout")
>>> lk.preview(request, users=3, canvas_wh=(320, 180)).shape
(180, 320, 3)
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast, overload

from ._typing import RGB
from .errors import Problem, RequestError, ScenarioError
from .inputs import background_image_of
from .profile import DEFAULT_PROFILE, Profile
from .request.model import (
    AcquireRequest,
    LayoutSettings,
    RecordingConfig,
    StartRequest,
    StopRequest,
    UpdateLayoutRequest,
    UpdateRequest,
)
from .scenario import Scenario

if TYPE_CHECKING:  # imported when they run (the playlist parser, encoders, a server: not light)
    from .comparison.model import CompareResult
    from .record.pipeline import RecordingResult
    from .service.server import ServiceServer

__all__ = [
    "RequestWarning",
    "compare",
    "contact_sheet",
    "frame_at",
    "load_request",
    "load_scenario",
    "mix",
    "preview",
    "scenario_from_events",
    "serve",
    "upload",
]

PathOrDoc: TypeAlias = str | os.PathLike[str] | dict[str, Any]
#: What :func:`load_request` returns: the model of the body's kind.
RequestModel: TypeAlias = (StartRequest | UpdateLayoutRequest | AcquireRequest | UpdateRequest
                           | StopRequest)
#: What :func:`preview` and :func:`contact_sheet` take: a body (one without a layout is
#: refused with :class:`RequestError`), its layout, or what :func:`load_request` reads.
Previewable: TypeAlias = RequestModel | LayoutSettings | PathOrDoc
#: Users a request preview draws when none are given.
DEFAULT_PREVIEW_USERS = 4
#: The canvas of a request that has none (an ``updateLayout`` body): the docs' 360x640.
DEFAULT_CANVAS_WH = (360, 640)


class RequestWarning(UserWarning):
    """A value the cloud accepts but replaces or ignores (``validate``'s warnings)."""


def _warn(problems: tuple[Problem, ...] | list[Problem]) -> None:
    for problem in problems:
        warnings.warn(str(problem), RequestWarning, stacklevel=3)


@overload
def load_request(source: PathOrDoc, *, kind: Literal["start"]) -> StartRequest: ...
@overload
def load_request(source: PathOrDoc, *, kind: Literal["updateLayout"]) -> UpdateLayoutRequest: ...
@overload
def load_request(source: PathOrDoc, *, kind: Literal["acquire"]) -> AcquireRequest: ...
@overload
def load_request(source: PathOrDoc, *, kind: Literal["update"]) -> UpdateRequest: ...
@overload
def load_request(source: PathOrDoc, *, kind: Literal["stop"]) -> StopRequest: ...
@overload
def load_request(source: PathOrDoc, *, kind: str | None = None) -> RequestModel: ...


def load_request(source: PathOrDoc, *, kind: str | None = None) -> RequestModel:
    """Read and validate a request body with the cloud's rules.

    Parameters
    ----------
    source : path or dict
        A JSON file, or the decoded body: a whole ``start`` / ``updateLayout`` / ``acquire``
        / ``update`` / ``stop`` body or a bare ``clientRequest``.
    kind : {'start', 'updateLayout', 'acquire', 'update', 'stop', 'clientRequest'}, optional
        The body's kind (default: detected from its shape).

    Returns
    -------
    StartRequest, UpdateLayoutRequest, ...
        The frozen model with every default filled in; read from a file, a start or
        updateLayout body remembers the file's folder (``base_dir``) for relative image
        paths.  Warnings (values the cloud replaces silently) are issued as
        :class:`RequestWarning`.

    Raises
    ------
    RequestError
        With every problem at once (``.problems``), each naming its JSON path.

    Examples
    --------
    >>> import layoutkit as lk
    >>> body = lk.load_request({"mixedVideoLayout": 2, "maxResolutionUid": "7"})
    >>> body.layout.mixed_video_layout, body.layout.max_resolution_uid
    (<LayoutMode.VERTICAL: 2>, '7')
    >>> try:
    ...     lk.load_request({"mixedVideoLayuot": 1})
    ... except lk.RequestError as error:
    ...     print(error.problems[0])
    code 2: mixedVideoLayuot: unknown key; did you mean 'mixedVideoLayout'?
    """
    if isinstance(source, dict):
        from .request.parse import parse_request

        model, found = parse_request(source, kind=kind)
        _warn(found)
        return cast(RequestModel, model)
    from .inputs import load_request_file

    loaded = load_request_file(source, kind=kind)
    _warn(loaded.warnings)
    return cast(RequestModel, loaded.model)


def _layout_of(request: Previewable) -> tuple[LayoutSettings, tuple[int, int] | None, Path | None,
                                      RecordingConfig | None]:
    """Return the layout settings, canvas, image folder and recording config of a request.

    The request is a model, path or dict; the canvas is None for updateLayout, the recording
    config None but for a start body (its subscribe lists).
    """
    if isinstance(request, dict | str | os.PathLike):
        return _layout_of(load_request(request))
    if isinstance(request, StartRequest):
        return (request.layout, request.transcoding.canvas_wh, request.base_dir,
                request.recording_config)
    if isinstance(request, UpdateLayoutRequest):
        return request.layout, None, request.base_dir, None
    if isinstance(request, LayoutSettings):
        return request, None, None, None
    raise RequestError([Problem("", f"a {type(request).__name__} body has no layout to preview")])


def _users(users: int | list[str] | tuple[str, ...] | None) -> list[str]:
    if users is None:
        users = DEFAULT_PREVIEW_USERS
    if isinstance(users, int):
        return [str(i) for i in range(1, users + 1)]
    return [str(u) for u in users]


def preview(request: Previewable, *, users: int | list[str] | None = None,
            canvas_wh: tuple[int, int] | None = None, profile: Profile = DEFAULT_PROFILE,
            source_wh: tuple[int, int] = (640, 360), annotate: bool = False) -> RGB:
    """Draw the canvas of a request with a labelled test card per user.

    Users whose video a start body does not subscribe to (``subscribeVideoUids`` /
    ``unSubscribeVideoUids``) are left out, as in a recording.  What the picture leaves out
    (such users, users beyond the regions, a custom region naming an absent uid) is issued
    as :class:`~layoutkit.annotate.PreviewWarning`.

    Parameters
    ----------
    request : model, path or dict
        What :func:`load_request` returns or takes (a start or updateLayout body).
    users : int or list of str, optional
        How many users (``"1"``, ``"2"``, ...) or their uids in join order; default the
        uids of ``subscribeVideoUids`` when it lists them, else 4.
    canvas_wh : tuple of int, optional
        ``(width, height)``; default the request's canvas, else 360x640.
    profile : Profile
        Behaviour choices where the sources disagree.
    source_wh : tuple of int
        Every user's video size (640x360 by default, so crop and fit show).
    annotate : bool
        Outline and label every region (index, uid, ``x,y,w,h``, crop/fit; empty regions
        dashed) and print the warnings in a margin under the canvas.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
        ``H`` is the canvas height, plus the margin when annotated with warnings.

    Examples
    --------
    >>> import layoutkit as lk
    >>> image = lk.preview({"mixedVideoLayout": 1, "backgroundColor": "#FF0000"}, users=3,
    ...                    canvas_wh=(640, 360))
    >>> image.shape, image[359, 639].tolist()   # the empty fourth cell: canvas colour
    ((360, 640, 3), [255, 0, 0])
    """
    from .annotate import annotated_preview

    settings, request_canvas, base_dir, config = _layout_of(request)
    uids = ((config or RecordingConfig()).preview_uids(DEFAULT_PREVIEW_USERS) if users is None
            else _users(users))
    canvas = canvas_wh or request_canvas or DEFAULT_CANVAS_WH
    return annotated_preview(settings, uids, canvas_wh=canvas, profile=profile, config=config,
                             source_sizes={uid: source_wh for uid in uids},
                             background_image=background_image_of(
                                 settings, base_dir=base_dir, canvas_wh=canvas),
                             annotate=annotate)


def contact_sheet(request: Previewable, *, canvas_wh: tuple[int, int] | None = None,
                  profile: Profile = DEFAULT_PROFILE,
                  source_wh: tuple[int, int] = (640, 360)) -> RGB:
    """One image of the request's layout for every user count 1..17, labelled.

    Parameters are those of :func:`preview`.  The users join as ``"1"``, ``"2"``, ...,
    leaving out those the body does not subscribe to (``unSubscribeVideoUids``); an explicit
    ``subscribeVideoUids`` list is the join order, and the sheet has a cell per listed uid.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
        The sheet: a titled grid of the 17 canvases.

    Raises
    ------
    ParameterError
        When the request subscribes to no video (``streamTypes`` 0, or only audio
        subscription lists): the sheet would be empty.

    Examples
    --------
    >>> import layoutkit as lk
    >>> sheet = lk.contact_sheet({"mixedVideoLayout": 1}, canvas_wh=(320, 180))
    >>> sheet.ndim, sheet.dtype.name
    (3, 'uint8')
    """
    from .layout import MAX_DISPLAYED
    from .stills import contact_sheet as sheet

    settings, request_canvas, base_dir, config = _layout_of(request)
    uids = (config or RecordingConfig()).sheet_uids(MAX_DISPLAYED)
    if not uids:
        from .errors import ParameterError

        msg = ("the request subscribes to no video (streamTypes 0, or only audio subscription "
               "lists): its contact sheet would be empty")
        raise ParameterError(msg)
    canvas = canvas_wh or request_canvas or DEFAULT_CANVAS_WH
    return sheet(settings, canvas_wh=canvas, profile=profile, uids=uids,
                 source_sizes={uid: source_wh for uid in uids},
                 background_image=background_image_of(settings, base_dir=base_dir,
                                                      canvas_wh=canvas))


def load_scenario(source: PathOrDoc | Scenario, *,
                  base_dir: str | os.PathLike[str] | None = None) -> Scenario:
    """Read and validate a scenario (docs/scenarios.md); it remembers its folder.

    Parameters
    ----------
    source : path, dict or Scenario
        A scenario file, its decoded JSON, or a scenario (returned as it is, or with
        ``base_dir`` set).
    base_dir : path, optional
        Folder that relative source, audio and image paths resolve against; default the
        file's folder (for a dict: the current directory at the time of this call).

    Returns
    -------
    Scenario
        With :attr:`~layoutkit.scenario.model.Scenario.base_dir` set to an absolute
        folder, so nothing downstream needs it again, whatever the current directory is
        then.

    Raises
    ------
    ScenarioError
        With every problem at once, each naming its JSON path.

    Examples
    --------
    >>> import layoutkit as lk
    >>> s = lk.load_scenario({"cname": "demo", "duration": 4, "users": [{"uid": "1"}],
    ...     "start": {"cname": "demo", "uid": "999", "clientRequest": {"recordingConfig": {}}}})
    >>> s.users[0].source, s.base_dir.is_absolute()
    ('testsrc', True)
    """
    folder = None if base_dir is None else Path(base_dir).resolve()
    if isinstance(source, Scenario):
        return source if folder is None else replace(source, base_dir=folder)
    if isinstance(source, dict):
        from .inputs import is_scenario
        from .scenario import parse_scenario

        if "clientRequest" in source and not is_scenario(source):
            raise ScenarioError([Problem("", "this is a request body (it has clientRequest), "
                                             "not a scenario")])
        return parse_scenario(source, base_dir=folder or Path.cwd())
    from .inputs import load_scenario_file

    scenario = load_scenario_file(source)
    return scenario if folder is None else replace(scenario, base_dir=folder)


Records = str | os.PathLike[str] | Iterable[Any]


def _records(source: Records, what: str) -> tuple[Any, str | None]:
    """Return the decoded lines of a JSON-lines file (bounded read), or the records as given."""
    if isinstance(source, str | os.PathLike):
        from .inputs import read_json_lines

        return read_json_lines(source, what=what), os.fspath(source)
    return source, None


def scenario_from_events(events: Records, requests: Records, *, web_sdk: int = 4,
                         cname: str | None = None, sid: str | None = None) -> dict[str, Any]:
    """Rebuild the scenario of a production recording from Agora's notifications (NCS).

    The app's log of the requests it sent gives the start and updateLayout bodies.

    Parameters
    ----------
    events : path or iterable
        A JSON-lines file of NCS callback bodies as received (RTC channel and cloud
        recording mixed; duplicates and any order allowed), or the decoded bodies.
    requests : path or iterable
        A JSON-lines file, or the decoded lines, ``{"ts_ms": <epoch ms>, "kind": "start" |
        "updateLayout", "body": {...}}``.
    web_sdk : {4, 3}
        The Web SDK major version of Web users (NCS does not say; default 4).
    cname : str, optional
        The channel (default: the only one with a recording in the events).
    sid : str, optional
        The recording session (default: the channel's first).

    Returns
    -------
    dict
        The scenario document (JSON-ready; :func:`load_scenario` reads it): users with
        ``source`` ``"unknown"``, joins and leaves as events with a ``tolerance``,
        ``update_layout`` events, every assumption in ``"notes"`` and ``"confidence":
        "partial"`` when events were lost.  The rules: :mod:`layoutkit.scenario.fromevents`.

    Raises
    ------
    ScenarioError
        A bad line (file, ``line N: path``, rule and value), no start request for the
        channel, or a request body the scenario refuses (named by its line).
    ParameterError
        Several channels and no ``cname``; an unknown ``sid``; ``web_sdk`` not 3 or 4.
    MediaError
        A file that cannot be read (not a regular file, too big, not UTF-8).

    Examples
    --------
    >>> import layoutkit as lk
    >>> t0 = 1796560000000  # the recorder's first slice, ms
    >>> def recorder(n, kind, sendts, **details):
    ...     return {"noticeId": f"r{n}", "productId": 3, "eventType": kind, "notifyMs": sendts,
    ...             "payload": {"cname": "room", "uid": "999", "sid": "0" * 32, "sequence": n,
    ...                         "sendts": sendts, "details": details}}
    >>> events = [recorder(0, 42, t0, startUtcMs=t0), recorder(1, 41, t0 + 20000),
    ...           {"noticeId": "j", "productId": 1, "eventType": 103, "notifyMs": t0 + 5400,
    ...            "payload": {"channelName": "room", "uid": 1001, "platform": 7,
    ...                        "clientSeq": 1, "ts": t0 // 1000 + 5}}]
    >>> requests = [{"ts_ms": t0 - 1500, "kind": "start", "body": {
    ...     "cname": "room", "uid": "999", "clientRequest": {"recordingConfig": {}}}}]
    >>> doc = lk.scenario_from_events(events, requests)
    >>> doc["users"], doc["duration"], doc["confidence"]
    ([{'uid': '1001', 'platform': 'web4', 'role': 'host', 'source': 'unknown', \
'audio': 'unknown', 'join': 5, 'join_tolerance': 1}], 20, 'full')
    >>> lk.load_scenario(doc).events[0]
    Event(t=Fraction(5, 1), action='join', uid='1001', layout=None, tolerance=Fraction(1, 1))
    """
    from .scenario.fromevents import rebuild

    event_lines, event_source = _records(events, "NCS event log")
    request_lines, request_source = _records(requests, "request log")
    return rebuild(event_lines, request_lines, web_sdk=web_sdk, cname=cname, sid=sid,
                   events_source=event_source, requests_source=request_source).doc


def frame_at(scenario: Scenario | PathOrDoc, t: float | Fraction, *,
             profile: Profile = DEFAULT_PROFILE, i420: bool = False,
             annotate: bool = False, flash: bool = True) -> RGB:
    """Return the frame the recorder writes at time ``t`` of a scenario.

    By default this is exactly the recorder's frame: on every whole second a test stream
    user (no ``source``) shows its white flash, which compare's A/V check reads.
    ``flash=False`` draws those frames like the others, as ``layoutkit preview --at`` and
    the animated previews do, for a picture a person looks at.

    Parameters
    ----------
    scenario : Scenario, path or dict
        See :func:`load_scenario`.
    t : float or Fraction
        Seconds from the start of recording, ``0 <= t < end``.
    profile : Profile
        Behaviour choices.
    i420 : bool
        Return the yuv420p canvas (``(H * 3 // 2, W)``, the recorder's own buffer layout)
        instead of RGB.
    annotate : bool
        Outline and label every region with its index, uid, ``x,y,w,h``, crop/fit and
        display state; warnings (see :func:`preview`) in a margin and issued as
        :class:`~layoutkit.annotate.PreviewWarning` (not with ``i420``).
    flash : bool
        Keep the test streams' once-a-second white flash (True, as recorded); False hides
        it.

    Returns
    -------
    ndarray
        ``(H, W, 3)`` uint8 RGB, or the I420 array (a copy).

    Raises
    ------
    ParameterError
        For a time outside the recording.

    Examples
    --------
    >>> import layoutkit as lk
    >>> s = lk.load_scenario({"cname": "c", "duration": 2,
    ...     "users": [{"uid": "1", "source": "#00FF00"}],
    ...     "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {
    ...         "transcodingConfig": {"width": 320, "height": 180}}}}})
    >>> frame = lk.frame_at(s, 1.0)
    >>> frame.shape, frame[90, 160].tolist()
    ((180, 320, 3), [0, 255, 1])
    """
    from .errors import ParameterError
    from .render import SceneRenderer

    scenario = load_scenario(scenario)
    when = Fraction(t) if isinstance(t, Fraction) else Fraction(repr(float(t)))
    with SceneRenderer(scenario, profile=profile, flash=flash) as renderer:
        end = renderer.timeline.end_time
        if not 0 <= when < end:
            msg = f"t={float(when):g} s is outside the recording [0, {float(end):g}) s"
            raise ParameterError(msg)
        frame = renderer.rendered_frame(when)
        if i420:
            return frame.canvas.copy()
        if not annotate:
            return frame.rgb()
        from .annotate import annotate_frame, frame_warnings, warn_all

        warn_all(frame_warnings(frame))
        return annotate_frame(frame)


def mix(scenario: Scenario | PathOrDoc, out_dir: str | os.PathLike[str], *,
        overwrite: bool = False, upload: str | None = None, profile: Profile = DEFAULT_PROFILE,
        progress: bool = False) -> RecordingResult:
    """Record a scenario the way the cloud's composite mode would: HLS + MP4 + serverResponse.

    Parameters
    ----------
    scenario : Scenario, path or dict
        See :func:`load_scenario`.
    out_dir : path
        Files go under ``out_dir/<fileNamePrefix joined by />/``; ``serverResponse.json``
        into ``out_dir``.
    overwrite : bool
        Replace files of the same names (else :class:`OutputExistsError`).
    upload : str, optional
        ``s3://bucket[/prefix]``: also put the files on S3-compatible storage (endpoint and
        keys from the AWS environment variables or the scenario's ``storageConfig``).
    profile : Profile
        Behaviour choices.
    progress : bool
        Show a progress bar on a terminal.

    Returns
    -------
    RecordingResult
        ``folder``, ``keys``, ``server_response``, ``frames``, ``duration``, ``sid``.

    Raises
    ------
    ScenarioError
        When a source file is missing or cannot be used (no folder is made then).
    OutputExistsError
        When a file of the recording exists and not ``overwrite``.
    StorageError
        When writing or uploading fails (local files are kept).

    Examples
    --------
    >>> import layoutkit as lk, tempfile
    >>> s = lk.load_scenario({"cname": "c", "duration": 1, "users": [{"uid": "1"}],
    ...     "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {
    ...         "transcodingConfig": {"width": 320, "height": 180}}}}})
    >>> result = lk.mix(s, tempfile.mkdtemp())
    >>> result.frames, sorted(k.rsplit(".", 1)[-1] for k in result.keys)
    (15, ['m3u8', 'ts'])
    """
    from .record import record

    scenario = load_scenario(scenario)
    uploader = None
    if upload is not None:
        from .io.s3 import parse_s3_url, uploader_from_storage_config
        from .request.model import StorageConfig

        bucket, prefix = parse_s3_url(upload)
        uploader = uploader_from_storage_config(scenario.start.storage_config
                                                or StorageConfig(),
                                                bucket_override=bucket, prefix=prefix)
    from .io.paths import output_folder
    from .sources import check_sources

    check_sources(scenario)  # every source file, before the folder is made
    output_folder(out_dir)
    result = record(scenario, out_dir, profile=profile, overwrite=overwrite,
                    quiet=not progress)
    if uploader is not None:
        uploader.upload_tree(Path(out_dir), list(result.keys))
    return result


def serve(  # noqa: PLR0913 -- the public facade: its keywords are `layoutkit serve`'s options
        scenario: Scenario | PathOrDoc, *, host: str = "127.0.0.1", port: int = 0,
        s3_endpoint: str | None = None, credentials: str | None = None,
        notify: str | None = None, notify_secret: str | None = None,
        folder: str | os.PathLike[str] | None = None, profile: Profile = DEFAULT_PROFILE,
        notify_retry_waits: tuple[float, ...] | None = None) -> ServiceServer:
    """Start the local Cloud Recording service in this process (in a thread) and return it.

    The cloud's six mix-mode REST paths (``acquire``, ``start``, ``query``,
    ``updateLayout``, ``update``, ``stop``) under ``server.url``, with the cloud's JSON and
    error codes; each ``start`` records the scenario's channel in real time (time 0 at the
    call) until ``stop`` or ``maxIdleTime``; files upload as they are finished to
    ``storageConfig.bucket`` on ``s3_endpoint``; callbacks go to ``notify``.

    Parameters
    ----------
    scenario : Scenario, path or dict
        The channel: its users and events (its ``start`` body is replaced by each call's).
    host, port : str, int
        Where it listens (default 127.0.0.1 and a free port).
    s3_endpoint : str, optional
        S3-compatible endpoint (MinIO, moto, ...); None: files stay in ``folder``.
    credentials : str, optional
        ``KEY:SECRET``: clients must send them with HTTP Basic (else 401).
    notify, notify_secret : str, optional
        The callback receiver's URL and the secret the callbacks are signed with.
    folder : path, optional
        Where recordings are written (default a new temporary folder).
    profile : Profile
        Behaviour choices, as for :func:`mix`.
    notify_retry_waits : tuple of float, optional
        Seconds before each of the three resends of a refused callback (default 1, 2, 4).

    Returns
    -------
    ServiceServer
        ``url``, ``port``, ``folder``, ``stop()`` (also a context manager),
        ``scenario_of(sid)`` (what a recording recorded, for :func:`compare`).

    Examples
    --------
    >>> import layoutkit as lk, json, urllib.request
    >>> s = lk.load_scenario({"cname": "c", "duration": 5, "users": [{"uid": "1"}],
    ...     "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {}}}})
    >>> with lk.serve(s) as server:
    ...     body = json.dumps({"cname": "c", "uid": "9", "clientRequest": {}}).encode()
    ...     url = server.url + "/v1/apps/app/cloud_recording/acquire"
    ...     answer = json.load(urllib.request.urlopen(urllib.request.Request(url, body)))
    >>> sorted(answer)
    ['cname', 'resourceId', 'uid']
    """
    from .service.notify import RETRY_WAITS_S
    from .service.server import ServeOptions, ServiceServer

    options = ServeOptions(s3_endpoint=s3_endpoint, credentials=credentials,
                           notify_url=notify, notify_secret=notify_secret,
                           notify_retry_waits=notify_retry_waits or RETRY_WAITS_S,
                           folder=folder, profile=profile)
    server = ServiceServer(load_scenario(scenario), host=host, port=port, options=options)
    return server.start()


def upload(recording: str | os.PathLike[str], url: str) -> list[str]:
    """Upload a finished local recording to S3-compatible storage.

    It does what ``mix(upload=...)`` would have done (e.g. to retry after a failed upload,
    without recording again).

    Parameters
    ----------
    recording : path
        The folder :func:`mix` wrote into (``out_dir``, with ``serverResponse.json``).
    url : str
        ``s3://bucket[/prefix]``; endpoint and keys from the AWS environment variables.

    Returns
    -------
    list of str
        The object keys written: segments, MP4 parts, then the playlist.

    Raises
    ------
    StorageError
        When the recording is incomplete or the upload fails.
    """
    from .record.upload import upload_recording

    return upload_recording(recording, url)


def compare(  # noqa: PLR0913 -- the public facade: its keywords are the documented options
        scenario: Scenario | PathOrDoc, recording: str | os.PathLike[str], *,
        profile: Profile = DEFAULT_PROFILE, infer: bool = False,
        server_response: str | os.PathLike[str] | None = None,
        report: str | os.PathLike[str] | None = None, overwrite: bool = False,
        content_only: bool = False, event_tolerance: float = 1.0) -> CompareResult:
    """Check a (real cloud) recording against what the layout rules predict.

    Parameters
    ----------
    scenario : Scenario, path or dict
        What happened in the channel; see :func:`load_scenario`.
    recording : path or str
        A folder as downloaded from the bucket, an ``.m3u8``, ``.ts`` or ``.mp4``; local or
        ``s3://bucket/prefix`` (endpoint and keys as for :func:`mix` uploads).
    profile : Profile
        The behaviour variant the expectations follow.
    infer : bool
        Also tell, for each profile key, which value the recording agrees with
        (``"undetermined"`` when this scenario cannot tell them apart).
    server_response : path, optional
        A saved ``stop`` response to check as well (default: one found beside the files).
    report : path, optional
        Also write the self-contained HTML report there.
    overwrite : bool
        Replace an existing report file.
    content_only : bool
        Judge only the streams and the pictures and sound, not the files (names, playlist
        tags, segments, stop response): for a download re-packaged by another tool. What
        the file checks find is then in ``not_judged``. A single ``.ts`` or ``.mp4`` given
        by path is always judged so (its name is the user's).
    event_tolerance : float
        Seconds an event may really have happened before or after its scenario time (an
        event's own ``"tolerance"`` wins): compare fits each event's time inside that
        window from what the recording shows, judges the rules from the fitted time and
        lists the fits in ``events``.  Only what no time in the window explains differs.

    Returns
    -------
    lk.CompareResult
        ``verdict`` (``match`` | ``differ`` | ``error``), ``offset_s``, ``differences``
        (each with ``kind``, ``category`` (``files``, ``streams`` or ``content``), ``uid``,
        ``t``, ``expected``, ``observed``, ``message``), ``counts()`` per category, file
        and stream facts, per-region tracks, ``infer``, ``events`` (each picture event's
        scenario time, fitted time and window); ``to_json()`` gives the document.

    Examples
    --------
    >>> import layoutkit as lk, tempfile
    >>> s = lk.load_scenario({"cname": "c", "duration": 3,
    ...     "users": [{"uid": "1"}, {"uid": "2", "source": "#FF8000"}],
    ...     "start": {"cname": "c", "uid": "9", "clientRequest": {"recordingConfig": {
    ...         "transcodingConfig": {"width": 320, "height": 180, "mixedVideoLayout": 1}}}}})
    >>> folder = tempfile.mkdtemp()
    >>> _ = lk.mix(s, folder)
    >>> result = lk.compare(s, folder)
    >>> result.verdict, result.offset_s, result.differences
    ('match', 0.0, ())
    """
    from .comparison.run import CompareOptions
    from .comparison.run import compare as run

    scenario = load_scenario(scenario)
    result = run(scenario, recording, options=CompareOptions(
        profile=profile, infer=infer, server_response=server_response,
        content_only=content_only, event_tolerance=event_tolerance))
    if report is not None:  # the report's modules (Jinja2, the plots) only when one is asked
        from .comparison.report import write_report

        write_report(result, report, overwrite=overwrite,
                     title=f"compare: {scenario.cname} vs {Path(str(recording)).name}",
                     recording_name=str(recording))
    return result
