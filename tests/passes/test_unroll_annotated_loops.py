"""unroll-annotated-loops: unrolled schedules compute what numpy computes, and no annotated loop is left.

Explicit `unroll` steps and the `auto_unroll_max_step` pragma both mark
loops for the pass; the lowered IR keeps no loop so marked, and the kernel
matches the numpy reference.
"""

import numpy as np
import pytest
from hand_written_ir import parse

import schedopt.workloads  # noqa: F401  (registers the workloads)
from schedopt.build import build, lower
from schedopt.compute_dag import ComputeDAG
from schedopt.passes.unroll_annotated_loops import UnrollAnnotatedLoopsPass
from schedopt.random_inputs import random_inputs
from schedopt.schedule.loop_state import State
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import reference

UNROLL_ATTR = "sched.annotation = #sched<loop_annotation unroll>"


def check_against_numpy(dag: ComputeDAG, state: State, name: str, args: tuple) -> str:
    """Build `state`, compare its outputs with numpy's; the lowered IR."""
    inputs = random_inputs(name, dag, np.random.default_rng(0))
    kernel = build(dag, state)
    outputs = [np.zeros(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    for got, want in zip(outputs, reference(name, args, inputs), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=str(state))
    return str(lower(dag, state))


def explicit_unroll(state: State) -> None:
    i, j, k = state["C"].iters
    jo, ji = state.split("C", j, [4])
    ko, ki = state.split("C", k, [3])
    state.reorder("C", [i, jo, ko, ki, ji])
    state.unroll("C", ki)
    state.unroll("C", ji)


def auto_unroll(state: State) -> None:
    i, j, k = state["C"].iters
    jo, ji = state.split("C", j, [4])
    state.reorder("C", [i, jo, k, ji])
    state.pragma("C", i, "auto_unroll_max_step$16")


@pytest.mark.parametrize("schedule", [explicit_unroll, auto_unroll])
def test_unrolled_matmul_matches_numpy_and_keeps_no_annotated_loop(schedule):
    args = (8, 12, 9)
    dag = ComputeDAG(make_workload_key("matmul", args))
    state = dag.get_init_state()
    schedule(state)
    lowered = check_against_numpy(dag, state, "matmul", args)
    assert lowered.count("scf.for") == 3  # i, j.0 and k.0 (k) stay; k.1 and j.1 (j.1 alone) are unrolled
    assert UNROLL_ATTR not in lowered


def test_a_loop_without_constant_bounds_is_left_as_it_is():
    text = f"""
    func.func @f(%A: memref<8xf32>, %n: index, %x: f32) {{
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      scf.for %i = %c0 to %n step %c1 {{
        memref.store %x, %A[%i] : memref<8xf32>
      }} {{{UNROLL_ATTR}}}
      func.return
    }}
    """
    ctx, module = parse(text)
    UnrollAnnotatedLoopsPass().apply(ctx, module)
    assert "scf.for" in str(module)


def test_folding_while_unrolling_computes_what_the_ops_compute():
    """Signed division truncates, floordivsi floors, remsi takes the dividend's sign; an
    unsigned comparison of a negative value is left to run (its operands are not what Python sees)."""
    text = f"""
    func.func @f(%Q: memref<5xi64>, %F: memref<5xi64>, %R: memref<5xi64>, %U: memref<5xi1>) {{
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c5 = arith.constant 5 : index
      %three = arith.constant 3 : i64
      %two = arith.constant 2 : i64
      scf.for %i = %c0 to %c5 step %c1 {{
        %wide = arith.index_cast %i : index to i64
        %x = arith.subi %wide, %three : i64
        %q = arith.divsi %x, %two : i64
        %f = arith.floordivsi %x, %two : i64
        %r = arith.remsi %x, %two : i64
        %u = arith.cmpi ult, %x, %two : i64
        memref.store %q, %Q[%i] : memref<5xi64>
        memref.store %f, %F[%i] : memref<5xi64>
        memref.store %r, %R[%i] : memref<5xi64>
        memref.store %u, %U[%i] : memref<5xi1>
      }} {{{UNROLL_ATTR}}}
      func.return
    }}
    """
    ctx, module = parse(text)
    UnrollAnnotatedLoopsPass().apply(ctx, module)
    printed = str(module)
    assert "arith.divsi" not in printed and "arith.floordivsi" not in printed and "arith.remsi" not in printed
    lines = [line.strip() for line in printed.splitlines()]
    values = {
        line.split(" = ")[0]: line.split("arith.constant ")[1].split(" :")[0]
        for line in lines
        if "arith.constant" in line
    }
    stored: dict[str, list[str]] = {"Q": [], "F": [], "R": [], "U": []}
    for line in lines:
        if line.startswith("memref.store"):
            value, target = line.removeprefix("memref.store ").split(", ", 1)
            stored[target[1]].append(value)

    def numbers(name: str) -> list[int]:
        return [int(values[v]) for v in stored[name]]

    assert numbers("Q") == [-1, -1, 0, 0, 0]  # (-3, -2, -1, 0, 1) / 2, truncated
    assert numbers("F") == [-2, -1, -1, 0, 0]  # floored
    assert numbers("R") == [-1, 0, -1, 0, 1]
    assert printed.count("arith.cmpi ult") == 3  # x = -3, -2, -1 stay; 0 < 2 and 1 < 2 fold to true


def test_folding_keeps_negative_zero_apart_from_zero():
    """Python has 0.0 == -0.0, but the copies' constants must keep the sign they were written with."""
    text = f"""
    func.func @f(%P: memref<2xf32>, %N: memref<2xf32>) {{
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c2 = arith.constant 2 : index
      scf.for %i = %c0 to %c2 step %c1 {{
        %zero = arith.constant 0.0 : f32
        %negative = arith.constant -0.0 : f32
        memref.store %zero, %P[%i] : memref<2xf32>
        memref.store %negative, %N[%i] : memref<2xf32>
      }} {{{UNROLL_ATTR}}}
      func.return
    }}
    """
    ctx, module = parse(text)
    UnrollAnnotatedLoopsPass().apply(ctx, module)
    printed = str(module)
    assert "-0.000000e+00" in printed and " 0.000000e+00" in printed
    assert all(line.count("memref.store") <= 1 for line in printed.splitlines())
