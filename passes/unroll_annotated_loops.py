"""`unroll-annotated-loops`: fully unroll the loops a schedule marks for unrolling.

The loop-nest emitter marks a loop `sched.annotation = #sched<loop_annotation unroll>` when the
schedule unrolls it explicitly, or when the stage's `auto_unroll_max_step`
pragma covers it (all its iterations, inner loops included, fit within the
threshold, as in TVM). This pass replaces each such `scf.for` by copies of
its body, innermost first, using xDSL's own unrolling of constant loops.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import scf
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.transforms.scf_for_loop_unroll import UnrollLoopPattern

from schedopt.dialects.sched import LoopAnnotation, loop_annotation


@dataclass(frozen=True)
class UnrollAnnotatedLoop(RewritePattern):
    """Unroll an `scf.for` annotated `unroll` whose bounds are constants."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: scf.ForOp, rewriter: PatternRewriter) -> None:
        if loop_annotation(op) != LoopAnnotation.UNROLL:
            return
        UnrollLoopPattern().match_and_rewrite(op, rewriter)


@dataclass(frozen=True)
class UnrollAnnotatedLoopsPass(ModulePass):
    """Fully unroll the `scf.for` loops annotated `unroll`.

    No options.
    """

    name = "unroll-annotated-loops"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(UnrollAnnotatedLoop(), apply_recursively=True).rewrite_module(op)
