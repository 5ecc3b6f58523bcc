"""Sums over many boxes of an integral image, their corners worked out once.

Compare sums the same boxes in every frame (descriptor cells, code cells): the flat indices
of each box's four corners in the integral image are computed once (:func:`box_corners`),
and each frame's sums are one gather and a signed sum (:func:`box_sums`).
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from .._typing import IDX

__all__ = ["box_corners", "box_sums"]

Number = TypeVar("Number", bound=np.number[Any])


def box_corners(x0: npt.ArrayLike, y0: npt.ArrayLike, x1: npt.ArrayLike, y1: npt.ArrayLike,
                row_length: int) -> IDX:
    """Return the flat indices of boxes' corners in a row-major integral image.

    Parameters
    ----------
    x0, y0, x1, y1 : array_like of int
        The boxes ``[x0, x1) x [y0, y1)`` in pixels of the summed image.
    row_length : int
        The integral image's row length (the image's width + 1).

    Returns
    -------
    ndarray of intp, shape ``(4, *x0.shape)``
        Corners ``(x1, y1)``, ``(x1, y0)``, ``(x0, y1)``, ``(x0, y0)``: the order of the
        box sum's signs (+, -, -, +) in :func:`box_sums`.
    """
    x0, y0, x1, y1 = (np.asarray(v, dtype=np.intp) for v in (x0, y0, x1, y1))
    return np.stack([y1 * row_length + x1, y0 * row_length + x1,
                     y1 * row_length + x0, y0 * row_length + x0])


def box_sums(integral: npt.NDArray[Number], corners: IDX) -> npt.NDArray[Number]:
    """Sum every box of :func:`box_corners` out of a flattened integral image.

    Parameters
    ----------
    integral : ndarray, shape ``(pixels, ...)``
        An integral image flattened along its two image axes (channels, if any, after).
    corners : ndarray of intp, shape ``(4, ...)``
        From :func:`box_corners` (offsets may be added for several images in one buffer).

    Returns
    -------
    ndarray, shape ``(*corners.shape[1:], ...)``
        Each box's sum, ``integral``'s dtype.

    Examples
    --------
    >>> import cv2
    >>> image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> integral = cv2.integral(image, sdepth=cv2.CV_32S)
    >>> corners = box_corners([1, 0], [0, 2], [3, 4], [2, 3], integral.shape[1])
    >>> box_sums(integral.reshape(-1), corners)  # 1 + 2 + 5 + 6, 8 + 9 + 10 + 11
    array([14, 38], dtype=int32)
    """
    values = integral.take(corners, axis=0)
    total: npt.NDArray[Number] = values[0] - values[1] - values[2] + values[3]
    return total
