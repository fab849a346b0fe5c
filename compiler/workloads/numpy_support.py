"""numpy helpers the workloads' references share: float64 copies, and the windows of an NCHW input.

The windowed references (convolutions, pooling) pad explicitly and read one
window tap at a time, where `WindowGeometry` says the te side reads, so both
sides take stride, dilation and padding alike.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from schedopt.workloads.library import Array
from schedopt.workloads.utils import WindowGeometry


def f64(array: Array) -> NDArray[np.float64]:
    """`array` in float64, the precision the references compute in."""
    return np.asarray(array, dtype=np.float64)


def pad_hw(x: Array, pads: tuple[int, int, int, int], value: float) -> Array:
    """x (N x C x H x W) padded on H and W by (top, left, bottom, right)."""
    top, left, bottom, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def window_tap(padded: Array, window: WindowGeometry, ky: int, kx: int) -> Array:
    """The elements of `padded` (N x C x H x W) under window offset (ky, kx), for every output."""
    y0, x0 = window.input_index(0, 0, ky, kx)
    stride_h, stride_w = window.stride
    return padded[
        :,
        :,
        y0 : y0 + (window.out_h - 1) * stride_h + 1 : stride_h,
        x0 : x0 + (window.out_w - 1) * stride_w + 1 : stride_w,
    ]
