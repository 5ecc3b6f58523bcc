"""Stage 2, align: where the scenario's t = 0 lies in the recording, frame by frame.

:func:`align_observed` asks the test-stream codes first
(:func:`~layoutkit.comparison.align.offset_from_codes`, then
:func:`~layoutkit.comparison.align.local_offsets` for content that jumps against the
clock); without enough readable codes it lines the whole-canvas descriptors up with the
expected periods (:func:`~layoutkit.comparison.align.offset_from_pictures`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .align import local_offsets, offset_from_codes, offset_from_pictures
from .expect import Expectation
from .frames import Observed, cell_slice
from .observe import Probe

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
    method : {'codes', 'pictures'}
    votes : int
        Code readings that agreed on ``offset`` (0 by pictures).
    dropped, repeated : int
        Frames lost / repeated at the content's jumps.
    """

    offset: float
    offsets: npt.NDArray[np.float64]
    method: str
    votes: int = 0
    dropped: int = 0
    repeated: int = 0

    def scenario_times(self, times: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Scenario time of each frame.

        >>> import numpy as np
        >>> a = Alignment(1.0, np.array([1.0, 1.0, 1.5]), "codes")
        >>> a.scenario_times(np.array([1.0, 2.0, 3.0])).tolist()
        [0.0, 1.0, 1.5]
        """
        return times - self.offsets


def align_observed(observed: Observed, exp: Expectation, probe: Probe, *,
                   joins: Mapping[str, float]) -> Alignment:
    """Align the observations (stage 2): by codes when enough agree, else by pictures."""
    times = observed.times
    uid_names = list(observed.uid_names)
    coded = offset_from_codes(times, observed.code_uids, observed.code_frames, uid_names,
                              joins=joins, fps=exp.fps)
    if coded is not None:
        offset, votes = coded
        offsets, dropped, repeated = local_offsets(
            times, observed.code_uids, observed.code_frames, uid_names, joins=joins,
            fps=exp.fps, offset=offset)
        return Alignment(offset, offsets, "codes", votes, dropped, repeated)
    canvas = observed.cells[:, cell_slice(probe, probe.canvas_key)]
    offset = offset_from_pictures(exp, times, canvas)
    return Alignment(offset, np.full(len(times), offset), "pictures")
