"""The tuning loop: the policy proposes, the measurer measures, the loop records, reports and stops.

A fake builder and runner give each candidate a cost from its split factor,
so these tests exercise the loop's one direction without compiling: the
policy hears of each round once (`update`), the callbacks see every batch as
it is measured, the scoreboard keeps the best, and early stopping reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from fake_measurement import FakeBuilder, FakeRunner, first_split_factor

import schedopt as ss
from schedopt.measurement import (
    MeasureCallback,
    MeasureInput,
    MeasureResult,
)
from schedopt.measurement.program_measurer import ProgramMeasurer
from schedopt.schedule.loop_state import State
from schedopt.search_policy import SearchPolicy
from schedopt.tuning.scoreboard import Scoreboard
from schedopt.tuning.tuning_loop import tune_round, tune_task


def split_cost(measure_input: MeasureInput) -> float | None:
    """1/factor seconds for a state split by `factor`; factor 7 fails."""
    factor = first_split_factor(measure_input)
    return None if factor == 7 else 1.0 / factor


class SplitPolicy(SearchPolicy):
    """Proposes the matmul split by 1, 2, 3, ... in order, each once."""

    def __init__(self, task: ss.SearchTask, factors: Sequence[int]):
        super().__init__(task, verbose=0)
        self.factors = list(factors)
        self.updates: list[int] = []

    def pick_candidates(self, num_measure: int) -> list[State]:
        picked, self.factors = self.factors[:num_measure], self.factors[num_measure:]
        states = []
        for factor in picked:
            state = self.search_task.compute_dag.get_init_state()
            state.split("C", "i", [factor])
            states.append(state)
        return states

    def update(self, inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]) -> None:
        super().update(inputs, results)
        self.updates.append(len(inputs))


class Batches(MeasureCallback):
    def __init__(self) -> None:
        self.sizes: list[int] = []

    def callback(self, policy, inputs, results) -> None:  # type: ignore[no-untyped-def]
        self.sizes.append(len(inputs))


@pytest.fixture
def task() -> ss.SearchTask:
    return ss.SearchTask("matmul", (8, 8, 8))


def measurer() -> ProgramMeasurer:
    return ProgramMeasurer(FakeBuilder(), FakeRunner(split_cost), verbose=0)


def test_a_round_reaches_the_policy_once_and_the_callbacks_batch_by_batch(task: ss.SearchTask):
    policy, batches, scoreboard = SplitPolicy(task, [1, 2, 4, 8, 7]), Batches(), Scoreboard()
    inputs, results = tune_round(task, policy, measurer(), scoreboard, [batches], 5)
    assert len(inputs) == len(results) == 5
    assert policy.updates == [5]
    assert batches.sizes == [4, 1]  # twice the builder's parallelism, then the rest
    assert (scoreboard.trials, scoreboard.errors_in_a_row) == (5, 1)
    best = scoreboard.of(task)
    assert best.trial == 4 and best.flops == pytest.approx(task.compute_dag.flop_ct * 8)
    assert len(policy.measured_keys) == 5


def test_tune_task_stops_at_the_budget_and_returns_the_best(task: ss.SearchTask):
    policy = SplitPolicy(task, [1, 2, 3, 4, 8, 5, 6])
    options = ss.TuningOptions(num_measure_trials=6, num_measures_per_round=2, verbose=0)
    best = tune_task(task, policy, measurer(), options)
    assert policy.updates == [2, 2, 2]
    assert best is not None and best.transform_steps[0].lengths == (8,)  # type: ignore[attr-defined]


def test_tune_task_stops_early_without_improvement(task: ss.SearchTask):
    policy = SplitPolicy(task, [8, 1, 1, 1, 1, 1, 1, 1])
    options = ss.TuningOptions(num_measure_trials=8, early_stopping=3, num_measures_per_round=2, verbose=0)
    tune_task(task, policy, measurer(), options)
    assert policy.updates == [2, 2]  # trial 1 was the best; 3 trials later (after round 2) it stops


def test_tune_task_stops_when_nothing_new_is_proposed(
    task: ss.SearchTask, capsys: pytest.CaptureFixture[str]
):
    policy = SplitPolicy(task, [1, 2])
    options = ss.TuningOptions(num_measure_trials=10, num_measures_per_round=4, verbose=1)
    tune_task(task, policy, measurer(), options)
    assert policy.updates == [2]
    assert "every program the search proposes has been measured; stopping" in capsys.readouterr().out
