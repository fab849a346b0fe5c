"""`auto-schedule`: tune every te function of a module and leave its best schedule beside it.

    sched-opt model.mlir -p 'auto-schedule{trials=200 db="model.json"},apply-schedule' -t llvm

For each te function without a schedule the pass makes a `SearchTask` of it,
tunes it for `trials` measurements with the search policy `policy`, appending
every measurement to the record database `db`, and then attaches the best
schedule the database holds as a transform program, as `apply-history-best`
does. Candidates are measured as `apply-schedule` will emit them, without
layout rewrite. Tuning progress goes to stderr, so stdout stays the module.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from schedopt.passes.apply_history_best import attach_best_schedules
from schedopt.passes.apply_schedule import find_schedules
from schedopt.passes.pass_support import remark, te_functions
from schedopt.progress import progress_to
from schedopt.search_task import function_task


@dataclass(frozen=True)
class AutoSchedulePass(ModulePass):
    """Tune each unscheduled te function; attach the best schedule found (see the module docstring).

    Options:
    - `trials`: measurements per function (default 64).
    - `db`: the record file, JSON lines (`.json`) or SQLite (`.db`); earlier
      records in it count (a function measured before is not measured again in
      the same states, and the best ever is attached). Default: a temporary file.
    - `policy`: `sketch.xgb` (default), `sketch.random` or `empty`.
    - `seed`: the search's random seed (default 0).
    - `model`: a saved XGBoost cost model to start from (`sketch.xgb` only).
    - `per_round`: measurements per search round (default 64).
    - `target`: the target (default `llvm`).
    """

    name = "auto-schedule"

    trials: int = 64
    db: str = ""
    policy: str = "sketch.xgb"
    seed: int = 0
    model: str = ""
    per_round: int = 64
    target: str = "llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from schedopt.records import RecordToFile
        from schedopt.tuning.auto_schedule import make_search_policy
        from schedopt.tuning_options import TuningOptions

        scheduled = {s.function.sym_name.data for s in find_schedules(op)}
        with contextlib.ExitStack() as stack:
            db = self.db or os.path.join(stack.enter_context(tempfile.TemporaryDirectory()), "records.json")
            for function in te_functions(op):
                if function.sym_name.data in scheduled:
                    continue
                task = function_task(function, self.target)
                policy = make_search_policy(
                    task, self.policy, self.seed, self.model or None, 1, resume_from=db
                )
                options = TuningOptions(
                    num_measure_trials=self.trials,
                    num_measures_per_round=self.per_round,
                    measure_callbacks=[RecordToFile(db)],
                )
                remark(self.name, f"tuning @{function.sym_name.data} ({self.trials} trials, {self.policy})")
                with progress_to(sys.stderr):
                    task.tune(options, policy)
            attach_best_schedules(op, db, self.target, self.name)
