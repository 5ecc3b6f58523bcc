"""Stage 7, evidence: expected and recorded frames of the longest differences.

The frames behind the ``cap`` longest anchored findings are decoded again (a second pass
that stops at the last one needed) and paired with the renderer's expected frame at the
same scenario time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from ..compose.yuv import i420_to_rgb
from ..io.frames import DecodedFrame
from .alignment import Alignment
from .findings import Finding
from .frames import Observed, fit_frame
from .model import Evidence
from .plan import Plan

__all__ = ["collect_evidence", "wanted_frames"]

FrameSource = Callable[[], Iterable[DecodedFrame]]


def wanted_frames(findings: Sequence[Finding], *, cap: int) -> dict[int, list[int]]:
    """Frame index -> indices of the findings shown on it: the ``cap`` longest anchored.

    >>> from layoutkit.comparison.findings import Anchor
    >>> from layoutkit.comparison.model import Difference
    >>> d = Difference("wrong_user", "x")
    >>> found = [Finding(d, Anchor(5, 0, 1)), Finding(d), Finding(d, Anchor(9, 0, 3))]
    >>> wanted_frames(found, cap=1)
    {9: [2]}
    """
    anchored = [i for i, f in enumerate(findings) if f.anchor is not None]
    ranked = sorted(anchored, key=lambda i: -findings[i].anchor.length)[:cap]  # type: ignore[union-attr]
    wanted: dict[int, list[int]] = {}
    for i in ranked:
        wanted.setdefault(findings[i].anchor.frame, []).append(i)  # type: ignore[union-attr]
    return wanted


def _decode(source: FrameSource, wanted: dict[int, list[int]], observed: Observed,
            canvas_wh: tuple[int, int]) -> dict[int, tuple[float, npt.NDArray[np.uint8]]]:
    """Recording time and RGB picture of each wanted frame (decoding up to the last)."""
    last = max(wanted)
    got: dict[int, tuple[float, npt.NDArray[np.uint8]]] = {}
    for n, frame in enumerate(source()):
        if n in wanted:
            got[n] = (frame.t - observed.origin, i420_to_rgb(fit_frame(frame.i420, canvas_wh)))
        if n >= last:
            break
    return got


def collect_evidence(plan: Plan, findings: Sequence[Finding], source: FrameSource | None,
                     observed: Observed, alignment: Alignment, *, cap: int
                     ) -> tuple[Evidence, ...]:
    """Evidence of the longest findings (stage 7); none without a frame source or cap."""
    if source is None or cap <= 0:
        return ()
    wanted = wanted_frames(findings, cap=cap)
    if not wanted:
        return ()
    got = _decode(source, wanted, observed, plan.probe.canvas_wh)
    fps = plan.expectation.fps
    out = []
    for n, indices in sorted(wanted.items()):
        if n not in got:
            continue
        r, rgb = got[n]
        t = max(Fraction(0), Fraction(round((r - alignment.offsets[n]) * fps), fps))
        expected = plan.renderer.frame_at(t).rgb()
        for i in indices:
            out.append(Evidence(i, float(t), expected, rgb))
    return tuple(sorted(out, key=lambda e: e.difference))
