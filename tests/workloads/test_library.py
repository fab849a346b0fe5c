"""The library joins each te definition with its numpy reference and baseline, under one name."""

import numpy as np
import pytest

import schedopt.te as te
from schedopt.errors import WorkloadError
from schedopt.workloads import WORKLOADS, matmul, reference
from schedopt.workloads.library import add_to_library


def test_each_entry_holds_the_registered_te_definition():
    assert WORKLOADS["matmul"].define is matmul
    assert WORKLOADS["matmul"].baseline is not None
    assert WORKLOADS["max_pool2d"].baseline is None


def test_an_unknown_workload_is_named():
    with pytest.raises(WorkloadError, match="no workload 'conv3d' in the library"):
        reference("conv3d", (1,), [np.zeros(1)])


def test_a_te_definition_joins_the_library_only_once_registered():
    def scaled(n: int, dtype: str = "float32") -> list[te.Tensor]:
        x = te.placeholder((n,), dtype, name="x")
        return [x, te.compute((n,), lambda i: x[i] * te.const(2, dtype), name="y")]

    with pytest.raises(WorkloadError, match="scaled: register the te definition"):
        add_to_library(scaled, lambda inputs, args: [inputs[0] * 2])
    assert "scaled" not in WORKLOADS
