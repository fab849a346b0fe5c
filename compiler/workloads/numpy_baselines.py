"""Fast numpy versions of the workloads: what a numpy user runs, to time sched-opt against.

Unlike `numpy_reference` (float64, written from each operator's definition,
to check results), these compute in the workload's dtype the way one writes
them for speed: `@` for products (OpenBLAS), an im2col view copied into a
matrix and `@` for convolutions, whole-array expressions for the rest.
`baseline(name, args, inputs)` returns a callable without arguments that
returns the output (for timing), or None when the workload has no baseline
here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

Baseline = Callable[[], object]

_BASELINES: dict[str, Callable[..., Baseline | None]] = {}


def baseline(name: str, args: Sequence[Any], inputs: Sequence[np.ndarray]) -> Baseline | None:
    """A call computing workload `name` (with `args`) on `inputs` in numpy, or None if there is none."""
    make = _BASELINES.get(name)
    return None if make is None else make(list(inputs), *args)


def _baseline(function: Callable[..., Baseline | None]) -> Callable[..., Baseline | None]:
    _BASELINES[function.__name__] = function
    return function


@_baseline
def matmul(inputs: list[np.ndarray], *args: Any) -> Baseline:
    a, b = inputs
    out = np.matmul(a, b)
    return lambda: np.matmul(a, b, out=out)


@_baseline
def batch_matmul(inputs: list[np.ndarray], *args: Any) -> Baseline:
    return matmul(inputs)


@_baseline
def dense_bias_relu(inputs: list[np.ndarray], *args: Any) -> Baseline:
    data, weight, bias = inputs
    out = data @ weight.T

    def run() -> np.ndarray:
        np.matmul(data, weight.T, out=out)
        np.add(out, bias, out=out)
        return np.maximum(out, 0, out=out)

    return run


def _pairs(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _symmetric(padding: Any) -> bool:
    """Whether `padding` pads each side of an axis alike (an int or a pair, as im2col here takes it)."""
    return isinstance(padding, int) or len(padding) == 2


def im2col_conv2d_nhwc(data: np.ndarray, kernel: np.ndarray, stride: Any, padding: Any) -> np.ndarray:
    """NHWC convolution (kernel HWIO) as an im2col view copied into a matrix, then `@`."""
    n, h, w, ci = data.shape
    kh, kw, _, co = kernel.shape
    (sh, sw), (ph, pw) = _pairs(stride), _pairs(padding)
    padded = np.pad(data, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    out_h, out_w = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    bn, bh, bw, bc = padded.strides
    windows = as_strided(
        padded, (n, out_h, out_w, kh, kw, ci), (bn, bh * sh, bw * sw, bh, bw, bc), writeable=False
    )
    columns = windows.reshape(n * out_h * out_w, kh * kw * ci)
    return (columns @ kernel.reshape(kh * kw * ci, co)).reshape(n, out_h, out_w, co)


@_baseline
def conv2d_nhwc(
    inputs: list[np.ndarray], N, CI, H, W, CO, KH, KW, stride, padding, dilation=1, dtype="float32"
):
    data, kernel = inputs
    if _pairs(dilation) != (1, 1) or not _symmetric(padding):
        return None
    return lambda: im2col_conv2d_nhwc(data, kernel, stride, padding)


@_baseline
def conv2d_nchw(
    inputs: list[np.ndarray], N, CI, H, W, CO, KH, KW, stride, padding, dilation=1, dtype="float32"
):
    data, kernel = inputs
    if _pairs(dilation) != (1, 1) or not _symmetric(padding):
        return None
    hwio = np.ascontiguousarray(kernel.transpose(2, 3, 1, 0))

    def run() -> np.ndarray:
        nhwc = np.ascontiguousarray(data.transpose(0, 2, 3, 1))
        return im2col_conv2d_nhwc(nhwc, hwio, stride, padding).transpose(0, 3, 1, 2)

    return run


@_baseline
def softmax(inputs: list[np.ndarray], *args: Any) -> Baseline:
    (data,) = inputs

    def run() -> np.ndarray:
        e = np.exp(data - data.max(axis=1, keepdims=True))
        e /= e.sum(axis=1, keepdims=True)
        return e

    return run


@_baseline
def layer_norm(
    inputs: list[np.ndarray], M: int, N: int, eps: float = 1e-5, dtype: str = "float32"
) -> Baseline:
    data, gamma, beta = inputs

    def run() -> np.ndarray:
        mean = data.mean(axis=1, keepdims=True)
        centred = data - mean
        var = (centred * centred).mean(axis=1, keepdims=True)
        return centred / np.sqrt(var + eps) * gamma + beta

    return run


@_baseline
def add(inputs: list[np.ndarray], *args: Any) -> Baseline:
    a, b = inputs
    out = np.empty_like(a)
    return lambda: np.add(a, b, out=out)


@_baseline
def elementwise_chain(inputs: list[np.ndarray], *args: Any) -> Baseline:
    a, b, c = inputs
    out = np.empty_like(a)

    def run() -> np.ndarray:
        np.multiply(a, b, out=out)
        np.add(out, c, out=out)
        return np.maximum(out, 0, out=out)

    return run
