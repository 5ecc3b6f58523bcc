"""What the check stages hand to the evidence stage: a difference and where it was seen.

Every check (runs, layout, background, timing, A/V) returns :class:`Finding` items; the
evidence stage decodes the frames behind the longest anchored ones again.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Difference

__all__ = ["Anchor", "Finding", "differences_of"]


@dataclass(frozen=True)
class Anchor:
    """Where a difference is seen.

    A representative frame (index into the observations) and the scenario times it spans
    (the longest get evidence first).
    """

    frame: int
    t0: float
    t1: float

    @property
    def length(self) -> float:
        """Seconds spanned.

        >>> Anchor(3, 1.0, 2.5).length
        1.5
        """
        return self.t1 - self.t0


@dataclass(frozen=True)
class Finding:
    """A difference, and where it was seen (None: nothing to show, e.g. an A/V offset)."""

    difference: Difference
    anchor: Anchor | None = None


def differences_of(findings: tuple[Finding, ...]) -> tuple[Difference, ...]:
    """Return the findings' differences, in order.

    >>> differences_of((Finding(Difference("drift", "x")),))[0].kind
    'drift'
    """
    return tuple(f.difference for f in findings)
