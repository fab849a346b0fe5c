"""The lowering pipeline keeps unrolled code small: every later pass pays for each op it emits.

Each schedule is also built and run against numpy, so the economies never
change what the kernel computes.
"""

from collections import Counter

import numpy as np

import schedopt.workloads  # noqa: F401  (registers the workloads)
from schedopt.build import build, lower
from schedopt.compute_dag import ComputeDAG
from schedopt.random_inputs import random_inputs
from schedopt.schedule.loop_state import State
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import reference

ARGS = (64, 64, 64)


def lowered_ops(state: State, dag: ComputeDAG) -> Counter[str]:
    """The op names of the lowered module, after checking the kernel against numpy."""
    inputs = random_inputs("matmul", dag, np.random.default_rng(0))
    kernel = build(dag, state)
    outputs = [np.zeros(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    (expected,) = reference("matmul", ARGS, inputs)
    np.testing.assert_allclose(outputs[0], expected, rtol=1e-4, atol=1e-4, err_msg=str(state))
    return Counter(op.name for op in lower(dag, state).walk())


def matmul() -> ComputeDAG:
    return ComputeDAG(make_workload_key("matmul", ARGS))


def test_a_loop_of_extent_one_opens_no_loop():
    dag = matmul()
    state = dag.get_init_state()
    state.split("C", "i", [1])  # i.1 runs once
    state.split("C", "k", [64])  # k.0 runs once
    # i.0, i.1, j, k.0, k.1: three loops of extent 64, two of extent 1.
    assert lowered_ops(state, dag)["scf.for"] == 3


def test_unrolled_copies_share_the_index_arithmetic_of_a_fused_loop():
    """The fused loop's div/mod decomposition is computed once, not once per unrolled statement."""
    dag = matmul()
    counts = {}
    for tile in (2, 8):
        state = dag.get_init_state()
        io, ii = state.split("C", "i", [tile])
        jo, ji = state.split("C", "j", [8])
        state.reorder("C", [io, jo, "k", ii, ji])
        fused = state.fuse("C", [io, jo])
        state.parallel("C", fused)
        state.unroll("C", ii)
        state.unroll("C", ji)
        counts[tile] = lowered_ops(state, dag)
        assert counts[tile]["arith.remui"] == 0
    # 4x more unrolled statements, no more divisions.
    assert counts[8]["memref.store"] == 4 * counts[2]["memref.store"]
    assert counts[8]["arith.divui"] == counts[2]["arith.divui"] <= 2
