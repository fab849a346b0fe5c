"""vectorize-annotated-loops: vectorized schedules of the workload library compute what numpy computes.

Each case schedules a workload, checks what became of its `vectorize` loops
in the lowered IR (vector code, or the unrolled fallback) and runs the
kernel against the numpy reference. The pass on hand-written loops and the
conversion of the vector ops to LLVM are also covered here.
"""

from collections.abc import Callable

import numpy as np
import pytest
from hand_written_ir import compile_function, parse

import schedopt.workloads  # noqa: F401  (registers the workloads)
from schedopt.build import build, lower
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import LoweringError
from schedopt.passes.vectorize_annotated_loops import VectorizeAnnotatedLoopsPass
from schedopt.random_inputs import random_inputs
from schedopt.schedule.loop_state import State
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import reference

VECTORIZE_ATTR = "sched.annotation = #sched<loop_annotation vectorize>"


def run_schedule(name: str, args: tuple, schedule: Callable[[State], None]) -> str:
    """Schedule workload `name`, check the kernel against numpy; return the lowered IR."""
    dag = ComputeDAG(make_workload_key(name, args))
    state = dag.get_init_state()
    schedule(state)
    inputs = random_inputs(name, dag, np.random.default_rng(0))
    kernel = build(dag, state)
    outputs = [np.zeros(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    for got, want in zip(outputs, reference(name, args, inputs), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=f"{name}:\n{state}")
    return str(lower(dag, state))


def cache_write_tile(tile_i: int, lanes: int) -> Callable[[State], None]:
    """Ansor's CPU matmul structure: C accumulates into a local tile whose rows are vectors."""

    def schedule(s: State) -> None:
        local = s.cache_write("C", "local").name
        i, j = s["C"].iters
        io, ii = s.split("C", i, [tile_i])
        jo, ji = s.split("C", j, [lanes])
        s.reorder("C", [io, jo, ii, ji])
        s.compute_at(local, "C", jo)
        li, lj, lk = s[local].iters
        lio, lii = s.split(local, li, [tile_i])
        ljo, lji = s.split(local, lj, [lanes])
        s.reorder(local, [lio, ljo, lk, lii, lji])
        s.vectorize(local, lji)
        s.vectorize("C", ji)

    return schedule


@pytest.mark.parametrize("lanes", [3, 5, 8, 16])
def test_matmul_over_cache_write_tile(lanes: int):
    ir = run_schedule("matmul", (8, 2 * lanes, 7), cache_write_tile(4, lanes))
    # Zeroing, accumulating and copying out the tile: vector stores, no guards.
    assert ir.count("vector.store") == 3
    assert "vector.load %B[%k, %" in ir and f": memref<7x{2 * lanes}xf32>, vector<{lanes}xf32>" in ir
    assert "scf.if" not in ir and VECTORIZE_ATTR not in ir


def test_dense_bias_relu_gathers_a_transposed_read():
    def schedule(s: State) -> None:
        i, j, k = s["T_dense"].iters
        s.reorder("T_dense", [i, k, j])
        s.vectorize("T_dense", j)
        s.compute_inline("T_add")
        s.vectorize("T_relu", s["T_relu"].iters[1])

    ir = run_schedule("dense_bias_relu", (6, 10, 8), schedule)
    # weight[j, k] has stride 10 in the lanes: one load per lane, gathered.
    assert ir.count("vector.insert") == 7
    assert "arith.maximumf" in ir and "vector<8xf32>" in ir and VECTORIZE_ATTR not in ir


@pytest.mark.parametrize(("stride", "gathers"), [(1, False), (2, True)])
def test_conv2d_with_padding_computed_apart(stride: int, gathers: bool):
    def schedule(s: State) -> None:
        nn, ff, yy, xx, rc, ry, rx = s["conv2d_nchw"].iters
        s.reorder("conv2d_nchw", [nn, ff, yy, rc, ry, rx, xx])
        s.vectorize("conv2d_nchw", xx)

    ir = run_schedule("conv2d_nchw", (1, 3, 9, 9, 4, 3, 3, stride, 1), schedule)
    assert "vector.store" in ir and VECTORIZE_ATTR not in ir
    assert ("vector.insert" in ir) == gathers


def test_conv2d_with_inlined_padding_falls_back_to_unrolling():
    def schedule(s: State) -> None:
        s.compute_inline("pad_temp")
        nn, ff, yy, xx, rc, ry, rx = s["conv2d_nchw"].iters
        xo, xi = s.split("conv2d_nchw", xx, [4])
        s.reorder("conv2d_nchw", [nn, ff, yy, xo, rc, ry, rx, xi])
        s.vectorize("conv2d_nchw", xi)

    ir = run_schedule("conv2d_nchw", (1, 2, 8, 8, 3, 3, 3, 1, 1), schedule)
    # The padding condition depends on the lane; the zeroing of the output does not.
    assert ir.count("vector.store") == 1 and VECTORIZE_ATTR not in ir


def test_softmax_vectorizes_elementwise_stages_and_unrolls_reductions():
    def schedule(s: State) -> None:
        for stage in ("T_softmax_maxelem", "T_softmax_exp", "T_softmax_expsum", "T_softmax_norm"):
            s.vectorize(stage, s[stage].iters[1])

    ir = run_schedule("softmax", (5, 16), schedule)
    # exp is vectorized, then written out by math-polynomial-approximation (whose k is a roundeven).
    assert "math.roundeven %" in ir and ": vector<16xf32>" in ir and "arith.divf" in ir
    # exp and norm store vectors; the two reductions over the lanes are unrolled.
    assert ir.count("vector.store") == 2 and VECTORIZE_ATTR not in ir


def vectorize_innermost(split: Callable[[State], list]) -> Callable[[State], None]:
    """Split C's spatial loops with `split`, move k outside the last loop, vectorize that loop."""

    def schedule(s: State) -> None:
        *outer, lanes = split(s)
        s.reorder("C", [*outer, s["C"].iters[-1], lanes])
        s.vectorize("C", lanes)

    return schedule


FALLBACKS: dict[str, Callable[[State], None]] = {
    "non-dividing split": vectorize_innermost(
        lambda s: [s["C"].iters[0], *s.split("C", s["C"].iters[1], [4])]
    ),
    "fused loops": vectorize_innermost(lambda s: s.split("C", s.fuse("C", s["C"].iters[:2]), [6])),
    "reduce loop": lambda s: s.vectorize("C", s["C"].iters[2]),
}


@pytest.mark.parametrize("case", FALLBACKS, ids=list(FALLBACKS))
def test_fallback_unrolls(case: str):
    ir = run_schedule("matmul", (6, 10, 5), FALLBACKS[case])
    assert "vector." not in ir and VECTORIZE_ATTR not in ir


def test_loop_longer_than_max_lanes_stays_a_loop():
    ir = run_schedule("matmul", (2, 80, 3), lambda s: s.vectorize("C", s["C"].iters[1]))
    assert "vector." not in ir and VECTORIZE_ATTR in ir


def test_fallback_inside_a_region_leaves_no_trace():
    """A body found unvectorizable deep in a region is unrolled; nothing built on the way is left."""
    ctx, module = parse(
        """
        func.func @f(%A: memref<8xf32>, %B: memref<8xf32>, %flag: i1) {
          %c0 = arith.constant 0 : index
          %c1 = arith.constant 1 : index
          %c2 = arith.constant 2 : index
          %c4 = arith.constant 4 : index
          scf.for %l = %c0 to %c4 step %c1 {
            scf.if %flag {
              %a = memref.load %A[%l] : memref<8xf32>
              %twice = arith.muli %l, %c2 : index
              memref.store %a, %B[%twice] : memref<8xf32>
            }
          } {sched.annotation = #sched<loop_annotation vectorize>}
          func.return
        }
        """
    )
    VectorizeAnnotatedLoopsPass().apply(ctx, module)
    module.verify()
    ops = set(module.walk())
    for op in ops:
        for operand in op.operands:
            assert all(use.operation in ops for use in operand.uses), f"dangling use of {operand}"
    assert sum(op.name == "memref.store" for op in ops) == 4
    assert not any(op.name.startswith("vector.") for op in ops)


def test_max_lanes_must_be_positive():
    ctx, module = parse("func.func @f() {\n func.return\n}")
    with pytest.raises(LoweringError, match="max_lanes=0"):
        VectorizeAnnotatedLoopsPass(max_lanes=0).apply(ctx, module)


def test_vector_ops_lower_and_run():
    ctx, module = parse(
        """
        func.func @k(%X: memref<8xf32>, %Y: memref<8xf32>) {
          %c0 = arith.constant 0 : index
          %c5 = arith.constant 5 : index
          %x = vector.load %X[%c0] : memref<8xf32>, vector<8xf32>
          %two = arith.constant 2.0 : f32
          %twos = vector.broadcast %two : f32 to vector<8xf32>
          %last = vector.extract %x[7] : f32 from vector<8xf32>
          %v = vector.insert %last, %x [0] : f32 into vector<8xf32>
          %w = vector.insert %two, %v [%c5] : f32 into vector<8xf32>
          %r = vector.fma %w, %twos, %x : vector<8xf32>
          vector.store %r, %Y[%c0] : memref<8xf32>, vector<8xf32>
          func.return
        }
        """
    )
    kernel = compile_function(ctx, module, "k")
    x = np.arange(1, 9, dtype=np.float32)
    y = np.zeros(8, np.float32)
    kernel(x, y)
    w = x.copy()
    w[0], w[5] = x[7], 2.0
    np.testing.assert_array_equal(y, w * 2 + x)
