"""The designer's local web server: Flask routes over :class:`~.session.DesignSession`.

Bound to 127.0.0.1 only; one page, one user.  :class:`DesignServer` runs the app on werkzeug's
``make_server`` (threaded), so the command line serves until Ctrl-C and tests run it in a
thread on a free port and stop it.  Every answer is JSON or a picture; an error never shows
a traceback, it becomes ``{"ok": false, "messages": [...]}`` shown in the page.
"""

from __future__ import annotations

import json
import tempfile
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import LayoutkitError, ParameterError
from .session import DEFAULT_BODY, MAX_PREVIEW_USERS, DesignSession, check_text, export_text

__all__ = ["create_app", "DesignServer", "STATIC_DIR"]

#: The page's files (HTML, JS, CSS), package data: no build step, no CDN.
STATIC_DIR = Path(str(resources.files("layoutkit") / "design" / "static"))
#: Uploads up to this size reach the image check (which refuses more than 6 MB, as the cloud).
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


def _initial(path: Path | None) -> dict[str, Any]:
    """What the page opens with: the file given on the command line, else a fresh body."""
    if path is None:
        return {"name": "", "text": json.dumps(DEFAULT_BODY, indent=2), "scenario": False}
    from ..inputs import read_text

    try:
        text = read_text(path)
    except LayoutkitError as exc:
        return {"name": str(path), "text": json.dumps(DEFAULT_BODY, indent=2),
                "scenario": False, "messages": [{"severity": "error", "text": str(exc)}]}
    return {"name": str(path), "text": text,
            "scenario": check_text(text, base_dir=path.parent).is_scenario}


def _users(value: Any) -> list[str]:
    """The users a preview draws: a count 1..17 or a list of uids (join order)."""
    from ..request.parse import uid_problem

    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_PREVIEW_USERS:
            msg = f"users: the count must be 1..{MAX_PREVIEW_USERS} (got {value})"
            raise ParameterError(msg)
        return [str(i) for i in range(1, value + 1)]
    if not isinstance(value, list) or not value:
        msg = f"users: give a count 1..{MAX_PREVIEW_USERS} or a list of uids (got {value!r})"
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


def create_app(initial: str | Path | None = None, *, base_dir: str | Path | None = None,
               profile: Any = None) -> Any:
    """The Flask app of the designer page.

    Parameters
    ----------
    initial : path, optional
        A request body or scenario file the page opens with.
    base_dir : path, optional
        Folder relative image and source paths resolve against (default: the folder of
        ``initial``, else the current folder).
    profile : Profile, optional
        Behaviour choices (``--profile``).

    Returns
    -------
    flask.Flask
        With ``app.config["DESIGN_SESSION"]`` the page's :class:`DesignSession`.
    """
    from flask import Flask, Response, jsonify, request, send_from_directory
    from werkzeug.exceptions import HTTPException

    initial_path = None if initial is None else Path(initial).resolve()
    folder = Path(base_dir) if base_dir is not None else (
        initial_path.parent if initial_path is not None else Path.cwd())
    uploads = tempfile.TemporaryDirectory(prefix="layoutkit-design-")
    session = DesignSession(base_dir=folder, upload_dir=Path(uploads.name), profile=profile)
    app = Flask("layoutkit.design", static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config.update(MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES, DESIGN_SESSION=session,
                      DESIGN_UPLOADS=uploads, JSON_SORT_KEYS=False)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    def body() -> dict[str, Any]:
        doc = request.get_json(silent=True)
        if not isinstance(doc, dict):
            msg = "the page sent no JSON object"
            raise ParameterError(msg)
        return doc

    def text_of(doc: dict[str, Any]) -> str:
        text = doc.get("text")
        if not isinstance(text, str):
            msg = "the page sent no body text"
            raise ParameterError(msg)
        return text

    @app.get("/")
    def index() -> Any:
        response = send_from_directory(STATIC_DIR, "index.html")
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/api/start")
    def start() -> Any:
        answer = _initial(None if request.args.get("fresh") else initial_path)
        answer.update(base_dir=str(folder), max_users=MAX_PREVIEW_USERS)
        return jsonify(answer)

    @app.post("/api/render")
    def render() -> Any:
        doc = body()
        canvas = doc.get("canvas")
        canvas_wh = (int(canvas[0]), int(canvas[1])) if isinstance(canvas, list) else None
        return jsonify(session.render_request(text_of(doc), users=_users(doc.get("users", 4)),
                                              canvas_wh=canvas_wh))

    @app.post("/api/export")
    def export() -> Any:
        checked = check_text(text_of(body()), base_dir=folder)
        if checked.doc is None:
            return jsonify({"ok": False, "messages": [m.to_json() for m in checked.messages]})
        text = export_text(checked.doc)
        again = check_text(text, base_dir=folder)  # the exported text itself, validated
        return jsonify({"ok": again.ok, "text": text,
                        "messages": [m.to_json() for m in again.messages]})

    @app.post("/api/scenario")
    def scenario() -> Any:
        return jsonify(session.scenario_info(text_of(body())))

    @app.post("/api/frame")
    def frame() -> Any:
        doc = body()
        t = doc.get("t")
        if not isinstance(t, int | float) or isinstance(t, bool):
            msg = f"t must be a number of seconds (got {t!r})"
            raise ParameterError(msg)
        return jsonify(session.scenario_frame(text_of(doc), float(t)))

    @app.post("/api/upload")
    def upload() -> Any:
        item = request.files.get("file")
        if item is None:
            msg = "no file was uploaded"
            raise ParameterError(msg)
        return jsonify(session.check_upload(item.filename or "image", item.read()))

    @app.get("/picture/<token>.png")
    def picture(token: str) -> Any:
        data = session.picture(token)
        if data is None:
            return jsonify({"ok": False, "messages": [
                {"severity": "error", "text": f"picture {token} is no longer kept"}]}), 404
        response = Response(data, mimetype="image/png")
        response.headers["Cache-Control"] = "private, max-age=600"
        return response

    @app.errorhandler(LayoutkitError)
    def library_error(exc: LayoutkitError) -> Any:
        problems = getattr(exc, "problems", None)
        texts = [str(p) for p in problems] if problems else [str(exc)]
        return jsonify({"ok": False, "messages": [{"severity": "error", "text": t}
                                                  for t in texts]}), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return jsonify({"ok": False, "messages": [
            {"severity": "error", "text": f"{exc.code} {exc.name}: {exc.description}"}]}), \
            exc.code or 500

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> Any:  # never a traceback in the page
        return jsonify({"ok": False, "messages": [{
            "severity": "error",
            "text": f"internal error: {type(exc).__name__}: {exc} (please report it)"}]}), 500

    return app


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

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class _Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.app = app
        self._server = make_server(host, port, app, threaded=True, request_handler=_Quiet)
        self.host = host
        self.port = int(self._server.server_port)
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
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
