"""Cache-line-aligned arrays: where they start, what they hold, and when a copy is made."""

from __future__ import annotations

import numpy as np
import pytest

import schedopt as ss
from schedopt.aligned_arrays import ALIGNMENT, aligned_bytes, is_aligned


@pytest.mark.parametrize(
    ("shape", "dtype"), [((512, 512), np.float32), ((3, 7), np.int8), (0, np.float64), (5, bool)]
)
def test_empty_arrays_start_on_a_cache_line(shape, dtype):
    array = ss.aligned_empty(shape, dtype)
    assert is_aligned(array) and array.flags.c_contiguous and array.flags.writeable
    assert array.shape == ((shape,) if isinstance(shape, int) else shape) and array.dtype == dtype


def test_bytes_are_aligned_and_at_least_one():
    assert is_aligned(aligned_bytes(24)) and aligned_bytes(24).nbytes == 24
    assert aligned_bytes(0).nbytes == 1


def test_a_misaligned_array_is_copied_and_an_aligned_one_is_not():
    misaligned = ss.aligned_empty(1025, np.float32)[1:]
    misaligned[...] = np.arange(1024)
    assert misaligned.ctypes.data % ALIGNMENT == 4
    copy = ss.aligned_array(misaligned)
    assert is_aligned(copy) and copy is not misaligned
    np.testing.assert_array_equal(copy, misaligned)
    assert ss.aligned_array(copy) is copy


def test_values_of_another_dtype_and_strided_arrays_are_converted():
    strided = np.arange(20, dtype=np.float64)[::2]
    converted = ss.aligned_array(strided, np.float32)
    assert is_aligned(converted) and converted.flags.c_contiguous and converted.dtype == np.float32
    np.testing.assert_array_equal(converted, strided.astype(np.float32))
    assert ss.aligned_array([[1, 2], [3, 4]]).shape == (2, 2)


def test_random_inputs_start_on_a_cache_line():
    from schedopt.compute_dag import ComputeDAG
    from schedopt.random_inputs import random_inputs
    from schedopt.workload_registry import make_workload_key

    dag = ComputeDAG(make_workload_key("dense_bias_relu", (3, 7, 5)))
    inputs = random_inputs("dense_bias_relu", dag)
    assert [a.shape for a in inputs] == [(3, 7), (5, 7), (5,)]
    assert all(is_aligned(a) for a in inputs)
