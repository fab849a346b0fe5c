"""The one entry from a workload and its schedule to a compiled kernel.

`lower` runs the lowering passes on a copy of the DAG's module and returns
loop nests in upstream dialects; `build` continues to the `llvm` dialect,
compiles with LLVM for the host CPU and returns a callable `Kernel`. The
search, the measurement and the user all come through here.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.transforms.arith_add_fastmath import AddArithFastMathFlagsPass
from xdsl.transforms.common_subexpression_elimination import CommonSubexpressionElimination
from xdsl.transforms.loop_invariant_code_motion import LoopInvariantCodeMotionPass

from schedopt.compute_dag import ComputeDAG, te_context
from schedopt.errors import LoweringError
from schedopt.hardware_params import HardwareParams
from schedopt.loop_state import State
from schedopt.passes.convert_to_llvm import ConvertToLLVMPass
from schedopt.passes.loop_nest_emitter import lower_state
from schedopt.passes.math_polynomial_approximation import MathPolynomialApproximationPass
from schedopt.passes.parallelize_annotated_loops import ParallelizeAnnotatedLoopsPass
from schedopt.passes.unroll_annotated_loops import UnrollAnnotatedLoopsPass
from schedopt.passes.vectorize_annotated_loops import VectorizeAnnotatedLoopsPass
from schedopt.runtime import BufferSpec, Kernel, compile_module, optimized_llvm_module

SUPPORTED_TARGETS = ("llvm",)


def _check_target(target: str) -> None:
    kind = target.split()[0] if target else target
    if kind not in SUPPORTED_TARGETS:
        raise LoweringError(f"unknown target {target!r} (supported: {', '.join(SUPPORTED_TARGETS)})")


def lower(dag: ComputeDAG, state: State | None = None) -> ModuleOp:
    """The workload under `state` (None: unscheduled) as loop nests over memrefs."""
    module = ModuleOp([lower_state(dag, dag.get_init_state() if state is None else state)])
    context = te_context()
    # Unrolling copies loop bodies many times over, and every later pass pays
    # for each op: loop-invariant index arithmetic moves out first, and what
    # the copies still compute alike is merged after.
    LoopInvariantCodeMotionPass().apply(context, module)
    UnrollAnnotatedLoopsPass().apply(context, module)
    CommonSubexpressionElimination().apply(context, module)
    VectorizeAnnotatedLoopsPass().apply(context, module)
    # exp as vector arithmetic: LLVM would call libm's expf once per lane.
    MathPolynomialApproximationPass().apply(context, module)
    ParallelizeAnnotatedLoopsPass().apply(context, module)
    # Let LLVM fuse a multiply and an add into an FMA, as TVM's codegen does.
    AddArithFastMathFlagsPass(flags=("contract",)).apply(context, module)
    return module


def lower_to_llvm_dialect(dag: ComputeDAG, state: State | None = None) -> ModuleOp:
    """The workload in the `llvm` dialect, ready for LLVM."""
    with _cyclic_gc_paused():
        module = lower(dag, state)
        ConvertToLLVMPass().apply(te_context(), module)
    return module


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the passes run.

    Lowering creates hundreds of thousands of IR objects, all in reference
    cycles (ops, their results, their uses), and the collector would walk
    the growing module again and again to free little: about 14% of the
    build time of a tuning round. What the passes drop is freed once the
    collector runs again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
