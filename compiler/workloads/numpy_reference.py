"""numpy references of the workloads in `schedopt.workloads`, and their random inputs.

Each reference is written from the operator's definition, independently of
the te declaration: convolutions pad explicitly and sum one kernel tap at a
time, the transposed convolution scatters input * kernel into its output,
pooling takes explicit windows. They compute in float64 and return the
workload's dtype, so they are the more accurate side of a comparison.

    inputs = random_inputs("matmul", dag, np.random.default_rng(0))
    (expected,) = reference("matmul", (64, 32, 16), inputs)

`reference` takes the workload's arguments as they are in its key (tuples
may be lists) and defaults the ones left out as the workload does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from schedopt.compute_dag import ComputeDAG

Array: TypeAlias = NDArray[Any]
Reference: TypeAlias = Callable[..., list[Array]]

REFERENCES: dict[str, Reference] = {}
"""The reference of each workload, by workload name."""


def reference(name: str, args: Sequence[Any], inputs: Sequence[Array]) -> list[Array]:
    """The outputs of workload `name` called with `args`, on `inputs` (in placeholder order)."""
    if name not in REFERENCES:
        raise KeyError(f"no numpy reference for workload {name!r} (known: {', '.join(sorted(REFERENCES))})")
    return REFERENCES[name](list(inputs), *args)


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


# --- argument normalisation (topi's conventions) ---------------------------------


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    h, w = value
    return int(h), int(w)


def _pads(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right)."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    values = [int(p) for p in padding]
    if len(values) == 2:
        return values[0], values[1], values[0], values[1]
    top, left, bottom, right = values
    return top, left, bottom, right


def _pad_hw(x: Array, pads: tuple[int, int, int, int], value: float) -> Array:
    """x (N x C x H x W) padded on H and W."""
    top, left, bottom, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _tap(padded: Array, y0: int, x0: int, out_h: int, out_w: int, stride: tuple[int, int]) -> Array:
    """The elements of `padded` (N x C x H x W) under one kernel tap at (y0, x0), for every output."""
    stride_h, stride_w = stride
    return padded[
        :, :, y0 : y0 + (out_h - 1) * stride_h + 1 : stride_h, x0 : x0 + (out_w - 1) * stride_w + 1 : stride_w
    ]


def _out_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int) -> int:
    return (size + pad_before + pad_after - (kernel - 1) * dilation - 1) // stride + 1


# --- matrix products -----------------------------------------------------------------


@_register
def matmul(inputs: list[Array], N: int, M: int, K: int, dtype: str = "float32") -> list[Array]:
    A, B = inputs
    return [(_f64(A) @ _f64(B)).astype(dtype)]


@_register
def batch_matmul(
    inputs: list[Array], batch: int, N: int, M: int, K: int, dtype: str = "float32"
) -> list[Array]:
    A, B = inputs
    return [np.matmul(_f64(A), _f64(B)).astype(dtype)]


@_register
def dense_bias_relu(
    inputs: list[Array], batch: int, in_dim: int, out_dim: int, dtype: str = "float32"
) -> list[Array]:
    data, weight, bias = inputs
    return [np.maximum(_f64(data) @ _f64(weight).T + _f64(bias), 0.0).astype(dtype)]


# --- convolutions ---------------------------------------------------------------------


def _conv_nchw(
    data: Array,
    kernel: Array,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dilation: int | Sequence[int],
    depthwise: bool = False,
) -> NDArray[np.float64]:
    """Convolution of data (N x CI x H x W) with kernel (CO x CI x KH x KW, or C x 1 x KH x KW
    when depthwise), one kernel tap at a time."""
    _, _, H, W = data.shape
    _, _, KH, KW = kernel.shape
    strides, (dilation_h, dilation_w), pads = _pair(stride), _pair(dilation), _pads(padding)
    out_h = _out_size(H, KH, strides[0], pads[0], pads[2], dilation_h)
    out_w = _out_size(W, KW, strides[1], pads[1], pads[3], dilation_w)
    padded = _pad_hw(_f64(data), pads, 0.0)
    weights = _f64(kernel)
    out = np.zeros((data.shape[0], weights.shape[0], out_h, out_w))
    for ky in range(KH):
        for kx in range(KW):
            window = _tap(padded, ky * dilation_h, kx * dilation_w, out_h, out_w, strides)
            if depthwise:
                out += window * weights[:, 0, ky, kx][None, :, None, None]
            else:
                out += np.einsum("nchw,oc->nohw", window, weights[:, :, ky, kx])
    return out


@_register
def conv2d_nchw(
    inputs: list[Array],
    N: int,
    CI: int,
    H: int,
    W: int,
    CO: int,
    KH: int,
    KW: int,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    dtype: str = "float32",
) -> list[Array]:
    data, kernel = inputs
    return [_conv_nchw(data, kernel, stride, padding, dilation).astype(dtype)]


@_register
def conv2d_nhwc(
    inputs: list[Array],
    N: int,
    CI: int,
    H: int,
    W: int,
    CO: int,
    KH: int,
    KW: int,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    dtype: str = "float32",
) -> list[Array]:
    data, kernel = inputs  # NHWC and HWIO
    out = _conv_nchw(data.transpose(0, 3, 1, 2), kernel.transpose(3, 2, 0, 1), stride, padding, dilation)
    return [out.transpose(0, 2, 3, 1).astype(dtype)]


@_register
def depthwise_conv2d_nchw(
    inputs: list[Array],
    N: int,
    C: int,
    H: int,
    W: int,
    KH: int,
    KW: int,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    dtype: str = "float32",
) -> list[Array]:
    data, kernel = inputs
    return [_conv_nchw(data, kernel, stride, padding, dilation, depthwise=True).astype(dtype)]


@_register
def conv2d_transpose_nchw(
    inputs: list[Array],
    N: int,
    CI: int,
    H: int,
    W: int,
    CO: int,
    KH: int,
    KW: int,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dtype: str = "float32",
    output_padding: int | Sequence[int] = 0,
) -> list[Array]:
    """Every input element, times the kernel, added into the output at its position times the stride."""
    data, kernel = (_f64(x) for x in inputs)  # NCHW and IOHW
    stride_h, stride_w = _pair(stride)
    opad_h, opad_w = _pair(output_padding)
    top, left, bottom, right = _pads(padding)
    full = np.zeros((N, CO, (H - 1) * stride_h + KH + opad_h, (W - 1) * stride_w + KW + opad_w))
    for ky in range(KH):
        for kx in range(KW):
            contribution = np.einsum("nihw,io->nohw", data, kernel[:, :, ky, kx])
            full[
                :, :, ky : ky + (H - 1) * stride_h + 1 : stride_h, kx : kx + (W - 1) * stride_w + 1 : stride_w
            ] += contribution
    out_h = (H - 1) * stride_h - top - bottom + KH + opad_h
    out_w = (W - 1) * stride_w - left - right + KW + opad_w
    return [full[:, :, top : top + out_h, left : left + out_w].astype(dtype)]


def _batch_norm_nchw(
    conv: NDArray[np.float64], bias: Array, scale: Array, offset: Array
) -> NDArray[np.float64]:
    """(conv + bias) * scale + offset, the parameters CO x 1 x 1 broadcast over N, H and W."""
    return (conv + _f64(bias)[None]) * _f64(scale)[None] + _f64(offset)[None]


@_register
def conv2d_bn_relu(
    inputs: list[Array],
    N: int,
    H: int,
    W: int,
    CI: int,
    CO: int,
    kernel_size: int,
    strides: int | Sequence[int],
    padding: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    dtype: str = "float32",
) -> list[Array]:
    data, kernel, bias, scale, offset = inputs
    conv = _conv_nchw(data, kernel, strides, padding, dilation)
    return [np.maximum(_batch_norm_nchw(conv, bias, scale, offset), 0.0).astype(dtype)]


@_register
def conv2d_bn_residual_relu(
    inputs: list[Array],
    N: int,
    H: int,
    W: int,
    CI: int,
    CO: int,
    kernel_size: int,
    strides: int | Sequence[int],
    padding: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    dtype: str = "float32",
) -> list[Array]:
    data, kernel, bias, scale, offset, residual = inputs
    conv = _conv_nchw(data, kernel, strides, padding, dilation)
    return [np.maximum(_batch_norm_nchw(conv, bias, scale, offset) + _f64(residual), 0.0).astype(dtype)]


@_register
def conv2d_winograd_nhwc(
    inputs: list[Array],
    N: int,
    H: int,
    W: int,
    CI: int,
    CO: int,
    kernel_size: int = 3,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    dtype: str = "float32",
    tile_size: int = 4,
) -> list[Array]:
    """Tile by tile: Y = A^T [U * (B^T d B)] A, U the pre-transformed weight (alpha x alpha x CI x CO)."""
    from schedopt.workloads.conv2d import winograd_matrices

    data, weight = (_f64(x) for x in inputs)  # NHWC
    m, r = tile_size, kernel_size
    alpha = m + r - 1
    top, left, bottom, right = _pads(padding)
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
    return [out[:, :out_h, :out_w, :].astype(dtype)]


# --- pooling --------------------------------------------------------------------------


def _pool_windows(
    data: Array,
    kernel: int | Sequence[int],
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    pad_value: float,
) -> list[NDArray[np.float64]]:
    """For every tap of the pooling window, the padded input under it at every output position."""
    _, _, H, W = data.shape
    (KH, KW), strides, pads = _pair(kernel), _pair(stride), _pads(padding)
    out_h = _out_size(H, KH, strides[0], pads[0], pads[2], 1)
    out_w = _out_size(W, KW, strides[1], pads[1], pads[3], 1)
    padded = _pad_hw(_f64(data), pads, pad_value)
    return [_tap(padded, ky, kx, out_h, out_w, strides) for ky in range(KH) for kx in range(KW)]


@_register
def max_pool2d(
    inputs: list[Array],
    N: int,
    C: int,
    H: int,
    W: int,
    kernel: int | Sequence[int],
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dtype: str = "float32",
) -> list[Array]:
    (data,) = inputs
    windows = _pool_windows(data, kernel, stride, padding, -np.inf)
    return [np.max(np.stack(windows), axis=0).astype(dtype)]


@_register
def avg_pool2d(
    inputs: list[Array],
    N: int,
    C: int,
    H: int,
    W: int,
    kernel: int | Sequence[int],
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dtype: str = "float32",
    count_include_pad: bool = False,
) -> list[Array]:
    (data,) = inputs
    total = np.sum(np.stack(_pool_windows(data, kernel, stride, padding, 0.0)), axis=0)
    if count_include_pad:
        KH, KW = _pair(kernel)
        return [(total / (KH * KW)).astype(dtype)]
    ones = np.ones((1, 1, H, W))
    count = np.sum(np.stack(_pool_windows(ones, kernel, stride, padding, 0.0)), axis=0)
    return [(total / count).astype(dtype)]


# --- normalisation ----------------------------------------------------------------------


@_register
def softmax(inputs: list[Array], M: int, N: int, dtype: str = "float32") -> list[Array]:
    x = _f64(inputs[0])
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return [(e / e.sum(axis=1, keepdims=True)).astype(dtype)]


@_register
def layer_norm(inputs: list[Array], M: int, N: int, eps: float = 1e-5, dtype: str = "float32") -> list[Array]:
    data, gamma, beta = (_f64(x) for x in inputs)
    mean = data.mean(axis=1, keepdims=True)
    var = data.var(axis=1, keepdims=True)
    return [((data - mean) / np.sqrt(var + eps) * gamma + beta).astype(dtype)]


# --- elementwise --------------------------------------------------------------------------


@_register
def add(inputs: list[Array], M: int, N: int, dtype: str = "float32") -> list[Array]:
    A, B = inputs
    return [(_f64(A) + _f64(B)).astype(dtype)]


@_register
def elementwise_chain(inputs: list[Array], M: int, N: int, dtype: str = "float32") -> list[Array]:
    A, B, C = (_f64(x) for x in inputs)
    return [np.maximum(A * B + C, 0.0).astype(dtype)]
