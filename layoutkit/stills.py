"""Still previews of a layout: one canvas, or a contact sheet of every user count.

Pure pixel functions (they take pictures as arrays); file I/O is the caller's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .compose.rgb import cover_image, draw_rgb, solid_canvas
from .enums import LayoutMode
from .layout import MAX_DISPLAYED, compute_regions
from .signals.testcard import label_font, labelled_card, uid_color
from .profile import DEFAULT_PROFILE, Profile
from .request.model import LayoutSettings
from ._typing import RGB

__all__ = ["DEFAULT_SOURCE_WH", "canvas_background", "contact_sheet", "preview_canvas"]

DEFAULT_SOURCE_WH = (640, 360)


def canvas_background(settings: LayoutSettings, canvas_wh: tuple[int, int], *,
                      background_image: RGB | None = None) -> RGB:
    """Draw the canvas under every region: ``backgroundImage`` (crop) if usable, else the colour."""
    if background_image is not None:
        return cover_image(background_image, canvas_wh)
    return solid_canvas(canvas_wh, settings.background_rgb)


def preview_canvas(
    settings: LayoutSettings,
    uids: Sequence[str],
    *,
    canvas_wh: tuple[int, int],
    profile: Profile = DEFAULT_PROFILE,
    source_sizes: Mapping[str, tuple[int, int]] | None = None,
    background_image: RGB | None = None,
) -> RGB:
    """Draw the canvas with every displayed user as a labelled test card.

    Parameters
    ----------
    settings : LayoutSettings
        Layout of the request.
    uids : sequence of str
        Users in join order (the first 17 are drawn).
    canvas_wh : tuple of int
        Canvas ``(width, height)``.
    profile : Profile
        Behaviour choices.
    source_sizes : mapping of str to (int, int), optional
        Each user's video size; default 640x360 (so crop and fit show).
    background_image : ndarray, optional
        The decoded ``backgroundImage`` (None: the canvas colour).

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
    """
    sizes = source_sizes or {}
    regions = compute_regions(settings, uids, canvas_wh=canvas_wh, profile=profile)
    pictures = [None if uid is None else labelled_card(uid, sizes.get(uid, DEFAULT_SOURCE_WH))
                for uid in regions.uids]
    background = canvas_background(settings, canvas_wh, background_image=background_image)
    image = draw_rgb(background, regions, pictures)
    for i, uid in enumerate(regions.uids):
        if uid is not None and int(regions.render_modes[i]) == 0:  # crop: may cut the uid
            x, y, w, h = (int(v) for v in regions.rects[i])
            _keep_uid_legible(image, uid, sizes.get(uid, DEFAULT_SOURCE_WH), (x, y, w, h))
    return image


def _card_uid_width(uid: str, source_wh: tuple[int, int]) -> float:
    """Return the width in source pixels of the uid as the test card draws it.

    The test card is :func:`~layoutkit.signals.testcard.labelled_card`'s.
    """
    w, h = source_wh
    return float(label_font(int(min(h * 0.30, w * 0.9 / max(3, len(uid)) * 1.45)))
                 .getlength(uid))


def _keep_uid_legible(image: RGB, uid: str, source_wh: tuple[int, int],
                      rect: tuple[int, int, int, int]) -> None:
    """Write the card's uid again where cropping into a narrow region cuts it (in place).

    It goes across the region's middle, sized to its width.
    """
    from PIL import Image, ImageDraw

    x, y, w, h = rect
    sw, sh = source_wh
    scale = max(w / sw, h / sh)
    if w <= 0 or h <= 0 or _card_uid_width(uid, source_wh) <= 0.95 * w / scale:
        return
    size = max(6, int(min(h * 0.30, w * 0.9 / max(1, len(uid)) * 1.6)))
    font = label_font(size)
    while size > 6 and font.getlength(uid) > w * 0.92:
        size -= 1
        font = label_font(size)
    tile = Image.fromarray(np.ascontiguousarray(image[y:y + h, x:x + w]))
    draw = ImageDraw.Draw(tile)
    band = min(h, int(sh * 0.30 * scale) + 4)
    dark = tuple(int(c * 0.45) for c in uid_color(uid))
    draw.rectangle([0, (h - band) // 2, w - 1, (h + band) // 2], fill=dark)
    draw.text((w / 2, h / 2), uid, fill=(255, 255, 255), font=font, anchor="mm")
    image[y:y + h, x:x + w] = np.asarray(tile)


def _thumbnail(image: RGB, max_side: int) -> RGB:
    import cv2

    h, w = image.shape[:2]
    scale = max_side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def contact_sheet(
    settings: LayoutSettings,
    *,
    canvas_wh: tuple[int, int],
    profile: Profile = DEFAULT_PROFILE,
    uids: Sequence[str] | None = None,
    source_sizes: Mapping[str, tuple[int, int]] | None = None,
    background_image: RGB | None = None,
    cell_max_side: int = 300,
    columns: int = 6,
) -> RGB:
    """One image showing the layout for every user count 1..17, labelled.

    ``uids`` (default ``"1".."17"``) gives the join order; count ``n`` uses its first
    ``n`` entries.
    """
    from PIL import Image, ImageDraw

    order = list(uids) if uids else [str(i) for i in range(1, MAX_DISPLAYED + 1)]
    counts = range(1, min(MAX_DISPLAYED, len(order)) + 1)
    def cell(n: int) -> RGB:
        return _thumbnail(preview_canvas(settings, order[:n], canvas_wh=canvas_wh,
                                         profile=profile, source_sizes=source_sizes,
                                         background_image=background_image), cell_max_side)

    # the 17 canvases are independent (OpenCV and NumPy release the GIL): one per core
    workers = max(1, min(len(counts), os.cpu_count() or 1))
    if workers == 1:
        thumbs = [cell(n) for n in counts]
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="layoutkit-sheet") as pool:
            thumbs = list(pool.map(cell, counts))
    th, tw = thumbs[0].shape[:2]
    pad, label_h, head_h = 16, 26, 56
    rows = -(-len(thumbs) // columns)
    sheet_w = pad + columns * (tw + pad)
    sheet_h = head_h + rows * (label_h + th + pad) + pad // 2
    sheet = Image.new("RGB", (sheet_w, sheet_h), (242, 242, 240))
    draw = ImageDraw.Draw(sheet)
    title = (f"mixedVideoLayout {settings.mixed_video_layout} "
             f"({LayoutMode(settings.mixed_video_layout).label}), "
             f"canvas {canvas_wh[0]}x{canvas_wh[1]}, background {settings.background_color}")
    if settings.max_resolution_uid:
        title += f", maxResolutionUid {settings.max_resolution_uid}"
    if order[:len(counts)] != [str(i) for i in counts]:  # not 1, 2, 3, ...: say who joins
        shown = ", ".join(order[:8]) + (", ..." if len(order) > 8 else "")
        title += f", users {shown}"
    draw.text((pad, head_h // 2), title, fill=(30, 30, 30), font=label_font(22), anchor="lm")
    for idx, (n, thumb) in enumerate(zip(counts, thumbs, strict=True)):
        r, c = divmod(idx, columns)
        x = pad + c * (tw + pad)
        y = head_h + r * (label_h + th + pad)
        draw.text((x, y + label_h // 2), f"{n} user{'s' if n > 1 else ''}", fill=(60, 60, 60),
                  font=label_font(17), anchor="lm")
        sheet.paste(Image.fromarray(thumb), (x, y + label_h))
        draw.rectangle([x - 1, y + label_h - 1, x + tw, y + label_h + th], outline=(150, 150, 150))
    return np.asarray(sheet)
