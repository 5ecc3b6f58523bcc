"""Scenario users -> their video and audio sources (signals and files, opened here).

Video: ``testsrc``, ``#RRGGBB`` colours, ``unknown`` (a real person whose picture is not
known: :class:`PlaceholderSource`) and video files.  Every source answers
``frame_i420(t)``: the yuv420p (I420, shape ``(H*3//2, W)``) picture the user publishes
``t`` seconds after they first joined.  ``testsrc`` runs at the recording's frame rate, so
the frame number in its code is the number of output frames since the user joined.  Files
are decoded lazily and looped (see :mod:`layoutkit.io.decode`).

Audio: ``tone`` (the per-uid test tone), ``silence``, ``unknown`` (mixed as silence) or a
file, mono 48 kHz on the user's own clock (see :mod:`layoutkit.signals.audio`).

Relative file paths resolve against the scenario's folder (:attr:`Scenario.base_dir`).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Literal, Protocol, TypeVar

import numpy as np

from ._typing import I420, Samples
from .cloudfiles.constants import SAMPLE_RATE
from .compose.yuv import solid_i420
from .errors import MediaError, Problem, ScenarioError
from .io.decode import DecodeWorkers, FileAudio, FileVideo, usable_cores
from .io.memory import trim_heap
from .io.images import resolve_location
from .scenario import UNKNOWN, Scenario, UserSpec
from .signals.audio import AudioSource, check_span
from .signals.idstream import idstream_frame_i420
from .signals.tone import tone

__all__ = [
    "FileSource",
    "IdStreamSource",
    "PlaceholderSource",
    "SilentAudio",
    "SolidSource",
    "ToneAudio",
    "VideoSource",
    "check_sources",
    "decoder_threads",
    "is_file_source",
    "media_problem",
    "open_audio",
    "open_audio_sources",
    "open_for_users",
    "open_source",
    "open_sources",
    "source_problems",
]

T = TypeVar("T")


class VideoSource(Protocol):
    """What the renderer needs of a user's video."""

    size_wh: tuple[int, int]

    def frame_i420(self, t: Fraction) -> I420:
        """Return the picture at ``t`` seconds of the user's own clock."""
        ...  # pragma: no cover

    def close(self) -> None:
        """Release files and decoders."""
        ...  # pragma: no cover


class SolidSource:
    """A picture of one colour (``#RRGGBB``)."""

    def __init__(self, rgb: tuple[int, int, int], size_wh: tuple[int, int]) -> None:
        self.size_wh = size_wh
        self._frame = solid_i420(size_wh, rgb)

    def frame_i420(self, t: Fraction) -> I420:
        """Return the same picture at every time."""
        return self._frame

    def close(self) -> None:
        """Nothing to release."""


class PlaceholderSource:
    """The picture of a user whose video is not known: grey diagonal stripes.

    That is ``source: "unknown"``, e.g. a real person in a scenario rebuilt from Agora's
    notifications; the picture is the same in every frame.

    It claims nothing about the person: no test code (compare reads none from it), no colour a
    layout rule gives meaning to (black, a background), no motion.

    Examples
    --------
    >>> frame = PlaceholderSource((64, 36)).frame_i420(Fraction(0))
    >>> frame.shape, sorted(set(frame[:36].ravel().tolist())), set(frame[36:].ravel().tolist())
    ((54, 64), [112, 144], {128})
    """

    #: Luma of the two stripes and the width of one stripe in pixels.
    LEVELS = (112, 144)
    STRIPE = 16

    def __init__(self, size_wh: tuple[int, int]) -> None:
        self.size_wh = size_wh
        w, h = size_wh
        rows, cols = np.indices((h, w))
        stripes = ((rows + cols) // self.STRIPE) % 2
        frame = np.full((h * 3 // 2, w), 128, dtype=np.uint8)
        frame[:h] = np.where(stripes == 0, self.LEVELS[0], self.LEVELS[1])
        self._frame = frame

    def frame_i420(self, t: Fraction) -> I420:
        """Return the same picture at every time."""
        return self._frame

    def close(self) -> None:
        """Nothing to release."""


class IdStreamSource:
    """The identifying test stream of ``uid`` at ``fps``.

    ``flash=False`` draws it without the once-a-second white flash, for previews.
    """

    def __init__(self, uid: str, size_wh: tuple[int, int], *, fps: int,
                 flash: bool = True) -> None:
        self.uid = uid
        self.size_wh = size_wh
        self.fps = fps
        self.flash = flash

    def frame_i420(self, t: Fraction) -> I420:
        """Frame ``floor(t * fps)`` of the test stream."""
        index = int(Fraction(t) * self.fps)
        return idstream_frame_i420(self.uid, index, size_wh=self.size_wh, fps=self.fps,
                               flash=self.flash)

    def close(self) -> None:
        """Nothing to release."""


class FileSource:
    """A video file (any format FFmpeg reads), looped; rewinds when asked for an earlier time.

    ``location`` is a local path or an ``http(s)://`` URL; ``label`` names it in warnings
    (``users[i].source (...)``); ``threads`` caps its decoder's frame threads
    (:func:`~layoutkit.io.decode.set_decoder_threads`).
    """

    def __init__(self, location: str | Path, *, label: str | None = None,
                 threads: int | None = None) -> None:
        self.path = location
        self.label = label
        self.threads = threads
        self._video: FileVideo | None = FileVideo(location, label=label, threads=threads)
        self._workers: DecodeWorkers | None = None
        self.size_wh = self._video.size_wh
        self._last_t = Fraction(0)
        self._warned = False  # damaged packets are warned about once per source

    def _close_video(self) -> None:
        assert self._video is not None
        if self._warned:
            self._video.damaged = []
        self._warned = self._warned or bool(self._video.damaged)
        self._video.close()

    def read_ahead(self, workers: DecodeWorkers) -> None:
        """Decode the next frames in ``workers`` while the caller draws, from now on.

        Also after a reopening (:meth:`park`, an earlier time); the pictures are the same as
        without (:meth:`FileVideo.read_ahead <layoutkit.io.decode.FileVideo.read_ahead>`).
        """
        self._workers = workers
        if self._video is not None:
            self._video.read_ahead(workers)

    def park(self) -> None:
        """Close the decoder while the source is not drawn; the next frame reopens it.

        A reopened file is decoded from its start up to the time asked, as when a source
        that was not drawn for a while is drawn again.
        """
        if self._video is not None:
            self._close_video()
            self._video = None
            self._last_t = Fraction(0)
            trim_heap()

    def frame_i420(self, t: Fraction, *, halvings: int = 0) -> I420:
        """Return the frame shown at file time ``t`` (looping), halved ``halvings`` times.

        The halving is done right after decoding (:meth:`FileVideo.frame_i420
        <layoutkit.io.decode.FileVideo.frame_i420>`): the size is the array's, :attr:`size_wh`
        divided by a power of 2.
        """
        if self._video is None or t < self._last_t:
            if self._video is not None:
                self._close_video()
            self._video = FileVideo(self.path, label=self.label, threads=self.threads)
            if self._workers is not None:
                self._video.read_ahead(self._workers)
        self._last_t = t
        return self._video.frame_i420(t, halvings=halvings)

    def close(self) -> None:
        """Close the file."""
        if self._video is not None:
            self._close_video()


def _hex_rgb(text: str) -> tuple[int, int, int]:
    return (int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16))


def open_source(user: UserSpec, *, fps: int, base_dir: Path | None = None,
                label: str | None = None, flash: bool = True,
                threads: int | None = None) -> VideoSource:
    """Open the video source of one scenario user.

    ``label`` names a file source in warnings, ``threads`` caps its decoder threads.

    Raises
    ------
    MediaError
        When a file source is missing or not a readable video.
    """
    if user.source == "testsrc":
        return IdStreamSource(user.uid, user.size_wh, fps=fps, flash=flash)
    if user.source.startswith("#"):
        return SolidSource(_hex_rgb(user.source), user.size_wh)
    if user.source == UNKNOWN:
        return PlaceholderSource(user.size_wh)
    return FileSource(resolve_location(user.source, base_dir=base_dir),
                      label=label or user.source, threads=threads)


def is_file_source(user: UserSpec) -> bool:
    """Tell whether ``user``'s video is a file (decoded), not a signal.

    Signals are ``testsrc``, a colour and ``unknown``.

    Examples
    --------
    >>> from layoutkit.scenario import UserSpec
    >>> [is_file_source(UserSpec(uid="1", source=s)) for s in ("testsrc", "#FF0000", "a.mp4")]
    [False, False, True]
    """
    return not (user.source in ("testsrc", UNKNOWN) or user.source.startswith("#"))


def decoder_threads(files: int, *, cores: int | None = None) -> int:
    """Share the cores out among ``files`` decoders open at once: frame threads of each.

    At least one each.

    Each frame thread holds its own decoded pictures (a 1080p H.264 decoder holds about
    9 MiB on one thread and 22 MiB on three), so the decoders of a recording share the
    cores instead of each taking all of them: memory then grows with the cores, not with
    cores times users.

    Examples
    --------
    >>> decoder_threads(1, cores=8), decoder_threads(3, cores=8), decoder_threads(17, cores=2)
    (8, 2, 1)
    """
    available = usable_cores() if cores is None else cores
    return max(1, available // max(1, files))


def open_sources(scenario: Scenario, *, fps: int,
                 flash: bool = True) -> dict[str, VideoSource]:
    """Open every host's video source, reporting every missing or unreadable file at once.

    Relative paths resolve against :attr:`Scenario.base_dir`.

    Raises
    ------
    ScenarioError
        With one problem per bad source, at path ``users[i].source``.
    """
    index = {user.uid: i for i, user in enumerate(scenario.users)}
    threads = decoder_threads(sum(1 for user in scenario.users
                                  if user.role != "audience" and is_file_source(user)))

    def one(user: UserSpec) -> VideoSource:
        return open_source(user, fps=fps, base_dir=scenario.base_dir,
                           label=f"users[{index[user.uid]}].source ({user.source})",
                           flash=flash, threads=threads)

    return open_for_users(scenario, one, field="source")


# --- audio -------------------------------------------------------------------------------
class ToneAudio:
    """The test tone of ``uid`` (:func:`~layoutkit.signals.tone.tone`): sample-exact."""

    def __init__(self, uid: str) -> None:
        self.uid = uid

    def samples(self, start: int, n: int) -> Samples:
        """Return samples ``[start, start + n)`` of the tone (any order of requests)."""
        check_span(start, n)
        return tone(self.uid, start, n, sample_rate=SAMPLE_RATE)

    def close(self) -> None:
        """Nothing to release."""


class SilentAudio:
    """A user who publishes silence."""

    def samples(self, start: int, n: int) -> Samples:
        """``n`` zeros."""
        check_span(start, n)
        return np.zeros(n, dtype=np.float32)

    def close(self) -> None:
        """Nothing to release."""


def open_audio(user: UserSpec, *, base_dir: Path | None = None) -> AudioSource:
    """Open the audio source of one scenario user.

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
    if user.audio in ("silence", UNKNOWN):  # a sound not known is not invented
        return SilentAudio()
    return FileAudio(resolve_location(user.audio, base_dir=base_dir))


def open_audio_sources(scenario: Scenario) -> dict[str, AudioSource]:
    """Open every host's audio source, reporting every missing or unreadable file at once.

    Audience members publish nothing and get no source.

    Raises
    ------
    ScenarioError
        With one problem per bad source, at path ``users[i].audio``.
    """
    return open_for_users(scenario, lambda user: open_audio(user, base_dir=scenario.base_dir),
                          field="audio")


def media_problem(index: int, field: str, value: str, exc: MediaError, *,
                  base_dir: Path | None, severity: str = "error", rule_suffix: str = "") -> Problem:
    """Return the problem of user ``index``'s ``field`` file that could not be opened.

    It names the user's key, the file as written and where it resolved to, then the rule
    (the :class:`MediaError` without the path in front), e.g.
    ``users[0].source (clip.mp4 -> /abs/clip.mp4): no such video file``.

    Examples
    --------
    >>> p = media_problem(0, "source", "clip.mp4",
    ...                   MediaError("/abs/clip.mp4: no such video file"), base_dir=Path("/abs"))
    >>> str(p)
    'code 2: users[0].source (clip.mp4 -> /abs/clip.mp4): no such video file'
    """
    resolved = resolve_location(value, base_dir=base_dir)
    where = value if resolved == value else f"{value} -> {resolved}"
    rule = str(exc)
    rule = rule[len(resolved) + 2:] if rule.startswith(f"{resolved}: ") else rule
    return Problem(f"users[{index}].{field} ({where})", rule + rule_suffix, severity=severity)


def _open_each(scenario: Scenario, open_one: Callable[[UserSpec], T], *,
               field: Literal["source", "audio"]) -> tuple[dict[str, T], list[Problem]]:
    """Every host's media opened, and a problem for each one that could not be."""
    opened: dict[str, T] = {}
    problems: list[Problem] = []
    for i, user in enumerate(scenario.users):
        if user.role == "audience":
            continue
        try:
            opened[user.uid] = open_one(user)
        except MediaError as exc:
            problems.append(media_problem(i, field, getattr(user, field), exc,
                                          base_dir=scenario.base_dir))
    return opened, problems


def _close_all(opened: dict[str, T]) -> None:
    for item in opened.values():
        item.close()  # type: ignore[attr-defined]


def source_problems(scenario: Scenario) -> list[Problem]:
    """Open and close again every host's file a recording of ``scenario`` reads; list problems.

    There is one problem per video or audio file that is missing or cannot be used.

    Only what the recording reads is opened: video sources when ``streamTypes`` records
    video, audio files when it records audio.  ``validate`` and ``mix`` both ask this, so
    a scenario ``validate`` accepts is one ``mix`` does not refuse for its files.
    """
    config = scenario.start.recording_config
    problems: list[Problem] = []
    if config.records_video():  # one decoder at a time, on one thread: the first frame only
        fps = scenario.start.transcoding.fps
        problems += _open_each(scenario, lambda user: _closed(open_source(
            user, fps=fps, base_dir=scenario.base_dir, threads=1)), field="source")[1]
    if config.records_audio():
        problems += _open_each(scenario, lambda user: _closed(open_audio(
            user, base_dir=scenario.base_dir)), field="audio")[1]
    return problems


def _closed(media: VideoSource | AudioSource) -> None:
    """Close what was opened only to see that it opens."""
    media.close()


def check_sources(scenario: Scenario) -> None:
    """Refuse a scenario whose recording would fail for a source file, naming every one.

    Raises
    ------
    ScenarioError
        With the problems of :func:`source_problems`.
    """
    problems = source_problems(scenario)
    if problems:
        raise ScenarioError(problems)


def open_for_users(scenario: Scenario, open_one: Callable[[UserSpec], T], *,
                   field: Literal["source", "audio"]) -> dict[str, T]:
    """Open one media object per host, reporting every failure at once.

    Parameters
    ----------
    scenario : Scenario
        Its hosts are opened in order (audience members publish nothing).
    open_one : callable
        Opens one user's media; raises :class:`MediaError` when it cannot.
    field : {'source', 'audio'}
        The user key the media comes from (for the problem paths ``users[i].<field>``).

    Raises
    ------
    ScenarioError
        One problem per user whose media could not be opened (:func:`media_problem`);
        whatever was opened is closed.
    """
    opened, problems = _open_each(scenario, open_one, field=field)
    if problems:
        _close_all(opened)
        raise ScenarioError(problems)
    return opened
