"""Random legal schedules over the workload library compute what numpy computes.

Every draw is a seeded random sequence of primitives (split with non-dividing
factors, fuse, reorder, annotations, compute_at at any depth, inlining,
cache_read/cache_write, rfactor, storage_align); the scheduled program is
lowered, compiled and run, and must match the numpy reference. The state
must also survive round trips through its record steps and through its
transform program; what is built and run is the state as a record holds it,
its steps only.
"""

import json
import zlib

import numpy as np
import pytest
from random_schedules import check_against_numpy, random_state

from schedopt.compute_dag import ComputeDAG
from schedopt.random_inputs import random_inputs
from schedopt.schedule.loop_state import State
from schedopt.schedule.schedule_program import parse_program, print_program, program_to_state
from schedopt.schedule.transform_steps import step_from_record
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import reference

WORKLOADS = [
    ("matmul", (12, 10, 9)),
    ("dense_bias_relu", (6, 10, 7)),
    ("conv2d_nchw", (1, 3, 7, 7, 4, 3, 3, 1, 1)),
    ("softmax", (5, 12)),
    ("layer_norm", (4, 10)),
    ("depthwise_conv2d_nchw", (1, 3, 8, 8, 3, 3, 2, 1)),
]
DRAWS_PER_WORKLOAD = 50


@pytest.fixture(scope="module", params=WORKLOADS, ids=[w for w, _ in WORKLOADS])
def case(request):
    name, args = request.param
    dag = ComputeDAG(make_workload_key(name, args))
    inputs = random_inputs(name, dag, np.random.default_rng(0))
    return name, args, dag, inputs, reference(name, args, inputs)


@pytest.mark.parametrize("seed", range(DRAWS_PER_WORKLOAD))
def test_random_schedule_matches_numpy(case, seed: int):
    name, _, dag, inputs, expected = case
    state = random_state(dag, seed=zlib.crc32(f"{name}/{seed}".encode()), n_steps=10)
    records = json.loads(json.dumps([s.to_record() for s in state.transform_steps]))
    # As a record holds it: the steps only, which every API replays on the DAG.
    steps_only = State([], [step_from_record(r) for r in records])
    assert str(dag.replay_steps(steps_only.transform_steps)) == str(state)
    assert dag.concrete_state(steps_only).stages == state.stages
    assert (
        program_to_state(dag, parse_program(print_program(dag, state))).transform_steps
        == state.transform_steps
    )
    check_against_numpy(name, dag, steps_only, inputs, expected)
