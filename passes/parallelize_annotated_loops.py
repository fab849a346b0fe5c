"""`parallelize-annotated-loops`: the loops a schedule runs in parallel become `scf.parallel`.

The loop-nest emitter marks a loop `sched.annotation = #sched<loop_annotation parallel>` when the
schedule annotates its iterator `parallel`. This pass turns the outermost
such `scf.for` of each nest into a one-dimensional `scf.parallel`, from
which upstream's route takes over: `convert-scf-to-openmp` makes it an
`omp.parallel` work-sharing loop and `convert-openmp-to-gomp` calls the
OpenMP runtime (`convert-to-llvm` runs both). A parallel loop nested in another one stays a serial
`scf.for`, as in TVM: one team of threads per nest, never a team per
iteration of a parallel loop.

    scf.for %i = %c0 to %c64 step %c1 {...} {sched.annotation = #sched<loop_annotation parallel>}

becomes

    "scf.parallel"(%c0, %c64, %c1) ({ ^bb0(%i: index): ... scf.reduce }) : ...

The annotation is the schedule's promise that iterations are independent;
Ansor only allows it on spatial iterators, whose iterations write disjoint
elements. A loop carrying values between iterations (`iter_args`) keeps
running serially: it has no such promise to keep.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import scf
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from schedopt.dialects.sched import LoopAnnotation, loop_annotation


def _is_parallel_loop(op: Operation) -> bool:
    return isinstance(op, scf.ParallelOp) or (
        isinstance(op, scf.ForOp) and loop_annotation(op) == LoopAnnotation.PARALLEL
    )


def _inside_parallel_loop(op: Operation) -> bool:
    parent = op.parent_op()
    while parent is not None:
        if _is_parallel_loop(parent):
            return True
        parent = parent.parent_op()
    return False


@dataclass(frozen=True)
class ParallelizeAnnotatedLoop(RewritePattern):
    """An outermost `scf.for` annotated `parallel`, without loop-carried values -> `scf.parallel`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: scf.ForOp, rewriter: PatternRewriter) -> None:
        if loop_annotation(op) != LoopAnnotation.PARALLEL or op.iter_args or _inside_parallel_loop(op):
            return
        body = rewriter.move_region_contents_to_new_regions(op.body)
        rewriter.replace(body.block.last_op, scf.ReduceOp())  # pyright: ignore[reportArgumentType]
        rewriter.replace(op, scf.ParallelOp([op.lb], [op.ub], [op.step], body))


@dataclass(frozen=True)
class ParallelizeAnnotatedLoopsPass(ModulePass):
    """Turn the outermost `scf.for` of each nest annotated `parallel` into an `scf.parallel`.

    No options.
    """

    name = "parallelize-annotated-loops"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(ParallelizeAnnotatedLoop()).rewrite_module(op)
