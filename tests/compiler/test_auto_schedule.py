"""Tuning end to end: SearchTask.tune, apply_best, print_best, resuming, early stopping, the deprecated API."""

import json

import numpy as np
import pytest

import schedopt as ss
from schedopt.errors import RecordError, SchedOptError, WorkloadError
from schedopt.layout_rewrite import LayoutRewriteOption
from schedopt.random_inputs import random_inputs
from schedopt.tuning.auto_schedule import make_search_policy
from schedopt.workloads import reference

ARGS = (32, 32, 32)


def tune(task, log, trials, policy="sketch.random", seed=0, **options):
    callbacks = [ss.RecordToFile(str(log))]
    search = make_search_policy(task, policy, seed, verbose=0, resume_from=log)
    return task.tune(
        ss.TuningOptions(
            num_measure_trials=trials,
            num_measures_per_round=4,
            verbose=0,
            measure_callbacks=callbacks,
            **options,
        ),
        search,
    )


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    log = tmp_path_factory.mktemp("tune") / "matmul.json"
    task = ss.SearchTask("matmul", ARGS, hardware_params=ss.HardwareParams(num_cores=2))
    best = tune(task, log, 8)
    return task, log, best


def test_tuning_writes_a_record_per_trial_and_returns_the_best(tuned):
    _, log, best = tuned
    records = ss.load_records(str(log))
    assert len(records) == 8
    assert len({json.dumps([s.to_record() for s in inp.state.transform_steps]) for inp, _ in records}) == 8
    assert best is not None
    fastest = min(records, key=lambda r: r[1].mean_cost())
    assert fastest[0].state.transform_steps == best.transform_steps


def test_apply_best_builds_a_program_that_matches_numpy(tuned):
    task, log, _ = tuned
    dag, state = task.apply_best(str(log), LayoutRewriteOption.NO_REWRITE)
    kernel = ss.build(dag, state)
    inputs = random_inputs("matmul", dag, np.random.default_rng(0))
    out = np.zeros((32, 32), "float32")
    kernel(*inputs, out)
    np.testing.assert_allclose(out, reference("matmul", ARGS, inputs)[0], rtol=1e-4, atol=1e-4)


def test_print_best(tuned):
    task, log, _ = tuned
    assert task.print_best(str(log)).startswith("transform.named_sequence @__transform_main")
    assert 'define void @"matmul"' in task.print_best(str(log), "llvm")
    with pytest.raises(WorkloadError, match="ptx"):
        task.print_best(str(log), "ptx")
    with pytest.raises(WorkloadError, match="print_mode"):
        task.print_best(str(log), "python")


def test_apply_best_without_records_names_the_file(tmp_path):
    task = ss.SearchTask("matmul", (8, 8, 8))
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(RecordError, match=r"empty\.json"):
        task.apply_best(str(empty))


def test_a_resumed_search_never_measures_a_program_twice(tuned, tmp_path):
    task, log, _ = tuned
    copy = tmp_path / "resumed.json"
    copy.write_text(log.read_text())
    tune(task, copy, 4)
    steps = [
        json.dumps([s.to_record() for s in inp.state.transform_steps])
        for inp, _ in ss.load_records(str(copy))
    ]
    assert len(steps) == 12 and len(set(steps)) == 12


def test_a_short_seeded_tune_beats_the_unscheduled_program(tmp_path):
    task = ss.SearchTask("matmul", (128, 128, 128), hardware_params=ss.HardwareParams(num_cores=1))
    tune(task, tmp_path / "tuned.json", 16, seed=3)
    tune(task, tmp_path / "unscheduled.json", 1, policy="empty")
    (_, unscheduled), *_ = ss.load_records(str(tmp_path / "unscheduled.json"))
    tuned = min(result.mean_cost() for _, result in ss.load_records(str(tmp_path / "tuned.json")))
    assert tuned < unscheduled.mean_cost()


def test_the_empty_policy_measures_the_unscheduled_program_once(tmp_path):
    task = ss.SearchTask("matmul", (16, 16, 16))
    best = tune(task, tmp_path / "empty.json", 4, policy="empty")
    assert best is not None and best.transform_steps == []
    assert len(ss.load_records(str(tmp_path / "empty.json"))) == 1


def test_early_stopping_ends_the_search(tmp_path):
    task = ss.SearchTask("matmul", (16, 16, 16))
    tune(task, tmp_path / "early.json", 40, early_stopping=4)
    assert len(ss.load_records(str(tmp_path / "early.json"))) < 40


def test_tuning_options_are_checked():
    with pytest.raises(SchedOptError, match="num_measures_per_round"):
        ss.TuningOptions(num_measures_per_round=0)
    with pytest.raises(SchedOptError, match="builder"):
        ss.TuningOptions(builder="rpc")


def test_unknown_policy_names_are_refused():
    task = ss.SearchTask("matmul", (8, 8, 8))
    with pytest.raises(SchedOptError, match=r"sketch\.xgb"):
        make_search_policy(task, "annealing")


def test_the_deprecated_entry_points_warn(tmp_path):
    with pytest.warns(DeprecationWarning, match="create_task"):
        task = ss.create_task("matmul", (8, 8, 8))
    with pytest.warns(DeprecationWarning, match="auto_schedule"):
        dag, state = ss.auto_schedule(
            task, make_search_policy(task, "empty", verbose=0), ss.TuningOptions(1, verbose=0)
        )
    assert dag is task.compute_dag and state is not None


def test_the_xgb_policy_learns_from_the_first_round(tmp_path):
    """The second round is the model's pick: TVM's warm-up of 100 measurements would leave it random."""
    task = ss.SearchTask("matmul", ARGS)
    policy = make_search_policy(task, "sketch.xgb", 0, verbose=0)
    model = policy.program_cost_model
    assert isinstance(model, ss.XGBModel) and model.scores_at_random
    task.tune(ss.TuningOptions(num_measure_trials=4, num_measures_per_round=4, verbose=0), policy)
    assert not model.scores_at_random
