"""What ``compare`` finds: differences, per-region tracks and the verdict (pure data).

Every part of compare (file checks, stream checks, content checks, the report) speaks in
these frozen dataclasses; :meth:`CompareResult.to_json` is the ``--json`` document.

Every difference kind has one category (:data:`KIND_CATEGORY`, the one home of that rule):
``files`` (:data:`FILE_KINDS`), ``streams`` (:data:`STREAM_KINDS`) or ``content``
(:data:`CONTENT_KINDS`); :attr:`Difference.category` reads it from there.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from ..cloudfiles.parse import printable
from ..timeline import DisplayState

if TYPE_CHECKING:
    from .events import EventFit

__all__ = [
    "CATEGORIES",
    "CONTENT_KINDS",
    "FILE_KINDS",
    "JSON",
    "KIND_CATEGORY",
    "MAX_JSON_PER_KIND",
    "STREAM_KINDS",
    "VERDICTS",
    "CompareResult",
    "Difference",
    "Evidence",
    "Interval",
    "NoUser",
    "RegionState",
    "RegionTrack",
    "category_counts",
    "category_of",
    "shown",
]

#: A JSON-able value: what a difference expected and observed, the file and stream facts.
JSON: TypeAlias = "bool | int | float | str | Sequence[JSON] | Mapping[str, JSON] | None"

class NoUser(enum.StrEnum):
    """What compare finds in a region besides a user's :class:`~layoutkit.timeline.DisplayState`.

    A region's state in compare is a :data:`RegionState`: the timeline's display state of its
    user, or one of these (its uid None).  The values are the JSON document's strings.
    """

    #: A layout region no user fills: the canvas shows.
    EMPTY = "empty"
    #: An observed picture that is none of the expected looks.
    UNKNOWN = "unknown"


#: A region's state in compare (labels, intervals, runs): a :class:`DisplayState` or
#: :class:`NoUser`; both are ``str`` enums, so the JSON document holds their values.
RegionState: TypeAlias = DisplayState | NoUser

#: Differences of one kind in the JSON document (the rest are counted in
#: ``omitted_differences``): a playlist of 100,000 missing segments stays a few MB.
MAX_JSON_PER_KIND = 1000


def shown(value: Any) -> Any:
    r"""Escape every text of a JSON-able value with :func:`~layoutkit.cloudfiles.parse.printable`.

    Every string and key (and any other object, as its text) is passed through it, so names
    from a recording cannot carry terminal escapes or bidi overrides into a document.

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

#: What a difference is about, in the order compare checks them: ``files`` (names, playlist
#: tags, segments, MP4 parts, the stop response), ``streams`` (codecs, size, fps, bit rates,
#: audio format, duration) and ``content`` (pictures and sound).
CATEGORIES: tuple[str, ...] = ("files", "streams", "content")

#: Difference kinds of the file checks (:mod:`~layoutkit.comparison.files`, which reports the
#: refusals of :mod:`~layoutkit.comparison.read` too).
FILE_KINDS: tuple[str, ...] = (
    "bad_name", "name_mismatch", "name_time", "missing_tag", "track_events",
    "missing_endlist", "target_duration", "segment_length", "missing_segment",
    "unlisted_segment", "truncated_segment", "undecodable_segment", "extinf_mismatch",
    "missing_mp4", "unexpected_mp4", "mp4_index", "undecodable_mp4", "file_list",
    "no_playlist", "empty_playlist", "mp4_rollover",
    "outside_uri", "bad_uri", "outside_link", "special_file", "repeated_segment",
    "not_mpegts",
)
#: Difference kinds of the stream checks (:mod:`~layoutkit.comparison.streams`).
STREAM_KINDS: tuple[str, ...] = (
    "missing_stream", "unexpected_stream", "wrong_codec", "wrong_resolution", "wrong_fps",
    "video_bitrate", "audio_sample_rate", "audio_channels", "audio_bitrate", "duration",
    "unreadable_media",
)
#: Difference kinds of the content checks (:mod:`~layoutkit.comparison.content`): pictures
#: (who is shown where, in which state, when), frame timing and A/V sync.
CONTENT_KINDS: tuple[str, ...] = (
    "wrong_user", "missing_user", "extra_user", "wrong_state", "wrong_background",
    "late_transition", "early_transition", "wrong_layout", "dropped_frames", "drift",
    "av_offset", "no_beep", "event_time", "unreadable_codes", "wrong_render_mode",
    "canvas_only",  # a warning (CompareResult.warnings), never a difference
)
#: The category of every difference kind compare reports: the one home of that rule.
KIND_CATEGORY: dict[str, str] = {
    **{kind: "files" for kind in FILE_KINDS},
    **{kind: "streams" for kind in STREAM_KINDS},
    **{kind: "content" for kind in CONTENT_KINDS},
}


def category_of(kind: str) -> str:
    """Return the category (one of :data:`CATEGORIES`) of a difference kind.

    A kind not in :data:`KIND_CATEGORY` (none that compare reports; the test suite checks
    every kind each module can emit) is ``content``: what the pictures and sound show.

    Examples
    --------
    >>> category_of("bad_name"), category_of("wrong_fps"), category_of("wrong_user")
    ('files', 'streams', 'content')
    """
    return KIND_CATEGORY.get(kind, "content")


def category_counts(differences: Iterable[Difference]) -> dict[str, int]:
    """Differences per category, every category listed (in :data:`CATEGORIES` order).

    Examples
    --------
    >>> category_counts([Difference("bad_name", "x"), Difference("drift", "y")])
    {'files': 1, 'streams': 0, 'content': 1}
    """
    seen = Counter(d.category for d in differences)
    return {c: seen[c] for c in CATEGORIES}


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

    @property
    def category(self) -> str:
        """What the difference is about: ``files``, ``streams`` or ``content``.

        It follows from the kind (:func:`category_of`).
        """
        return category_of(self.kind)

    def to_json(self) -> dict[str, Any]:
        """Return the difference as a JSON object (``None`` fields kept, times in seconds)."""
        return {"kind": self.kind, "category": self.category, "uid": self.uid,
                "t": _seconds(self.t),
                "expected": self.expected, "observed": self.observed,
                "region": self.region, "file": self.file, "message": self.message}


@dataclass(frozen=True)
class Interval:
    """A stretch of scenario time in which one region shows one thing.

    ``who`` is a uid or None (nobody / background); ``state`` a
    :class:`~layoutkit.timeline.DisplayState` (``"live"``, ``"last_frame"``, ...) or
    :attr:`NoUser.EMPTY` for a region that shows the canvas background without a user.
    """

    start: float
    end: float
    who: str | None
    state: RegionState

    def to_json(self) -> dict[str, Any]:
        """Return the interval as a JSON object (times in seconds, ``who`` as ``uid``)."""
        return {"start": _seconds(self.start), "end": _seconds(self.end), "uid": self.who,
                "state": str(self.state)}


@dataclass(frozen=True)
class RegionTrack:
    """Expected and observed intervals of one region (for the report's timeline)."""

    region: int
    rect: tuple[int, int, int, int]
    expected: tuple[Interval, ...]
    observed: tuple[Interval, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the track as a JSON object (its intervals as :meth:`Interval.to_json`)."""
        return {"region": self.region, "rect": list(self.rect),
                "expected": [i.to_json() for i in self.expected],
                "observed": [i.to_json() for i in self.observed]}


@dataclass(frozen=True)
class Evidence:
    """The pictures behind one difference: expected and recorded frame (RGB uint8 arrays).

    ``difference`` is the index into :attr:`CompareResult.differences`. Not part of the
    JSON document; the HTML report draws them with a difference heat map.  ``t`` is the
    scenario time of the frames shown; ``rect`` the difference's region on the canvas
    (``(x, y, w, h)`` px, None: the whole canvas), which the report marks;
    ``moved_off_flash``: the frame the difference was seen on showed a test stream's
    whole-second flash, so the nearest frame without one is shown.
    """

    difference: int
    t: float
    expected: npt.NDArray[np.uint8]  # (H, W, 3)
    observed: npt.NDArray[np.uint8]  # (H, W, 3)
    rect: tuple[int, int, int, int] | None = None
    moved_off_flash: bool = False


def _capped(differences: Iterable[Difference]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Keep the JSON objects of at most :data:`MAX_JSON_PER_KIND` differences of each kind.

    Also returns how many of each kind were left out.
    """
    seen: Counter[str] = Counter()
    kept = []
    for d in differences:
        seen[d.kind] += 1
        if seen[d.kind] <= MAX_JSON_PER_KIND:
            kept.append(d.to_json())
    return kept, {k: n - MAX_JSON_PER_KIND for k, n in seen.items() if n > MAX_JSON_PER_KIND}


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
    judged : tuple of str
        The categories (:data:`CATEGORIES`) the verdict stands on: all three, or
        ``streams`` and ``content`` for a re-packaged download (``content_only``) or a
        single file given by path.
    not_judged : tuple of Difference
        What the file checks found when ``files`` is not judged (shown, never counted).
    alignment : dict or None
        How ``offset_s`` was found (``method``: ``codes``, ``clock`` or ``pictures``), its
        ``confidence`` and the measures behind it (:meth:`.align.Alignment.to_json`);
        None when the pictures were not analysed.
    events : tuple of EventFit
        Each picture event of the scenario with the time fitted inside its window
        (:mod:`~layoutkit.comparison.events`); ``events`` in the JSON document.
    warnings : tuple of Difference
        What compare cannot decide from the recording and does not count in the verdict
        (e.g. ``canvas_only``: real people's regions show only the canvas and nothing says
        whether the recorder received video); ``warnings`` in the JSON document.
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
    judged: tuple[str, ...] = CATEGORIES
    not_judged: tuple[Difference, ...] = ()
    alignment: dict[str, Any] | None = None
    events: tuple[EventFit, ...] = ()
    warnings: tuple[Difference, ...] = ()

    @property
    def matches(self) -> bool:
        """True when the verdict is ``match``."""
        return self.verdict == "match"

    def counts(self) -> dict[str, int]:
        """Count the differences per judged category.

        E.g. ``{"files": 2, "streams": 0, "content": 1}``; a category not judged is left out.
        """
        return {c: n for c, n in category_counts(self.differences).items()
                if c in self.judged}

    def to_json(self) -> dict[str, Any]:
        """Return the ``compare --json`` document.

        Every text is :func:`shown` (control and bidi characters escaped); at most
        :data:`MAX_JSON_PER_KIND` differences of each kind are listed, the others counted
        by kind in ``omitted_differences`` (present only when something was left out).
        ``categories`` counts the differences per judged category; when ``files`` is not
        judged, ``not_judged`` lists what the file checks found (capped the same way).
        """
        kept, omitted = _capped(self.differences)
        doc: dict[str, Any] = {
            "verdict": self.verdict,
            "offset_s": _seconds(self.offset_s),
            "categories": self.counts(),
            "judged": list(self.judged),
            "differences": kept,
            "files": self.files,
            "streams": self.streams,
            "regions": [t.to_json() for t in self.tracks],
            "events": [e.to_json() for e in self.events],
        }
        if omitted:
            doc["omitted_differences"] = omitted
        if self.warnings:
            doc["warnings"] = [d.to_json() for d in self.warnings]
        if self.not_judged:
            doc["not_judged"], left = _capped(self.not_judged)
            if left:
                doc["omitted_not_judged"] = left
        if self.alignment is not None:
            doc["alignment"] = self.alignment
        if self.infer is not None:
            doc["infer"] = dict(self.infer)
        if self.error is not None:
            doc["error"] = self.error
        escaped: dict[str, Any] = shown(doc)  # shown() gives a dict back for a dict
        return escaped
