"""Random inputs follow each placeholder's shape and dtype, and a seed repeats them."""

import numpy as np

from schedopt.compute_dag import ComputeDAG
from schedopt.random_inputs import random_inputs
from schedopt.workload_registry import make_workload_key


def test_inputs_have_the_placeholders_shapes_dtypes_and_ranges():
    floats = ComputeDAG(make_workload_key("matmul", (4, 5, 3)))
    a, b = random_inputs("matmul", floats, np.random.default_rng(0))
    assert (a.shape, b.shape, a.dtype, b.dtype) == ((4, 3), (3, 5), np.float32, np.float32)
    assert a.min() >= -1.0 and a.max() < 1.0
    ints = ComputeDAG(make_workload_key("add", (6, 7, "int32")))
    x, y = random_inputs("add", ints, np.random.default_rng(0))
    assert x.dtype == y.dtype == np.int32
    assert min(x.min(), y.min()) >= -8 and max(x.max(), y.max()) < 8


def test_a_seed_repeats_the_inputs_and_the_default_is_seed_0():
    dag = ComputeDAG(make_workload_key("softmax", (3, 4)))
    (seeded,) = random_inputs("softmax", dag, np.random.default_rng(7))
    (again,) = random_inputs("softmax", dag, np.random.default_rng(7))
    (default,) = random_inputs("softmax", dag)
    (seed_0,) = random_inputs("softmax", dag, np.random.default_rng(0))
    assert np.array_equal(seeded, again) and np.array_equal(default, seed_0)
    assert not np.array_equal(seeded, seed_0)
