"""2-D convolutions as topi declares them: NCHW, NHWC, depthwise, transposed, Winograd, and NCHW with
batch norm and relu.

Each pads its input in a stage of its own (an `if_then_else` per element,
as `topi.nn.pad`), then reduces in the convolution stage. `stride`,
`dilation` (and a kernel size) are an int or an (h, w) pair; `padding` is
an int, (h, w) or (top, left, bottom, right). Beside each te definition
stand its numpy reference and, for NCHW and NHWC, its im2col baseline.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

import schedopt.te as te
from schedopt.errors import WorkloadError
from schedopt.workload_registry import register_workload
from schedopt.workloads.library import Array, Baseline, add_to_library
from schedopt.workloads.numpy_support import f64, pad_hw, window_tap
from schedopt.workloads.utils import (
    IntOrPair,
    Padding,
    WindowGeometry,
    check_out_size,
    pad,
    pad_tuple,
    pair,
    positive_pair,
)
from schedopt.workloads.winograd_transforms import winograd_conv2d_nhwc, winograd_matrices


@register_workload
def conv2d_nchw(
    N: int,
    CI: int,
    H: int,
    W: int,
    CO: int,
    KH: int,
    KW: int,
    stride: IntOrPair,
    padding: Padding,
    dilation: IntOrPair = 1,
    dtype: str = "float32",
) -> list[te.Tensor]:
    """Convolution in NCHW: data is N x CI x H x W, kernel is CO x CI x KH x KW (OIHW).

    Stages `pad_temp` and `conv2d_nchw`, as `topi.nn.conv2d_nchw`; the kernel
    is marked layout-free, as `conv2d_nhwc`'s is.
    """
    data = te.placeholder((N, CI, H, W), dtype, name="data")
    kernel = te.placeholder((CO, CI, KH, KW), dtype, name="kernel")
    return [data, kernel, _conv2d_nchw(data, kernel, stride, padding, dilation, "conv2d_nchw")]


def _conv2d_nchw(
    data: te.Tensor, kernel: te.Tensor, stride: IntOrPair, padding: Padding, dilation: IntOrPair, name: str
) -> te.Tensor:
    """The `pad_temp` and `conv2d_nchw` stages of `conv2d_nchw` on given placeholders."""
    N, CI, H, W = data.shape
    CO, _, KH, KW = kernel.shape
    window = WindowGeometry.of(name, (H, W), (KH, KW), stride, padding, dilation)
    pad_temp = pad(data, (0, 0, *window.pads_before), (0, 0, *window.pads_after), name="pad_temp")
    rc = te.reduce_axis((0, CI), name="rc")
    ry = te.reduce_axis((0, KH), name="ry")
    rx = te.reduce_axis((0, KW), name="rx")
    return te.compute(
        (N, CO, window.out_h, window.out_w),
        lambda nn, ff, yy, xx: te.sum(
            pad_temp[(nn, rc, *window.input_index(yy, xx, ry, rx))] * kernel[ff, rc, ry, rx],
            axis=[rc, ry, rx],
        ),
        name="conv2d_nchw",
        attrs={"layout_free_placeholders": [kernel]},
    )


def _conv2d_nchw_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    data, kernel = inputs
    return [_convolve_nchw(data, kernel, args.stride, args.padding, args.dilation).astype(args.dtype)]


def _conv2d_nchw_baseline(inputs: list[Array], args: SimpleNamespace) -> Baseline | None:
    data, kernel = inputs
    if not _im2col_fits(args):
        return None
    hwio = np.ascontiguousarray(kernel.transpose(2, 3, 1, 0))

    def run() -> Array:
        nhwc = np.ascontiguousarray(data.transpose(0, 2, 3, 1))
        return _im2col_conv2d_nhwc(nhwc, hwio, args.stride, args.padding).transpose(0, 3, 1, 2)

    return run


add_to_library(conv2d_nchw, _conv2d_nchw_reference, _conv2d_nchw_baseline)


@register_workload
def conv2d_bn_relu(
    N: int,
    H: int,
    W: int,
    CI: int,
    CO: int,
    kernel_size: int,
    strides: IntOrPair,
    padding: Padding,
    dilation: IntOrPair = 1,
    dtype: str = "float32",
) -> list[te.Tensor]:
    """relu((conv2d_nchw(data, kernel) + bias) * bn_scale + bn_offset): ResNet's conv, batch norm, relu.

    TVM's `conv2d_nchw_bn_relu_auto_scheduler_test`, with its argument order:
    data is N x CI x H x W, kernel CO x CI x k x k, and bias, bn_scale and
    bn_offset CO x 1 x 1, read at `[c, 0, 0]`. Stages `pad_temp`,
    `conv2d_nchw`, `Bias_add`, `Bn_mul`, `Bn_add`, `T_relu`.
    """
    inputs, normalised = _conv2d_bn(
        "conv2d_bn_relu", N, H, W, CI, CO, kernel_size, strides, padding, dilation, dtype
    )
    return [*inputs, _relu(normalised)]


@register_workload
def conv2d_bn_residual_relu(
    N: int,
    H: int,
    W: int,
    CI: int,
    CO: int,
    kernel_size: int,
    strides: IntOrPair,
    padding: Padding,
    dilation: IntOrPair = 1,
    dtype: str = "float32",
) -> list[te.Tensor]:
    """relu(batch_norm(conv2d_nchw(data, kernel)) + residual): the end of a ResNet basic block.

    As `conv2d_bn_relu`, with a `residual` input of the output's shape added
    in a stage `T_add` before the relu.
    """
    name = "conv2d_bn_residual_relu"
    inputs, normalised = _conv2d_bn(name, N, H, W, CI, CO, kernel_size, strides, padding, dilation, dtype)
    residual = te.placeholder(normalised.shape, dtype, name="residual")
    total = te.compute(
        normalised.shape, lambda n, c, h, w: normalised[n, c, h, w] + residual[n, c, h, w], name="T_add"
    )
    return [*inputs, residual, _relu(total)]


def _conv2d_bn(
    name: str,
    N: int,
    H: int,
    W: int,
    CI: int,
    CO: int,
    kernel_size: int,
    strides: IntOrPair,
    padding: Padding,
    dilation: IntOrPair,
    dtype: str,
) -> tuple[list[te.Tensor], te.Tensor]:
    """The placeholders and the last batch-norm stage (`Bn_add`) of the conv2d + batch-norm workloads.

    The per-channel parameters are CO x 1 x 1 and read at constant indices
    (`bias[c, 0, 0]`), as in TVM's test workload.
    """
    data = te.placeholder((N, CI, H, W), dtype, name="data")
    kernel = te.placeholder((CO, CI, kernel_size, kernel_size), dtype, name="kernel")
    bias = te.placeholder((CO, 1, 1), dtype, name="bias")
    bn_scale = te.placeholder((CO, 1, 1), dtype, name="bn_scale")
    bn_offset = te.placeholder((CO, 1, 1), dtype, name="bn_offset")
    conv = _conv2d_nchw(data, kernel, strides, padding, dilation, name)
    shape = conv.shape
    biased = te.compute(shape, lambda n, c, h, w: conv[n, c, h, w] + bias[c, 0, 0], name="Bias_add")
    scaled = te.compute(shape, lambda n, c, h, w: biased[n, c, h, w] * bn_scale[c, 0, 0], name="Bn_mul")
    shifted = te.compute(shape, lambda n, c, h, w: scaled[n, c, h, w] + bn_offset[c, 0, 0], name="Bn_add")
    return [data, kernel, bias, bn_scale, bn_offset], shifted


def _relu(x: te.Tensor) -> te.Tensor:
    return te.compute(x.shape, lambda n, c, h, w: te.max(x[n, c, h, w], te.const(0, x.dtype)), name="T_relu")


def _conv_bn_nchw(inputs: list[Array], args: SimpleNamespace) -> NDArray[np.float64]:
    """For the references: (conv2d_nchw(data, kernel) + bias) * scale + offset, the parameters
    CO x 1 x 1 broadcast over N, H and W."""
    data, kernel, bias, scale, offset = inputs[:5]
    conv = _convolve_nchw(data, kernel, args.strides, args.padding, args.dilation)
    return (conv + f64(bias)[None]) * f64(scale)[None] + f64(offset)[None]


def _conv2d_bn_relu_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    return [np.maximum(_conv_bn_nchw(inputs, args), 0.0).astype(args.dtype)]


def _conv2d_bn_residual_relu_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    residual = inputs[5]
    return [np.maximum(_conv_bn_nchw(inputs, args) + f64(residual), 0.0).astype(args.dtype)]


add_to_library(conv2d_bn_relu, _conv2d_bn_relu_reference)
add_to_library(conv2d_bn_residual_relu, _conv2d_bn_residual_relu_reference)


@register_workload
def conv2d_nhwc(
    N: int,
    CI: int,
    H: int,
    W: int,
    CO: int,
    KH: int,
    KW: int,
    stride: IntOrPair,
    padding: Padding,
    dilation: IntOrPair = 1,
    dtype: str = "float32",
) -> list[te.Tensor]:
    """Convolution in NHWC: data is N x H x W x CI, kernel is KH x KW x CI x CO (HWIO).

    The arguments are in `conv2d_nchw`'s order, whatever the layout.

    Stages `PaddedInput` and `Conv2dOutput`, as `topi.nn.conv2d_nhwc`
    (which also marks the kernel layout-free).
    """
    window = WindowGeometry.of("conv2d_nhwc", (H, W), (KH, KW), stride, padding, dilation)
    data = te.placeholder((N, H, W, CI), dtype, name="data")
    kernel = te.placeholder((KH, KW, CI, CO), dtype, name="kernel")
    padded = pad(data, (0, *window.pads_before, 0), (0, *window.pads_after, 0), name="PaddedInput")
    ry = te.reduce_axis((0, KH), name="ry")
    rx = te.reduce_axis((0, KW), name="rx")
    rc = te.reduce_axis((0, CI), name="rc")
    conv = te.compute(
        (N, window.out_h, window.out_w, CO),
        lambda nn, yy, xx, ff: te.sum(
            padded[(nn, *window.input_index(yy, xx, ry, rx), rc)] * kernel[ry, rx, rc, ff],
            axis=[ry, rx, rc],
        ),
        name="Conv2dOutput",
        attrs={"layout_free_placeholders": [kernel]},
    )
    return [data, kernel, conv]


def _conv2d_nhwc_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    data, kernel = inputs  # NHWC and HWIO
    out = _convolve_nchw(
        data.transpose(0, 3, 1, 2), kernel.transpose(3, 2, 0, 1), args.stride, args.padding, args.dilation
    )
    return [out.transpose(0, 2, 3, 1).astype(args.dtype)]


def _conv2d_nhwc_baseline(inputs: list[Array], args: SimpleNamespace) -> Baseline | None:
    data, kernel = inputs
    if not _im2col_fits(args):
        return None
    return lambda: _im2col_conv2d_nhwc(data, kernel, args.stride, args.padding)


add_to_library(conv2d_nhwc, _conv2d_nhwc_reference, _conv2d_nhwc_baseline)


@register_workload
def depthwise_conv2d_nchw(
    N: int,
    C: int,
    H: int,
    W: int,
    KH: int,
    KW: int,
    stride: IntOrPair,
    padding: Padding,
    dilation: IntOrPair = 1,
    dtype: str = "float32",
) -> list[te.Tensor]:
    """Depthwise convolution in NCHW, channel multiplier 1.

    data is N x C x H x W, kernel is C x 1 x KH x KW (topi's
    in_channel x multiplier x KH x KW); the output has C channels. Stages
    `PaddedInput` and `DepthwiseConv2d`, as `topi.nn.depthwise_conv2d_nchw`.
    """
    window = WindowGeometry.of("depthwise_conv2d_nchw", (H, W), (KH, KW), stride, padding, dilation)
    data = te.placeholder((N, C, H, W), dtype, name="data")
    kernel = te.placeholder((C, 1, KH, KW), dtype, name="kernel")
    padded = pad(data, (0, 0, *window.pads_before), (0, 0, *window.pads_after), name="PaddedInput")
    di = te.reduce_axis((0, KH), name="di")
    dj = te.reduce_axis((0, KW), name="dj")
    conv = te.compute(
        (N, C, window.out_h, window.out_w),
        lambda b, c, i, j: te.sum(
            padded[(b, c, *window.input_index(i, j, di, dj))] * kernel[c, 0, di, dj],
            axis=[di, dj],
        ),
        name="DepthwiseConv2d",
    )
    return [data, kernel, conv]


def _depthwise_conv2d_nchw_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    data, kernel = inputs
    out = _convolve_nchw(data, kernel, args.stride, args.padding, args.dilation, depthwise=True)
    return [out.astype(args.dtype)]


add_to_library(depthwise_conv2d_nchw, _depthwise_conv2d_nchw_reference)


def _convolve_nchw(
    data: Array,
    kernel: Array,
    stride: IntOrPair,
    padding: Padding,
    dilation: IntOrPair,
    depthwise: bool = False,
) -> NDArray[np.float64]:
    """The references' convolution of data (N x CI x H x W) with kernel (CO x CI x KH x KW, or
    C x 1 x KH x KW when depthwise), in float64, one kernel tap at a time."""
    _, _, H, W = data.shape
    _, _, KH, KW = kernel.shape
    window = WindowGeometry.of("numpy reference", (H, W), (KH, KW), stride, padding, dilation)
    padded = pad_hw(f64(data), window.pads, 0.0)
    weights = f64(kernel)
    out = np.zeros((data.shape[0], weights.shape[0], window.out_h, window.out_w))
    for ky in range(KH):
        for kx in range(KW):
            under_tap = window_tap(padded, window, ky, kx)
            if depthwise:
                out += under_tap * weights[:, 0, ky, kx][None, :, None, None]
            else:
                out += np.einsum("nchw,oc->nohw", under_tap, weights[:, :, ky, kx])
    return out


def _im2col_fits(args: SimpleNamespace) -> bool:
    """Whether the im2col baseline takes the convolution: no dilation, each side of an axis padded alike."""
    symmetric = isinstance(args.padding, int) or len(args.padding) == 2
    return symmetric and pair(args.dilation, "dilation", "numpy baseline") == (1, 1)


def _im2col_conv2d_nhwc(data: Array, kernel: Array, stride: IntOrPair, padding: Padding) -> Array:
    """NHWC convolution (kernel HWIO) as an im2col view copied into a matrix, then `@`: the baselines'."""
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


@register_workload
def conv2d_transpose_nchw(
    N: int,
    CI: int,
    H: int,
    W: int,
    CO: int,
    KH: int,
    KW: int,
    stride: IntOrPair,
    padding: Padding,
    dtype: str = "float32",
    output_padding: IntOrPair = 0,
) -> list[te.Tensor]:
    """Transposed convolution in NCHW: data is N x CI x H x W, kernel is CI x CO x KH x KW (IOHW).

    The output is N x CO x OH x OW with OH = (H - 1) * stride - pad_top -
    pad_bottom + KH + output_padding (likewise OW). As
    `topi.nn.conv2d_transpose_nchw`: `data_dilate` spreads the input
    `stride` apart with zeros, `data_pad` pads it by KH - 1 - padding (each
    side, plus output_padding after), `kernel_transform` turns the kernel to
    OIHW rotated by 180 degrees, and `conv2d_transpose_nchw` is a stride-1
    convolution of the two. Each padding must be at most the kernel size
    minus one, and output_padding less than the stride.
    """
    name = "conv2d_transpose_nchw"
    stride_h, stride_w = positive_pair(stride, "stride", name)
    opad_h, opad_w = _output_padding(output_padding, (stride_h, stride_w))
    fpad_top, fpad_left, fpad_bottom, fpad_right = pad_tuple(padding, name)
    if max(fpad_top, fpad_bottom) > KH - 1 or max(fpad_left, fpad_right) > KW - 1:
        raise WorkloadError(
            f"{name}: padding {padding!r} exceeds the kernel size minus one ({KH - 1}, {KW - 1})"
        )
    bpad_top, bpad_bottom = KH - 1 - fpad_top, KH - 1 - fpad_bottom + opad_h
    bpad_left, bpad_right = KW - 1 - fpad_left, KW - 1 - fpad_right + opad_w

    data = te.placeholder((N, CI, H, W), dtype, name="data")
    kernel = te.placeholder((CI, CO, KH, KW), dtype, name="kernel")
    dilated = _dilate(data, (1, 1, stride_h, stride_w), name="data_dilate")
    data_pad = pad(dilated, (0, 0, bpad_top, bpad_left), (0, 0, bpad_bottom, bpad_right), name="data_pad")
    kernel_transform = te.compute(
        (CO, CI, KH, KW),
        lambda o, i, h, w: kernel[i, o, KH - 1 - h, KW - 1 - w],
        name="kernel_transform",
    )
    _, _, padded_h, padded_w = data_pad.shape
    out_h, out_w = padded_h - KH + 1, padded_w - KW + 1
    check_out_size(name, out_h, out_w)
    dc = te.reduce_axis((0, CI), name="dc")
    dh = te.reduce_axis((0, KH), name="dh")
    dw = te.reduce_axis((0, KW), name="dw")
    conv = te.compute(
        (N, CO, out_h, out_w),
        lambda b, c, h, w: te.sum(
            data_pad[b, dc, h + dh, w + dw] * kernel_transform[c, dc, dh, dw],
            axis=[dc, dh, dw],
        ),
        name=name,
    )
    return [data, kernel, conv]


def _conv2d_transpose_nchw_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    """Every input element, times the kernel, added into the output at its position times the stride."""
    data, kernel = (f64(x) for x in inputs)  # NCHW and IOHW
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


add_to_library(conv2d_transpose_nchw, _conv2d_transpose_nchw_reference)


def _output_padding(output_padding: IntOrPair, stride: tuple[int, int]) -> tuple[int, int]:
    name = "conv2d_transpose_nchw"
    opad = pair(output_padding, "output_padding", name)
    if min(opad) < 0 or opad[0] >= stride[0] or opad[1] >= stride[1]:
        raise WorkloadError(
            f"{name}: output_padding {output_padding!r} must be non-negative and less than the stride {stride}"
        )
    return opad


def _dilate(data: te.Tensor, strides: tuple[int, ...], name: str) -> te.Tensor:
    """`data` with strides[d] - 1 zeros between neighbours along axis d, as `topi.nn.dilate`."""
    shape = tuple((d - 1) * s + 1 for d, s in zip(data.shape, strides, strict=True))

    def dilated(*indices: te.IterVar) -> te.Expr:
        on_grid: list[te.Expr] = []
        reads: list[te.Expr] = []
        for index, s in zip(indices, strides, strict=True):
            if s == 1:
                reads.append(index)
                continue
            reads.append(index // s)
            on_grid.append(index % s == 0)
        value = data[tuple(reads)]
        if not on_grid:
            return value
        return te.if_then_else(te.all(*on_grid), value, te.const(0, data.dtype))

    return te.compute(shape, dilated, name=name)


@register_workload
def conv2d_winograd_nhwc(
    N: int,
    H: int,
    W: int,
    CI: int,
    CO: int,
    kernel_size: int = 3,
    stride: IntOrPair = 1,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    dtype: str = "float32",
    tile_size: int = 4,
) -> list[te.Tensor]:
    """Winograd F(tile_size, kernel_size) convolution in NHWC with a pre-transformed weight.

    TVM's `conv2d_winograd_nhwc_auto_scheduler_test`, with its argument
    order: data is N x H x W x CI, weight is alpha x alpha x CI x CO (the
    kernel already transformed, G g G^T, alpha = tile_size + kernel_size - 1);
    stride and dilation 1. Stages `data_pad` (padded to whole tiles),
    `input_tile`, the constant matrices `B` and `A`, `data_pack` (B^T d B)
    and `inverse` (A^T M A), both marked for const-tensor simplification,
    `bgemm` (the batched product with the weight) and `conv2d_winograd`.
    """
    name = "conv2d_winograd_nhwc"
    if positive_pair(stride, "stride", name) != (1, 1) or positive_pair(dilation, "dilation", name) != (1, 1):
        raise WorkloadError(f"{name}: only stride 1 and dilation 1, got {stride!r} and {dilation!r}")
    if tile_size < 2 or kernel_size < 2:
        raise WorkloadError(f"{name}: tile_size and kernel_size must be at least 2")
    alpha = tile_size + kernel_size - 1
    data = te.placeholder((N, H, W, CI), dtype, name="data")
    weight = te.placeholder((alpha, alpha, CI, CO), dtype, name="weight")
    return [data, weight, winograd_conv2d_nhwc(data, weight, padding, tile_size, kernel_size)]


def _conv2d_winograd_nhwc_reference(inputs: list[Array], args: SimpleNamespace) -> list[Array]:
    """Tile by tile: Y = A^T [U * (B^T d B)] A, U the pre-transformed weight (alpha x alpha x CI x CO)."""
    data, weight = (f64(x) for x in inputs)  # NHWC
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


add_to_library(conv2d_winograd_nhwc, _conv2d_winograd_nhwc_reference)
