"""Reading request and scenario files: :mod:`layoutkit.io.text` reads, the pure parsers parse."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MediaError, Problem, RequestError, ScenarioError
from .io.text import read_text, read_text_file
from .request.model import LayoutSettings, StartRequest, UpdateLayoutRequest
from .request.jsontext import load_json, load_json_document
from .request.parse import parse_request
from .scenario import Scenario, parse_scenario

if TYPE_CHECKING:
    from .scenario.ncs import Line

__all__ = [
    "MAX_JSONL_BYTES",
    "LoadedRequest",
    "check_scenario_sources",
    "image_lint",
    "is_request_body",
    "is_request_body_file",
    "is_scenario",
    "is_scenario_file",
    "load_request_file",
    "load_scenario_file",
    "read_json_lines",
    "scenario_lint",
]


@dataclass(frozen=True)
class LoadedRequest:
    """A request file, parsed: the model, its warnings and where it came from."""

    path: Path
    model: Any
    warnings: tuple[Problem, ...] = field(default=())

    @property
    def base_dir(self) -> Path:
        """Folder that relative image paths in the request are relative to."""
        return self.path.parent

    @property
    def layout(self) -> LayoutSettings:
        """The layout settings of a start or updateLayout body."""
        if isinstance(self.model, StartRequest):
            return self.model.layout
        if isinstance(self.model, UpdateLayoutRequest):
            return self.model.layout
        msg = f"{self.path}: a {type(self.model).__name__} body has no layout"
        raise MediaError(msg)

    @property
    def canvas_wh(self) -> tuple[int, int] | None:
        """Canvas size of a start body; None for updateLayout (it cannot change it)."""
        if isinstance(self.model, StartRequest):
            return self.model.transcoding.canvas_wh
        return None


#: The largest JSON-lines file read (a night of one busy app's notifications).
MAX_JSONL_BYTES = 256 * 2**20
#: Bad lines reported before the rest are only counted.
MAX_LINE_PROBLEMS = 50


def _json_line(text: str, number: int) -> Any:
    """One line's JSON value; a :class:`RequestError` whose problem names the line."""
    try:
        return load_json(text, source=f"line {number}")
    except RequestError as exc:
        rule = exc.problems[0].rule.replace("at line 1, column", "at column")
        raise RequestError([Problem(f"line {number}: <root>", rule)]) from None


def read_json_lines(path: str | os.PathLike[str], *, what: str) -> list[Line]:
    """Read the JSON value of every non-blank line of a JSON-lines file, with its line number.

    The file is read with :func:`~layoutkit.io.text.read_text_file` (a regular file of at
    most :data:`MAX_JSONL_BYTES`; a FIFO, device or folder is refused at once).

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        What it is, for messages (``"NCS event log"``).

    Raises
    ------
    MediaError
        The file cannot be read, is not a regular file, is too big or is not UTF-8.
    ScenarioError
        With one problem per line that is not JSON (``line 3: <root>: malformed JSON at
        column 5: ...``), the file named as its source.
    """
    from .scenario.ncs import Line  # only the event logs need it

    p = Path(path)
    text = read_text_file(p, limit=MAX_JSONL_BYTES, what=what)
    lines: list[Line] = []
    problems: list[Problem] = []
    for number, raw in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 is text
        raw = raw.removesuffix("\r")
        if not raw.strip():
            continue
        try:
            lines.append(Line(number, _json_line(raw, number)))
        except RequestError as exc:
            problems += exc.problems
    if problems:
        shown = problems[:MAX_LINE_PROBLEMS]
        if len(problems) > len(shown):
            shown.append(Problem("", f"and {len(problems) - len(shown)} more lines that are "
                                     "not JSON"))
        raise ScenarioError(shown, source=str(p))
    return lines


def _load_document(p: Path) -> tuple[Any, list[Problem]]:
    """:func:`load_json_document` of the file; a malformed one's error names the file."""
    text = read_text(p)
    try:
        return load_json_document(text, source=str(p))
    except RequestError as exc:
        raise type(exc)(exc.problems, warnings=exc.warnings, source=str(p)) from None


def load_request_file(path: str | os.PathLike[str], *, kind: str | None = None) -> LoadedRequest:
    """Read and validate a request body file (start, updateLayout, ... or clientRequest)."""
    p = Path(path)
    doc, repeated = _load_document(p)
    if is_scenario(doc):
        raise RequestError([Problem("", "this is a scenario file (it has users), not a request "
                                        "body; scenarios go to preview --at/--gif/--mp4 and mix")],
                           source=str(p))
    try:
        model, warnings = parse_request(doc, kind=kind)
    except RequestError as exc:
        raise type(exc)(exc.problems, warnings=(*repeated, *exc.warnings),
                        source=str(p)) from None
    if isinstance(model, StartRequest | UpdateLayoutRequest):
        model = replace(model, base_dir=p.resolve().parent)
    return LoadedRequest(path=p, model=model, warnings=(*repeated, *warnings))


def is_scenario(doc: Any) -> bool:
    """Tell a scenario: it has ``users`` (and ``start``) at its top; a request body has not."""
    return isinstance(doc, dict) and "users" in doc and "clientRequest" not in doc


def is_scenario_file(path: str | Path) -> bool:
    """Whether the JSON file at ``path`` is a scenario (else treat it as a request body)."""
    return is_scenario(_load_document(Path(path))[0])


def is_request_body(doc: Any) -> bool:
    """Tell a request body: ``clientRequest`` at its top and no ``users`` (not a scenario)."""
    return isinstance(doc, dict) and "clientRequest" in doc and "users" not in doc


def is_request_body_file(path: str | Path) -> bool:
    """Whether the JSON file at ``path`` is a request body (:func:`is_request_body`)."""
    return is_request_body(_load_document(Path(path))[0])


def load_scenario_file(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file.

    The scenario remembers the file's folder (:attr:`Scenario.base_dir`), so relative paths in
    it resolve wherever the caller runs.
    """
    p = Path(path)
    doc, repeated = _load_document(p)
    if is_request_body(doc):
        raise ScenarioError([Problem("", "this is a request body (it has clientRequest), not a "
                                         "scenario; a scenario has start, duration, users and "
                                         "events (see samples/scenario-demo.json)")],
                            source=str(p))
    try:
        scenario = parse_scenario(doc, base_dir=p.resolve().parent)
    except ScenarioError as exc:
        raise ScenarioError(exc.problems, warnings=(*repeated, *exc.warnings),
                            source=str(p)) from None
    return replace(scenario, warnings=(*repeated, *scenario.warnings)) if repeated else scenario


def check_scenario_sources(scenario: Scenario, path: str | os.PathLike[str]) -> None:
    """Refuse a scenario file whose recording would fail for a source file.

    The rule is :func:`layoutkit.sources.check_sources`'s, the one ``mix`` applies; the
    problems are named by the file and shown with the scenario's warnings.

    Raises
    ------
    ScenarioError
        One problem per missing or unusable video, image or audio file, e.g.
        ``users[0].source (clip.mp4 -> /abs/clip.mp4): no such video file``.
    """
    from .sources import check_sources

    try:
        check_sources(scenario)
    except ScenarioError as exc:
        raise ScenarioError(exc.problems, warnings=(*scenario.warnings, *exc.warnings),
                            source=str(path)) from None


def scenario_lint(scenario: Scenario) -> list[Problem]:
    """Lint warnings of a scenario's ``start`` body, including canvas vs. source sizes.

    File sources are probed for their size; a file that cannot be read gets a warning
    (:func:`check_scenario_sources` makes it an error, as a recording does).
    """
    from .io.images import resolve_location
    from .io.decode import probe_video_size
    from .request.lint import lint_canvas_vs_sources, lint_start
    from .sources import media_problem

    sizes = []
    unreadable = []
    for i, user in enumerate(scenario.users):
        if user.role == "audience":
            continue
        if user.source in ("testsrc", "unknown") or user.source.startswith("#"):
            sizes.append(user.size_wh)
            continue
        try:
            sizes.append(probe_video_size(resolve_location(user.source,
                                                          base_dir=scenario.base_dir)))
        except MediaError as exc:  # the renderer refuses it (an error there)
            unreadable.append(media_problem(i, "source", user.source, exc,
                                            base_dir=scenario.base_dir, severity="warning",
                                            rule_suffix="; a recording refuses it"))
    return [*unreadable, *lint_start(scenario.start, path="start.clientRequest"),
            *lint_canvas_vs_sources(scenario.start, sizes, path="start.clientRequest")]


def _layout_images(layout: LayoutSettings, path: str) -> list[tuple[str, str]]:
    """``(json path, location)`` of every image a layout names."""
    at = f"{path}." if path else ""
    found = [(f"{at}{key}", value) for key, value in
             (("backgroundImage", layout.background_image),
              ("defaultUserBackgroundImage", layout.default_user_background_image)) if value]
    found += [(f"{at}backgroundConfig[{i}].image_url", entry.image_url)
              for i, entry in enumerate(layout.background_config) if entry.image_url]
    return found


def _missing_images(named: list[tuple[str, str]], base_dir: Path | None) -> list[Problem]:
    """Warnings for the local images in ``named`` that are not files; URLs are not fetched."""
    from .io.images import resolve_location

    problems = []
    for path, location in named:
        if location.lower().startswith(("http://", "https://")):
            continue
        resolved = resolve_location(location, base_dir=base_dir)
        if os.path.isfile(resolved):
            continue
        what = "is a folder" if os.path.isdir(resolved) else "not found"
        problems.append(Problem(path, f"local image {what}: {resolved}; the cloud ignores an "
                                      "image it cannot fetch (no image is drawn)",
                                location, severity="warning"))
    return problems


def image_lint(item: Any) -> list[Problem]:
    """Warnings for local images a request or scenario names that do not exist.

    Relative paths are resolved against the folder of the file that names them (the
    model's ``base_dir``); ``http(s)://`` URLs are not fetched here (the renderer reads
    them).  A missing image is no error: the cloud ignores an image it cannot fetch.

    Parameters
    ----------
    item : StartRequest, UpdateLayoutRequest, AcquireRequest or Scenario
        A parsed request (as :func:`load_request_file` returns it) or scenario.

    Returns
    -------
    list of Problem
        One warning per missing image, with its JSON path, the resolved file and the
        value as written.
    """
    from .request.model import AcquireRequest

    named: list[tuple[str, str]] = []
    base_dir = getattr(item, "base_dir", None)
    if isinstance(item, Scenario):
        named = _layout_images(item.start.layout,
                               "start.clientRequest.recordingConfig.transcodingConfig")
        for event in item.events:
            if event.layout is not None:
                named += _layout_images(event.layout, f"events[update_layout at "
                                                      f"{float(event.t):g} s].body")
    elif isinstance(item, StartRequest | UpdateLayoutRequest):
        base = "clientRequest" if item.cname or item.uid else ""
        if isinstance(item, StartRequest):
            base = f"{base}.recordingConfig.transcodingConfig".lstrip(".")
        named = _layout_images(item.layout, base)
    elif isinstance(item, AcquireRequest) and item.start_parameter is not None:
        return []  # startParameter bodies have no file of their own (base_dir)
    return _missing_images(named, base_dir)


def background_image_of(settings: LayoutSettings, *, base_dir: Path | None,
                        canvas_wh: tuple[int, int]) -> Any:
    """Decode the ``backgroundImage`` of a layout (RGB, at about the canvas size).

    None when there is none or the cloud would ignore it (with a warning).
    """
    if not settings.background_image:
        return None
    from .io.images import load_image

    return load_image(settings.background_image, base_dir=base_dir, max_size_wh=canvas_wh)
