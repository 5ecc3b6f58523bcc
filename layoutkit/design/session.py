"""What the designer page asks of the package, without any web code.

Every function takes the body or scenario as JSON *text* (what the page's JSON panel holds)
and answers with plain data: the messages ``layoutkit validate`` prints for that text (same
strings: ``str(problem)`` of every problem and warning, ``warning: ...`` for an image the
cloud would ignore), the picture drawn by the package's own renderer, and the geometry the
page draws its overlay from.  :class:`DesignSession` keeps the caches of one page (decoded
images, the scenario renderer and its sources), so a 1080p canvas of 17 users renders well
under 100 ms.
"""

from __future__ import annotations

import hashlib
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._typing import RGB
from ..errors import LayoutkitError, Problem, RequestError
from ..io.png import encode_png
from ..request.limits import FRACTION_DECIMALS
from ..request.model import LayoutSettings, StartRequest, UpdateLayoutRequest
from .files import FileRoots
from .masking import JsonPath

if TYPE_CHECKING:
    from ..profile import Profile

__all__ = [
    "DEFAULT_BODY",
    "MAX_PREVIEW_USERS",
    "MAX_UPLOAD_FILES",
    "MAX_UPLOAD_TOTAL",
    "Checked",
    "DesignSession",
    "Message",
    "check_text",
    "export_text",
    "upload_name",
]

#: How many users the page can preview (the cloud draws at most 17).
MAX_PREVIEW_USERS = 17
#: The upload folder keeps at most this many files, of at most this many bytes in all
#: (each upload is at most the cloud's 6 MB image limit).
MAX_UPLOAD_FILES = 64
MAX_UPLOAD_TOTAL = 64 * 1024 * 1024
#: The most source pixels one scenario frame may draw: the 17 largest video users' sizes
#: together (17 users of 1920x1080: ~0.5 s and ~0.5 GB a frame; 17 of 4096x4096 took 8 s
#: and 3 GB).
MAX_SCENARIO_PIXELS = MAX_PREVIEW_USERS * 1920 * 1080
#: The body a fresh page starts from: a valid ``start`` body (placeholder storage keys).
DEFAULT_BODY: dict[str, Any] = {
    "cname": "design",
    "uid": "999",
    "clientRequest": {
        "recordingConfig": {
            "channelType": 0,
            "streamTypes": 2,
            "audioProfile": 0,
            "maxIdleTime": 30,
            "transcodingConfig": {"width": 1280, "height": 720, "fps": 15, "bitrate": 1130,
                                  "mixedVideoLayout": 1, "backgroundColor": "#1E2A38"},
        },
        "storageConfig": {"vendor": 1, "region": 0, "bucket": "recordings",
                          "accessKey": "AKIDEXAMPLE", "secretKey": "SECRETEXAMPLE",
                          "fileNamePrefix": ["layoutkit", "design"]},
    },
}
_REGION_FRACTION_KEYS = ("x_axis", "y_axis", "width", "height", "alpha")


@dataclass(frozen=True)
class Message:
    """One line the page shows: ``severity`` is ``"error"`` or ``"warning"``."""

    severity: str
    text: str

    def to_json(self) -> dict[str, str]:
        """``{"severity": ..., "text": ...}``."""
        return {"severity": self.severity, "text": self.text}


@dataclass(frozen=True)
class Checked:
    """A JSON text, checked.

    Its decoded document, its model (None when refused) and the messages
    ``layoutkit validate`` prints for it, in the same order.
    """

    doc: Any
    model: Any
    messages: tuple[Message, ...]
    is_scenario: bool = False

    @property
    def ok(self) -> bool:
        """No error (warnings allowed)."""
        return self.model is not None


def _problem_messages(problems: Sequence[Problem]) -> list[Message]:
    return [Message("error" if p.severity == "error" else "warning", str(p)) for p in problems]


def _caught(caught: Sequence[warnings.WarningMessage]) -> list[Message]:
    """Python warnings as the command line prints them (``warning: <message>``)."""
    return [Message("warning", f"warning: {w.message}") for w in caught]


def check_text(text: str, *, base_dir: Path | None = None, kind: str | None = None,
               roots: FileRoots | None = None) -> Checked:
    """Check a request body or a scenario exactly as ``layoutkit validate`` does.

    Parameters
    ----------
    text : str
        JSON text: a ``start`` / ``updateLayout`` / ... body, a bare ``clientRequest`` or a
        scenario (it has ``users``).
    base_dir : Path, optional
        Folder relative paths of a scenario resolve against (default: the current one).
    kind : str, optional
        The body's kind (default: detected), as ``validate --kind``.
    roots : FileRoots, optional
        The folders files may be read from (the designer's page): a document naming a file
        elsewhere (or a URL source) is refused before anything is read or looked up (a
        scenario's sources are probed by the check), with only those messages; an http(s)
        image adds a "not fetched" note unless network reads are allowed.

    Returns
    -------
    Checked

    Examples
    --------
    >>> checked = check_text('{"mixedVideoLayuot": 1}')
    >>> checked.ok, [m.text for m in checked.messages]
    (False, ["code 2: mixedVideoLayuot: unknown key; did you mean 'mixedVideoLayout'?"])
    >>> check_text('{"mixedVideoLayout": 1,}').messages[0].text[:32]
    'code 2: <root>: malformed JSON a'
    """
    from ..inputs import is_scenario, scenario_lint
    from ..request.jsontext import load_json
    from ..request.lint import lint
    from ..request.parse import parse_request
    from ..scenario import parse_scenario

    try:
        doc = load_json(text, source="the body")
    except RequestError as exc:
        return Checked(None, None, tuple(_problem_messages(exc.problems)))
    scenario = is_scenario(doc)
    refused = [] if roots is None else roots.refusals(doc, scenario=scenario)
    notes = [Message(r.severity, str(r)) for r in refused]
    if any(r.severity == "error" for r in refused):
        return Checked(doc, None, tuple(notes), scenario)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if scenario:
                model: Any = parse_scenario(doc, base_dir=base_dir or Path.cwd())
                found = [*model.warnings, *scenario_lint(model)]
            else:
                model, warns = parse_request(doc, kind=kind)
                found = [*warns, *lint(model)]
            messages = _problem_messages(found)
        except RequestError as exc:  # ScenarioError too
            model = None
            messages = _problem_messages([*exc.warnings, *exc.problems])
    return Checked(doc, model, tuple(messages + _caught(caught) + notes), scenario)


def _round_fractions(value: Any, decimals: int) -> Any:
    """Round every region fraction of a ``layoutConfig`` list (other values kept)."""
    if not isinstance(value, list):
        return value
    out = []
    for entry in value:
        if isinstance(entry, dict):
            entry = {k: (round(v, decimals) if k in _REGION_FRACTION_KEYS
                         and isinstance(v, float) else v) for k, v in entry.items()}
        out.append(entry)
    return out


def _layout_holder(doc: Any) -> dict[str, Any] | None:
    """Return the object holding ``layoutConfig`` in a start / updateLayout body (or None)."""
    if not isinstance(doc, dict):
        return None
    client = doc.get("clientRequest", doc)
    if not isinstance(client, dict):
        return None
    recording = client.get("recordingConfig")
    if isinstance(recording, dict) and isinstance(recording.get("transcodingConfig"), dict):
        holder: dict[str, Any] = recording["transcodingConfig"]
        return holder
    return client


def export_text(doc: Any) -> str:
    """Return the body as the page exports it: indented JSON.

    Region fractions are rounded to the cloud's six decimals
    (:data:`~layoutkit.request.limits.FRACTION_DECIMALS`).

    Examples
    --------
    >>> print(export_text({"mixedVideoLayout": 3, "layoutConfig": [
    ...     {"x_axis": 0.1234567, "y_axis": 0, "width": 0.5, "height": 1 / 3}]}))
    {
      "mixedVideoLayout": 3,
      "layoutConfig": [
        {
          "x_axis": 0.123457,
          "y_axis": 0,
          "width": 0.5,
          "height": 0.333333
        }
      ]
    }
    """
    import copy
    import json

    doc = copy.deepcopy(doc)
    holder = _layout_holder(doc)
    if holder is not None and "layoutConfig" in holder:
        holder["layoutConfig"] = _round_fractions(holder["layoutConfig"], FRACTION_DECIMALS)
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _regions_json(regions: Any) -> list[dict[str, Any]]:
    return [{"index": i, "uid": uid, "x": int(r[0]), "y": int(r[1]), "w": int(r[2]),
             "h": int(r[3]), "render_mode": int(regions.render_modes[i]),
             "alpha": round(float(regions.alphas[i]), FRACTION_DECIMALS)}
            for i, (uid, r) in enumerate(zip(regions.uids, regions.rects.tolist(),
                                             strict=True))]


@dataclass
class _ScenarioState:
    key: str
    scenario: Any
    renderer: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


class DesignSession:
    """The caches and rendered pictures of one designer page.

    Parameters
    ----------
    base_dir : Path
        Folder relative image and source paths resolve against (the file given to
        ``layoutkit design``, else the current folder).
    upload_dir : Path
        Where uploaded images are kept while the page runs.
    allow_network : bool
        Fetch http(s) images (default: never; the page is told they are not fetched).

    Every file the page names must be in ``base_dir`` or ``upload_dir`` (:class:`FileRoots`).
    """

    def __init__(self, *, base_dir: Path, upload_dir: Path, profile: Profile | None = None,
                 allow_network: bool = False) -> None:
        from ..profile import DEFAULT_PROFILE

        self.base_dir = Path(base_dir).resolve()
        self.upload_dir = Path(upload_dir)
        self.roots = FileRoots(self.base_dir, self.upload_dir, allow_network)
        self.profile = profile or DEFAULT_PROFILE
        self._uploads: dict[Path, int] = {}
        #: The secrets of the file the page opened, by JSON path (the page sees "***").
        self.opened_secrets: dict[JsonPath, str] = {}
        self._images: dict[tuple[str, float, int], tuple[RGB | None, tuple[Message, ...]]] = {}
        self._pictures: OrderedDict[str, bytes] = OrderedDict()
        self._answers: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._scenario: _ScenarioState | None = None
        self._lock = threading.Lock()
        self._counter = 0

    # ------------------------------------------------------------------ pictures
    def _store(self, png: bytes) -> str:
        with self._lock:
            self._counter += 1
            token = f"{self._counter:06d}-{hashlib.sha1(png).hexdigest()[:10]}"
            self._pictures[token] = png
            while len(self._pictures) > 32:
                self._pictures.popitem(last=False)
        return token

    def picture(self, token: str) -> bytes | None:
        """Return the PNG stored under ``token`` (the last 32 are kept), or None."""
        with self._lock:
            return self._pictures.get(token)

    def check(self, text: str) -> Checked:
        """:func:`check_text` of the page's text, with this page's folders and base."""
        return check_text(text, base_dir=self.base_dir, roots=self.roots)

    # ------------------------------------------------------------------ images
    def image(self, location: str) -> tuple[RGB | None, tuple[Message, ...]]:
        """Load an image as the cloud uses it (JPG/BMP, at most 6 MB); return it and its warning.

        The warning says when the image is ignored.  Images are cached by path, modification
        time and size.  Only a file of the page's folders is read (:meth:`check` refused the
        others); an http(s) image only when network reads are allowed (else None: :meth:`check`
        noted it).
        """
        from ..io.images import load_image, network_reads, resolve_location

        if self.roots.refusal("", "image", location) is not None:
            return None, ()
        resolved = resolve_location(location, base_dir=self.base_dir)
        try:
            stat = Path(resolved).stat()
            key = (resolved, stat.st_mtime, stat.st_size)
        except OSError:
            key = (resolved, 0.0, -1)
        if key not in self._images:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with network_reads(self.roots.allow_network):
                    rgb = load_image(location, base_dir=self.base_dir)
            self._images[key] = (rgb, tuple(_caught(caught)))
        return self._images[key]

    def check_upload(self, name: str, data: bytes) -> dict[str, Any]:
        """Keep an uploaded image under its own name and check it as the cloud would.

        An image over the cloud's 6 MB is not kept (``preview``'s warning, naming the
        uploaded file), nor any file once the folder holds :data:`MAX_UPLOAD_FILES` files or
        :data:`MAX_UPLOAD_TOTAL` bytes; the answer's ``status`` is then 413 or 507.
        """
        from ..io.images import MAX_IMAGE_BYTES, TOO_LARGE, ignored_text

        safe = upload_name(name)
        if len(data) > MAX_IMAGE_BYTES:
            return _refused(413, f"warning: {ignored_text(safe, TOO_LARGE)}")
        path = self.upload_dir / hashlib.sha1(data).hexdigest()[:12] / safe
        with self._lock:
            if path not in self._uploads:
                full = self._upload_full(len(data))
                if full:
                    return _refused(507, full)
                self._keep(path, data)
        rgb, messages = self.image(str(path))
        return {"ok": rgb is not None, "path": str(path),
                "messages": [m.to_json() for m in messages]}

    def _upload_full(self, size: int) -> str | None:
        """Why one more upload of ``size`` bytes is not kept (None: it is)."""
        total = sum(self._uploads.values())
        if len(self._uploads) < MAX_UPLOAD_FILES and total + size <= MAX_UPLOAD_TOTAL:
            return None
        return (f"upload refused: the upload folder keeps at most {MAX_UPLOAD_FILES} files "
                f"and {MAX_UPLOAD_TOTAL // (1024 * 1024)} MiB (it holds {len(self._uploads)} "
                f"files, {total / (1024 * 1024):.1f} MiB); restart layoutkit design to "
                "empty it")

    def _keep(self, path: Path, data: bytes) -> None:
        from ..io.atomic import atomic_output

        with atomic_output(path, overwrite=True) as tmp:
            tmp.write_bytes(data)
        self._uploads[path] = len(data)

    # ------------------------------------------------------------------ requests
    def render_request(self, text: str, *, users: Sequence[str],
                       canvas_wh: tuple[int, int] | None = None) -> dict[str, Any]:
        """Check a start / updateLayout body and draw it as ``lk.preview`` does.

        Returns the page's answer: ``ok``, ``messages`` (validate's), ``kind``, ``canvas``,
        ``regions`` (pixels, paint order), ``picture`` (a token for :meth:`picture`) and
        ``ms`` (time to check, draw and encode).  The answers of the last 32 distinct
        requests are kept (undo and redo come back at once).
        """
        key = (text, tuple(users), canvas_wh)
        cached = self._answers.get(key)
        if cached is not None and self.picture(cached["picture"]) is not None:
            return {**cached, "ms": 0.0, "cached": True}
        answer = self._render_request(text, users=users, canvas_wh=canvas_wh)
        images = ("backgroundImage", "image_url", "defaultUserBackgroundImage")
        if answer["ok"] and not any(k in text for k in images):  # files may change on disk
            with self._lock:
                self._answers[key] = answer
                while len(self._answers) > 32:
                    self._answers.popitem(last=False)
        return answer

    def _render_request(self, text: str, *, users: Sequence[str],
                        canvas_wh: tuple[int, int] | None) -> dict[str, Any]:
        import time

        from ..api import DEFAULT_CANVAS_WH
        from ..layout import compute_regions
        from ..stills import DEFAULT_SOURCE_WH, preview_canvas

        started = time.perf_counter()
        checked = self.check(text)
        answer: dict[str, Any] = {"ok": False, "scenario": checked.is_scenario,
                                  "messages": [m.to_json() for m in checked.messages]}
        model = checked.model
        if model is None or checked.is_scenario:
            return answer
        if not isinstance(model, StartRequest | UpdateLayoutRequest):
            problem = Problem("", f"a {type(model).__name__} body has no layout to preview")
            answer["messages"].append(Message("error", str(problem)).to_json())
            return answer
        settings: LayoutSettings = model.layout
        canvas = (model.transcoding.canvas_wh if isinstance(model, StartRequest)
                  else canvas_wh or DEFAULT_CANVAS_WH)
        extra: list[Message] = []
        background = None
        if settings.background_image:
            background, found = self.image(settings.background_image)
            extra.extend(found)
        for location in [*(e.image_url for e in settings.background_config),
                         settings.default_user_background_image]:
            if location:
                extra.extend(self.image(location)[1])
        uids = list(users)
        image = preview_canvas(settings, uids, canvas_wh=canvas, profile=self.profile,
                               source_sizes={uid: DEFAULT_SOURCE_WH for uid in uids},
                               background_image=background)
        regions = compute_regions(settings, uids, canvas_wh=canvas, profile=self.profile)
        token = self._store(encode_png(image))
        answer.update(ok=True, kind=type(model).__name__, canvas=list(canvas),
                      regions=_regions_json(regions), picture=token,
                      ms=round((time.perf_counter() - started) * 1000, 1),
                      messages=answer["messages"] + [m.to_json() for m in extra])
        return answer

    # ------------------------------------------------------------------ scenarios
    def _scenario_state(self, text: str) -> tuple[_ScenarioState | None, Checked | None]:
        from ..io.images import network_reads
        from ..render import SceneRenderer

        key = hashlib.sha1(text.encode("utf-8")).hexdigest()
        state = self._scenario
        if state is not None and state.key == key:
            return state, None
        checked = self.check(text)
        if not checked.is_scenario or checked.model is None:
            return None, checked
        too_much = scenario_load_problem(checked.model)
        if too_much is not None:
            return None, Checked(checked.doc, None, (*checked.messages, too_much), True)
        with network_reads(self.roots.allow_network):
            # a picture to look at: without the test streams' once-a-second white flash
            renderer = SceneRenderer(checked.model, profile=self.profile, flash=False)
        new = _ScenarioState(key, checked.model, renderer)
        with self._lock:
            old, self._scenario = self._scenario, new
        if old is not None:
            with old.lock:
                old.renderer.close()
        return new, checked

    def scenario_info(self, text: str) -> dict[str, Any]:
        """Check a scenario; its duration, fps, canvas, users (with platform) and events."""
        checked = self.check(text)
        answer: dict[str, Any] = {"ok": False, "scenario": checked.is_scenario,
                                  "messages": [m.to_json() for m in checked.messages]}
        if not checked.is_scenario or checked.model is None:
            return answer
        try:
            state, refused = self._scenario_state(text)
        except LayoutkitError as exc:
            answer["messages"] += _error_messages(exc)
            return answer
        if state is None:
            assert refused is not None
            answer["messages"] = [m.to_json() for m in refused.messages]
            return answer
        scenario = state.scenario
        timeline = state.renderer.timeline
        answer.update(
            ok=True, duration=float(timeline.end_time), fps=state.renderer.fps,
            canvas=list(state.renderer.canvas_wh),
            users=[{"uid": u.uid, "platform": u.platform, "source": u.source,
                    "join": float(u.join), "role": u.role} for u in scenario.users],
            events=[{"t": float(e.t), "uid": e.uid, "action": e.action}
                    for e in scenario.events])
        return answer

    def scenario_frame(self, text: str, t: float) -> dict[str, Any]:
        """Draw the frame the recorder writes at ``t``; return it with each region's display state.

        It takes ``lk.frame_at``'s code path, without the test streams' white flash.
        """
        import time

        from ..io.images import network_reads
        from ..render import RenderedFrame

        try:
            state, checked = self._scenario_state(text)
        except LayoutkitError as exc:
            return {"ok": False, "messages": _error_messages(exc)}
        if state is None:
            assert checked is not None
            messages = [m.to_json() for m in checked.messages]
            if checked.model is not None:
                messages.append({"severity": "error",
                                 "text": "code 2: <root>: this is a request body, not a "
                                         "scenario (a scenario has users)"})
            return {"ok": False, "messages": messages}
        when = Fraction(repr(float(t)))
        end = state.renderer.timeline.end_time
        if not 0 <= when < end:
            return {"ok": False, "messages": [{
                "severity": "error",
                "text": f"t={float(when):g} s is outside the recording [0, {float(end):g}) s"}]}
        started = time.perf_counter()
        with state.lock, network_reads(self.roots.allow_network):
            frame: RenderedFrame = state.renderer.rendered_frame(when)
            rgb = frame.rgb()
            views = {v.uid: v for v in frame.scene.views}
            regions = _regions_json(frame.regions)
        token = self._store(encode_png(rgb))
        platforms = {u.uid: u.platform for u in state.scenario.users}
        for region in regions:
            view = views.get(region["uid"]) if region["uid"] is not None else None
            region["state"] = view.state.value if view is not None else "empty"
            region["platform"] = platforms.get(region["uid"] or "", "")
        shown = {r["uid"] for r in regions}
        others = [{"uid": u.uid, "platform": u.platform,
                   "state": (views[u.uid].state.value + " (no region)" if u.uid in views
                             else "audience" if u.role == "audience" else "not in the channel")}
                  for u in state.scenario.users if u.uid not in shown]
        layout = frame.scene.layout
        return {"ok": True, "t": float(frame.t), "picture": token, "regions": regions,
                "others": others, "canvas": list(state.renderer.canvas_wh),
                "layout": {"mixedVideoLayout": int(layout.mixed_video_layout),
                           "backgroundColor": layout.background_color},
                "ms": round((time.perf_counter() - started) * 1000, 1), "messages": []}

    def close(self) -> None:
        """Close the scenario renderer's sources."""
        state, self._scenario = self._scenario, None
        if state is not None:
            with state.lock:
                state.renderer.close()


def scenario_load_problem(scenario: Any) -> Message | None:
    """Return the error when a frame of ``scenario`` could draw too many pixels, else None.

    Too many is more than :data:`MAX_SCENARIO_PIXELS` source pixels (its 17 largest video
    users' sizes).

    Examples
    --------
    >>> from types import SimpleNamespace as U
    >>> users = [U(role="host", size_wh=(4096, 4096)) for _ in range(17)]
    >>> print(scenario_load_problem(U(users=users)).text)  # doctest: +NORMALIZE_WHITESPACE
    users: the 17 largest video users' size together is 285.2 million pixels; the designer
    draws at most 35.3 million (17 users of 1920x1080) a frame: give smaller sizes
    """
    sizes = sorted((u.size_wh[0] * u.size_wh[1] for u in scenario.users if u.role != "audience"),
                   reverse=True)[:MAX_PREVIEW_USERS]
    if sum(sizes) <= MAX_SCENARIO_PIXELS:
        return None
    return Message("error", f"users: the {len(sizes)} largest video users' size together is "
                            f"{sum(sizes) / 1e6:.1f} million pixels; the designer draws at most "
                            f"{MAX_SCENARIO_PIXELS / 1e6:.1f} million ({MAX_PREVIEW_USERS} users "
                            "of 1920x1080) a frame: give smaller sizes")


def upload_name(name: str) -> str:
    r"""Return the name an upload is kept under.

    That is its last path part, letters, digits, ``._-`` only, no leading dot, at most 100
    characters (``image`` when nothing is left).

    Examples
    --------
    >>> upload_name("C:\\photos\\my logo.jpg"), upload_name(".."), upload_name("../../x.jpg")
    ('my_logo.jpg', 'image', 'x.jpg')
    """
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[^\w.\-]+", "_", last).lstrip(".")[:100] or "image"


def _refused(status: int, text: str) -> dict[str, Any]:
    return {"ok": False, "path": None, "status": status,
            "messages": [{"severity": "warning" if text.startswith("warning:") else "error",
                          "text": text}]}


def _error_messages(exc: LayoutkitError) -> list[dict[str, str]]:
    problems = getattr(exc, "problems", None)
    if problems:
        return [m.to_json() for m in _problem_messages([*getattr(exc, "warnings", ()),
                                                        *problems])]
    return [{"severity": "error", "text": str(exc)}]

