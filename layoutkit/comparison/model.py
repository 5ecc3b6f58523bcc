"""What ``compare`` finds: differences, per-region tracks and the verdict (pure data).

Every part of compare (file checks, stream checks, content checks, the report) speaks in
these frozen dataclasses; :meth:`CompareResult.to_json` is the ``--json`` document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from ..cloudfiles.parse import printable

__all__ = ["Difference", "Interval", "RegionTrack", "Evidence", "CompareResult", "VERDICTS",
           "MAX_JSON_PER_KIND", "shown", "JSON"]

#: A JSON-able value: what a difference expected and observed, the file and stream facts.
JSON: TypeAlias = "None | bool | int | float | str | Sequence[JSON] | Mapping[str, JSON]"

#: Differences of one kind in the JSON document (the rest are counted in
#: ``omitted_differences``): a playlist of 100,000 missing segments stays a few MB.
MAX_JSON_PER_KIND = 1000


def shown(value: Any) -> Any:
    r"""A JSON-able value with every string and key (and any other object, as its text)
    passed through :func:`~layoutkit.cloudfiles.parse.printable`: names from a recording
    cannot carry terminal escapes or bidi overrides into a document.

    Examples
    --------
    >>> doc = shown({"file": "a\x1b[2J.ts", "n": [1, "\u202e"]})
    >>> print(doc["file"], doc["n"][1])
    a\x1b[2J.ts \u202e
    """
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {shown(k): shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return printable(str(value))  # a path or another object: as the text it prints as

#: The three verdicts: everything matched, something differs, the recording cannot be analysed.
VERDICTS: tuple[str, ...] = ("match", "differ", "error")


def _seconds(t: float | None) -> float | None:
    return None if t is None else round(float(t), 3)


@dataclass(frozen=True)
class Difference:
    """One way the recording departs from what the rules predict.

    Parameters
    ----------
    kind : str
        A stable, machine-readable name, e.g. ``missing_segment``, ``wrong_resolution``,
        ``wrong_user``, ``wrong_state``, ``late_transition``, ``av_offset``.
    message : str
        One sentence for people, with the figures, e.g.
        ``"uid 22: last frame -> canvas colour at 9.47 s, expected 9.50 s"``.
    uid : str or None
        The user it concerns, where one does.
    t : float or None
        Scenario time in seconds (recording time minus ``offset_s``) where it starts.
    expected, observed : JSON
        JSON-able values that were expected and seen.
    region : int or None
        Index of the region (paint order) it concerns, where one does.
    file : str or None
        The recording file it concerns, where one does.
    """

    kind: str
    message: str
    uid: str | None = None
    t: float | None = None
    expected: JSON = None
    observed: JSON = None
    region: int | None = None
    file: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The difference as a JSON object (``None`` fields kept, times in seconds)."""
        return {"kind": self.kind, "uid": self.uid, "t": _seconds(self.t),
                "expected": self.expected, "observed": self.observed,
                "region": self.region, "file": self.file, "message": self.message}


@dataclass(frozen=True)
class Interval:
    """A stretch of scenario time in which one region shows one thing.

    ``who`` is a uid or None (nobody / background); ``state`` a
    :class:`~layoutkit.timeline.DisplayState` value (``"live"``, ``"last_frame"``, ...) or
    ``"empty"`` for a region that shows the canvas background without a user.
    """

    start: float
    end: float
    who: str | None
    state: str

    def to_json(self) -> dict[str, Any]:
        return {"start": _seconds(self.start), "end": _seconds(self.end), "uid": self.who,
                "state": self.state}


@dataclass(frozen=True)
class RegionTrack:
    """Expected and observed intervals of one region (for the report's timeline)."""

    region: int
    rect: tuple[int, int, int, int]
    expected: tuple[Interval, ...]
    observed: tuple[Interval, ...]

    def to_json(self) -> dict[str, Any]:
        return {"region": self.region, "rect": list(self.rect),
                "expected": [i.to_json() for i in self.expected],
                "observed": [i.to_json() for i in self.observed]}


@dataclass(frozen=True)
class Evidence:
    """The pictures behind one difference: expected and recorded frame (RGB uint8 arrays).

    ``difference`` is the index into :attr:`CompareResult.differences`. Not part of the
    JSON document; the HTML report draws them with a difference heat map.
    """

    difference: int
    t: float
    expected: npt.NDArray[np.uint8]  # (H, W, 3)
    observed: npt.NDArray[np.uint8]  # (H, W, 3)


@dataclass(frozen=True)
class CompareResult:
    """Everything compare found.

    Parameters
    ----------
    verdict : {'match', 'differ', 'error'}
    offset_s : float or None
        Recording time of the scenario's t = 0 (None when it could not be found).
    differences : tuple of Difference
    files : dict
        File facts (playlist, segments, MP4s, names), JSON-able.
    streams : dict
        Stream facts (codecs, size, fps, bitrates, sample rate, channels, duration).
    tracks : tuple of RegionTrack
        Per-region expected vs observed states.
    infer : dict or None
        With ``--infer``: profile key -> the value the recording agrees with, or
        ``"undetermined"``.
    evidence : tuple of Evidence
        Frames for the report.
    error : str or None
        Why the recording could not be analysed (verdict ``error``).
    """

    verdict: str
    offset_s: float | None = None
    differences: tuple[Difference, ...] = ()
    files: dict[str, JSON] = field(default_factory=dict)
    streams: dict[str, JSON] = field(default_factory=dict)
    tracks: tuple[RegionTrack, ...] = ()
    infer: dict[str, str] | None = None
    evidence: tuple[Evidence, ...] = ()
    error: str | None = None

    @property
    def matches(self) -> bool:
        """True when the verdict is ``match``."""
        return self.verdict == "match"

    def to_json(self) -> dict[str, Any]:
        """The ``compare --json`` document.

        Every text is :func:`shown` (control and bidi characters escaped); at most
        :data:`MAX_JSON_PER_KIND` differences of each kind are listed, the others counted
        by kind in ``omitted_differences`` (present only when something was left out).
        """
        seen: Counter[str] = Counter()
        kept = []
        for d in self.differences:
            seen[d.kind] += 1
            if seen[d.kind] <= MAX_JSON_PER_KIND:
                kept.append(d.to_json())
        doc: dict[str, Any] = {
            "verdict": self.verdict,
            "offset_s": _seconds(self.offset_s),
            "differences": kept,
            "files": self.files,
            "streams": self.streams,
            "regions": [t.to_json() for t in self.tracks],
        }
        omitted = {k: n - MAX_JSON_PER_KIND for k, n in seen.items() if n > MAX_JSON_PER_KIND}
        if omitted:
            doc["omitted_differences"] = omitted
        if self.infer is not None:
            doc["infer"] = dict(self.infer)
        if self.error is not None:
            doc["error"] = self.error
        return shown(doc)
