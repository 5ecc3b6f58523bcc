"""Behaviour profile: the choices of contract section 2 where the sources disagree."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from .errors import ParameterError

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILE_CHOICES",
    "PROFILE_MEANINGS",
    "Profile",
    "parse_profile_options",
]

PROFILE_CHOICES: dict[str, tuple[str, ...]] = {
    "vertical_column_order": ("figure", "sample"),
    "vertical_without_large": ("background", "sample"),
    "floating_render": ("crop", "fit"),
    "vertical_render": ("docs", "fit"),
    "after_stop": ("background", "last_frame"),
    "tag_time": ("date17", "epoch_ms"),
    "mp4_rollover": ("2h", "3h"),
}

#: For each key: the open question, then what each value means (the first value is the
#: default, the current Agora documentation's).
PROFILE_MEANINGS: dict[str, tuple[str, dict[str, str]]] = {
    "vertical_column_order": (
        "vertical layout with 10-17 users: which small column fills first?",
        {"figure": "smalls 1-8 in the outer column (x = 0.9), 9-16 in the inner (x = 0.8), "
                   "as the docs' figure shows",
         "sample": "smalls 1-8 in the inner column (x = 0.8), 9-16 in the outer, as the "
                   "docs' sample coordinates say"}),
    "vertical_without_large": (
        "vertical layout without (or with an absent) maxResolutionUid: what fills the "
        "large area?",
        {"background": "the canvas background; the small tier comes from the user count",
         "sample": "the tier escalates with the number of small users"}),
    "floating_render": (
        "floating layout: are the regions cropped or fitted?",
        {"crop": "every region crops its picture to cover it",
         "fit": "every region fits its picture inside, with black bars"}),
    "vertical_render": (
        "vertical layout: render modes of the large and the small regions",
        {"docs": "the large region fits, the small ones crop",
         "fit": "every region fits"}),
    "after_stop": (
        "3.5 s after a user stops video, with no user image: what does the region show?",
        {"background": "the canvas background (image, else colour), as the seed's table says",
         "last_frame": "the last frame stays (one current doc page)"}),
    "tag_time": (
        "TIME of EXT-X-AGORA-* tags and TS file names",
        {"date17": "17-digit UTC yyyyMMddHHmmssSSS",
         "epoch_ms": "13-digit epoch milliseconds (seen in real recordings)"}),
    "mp4_rollover": (
        "after how long does a new MP4 file start?",
        {"2h": "after 2 hours (or 2 GB)", "3h": "after 3 hours (or 2 GB)"}),
}


@dataclass(frozen=True)
class Profile:
    """One named value for every behaviour the sources leave open.

    The defaults follow the current Agora documentation (contract section 2).

    Parameters
    ----------
    vertical_column_order : {'figure', 'sample'}
        Vertical layout with 10-17 users: ``figure`` puts smalls 1-8 in the outer column
        (x = 0.9) and 9-16 in the inner one (x = 0.8); ``sample`` the other way round.
    vertical_without_large : {'background', 'sample'}
        Vertical layout when ``maxResolutionUid`` is absent or not displayed: ``background``
        keeps the large area empty and picks the tier from the user count (users beyond the
        tier's slots are not drawn); ``sample`` escalates the tier with the number of smalls.
    floating_render : {'crop', 'fit'}
        Render mode of every floating region.
    vertical_render : {'docs', 'fit'}
        ``docs``: large region fit, small regions crop; ``fit``: all fit.
    after_stop : {'background', 'last_frame'}
        What a region shows 3.5 s after its user stopped video when no user image is set.
    tag_time : {'date17', 'epoch_ms'}
        TIME format of ``EXT-X-AGORA-*`` tags and TS names.
    mp4_rollover : {'2h', '3h'}
        Duration after which a new MP4 file starts.
    """

    vertical_column_order: Literal["figure", "sample"] = "figure"
    vertical_without_large: Literal["background", "sample"] = "background"
    floating_render: Literal["crop", "fit"] = "crop"
    vertical_render: Literal["docs", "fit"] = "docs"
    after_stop: Literal["background", "last_frame"] = "background"
    tag_time: Literal["date17", "epoch_ms"] = "date17"
    mp4_rollover: Literal["2h", "3h"] = "2h"

    def __post_init__(self) -> None:
        """Refuse a value that is not one of its key's :data:`PROFILE_CHOICES`."""
        for f in fields(self):
            value = getattr(self, f.name)
            allowed = PROFILE_CHOICES[f.name]
            if value not in allowed:
                msg = f"profile {f.name}: must be one of {', '.join(allowed)} (got {value!r})"
                raise ParameterError(msg)


DEFAULT_PROFILE = Profile()


def parse_profile_options(options: list[str] | tuple[str, ...], *,
                          base: Profile = DEFAULT_PROFILE) -> Profile:
    """Build a profile from ``KEY=VALUE`` strings (the CLI's ``--profile``).

    Raises
    ------
    ParameterError
        For a malformed option, an unknown key (with a "did you mean" hint) or a value
        that is not one of the key's choices.
    """
    from .request.suggest import did_you_mean

    changes: dict[str, Any] = {}
    for option in options:
        key, sep, value = option.partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            msg = f"a profile option is KEY=VALUE (got {option!r})"
            raise ParameterError(msg)
        if key not in PROFILE_CHOICES:
            hint = did_you_mean(key, PROFILE_CHOICES)
            msg = f"unknown profile key {key!r}" + (f"; {hint}" if hint else "")
            msg += f" (keys: {', '.join(PROFILE_CHOICES)})"
            raise ParameterError(msg)
        changes[key] = value
    return replace(base, **changes)
