"""Check stage, tile edges: a displaced layout found without any test-stream code.

When the scenario expects no readable test-stream code (its users are video files, images,
colours), :mod:`~.displacement` has nothing to search for; the tiles' edges against the
canvas still say where the layout is.  On a few luma samples
(:attr:`~.frames.Observed.samples`, spread over the recording):

* the *observed* canvas mask: the pixels within :data:`LEVELS` of the expected canvas
  background's luma (its colour, or its image, drawn as the recorder draws it);
* the *expected* canvas mask, from the geometry alone: no region, a region that shows the
  canvas (nobody, ``canvas_color``, ``canvas_background``), and fit bars when black is
  close to the canvas (:func:`expected_mask`);
* the observed mask is matched against the expected one moved by up to :data:`REACH` px
  each way (``cv2.matchTemplate``, squared differences, summed over the samples, on masks
  halved; then to the pixel around the best; outside the canvas counts as canvas, where a
  moved layout uncovers it).

The best offset is a ``wrong_layout`` (offset in pixels, as the code search reports) when
it is :data:`~.displacement.MIN_SHIFT` px or more away and explains at least
:data:`MIN_EVIDENCE` mismatching pixels a sample better than no offset: content that
happens to match the canvas mismatches alike under every offset, so it cannot pull the
result (on clean recordings composed by FFmpeg every offset of 3 px or more scores at least
680 px a sample worse than none; a 4 px shift at 640x360 scores 1400 px or more better).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import cv2
import numpy as np

from .._typing import F32, U8
from ..compose.fit import FIT, place
from ..timeline import DisplayState
from .displacement import MIN_SHIFT, REACH, _spread
from .expect import Period
from .findings import Finding
from .model import Difference, NoUser
from .plan import Plan

__all__ = [
    "LEVELS",
    "MIN_EVIDENCE",
    "background_luma",
    "check_edges",
    "expected_mask",
    "mask_offset",
]

#: Luma levels within which a pixel is the canvas.
LEVELS = 14
#: Mismatching pixels (a sample) an offset must explain better than no offset.
MIN_EVIDENCE = 300
#: Luma samples matched.
SAMPLES = 3
#: Region states that show the canvas.
_CANVAS_STATES = (NoUser.EMPTY, DisplayState.CANVAS_COLOR, DisplayState.CANVAS_BACKGROUND)


def expected_mask(period: Period, sizes: dict[str, tuple[int, int]], canvas_wh: tuple[int, int],
                  *, black_is_canvas: bool) -> F32:
    """Draw the mask of where the canvas should show in ``period``: 1 there, 0 under tiles.

    ``sizes`` (uid -> picture size) places the fit bars, which show the canvas when
    ``black_is_canvas``.

    >>> from layoutkit.comparison.expect import RegionExpect
    >>> reg = RegionExpect(0, (2, 0, 4, 4), 1, ("11", "live"), "file", 0)
    >>> period = Period(0, 1, 0, 1, (reg,), None)
    >>> expected_mask(period, {"11": (4, 2)}, (8, 4), black_is_canvas=True)[:, :4].tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]
    """
    w, h = canvas_wh
    mask = np.ones((h, w), np.float32)
    for reg in period.regions:  # paint order: later regions cover earlier ones
        x, y, rw, rh = reg.rect
        uid, state = reg.label
        if state in _CANVAS_STATES:
            mask[y:y + rh, x:x + rw] = 1
            continue
        mask[y:y + rh, x:x + rw] = 0
        if reg.mode == FIT and uid in sizes and black_is_canvas:
            mask[y:y + rh, x:x + rw] = 1
            dx, dy, dw, dh = place(sizes[uid], reg.rect, FIT).dst
            mask[dy:dy + dh, dx:dx + dw] = 0
    return mask


def _ssd(padded: F32, obs: F32, reach: int, d: tuple[int, int]) -> float:
    """Sum the squared differences of ``obs`` and the expected mask moved by ``d``.

    ``padded`` is the expected mask with ``reach`` px of canvas around it.
    """
    h, w = obs.shape
    v, u = reach - d[1], reach - d[0]
    return float(np.square(padded[v:v + h, u:u + w] - obs).sum())


def _coarse(observed: Sequence[F32], expected: Sequence[F32], reach: int) -> tuple[int, int]:
    """Find the best offset on masks halved, in full-size pixels.

    Each pair of masks is matched with ``cv2.matchTemplate`` (squared differences), summed
    over the pairs.
    """
    half = reach // 2
    total = np.zeros((2 * half + 1, 2 * half + 1), np.float64)
    for obs, exp in zip(observed, expected, strict=True):
        small = [cv2.resize(m, (m.shape[1] // 2, m.shape[0] // 2), interpolation=cv2.INTER_AREA)
                 for m in (obs, exp)]
        padded = cv2.copyMakeBorder(small[1], half, half, half, half, cv2.BORDER_CONSTANT,
                                    value=1.0)
        total += cv2.matchTemplate(padded, small[0], cv2.TM_SQDIFF)
    v, u = np.unravel_index(int(np.argmin(total)), total.shape)
    return 2 * (half - int(u)), 2 * (half - int(v))


def mask_offset(observed: Sequence[F32], expected: Sequence[F32], *, reach: int = REACH
                ) -> tuple[tuple[int, int], float, float]:
    """Find the offset ``(dx, dy)`` that best moves the ``expected`` masks onto the ``observed``.

    Positive offsets are right and down.  Returns the offset and the mismatching pixels a
    sample at that offset and at none: searched on masks halved, then to the pixel around
    the best.

    >>> e = np.ones((40, 60), np.float32); e[10:30, 10:50] = 0
    >>> o = np.ones((40, 60), np.float32); o[14:34, 5:45] = 0
    >>> mask_offset([o], [e], reach=8)
    ((-5, 4), 0.0, 480.0)
    """
    if not observed:
        return (0, 0), 0.0, 0.0
    cx, cy = _coarse(observed, expected, reach)
    padded: list[F32] = [np.asarray(cv2.copyMakeBorder(e, reach, reach, reach, reach,
                                                       cv2.BORDER_CONSTANT, value=1.0),
                                    np.float32) for e in expected]
    near = [(0, 0)] + [(cx + i, cy + j) for j in (-1, 0, 1) for i in (-1, 0, 1)
                       if max(abs(cx + i), abs(cy + j)) <= reach]
    pairs = list(zip(padded, observed, strict=True))
    scores = {d: float(np.mean([_ssd(p, o, reach, d) for p, o in pairs])) for d in near}
    best = min(scores, key=lambda d: (scores[d], d != (0, 0)))
    return best, scores[best], scores[(0, 0)]


def background_luma(plan: Plan, t: float) -> U8:
    """Return the expected canvas background's luma at scenario time ``t`` (colour, image)."""
    layout = plan.renderer.timeline.scene_at(Fraction(t)).layout
    h = plan.sampler.canvas_wh[1]
    return plan.renderer._background(layout)[:h]  # the recorder's own drawing


def _tiled(plan: Plan, samples: Sequence[tuple[float, U8]], offset: float
           ) -> list[tuple[float, U8, Period]]:
    """Keep the samples inside a period with regions: ``(scenario time, luma, period)``."""
    exp = plan.expectation
    out = []
    for r, luma in samples:
        t = r - offset
        p = int(np.searchsorted(exp.starts, t, side="right")) - 1
        if p >= 0 and t < exp.periods[p].end and exp.periods[p].regions:
            out.append((t, luma, exp.periods[p]))
    return out


def _masks(plan: Plan, tiled: Sequence[tuple[float, U8, Period]]
           ) -> tuple[list[F32], list[F32]]:
    """Return the observed and expected canvas masks of the samples."""
    sizes = {uid: s.size_wh for uid, s in plan.renderer.sources.items()}
    observed, expected = [], []
    for t, luma, period in tiled:
        canvas = background_luma(plan, t)
        black = abs(float(np.median(canvas)) - 16.0) <= LEVELS
        observed.append((cv2.absdiff(luma, canvas) <= LEVELS).astype(np.float32))
        expected.append(expected_mask(period, sizes, plan.sampler.canvas_wh,
                                      black_is_canvas=black))
    return observed, expected


def check_edges(plan: Plan, samples: Sequence[tuple[float, U8]], offset: float
                ) -> Finding | None:
    """Check the layout's place by the tiles' edges against the canvas (a check stage).

    Returns ``wrong_layout`` with the offset in pixels when the edges sit
    :data:`~.displacement.MIN_SHIFT` px or more from their place, else None; for recordings
    without readable test-stream codes.
    """
    observed, expected = _masks(plan, _spread(_tiled(plan, samples, offset), SAMPLES))
    if not observed or all(float(e.min()) == 1.0 for e in expected):  # no tile to see
        return None
    (dx, dy), best, none = mask_offset(observed, expected)
    if max(abs(dx), abs(dy)) < MIN_SHIFT or none - best < MIN_EVIDENCE:
        return None
    return Finding(Difference(
        "wrong_layout",
        f"layout shifted by ({dx:+d}, {dy:+d}) px: the tiles' edges against the canvas "
        f"found {_where(dx, dy)} their regions ({none - best:.0f} px a sample fit the "
        f"canvas better there; {len(observed)} samples, no test-stream code to read)",
        expected=[0, 0], observed=[dx, dy]))


def _where(dx: int, dy: int) -> str:
    """``dx, dy`` in words.

    >>> _where(8, 0), _where(-4, 16)
    ('8 px right of', '4 px left of and 16 px below')
    """
    parts = [f"{abs(dx)} px {'right of' if dx > 0 else 'left of'}"] if dx else []
    parts += [f"{abs(dy)} px {'below' if dy > 0 else 'above'}"] if dy else []
    return " and ".join(parts)
