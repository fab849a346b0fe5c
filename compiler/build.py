"""The one entry from a workload and its schedule to a compiled kernel.

`lower` emits the loop nests of a State and runs the loop passes of
`lower-to-llvm` on them (loops in upstream dialects); `build` runs the whole
`lower-to-llvm` pass instead, down to the `llvm` dialect, compiles with LLVM
for the host CPU and returns a callable `Kernel`. The search, the
measurement and the user all come through here; `sched-opt -p lower-to-llvm`
runs the same pipeline on IR.
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from schedopt.compute_dag import ComputeDAG
from schedopt.errors import LoweringError
from schedopt.hardware_params import HardwareParams
from schedopt.ir_context import te_context
from schedopt.passes.lower_to_llvm import LowerToLLVMPass, cyclic_gc_paused, optimize_loops
from schedopt.runtime import BufferSpec, Kernel, compile_module, optimized_llvm_module
from schedopt.schedule.loop_nest_emitter import lower_state
from schedopt.schedule.loop_state import State

SUPPORTED_TARGETS = ("llvm",)


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
    return str(optimized_llvm_module(lower_to_llvm_dialect(dag, state)))


def build(
    dag: ComputeDAG,
    state: State | None = None,
    target: str = "llvm",
    hardware_params: HardwareParams | None = None,
) -> Kernel:
    """Compile the workload under `state` (None: unscheduled) for `target`.

    The kernel is called with numpy arrays: the inputs in placeholder order,
    then the outputs, which it overwrites. Its parallel loops run on
    `hardware_params.num_cores` threads (None: OMP_NUM_THREADS, else every core).
    """
    _check_target(target)
    compiled = compile_module(lower_to_llvm_dialect(dag, state))
    num_threads = hardware_params.num_cores if hardware_params is not None else None
    return compiled.get_function(dag.func_name, argument_specs(dag), num_threads)


def _numpy_dtype(dtype: str) -> np.dtype:
    return np.dtype(dtype)
