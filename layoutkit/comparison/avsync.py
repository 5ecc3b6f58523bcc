"""A/V offset from the test stream: the white flash on each whole second vs its 1 kHz beep.

Sign convention (ITU-R BT.1359): ``av_offset = t_flash - t_beep``, positive when the sound
is **ahead** of (earlier than) the picture.  BT.1359's detectability thresholds, +45 ms
(sound ahead) and -125 ms (sound behind), are the default tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from ..signals.tone import BEEP_HZ
from ..io.frames import AudioChunk

__all__ = ["AV_TOLERANCE_S", "beep_onsets", "av_offset"]

#: (most sound-ahead, most sound-behind) offsets accepted, seconds.
AV_TOLERANCE_S = (0.045, -0.125)

_WINDOW = 480  # 10 ms at 48 kHz: exactly 10 cycles of the beep
_HOP = 48  # 1 ms


def _envelope(samples: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.float64]:
    """Amplitude at BEEP_HZ of each 10 ms window (boxcar) starting every 1 ms.

    A 10 ms boxcar holds exactly 10 beep cycles; the per-uid tones (300..940 Hz, at least
    6 cycles away from 10) leak at most about half their -18 dBFS level.
    """
    window = max(16, int(round(_WINDOW * rate / 48000)))
    hop = max(1, int(round(_HOP * rate / 48000)))
    if samples.size < window:
        return np.zeros(0)
    n = np.arange(samples.size)
    z = samples * np.exp(-2j * np.pi * BEEP_HZ * n / rate)
    c = np.concatenate([[0], np.cumsum(z)])
    starts = np.arange(0, samples.size - window + 1, hop)
    return np.abs(c[starts + window] - c[starts]) * 2 / window


def beep_onsets(chunks: Iterable[AudioChunk], *, origin: float = 0.0) -> npt.NDArray[np.float64]:
    """Times (seconds after ``origin``) where a 1 kHz beep starts.

    The 1 kHz amplitude is followed in 10 ms windows every 1 ms (chunks overlap by a
    window, so no onset is lost at a chunk edge); an onset is where it rises through half
    of the beep's level (the window then half covers the beep).
    """
    env_parts: list[npt.NDArray[np.float64]] = []
    starts: list[float] = []
    rate = 48000
    tail = np.zeros(0, dtype=np.float32)
    tail_t = 0.0
    for chunk in chunks:
        rate = chunk.rate
        data = np.asarray(chunk.samples, dtype=np.float32)
        window = max(16, int(round(_WINDOW * rate / 48000)))
        joined_t = chunk.t - tail.size / rate if tail.size and \
            abs(tail_t - chunk.t) < 2 / rate + 1e-3 else chunk.t
        if joined_t != chunk.t:
            data = np.concatenate([tail, data])
        env = _envelope(data, rate)
        if env.size:
            env_parts.append(env)
            starts.append(joined_t - origin)
        tail = data[-(window - 1):]
        tail_t = joined_t + data.size / rate
    if not env_parts:
        return np.zeros(0)
    level = np.percentile(np.concatenate(env_parts), 99.5)
    if level < 0.05:
        return np.zeros(0)
    hop = max(1, int(round(_HOP * rate / 48000))) / rate
    half = max(16, int(round(_WINDOW * rate / 48000))) / rate / 2
    onsets: list[float] = []
    for env, start in zip(env_parts, starts):
        above = env >= level / 2
        rise = np.nonzero(above[1:] & ~above[:-1])[0] + 1
        onsets.extend(start + rise * hop + half)
    out = np.array(sorted(onsets))
    if out.size > 1:  # one onset per beep
        out = out[np.concatenate([[True], np.diff(out) > 0.3])]
    return out


def av_offset(flashes: npt.NDArray[np.float64], beeps: npt.NDArray[np.float64], *,
              window: float = 0.5) -> tuple[float, int] | None:
    """Median ``t_flash - t_beep`` over flashes with a beep within ``window``, and the count."""
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
