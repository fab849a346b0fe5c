"""XGBModel: warm-up, the packed stage scores, files, adaptive training and learning to rank."""

from __future__ import annotations

import math

import numpy as np
import pytest

import schedopt as ss
from schedopt.cost_model import RandomModel, XGBModel
from schedopt.cost_model.features import (
    get_per_store_features_from_measure_pairs,
    get_per_store_features_from_states,
)
from schedopt.cost_model.xgb_model import OBJECTIVES, CostModelError
from schedopt.dialects.sched import LoopAnnotation
from schedopt.hardware_params import HardwareParams
from schedopt.measurement import MAX_FLOAT, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.records import RecordWarning
from schedopt.schedule.loop_state import State
from schedopt.search_policy import SketchPolicy


def synthetic_cost(state: State) -> float:
    """A made-up cost that rewards vector length, then a parallel loop of two or more iterations."""
    annotated = {
        annotation: [it.extent for stage in state.stages for it in stage.iters if it.annotation == annotation]
        for annotation in (LoopAnnotation.VECTORIZE, LoopAnnotation.PARALLEL)
    }
    vector = max(annotated[LoopAnnotation.VECTORIZE], default=1)
    parallel = max(annotated[LoopAnnotation.PARALLEL], default=1)
    return 1.0 / (min(vector, 8) * min(parallel, 2) + 0.1 * math.log2(parallel))


def result(cost: float) -> MeasureResult:
    return MeasureResult((cost,), MeasureErrorNo.NO_ERROR, "", 0.0, 0.0)


@pytest.fixture(scope="module")
def task() -> ss.SearchTask:
    return ss.SearchTask("matmul", (512, 512, 512), hardware_params=HardwareParams(num_cores=2))


@pytest.fixture(scope="module")
def states(task) -> list[State]:
    policy = SketchPolicy(task, seed=1, verbose=0, params={"evolutionary_search_population": 300})
    return policy.sample_initial_population()


@pytest.fixture(scope="module", params=OBJECTIVES)
def trained(request, task, states) -> XGBModel:
    model = XGBModel(verbose_eval=0, num_warmup_sample=0, seed=0, objective=request.param)
    train = states[:150]
    model.update([MeasureInput(task, s) for s in train], [result(synthetic_cost(s)) for s in train])
    return model


def pairwise_accuracy(scores: list[float], costs: list[float]) -> float:
    """The share of pairs of different cost that the scores order as the costs (faster = higher)."""
    score, speed = np.asarray(scores), -np.asarray(costs)
    i, j = np.triu_indices(len(score), 1)
    distinct = speed[i] != speed[j]
    return float(np.mean((score[i] > score[j])[distinct] == (speed[i] > speed[j])[distinct]))


def test_trained_model_ranks_unseen_programs(trained, task, states):
    held_out = states[150:]
    accuracy = pairwise_accuracy(trained.predict(task, held_out), [synthetic_cost(s) for s in held_out])
    assert accuracy > 0.75  # chance is 0.5


def test_predictions_are_random_during_warm_up(task, states):
    model = XGBModel(num_warmup_sample=100, seed=0)
    model.update([MeasureInput(task, s) for s in states[:5]], [result(synthetic_cost(s)) for s in states[:5]])
    scores = model.predict(task, states[:20])
    assert all(0 <= s < 1 for s in scores) and len(set(scores)) == 20
    packed = model.predict_stages(task, states[:20])
    assert packed.shape == (40,) and (packed[20:] == 0).all()


def test_warm_up_scores_are_those_of_the_random_model_of_the_same_seed(task, states):
    # So a sketch.xgb search repeats sketch.random's rounds until the model takes over.
    assert XGBModel(seed=7).predict(task, states[:30]) == RandomModel(seed=7).predict(task, states[:30])


def test_predict_stages_packs_state_scores_then_each_states_stage_scores(trained, task, states):
    some = states[150:160]
    packed = trained.predict_stages(task, some)
    assert packed.dtype == np.float32
    np.testing.assert_allclose(packed[: len(some)], trained.predict(task, some), rtol=1e-5)
    offset = len(some)
    for state, score in zip(some, packed[: len(some)], strict=True):
        n_stages = int(packed[offset])
        stored = [s for s in state.stages if s.kind.value == "compute" and s.compute_at.name != "INLINED"]
        assert n_stages == len(stored)
        stage_sum = float(packed[offset + 1 : offset + 1 + n_stages].sum())
        if trained.objective == "pairwise-rank":
            slope, intercept = trained.calibration
            combined = math.exp(slope * stage_sum + intercept)
        else:
            combined = stage_sum
        assert combined == pytest.approx(score, rel=1e-4, abs=1e-5)
        offset += 1 + n_stages
    assert offset == len(packed)


def test_rank_scores_estimate_normalised_throughputs(task, states):
    # The evolutionary search draws parents in proportion to scores, so their scale matters:
    # on the training programs, log scores miss log throughputs by zero on average.
    model = XGBModel(verbose_eval=0, num_warmup_sample=0, seed=0)
    train = states[:150]
    costs = np.array([synthetic_cost(s) for s in train])
    model.update([MeasureInput(task, s) for s in train], [result(c) for c in costs])
    residuals = np.log(model.predict(task, train)) - np.log(costs.min() / costs)
    assert abs(residuals.mean()) < 1e-3
    assert model.calibration[0] > 0


def test_random_model_packs_no_stage_scores(task, states):
    packed = RandomModel(seed=0).predict_stages(task, states[:3])
    assert packed.shape == (6,) and (packed[3:] == 0).all()


def test_save_and_load_round_trip_predictions_exactly(trained, task, states, tmp_path):
    path = tmp_path / "model.json"
    trained.save(path)
    loaded = XGBModel()
    loaded.load(path)
    assert loaded.predict(task, states[150:200]) == trained.predict(task, states[150:200])
    # A model file given to the constructor is loaded too.
    assert XGBModel(model_file=path).predict(task, states[150:160]) == trained.predict(task, states[150:160])


def test_a_loaded_model_keeps_the_objective_it_was_trained_with(trained, tmp_path):
    path = tmp_path / "model.ubj"
    trained.save(path)
    other = next(o for o in OBJECTIVES if o != trained.objective)
    assert XGBModel(objective=other, model_file=path).objective == trained.objective


def test_an_unknown_objective_or_a_foreign_model_file_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="unknown objective 'rank'"):
        XGBModel(objective="rank")
    import xgboost

    foreign = xgboost.train({"verbosity": 0}, xgboost.DMatrix(np.eye(4), label=np.arange(4)), 2)
    foreign.save_model(tmp_path / "foreign.json")
    with pytest.raises(CostModelError, match="not saved by XGBModel"):
        XGBModel().load(tmp_path / "foreign.json")


def test_a_model_file_with_a_malformed_calibration_fails_clearly(trained, tmp_path):
    booster = trained.bst.copy()
    booster.set_attr(schedopt_calibration="[1.0")
    booster.save_model(tmp_path / "broken.json")
    with pytest.raises(CostModelError, match="malformed schedopt_calibration"):
        XGBModel().load(tmp_path / "broken.json")


def test_save_before_training_and_load_of_a_missing_file_fail_clearly(tmp_path):
    with pytest.raises(CostModelError, match="not been trained"):
        XGBModel().save(tmp_path / "model.json")
    with pytest.raises(CostModelError, match="no model file"):
        XGBModel().load(tmp_path / "missing.json")


def test_update_from_file_reads_the_first_n_lines(task, states, tmp_path):
    log = tmp_path / "matmul.json"
    ss.save_records(
        log, [MeasureInput(task, s) for s in states[:40]], [result(synthetic_cost(s)) for s in states[:40]]
    )
    model = XGBModel(verbose_eval=0, num_warmup_sample=10)
    model.update_from_file(log, n_lines=30)
    assert len(model.inputs) == 30 and model.bst is not None
    # The records hold only steps; their features are those of the states measured.
    np.testing.assert_array_equal(model.features[7], get_per_store_features_from_states([states[7]], task)[0])


def test_update_from_file_leaves_out_records_of_unknown_workloads(task, states, tmp_path):
    log = tmp_path / "shared.json"
    ss.save_records(
        log, [MeasureInput(task, s) for s in states[:20]], [result(synthetic_cost(s)) for s in states[:20]]
    )
    # Another network's task, whose workload this process never registered.
    lines = log.read_text().splitlines()
    foreign = lines[0].replace(task.workload_key.replace('"', '\\"'), '[\\"0123abcd\\", [1, 2]]')
    assert foreign != lines[0]
    log.write_text("\n".join([*lines, foreign, foreign]) + "\n")
    model = XGBModel(verbose_eval=0, num_warmup_sample=10)
    with pytest.warns(RecordWarning, match="2 records of 1 workloads not registered"):
        model.update_from_file(log)
    assert len(model.inputs) == 20 and model.bst is not None


def test_adaptive_training_waits_for_a_fifth_more_records(task, states):
    model = XGBModel(verbose_eval=0, adaptive_training=True)
    pairs = [(MeasureInput(task, s), result(synthetic_cost(s))) for s in states[:80]]
    model.update(*zip(*pairs[:50], strict=True))
    first = model.bst
    model.update(*zip(*pairs[50:55], strict=True))  # 5 more: under a fifth of 50
    assert model.bst is first
    model.update(*zip(*pairs[55:80], strict=True))
    assert model.bst is not first and model.last_train_length == 80


def test_throughputs_are_normalised_per_task_and_zero_for_failures(task, states):
    inputs = [MeasureInput(task, s) for s in states[:3]]
    results = [result(2.0), result(1.0), MeasureResult.failure(MeasureErrorNo.RUNTIME_DEVICE, "crash")]
    features, throughputs, task_ids = get_per_store_features_from_measure_pairs(inputs, results)
    np.testing.assert_allclose(throughputs, [0.5, 1.0, 0.0])
    assert task_ids.tolist() == [0, 0, 0] and len(features) == 3
    assert results[2].mean_cost() == MAX_FLOAT


def test_tvms_spelling_of_adaptive_training_is_accepted():
    assert XGBModel(adapative_training=True).adaptive_training
    assert not XGBModel(adapative_training=False, adaptive_training=True).adaptive_training
