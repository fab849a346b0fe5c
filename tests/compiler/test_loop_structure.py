"""The loop-structure cache: states that share a structure get their own split lengths."""

from __future__ import annotations

import pytest

import schedopt as ss
from schedopt.hardware_params import HardwareParams
from schedopt.schedule import loop_structure as loop_structure_module
from schedopt.schedule.bound_inference import BoundInference, infer_bound
from schedopt.schedule.loop_nest import stage_loops
from schedopt.schedule.loop_state import State
from schedopt.schedule.loop_structure import loop_structure
from schedopt.search_policy import SketchPolicy


@pytest.fixture(
    scope="module", params=[("matmul", (128, 96, 64)), ("conv2d_nchw", (1, 8, 14, 14, 16, 3, 3, 1, 1))]
)
def sampled(request) -> tuple[ss.SearchTask, list[State]]:
    name, args = request.param
    task = ss.SearchTask(name, args, hardware_params=HardwareParams(num_cores=2))
    policy = SketchPolicy(task, seed=0, verbose=0, params={"evolutionary_search_population": 64})
    population = policy.sample_initial_population()
    return task, population + policy.evolutionary_search(population, 32)


def test_cached_loops_equal_a_fresh_replay(sampled):
    task, states = sampled
    dag = task.compute_dag
    for state in states:
        cached = loop_structure(dag, state).loops_of(state.transform_steps)
        assert cached == stage_loops(state, dag.get_init_state())


def test_bounds_from_a_warm_cache_equal_those_of_a_cold_one(sampled):
    task, states = sampled
    dag = task.compute_dag
    warm = [infer_bound(dag, state) for state in states]
    for state, expected in zip(states, warm, strict=True):
        loop_structure_module._STRUCTURES.clear()
        assert infer_bound(dag, state).stages == expected.stages


def test_states_of_one_structure_share_it_and_keep_their_lengths(sampled):
    task, states = sampled
    dag = task.compute_dag
    by_structure: dict[int, list[State]] = {}
    for state in states:
        by_structure.setdefault(id(loop_structure(dag, state)), []).append(state)
    shared = max(by_structure.values(), key=len)
    assert len(shared) > 1
    extents = {tuple(BoundInference(dag, s).bounds(s.stages[-1].name).extents.items()) for s in shared}
    assert len(extents) > 1
