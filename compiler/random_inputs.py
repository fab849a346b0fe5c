"""Seeded random inputs for the placeholders of any compute DAG.

The runner compares a trial's outputs with the unscheduled program's on
these inputs, and the tests and benchmarks feed them to the workloads' numpy
references. It imports no workload library, so a measurement worker can make
inputs without registering the library's workload names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from schedopt.aligned_arrays import aligned_array

if TYPE_CHECKING:
    from schedopt.compute_dag import ComputeDAG


def random_inputs(name: str, dag: ComputeDAG, rng: np.random.Generator | None = None) -> list[NDArray[Any]]:
    """Random inputs for the placeholders of `dag` (workload `name`), in order, of their dtypes.

    Floats are uniform in [-1, 1); integers uniform in [-8, 8); bools fair coins. The arrays start
    on a cache line, as the runner's buffers do (`schedopt.aligned_arrays`).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    return [
        aligned_array(_random_array(dag.op(p).shape, dag.op(p).dtype, rng)) for p in dag.placeholder_names
    ]


def _random_array(shape: Sequence[int], dtype: str, rng: np.random.Generator) -> NDArray[Any]:
    if dtype == "bool":
        return rng.integers(0, 2, size=tuple(shape)).astype(np.bool_)
    if np.issubdtype(np.dtype(dtype), np.integer):
        return rng.integers(-8, 8, size=tuple(shape)).astype(dtype)
    return rng.uniform(-1.0, 1.0, size=tuple(shape)).astype(dtype)
