"""`lower-to-nvptx`: the whole GPU lowering of `schedopt.build(..., target="cuda")`, te functions to NVVM.

The GPU counterpart of `lower-to-llvm`, and the one place that lists its
pipeline; on the command line

    sched-opt matmul.mlir -p 'apply-history-best{db="mm.json"},lower-to-nvptx' -t ptx

prints the PTX `build` makes. Four stages, in order:

1. `apply-schedule{gpu=true}`: te functions to loop nests, each under its
   schedule, for a GPU (shared-memory stages sized for their thread block,
   barriers around their filling); a te function without a schedule raises
   `LoweringError`, since nothing would bind its loops to threads;
2. `convert-bound-loops-to-gpu`: kernels in the `gpu` dialect, launched
   from the function;
3. `optimize_gpu_loops`: loop-invariant code motion,
   `unroll-annotated-loops`, `memref-forwarding` (a barrier ends what it
   knows), CSE, `math-polynomial-approximation` and
   `arith-add-fastmath{flags=contract}`, as for the CPU; loops annotated
   `vectorize` or `parallel` run serially in their thread;
4. `convert-gpu-to-nvvm`: the kernels in the `llvm` dialect.

The host function stays in `func`/`gpu.launch_func`; `-t ptx` prints the
PTX of the kernels (`schedopt.ptx`).

Options:

- max_threads_per_block: int = 1024, max_shared_memory_per_block: int =
  49152: passed to `convert-bound-loops-to-gpu`.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.transforms.arith_add_fastmath import AddArithFastMathFlagsPass
from xdsl.transforms.common_subexpression_elimination import CommonSubexpressionElimination
from xdsl.transforms.dead_code_elimination import DeadCodeElimination
from xdsl.transforms.loop_invariant_code_motion import LoopInvariantCodeMotionPass

from schedopt.dialects import te
from schedopt.errors import LoweringError
from schedopt.passes.apply_schedule import ApplySchedulePass
from schedopt.passes.convert_bound_loops_to_gpu import ConvertBoundLoopsToGPUPass, KernelLimits
from schedopt.passes.convert_gpu_to_nvvm import ConvertGPUToNVVMPass
from schedopt.passes.lower_to_llvm import cyclic_gc_paused
from schedopt.passes.math_polynomial_approximation import MathPolynomialApproximationPass
from schedopt.passes.memref_forwarding import MemrefForwardingPass
from schedopt.passes.unroll_annotated_loops import UnrollAnnotatedLoopsPass


def lower_te_functions_for_gpu(ctx: Context, module: ModuleOp) -> None:
    """Replace every te function by its loop nests for a GPU, under its schedule (which is removed)."""
    ApplySchedulePass(gpu=True).apply(ctx, module)
    for op in module.ops:
        if isinstance(op, func.FuncOp) and any(isinstance(o, te.ComputeOp) for o in op.body.walk()):
            raise LoweringError(
                f"lower-to-nvptx: te function @{op.sym_name.data} has no schedule "
                "(a GPU kernel needs one that binds its loops to blockIdx/threadIdx)"
            )


def optimize_gpu_loops(ctx: Context, module: ModuleOp) -> None:
    """Carry out the unroll annotations of the kernels' loops and tidy up (see the module docstring)."""
    LoopInvariantCodeMotionPass().apply(ctx, module)
    UnrollAnnotatedLoopsPass().apply(ctx, module)
    MemrefForwardingPass().apply(ctx, module)
    CommonSubexpressionElimination().apply(ctx, module)
    MathPolynomialApproximationPass().apply(ctx, module)
    AddArithFastMathFlagsPass(flags=("contract",)).apply(ctx, module)
    DeadCodeElimination().apply(ctx, module)


@dataclass(frozen=True)
class LowerToNVPTXPass(KernelLimits, ModulePass):
    """Lower scheduled te functions to GPU kernels in the llvm dialect (NVVM), launched from their function.

    Options: the `KernelLimits` (max_threads_per_block: int = 1024,
    max_shared_memory_per_block: int = 49152), passed to `convert-bound-loops-to-gpu`.
    """

    name = "lower-to-nvptx"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        with cyclic_gc_paused():
            lower_te_functions_for_gpu(ctx, op)
            ConvertBoundLoopsToGPUPass(self.max_threads_per_block, self.max_shared_memory_per_block).apply(
                ctx, op
            )
            optimize_gpu_loops(ctx, op)
            ConvertGPUToNVVMPass().apply(ctx, op)
