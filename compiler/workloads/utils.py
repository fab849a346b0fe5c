"""Helpers shared by the workload definitions: argument normalisation and padding.

They follow topi's conventions: a stride, dilation or kernel size is an int
or an (h, w) pair; a padding is an int, an (h, w) pair (the same on both
sides) or a (top, left, bottom, right) 4-tuple, as `topi.nn.get_pad_tuple`.
Lists are accepted wherever tuples are, since a workload key stores tuples
as JSON lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

import numpy as np

import schedopt.te as te
from schedopt.errors import WorkloadError

IntOrPair: TypeAlias = int | Sequence[int]
"""An int, or an (h, w) pair."""

Padding: TypeAlias = int | Sequence[int]
"""An int, an (h, w) pair, or (top, left, bottom, right)."""


def pair(value: IntOrPair, what: str, workload: str) -> tuple[int, int]:
    """`value` as an (h, w) pair of ints."""
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2 or not all(_is_int(v) for v in values):
        raise WorkloadError(f"{workload}: {what} must be an int or a pair of ints, got {value!r}")
    return values[0], values[1]


def positive_pair(value: IntOrPair, what: str, workload: str) -> tuple[int, int]:
    """`pair(value)`, checked to be positive."""
    h, w = pair(value, what, workload)
    if h <= 0 or w <= 0:
        raise WorkloadError(f"{workload}: {what} must be positive, got {value!r}")
    return h, w


def pad_tuple(padding: Padding, workload: str) -> tuple[int, int, int, int]:
    """`padding` as (top, left, bottom, right), as `topi.nn.get_pad_tuple`."""
    if isinstance(padding, int):
        values: tuple[int, ...] = (padding,) * 4
    else:
        given = tuple(padding)
        values = given * 2 if len(given) == 2 else given
    if len(values) != 4 or not all(_is_int(v) and v >= 0 for v in values):
        raise WorkloadError(
            f"{workload}: padding must be a non-negative int, (h, w) or (top, left, bottom, right), "
            f"got {padding!r}"
        )
    return values[0], values[1], values[2], values[3]


def conv_out_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int) -> int:
    """The output extent of a convolution or pooling along one axis."""
    dilated_kernel = (kernel - 1) * dilation + 1
    return (size + pad_before + pad_after - dilated_kernel) // stride + 1


def check_out_size(workload: str, out_h: int, out_w: int) -> None:
    """Reject arguments whose output would be empty."""
    if out_h <= 0 or out_w <= 0:
        raise WorkloadError(f"{workload}: the arguments give an empty output ({out_h} x {out_w})")


Index = TypeVar("Index", int, te.Expr)


@dataclass(frozen=True)
class WindowGeometry:
    """Where a 2-D sliding window (a convolution kernel, a pooling window) reads, and the output it makes.

    Written once for the te workloads, the network operators and the numpy
    references, so that all of them read stride, dilation and padding alike.
    """

    stride: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[int, int, int, int]
    """(top, left, bottom, right)."""
    out_h: int
    out_w: int

    @classmethod
    def of(
        cls,
        workload: str,
        size: tuple[int, int],
        kernel: tuple[int, int],
        stride: IntOrPair,
        padding: Padding,
        dilation: IntOrPair = 1,
    ) -> WindowGeometry:
        """The geometry of a `kernel` window over an input of `size` (h, w); `WorkloadError` if malformed."""
        strides = positive_pair(stride, "stride", workload)
        dilations = positive_pair(dilation, "dilation", workload)
        pads = pad_tuple(padding, workload)
        out_h = conv_out_size(size[0], kernel[0], strides[0], pads[0], pads[2], dilations[0])
        out_w = conv_out_size(size[1], kernel[1], strides[1], pads[1], pads[3], dilations[1])
        check_out_size(workload, out_h, out_w)
        return cls(strides, dilations, pads, out_h, out_w)

    @property
    def pads_before(self) -> tuple[int, int]:
        """(top, left)."""
        return self.pads[0], self.pads[1]

    @property
    def pads_after(self) -> tuple[int, int]:
        """(bottom, right)."""
        return self.pads[2], self.pads[3]

    def input_index(self, y: Index, x: Index, ry: Index, rx: Index) -> tuple[Index, Index]:
        """The padded-input (h, w) that output (y, x) reads at window offset (ry, rx)."""
        return y * self.stride[0] + ry * self.dilation[0], x * self.stride[1] + rx * self.dilation[1]


def pad(
    data: te.Tensor,
    pad_before: Sequence[int],
    pad_after: Sequence[int],
    pad_value: float = 0.0,
    name: str = "PadInput",
) -> te.Tensor:
    """`data` padded with `pad_value`, as `topi.nn.pad`.

    The padding stage is always created (a plain copy where nothing is
    padded), as topi does, so the stage names of a workload do not depend on
    its arguments.
    """
    shape = tuple(d + b + a for d, b, a in zip(data.shape, pad_before, pad_after, strict=True))

    def padded(*indices: te.IterVar) -> te.Expr:
        inside: list[te.Expr] = []
        reads: list[te.Expr] = []
        for index, before, after, extent in zip(indices, pad_before, pad_after, data.shape, strict=True):
            reads.append(index - before if before else index)
            if before:
                inside.append(index >= before)
            if after:
                inside.append(index < before + extent)
        value = data[tuple(reads)]
        if not inside:
            return value
        return te.if_then_else(te.all(*inside), value, te.const(pad_value, data.dtype))

    return te.compute(shape, padded, name=name)


def lowest_value(dtype: str) -> float | int:
    """The smallest finite value of `dtype` (`tvm.te.min_value`): max pooling's padding."""
    if dtype.startswith("float"):
        return float(np.finfo(dtype).min)
    return int(np.iinfo(dtype).min)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
