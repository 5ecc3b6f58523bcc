""""Did you mean" hints for misspelt or wrong-case keys."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """Return ``"did you mean 'x'?"`` for the closest candidate, or None.

    A candidate that differs only in letter case always wins.
    """
    options = list(candidates)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return f"did you mean {lowered[word.lower()]!r}?"
    folded = {c.lower().replace("_", ""): c for c in options}
    if word.lower().replace("_", "") in folded:
        return f"did you mean {folded[word.lower().replace('_', '')]!r}?"
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.75)
    if close:
        return f"did you mean {lowered[close[0]]!r}?"
    return None
