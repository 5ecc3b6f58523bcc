"""The test stream's audio (pure): a per-uid tone with a numbered beep on every whole second.

The beep marks the second it starts: the beep of second ``k`` (of the stream's own clock,
sample ``k * sample_rate``) is a 50 ms sine at :func:`beep_frequency` ``(k)``
``= 1100 + 100 * (k % 16)`` Hz (1100 .. 2600 Hz), so the beeps repeat only every
:data:`MARK_PERIOD` = 16 s.  The picture's flash on the same second carries its frame number
in the code, so compare pairs each flash with the beep of the *same* second and measures an
A/V offset of up to +-7.5 s with its sign and size (:mod:`layoutkit.comparison.avsync`).

Why this marker:

* Every beep carries its number (no anchor every N s to wait for): a 4 s clip gives 4 pairs.
* Frequencies are multiples of 100 Hz: a 10 ms window holds whole cycles of every one, so a
  10 ms FFT reads each beep in its own bin, orthogonal to the others and to the tones at
  multiples of 100 Hz; the tones (300 .. 940 Hz) lie below the band and leak little into it.
* The band is above every tone and below 3 x 1100 Hz, so the odd harmonics that clipping of a
  loud mix (17 users) makes never land on a code; 1 kHz, the plain beep of test streams made
  before the marker, is not a code either, so those streams are still told apart and read
  modulo 1 s.
* 1.1 - 2.6 kHz is the middle of the speech band: AAC at 48 kbit/s mono (``audioProfile`` 0)
  keeps it (its low-pass is far above).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..cloudfiles.constants import SAMPLE_RATE
from ..errors import ParameterError
from .idcode import uid_number

__all__ = [
    "BEEP_DBFS",
    "BEEP_HZ",
    "BEEP_SECONDS",
    "MARK_BASE_HZ",
    "MARK_PERIOD",
    "MARK_STEP_HZ",
    "TONE_DBFS",
    "beep_frequency",
    "tone",
    "tone_frequency",
]

#: Level of the per-uid tone.
TONE_DBFS = -18.0
#: Level and length of the beep at every whole second.
BEEP_DBFS = -6.0
BEEP_SECONDS = 0.05
#: The plain beep of test streams made before the numbered beep (every second alike).
BEEP_HZ = 1000
#: The numbered beep: second ``k`` beeps at ``MARK_BASE_HZ + MARK_STEP_HZ * (k % MARK_PERIOD)``.
MARK_PERIOD = 16
MARK_BASE_HZ = 1100
MARK_STEP_HZ = 100


def beep_frequency(second: int) -> int:
    """Return the frequency (Hz) of the beep that starts second ``second`` of a test stream.

    >>> [beep_frequency(k) for k in (0, 1, 15, 16, 17)]
    [1100, 1200, 2600, 1100, 1200]
    """
    return MARK_BASE_HZ + MARK_STEP_HZ * (int(second) % MARK_PERIOD)


def tone_frequency(uid: str) -> int:
    """Return the tone of ``uid`` in Hz: ``300 + (uid % 17) * 40`` (300 .. 940 Hz)."""
    return 300 + (uid_number(uid) % 17) * 40


def _sine(freq: int | npt.NDArray[np.int64], samples: npt.NDArray[np.int64],
          sample_rate: int) -> npt.NDArray[np.float64]:
    """Return ``sin(2 pi f n / sr)`` with the phase reduced exactly in integers (no drift)."""
    return np.sin(2 * np.pi * ((freq * samples) % sample_rate) / sample_rate)


def tone(uid: str, start_sample: int, n_samples: int, *,
         sample_rate: int = SAMPLE_RATE) -> npt.NDArray[np.float32]:
    """Make samples ``start_sample`` .. ``start_sample + n_samples - 1`` of ``uid``'s test tone.

    A sine at :func:`tone_frequency` at -18 dBFS, plus a beep at -6 dBFS during the
    first 50 ms of every whole second ``k`` at :func:`beep_frequency` ``(k)`` (starting at
    sample ``k * sample_rate``, at phase 0, so it begins and ends on a zero crossing: 50 ms
    holds whole cycles of every multiple of 20 Hz).  Each sample depends only on its
    absolute index, so consecutive calls join without a phase step.

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
    second, within = np.divmod(n, sample_rate)
    beep = within < round(BEEP_SECONDS * sample_rate)
    freq = MARK_BASE_HZ + MARK_STEP_HZ * (second[beep] % MARK_PERIOD)
    out[beep] += 10 ** (BEEP_DBFS / 20) * _sine(freq, within[beep], sample_rate)
    return out.astype(np.float32)
