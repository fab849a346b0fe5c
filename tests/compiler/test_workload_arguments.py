"""Workload arguments by name: the te definition's signature is the only list of a workload's parameters."""

import pytest

from schedopt.errors import WorkloadError
from schedopt.workloads.arguments import workload_arguments
from schedopt.workloads.utils import WindowGeometry


def test_key_arguments_are_named_and_the_left_out_ones_defaulted():
    args = workload_arguments("conv2d_nchw", [1, 3, 8, 8, 4, 3, 3, [2, 1], 1])
    assert (args.N, args.CI, args.KH, args.stride, args.padding) == (1, 3, 3, [2, 1], 1)
    assert (args.dilation, args.dtype) == (1, "float32")


def test_an_unknown_workload_or_too_many_arguments_is_named():
    with pytest.raises(WorkloadError, match="no workload 'conv3d'"):
        workload_arguments("conv3d", [1])
    with pytest.raises(WorkloadError, match=r"matmul: arguments \[1, 2, 3, 'float32', 5\] do not fit"):
        workload_arguments("matmul", [1, 2, 3, "float32", 5])


def test_window_geometry_reads_strided_dilated_padded_windows():
    window = WindowGeometry.of("w", (8, 9), (3, 3), stride=(2, 1), padding=(1, 0, 0, 2), dilation=2)
    assert (window.out_h, window.out_w) == (3, 7)
    assert (window.pads_before, window.pads_after) == ((1, 0), (0, 2))
    assert window.input_index(1, 2, 2, 1) == (6, 4)
    with pytest.raises(WorkloadError, match=r"w: the arguments give an empty output \(0 x 7\)"):
        WindowGeometry.of("w", (4, 9), (3, 3), stride=1, padding=(0, 0, 0, 2), dilation=2)
