"""The request's enumerated values as ``IntEnum`` s: layout modes and render modes.

They compare equal to the integers the cloud's JSON uses, so a model field holding ``1`` and
``LayoutMode.BESTFIT`` are interchangeable; their lower-case names are the CLI's words.

Examples
--------
>>> LayoutMode.BESTFIT == 1, LayoutMode(3).label, RenderMode.FIT.label
(True, 'custom', 'fit')
>>> LayoutMode.from_label("vertical")
<LayoutMode.VERTICAL: 2>
"""

from __future__ import annotations

import enum
from typing import TypeVar

__all__ = ["LayoutMode", "RenderMode"]

_E = TypeVar("_E", bound="_Labelled")


class _Labelled(enum.IntEnum):
    @property
    def label(self) -> str:
        """The lower-case name (``bestfit``, ``fit``): the command line's word."""
        return self.name.lower()

    @classmethod
    def from_label(cls: type[_E], label: str) -> _E:
        """Return the member named ``label`` (case-insensitive).

        Raises
        ------
        KeyError
            For an unknown name.
        """
        return cls[label.upper()]

    @classmethod
    def labels(cls) -> tuple[str, ...]:
        """Every member's label, in value order."""
        return tuple(m.label for m in cls)


class LayoutMode(_Labelled):
    """``mixedVideoLayout``: 0 floating, 1 best fit, 2 vertical, 3 custom (``layoutConfig``)."""

    FLOATING = 0
    BESTFIT = 1
    VERTICAL = 2
    CUSTOM = 3


class RenderMode(_Labelled):
    """``render_mode`` of a region or user image: 0 crop (cover), 1 fit (contain, black bars)."""

    CROP = 0
    FIT = 1
