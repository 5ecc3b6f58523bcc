"""Scene frames: the exact canvas the recorder draws at any time of a scenario.

:class:`SceneRenderer` joins the pure parts (timeline, layout, compositor plans) with the
sources and images.  It is the one code path behind ``preview --at``, the animated previews
and the recorder, so they cannot drift apart.  Frames are yuv420p (I420) canvases; the
renderer reuses one canvas buffer, so consume (encode or copy) a frame before asking for the
next.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .compose.contents import BLACK, CANVAS, Content, Picture, Solid
from .compose.plan import build_plan, prepare_background, source_halvings
from .compose.yuv import i420_to_rgb, rgb_to_i420
from .layout import Regions, compute_regions
from .io.images import load_image
from .sources import FileSource, VideoSource, open_sources
from .profile import DEFAULT_PROFILE, Profile
from .request.model import LayoutSettings
from .scenario import Scenario, first_join_times
from .timeline import DisplayState, Scene, Timeline, UserView
from ._typing import I420

__all__ = ["RenderedFrame", "SceneRenderer", "canvas_size"]


def canvas_size(scenario: Scenario) -> tuple[int, int]:
    """Return the recording's canvas, rounded down to even sides (yuv420p needs even sizes)."""
    tc = scenario.start.transcoding
    return (max(2, tc.width - tc.width % 2), max(2, tc.height - tc.height % 2))


@lru_cache(maxsize=64)
def _regions(layout: LayoutSettings, order: tuple[str, ...], canvas_wh: tuple[int, int],
             profile: Profile) -> Regions:
    return compute_regions(layout, order, canvas_wh=canvas_wh, profile=profile)


_Region = tuple[tuple[int, ...], int]  # a region's (x, y, w, h) and render mode


@lru_cache(maxsize=256)
def _halvings(size_wh: tuple[int, int], rect: tuple[int, ...], render_mode: int) -> int:
    x, y, w, h = rect
    return source_halvings(size_wh, (x, y, w, h), render_mode)


def _size(picture: I420) -> tuple[int, int]:
    return (picture.shape[1], picture.shape[0] * 2 // 3)


@dataclass(frozen=True)
class RenderedFrame:
    """One output frame: the scene, its regions and the canvas (a reused buffer)."""

    index: int
    t: Fraction
    scene: Scene
    regions: Regions
    canvas: I420

    def rgb(self) -> npt.NDArray[np.uint8]:
        """Return the canvas as an ``(H, W, 3)`` RGB array (a new array)."""
        return i420_to_rgb(self.canvas)


class SceneRenderer:
    """Draw the frames of a scenario exactly as the recorder would.

    Parameters
    ----------
    scenario : Scenario
        The parsed scenario.
    profile : Profile
        Behaviour choices.
    flash : bool
        Test streams flash white once a second (the default, as recorded; compare's A/V
        sync relies on it); False for previews a person watches.
    park_hidden : bool
        Close the decoder of a file source in every frame that does not draw it (reopened
        when it is drawn again): memory then does not grow with users who are not shown
        (best fit draws 17).  The recorder's choice; off by default, for renderers that
        jump between times.
    fast_linear : bool
        Bilinear tiles by the compositor's separable kernel (``build_plan(fast_linear=True)``:
        faster, within one gray level of OpenCV; loading Numba takes ~0.5 s and ~127 MiB,
        so it pays only when drawing dominates: long runs of many-user stills or canvases).

    Relative source and image paths resolve against the scenario's folder
    (:attr:`~layoutkit.scenario.Scenario.base_dir`).

    Raises
    ------
    ScenarioError
        When a source file is missing or unreadable (every such problem at once).
    """

    def __init__(self, scenario: Scenario, *, profile: Profile = DEFAULT_PROFILE,
                 flash: bool = True, park_hidden: bool = False,
                 fast_linear: bool = False) -> None:
        self.scenario = scenario
        self._fast_linear = fast_linear
        self.profile = profile
        self.base_dir = scenario.base_dir
        self.timeline = Timeline(scenario, profile=profile)
        self.canvas_wh = canvas_size(scenario)
        self.fps = scenario.start.transcoding.fps
        self.sources: dict[str, VideoSource] = open_sources(scenario, fps=self.fps, flash=flash)
        self._joined = first_join_times(scenario)
        self._images: dict[str, I420 | None] = {}
        self._backgrounds: dict[tuple[str, str | None], I420] = {}
        self._last_frames: dict[str, tuple[Fraction, I420]] = {}  # uid -> (frozen_at, frame)
        self._canvas: I420 | None = None
        self._plan: object = None
        self._drawn: dict[Hashable, I420] = {}  # the pictures of the last draw
        self._park_hidden = park_hidden

    # ------------------------------------------------------------------ images
    def _image(self, location: str) -> I420 | None:
        """Return a JPG/BMP image as I420 at even size, or None when the cloud would ignore it."""
        if location not in self._images:
            rgb = load_image(location, base_dir=self.base_dir, max_size_wh=self.canvas_wh)
            if rgb is not None:
                h, w = rgb.shape[:2]
                rgb = None if w < 2 or h < 2 \
                    else np.ascontiguousarray(rgb[: h - h % 2, : w - w % 2])
            self._images[location] = None if rgb is None else rgb_to_i420(rgb)
        return self._images[location]

    def _background(self, layout: LayoutSettings) -> I420:
        key = (layout.background_color, layout.background_image)
        if key not in self._backgrounds:
            image = None
            if layout.background_image:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    image = load_image(layout.background_image, base_dir=self.base_dir,
                                       max_size_wh=self.canvas_wh)
                if image is None:  # warn once, through the image cache
                    self._image(layout.background_image)
            self._backgrounds[key] = prepare_background(self.canvas_wh,
                                                        color=layout.background_rgb,
                                                        image=image)
        return self._backgrounds[key]

    # ------------------------------------------------------------------ pictures
    def _source_time(self, uid: str, t: Fraction) -> Fraction:
        return max(Fraction(0), t - self._joined[uid])

    def _picture(self, source: VideoSource, t: Fraction, region: _Region) -> I420:
        """Return the source's picture at ``t``.

        A file source halves it right after decoding as far as the region's drawing stays
        the same (:func:`source_halvings`).
        """
        if isinstance(source, FileSource):
            return source.frame_i420(t, halvings=_halvings(source.size_wh, *region))
        return source.frame_i420(t)

    def _last_frame(self, uid: str, frozen_at: Fraction, region: _Region) -> I420:
        """Return the last live frame before ``frozen_at``: output frame ceil(frozen_at*fps) - 1."""
        cached = self._last_frames.get(uid)
        if cached is None or cached[0] != frozen_at:
            k = math.ceil(frozen_at * self.fps) - 1
            picture = self._picture(self.sources[uid],
                                    self._source_time(uid, Fraction(k, self.fps)), region)
            cached = self._last_frames[uid] = (frozen_at, picture.copy())
        return cached[1]

    def _content(self, view: UserView, layout: LayoutSettings, t: Fraction,
                 pictures: dict[Hashable, I420], region: _Region) -> Content:
        uid, state = view.uid, view.state
        source = self.sources.get(uid)
        if state is DisplayState.LIVE and source is not None:
            picture = pictures[uid] = self._picture(source, self._source_time(uid, t), region)
            return Picture(uid, _size(picture))
        if state is DisplayState.LAST_FRAME and source is not None and view.frozen_at is not None:
            picture = pictures[("last", uid)] = self._last_frame(uid, view.frozen_at, region)
            return Picture(("last", uid), _size(picture))
        if state is DisplayState.BLACK:
            return BLACK
        if state is DisplayState.CANVAS_COLOR:
            return Solid(layout.background_rgb)
        if state is DisplayState.USER_IMAGE and view.image is not None:
            image = self._image(view.image.image_url)
            if image is not None:
                key = ("image", view.image.image_url)
                pictures[key] = image
                return Picture(key, (image.shape[1], image.shape[0] * 2 // 3),
                               render_mode=view.image.render_mode)
        return CANVAS

    # ------------------------------------------------------------------ frames
    def use_scenario(self, scenario: Scenario) -> None:
        """Draw from now on by ``scenario``: the same users and sources, other events or request.

        These are the local service's ``updateLayout`` and ``update`` calls, applied from their
        arrival; the sources and last frames are kept.
        """
        self.scenario = scenario
        self.timeline = Timeline(scenario, profile=self.profile)

    def rendered_frame(self, t: Fraction, *, index: int = -1) -> RenderedFrame:
        """Draw the canvas at time ``t`` (seconds from the start of recording)."""
        scene = self.timeline.scene_at(Fraction(t))
        layout = scene.layout
        regions = _regions(layout, scene.order, self.canvas_wh, self.profile)
        views = {v.uid: v for v in scene.views}
        pictures: dict[Hashable, I420] = {}
        contents = [CANVAS if uid is None or uid not in views
                    else self._content(views[uid], layout, scene.t, pictures,
                                       (tuple(int(v) for v in regions.rects[i]),
                                        int(regions.render_modes[i])))
                    for i, uid in enumerate(regions.uids)]
        plan = build_plan(regions, contents, background=self._background(layout),
                          fast_linear=self._fast_linear)
        if self._canvas is None:
            self._canvas = plan.start()
            self._plan, self._drawn = plan, {}
        elif plan is not self._plan:
            plan.start(self._canvas)
            self._plan, self._drawn = plan, {}
        # a picture that is the very buffer drawn last frame (a file source between its
        # frames, a frozen last frame, a solid colour, an image) is already on the canvas:
        # sources never change a buffer they have returned
        unchanged = {k for k in plan.skippable
                     if k in pictures and self._drawn.get(k) is pictures[k]}
        plan.draw(self._canvas, pictures, unchanged=unchanged)
        self._drawn = pictures
        if self._park_hidden:
            self._park(pictures)
        return RenderedFrame(index, scene.t, scene, regions, self._canvas)

    def _park(self, pictures: dict[Hashable, I420]) -> None:
        """Park the file sources this frame did not draw (see ``park_hidden``)."""
        for uid, source in self.sources.items():
            if uid not in pictures and isinstance(source, FileSource):
                source.park()

    def frames(self, *, fps: int | None = None) -> Iterator[RenderedFrame]:
        """Every output frame of the recording, in order (``fps`` defaults to the request's)."""
        rate = fps or self.fps
        for index, t in enumerate(self.timeline.frame_times(rate)):
            yield self.rendered_frame(t, index=index)

    def retimed(self, scenario: Scenario) -> SceneRenderer:
        """Return a renderer of ``scenario``: the same users and sources, other event times.

        Compare's event windows try many.  It shares this renderer's sources and image caches:
        close this one, not the result.

        Raises
        ------
        ScenarioError
            When an event of ``scenario`` does not fit who is in the channel.
        """
        other = copy.copy(self)
        other.scenario = scenario
        other.timeline = Timeline(scenario, profile=self.profile)
        other._joined = first_join_times(scenario)
        other._last_frames = {}
        other._canvas, other._plan, other._drawn = None, None, {}
        return other

    def close(self) -> None:
        """Close every source."""
        for source in self.sources.values():
            source.close()

    def __enter__(self) -> SceneRenderer:
        """Return the renderer itself (its sources are open)."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close every source (:meth:`close`)."""
        self.close()
