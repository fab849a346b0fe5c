"""Random legal schedules with every innermost spatial loop vectorized compute what numpy computes.

The random-schedule sampler annotates loops anywhere, so few of its draws
reach the vector code of `vectorize-annotated-loops`. Here each draw then
vectorizes the innermost loop of every stage where that loop is spatial, as
Ansor's sketches do, so that the vector forms (contiguous loads, gathers,
broadcasts, uniform guards) and the fallbacks meet bound inference's whole
range of loop structures.
"""

import zlib

import numpy as np
import pytest
from random_schedules import check_against_numpy, random_state
from test_random_schedules import WORKLOADS

from schedopt.compute_dag import ComputeDAG
from schedopt.dialects.sched import LoopAnnotation
from schedopt.random_inputs import random_inputs
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind, IteratorKind, StageKind
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import reference

DRAWS_PER_WORKLOAD = 20


def vectorize_innermost_loops(state: State) -> None:
    for stage in list(state.stages):
        if stage.kind != StageKind.COMPUTE or stage.compute_at == ComputeAtKind.INLINED or not stage.iters:
            continue
        innermost = stage.iters[-1]
        if innermost.kind == IteratorKind.SPATIAL and innermost.annotation == LoopAnnotation.NONE:
            state.vectorize(stage.name, innermost)


@pytest.fixture(scope="module", params=WORKLOADS, ids=[w for w, _ in WORKLOADS])
def case(request):
    name, args = request.param
    dag = ComputeDAG(make_workload_key(name, args))
    inputs = random_inputs(name, dag, np.random.default_rng(0))
    return name, dag, inputs, reference(name, args, inputs)


@pytest.mark.parametrize("seed", range(DRAWS_PER_WORKLOAD))
def test_vectorized_random_schedule_matches_numpy(case, seed: int):
    name, dag, inputs, expected = case
    state = random_state(dag, seed=zlib.crc32(f"vectorized/{name}/{seed}".encode()), n_steps=10)
    vectorize_innermost_loops(state)
    check_against_numpy(name, dag, state, inputs, expected)
