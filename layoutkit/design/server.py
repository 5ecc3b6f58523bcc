"""The designer's local web server: Flask routes over :class:`~.session.DesignSession`.

Bound to 127.0.0.1 only; one page, one user.  :class:`DesignServer` runs the app on werkzeug's
``make_server`` (threaded), so the command line serves until Ctrl-C and tests run it in a
thread on a free port and stop it.  Every answer is JSON or a picture; an error never shows
a traceback, it becomes ``{"ok": false, "messages": [...]}`` shown in the page.

Trust: only the designer's own page is served (:mod:`.guard`: Host, Origin, the page's
token on every API call); the page names only files of the opened file's folder or the
upload folder and nothing is fetched from the network (:mod:`.files`); the opened file's
secrets reach the page masked and a download puts them back (:mod:`.masking`); every
number the page sends is checked with the cloud's limits, a JSON body is at most
:data:`MAX_JSON_BYTES`, an upload at most the cloud's 6 MB, and at most
:data:`MAX_WORKERS` pictures are drawn at once.
"""

from __future__ import annotations

import html
import json
import math
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LayoutkitError, ParameterError, RequestError
from ..io.images import MAX_IMAGE_BYTES
from .guard import TOKEN_HEADER, PageGuard
from .masking import JsonPath, masked_text, restored
from .session import DEFAULT_BODY, MAX_PREVIEW_USERS, DesignSession, export_text

if TYPE_CHECKING:
    from flask import Flask
    from flask.typing import ResponseReturnValue
    from werkzeug.wrappers import Response as WerkzeugResponse

    from ..profile import Profile

__all__ = ["MAX_JSON_BYTES", "MAX_WORKERS", "STATIC_DIR", "DesignServer", "create_app"]

#: The page's files (HTML, JS, CSS), package data: no build step, no CDN.
STATIC_DIR = Path(str(resources.files("layoutkit") / "design" / "static"))
#: The largest JSON (or form) body the page may send (a scenario of thousands of events).
MAX_JSON_BYTES = 2 * 1024 * 1024
#: The largest upload request: the cloud's 6 MB image limit and room for the form around it.
MAX_UPLOAD_REQUEST = MAX_IMAGE_BYTES + 256 * 1024
#: Pictures drawn at once (a page sends one at a time; more wait, then get 503).
MAX_WORKERS = 2
_WAIT_S = 30
#: The page's security headers: its own scripts, styles and pictures only, no framing by
#: another site.
_PAGE_POLICY = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self' "
                "'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-src 'self'; "
                "frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'")
_TOKEN_MARK = "{{LAYOUTKIT_TOKEN}}"


def _initial(path: Path | None, session: DesignSession) -> dict[str, Any]:
    """Return what the page opens with.

    That is the file given on the command line (its secrets masked, kept in
    ``session.opened_secrets``), else a fresh body.
    """
    if path is None:
        return {"name": "", "text": json.dumps(DEFAULT_BODY, indent=2), "scenario": False}
    from ..io.text import read_text

    try:
        text = read_text(path)
    except LayoutkitError as exc:
        return {"name": str(path), "text": json.dumps(DEFAULT_BODY, indent=2),
                "scenario": False, "messages": [{"severity": "error", "text": str(exc)}]}
    text, session.opened_secrets = masked_text(text)
    return {"name": str(path), "text": text, "scenario": session.check(text).is_scenario}


def _canvas(value: Any) -> tuple[int, int] | None:
    """Check the preview canvas of an updateLayout body: null, or [width, height].

    Width and height follow the cloud's limits (``transcodingConfig`` width and height rules).
    """
    from ..errors import Problem
    from ..request.parse import canvas_problems

    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise RequestError([Problem("canvas", "must be null or [width, height]", value)])
    problems = canvas_problems(value[0], value[1], path="canvas")
    if problems:
        raise RequestError(problems)
    return int(value[0]), int(value[1])


def _seconds(value: Any) -> float:
    """Check the time of a scenario frame: a finite number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        msg = f"t must be a number of seconds (got {value!r})"
        raise ParameterError(msg)
    return float(value)


def _users(value: Any) -> list[str]:
    """Check the users a preview draws: a count 1..17 or a list of uids (join order)."""
    from ..request.parse import uid_problem

    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_PREVIEW_USERS:
            msg = f"users: the count must be 1..{MAX_PREVIEW_USERS} (got {value})"
            raise ParameterError(msg)
        return [str(i) for i in range(1, value + 1)]
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_PREVIEW_USERS:
        msg = (f"users: give a count 1..{MAX_PREVIEW_USERS} or a list of 1..{MAX_PREVIEW_USERS}"
               f" uids (got {_short(value)})")
        raise ParameterError(msg)
    uids = [str(u).strip() for u in value]
    for uid in uids:
        problem = uid_problem(uid)
        if problem:
            msg = f"users: {uid!r}: {problem}"
            raise ParameterError(msg)
    if len(set(uids)) != len(uids):
        msg = "users: a uid is listed twice"
        raise ParameterError(msg)
    return uids


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"


def create_app(initial: str | Path | None = None, *, base_dir: str | Path | None = None,
               profile: Profile | None = None, allow_network: bool = False) -> Flask:
    """Build the Flask app of the designer page.

    Parameters
    ----------
    initial : path, optional
        A request body or scenario file the page opens with.
    base_dir : path, optional
        Folder relative image and source paths resolve against (default: the folder of
        ``initial``, else the current folder).
    profile : Profile, optional
        Behaviour choices (``--profile``).
    allow_network : bool, optional
        Fetch http(s) images (default: never).

    Returns
    -------
    flask.Flask
        With ``app.config["DESIGN_SESSION"]`` the page's :class:`DesignSession` and
        ``app.config["DESIGN_GUARD"]`` its :class:`~.guard.PageGuard` (the page's token;
        :class:`DesignServer` sets the port).
    """
    from flask import Flask

    initial_path = None if initial is None else Path(initial).resolve()
    folder = Path(base_dir) if base_dir is not None else (
        initial_path.parent if initial_path is not None else Path.cwd())
    uploads = tempfile.TemporaryDirectory(prefix="layoutkit-design-")
    session = DesignSession(base_dir=folder, upload_dir=Path(uploads.name), profile=profile,
                            allow_network=allow_network)
    app = Flask("layoutkit.design", static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config.update(MAX_CONTENT_LENGTH=MAX_UPLOAD_REQUEST, MAX_FORM_MEMORY_SIZE=MAX_JSON_BYTES,
                      MAX_FORM_PARTS=16, DESIGN_SESSION=session, DESIGN_UPLOADS=uploads,
                      DESIGN_GUARD=PageGuard(), JSON_SORT_KEYS=False)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    _add_guard(app)
    _add_page(app, session, initial_path, folder)
    _add_drawing(app, session)
    _add_export(app, session)
    _add_error_handlers(app)
    return app


def _refused(status: int, text: str) -> tuple[WerkzeugResponse, int]:
    """Answer with a JSON error of one message and ``status``."""
    from flask import jsonify

    return jsonify({"ok": False, "messages": [{"severity": "error", "text": text}]}), status


def _sent_token() -> str | None:
    """Return the token the request carries.

    That is the header, else a GET's ``token`` parameter, else the download form's ``token``
    field.
    """
    from flask import request

    sent = request.headers.get(TOKEN_HEADER)
    if sent is None and request.method == "GET":
        sent = request.args.get("token")
    if sent is None and request.endpoint == "download":
        sent = request.form.get("token")
    return sent


def _add_guard(app: Flask) -> None:
    """Check every request and mark every answer.

    A request gets the size limit of its route, then :class:`~.guard.PageGuard`'s rules (403
    naming the rule); every answer gets headers that keep other sites out.
    """
    from flask import request

    @app.before_request
    def guard_request() -> ResponseReturnValue | None:
        request.max_content_length = (MAX_UPLOAD_REQUEST if request.path == "/api/upload"
                                      else MAX_JSON_BYTES)
        guard: PageGuard = app.config["DESIGN_GUARD"]
        problem = guard.host_refusal(request.host)
        if problem is None and request.path.startswith(("/api/", "/picture/")):
            problem = (guard.origin_refusal(request.method, request.headers.get("Origin"),
                                            request.headers.get("Sec-Fetch-Site"))
                       or guard.token_refusal(_sent_token()))
        return None if problem is None else _refused(403, problem)

    @app.after_request
    def headers(response: WerkzeugResponse) -> WerkzeugResponse:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"  # (no-referrer makes a form
        # post say Origin: null)
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response


def _body() -> dict[str, Any]:
    """Return the request's JSON object."""
    from flask import request

    doc = request.get_json(silent=True)
    if not isinstance(doc, dict):
        msg = "the page sent no JSON object"
        raise ParameterError(msg)
    return doc


def _text_of(doc: dict[str, Any]) -> str:
    text = doc.get("text")
    if not isinstance(text, str):
        msg = "the page sent no body text"
        raise ParameterError(msg)
    return text


def _add_page(app: Flask, session: DesignSession, initial_path: Path | None,
              folder: Path) -> None:
    """``/`` (the page, with its token), ``/api/start`` and ``/picture/<id>.png``."""
    from flask import Response, jsonify, request

    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")

    @app.get("/")
    def index() -> ResponseReturnValue:
        token = html.escape(app.config["DESIGN_GUARD"].token, quote=True)
        response = Response(page.replace(_TOKEN_MARK, token), mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = _PAGE_POLICY
        return response

    @app.get("/api/start")
    def start() -> ResponseReturnValue:
        answer = _initial(None if request.args.get("fresh") else initial_path, session)
        answer.update(base_dir=str(folder), max_users=MAX_PREVIEW_USERS)
        return jsonify(answer)

    @app.get("/picture/<token>.png")
    def picture(token: str) -> ResponseReturnValue:
        data = session.picture(token)
        if data is None:
            return _refused(404, f"picture {token} is no longer kept")
        response = Response(data, mimetype="image/png")
        response.headers["Cache-Control"] = "private, max-age=600"
        return response


def _add_drawing(app: Flask, session: DesignSession) -> None:
    """Add the routes that draw or decode: at most :data:`MAX_WORKERS` at once."""
    from flask import jsonify, request

    workers = threading.BoundedSemaphore(MAX_WORKERS)

    @contextmanager
    def working() -> Iterator[None]:
        if not workers.acquire(timeout=_WAIT_S):
            raise _Busy
        try:
            yield
        finally:
            workers.release()

    @app.post("/api/render")
    def render() -> ResponseReturnValue:
        doc = _body()
        text, users, canvas_wh = _text_of(doc), _users(doc.get("users", 4)), \
            _canvas(doc.get("canvas"))
        with working():
            return jsonify(session.render_request(text, users=users, canvas_wh=canvas_wh))

    @app.post("/api/scenario")
    def scenario() -> ResponseReturnValue:
        text = _text_of(_body())
        with working():
            return jsonify(session.scenario_info(text))

    @app.post("/api/frame")
    def frame() -> ResponseReturnValue:
        doc = _body()
        text, t = _text_of(doc), _seconds(doc.get("t"))
        with working():
            return jsonify(session.scenario_frame(text, t))

    @app.post("/api/upload")
    def upload() -> ResponseReturnValue:
        item = request.files.get("file")
        if item is None:
            msg = "no file was uploaded"
            raise ParameterError(msg)
        with working():
            answer = session.check_upload(item.filename or "image",
                                          item.stream.read(MAX_IMAGE_BYTES + 1))
        return jsonify(answer), answer.pop("status", 200)


def _exported(session: DesignSession, text: str,
              secrets: dict[JsonPath, str]) -> tuple[str | None, dict[str, Any]]:
    """Export a body; return it and the page's answer.

    The body as exported has its fractions rounded and its masked secrets put back from
    ``secrets``; the page's answer has its text with the secrets masked, validated.
    """
    checked = session.check(text)
    if checked.doc is None:
        return None, {"ok": False, "messages": [m.to_json() for m in checked.messages]}
    out = export_text(restored(checked.doc, secrets))
    shown, _ = masked_text(out)
    again = session.check(shown)  # the exported text itself, validated
    return out, {"ok": again.ok, "text": shown,
                 "messages": [m.to_json() for m in again.messages]}


def _add_export(app: Flask, session: DesignSession) -> None:
    """Add ``/api/export`` and ``/api/download``.

    ``/api/export`` is for the page (secrets masked); ``/api/download`` is a form post the
    browser saves (the opened file's secrets put back where the page has ``"***"``).
    """
    from flask import Response, jsonify, request

    @app.post("/api/export")
    def export() -> ResponseReturnValue:
        return jsonify(_exported(session, _text_of(_body()), {})[1])

    @app.post("/api/download")
    def download() -> ResponseReturnValue:
        text = request.form.get("text")
        if text is None:
            msg = "the page sent no body text"
            raise ParameterError(msg)
        out, answer = _exported(session, text, session.opened_secrets)
        if out is None or not answer["ok"]:
            return jsonify(answer), 400
        name = _download_name(request.form.get("name") or "body.json")
        response = Response(out + "\n", mimetype="application/json")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Cache-Control"] = "no-store"
        return response


def _add_error_handlers(app: Flask) -> None:
    """Every error a JSON answer, never a traceback."""
    from flask import jsonify
    from werkzeug.exceptions import HTTPException

    @app.errorhandler(_Busy)
    def busy(exc: _Busy) -> ResponseReturnValue:
        return _refused(503, f"the designer is busy drawing {MAX_WORKERS} pictures; try again")

    @app.errorhandler(LayoutkitError)
    def library_error(exc: LayoutkitError) -> ResponseReturnValue:
        problems = getattr(exc, "problems", None)
        texts = [str(p) for p in problems] if problems else [str(exc)]
        return jsonify({"ok": False, "messages": [{"severity": "error", "text": t}
                                                  for t in texts]}), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        return _refused(exc.code or 500, f"{exc.code} {exc.name}: {exc.description}")

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> ResponseReturnValue:  # never a traceback in the page
        return _refused(500, f"internal error: {type(exc).__name__}: {exc} (please report it)")


class _Busy(Exception):
    """More pictures asked for than :data:`MAX_WORKERS` within the wait."""


def _download_name(name: str) -> str:
    """Return a file name for the download (letters, digits, ``._-``; ``.json`` added)."""
    import re

    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".")[:80] or "body"
    return safe if safe.endswith(".json") else f"{safe}.json"


class DesignServer:
    """The app served by werkzeug on ``host:port`` (0: a free port), threaded.

    Parameters
    ----------
    app : flask.Flask
        From :func:`create_app`.
    host : str
        Interface (127.0.0.1: reachable from this machine only).
    port : int
        0 picks a free port.

    Raises
    ------
    OSError
        When the port cannot be bound (in use, not allowed).
    """

    def __init__(self, app: Flask, *, host: str = "127.0.0.1", port: int = 0) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class _Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.app = app
        self._server = make_server(host, port, app, threaded=True, request_handler=_Quiet)
        self.host = host
        self.port = int(self._server.server_port)
        guard: PageGuard = app.config["DESIGN_GUARD"]
        app.config["DESIGN_GUARD"] = PageGuard(self.port, guard.token)
        self.url = f"http://{host}:{self.port}/"
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        """Serve until Ctrl-C (KeyboardInterrupt) or :meth:`shutdown`; then close."""
        try:
            self._server.serve_forever()
        finally:
            self.close()

    def start(self) -> DesignServer:
        """Serve in a daemon thread (for tests and scripts); returns self."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="layoutkit-design")
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving (from another thread) and release the port and the page's files."""
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.close()

    def close(self) -> None:
        """Release the socket, the scenario sources and the uploaded files."""
        self._server.server_close()
        self.app.config["DESIGN_SESSION"].close()
        self.app.config["DESIGN_UPLOADS"].cleanup()

    def __enter__(self) -> DesignServer:
        """Start serving in a thread (:meth:`start`)."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop serving and release everything (:meth:`shutdown`)."""
        self.shutdown()
