"""`ProgramMeasurer`: measures the search's candidates and keeps the score.

It builds and runs each batch (builder, then runner), hands the results to
the measure callbacks (so records are written batch by batch: an interrupted
run keeps what it measured), tells the policy what was measured, and tracks
per task the best program, its throughput and the trial that found it (for
early stopping). After `max_continuous_error` failures in a row it turns
verbose, as TVM does, so the errors become visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from schedopt.loop_state import State
from schedopt.measure import MeasureErrorNo, MeasureInput, MeasureResult, ProgramBuilder, ProgramRunner


@dataclass
class TaskBest:
    """The best measurement of one task so far."""

    flops: float = 0.0
    state: State | None = None
    trial: int = 0
    has_valid: bool = False


@dataclass
class ProgramMeasurer:
    """Builds and runs candidates; remembers the best per workload key."""

    builder: ProgramBuilder
    runner: ProgramRunner
    callbacks: Sequence[Any] = ()
    verbose: int = 1
    max_continuous_error: int = 150
    trials: int = 0
    errors_in_a_row: int = 0
    best: dict[str, TaskBest] = field(default_factory=dict)

    def measure(self, task: Any, policy: Any, inputs: Sequence[MeasureInput]) -> list[MeasureResult]:
        """Measure `inputs` (all of `task`), in batches of twice the builder's parallelism."""
        batch_size = 2 * getattr(self.builder, "n_parallel", 1)
        results: list[MeasureResult] = []
        for start in range(0, len(inputs), batch_size):
            batch = list(inputs[start : start + batch_size])
            built = self.builder.build(batch, verbose=self.verbose)
            measured = self.runner.run(batch, built, verbose=self.verbose)
            for measure_input, result in zip(batch, measured, strict=True):
                self._score(task, measure_input, result)
                if policy is not None:
                    cost = result.mean_cost() if result.error_no == MeasureErrorNo.NO_ERROR else None
                    policy.record_measured(measure_input.state, cost)
            for callback in self.callbacks:
                callback.callback(policy, batch, measured)
            results += measured
            if self.errors_in_a_row > self.max_continuous_error and self.verbose < 2:
                print(
                    f"\n{self.errors_in_a_row} measurements in a row failed; printing every candidate from now on"
                )
                self.verbose = 2
        if self.verbose == 1 and inputs:
            print()  # ends the line of progress marks the builder and the runner print
        return results

    def _score(self, task: Any, measure_input: MeasureInput, result: MeasureResult) -> None:
        best = self.best.setdefault(task.workload_key, TaskBest())
        self.trials += 1
        if result.error_no == MeasureErrorNo.NO_ERROR:
            flops = task.compute_dag.flop_ct / result.mean_cost()
            self.errors_in_a_row = 0
            best.has_valid = True
        else:
            flops = 0.0
            self.errors_in_a_row += 1
        if flops > best.flops:
            best.flops, best.state, best.trial = flops, measure_input.state, self.trials
        if self.verbose >= 2:
            outcome = f"{flops / 1e9:.2f} GFLOP/s" if flops else f"{result.error_no.name}: {result.error_msg}"
            print(
                f"\nNo: {self.trials}  {outcome}  (best {best.flops / 1e9:.2f} GFLOP/s)\n{measure_input.state}"
            )
