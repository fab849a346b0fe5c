"""`from_onnx` against onnxruntime: operators, layouts, batch-norm folding, errors, the model zoo.

Networks run through `network_testing.run_network` (each call compiled
unscheduled, in graph order), on small shapes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from network_testing import run_network
from onnx import TensorProto, helper, numpy_helper

from schedopt.dialects import te
from schedopt.errors import FrontendError, NetworkError
from schedopt.frontend import model_zoo
from schedopt.frontend.network import Network, OpPattern
from schedopt.frontend.onnx_importer import from_onnx

RNG = np.random.default_rng(5)
LAYOUTS = ["NHWC", "NCHW"]


def _random(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _model(
    nodes: Sequence[onnx.NodeProto],
    inputs: Mapping[str, Sequence[int | str]],
    outputs: Sequence[str],
    initializers: Mapping[str, np.ndarray] | None = None,
    opset: int = 17,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        list(nodes),
        "test",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name, shape in inputs.items()],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
        [numpy_helper.from_array(value, name) for name, value in (initializers or {}).items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _onnxruntime(model: onnx.ModelProto, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, dict(feeds))


def _check(
    model: onnx.ModelProto, feeds: Mapping[str, np.ndarray], layout: str, winograd: bool = False
) -> Network:
    """Import `model` in `layout`, run it, compare every output with onnxruntime's; the network."""
    network = from_onnx(model, layout=layout, winograd=winograd)
    expected = _onnxruntime(model, feeds)
    actual = run_network(network, feeds)
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    return network


def _callees(network: Network) -> Counter[str]:
    """How often each kind of operator function is called (names without their `_<n>` suffix)."""
    return Counter(call.name.rstrip("0123456789").removesuffix("_") for call in network.calls)


def _conv(
    name: str, data: str, in_channels: int, out_channels: int, inits: dict[str, np.ndarray], **attrs: object
) -> onnx.NodeProto:
    kernel = attrs.pop("kernel", 3)
    groups = int(attrs.get("group", 1))  # type: ignore[arg-type]
    inits[f"{name}.w"] = _random(out_channels, in_channels // groups, kernel, kernel) * 0.3  # type: ignore[operator]
    inits[f"{name}.b"] = _random(out_channels)
    return helper.make_node("Conv", [data, f"{name}.w", f"{name}.b"], [name], name=name, **attrs)


def _batch_norm(name: str, data: str, channels: int, inits: dict[str, np.ndarray]) -> onnx.NodeProto:
    inits[f"{name}.gamma"] = RNG.uniform(0.5, 1.5, channels).astype(np.float32)
    inits[f"{name}.beta"] = _random(channels)
    inits[f"{name}.mean"] = _random(channels)
    inits[f"{name}.var"] = RNG.uniform(0.5, 1.5, channels).astype(np.float32)
    inputs = [data, *(f"{name}.{p}" for p in ("gamma", "beta", "mean", "var"))]
    return helper.make_node("BatchNormalization", inputs, [name], name=name, epsilon=1e-5)


# --- single operators ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    "attrs",
    [
        {"pads": [1, 0, 2, 1], "strides": [2, 2]},
        {"pads": [2, 2, 2, 2], "dilations": [2, 2], "group": 2},
        {"pads": [1, 1, 1, 1], "group": 4},
        {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
        {"auto_pad": "SAME_LOWER", "strides": [2, 1]},
        {"auto_pad": "VALID"},
    ],
    ids=["asymmetric-pads", "grouped-dilated", "depthwise", "same-upper", "same-lower", "valid"],
)
def test_conv(attrs: dict[str, object], layout: str) -> None:
    inits: dict[str, np.ndarray] = {}
    groups = int(attrs.get("group", 1))  # type: ignore[arg-type]
    node = _conv("y", "x", 4, 4 if groups == 4 else 6, inits, **attrs)
    model = _model([node], {"x": (1, 4, 9, 8)}, ["y"], inits)
    network = _check(model, {"x": _random(1, 4, 9, 8)}, layout)
    kernel = network.params["y.w:hwio" if layout == "NHWC" else "y.w"]
    assert (kernel.shape[:2] if layout == "NHWC" else kernel.shape[2:]) == (3, 3)
    conv = next(c for c in network.calls if c.name == "conv2d")
    assert conv.pattern == OpPattern.OUT_ELEMWISE_FUSABLE


@pytest.mark.parametrize(("size", "tile_size"), [(8, 4), (7, 2)])
def test_winograd_conv_computes_the_convolution(size: int, tile_size: int) -> None:
    inits: dict[str, np.ndarray] = {}
    node = _conv("y", "x", 8, 64, inits, pads=[1, 1, 1, 1])
    model = _model([node], {"x": (1, 8, size, size)}, ["y"], inits)
    network = _check(model, {"x": _random(1, 8, size, size)}, "NHWC", winograd=True)
    alpha = tile_size + 2
    assert network.params[f"y.w:winograd{tile_size}"].shape == (alpha, alpha, 8, 64)
    assert "y.w:hwio" not in network.params


@pytest.mark.parametrize(
    ("out_channels", "attrs"),
    [(32, {}), (512, {}), (64, {"strides": [2, 2]}), (64, {"dilations": [2, 2], "pads": [2, 2, 2, 2]})],
    ids=["few-channels", "many-channels", "strided", "dilated"],
)
def test_other_convs_stay_direct_with_winograd_on(out_channels: int, attrs: dict[str, object]) -> None:
    inits: dict[str, np.ndarray] = {}
    node = _conv("y", "x", 4, out_channels, inits, **({"pads": [1, 1, 1, 1]} | attrs))
    network = from_onnx(_model([node], {"x": (1, 4, 8, 8)}, ["y"], inits), winograd=True)
    assert "y.w:hwio" in network.params


@pytest.mark.parametrize(
    ("attrs", "c_shape"),
    [
        ({"transB": 1}, (6,)),
        ({}, (1, 6)),
        ({"transA": 1, "alpha": 0.5, "beta": 2.0}, (3, 6)),
        ({"alpha": 2.0}, None),
    ],
    ids=["transB", "row-bias", "transA-alpha-beta", "no-bias"],
)
def test_gemm_with_a_constant_weight_is_dense(
    attrs: dict[str, object], c_shape: tuple[int, ...] | None
) -> None:
    a_shape = (4, 3) if attrs.get("transA") else (3, 4)
    b = _random(6, 4) if attrs.get("transB") else _random(4, 6)
    inits = {"b": b} | ({"c": _random(*c_shape)} if c_shape else {})
    node = helper.make_node("Gemm", ["a", "b", "c"] if c_shape else ["a", "b"], ["y"], **attrs)
    network = _check(_model([node], {"a": a_shape}, ["y"], inits), {"a": _random(*a_shape)}, "NHWC")
    assert _callees(network)["dense"] == 1


def test_gemm_with_activations_only() -> None:
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], transB=1, alpha=0.5, beta=3.0)
    model = _model([node], {"a": (3, 4), "b": (6, 4), "c": (3, 6)}, ["y"])
    network = _check(model, {"a": _random(3, 4), "b": _random(6, 4), "c": _random(3, 6)}, "NCHW")
    assert _callees(network) == {"transpose": 1, "dense": 1}


@pytest.mark.parametrize(
    ("a_shape", "b_shape"), [((2, 1, 5, 3), (4, 3, 6)), ((5, 3), (3,)), ((2, 5, 3), (2, 3, 4))]
)
def test_matmul_of_activations(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    feeds = {"a": _random(*a_shape), "b": _random(*b_shape)}
    network = _check(_model([node], {"a": a_shape, "b": b_shape}, ["y"]), feeds, "NHWC")
    assert _callees(network) == {"matmul": 1}


def test_matmul_with_a_constant_matrix_is_dense_with_the_weight_transposed() -> None:
    node = helper.make_node("MatMul", ["a", "w"], ["y"])
    model = _model([node], {"a": (2, 5, 3)}, ["y"], {"w": _random(3, 4)})
    network = _check(model, {"a": _random(2, 5, 3)}, "NHWC")
    assert _callees(network) == {"dense": 1}
    assert network.params["w:dense"].shape == (4, 3)


@pytest.mark.parametrize("op_type", ["Add", "Sub", "Mul", "Div"])
def test_broadcasting_binary_operators(op_type: str) -> None:
    nodes = [
        helper.make_node(op_type, ["a", "b"], ["ab"]),
        helper.make_node(op_type, ["ab", "scalar"], ["y"]),
        helper.make_node(op_type, ["vector", "a"], ["z"]),
    ]
    inits = {"scalar": np.array(1.5, np.float32), "vector": np.abs(_random(4)) + 1}
    model = _model(nodes, {"a": (2, 3, 4), "b": (3, 1)}, ["y", "z"], inits)
    network = _check(model, {"a": np.abs(_random(2, 3, 4)) + 1, "b": np.abs(_random(3, 1)) + 1}, "NCHW")
    assert "scalar" not in network.params  # folded into the expression
    assert all(call.pattern == OpPattern.BROADCAST for call in network.calls)


@pytest.mark.parametrize(
    ("op_type", "inputs", "attrs", "opset"),
    [
        ("Relu", [], {}, 17),
        ("Sigmoid", [], {}, 17),
        ("Tanh", [], {}, 17),
        ("Erf", [], {}, 17),
        ("Clip", ["low", "high"], {}, 17),
        ("Clip", ["", "high"], {}, 17),
        ("Clip", [], {"min": -0.5, "max": 0.5}, 10),
        ("Gelu", [], {}, 20),
        ("Gelu", [], {"approximate": "tanh"}, 20),
    ],
)
def test_elementwise_operators(op_type: str, inputs: list[str], attrs: dict[str, object], opset: int) -> None:
    node = helper.make_node(op_type, ["x", *inputs], ["y"], **attrs)
    inits = {"low": np.array(-0.5, np.float32), "high": np.array(0.7, np.float32)}
    model = _model([node], {"x": (3, 5)}, ["y"], {k: v for k, v in inits.items() if k in inputs}, opset)
    network = _check(model, {"x": _random(3, 5)}, "NHWC")
    assert [call.pattern for call in network.calls] == [OpPattern.ELEMWISE]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    ("op_type", "attrs"),
    [
        ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
        ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
        ("MaxPool", {"kernel_shape": [2, 2], "auto_pad": "SAME_UPPER"}),
        ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
        (
            "AveragePool",
            {
                "kernel_shape": [3, 3],
                "strides": [2, 2],
                "pads": [1, 0, 1, 0],
                "count_include_pad": 1,
                "ceil_mode": 1,
            },
        ),
        ("GlobalAveragePool", {}),
    ],
)
def test_pools_after_a_conv(op_type: str, attrs: dict[str, object], layout: str) -> None:
    inits: dict[str, np.ndarray] = {}
    nodes = [
        _conv("c", "x", 3, 4, inits, pads=[1, 1, 1, 1]),
        helper.make_node(op_type, ["c"], ["y"], **attrs),
    ]
    network = _check(_model(nodes, {"x": (1, 3, 8, 7)}, ["y"], inits), {"x": _random(1, 3, 8, 7)}, layout)
    assert network.calls[-1 if layout == "NCHW" else -2].pattern == OpPattern.OUT_ELEMWISE_FUSABLE


@pytest.mark.parametrize("layout", LAYOUTS)
def test_batch_norm_is_folded_into_the_preceding_conv(layout: str) -> None:
    inits: dict[str, np.ndarray] = {}
    nodes = [_conv("c", "x", 3, 4, inits, pads=[1, 1, 1, 1]), _batch_norm("bn", "c", 4, inits)]
    network = _check(_model(nodes, {"x": (1, 3, 6, 6)}, ["bn"], inits), {"x": _random(1, 3, 6, 6)}, layout)
    assert "batch_norm" not in _callees(network)
    assert _callees(network)["conv2d"] == 1
    assert not any(name.startswith("bn.") for name in network.params)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_batch_norm_stays_a_scale_and_shift_where_it_cannot_fold(layout: str) -> None:
    inits: dict[str, np.ndarray] = {}
    nodes = [
        _conv("c", "x", 3, 4, inits, pads=[1, 1, 1, 1]),
        _batch_norm("bn", "c", 4, inits),  # the conv output has a second use
        helper.make_node("Add", ["bn", "c"], ["sum"]),
        _batch_norm("bn_input", "x", 3, inits),  # no conv before it
    ]
    model = _model(nodes, {"x": (1, 3, 6, 6)}, ["sum", "bn_input"], inits)
    network = _check(model, {"x": _random(1, 3, 6, 6)}, layout)
    assert _callees(network)["batch_norm"] == 2
    assert {call.pattern for call in network.calls if call.name.startswith("batch_norm")} == {
        OpPattern.BROADCAST
    }


def test_batch_norm_of_a_matrix() -> None:
    inits: dict[str, np.ndarray] = {}
    model = _model([_batch_norm("bn", "x", 5, inits)], {"x": (4, 5)}, ["bn"], inits)
    _check(model, {"x": _random(4, 5)}, "NHWC")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    ("op_type", "extra_inputs", "attrs", "nhwc_transforms"),
    [
        ("Transpose", [], {"perm": [0, 3, 1, 2]}, 1),
        ("Softmax", [], {"axis": 1}, 2),
        ("ReduceMean", ["axes23"], {"keepdims": 0}, 1),
        ("ReduceMean", ["axes1"], {"keepdims": 0}, 1),
        ("ReduceMean", ["axes1"], {"keepdims": 1}, 2),
        ("Reshape", ["shape"], {}, 2),
        ("Flatten", [], {"axis": 2}, 2),
        ("Add", ["channel_bias"], {}, 2),
        ("Mul", ["two"], {}, 2),
        ("Concat", ["c"], {"axis": 1}, 2),
        ("Relu", [], {}, 2),
    ],
)
def test_layout_sensitive_operators_after_a_conv(
    op_type: str, extra_inputs: list[str], attrs: dict[str, object], nhwc_transforms: int, layout: str
) -> None:
    """In NHWC, the input goes to NHWC for the conv; the operator follows or goes back, the output comes back."""
    inits: dict[str, np.ndarray] = {
        "axes23": np.array([2, 3], np.int64),
        "axes1": np.array([1], np.int64),
        "shape": np.array([0, 4, -1], np.int64),
        "channel_bias": _random(4, 1, 1),
        "two": np.array(2.0, np.float32),
    }
    nodes = [
        _conv("c", "x", 3, 4, inits, pads=[1, 1, 1, 1]),
        helper.make_node(op_type, ["c", *extra_inputs], ["y"], **attrs),
    ]
    model = _model(nodes, {"x": (2, 3, 5, 6)}, ["y"], inits, opset=18)
    network = _check(model, {"x": _random(2, 3, 5, 6)}, layout)
    assert _callees(network)["layout_transform"] == (nhwc_transforms if layout == "NHWC" else 0)


def test_transpose_of_an_nhwc_value_is_one_transpose() -> None:
    inits: dict[str, np.ndarray] = {}
    nodes = [_conv("c", "x", 3, 4, inits), helper.make_node("Transpose", ["c"], ["y"], perm=[0, 2, 3, 1])]
    network = _check(_model(nodes, {"x": (1, 3, 5, 6)}, ["y"], inits), {"x": _random(1, 3, 5, 6)}, "NHWC")
    assert _callees(network) == {"layout_transform": 1, "conv2d": 1, "transpose": 1}


def test_flatten_after_global_pooling_needs_no_layout_transform() -> None:
    inits: dict[str, np.ndarray] = {}
    nodes = [
        _conv("c", "x", 3, 4, inits),
        helper.make_node("GlobalAveragePool", ["c"], ["p"]),
        helper.make_node("Flatten", ["p"], ["y"]),
    ]
    network = _check(_model(nodes, {"x": (2, 3, 5, 6)}, ["y"], inits), {"x": _random(2, 3, 5, 6)}, "NHWC")
    assert _callees(network)["layout_transform"] == 1  # the input only


@pytest.mark.parametrize(("opset", "axes_as"), [(13, "attribute"), (18, "input")])
def test_reduce_mean_axes_by_opset(opset: int, axes_as: str) -> None:
    if axes_as == "input":
        node = helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=0)
        inits = {"axes": np.array([-1], np.int64)}
    else:
        node = helper.make_node("ReduceMean", ["x"], ["y"], axes=[-1], keepdims=0)
        inits = {}
    network = _check(_model([node], {"x": (2, 3, 4)}, ["y"], inits, opset), {"x": _random(2, 3, 4)}, "NHWC")
    assert [call.pattern for call in network.calls] == [OpPattern.COMM_REDUCE]


def test_softmax_layer_norm_concat_and_constants() -> None:
    nodes = [
        helper.make_node(
            "Constant", [], ["shape"], value=numpy_helper.from_array(np.array([0, -1], np.int64))
        ),
        helper.make_node("Constant", [], ["half"], value_float=0.5),
        helper.make_node("Reshape", ["x", "shape"], ["flat"]),
        helper.make_node("Identity", ["flat"], ["same"]),
        helper.make_node("Mul", ["same", "half"], ["scaled"]),
        helper.make_node("Softmax", ["scaled"], ["probs"]),
        helper.make_node("LayerNormalization", ["probs", "gamma", "beta"], ["normed"], epsilon=1e-3),
        helper.make_node("LayerNormalization", ["normed", "gamma"], ["scaled_only"], axis=0),
        helper.make_node("Concat", ["normed", "scaled_only", "extra"], ["y"], axis=0),
    ]
    inits = {"gamma": _random(12), "beta": _random(12), "extra": _random(1, 12)}
    network = _check(_model(nodes, {"x": (2, 3, 4)}, ["y"], inits), {"x": _random(2, 3, 4)}, "NHWC")
    patterns = {call.name.rstrip("_0123456789"): call.pattern for call in network.calls}
    assert patterns == {
        "reshape": OpPattern.INJECTIVE,
        "multiply": OpPattern.BROADCAST,
        "softmax": OpPattern.OPAQUE,
        "layer_norm": OpPattern.OPAQUE,
        "concatenate": OpPattern.INJECTIVE,
    }


def test_constant_subexpressions_are_folded() -> None:
    nodes = [
        helper.make_node("Transpose", ["w"], ["wt"], perm=[1, 0]),
        helper.make_node("Mul", ["wt", "two"], ["w2"]),
        helper.make_node("MatMul", ["x", "w2"], ["y"]),
    ]
    inits = {"w": _random(4, 3), "two": np.array(2.0, np.float32)}
    network = _check(_model(nodes, {"x": (2, 3)}, ["y"], inits), {"x": _random(2, 3)}, "NHWC")
    assert _callees(network) == {"dense": 1}


# --- networks ------------------------------------------------------------------------------------


def _small_cnn() -> onnx.ModelProto:
    """conv + bn + relu, a residual block, max pooling, global pooling, flatten and a classifier."""
    inits: dict[str, np.ndarray] = {}
    nodes = [
        _conv("conv1", "data", 3, 8, inits, pads=[1, 1, 1, 1], strides=[2, 2]),
        _batch_norm("bn1", "conv1", 8, inits),
        helper.make_node("Relu", ["bn1"], ["relu1"]),
        helper.make_node(
            "MaxPool", ["relu1"], ["pool"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]
        ),
        _conv("conv2", "pool", 8, 8, inits, pads=[1, 1, 1, 1]),
        _batch_norm("bn2", "conv2", 8, inits),
        helper.make_node("Relu", ["bn2"], ["relu2"]),
        _conv("conv3", "relu2", 8, 8, inits, pads=[1, 1, 1, 1], group=8),
        helper.make_node("Add", ["conv3", "pool"], ["residual"]),
        helper.make_node("Relu", ["residual"], ["relu3"]),
        helper.make_node("GlobalAveragePool", ["relu3"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], transB=1),
    ]
    inits["fc.w"] = _random(10, 8)
    inits["fc.b"] = _random(10)
    return _model(nodes, {"data": (2, 3, 16, 16)}, ["logits"], inits)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_small_cnn_end_to_end(layout: str) -> None:
    network = _check(_small_cnn(), {"data": _random(2, 3, 16, 16)}, layout)
    callees = _callees(network)
    assert callees["conv2d"] == 3 and "batch_norm" not in callees
    assert callees["layout_transform"] == (1 if layout == "NHWC" else 0)
    assert [i.name for i in network.inputs] == ["data"]


def _attention_block() -> onnx.ModelProto:
    return model_zoo.bert_layer(batch=2, seq=8, hidden=32, heads=4, seed=3)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_small_attention_block_end_to_end(layout: str) -> None:
    network = _check(_attention_block(), {"hidden_states": _random(2, 8, 32)}, layout)
    callees = _callees(network)
    assert callees["dense"] == 6 and callees["matmul"] == 2 and callees["softmax"] == 1
    assert "layout_transform" not in callees


def test_resnet18_small_image_end_to_end() -> None:
    model = model_zoo.resnet18(batch=1, image=32, classes=10)
    _check(model, {"data": _random(1, 3, 32, 32)}, "NHWC")


# --- the model zoo, structure only ------------------------------------------------------------------


def test_resnet18_imports() -> None:
    model = model_zoo.resnet18()
    network = from_onnx(model)
    callees = _callees(network)
    assert callees == {
        "layout_transform": 1,
        "conv2d": 20,
        "relu": 17,
        "add": 8,
        "max_pool2d": 1,
        "global_avg_pool2d": 1,
        "reshape": 1,
        "dense": 1,
    }
    assert [(i.name, i.shape) for i in network.inputs] == [("data", (1, 3, 224, 224))]
    assert network.params["conv1.conv:weight:hwio"].shape == (7, 7, 3, 64)
    assert len(from_onnx(model, layout="NCHW").calls) == 49
    # The 3x3 stride-1 convolutions of 64, 128 and 256 channels (4 + 3 + 3) go Winograd on the CPU.
    tiles = Counter(
        name.rsplit(":", 1)[1] for name in from_onnx(model, winograd=True).params if "winograd" in name
    )
    assert tiles == {"winograd4": 7, "winograd2": 3}


def test_mobilenet_v2_imports() -> None:
    network = from_onnx(model_zoo.mobilenet_v2(batch=2))
    callees = _callees(network)
    assert callees["conv2d"] == 52 and callees["clip"] == 35 and callees["add"] == 10
    depthwise = [
        call
        for call in network.calls
        if any(
            isinstance(op, te.ComputeOp) and op.name_str == "DepthwiseConv2d" for op in call.callee.body.ops
        )
    ]
    assert len(depthwise) == 17
    assert network.outputs[0].type.get_shape() == (2, 1000)


def test_bert_layer_imports() -> None:
    network = from_onnx(model_zoo.bert_layer())
    callees = _callees(network)
    assert callees["dense"] == 6 and callees["matmul"] == 2 and callees["layer_norm"] == 2
    assert callees["softmax"] == 1 and callees["erf"] == 1
    assert network.outputs[0].type.get_shape() == (1, 128, 768)


def test_model_zoo_models_pass_the_checker() -> None:
    for model in (
        model_zoo.resnet18(image=64),
        model_zoo.mobilenet_v2(image=64),
        model_zoo.bert_layer(seq=16),
    ):
        onnx.checker.check_model(model, full_check=True)
        assert model.opset_import[0].version == model_zoo.OPSET


# --- inputs, paths and errors --------------------------------------------------------------------------


def test_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "cnn.onnx"
    onnx.save(_small_cnn(), path)
    assert len(from_onnx(path).calls) == len(from_onnx(str(path)).calls) > 0
    with pytest.raises(FrontendError, match="cannot load the ONNX model"):
        from_onnx(tmp_path / "missing.onnx")


def test_symbolic_input_dimensions_need_a_shape() -> None:
    model = _model([helper.make_node("Relu", ["x"], ["y"])], {"x": ("batch", 3)}, ["y"])
    with pytest.raises(FrontendError, match=r"input 'x' has symbolic dimensions \['batch', 3\]"):
        from_onnx(model)
    network = from_onnx(model, shape={"x": (5, 3)})
    assert network.inputs[0].shape == (5, 3)
    with pytest.raises(FrontendError, match="shape= names 'y'"):
        from_onnx(model, shape={"y": (5, 3)})
    with pytest.raises(FrontendError, match="the model declares"):
        from_onnx(model, shape={"x": (5, 4)})


def test_unsupported_operator_is_refused_before_building() -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="first"),
        helper.make_node("Resize", ["r", "", "scales"], ["y"], name="upsample"),
    ]
    model = _model(nodes, {"x": (1, 3, 4, 4)}, ["y"], {"scales": np.ones(4, np.float32)})
    with pytest.raises(FrontendError, match=r"node 'upsample' \(Resize\): unsupported operator") as error:
        from_onnx(model)
    assert isinstance(error.value, NetworkError)


@pytest.mark.parametrize(
    ("node", "opset", "message"),
    [
        (
            helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 2]),
            19,
            "dilations",
        ),
        (helper.make_node("Softmax", ["x"], ["y"], axis=1), 11, "only the last axis"),
        (helper.make_node("Gelu", ["x"], ["y"]), 17, "not an operator of opset 17"),
        (helper.make_node("Conv", ["x", "x"], ["y"], kernel_shape=[1, 1, 1]), 17, "only 2-D windows"),
        (helper.make_node("LeakyRelu", ["x"], ["y"], alpha=0.1), 17, "unsupported operator"),
        (helper.make_node("Relu", ["x"], ["y"], domain="com.microsoft"), 17, "domain 'com.microsoft'"),
        (helper.make_node("Reshape", ["x", "x"], ["y"]), 17, "must be a constant"),
        (
            helper.make_node("MaxPool", ["x"], ["y", "indices"], kernel_shape=[2, 2]),
            17,
            "only the first output",
        ),
    ],
    ids=[
        "avgpool-dilations",
        "old-softmax",
        "gelu-before-20",
        "conv3d",
        "leaky-relu",
        "domain",
        "reshape",
        "indices",
    ],
)
def test_unsupported_attributes_and_inputs(node: onnx.NodeProto, opset: int, message: str) -> None:
    node.name = "culprit"
    model = _model([node], {"x": (1, 2, 4, 4)}, ["y"], opset=opset)
    with pytest.raises(FrontendError, match=rf"node 'culprit' \({node.op_type}\).*{message}"):
        from_onnx(model)


def test_bad_layout() -> None:
    with pytest.raises(FrontendError, match="layout must be one of NHWC, NCHW"):
        from_onnx(_small_cnn(), layout="NCWH")
