"""`lower-to-llvm`: the whole lowering of `schedopt.build`, from te functions to the `llvm` dialect.

The one place that lists the pipeline; `schedopt.build` runs it after it
turns a State into loop nests, and on the command line

    sched-opt matmul.mlir -p 'apply-history-best{db="mm.json"},lower-to-llvm' -t llvm

gives the program `build` compiles. Three stages, in order:

1. te functions to loop nests: those with a schedule as `apply-schedule`
   lowers them, the others unscheduled as `te-lower` does; a module already
   in loops passes through unchanged;
2. `optimize_loops`: loop-invariant code motion, `unroll-annotated-loops`,
   `memref-forwarding`, CSE, `math-polynomial-approximation`, `vectorize-annotated-loops`,
   `parallelize-annotated-loops` and `arith-add-fastmath{flags=contract}`,
   which carry out the schedule's annotations (`build.lower` stops here);
3. `convert-to-llvm`.

Running only `convert-to-llvm` after `apply-schedule` compiles the loops as
written: no vectors, no threads, whatever the schedule annotated.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.transforms.arith_add_fastmath import AddArithFastMathFlagsPass
from xdsl.transforms.common_subexpression_elimination import CommonSubexpressionElimination
from xdsl.transforms.loop_invariant_code_motion import LoopInvariantCodeMotionPass

from schedopt.passes.apply_schedule import ApplySchedulePass
from schedopt.passes.convert_to_llvm import ConvertToLLVMPass
from schedopt.passes.math_polynomial_approximation import MathPolynomialApproximationPass
from schedopt.passes.memref_forwarding import MemrefForwardingPass
from schedopt.passes.parallelize_annotated_loops import ParallelizeAnnotatedLoopsPass
from schedopt.passes.te_lower import TeLowerPass
from schedopt.passes.unroll_annotated_loops import UnrollAnnotatedLoopsPass
from schedopt.passes.vectorize_annotated_loops import VectorizeAnnotatedLoopsPass


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
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


def lower_te_functions(ctx: Context, module: ModuleOp) -> None:
    """Replace every te function by loop nests: under its schedule if it has one, else unscheduled."""
    ApplySchedulePass().apply(ctx, module)
    TeLowerPass().apply(ctx, module)


def optimize_loops(ctx: Context, module: ModuleOp) -> None:
    """Carry out the annotations of the emitted loop nests (unroll, vectorize, parallel) and tidy up."""
    # Unrolling copies loop bodies many times over, and every later pass pays
    # for each op: loop-invariant index arithmetic moves out first, and what
    # the copies still compute alike is merged after.
    LoopInvariantCodeMotionPass().apply(ctx, module)
    UnrollAnnotatedLoopsPass().apply(ctx, module)
    MemrefForwardingPass().apply(ctx, module)
    CommonSubexpressionElimination().apply(ctx, module)
    # exp and erf as arithmetic, which vectorizes: LLVM would call libm's expf
    # once per lane, and erf has no vector form at all.
    MathPolynomialApproximationPass().apply(ctx, module)
    VectorizeAnnotatedLoopsPass().apply(ctx, module)
    ParallelizeAnnotatedLoopsPass().apply(ctx, module)
    # Let LLVM fuse a multiply and an add into an FMA, as TVM's codegen does.
    AddArithFastMathFlagsPass(flags=("contract",)).apply(ctx, module)


@dataclass(frozen=True)
class LowerToLLVMPass(ModulePass):
    """Lower te functions (scheduled or not) or loop nests to the `llvm` dialect, as `schedopt.build` does.

    Options:

    - alignment: int = 64: passed to `convert-to-llvm` (least alignment of
      allocated buffers, in bytes).
    """

    name = "lower-to-llvm"

    alignment: int = 64

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        with cyclic_gc_paused():
            lower_te_functions(ctx, op)
            optimize_loops(ctx, op)
            ConvertToLLVMPass(alignment=self.alignment).apply(ctx, op)
