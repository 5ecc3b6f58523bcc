"""User video sources of a scenario: ``testsrc``, ``#RRGGBB`` colours and video files.

Every source answers ``frame_i420(t)``: the yuv420p (I420, shape ``(H*3//2, W)``) picture
the user publishes ``t`` seconds after they first joined.  ``testsrc`` runs at the
recording's frame rate, so the frame number in its code is the number of output frames since
the user joined.  Files are decoded lazily and looped (see :mod:`layoutkit.media.video`).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ..compose.yuv import solid_i420

from ..scenario import Scenario, UserSpec
from .container import open_for_users
from .images import resolve_location
from .video import FileVideo

__all__ = ["VideoSource", "SolidSource", "TestSource", "FileSource", "open_source",
           "open_sources"]

I420 = npt.NDArray[np.uint8]


class VideoSource(Protocol):
    """What the renderer needs of a user's video."""

    size_wh: tuple[int, int]

    def frame_i420(self, t: Fraction) -> I420:
        """The picture at ``t`` seconds of the user's own clock."""
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
        """The same picture at every time."""
        return self._frame

    def close(self) -> None:
        """Nothing to release."""


class TestSource:
    """The identifying test stream of ``uid`` at ``fps``."""

    __test__ = False  # not a pytest class

    def __init__(self, uid: str, size_wh: tuple[int, int], *, fps: int) -> None:
        self.uid = uid
        self.size_wh = size_wh
        self.fps = fps

    def frame_i420(self, t: Fraction) -> I420:
        """Frame ``floor(t * fps)`` of the test stream."""
        from .testsrc import test_frame_i420

        index = int(Fraction(t) * self.fps)
        return test_frame_i420(self.uid, index, size_wh=self.size_wh, fps=self.fps)

    def close(self) -> None:
        """Nothing to release."""


class FileSource:
    """A video file (any format FFmpeg reads), looped; rewinds when asked for an earlier time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._video = FileVideo(path)
        self.size_wh = self._video.size_wh
        self._last_t = Fraction(0)

    def frame_i420(self, t: Fraction) -> I420:
        """The frame shown at file time ``t`` (looping)."""
        if t < self._last_t:
            self._video.close()
            self._video = FileVideo(self.path)
        self._last_t = t
        return self._video.frame_at(t)

    def close(self) -> None:
        """Close the file."""
        self._video.close()


def _hex_rgb(text: str) -> tuple[int, int, int]:
    return (int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16))


def open_source(user: UserSpec, *, fps: int, base_dir: Path | None = None) -> VideoSource:
    """The video source of one scenario user.

    Raises
    ------
    MediaError
        When a file source is missing or not a readable video.
    """
    if user.source == "testsrc":
        return TestSource(user.uid, user.size_wh, fps=fps)
    if user.source.startswith("#"):
        return SolidSource(_hex_rgb(user.source), user.size_wh)
    return FileSource(Path(resolve_location(user.source, base_dir=base_dir)))


def open_sources(scenario: Scenario, *, fps: int,
                 base_dir: Path | None = None) -> dict[str, VideoSource]:
    """Open every host's video source, reporting every missing or unreadable file at once.

    Raises
    ------
    ScenarioError
        With one problem per bad source, at path ``users[i].source``.
    """
    return open_for_users(scenario, lambda user: open_source(user, fps=fps, base_dir=base_dir),
                          field="source")
