"""numpy references of the workloads in `schedopt.workloads`, and their random inputs.

Each reference is written from the operator's definition, independently of
the te declaration: convolutions pad explicitly and sum one kernel tap at a
time, the transposed convolution scatters input * kernel into its output,
pooling takes explicit windows. They compute in float64 and return the
workload's dtype, so they are the more accurate side of a comparison.

    inputs = random_inputs("matmul", dag, np.random.default_rng(0))
    (expected,) = reference("matmul", (64, 32, 16), inputs)

`reference` takes the workload's arguments as they are in its key (tuples
may be lists); each reference reads them by name (`workload_arguments`), the
left-out ones defaulted as the te definition does. Stride, dilation and
padding are normalised as the te side does (`WindowGeometry`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from schedopt.workloads.arguments import workload_arguments
from schedopt.workloads.conv2d import winograd_matrices
from schedopt.workloads.utils import IntOrPair, Padding, WindowGeometry, pad_tuple, pair

if TYPE_CHECKING:
    from schedopt.compute_dag import ComputeDAG

Array: TypeAlias = NDArray[Any]
Reference: TypeAlias = Callable[[list[Array], SimpleNamespace], list[Array]]
"""(inputs in placeholder order, the workload's arguments by name) -> outputs."""

REFERENCES: dict[str, Reference] = {}
"""The reference of each workload, by workload name."""


def reference(name: str, args: Sequence[Any], inputs: Sequence[Array]) -> list[Array]:
    """The outputs of workload `name` called with `args`, on `inputs` (in placeholder order)."""
    if name not in REFERENCES:
        raise KeyError(f"no numpy reference for workload {name!r} (known: {', '.join(sorted(REFERENCES))})")
    return REFERENCES[name](list(inputs), workload_arguments(name, args))


def random_inputs(name: str, dag: ComputeDAG, rng: np.random.Generator | None = None) -> list[Array]:
    """Random inputs for the placeholders of `dag` (workload `name`), in order, of their dtypes.

    Floats are uniform in [-1, 1); integers uniform in [-8, 8); bools fair coins.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    return [_random_array(dag.op(p).shape, dag.op(p).dtype, rng) for p in dag.placeholder_names]


def _random_array(shape: Sequence[int], dtype: str, rng: np.random.Generator) -> Array:
    if dtype == "bool":
        return rng.integers(0, 2, size=tuple(shape)).astype(np.bool_)
    if np.issubdtype(np.dtype(dtype), np.integer):
        return rng.integers(-8, 8, size=tuple(shape)).astype(dtype)
    return rng.uniform(-1.0, 1.0, size=tuple(shape)).astype(dtype)


def _register(function: Reference) -> Reference:
    REFERENCES[function.__name__] = function
    return function


def _f64(array: Array) -> NDArray[np.float64]:
    return np.asarray(array, dtype=np.float64)


def _pad_hw(x: Array, pads: tuple[int, int, int, int], value: float) -> Array:
    """x (N x C x H x W) padded on H and W by (top, left, bottom, right)."""
    top, left, bottom, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _tap(padded: Array, window: WindowGeometry, ky: int, kx: int) -> Array:
    """The elements of `padded` (N x C x H x W) under window offset (ky, kx), for every output."""
    y0, x0 = window.input_index(0, 0, ky, kx)
    stride_h, stride_w = window.stride
    return padded[
        :,
        :,
        y0 : y0 + (window.out_h - 1) * stride_h + 1 : stride_h,
        x0 : x0 + (window.out_w - 1) * stride_w + 1 : stride_w,
    ]


# --- matrix products -----------------------------------------------------------------


@_register
def matmul(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    A, B = inputs
    return [(_f64(A) @ _f64(B)).astype(args.dtype)]


@_register
def batch_matmul(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    A, B = inputs
    return [np.matmul(_f64(A), _f64(B)).astype(args.dtype)]


@_register
def dense_bias_relu(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    data, weight, bias = inputs
    return [np.maximum(_f64(data) @ _f64(weight).T + _f64(bias), 0.0).astype(args.dtype)]


# --- convolutions ---------------------------------------------------------------------


def _conv_nchw(
    data: Array,
    kernel: Array,
    stride: IntOrPair,
    padding: Padding,
    dilation: IntOrPair,
    depthwise: bool = False,
) -> NDArray[np.float64]:
    """Convolution of data (N x CI x H x W) with kernel (CO x CI x KH x KW, or C x 1 x KH x KW
    when depthwise), one kernel tap at a time."""
    _, _, H, W = data.shape
    _, _, KH, KW = kernel.shape
    window = WindowGeometry.of("numpy reference", (H, W), (KH, KW), stride, padding, dilation)
    padded = _pad_hw(_f64(data), window.pads, 0.0)
    weights = _f64(kernel)
    out = np.zeros((data.shape[0], weights.shape[0], window.out_h, window.out_w))
    for ky in range(KH):
        for kx in range(KW):
            under_tap = _tap(padded, window, ky, kx)
            if depthwise:
                out += under_tap * weights[:, 0, ky, kx][None, :, None, None]
            else:
                out += np.einsum("nchw,oc->nohw", under_tap, weights[:, :, ky, kx])
    return out


@_register
def conv2d_nchw(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    data, kernel = inputs
    return [_conv_nchw(data, kernel, args.stride, args.padding, args.dilation).astype(args.dtype)]


@_register
def conv2d_nhwc(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    data, kernel = inputs  # NHWC and HWIO
    out = _conv_nchw(
        data.transpose(0, 3, 1, 2), kernel.transpose(3, 2, 0, 1), args.stride, args.padding, args.dilation
    )
    return [out.transpose(0, 2, 3, 1).astype(args.dtype)]


@_register
def depthwise_conv2d_nchw(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    data, kernel = inputs
    out = _conv_nchw(data, kernel, args.stride, args.padding, args.dilation, depthwise=True)
    return [out.astype(args.dtype)]


@_register
def conv2d_transpose_nchw(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    """Every input element, times the kernel, added into the output at its position times the stride."""
    data, kernel = (_f64(x) for x in inputs)  # NCHW and IOHW
    N, _, H, W = data.shape
    _, CO, KH, KW = kernel.shape
    stride_h, stride_w = pair(args.stride, "stride", "conv2d_transpose_nchw")
    opad_h, opad_w = pair(args.output_padding, "output_padding", "conv2d_transpose_nchw")
    top, left, bottom, right = pad_tuple(args.padding, "conv2d_transpose_nchw")
    full = np.zeros((N, CO, (H - 1) * stride_h + KH + opad_h, (W - 1) * stride_w + KW + opad_w))
    for ky in range(KH):
        for kx in range(KW):
            contribution = np.einsum("nihw,io->nohw", data, kernel[:, :, ky, kx])
            full[
                :, :, ky : ky + (H - 1) * stride_h + 1 : stride_h, kx : kx + (W - 1) * stride_w + 1 : stride_w
            ] += contribution
    out_h = (H - 1) * stride_h - top - bottom + KH + opad_h
    out_w = (W - 1) * stride_w - left - right + KW + opad_w
    return [full[:, :, top : top + out_h, left : left + out_w].astype(args.dtype)]


def _conv_bn_nchw(inputs: list[Array], args: SimpleNamespace) -> NDArray[np.float64]:
    """(conv2d_nchw(data, kernel) + bias) * scale + offset, the parameters CO x 1 x 1 broadcast over N, H and W."""
    data, kernel, bias, scale, offset = inputs[:5]
    conv = _conv_nchw(data, kernel, args.strides, args.padding, args.dilation)
    return (conv + _f64(bias)[None]) * _f64(scale)[None] + _f64(offset)[None]


@_register
def conv2d_bn_relu(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    return [np.maximum(_conv_bn_nchw(inputs, args), 0.0).astype(args.dtype)]


@_register
def conv2d_bn_residual_relu(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    residual = inputs[5]
    return [np.maximum(_conv_bn_nchw(inputs, args) + _f64(residual), 0.0).astype(args.dtype)]


@_register
def conv2d_winograd_nhwc(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    """Tile by tile: Y = A^T [U * (B^T d B)] A, U the pre-transformed weight (alpha x alpha x CI x CO)."""
    data, weight = (_f64(x) for x in inputs)  # NHWC
    N, H, W, CI = data.shape
    CO = weight.shape[3]
    m, r = args.tile_size, args.kernel_size
    alpha = m + r - 1
    top, left, bottom, right = pad_tuple(args.padding, "conv2d_winograd_nhwc")
    out_h, out_w = H + top + bottom - r + 1, W + left + right - r + 1
    n_h, n_w = -(-out_h // m), -(-out_w // m)
    padded = np.zeros((N, (n_h - 1) * m + alpha, (n_w - 1) * m + alpha, CI))
    padded[:, top : top + H, left : left + W, :] = data
    a, b, _ = (np.asarray(x) for x in winograd_matrices(m, r))
    out = np.zeros((N, n_h * m, n_w * m, CO))
    for y in range(n_h):
        for x in range(n_w):
            tile = padded[:, y * m : y * m + alpha, x * m : x * m + alpha, :]
            transformed = np.einsum("ae,nabc,bf->nefc", b, tile, b)
            product = np.einsum("nefc,efco->nefo", transformed, weight)
            out[:, y * m : (y + 1) * m, x * m : (x + 1) * m, :] = np.einsum("ev,nefo,fw->nvwo", a, product, a)
    return [out[:, :out_h, :out_w, :].astype(args.dtype)]


# --- pooling --------------------------------------------------------------------------


def _pool_windows(data: Array, args: SimpleNamespace, pad_value: float) -> list[NDArray[np.float64]]:
    """For every tap of the pooling window, the padded input under it at every output position."""
    _, _, H, W = data.shape
    KH, KW = pair(args.kernel, "kernel", "numpy reference")
    window = WindowGeometry.of("numpy reference", (H, W), (KH, KW), args.stride, args.padding)
    padded = _pad_hw(_f64(data), window.pads, pad_value)
    return [_tap(padded, window, ky, kx) for ky in range(KH) for kx in range(KW)]


@_register
def max_pool2d(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    (data,) = inputs
    windows = _pool_windows(data, args, -np.inf)
    return [np.max(np.stack(windows), axis=0).astype(args.dtype)]


@_register
def avg_pool2d(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    (data,) = inputs
    total = np.sum(np.stack(_pool_windows(data, args, 0.0)), axis=0)
    if args.count_include_pad:
        KH, KW = pair(args.kernel, "kernel", "avg_pool2d")
        return [(total / (KH * KW)).astype(args.dtype)]
    ones = np.ones((1, 1, *data.shape[2:]))
    count = np.sum(np.stack(_pool_windows(ones, args, 0.0)), axis=0)
    return [(total / count).astype(args.dtype)]


# --- normalisation ----------------------------------------------------------------------


@_register
def softmax(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    x = _f64(inputs[0])
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return [(e / e.sum(axis=1, keepdims=True)).astype(args.dtype)]


@_register
def layer_norm(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    data, gamma, beta = (_f64(x) for x in inputs)
    mean = data.mean(axis=1, keepdims=True)
    var = data.var(axis=1, keepdims=True)
    return [((data - mean) / np.sqrt(var + args.eps) * gamma + beta).astype(args.dtype)]


# --- elementwise --------------------------------------------------------------------------


@_register
def add(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    A, B = inputs
    return [(_f64(A) + _f64(B)).astype(args.dtype)]


@_register
def elementwise_chain(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    A, B, C = (_f64(x) for x in inputs)
    return [np.maximum(A * B + C, 0.0).astype(args.dtype)]
