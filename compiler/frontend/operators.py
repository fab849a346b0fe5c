"""Network operators in te, as TVM's topi: the bodies of the operator functions front ends build.

Each function takes te tensors (and attributes) and returns te tensors, its
stages named as topi names them (`Conv2dOutput`, `T_dense`, `T_add`,
`T_softmax_norm`, ...), so that records and sketches read as TVM's do.
Weights that a compiled model may pre-transform (conv kernels, dense
weights) are marked `layout_free_placeholders`. Binary operators broadcast
as numpy does, and take a Python number for either operand (a folded
scalar constant). Arguments that do not fit the tensors raise `TEError`
(malformed strides, dilations and paddings `WorkloadError`, from the
workload library's helpers, which these reuse).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeAlias

import schedopt.te as te
from schedopt.errors import TEError
from schedopt.workloads.utils import (
    IntOrPair,
    Padding,
    WindowGeometry,
    lowest_value,
    pad,
    positive_pair,
)
from schedopt.workloads.winograd_transforms import winograd_conv2d_nhwc

Operand: TypeAlias = "te.Tensor | float | int"
"""A binary operator's operand: a tensor, or a scalar folded into the expression."""

Indices: TypeAlias = Sequence[te.Expr]

_SPATIAL_AXES = {"NCHW": (2, 3), "NHWC": (1, 2)}
"""Where the height and width axes of a 4-D activation are, by layout."""


def normalize_axis(axis: int, rank: int, what: str) -> int:
    """`axis` in [0, rank), counting negative axes from the end as numpy does."""
    if not -rank <= axis < rank:
        raise TEError(f"{what}: axis {axis} is out of range for rank {rank}")
    return axis % rank


# --- convolution ---------------------------------------------------------------


def conv2d_nhwc(
    data: te.Tensor,
    kernel: te.Tensor,
    bias: te.Tensor | None = None,
    *,
    strides: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> te.Tensor:
    """Convolution of NHWC `data` with an HWIO `kernel` (KH x KW x CI/groups x CO), plus a per-channel `bias`.

    `padding` is an int, (h, w) or (top, left, bottom, right). Stages
    `PaddedInput` and `Conv2dOutput` (topi's `conv2d_nhwc`); with groups,
    `group_conv2d_nhwc`; a depthwise convolution (one input channel per
    group) `DepthwiseConv2d`, without a reduction over channels. The kernel
    stays HWIO for depthwise too (its I is 1), unlike topi's HWOI. The bias,
    if any, is added in `T_add`.
    """
    n, height, width, in_channels = _rank4(data, "conv2d_nhwc data")
    kernel_h, kernel_w, group_channels, out_channels = _rank4(kernel, "conv2d_nhwc kernel")
    geometry = WindowGeometry.of(
        "conv2d_nhwc", (height, width), (kernel_h, kernel_w), strides, padding, dilation
    )
    per_group = _check_groups("conv2d_nhwc", in_channels, out_channels, group_channels, groups)
    padded = pad(data, (0, *geometry.pads_before, 0), (0, *geometry.pads_after, 0), name="PaddedInput")
    ry = te.reduce_axis((0, kernel_h), name="ry")
    rx = te.reduce_axis((0, kernel_w), name="rx")
    out_shape = (n, geometry.out_h, geometry.out_w, out_channels)
    attrs = {"layout_free_placeholders": [kernel]}
    if group_channels == 1 and groups > 1:

        def depthwise(b: te.IterVar, y: te.IterVar, x: te.IterVar, f: te.IterVar) -> te.Expr:
            h, w = geometry.input_index(y, x, ry, rx)
            return te.sum(padded[b, h, w, _channel_of(f, per_group)] * kernel[ry, rx, 0, f], axis=[ry, rx])

        out = te.compute(out_shape, depthwise, name="DepthwiseConv2d", attrs=attrs)
    else:
        rc = te.reduce_axis((0, group_channels), name="rc")

        def convolve(b: te.IterVar, y: te.IterVar, x: te.IterVar, f: te.IterVar) -> te.Expr:
            h, w = geometry.input_index(y, x, ry, rx)
            channel = rc if groups == 1 else te.indexdiv(f, per_group) * group_channels + rc
            return te.sum(padded[b, h, w, channel] * kernel[ry, rx, rc, f], axis=[ry, rx, rc])

        name = "Conv2dOutput" if groups == 1 else "group_conv2d_nhwc"
        out = te.compute(out_shape, convolve, name=name, attrs=attrs)
    return out if bias is None else _bias_add(out, bias, 3)


WINOGRAD_OUT_CHANNELS = (64, 512)
"""Output channel counts (from, up to but not including) of the 3x3 convolutions a CPU network runs as
Winograd. TVM's x86 strategy takes 64 < CO < 512 (measured on Skylake); on ResNet-18 on a Zen 5 host
F(4, 3) ran the 64-channel 56 x 56 layer in 0.28 ms against 0.47 ms direct, so 64 is in. From 512 on the
transformed weights (16 to 36 floats per channel pair instead of 9) stream from memory at every run."""


def winograd_tile_size(
    kernel_hw: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    groups: int,
    out_hwc: Sequence[int],
) -> int | None:
    """The Winograd tile (m of F(m, 3)) a CPU network computes this convolution with, or None: direct.

    3x3, stride 1, dilation 1, no groups, `WINOGRAD_OUT_CHANNELS` outputs; F(4, 3) where the output
    divides into 4 x 4 tiles, else F(2, 3) (TVM picks 4 when the height is a multiple of 8).
    """
    out_h, out_w, out_channels = out_hwc
    low, high = WINOGRAD_OUT_CHANNELS
    if tuple(kernel_hw) != (3, 3) or tuple(strides) != (1, 1) or tuple(dilations) != (1, 1) or groups != 1:
        return None
    if not low <= out_channels < high:
        return None
    return 4 if out_h % 4 == 0 and out_w % 4 == 0 else 2


def conv2d_winograd_nhwc(
    data: te.Tensor,
    weight: te.Tensor,
    bias: te.Tensor | None = None,
    *,
    padding: Padding = 0,
    tile_size: int = 4,
) -> te.Tensor:
    """Winograd F(tile_size, 3) convolution of NHWC `data` with a transformed weight, plus a per-channel `bias`.

    `weight` is `transform_weight` of the HWIO kernel (alpha x alpha x CI x CO); stride and dilation
    are 1. The stages are `schedopt.workloads.winograd_transforms.winograd_conv2d_nhwc`'s; the bias,
    if any, is added in `T_add`.
    """
    out = winograd_conv2d_nhwc(data, weight, padding, tile_size)
    return out if bias is None else _bias_add(out, bias, 3)


def conv2d_nchw(
    data: te.Tensor,
    kernel: te.Tensor,
    bias: te.Tensor | None = None,
    *,
    strides: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> te.Tensor:
    """Convolution of NCHW `data` with an OIHW `kernel` (CO x CI/groups x KH x KW), plus a per-channel `bias`.

    Stages `pad_temp` and `conv2d_nchw` (topi's `conv2d_nchw`); with groups
    `group_conv2d_nchw`; depthwise (one input channel per group)
    `PaddedInput` and `DepthwiseConv2d`. The bias, if any, is added in `T_add`.
    """
    n, in_channels, height, width = _rank4(data, "conv2d_nchw data")
    out_channels, group_channels, kernel_h, kernel_w = _rank4(kernel, "conv2d_nchw kernel")
    geometry = WindowGeometry.of(
        "conv2d_nchw", (height, width), (kernel_h, kernel_w), strides, padding, dilation
    )
    per_group = _check_groups("conv2d_nchw", in_channels, out_channels, group_channels, groups)
    depthwise = group_channels == 1 and groups > 1
    padded = pad(
        data,
        (0, 0, *geometry.pads_before),
        (0, 0, *geometry.pads_after),
        name="PaddedInput" if depthwise else "pad_temp",
    )
    ry = te.reduce_axis((0, kernel_h), name="ry")
    rx = te.reduce_axis((0, kernel_w), name="rx")
    out_shape = (n, out_channels, geometry.out_h, geometry.out_w)
    attrs = {"layout_free_placeholders": [kernel]}
    if depthwise:

        def depthwise_body(b: te.IterVar, f: te.IterVar, y: te.IterVar, x: te.IterVar) -> te.Expr:
            h, w = geometry.input_index(y, x, ry, rx)
            return te.sum(padded[b, _channel_of(f, per_group), h, w] * kernel[f, 0, ry, rx], axis=[ry, rx])

        out = te.compute(out_shape, depthwise_body, name="DepthwiseConv2d", attrs=attrs)
    else:
        rc = te.reduce_axis((0, group_channels), name="rc")

        def convolve(b: te.IterVar, f: te.IterVar, y: te.IterVar, x: te.IterVar) -> te.Expr:
            h, w = geometry.input_index(y, x, ry, rx)
            channel = rc if groups == 1 else te.indexdiv(f, per_group) * group_channels + rc
            return te.sum(padded[b, channel, h, w] * kernel[f, rc, ry, rx], axis=[rc, ry, rx])

        name = "conv2d_nchw" if groups == 1 else "group_conv2d_nchw"
        out = te.compute(out_shape, convolve, name=name, attrs=attrs)
    return out if bias is None else _bias_add(out, bias, 1)


def _check_groups(what: str, in_channels: int, out_channels: int, group_channels: int, groups: int) -> int:
    """The output channels per group, after checking the kernel against the data and `groups`."""
    if groups <= 0 or in_channels % groups or out_channels % groups:
        raise TEError(
            f"{what}: groups={groups} must divide the input channels ({in_channels}) "
            f"and the output channels ({out_channels})"
        )
    if group_channels * groups != in_channels:
        raise TEError(
            f"{what}: the kernel has {group_channels} input channels per group, "
            f"the data {in_channels} channels in {groups} groups"
        )
    return out_channels // groups


def _channel_of(out_channel: te.Expr, multiplier: int) -> te.Expr:
    """The input channel a depthwise output channel reads (channel multiplier `multiplier`)."""
    return out_channel if multiplier == 1 else te.indexdiv(out_channel, multiplier)


def _bias_add(data: te.Tensor, bias: te.Tensor, axis: int) -> te.Tensor:
    """`data + bias` with a 1-D bias along `axis` (Relay's `bias_add`), as a stage `T_add`."""
    if bias.shape != (data.shape[axis],):
        raise TEError(f"bias of shape {list(bias.shape)} does not match {data.shape[axis]} channels")
    return te.compute(data.shape, lambda *i: data[tuple(i)] + bias[i[axis]], name="T_add")


def _rank4(tensor: te.Tensor, what: str) -> tuple[int, int, int, int]:
    if tensor.ndim != 4:
        raise TEError(f"{what} must have rank 4, got shape {list(tensor.shape)}")
    a, b, c, d = tensor.shape
    return a, b, c, d


# --- matrix products -------------------------------------------------------------


def dense(data: te.Tensor, weight: te.Tensor, bias: te.Tensor | None = None) -> te.Tensor:
    """`data @ weight^T + bias`: data is ... x K, weight N x K (topi's dense layout, layout-free).

    Leading dimensions of `data` are kept, so a 3-D activation times a
    weight needs no reshape. Stage `T_dense`; the bias (broadcast to the
    output) is added in `T_add`.
    """
    if data.ndim < 1 or weight.ndim != 2 or data.shape[-1] != weight.shape[1]:
        raise TEError(
            f"dense: data {list(data.shape)} and weight {list(weight.shape)} do not fit "
            "(data ... x K, weight N x K)"
        )
    out_shape = (*data.shape[:-1], weight.shape[0])
    k = te.reduce_axis((0, weight.shape[1]), name="k")
    out = te.compute(
        out_shape,
        lambda *i: te.sum(data[(*i[:-1], k)] * weight[i[-1], k], axis=k),
        name="T_dense",
        attrs={"layout_free_placeholders": [weight]},
    )
    return out if bias is None else add(out, bias)


def matmul(a: te.Tensor, b: te.Tensor) -> te.Tensor:
    """numpy's `a @ b`: 1-D operands promoted (and their unit axis dropped), batch dimensions broadcast.

    Stage `T_matmul` for two matrices, `T_batch_matmul` with batch
    dimensions. Neither operand is marked layout-free: both may be
    activations (front ends turn a product with a constant matrix into
    `dense`).
    """
    a_matrix = (1, *a.shape) if a.ndim == 1 else a.shape
    b_matrix = (*b.shape, 1) if b.ndim == 1 else b.shape
    if a.ndim == 0 or b.ndim == 0 or a_matrix[-1] != b_matrix[-2]:
        raise TEError(f"matmul: shapes {list(a.shape)} and {list(b.shape)} do not fit")
    batch = broadcast_shape(a_matrix[:-2], b_matrix[:-2])
    out_shape = (*batch, *a_matrix[-2:-1][: a.ndim - 1], *b_matrix[-1:][: b.ndim - 1])
    if not out_shape:
        raise TEError("matmul: the product of two vectors is a scalar; rank-0 tensors are not supported")
    k = te.reduce_axis((0, a_matrix[-1]), name="k")

    def product(*i: te.IterVar) -> te.Expr:
        outer = i[: len(batch)]
        a_index = (*_broadcast_indices(a.shape[:-2], batch, outer), i[len(batch)], k) if a.ndim > 1 else (k,)
        b_index = (*_broadcast_indices(b.shape[:-2], batch, outer), k, i[-1]) if b.ndim > 1 else (k,)
        return te.sum(a[a_index] * b[b_index], axis=k)

    return te.compute(out_shape, product, name="T_batch_matmul" if batch else "T_matmul")


# --- broadcasting ------------------------------------------------------------------


def broadcast_shape(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The numpy broadcast of `shapes`: aligned at the right, 1 stretching to the other extent."""
    rank = max((len(s) for s in shapes), default=0)
    result: list[int] = []
    for position in range(rank):
        extents = {s[position - rank + len(s)] for s in shapes if position - rank + len(s) >= 0}
        extents.discard(1)
        if len(extents) > 1:
            raise TEError(f"shapes {', '.join(str(list(s)) for s in shapes)} do not broadcast")
        result.append(extents.pop() if extents else 1)
    return tuple(result)


def _element(tensor: te.Tensor, indices: Sequence[te.ExprLike]) -> te.Expr:
    """`tensor[indices]` with every index given: one element (a partial index would be a slice)."""
    value = tensor[tuple(indices)]
    if value.is_partial:
        raise TEError(f"tensor {tensor.name} has rank {tensor.ndim}, indexed with {len(indices)} indices")
    return value


def _broadcast_indices(shape: Sequence[int], out_shape: Sequence[int], indices: Indices) -> list[te.Expr]:
    """The indices into a tensor of `shape` broadcast to `out_shape`, given the output's `indices`."""
    offset = len(out_shape) - len(shape)
    return [te.const(0, "index") if extent == 1 else indices[offset + d] for d, extent in enumerate(shape)]


def _read(operand: Operand, out_shape: Sequence[int], indices: Indices, dtype: str) -> te.Expr:
    if isinstance(operand, te.Tensor):
        return _element(operand, _broadcast_indices(operand.shape, out_shape, indices))
    return te.const(operand, dtype)


def _broadcast_binary(
    name: str, a: Operand, b: Operand, combine: Callable[[te.Expr, te.Expr], te.Expr]
) -> te.Tensor:
    tensors = [t for t in (a, b) if isinstance(t, te.Tensor)]
    if not tensors:
        raise TEError(f"{name}: at least one operand must be a tensor")
    dtype = tensors[0].dtype
    out_shape = broadcast_shape(*(t.shape for t in tensors))
    if not out_shape:
        raise TEError(f"{name}: rank-0 tensors are not supported")
    return te.compute(
        out_shape,
        lambda *i: combine(_read(a, out_shape, i, dtype), _read(b, out_shape, i, dtype)),
        name=name,
    )


def add(a: Operand, b: Operand) -> te.Tensor:
    """`a + b`, broadcast (stage `T_add`)."""
    return _broadcast_binary("T_add", a, b, lambda x, y: x + y)


def subtract(a: Operand, b: Operand) -> te.Tensor:
    """`a - b`, broadcast (stage `T_subtract`)."""
    return _broadcast_binary("T_subtract", a, b, lambda x, y: x - y)


def multiply(a: Operand, b: Operand) -> te.Tensor:
    """`a * b`, broadcast (stage `T_multiply`)."""
    return _broadcast_binary("T_multiply", a, b, lambda x, y: x * y)


def divide(a: Operand, b: Operand) -> te.Tensor:
    """`a / b`, broadcast (stage `T_divide`); float dtypes."""
    return _broadcast_binary("T_divide", a, b, lambda x, y: x / y)


def scale_shift(data: te.Tensor, scale: te.Tensor, shift: te.Tensor, axis: int) -> te.Tensor:
    """`data * scale + shift` with 1-D `scale` and `shift` along `axis`: inference batch norm (`T_scale_shift`)."""
    axis = normalize_axis(axis, data.ndim, "scale_shift")
    channels = data.shape[axis]
    if scale.shape != (channels,) or shift.shape != (channels,):
        raise TEError(
            f"scale_shift: scale {list(scale.shape)} and shift {list(shift.shape)} "
            f"must have the {channels} elements of axis {axis}"
        )
    return te.compute(
        data.shape,
        lambda *i: data[tuple(i)] * scale[i[axis]] + shift[i[axis]],
        name="T_scale_shift",
    )


# --- elementwise ---------------------------------------------------------------------


def _elementwise(data: te.Tensor, name: str, body: Callable[[te.Expr], te.Expr]) -> te.Tensor:
    return te.compute(data.shape, lambda *i: body(_element(data, i)), name=name)


def relu(data: te.Tensor) -> te.Tensor:
    """max(x, 0) (stage `T_relu`)."""
    return _elementwise(data, "T_relu", lambda x: te.max(x, te.const(0, data.dtype)))


def clip(data: te.Tensor, a_min: float | None = None, a_max: float | None = None) -> te.Tensor:
    """x limited to [a_min, a_max]; None leaves that side open (stage `T_clip`)."""

    def clipped(x: te.Expr) -> te.Expr:
        if a_min is not None:
            x = te.max(x, te.const(a_min, data.dtype))
        if a_max is not None:
            x = te.min(x, te.const(a_max, data.dtype))
        return x

    return _elementwise(data, "T_clip", clipped)


def sigmoid(data: te.Tensor) -> te.Tensor:
    """1 / (1 + exp(-x)) (stage `T_sigmoid`)."""
    return _elementwise(data, "T_sigmoid", te.sigmoid)


def tanh(data: te.Tensor) -> te.Tensor:
    """tanh(x) (stage `T_tanh`)."""
    return _elementwise(data, "T_tanh", te.tanh)


def erf(data: te.Tensor) -> te.Tensor:
    """The error function (stage `T_erf`)."""
    return _elementwise(data, "T_erf", te.erf)


def gelu(data: te.Tensor, approximate: str = "none") -> te.Tensor:
    """GELU (stage `T_gelu`): x/2 (1 + erf(x / sqrt 2)), or with `approximate="tanh"` its tanh form."""
    dtype = data.dtype
    if approximate == "none":
        return _elementwise(
            data,
            "T_gelu",
            lambda x: (
                x
                * te.const(0.5, dtype)
                * (te.const(1.0, dtype) + te.erf(x * te.const(math.sqrt(0.5), dtype)))
            ),
        )
    if approximate == "tanh":

        def tanh_form(x: te.Expr) -> te.Expr:
            inner = te.const(math.sqrt(2 / math.pi), dtype) * (x + te.const(0.044715, dtype) * x * x * x)
            return x * te.const(0.5, dtype) * (te.const(1.0, dtype) + te.tanh(inner))

        return _elementwise(data, "T_gelu", tanh_form)
    raise TEError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


# --- pooling ---------------------------------------------------------------------------


def max_pool2d(
    data: te.Tensor,
    kernel: IntOrPair,
    strides: IntOrPair = 1,
    padding: Padding = 0,
    *,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
    layout: str = "NCHW",
) -> te.Tensor:
    """Max pooling over the height and width of a 4-D `data` in `layout` (NCHW or NHWC).

    Padding never wins (it holds the dtype's lowest value). With
    `ceil_mode`, the output size rounds up, as ONNX and PyTorch do (a window
    must start inside the input or its leading padding). Stages `pad_temp`
    (where padded) and `pool_max`.
    """
    window = _PoolWindow.of("max_pool2d", data, kernel, strides, padding, dilation, ceil_mode, layout)
    source = window.pad(data, lowest_value(data.dtype))
    rv0 = te.reduce_axis((0, window.kernel[0]), name="rv0")
    rv1 = te.reduce_axis((0, window.kernel[1]), name="rv1")
    return te.compute(
        window.out_shape(data),
        lambda *i: te.max(source[window.input_index(i, rv0, rv1)], axis=[rv0, rv1]),
        name="pool_max",
    )


def avg_pool2d(
    data: te.Tensor,
    kernel: IntOrPair,
    strides: IntOrPair = 1,
    padding: Padding = 0,
    *,
    ceil_mode: bool = False,
    count_include_pad: bool = False,
    layout: str = "NCHW",
) -> te.Tensor:
    """Average pooling over the height and width of a 4-D `data` in `layout` (NCHW or NHWC).

    A window's sum is divided by the number of input elements in it, or,
    with `count_include_pad`, of input and padding elements (what
    `ceil_mode` adds beyond the padding is never counted), as ONNX Runtime
    and PyTorch do. Stages `pad_temp` (where padded), `pool_sum`, `pool_avg`.
    """
    window = _PoolWindow.of("avg_pool2d", data, kernel, strides, padding, 1, ceil_mode, layout)
    source = window.pad(data, 0)
    rv0 = te.reduce_axis((0, window.kernel[0]), name="rv0")
    rv1 = te.reduce_axis((0, window.kernel[1]), name="rv1")
    out_shape = window.out_shape(data)
    pool_sum = te.compute(
        out_shape,
        lambda *i: te.sum(source[window.input_index(i, rv0, rv1)], axis=[rv0, rv1]),
        name="pool_sum",
    )

    def average(*i: te.IterVar) -> te.Expr:
        count = window.count(i, data, count_include_pad)
        return pool_sum[tuple(i)] / count.astype(data.dtype)

    return te.compute(out_shape, average, name="pool_avg")


def global_avg_pool2d(data: te.Tensor, layout: str = "NCHW") -> te.Tensor:
    """The mean over height and width, kept as extent-1 axes (topi's `adaptive_pool_sum`, `adaptive_pool_avg`)."""
    h_axis, w_axis = _spatial_axes(data, layout, "global_avg_pool2d")
    height, width = data.shape[h_axis], data.shape[w_axis]
    out_shape = tuple(1 if d in (h_axis, w_axis) else e for d, e in enumerate(data.shape))
    rv0 = te.reduce_axis((0, height), name="rv0")
    rv1 = te.reduce_axis((0, width), name="rv1")

    def window(i: Sequence[te.Expr]) -> tuple[te.Expr, ...]:
        index = list(i)
        index[h_axis], index[w_axis] = rv0, rv1
        return tuple(index)

    pool_sum = te.compute(
        out_shape, lambda *i: te.sum(data[window(i)], axis=[rv0, rv1]), name="adaptive_pool_sum"
    )
    return te.compute(
        out_shape,
        lambda *i: pool_sum[tuple(i)] / te.const(float(height * width), data.dtype),
        name="adaptive_pool_avg",
    )


def _spatial_axes(data: te.Tensor, layout: str, what: str) -> tuple[int, int]:
    if layout not in _SPATIAL_AXES:
        raise TEError(f"{what}: layout must be one of {', '.join(_SPATIAL_AXES)}, got {layout!r}")
    if data.ndim != 4:
        raise TEError(f"{what}: data must have rank 4, got shape {list(data.shape)}")
    return _SPATIAL_AXES[layout]


class _PoolWindow:
    """The window of a pooling: where height and width are, kernel, strides, padding (with ceil mode's extra)."""

    def __init__(
        self,
        axes: tuple[int, int],
        kernel: tuple[int, int],
        geometry: WindowGeometry,
        extra: tuple[int, int],
        size: tuple[int, int],
    ):
        self.axes = axes
        self.kernel = kernel
        self.geometry = geometry
        self.extra = extra
        self.size = size

    @classmethod
    def of(
        cls,
        what: str,
        data: te.Tensor,
        kernel: IntOrPair,
        strides: IntOrPair,
        padding: Padding,
        dilation: IntOrPair,
        ceil_mode: bool,
        layout: str,
    ) -> _PoolWindow:
        axes = _spatial_axes(data, layout, what)
        size = (data.shape[axes[0]], data.shape[axes[1]])
        window = positive_pair(kernel, "kernel", what)
        geometry = WindowGeometry.of(what, size, window, strides, padding, dilation)
        top, left, bottom, right = geometry.pads
        if max(top, bottom) >= window[0] or max(left, right) >= window[1]:
            raise TEError(f"{what}: padding {padding!r} must be less than the kernel {window}")
        extra = (0, 0)
        if ceil_mode:
            pads = ((top, bottom), (left, right))
            outs: list[int] = []
            extras: list[int] = []
            for extent, k, s, d, (before, after) in zip(
                size, window, geometry.stride, geometry.dilation, pads, strict=True
            ):
                span = (k - 1) * d + 1
                out = -(-(extent + before + after - span) // s) + 1
                if (out - 1) * s >= extent + before:  # the last window would start in the trailing padding
                    out -= 1
                outs.append(out)
                extras.append(max(0, (out - 1) * s + span - (extent + before + after)))
            geometry = replace(geometry, out_h=outs[0], out_w=outs[1])
            extra = (extras[0], extras[1])
        return cls(axes, window, geometry, extra, size)

    def pad(self, data: te.Tensor, value: float) -> te.Tensor:
        g = self.geometry
        before, after = [0] * 4, [0] * 4
        before[self.axes[0]], before[self.axes[1]] = g.pads_before
        after[self.axes[0]], after[self.axes[1]] = g.pads[2] + self.extra[0], g.pads[3] + self.extra[1]
        if not any(before) and not any(after):
            return data
        return pad(data, before, after, value, name="pad_temp")

    def out_shape(self, data: te.Tensor) -> tuple[int, ...]:
        shape = list(data.shape)
        shape[self.axes[0]], shape[self.axes[1]] = self.geometry.out_h, self.geometry.out_w
        return tuple(shape)

    def input_index(self, out_index: Sequence[te.Expr], rv0: te.Expr, rv1: te.Expr) -> tuple[te.Expr, ...]:
        index = list(out_index)
        h_axis, w_axis = self.axes
        index[h_axis], index[w_axis] = self.geometry.input_index(
            out_index[h_axis], out_index[w_axis], rv0, rv1
        )
        return tuple(index)

    def count(self, out_index: Sequence[te.Expr], data: te.Tensor, include_pad: bool) -> te.Expr:
        """How many elements the window of `out_index` averages (an index expression)."""
        top, left, bottom, right = self.geometry.pads
        stride_h, stride_w = self.geometry.stride
        rows = _window_extent(
            out_index[self.axes[0]], stride_h, top, bottom, self.kernel[0], self.size[0], include_pad
        )
        cols = _window_extent(
            out_index[self.axes[1]], stride_w, left, right, self.kernel[1], self.size[1], include_pad
        )
        return rows * cols


def _window_extent(
    out_index: te.Expr,
    stride: int,
    pad_before: int,
    pad_after: int,
    kernel: int,
    size: int,
    include_pad: bool,
) -> te.Expr:
    """The extent of one output's window along one axis, in the input (or input and padding)."""
    start = out_index * stride - pad_before
    if include_pad:
        return te.min(start + kernel, size + pad_after) - start
    return te.min(start + kernel, size) - te.max(start, 0)


# --- normalisation and reductions ---------------------------------------------------------


def softmax(data: te.Tensor, axis: int = -1) -> te.Tensor:
    """Softmax along `axis`, in topi's stages `T_softmax_maxelem`, `T_softmax_exp`, `T_softmax_expsum`, `T_softmax_norm`."""
    axis = normalize_axis(axis, data.ndim, "softmax")
    shape = data.shape
    reduced = shape[:axis] + shape[axis + 1 :] or (1,)

    def outer(i: Sequence[te.Expr]) -> tuple[te.Expr, ...]:
        """The index into a reduced tensor of the element at `i`."""
        return tuple(i[:axis]) + tuple(i[axis + 1 :]) or (te.const(0, "index"),)

    def along(i: Sequence[te.Expr], k: te.Expr) -> tuple[te.Expr, ...]:
        """The element at position k along `axis` of the row of reduced index `i`."""
        inner = tuple(i) if data.ndim > 1 else ()
        return (*inner[:axis], k, *inner[axis:])

    k1 = te.reduce_axis((0, shape[axis]), name="k")
    max_elem = te.compute(reduced, lambda *i: te.max(data[along(i, k1)], axis=k1), name="T_softmax_maxelem")
    exp = te.compute(shape, lambda *i: te.exp(data[tuple(i)] - max_elem[outer(i)]), name="T_softmax_exp")
    k2 = te.reduce_axis((0, shape[axis]), name="k")
    expsum = te.compute(reduced, lambda *i: te.sum(exp[along(i, k2)], axis=k2), name="T_softmax_expsum")
    return te.compute(
        shape, lambda *i: exp[tuple(i)] / expsum[outer(i)], name="T_softmax_norm", attrs={"axis": axis}
    )


def layer_norm(
    data: te.Tensor,
    gamma: te.Tensor | None = None,
    beta: te.Tensor | None = None,
    *,
    axis: int = -1,
    epsilon: float = 1e-5,
) -> te.Tensor:
    """Layer normalisation over the axes from `axis` on (ONNX's LayerNormalization), then `* gamma + beta`.

    gamma and beta broadcast to the normalised dimensions. Stages
    `T_layer_norm_mean`, `T_layer_norm_var` (a second pass over the
    centred values, as the library's `layer_norm` workload) and `T_layer_norm`.
    """
    axis = normalize_axis(axis, data.ndim, "layer_norm")
    outer_shape, inner_shape = data.shape[:axis], data.shape[axis:]
    for what, tensor in (("gamma", gamma), ("beta", beta)):
        if tensor is not None and (
            tensor.ndim > len(inner_shape) or broadcast_shape(tensor.shape, inner_shape) != inner_shape
        ):
            raise TEError(
                f"layer_norm: {what} of shape {list(tensor.shape)} does not broadcast to "
                f"the normalised shape {list(inner_shape)}"
            )
    dtype = data.dtype
    inv_n = te.const(1.0 / math.prod(inner_shape), dtype)
    stats_shape = outer_shape or (1,)

    def reduce_axes() -> list[te.IterVar]:
        return [te.reduce_axis((0, e), name=f"k{d}") for d, e in enumerate(inner_shape)]

    def row(i: Sequence[te.Expr]) -> tuple[te.Expr, ...]:
        return tuple(i[:axis]) if axis else (te.const(0, "index"),)

    def element(i: Sequence[te.Expr], ks: Sequence[te.Expr]) -> te.Expr:
        return _element(data, (*i[:axis], *ks) if axis else ks)

    k_mean = reduce_axes()
    mean = te.compute(
        stats_shape, lambda *i: te.sum(element(i, k_mean) * inv_n, axis=k_mean), name="T_layer_norm_mean"
    )
    k_var = reduce_axes()

    def variance(*i: te.IterVar) -> te.Expr:
        centred = element(i, k_var) - mean[row(i)]
        return te.sum(centred * centred * inv_n, axis=k_var)

    var = te.compute(stats_shape, variance, name="T_layer_norm_var")

    def normalised(*i: te.IterVar) -> te.Expr:
        value = (data[tuple(i)] - mean[row(i)]) * te.rsqrt(var[row(i)] + te.const(epsilon, dtype))
        if gamma is not None:
            value = value * _read(gamma, data.shape, i, dtype)
        if beta is not None:
            value = value + _read(beta, data.shape, i, dtype)
        return value

    return te.compute(data.shape, normalised, name="T_layer_norm")


def reduce_mean(data: te.Tensor, axes: Sequence[int] | None = None, keepdims: bool = True) -> te.Tensor:
    """The mean over `axes` (None: all), keeping them as extent-1 axes or dropping them (stage `T_mean`)."""
    reduced = sorted(
        {normalize_axis(a, data.ndim, "reduce_mean") for a in (range(data.ndim) if axes is None else axes)}
    )
    if not reduced:
        raise TEError("reduce_mean: no axes to reduce")
    kept = [d for d in range(data.ndim) if d not in reduced]
    if keepdims:
        out_shape = tuple(1 if d in reduced else e for d, e in enumerate(data.shape))
    else:
        out_shape = tuple(data.shape[d] for d in kept) or (1,)
    ks = {d: te.reduce_axis((0, data.shape[d]), name=f"k{d}") for d in reduced}
    inv_n = te.const(1.0 / math.prod(data.shape[d] for d in reduced), data.dtype)

    def mean(*i: te.IterVar) -> te.Expr:
        spatial = iter(i[d] for d in kept) if keepdims else iter(i)
        index = tuple(ks[d] if d in ks else next(spatial) for d in range(data.ndim))
        return te.sum(data[index] * inv_n, axis=list(ks.values()))

    return te.compute(out_shape, mean, name="T_mean")


# --- data movement -------------------------------------------------------------------------


def transpose(data: te.Tensor, axes: Sequence[int] | None = None) -> te.Tensor:
    """`data` with its axes permuted: output axis d is input axis axes[d] (default: reversed). Stage `T_transpose`."""
    perm = (
        list(reversed(range(data.ndim)))
        if axes is None
        else [normalize_axis(a, data.ndim, "transpose") for a in axes]
    )
    if sorted(perm) != list(range(data.ndim)):
        raise TEError(f"transpose: {list(axes or [])} is not a permutation of {data.ndim} axes")
    return _permute(data, perm, "T_transpose")


def layout_transform(data: te.Tensor, src_layout: str, dst_layout: str) -> te.Tensor:
    """`data` from `src_layout` to `dst_layout`, two orders of the same axes (NCHW <-> NHWC). Stage `T_layout_trans`."""
    if sorted(src_layout) != sorted(dst_layout) or len(set(src_layout)) != len(src_layout):
        raise TEError(f"layout_transform: {src_layout!r} and {dst_layout!r} are not orders of the same axes")
    if len(src_layout) != data.ndim:
        raise TEError(f"layout_transform: layout {src_layout!r} for data of shape {list(data.shape)}")
    return _permute(data, [src_layout.index(a) for a in dst_layout], "T_layout_trans")


def _permute(data: te.Tensor, perm: Sequence[int], name: str) -> te.Tensor:
    inverse = [perm.index(d) for d in range(len(perm))]
    return te.compute(
        tuple(data.shape[p] for p in perm),
        lambda *i: _element(data, [i[inverse[d]] for d in range(len(perm))]),
        name=name,
    )


def reshape(data: te.Tensor, newshape: Sequence[int]) -> te.Tensor:
    """`data` in row-major order with shape `newshape` (stage `T_reshape`).

    The shapes are cut into groups of axes with equal products (768 ->
    12 x 64), so each input index is computed from its own group's output
    indices: no division where an axis stays.
    """
    shape = tuple(newshape)
    if any(e <= 0 for e in shape) or math.prod(shape) != math.prod(data.shape):
        raise TEError(f"reshape: cannot reshape {list(data.shape)} to {list(shape)}")
    groups = _reshape_groups(data.shape, shape)

    def read(*i: te.IterVar) -> te.Expr:
        index: list[te.Expr] = [te.const(0, "index")] * data.ndim
        for in_axes, out_axes in groups:
            flat: te.Expr | None = None
            for d in out_axes:
                flat = i[d] if flat is None else flat * shape[d] + i[d]
            stride = 1
            for d in reversed(in_axes):
                assert flat is not None
                position = flat if stride == 1 else te.indexdiv(flat, stride)
                index[d] = position if d == in_axes[0] else te.indexmod(position, data.shape[d])
                stride *= data.shape[d]
        return _element(data, index)

    return te.compute(shape, read, name="T_reshape")


def _reshape_groups(src: Sequence[int], dst: Sequence[int]) -> list[tuple[list[int], list[int]]]:
    """Consecutive groups of input and output axes whose extents have equal products.

    Extent-1 axes belong to no group: the input's are read at index 0, the
    output's index nothing.
    """
    src_axes = [d for d, e in enumerate(src) if e > 1]
    dst_axes = [d for d, e in enumerate(dst) if e > 1]
    groups: list[tuple[list[int], list[int]]] = []
    i = j = 0
    while i < len(src_axes):
        in_axes, out_axes = [src_axes[i]], [dst_axes[j]]
        in_size, out_size = src[src_axes[i]], dst[dst_axes[j]]
        i, j = i + 1, j + 1
        while in_size != out_size:
            if in_size < out_size:
                in_axes.append(src_axes[i])
                in_size *= src[src_axes[i]]
                i += 1
            else:
                out_axes.append(dst_axes[j])
                out_size *= dst[dst_axes[j]]
                j += 1
        groups.append((in_axes, out_axes))
    return groups


def flatten(data: te.Tensor, axis: int = 1) -> te.Tensor:
    """`data` as a matrix: the axes before `axis` become rows, the rest columns (ONNX's Flatten)."""
    if not 0 <= axis <= data.ndim:
        axis = normalize_axis(axis, data.ndim, "flatten")
    return reshape(data, (math.prod(data.shape[:axis]), math.prod(data.shape[axis:])))


def concatenate(tensors: Sequence[te.Tensor], axis: int = 0) -> te.Tensor:
    """`tensors` joined along `axis` (stage `T_concat`); the other extents must agree."""
    if not tensors:
        raise TEError("concatenate: no tensors")
    first = tensors[0]
    axis = normalize_axis(axis, first.ndim, "concatenate")
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(
            a != b for d, (a, b) in enumerate(zip(t.shape, first.shape, strict=True)) if d != axis
        ):
            raise TEError(
                f"concatenate: shapes {[list(x.shape) for x in tensors]} differ outside axis {axis}"
            )
    offsets = [0]
    for t in tensors:
        offsets.append(offsets[-1] + t.shape[axis])
    shape = (*first.shape[:axis], offsets[-1], *first.shape[axis + 1 :])

    def join(*i: te.IterVar) -> te.Expr:
        def piece(n: int) -> te.Expr:
            index: list[te.Expr] = list(i)
            index[axis] = i[axis] - offsets[n] if offsets[n] else i[axis]
            return _element(tensors[n], index)

        value = piece(len(tensors) - 1)
        for n in reversed(range(len(tensors) - 1)):
            value = te.if_then_else(i[axis] < offsets[n + 1], piece(n), value)
        return value

    return te.compute(shape, join, name="T_concat")
