"""`unroll-annotated-loops`: fully unroll the loops a schedule marks for unrolling.

The loop-nest emitter marks a loop `sched.annotation = #sched<loop_annotation unroll>` when the
schedule unrolls it explicitly, or when the stage's `auto_unroll_max_step`
pragma covers it (all its iterations, inner loops included, fit within the
threshold, as in TVM). This pass replaces each such `scf.for` by copies of
its body, innermost first, folding as it copies (`schedopt.passes.arith_folding`):
what the induction variable's value decides (index arithmetic, the select
chains of a constant matrix) is computed once instead of copied.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IntegerAttr, ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from schedopt.dialects.sched import LoopAnnotation, loop_annotation
from schedopt.passes.arith_folding import ArithFolder, scalar_value


@dataclass(frozen=True)
class UnrollAnnotatedLoop(RewritePattern):
    """Unroll an `scf.for` annotated `unroll` whose bounds are constants."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: scf.ForOp, rewriter: PatternRewriter) -> None:
        if loop_annotation(op) != LoopAnnotation.UNROLL:
            return
        bounds = [_constant_int(v) for v in (op.lb, op.ub, op.step)]
        if any(b is None for b in bounds):
            return
        lb, ub, step = (b for b in bounds if b is not None)
        folder = ArithFolder(rewriter)
        induction, *block_args = op.body.block.args
        carried: tuple[SSAValue, ...] = tuple(op.iter_args)
        for i in range(lb, ub, step):
            mapper: dict[SSAValue, SSAValue] = dict(zip(block_args, carried, strict=True))
            mapper[induction] = folder.constant(i, induction.type)
            for inner in op.body.block.ops:
                if isinstance(inner, scf.YieldOp):
                    carried = tuple(mapper.get(v, v) for v in inner.arguments)
                    continue
                folded = folder.fold(inner, mapper)
                if folded is not None:
                    mapper[inner.results[0]] = folded
                else:
                    rewriter.insert(inner.clone(mapper))
        rewriter.replace(op, (), carried)
        folder.erase_unused()


def _constant_int(value: SSAValue) -> int | None:
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        number = scalar_value(owner)
        return int(number) if number is not None else None
    return None


@dataclass(frozen=True)
class UnrollAnnotatedLoopsPass(ModulePass):
    """Fully unroll the `scf.for` loops annotated `unroll`.

    No options.
    """

    name = "unroll-annotated-loops"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(UnrollAnnotatedLoop(), apply_recursively=True).rewrite_module(op)
