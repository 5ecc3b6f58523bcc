"""yuv420p (I420) frame buffers and RGB <-> YUV conversion (pure NumPy/OpenCV).

Buffer layout
-------------
A frame is ONE C-contiguous ``uint8`` array of shape ``(H * 3 // 2, W)``: the flat bytes are
the Y plane (``H x W``), then U (``H/2 x W/2``), then V (``H/2 x W/2``), each plane packed
without padding.  This is exactly what ``av.VideoFrame.from_ndarray(buf, format="yuv420p")``
reads and ``VideoFrame.to_ndarray()`` returns for a ``yuv420p`` frame, and what OpenCV calls
``I420`` (``cv2.COLOR_RGB2YUV_I420``).  Rows ``0 .. H-1`` of the 2-D array are the Y plane;
the U and V planes are views obtained by reshaping the flat tail (:func:`i420_planes`), so a
U row is *not* a buffer row.  Width and height must be even.

Colour
------
BT.601, limited ("TV", "MPEG") range, 8 bit::

    Y  = 16  + 219 * ( 0.299    R + 0.587    G + 0.114    B) / 255
    Cb = 128 + 224 * (-0.168736 R - 0.331264 G + 0.5      B) / 255
    Cr = 128 + 224 * ( 0.5      R - 0.418688 G - 0.081312 B) / 255

This is what ``cv2.cvtColor(..., COLOR_RGB2YUV_I420)`` / ``COLOR_YUV2RGB_I420`` use (OpenCV
rounds the coefficients to 3 decimals, so its Y can differ by 1) and what FFmpeg's swscale
(and so PyAV's ``to_ndarray(format="rgb24")``) assumes for a ``yuv420p`` frame without colour
metadata.  Black is ``(Y, U, V) = (16, 128, 128)``, white ``(235, 128, 128)``.  Players
often guess BT.709 for HD pictures without colour metadata, so an encoder writing these
frames should tag them (``colorspace=smpte170m`` / ``bt470bg``, ``color_range=tv``).

Chroma siting
-------------
"Centre" siting (JPEG / MPEG-1 style): a chroma sample is the mean of its 2x2 luma block.
:func:`rgb_to_i420` computes it so (``cv2.INTER_AREA`` halving); note that OpenCV's own
``COLOR_RGB2YUV_I420`` takes the top-left pixel of each block instead, which is why it is not
used.  :func:`i420_to_rgb` upsamples chroma bilinearly with the same centre convention
(``cv2.resize`` half-pixel centres), and the compositor scales chroma planes with it too.
MPEG-2 / H.264's default siting ("left": co-sited with the left luma column) differs by half
a luma pixel horizontally (a sub-pixel chroma shift, not compensated).

Odd edges
---------
A luma rectangle ``[x, x + w)`` maps to chroma columns ``[floor(x / 2), ceil((x + w) / 2))``
(the same for rows), so a region with odd edges never leaves a chroma sample unpainted; two
regions that meet at an odd edge share one chroma column, and the one painted later wins
(:func:`chroma_rect`).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .._typing import U8
from ..errors import ParameterError, ShapeError

__all__ = [
    "BLACK_YUV",
    "chroma_rect",
    "i420_from_planes",
    "i420_planes",
    "i420_shape",
    "i420_size",
    "i420_to_rgb",
    "rgb_to_i420",
    "rgb_to_yuv",
    "solid_i420",
]

_KR, _KB = 0.299, 0.114
_KG = 1.0 - _KR - _KB
# RGB (0..255) -> YCbCr, limited range; rows Y, Cb, Cr; last column is the offset.
_RGB2YUV = np.array([
    [219 / 255 * _KR, 219 / 255 * _KG, 219 / 255 * _KB, 16.0],
    [-224 / 255 * _KR / (2 - 2 * _KB), -224 / 255 * _KG / (2 - 2 * _KB), 224 / 255 / 2, 128.0],
    [224 / 255 / 2, -224 / 255 * _KG / (2 - 2 * _KR), -224 / 255 * _KB / (2 - 2 * _KR), 128.0],
], dtype=np.float64)
_M = np.linalg.inv(np.vstack([_RGB2YUV, [0.0, 0.0, 0.0, 1.0]]))
#: YCbCr -> RGB (0..255), the exact inverse of the matrix above.
_YUV2RGB = _M[:3]

#: Black in this module's YUV: ``(16, 128, 128)``.
BLACK_YUV = (16, 128, 128)


def rgb_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Convert one RGB colour to limited-range BT.601 ``(Y, U, V)``, rounded.

    Examples
    --------
    >>> rgb_to_yuv((0, 0, 0)), rgb_to_yuv((255, 255, 255))
    ((16, 128, 128), (235, 128, 128))
    """
    v = _RGB2YUV[:, :3] @ np.asarray(rgb, dtype=np.float64) + _RGB2YUV[:, 3]
    y, u, w = (int(np.clip(np.floor(c + 0.5), 0, 255)) for c in v)
    return (y, u, w)


def i420_shape(canvas_wh: tuple[int, int]) -> tuple[int, int]:
    """Array shape ``(H * 3 // 2, W)`` of an I420 buffer for ``(W, H)`` (both even)."""
    width, height = (int(v) for v in canvas_wh)
    if width % 2 or height % 2 or width <= 0 or height <= 0:
        msg = f"yuv420p needs a positive even width and height (got {width}x{height})"
        raise ParameterError(msg)
    return (height * 3 // 2, width)


def i420_size(buf: U8) -> tuple[int, int]:
    """``(W, H)`` of the picture held by an I420 buffer."""
    rows, width = buf.shape
    return (int(width), int(rows) * 2 // 3)


def i420_planes(buf: U8) -> tuple[U8, U8, U8]:
    """Return views ``(Y, U, V)`` of an I420 buffer (shapes ``(H, W)``, ``(H/2, W/2)`` twice).

    The views share memory with ``buf`` (which must be C-contiguous), so writing into them
    writes the frame.
    """
    if not buf.flags.c_contiguous:
        msg = "i420_planes needs a C-contiguous buffer"
        raise ParameterError(msg)
    width, height = i420_size(buf)
    n = width * height
    q = n // 4
    flat = buf.reshape(-1)
    cshape = (height // 2, width // 2)
    return buf[:height], flat[n:n + q].reshape(cshape), flat[n + q:n + 2 * q].reshape(cshape)


def i420_from_planes(y: U8, u: U8, v: U8) -> U8:
    """Return a new C-contiguous I420 buffer holding the planes ``y``, ``u`` and ``v``.

    The inverse of :func:`i420_planes`; the planes may be views with longer rows.

    >>> y = np.full((4, 6), 16, np.uint8)
    >>> u, v = np.ones((2, 3), np.uint8), np.zeros((2, 3), np.uint8)
    >>> buf = i420_from_planes(y, u, v)
    >>> buf.shape, [np.array_equal(p, q) for p, q in zip(i420_planes(buf), (y, u, v))]
    ((6, 6), [True, True, True])
    """
    height, width = y.shape
    buf = np.empty(i420_shape((width, height)), np.uint8)
    out_y, out_u, out_v = i420_planes(buf)
    out_y[:] = y
    out_u[:] = u
    out_v[:] = v
    return buf


def chroma_rect(rect: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Return the chroma-plane ``(x, y, w, h)`` painted for a luma rectangle.

    Columns ``[floor(x / 2), ceil((x + w) / 2))``, rows likewise, so odd edges round outwards.

    Examples
    --------
    >>> chroma_rect((93, 482, 85, 150))
    (46, 241, 43, 75)
    """
    x, y, w, h = rect
    x0, y0 = x // 2, y // 2
    return (x0, y0, (x + w + 1) // 2 - x0, (y + h + 1) // 2 - y0)


def solid_i420(canvas_wh: tuple[int, int], rgb: tuple[int, int, int]) -> U8:
    """Make an I420 buffer of one colour."""
    buf = np.empty(i420_shape(canvas_wh), dtype=np.uint8)
    y, u, v = rgb_to_yuv(rgb)
    planes = i420_planes(buf)
    for plane, value in zip(planes, (y, u, v), strict=True):
        plane[...] = value
    return buf


def _round_u8(values: npt.NDArray[Any]) -> U8:
    return np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8)


def rgb_to_i420(rgb: U8) -> U8:
    """Convert an ``(H, W, 3)`` RGB picture to an I420 buffer.

    Parameters
    ----------
    rgb : ndarray of shape (H, W, 3), uint8

    Returns
    -------
    ndarray of shape (H2 * 3 // 2, W2), uint8
        ``W2``, ``H2`` are ``W``, ``H`` rounded up to even; an odd last column / row is
        repeated (so nothing is lost; use :func:`i420_size` for the picture size).

    Notes
    -----
    Y is converted per pixel; U and V are converted from the mean RGB of each 2x2 block (the
    conversion is affine, so this equals the mean of the per-pixel chroma).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ShapeError("rgb_to_i420 input", expected="(H, W, 3)", actual=rgb.shape)
    pad_b, pad_r = rgb.shape[0] % 2, rgb.shape[1] % 2
    even = cv2.copyMakeBorder(rgb, 0, pad_b, 0, pad_r, cv2.BORDER_REPLICATE) \
        if pad_b or pad_r else rgb
    height, width = even.shape[:2]
    rgbf = even.astype(np.float32)
    y = cv2.transform(rgbf, _RGB2YUV[:1].astype(np.float32))
    half = cv2.resize(rgbf, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    uv = cv2.transform(half, _RGB2YUV[1:].astype(np.float32))
    return np.concatenate([
        _round_u8(y).reshape(-1), _round_u8(uv[..., 0]).reshape(-1),
        _round_u8(uv[..., 1]).reshape(-1),
    ]).reshape(height * 3 // 2, width)


def i420_to_rgb(buf: U8) -> U8:
    """Convert an I420 buffer to an ``(H, W, 3)`` RGB picture (for PNG output and tests).

    Chroma is upsampled bilinearly (centre siting), then the exact inverse of the BT.601
    limited-range matrix is applied with rounding and clipping.
    """
    width, height = i420_size(buf)
    y, u, v = i420_planes(np.ascontiguousarray(buf))
    up = [cv2.resize(p, (width, height), interpolation=cv2.INTER_LINEAR) for p in (u, v)]
    out = np.empty((height, width, 3), dtype=np.uint8)
    matrix = _YUV2RGB.astype(np.float32)

    def band(rows: slice) -> None:
        # in strips of a few rows, so the float intermediates stay in the CPU caches
        step = max(1, (1 << 16) // max(1, width))
        yuv = np.empty((step, width, 3), dtype=np.float32)
        for r in range(rows.start, rows.stop, step):
            strip = slice(r, min(rows.stop, r + step))
            n = strip.stop - strip.start
            part = yuv[:n]
            part[...] = cv2.merge([y[strip], up[0][strip], up[1][strip]])
            rgb = cv2.transform(part, matrix)
            # _round_u8 in place: clip(floor(v + 0.5)) == trunc(clip(v + 0.5)) for any float
            np.add(rgb, np.float32(0.5), out=rgb)
            np.clip(rgb, 0, 255, out=rgb)
            out[strip] = rgb

    bands = _bands(height, width)
    if len(bands) == 1:
        band(bands[0])
    else:  # per-pixel work: bands on every core give the same pixels
        list(_pool().map(band, bands))
    return out


_POOL: Any = None


def _pool() -> Any:
    """Return the small shared thread pool (NumPy and OpenCV release the GIL)."""
    global _POOL
    if _POOL is None:
        import os
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1)),
                                   thread_name_prefix="layoutkit-rgb")
    return _POOL


def _bands(height: int, width: int) -> list[slice]:
    """Row bands for converting a ``width`` x ``height`` picture: one per core when large."""
    import os

    cores = max(1, min(8, os.cpu_count() or 1))
    if cores == 1 or height * width < 512 * 512:
        return [slice(0, height)]
    step = -(-height // cores)
    return [slice(r, min(height, r + step)) for r in range(0, height, step)]
