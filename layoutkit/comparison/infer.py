"""``--infer``: which behaviour variant (contract section 2) a recording follows.

For every profile key that changes pictures (:data:`PICTURE_KEYS`) the expectation of the
default profile and of each single-key alternative are evaluated on the **same**
observations (one decoding pass: :func:`check_content` with ``infer=True`` registers every
alternative's regions in its sampler).  A key's value is the one with the fewest mismatching
region-frames, when it wins by a clear margin (at least 3 region-frames and 2 % of the
frames); ``"undetermined"`` when the alternatives predict the same (the scenario cannot
tell them apart) or no value wins clearly.  Keys the files decide (``tag_time``,
``mp4_rollover``) are ``"undetermined"`` here.
"""

from __future__ import annotations


from ..errors import ParameterError
from ..profile import DEFAULT_PROFILE, Profile
from ..scenario import Scenario
from .content import PICTURE_KEYS, ContentOptions, ContentResult, Frames, check_content

__all__ = ["PICTURE_KEYS", "infer_profile"]


def infer_profile(frames: Frames | ContentResult, scenario: Scenario, *,
                  profile: Profile = DEFAULT_PROFILE,
                  fps: float | None = None) -> dict[str, str]:
    """For each profile key, the value the recording agrees with, or ``"undetermined"``.

    Parameters
    ----------
    frames : iterable of DecodedFrame, a callable returning one, or ContentResult
        The recording's frames (one pass), or the result of ``check_content(...,
        infer=True)`` (then nothing is decoded again).
    scenario : Scenario
    profile : Profile
        The values the alternatives differ from (one key at a time).
    fps : float, optional

    Returns
    -------
    dict
        Every key of :data:`layoutkit.profile.PROFILE_CHOICES` -> value or
        ``"undetermined"``.
    """
    if isinstance(frames, ContentResult):
        if frames.infer is None:
            msg = "infer_profile: the ContentResult was made without infer=True"
            raise ParameterError(msg)
        return dict(frames.infer)
    result = check_content(frames, scenario, profile=profile,
                           options=ContentOptions(fps=fps, evidence_cap=0), infer=True)
    assert result.infer is not None
    return dict(result.infer)
