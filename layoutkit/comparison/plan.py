"""Stage 0, plan: what the content checks expect, and their options (before any frame).

:func:`prepare` builds the :class:`Plan`: the sampler every later stage observes with, the
scenario's :class:`~layoutkit.comparison.expect.Expectation` under the profile (and, for
``infer``, under each single-key alternative, registered in the same sampler so one decoding
pass serves them all) and each user's first join time.  :class:`ContentOptions` carries the
tolerances and what is known of the recording besides its pictures (its frame rate, its
own clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING

from ..profile import PROFILE_CHOICES, Profile
from ..render import SceneRenderer, canvas_size
from ..scenario import Scenario, first_join_times
from .avsync import AV_TOLERANCE_S
from .classify import LIVE_TOLERANCE_FRAMES
from .events import DEFAULT_EVENT_TOLERANCE
from .expect import Expectation, ExpectOptions, build_expectation
from .observe import FrameSampler

if TYPE_CHECKING:
    from .clock import RecordingClock

__all__ = ["PICTURE_KEYS", "ContentOptions", "Plan", "prepare"]

#: Profile keys that change pictures (the others are decided from the files).
PICTURE_KEYS = ("vertical_column_order", "vertical_without_large", "floating_render",
                "vertical_render", "after_stop")


@dataclass(frozen=True)
class ContentOptions:
    """Tolerances and limits of the content checks, and the recording's frame rate and clock.

    Attributes
    ----------
    fps : float or None
        The recording's frame rate (default the scenario's); times are judged on the
        scenario's frame grid.
    tolerance_frames : int
        Transition timing tolerance and live-code tolerance, in frames.
    av_tolerance_s : (float, float)
        Most sound-ahead (positive) and most sound-behind (negative) A/V offset accepted.
    evidence_cap : int
        At most this many evidence frame pairs.
    event_tolerance : Fraction
        Seconds each event (without its own ``tolerance``) may really have happened before
        or after its scenario time (:mod:`~layoutkit.comparison.events`).
    clock : RecordingClock or None
        Where the recording's own clock puts the scenario's t = 0
        (:func:`~layoutkit.comparison.clock.clock_offset`): used when no code is readable
        (:func:`~layoutkit.comparison.align.align_recording`).

    Examples
    --------
    >>> o = ContentOptions()
    >>> o.tolerance_frames, o.av_tolerance_s, o.tolerance_s(15)
    (2, (0.045, -0.125), 0.16666666666666666)
    """

    fps: float | None = None
    tolerance_frames: int = LIVE_TOLERANCE_FRAMES
    av_tolerance_s: tuple[float, float] = AV_TOLERANCE_S
    evidence_cap: int = 12
    event_tolerance: Fraction = DEFAULT_EVENT_TOLERANCE
    clock: RecordingClock | None = None

    def tolerance_s(self, fps: int) -> float:
        """Transition tolerance in seconds: ``tolerance_frames`` plus half a frame."""
        return (self.tolerance_frames + 0.5) * (1.0 / fps)  # as the frame step is computed


@dataclass(frozen=True)
class Plan:
    """What the scenario predicts, and where to look (built once, before the frames).

    ``renderer`` draws the expected frames (evidence, wrong-layout search) and is closed by
    whoever called :func:`prepare`.
    """

    scenario: Scenario
    profile: Profile
    sampler: FrameSampler
    expectation: Expectation
    renderer: SceneRenderer
    alternatives: Mapping[tuple[str, str], Expectation] = field(default_factory=dict)
    joins: Mapping[str, float] = field(default_factory=dict)

    @property
    def step(self) -> float:
        """One frame of the scenario's canvas, in seconds."""
        return 1.0 / self.expectation.fps

    def retimed(self, scenario: Scenario) -> Plan:
        """Plan ``scenario`` (this one's with its events at other times) the same way.

        The new plan has the same profile, the same sampler (its keys kept) and alternatives
        when this one has them; its renderer is a new one, to be closed by the caller.
        """
        return prepare(scenario, profile=self.profile, infer=bool(self.alternatives),
                       sampler=self.sampler)


def _alternatives(scenario: Scenario, sampler: FrameSampler,
                  profile: Profile) -> dict[tuple[str, str], Expectation]:
    out: dict[tuple[str, str], Expectation] = {}
    for key in PICTURE_KEYS:
        for value in PROFILE_CHOICES[key]:
            if value == getattr(profile, key):
                continue
            alt = replace(profile, **{key: value})  # type: ignore[arg-type]
            with SceneRenderer(scenario, profile=alt) as r2:
                out[(key, value)] = build_expectation(scenario, sampler, profile=alt,
                                                      renderer=r2,
                                                      options=ExpectOptions(candidates=False))
    return out


def prepare(scenario: Scenario, *, profile: Profile, infer: bool,
            sampler: FrameSampler | None = None) -> Plan:
    """Plan the comparison of ``scenario`` under ``profile``.

    With ``infer``, every alternative is planned too; the keys are registered in ``sampler``
    (default a new one).
    """
    sampler = FrameSampler(canvas_size(scenario)) if sampler is None else sampler
    renderer = SceneRenderer(scenario, profile=profile)
    exp = build_expectation(scenario, sampler, profile=profile, renderer=renderer)
    alternatives = _alternatives(scenario, sampler, profile) if infer else {}
    joins = {u: float(t) for u, t in first_join_times(scenario).items()}
    return Plan(scenario, profile, sampler, exp, renderer, alternatives, joins)
