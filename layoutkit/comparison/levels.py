"""The recording's own video range: whether the *whole* recording shows a range mix-up.

A player or re-encoder that gets the range wrong shifts every level of the picture the same
way: limited-range levels shown as full range are *expanded* (black 16 -> 0, white 235 ->
255), full-range levels taken for limited are *compressed* (black 16 -> 30, white 235 ->
218).  Such a mix-up is accepted only when the recording as a whole shows it, and then for
every region and frame; a single region or frame that happens to look like a mix-up (a
canvas ``#101010`` where black is expected is exactly black compressed) is a difference.

The evidence, in this order:

1. **codes** (:func:`range_from_code_levels`): the black and white calibration cells of
   every test-stream code read (:attr:`Observations.code_levels`); their medians are
   compared with the three models (as expected 16 / 235, expanded 0 / 255, compressed
   30 / 218).  Codes read but near no model: no mix-up.
2. **pictures** (:func:`range_from_pictures`), when no code was read: every cell of every
   region expected to show a still picture (canvas colour, black, user image, colour
   source) and of the canvas outside every region, its expected luma against what was
   recorded at the aligned time.  A mix-up needs both dark (expected luma < 64) and bright
   (> 176) cells, each shifted as the model says (median error at most 5 levels, at least 6
   levels better than as expected): one level alone (a black canvas) cannot tell a mix-up
   from another colour.
3. Otherwise: no mix-up (``method`` ``"none"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .classify import RANGE_MIXUPS, range_variant
from .expect import Expectation
from .observe import FrameSampler

__all__ = ["MIXUPS", "RangeFinding", "range_from_code_levels", "range_from_pictures",
           "recording_range"]

#: The two limited/full range mix-ups (as :mod:`~layoutkit.comparison.classify` names them).
MIXUPS = RANGE_MIXUPS
_MODELS = {None: (16.0, 235.0), "expanded": (0.0, 255.0),
           "compressed": (16 + 16 * 219 / 255, 16 + 235 * 219 / 255)}
_MIN_READS = 10
_DARK, _BRIGHT = 64.0, 176.0
_MIN_CELLS = 20
_FIT, _GAIN = 5.0, 6.0


@dataclass(frozen=True)
class RangeFinding:
    """What the recording as a whole shows.

    Attributes
    ----------
    mixup : {None, 'expanded', 'compressed'}
        None: the levels are as expected (no mix-up accepted anywhere).
    method : {'codes', 'pictures', 'none'}
        Where the finding comes from.
    black, white : float or None
        The codes' median black and white calibration levels (``codes`` only).
    """

    mixup: str | None
    method: str
    black: float | None = None
    white: float | None = None

    def describe(self) -> str:
        """For the stats: ``"as expected (codes: black 16, white 235)"``."""
        what = "as expected" if self.mixup is None else f"{self.mixup} (range mix-up)"
        if self.black is not None and self.white is not None:
            return f"{what} ({self.method}: black {self.black:.0f}, white {self.white:.0f})"
        return f"{what} ({self.method})"


def _median(counts: npt.NDArray[np.integer]) -> float:
    cum = np.cumsum(counts)
    return float(np.searchsorted(cum, (cum[-1] + 1) / 2))


def range_from_code_levels(levels: npt.NDArray[np.integer], *,
                           min_reads: int = _MIN_READS) -> RangeFinding | None:
    """Find the mix-up the codes' calibration cells show (None under ``min_reads`` reads).

    Parameters
    ----------
    levels : ndarray (2, 256)
        Counts of the black (row 0) and white (row 1) calibration cell's level.

    Examples
    --------
    >>> counts = np.zeros((2, 256), dtype=int)
    >>> counts[0, 1], counts[1, 253] = 40, 40          # black 1, white 253
    >>> range_from_code_levels(counts).mixup
    'expanded'
    >>> counts[:] = 0; counts[0, 16], counts[1, 235] = 40, 40
    >>> range_from_code_levels(counts).mixup is None
    True
    """
    if int(levels[0].sum()) < min_reads:
        return None
    black, white = _median(levels[0]), _median(levels[1])
    dist = {name: abs(black - b) + abs(white - w) for name, (b, w) in _MODELS.items()}
    ranked = sorted(dist, key=lambda name: dist[name])
    best = ranked[0] if dist[ranked[0]] <= 0.5 * dist[ranked[1]] else None
    return RangeFinding(best, "codes", black, white)


def _still_cells(exp: Expectation, sampler: FrameSampler, t: npt.NDArray[np.float64],
                 cells: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], ...]:
    """Gather expected and recorded cells ``(m, 3)`` of every still region's cell and frame."""
    inside = (t >= 0) & (t < exp.end)
    pidx = np.searchsorted(exp.starts, t, side="right") - 1
    want: list[npt.NDArray[np.float32]] = []
    got: list[npt.NDArray[np.float32]] = []
    for p, period in enumerate(exp.periods):
        rows = np.nonzero(inside & (pidx == p))[0]
        if rows.size == 0:
            continue
        still = [(reg.desc_key, reg.expected) for reg in period.regions
                 if reg.kind == "desc" and reg.flash is None]
        if period.bg_key is not None:  # the canvas outside every region
            still.append((period.bg_key, period.bg_expected))
        for key, expected in still:
            valid = sampler.valid(key)
            if expected is None or not valid.any():
                continue
            seen = cells[rows][:, sampler.cell_slice(key)][:, valid]  # (n, c, 3)
            got.append(seen.reshape(-1, 3).astype(np.float32))
            want.append(np.broadcast_to(expected[valid], seen.shape).reshape(-1, 3))
    if not got:
        empty = np.zeros((0, 3), np.float32)
        return empty, empty
    return np.concatenate(want), np.concatenate(got)


def _fits(want: npt.NDArray[np.float32], got: npt.NDArray[np.float32], mixup: str) -> bool:
    """Tell whether ``mixup`` explains the dark and the bright cells and "as drawn" does not."""
    model = range_variant(want, mixup)
    ok = True
    for part in (want[:, 0] < _DARK, want[:, 0] > _BRIGHT):
        if part.sum() < _MIN_CELLS:
            return False
        err_model = float(np.median(np.abs(got[part, 0] - model[part, 0])))
        err_same = float(np.median(np.abs(got[part, 0] - want[part, 0])))
        ok &= err_model <= _FIT and err_same - err_model >= _GAIN
    return ok


def range_from_pictures(exp: Expectation, sampler: FrameSampler, times: npt.NDArray[np.float64],
                        cells: npt.NDArray[np.uint8], *,
                        offset: float | npt.NDArray[np.float64]) -> RangeFinding:
    """Find the mix-up the still regions show over the whole recording (module's rules).

    Parameters
    ----------
    exp : Expectation
    sampler : FrameSampler
    times, cells : ndarray
        :meth:`Observations.arrays`.
    offset : float or ndarray (n,)
        Scenario time = recording time - offset.
    """
    want, got = _still_cells(exp, sampler, times - offset, cells)
    for name in MIXUPS:
        if _fits(want, got, name):
            return RangeFinding(name, "pictures")
    return RangeFinding(None, "pictures" if want.size else "none")


def recording_range(levels: npt.NDArray[np.integer], exp: Expectation, sampler: FrameSampler,
                    times: npt.NDArray[np.float64], cells: npt.NDArray[np.uint8], *,
                    offset: float | npt.NDArray[np.float64]) -> RangeFinding:
    """Judge the recording's range: by the codes when codes were read, else by the pictures."""
    coded = range_from_code_levels(levels)
    if coded is not None:
        return coded
    return range_from_pictures(exp, sampler, times, cells, offset=offset)
