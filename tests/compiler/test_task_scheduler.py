"""The task scheduler: round-robin and gradient allocation, early stopping, resume, callbacks.

Most tests measure with a fake builder and runner (a candidate's cost is its
split factor's, no compiling), so they check where the trials go, not how
fast programs are; one test tunes two tiny matmuls for real, end to end.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pytest
from fake_measurement import FakeBuilder, FakeRunner, first_split_factor

import schedopt as ss
from schedopt.measurement import MeasureInput
from schedopt.schedule.loop_state import State
from schedopt.search_policy import SearchPolicy
from schedopt.tuning.task_scheduler import similarity_tag


def flop_cost(measure_input: MeasureInput) -> float:
    """The task's flop count / 1e9 over the state's first split factor, in seconds."""
    return measure_input.task.compute_dag.flop_ct / 1e9 / first_split_factor(measure_input)


class SplitPolicy(SearchPolicy):
    """Proposes the matmul split by each factor of `factors` in order, skipping what was measured."""

    def __init__(self, task: ss.SearchTask, factors: Sequence[int]):
        super().__init__(task, verbose=0)
        self.factors = list(factors)

    def pick_candidates(self, num_measure: int) -> list[State]:
        states = []
        for factor in self.factors:
            state = self.search_task.compute_dag.get_init_state()
            state.split("C", "i", [factor])
            if str(state) not in self.measured_keys and len(states) < num_measure:
                states.append(state)
        return states


def fake_options(trials: int, per_round: int = 2, **kwargs: object) -> ss.TuningOptions:
    return ss.TuningOptions(
        num_measure_trials=trials,
        num_measures_per_round=per_round,
        builder=FakeBuilder(),
        runner=FakeRunner(flop_cost),
        verbose=0,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def tasks() -> list[ss.SearchTask]:
    return [ss.SearchTask("matmul", (64, 64, 64)), ss.SearchTask("matmul", (64, 32, 64))]


def policies(
    tasks: Sequence[ss.SearchTask], factors: Sequence[int] = (1, 2, 4, 8, 16, 32)
) -> list[SearchPolicy]:
    return [SplitPolicy(task, factors) for task in tasks]


def test_round_robin_gives_every_task_the_same_trials(tasks: list[ss.SearchTask]):
    scheduler = ss.TaskScheduler(tasks, strategy="round-robin", callbacks=[])
    scheduler.tune(fake_options(8), search_policy=policies(tasks))
    assert scheduler.task_trials == [4, 4]
    assert scheduler.task_cts == [2, 2]
    assert scheduler.ct == 8


def test_gradient_gives_the_trials_to_the_task_the_objective_depends_on(tasks: list[ss.SearchTask]):
    # TVM's check: an objective that only task 0's latency moves
    scheduler = ss.TaskScheduler(tasks, objective_func=lambda costs: 1e5 * costs[0], callbacks=[], seed=0)
    factors = list(range(1, 41))
    scheduler.tune(fake_options(40), search_policy=policies(tasks, factors))
    assert scheduler.task_trials[1] <= 4  # its warm-up round, and at most one eps-greedy round
    assert scheduler.task_trials[0] >= 36


def test_gradient_favours_the_heavier_task(tasks: list[ss.SearchTask]):
    scheduler = ss.TaskScheduler(tasks, task_weights=[10, 1], callbacks=[], seed=0)
    scheduler.tune(fake_options(40), search_policy=policies(tasks, list(range(1, 41))))
    assert scheduler.task_trials[0] > 2 * scheduler.task_trials[1]


def test_a_task_with_nothing_new_to_propose_is_done(tasks: list[ss.SearchTask]):
    scheduler = ss.TaskScheduler(tasks, strategy="round-robin", callbacks=[])
    scheduler.tune(fake_options(20), search_policy=[SplitPolicy(tasks[0], [1, 2]), *policies(tasks[1:])])
    assert 0 in scheduler.dead_tasks
    assert scheduler.task_trials[0] == 2
    assert scheduler.ct == 2 + 6  # task 1 runs until its factors are spent too


def test_per_task_early_stopping(tasks: list[ss.SearchTask]):
    scheduler = ss.TaskScheduler(tasks, strategy="round-robin", callbacks=[])
    # task 0's best comes first: with early stopping at 2 trials it is done after its second round
    stuck = SplitPolicy(tasks[0], [32, 1, 2, 4, 8, 16])
    scheduler.tune(fake_options(12), search_policy=[stuck, *policies(tasks[1:])], per_task_early_stopping=2)
    assert 0 in scheduler.dead_tasks
    assert scheduler.task_trials[0] == 4


def test_the_best_costs_and_the_estimated_latency(tasks: list[ss.SearchTask]):
    scheduler = ss.TaskScheduler(tasks, task_weights=[2, 3], strategy="round-robin", callbacks=[])
    scheduler.tune(fake_options(12, per_round=6), search_policy=policies(tasks))
    expected = [task.compute_dag.flop_ct / 1e9 / 32 for task in tasks]
    assert scheduler.best_costs == pytest.approx(expected)
    assert scheduler.estimated_latency_s() == pytest.approx(2 * expected[0] + 3 * expected[1])


def test_the_budget_must_give_each_task_a_trial(tasks: list[ss.SearchTask]):
    with pytest.raises(ss.SchedOptError, match="below one trial per task"):
        ss.TaskScheduler(tasks, callbacks=[]).tune(fake_options(1), search_policy=policies(tasks))


def test_bad_arguments_are_named(tasks: list[ss.SearchTask]):
    with pytest.raises(ss.SchedOptError, match="unknown task scheduler strategy 'fastest'"):
        ss.TaskScheduler(tasks, strategy="fastest")
    with pytest.raises(ss.SchedOptError, match="1 task weights for 2 tasks"):
        ss.TaskScheduler(tasks, task_weights=[1])
    with pytest.raises(ss.SchedOptError, match=r"unknown search policy 'sketch\.gbm'"):
        ss.TaskScheduler(tasks, callbacks=[]).tune(fake_options(4), search_policy="sketch.gbm")


def test_similar_tasks_share_a_tag_whatever_their_shapes():
    small, large = ss.SearchTask("matmul", (8, 8, 8)), ss.SearchTask("matmul", (64, 32, 16))
    conv = ss.SearchTask("conv2d_nhwc", (1, 8, 8, 8, 8, 3, 3, 1, 1))
    assert similarity_tag(small) == similarity_tag(large) != similarity_tag(conv)


def test_the_table_and_the_latency_log(tasks: list[ss.SearchTask], tmp_path: Path):
    out = io.StringIO()
    log = tmp_path / "latency.tsv"
    callbacks = [ss.PrintTableInfo(out), ss.LogEstimatedLatency(log)]
    scheduler = ss.TaskScheduler(tasks, strategy="round-robin", callbacks=callbacks)
    options = fake_options(8)
    options.verbose = 1
    scheduler.tune(options, search_policy=policies(tasks))
    text = out.getvalue()
    assert "|  ID  | Task Description" in text and "Latency (ms)" in text and "Speed (GFLOPS)" in text
    assert text.count("Estimated total latency:") == 4 + 1  # a line per round, then the final table
    lines = log.read_text().splitlines()
    assert len(lines) == 4
    assert lines[-1].startswith("ElapsedTime(s)\t") and lines[-1].endswith("Trials\t8")
    latency = float(lines[-1].split("\t")[3])
    assert latency == pytest.approx(scheduler.estimated_latency_s() * 1e3, rel=1e-3)


def test_the_live_table_redraws_in_place(tasks: list[ss.SearchTask]):
    out = io.StringIO()
    scheduler = ss.TaskScheduler(tasks, strategy="round-robin", callbacks=[ss.PrintTableInfo(out, live=True)])
    options = fake_options(4)
    options.verbose = 1
    scheduler.tune(options, search_policy=policies(tasks))
    assert out.getvalue().count("\x1b[J") == 1  # the second table overwrites the first


def test_resume_restores_trials_and_bests_and_measures_nothing_twice(
    tasks: list[ss.SearchTask], tmp_path: Path
):
    log = tmp_path / "net.json"
    first = ss.TaskScheduler(tasks, strategy="round-robin", callbacks=[])
    first.tune(fake_options(8, measure_callbacks=[ss.RecordToFile(str(log))]), search_policy="sketch.random")
    assert len(ss.load_records(log)) == 8

    resumed = ss.TaskScheduler(tasks, strategy="round-robin", callbacks=[], load_log_file=str(log))
    resumed.tune(
        fake_options(12, measure_callbacks=[ss.RecordToFile(str(log))]), search_policy="sketch.random"
    )
    assert resumed.ct == 12  # the log's 8 count towards the budget
    records = ss.load_records(log)
    assert len(records) == 12
    programs = [(inp.task.workload_key, repr(inp.state.transform_steps)) for inp, _ in records]
    assert len(set(programs)) == len(programs)
    for index, task in enumerate(tasks):
        costs = [res.mean_cost() for inp, res in records if inp.task.workload_key == task.workload_key]
        assert resumed.best_costs[index] == pytest.approx(min(costs))


def test_tuning_two_tasks_end_to_end(tmp_path: Path):
    tasks = [ss.SearchTask("matmul", (16, 16, 16)), ss.SearchTask("matmul", (32, 16, 16))]
    log = tmp_path / "two.json"
    options = ss.TuningOptions(
        num_measure_trials=8,
        num_measures_per_round=2,
        runner=ss.LocalRunner(number=1, min_repeat_ms=0, timeout=10),
        measure_callbacks=[ss.RecordToFile(str(log))],
        verbose=0,
    )
    model = tmp_path / "model.json"
    scheduler = ss.TaskScheduler(tasks, callbacks=[], seed=1)
    scheduler.tune(options)
    assert scheduler.ct == 8 and all(cost < 1 for cost in scheduler.best_costs)
    for task in tasks:
        _, state = task.apply_best(str(log))
        assert state is not None
    xgb = ss.XGBModel()
    xgb.update_from_file(str(log))
    xgb.save(str(model))
    again = ss.TaskScheduler(tasks, callbacks=[], load_model_file=str(model), load_log_file=str(log))
    again.tune(ss.TuningOptions(num_measure_trials=8, verbose=0))
    assert again.ct == 8  # the log already holds the budget: nothing more is measured
    assert len(ss.load_records(log)) == 8


def test_the_shared_model_guides_every_round_after_each_tasks_first(tasks: list[ss.SearchTask]):
    """Two tasks, rounds of 2: the model scores from the 5th measurement on (TVM's warm-up: the 7th)."""
    scheduler = ss.TaskScheduler(tasks, strategy="round-robin", callbacks=[])
    scheduler.tune(fake_options(4))
    model = scheduler.search_policies[0].program_cost_model
    assert isinstance(model, ss.XGBModel)
    assert len(model.inputs) == 4 and not model.scores_at_random
