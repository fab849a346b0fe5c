"""2-D convolutions as topi declares them: NCHW, NHWC, depthwise and transposed.

Each pads its input in a stage of its own (an `if_then_else` per element,
as `topi.nn.pad`), then reduces in the convolution stage. `stride`,
`dilation` (and a kernel size) are an int or an (h, w) pair; `padding` is
an int, (h, w) or (top, left, bottom, right).
"""

from __future__ import annotations

from schedopt import te
from schedopt.errors import WorkloadError
from schedopt.workload_registry import register_workload
from schedopt.workloads.utils import (
    IntOrPair,
    Padding,
    check_out_size,
    conv_out_size,
    pad,
    pad_tuple,
    pair,
    positive_pair,
)


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
    name = "conv2d_nchw"
    stride_h, stride_w = positive_pair(stride, "stride", name)
    dilation_h, dilation_w = positive_pair(dilation, "dilation", name)
    pad_top, pad_left, pad_bottom, pad_right = pad_tuple(padding, name)
    out_h = conv_out_size(H, KH, stride_h, pad_top, pad_bottom, dilation_h)
    out_w = conv_out_size(W, KW, stride_w, pad_left, pad_right, dilation_w)
    check_out_size(name, out_h, out_w)

    data = te.placeholder((N, CI, H, W), dtype, name="data")
    kernel = te.placeholder((CO, CI, KH, KW), dtype, name="kernel")
    pad_temp = pad(data, (0, 0, pad_top, pad_left), (0, 0, pad_bottom, pad_right), name="pad_temp")
    rc = te.reduce_axis((0, CI), name="rc")
    ry = te.reduce_axis((0, KH), name="ry")
    rx = te.reduce_axis((0, KW), name="rx")
    conv = te.compute(
        (N, CO, out_h, out_w),
        lambda nn, ff, yy, xx: te.sum(
            pad_temp[nn, rc, yy * stride_h + ry * dilation_h, xx * stride_w + rx * dilation_w]
            * kernel[ff, rc, ry, rx],
            axis=[rc, ry, rx],
        ),
        name=name,
        attrs={"layout_free_placeholders": [kernel]},
    )
    return [data, kernel, conv]


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
    name = "conv2d_nhwc"
    stride_h, stride_w = positive_pair(stride, "stride", name)
    dilation_h, dilation_w = positive_pair(dilation, "dilation", name)
    pad_top, pad_left, pad_bottom, pad_right = pad_tuple(padding, name)
    out_h = conv_out_size(H, KH, stride_h, pad_top, pad_bottom, dilation_h)
    out_w = conv_out_size(W, KW, stride_w, pad_left, pad_right, dilation_w)
    check_out_size(name, out_h, out_w)

    data = te.placeholder((N, H, W, CI), dtype, name="data")
    kernel = te.placeholder((KH, KW, CI, CO), dtype, name="kernel")
    padded = pad(data, (0, pad_top, pad_left, 0), (0, pad_bottom, pad_right, 0), name="PaddedInput")
    ry = te.reduce_axis((0, KH), name="ry")
    rx = te.reduce_axis((0, KW), name="rx")
    rc = te.reduce_axis((0, CI), name="rc")
    conv = te.compute(
        (N, out_h, out_w, CO),
        lambda nn, yy, xx, ff: te.sum(
            padded[nn, yy * stride_h + ry * dilation_h, xx * stride_w + rx * dilation_w, rc]
            * kernel[ry, rx, rc, ff],
            axis=[ry, rx, rc],
        ),
        name="Conv2dOutput",
        attrs={"layout_free_placeholders": [kernel]},
    )
    return [data, kernel, conv]


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
    name = "depthwise_conv2d_nchw"
    stride_h, stride_w = positive_pair(stride, "stride", name)
    dilation_h, dilation_w = positive_pair(dilation, "dilation", name)
    pad_top, pad_left, pad_bottom, pad_right = pad_tuple(padding, name)
    out_h = conv_out_size(H, KH, stride_h, pad_top, pad_bottom, dilation_h)
    out_w = conv_out_size(W, KW, stride_w, pad_left, pad_right, dilation_w)
    check_out_size(name, out_h, out_w)

    data = te.placeholder((N, C, H, W), dtype, name="data")
    kernel = te.placeholder((C, 1, KH, KW), dtype, name="kernel")
    padded = pad(data, (0, 0, pad_top, pad_left), (0, 0, pad_bottom, pad_right), name="PaddedInput")
    di = te.reduce_axis((0, KH), name="di")
    dj = te.reduce_axis((0, KW), name="dj")
    conv = te.compute(
        (N, C, out_h, out_w),
        lambda b, c, i, j: te.sum(
            padded[b, c, i * stride_h + di * dilation_h, j * stride_w + dj * dilation_w]
            * kernel[c, 0, di, dj],
            axis=[di, dj],
        ),
        name="DepthwiseConv2d",
    )
    return [data, kernel, conv]


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
