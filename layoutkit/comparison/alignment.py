"""Stage 2, align: where the scenario's t = 0 lies in the recording, frame by frame.

:func:`align_observed` first estimates the rate each publisher's test-stream frame numbers
advance at (:func:`~layoutkit.comparison.rates.publisher_rates`), then asks
:func:`~layoutkit.comparison.align.align_recording`: the codes when any is readable (then
:func:`~layoutkit.comparison.align.local_offsets` for content that jumps against the clock),
else the recording's own clock (:mod:`~layoutkit.comparison.clock`), else the whole-canvas
descriptors lined up with the expected periods, still regions weighted above moving ones
(:func:`~layoutkit.comparison.align.still_weights`).  With the offsets known, it also
finds the limited/full range mix-up the whole recording shows, if any
(:func:`~layoutkit.comparison.levels.recording_range`: the codes' calibration cells, else
dark and bright still cells): every later stage judges still pictures with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from . import align
from .align import CodeInputs, align_recording, still_weights
from .expect import Expectation
from .frames import Observed
from .levels import RangeFinding, recording_range
from .observe import FrameSampler
from .rates import publisher_rates

if TYPE_CHECKING:
    from .clock import RecordingClock

__all__ = ["Alignment", "align_observed"]


@dataclass(frozen=True)
class Alignment:
    """The recording's clock against the scenario's.

    Attributes
    ----------
    offset : float
        Recording time of the scenario's t = 0.
    offsets : ndarray (n,) float64
        The same per frame (moves where frames are lost or repeated without a gap in the
        timestamps); scenario time = recording time - offset.
    method : {'codes', 'clock', 'pictures'}
    votes : int
        Code readings that agreed on ``offset`` (0 without codes).
    dropped, repeated : int
        Frames lost / repeated at the content's jumps.
    found : align.Alignment or None
        How ``offset`` was found and how sure that is (what
        :attr:`~layoutkit.comparison.content.ContentResult.alignment` carries).
    rates : mapping
        uid -> the rate its test stream's frame numbers advance at (the canvas fps for a
        uid with no estimate).
    video_range : RangeFinding or None
        The range mix-up the whole recording shows (None: not looked for).
    """

    offset: float
    offsets: npt.NDArray[np.float64]
    method: str
    votes: int = 0
    dropped: int = 0
    repeated: int = 0
    found: align.Alignment | None = None
    rates: Mapping[str, float] = field(default_factory=dict)
    video_range: RangeFinding | None = None

    @property
    def mixup(self) -> str | None:
        """The range mix-up every still picture is judged with (None: none)."""
        return self.video_range.mixup if self.video_range is not None else None

    @property
    def confidence(self) -> str:
        """``high`` | ``low`` | ``none`` (``none`` when not found by :func:`align_observed`).

        >>> import numpy as np
        >>> Alignment(0.0, np.zeros(1), "codes").confidence
        'none'
        """
        return self.found.confidence if self.found is not None else "none"

    def scenario_times(self, times: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Scenario time of each frame.

        >>> import numpy as np
        >>> a = Alignment(1.0, np.array([1.0, 1.0, 1.5]), "codes")
        >>> a.scenario_times(np.array([1.0, 2.0, 3.0])).tolist()
        [0.0, 1.0, 1.5]
        """
        return times - self.offsets


def align_observed(observed: Observed, exp: Expectation, sampler: FrameSampler, *,
                   joins: Mapping[str, float],
                   clock: RecordingClock | None = None) -> Alignment:
    """Align the observations (stage 2), then find the recording's range.

    By codes, else the recording's ``clock``, else the pictures
    (:func:`~layoutkit.comparison.align.align_recording`).
    """
    rates = publisher_rates(observed.times, observed.code_uids, observed.code_frames,
                            list(observed.uid_names), fps=exp.fps)
    codes = CodeInputs(observed.code_uids, observed.code_frames, tuple(observed.uid_names),
                       joins, exp.fps, rates)
    weights = still_weights(exp, sampler.cell_rects(sampler.canvas_key), sampler.factor)
    found, offsets, (dropped, repeated) = align_recording(
        exp, observed.times, observed.cells[:, sampler.cell_slice(sampler.canvas_key)], codes,
        clock=clock, weights=weights)
    votes = found.codes.votes if found.codes else 0
    levels = recording_range(observed.code_levels, exp, sampler, observed.times, observed.cells,
                             offset=offsets)
    return Alignment(found.offset_s, offsets, found.method, votes, dropped, repeated,
                     found=found, rates=rates, video_range=levels)
