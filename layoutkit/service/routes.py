"""The local service's REST routes: the cloud's six mix-mode paths, its JSON and its codes.

``POST /v1/apps/{appid}/cloud_recording/acquire``, then under
``/v1/apps/{appid}/cloud_recording/resourceid/{resourceid}``: ``POST mode/mix/start``,
``GET sid/{sid}/mode/mix/query``, ``POST sid/{sid}/mode/mix/updateLayout``,
``POST sid/{sid}/mode/mix/update``, ``POST sid/{sid}/mode/mix/stop``.

Before any route: the ``Host`` must be the address the service listens on (a page under
another name pointed at this machine is refused) and a request carrying ``Origin`` or
``Sec-Fetch-Site`` (sent by browsers, never by a backend) is refused with 403, so a web page
cannot drive the service; then, with credentials configured, HTTP Basic authorization
(401 ``{"message": "Unauthorized"}`` / ``"Invalid authentication credentials"``, with
``code`` and ``reason`` too).  Bodies are checked with ``validate``'s rules (400, code 2,
``reason`` = every problem, ``; ``-separated); a body that is not JSON is code 8.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import RequestError
from ..request.jsontext import JsonTextError, loads
from .state import CloudAnswer, canonical

if TYPE_CHECKING:
    from flask import Flask, Response
    from flask.typing import ResponseReturnValue

    from ..design.files import FileRoots
    from .server import Service

__all__ = ["MAX_BODY_BYTES", "check_files", "create_app", "parse_body"]

#: The largest request body read (a start body with 17 regions is a few KiB).
MAX_BODY_BYTES = 1 * 2**20
_BASE = "/v1/apps/<appid>/cloud_recording"
_SESSION = "/resourceid/<resource_id>/sid/<sid>/mode/<mode>"


def _reason(exc: RequestError) -> str:
    """Join ``validate``'s problems in one line (without the ``code 2:`` of each)."""
    return "; ".join(str(p).removeprefix("code 2: ") for p in exc.problems)


def parse_body(raw: bytes, kind: str) -> Any:
    """Parse a request body into its model, or raise the cloud's 400.

    The code is 8 for a body that is not JSON, 2 for an invalid one.

    Examples
    --------
    >>> parse_body(b'{"cname": "c", "uid": "1", "clientRequest": {"async_stop": false}}',
    ...            "stop").async_stop
    False
    >>> try:
    ...     parse_body(b'{"cname": "c", "uid": "1", "clientRequest": {"async_stop": 1}}', "stop")
    ... except CloudAnswer as answer:
    ...     print(answer.status, answer.body)
    400 {'code': 2, 'reason': 'clientRequest.async_stop: must be true or false (got 1)'}
    """
    from ..request.parse import parse_request

    try:
        doc = loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, JsonTextError, ValueError) as exc:
        raise CloudAnswer(400, 8, f"the body is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise CloudAnswer(400, 8, "the body is not a JSON object")
    try:
        model, _ = parse_request(doc, kind=kind)
    except RequestError as exc:
        raise CloudAnswer(400, 2, _reason(exc)) from None
    return model


def check_files(raw: bytes, roots: FileRoots) -> None:
    """Refuse (400, code 2) a body naming a local image outside the scenario's folder.

    The service opens no other file (an http(s) image is not fetched: drawn without it, as the
    cloud does when a download fails).
    """
    refused = [r for r in roots.refusals(loads(raw.decode("utf-8")), scenario=False)
               if r.severity == "error"]
    if refused:
        raise CloudAnswer(400, 2, "; ".join(
            f"{r.path}: the local service reads only image files in {roots.base_dir} (the "
            f"scenario's folder) (got {r.value!r})" for r in refused))


class Guard:
    """Who may call: Host, browsers, Basic credentials (``KEY:SECRET`` or None)."""

    def __init__(self, hosts: set[str], credentials: str | None) -> None:
        self.hosts = {h.lower() for h in hosts}
        self._expected = (base64.b64encode(credentials.encode("utf-8")).decode("ascii")
                          if credentials else None)

    def __repr__(self) -> str:
        """Show the hosts and whether credentials are needed, never the credentials."""
        shown = "***" if self._expected else None
        return f"Guard(hosts={sorted(self.hosts)!r}, credentials={shown})"

    def refusal(self, headers: Any) -> CloudAnswer | None:
        """Return the first rule a request breaks (None: served)."""
        host = headers.get("Host")
        if (host or "").lower() not in self.hosts:
            wanted = " or ".join(sorted(self.hosts))
            return CloudAnswer(403, 403, f"Host {host or '(none)'} refused: this service "
                               f"answers only requests addressed to {wanted}")
        for header in ("Origin", "Sec-Fetch-Site"):
            if headers.get(header) is not None:
                return CloudAnswer(403, 403, f"a request with an {header} header comes from a "
                                   "web page, not from a backend: refused")
        return self._auth(headers.get("Authorization"))

    def _auth(self, sent: str | None) -> CloudAnswer | None:
        if self._expected is None:
            return None
        if not sent:
            return CloudAnswer(401, 401, "Unauthorized", message="Unauthorized")
        scheme, _, value = sent.partition(" ")
        ok = scheme.lower() == "basic" and _same(value.strip(), self._expected)
        if ok:
            return None
        return CloudAnswer(401, 401, "Invalid authentication credentials",
                           message="Invalid authentication credentials")


def _same(sent: str, expected: str) -> bool:
    """Constant-time comparison of the sent credentials (decoded, so padding is free)."""
    try:
        decoded = base64.b64decode(sent.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False
    return hmac.compare_digest(decoded, base64.b64decode(expected))


def _mix_only(mode: str) -> None:
    if mode != "mix":
        raise CloudAnswer(400, 2, f"mode: this local service records mode mix only "
                          f"(got {mode!r})")


class _Calls:
    """The six calls on a :class:`~.server.Service`.

    Path parameters and body in, the answer's JSON out (or a :class:`CloudAnswer`).
    """

    def __init__(self, service: Service) -> None:
        self.service = service

    def acquire(self, raw: bytes, appid: str) -> dict[str, Any]:
        return dict(self.service.acquire(appid, parse_body(raw, "acquire")))

    def start(self, raw: bytes, appid: str, resource_id: str, mode: str) -> dict[str, Any]:
        _mix_only(mode)
        model = parse_body(raw, "start")
        check_files(raw, self.service.roots)
        return dict(self.service.start(appid, resource_id, model,
                                       canonical(loads(raw.decode("utf-8")))))

    def query(self, raw: bytes, appid: str, resource_id: str, sid: str,
              mode: str) -> dict[str, Any]:
        _mix_only(mode)
        return dict(self.service.session(appid, resource_id, sid).query())

    def update_layout(self, raw: bytes, appid: str, resource_id: str, sid: str,
                      mode: str) -> dict[str, Any]:
        _mix_only(mode)
        model = parse_body(raw, "updateLayout")
        check_files(raw, self.service.roots)
        return dict(self.service.session(appid, resource_id, sid).update_layout(
            model.cname, model.uid, model.layout))

    def update(self, raw: bytes, appid: str, resource_id: str, sid: str,
               mode: str) -> dict[str, Any]:
        _mix_only(mode)
        model = parse_body(raw, "update")
        return dict(self.service.session(appid, resource_id, sid).update(model))

    def stop(self, raw: bytes, appid: str, resource_id: str, sid: str,
             mode: str) -> dict[str, Any]:
        _mix_only(mode)
        model = parse_body(raw, "stop")
        return dict(self.service.session(appid, resource_id, sid).stop(
            model.cname, model.uid, async_stop=model.async_stop))


_ROUTES = (
    ("/acquire", "acquire", "POST"),
    ("/resourceid/<resource_id>/mode/<mode>/start", "start", "POST"),
    (_SESSION + "/query", "query", "GET"),
    (_SESSION + "/updateLayout", "update_layout", "POST"),
    (_SESSION + "/update", "update", "POST"),
    (_SESSION + "/stop", "stop", "POST"),
)


def _answer(status: int, body: dict[str, Any]) -> Response:
    import json

    from flask import Response

    return Response(json.dumps(body), status=status,
                    content_type="application/json;charset=utf-8")


def create_app(service: Service, guard: Guard) -> Flask:
    """Build the Flask app of ``service``."""
    from flask import Flask, request

    app = Flask("layoutkit.service")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    calls = _Calls(service)

    @app.before_request
    def check() -> Response | None:
        refused = guard.refusal(request.headers)
        return _answer(refused.status, refused.body) if refused else None

    def route(name: str) -> Callable[..., Response]:
        call = getattr(calls, name)

        def run(**args: str) -> Response:
            try:
                return _answer(200, call(request.get_data(cache=False), **args))
            except CloudAnswer as refused:
                return _answer(refused.status, refused.body)
        run.__name__ = name
        return run

    for path, name, method in _ROUTES:
        app.add_url_rule(_BASE + path, view_func=route(name), methods=[method])
    _add_errors(app, _answer)
    return app


def _add_errors(app: Flask, answer: Callable[[int, dict[str, Any]], Response]) -> None:
    from werkzeug.exceptions import HTTPException

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        if status == 404:
            text = "no Route matched with those values"
            return answer(404, {"message": text, "code": 404, "reason": text})
        return answer(status, {"code": 8, "reason": f"{exc.name}: {exc.description}"})

    @app.errorhandler(Exception)
    def internal(exc: Exception) -> ResponseReturnValue:  # never a traceback in an answer
        return answer(500, {"code": 500, "reason": f"internal error ({type(exc).__name__})"})
