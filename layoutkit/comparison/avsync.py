"""A/V offset from the test stream: each whole second's white flash vs its numbered beep.

Sign convention (ITU-R BT.1359): ``av_offset = t_flash - t_beep``, positive when the sound
is **ahead** of (earlier than) the picture.  BT.1359's detectability thresholds, +45 ms
(sound ahead) and -125 ms (sound behind), are the default tolerance.

The marker
----------
A test stream (:mod:`layoutkit.signals.tone`) beeps at the start of every second ``k`` of its
own clock at ``1100 + 100 * (k % 16)`` Hz and flashes its picture white on the same second;
the picture's code carries the frame number, so the flash's second is known too.  A flash
of second ``k`` is paired only with beeps of code ``k % 16``: offsets up to +-7.5 s (half the
16 s period) are measured with their sign and size.

Reading the beeps (:func:`read_beeps`): the sound is cut into 10 ms blocks and each block's
FFT is read at the 17 beep frequencies (the 16 codes, and 1 kHz: the plain beep of test
streams made before the marker); all are multiples of 100 Hz, so each is one bin of a 10 ms
block and the others (and the tones at multiples of 100 Hz) fall on its zeros.  A beep is a
run of 3 to 10 blocks (30 - 100 ms) of one bin above a threshold: -30 dBFS, 4 times the bin's
quiet level (its lower quartile over 2 s: a steady tone leaking into the bin is no beep) and
a fifth of the loudest block of those 2 s.  Its onset is then timed to 1 ms: a 10 ms window
sliding every 1 ms at the beep's own frequency rises through half of that beep's peak (the
window then half covers it).  Beeps of several users at once (users who joined whole seconds
apart) are several bins of the same blocks, each read on its own; a mix clipped by 17 users
makes odd harmonics, which fall above the band (3 x 1100 Hz > 2600 Hz).

Pairing (:func:`marked_offset`): every flash of second ``k`` against every beep of code
``k % 16`` within 7.5 s; the offset is the densest cluster of ``t_flash - t_beep`` (votes
within 50 ms; a tie goes to the smaller offset), the median of that cluster within 100 ms.
Flashes of users the scenario does not have heard at that moment are left out (their beeps
are not in the sound).  Two heard users whose clocks are whole seconds apart pair across
too, but at an offset that only one of them votes for: the true offset gets both.  The one
case this cannot tell apart: a heard ``tone`` user with no test-stream picture (a file
source, video muted) whose clock is whole seconds from a seen user's; its beeps fit the seen
user's flashes as well as that user's own.  The smaller offset is taken and the other is
named (``av_rival_s``, and in the message).

Older test streams (every beep plain 1 kHz) are read as before (:func:`av_offset`): each
flash's nearest beep within 0.5 s, so their offset is known modulo 1 s only, and the result
says so.  When the scenario has a ``tone`` user heard for at least 1.5 s of the sound and
no beep at all is found, that is a ``no_beep`` difference naming the span searched.

Limits: a flash is a frame whose code's frame number is a multiple of the frame rate, and
its second that number over the rate; the code counts frames modulo 4096 (273 s at 15 fps).
After a wrap those frames are no flashes (4096 is no multiple of 15): each user's flashes
whose clock start (``t - second``) lies later than the earliest are left out, so a recording
longer than 4096 frames is measured from its first 4096.  A stream that had already wrapped
when the recording started is not told apart (as before the marker).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from ..io.frames import AudioChunk
from ..profile import Profile
from ..scenario import Scenario
from ..signals.tone import BEEP_HZ, MARK_PERIOD, beep_frequency
from ..timeline import Timeline
from .model import Difference

__all__ = ["AV_TOLERANCE_S", "MARK_REACH_S", "PLAIN", "AvCheck", "AvMeasure", "BeepReader",
           "Beeps", "Flashes", "Sound", "av_offset", "beep_onsets", "check_av", "heard_spans",
           "marked_offset", "read_beeps"]

#: (most sound-ahead, most sound-behind) offsets accepted, seconds.
AV_TOLERANCE_S = (0.045, -0.125)
#: Largest offset a numbered beep is paired across (half the marker's period, less a margin).
MARK_REACH_S = MARK_PERIOD / 2 - 0.5
#: The code of a plain 1 kHz beep (an older test stream's).
PLAIN = -1

_FREQS = np.array([beep_frequency(k) for k in range(MARK_PERIOD)] + [BEEP_HZ])
_CODES = np.array([*range(MARK_PERIOD), PLAIN])
_WINDOW = 480  # 10 ms at 48 kHz: whole cycles of every beep frequency
_HOP = 48  # 1 ms
_FLOOR = 10 ** (-30 / 20)  # quietest beep read
_RUN = (3, 10)  # blocks a beep lasts (it is 50 ms)
_PIECE_BLOCKS = 200  # 2 s read at a time
_OVERLAP_BLOCKS = 20  # the next piece starts 0.2 s before this one's end
_VOTE_S = 0.05
_CLUSTER_S = 0.1
_HEARD_MIN_S = 1.5
_SAME_S = 0.02  # one beep read in two pieces


@dataclass(frozen=True)
class Beeps:
    """The beeps found in a recording's sound.

    Attributes
    ----------
    t : ndarray of float64
        Onsets, seconds after ``origin``, sorted.
    code : ndarray of int64
        Each beep's second modulo 16, or :data:`PLAIN` for a plain 1 kHz beep.
    level : ndarray of float64
        Each beep's amplitude (1.0 = full scale).
    span : (float, float) or None
        The sound searched, seconds after ``origin`` (None: there was no sound).
    """

    t: npt.NDArray[np.float64]
    code: npt.NDArray[np.int64]
    level: npt.NDArray[np.float64]
    span: tuple[float, float] | None = None

    @property
    def marked(self) -> bool:
        """True when numbered beeps outnumber plain ones (a current test stream)."""
        return int((self.code >= 0).sum()) > int((self.code == PLAIN).sum())


@dataclass(frozen=True)
class Flashes:
    """The test streams' flashes seen in the pictures.

    Attributes
    ----------
    t : ndarray of float64
        Times, seconds after the same origin as the sound's.
    second : ndarray of int64
        The second of its stream's clock each flash starts (frame number // fps).
    uid : tuple of str
        Whose stream each flash is.
    """

    t: npt.NDArray[np.float64]
    second: npt.NDArray[np.int64]
    uid: tuple[str, ...] = ()

    @classmethod
    def of(cls, parts: Iterable[tuple[npt.ArrayLike, npt.ArrayLike, str]]) -> Flashes:
        """Flashes from ``(times, seconds, uid)`` groups, sorted by time.

        >>> Flashes.of([([2.0, 1.0], [2, 1], "7")]).second.tolist()
        [1, 2]
        """
        ts, ss, us = [np.zeros(0)], [np.zeros(0, dtype=np.int64)], []
        for t, s, uid in parts:
            t_arr = np.asarray(t, dtype=np.float64).reshape(-1)
            ts.append(t_arr)
            ss.append(np.asarray(s, dtype=np.int64).reshape(-1))
            us.extend([uid] * t_arr.size)
        t_all, s_all = np.concatenate(ts), np.concatenate(ss)
        order = np.argsort(t_all, kind="stable")
        return cls(t_all[order], s_all[order], tuple(us[i] for i in order))


@dataclass(frozen=True)
class AvCheck:
    """What the A/V check found: facts for ``stats`` and its differences."""

    stats: dict[str, Any] = field(default_factory=dict)
    differences: tuple[Difference, ...] = ()


# --- reading the beeps ---------------------------------------------------------------------------
def _block(rate: int) -> int:
    return max(16, round(_WINDOW * rate / 48000))


def _envelope(samples: npt.NDArray[np.float32], rate: int, freq: float) -> npt.NDArray[np.float64]:
    """Amplitude at ``freq`` of each 10 ms window (boxcar) starting every 1 ms."""
    window = _block(rate)
    hop = max(1, round(_HOP * rate / 48000))
    if samples.size < window:
        return np.zeros(0)
    n = np.arange(samples.size)
    z = samples * np.exp(-2j * np.pi * freq * n / rate)
    c = np.concatenate([[0], np.cumsum(z)])
    starts = np.arange(0, samples.size - window + 1, hop)
    return np.asarray(np.abs(c[starts + window] - c[starts]) * 2 / window, dtype=np.float64)


def _block_levels(samples: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.float64]:
    """Amplitude of each beep frequency (columns as ``_FREQS``) in each 10 ms block."""
    block = _block(rate)
    n = samples.size // block
    spectrum = np.fft.rfft(samples[:n * block].reshape(n, block), axis=1)
    bins = np.rint(_FREQS * block / rate).astype(np.int64)
    return np.abs(spectrum[:, bins]) * 2 / block


def _runs(above: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of True.

    >>> _runs(np.array([0, 1, 1, 0, 1], dtype=bool))
    [(1, 3), (4, 5)]
    """
    edges = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    starts, stops = np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist()
    return list(zip(starts, stops, strict=True))


def _onset(samples: npt.NDArray[np.float32], first_block: int, rate: int,
           freq: float) -> float | None:
    """Sample position of the onset of the beep whose first loud block is ``first_block``."""
    block = _block(rate)
    lo = max(0, (first_block - 2) * block)
    env = _envelope(samples[lo:(first_block + 5) * block], rate, freq)
    if env.size < 2:
        return None
    above = env >= env.max() / 2
    rise = np.nonzero(above[1:] & ~above[:-1])[0]
    if above[0] or not rise.size:  # the sound starts inside the beep: no onset to time
        return None
    hop = max(1, round(_HOP * rate / 48000))
    return lo + (int(rise[0]) + 1) * hop + block / 2


def _piece_beeps(samples: npt.NDArray[np.float32], rate: int,
                 *, final: bool) -> list[tuple[float, int, float]]:
    """``(sample position, code, level)`` of the beeps of one piece of sound.

    A beep whose run ends in the piece's last 9 blocks (it may go on past the end) is left
    to the next piece, which starts 20 blocks before this one's end: at least 2 blocks
    before such a run, as :func:`_onset` needs.  The last piece of the sound keeps all.
    """
    levels = _block_levels(samples, rate)
    if not levels.size:
        return []
    quiet = np.percentile(levels, 25, axis=0)
    threshold = np.maximum(np.maximum(_FLOOR, 4 * quiet), 0.2 * levels.max())
    last = levels.shape[0] - (0 if final else _OVERLAP_BLOCKS - _RUN[1] - 1)
    out = []
    for column in range(levels.shape[1]):
        for start, stop in _runs(levels[:, column] >= threshold[column]):
            if not _RUN[0] <= stop - start <= _RUN[1] or stop > last:
                continue
            at = _onset(samples, start, rate, float(_FREQS[column]))
            if at is not None:
                out.append((at, int(_CODES[column]), float(levels[start:stop, column].max())))
    return out


def _pieces(chunks: Iterable[AudioChunk]) -> Iterator[tuple[float, npt.NDArray[np.float32],
                                                            int, bool]]:
    """``(t, samples, rate, final)``: the sound in overlapping pieces of about 2 s.

    ``final`` marks the last piece of a stretch of contiguous chunks.
    """
    held = np.zeros(0, dtype=np.float32)
    held_t, rate = 0.0, 48000
    for chunk in chunks:
        data = np.asarray(chunk.samples, dtype=np.float32).reshape(-1)
        joined = held.size > 0 and chunk.rate == rate and \
            abs(held_t + held.size / rate - chunk.t) < 2 / rate + 1e-3
        if held.size and not joined:
            yield held_t, held, rate, True
            held = np.zeros(0, dtype=np.float32)
        if not held.size:
            held_t, rate = chunk.t, chunk.rate
        held = np.concatenate([held, data])
        block = _block(rate)
        if held.size >= _PIECE_BLOCKS * block:
            yield held_t, held, rate, False
            cut = (held.size // block - _OVERLAP_BLOCKS) * block
            held_t += cut / rate
            held = held[cut:]
    if held.size:
        yield held_t, held, rate, True


def _one_per_beep(found: list[tuple[float, int, float]]) -> list[tuple[float, int, float]]:
    """Beeps read twice (in two overlapping pieces) once: same code within 20 ms."""
    kept: list[tuple[float, int, float]] = []
    for item in sorted(found, key=lambda b: (b[1], b[0])):
        if kept and kept[-1][1] == item[1] and item[0] - kept[-1][0] < _SAME_S:
            continue
        kept.append(item)
    return sorted(kept)


class BeepReader:
    """Reads the beeps of a sound a piece (about 2 s) at a time, while other work waits.

    :meth:`step` reads the next piece, so the sound can be read in the time a consumer of
    another stream would wait (compare reads it while the pictures decode:
    :func:`~layoutkit.io.ahead.ahead`'s ``idle``); :meth:`beeps` reads what is left and
    returns them all.  The result is the same however the steps fell.

    Parameters
    ----------
    chunks : iterable of AudioChunk
        The sound in order (one pass); a gap in the chunks' times starts afresh.

    Examples
    --------
    >>> from layoutkit.signals.tone import tone
    >>> reader = BeepReader([AudioChunk(0.0, tone("7", 0, 3 * 48000))])
    >>> [reader.step() for _ in range(3)]  # a piece of 2 s, the last second, the end
    [True, True, False]
    >>> np.round(reader.beeps(origin=0.5).t, 2).tolist()
    [0.5, 1.5]
    """

    def __init__(self, chunks: Iterable[AudioChunk]) -> None:
        self._pieces: Iterator[tuple[float, npt.NDArray[np.float32], int, bool]] | None = \
            _pieces(chunks)
        # (piece start, onset in the piece, code, level): times after ``origin`` at the end
        self._found: list[tuple[float, float, int, float]] = []
        self._span: tuple[float, float] | None = None  # the sound read, on its own clock

    def step(self) -> bool:
        """Read the next piece of sound; False once the sound has ended (nothing read)."""
        piece = next(self._pieces, None) if self._pieces is not None else None
        if piece is None:
            self._pieces = None
            return False
        t0, samples, rate, final = piece
        end = t0 + samples.size / rate
        self._span = (t0, end) if self._span is None else (min(self._span[0], t0),
                                                            max(self._span[1], end))
        self._found += [(t0, at / rate, code, level)
                        for at, code, level in _piece_beeps(samples, rate, final=final)]
        return True

    def beeps(self, *, origin: float = 0.0) -> Beeps:
        """Read the rest of the sound; return its beeps, times in seconds after ``origin``.

        Beeps quieter than a fifth of the loudest are left out.
        """
        while self.step():
            pass
        span = None if self._span is None else (self._span[0] - origin, self._span[1] - origin)
        found = [(t0 - origin + at, code, level) for t0, at, code, level in self._found]
        loudest = max((b[2] for b in found), default=0.0)
        kept = _one_per_beep([b for b in found if b[2] >= 0.2 * loudest])
        return Beeps(np.array([b[0] for b in kept], dtype=np.float64),
                     np.array([b[1] for b in kept], dtype=np.int64),
                     np.array([b[2] for b in kept], dtype=np.float64), span)


#: A sound to read beeps from: its chunks in order, or their reader (which may have read
#: some of them already).
Sound = Iterable[AudioChunk] | BeepReader


def read_beeps(chunks: Iterable[AudioChunk], *, origin: float = 0.0) -> Beeps:
    """Read the test-stream beeps of a sound: onsets, codes and levels (see the module notes).

    Parameters
    ----------
    chunks : iterable of AudioChunk
        The sound in order (one pass); a gap in the chunks' times starts afresh.
    origin : float
        Times are given in seconds after this.

    Returns
    -------
    Beeps
        Beeps quieter than a fifth of the loudest are left out.

    Examples
    --------
    >>> from layoutkit.signals.tone import tone
    >>> beeps = read_beeps([AudioChunk(0.0, tone("7", 0, 3 * 48000))])
    >>> np.round(beeps.t, 2).tolist(), beeps.code.tolist()  # onsets to 1 ms
    ([1.0, 2.0], [1, 2])
    """
    return BeepReader(chunks).beeps(origin=origin)


def beep_onsets(chunks: Iterable[AudioChunk], *, origin: float = 0.0) -> npt.NDArray[np.float64]:
    """Return the times (seconds after ``origin``) where a beep (numbered or plain) starts."""
    return read_beeps(chunks, origin=origin).t


# --- pairing ----------------------------------------------------------------------------------
def av_offset(flashes: npt.NDArray[np.float64], beeps: npt.NDArray[np.float64], *,
              window: float = 0.5) -> tuple[float, int] | None:
    """Median ``t_flash - t_beep`` over flashes with a beep within ``window``, and the count.

    The measure of plain beeps, alike every second: it is known modulo 1 s only.
    """
    if flashes.size == 0 or beeps.size == 0:
        return None
    pos = np.clip(np.searchsorted(beeps, flashes), 1, max(1, beeps.size - 1))
    left = beeps[np.maximum(pos - 1, 0)]
    right = beeps[np.minimum(pos, beeps.size - 1)]
    nearest = np.where(np.abs(flashes - left) <= np.abs(flashes - right), left, right)
    diffs = flashes - nearest
    diffs = diffs[np.abs(diffs) <= window]
    if diffs.size == 0:
        return None
    return float(np.median(diffs)), int(diffs.size)


def _pair_diffs(flash_t: npt.NDArray[np.float64], beep_t: npt.NDArray[np.float64],
                reach: float) -> npt.NDArray[np.float64]:
    """``t_flash - t_beep`` of every flash and (sorted) beep within ``reach`` of each other."""
    lo = np.searchsorted(beep_t, flash_t - reach, side="left")
    hi = np.searchsorted(beep_t, flash_t + reach, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if not total:
        return np.zeros(0)
    starts = np.cumsum(counts) - counts
    index = np.arange(total) - np.repeat(starts, counts) + np.repeat(lo, counts)
    return np.asarray(np.repeat(flash_t, counts) - beep_t[index], dtype=np.float64)


@dataclass(frozen=True)
class AvMeasure:
    """An A/V offset measured from numbered beeps.

    Attributes
    ----------
    offset : float
        ``t_flash - t_beep``, seconds (positive: sound ahead).
    votes : int
        Flash-beep pairs that agree on it (within 100 ms).
    rival : float or None
        Another offset at least 0.5 s away that nearly as many pairs (80 %) agree on: a heard
        tone user who shows no test-stream picture, with a clock a whole number of seconds
        from a seen user's, pairs with the seen user's flashes as well as that user's own
        beeps do (the smaller offset is taken).
    """

    offset: float
    votes: int
    rival: float | None = None


def marked_offset(flash_t: npt.NDArray[np.float64], flash_second: npt.NDArray[np.int64],
                  beeps: Beeps, *, reach: float = MARK_REACH_S) -> AvMeasure | None:
    """Measure the A/V offset from flashes and numbered beeps.

    Parameters
    ----------
    flash_t, flash_second : ndarray
        Each flash's time and its stream's second.
    beeps : Beeps
        Only the numbered ones are used.
    reach : float
        Largest ``|t_flash - t_beep|`` paired.

    Returns
    -------
    AvMeasure or None
        None without a pair.

    Examples
    --------
    >>> beeps = Beeps(np.array([2.7, 3.7, 4.7]), np.array([2, 3, 4]), np.ones(3))
    >>> marked_offset(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 2, 3, 4]), beeps)
    AvMeasure(offset=-0.7, votes=3, rival=None)
    """
    codes = np.asarray(flash_second, dtype=np.int64) % MARK_PERIOD
    parts = []
    for code in np.unique(codes):
        beep_t = np.sort(beeps.t[beeps.code == code])
        parts.append(_pair_diffs(np.asarray(flash_t)[codes == code], beep_t, reach))
    diffs = np.sort(np.concatenate(parts)) if parts else np.zeros(0)
    if not diffs.size:
        return None
    votes = np.searchsorted(diffs, diffs + _VOTE_S, side="right") - \
        np.searchsorted(diffs, diffs - _VOTE_S, side="left")
    best = np.lexsort((np.abs(diffs), -votes))[0]
    near = diffs[np.abs(diffs - diffs[best]) <= _CLUSTER_S]
    far = np.nonzero(np.abs(diffs - diffs[best]) >= 0.5)[0]
    rival = None
    if far.size:
        other = far[np.lexsort((np.abs(diffs[far]), -votes[far]))[0]]
        if votes[other] >= 0.8 * votes[best]:
            rival = round(float(diffs[other]), 6)
    return AvMeasure(round(float(np.median(near)), 6), int(near.size), rival)


# --- who is heard -----------------------------------------------------------------------------
def heard_spans(scenario: Scenario, *, profile: Profile) -> dict[str, tuple[tuple[float, float],
                                                                               ...]]:
    """Per ``tone`` user, the scenario times (seconds) the recording mixes their sound.

    >>> from layoutkit.scenario import parse_scenario
    >>> s = parse_scenario({"cname": "c", "duration": 6, "users": [{"uid": "1"},
    ...     {"uid": "2", "audio": "silence"}], "events": [{"t": 2, "uid": "1",
    ...     "action": "mute_audio"}], "start": {"cname": "c", "uid": "9",
    ...     "clientRequest": {"recordingConfig": {}}}})
    >>> heard_spans(s, profile=Profile())
    {'1': ((0.0, 2.0),)}
    """
    timeline = Timeline(scenario, profile=profile)
    tones = {u.uid for u in scenario.users if u.audio == "tone"}
    times = timeline.change_times()
    spans: dict[str, list[tuple[float, float]]] = {}
    for t0, t1 in pairwise(times):
        for uid in timeline.scene_at(t0).audible:
            if uid not in tones:
                continue
            items = spans.setdefault(uid, [])
            if items and items[-1][1] == float(t0):
                items[-1] = (items[-1][0], float(t1))
            else:
                items.append((float(t0), float(t1)))
    return {uid: tuple(items) for uid, items in spans.items()}


def _heard(flashes: Flashes, spans: Mapping[str, Sequence[tuple[float, float]]],
           offset: float) -> npt.NDArray[np.bool_]:
    """Which flashes belong to a user heard at that moment (scenario time ``t - offset``)."""
    keep = np.zeros(flashes.t.size, dtype=bool)
    for i, (t, uid) in enumerate(zip(flashes.t, flashes.uid, strict=True)):
        keep[i] = any(a <= t - offset < b for a, b in spans.get(uid, ()))
    return keep


def _first_cycle(flashes: Flashes) -> npt.NDArray[np.bool_]:
    """Per user, the flashes whose clock start ``t - second`` is within 0.5 s of the earliest.

    A frame number past its code's 4096 wraps round: its "flash" frames start the clock
    about 4096 / fps seconds later.

    >>> f = Flashes(np.array([1.0, 2.0, 275.07]), np.array([1, 2, 1]), ("5", "5", "5"))
    >>> _first_cycle(f).tolist()
    [True, True, False]
    """
    uids = np.array(flashes.uid, dtype=object)
    start = flashes.t - flashes.second
    keep = np.zeros(flashes.t.size, dtype=bool)
    for uid in set(flashes.uid):
        mine = uids == uid
        keep |= mine & (start <= start[mine].min() + 0.5)
    return keep


# --- the check ----------------------------------------------------------------------------------
def _no_beep(span: tuple[float, float], spans: Mapping[str, Sequence[tuple[float, float]]],
             offset: float) -> Difference | None:
    """``no_beep`` when a tone user is heard for 1.5 s of the sound searched."""
    a, b = span[0] - offset, span[1] - offset  # scenario time
    heard = {uid: sum(max(0.0, min(b, t1) - max(a, t0)) for t0, t1 in items)
             for uid, items in spans.items()}
    heard = {uid: s for uid, s in heard.items() if s > 0}
    if sum(heard.values()) < _HEARD_MIN_S:
        return None
    uids: list[str] = sorted(heard, key=int)
    who = ", ".join(uids)
    return Difference(
        "no_beep",
        f"no test-stream beep in the sound searched from {a:.2f} to {b:.2f} s, though "
        f"uid {who} send{'s' if len(heard) == 1 else ''} the test tone, heard for "
        f"{max(heard.values()):.1f} s of it", t=round(a, 3),
        expected={"beeps_from": uids},
        observed={"beeps": 0, "searched_s": [round(a, 3), round(b, 3)]})


def _offset_difference(measure: AvMeasure, tolerance: tuple[float, float],
                       marked: bool) -> Difference | None:
    av, n = measure.offset, measure.votes
    ahead, behind = tolerance
    if behind <= av <= ahead:
        return None
    side = "ahead of" if av > 0 else "behind"
    how = "numbered beeps" if marked else \
        "plain 1 kHz beeps of an older test stream: measured modulo 1 s"
    if measure.rival is not None:
        how += (f"; {measure.rival * 1000:+.0f} ms fits nearly as well: a heard user "
                "without a test-stream picture beeps whole seconds from a seen one")
    return Difference(
        "av_offset",
        f"sound is {abs(av) * 1000:.0f} ms {side} the picture (tolerance "
        f"+{ahead * 1000:.0f} / {behind * 1000:.0f} ms, positive = sound ahead; "
        f"{n} flashes; {how})", expected=[ahead, behind], observed=round(av, 4))


def check_av(flashes: Flashes, audio: Sound, *, origin: float,
             offset: float,
             spans: Mapping[str, Sequence[tuple[float, float]]],
             tolerance: tuple[float, float] = AV_TOLERANCE_S) -> AvCheck:
    """Measure the A/V offset of a recording, or say why there is none.

    Parameters
    ----------
    flashes : Flashes
        The flashes seen, times after ``origin``.
    audio : iterable of AudioChunk, or BeepReader
        The recording's sound (same clock as the pictures), or its reader (which may have
        read some of it already).
    origin : float
        The first picture's time.
    offset : float
        Seconds after ``origin`` of the scenario's t = 0.
    spans : mapping
        :func:`heard_spans` of the scenario.
    tolerance : (float, float)
        Most sound-ahead (positive) and most sound-behind (negative) offset accepted.

    Returns
    -------
    AvCheck
        ``stats``: ``beeps``, and with a measure ``av_offset_s`` and ``av_method``
        (``numbered beeps`` or ``plain beeps, modulo 1 s``).
    """
    reader = audio if isinstance(audio, BeepReader) else BeepReader(audio)
    beeps = reader.beeps(origin=origin)
    stats: dict[str, Any] = {"beeps": int(beeps.t.size)}
    if not beeps.t.size:
        missing = _no_beep(beeps.span, spans, offset) if beeps.span else None
        return AvCheck(stats, (missing,) if missing else ())
    heard = _heard(flashes, spans, offset)
    use = (heard if heard.any() else np.ones(flashes.t.size, dtype=bool)) & \
        _first_cycle(flashes)
    if beeps.marked:
        measure = marked_offset(flashes.t[use], flashes.second[use], beeps)
    else:
        plain = av_offset(np.unique(flashes.t[use]), beeps.t[beeps.code == PLAIN])
        measure = AvMeasure(*plain) if plain else None
    stats["av_method"] = "numbered beeps" if beeps.marked else "plain beeps, modulo 1 s"
    if measure is None:
        return AvCheck(stats)
    stats["av_offset_s"] = round(measure.offset, 4)
    if measure.rival is not None:
        stats["av_rival_s"] = round(measure.rival, 4)
    diff = _offset_difference(measure, tolerance, beeps.marked)
    return AvCheck(stats, (diff,) if diff else ())
