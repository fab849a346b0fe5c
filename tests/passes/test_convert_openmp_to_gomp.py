"""Parallel loops on libgomp: schedules with `parallel` annotations compute what numpy computes.

Each schedule is lowered through `parallelize-annotated-loops`,
`convert-scf-to-openmp` and `convert-openmp-to-gomp`, compiled once, and run
on 1, 2 and 3 threads (3 oversubscribes the 2-core machines here, and gives
threads unequal shares). A hand-written kernel checks the values a parallel
region takes from outside it: an index from a serial loop, a float, buffers.
"""

import ctypes
import ctypes.util
from collections.abc import Callable

import numpy as np
import pytest
from hand_written_ir import build as build_kernel
from hand_written_ir import parse
from xdsl.dialects import llvm
from xdsl.dialects.builtin import ModuleOp
from xdsl.transforms.convert_scf_to_openmp import ConvertScfToOpenMPPass

from schedopt.build import build, lower_to_llvm_dialect
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import CompileError, LoweringError
from schedopt.hardware_params import HardwareParams
from schedopt.passes.convert_openmp_to_gomp import ConvertOpenMPToGompPass
from schedopt.random_inputs import random_inputs
from schedopt.runtime import openmp_runtime
from schedopt.schedule.loop_state import State
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import reference

THREAD_COUNTS = (1, 2, 3)


def gomp_parallel_calls(module: ModuleOp) -> int:
    return sum(
        isinstance(op, llvm.CallOp) and op.callee.string_value() == "GOMP_parallel" for op in module.walk()
    )


def check_schedule(name: str, args: tuple, schedule: Callable[[State], None]) -> ModuleOp:
    """Build `schedule` of workload `name`, run it on each thread count; the llvm-dialect module."""
    dag = ComputeDAG(make_workload_key(name, args))
    state = dag.get_init_state()
    schedule(state)
    kernel = build(dag, state)
    inputs = random_inputs(name, dag, np.random.default_rng(0))
    expected = reference(name, args, inputs)
    for threads in THREAD_COUNTS:
        on_threads = kernel.compiled.get_function(kernel.name, kernel.arg_specs, threads)
        outputs = [np.zeros(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
        on_threads(*inputs, *outputs)
        for got, want in zip(outputs, expected, strict=True):
            np.testing.assert_allclose(
                got, want, rtol=1e-4, atol=1e-5, err_msg=f"{threads} threads:\n{state}"
            )
    return lower_to_llvm_dialect(dag, state)


def matmul_tiled(state: State) -> None:
    """Split i and j by 8 (37 and 29 leave partial tiles), parallel over the fused tile loops."""
    i, j, k = state["C"].iters
    io, ii = state.split("C", i, [8])
    jo, ji = state.split("C", j, [8])
    state.reorder("C", [io, jo, k, ii, ji])
    state.parallel("C", state.fuse("C", [io, jo]))


def test_parallel_over_fused_tiles():
    assert gomp_parallel_calls(check_schedule("matmul", (37, 29, 13), matmul_tiled)) == 1


def test_parallel_over_non_dividing_split():
    def schedule(state: State) -> None:
        io, _ = state.split("C", state["C"].iters[0], [5])  # 37 rows: 8 tiles, the last of 2
        state.parallel("C", io)

    check_schedule("matmul", (37, 29, 13), schedule)


def test_parallel_loop_inside_serial_loop():
    def schedule(state: State) -> None:
        state.parallel("C", state["C"].iters[1])  # j, inside the serial i: one team per row

    check_schedule("matmul", (9, 40, 7), schedule)


def test_nested_parallel_annotation_runs_serially():
    def schedule(state: State) -> None:
        io, ii = state.split("C", state["C"].iters[0], [4])
        state.parallel("C", io)
        state.parallel("C", ii)

    assert gomp_parallel_calls(check_schedule("matmul", (18, 11, 5), schedule)) == 1


def test_parallel_loop_with_compute_at_stages_and_local_cache():
    """conv2d: a local accumulator and the padded input, computed per thread inside the parallel loop."""

    def schedule(state: State) -> None:
        local = state.cache_write("conv2d_nchw", "local")
        n, f, y, _ = state["conv2d_nchw"].iters
        fused = state.fuse("conv2d_nchw", [n, f, y])
        state.parallel("conv2d_nchw", fused)
        state.compute_at(local.name, "conv2d_nchw", fused)
        state.compute_at("pad_temp", local.name, state[local.name].iters[4])  # at rc

    check_schedule("conv2d_nchw", (1, 3, 9, 9, 8, 3, 3, 1, 1), schedule)


def test_softmax_rows_in_parallel():
    """Row statistics computed at the parallel row loops of their readers."""

    def schedule(state: State) -> None:
        for reader, stat in (("T_softmax_exp", "T_softmax_maxelem"), ("T_softmax_norm", "T_softmax_expsum")):
            i = state[reader].iters[0]
            state.parallel(reader, i)
            state.compute_at(stat, reader, i)

    assert gomp_parallel_calls(check_schedule("softmax", (37, 45), schedule)) == 2


def test_every_stage_with_its_own_parallel_loop():
    def schedule(state: State) -> None:
        for stage in ("T_softmax_maxelem", "T_softmax_exp", "T_softmax_expsum", "T_softmax_norm"):
            state.parallel(stage, state[stage].iters[0])

    assert gomp_parallel_calls(check_schedule("softmax", (5, 12), schedule)) == 4


# --- the thread count ------------------------------------------------------------------------


def omp_get_max_threads() -> int:
    """The team size libgomp would give the next parallel region of this thread."""
    name = ctypes.util.find_library("gomp")
    assert name is not None
    return ctypes.CDLL(name).omp_get_max_threads()


@pytest.mark.parametrize("cores", [1, 2])
def test_kernel_runs_on_hardware_params_num_cores(cores: int):
    dag = ComputeDAG(make_workload_key("matmul", (37, 29, 13)))
    state = dag.get_init_state()
    matmul_tiled(state)
    kernel = build(dag, state, hardware_params=HardwareParams(num_cores=cores))
    assert kernel.num_threads == cores
    inputs = random_inputs("matmul", dag, np.random.default_rng(1))
    out = np.zeros((37, 29), np.float32)
    kernel(*inputs, out)
    assert omp_get_max_threads() == cores
    np.testing.assert_allclose(out, reference("matmul", (37, 29, 13), inputs)[0], rtol=1e-4, atol=1e-5)


def test_kernel_without_parallel_loops_leaves_the_team_alone():
    kernel = build(
        ComputeDAG(make_workload_key("matmul", (4, 4, 4))), hardware_params=HardwareParams(num_cores=1)
    )
    assert kernel.num_threads is None
    assert not kernel.compiled.uses_openmp


def test_missing_openmp_runtime_is_named(monkeypatch: pytest.MonkeyPatch):
    dag = ComputeDAG(make_workload_key("matmul", (8, 8, 8)))
    state = dag.get_init_state()
    state.parallel("C", state["C"].iters[0])
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    openmp_runtime.cache_clear()
    try:
        with pytest.raises(CompileError, match=r"the OpenMP runtime libgomp \(libgomp.so.1\) was not found"):
            build(dag, state)
    finally:
        openmp_runtime.cache_clear()


# --- values a parallel region takes from outside --------------------------------------------

SCALE_ROWS = """
func.func @scale_rows(%A: memref<3x64xf32>, %B: memref<3x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c64 = arith.constant 64 : index
  scf.for %t = %c0 to %c3 step %c1 {
    %ti = arith.index_cast %t : index to i32
    %tf = arith.sitofp %ti : i32 to f32
    "scf.parallel"(%c0, %c64, %c1) <{operandSegmentSizes = array<i32: 1, 1, 1, 0>}> ({
    ^bb0(%j: index):
      %a = memref.load %A[%t, %j] : memref<3x64xf32>
      %b = arith.mulf %a, %tf : f32
      memref.store %b, %B[%t, %j] : memref<3x64xf32>
      scf.reduce
    }) : (index, index, index) -> ()
  }
  func.return
}
"""


def test_region_receives_index_float_and_buffers():
    kernel = build_kernel(SCALE_ROWS, "scale_rows", num_threads=2)  # through convert-openmp-to-gomp
    a = np.random.default_rng(2).standard_normal((3, 64)).astype(np.float32)
    b = np.zeros_like(a)
    kernel(a, b)
    np.testing.assert_array_equal(b, a * np.arange(3, dtype=np.float32)[:, None])


def test_unsupported_schedule_is_named():
    ctx, module = parse(SCALE_ROWS)
    ConvertScfToOpenMPPass(schedule="dynamic").apply(ctx, module)
    with pytest.raises(LoweringError, match=r"omp.wsloop in @scale_rows: the schedule\(dynamic\) clause"):
        ConvertOpenMPToGompPass().apply(ctx, module)
