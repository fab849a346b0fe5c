"""`apply-history-best`: attach to each te function the best schedule the record database holds for it.

For every te function of the module, the pass looks up the function's
computation in the records of `db` for the target's kind, and takes the
successful record of least mean cost (`ApplyHistoryBest`). Records match by
the structural hash of the computation (`ComputeDAG.hash_key()`, which no
name and no printing enters), so those written from Python for a registered
workload (key `["matmul", 64, 64, 64]`) serve the same computation here, under
any function name; or by the function's workload key
(`[hash, shapes...]`). The pass inserts the record's schedule after the
function as a transform program that `apply-schedule` applies:

```mlir
func.func @matmul(...) { te.compute "C" ... }
transform.named_sequence @__schedule_matmul(%root: !transform.any_op {transform.readonly})
    attributes {sched.target = @matmul} {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  ...
}
```

A function with no record stays unscheduled, and the pass says so in a
remark on stderr; a function that already has a schedule keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr, SymbolRefAttr, UnitAttr
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.traits import SymbolTable

from schedopt.compute_dag import ComputeDAG
from schedopt.dialects import sched
from schedopt.dispatcher import ApplyHistoryBest
from schedopt.errors import ScheduleError
from schedopt.passes.apply_schedule import WITH_NAMED_SEQUENCE, find_schedules
from schedopt.passes.pass_support import remark, te_functions
from schedopt.schedule.schedule_program import state_to_program


@dataclass(frozen=True)
class ApplyHistoryBestPass(ModulePass):
    """Attach the best recorded schedule to each te function that has none.

    Options:
    - `db`: the record file, JSON lines (`.json`) or SQLite (`.db`); xDSL's
      pipeline syntax wants a path in quotes: `apply-history-best{db="tune.json"}`.
    - `target`: records of this target's kind count (default `llvm`).
    """

    name = "apply-history-best"

    db: str
    target: str = "llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        attach_best_schedules(op, self.db, self.target, self.name)


def attach_best_schedules(module: ModuleOp, db: str, target: str, pass_name: str) -> None:
    """Attach the best record of `db` for `target` to each te function of `module` without a schedule.

    `pass_name` names the pass in the remarks: `auto-schedule` ends with this too.
    """
    history = ApplyHistoryBest(db)
    scheduled = {s.function.sym_name.data for s in find_schedules(module)}
    attached = False
    for function in te_functions(module):
        name = function.sym_name.data
        if name in scheduled:
            remark(pass_name, f"@{name} already has a schedule; it is kept")
            continue
        attached |= _attach_best(module, function, history, db, target, pass_name)
    if attached:
        module.attributes[WITH_NAMED_SEQUENCE] = UnitAttr()


def _attach_best(
    module: ModuleOp, function: func.FuncOp, history: ApplyHistoryBest, db: str, target: str, pass_name: str
) -> bool:
    name = function.sym_name.data
    dag = ComputeDAG(function)
    best = history.best(target, dag.workload_key(), dag.hash_key())
    if best is None:
        remark(  # the key, [hash, shapes...], shows the structural hash too
            pass_name,
            f"no record for @{name} (workload key {dag.workload_key()}) on target {target} "
            f"in {db}; @{name} stays unscheduled",
        )
        return False
    try:
        state = dag.replay_steps(best[0].state.transform_steps)
    except ScheduleError as error:
        raise ScheduleError(
            f"{pass_name}: the best record for @{name} in {db} does not apply to it: {error}"
        ) from None
    program = state_to_program(dag, state)
    program.properties["sym_name"] = StringAttr(_free_symbol(module, f"__schedule_{name}"))
    program.attributes[sched.TARGET_ATTR] = SymbolRefAttr(name)
    Rewriter.insert_op(program, InsertPoint.after(function))
    return True


def _free_symbol(module: ModuleOp, wanted: str) -> str:
    """`wanted`, or `wanted_1`, `wanted_2`, ... if the module already defines it."""
    name, counter = wanted, 0
    while SymbolTable.lookup_symbol(module, name) is not None:
        counter += 1
        name = f"{wanted}_{counter}"
    return name
