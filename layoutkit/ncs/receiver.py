"""A receiver for Agora's notification callbacks: each body appended to a file, whole.

Agora's Notification Center (NCS) POSTs one JSON body per event to the customer's URL and
waits 10 s for an HTTP 200 (else it resends, at most three times).  :class:`EventReceiver`
answers at once and appends every accepted body to a JSON-lines file (:class:`EventLog`):

* **Whole lines.** A body is re-encoded as one line of ASCII JSON (a pretty-printed body has
  newlines) and written with a single ``write`` on a descriptor opened ``O_APPEND``, then
  ``fsync``-ed, under a lock (concurrent callbacks are serialized), before the 200 is sent.
  A process killed at any moment leaves every line it answered 200 for whole; a failed or
  short write is cut back.  A SIGKILL that lands while a line is being written can leave
  that one line torn (Linux stops copying a long ``write`` when a fatal signal is pending
  and keeps what it copied); its callback was not answered, so Agora sends it again.  A
  file that does not end with a newline when opened (such a torn line, or another tool's)
  gets one first, so the next line is whole; a reader names the torn line (``scenario
  from-events``: ``line N: <root>: malformed JSON``).
* **Signatures.** With a secret (the one the Agora console shows for the NCS project), each
  body must carry ``Agora-Signature-V2``: the hex HMAC-SHA256 of the raw body with the
  secret (compared in constant time, either case).  Missing: 401; wrong: 403.  The secret is
  never printed or logged.
* **Limits.** A body is at most :data:`MAX_BODY_BYTES` (413 beyond, read no further), needs a
  ``Content-Length`` (411 without), and must be a JSON object (400).  A connection idle for
  10 s is closed.
* **Who may call.** It binds 127.0.0.1 by default (put a reverse proxy or tunnel with TLS in
  front for Agora to reach it).  The ``Host`` header must name the address it listens on, or
  a public name it was given (the proxy's, when the proxy keeps the caller's ``Host``), so a
  web page under another name pointed at this machine (DNS rebinding) is refused.  A
  request with an ``Origin`` or a ``Sec-Fetch-Site`` header comes from a web page, never from
  Agora's servers (server-to-server calls send neither): refused with 403, so a page open in
  the user's browser cannot add events to the file.

Why the standard library's ``http.server`` and not Flask (which the designer uses): one route,
the raw body bytes are what the signature is computed on, and nothing else is served; a
threaded ``http.server`` does that in a few lines with nothing between the socket and the
check.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import stat
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from ..design.guard import PageGuard
from ..errors import ParameterError, StorageError

__all__ = ["MAX_BODY_BYTES", "SIGNATURE_HEADER", "EventLog", "EventReceiver", "signature_v2"]

#: The largest body accepted (NCS bodies are a few KiB; an uploader's file list more).
MAX_BODY_BYTES = 1 * 2**20
#: The header carrying the hex HMAC-SHA256 of the raw body.
SIGNATURE_HEADER = "Agora-Signature-V2"
#: Seconds a connection may stay silent (Agora waits 10 s for an answer).
IDLE_TIMEOUT_S = 10


def signature_v2(body: bytes, secret: str) -> str:
    """Return the ``Agora-Signature-V2`` of ``body``: hex HMAC-SHA256 with the NCS secret.

    Examples
    --------
    >>> signature_v2(b'{"a":1}', "secret")[:16]
    'aa9e2e3575f5d709'
    """
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class EventLog:
    """A JSON-lines file that only ever gets whole lines appended (see the module docs).

    Parameters
    ----------
    path : path-like
        The file; created when missing, never truncated.  It must be a regular file (a
        FIFO, device or folder is refused at once).

    Raises
    ------
    StorageError
        When the file cannot be opened for appending or is not a regular file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | getattr(
            os, "O_CLOEXEC", 0)
        try:
            self._fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            raise StorageError(f"{self.path}: cannot open for appending "
                               f"({exc.strerror or exc})") from None
        mode = os.fstat(self._fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(self._fd)
            raise StorageError(f"{self.path}: is not a regular file; events are appended "
                               "only to a regular file")
        os.set_blocking(self._fd, True)
        self.repaired = self._end_with_newline()

    def _end_with_newline(self) -> bool:
        """Add a newline when the file ends without one (True when it did)."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return False
        with open(self.path, "rb") as f:  # the O_APPEND descriptor is write-only
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return False
        self._write(b"\n")
        return True

    def _write(self, data: bytes) -> None:
        """One ``write`` of ``data``, then ``fsync``; cut back when it was short or failed."""
        size = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(0, f"wrote {written} of {len(data)} bytes")
            os.fsync(self._fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, size)
            raise StorageError(f"{self.path}: cannot append ({exc.strerror or exc})") from None

    def append(self, doc: Any) -> None:
        """Append ``doc`` as one whole line of ASCII JSON (threads are serialized)."""
        data = (json.dumps(doc, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
                + "\n").encode("ascii")
        with self._lock:
            self._write(data)

    def close(self) -> None:
        """Close the file."""
        with self._lock, contextlib.suppress(OSError):
            os.close(self._fd)


def _not_json(name: str) -> Any:
    """Refuse ``NaN``, ``Infinity`` and ``-Infinity`` (a ``json.loads`` hook)."""
    raise ValueError(f"{name} is not JSON")


class _Answer(Exception):
    """A request refused with an HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = IDLE_TIMEOUT_S
    server_version = "layoutkit-ncs"
    sys_version = ""

    def _refuse_caller(self) -> None:
        host = self.headers.get("Host")
        if (host or "").lower() not in self.server.hosts:
            wanted = " or ".join(sorted(self.server.hosts))
            raise _Answer(403, f"Host {host or '(none)'} refused: this receiver answers only "
                               f"requests addressed to {wanted}")
        for header in ("Origin", "Sec-Fetch-Site"):
            if self.headers.get(header) is not None:
                raise _Answer(403, f"a request with an {header} header comes from a web page, "
                                   "not from Agora's servers: refused")

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise _Answer(411, "send the body with a Content-Length (not chunked)")
        length = self.headers.get("Content-Length")
        if length is None:
            raise _Answer(411, "a Content-Length is required")
        if not length.isascii() or not length.isdigit():
            raise _Answer(400, f"Content-Length must be a number (got {length[:20]!r})")
        if int(length) > self.server.max_body:
            raise _Answer(413, f"a body is at most {self.server.max_body} bytes "
                               f"(Content-Length {int(length)})")
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            raise _Answer(400, "the body ended before its Content-Length")
        return body

    def _check_signature(self, body: bytes) -> None:
        secret = self.server.secret
        if secret is None:
            return
        sent = self.headers.get(SIGNATURE_HEADER)
        if not sent:
            raise _Answer(401, f"no {SIGNATURE_HEADER} header (this receiver checks "
                               "signatures)")
        wanted = signature_v2(body, secret)
        if not hmac.compare_digest(sent.strip().lower().encode("utf-8", "replace"),
                                   wanted.encode("ascii")):
            raise _Answer(403, f"wrong {SIGNATURE_HEADER} (the HMAC-SHA256 of the body with "
                               "the NCS secret does not match)")

    def _accept(self) -> None:
        self._refuse_caller()
        body = self._body()
        self._check_signature(body)
        try:
            doc = json.loads(body, parse_constant=_not_json)
        except (ValueError, RecursionError):
            raise _Answer(400, "the body is not JSON (NaN and Infinity are not JSON either)") \
                from None
        if not isinstance(doc, dict):
            raise _Answer(400, "the body is not a JSON object")
        try:
            self.server.log.append(doc)
        except StorageError as exc:
            raise _Answer(500, str(exc)) from None

    def do_POST(self) -> None:
        """Accept one callback (200) or say why not."""
        try:
            self._accept()
        except _Answer as answer:
            self._send(answer.status, answer.reason)
            return
        except Exception as exc:  # never a traceback; the caller retries on a 500
            self._send(500, f"internal error: {type(exc).__name__}")
            return
        self._send(200, "ok")

    def _refuse_method(self) -> None:
        self._send(405, "only POST (Agora's callbacks)", allow=True)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = _refuse_method

    def _send(self, status: int, text: str, *, allow: bool = False) -> None:
        data = (json.dumps({"ok": status == 200, "message": text}) + "\n").encode("ascii")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if allow:
            self.send_header("Allow", "POST")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One line per request: method, path without its query, status (never headers)."""
        path = self.path.split("?", 1)[0][:200]
        self.server.note(f"{self.command} {path} {code}")

    def log_error(self, format: str, *args: Any) -> None:
        """Protocol errors, shortened (they quote no header)."""
        self.server.note((format % args)[:200])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # a burst of callbacks waits to be accepted, not refused (5)

    def __init__(self, address: tuple[str, int], *, log: EventLog, secret: str | None,
                 extra_hosts: Iterable[str], max_body: int, notes: IO[str] | None) -> None:
        super().__init__(address, _Handler)
        self.log = log
        self.secret = secret
        self.max_body = max_body
        self._notes = notes
        port = self.server_address[1]
        bound = str(self.server_address[0])
        names = {*PageGuard(port).hosts, f"{bound}:{port}"}
        for name in extra_hosts:
            names |= {name.lower(), f"{name.lower()}:{port}"}
        self.hosts = frozenset(names)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Note a connection that failed outside the handler (a reset): one line, no traceback."""
        self.note(f"connection from {client_address[0]} failed: {sys.exc_info()[1]!r}"[:200])

    def note(self, text: str) -> None:
        if self._notes is not None:
            print(text, file=self._notes, flush=True)


class EventReceiver:
    r"""An HTTP server appending Agora's callbacks to a JSON-lines file (module docs).

    Parameters
    ----------
    out : path-like
        The JSON-lines file (appended to, never truncated).
    host : str
        The address to listen on (default 127.0.0.1).
    port : int
        The port (0: a free one; :attr:`port` tells which).
    secret : str, optional
        The NCS secret: bodies must then carry a good ``Agora-Signature-V2``.
    public_names : iterable of str
        Other ``Host`` names to answer (a reverse proxy's or tunnel's public name).
    max_body : int
        The largest body accepted, in bytes.
    log : text stream, optional
        Where one line per request goes (method, path, status); None: nowhere.

    Examples
    --------
    >>> import tempfile, urllib.request, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "events.jsonl"
    >>> with EventReceiver(out, secret="s") as receiver:
    ...     body = b'{"noticeId": "n", "eventType": 40}'
    ...     request = urllib.request.Request(f"http://127.0.0.1:{receiver.port}/ncs", body,
    ...                                      {SIGNATURE_HEADER: signature_v2(body, "s")})
    ...     urllib.request.urlopen(request).status
    200
    >>> out.read_text()
    '{"noticeId":"n","eventType":40}\n'
    """

    def __init__(self, out: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 0,
                 secret: str | None = None, public_names: Iterable[str] = (),
                 max_body: int = MAX_BODY_BYTES, log: IO[str] | None = None) -> None:
        if not 0 <= port <= 65535:
            raise ParameterError(f"port must be in 0..65535 (got {port})")
        if secret == "":
            raise ParameterError("the secret must not be empty")
        self.log = EventLog(out)
        try:
            self._server = _Server((host, port), log=self.log, secret=secret,
                                   extra_hosts=public_names, max_body=max_body, notes=log)
        except OSError as exc:
            self.log.close()
            raise StorageError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") \
                from None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT/``."""
        host = self._server.server_address[0]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{self.port}/"

    def serve_forever(self) -> None:
        """Answer callbacks until :meth:`shutdown` (or Ctrl-C in the caller)."""
        self._server.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        """Stop serving and close the socket and the file."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self.log.close()

    def __enter__(self) -> Self:
        """Start serving on a background thread; return the receiver."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop serving and close the socket and the file (see :meth:`shutdown`)."""
        self.shutdown()
