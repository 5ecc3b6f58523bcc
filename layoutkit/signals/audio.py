"""The recorder's audio mix (pure): sample arithmetic and the composite mix.

The rules are those of docs/profile.md and docs/cloud.md (#cloud-recording-config,
#cloud-output-codec).

Every user publishes a mono 48 kHz signal on their own clock: sample 0 is the moment the
user first joined, and the clock keeps running while the user is muted or away (like the
video sources of :mod:`layoutkit.sources`, which also opens the audio sources: the per-uid
test tone of :func:`~layoutkit.signals.tone.tone`, silence, or a file).

:class:`AudioMixer` sums, for every recording sample, the users the timeline says are
audible (present host, not muted, subscribed, ``streamTypes`` 0 or 2), then clips to
[-1, 1] (no wrap-around).  All positions are integer sample indices; a time ``t`` (exact
:class:`~fractions.Fraction` seconds) becomes the first sample at or after it,
``ceil(t * 48000)``, so sample ``s`` hears the scene at ``s / 48000`` exactly.

Choices
-------
* Past :attr:`~layoutkit.timeline.Timeline.end_time` the mix is silence (nothing is
  recorded any more).
* A re-joining user continues on the clock of their first join (the file or tone goes on
  where it would be had it never stopped).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from .._typing import Samples
from ..cloudfiles.constants import SAMPLE_RATE
from ..errors import ParameterError
from ..scenario import Scenario, first_join_times

if TYPE_CHECKING:  # pragma: no cover
    from ..timeline import Timeline

__all__ = [
    "AUDIO_PROFILES",
    "AudioMixer",
    "AudioSource",
    "check_span",
    "frame_sample_range",
    "to_channels",
    "to_sample",
]

#: ``audioProfile`` -> (channels, AAC bit rate in bit/s) (docs/cloud.md#cloud-recording-config,
#: docs/profile.md).
AUDIO_PROFILES: dict[int, tuple[int, int]] = {0: (1, 48_000), 1: (1, 128_000), 2: (2, 192_000)}


# --- sample arithmetic ------------------------------------------------------------------------
def to_sample(t: Fraction | int, *, sample_rate: int = SAMPLE_RATE) -> int:
    """Return the first sample at or after time ``t``: ``ceil(t * sample_rate)``, exactly.

    Parameters
    ----------
    t : Fraction or int
        Seconds.
    sample_rate : int
        Hz.

    Returns
    -------
    int
        Sample index; sample ``s`` is at time ``s / sample_rate``.
    """
    return math.ceil(Fraction(t) * sample_rate)


def frame_sample_range(index: int, fps: int | Fraction, *,
                       sample_rate: int = SAMPLE_RATE) -> tuple[int, int]:
    """Return the range of audio samples that belong to video frame ``index``.

    Frame ``k`` owns samples ``[floor(k * sr / fps), floor((k + 1) * sr / fps))``; the
    ranges of consecutive frames touch, so every sample belongs to exactly one frame and
    there is no drift, whatever the frame rate (e.g. 7 fps: 6857 or 6858 samples).

    Parameters
    ----------
    index : int
        Frame number from 0.
    fps : int or Fraction
        Frames per second, > 0.
    sample_rate : int
        Hz.

    Returns
    -------
    tuple of int
        ``(first, end)``: first sample and one past the last.

    Raises
    ------
    ParameterError
        For a negative index or ``fps <= 0``.

    Examples
    --------
    >>> frame_sample_range(0, 7), frame_sample_range(1, 7)
    ((0, 6857), (6857, 13714))
    """
    rate = Fraction(fps)
    if index < 0 or rate <= 0:
        msg = f"need index >= 0 and fps > 0 (got {index}, {fps})"
        raise ParameterError(msg)
    return (math.floor(index * sample_rate / rate), math.floor((index + 1) * sample_rate / rate))


def check_span(start: int, n: int) -> None:
    """Raise ParameterError unless ``start`` and ``n`` (a span of samples) are >= 0."""
    if start < 0 or n < 0:
        msg = f"need start >= 0 and n >= 0 samples (got {start}, {n})"
        raise ParameterError(msg)


# --- per-user sources -------------------------------------------------------------------------
class AudioSource(Protocol):
    """What the mixer needs of a user's audio."""

    def samples(self, start: int, n: int) -> Samples:
        """Mono 48 kHz samples ``[start, start + n)`` of the user's own clock."""
        ...  # pragma: no cover

    def close(self) -> None:
        """Release files and decoders."""
        ...  # pragma: no cover


# --- the mix ------------------------------------------------------------------------------------
def _spans(timeline: Timeline) -> tuple[list[int], list[tuple[str, ...]]]:
    """Start samples of the spans of constant audibility and who is audible in each.

    The last start is the end of the recording (nobody audible from there).
    """
    starts: list[int] = []
    audible: list[tuple[str, ...]] = []
    for t in timeline.change_times():
        sample = to_sample(t)
        if starts and starts[-1] == sample:  # two changes within one sample: the later wins
            starts.pop()
            audible.pop()
        starts.append(sample)
        scene = timeline.scene_at(Fraction(sample, SAMPLE_RATE))
        audible.append(scene.audible if scene.recording else ())
    return starts, audible


class AudioMixer:
    """The recorder's mixed audio of a scenario, sample-exact.

    Parameters
    ----------
    scenario : Scenario
        Users, their audio and ``audioProfile``.
    timeline : Timeline
        Who is audible when (:attr:`~layoutkit.timeline.Scene.audible`).
    sources : mapping of str to AudioSource
        Every host's audio by uid (:func:`layoutkit.sources.open_audio_sources`); the mixer
        closes them.

    Attributes
    ----------
    channels : int
        1 or 2, from ``audioProfile``.
    bit_rate : int
        AAC bit rate in bit/s, from ``audioProfile``.
    end_sample : int
        Samples in the recording: ``ceil(end_time * 48000)``.
    """

    def __init__(self, scenario: Scenario, timeline: Timeline, *,
                 sources: Mapping[str, AudioSource]) -> None:
        profile = scenario.start.recording_config.audio_profile
        self.channels, self.bit_rate = AUDIO_PROFILES[profile]
        self._starts, self._audible = _spans(timeline)
        self.end_sample = self._starts[-1]
        self._origins = {uid: to_sample(t) for uid, t in first_join_times(scenario).items()}
        self._sources = dict(sources)

    def _pieces(self, start: int, stop: int) -> Iterator[tuple[int, int, tuple[str, ...]]]:
        """Yield ``(first, end, audible)`` for each constant span overlapping ``[start, stop)``."""
        i = max(0, bisect_right(self._starts, start) - 1)
        while i < len(self._starts) - 1 and self._starts[i] < stop:
            lo, hi = max(start, self._starts[i]), min(stop, self._starts[i + 1])
            if lo < hi and self._audible[i]:
                yield lo, hi, self._audible[i]
            i += 1

    def mix(self, start: int, n: int) -> Samples:
        """Mix the mono signal of recording samples ``[start, start + n)``.

        Parameters
        ----------
        start : int
            First sample from the start of recording, >= 0.
        n : int
            How many samples.

        Returns
        -------
        ndarray of float32, shape (n,)
            The sum of the audible users, clipped to [-1, 1]; zeros past the end.

        Raises
        ------
        ParameterError
            For a negative ``start`` or ``n``.
        """
        check_span(start, n)
        total = np.zeros(n, dtype=np.float64)
        for lo, hi, audible in self._pieces(start, start + n):
            for uid in audible:
                total[lo - start:hi - start] += self._sources[uid].samples(
                    lo - self._origins[uid], hi - lo)
        return np.clip(total, -1.0, 1.0).astype(np.float32)

    def close(self) -> None:
        """Close every source."""
        for source in self._sources.values():
            source.close()

    def __enter__(self) -> AudioMixer:
        """Return the mixer itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close every source (see :meth:`close`)."""
        self.close()


# --- output -----------------------------------------------------------------------------------
def to_channels(mono: npt.ArrayLike, channels: int) -> Samples:
    """Return planar ``(channels, n)`` float32 from a mono signal (stereo duplicates it).

    Raises
    ------
    ParameterError
        For a channel count other than 1 or 2.
    """
    if channels not in (1, 2):
        msg = f"channels must be 1 or 2 (got {channels})"
        raise ParameterError(msg)
    row = np.asarray(mono, dtype=np.float32).reshape(1, -1)
    return np.ascontiguousarray(np.repeat(row, channels, axis=0))


