"""Pure layout geometry: request layout settings + ordered users -> :class:`Regions`.

No I/O.  Every mode returns regions in paint order as an ``(N, 4)`` pixel array.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..enums import LayoutMode, RenderMode
from ..errors import ParameterError
from ..profile import DEFAULT_PROFILE, Profile
from ..request.model import LayoutSettings
from .bestfit import bestfit_fractions, bestfit_grid
from .custom import assign_custom_regions, custom_fractions
from .floating import floating_fractions
from .regions import MAX_DISPLAYED, Regions, displayed_users, make_regions, to_pixels
from .vertical import vertical_fractions, vertical_tier

__all__ = [
    "MAX_DISPLAYED",
    "Regions",
    "assign_custom_regions",
    "bestfit_fractions",
    "bestfit_grid",
    "compute_regions",
    "custom_fractions",
    "displayed_users",
    "floating_fractions",
    "to_pixels",
    "vertical_fractions",
    "vertical_tier",
]

def compute_regions(
    settings: LayoutSettings,
    uids: Sequence[str],
    *,
    canvas_wh: tuple[int, int],
    profile: Profile = DEFAULT_PROFILE,
) -> Regions:
    """Regions of every displayed user for one layout.

    Parameters
    ----------
    settings : LayoutSettings
        The layout part of ``transcodingConfig`` / ``updateLayout``.
    uids : sequence of str
        Users in join order.  Only the first 17 are displayed.
    canvas_wh : tuple of int
        Canvas ``(width, height)`` in pixels.
    profile : Profile
        Behaviour choices where the sources disagree.

    Returns
    -------
    Regions
        In paint order.  Floating: the full region first.  Vertical: the large region
        first (only when the ``maxResolutionUid`` user is displayed).  Custom: one row per
        ``layoutConfig`` entry, uid None where nobody fills it.

    Examples
    --------
    >>> from layoutkit.request.model import LayoutSettings
    >>> r = compute_regions(LayoutSettings(mixed_video_layout=1), ["1", "2"],
    ...                     canvas_wh=(1920, 1080))
    >>> r.rects.tolist()
    [[0, 0, 960, 1080], [960, 0, 960, 1080]]
    """
    users = displayed_users(list(uids))
    mode = settings.mixed_video_layout
    if mode == LayoutMode.FLOATING:
        render = RenderMode.CROP if profile.floating_render == "crop" else RenderMode.FIT
        return make_regions(floating_fractions(len(users)), users,
                            canvas_wh=canvas_wh, render_modes=render)
    if mode == LayoutMode.BESTFIT:
        return make_regions(bestfit_fractions(len(users)), users, canvas_wh=canvas_wh)
    if mode == LayoutMode.VERTICAL:
        return _vertical(settings, users, canvas_wh=canvas_wh, profile=profile)
    if mode == LayoutMode.CUSTOM:
        config = settings.layout_config
        return make_regions(
            custom_fractions(config),
            assign_custom_regions(config, users),
            canvas_wh=canvas_wh,
            render_modes=[r.render_mode for r in config],
            alphas=[r.alpha for r in config],
        )
    msg = f"mixedVideoLayout must be 0, 1, 2 or 3 (got {mode!r})"
    raise ParameterError(msg)


def _vertical(settings: LayoutSettings, users: tuple[str, ...], *,
              canvas_wh: tuple[int, int], profile: Profile) -> Regions:
    import numpy as np

    large_uid = settings.max_resolution_uid
    with_large = large_uid is not None and large_uid in users
    smalls_uids = [u for u in users if u != large_uid] if with_large else list(users)
    large, smalls = vertical_fractions(
        len(smalls_uids), with_large=with_large,
        column_order=profile.vertical_column_order,
        without_large=profile.vertical_without_large,
    )
    small_mode = RenderMode.FIT if profile.vertical_render == "fit" else RenderMode.CROP
    drawn = smalls_uids[: len(smalls)]
    region_uids = ([large_uid] if with_large else []) + drawn
    modes = [RenderMode.FIT] * len(large) + [small_mode] * len(smalls)
    return make_regions(np.concatenate([large, smalls]), region_uids,
                        canvas_wh=canvas_wh, render_modes=modes)
