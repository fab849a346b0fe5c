"""`apply-schedule`: lower te functions under their schedules, transform programs of `sched` ops.

A schedule is a `transform.named_sequence` that either

- is named `@__transform_main`: it schedules the module's only te function, or
- carries `sched.target = @NAME`: it schedules the te function `@NAME`.

It sits in the module beside the functions, or in a nested
`builtin.module attributes {transform.with_named_sequence}`; its argument
(`%root`) stands for the function it schedules.

```mlir
func.func @matmul(...) { te.compute "C" ... }
transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  ...
}
```

The pass turns each schedule into a State (`program_to_state`, where every
step is checked) and replaces its function by the loop nests of that State,
as `te-lower` emits them for the empty schedule; then it removes the
schedules (and a nested module they leave empty). te functions without a
schedule stay as they are. With `gpu`, the loop nests are emitted for
`convert-bound-loops-to-gpu` (shared-memory stages sized for their thread
block, barriers around their filling), as `lower-to-nvptx` needs them. xDSL's `transform-interpreter` cannot run `sched`
ops; this pass is their interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func, transform
from xdsl.dialects.builtin import ModuleOp, SymbolRefAttr
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter

from schedopt.compute_dag import ComputeDAG
from schedopt.dialects import sched, te
from schedopt.errors import ScheduleError
from schedopt.schedule.loop_nest_emitter import lower_state
from schedopt.schedule.schedule_program import program_to_state

WITH_NAMED_SEQUENCE = "transform.with_named_sequence"


@dataclass(frozen=True)
class ScheduledFunction:
    """A te function of the module and the schedule that applies to it."""

    function: func.FuncOp
    program: transform.NamedSequenceOp


def find_schedules(module: ModuleOp) -> list[ScheduledFunction]:
    """Each schedule of `module` with the te function it schedules (see the module docstring)."""
    te_functions = {
        op.sym_name.data: op
        for op in module.ops
        if isinstance(op, func.FuncOp) and any(isinstance(o, te.ComputeOp) for o in op.body.walk())
    }
    found: list[ScheduledFunction] = []
    for program in module.walk():
        if not isinstance(program, transform.NamedSequenceOp):
            continue
        target = _target_name(program, te_functions)
        if target is None:
            continue
        if target not in te_functions:
            raise ScheduleError(f"schedule @{program.sym_name.data}: no te function @{target} in the module")
        if any(s.function.sym_name.data == target for s in found):
            raise ScheduleError(f"schedule @{program.sym_name.data}: te function @{target} has two schedules")
        found.append(ScheduledFunction(te_functions[target], program))
    return found


def _target_name(program: transform.NamedSequenceOp, te_functions: dict[str, func.FuncOp]) -> str | None:
    """The name of the function `program` schedules; None if it is no schedule."""
    target = program.attributes.get(sched.TARGET_ATTR)
    if target is not None:
        if not isinstance(target, SymbolRefAttr) or target.nested_references.data:
            raise ScheduleError(
                f"schedule @{program.sym_name.data}: {sched.TARGET_ATTR} must name a function, like @matmul"
            )
        return target.root_reference.data
    if program.sym_name.data != sched.TRANSFORM_MAIN:
        return None
    if len(te_functions) != 1:
        names = ", ".join(f"@{name}" for name in te_functions) or "none"
        raise ScheduleError(
            f"schedule @{sched.TRANSFORM_MAIN} applies to the module's only te function, but it has {names}; "
            f"name the function with {sched.TARGET_ATTR} = @NAME"
        )
    return next(iter(te_functions))


def apply_schedule(scheduled: ScheduledFunction, gpu: bool = False) -> None:
    """Replace the te function by its loop nests under the schedule (for a GPU with `gpu`), and remove the schedule."""
    dag = ComputeDAG(scheduled.function)
    state = program_to_state(dag, scheduled.program)
    Rewriter.replace_op(scheduled.function, lower_state(dag, state, gpu=gpu))
    holder = scheduled.program.parent_op()
    Rewriter.erase_op(scheduled.program)
    if isinstance(holder, ModuleOp) and holder.parent_op() is not None and holder.body.block.first_op is None:
        Rewriter.erase_op(holder)


@dataclass(frozen=True)
class ApplySchedulePass(ModulePass):
    """Lower each te function that has a schedule (a `transform.named_sequence` of sched ops) under it.

    Options:

    - gpu: bool = false: emit the loop nests for a GPU, to be turned into
      kernels by `convert-bound-loops-to-gpu`.
    """

    name = "apply-schedule"

    gpu: bool = False

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for scheduled in find_schedules(op):
            apply_schedule(scheduled, self.gpu)
        if not any(isinstance(o, transform.NamedSequenceOp) for o in op.walk()):
            op.attributes.pop(WITH_NAMED_SEQUENCE, None)
