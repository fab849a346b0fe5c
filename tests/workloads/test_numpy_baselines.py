"""The fast numpy baselines compute what the float64 references compute."""

import numpy as np
import pytest

from schedopt.compute_dag import ComputeDAG
from schedopt.random_inputs import random_inputs
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import baseline, reference

CASES = [
    ("matmul", (16, 12, 8)),
    ("batch_matmul", (2, 8, 6, 4)),
    ("dense_bias_relu", (4, 8, 6)),
    ("conv2d_nhwc", (1, 3, 7, 7, 4, 3, 3, 1, 1)),
    ("conv2d_nchw", (1, 3, 7, 7, 4, 3, 3, 2, 1)),
    ("softmax", (4, 9)),
    ("layer_norm", (4, 9)),
    ("add", (3, 4)),
    ("elementwise_chain", (3, 4)),
]


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_baseline_matches_reference(name, args):
    dag = ComputeDAG(make_workload_key(name, args))
    inputs = random_inputs(name, dag, np.random.default_rng(0))
    run = baseline(name, args, inputs)
    np.testing.assert_allclose(run(), reference(name, args, inputs)[0], rtol=1e-4, atol=1e-5)


def test_workloads_without_a_baseline_say_so():
    assert (
        baseline("conv2d_nhwc", (1, 3, 7, 7, 4, 3, 3, 1, 1, 2), [np.zeros(1), np.zeros(1)]) is None
    )  # dilated
    assert baseline("pool2d_max", (1, 2, 4, 4, 2, 2, 0), []) is None
