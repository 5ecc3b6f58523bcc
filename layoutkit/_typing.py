"""The numpy array aliases the package's signatures use: one home for them.

Pictures are uint8 (``RGB`` ``(H, W, 3)``, ``I420`` ``(H * 3 // 2, W)`` yuv420p planes,
``U8`` any other uint8 array such as a luma plane); sound is float32 ``Samples`` in
[-1, 1]; the rest name their dtype.  Shapes are in each function's docstring.

Examples
--------
>>> import numpy as np
>>> from layoutkit._typing import RGB
>>> image: RGB = np.zeros((2, 2, 3), np.uint8)
>>> image.dtype.name
'uint8'
"""

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["F32", "F64", "I32", "I64", "I420", "IDX", "RGB", "U8", "BoolArray", "Samples"]

#: Any uint8 array (a luma plane, a mask of 0/255, an image).
U8: TypeAlias = npt.NDArray[np.uint8]
#: An ``(H, W, 3)`` uint8 RGB picture.
RGB: TypeAlias = npt.NDArray[np.uint8]
#: A yuv420p picture, ``(H * 3 // 2, W)`` uint8: Y rows, then U and V (the recorder's buffer).
I420: TypeAlias = npt.NDArray[np.uint8]
#: Mono or interleaved float32 sound samples in [-1, 1].
Samples: TypeAlias = npt.NDArray[np.float32]
F32: TypeAlias = npt.NDArray[np.float32]
F64: TypeAlias = npt.NDArray[np.float64]
I32: TypeAlias = npt.NDArray[np.int32]
I64: TypeAlias = npt.NDArray[np.int64]
#: Indices (``np.intp``), as ``np.nonzero`` and ``np.argsort`` return them.
IDX: TypeAlias = npt.NDArray[np.intp]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
