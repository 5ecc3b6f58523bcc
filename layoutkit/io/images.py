"""Load background images the way the cloud uses them (JPG/BMP, at most 6 MB)."""

from __future__ import annotations

import io
import os
import stat
import urllib.parse
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "TOO_LARGE",
    "ImageIgnoredWarning",
    "ignored_text",
    "load_image",
    "network_reads",
    "resolve_location",
]

MAX_IMAGE_BYTES = 6 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # decoded (after draft); ~ 7700x5200, 120 MB of RGB
_FORMATS = {"JPEG", "BMP"}
#: Why an image over :data:`MAX_IMAGE_BYTES` is ignored (the cloud's 6 MB limit).
TOO_LARGE = "larger than 6 MB"
#: Whether http(s) images are downloaded in this context (see :func:`network_reads`).
_NETWORK: ContextVar[bool] = ContextVar("layoutkit_image_network", default=True)


class ImageIgnoredWarning(UserWarning):
    """An image setting the cloud would ignore (wrong format, too large, not found)."""


def resolve_location(location: str, *, base_dir: Path | None = None) -> str:
    """Turn a local path (relative to ``base_dir``) or ``file://`` URL into a path; keep http(s)."""
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme == "file" and location.startswith("file:"):
        from urllib.request import url2pathname  # here: it pulls in ssl and http.client

        return url2pathname(parsed.path)
    if "://" in location and parsed.scheme:  # http(s) kept; other schemes refused by readers
        return location
    path = Path(location)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return str(path)


@contextmanager
def network_reads(allowed: bool) -> Iterator[None]:
    """Within the block (this thread or task only), download http(s) images or not.

    With ``allowed=False`` an http(s) image is not fetched: :func:`load_image` warns
    ``cannot be read (not fetched: ...)`` and returns None, as for a failed download.

    Examples
    --------
    >>> with network_reads(False), warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     image = load_image("http://192.0.2.1/a.jpg")
    >>> image is None
    True
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    image http://192.0.2.1/a.jpg: cannot be read (not fetched: network reads are off here);
    ignored, as the cloud does
    """
    token = _NETWORK.set(allowed)
    try:
        yield
    finally:
        _NETWORK.reset(token)


def _read_bytes(location: str) -> bytes:
    """Read the file's bytes, at most ``MAX_IMAGE_BYTES + 1`` of them; only regular files."""
    if location.startswith(("http://", "https://")):
        if not _NETWORK.get():
            raise OSError("not fetched: network reads are off here")
        from urllib.request import urlopen

        with urlopen(location, timeout=10) as response:
            return bytes(response.read(MAX_IMAGE_BYTES + 1))
    if "://" in location:
        msg = "only http:// and https:// URLs (and local files) are read"
        raise OSError(msg)
    mode = os.stat(location).st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError("is a folder")
    if not stat.S_ISREG(mode):
        raise OSError("not a regular file (a FIFO, device or socket)")
    with open(location, "rb") as file:
        return file.read(MAX_IMAGE_BYTES + 1)


def ignored_text(location: str, why: str) -> str:
    """Return the warning for an image the cloud ignores (without the ``warning:`` prefix).

    Examples
    --------
    >>> ignored_text("big.jpg", TOO_LARGE)
    'image big.jpg: larger than 6 MB; ignored, as the cloud does'
    """
    return f"image {location}: {why}; ignored, as the cloud does"


def _decode(img: Any, location: str, max_size_wh: tuple[int, int] | None) -> Any:
    """Decode ``img`` (a Pillow image just opened) at about the size it is drawn.

    Returns the RGB Pillow image, or the warning text (a str) when it has too many pixels.
    """
    if max_size_wh is not None and img.format == "JPEG":
        img.draft("RGB", max_size_wh)  # 1/2, 1/4 or 1/8 scale, still >= the drawn size
    width, height = img.size
    if width * height > MAX_IMAGE_PIXELS:
        millions = MAX_IMAGE_PIXELS // 1_000_000
        return ignored_text(location, f"{width}x{height} is more than {millions} million pixels "
                                      "once decoded")
    img.load()
    if max_size_wh is not None:
        factor = min(width // max(1, max_size_wh[0]), height // max(1, max_size_wh[1]))
        if factor >= 2:  # keep at least the drawn size
            img = img.reduce(factor)
    return img.convert("RGB")


def _image_or_why(location: str, resolved: str,
                  max_size_wh: tuple[int, int] | None) -> npt.NDArray[np.uint8] | str:
    """Return the RGB image at ``resolved``, or the warning that says why it is ignored."""
    try:
        data = _read_bytes(resolved)
    except (OSError, ValueError) as exc:
        return ignored_text(location, f"cannot be read ({getattr(exc, 'strerror', None) or exc})")
    if len(data) > MAX_IMAGE_BYTES:
        return ignored_text(location, TOO_LARGE)
    return _decoded_or_why(data, location, max_size_wh)


def _decoded_or_why(data: bytes, location: str,
                    max_size_wh: tuple[int, int] | None) -> npt.NDArray[np.uint8] | str:
    """Return the RGB image the bytes of a file hold, or the warning that says why it is ignored."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in _FORMATS:
                    return ignored_text(location, f"{img.format} is not JPG or BMP")
                rgb = _decode(img, location, max_size_wh)
                return rgb if isinstance(rgb, str) else np.asarray(rgb)
    except Image.DecompressionBombError as exc:
        return ignored_text(location, f"too many pixels to decode ({exc})")
    except UnidentifiedImageError:  # its message names the BytesIO, not the file
        return (f"image {location}: not a readable image (no picture format recognised); "
                "ignored")
    except (OSError, ValueError, SyntaxError) as exc:
        return f"image {location}: not a readable image ({exc}); ignored"


def load_image(location: str, *, base_dir: Path | None = None,
               max_size_wh: tuple[int, int] | None = None) -> npt.NDArray[np.uint8] | None:
    """Load an RGB image like the cloud does, or None when the cloud would ignore it.

    Parameters
    ----------
    location : str
        Local path, ``file://`` or ``http(s)://`` URL.
    base_dir : Path, optional
        Folder that relative paths are relative to (the file that names them).
    max_size_wh : tuple of int, optional
        The largest size the image is drawn at (the canvas): a JPEG is decoded at the
        smallest of 1/1, 1/2, 1/4, 1/8 scale that still covers it (Pillow's ``draft``) and
        any image is then reduced by a whole factor that keeps at least this size.  The
        returned image may be larger than this, never smaller than it or the file.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8, or None
        None (with an :class:`ImageIgnoredWarning`) when the file cannot be read, is not
        JPG or BMP, is larger than 6 MB, or would decode to more than
        :data:`MAX_IMAGE_PIXELS` pixels (a 9000x9000 RLE BMP of 0.7 MB would take 243 MB):
        "a failed download means the setting is ignored" (docs/cloud.md#cloud-transcoding).
    """
    resolved = resolve_location(location, base_dir=base_dir)
    image = _image_or_why(location, resolved, max_size_wh)
    if isinstance(image, str):
        warnings.warn(image, ImageIgnoredWarning, stacklevel=2)
        return None
    return image
