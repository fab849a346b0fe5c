"""PTX of the hand-written GPU states, assembled by `ptxas` where it is installed."""

from __future__ import annotations

import pytest
from gpu_states import cross_thread_row_sum, elementwise, elementwise_chain, row_sum, tiled_matmul

from schedopt.build import build
from schedopt.errors import CompileError, WorkloadError
from schedopt.ir_context import te_context
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.passes.lower_to_nvptx import LowerToNVPTXPass
from schedopt.ptx import check_with_ptxas, device_llvm_ir, emit_ptx, ptxas_path
from schedopt.records import save_records
from schedopt.schedule.schedule_program import state_to_program
from schedopt.search_task import SearchTask

needs_ptxas = pytest.mark.skipif(ptxas_path() is None, reason="ptxas (CUDA toolkit) is not on PATH")

SCHEDULES = {
    "matmul_shared_vthread": lambda: tiled_matmul(n=64, tile=16, vthreads=2, threads=4, k_tile=8),
    "matmul_no_vthread": lambda: tiled_matmul(n=128, tile=32, vthreads=1, threads=8, k_tile=16),
    "matmul_non_dividing": lambda: tiled_matmul(n=60, tile=16, vthreads=2, threads=4, k_tile=8),
    "elementwise": lambda: elementwise(m=30, n=33, threads=128),
    "elementwise_chain": lambda: elementwise_chain(m=16, n=16, threads=64),
    "row_sum": lambda: row_sum(rows=100, cols=96, threads=32),
    "cross_thread_row_sum": lambda: cross_thread_row_sum(rows=8, cols=200, threads=64),
}


@needs_ptxas
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_ptxas_accepts_the_ptx(name: str, arch: str):
    schedule = SCHEDULES[name]()
    kernel = build(schedule.dag, schedule.state, target=f"cuda -arch={arch}")
    for launch in kernel.launches:
        assert f".visible .entry {launch.kernel}(" in kernel.ptx
    check_with_ptxas(kernel.ptx, arch)


def test_the_kernels_read_ids_and_synchronise_through_nvvm():
    schedule = tiled_matmul()
    ptx = build(schedule.dag, schedule.state, target="cuda").ptx
    assert "%tid.x" in ptx and "%ctaid.x" in ptx
    assert "bar.sync" in ptx
    assert ".shared .align 64" in ptx
    assert "ld.global" in ptx and "st.global" in ptx


@needs_ptxas
def test_a_refused_ptx_names_the_kernel_and_gives_ptxas_message():
    schedule = elementwise()
    ptx = build(schedule.dag, schedule.state, target="cuda").ptx
    broken = ptx.replace("ret;", "bogus.instruction;", 1)
    with pytest.raises(
        CompileError, match=r"(?s)rejected kernels add_kernel0: ptxas kernels.ptx, line \d+.*'bogus'"
    ):
        check_with_ptxas(broken)


def test_an_architecture_before_sm_80_is_refused():
    with pytest.raises(CompileError, match="unsupported GPU architecture 'sm_70'"):
        emit_ptx("", "sm_70")
    schedule = elementwise()
    with pytest.raises(CompileError, match="unsupported GPU architecture 'compute_80'"):
        build(schedule.dag, schedule.state, target="cuda -arch=compute_80")


def test_lower_to_nvptx_on_the_schedule_program_gives_the_ptx_of_build():
    """`sched-opt -p lower-to-nvptx -t ptx` and `build(..., target="cuda")` are one pipeline."""
    schedule = tiled_matmul(n=32, tile=16, vthreads=2, threads=4, k_tile=8)
    module = schedule.dag.module.clone()
    module.body.block.add_op(state_to_program(schedule.dag, schedule.state))
    LowerToNVPTXPass().apply(te_context(), module)
    assert emit_ptx(device_llvm_ir(module)) == build(schedule.dag, schedule.state, target="cuda").ptx


def test_print_best_prints_the_kernels_and_the_ptx_of_a_cuda_tasks_best_record(tmp_path):
    schedule = tiled_matmul(n=64, tile=16, vthreads=2, threads=4, k_tile=8)
    task = SearchTask(schedule.workload, schedule.args, target="cuda")
    log = str(tmp_path / "gpu.json")
    save_records(log, [MeasureInput(task, schedule.state)], [MeasureResult((1e-5,), 0, "", 1.0, 0.0)])
    assert "gpu.module" in task.print_best(log, "cuda") and "gpu.barrier" in task.print_best(log, "cuda")
    ptx = task.print_best(log, "ptx")
    assert ".entry" in ptx and ".target sm_80" in ptx
    if ptxas_path() is not None:
        check_with_ptxas(ptx, "sm_80")
    with pytest.raises(WorkloadError, match="print_mode 'llvm' prints a program for target llvm"):
        task.print_best(log, "llvm")
    cpu_task = SearchTask(schedule.workload, schedule.args)
    save_records(
        log,
        [MeasureInput(cpu_task, cpu_task.compute_dag.get_init_state())],
        [MeasureResult((1e-3,), 0, "", 1.0, 0.0)],
    )
    with pytest.raises(WorkloadError, match="print_mode 'ptx' prints a program for target cuda or nvptx"):
        cpu_task.print_best(log, "ptx")
