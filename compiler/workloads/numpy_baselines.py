"""Fast numpy versions of the workloads: what a numpy user runs, to time sched-opt against.

Unlike `numpy_reference` (float64, written from each operator's definition,
to check results), these compute in the workload's dtype the way one writes
them for speed: `@` for products (OpenBLAS), an im2col view copied into a
matrix and `@` for convolutions, whole-array expressions for the rest.
`baseline(name, args, inputs)` returns a callable without arguments that
returns the output (for timing), or None when the workload has no baseline
here; each baseline reads the workload's arguments by name
(`workload_arguments`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from schedopt.workloads.arguments import workload_arguments
from schedopt.workloads.utils import IntOrPair, Padding, pair

Baseline = Callable[[], object]
MakeBaseline = Callable[[list[np.ndarray], SimpleNamespace], Baseline | None]
"""(inputs in placeholder order, the workload's arguments by name) -> its baseline, or None."""

_BASELINES: dict[str, MakeBaseline] = {}


def baseline(name: str, args: Sequence[Any], inputs: Sequence[np.ndarray]) -> Baseline | None:
    """A call computing workload `name` (with `args`) on `inputs` in numpy, or None if there is none."""
    make = _BASELINES.get(name)
    return None if make is None else make(list(inputs), workload_arguments(name, args))


def _baseline(function: MakeBaseline) -> MakeBaseline:
    _BASELINES[function.__name__] = function
    return function


@_baseline
def matmul(inputs: list[np.ndarray], args: SimpleNamespace) -> Baseline:
    a, b = inputs
    out = np.matmul(a, b)
    return lambda: np.matmul(a, b, out=out)


_BASELINES["batch_matmul"] = matmul  # np.matmul takes the leading axis as the batch


@_baseline
def dense_bias_relu(inputs: list[np.ndarray], args: SimpleNamespace) -> Baseline:
    data, weight, bias = inputs
    out = data @ weight.T

    def run() -> np.ndarray:
        np.matmul(data, weight.T, out=out)
        np.add(out, bias, out=out)
        return np.maximum(out, 0, out=out)

    return run


def _im2col_fits(args: SimpleNamespace) -> bool:
    """Whether im2col here takes the convolution: no dilation, each side of an axis padded alike."""
    symmetric = isinstance(args.padding, int) or len(args.padding) == 2
    return symmetric and pair(args.dilation, "dilation", "numpy baseline") == (1, 1)


def im2col_conv2d_nhwc(
    data: np.ndarray, kernel: np.ndarray, stride: IntOrPair, padding: Padding
) -> np.ndarray:
    """NHWC convolution (kernel HWIO) as an im2col view copied into a matrix, then `@`."""
    n, h, w, ci = data.shape
    kh, kw, _, co = kernel.shape
    (sh, sw), (ph, pw) = pair(stride, "stride", "im2col"), pair(padding, "padding", "im2col")
    padded = np.pad(data, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    out_h, out_w = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    bn, bh, bw, bc = padded.strides
    windows = as_strided(
        padded, (n, out_h, out_w, kh, kw, ci), (bn, bh * sh, bw * sw, bh, bw, bc), writeable=False
    )
    columns = windows.reshape(n * out_h * out_w, kh * kw * ci)
    return (columns @ kernel.reshape(kh * kw * ci, co)).reshape(n, out_h, out_w, co)


@_baseline
def conv2d_nhwc(inputs: list[np.ndarray], args: SimpleNamespace) -> Baseline | None:
    data, kernel = inputs
    if not _im2col_fits(args):
        return None
    return lambda: im2col_conv2d_nhwc(data, kernel, args.stride, args.padding)


@_baseline
def conv2d_nchw(inputs: list[np.ndarray], args: SimpleNamespace) -> Baseline | None:
    data, kernel = inputs
    if not _im2col_fits(args):
        return None
    hwio = np.ascontiguousarray(kernel.transpose(2, 3, 1, 0))

    def run() -> np.ndarray:
        nhwc = np.ascontiguousarray(data.transpose(0, 2, 3, 1))
        return im2col_conv2d_nhwc(nhwc, hwio, args.stride, args.padding).transpose(0, 3, 1, 2)

    return run


@_baseline
def softmax(inputs: list[np.ndarray], args: SimpleNamespace) -> Baseline:
    (data,) = inputs

    def run() -> np.ndarray:
        e = np.exp(data - data.max(axis=1, keepdims=True))
        e /= e.sum(axis=1, keepdims=True)
        return e

    return run


@_baseline
def layer_norm(inputs: list[np.ndarray], args: SimpleNamespace) -> Baseline:
    data, gamma, beta = inputs

    def run() -> np.ndarray:
        mean = data.mean(axis=1, keepdims=True)
        centred = data - mean
        var = (centred * centred).mean(axis=1, keepdims=True)
        return centred / np.sqrt(var + args.eps) * gamma + beta

    return run


@_baseline
def add(inputs: list[np.ndarray], args: SimpleNamespace) -> Baseline:
    a, b = inputs
    out = np.empty_like(a)
    return lambda: np.add(a, b, out=out)


@_baseline
def elementwise_chain(inputs: list[np.ndarray], args: SimpleNamespace) -> Baseline:
    a, b, c = inputs
    out = np.empty_like(a)

    def run() -> np.ndarray:
        np.multiply(a, b, out=out)
        np.add(out, c, out=out)
        return np.maximum(out, 0, out=out)

    return run
