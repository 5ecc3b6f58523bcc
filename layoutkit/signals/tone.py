"""The test stream's audio (pure): a per-uid tone with a beep on every whole second."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..errors import ParameterError
from .idcode import uid_number

__all__ = ["SAMPLE_RATE", "TONE_DBFS", "BEEP_DBFS", "BEEP_HZ", "BEEP_SECONDS", "tone",
           "tone_frequency"]

#: Audio sample rate of the test stream (Hz).
SAMPLE_RATE = 48000
#: Level of the per-uid tone.
TONE_DBFS = -18.0
#: Level, frequency and length of the beep at every whole second.
BEEP_DBFS = -6.0
BEEP_HZ = 1000
BEEP_SECONDS = 0.05


def tone_frequency(uid: str) -> int:
    """The tone of ``uid`` in Hz: ``300 + (uid % 17) * 40`` (300 .. 940 Hz)."""
    return 300 + (uid_number(uid) % 17) * 40


def _sine(freq: int, samples: npt.NDArray[np.int64], sample_rate: int) -> npt.NDArray[np.float64]:
    """``sin(2 pi f n / sr)`` with the phase reduced exactly in integers (no drift)."""
    return np.sin(2 * np.pi * ((freq * samples) % sample_rate) / sample_rate)


def tone(uid: str, start_sample: int, n_samples: int, *,
         sample_rate: int = SAMPLE_RATE) -> npt.NDArray[np.float32]:
    """Samples ``start_sample`` .. ``start_sample + n_samples - 1`` of the test tone of ``uid``.

    A sine at :func:`tone_frequency` at -18 dBFS, plus a 1 kHz beep at -6 dBFS during the
    first 50 ms of every whole second (starting at sample ``k * sample_rate``, at phase 0,
    so it begins and ends on a zero crossing).  Each sample depends only on its absolute
    index, so consecutive calls join without a phase step.

    Parameters
    ----------
    uid : str
        Decimal uid.
    start_sample : int
        Index of the first sample from the stream's start.
    n_samples : int
        How many samples.
    sample_rate : int
        Hz.

    Returns
    -------
    ndarray of float32, shape (n_samples,)
        Mono samples in [-1, 1].
    """
    if n_samples < 0 or sample_rate < 1:
        msg = f"need n_samples >= 0 and sample_rate >= 1 (got {n_samples}, {sample_rate})"
        raise ParameterError(msg)
    n = np.arange(int(start_sample), int(start_sample) + int(n_samples), dtype=np.int64)
    out = 10 ** (TONE_DBFS / 20) * _sine(tone_frequency(uid), n, sample_rate)
    within = n % sample_rate
    beep = within < round(BEEP_SECONDS * sample_rate)
    out[beep] += 10 ** (BEEP_DBFS / 20) * _sine(BEEP_HZ, within[beep], sample_rate)
    return out.astype(np.float32)
