"""Schedules a GPU cannot run: each raises `LoweringError` naming the stage and the loop."""

from __future__ import annotations

import pytest
from gpu_states import row_sum_dag, schedule_for, tiled_matmul

from schedopt.build import build, lower_gpu
from schedopt.errors import LoweringError
from schedopt.ir_context import te_context
from schedopt.passes.lower_to_nvptx import LowerToNVPTXPass


def test_a_reduce_loop_bound_to_blocks_is_refused():
    dag = row_sum_dag(64, 96)
    s = dag.get_init_state()
    s.bind("row_sum", "i", "threadIdx.x")
    s.bind("row_sum", "k", "blockIdx.x")
    with pytest.raises(
        LoweringError, match=r"stage row_sum: reduce loop k is bound to blockIdx.x \(blocks cannot"
    ):
        lower_gpu(dag, s)


def test_a_cross_thread_reduction_over_two_thread_axes_is_refused():
    dag = row_sum_dag(64, 96)
    s = dag.get_init_state()
    s.bind("row_sum", "i", "blockIdx.x")
    k0, k1 = s.split("row_sum", "k", [32])
    s.bind("row_sum", k0, "threadIdx.y")
    s.bind("row_sum", k1, "threadIdx.x")
    with pytest.raises(LoweringError, match=r"stage row_sum: reduce loops k.0, k.1 are all bound to threads"):
        lower_gpu(dag, s)


def test_a_spatial_loop_inside_a_cross_thread_reduction_is_refused():
    dag = row_sum_dag(64, 96)
    s = dag.get_init_state()
    io, ii = s.split("row_sum", "i", [4])
    s.bind("row_sum", io, "blockIdx.x")
    s.reorder("row_sum", [io, "k", ii])
    _, k1 = s.split("row_sum", "k", [32])
    s.bind("row_sum", k1, "threadIdx.x")
    with pytest.raises(
        LoweringError, match=r"spatial loops i.1 are inside the reduce loops of a cross-thread"
    ):
        lower_gpu(dag, s)


def test_a_stage_at_root_without_bound_loops_is_refused():
    dag, s = schedule_for("elementwise_chain", (8, 8))
    for stage in ("T_multiply", "T_relu"):
        fused = s.fuse(stage, ["i", "j"])
        bx, tx = s.split(stage, fused, [32])
        s.bind(stage, bx, "blockIdx.x")
        s.bind(stage, tx, "threadIdx.x")
    with pytest.raises(LoweringError, match="stage T_add: no loop is bound to blockIdx or threadIdx"):
        lower_gpu(dag, s)


def test_the_unscheduled_program_is_refused_for_a_gpu():
    dag, _ = schedule_for("matmul", (16, 16, 16))
    with pytest.raises(LoweringError, match="stage C: no loop is bound"):
        build(dag, None, target="cuda")


def test_a_shared_stage_at_root_is_refused():
    dag, s = schedule_for("matmul", (16, 16, 16))
    shared = s.cache_read("A", "shared", ["C"]).name
    io, ii = s.split("C", "i", [4])
    s.bind("C", io, "blockIdx.x")
    s.bind("C", ii, "threadIdx.x")
    s.bind(shared, "ax0", "blockIdx.x")
    with pytest.raises(LoweringError, match=r"stage A.shared is in shared memory but computed at root"):
        lower_gpu(dag, s)


def test_a_block_binding_inside_an_attached_stage_is_refused():
    schedule = tiled_matmul()
    s = schedule.state
    fetch = s["A.shared"].iters[0].name
    s.bind("A.shared", fetch, "blockIdx.y")
    with pytest.raises(
        LoweringError, match=r"stage A.shared: loop .* is bound to blockIdx.y, but the stage is computed at"
    ):
        lower_gpu(schedule.dag, s)


def test_lower_to_nvptx_refuses_a_te_function_without_schedule():
    dag, _ = schedule_for("matmul", (16, 16, 16))
    module = dag.module.clone()
    with pytest.raises(LoweringError, match="lower-to-nvptx: te function @matmul has no schedule"):
        LowerToNVPTXPass().apply(te_context(), module)
