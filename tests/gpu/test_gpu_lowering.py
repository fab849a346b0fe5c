"""The GPU lowering of hand-written GPU states: the kernels in the `gpu` dialect and their launches.

What `build.lower_gpu` gives (the contract the CPU emulation and the NVVM
conversion build on): one `gpu.func` kernel per stage at root in a
`gpu.module @<func>_kernels`, launched in order by the host function;
thread and block ids in place of the bound loops; shared stages sized for
their whole block, in memory space 3, filled between barriers.
"""

from __future__ import annotations

from collections import Counter

import pytest
from gpu_states import cross_thread_row_sum, elementwise, elementwise_chain, row_sum, tiled_matmul
from xdsl.dialects import func, gpu, memref, scf
from xdsl.dialects.builtin import MemRefType, ModuleOp

from schedopt.build import build, lower_gpu
from schedopt.errors import LoweringError
from schedopt.gpu_kernel import GPUKernel, KernelLaunch
from schedopt.hardware_params import HardwareParams
from schedopt.passes import get_all_passes
from schedopt.passes.convert_bound_loops_to_gpu import CONTAINER_MODULE, ConvertBoundLoopsToGPUPass, is_shared
from schedopt.passes.convert_gpu_to_nvvm import ConvertGPUToNVVMPass
from schedopt.passes.lower_to_nvptx import LowerToNVPTXPass
from schedopt.schedule.bound_inference import BoundInference
from schedopt.schedule.loop_nest_emitter import lower_state


def kernels(module: ModuleOp) -> list[gpu.FuncOp]:
    return [op for op in module.walk() if isinstance(op, gpu.FuncOp)]


def op_names(op: gpu.FuncOp) -> Counter[str]:
    return Counter(o.name for o in op.walk())


def test_matmul_becomes_one_kernel_with_the_block_and_thread_sizes_of_its_bindings():
    schedule = tiled_matmul(n=64, tile=16, vthreads=2, threads=4, k_tile=8)
    module = lower_gpu(schedule.dag, schedule.state)
    assert CONTAINER_MODULE in module.attributes
    host, device = list(module.ops)
    assert isinstance(host, func.FuncOp) and host.sym_name.data == "matmul"
    assert isinstance(device, gpu.ModuleOp) and device.sym_name.data == "matmul_kernels"
    (launch,) = [op for op in host.walk() if isinstance(op, gpu.LaunchFuncOp)]
    assert str(launch.kernel) == "@matmul_kernels::@matmul_kernel0"
    assert list(launch.kernelOperands) == list(host.body.block.args)
    (kernel,) = kernels(module)
    assert kernel.kernel is not None and kernel.sym_name.data == "matmul_kernel0"
    names = op_names(kernel)
    assert names["gpu.block_id"] == 1 and names["gpu.thread_id"] == 1
    # Two fills of shared memory share the barrier between them.
    assert names["gpu.barrier"] == 3
    assert not [o for o in kernel.walk() if "sched.annotation" in o.attributes]


def test_shared_stages_cover_the_whole_block_and_sit_at_the_top_of_the_kernel():
    """16 rows of A (2 vthreads x 4 threads x 2) by the 8 columns of a k slice, and 8 x 16 of B."""
    schedule = tiled_matmul(n=64, tile=16, vthreads=2, threads=4, k_tile=8)
    (kernel,) = kernels(lower_gpu(schedule.dag, schedule.state))
    entry_allocas = [op for op in kernel.body.block.ops if isinstance(op, memref.AllocaOp)]
    shapes = [op.memref.type.get_shape() for op in entry_allocas if is_shared(op.memref.type)]
    assert shapes == [(16, 8), (8, 16)]
    # The accumulator stays per thread: 2 x 2, in no memory space, inside the vthread loop.
    local = [
        op
        for op in kernel.walk()
        if isinstance(op, memref.AllocaOp) and not is_shared(op.memref.type) and op.parent_op() is not kernel
    ]
    assert [op.memref.type.get_shape() for op in local] == [(2, 2)]


def test_shared_regions_are_relaxed_only_for_a_gpu():
    schedule = tiled_matmul(n=64, tile=16, vthreads=2, threads=4, k_tile=8)
    for gpu_mode, extents in ((True, [16, 8]), (False, [2, 8])):
        inference = BoundInference(schedule.dag, schedule.state, gpu=gpu_mode)
        region = inference.bounds("A.shared").region
        assert region is not None
        assert [r.extent for r in region] == extents


def test_the_cpu_lowering_of_a_gpu_state_is_unchanged_by_the_gpu_mode():
    """Without gpu=True the emitter gives what it always gave: no barrier, no memory space."""
    schedule = tiled_matmul()
    function = lower_state(schedule.dag, schedule.state)
    assert not [op for op in function.walk() if isinstance(op, gpu.BarrierOp)]
    assert not [op for op in function.walk() if isinstance(op, memref.AllocaOp) and is_shared(op.memref.type)]


def test_elementwise_kernel_has_no_loops_and_guards_the_last_block():
    schedule = elementwise(m=30, n=33, threads=128)
    (kernel,) = kernels(lower_gpu(schedule.dag, schedule.state))
    names = op_names(kernel)
    assert names["scf.for"] == 0 and names["scf.if"] == 1 and names["gpu.barrier"] == 0


def test_reduction_keeps_its_reduce_loops_inside_the_thread():
    schedule = row_sum(rows=64, cols=96, threads=32)
    (kernel,) = kernels(lower_gpu(schedule.dag, schedule.state))
    loops = [op for op in kernel.walk() if isinstance(op, scf.ForOp)]
    assert len(loops) == 2  # k.0 and k.1


def test_a_cross_thread_reduction_combines_partials_by_a_tree_in_shared_memory():
    """Each of 48 threads sums its share of a row; between barriers the partials go to a shared slot per
    thread, then a tree halves the live slots (48 -> 32 -> 16 -> ... -> 1), a barrier after each step."""
    schedule = cross_thread_row_sum(rows=8, cols=200, threads=48)
    (kernel,) = kernels(lower_gpu(schedule.dag, schedule.state))
    shared = [
        op for op in kernel.body.block.ops if isinstance(op, memref.AllocaOp) and is_shared(op.memref.type)
    ]
    assert [op.memref.type.get_shape() for op in shared] == [(48,)]
    loops = [op for op in kernel.walk() if isinstance(op, scf.ForOp)]
    assert [loop.ub.owner.value.value.data for loop in loops] == [5]  # k.0: 200 / 48 rounded up
    steps = [op for op in kernel.body.block.ops if isinstance(op, scf.IfOp)]
    bounds = [op.cond.owner.rhs.owner.value.value.data for op in steps]
    assert bounds == [16, 16, 8, 4, 2, 1]  # threads t < n - s add slot t + s
    barriers = [op for op in kernel.body.block.ops if isinstance(op, gpu.BarrierOp)]
    assert len(barriers) == 2 + len(steps)
    assert not [op for op in kernel.walk() if isinstance(op, gpu.BarrierOp) and op.parent_op() is not kernel]


def test_build_for_cuda_returns_the_ptx_and_the_launches():
    schedule = tiled_matmul(n=64, tile=16, vthreads=2, threads=4, k_tile=8)
    kernel = build(schedule.dag, schedule.state, target="cuda")
    assert isinstance(kernel, GPUKernel)
    assert kernel.arch == "sm_80" and ".target sm_80" in kernel.ptx
    assert ".visible .entry matmul_kernel0(" in kernel.ptx
    assert [spec.name for spec in kernel.arg_specs] == ["A", "B", "C"]
    assert kernel.launches == (KernelLaunch("matmul_kernel0", (16, 1, 1), (16, 1, 1), ("A", "B", "C")),)
    assert kernel.temporaries == ()
    assert ".target sm_90" in build(schedule.dag, schedule.state, target="cuda -arch=sm_90").ptx


def test_each_stage_at_root_is_a_kernel_and_intermediates_live_in_host_buffers():
    schedule = elementwise_chain(m=8, n=8, threads=32)
    kernel = build(schedule.dag, schedule.state, target="cuda")
    name = schedule.dag.func_name
    assert [launch.kernel for launch in kernel.launches] == [f"{name}_kernel{n}" for n in range(3)]
    assert [(spec.name, spec.shape) for spec in kernel.temporaries] == [
        ("T_multiply", (8, 8)),
        ("T_add", (8, 8)),
    ]
    assert [launch.args for launch in kernel.launches] == [
        ("A", "B", "T_multiply"),
        ("C", "T_multiply", "T_add"),
        ("T_relu", "T_add"),
    ]
    assert all(launch.grid == (2, 1, 1) and launch.block == (32, 1, 1) for launch in kernel.launches)


def test_hardware_params_set_the_limits():
    schedule = tiled_matmul()
    small = HardwareParams(target="cuda", max_threads_per_block=8)
    with pytest.raises(LoweringError, match=r"16 threads per block \(16 x 1 x 1; at most 8\)"):
        lower_gpu(schedule.dag, schedule.state, small)
    tiny_shared = HardwareParams(target="cuda", max_shared_memory_per_block=512)
    with pytest.raises(LoweringError, match="needs 1024 bytes of shared memory"):
        lower_gpu(schedule.dag, schedule.state, tiny_shared)


def test_kernel_arguments_are_global_memrefs_without_memory_space():
    schedule = tiled_matmul()
    (kernel,) = kernels(lower_gpu(schedule.dag, schedule.state))
    for type_ in kernel.function_type.inputs:
        assert isinstance(type_, MemRefType) and not is_shared(type_)


def test_the_gpu_passes_are_registered():
    passes = get_all_passes()
    assert passes["convert-bound-loops-to-gpu"]() is ConvertBoundLoopsToGPUPass
    assert passes["convert-gpu-to-nvvm"]() is ConvertGPUToNVVMPass
    assert passes["lower-to-nvptx"]() is LowerToNVPTXPass
