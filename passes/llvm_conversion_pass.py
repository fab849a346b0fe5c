"""`LLVMConversionPass`: the pass shape every partial conversion to `llvm` shares.

`convert-arith-to-llvm`, `convert-math-to-llvm`, `convert-vector-to-llvm`,
`convert-cf-to-llvm`, `convert-func-to-llvm` and `finalize-memref-to-llvm`
differ only in their patterns; applying them, once and greedily over the
module, is written here.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import GreedyRewritePatternApplier, PatternRewriteWalker, RewritePattern


@dataclass(frozen=True)
class LLVMConversionPass(ModulePass, ABC):
    """A partial conversion to the llvm dialect: its patterns, applied greedily over the module.

    Values crossing to ops not converted yet go through
    `builtin.unrealized_conversion_cast`; run `reconcile-unrealized-casts`
    once everything is converted (`convert-to-llvm` does).
    """

    @abstractmethod
    def patterns(self) -> Sequence[RewritePattern]:
        """The rewrite patterns of the conversion, under the pass's options."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(GreedyRewritePatternApplier(list(self.patterns()))).rewrite_module(op)
