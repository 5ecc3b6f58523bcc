"""A machine-readable code that names a test stream's uid and frame number in its picture.

The code is a grid of 8 x 7 = 56 black / white cells inside a mid-grey quiet zone:

* 2 calibration cells: the first cell is always black, the last always white;
* 54 data cells: the uid (32 bits) and the frame number modulo 4096 (12 bits), then a
  CRC-10 (polynomial ``0x157``, every 1-, 2- and 3-cell error detected) of those 44 bits;
  the 54 bits are XORed with a fixed pattern so that no payload draws a flat grid.

Placement is chosen to survive the recorder's worst crop: in the centre third of the long
axis (a 16:9 picture cropped into a 9:16 tile keeps only 31.6 % of its width) and in the
second half of the short axis (the first half carries the human-readable uid).  For a
landscape (or square) source the quiet zone covers ``x`` in ``[0.35, 0.65]`` of the width
and ``y`` in ``[0.50, 0.95]`` of the height, with 8 columns and 7 rows; a portrait source
uses the transposed placement (``y`` in ``[0.35, 0.65]``, ``x`` in ``[0.50, 0.95]``,
8 rows and 7 columns).  Cell ``i`` is at short-axis index ``i // 8`` and long-axis index
``i % 8``.

Cells are drawn in RGB as pure black ``(0, 0, 0)`` and pure white ``(255, 255, 255)``,
luma 16 and 235 after the BT.601 limited-range conversion video uses, on a grey
``(128, 128, 128)`` quiet zone.  :func:`read_code` calibrates on the two calibration cells,
so it works on limited-range Y planes and on full-range grey pictures alike.

Pure numpy (and OpenCV's integral image); no video I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from ..compose.fit import place
from ..errors import ParameterError

__all__ = [
    "COLUMNS",
    "ROWS",
    "CodeReading",
    "code_boxes",
    "code_cells",
    "code_geometry",
    "decode_cells",
    "draw_code",
    "quiet_zone",
    "read_code",
    "reading_from_means",
    "readings_from_means",
    "uid_number",
]

#: Cells along the long axis.
COLUMNS = 8
#: Cells along the short axis.
ROWS = 7
_N_CELLS = COLUMNS * ROWS
_UID_BITS = 32
_FRAME_BITS = 12
_CRC_BITS = 10
_CRC_POLY = 0x157  # x^10 + x^8 + x^6 + x^4 + x^2 + x + 1: fewest undetected 4-bit errors
_DATA_BITS = _UID_BITS + _FRAME_BITS + _CRC_BITS  # 54
_WHITEN = 0x2D_C6A3_95B1_E74F & ((1 << _DATA_BITS) - 1)
_MAX_UID = (1 << _UID_BITS) - 1
_SHIFTS = np.arange(_DATA_BITS - 1, -1, -1, dtype=np.uint64)

# Quiet zone as fractions of the (long, short) axes.
_LONG_SPAN = (0.35, 0.65)
_SHORT_SPAN = (0.50, 0.95)
_MIN_CELL_PX = 2.0

# Reading: the sampled part of a cell (fraction of its size, centred), the smallest
# white - black calibration difference (in plane levels) and the smallest distance of any
# cell from the threshold (in units of the calibration range) that still count as a read.
_SAMPLE_FRACTION = 0.5
_MIN_CONTRAST = 24.0
_MIN_MARGIN = 0.12

_GREY = (128, 128, 128)


@dataclass(frozen=True)
class CodeReading:
    """What :func:`read_code` read.

    Attributes
    ----------
    uid : str
        The uid, as its canonical decimal string.
    frame : int
        The frame number modulo 4096.
    margin : float
        Smallest distance of any data cell from the threshold, in units of the
        calibrated black-to-white range (0.5 is a perfect picture).  Not compared.
    """

    uid: str
    frame: int
    margin: float = field(default=0.5, compare=False)


def uid_number(uid: str) -> int:
    """Return the 32-bit number of a uid given as a canonical decimal string.

    Raises
    ------
    ParameterError
        When ``uid`` is not ``"0"`` .. ``"4294967295"`` written without leading zeros.
    """
    if not (isinstance(uid, str) and uid.isascii() and uid.isdecimal()) or \
            str(int(uid)) != uid or int(uid) > _MAX_UID:
        msg = f"uid must be a decimal number 0..{_MAX_UID} without leading zeros (got {uid!r})"
        raise ParameterError(msg)
    return int(uid)


def _crc(value: int, nbits: int) -> int:
    reg = 0
    top = 1 << (_CRC_BITS - 1)
    mask = (1 << _CRC_BITS) - 1
    for i in range(nbits - 1, -1, -1):
        feedback = bool(reg & top) ^ ((value >> i) & 1)
        reg = (reg << 1) & mask
        if feedback:
            reg ^= _CRC_POLY
    return reg


@lru_cache(maxsize=4096)
def _cells(uid: int, frame: int) -> bytes:
    payload = (uid << _FRAME_BITS) | frame
    word = ((payload << _CRC_BITS) | _crc(payload, _UID_BITS + _FRAME_BITS)) ^ _WHITEN
    bits = (np.uint64(word) >> _SHIFTS) & np.uint64(1)
    return np.concatenate([[False], bits.astype(bool), [True]]).tobytes()


def code_cells(uid: str, frame: int) -> npt.NDArray[np.bool_]:
    """Return the cells of the code of ``(uid, frame)``, True for white.

    Parameters
    ----------
    uid : str
        Decimal uid ``"0"`` .. ``"4294967295"``.
    frame : int
        Frame number; stored modulo 4096.

    Returns
    -------
    ndarray of bool, shape (7, 8)
        ``[short-axis index, long-axis index]``; flat index ``i`` is cell ``i`` of
        :func:`code_geometry`.  Cell 0 is False (black), cell 55 True (white).
    """
    raw = _cells(uid_number(uid), int(frame) % (1 << _FRAME_BITS))
    return np.frombuffer(raw, dtype=bool).reshape(ROWS, COLUMNS).copy()


def decode_cells(cells: npt.ArrayLike) -> CodeReading | None:
    """Return the ``(uid, frame)`` a grid of cells carries, or None when the check fails.

    Parameters
    ----------
    cells : array_like of bool, 56 values
        As :func:`code_cells` returns (any shape with 56 elements, row-major).
    """
    flat = np.asarray(cells, dtype=bool).reshape(-1)
    if flat.size != _N_CELLS:
        return None
    valid, uids, frames = _decode_rows(flat[None, :])
    return CodeReading(str(int(uids[0])), int(frames[0])) if valid[0] else None


def _bit_crcs() -> npt.NDArray[np.uint8]:
    """``(44, 10)``: the CRC bits (most significant first) of each payload bit set alone.

    The CRC (:func:`_crc`: no initial value, no final XOR) is linear over GF(2): a
    payload's CRC is the XOR of the CRCs of its set bits, a product of bit matrices.
    """
    nbits = _UID_BITS + _FRAME_BITS
    crcs = np.array([_crc(1 << (nbits - 1 - k), nbits) for k in range(nbits)])
    return ((crcs[:, None] >> np.arange(_CRC_BITS - 1, -1, -1)) & 1).astype(np.uint8)


_BIT_CRCS = _bit_crcs()
_WHITEN_BITS = ((np.uint64(_WHITEN) >> _SHIFTS) & np.uint64(1)).astype(bool)
_UID_WEIGHTS = np.left_shift(1, np.arange(_UID_BITS - 1, -1, -1), dtype=np.int64)
_FRAME_WEIGHTS = _UID_WEIGHTS[-_FRAME_BITS:]


def _decode_rows(cells: npt.NDArray[np.bool_]) -> tuple[
        npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Decode each row of ``cells`` ``(n, 56)``: ``(valid, uid numbers, frames)``.

    A row is valid when its calibration cells are black and white and its CRC holds; the
    numbers of an invalid row mean nothing.

    >>> valid, uids, frames = _decode_rows(np.stack([code_cells("7", 9).reshape(-1),
    ...                                               np.zeros(56, bool)]))
    >>> valid.tolist(), int(uids[0]), int(frames[0])
    ([True, False], 7, 9)
    """
    data = cells[:, 1:-1] ^ _WHITEN_BITS
    payload, check = data[:, :-_CRC_BITS], data[:, -_CRC_BITS:]
    crc = (payload.astype(np.uint8) @ _BIT_CRCS) & 1
    valid = ~cells[:, 0] & cells[:, -1] & (crc == check).all(axis=1)
    uids = payload[:, :_UID_BITS] @ _UID_WEIGHTS
    frames = payload[:, _UID_BITS:] @ _FRAME_WEIGHTS
    return valid, uids, frames


def _edges(length: int, span: tuple[float, float], quiet: int, n: int) -> npt.NDArray[np.float64]:
    lo, hi = round(span[0] * length) + quiet, round(span[1] * length) - quiet
    return np.round(lo + np.arange(n + 1) * (hi - lo) / n)


def _quiet(long_px: int) -> int:
    return max(1, round(long_px / 80))


@lru_cache(maxsize=64)
def _geometry(size_wh: tuple[int, int]) -> npt.NDArray[np.float64]:
    width, height = size_wh
    portrait = height > width
    long_px, short_px = (height, width) if portrait else (width, height)
    quiet = _quiet(long_px)
    along = _edges(long_px, _LONG_SPAN, quiet, COLUMNS)
    across = _edges(short_px, _SHORT_SPAN, quiet, ROWS)
    if min(np.diff(along).min(), np.diff(across).min()) < _MIN_CELL_PX:
        msg = (f"a {width}x{height} picture is too small for the id code "
               f"(cells under {_MIN_CELL_PX:g} px; use at least 64x36)")
        raise ParameterError(msg)
    j, i = np.divmod(np.arange(_N_CELLS), COLUMNS)  # short-axis index, long-axis index
    long0, long1 = along[i], along[i + 1]
    short0, short1 = across[j], across[j + 1]
    if portrait:
        rects = np.stack([short0, long0, short1 - short0, long1 - long0], axis=1)
    else:
        rects = np.stack([long0, short0, long1 - long0, short1 - short0], axis=1)
    rects.setflags(write=False)
    return rects


def code_geometry(size_wh: tuple[int, int]) -> npt.NDArray[np.float64]:
    """Where each cell is drawn in a ``size_wh`` source picture.

    Parameters
    ----------
    size_wh : tuple of int
        Source ``(width, height)``.

    Returns
    -------
    ndarray of float64, shape (56, 4)
        ``[x, y, w, h]`` per cell in source pixels (whole numbers: the drawn pixels).

    Raises
    ------
    ParameterError
        When cells would be smaller than 2 px (pictures below about 64x36).
    """
    return _geometry((int(size_wh[0]), int(size_wh[1]))).copy()


def quiet_zone(size_wh: tuple[int, int]) -> tuple[int, int, int, int]:
    """Return the ``(x, y, w, h)`` grey rectangle around the code in a ``size_wh`` picture."""
    rects = _geometry((int(size_wh[0]), int(size_wh[1])))
    quiet = _quiet(max(size_wh))
    x0, y0 = rects[:, 0].min() - quiet, rects[:, 1].min() - quiet
    x1 = (rects[:, 0] + rects[:, 2]).max() + quiet
    y1 = (rects[:, 1] + rects[:, 3]).max() + quiet
    return (int(x0), int(y0), int(x1 - x0), int(y1 - y0))


@lru_cache(maxsize=64)
def _label_map(size_wh: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """Per pixel of the quiet zone: 0 for grey, ``1 + i`` inside cell ``i`` (read-only)."""
    qx, qy, qw, qh = quiet_zone(size_wh)
    labels = np.zeros((qh, qw), dtype=np.uint8)
    for i, (x, y, w, h) in enumerate(_geometry(size_wh).astype(int)):
        labels[y - qy:y - qy + h, x - qx:x - qx + w] = i + 1
    labels.setflags(write=False)
    return labels


@lru_cache(maxsize=64)
def _label_map3(size_wh: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """Return :func:`_label_map` in three equal channels, so one ``cv2.LUT`` paints RGB."""
    labels3 = np.repeat(_label_map(size_wh)[:, :, None], 3, axis=2)
    labels3.setflags(write=False)
    return labels3


def paint_code_luma(luma: npt.NDArray[np.uint8], uid: str, frame: int, *,
                    grey: int) -> None:
    """Draw the cells of ``(uid, frame)`` into a luma plane in place (limited range).

    The plane must already hold the quiet zone (its chroma is neutral: the code is grey,
    black and white); ``grey`` is the zone's luma.
    """
    height, width = luma.shape[:2]
    qx, qy, qw, qh = quiet_zone((width, height))
    lut = np.full(256, grey, dtype=np.uint8)
    lut[1:_N_CELLS + 1] = np.where(code_cells(uid, frame).reshape(-1), 235, 16)
    luma[qy:qy + qh, qx:qx + qw] = cv2.LUT(_label_map((width, height)), lut)


def draw_code(rgb_frame: npt.NDArray[np.uint8], uid: str, frame: int) -> None:
    """Draw the quiet zone and the code of ``(uid, frame)`` into ``rgb_frame`` in place.

    Parameters
    ----------
    rgb_frame : ndarray of uint8, shape (H, W, 3)
        RGB picture (any size down to about 64x36).
    uid : str
        Decimal uid.
    frame : int
        Frame number (stored modulo 4096).
    """
    height, width = rgb_frame.shape[:2]
    size = (width, height)
    qx, qy, qw, qh = quiet_zone(size)
    lut = np.zeros((256, 1, 3), dtype=np.uint8)  # label -> colour, for cv2.LUT
    lut[0] = _GREY
    lut[1:_N_CELLS + 1, 0] = np.where(code_cells(uid, frame).reshape(-1, 1), 255, 0)
    rgb_frame[qy:qy + qh, qx:qx + qw] = cv2.LUT(_label_map3(size), lut)


def _box_means(plane: npt.NDArray[np.uint8],
               boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Return the mean of ``plane`` over each ``[x0, y0, x1, y1]`` box with fractional edges.

    Pixel ``(i, j)`` covers ``[j, j + 1] x [i, i + 1]``; partly covered pixels count with
    their covered area (bilinear interpolation of the integral image is exact for that).
    """
    x0 = int(np.floor(boxes[:, 0].min()))
    y0 = int(np.floor(boxes[:, 1].min()))
    x1 = int(np.ceil(boxes[:, 2].max()))
    y1 = int(np.ceil(boxes[:, 3].max()))
    sat = cv2.integral(np.ascontiguousarray(plane[y0:y1, x0:x1]), sdepth=cv2.CV_64F)
    local = boxes - np.array([x0, y0, x0, y0], dtype=np.float64)

    def at(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        xi = np.minimum(np.floor(x).astype(int), sat.shape[1] - 2)
        yi = np.minimum(np.floor(y).astype(int), sat.shape[0] - 2)
        fx, fy = x - xi, y - yi
        top = sat[yi, xi] * (1 - fx) + sat[yi, xi + 1] * fx
        bottom = sat[yi + 1, xi] * (1 - fx) + sat[yi + 1, xi + 1] * fx
        corner: npt.NDArray[np.float64] = top * (1 - fy) + bottom * fy  # sat is float64
        return corner

    lx, ly, hx, hy = local.T
    total = at(hx, hy) - at(lx, hy) - at(hx, ly) + at(lx, ly)
    means: npt.NDArray[np.float64] = total / ((hx - lx) * (hy - ly))
    return means


def code_boxes(src_wh: tuple[int, int], region: tuple[int, ...],
               render_mode: int) -> npt.NDArray[np.float64] | None:
    """Return where the code's 56 cells of a test stream drawn into ``region`` are sampled.

    The result holds the canvas boxes ``(x0, y0, x1, y1)`` of the sampled centre of each
    cell of a ``src_wh`` test stream, or None when the code is not all visible (cropped
    away, or the picture too small to carry it).  Each cell's central half (per axis) is
    mapped to the canvas by ``canvas = dst.xy + (src_xy - src.xy) * dst.wh / src.wh``
    (:func:`~layoutkit.compose.fit.place`).
    """
    try:
        cells = _geometry(src_wh)
    except ParameterError:
        return None
    x, y, w, h = region
    placement = place(src_wh, (x, y, w, h), render_mode)
    sx, sy, sw, sh = placement.src
    dx, dy, dw, dh = placement.dst
    inset = cells[:, 2:] * (1 - _SAMPLE_FRACTION) / 2
    lo = cells[:, :2] + inset
    hi = cells[:, :2] + cells[:, 2:] - inset
    if sw <= 0 or sh <= 0 or lo[:, 0].min() < sx or lo[:, 1].min() < sy or \
            hi[:, 0].max() > sx + sw or hi[:, 1].max() > sy + sh:
        return None
    origin = np.array([sx, sy], dtype=np.float64)
    scale = np.array([dw / sw, dh / sh], dtype=np.float64)
    shift = np.array([dx, dy], dtype=np.float64)
    return np.concatenate([shift + (lo - origin) * scale, shift + (hi - origin) * scale], axis=1)


def read_code(
    luma_plane: npt.NDArray[np.uint8],
    *,
    src_wh: tuple[int, int],
    region: tuple[int, int, int, int],
    render_mode: int = 0,
) -> CodeReading | None:
    """Read the code of a source drawn into ``region`` of a canvas.

    Parameters
    ----------
    luma_plane : ndarray of uint8, shape (H, W)
        The canvas' luma (a Y plane, limited or full range, or a grey picture).
    src_wh : tuple of int
        Size of the source picture that carries the code.
    region : tuple of int
        ``(x, y, w, h)`` canvas region the source was drawn into.
    render_mode : {0, 1}
        0 crop (cover), 1 fit (contain), as :func:`layoutkit.compose.fit.place`.

    Returns
    -------
    CodeReading or None
        None when part of the code is outside the visible window or the canvas, the
        calibration cells lack contrast, a cell is too close to the threshold, or the
        CRC fails.

    Notes
    -----
    Each cell is sampled as the area mean of its central half (per axis) mapped to the
    canvas by ``canvas = dst.xy + (src_xy - src.xy) * dst.wh / src.wh``; the threshold is
    midway between the black and the white calibration cell.
    """
    boxes = code_boxes((int(src_wh[0]), int(src_wh[1])), tuple(int(v) for v in region),
                       int(render_mode))
    if boxes is None:
        return None
    height, width = luma_plane.shape[:2]
    if boxes[:, :2].min() < 0 or boxes[:, 2].max() > width or boxes[:, 3].max() > height:
        return None
    if np.any(boxes[:, 2] <= boxes[:, 0]) or np.any(boxes[:, 3] <= boxes[:, 1]):
        return None
    return reading_from_means(_box_means(luma_plane, boxes))


def reading_from_means(values: npt.NDArray[np.float64]) -> CodeReading | None:
    """Read the code from the 56 cells' mean luma (row-major); None when it cannot be trusted.

    The threshold is midway between the black (first) and the white (last) calibration
    cell; None when they lack contrast, a cell is too close to the threshold, or the CRC
    fails.
    """
    return readings_from_means(np.asarray(values, dtype=np.float64)[None, :])[0]


def readings_from_means(values: npt.NDArray[np.float64]) -> list[CodeReading | None]:
    """Read several codes at once: :func:`reading_from_means` of each row of ``values``.

    ``values`` is ``(n, 56)``; the arithmetic is that of one row, done for all rows
    together (the same numbers).

    Examples
    --------
    >>> readings_from_means(np.zeros((2, 56)))
    [None, None]
    """
    black, white = values[:, :1], values[:, -1:]
    contrast = white - black
    ok = contrast[:, 0] >= _MIN_CONTRAST
    with np.errstate(divide="ignore", invalid="ignore"):
        level = (values - black) / contrast
    margins = np.abs(level[:, 1:-1] - 0.5).min(axis=1)
    ok &= margins >= _MIN_MARGIN
    valid, uids, frames = _decode_rows(level > 0.5)
    out: list[CodeReading | None] = [None] * len(values)
    for i in np.flatnonzero(ok & valid).tolist():
        out[i] = CodeReading(str(int(uids[i])), int(frames[i]), float(margins[i]))
    return out
