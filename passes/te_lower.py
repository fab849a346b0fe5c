"""`te-lower`: the unscheduled lowering of te functions to loop nests.

Each workload function becomes a function over memrefs (the placeholders,
then one out-parameter per output) holding one `scf.for` per iterator of each
stage, in declaration order: the empty schedule, lowered by the same emitter
as every scheduled program.
"""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from schedopt.compute_dag import ComputeDAG
from schedopt.dialects import te
from schedopt.errors import LoweringError
from schedopt.schedule.loop_nest_emitter import lower_state


@dataclass(frozen=True)
class LowerTeFunction(RewritePattern):
    """Rewrite a function of te.compute ops into loop nests over memrefs."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.FuncOp, rewriter: PatternRewriter) -> None:
        if not any(isinstance(o, te.ComputeOp) for o in op.body.walk()):
            return
        rewriter.replace(op, lower_te_function(op))


def lower_te_function(function: func.FuncOp) -> func.FuncOp:
    """The memref function computing what the te function `function` computes."""
    name = function.sym_name.data
    ret = function.body.block.last_op
    if not isinstance(ret, func.ReturnOp):
        raise LoweringError(f"@{name}: a te function must end with func.return")
    for value in ret.arguments:
        if not isinstance(value.owner, te.ComputeOp):
            raise LoweringError(f"@{name}: output {te.tensor_name(value)} is not computed by a te.compute")
    if len(set(ret.arguments)) != len(ret.arguments):
        raise LoweringError(f"@{name}: the same tensor is returned twice")
    dag = ComputeDAG(function)
    return lower_state(dag, dag.get_init_state())


@dataclass(frozen=True)
class TeLowerPass(ModulePass):
    """Lower every te function of the module to loop nests over memrefs (no schedule).

    No options.
    """

    name = "te-lower"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerTeFunction(), apply_recursively=False).rewrite_module(op)
