"""`convert-cf-to-llvm`: cf branches to the `llvm` dialect, as upstream MLIR's pass.

cf.br and cf.cond_br become llvm.br and llvm.cond_br. The blocks they branch
to get their arguments in LLVM types (`index` -> i64: the loop counters that
`convert-scf-to-cf` leaves behind), with casts back at the top of each block
for users not converted yet. Entry blocks are left to `convert-func-to-llvm`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects import cf, llvm
from xdsl.ir import Block, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from schedopt.passes.llvm_conversion_pass import LLVMConversionPass
from schedopt.passes.llvm_type_conversion import (
    cast_all_to_llvm,
    cast_to_llvm,
    convert_type,
    retype_block_arguments,
)


def successor_operands(
    rewriter: PatternRewriter, block: Block, operands: tuple[SSAValue, ...]
) -> list[SSAValue]:
    """`operands` in LLVM types, after converting the arguments of `block`, their destination."""
    retype_block_arguments(block, [convert_type(arg.type) for arg in block.args], rewriter)
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


@dataclass(frozen=True)
class ConvertCfToLLVMPass(LLVMConversionPass):
    """Convert cf.br and cf.cond_br to the llvm dialect, block arguments included.

    Options: none.
    """

    name = "convert-cf-to-llvm"

    def patterns(self) -> Sequence[RewritePattern]:
        return (ConvertBranchOp(), ConvertConditionalBranchOp())
