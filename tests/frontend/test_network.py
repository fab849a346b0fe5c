"""The network module convention: NetworkBuilder, Network.from_module and its checks."""

from __future__ import annotations

import numpy as np
import pytest
from network_testing import bias_add, matmul, relu, run_network
from xdsl.dialects import func
from xdsl.dialects.builtin import StringAttr, UnitAttr

from schedopt import NetworkError, TEError, te
from schedopt.dialects import te as te_dialect
from schedopt.frontend.network import (
    GRAPH_ATTR,
    OP_PATTERN_ATTR,
    Network,
    NetworkBuilder,
    OpPattern,
)

RNG = np.random.default_rng(0)


def dense_network(builder_name: str = "main") -> Network:
    """relu(x @ w + b), with the parameters declared before the input."""
    b = NetworkBuilder(builder_name)
    w = b.param("w", RNG.random((8, 16), dtype=np.float32))
    bias = b.param("b", RNG.random(16, dtype=np.float32))
    x = b.input("x", (4, 8))
    (y,) = b.call(matmul(4, 8, 16), [x, w], name="matmul", pattern=OpPattern.OUT_ELEMWISE_FUSABLE)
    (y,) = b.call(bias_add(4, 16), [y, bias], name="bias_add", pattern=OpPattern.BROADCAST)
    (y,) = b.call(relu((4, 16)), [y], name="relu", pattern=OpPattern.ELEMWISE)
    return b.build([y])


def test_builder_makes_operator_functions_and_a_graph_function() -> None:
    network = dense_network()
    functions = [op for op in network.module.ops if isinstance(op, func.FuncOp)]
    assert [f.sym_name.data for f in functions] == ["matmul", "bias_add", "relu", "main"]
    assert [f.attributes[OP_PATTERN_ATTR] for f in functions[:3]] == [
        StringAttr("out_elemwise_fusable"),
        StringAttr("broadcast"),
        StringAttr("elemwise"),
    ]
    graph = network.graph
    assert graph is functions[-1]
    assert isinstance(graph.attributes[GRAPH_ATTR], UnitAttr)
    assert all(isinstance(op, te_dialect.ComputeOp | func.ReturnOp) for op in functions[0].body.block.ops)
    network.module.verify()


def test_inputs_come_before_parameters_and_parameters_are_marked() -> None:
    network = dense_network()
    assert [(i.name, i.shape, i.dtype) for i in network.inputs] == [("x", (4, 8), "float32")]
    assert [(p.name, p.shape) for p in network.parameters] == [("w", (8, 16)), ("b", (16,))]
    assert list(network.graph.body.block.args) == [a.value for a in network.inputs + network.parameters]
    assert network.graph.arg_attrs is not None
    attrs = [a.data for a in network.graph.arg_attrs.data]
    assert [a["te.name"] for a in attrs] == [StringAttr("x"), StringAttr("w"), StringAttr("b")]
    assert ["te.param" in a for a in attrs] == [False, True, True]
    assert set(network.params) == {"w", "b"}


def test_calls_and_outputs_views() -> None:
    network = dense_network()
    calls = network.calls
    assert [(c.name, c.pattern) for c in calls] == [
        ("matmul", OpPattern.OUT_ELEMWISE_FUSABLE),
        ("bias_add", OpPattern.BROADCAST),
        ("relu", OpPattern.ELEMWISE),
    ]
    x, w, b = network.graph.body.block.args
    assert calls[0].args == (x, w)
    assert calls[1].args == (calls[0].results[0], b)
    assert network.outputs == calls[2].results
    assert network.operator_function("relu") is calls[2].callee
    assert network.operator_functions == [c.callee for c in calls]
    with pytest.raises(NetworkError, match="no operator function @main"):
        network.operator_function("main")


def test_operator_function_names_are_made_unique() -> None:
    b = NetworkBuilder("relu")
    x = b.input("x", (3,))
    y = x
    for _ in range(3):
        (y,) = b.call(relu((3,)), [y], name="relu", pattern=OpPattern.ELEMWISE)
    network = b.build([y])
    assert [c.name for c in network.calls] == ["relu_1", "relu_2", "relu_3"]
    assert network.graph.sym_name.data == "relu"


def test_text_round_trip() -> None:
    network = dense_network()
    text = str(network.module)
    parsed = Network.from_module(text, network.params)
    assert str(parsed.module) == text
    parsed.module.verify()
    assert [c.name for c in parsed.calls] == ["matmul", "bias_add", "relu"]
    assert [p.name for p in parsed.parameters] == ["w", "b"]
    x = RNG.random((4, 8), dtype=np.float32)
    (expected,) = run_network(network, {"x": x})
    (got,) = run_network(parsed, {"x": x})
    np.testing.assert_array_equal(got, expected)
    reference = np.maximum(x @ network.params["w"] + network.params["b"], 0)
    np.testing.assert_allclose(got, reference, rtol=1e-5)


def test_output_can_be_an_input_and_outputs_keep_their_order() -> None:
    b = NetworkBuilder()
    x = b.input("x", (2, 2))
    (y,) = b.call(relu((2, 2)), [x], name="relu", pattern="elemwise")
    network = b.build([y, x])
    assert network.outputs == (network.calls[0].results[0], network.inputs[0].value)
    assert str(Network.from_module(str(network.module)).module) == str(network.module)


# --- errors of the builder -----------------------------------------------------------------------


def test_builder_rejects_wrong_argument_count() -> None:
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    with pytest.raises(NetworkError, match=r"operator matmul: 1 arguments for 2 placeholders \(A, B\)"):
        b.call(matmul(4, 8, 16), [x], name="matmul", pattern=OpPattern.OUT_ELEMWISE_FUSABLE)


def test_builder_rejects_shape_and_dtype_mismatches() -> None:
    b = NetworkBuilder()
    x = b.input("x", (4, 7))
    with pytest.raises(NetworkError, match=r"operator relu: argument 0 is float32\[4, 7\], placeholder A is"):
        b.call(relu((4, 8)), [x], name="relu", pattern=OpPattern.ELEMWISE)
    i = b.input("i", (4, 8), "int32")
    with pytest.raises(NetworkError, match=r"argument 0 is int32\[4, 8\], placeholder A is float32\[4, 8\]"):
        b.call(relu((4, 8)), [i], name="relu", pattern=OpPattern.ELEMWISE)


def test_builder_rejects_foreign_values_and_bad_declarations() -> None:
    b = NetworkBuilder()
    other = NetworkBuilder().input("x", (3,))
    with pytest.raises(NetworkError, match="argument 0 is not a value of this network builder"):
        b.call(relu((3,)), [other], name="relu", pattern=OpPattern.ELEMWISE)
    with pytest.raises(NetworkError, match="network output 0 is not a value of this network builder"):
        b.build([other])
    b.input("x", (3,))
    with pytest.raises(NetworkError, match="already has an input or parameter named 'x'"):
        b.param("x", np.zeros(3, np.float32))
    with pytest.raises(NetworkError, match=r"input 'y': shape \[3, 0\] must be positive"):
        b.input("y", (3, 0))
    with pytest.raises(NetworkError, match="parameter 'c': unsupported dtype 'complex64'"):
        b.param("c", np.zeros(3, np.complex64))
    x = b.input("z", (3,))
    with pytest.raises(NetworkError, match="operator relu: unknown pattern 'fancy'"):
        b.call(relu((3,)), [x], name="relu", pattern="fancy")  # type: ignore[arg-type]


# --- errors of from_module -----------------------------------------------------------------------


def broken(old: str, new: str, *more: tuple[str, str]) -> str:
    """The dense network's text with `old` replaced by `new`, then each further `(old, new)`, once each."""
    text = str(dense_network().module)
    for before, after in ((old, new), *more):
        assert before in text, before
        text = text.replace(before, after, 1)
    return text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (broken(" attributes {te.graph}", ""), "exactly one graph function .*found none"),
        (
            broken(
                'attributes {te.op_pattern = "elemwise"}', 'attributes {te.op_pattern = "elemwise", te.graph}'
            ),
            "exactly one graph function .*found @relu, @main",
        ),
        (
            broken(' attributes {te.op_pattern = "broadcast"}', ""),
            "operator function @bias_add needs a string attribute te.op_pattern",
        ),
        (broken('te.op_pattern = "broadcast"', 'te.op_pattern = "scatter"'), "one of elemwise, broadcast"),
        (broken('{te.name = "x"}', ""), "graph function @main: argument 0 has no te.name"),
        (broken('te.name = "b"', 'te.name = "w"'), "graph function @main: two arguments are named 'w'"),
        (
            broken(
                '{te.name = "x"}',
                '{te.name = "x", te.param}',
                ('{te.name = "w", te.param}', '{te.name = "w"}'),
            ),
            "input w follows parameter x",
        ),
        (broken("func.call @relu", "func.call @missing"), "call 2 calls @missing, not an operator function"),
        (broken("func.call @relu", "func.call @main"), "call 2 calls @main, not an operator function"),
        (
            broken("%0 = func.call @matmul", "%9 = arith.constant 1.0 : f32\n    %0 = func.call @matmul"),
            "graph function @main: arith.constant is not a func.call",
        ),
        (
            broken(
                '{te.name = "A"}) -> tensor<4x16xf32> attributes {te.op_pattern = "elemwise"}',
                ') -> tensor<4x16xf32> attributes {te.op_pattern = "elemwise"}',
            ),
            "operator function @relu: argument 0 has no te.name",
        ),
        (
            broken(
                '-> tensor<4x16xf32> attributes {te.op_pattern = "elemwise"} {',
                '-> tensor<4x16xf32> attributes {te.op_pattern = "elemwise"} {\n    %c = arith.constant 1.0 : f32',
            ),
            "operator function @relu: arith.constant is not a te.compute",
        ),
        ("builtin.module {\n  func.func @main(", "cannot parse the network module"),
    ],
)
def test_from_module_names_what_breaks_the_convention(text: str, message: str) -> None:
    with pytest.raises(NetworkError, match=message):
        Network.from_module(text)


def test_from_module_checks_call_types() -> None:
    network = dense_network()
    text = str(network.module).replace(
        "func.call @relu(%1) : (tensor<4x16xf32>) -> tensor<4x16xf32>",
        "func.call @relu(%1) : (tensor<4x16xf32>) -> tensor<16x4xf32>",
    )
    text = text.replace(
        "func.return %2 : tensor<4x16xf32>\n  }\n}", "func.return %2 : tensor<16x4xf32>\n  }\n}"
    )
    text = text.replace(
        ") -> tensor<4x16xf32> attributes {te.graph}", ") -> tensor<16x4xf32> attributes {te.graph}"
    )
    with pytest.raises(
        NetworkError, match=r"call 2 of @relu: result 0 is tensor<16x4xf32>, the function returns"
    ):
        Network.from_module(text)


def test_from_module_checks_parameter_values() -> None:
    network = dense_network()
    text = str(network.module)
    with pytest.raises(
        NetworkError, match=r"parameter value 'x' names no te\.param argument of graph function @main"
    ):
        Network.from_module(text, {"x": np.zeros((4, 8), np.float32)})
    with pytest.raises(
        NetworkError, match=r"parameter w: the value is float64\[8, 16\], the graph expects float32"
    ):
        Network.from_module(text, {"w": np.zeros((8, 16))})
    with pytest.raises(NetworkError, match=r"parameter b: the value is float32\[15\]"):
        Network.from_module(text, {"b": np.zeros(15, np.float32)})


def test_from_module_reports_verifier_failures() -> None:
    text = broken("te.read %A[%i0, %i1] : tensor<4x16xf32>", "te.read %A[%i0] : tensor<4x16xf32>")
    with pytest.raises(NetworkError, match=r"does not verify: .*1 indices for a tensor of rank 2"):
        Network.from_module(text)


def test_op_pattern_ranks_follow_relay() -> None:
    assert [p.rank for p in OpPattern] == list(range(6))
    assert OpPattern.INJECTIVE.rank < OpPattern.COMM_REDUCE.rank < OpPattern.OUT_ELEMWISE_FUSABLE.rank
    assert OpPattern("opaque") is OpPattern.OPAQUE


def test_te_dsl_errors_stay_te_errors() -> None:
    b = NetworkBuilder()
    x = b.input("x", (3,))
    A = te.placeholder((3,), name="A")
    with pytest.raises(TEError, match="at least one computed output"):
        b.call([A], [x], name="nothing", pattern=OpPattern.OPAQUE)
