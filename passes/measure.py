"""`measure`: time the schedules of a module and append the measurements to a record database.

Each schedule in the module (a `transform.named_sequence` of `sched` ops, as
`apply-schedule` finds them) is built and run by `LocalBuilder` and
`LocalRunner` like a candidate of the search (as `apply-schedule` emits it,
without layout rewrite): checked against the
unscheduled program, timed, and recorded in `db` under the function's
workload key, where `apply-history-best` finds it. The module is left as it
is, so a pipeline can go on to apply the schedules:

    sched-opt matmul.mlir -p 'measure{db="matmul.json"},lower-to-llvm'

(xDSL's pipeline syntax needs a file name with a dot or a slash in quotes.)

A remark on stderr gives each function's cost, or its error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from schedopt.measurement import LocalBuilder, LocalRunner, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.passes.apply_schedule import ScheduledFunction, find_schedules
from schedopt.passes.pass_support import remark
from schedopt.records import save_records
from schedopt.schedule.schedule_program import program_to_state
from schedopt.search_task import function_task


@dataclass(frozen=True)
class MeasurePass(ModulePass):
    """Measure each scheduled te function of the module and record the results.

    Options:
    - `db`: the record file to append to, JSON lines (`.json`) or SQLite (`.db`).
    - `target`: the target to build for (default `llvm`).
    - `number`, `repeat`, `min_repeat_ms`: as `LocalRunner`'s (defaults 3, 1, 100).
    - `timeout`: seconds allowed to build, and then to run, one schedule (default 10).
    """

    name = "measure"

    db: str
    target: str = "llvm"
    number: int = 3
    repeat: int = 1
    min_repeat_ms: int = 100
    timeout: int = 10

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        inputs = [self._measure_input(scheduled) for scheduled in find_schedules(op)]
        if not inputs:
            remark(self.name, "the module has no schedules to measure")
            return
        builder = LocalBuilder(timeout=self.timeout, n_parallel=min(len(inputs), os.cpu_count() or 1))
        runner = LocalRunner(self.timeout, self.number, self.repeat, self.min_repeat_ms)
        try:
            results = runner.run(inputs, builder.build(inputs, verbose=0), verbose=0)
        finally:
            builder.close()
            runner.close()
        save_records(self.db, inputs, results)
        for measure_input, result in zip(inputs, results, strict=True):
            assert measure_input.task.compute_dag is not None
            remark(self.name, f"@{measure_input.task.compute_dag.func_name}: {_describe(result)}")

    def _measure_input(self, scheduled: ScheduledFunction) -> MeasureInput:
        task = function_task(scheduled.function, self.target)
        assert task.compute_dag is not None
        return MeasureInput(task, program_to_state(task.compute_dag, scheduled.program))


def _describe(result: MeasureResult) -> str:
    if result.error_no == MeasureErrorNo.NO_ERROR:
        repeats = len(result.costs)
        return f"{result.mean_cost() * 1e3:.4f} ms (mean of {repeats} repeat{'s' if repeats > 1 else ''})"
    return f"{result.error_no.name}: {result.error_msg}"
