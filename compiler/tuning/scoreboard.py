"""`Scoreboard`: what tuning has measured so far, per task and overall.

The tuning loop records every measured batch here and reads it to report
progress (trials, best GFLOP/s, failures in a row) and to stop early; the
task scheduler keeps one for all its tasks. Neither the policy nor the
measurer holds this state: the policy proposes, the measurer measures, the
loop keeps the score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from schedopt.measurement import MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.schedule.loop_state import State
from schedopt.search_task import SearchTask


@dataclass
class TaskBest:
    """The best measurement of one task so far: its throughput, program and the trial that found it."""

    flops: float = 0.0
    state: State | None = None
    trial: int = 0
    has_valid: bool = False
    """Whether any measurement of the task succeeded."""


@dataclass
class Scoreboard:
    """Trials and failures in a row over all tasks, and each task's best (by workload key)."""

    trials: int = 0
    errors_in_a_row: int = 0
    best: dict[str, TaskBest] = field(default_factory=dict[str, TaskBest])

    def record(
        self, task: SearchTask, inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]
    ) -> None:
        """Count a measured batch of `task`."""
        best = self.best.setdefault(task.workload_key, TaskBest())
        for measure_input, result in zip(inputs, results, strict=True):
            self.trials += 1
            if result.error_no != MeasureErrorNo.NO_ERROR:
                self.errors_in_a_row += 1
                continue
            self.errors_in_a_row = 0
            best.has_valid = True
            flops = task.dag_or_error().flop_ct / result.mean_cost()
            if flops > best.flops:
                best.flops, best.state, best.trial = flops, measure_input.state, self.trials

    def of(self, task: SearchTask) -> TaskBest:
        """The best of `task` so far (nothing measured: an empty record)."""
        return self.best.get(task.workload_key, TaskBest())

    def trials_without_improvement(self, task: SearchTask) -> int | None:
        """Trials since `task`'s best was found; None while no measurement of it succeeded."""
        best = self.of(task)
        return self.trials - best.trial if best.has_valid else None
