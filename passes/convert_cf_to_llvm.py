"""`convert-cf-to-llvm`: cf branches to the `llvm` dialect, as upstream MLIR's pass.

cf.br and cf.cond_br become llvm.br and llvm.cond_br. The blocks they branch
to get their arguments in LLVM types (`index` -> i64: the loop counters that
`convert-scf-to-cf` leaves behind), with casts back at the top of each block
for users not converted yet. Entry blocks are left to `convert-func-to-llvm`.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import cf, llvm
from xdsl.dialects.builtin import ModuleOp, UnrealizedConversionCastOp
from xdsl.ir import Block, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint

from schedopt.passes.llvm_type_conversion import cast_all_to_llvm, cast_to_llvm, convert_type


def convert_block_arguments(block: Block, rewriter: PatternRewriter) -> None:
    """Give `block`'s arguments their LLVM types, once; old users see casts back."""
    casts: list[UnrealizedConversionCastOp] = []
    for arg in block.args:
        old_type = arg.type
        new_type = convert_type(old_type)
        if new_type == old_type:
            continue
        new_arg = rewriter.replace_value_with_new_type(arg, new_type)
        cast = UnrealizedConversionCastOp.get([new_arg], [old_type])
        rewriter.replace_uses_with_if(new_arg, cast.results[0], lambda use, c=cast: use.operation is not c)
        casts.append(cast)
    if casts:
        rewriter.insert(casts, InsertPoint.at_start(block))


def successor_operands(
    rewriter: PatternRewriter, block: Block, operands: tuple[SSAValue, ...]
) -> list[SSAValue]:
    """`operands` in LLVM types, after converting the arguments of `block`, their destination."""
    convert_block_arguments(block, rewriter)
    return cast_all_to_llvm(rewriter, operands)


class ConvertBranchOp(RewritePattern):
    """cf.br -> llvm.br."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.BranchOp, rewriter: PatternRewriter, /):
        operands = successor_operands(rewriter, op.successor, tuple(op.arguments))
        rewriter.replace(op, llvm.BrOp(op.successor, *operands))


class ConvertConditionalBranchOp(RewritePattern):
    """cf.cond_br -> llvm.cond_br."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.ConditionalBranchOp, rewriter: PatternRewriter, /):
        cond = cast_to_llvm(rewriter, op.cond)
        then_operands = successor_operands(rewriter, op.then_block, tuple(op.then_arguments))
        else_operands = successor_operands(rewriter, op.else_block, tuple(op.else_arguments))
        new_op = llvm.CondBrOp(cond, op.then_block, then_operands, op.else_block, else_operands)
        rewriter.replace(op, new_op)


CF_TO_LLVM_PATTERNS: tuple[RewritePattern, ...] = (ConvertBranchOp(), ConvertConditionalBranchOp())
"""Every pattern of the pass, for pipelines that combine conversions."""


@dataclass(frozen=True)
class ConvertCfToLLVMPass(ModulePass):
    """Convert cf.br and cf.cond_br to the llvm dialect, block arguments included.

    Values crossing to ops not converted yet go through
    `builtin.unrealized_conversion_cast`; run `reconcile-unrealized-casts`
    once everything is converted (`convert-to-llvm` does).

    Options: none.
    """

    name = "convert-cf-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(GreedyRewritePatternApplier(list(CF_TO_LLVM_PATTERNS))).rewrite_module(op)
