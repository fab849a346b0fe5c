"""The tuning loop: the policy proposes, the measurer measures, the loop records, reports and stops.

One direction only: `tune_round` asks the policy for candidates, has the
measurer build and run them, records each measured batch on the
`Scoreboard` and in the measure callbacks (records are written batch by
batch), and hands the round's results back to the policy once.
`tune_task` repeats rounds for one task, prints a line per round and stops
at the trial budget, early when the best has not improved for
`early_stopping` trials, or when the policy has nothing new to propose. The
task scheduler runs `tune_round` for the task it chooses.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from schedopt.measurement import MeasureCallback, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.measurement.program_measurer import ProgramMeasurer
from schedopt.progress import report
from schedopt.schedule.loop_state import State
from schedopt.search_policy import SearchPolicy
from schedopt.search_task import SearchTask
from schedopt.tuning.scoreboard import Scoreboard
from schedopt.tuning_options import TuningOptions

MAX_CONTINUOUS_ERROR = 150
"""Failures in a row after which every candidate is printed (as TVM's measurer does), to show why."""


def tune_round(
    task: SearchTask,
    policy: SearchPolicy,
    measurer: ProgramMeasurer,
    scoreboard: Scoreboard,
    callbacks: Sequence[MeasureCallback],
    num_measure: int,
) -> tuple[list[MeasureInput], list[MeasureResult]]:
    """Measure up to `num_measure` new programs the policy proposes; the inputs and their results."""
    inputs = [MeasureInput(task, state) for state in policy.pick_candidates(num_measure)]
    if not inputs:
        return [], []

    def record(batch: Sequence[MeasureInput], results: Sequence[MeasureResult]) -> None:
        trials_before = scoreboard.trials
        scoreboard.record(task, batch, results)
        if measurer.verbose >= 2:
            _print_candidates(task, scoreboard, trials_before, batch, results)
        for callback in callbacks:
            callback.callback(policy, batch, results)
        if scoreboard.errors_in_a_row > MAX_CONTINUOUS_ERROR and measurer.verbose < 2:
            report(
                f"\n{scoreboard.errors_in_a_row} measurements in a row failed; printing every candidate from now on"
            )
            measurer.verbose = 2

    results = measurer.measure(inputs, record)
    policy.update(inputs, results)
    return inputs, results


def tune_task(
    task: SearchTask, policy: SearchPolicy, measurer: ProgramMeasurer, options: TuningOptions
) -> State | None:
    """Tune `task` as `options` say; the fastest State measured (None: none ran).

    With no trials, the policy's first proposal (its best-predicted program).
    """
    if options.num_measure_trials <= 0:
        proposed = policy.pick_candidates(1)
        return proposed[0] if proposed else None
    scoreboard = Scoreboard()
    callbacks = list(options.measure_callbacks or ())
    start, round_no = time.perf_counter(), 0
    while scoreboard.trials < options.num_measure_trials:
        round_no += 1
        wanted = min(options.num_measures_per_round, options.num_measure_trials - scoreboard.trials)
        inputs, _ = tune_round(task, policy, measurer, scoreboard, callbacks, wanted)
        if not inputs:
            if options.verbose:
                report("every program the search proposes has been measured; stopping")
            break
        if options.verbose:
            _print_round(round_no, options.num_measure_trials, scoreboard, task, time.perf_counter() - start)
        stalled = scoreboard.trials_without_improvement(task)
        if options.early_stopping is not None and stalled is not None and stalled >= options.early_stopping:
            if options.verbose:
                report(f"no improvement in the last {options.early_stopping} trials; stopping early")
            break
    return scoreboard.of(task).state


def _print_round(
    round_no: int, budget: int, scoreboard: Scoreboard, task: SearchTask, elapsed_s: float
) -> None:
    report(
        f"round {round_no:>3} | trials {scoreboard.trials:>5}/{budget} | "
        f"best {scoreboard.of(task).flops / 1e9:9.2f} GFLOP/s | "
        f"errors in a row {scoreboard.errors_in_a_row:>3} | {elapsed_s:7.1f} s"
    )


def _print_candidates(
    task: SearchTask,
    scoreboard: Scoreboard,
    trials_before: int,
    batch: Sequence[MeasureInput],
    results: Sequence[MeasureResult],
) -> None:
    best = scoreboard.of(task).flops / 1e9
    for number, (measure_input, result) in enumerate(zip(batch, results, strict=True), trials_before + 1):
        if result.error_no == MeasureErrorNo.NO_ERROR:
            outcome = f"{task.dag_or_error().flop_ct / result.mean_cost() / 1e9:.2f} GFLOP/s"
        else:
            outcome = f"{result.error_no.name}: {result.error_msg}"
        report(f"\nNo: {number}  {outcome}  (best {best:.2f} GFLOP/s)\n{measure_input.state}")
