"""Mutation rules and the evolutionary search of SketchPolicy; EmptyPolicy."""

import random

import numpy as np
import pytest
from programs_vs_numpy import assert_programs_match_numpy

from schedopt.cost_model import CostModel, RandomModel, XGBModel
from schedopt.dialects.sched import LoopAnnotation
from schedopt.hardware_params import HardwareParams
from schedopt.schedule.transform_steps import PragmaStep, SplitStep
from schedopt.search_policy import EmptyPolicy, SketchPolicy
from schedopt.search_policy.mutation import MutateAutoUnroll, MutateParallel, MutateTileSize
from schedopt.search_task import SearchTask

SMALL = dict(evolutionary_search_population=64, sample_init_min_population=16)


def make_policy(name="matmul", args=(32, 32, 32), seed=0, model=None, **params) -> SketchPolicy:
    task = SearchTask(name, args, hardware_params=HardwareParams(num_cores=2, vector_unit_bytes=32))
    return SketchPolicy(task, program_cost_model=model, params={**SMALL, **params}, seed=seed, verbose=0)


def splits(state):
    return [s for s in state.transform_steps if isinstance(s, SplitStep)]


def test_tile_size_mutation_moves_a_factor_within_one_split():
    policy = make_policy()
    rng = random.Random(0)
    changed = 0
    for state in policy.sample_initial_population()[:10]:
        mutated = MutateTileSize()(policy, state, rng)
        assert mutated is not None
        before, after = splits(state), splits(mutated)
        differing = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert len(differing) <= 1
        for old, new in differing:
            assert np.prod(new.lengths) <= new.extent and new.extent % np.prod(new.lengths) == 0
            assert new.lengths[-1] <= policy.params["max_innermost_split_factor"]
            changed += old.lengths != new.lengths
    assert changed > 0


def test_auto_unroll_mutation_changes_the_pragma():
    policy = make_policy()
    state = next(
        s
        for s in policy.sample_initial_population()
        if any(isinstance(t, PragmaStep) for t in s.transform_steps)
    )
    mutated = MutateAutoUnroll()(policy, state, random.Random(0))
    old = [t.pragma_type for t in state.transform_steps if isinstance(t, PragmaStep)]
    new = [t.pragma_type for t in mutated.transform_steps if isinstance(t, PragmaStep)]
    assert old != new


def test_parallel_mutation_changes_the_fused_loops():
    policy = make_policy("matmul", (64, 64, 64))
    rng = random.Random(3)
    outcomes = set()
    for state in policy.sample_initial_population()[:20]:
        mutated = MutateParallel()(policy, state, rng)
        if mutated is not None:
            parallel = [
                it.name
                for st in mutated.stages
                for it in st.iters
                if it.annotation == LoopAnnotation.PARALLEL
            ]
            outcomes.add(tuple(parallel))
    assert outcomes


class PreferLargeInnerTiles(CostModel):
    """A model that likes long innermost split lengths: evolution should find them."""

    def update(self, inputs, results):
        pass

    def predict(self, task, states):
        return [float(sum(s.lengths[-1] for s in splits(state))) for state in states]


def test_evolution_follows_the_cost_model():
    policy = make_policy(model=PreferLargeInnerTiles())
    population = policy.sample_initial_population()
    best = policy.evolutionary_search(population, 8)
    assert len(best) == 8 and len({str(s) for s in best}) == 8
    model = PreferLargeInnerTiles()
    assert min(model.predict(None, best)) >= max(model.predict(None, population)) * 0.9


class CountingModel(PreferLargeInnerTiles):
    """Counts the programs it is asked to score."""

    def __init__(self):
        self.scored: list[str] = []

    def predict(self, task, states):
        self.scored += [str(s) for s in states]
        return super().predict(task, states)


def test_evolution_scores_each_distinct_program_once():
    model = CountingModel()
    policy = make_policy(model=model, evolutionary_search_mutation_prob=0.5)
    policy.evolutionary_search(policy.sample_initial_population(), 8)
    assert len(model.scored) == len(set(model.scored))


def test_the_vector_width_limit_comes_from_the_hardware():
    def params(vector_unit_bytes, given=None):
        task = SearchTask(
            "matmul", (64, 64, 64), hardware_params=HardwareParams(vector_unit_bytes=vector_unit_bytes)
        )
        return SketchPolicy(task, params=given, verbose=0).params

    assert params(64)["max_vectorize_size"] == 64  # AVX-512: four zmm registers of float32
    assert params(32)["max_vectorize_size"] == 32
    assert params(16)["max_vectorize_size"] == 16
    assert params(64, SketchPolicy.DEFAULT_PARAMS)["max_vectorize_size"] == 16  # Ansor's, exactly
    assert params(64, {"max_vectorize_size": 8})["max_vectorize_size"] == 8


def test_tiles_wider_than_ansors_limit_are_vectorised_on_a_wide_vector_unit():
    task = SearchTask(
        "matmul", (64, 64, 64), hardware_params=HardwareParams(num_cores=2, vector_unit_bytes=64)
    )
    for given, widest in ((None, 64), (SketchPolicy.DEFAULT_PARAMS, 16)):
        policy = SketchPolicy(task, params={**(given or {}), **SMALL}, seed=0, verbose=0)
        widths = {
            it.extent
            for state in policy.sample_initial_population()
            for stage in state.stages
            for it in stage.iters
            if it.annotation == LoopAnnotation.VECTORIZE
        }
        assert max(widths) == widest


def test_evolution_never_returns_measured_programs():
    policy = make_policy()
    population = policy.sample_initial_population()
    for state in population[:5]:
        policy.record_measured(state, 1e-3)
    best = policy.evolutionary_search(population, 32)
    assert not {str(s) for s in best} & policy.measured_keys


def test_same_seed_same_candidates():
    first = make_policy(seed=5).pick_candidates(8)
    second = make_policy(seed=5).pick_candidates(8)
    assert [str(s) for s in first] == [str(s) for s in second]
    assert len(first) == 8


def test_a_warming_up_xgb_model_picks_what_the_random_model_of_its_seed_picks():
    # So sketch.xgb and sketch.random share their first rounds, and a tuning curve compares guidance only.
    guided = make_policy(seed=3, model=XGBModel(seed=3)).pick_candidates(8)
    unguided = make_policy(seed=3, model=RandomModel(seed=3)).pick_candidates(8)
    assert [str(s) for s in guided] == [str(s) for s in unguided]


@pytest.mark.parametrize(
    "name,args", [("matmul", (24, 20, 18)), ("conv2d_nchw", (1, 4, 8, 8, 8, 3, 3, 1, 1))]
)
def test_evolved_programs_match_numpy(name, args):
    policy = make_policy(name, args, seed=2, model=RandomModel(2))
    assert_programs_match_numpy(name, args, policy.dag, policy.pick_candidates(6))


def test_unknown_params_are_refused():
    with pytest.raises(ValueError, match="evolutionary_search_populaton"):
        make_policy(evolutionary_search_populaton=3)


def test_empty_policy_proposes_the_unscheduled_program_once():
    task = SearchTask("matmul", (8, 8, 8))
    policy = EmptyPolicy(task)
    (state,) = policy.pick_candidates(4)
    assert str(state) == str(task.compute_dag.get_init_state())
    policy.record_measured(state, 1e-3)
    assert policy.pick_candidates(4) == []
