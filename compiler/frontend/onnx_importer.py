"""`from_onnx`: an ONNX model as an unfused network, one operator function per ONNX operator.

As TVM's Relay front end does, initializers become parameters, constant
subexpressions are folded in numpy, and a BatchNormalization after a
convolution with constant weights is folded into the convolution's weights
and bias. Each operator becomes one te operator function
(`schedopt.frontend.operators`) with its Relay op pattern, which
`fuse-ops` reads.

Layout: with `layout="NHWC"` (what TVM's auto-scheduler uses on CPUs), 4-D
activations travel NHWC and convolution kernels are HWIO, transposed at
import; the network's inputs and outputs keep ONNX's NCHW, and a layout
transform is inserted where an NCHW value meets an NHWC operator or the
reverse (graph inputs, Flatten/Reshape of 4-D tensors, graph outputs).
Layout-agnostic operators (elementwise, broadcasting, concat, softmax, mean)
follow their inputs' layout. `layout="NCHW"` keeps ONNX's layout throughout.

Every node is checked before anything is built: an operator, attribute or
non-constant input the importer does not support raises `FrontendError`
naming the node and its op type.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import numpy_helper

import schedopt.frontend.operators as topi
import schedopt.te as te
from schedopt.errors import FrontendError, SchedOptError, TEError
from schedopt.frontend.network import GraphValue, Network, NetworkBuilder, OpPattern
from schedopt.workloads.utils import WindowGeometry
from schedopt.workloads.winograd_transforms import transform_weight

LAYOUTS = ("NHWC", "NCHW")
"""The activation layouts `from_onnx` builds networks in."""

_TO_NHWC = (0, 2, 3, 1)
"""NHWC axis d is NCHW axis _TO_NHWC[d]."""

_MIN_OPSET = 7
"""From opset 7 on, binary operators broadcast as numpy does (earlier ones took `broadcast`/`axis`)."""

_HANDLED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "Conv": frozenset({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}),
    "Gemm": frozenset({"alpha", "beta", "transA", "transB"}),
    "MatMul": frozenset(),
    "Add": frozenset(),
    "Sub": frozenset(),
    "Mul": frozenset(),
    "Div": frozenset(),
    "Relu": frozenset(),
    "Clip": frozenset({"min", "max"}),
    "Sigmoid": frozenset(),
    "Tanh": frozenset(),
    "Erf": frozenset(),
    "Gelu": frozenset({"approximate"}),
    "BatchNormalization": frozenset({"epsilon", "momentum", "spatial", "training_mode"}),
    "MaxPool": frozenset(
        {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}
    ),
    "AveragePool": frozenset(
        {"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"}
    ),
    "GlobalAveragePool": frozenset(),
    "Flatten": frozenset({"axis"}),
    "Reshape": frozenset({"allowzero"}),
    "Transpose": frozenset({"perm"}),
    "Concat": frozenset({"axis"}),
    "Softmax": frozenset({"axis"}),
    "LayerNormalization": frozenset({"axis", "epsilon", "stash_type"}),
    "ReduceMean": frozenset({"axes", "keepdims", "noop_with_empty_axes"}),
    "Constant": frozenset({"value", "value_float", "value_floats", "value_int", "value_ints"}),
    "Identity": frozenset(),
}
"""The operators the importer converts, and the attributes it understands of each (the rest are refused)."""

_CONSTANT_INPUTS: dict[str, tuple[int, ...]] = {
    "Reshape": (1,),
    "Clip": (1, 2),
    "ReduceMean": (1,),
    "BatchNormalization": (1, 2, 3, 4),
}
"""Inputs that must be known at import (shapes, bounds, axes, statistics), by position."""

_SINGLE_OUTPUT = ("BatchNormalization", "MaxPool", "LayerNormalization")
"""Operators with optional extra outputs (training statistics, indices) the importer does not produce."""


def from_onnx(
    model: onnx.ModelProto | str | os.PathLike[str],
    layout: str = "NHWC",
    shape: Mapping[str, Sequence[int]] | None = None,
    winograd: bool = False,
) -> Network:
    """The unfused network of an ONNX model (a ModelProto or the path of a .onnx file).

    `shape` gives the shapes of inputs with symbolic dimensions (and may
    restate static ones), by input name. With `winograd` (NHWC only), the
    3x3 convolutions `operators.winograd_tile_size` picks run as Winograd
    convolutions on weights transformed here, as TVM's x86 strategy does
    for the auto-scheduler.
    """
    if layout not in LAYOUTS:
        raise FrontendError(f"from_onnx: layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if not isinstance(model, onnx.ModelProto):
        try:
            model = onnx.load(os.fspath(model))
        except (OSError, DecodeError) as error:
            raise FrontendError(f"cannot load the ONNX model {os.fspath(model)!r}: {error}") from None
    return _Importer(model, layout, shape or {}, winograd).run()


@dataclass(frozen=True)
class _Value:
    """An ONNX tensor during import: a constant known in numpy, or a graph value (4-D ones maybe stored NHWC)."""

    graph: GraphValue | None = None
    constant: np.ndarray | None = None
    nhwc: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape ONNX sees (NCHW for a 4-D activation, whatever its storage)."""
        if self.constant is not None:
            return tuple(self.constant.shape)
        assert self.graph is not None
        if self.nhwc:
            n, h, w, c = self.graph.shape
            return (n, c, h, w)
        return self.graph.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)


Converter = Callable[["_Importer", onnx.NodeProto, dict[str, Any], list["_Value | None"]], list[_Value]]

TensorCompute = (
    Callable[[te.Tensor], te.Tensor]
    | Callable[[te.Tensor, te.Tensor], te.Tensor]
    | Callable[[te.Tensor, te.Tensor, te.Tensor], te.Tensor]
)
"""An operator's te computation from the placeholders of its arguments (one to three; more for a
variadic one, which is also one of these)."""


class _Importer:
    """One import: the checks, then a walk over the nodes in graph order."""

    def __init__(
        self, model: onnx.ModelProto, layout: str, shape: Mapping[str, Sequence[int]], winograd: bool
    ):
        self.graph = model.graph
        self.nhwc = layout == "NHWC"
        self.winograd = winograd and self.nhwc
        self.shape_overrides = {name: tuple(int(d) for d in dims) for name, dims in shape.items()}
        self.opset = _default_opset(model)
        self.builder = NetworkBuilder()
        self.values: dict[str, _Value] = {}
        self.params: dict[str, GraphValue] = {}
        self.transformed: dict[tuple[int, bool], GraphValue] = {}
        initializers = {t.name for t in self.graph.initializer}
        self.inputs = [i for i in self.graph.input if i.name not in initializers]
        self.folded_batch_norms: dict[str, onnx.NodeProto] = {}
        """Conv output name -> the BatchNormalization folded into that conv."""

    def run(self) -> Network:
        self._check_nodes()
        input_types = self._input_types()
        for tensor in self.graph.initializer:
            self.values[tensor.name] = _Value(constant=numpy_helper.to_array(tensor))
        for proto in self.inputs:
            self.values[proto.name] = _Value(graph=self.builder.input(proto.name, *input_types[proto.name]))
        for node in self.graph.node:
            self._convert(node)
        outputs = [self._output(o.name) for o in self.graph.output]
        return self.builder.build(outputs)

    # --- checks, before anything is built ---------------------------------------------------

    def _check_nodes(self) -> None:
        if self.opset < _MIN_OPSET:
            raise FrontendError(
                f"the model's opset {self.opset} is older than {_MIN_OPSET}, the oldest supported"
            )
        constants = {t.name for t in self.graph.initializer}
        defined = constants | {i.name for i in self.graph.input}
        for node in self.graph.node:
            where = _describe(node)
            for name in node.input:
                if name and name not in defined:
                    raise FrontendError(f"{where}: input {name!r} is not defined before the node")
            defined.update(node.output)
            if node.domain not in ("", "ai.onnx"):
                raise FrontendError(f"{where}: operators of domain {node.domain!r} are not supported")
            if node.op_type not in _HANDLED_ATTRIBUTES:
                raise FrontendError(
                    f"{where}: unsupported operator (supported: {', '.join(sorted(_HANDLED_ATTRIBUTES))})"
                )
            try:
                schema = onnx.defs.get_schema(node.op_type, self.opset)
            except onnx.defs.SchemaError:
                raise FrontendError(f"{where}: not an operator of opset {self.opset}") from None
            for attribute in node.attribute:
                if (
                    attribute.name not in schema.attributes
                    or attribute.name not in _HANDLED_ATTRIBUTES[node.op_type]
                ):
                    raise FrontendError(f"{where}: unsupported attribute {attribute.name!r}")
            _check_attribute_values(node, _attributes(node))
            for position in _CONSTANT_INPUTS.get(node.op_type, ()):
                if (
                    position < len(node.input)
                    and node.input[position]
                    and node.input[position] not in constants
                ):
                    raise FrontendError(
                        f"{where}: input {position} ({node.input[position]!r}) must be a constant "
                        "(an initializer or a Constant node)"
                    )
            if node.op_type in _SINGLE_OUTPUT and any(node.output[1:]):
                raise FrontendError(
                    f"{where}: only the first output is supported (training or index outputs)"
                )
            if node.op_type == "Constant" or (node.op_type == "Identity" and node.input[0] in constants):
                constants.update(node.output)
        for output in self.graph.output:
            if output.name not in defined:
                raise FrontendError(f"graph output {output.name!r} is computed by no node")
        self._find_foldable_batch_norms(constants)

    def _find_foldable_batch_norms(self, constants: set[str]) -> None:
        """BatchNormalizations whose input is the single use of a Conv output with constant weights."""
        uses: dict[str, int] = {}
        for node in self.graph.node:
            for name in node.input:
                uses[name] = uses.get(name, 0) + 1
        for output in self.graph.output:
            uses[output.name] = uses.get(output.name, 0) + 1
        producers = {node.output[0]: node for node in self.graph.node if node.output}
        for node in self.graph.node:
            if node.op_type != "BatchNormalization":
                continue
            conv = producers.get(node.input[0])
            if (
                conv is not None
                and conv.op_type == "Conv"
                and uses.get(node.input[0]) == 1
                and all(name in constants for name in conv.input[1:] if name)
            ):
                self.folded_batch_norms[conv.output[0]] = node

    def _input_types(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """The shape and dtype of each input, symbolic dimensions given by `shape=`."""
        names = {i.name for i in self.inputs}
        for name in self.shape_overrides:
            if name not in names:
                raise FrontendError(
                    f"shape= names {name!r}, not an input of the model (inputs: {', '.join(sorted(names))})"
                )
        types: dict[str, tuple[tuple[int, ...], str]] = {}
        for proto in self.inputs:
            dtype = _dtype(proto.type.tensor_type.elem_type, f"input {proto.name!r}")
            dims = proto.type.tensor_type.shape.dim
            declared = [d.dim_value if d.HasField("dim_value") else None for d in dims]
            override = self.shape_overrides.get(proto.name)
            if override is not None:
                if len(override) != len(declared) or any(
                    d is not None and d != o for d, o in zip(declared, override, strict=True)
                ):
                    raise FrontendError(
                        f"shape= gives input {proto.name!r} the shape {list(override)}, "
                        f"the model declares {[d if d is not None else '?' for d in declared]}"
                    )
                types[proto.name] = (override, dtype)
            elif any(d is None or d <= 0 for d in declared):
                symbolic = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]
                raise FrontendError(
                    f"input {proto.name!r} has symbolic dimensions {symbolic}: give its shape with "
                    f"shape={{{proto.name!r}: (...)}}"
                )
            else:
                types[proto.name] = (tuple(int(d) for d in declared if d is not None), dtype)
        return types

    # --- the walk ----------------------------------------------------------------------------

    def _convert(self, node: onnx.NodeProto) -> None:
        inputs = [self.values[name] if name else None for name in node.input]
        try:
            outputs = _CONVERTERS[node.op_type](self, node, _attributes(node), inputs)
        except FrontendError:
            raise
        except SchedOptError as error:
            raise FrontendError(f"{_describe(node)}: {error}") from None
        for name, value in zip(node.output, outputs, strict=False):
            if name:
                self.values[name] = value

    def _output(self, name: str) -> GraphValue:
        value = self.values[name]
        if value.constant is not None:
            return self.param(name, value.constant)
        return self.plain(value)

    # --- values on the graph -------------------------------------------------------------------

    def param(self, name: str, array: np.ndarray) -> GraphValue:
        """The parameter `name` holding `array` (created once; a transformed constant gets its own name)."""
        if name not in self.params:
            self.params[name] = self.builder.param(name, np.ascontiguousarray(array))
        return self.params[name]

    def plain(self, value: _Value, name: str = "") -> GraphValue:
        """`value` on the graph in ONNX's layout."""
        if value.constant is not None:
            return self.param(name, value.constant)
        assert value.graph is not None
        return self._layout(value.graph, to_nhwc=False) if value.nhwc else value.graph

    def stored_nhwc(self, value: _Value, name: str = "") -> GraphValue:
        """A 4-D `value` on the graph in NHWC."""
        if value.constant is not None:
            return self.param(f"{name}:nhwc", value.constant.transpose(_TO_NHWC))
        assert value.graph is not None
        return value.graph if value.nhwc else self._layout(value.graph, to_nhwc=True)

    def activation(self, value: _Value, name: str) -> tuple[GraphValue, bool]:
        """A 4-D `value` in the layout of the network's convolutions, and whether that is NHWC."""
        return (self.stored_nhwc(value, name), True) if self.nhwc else (self.plain(value, name), False)

    def _layout(self, value: GraphValue, to_nhwc: bool) -> GraphValue:
        key = (value.uid, to_nhwc)
        if key not in self.transformed:
            src, dst = ("NCHW", "NHWC") if to_nhwc else ("NHWC", "NCHW")
            self.transformed[key] = self.call(
                "layout_transform",
                OpPattern.INJECTIVE,
                [value],
                lambda data: topi.layout_transform(data, src, dst),
            )
        return self.transformed[key]

    def call(
        self,
        name: str,
        pattern: OpPattern,
        args: Sequence[GraphValue],
        compute: TensorCompute,
        arg_names: Sequence[str] = (),
    ) -> GraphValue:
        """One operator function computing `compute(*placeholders)` on `args`, and its call."""
        names = list(arg_names) or ["data", "lhs", "rhs", "arg3", "arg4"][: len(args)]
        placeholders = [te.placeholder(a.shape, a.dtype, name=n) for a, n in zip(args, names, strict=True)]
        (result,) = self.builder.call(
            [*placeholders, compute(*placeholders)], args, name=name, pattern=pattern
        )
        return result


# --- operators -------------------------------------------------------------------------------------


def _conv(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    data, weight, bias = _at(inputs, 0), _at(inputs, 1), _optional(inputs, 2)
    if weight.ndim != 4:
        raise FrontendError(
            f"{_describe(node)}: only 2-D convolutions (a 4-D weight), got weight shape {list(weight.shape)}"
        )
    weight_name, bias_name = node.input[1], node.input[2] if len(node.input) > 2 else ""
    out_name = node.output[0]
    batch_norm = importer.folded_batch_norms.get(out_name)
    if batch_norm is not None:
        weight, bias = _fold_batch_norm(batch_norm, weight, bias, importer)
        weight_name, bias_name = f"{out_name}:weight", f"{out_name}:bias"
    kernel_hw = weight.shape[2:]
    groups = int(attrs.get("group", 1))
    strides, dilations = _pair(attrs, "strides"), _pair(attrs, "dilations")
    pads = _pads(attrs, data.shape[2:], kernel_hw, strides, dilations)
    x, in_nhwc = importer.activation(data, node.input[0])
    tile_size = None
    if importer.winograd and weight.constant is not None:
        size, kernel_size = (int(data.shape[2]), int(data.shape[3])), (int(kernel_hw[0]), int(kernel_hw[1]))
        window = WindowGeometry.of("Conv", size, kernel_size, strides, pads, dilations)
        out_hwc = (window.out_h, window.out_w, int(weight.shape[0]))
        tile_size = topi.winograd_tile_size(kernel_hw, strides, dilations, groups, out_hwc)
    if tile_size is not None:
        assert weight.constant is not None
        transformed = transform_weight(weight.constant.transpose(2, 3, 1, 0), tile_size)
        kernel = importer.param(f"{weight_name}:winograd{tile_size}", transformed)
    elif weight.constant is not None:
        kernel = (
            importer.param(f"{weight_name}:hwio", weight.constant.transpose(2, 3, 1, 0))
            if in_nhwc
            else importer.param(weight_name, weight.constant)
        )
    else:
        kernel = importer.plain(weight)
        if in_nhwc:
            kernel = importer.call(
                "transpose", OpPattern.INJECTIVE, [kernel], lambda w: topi.transpose(w, (2, 3, 1, 0))
            )
    args = [x, kernel]
    if bias is not None:
        args.append(importer.plain(bias, bias_name))
    conv = topi.conv2d_nhwc if in_nhwc else topi.conv2d_nchw

    def compute(x: te.Tensor, w: te.Tensor, b: te.Tensor | None = None) -> te.Tensor:
        if tile_size is not None:
            return topi.conv2d_winograd_nhwc(x, w, b, padding=pads, tile_size=tile_size)
        return conv(x, w, b, strides=strides, padding=pads, dilation=dilations, groups=groups)

    out = importer.call(
        "conv2d", OpPattern.OUT_ELEMWISE_FUSABLE, args, compute, ["data", "kernel", "bias"][: len(args)]
    )
    result = _Value(graph=out, nhwc=in_nhwc)
    if batch_norm is not None:
        importer.values[batch_norm.output[0]] = result
    return [result]


def _fold_batch_norm(
    node: onnx.NodeProto, weight: _Value, bias: _Value | None, importer: _Importer
) -> tuple[_Value, _Value]:
    """The conv weight and bias with `node` (a BatchNormalization of the conv's output) folded in."""
    scale, shift = _batch_norm_scale_shift(node, importer)
    assert weight.constant is not None
    folded_weight = weight.constant * scale.reshape(-1, 1, 1, 1).astype(weight.constant.dtype)
    conv_bias = bias.constant if bias is not None and bias.constant is not None else 0.0
    folded_bias = (conv_bias * scale + shift).astype(weight.constant.dtype)
    return _Value(constant=folded_weight), _Value(constant=folded_bias)


def _batch_norm_scale_shift(node: onnx.NodeProto, importer: _Importer) -> tuple[np.ndarray, np.ndarray]:
    """BatchNormalization at inference as x * scale + shift, per channel."""
    gamma, beta, mean, var = (importer.values[name].constant for name in node.input[1:5])
    assert gamma is not None and beta is not None and mean is not None and var is not None
    epsilon = float(_attributes(node).get("epsilon", 1e-5))
    scale = gamma / np.sqrt(var.astype(np.float64) + epsilon)
    shift = beta - mean * scale
    return scale.astype(gamma.dtype), shift.astype(gamma.dtype)


def _batch_norm(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    if node.input[0] in importer.folded_batch_norms:
        return [importer.values[node.output[0]]]  # folded into the conv, which set the output
    data = _at(inputs, 0)
    scale, shift = _batch_norm_scale_shift(node, importer)
    name = node.output[0]
    if data.ndim == 4:
        x, nhwc = importer.activation(data, node.input[0])
    else:
        x, nhwc = importer.plain(data, node.input[0]), False
    args = [x, importer.param(f"{name}:scale", scale), importer.param(f"{name}:shift", shift)]
    axis = 3 if nhwc else 1
    out = importer.call(
        "batch_norm",
        OpPattern.BROADCAST,
        args,
        lambda x, s, b: topi.scale_shift(x, s, b, axis),
        ["data", "scale", "shift"],
    )
    return [_Value(graph=out, nhwc=nhwc)]


def _gemm(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    a, b, c = _at(inputs, 0), _at(inputs, 1), _optional(inputs, 2)
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    trans_a, trans_b = bool(attrs.get("transA", 0)), bool(attrs.get("transB", 0))
    if a.ndim != 2 or b.ndim != 2:
        raise FrontendError(
            f"{_describe(node)}: A and B must be matrices, got {list(a.shape)} and {list(b.shape)}"
        )
    lhs = importer.plain(a, node.input[0])
    if trans_a:
        lhs = importer.call("transpose", OpPattern.INJECTIVE, [lhs], topi.transpose)
    args = [lhs]
    if b.constant is not None:
        weight = b.constant if trans_b else b.constant.T
        if alpha == 1:
            args.append(importer.param(node.input[1] if trans_b else f"{node.input[1]}:dense", weight))
        else:
            args.append(importer.param(f"{node.output[0]}:weight", weight * np.asarray(alpha, weight.dtype)))
        product: Callable[[te.Tensor, te.Tensor], te.Tensor] = topi.dense
    else:
        rhs = importer.plain(b)
        if trans_b:
            rhs = importer.call("transpose", OpPattern.INJECTIVE, [rhs], topi.transpose)
        args.append(rhs)

        def scaled_matmul(x: te.Tensor, y: te.Tensor) -> te.Tensor:
            out = topi.matmul(x, y)
            return out if alpha == 1 else topi.multiply(out, alpha)

        product = scaled_matmul

    c_scale = 1.0
    if c is not None:
        if c.constant is not None:
            if beta == 1:
                args.append(importer.param(node.input[2], c.constant))
            else:
                args.append(
                    importer.param(f"{node.output[0]}:bias", c.constant * np.asarray(beta, c.constant.dtype))
                )
        else:
            args.append(importer.plain(c))
            c_scale = beta

    def compute(x: te.Tensor, w: te.Tensor, bias: te.Tensor | None = None) -> te.Tensor:
        out = product(x, w)
        if bias is None:
            return out
        return topi.add(out, bias if c_scale == 1 else topi.multiply(bias, c_scale))

    out = importer.call(
        "dense", OpPattern.OUT_ELEMWISE_FUSABLE, args, compute, ["data", "weight", "bias"][: len(args)]
    )
    return [_Value(graph=out)]


def _matmul(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    a, b = _at(inputs, 0), _at(inputs, 1)
    if a.constant is not None and b.constant is not None:
        return [_Value(constant=np.matmul(a.constant, b.constant))]
    lhs = importer.plain(a, node.input[0])
    if b.constant is not None and b.ndim == 2:  # a weight: dense, whose weight is layout-free
        weight = importer.param(f"{node.input[1]}:dense", b.constant.T)
        out = importer.call(
            "dense", OpPattern.OUT_ELEMWISE_FUSABLE, [lhs, weight], topi.dense, ["data", "weight"]
        )
    else:
        rhs = importer.plain(b, node.input[1])
        out = importer.call("matmul", OpPattern.OUT_ELEMWISE_FUSABLE, [lhs, rhs], topi.matmul, ["lhs", "rhs"])
    return [_Value(graph=out)]


_BINARY: dict[str, tuple[str, Callable[..., te.Tensor], Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "Add": ("add", topi.add, np.add),
    "Sub": ("subtract", topi.subtract, np.subtract),
    "Mul": ("multiply", topi.multiply, np.multiply),
    "Div": ("divide", topi.divide, np.divide),
}


def _binary(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    name, operator, fold = _BINARY[node.op_type]
    a, b = _at(inputs, 0), _at(inputs, 1)
    if a.constant is not None and b.constant is not None:
        return [_Value(constant=fold(a.constant, b.constant).astype(a.constant.dtype))]
    out_rank = len(topi.broadcast_shape(a.shape, b.shape))
    nhwc = (
        out_rank == 4
        and any(v.nhwc for v in (a, b))
        and all(v.nhwc or v.constant is not None or v.ndim == 4 for v in (a, b))
    )
    args: list[GraphValue] = []
    slots: list[int | float] = []  # per operand: an argument's position, or a folded scalar
    for value, input_name in ((a, node.input[0]), (b, node.input[1])):
        other = b if value is a else a
        if value.constant is not None and value.constant.size == 1 and value.ndim <= other.ndim:
            slots.append(float(value.constant.reshape(())))
            continue
        if nhwc:
            if value.constant is not None:
                expanded = value.constant.reshape((1,) * (4 - value.ndim) + value.constant.shape)
                arg = importer.param(f"{input_name}:nhwc", expanded.transpose(_TO_NHWC))
            else:
                arg = importer.stored_nhwc(value)
        else:
            arg = importer.plain(value, input_name)
        slots.append(len(args))
        args.append(arg)

    def compute(*tensors: te.Tensor) -> te.Tensor:
        lhs, rhs = (tensors[s] if isinstance(s, int) else s for s in slots)
        return operator(lhs, rhs)

    out = importer.call(name, OpPattern.BROADCAST, args, compute, ["lhs", "rhs"][: len(args)])
    return [_Value(graph=out, nhwc=nhwc)]


def _unary(name: str, operator: Callable[[te.Tensor], te.Tensor]) -> Converter:
    def convert(
        importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
    ) -> list[_Value]:
        data = _at(inputs, 0)
        x = importer.stored_nhwc(data) if data.nhwc else importer.plain(data, node.input[0])
        return [_Value(graph=importer.call(name, OpPattern.ELEMWISE, [x], operator), nhwc=data.nhwc)]

    return convert


def _clip(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    bounds: list[float | None] = []
    for position, attribute in ((1, "min"), (2, "max")):
        bound = _optional(inputs, position)
        if bound is not None:
            assert bound.constant is not None
            bounds.append(float(bound.constant.reshape(())))
        else:
            bounds.append(float(attrs[attribute]) if attribute in attrs else None)
    low, high = bounds
    return _unary("clip", lambda x: topi.clip(x, low, high))(importer, node, attrs, inputs[:1])


def _gelu(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    approximate = str(attrs.get("approximate", "none"))
    return _unary("gelu", lambda x: topi.gelu(x, approximate))(importer, node, attrs, inputs)


def _pool(kind: str) -> Converter:
    def convert(
        importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
    ) -> list[_Value]:
        data = _at(inputs, 0)
        if data.ndim != 4:
            raise FrontendError(
                f"{_describe(node)}: only 2-D pooling (4-D data), got shape {list(data.shape)}"
            )
        kernel = tuple(int(k) for k in attrs["kernel_shape"])
        strides, dilations = _pair(attrs, "strides"), _pair(attrs, "dilations")
        pads = _pads(attrs, data.shape[2:], kernel, strides, dilations)
        ceil_mode = bool(attrs.get("ceil_mode", 0))
        x, nhwc = importer.activation(data, node.input[0])
        layout = "NHWC" if nhwc else "NCHW"
        if kind == "max":
            out = importer.call(
                "max_pool2d",
                OpPattern.OUT_ELEMWISE_FUSABLE,
                [x],
                lambda t: topi.max_pool2d(
                    t, kernel, strides, pads, dilation=dilations, ceil_mode=ceil_mode, layout=layout
                ),
            )
        else:
            include_pad = bool(attrs.get("count_include_pad", 0))
            out = importer.call(
                "avg_pool2d",
                OpPattern.OUT_ELEMWISE_FUSABLE,
                [x],
                lambda t: topi.avg_pool2d(
                    t,
                    kernel,
                    strides,
                    pads,
                    ceil_mode=ceil_mode,
                    count_include_pad=include_pad,
                    layout=layout,
                ),
            )
        return [_Value(graph=out, nhwc=nhwc)]

    return convert


def _global_avg_pool(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    data = _at(inputs, 0)
    if data.ndim != 4:
        raise FrontendError(f"{_describe(node)}: only 4-D data, got shape {list(data.shape)}")
    x, nhwc = importer.activation(data, node.input[0])
    layout = "NHWC" if nhwc else "NCHW"
    out = importer.call(
        "global_avg_pool2d", OpPattern.OUT_ELEMWISE_FUSABLE, [x], lambda t: topi.global_avg_pool2d(t, layout)
    )
    return [_Value(graph=out, nhwc=nhwc)]


def _reshape_to(
    importer: _Importer, node: onnx.NodeProto, data: _Value, shape: tuple[int, ...]
) -> list[_Value]:
    """`data` reshaped in ONNX's (row-major, NCHW) order; from NHWC storage directly where the orders agree."""
    if data.constant is not None:
        return [_Value(constant=data.constant.reshape(shape))]
    source = data.graph
    assert source is not None
    if data.nhwc and not _same_order_in_nhwc(data.shape):
        source = importer.plain(data)
    if source.shape == shape:
        return [_Value(graph=source)]
    return [
        _Value(
            graph=importer.call("reshape", OpPattern.INJECTIVE, [source], lambda t: topi.reshape(t, shape))
        )
    ]


def _same_order_in_nhwc(shape: Sequence[int]) -> bool:
    """Whether an NCHW tensor of `shape` and its NHWC copy hold the same elements in the same order.

    They do when the axes longer than 1 come in the same order in both (C
    with H = W = 1, as after global pooling).
    """
    long_axes = [d for d in range(4) if shape[d] > 1]
    return long_axes == [d for d in _TO_NHWC if shape[d] > 1]


def _flatten(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    data = _at(inputs, 0)
    axis = int(attrs.get("axis", 1))
    axis = axis if axis == data.ndim else topi.normalize_axis(axis, data.ndim, "Flatten")
    return _reshape_to(importer, node, data, (math.prod(data.shape[:axis]), math.prod(data.shape[axis:])))


def _reshape(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    data, target = _at(inputs, 0), _at(inputs, 1)
    assert target.constant is not None
    requested = [int(d) for d in target.constant.reshape(-1)]
    allow_zero = bool(attrs.get("allowzero", 0))
    shape: list[int] = []
    for position, d in enumerate(requested):
        if d == 0 and allow_zero:
            raise FrontendError(f"{_describe(node)}: allowzero with a 0 in the shape makes an empty tensor")
        if d == 0:
            if position >= data.ndim:
                raise FrontendError(
                    f"{_describe(node)}: shape {requested} copies axis {position} of a rank-{data.ndim} tensor"
                )
            d = data.shape[position]
        shape.append(d)
    if shape.count(-1) > 1 or any(d < -1 for d in shape):
        raise FrontendError(f"{_describe(node)}: invalid shape {requested}")
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        if known == 0 or math.prod(data.shape) % known:
            raise FrontendError(f"{_describe(node)}: cannot reshape {list(data.shape)} to {requested}")
        shape[shape.index(-1)] = math.prod(data.shape) // known
    if math.prod(shape) != math.prod(data.shape):
        raise FrontendError(f"{_describe(node)}: cannot reshape {list(data.shape)} to {requested}")
    return _reshape_to(importer, node, data, tuple(shape))


def _transpose(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    data = _at(inputs, 0)
    perm = [int(p) for p in attrs.get("perm", reversed(range(data.ndim)))]
    if data.constant is not None:
        return [_Value(constant=data.constant.transpose(perm))]
    if (
        data.nhwc
    ):  # one transpose from the NHWC storage: ONNX axis perm[d] is stored at _TO_NHWC.index(perm[d])
        source, perm = importer.stored_nhwc(data), [_TO_NHWC.index(p) for p in perm]
    else:
        source = importer.plain(data)
    out = importer.call("transpose", OpPattern.INJECTIVE, [source], lambda t: topi.transpose(t, perm))
    return [_Value(graph=out)]


def _concat(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    values = [v for v in inputs if v is not None]
    axis = topi.normalize_axis(int(attrs["axis"]), values[0].ndim, "Concat")
    if all(v.constant is not None for v in values):
        return [_Value(constant=np.concatenate([v.constant for v in values], axis))]  # type: ignore[misc]
    nhwc = values[0].ndim == 4 and any(v.nhwc for v in values)
    args = [
        importer.stored_nhwc(v, name) if nhwc else importer.plain(v, name)
        for v, name in zip(values, [n for n in node.input if n], strict=True)
    ]
    stored_axis = _TO_NHWC.index(axis) if nhwc else axis

    def compute(*tensors: te.Tensor) -> te.Tensor:
        return topi.concatenate(tensors, stored_axis)

    out = importer.call(
        "concatenate", OpPattern.INJECTIVE, args, compute, [f"data{i}" for i in range(len(args))]
    )
    return [_Value(graph=out, nhwc=nhwc)]


def _softmax(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    data = _at(inputs, 0)
    axis = topi.normalize_axis(
        int(attrs.get("axis", -1 if importer.opset >= 13 else 1)), data.ndim, "Softmax"
    )
    if importer.opset < 13 and axis != data.ndim - 1:
        raise FrontendError(
            f"{_describe(node)}: before opset 13, Softmax flattens the axes from `axis` on; only the last axis is supported"
        )
    x = importer.stored_nhwc(data) if data.nhwc else importer.plain(data, node.input[0])
    stored_axis = _TO_NHWC.index(axis) if data.nhwc else axis
    out = importer.call("softmax", OpPattern.OPAQUE, [x], lambda t: topi.softmax(t, stored_axis))
    return [_Value(graph=out, nhwc=data.nhwc)]


def _layer_norm(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    data, scale, bias = _at(inputs, 0), _at(inputs, 1), _optional(inputs, 2)
    axis, epsilon = int(attrs.get("axis", -1)), float(attrs.get("epsilon", 1e-5))
    args = [importer.plain(data, node.input[0]), importer.plain(scale, node.input[1])]
    if bias is not None:
        args.append(importer.plain(bias, node.input[2]))

    def compute(x: te.Tensor, gamma: te.Tensor, beta: te.Tensor | None = None) -> te.Tensor:
        return topi.layer_norm(x, gamma, beta, axis=axis, epsilon=epsilon)

    out = importer.call("layer_norm", OpPattern.OPAQUE, args, compute, ["data", "gamma", "beta"][: len(args)])
    return [_Value(graph=out)]


def _reduce_mean(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    data = _at(inputs, 0)
    axes_input = _optional(inputs, 1)
    if axes_input is not None:
        assert axes_input.constant is not None
        listed = [int(a) for a in axes_input.constant.reshape(-1)]
    else:
        listed = [int(a) for a in attrs.get("axes", [])]
    keepdims = bool(attrs.get("keepdims", 1))
    if not listed and attrs.get("noop_with_empty_axes", 0):
        return [data]
    axes = sorted({topi.normalize_axis(a, data.ndim, "ReduceMean") for a in listed} or set(range(data.ndim)))
    if data.constant is not None:
        return [_Value(constant=data.constant.mean(axis=tuple(axes), keepdims=keepdims))]
    kept = [d for d in range(data.ndim) if d not in axes]
    # From NHWC storage when the result does not depend on the order (kept axes in the same order).
    nhwc = data.nhwc and (keepdims or [d for d in _TO_NHWC if d in kept] == kept)
    if not keepdims and not kept:
        raise FrontendError(
            f"{_describe(node)}: reducing every axis without keepdims gives a scalar (not supported)"
        )
    x = importer.stored_nhwc(data) if nhwc else importer.plain(data, node.input[0])
    stored_axes = [_TO_NHWC.index(a) for a in axes] if nhwc else axes
    out = importer.call(
        "mean", OpPattern.COMM_REDUCE, [x], lambda t: topi.reduce_mean(t, stored_axes, keepdims)
    )
    return [_Value(graph=out, nhwc=nhwc and keepdims)]


def _constant(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    ((kind, value),) = attrs.items()
    if kind == "value":
        return [_Value(constant=numpy_helper.to_array(value))]
    dtype = np.float32 if kind.startswith("value_float") else np.int64
    return [_Value(constant=np.asarray(value, dtype))]


def _identity(
    importer: _Importer, node: onnx.NodeProto, attrs: dict[str, Any], inputs: list[_Value | None]
) -> list[_Value]:
    return [_at(inputs, 0)]


_CONVERTERS: dict[str, Converter] = {
    "Conv": _conv,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _binary,
    "Sub": _binary,
    "Mul": _binary,
    "Div": _binary,
    "Relu": _unary("relu", topi.relu),
    "Clip": _clip,
    "Sigmoid": _unary("sigmoid", topi.sigmoid),
    "Tanh": _unary("tanh", topi.tanh),
    "Erf": _unary("erf", topi.erf),
    "Gelu": _gelu,
    "BatchNormalization": _batch_norm,
    "MaxPool": _pool("max"),
    "AveragePool": _pool("avg"),
    "GlobalAveragePool": _global_avg_pool,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Transpose": _transpose,
    "Concat": _concat,
    "Softmax": _softmax,
    "LayerNormalization": _layer_norm,
    "ReduceMean": _reduce_mean,
    "Constant": _constant,
    "Identity": _identity,
}


# --- helpers -------------------------------------------------------------------------------------


def _default_opset(model: onnx.ModelProto) -> int:
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            return int(opset.version)
    raise FrontendError("the model imports no version of the default ONNX operator set")


def _describe(node: onnx.NodeProto) -> str:
    return f"node {node.name or node.output[0]!r} ({node.op_type})"


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attribute in node.attribute:
        value = onnx.helper.get_attribute_value(attribute)
        values[attribute.name] = value.decode() if isinstance(value, bytes) else value
    return values


def _check_attribute_values(node: onnx.NodeProto, attrs: dict[str, Any]) -> None:
    """Refuse attribute values the converters do not implement (before anything is built)."""
    where = _describe(node)
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        raise FrontendError(f"{where}: unsupported auto_pad {auto_pad!r}")
    for name, length in (("kernel_shape", 2), ("strides", 2), ("dilations", 2), ("pads", 4)):
        if name in attrs and len(attrs[name]) != length:
            raise FrontendError(
                f"{where}: only 2-D windows: {name} {list(attrs[name])} should have {length} values"
            )
    if node.op_type == "AveragePool" and any(d != 1 for d in attrs.get("dilations", ())):
        raise FrontendError(f"{where}: unsupported dilations {list(attrs['dilations'])} (only 1)")
    if node.op_type in ("MaxPool", "AveragePool") and "kernel_shape" not in attrs:
        raise FrontendError(f"{where}: kernel_shape is required")
    if node.op_type == "BatchNormalization" and (
        attrs.get("training_mode", 0) or attrs.get("spatial", 1) != 1
    ):
        raise FrontendError(
            f"{where}: only inference (training_mode=0) over channels (spatial=1) is supported"
        )
    if node.op_type == "Gelu" and attrs.get("approximate", "none") not in ("none", "tanh"):
        raise FrontendError(f"{where}: unsupported approximate {attrs['approximate']!r}")
    if node.op_type == "Constant" and len(attrs) != 1:
        raise FrontendError(f"{where}: needs exactly one value attribute")


def _dtype(elem_type: int, what: str) -> str:
    """The te dtype of an ONNX element type."""
    try:
        dtype = str(np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)))
        te.dtype_to_type(dtype)
    except (KeyError, TypeError, TEError):
        known = elem_type in onnx.TensorProto.DataType.values()
        name = onnx.TensorProto.DataType.Name(elem_type) if known else str(elem_type)
        raise FrontendError(f"{what}: unsupported element type {name}") from None
    return dtype


def _pair(attrs: dict[str, Any], name: str) -> tuple[int, int]:
    values = attrs.get(name, (1, 1))
    return int(values[0]), int(values[1])


def _pads(
    attrs: dict[str, Any],
    size: Sequence[int],
    kernel: Sequence[int],
    strides: tuple[int, int],
    dilations: tuple[int, int],
) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) from `pads` or `auto_pad` (ONNX's pads are begins, then ends)."""
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad == "NOTSET":
        top, left, bottom, right = (int(p) for p in attrs.get("pads", (0, 0, 0, 0)))
        return top, left, bottom, right
    if auto_pad == "VALID":
        return 0, 0, 0, 0
    begins: list[int] = []
    ends: list[int] = []
    for extent, k, s, d in zip(size, kernel, strides, dilations, strict=True):
        total = max(0, (-(-extent // s) - 1) * s + (k - 1) * d + 1 - extent)
        small, large = total // 2, total - total // 2
        begins.append(small if auto_pad == "SAME_UPPER" else large)
        ends.append(large if auto_pad == "SAME_UPPER" else small)
    return begins[0], begins[1], ends[0], ends[1]


def _at(inputs: list[_Value | None], position: int) -> _Value:
    value = inputs[position] if position < len(inputs) else None
    if value is None:
        raise FrontendError(f"input {position} is required")
    return value


def _optional(inputs: list[_Value | None], position: int) -> _Value | None:
    return inputs[position] if position < len(inputs) else None
