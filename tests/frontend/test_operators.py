"""The te operator library (`schedopt.frontend.operators`) against numpy and onnxruntime.

Each operator is built unscheduled (`ss.build(ComputeDAG(function))`) on
small shapes; convolutions and pools, whose padding rules are the subtle
part, are checked against onnxruntime's single-node models.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import schedopt as ss
from schedopt import TEError, te
from schedopt.compute_dag import ComputeDAG
from schedopt.frontend import operators as topi

RNG = np.random.default_rng(17)


def _random(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _build(compute: Callable[..., te.Tensor], *arrays: np.ndarray) -> tuple[te.Tensor, ss.Kernel]:
    placeholders = [te.placeholder(a.shape, str(a.dtype), name=f"input{i}") for i, a in enumerate(arrays)]
    out = compute(*placeholders)
    function = te.build_te_function([*placeholders, out], "operator")
    return out, ss.build(ComputeDAG(function))


def _run(compute: Callable[..., te.Tensor], *arrays: np.ndarray) -> np.ndarray:
    """`compute` on placeholders shaped as `arrays`, compiled unscheduled and run on them."""
    out, kernel = _build(compute, *arrays)
    result = np.empty(out.shape, out.dtype)
    kernel(*(np.ascontiguousarray(a) for a in arrays), result)
    return result


def _stages(compute: Callable[..., te.Tensor], *shapes: tuple[int, ...]) -> list[str]:
    placeholders = [te.placeholder(s, name=f"input{i}") for i, s in enumerate(shapes)]
    dag = ComputeDAG([*placeholders, compute(*placeholders)])
    return [op.name_str for op in dag.compute_ops]


def _onnx_reference(op_type: str, arrays: list[np.ndarray], **attrs: object) -> np.ndarray:
    """onnxruntime's result of one `op_type` node on `arrays`."""
    names = [f"x{i}" for i in range(len(arrays))]
    node = onnx.helper.make_node(op_type, names, ["y"], **attrs)
    graph = onnx.helper.make_graph(
        [node],
        "reference",
        [
            onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, a.shape)
            for n, a in zip(names, arrays, strict=True)
        ],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, dict(zip(names, arrays, strict=True)))[0]


def _close(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


# --- convolution -----------------------------------------------------------------------------

CONV_CASES = {
    "strided-asymmetric-pads": (4, 6, 1, 3, 2, (1, 0, 2, 1), 1),
    "grouped-dilated": (4, 6, 2, 3, 1, (1, 1, 1, 1), 2),
    "depthwise": (4, 4, 4, 3, 1, (1, 1, 1, 1), 1),
    "depthwise-multiplier-2": (4, 8, 4, 3, 2, (0, 1, 1, 0), 1),
    "pointwise": (5, 3, 1, 1, 1, (0, 0, 0, 0), 1),
}


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("case", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv2d_matches_onnxruntime(case: tuple, layout: str) -> None:
    channels, out_channels, groups, k, stride, pads, dilation = case
    data = _random(2, channels, 9, 8)
    kernel = _random(out_channels, channels // groups, k, k)
    bias = _random(out_channels)
    expected = _onnx_reference(
        "Conv",
        [data, kernel, bias],
        group=groups,
        strides=[stride] * 2,
        pads=list(pads),
        dilations=[dilation] * 2,
    )
    options = {"strides": stride, "padding": pads, "dilation": dilation, "groups": groups}
    if layout == "NCHW":
        actual = _run(lambda x, w, b: topi.conv2d_nchw(x, w, b, **options), data, kernel, bias)
    else:
        nhwc = _run(
            lambda x, w, b: topi.conv2d_nhwc(x, w, b, **options),
            data.transpose(0, 2, 3, 1),
            kernel.transpose(2, 3, 1, 0),
            bias,
        )
        actual = nhwc.transpose(0, 3, 1, 2)
    _close(actual, expected)


@pytest.mark.parametrize(
    ("compute", "shapes", "stages"),
    [
        (topi.conv2d_nhwc, [(1, 8, 8, 4), (3, 3, 4, 6)], ["PaddedInput", "Conv2dOutput"]),
        (
            lambda x, w: topi.conv2d_nhwc(x, w, groups=2),
            [(1, 8, 8, 4), (3, 3, 2, 6)],
            ["PaddedInput", "group_conv2d_nhwc"],
        ),
        (
            lambda x, w: topi.conv2d_nhwc(x, w, groups=4),
            [(1, 8, 8, 4), (3, 3, 1, 4)],
            ["PaddedInput", "DepthwiseConv2d"],
        ),
        (topi.conv2d_nchw, [(1, 4, 8, 8), (6, 4, 3, 3)], ["pad_temp", "conv2d_nchw"]),
        (
            lambda x, w: topi.conv2d_nchw(x, w, groups=4),
            [(1, 4, 8, 8), (4, 1, 3, 3)],
            ["PaddedInput", "DepthwiseConv2d"],
        ),
        (
            lambda x, w, b: topi.conv2d_nchw(x, w, b),
            [(1, 4, 8, 8), (6, 4, 3, 3), (6,)],
            ["pad_temp", "conv2d_nchw", "T_add"],
        ),
    ],
)
def test_conv2d_stage_names_follow_topi(
    compute: Callable[..., te.Tensor], shapes: list, stages: list[str]
) -> None:
    assert _stages(compute, *shapes) == stages


def test_conv2d_marks_the_kernel_layout_free() -> None:
    data, kernel = te.placeholder((1, 8, 8, 4), name="data"), te.placeholder((3, 3, 4, 6), name="kernel")
    out = topi.conv2d_nhwc(data, kernel)
    assert out.op.attrs["layout_free_placeholders"] == [kernel]


def test_conv2d_rejects_groups_that_do_not_divide_the_channels() -> None:
    data, kernel = te.placeholder((1, 6, 8, 8), name="data"), te.placeholder((6, 2, 3, 3), name="kernel")
    with pytest.raises(TEError, match="groups=4 must divide the input channels"):
        topi.conv2d_nchw(data, kernel, groups=4)
    with pytest.raises(TEError, match="the kernel has 2 input channels per group"):
        topi.conv2d_nchw(data, kernel, groups=2)


# --- matrix products ------------------------------------------------------------------------------


def test_dense_keeps_leading_axes_and_adds_the_bias() -> None:
    data, weight, bias = _random(2, 3, 5), _random(4, 5), _random(4)
    _close(_run(topi.dense, data, weight, bias), data @ weight.T + bias)
    assert _stages(topi.dense, (2, 3, 5), (4, 5), (4,)) == ["T_dense", "T_add"]
    x, w = te.placeholder((2, 5), name="x"), te.placeholder((4, 5), name="w")
    assert topi.dense(x, w).op.attrs["layout_free_placeholders"] == [w]


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((5, 3), (3, 4)), ((2, 1, 5, 3), (4, 3, 6)), ((5, 3), (3,)), ((3,), (4, 3, 6)), ((2, 5, 3), (3, 2))],
)
def test_matmul_follows_numpy(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    a, b = _random(*a_shape), _random(*b_shape)
    _close(_run(topi.matmul, a, b), a @ b)


def test_matmul_stage_names_and_errors() -> None:
    assert _stages(topi.matmul, (5, 3), (3, 4)) == ["T_matmul"]
    assert _stages(topi.matmul, (2, 5, 3), (2, 3, 4)) == ["T_batch_matmul"]
    with pytest.raises(TEError, match="do not fit"):
        _stages(topi.matmul, (5, 3), (4, 2))
    with pytest.raises(TEError, match="rank-0"):
        _stages(topi.matmul, (3,), (3,))


# --- broadcasting and elementwise -------------------------------------------------------------------

BINARY = {
    "add": (topi.add, np.add),
    "subtract": (topi.subtract, np.subtract),
    "multiply": (topi.multiply, np.multiply),
    "divide": (topi.divide, np.divide),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize(
    ("a_shape", "b_shape"), [((2, 3, 4), (3, 1)), ((4,), (2, 3, 4)), ((2, 1, 4), (1, 3, 1))]
)
def test_binary_operators_broadcast_as_numpy(
    name: str, a_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> None:
    operator, reference = BINARY[name]
    a, b = _random(*a_shape), _random(*b_shape) + 3.0
    _close(_run(operator, a, b), reference(a, b))


def test_binary_operators_take_python_scalars() -> None:
    a = _random(3, 4)
    _close(_run(lambda x: topi.divide(x, 2.0), a), a / 2)
    _close(_run(lambda x: topi.subtract(1.0, x), a), 1 - a)
    assert _stages(lambda x: topi.multiply(x, 3), (3, 4)) == ["T_multiply"]


def test_broadcast_shape_rejects_mismatched_extents() -> None:
    assert topi.broadcast_shape((2, 1, 4), (3, 1), ()) == (2, 3, 4)
    with pytest.raises(TEError, match="do not broadcast"):
        topi.broadcast_shape((2, 3), (4, 3, 2))


def test_scale_shift_is_per_channel() -> None:
    data, scale, shift = _random(2, 3, 4, 5), _random(3), _random(3)
    expected = data * scale[:, None, None] + shift[:, None, None]
    _close(_run(lambda x, s, b: topi.scale_shift(x, s, b, 1), data, scale, shift), expected)


_erf = np.vectorize(math.erf, otypes=[np.float64])

UNARY = {
    "relu": (topi.relu, lambda x: np.maximum(x, 0)),
    "clip": (lambda x: topi.clip(x, -0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0)),
    "clip-below": (lambda x: topi.clip(x, a_min=0.0), lambda x: np.maximum(x, 0.0)),
    "sigmoid": (topi.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (topi.tanh, np.tanh),
    "erf": (topi.erf, _erf),
    "gelu": (topi.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
    "gelu-tanh": (
        lambda x: topi.gelu(x, "tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    ),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_operators(name: str) -> None:
    operator, reference = UNARY[name]
    data = _random(3, 17) * 2
    _close(_run(operator, data), reference(data).astype(np.float32))


# --- pooling ----------------------------------------------------------------------------------------

POOL_CASES = {
    "padded": (3, 2, (1, 1, 1, 1), False, False),
    "ceil": (3, 2, (1, 1, 1, 1), True, False),
    "ceil-count-pad": (3, 2, (1, 0, 1, 0), True, True),
    "ceil-no-pad": (3, 2, (0, 0, 0, 0), True, False),
    "stride-1-count-pad": (3, 1, (1, 1, 1, 1), False, True),
}


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_pool2d_matches_onnxruntime(case: tuple, kind: str, layout: str) -> None:
    kernel, stride, pads, ceil_mode, count_include_pad = case
    data = _random(1, 3, 8, 7)
    attrs: dict[str, object] = {
        "kernel_shape": [kernel] * 2,
        "strides": [stride] * 2,
        "pads": list(pads),
        "ceil_mode": int(ceil_mode),
    }
    if kind == "max":
        expected = _onnx_reference("MaxPool", [data], **attrs)

        def pool(x: te.Tensor) -> te.Tensor:
            return topi.max_pool2d(x, kernel, stride, pads, ceil_mode=ceil_mode, layout=layout)
    else:
        expected = _onnx_reference("AveragePool", [data], count_include_pad=int(count_include_pad), **attrs)

        def pool(x: te.Tensor) -> te.Tensor:
            return topi.avg_pool2d(
                x,
                kernel,
                stride,
                pads,
                ceil_mode=ceil_mode,
                count_include_pad=count_include_pad,
                layout=layout,
            )

    if layout == "NCHW":
        actual = _run(pool, data)
    else:
        actual = _run(pool, data.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    _close(actual, expected)


def test_max_pool2d_with_dilation() -> None:
    data = _random(1, 2, 9, 9)
    expected = _onnx_reference("MaxPool", [data], kernel_shape=[2, 2], dilations=[2, 2], pads=[1, 1, 1, 1])
    _close(_run(lambda x: topi.max_pool2d(x, 2, 1, 1, dilation=2), data), expected)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_global_avg_pool2d(layout: str) -> None:
    data = _random(2, 3, 5, 4)
    stored = data if layout == "NCHW" else data.transpose(0, 2, 3, 1)
    expected = data.mean(axis=(2, 3), keepdims=True)
    actual = _run(lambda x: topi.global_avg_pool2d(x, layout), stored)
    _close(actual if layout == "NCHW" else actual.transpose(0, 3, 1, 2), expected)


def test_pool_rejects_bad_layouts_and_paddings() -> None:
    data = te.placeholder((1, 3, 8, 8), name="data")
    with pytest.raises(TEError, match="layout must be one of"):
        topi.max_pool2d(data, 2, layout="HWCN")
    with pytest.raises(TEError, match="must be less than the kernel"):
        topi.avg_pool2d(data, 2, 1, 2)


# --- normalisation and reductions ------------------------------------------------------------------


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize(("shape", "axis"), [((2, 3, 4, 5), 1), ((2, 3, 7), -1), ((6,), 0)])
def test_softmax(shape: tuple[int, ...], axis: int) -> None:
    data = _random(*shape)
    _close(_run(lambda x: topi.softmax(x, axis), data), _softmax(data, axis))


def test_softmax_stage_names() -> None:
    assert _stages(topi.softmax, (4, 8)) == [
        "T_softmax_maxelem",
        "T_softmax_exp",
        "T_softmax_expsum",
        "T_softmax_norm",
    ]


@pytest.mark.parametrize(("axis", "with_beta"), [(-1, True), (1, True), (-1, False)])
def test_layer_norm_matches_onnxruntime(axis: int, with_beta: bool) -> None:
    data = _random(2, 5, 8)
    normalised = data.shape[axis:]
    arrays = [data, _random(*normalised)] + ([_random(*normalised)] if with_beta else [])
    expected = _onnx_reference("LayerNormalization", arrays, axis=axis, epsilon=1e-5)
    actual = _run(lambda x, *gb: topi.layer_norm(x, *gb, axis=axis, epsilon=1e-5), *arrays)
    _close(actual, expected)


@pytest.mark.parametrize(
    ("axes", "keepdims"), [((1, 3), False), ((2, 3), True), (None, True), ((-1,), False)]
)
def test_reduce_mean(axes: tuple[int, ...] | None, keepdims: bool) -> None:
    data = _random(2, 3, 4, 5)
    _close(_run(lambda x: topi.reduce_mean(x, axes, keepdims), data), data.mean(axis=axes, keepdims=keepdims))


# --- data movement -----------------------------------------------------------------------------------


@pytest.mark.parametrize("new_shape", [(6, 20), (2, 1, 12, 5, 1), (4, 3, 10), (120,), (2, 3, 4, 5)])
def test_reshape(new_shape: tuple[int, ...]) -> None:
    data = _random(2, 3, 4, 5)
    _close(_run(lambda x: topi.reshape(x, new_shape), data), data.reshape(new_shape))


def test_reshape_rejects_another_size() -> None:
    with pytest.raises(TEError, match="cannot reshape"):
        topi.reshape(te.placeholder((2, 3), name="x"), (4, 2))


@pytest.mark.parametrize("axis", [0, 1, 3, -1])
def test_flatten(axis: int) -> None:
    data = _random(2, 3, 4, 5)
    rows = math.prod(data.shape[: axis % 4]) if axis != 0 else 1
    _close(_run(lambda x: topi.flatten(x, axis), data), data.reshape(rows, -1))


def test_transpose_and_layout_transform() -> None:
    data = _random(2, 3, 4, 5)
    _close(_run(lambda x: topi.transpose(x, (0, 2, 3, 1)), data), data.transpose(0, 2, 3, 1))
    _close(_run(topi.transpose, data), data.transpose())
    _close(_run(lambda x: topi.layout_transform(x, "NCHW", "NHWC"), data), data.transpose(0, 2, 3, 1))
    _close(_run(lambda x: topi.layout_transform(x, "NHWC", "NCHW"), data), data.transpose(0, 3, 1, 2))
    assert _stages(lambda x: topi.layout_transform(x, "NCHW", "NHWC"), (1, 2, 3, 4)) == ["T_layout_trans"]
    with pytest.raises(TEError, match="not a permutation"):
        topi.transpose(te.placeholder((2, 3), name="x"), (0, 0))
    with pytest.raises(TEError, match="not orders of the same axes"):
        topi.layout_transform(te.placeholder((2, 3, 4, 5), name="x"), "NCHW", "NCWD")


def test_concatenate() -> None:
    a, b, c = _random(2, 3, 4), _random(2, 1, 4), _random(2, 2, 4)
    _close(_run(lambda x, y, z: topi.concatenate([x, y, z], 1), a, b, c), np.concatenate([a, b, c], 1))
    with pytest.raises(TEError, match="differ outside axis"):
        topi.concatenate([te.placeholder((2, 3), name="x"), te.placeholder((3, 3), name="y")], 1)
