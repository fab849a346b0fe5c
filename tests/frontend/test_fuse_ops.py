"""fuse-ops: Relay's fusion rule on network modules, checked on structure and on numbers."""

from __future__ import annotations

import numpy as np
import pytest
from network_testing import (
    add,
    bias_add,
    exp,
    matmul,
    multiply,
    relu,
    reshape,
    row_sum,
    run_network,
    transpose,
)
from xdsl.dialects.builtin import ArrayAttr, StringAttr

from schedopt import NetworkError, te
from schedopt.compute_dag import ComputeDAG
from schedopt.dialects import te as te_dialect
from schedopt.frontend.network import Network, NetworkBuilder, OpPattern
from schedopt.ir_context import te_context
from schedopt.passes import get_all_passes
from schedopt.passes.fuse_ops import FuseOpsPass, fuse_network

RNG = np.random.default_rng(0)
OEF = OpPattern.OUT_ELEMWISE_FUSABLE


def weights(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def stage_names(network: Network, call_index: int) -> list[str]:
    callee = network.calls[call_index].callee
    return [op.name_str for op in callee.body.block.ops if isinstance(op, te_dialect.ComputeOp)]


def placeholder_names(network: Network, call_index: int) -> list[str]:
    return ComputeDAG(network.calls[call_index].callee).placeholder_names


def check_same_numbers(network: Network, fused: Network, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Run both networks; they agree, and the fused one's operator functions are valid workloads."""
    expected = run_network(network, inputs)
    got = run_network(fused, inputs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    return got


def dense_bias_relu() -> Network:
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    w, bias = b.param("w", weights(8, 16)), b.param("b", weights(16))
    (y,) = b.call(matmul(4, 8, 16), [x, w], name="matmul", pattern=OEF)
    (y,) = b.call(bias_add(4, 16), [y, bias], name="bias_add", pattern=OpPattern.BROADCAST)
    (y,) = b.call(relu((4, 16)), [y], name="relu", pattern=OpPattern.ELEMWISE)
    return b.build([y])


def test_matmul_bias_relu_become_one_function() -> None:
    network = dense_bias_relu()
    fused = fuse_network(network)
    assert [(c.name, c.pattern) for c in fused.calls] == [("fused_matmul_bias_add_relu", OEF)]
    assert [f.sym_name.data for f in fused.operator_functions] == ["fused_matmul_bias_add_relu"]
    assert stage_names(fused, 0) == ["T_matmul", "T_add", "T_relu"]
    assert placeholder_names(fused, 0) == ["A", "B", "bias"]
    x, w, b = fused.graph.body.block.args
    assert fused.calls[0].args == (x, w, b)
    callee = fused.calls[0].callee
    (matmul_stage, add_stage, _) = [
        op for op in callee.body.block.ops if isinstance(op, te_dialect.ComputeOp)
    ]
    assert matmul_stage.attributes["layout_free_placeholders"] == ArrayAttr([StringAttr("B")])
    assert list(add_stage.ins) == [matmul_stage.result, callee.body.block.args[2]]
    fused.module.verify()
    inputs = {"x": weights(4, 8)}
    (got,) = check_same_numbers(network, fused, inputs)
    np.testing.assert_allclose(
        got, np.maximum(inputs["x"] @ network.params["w"] + network.params["b"], 0), rtol=1e-5, atol=1e-6
    )


def test_the_input_network_is_left_as_it_is() -> None:
    network = dense_bias_relu()
    text = str(network.module)
    fused = fuse_network(network)
    assert str(network.module) == text
    assert fused.params == network.params
    assert fused.params is not network.params


def test_residual_add_joins_the_anchor_after_the_residual_is_computed() -> None:
    """relu(x @ w + relu(r)): the residual branch is computed between the anchor and the add."""
    b = NetworkBuilder()
    x, r = b.input("x", (4, 8)), b.input("r", (4, 16))
    w = b.param("w", weights(8, 16))
    (m,) = b.call(matmul(4, 8, 16), [x, w], name="matmul", pattern=OEF)
    (res,) = b.call(relu((4, 16)), [r], name="relu", pattern=OpPattern.ELEMWISE)
    (s,) = b.call(add((4, 16)), [m, res], name="add", pattern=OpPattern.BROADCAST)
    (y,) = b.call(relu((4, 16)), [s], name="relu", pattern=OpPattern.ELEMWISE)
    network = b.build([y])
    fused = fuse_network(network)
    assert [c.name for c in fused.calls] == ["relu", "fused_matmul_add_relu"]
    x_arg, r_arg, w_arg = fused.graph.body.block.args
    assert fused.calls[0].args == (r_arg,)
    assert fused.calls[1].args == (x_arg, w_arg, fused.calls[0].results[0])
    # The add's placeholder B is the residual; "A" and "B" are the matmul's, so it is renamed.
    assert placeholder_names(fused, 1) == ["A", "B", "B_1"]
    inputs = {"x": weights(4, 8), "r": weights(4, 16)}
    (got,) = check_same_numbers(network, fused, inputs)
    expected = np.maximum(inputs["x"] @ network.params["w"] + np.maximum(inputs["r"], 0), 0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_a_residual_read_from_an_earlier_fused_group() -> None:
    """Two residual blocks (ResNet's shape): the second's residual is the first fused group's result."""
    b = NetworkBuilder()
    x = b.input("x", (4, 16))
    w1, w2 = b.param("w1", weights(16, 16)), b.param("w2", weights(16, 16))
    (m1,) = b.call(matmul(4, 16, 16), [x, w1], name="matmul", pattern=OEF)
    (y1,) = b.call(relu((4, 16)), [m1], name="relu", pattern=OpPattern.ELEMWISE)
    (m2,) = b.call(matmul(4, 16, 16), [y1, w2], name="matmul", pattern=OEF)
    (s,) = b.call(add((4, 16)), [m2, y1], name="add", pattern=OpPattern.BROADCAST)
    (y2,) = b.call(relu((4, 16)), [s], name="relu", pattern=OpPattern.ELEMWISE)
    network = b.build([y2])
    fused = fuse_network(network)
    assert [c.name for c in fused.calls] == ["fused_matmul_relu", "fused_matmul_add_relu"]
    first = fused.calls[0].results[0]
    assert fused.calls[1].args.count(first) == 1  # read once, as both the matmul's input and the residual
    inputs = {"x": weights(4, 16)}
    (got,) = check_same_numbers(network, fused, inputs)
    h = np.maximum(inputs["x"] @ network.params["w1"], 0)
    np.testing.assert_allclose(got, np.maximum(h @ network.params["w2"] + h, 0), rtol=1e-5, atol=1e-6)


def test_injective_chain_fuses_and_takes_the_injective_pattern() -> None:
    b = NetworkBuilder()
    x = b.input("x", (4, 6))
    (t,) = b.call(transpose(4, 6), [x], name="transpose", pattern=OpPattern.INJECTIVE)
    (r,) = b.call(reshape((6, 4), (3, 8)), [t], name="reshape", pattern=OpPattern.INJECTIVE)
    (e,) = b.call(exp((3, 8)), [r], name="exp", pattern=OpPattern.ELEMWISE)
    (y,) = b.call(transpose(3, 8), [e], name="transpose", pattern=OpPattern.INJECTIVE)
    network = b.build([y])
    fused = fuse_network(network)
    assert [(c.name, c.pattern) for c in fused.calls] == [
        ("fused_transpose_reshape_exp_transpose", OpPattern.INJECTIVE)
    ]
    assert stage_names(fused, 0) == ["T_transpose", "T_reshape", "T_exp", "T_transpose_1"]
    inputs = {"x": weights(4, 6)}
    (got,) = check_same_numbers(network, fused, inputs)
    np.testing.assert_allclose(got, np.exp(inputs["x"].T.reshape(3, 8)).T, rtol=1e-5)


def test_elemwise_then_injective_fuses_into_an_injective_group() -> None:
    b = NetworkBuilder()
    x = b.input("x", (4, 6))
    (e,) = b.call(exp((4, 6)), [x], name="exp", pattern=OpPattern.ELEMWISE)
    (y,) = b.call(transpose(4, 6), [e], name="transpose", pattern=OpPattern.INJECTIVE)
    fused = fuse_network(b.build([y]))
    assert [(c.name, c.pattern) for c in fused.calls] == [("fused_exp_transpose", OpPattern.INJECTIVE)]


def test_injective_does_not_join_an_out_elemwise_fusable_group() -> None:
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    w = b.param("w", weights(8, 6))
    (m,) = b.call(matmul(4, 8, 6), [x, w], name="matmul", pattern=OEF)
    (y,) = b.call(transpose(4, 6), [m], name="transpose", pattern=OpPattern.INJECTIVE)
    fused = fuse_network(b.build([y]))
    assert [c.name for c in fused.calls] == ["matmul", "transpose"]


def test_two_use_intermediate_is_not_fused() -> None:
    """m = x @ w feeds relu and exp: neither joins the matmul; the add still joins the relu."""
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    w = b.param("w", weights(8, 16))
    (m,) = b.call(matmul(4, 8, 16), [x, w], name="matmul", pattern=OEF)
    (r,) = b.call(relu((4, 16)), [m], name="relu", pattern=OpPattern.ELEMWISE)
    (e,) = b.call(exp((4, 16)), [m], name="exp", pattern=OpPattern.ELEMWISE)
    (y,) = b.call(add((4, 16)), [r, e], name="add", pattern=OpPattern.ELEMWISE)
    network = b.build([y])
    fused = fuse_network(network)
    assert [c.name for c in fused.calls] == ["matmul", "exp", "fused_relu_add"]
    matmul_call, exp_call, fused_call = fused.calls
    assert fused_call.args == (matmul_call.results[0], exp_call.results[0])
    assert placeholder_names(fused, 2) == ["A", "B"]
    check_same_numbers(network, fused, {"x": weights(4, 8)})


def test_network_output_is_not_fused_away() -> None:
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    w = b.param("w", weights(8, 16))
    (m,) = b.call(matmul(4, 8, 16), [x, w], name="matmul", pattern=OEF)
    (y,) = b.call(relu((4, 16)), [m], name="relu", pattern=OpPattern.ELEMWISE)
    network = b.build([m, y])
    fused = fuse_network(network)
    assert str(fused.module) == str(network.module)


def test_reduce_stays_alone() -> None:
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    (r,) = b.call(relu((4, 8)), [x], name="relu", pattern=OpPattern.ELEMWISE)
    (s,) = b.call(row_sum(4, 8), [r], name="sum", pattern=OpPattern.COMM_REDUCE)
    (y,) = b.call(exp((4,)), [s], name="exp", pattern=OpPattern.ELEMWISE)
    network = b.build([y])
    fused = fuse_network(network)
    assert [(c.name, c.pattern) for c in fused.calls] == [
        ("relu", OpPattern.ELEMWISE),
        ("sum", OpPattern.COMM_REDUCE),
        ("exp", OpPattern.ELEMWISE),
    ]
    inputs = {"x": weights(4, 8)}
    (got,) = check_same_numbers(network, fused, inputs)
    np.testing.assert_allclose(got, np.exp(np.maximum(inputs["x"], 0).sum(axis=1)), rtol=1e-5)


def test_opaque_stays_alone() -> None:
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    (r,) = b.call(relu((4, 8)), [x], name="opaque", pattern=OpPattern.OPAQUE)
    (y,) = b.call(relu((4, 8)), [r], name="relu", pattern=OpPattern.ELEMWISE)
    fused = fuse_network(b.build([y]))
    assert [c.name for c in fused.calls] == ["opaque", "relu"]


def test_a_value_read_twice_becomes_one_argument_and_one_input() -> None:
    """The bias is added twice and the product squares the intermediate: each value is read once."""
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    w, bias = b.param("w", weights(8, 16)), b.param("b", weights(16))
    (m,) = b.call(matmul(4, 8, 16), [x, w], name="matmul", pattern=OEF)
    (y,) = b.call(bias_add(4, 16), [m, bias], name="bias_add", pattern=OpPattern.BROADCAST)
    (y,) = b.call(bias_add(4, 16), [y, bias], name="bias_add", pattern=OpPattern.BROADCAST)
    (y,) = b.call(multiply((4, 16)), [y, y], name="multiply", pattern=OpPattern.ELEMWISE)
    network = b.build([y])
    fused = fuse_network(network)
    assert [c.name for c in fused.calls] == ["fused_matmul_bias_add_bias_add_multiply"]
    assert len(fused.calls[0].args) == 3
    assert placeholder_names(fused, 0) == ["A", "B", "bias"]
    assert stage_names(fused, 0) == ["T_matmul", "T_add", "T_add_1", "T_multiply"]
    square = list(fused.calls[0].callee.body.block.ops)[3]
    assert isinstance(square, te_dialect.ComputeOp) and len(square.ins) == 1
    inputs = {"x": weights(4, 8)}
    (got,) = check_same_numbers(network, fused, inputs)
    biased = inputs["x"] @ network.params["w"] + 2 * network.params["b"]
    np.testing.assert_allclose(got, biased * biased, rtol=1e-4, atol=1e-5)


def test_renamed_layout_free_placeholder_is_renamed_in_the_attribute() -> None:
    """A consumer's layout-free weight "B" clashes with the matmul's "B" and becomes "B_1" everywhere."""
    A = te.placeholder((4, 16), name="A")
    B = te.placeholder((16,), name="B")
    scaled = te.compute(
        (4, 16), lambda i, j: A[i, j] * B[j], name="T_scale", attrs={"layout_free_placeholders": [B]}
    )
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    w, s = b.param("w", weights(8, 16)), b.param("s", weights(16))
    (m,) = b.call(matmul(4, 8, 16), [x, w], name="matmul", pattern=OEF)
    (y,) = b.call([A, B, scaled], [m, s], name="scale", pattern=OpPattern.BROADCAST)
    network = b.build([y])
    fused = fuse_network(network)
    assert placeholder_names(fused, 0) == ["A", "B", "B_1"]
    stages = [op for op in fused.calls[0].callee.body.block.ops if isinstance(op, te_dialect.ComputeOp)]
    assert [op.attributes["layout_free_placeholders"] for op in stages] == [
        ArrayAttr([StringAttr("B")]),
        ArrayAttr([StringAttr("B_1")]),
    ]
    check_same_numbers(network, fused, {"x": weights(4, 8)})


def test_layout_free_intermediate_is_dropped_from_the_attribute() -> None:
    A = te.placeholder((4, 16), name="A")
    marked = te.compute(
        (4, 16), lambda i, j: A[i, j] * 2.0, name="T_double", attrs={"layout_free_placeholders": [A]}
    )
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    w = b.param("w", weights(8, 16))
    (m,) = b.call(matmul(4, 8, 16), [x, w], name="matmul", pattern=OEF)
    (y,) = b.call([A, marked], [m], name="double", pattern=OpPattern.ELEMWISE)
    fused = fuse_network(b.build([y]))
    stages = [op for op in fused.calls[0].callee.body.block.ops if isinstance(op, te_dialect.ComputeOp)]
    assert "layout_free_placeholders" not in stages[1].attributes


def test_multi_output_producer_is_not_merged() -> None:
    A = te.placeholder((4,), name="A")
    low, high = te.compute((4,), lambda i: (A[i] - 1.0, A[i] + 1.0), name="T_split")
    b = NetworkBuilder()
    x = b.input("x", (4,))
    lo, hi = b.call([A, low, high], [x], name="split", pattern=OpPattern.INJECTIVE)
    (y,) = b.call(relu((4,)), [lo], name="relu", pattern=OpPattern.ELEMWISE)
    network = b.build([y, hi])
    assert [c.name for c in fuse_network(network).calls] == ["split", "relu"]


def test_fusing_twice_changes_nothing_more() -> None:
    once = fuse_network(dense_bias_relu())
    twice = fuse_network(once)
    assert str(twice.module) == str(once.module)


def test_shared_operator_function_is_kept_while_still_called() -> None:
    """Hand-written IR may call one operator function twice; fusing one call keeps the function."""
    b = NetworkBuilder()
    x, r = b.input("x", (4, 8)), b.input("r", (4, 16))
    w = b.param("w", weights(8, 16))
    (m,) = b.call(matmul(4, 8, 16), [x, w], name="matmul", pattern=OEF)
    (y1,) = b.call(relu((4, 16)), [m], name="relu", pattern=OpPattern.ELEMWISE)
    (y2,) = b.call(relu((4, 16)), [r], name="relu", pattern=OpPattern.ELEMWISE)
    text = str(b.build([y1, y2]).module)
    shared = text.replace("func.call @relu_1(", "func.call @relu(")
    start = shared.index("  func.func @relu_1(")
    end = shared.index("  func.func @main(")
    network = Network.from_module(shared[:start] + shared[end:], {"w": weights(8, 16)})
    fused = fuse_network(network)
    assert [c.name for c in fused.calls] == ["fused_matmul_relu", "relu"]
    assert [f.sym_name.data for f in fused.operator_functions] == ["relu", "fused_matmul_relu"]
    check_same_numbers(network, fused, {"x": weights(4, 8), "r": weights(4, 16)})


def test_fused_names_are_unique_in_the_module() -> None:
    b = NetworkBuilder()
    y = b.input("x", (4, 8))
    for _ in range(2):
        (y,) = b.call(exp((4, 8)), [y], name="exp", pattern=OpPattern.OPAQUE)
        (y,) = b.call(relu((4, 8)), [y], name="relu", pattern=OpPattern.ELEMWISE)
    network = b.build([y])
    assert [c.name for c in network.calls] == ["exp", "relu", "exp_1", "relu_1"]
    fused = fuse_network(network)
    assert [c.name for c in fused.calls] == ["exp", "relu", "exp_1", "relu_1"]  # opaque: nothing joins
    b = NetworkBuilder()
    y = b.input("x", (4, 8))
    for _ in range(2):
        (y,) = b.call(relu((4, 8)), [y], name="relu", pattern=OpPattern.OPAQUE)
        (y,) = b.call(exp((4, 8)), [y], name="exp", pattern=OpPattern.INJECTIVE)
        (y,) = b.call(relu((4, 8)), [y], name="relu", pattern=OpPattern.ELEMWISE)
    fused = fuse_network(b.build([y]))
    assert [c.name for c in fused.calls] == ["relu", "fused_exp_relu", "relu_2", "fused_exp_relu_1"]


def test_the_pass_fuses_the_module_in_place() -> None:
    network = dense_bias_relu()
    expected = str(fuse_network(network).module)
    module = network.module
    get_all_passes()["fuse-ops"]()().apply(te_context(), module)
    assert str(module) == expected
    FuseOpsPass().apply(te_context(), module)
    assert str(module) == expected


def test_the_pass_needs_a_network_module() -> None:
    single = ComputeDAG(relu((4,))).module
    with pytest.raises(NetworkError, match="exactly one graph function"):
        FuseOpsPass().apply(te_context(), single)
