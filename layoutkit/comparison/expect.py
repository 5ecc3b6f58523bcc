"""What each region should show, period by period, under one profile (pure, renders once).

A period is a stretch between two consecutive :meth:`Timeline.change_times`: its scene is
constant (apart from test-stream frame numbers, which are computed).  For every period the
expected canvas is drawn once by :class:`~layoutkit.render.SceneRenderer` (the recorder's own
code path) and turned into descriptors; candidate looks (black, canvas colour, canvas
background, each user's picture) are drawn once per layout to name what a region shows
when it does not show what was expected.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from ..compose.contents import BLACK, CANVAS, Content, Picture, Solid
from ..compose.plan import Plan as DrawPlan
from ..compose.plan import build_plan
from ..compose.yuv import solid_i420
from ..enums import LayoutMode
from ..layout import Regions, compute_regions
from ..signals.idstream import idstream_frame_i420
from ..profile import Profile
from ..render import SceneRenderer
from ..request.model import LayoutSettings
from ..scenario import UNKNOWN, Scenario, UserSpec, first_join_times
from ..timeline import DisplayState, Scene, Timeline, UserView
from .codereader import CodeSpot
from .model import NoUser, RegionState
from .observe import FrameSampler
from .._typing import F32

__all__ = [
    "FILE_WINDOW_S",
    "ExpectOptions",
    "Expectation",
    "FileFrames",
    "Label",
    "Period",
    "RegionExpect",
    "build_expectation",
    "file_names",
    "person_uids",
    "source_kind",
]

#: (who, state): a uid or None, and a :class:`DisplayState` or a :class:`NoUser` state.
Label = tuple[str | None, RegionState]
Rect = tuple[int, int, int, int]

#: A video file's region is compared with the file's frames this many seconds either side
#: of the source time the scenario expects (a publisher that starts its file a little late).
FILE_WINDOW_S = 0.5


def source_kind(source: str) -> str:
    """Return how a user's ``source`` is checked: ``testsrc``, ``solid``, ``person`` or ``file``.

    ``person`` is ``"unknown"``: a real person, picture not known.

    >>> [source_kind(s) for s in ("testsrc", "#FF0000", "unknown", "./unknown", "a.mp4")]
    ['testsrc', 'solid', 'person', 'file', 'file']
    """
    if source == "testsrc":
        return "testsrc"
    if source == UNKNOWN:
        return "person"
    return "solid" if source.startswith("#") else "file"


def person_uids(scenario: Scenario) -> tuple[str, ...]:
    """Return the users whose picture is not known (``source: "unknown"``: real people)."""
    return tuple(u.uid for u in scenario.users if source_kind(u.source) == "person")


def file_names(scenario: Scenario) -> dict[str, str]:
    """Return uid -> file name of every user whose source is a video file.

    The name is the last path part, without the URL query (it may hold a signature).

    >>> from types import SimpleNamespace as U
    >>> file_names(U(users=[U(uid="1", source="testsrc"), U(uid="2", source="/a/b/clip.mp4"),
    ...                     U(uid="3", source="https://h/v/x.mp4?X-Amz-Signature=s")]))
    {'2': 'clip.mp4', '3': 'x.mp4'}
    """
    return {u.uid: _file_name(u.source) for u in scenario.users if source_kind(u.source) == "file"}


def _file_name(source: str) -> str:
    path = source.split("?", 1)[0].split("#", 1)[0].replace("\\", "/").rstrip("/")
    return path.rsplit("/", 1)[-1] or path


@dataclass(frozen=True)
class RegionExpect:
    """What one region should show during one period.

    ``kind`` says how it is checked: ``code_live`` / ``code_frozen`` (a test stream's code,
    live or frozen at ``frozen_frame``), ``desc`` (the expected picture's descriptor),
    ``look`` (a test stream whose code is covered by another region: the nearest candidate
    look must be the expected user's), ``file`` (a live video file: compared with the
    file's own frames near its source time, from ``files``), ``person`` (a real person's
    region, live or last frame: its picture is not predicted, it must just not be one of
    ``backgrounds``, the looks of a region without a picture) or ``unchecked``.
    """

    index: int
    rect: Rect
    mode: int
    label: Label
    kind: str
    desc_key: int
    code_key: int | None = None
    join: float = 0.0
    frozen_frame: int | None = None
    frozen_t: float | None = None  # scenario time of the last live canvas frame (code_frozen)
    expected: F32 | None = None
    looks: _Looks | None = None
    flash: F32 | None = None  # a region blended over a live test stream, at its flash
    files: FileFrames | None = None  # the file users' frames as this region shows them (file)
    place: int = -1  # this region's place in ``files``
    #: (label, descriptor) of every look of this region without a picture (``person``):
    #: black, canvas colour, canvas background, the user's image when the layout has one
    backgrounds: tuple[tuple[Label, F32], ...] = ()

    @property
    def candidates(self) -> tuple[tuple[Label, F32], ...]:
        """(label, descriptor) of every candidate look of this region (drawn on first use)."""
        return () if self.looks is None else self.looks()[self.index]


@dataclass(frozen=True)
class Period:
    """A stretch of scenario time with one scene."""

    start: float
    end: float
    start_exact: Fraction
    layout_mode: int
    regions: tuple[RegionExpect, ...]
    canvas_desc: F32
    bg_key: int | None = None
    bg_expected: F32 | None = None


@dataclass(frozen=True)
class Expectation:
    """Every period of a scenario under one profile."""

    profile: Profile
    periods: tuple[Period, ...]
    end: float
    fps: int

    @property
    def starts(self) -> npt.NDArray[np.float64]:
        """The periods' start times (scenario seconds), for ``np.searchsorted``."""
        return np.array([p.start for p in self.periods], dtype=np.float64)

    def signature(self) -> tuple[object, ...]:
        """Return what the expectation predicts, comparable between profiles.

        A video file's region is alike whether its frames are checked or not.
        """
        return tuple((round(p.start, 6), tuple((r.rect, r.mode, r.label,
                                                "unchecked" if r.kind == "file" else r.kind,
                                                r.frozen_frame)
                                               for r in p.regions)) for p in self.periods)


def _background_key(sampler: FrameSampler, regions: Regions) -> int | None:
    """Register a descriptor over the part of the canvas no region covers, if there is one."""
    w, h = regions.canvas_wh
    rects = [tuple(int(v) for v in r) for r in regions.rects]
    cov = np.zeros((h, w), dtype=bool)
    for x, y, rw, rh in rects:
        cov[y:y + rh, x:x + rw] = True
    if cov.mean() > 0.97:
        return None
    return sampler.desc_key((0, 0, w, h), tuple(rects))  # type: ignore[arg-type]


class _Candidates:
    """Candidate looks of every region of a layout, drawn once per (regions, background)."""

    def __init__(self, renderer: SceneRenderer, sampler: FrameSampler) -> None:
        self.renderer = renderer
        self.sampler = sampler
        self.scenario = renderer.scenario
        self.fps = renderer.fps
        self._cache: dict[object, list[tuple[Label, F32]]] = {}
        self._pictures: dict[str, tuple[npt.NDArray[np.uint8], tuple[int, int]]] = {}
        for user in self.scenario.users:
            kind = source_kind(user.source)
            if kind == "testsrc":
                pic = idstream_frame_i420(user.uid, 1, size_wh=user.size_wh, fps=self.fps)
            elif kind == "solid":
                rgb = (int(user.source[1:3], 16), int(user.source[3:5], 16),
                       int(user.source[5:7], 16))
                pic = solid_i420(user.size_wh, rgb)
            else:
                continue
            self._pictures[user.uid] = (pic, user.size_wh)

    def _draw(self, regions: Regions, content: Content | None, layout: object,
              pictures: dict[object, npt.NDArray[np.uint8]]) -> F32:
        background = self.renderer._background(layout)  # type: ignore[arg-type]
        plan = build_plan(regions, [content] * len(regions), background=background)
        return self.sampler.describe(plan.render(pictures))

    def get(self, regions: Regions, keys: list[int],
            layout: object) -> list[list[tuple[Label, F32]]]:
        """Per region: (label, descriptor) of every candidate look."""
        ck = (regions, getattr(layout, "background_color", None),
              getattr(layout, "background_image", None), tuple(keys))
        if ck not in self._cache:
            looks: list[tuple[Label, Content, dict[object, npt.NDArray[np.uint8]]]] = [
                ((None, DisplayState.BLACK), BLACK, {}),
                ((None, DisplayState.CANVAS_COLOR), Solid(layout.background_rgb), {}),  # type: ignore[attr-defined]
                ((None, DisplayState.CANVAS_BACKGROUND), CANVAS, {}),
            ]
            for uid, (pic, size) in self._pictures.items():
                looks.append(((uid, DisplayState.LIVE), Picture(("cand", uid), size),
                              {("cand", uid): pic}))
            per_region: list[list[tuple[Label, F32]]] = [[] for _ in keys]
            for label, content, pictures in looks:
                cells = self._draw(regions, content, layout, pictures)
                for j, key in enumerate(keys):
                    per_region[j].append((label, self.sampler.split(cells, key).copy()))
            self._cache[ck] = per_region  # type: ignore[assignment]
        return self._cache[ck]  # type: ignore[return-value]


    def backgrounds(self, regions: Regions, keys: list[int], layout: object,
                    j: int, drawn: dict[Hashable, F32] | None) -> tuple[tuple[Label, F32], ...]:
        """Draw (label, descriptor) of each of region ``j``'s looks without a picture.

        Black, canvas colour, canvas background and its user's image when ``layout`` has one
        for it (``drawn``: a cache shared by expectations of one scenario with other event
        times).
        """
        uid = regions.uids[j]
        image = (layout.user_background(uid)  # type: ignore[attr-defined]
                 if uid is not None else None)
        # the looks depend on the region's place (its rect and what covers it: the key) and
        # opacity, the canvas and the image, not on the other regions
        ck = ("backgrounds", tuple(regions.rects[j].tolist()), keys[j], float(regions.alphas[j]),
              getattr(layout, "background_color", None),
              getattr(layout, "background_image", None), image)
        cache: dict[Hashable, object] = (drawn if drawn is not None  # type: ignore[assignment]
                                         else self._cache)
        if ck not in cache:
            rgb = layout.background_rgb  # type: ignore[attr-defined]
            looks: list[tuple[Label, Content, dict[object, npt.NDArray[np.uint8]]]] = [
                ((None, DisplayState.BLACK), BLACK, {}),
                ((None, DisplayState.CANVAS_COLOR), Solid(rgb), {}),
                ((None, DisplayState.CANVAS_BACKGROUND), CANVAS, {})]
            picture = self.renderer._image(image.image_url) if image is not None else None
            if picture is not None:
                looks.append(((uid, DisplayState.USER_IMAGE),
                              Picture(("image", uid),
                                      (picture.shape[1], picture.shape[0] * 2 // 3),
                                      render_mode=image.render_mode),  # type: ignore[union-attr]
                              {("image", uid): picture}))
            cache[ck] = tuple((label, self.sampler.split(self._draw(regions, content, layout, pics),
                                                       keys[j]).copy())
                              for label, content, pics in looks)
        return cache[ck]  # type: ignore[return-value]


class _Looks:
    """The candidate looks of one period's regions, drawn when first asked for."""

    def __init__(self, cands: _Candidates, regions: Regions, keys: list[int],
                 layout: object) -> None:
        self._args = (cands, regions, keys, layout)
        self._value: list[tuple[tuple[Label, F32], ...]] | None = None

    def __call__(self) -> list[tuple[tuple[Label, F32], ...]]:
        if self._value is None:
            cands, regions, keys, layout = self._args
            self._value = [tuple(c) for c in cands.get(regions, keys, layout)]
        return self._value


class FileFrames:
    """Every video-file user's frames as each file region shows them, described.

    Regions register (:meth:`register`, while an expectation is built) with their users'
    join times; :meth:`cells` draws a user's frame ``k`` of the canvas's frame grid (source
    time ``k / fps - join``, looping as the recorder does) into a registered place on first
    use and keeps only the place's descriptor (``(cells, 3)`` per frame), never the
    pictures.  The frames asked for in one call are decoded in time order (a file source
    rewinds only when asked for an earlier time).  One instance may serve expectations of
    one scenario with other event times (compare's event windows): a place is known by its
    regions, index, descriptor key and the users' join times.
    """

    def __init__(self, renderer: SceneRenderer, sampler: FrameSampler) -> None:
        self.renderer, self.sampler, self.fps = renderer, sampler, renderer.fps
        self.uids = tuple(u.uid for u in renderer.scenario.users if source_kind(u.source) == "file")
        self.sources = {u.uid: u.source for u in renderer.scenario.users}
        self._places: list[tuple[Regions, int, int, object, dict[str, Fraction]]] = []
        self._ids: dict[tuple[object, ...], int] = {}
        self._cells: dict[tuple[str, int, int], F32] = {}
        self._plans: dict[tuple[str, int], tuple[DrawPlan, npt.NDArray[np.uint8]]] = {}

    def register(self, regions: Regions, j: int, key: int, layout: object,
                 joins: Mapping[str, Fraction] | None = None) -> int:
        """Return the place id of region ``j`` of ``regions``, new or known.

        A place is known by the region, its descriptor ``key`` and the users' first
        ``joins`` (default the renderer's scenario's).
        """
        joins = dict(first_join_times(self.renderer.scenario) if joins is None else joins)
        ident = (regions, j, key, tuple(sorted((u, joins[u]) for u in self.uids if u in joins)))
        if ident not in self._ids:
            self._ids[ident] = len(self._places)
            self._places.append((regions, j, key, layout, joins))
        return self._ids[ident]

    def _draw(self, uid: str, place: int, picture: npt.NDArray[np.uint8]) -> F32:
        regions, j, key, layout, _joins = self._places[place]
        if (uid, place) not in self._plans:
            size = (picture.shape[1], picture.shape[0] * 2 // 3)
            contents: list[Content] = [CANVAS] * len(regions)
            contents[j] = Picture(("file", uid), size)
            plan = build_plan(regions, contents,
                              background=self.renderer._background(layout))  # type: ignore[arg-type]
            self._plans[(uid, place)] = (plan, plan.start())
        drawing, canvas = self._plans[(uid, place)]
        drawing.draw(canvas, {("file", uid): picture})
        return self.sampler.split(self.sampler.describe(canvas), key).copy()

    def cells(self, uid: str, place: int, ks: npt.NDArray[np.int64]) -> F32:
        """``uid``'s descriptors in ``place`` at canvas frames ``ks`` (any shape; clipped at 0)."""
        ks = np.maximum(ks, 0)
        if not ks.size:
            return np.zeros((*ks.shape, 0, 3), np.float32)
        join = self._places[place][4].get(uid, Fraction(0))
        source = self.renderer.sources[uid]
        wanted = np.unique(ks)
        for k in wanted:
            if (uid, place, int(k)) not in self._cells:
                picture = source.frame_i420(max(Fraction(0), Fraction(int(k), self.fps) - join))
                self._cells[(uid, place, int(k))] = self._draw(uid, place, picture)
        table = np.stack([self._cells[(uid, place, int(k))] for k in wanted])
        return table[np.searchsorted(wanted, ks)]


@functools.lru_cache(maxsize=4096)
def _code_hidden(src_wh: tuple[int, int], rect: Rect, mode: int, above: Sequence[tuple[int, ...]],
                 canvas_wh: tuple[int, int]) -> bool:
    """Tell whether the code of a test stream in ``rect`` cannot be read (covered, too small)."""
    spot = CodeSpot(src_wh, rect, mode, canvas_wh)
    if not spot.readable:
        return True
    for other in above:
        x, y, w, h = (int(v) for v in other)
        if x < spot.bx1 and spot.bx0 < x + w and y < spot.by1 and spot.by0 < y + h:
            return True
    return False


def _src_index(t: Fraction, join: Fraction, fps: int) -> int:
    return int(max(Fraction(0), t - join) * fps)


def _still_time(start: Fraction, end: Fraction, joins: Sequence[Fraction], fps: int) -> Fraction:
    """Return a frame time in ``[start, end)`` without a test-stream flash, else ``start``.

    The expected picture of a period is drawn once; regions blended over a live test stream
    (``alpha`` < 1) show it through, so that one drawing must not be the frame of the
    once-a-second flash (every whole second from the join: periods often start there).

    >>> _still_time(Fraction(2), Fraction(3), [Fraction(0)], 15)
    Fraction(31, 15)
    >>> _still_time(Fraction(2), Fraction(31, 15), [Fraction(0)], 15)
    Fraction(2, 1)
    """
    first = math.ceil(start * fps)
    for k in range(first, first + fps):
        t = Fraction(k, fps)
        if t >= end:
            break
        if all(t < j or _src_index(t, j, fps) % fps for j in joins):
            return max(t, start)
    return start


def _flash_time(start: Fraction, end: Fraction, joins: Sequence[Fraction],
                fps: int) -> Fraction | None:
    """Return the first frame time in ``[start, end)`` at which a test stream flashes, if any.

    >>> _flash_time(Fraction(31, 15), Fraction(4), [Fraction(0)], 15)
    Fraction(3, 1)
    """
    first = math.ceil(start * fps)
    for k in range(first, first + fps):
        t = Fraction(k, fps)
        if t >= end:
            return None
        if any(t >= j and _src_index(t, j, fps) % fps == 0 for j in joins):
            return t
    return None


def _user_item(item: dict[str, object], view: UserView, user: UserSpec,
               above: Sequence[tuple[int, ...]], sampler: FrameSampler,
               clock: tuple[Fraction, int]) -> None:
    """Set the label, join and check kind of a region showing ``view`` in ``item``.

    ``clock`` is the user's first join and the canvas fps; registers the code key a
    readable test stream uses.
    """
    join, fps = clock
    rect: Rect = item["rect"]  # type: ignore[assignment]
    mode = int(item["mode"])  # type: ignore[call-overload]
    kind = source_kind(user.source)
    shown = view.state in (DisplayState.LIVE, DisplayState.LAST_FRAME)
    item["label"] = (user.uid, view.state)
    item["join"] = float(join)
    if shown and kind == "testsrc" and not _code_hidden(user.size_wh, rect, mode, tuple(above),
                                                        sampler.canvas_wh):
        item["code_key"] = sampler.code_key(rect, mode, user.size_wh)
        item.update({"kind": "code_live"} if view.state is DisplayState.LIVE
                    else _frozen_fields(view.frozen_at, join, fps))
    elif shown and kind == "testsrc":
        item["kind"] = "look"  # the code is covered: tell users by their colours
    elif shown and kind == "file":
        item["kind"] = "unchecked"
    elif shown and kind == "person":
        item["kind"] = "person"
    else:
        item["kind"] = "desc"


def _file_item(item: dict[str, object], files: FileFrames | None, regions: Regions,
               layout: object, joins: Mapping[str, Fraction]) -> None:
    """Check a live video file's region against the file's frames (``files``)."""
    if files is None or item["kind"] != "unchecked" or item["label"][1] != DisplayState.LIVE:  # type: ignore[index]
        return
    j, key = int(item["index"]), int(item["desc_key"])  # type: ignore[call-overload]
    item.update(kind="file", files=files, place=files.register(regions, j, key, layout, joins))


def _no_picture(looks: _Candidates | None, regions: Regions, keys: list[int], layout: object,
                at: tuple[int, dict[Hashable, F32] | None]) -> tuple[tuple[Label, F32], ...]:
    """Return region ``at[0]``'s looks without a picture, drawn once per layout.

    Empty without ``looks`` (not a real person's region); ``at[1]`` is the shared cache, if
    any.
    """
    return () if looks is None else looks.backgrounds(regions, keys, layout, *at)


def _cut(sampler: FrameSampler, cells: F32 | None, key: int | None) -> F32 | None:
    """Descriptor ``key`` out of ``cells`` (a copy), or None when either is missing."""
    return sampler.split(cells, key).copy() if cells is not None and key is not None else None


def _scene_cells(renderer: SceneRenderer, sampler: FrameSampler, scene: Scene, t: Fraction,
                 drawn: dict[Hashable, F32] | None) -> F32:
    """Describe the canvas of ``scene`` drawn at ``t``.

    Taken from ``drawn`` when a scene of the same layout and views was drawn before (see
    :func:`build_expectation`).
    """
    key = (scene.layout, scene.order, tuple((v.uid, v.state, v.image) for v in scene.views))
    if drawn is not None and key in drawn:
        return drawn[key]
    cells = sampler.describe(renderer.rendered_frame(t).canvas)
    if drawn is not None:
        drawn[key] = cells
    return cells


def _frozen_fields(frozen_at: Fraction | None, join: Fraction, fps: int) -> dict[str, object]:
    """Return a frozen test stream's region fields.

    The frame number and time of the last live canvas frame before ``frozen_at`` (the
    stop).

    >>> _frozen_fields(Fraction(3), Fraction(1), 15)
    {'kind': 'code_frozen', 'frozen_frame': 29, 'frozen_t': 2.933333333333333}
    """
    assert frozen_at is not None
    k = Fraction(math.ceil(frozen_at * fps) - 1, fps)
    return {"kind": "code_frozen", "frozen_frame": _src_index(k, join, fps) % 4096,
            "frozen_t": float(k)}


def _outside(span: tuple[Fraction, Fraction] | None, start: Fraction, end: Fraction) -> bool:
    """Tell whether the period ``[start, end)`` lies outside ``span`` (None: everything)."""
    return span is not None and (end <= span[0] or start >= span[1])


def _placeholder(start: Fraction, end: Fraction) -> Period:
    """Return a period whose frames are not classified (outside a span): no regions."""
    return Period(start=float(start), end=float(end), start_exact=start, layout_mode=0,
                  regions=(), canvas_desc=np.zeros((0, 3), np.float32))


@dataclass(frozen=True)
class ExpectOptions:
    """The optional knobs of :func:`build_expectation`.

    Attributes
    ----------
    mode_override : int, optional
        Pretend every layout had this ``mixedVideoLayout`` (to test "wrong layout"); then
        only test-stream codes are checked.
    candidates : bool
        Also prepare candidate looks (to name what a mismatching region shows).
    drawn : dict, optional
        A cache of the described canvas of each scene (its layout and every view's state,
        not its time) shared by expectations of one scenario with other event times
        (compare's event windows): a scene seen before is not drawn again.  Only still
        regions' pictures are then exact (a live test stream's is of another time).
    span : (Fraction, Fraction), optional
        Only the periods that overlap ``[span[0], span[1])`` get regions (the others are
        placeholders: no frame of theirs is to be classified).
    files : FileFrames, optional
        Check live video files' regions against these frames (shared by expectations of
        one scenario with other event times); by default a new one when ``candidates``.

    Examples
    --------
    >>> ExpectOptions(candidates=False).mode_override is None
    True
    """

    mode_override: int | None = None
    candidates: bool = True
    drawn: dict[Hashable, F32] | None = None
    span: tuple[Fraction, Fraction] | None = None
    files: FileFrames | None = None


@dataclass(frozen=True)
class _Build:
    """What every period of one :func:`build_expectation` call shares."""

    sampler: FrameSampler
    profile: Profile
    renderer: SceneRenderer
    fps: int
    users: Mapping[str, UserSpec]
    joins: Mapping[str, Fraction]
    testsizes: Sequence[tuple[int, int]]
    people: frozenset[str]
    cands: _Candidates | None
    bg_looks: _Candidates | None
    files: FileFrames | None
    mode_override: int | None
    drawn: dict[Hashable, F32] | None


def _build(scenario: Scenario, sampler: FrameSampler, *, profile: Profile, renderer: SceneRenderer,
           opts: ExpectOptions) -> _Build:
    """Gather what every period shares: users, joins, candidate looks, the files' frames."""
    mode_override, candidates, files = opts.mode_override, opts.candidates, opts.files
    cands = _Candidates(renderer, sampler) if candidates else None
    people = frozenset(person_uids(scenario))
    bg_looks = (cands or (_Candidates(renderer, sampler) if people else None)
                if mode_override is None else None)
    if files is None and candidates and mode_override is None:
        files = FileFrames(renderer, sampler)
    if mode_override is not None:
        files = None
    return _Build(
        sampler=sampler, profile=profile, renderer=renderer, fps=scenario.start.transcoding.fps,
        users={u.uid: u for u in scenario.users}, joins=first_join_times(scenario),
        testsizes=sorted({u.size_wh for u in scenario.users if source_kind(u.source) == "testsrc"}),
        people=people, cands=cands, bg_looks=bg_looks, files=files,
        mode_override=mode_override, drawn=opts.drawn)


def build_expectation(scenario: Scenario, sampler: FrameSampler, *, profile: Profile,
                      renderer: SceneRenderer,
                      options: ExpectOptions | None = None) -> Expectation:
    """Build the periods of ``scenario`` under ``profile``, their keys registered in ``sampler``.

    Parameters
    ----------
    scenario : Scenario
    sampler : FrameSampler
        Receives the descriptor and code keys the periods use.
    profile : Profile
    renderer : SceneRenderer
        Draws the expected canvas of each period (built with the same profile).
    options : ExpectOptions, optional
        A layout mode to pretend, candidate looks, a cache of drawn scenes, the span to
        classify, the video files' frames (default :class:`ExpectOptions`'s).
    """
    opts = ExpectOptions() if options is None else options
    timeline = Timeline(scenario, profile=profile)
    build = _build(scenario, sampler, profile=profile, renderer=renderer, opts=opts)
    periods = [_placeholder(start, end) if _outside(opts.span, start, end)
               else _period(build, timeline.scene_at(start), start, end)
               for start, end in pairwise(timeline.change_times())]
    return Expectation(profile=profile, periods=tuple(periods), end=float(timeline.end_time),
                       fps=build.fps)


def _period(build: _Build, scene: Scene, start: Fraction, end: Fraction) -> Period:
    """Build the period ``[start, end)`` showing ``scene``: its regions and descriptors."""
    sampler, checked = build.sampler, build.mode_override is None
    layout = scene.layout
    if build.mode_override is not None and build.mode_override != layout.mixed_video_layout:
        layout = replace(layout, mixed_video_layout=LayoutMode(build.mode_override))
    regions = compute_regions(layout, scene.order, canvas_wh=sampler.canvas_wh,
                              profile=build.profile)
    live = [build.joins[v.uid] for v in scene.views if v.uid in build.joins
            and source_kind(build.users[v.uid].source) == "testsrc"]
    keys, pending = _region_items(build, scene, layout, regions)
    bg_key = _background_key(sampler, regions) if checked else None
    cells = (_scene_cells(build.renderer, sampler, scene, _still_time(start, end, live, build.fps),
                          build.drawn)
             if checked else None)
    flash_cells = _flash_cells(build, regions, (start, end), live) if cells is not None else None
    looks = _Looks(build.cands, regions, keys, layout) if build.cands is not None and checked \
        else None
    region_list = []
    for j, item in enumerate(pending):
        expected = _cut(sampler, cells, keys[j])
        flash = (sampler.split(flash_cells, keys[j]).copy()
                 if flash_cells is not None and regions.alphas[j] < 1 else None)
        region_list.append(RegionExpect(
            looks=looks, flash=flash,
            expected=expected, **item))  # type: ignore[arg-type]
    return Period(
        start=float(start), end=float(end), start_exact=start,
        layout_mode=layout.mixed_video_layout, regions=tuple(region_list),
        canvas_desc=(sampler.split(cells, sampler.canvas_key).copy() if cells is not None
                     else np.zeros((0, 3), np.float32)),
        bg_key=bg_key,
        bg_expected=_cut(sampler, cells, bg_key))


def _region_items(build: _Build, scene: Scene, layout: LayoutSettings, regions: Regions
                  ) -> tuple[list[int], list[dict[str, object]]]:
    """Register each region's keys in the sampler and say what it should show.

    Returns each region's descriptor key and its :class:`RegionExpect` fields but the
    pictures (``expected``, ``flash``, ``looks``), in paint order.
    """
    sampler = build.sampler
    rects = [tuple(int(v) for v in r) for r in regions.rects]
    views = {v.uid: v for v in scene.views}
    keys: list[int] = []
    pending: list[dict[str, object]] = []
    for j, uid in enumerate(regions.uids):
        rect: Rect = rects[j]  # type: ignore[assignment]
        mode = int(regions.render_modes[j])
        key = sampler.desc_key(rect, tuple(rects[j + 1:]))  # type: ignore[arg-type]
        keys.append(key)
        for size in build.testsizes:  # any test stream may turn up here
            sampler.code_key(rect, mode, size)
        item: dict[str, object] = {"index": j, "rect": rect, "mode": mode, "desc_key": key}
        view = views.get(uid) if uid is not None else None
        if uid is None or view is None:
            item.update(label=(None, NoUser.EMPTY), kind="desc")
        else:
            _user_item(item, view, build.users[uid], rects[j + 1:], sampler,
                       (build.joins[uid], build.fps))
            _file_item(item, build.files, regions, layout, build.joins)
            item["backgrounds"] = _no_picture(build.bg_looks if uid in build.people else None,
                                              regions, keys, layout, (j, build.drawn))
        if build.mode_override is not None and item["kind"] in ("desc", "look", "person"):
            item["kind"] = "unchecked"
        pending.append(item)
    return keys, pending


def _flash_cells(build: _Build, regions: Regions, span: tuple[Fraction, Fraction],
                 live: Sequence[Fraction]) -> F32 | None:
    """Describe the canvas at the period's first test-stream flash, when a region is blended.

    What a region blended over a live test stream (``alpha`` < 1) shows at a flash of
    what lies below; None without a blended region or a flash in ``span``.
    """
    if not bool((np.asarray(regions.alphas) < 1).any()):
        return None
    flash_t = _flash_time(span[0], span[1], live, build.fps)
    if flash_t is None:
        return None
    return build.sampler.describe(build.renderer.rendered_frame(flash_t).canvas)
