"""ComputeDAG: graph, analyses, keys and the initial state."""

import json

import pytest

from schedopt import te
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import TEError, WorkloadError
from schedopt.schedule.stage import IteratorKind
from schedopt.workload_registry import (
    make_workload_key,
    register_workload,
    workload_key_to_tensors,
)
from schedopt.workloads import matmul


@register_workload
def dag_test_dense_relu(n: int, m: int, k_: int):
    A = te.placeholder((n, k_), name="A")
    B = te.placeholder((k_, m), name="B")
    k = te.reduce_axis((0, k_), name="k")
    C = te.compute((n, m), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    D = te.compute((n, m), lambda i, j: te.max(C[i, j], 0.0), name="D")
    return [A, B, D]


def conv1d(n: int = 16, r: int = 3):
    A = te.placeholder((n + 2 * r,), name="A")
    W = te.placeholder((r,), name="W")
    rr = te.reduce_axis((0, r), name="r")
    B = te.compute((n,), lambda i: te.sum(A[i * 2 + rr] * W[rr], axis=rr), name="B")
    return [A, W, B]


@pytest.fixture
def dag() -> ComputeDAG:
    return ComputeDAG(make_workload_key(dag_test_dense_relu, (8, 6, 4)))


def test_ops_in_topological_order(dag: ComputeDAG):
    assert [op.name for op in dag.ops] == ["A", "B", "C", "D"]
    assert dag.placeholder_names == ["A", "B"]
    assert dag.output_names == ["D"]


def test_producers_and_consumers(dag: ComputeDAG):
    assert dag.producers("C") == ["A", "B"]
    assert dag.producers("D") == ["C"]
    assert dag.consumers("C") == ["D"]
    assert dag.consumers("A") == ["C"]
    assert dag.consumers("D") == []


def test_access_analysis(dag: ComputeDAG):
    c, d = dag.access("C"), dag.access("D")
    assert c.needs_multi_level_tiling and c.has_reduction and not c.is_strictly_inlineable and not c.is_output
    assert d.is_strictly_inlineable and d.is_simple_access and not d.needs_multi_level_tiling and d.is_output


def test_complex_index_counts_its_iterators():
    info = ComputeDAG(conv1d()).access("B")
    assert not info.is_simple_access
    # A[i*2 + r] uses both iterators; W[r] misses the spatial one, with a reduction.
    assert info.needs_multi_level_tiling


def test_expensive_op_blocks_strict_inlining():
    A = te.placeholder((4,), name="A")
    B = te.compute((4,), lambda i: te.exp(A[i]), name="B")
    C = te.compute((4,), lambda i: B[i] + 1.0, name="C")
    dag = ComputeDAG([A, C])
    assert not dag.access("B").is_strictly_inlineable
    assert dag.access("C").is_strictly_inlineable


def test_transpose_is_not_strictly_inlineable():
    A = te.placeholder((4, 4), name="A")
    B = te.compute((4, 4), lambda i, j: A[j, i], name="B")
    assert not ComputeDAG([A, B]).access("B").is_strictly_inlineable


def test_flop_count(dag: ComputeDAG):
    assert dag.flop_ct == 2 * 8 * 6 * 4 + 8 * 6


def test_flop_count_ignores_index_arithmetic():
    assert ComputeDAG(conv1d(16, 3)).flop_ct == 2 * 16 * 3


def test_init_state_prints_the_naive_loop_nest(dag: ComputeDAG):
    state = dag.get_init_state()
    assert str(state) == (
        "Placeholder: A, B\n"
        "for i (0,8)\n"
        "  for j (0,6)\n"
        "    for k (0,4)\n"
        "      C = ...\n"
        "for i (0,8)\n"
        "  for j (0,6)\n"
        "    D = ...\n"
    )
    assert [it.kind for it in state["C"].iters] == [
        IteratorKind.SPATIAL,
        IteratorKind.SPATIAL,
        IteratorKind.REDUCE,
    ]


def test_str_is_the_compact_declaration(dag: ComputeDAG):
    assert str(dag) == (
        "A = PLACEHOLDER [8, 4]\nB = PLACEHOLDER [4, 6]\nC(i, j) += (A[i, k]*B[k, j])\nD(i, j) = maximumf(C[i, j], 0.0)\n"
    )


def test_hash_key_is_independent_of_how_the_dag_was_built(dag: ComputeDAG):
    from_tensors = ComputeDAG(dag_test_dense_relu(8, 6, 4))
    from_text = ComputeDAG.from_module(str(dag.module))
    assert dag.hash_key() == from_tensors.hash_key()  # only the function names differ
    assert from_text.hash_key() == dag.hash_key()
    assert ComputeDAG(dag_test_dense_relu(8, 6, 5)).hash_key() != from_tensors.hash_key()


def test_workload_key(dag: ComputeDAG):
    assert json.loads(dag.workload_key()) == ["dag_test_dense_relu", 8, 6, 4]
    anonymous = ComputeDAG(dag_test_dense_relu(8, 6, 4))
    assert json.loads(anonymous.workload_key())[1:] == [[8, 4], [4, 6], [8, 6]]


def test_registry_round_trip():
    key = make_workload_key("dag_test_dense_relu", [2, 3, 4])
    assert ComputeDAG(workload_key_to_tensors(key)).flop_ct == ComputeDAG(key).flop_ct


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ('["no_such_workload", 1]', "unknown workload 'no_such_workload'"),
        ("not json", "malformed workload key"),
        ("[1, 2]", "malformed workload key"),
        ('["dag_test_dense_relu", 1]', "cannot be called with"),
    ],
)
def test_bad_workload_keys(key: str, message: str):
    with pytest.raises(WorkloadError, match=message):
        ComputeDAG(key)


def test_register_twice_needs_override():
    with pytest.raises(WorkloadError, match="already registered"):
        register_workload("dag_test_dense_relu", lambda: [])
    with pytest.raises(WorkloadError, match="not registered"):
        make_workload_key("never_registered", [])


def test_from_module_reports_parse_errors():
    with pytest.raises(TEError, match="cannot parse the workload IR"):
        ComputeDAG.from_module("func.func @f( {")
    with pytest.raises(TEError, match=r"exactly one function of te\.compute ops"):
        ComputeDAG.from_module("func.func @f() {\n func.return\n}")


def test_apply_steps_from_state_takes_tvms_layout_rewrite_option():
    from schedopt.layout_rewrite import LayoutRewriteOption

    A, B, C = matmul(8, 8, 8)
    dag = ComputeDAG([A, B, C])
    state = dag.get_init_state()
    state.reorder(C, [state[C].iters[1], state[C].iters[2], state[C].iters[0]])
    assert dag.apply_steps_from_state(state) is dag
    rewritten = dag.apply_steps_from_state(state, layout_rewrite=LayoutRewriteOption.INSERT_TRANSFORM_STAGE)
    assert [op.name for op in rewritten.ops] == ["A", "B", "B.layout", "C"]
