"""Load background images the way the cloud uses them (JPG/BMP, at most 6 MB)."""

from __future__ import annotations

import io
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_IMAGE_BYTES", "ImageIgnoredWarning", "resolve_location", "load_image"]

MAX_IMAGE_BYTES = 6 * 1024 * 1024
_FORMATS = {"JPEG", "BMP"}


class ImageIgnoredWarning(UserWarning):
    """An image setting the cloud would ignore (wrong format, too large, not found)."""


def resolve_location(location: str, *, base_dir: Path | None = None) -> str:
    """Turn a local path (relative to ``base_dir``) or ``file://`` URL into a path; keep http(s)."""
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme in ("http", "https"):
        return location
    if parsed.scheme == "file":
        return urllib.request.url2pathname(parsed.path)
    path = Path(location)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return str(path)


def _read_bytes(location: str) -> bytes:
    if location.startswith(("http://", "https://")):
        with urllib.request.urlopen(location, timeout=10) as response:  # noqa: S310
            return bytes(response.read(MAX_IMAGE_BYTES + 1))
    return Path(location).read_bytes()


def load_image(location: str, *, base_dir: Path | None = None) -> npt.NDArray[np.uint8] | None:
    """Load an RGB image like the cloud does, or None when the cloud would ignore it.

    Parameters
    ----------
    location : str
        Local path, ``file://`` or ``http(s)://`` URL.
    base_dir : Path, optional
        Folder that relative paths are relative to (the file that names them).

    Returns
    -------
    ndarray of shape (H, W, 3), uint8, or None
        None (with an :class:`ImageIgnoredWarning`) when the file cannot be read, is not
        JPG or BMP, or is larger than 6 MB: "a failed download means the setting is
        ignored" (spec 2.1).
    """
    from PIL import Image, UnidentifiedImageError

    resolved = resolve_location(location, base_dir=base_dir)
    try:
        data = _read_bytes(resolved)
    except OSError as exc:
        warnings.warn(f"image {location}: cannot be read ({exc}); ignored, as the cloud does",
                      ImageIgnoredWarning, stacklevel=2)
        return None
    if len(data) > MAX_IMAGE_BYTES:
        warnings.warn(f"image {location}: larger than 6 MB; ignored, as the cloud does",
                      ImageIgnoredWarning, stacklevel=2)
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in _FORMATS:
                warnings.warn(
                    f"image {location}: {img.format} is not JPG or BMP; ignored, as the cloud does",
                    ImageIgnoredWarning, stacklevel=2)
                return None
            return np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        warnings.warn(f"image {location}: not a readable image ({exc}); ignored",
                      ImageIgnoredWarning, stacklevel=2)
        return None
