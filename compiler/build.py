"""The one entry from a workload and its schedule to a compiled kernel.

`lower` emits the loop nests of a State and runs the loop passes of
`lower-to-llvm` on them (loops in upstream dialects); `build` runs the whole
`lower-to-llvm` pass instead, down to the `llvm` dialect, compiles with LLVM
for the host CPU and returns a callable `Kernel`. The search, the
measurement and the user all come through here; `sched-opt -p lower-to-llvm`
runs the same pipeline on IR.

For a GPU (target `cuda`, or its synonym `nvptx`; `-arch=sm_XX` picks the
architecture, sm_80 by default), `lower_gpu` gives the kernels in the `gpu`
dialect and `build` runs the rest of `lower-to-nvptx` and returns a
`GPUKernel`: the PTX and the host's launches.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from schedopt.compute_dag import ComputeDAG
from schedopt.errors import LoweringError
from schedopt.gpu_kernel import GPUKernel
from schedopt.gpu_launches import host_launches
from schedopt.hardware_params import HardwareParams, is_cuda_target
from schedopt.ir_context import te_context
from schedopt.passes.convert_bound_loops_to_gpu import ConvertBoundLoopsToGPUPass
from schedopt.passes.convert_gpu_to_nvvm import ConvertGPUToNVVMPass
from schedopt.passes.lower_to_llvm import LowerToLLVMPass, cyclic_gc_paused, optimize_loops
from schedopt.passes.lower_to_nvptx import optimize_gpu_loops
from schedopt.ptx import DEFAULT_ARCH, device_llvm_ir, emit_ptx
from schedopt.runtime import BufferSpec, Kernel, compile_module, optimized_llvm_module
from schedopt.schedule.loop_nest_emitter import lower_state
from schedopt.schedule.loop_state import State

SUPPORTED_TARGETS = ("llvm", "cuda", "nvptx")


def _check_target(target: str) -> None:
    kind = target.split()[0] if target else target
    if kind not in SUPPORTED_TARGETS:
        raise LoweringError(f"unknown target {target!r} (supported: {', '.join(SUPPORTED_TARGETS)})")


def lower(dag: ComputeDAG, state: State | None = None) -> ModuleOp:
    """The workload under `state` (None: unscheduled) as loop nests over memrefs.

    What `lower-to-llvm` holds before its conversion to the `llvm` dialect.
    """
    with cyclic_gc_paused():
        module = _loop_nests(dag, state)
        optimize_loops(te_context(), module)
    return module


def lower_to_llvm_dialect(dag: ComputeDAG, state: State | None = None) -> ModuleOp:
    """The workload in the `llvm` dialect, ready for LLVM: the loop nests of `state` through `lower-to-llvm`."""
    with cyclic_gc_paused():
        module = _loop_nests(dag, state)
        LowerToLLVMPass().apply(te_context(), module)
    return module


def _loop_nests(dag: ComputeDAG, state: State | None) -> ModuleOp:
    """The module of the State's loop nests, as they leave the emitter (`apply-schedule`'s output)."""
    return ModuleOp([lower_state(dag, dag.get_init_state() if state is None else state)])


def argument_specs(dag: ComputeDAG) -> list[BufferSpec]:
    """The kernel's arguments: placeholders in order, then the outputs."""
    inputs = [
        BufferSpec(op.name, op.shape, _numpy_dtype(op.dtype), written=False)
        for op in map(dag.op, dag.placeholder_names)
    ]
    outputs = [BufferSpec(op.name, op.shape, _numpy_dtype(op.dtype)) for op in map(dag.op, dag.output_names)]
    return inputs + outputs


def build_llvm_ir(dag: ComputeDAG, state: State | None = None, target: str = "llvm") -> str:
    """The optimised LLVM IR text of the workload under `state`: what `build` compiles, before code generation."""
    _check_target(target)
    if is_cuda_target(target):
        raise LoweringError(
            f"target {target!r} compiles to PTX, not to host LLVM IR (build(dag, state, {target!r}).ptx)"
        )
    return str(optimized_llvm_module(lower_to_llvm_dialect(dag, state)))


def lower_gpu(
    dag: ComputeDAG, state: State | None, hardware_params: HardwareParams | None = None
) -> ModuleOp:
    """The workload under `state` as kernels in the `gpu` dialect, launched by its function.

    What `convert-bound-loops-to-gpu` makes of the State's loop nests, within
    the thread and shared-memory limits of `hardware_params` (None: an
    sm_80-class GPU's).
    """
    params = hardware_params if hardware_params is not None else HardwareParams(target="cuda")
    with cyclic_gc_paused():
        module = ModuleOp([lower_state(dag, dag.get_init_state() if state is None else state, gpu=True)])
        ConvertBoundLoopsToGPUPass(
            max_threads_per_block=params.max_threads_per_block or 1024,
            max_shared_memory_per_block=params.max_shared_memory_per_block or 48 * 1024,
        ).apply(te_context(), module)
    return module


def gpu_arch(target: str) -> str:
    """The architecture a cuda target string names with `-arch=sm_XX` (sm_80 without one)."""
    for word in target.split()[1:]:
        if word.startswith("-arch="):
            return word.removeprefix("-arch=")
    return DEFAULT_ARCH


def build_gpu(
    dag: ComputeDAG, state: State | None, target: str = "cuda", hardware_params: HardwareParams | None = None
) -> GPUKernel:
    """The PTX of the workload under `state`, and the launches of its kernels (see `GPUKernel`)."""
    module = lower_gpu(dag, state, hardware_params)
    specs = argument_specs(dag)
    launches, temporaries = host_launches(module, dag.func_name, specs)
    with cyclic_gc_paused():
        optimize_gpu_loops(te_context(), module)
        ConvertGPUToNVVMPass().apply(te_context(), module)
    arch = gpu_arch(target)
    ptx = emit_ptx(device_llvm_ir(module), arch)
    return GPUKernel(dag.func_name, ptx, arch, tuple(specs), temporaries, launches)


def build(
    dag: ComputeDAG,
    state: State | None = None,
    target: str = "llvm",
    hardware_params: HardwareParams | None = None,
) -> Kernel | GPUKernel:
    """Compile the workload under `state` (None: unscheduled) for `target`.

    The kernel is called with numpy arrays: the inputs in placeholder order,
    then the outputs, which it overwrites. Its parallel loops run on
    `hardware_params.num_cores` threads (None: OMP_NUM_THREADS, else every core).
    For a cuda target, the result is a `GPUKernel` (its `.ptx` and launches).
    """
    _check_target(target)
    if is_cuda_target(target):
        return build_gpu(dag, state, target, hardware_params)
    return build_cpu(dag, state, hardware_params)


def build_cpu(dag: ComputeDAG, state: State | None, hardware_params: HardwareParams | None = None) -> Kernel:
    """The host CPU's kernel of the workload under `state` (None: unscheduled): `build` on `llvm`."""
    compiled = compile_module(lower_to_llvm_dialect(dag, state))
    num_threads = hardware_params.num_cores if hardware_params is not None else None
    return compiled.get_function(dag.func_name, argument_specs(dag), num_threads)


def _numpy_dtype(dtype: str) -> np.dtype:
    return np.dtype(dtype)
