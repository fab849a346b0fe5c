"""Build sampled programs and compare what they compute with numpy: the check every search test ends with."""

from collections.abc import Iterable, Sequence

import numpy as np

from schedopt.build import build
from schedopt.compute_dag import ComputeDAG
from schedopt.random_inputs import random_inputs
from schedopt.schedule.loop_state import State
from schedopt.workloads import reference


def build_and_compare(
    dag: ComputeDAG,
    state: State,
    inputs: Sequence[np.ndarray],
    expected: Sequence[np.ndarray],
    atol: float = 1e-5,
) -> None:
    """Build `state`, run it on `inputs` and check each output against `expected`."""
    kernel = build(dag, state)
    outputs = [np.zeros(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    for got, want in zip(outputs, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=atol, err_msg=str(state))


def assert_programs_match_numpy(
    name: str, args: tuple, dag: ComputeDAG, states: Iterable[State], atol: float = 1e-5
) -> None:
    """Each of `states` computes what the numpy reference of workload `name(*args)` computes."""
    inputs = random_inputs(name, dag, np.random.default_rng(0))
    expected = reference(name, args, inputs)
    for state in states:
        build_and_compare(dag, state, inputs, expected, atol)
