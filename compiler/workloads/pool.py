"""2-D pooling in NCHW, as topi's `pool2d` (floor mode, no dilation).

`kernel` and `stride` are an int or an (h, w) pair; `padding` is an int,
(h, w) or (top, left, bottom, right), each less than the kernel size so
that every window holds at least one element of the input. The input is
padded in a stage `pad_temp` only where some padding is asked for, as
topi does.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from numpy.typing import NDArray

import schedopt.te as te
from schedopt.errors import WorkloadError
from schedopt.workload_registry import register_workload
from schedopt.workloads.library import Array, add_to_library
from schedopt.workloads.numpy_support import f64, pad_hw, window_tap
from schedopt.workloads.utils import (
    IntOrPair,
    Padding,
    WindowGeometry,
    lowest_value,
    pad,
    pair,
    positive_pair,
)


@register_workload
def max_pool2d(
    N: int,
    C: int,
    H: int,
    W: int,
    kernel: IntOrPair,
    stride: IntOrPair,
    padding: Padding,
    dtype: str = "float32",
) -> list[te.Tensor]:
    """Max pooling: data is N x C x H x W, the output N x C x OH x OW.

    Padding holds the lowest finite value of the dtype (`tvm.te.min_value`),
    so it never wins. Stages `pad_temp` (where padded) and `pool_max`.
    """
    window = _Window.of("max_pool2d", H, W, kernel, stride, padding)
    data = te.placeholder((N, C, H, W), dtype, name="data")
    pool = window.reduce(window.pad(data, lowest_value(dtype)), te.max, N, C, "pool_max")
    return [data, pool]


def _max_pool2d_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    (data,) = inputs
    windows = _pool_windows(data, args, -np.inf)
    return [np.max(np.stack(windows), axis=0).astype(args.dtype)]


add_to_library(max_pool2d, _max_pool2d_reference)


@register_workload
def avg_pool2d(
    N: int,
    C: int,
    H: int,
    W: int,
    kernel: IntOrPair,
    stride: IntOrPair,
    padding: Padding,
    dtype: str = "float32",
    count_include_pad: bool = False,
) -> list[te.Tensor]:
    """Average pooling: data is N x C x H x W, the output N x C x OH x OW.

    With `count_include_pad=False` (topi's default, and ours) a window's sum
    is divided by the number of input elements inside it, padding excluded;
    with True, by the kernel size. Stages `pad_temp` (where padded),
    `pool_sum` and `pool_avg`. Float dtypes only.
    """
    if not dtype.startswith("float"):
        raise WorkloadError(f"avg_pool2d: dtype {dtype!r} is not a float type")
    window = _Window.of("avg_pool2d", H, W, kernel, stride, padding)
    data = te.placeholder((N, C, H, W), dtype, name="data")
    pool_sum = window.reduce(window.pad(data, 0), te.sum, N, C, "pool_sum")

    def average(n: te.IterVar, c: te.IterVar, h: te.IterVar, w: te.IterVar) -> te.Expr:
        if count_include_pad:
            return pool_sum[n, c, h, w] / te.const(window.kernel_h * window.kernel_w, dtype)
        count = window.valid_count(h, w, H, W)
        return pool_sum[n, c, h, w] / count.astype(dtype)

    pool_avg = te.compute(pool_sum.shape, average, name="pool_avg")
    return [data, pool_avg]


def _avg_pool2d_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    (data,) = inputs
    total = np.sum(np.stack(_pool_windows(data, args, 0.0)), axis=0)
    if args.count_include_pad:
        KH, KW = pair(args.kernel, "kernel", "avg_pool2d")
        return [(total / (KH * KW)).astype(args.dtype)]
    ones = np.ones((1, 1, *data.shape[2:]))
    count = np.sum(np.stack(_pool_windows(ones, args, 0.0)), axis=0)
    return [(total / count).astype(args.dtype)]


add_to_library(avg_pool2d, _avg_pool2d_reference)


def _pool_windows(data: Array, args: SimpleNamespace, pad_value: float) -> list[NDArray[np.float64]]:
    """For the numpy references: every tap of the pooling window, the padded input under it at every output."""
    _, _, H, W = data.shape
    KH, KW = pair(args.kernel, "kernel", "numpy reference")
    window = WindowGeometry.of("numpy reference", (H, W), (KH, KW), args.stride, args.padding)
    padded = pad_hw(f64(data), window.pads, pad_value)
    return [window_tap(padded, window, ky, kx) for ky in range(KH) for kx in range(KW)]


class _Window:
    """The pooling window of a workload: its size and geometry, and the padding stage it reads."""

    def __init__(self, kernel: tuple[int, int], geometry: WindowGeometry):
        self.kernel_h, self.kernel_w = kernel
        self.geometry = geometry
        self.out_h, self.out_w = geometry.out_h, geometry.out_w

    @classmethod
    def of(
        cls, workload: str, H: int, W: int, kernel: IntOrPair, stride: IntOrPair, padding: Padding
    ) -> _Window:
        kernel_h, kernel_w = positive_pair(kernel, "kernel", workload)
        geometry = WindowGeometry.of(workload, (H, W), (kernel_h, kernel_w), stride, padding)
        top, left, bottom, right = geometry.pads
        if max(top, bottom) >= kernel_h or max(left, right) >= kernel_w:
            raise WorkloadError(f"{workload}: padding {padding!r} must be less than the kernel {kernel!r}")
        return cls((kernel_h, kernel_w), geometry)

    def pad(self, data: te.Tensor, value: float) -> te.Tensor:
        if not any(self.geometry.pads):
            return data
        before = (0, 0, *self.geometry.pads_before)
        after = (0, 0, *self.geometry.pads_after)
        return pad(data, before, after, value, name="pad_temp")

    def reduce(self, source: te.Tensor, combine: te.CommReducer, N: int, C: int, name: str) -> te.Tensor:
        """Each output's window of `source` (the padded input) combined by `combine` (`te.max`, `te.sum`)."""
        stride_h, stride_w = self.geometry.stride
        rv0 = te.reduce_axis((0, self.kernel_h), name="rv0")
        rv1 = te.reduce_axis((0, self.kernel_w), name="rv1")
        return te.compute(
            (N, C, self.out_h, self.out_w),
            lambda n, c, h, w: combine(source[n, c, h * stride_h + rv0, w * stride_w + rv1], axis=[rv0, rv1]),
            name=name,
        )

    def valid_count(self, h: te.Expr, w: te.Expr, H: int, W: int) -> te.Expr:
        """How many input elements the window of output (h, w) covers (an index expression)."""
        (stride_h, stride_w), (top, left) = self.geometry.stride, self.geometry.pads_before
        rows = _covered(h, stride_h, top, self.kernel_h, H)
        cols = _covered(w, stride_w, left, self.kernel_w, W)
        return rows * cols


def _covered(out_index: te.Expr, stride: int, pad_before: int, kernel: int, size: int) -> te.Expr:
    start = out_index * stride - pad_before
    end = start + (kernel - 1)
    return te.min(end, size - 1) - te.max(start, 0) + 1
