"""What a region shows (pure data): a source picture, one colour, or the canvas background."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["BLACK", "CANVAS", "CanvasBackground", "Content", "Picture", "Solid"]


@dataclass(frozen=True)
class Picture:
    """A source picture, looked up by ``key`` in the ``pictures`` mapping of each frame.

    Attributes
    ----------
    key : hashable
        Name of the I420 buffer in ``pictures`` (e.g. the uid, or an image path).
    src_wh : tuple of int
        Size ``(W, H)`` of that buffer's picture (even; the buffer has shape
        ``(H * 3 // 2, W)``).
    render_mode : {0, 1} or None
        0 crop, 1 fit; None uses the region's render mode.  User background images
        (``backgroundConfig``) carry their own mode here.
    """

    key: Hashable
    src_wh: tuple[int, int]
    render_mode: int | None = None


@dataclass(frozen=True)
class Solid:
    """The region is one colour (e.g. black for a Web SDK 3.x user who muted video)."""

    rgb: tuple[int, int, int]


@dataclass(frozen=True)
class CanvasBackground:
    """The region shows the canvas background (colour or image) that lies under it."""


#: Region content; None draws nothing (the region is transparent: what is below shows).
Content = Picture | Solid | CanvasBackground | None

#: A black region.
BLACK = Solid((0, 0, 0))
#: A region showing the canvas background.
CANVAS = CanvasBackground()
