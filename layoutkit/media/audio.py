"""The recorder's audio: per-user sources and the composite mix (contract 2, spec 3 and 8).

Every user publishes a mono 48 kHz signal on their own clock: sample 0 is the moment the
user first joined, and the clock keeps running while the user is muted or away (like the
video sources of :mod:`layoutkit.media.sources`).  A scenario's ``audio`` is ``tone`` (the
per-uid test tone of :func:`~layoutkit.media.testsrc.tone`), ``silence`` or a file path
(decoded with PyAV, resampled to 48 kHz, channels averaged to mono, looped).

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
* File audio: decoded samples are concatenated in decoding order (timestamps are not used
  to insert gaps); every pass through the file is resampled afresh, so the loop repeats
  sample for sample.  Channels are averaged, so a dual-mono stereo file keeps its level
  (FFmpeg's default downmix would add 3 dB).
"""

from __future__ import annotations

import math
import os
from bisect import bisect_right
from collections.abc import Generator, Iterator, Mapping
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from ..errors import MediaError, UsageError
from ..scenario import Scenario, UserSpec, first_join_times
from .container import open_for_users, open_input
from .images import resolve_location
from .testsrc import tone

if TYPE_CHECKING:  # pragma: no cover
    import av

    from ..timeline import Timeline

__all__ = [
    "SAMPLE_RATE",
    "AUDIO_PROFILES",
    "AudioSource",
    "ToneAudio",
    "SilentAudio",
    "FileAudio",
    "AudioMixer",
    "audio_frame",
    "first_join_times",
    "frame_sample_range",
    "open_audio",
    "open_audio_sources",
    "to_channels",
    "to_sample",
]

#: Output sample rate (Hz) of every profile.
SAMPLE_RATE = 48000
#: ``audioProfile`` -> (channels, AAC bit rate in bit/s) (spec 3, contract 2).
AUDIO_PROFILES: dict[int, tuple[int, int]] = {0: (1, 48_000), 1: (1, 128_000), 2: (2, 192_000)}

Samples = npt.NDArray[np.float32]
_LAYOUTS = {1: "mono", 2: "stereo"}


# --- sample arithmetic ------------------------------------------------------------------------
def to_sample(t: Fraction | int, *, sample_rate: int = SAMPLE_RATE) -> int:
    """The first sample at or after time ``t``: ``ceil(t * sample_rate)``, exactly.

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
    """The audio samples that belong to video frame ``index``.

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
    UsageError
        For a negative index or ``fps <= 0``.

    Examples
    --------
    >>> frame_sample_range(0, 7), frame_sample_range(1, 7)
    ((0, 6857), (6857, 13714))
    """
    rate = Fraction(fps)
    if index < 0 or rate <= 0:
        msg = f"need index >= 0 and fps > 0 (got {index}, {fps})"
        raise UsageError(msg)
    return (math.floor(index * sample_rate / rate), math.floor((index + 1) * sample_rate / rate))


def _check_span(start: int, n: int) -> None:
    if start < 0 or n < 0:
        msg = f"need start >= 0 and n >= 0 samples (got {start}, {n})"
        raise UsageError(msg)


# --- per-user sources -------------------------------------------------------------------------
class AudioSource(Protocol):
    """What the mixer needs of a user's audio."""

    def samples(self, start: int, n: int) -> Samples:
        """Mono 48 kHz samples ``[start, start + n)`` of the user's own clock."""
        ...  # pragma: no cover

    def close(self) -> None:
        """Release files and decoders."""
        ...  # pragma: no cover


class ToneAudio:
    """The test tone of ``uid`` (:func:`~layoutkit.media.testsrc.tone`): sample-exact."""

    def __init__(self, uid: str) -> None:
        self.uid = uid

    def samples(self, start: int, n: int) -> Samples:
        """Samples ``[start, start + n)`` of the tone (any order of requests)."""
        _check_span(start, n)
        return tone(self.uid, start, n, sample_rate=SAMPLE_RATE)

    def close(self) -> None:
        """Nothing to release."""


class SilentAudio:
    """A user who publishes silence."""

    def samples(self, start: int, n: int) -> Samples:
        """``n`` zeros."""
        _check_span(start, n)
        return np.zeros(n, dtype=np.float32)

    def close(self) -> None:
        """Nothing to release."""


def _mono(frame: av.AudioFrame) -> Samples:
    """A planar float frame as mono: the mean of its channels."""
    planes = frame.to_ndarray()
    return planes.mean(axis=0, dtype=np.float32) if planes.shape[0] > 1 else planes[0]


class FileAudio:
    """An audio file (any format FFmpeg reads) as mono 48 kHz samples, looped.

    Read sequentially, so memory stays flat: a request decodes up to its end and keeps only
    what a later, non-earlier request may still need.  Once a whole pass has been decoded its
    length is known (every pass is resampled afresh, so all passes are alike, sample for
    sample): a request that starts before the previous one, or passes ahead of the decoded
    one, reopens the file at the start of the pass it falls in; before that, an earlier
    request reopens it at sample 0.

    Parameters
    ----------
    path : str or PathLike
        Local path or a URL FFmpeg opens.

    Attributes
    ----------
    pass_length : int or None
        Samples (48 kHz) in one pass through the file, once decoded to its end.

    Raises
    ------
    MediaError
        When the file is missing, unreadable, has no audio stream or no decodable sample.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.pass_length: int | None = None
        self._chunks = self._loop()  # not started: opens nothing yet
        self._pos = 0  # user-clock index of self._buf[0]
        self._buf: Samples = np.zeros(0, dtype=np.float32)
        self._restart(0)

    def _one_pass(self) -> Iterator[Samples]:
        """The file once, resampled to 48 kHz mono (the file is closed at the end)."""
        import av

        container = open_input(self.path, kind="audio")
        try:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
            try:
                for frame in container.decode(stream):
                    yield from map(_mono, resampler.resample(frame))
                yield from map(_mono, resampler.resample(None))
            except av.error.FFmpegError as exc:
                msg = f"{self.path}: decoding audio failed ({exc})"
                raise MediaError(msg) from exc
        finally:
            container.close()

    def _loop(self) -> Generator[Samples, None, None]:
        """Pass after pass through the file, forever (non-empty chunks only)."""
        while True:
            count = 0
            for chunk in self._one_pass():
                if chunk.size:
                    count += chunk.size
                    yield chunk
            if not count:
                msg = f"{self.path}: has no decodable audio"
                raise MediaError(msg)
            self.pass_length = count

    def _restart(self, pass_start: int) -> None:
        """Reopen the file; its first sample becomes user-clock sample ``pass_start``."""
        self.close()
        self._chunks = self._loop()
        self._pos, self._buf = pass_start, next(self._chunks)

    def _seek(self, start: int) -> None:
        """Reopen at the pass of ``start`` when that beats decoding on from here."""
        length = self.pass_length
        if length is None:
            if start < self._pos:
                self._restart(0)
            return
        pass_start = start - start % length
        if start < self._pos or pass_start > self._pos + len(self._buf):
            self._restart(pass_start)

    def _skip_to(self, start: int) -> None:
        """Drop every sample before ``start``, decoding through them."""
        while self._pos + len(self._buf) <= start:
            self._pos += len(self._buf)
            self._buf = next(self._chunks)
        self._buf = self._buf[start - self._pos:]
        self._pos = start

    def samples(self, start: int, n: int) -> Samples:
        """Samples ``[start, start + n)`` of the looped file.

        Parameters
        ----------
        start : int
            First sample, >= 0, from the file's start (looping: the file's length in
            samples later the file starts again).
        n : int
            How many samples.

        Returns
        -------
        ndarray of float32, shape (n,)
            A new array.
        """
        _check_span(start, n)
        self._seek(start)
        self._skip_to(start)
        parts, have = [self._buf], len(self._buf)
        while have < n:
            parts.append(next(self._chunks))
            have += len(parts[-1])
        self._buf = np.concatenate(parts) if len(parts) > 1 else self._buf
        return np.array(self._buf[:n], dtype=np.float32)

    def close(self) -> None:
        """Close the file."""
        self._chunks.close()

    def __enter__(self) -> FileAudio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_audio(user: UserSpec, *, base_dir: Path | None = None) -> AudioSource:
    """The audio source of one scenario user.

    Parameters
    ----------
    user : UserSpec
        ``audio`` is ``'tone'``, ``'silence'`` or a path (relative to ``base_dir``),
        ``file://`` or ``http(s)://`` URL.
    base_dir : Path, optional
        Folder of the scenario file.

    Raises
    ------
    MediaError
        When a file is missing, unreadable or has no audio.
    """
    if user.audio == "tone":
        return ToneAudio(user.uid)
    if user.audio == "silence":
        return SilentAudio()
    return FileAudio(resolve_location(user.audio, base_dir=base_dir))


def _close_all(sources: Mapping[str, AudioSource]) -> None:
    for source in sources.values():
        source.close()


def open_audio_sources(scenario: Scenario, *,
                       base_dir: Path | None = None) -> dict[str, AudioSource]:
    """Open every host's audio source, reporting every missing or unreadable file at once.

    Audience members publish nothing and get no source.

    Raises
    ------
    ScenarioError
        With one problem per bad source, at path ``users[i].audio``.
    """
    return open_for_users(scenario, lambda user: open_audio(user, base_dir=base_dir),
                          field="audio")


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
    base_dir : Path, optional
        Folder that relative audio paths are relative to.
    sources : mapping of str to AudioSource, optional
        Ready sources by uid (default: :func:`open_audio_sources`); the mixer closes them.

    Attributes
    ----------
    channels : int
        1 or 2, from ``audioProfile``.
    bit_rate : int
        AAC bit rate in bit/s, from ``audioProfile``.
    end_sample : int
        Samples in the recording: ``ceil(end_time * 48000)``.

    Raises
    ------
    ScenarioError
        When audio files are missing or unreadable (all of them at once).
    """

    def __init__(self, scenario: Scenario, timeline: Timeline, *,
                 base_dir: Path | None = None,
                 sources: Mapping[str, AudioSource] | None = None) -> None:
        profile = scenario.start.recording_config.audio_profile
        self.channels, self.bit_rate = AUDIO_PROFILES[profile]
        self._starts, self._audible = _spans(timeline)
        self.end_sample = self._starts[-1]
        self._origins = {uid: to_sample(t) for uid, t in first_join_times(scenario).items()}
        self._sources = dict(sources) if sources is not None \
            else open_audio_sources(scenario, base_dir=base_dir)

    def _pieces(self, start: int, stop: int) -> Iterator[tuple[int, int, tuple[str, ...]]]:
        """``(first, end, audible)`` for each constant span overlapping ``[start, stop)``."""
        i = max(0, bisect_right(self._starts, start) - 1)
        while i < len(self._starts) - 1 and self._starts[i] < stop:
            lo, hi = max(start, self._starts[i]), min(stop, self._starts[i + 1])
            if lo < hi and self._audible[i]:
                yield lo, hi, self._audible[i]
            i += 1

    def mix(self, start: int, n: int) -> Samples:
        """The mixed mono signal of recording samples ``[start, start + n)``.

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
        UsageError
            For a negative ``start`` or ``n``.
        """
        _check_span(start, n)
        total = np.zeros(n, dtype=np.float64)
        for lo, hi, audible in self._pieces(start, start + n):
            for uid in audible:
                total[lo - start:hi - start] += self._sources[uid].samples(
                    lo - self._origins[uid], hi - lo)
        return np.clip(total, -1.0, 1.0).astype(np.float32)

    def close(self) -> None:
        """Close every source."""
        _close_all(self._sources)

    def __enter__(self) -> AudioMixer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- output -----------------------------------------------------------------------------------
def to_channels(mono: npt.ArrayLike, channels: int) -> Samples:
    """Planar ``(channels, n)`` float32 from a mono signal (stereo duplicates it).

    Raises
    ------
    UsageError
        For a channel count other than 1 or 2.
    """
    if channels not in _LAYOUTS:
        msg = f"channels must be 1 or 2 (got {channels})"
        raise UsageError(msg)
    row = np.asarray(mono, dtype=np.float32).reshape(1, -1)
    return np.ascontiguousarray(np.repeat(row, channels, axis=0))


def audio_frame(samples: npt.ArrayLike, *, start_sample: int, channels: int) -> av.AudioFrame:
    """A PyAV frame for the AAC encoder: fltp, 48 kHz, ``pts = start_sample``.

    Parameters
    ----------
    samples : array_like of float
        Mono ``(n,)`` (duplicated to ``channels``) or planar ``(channels, n)``.
    start_sample : int
        Index of the first sample from the start of recording (time base 1/48000).
    channels : int
        1 (mono layout) or 2 (stereo).

    Returns
    -------
    av.AudioFrame

    Raises
    ------
    UsageError
        When the array's shape does not fit ``channels``.
    """
    import av

    array = np.asarray(samples, dtype=np.float32)
    if array.ndim == 1:
        array = to_channels(array, channels)
    if array.ndim != 2 or array.shape[0] != channels or channels not in _LAYOUTS:
        msg = f"samples of shape {array.shape} do not fit {channels} channel(s)"
        raise UsageError(msg)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(array), format="fltp",
                                       layout=_LAYOUTS[channels])
    frame.sample_rate = SAMPLE_RATE
    frame.pts, frame.time_base = start_sample, Fraction(1, SAMPLE_RATE)
    return frame
