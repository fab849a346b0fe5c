"""The workload library: every workload builds, runs and matches its numpy reference.

Each case builds the unscheduled program of a registered workload from its
key, runs it on seeded random inputs and compares the outputs with its
numpy reference. Shapes are small (the unscheduled code is naive) and
cover non-square shapes, stride 2, padding 1 and dilation 2.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from schedopt.build import build
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import WorkloadError
from schedopt.random_inputs import random_inputs
from schedopt.workload_registry import (
    WORKLOAD_FUNC_REGISTRY,
    make_workload_key,
    workload_key_to_tensors,
)
from schedopt.workloads import WORKLOADS, reference

CASES: list[tuple[str, tuple[Any, ...]]] = [
    ("matmul", (4, 5, 3)),
    ("matmul", (17, 9, 13)),
    ("matmul", (8, 6, 7, "float64")),
    ("matmul", (5, 7, 6, "int32")),
    ("batch_matmul", (2, 3, 4, 5)),
    ("batch_matmul", (3, 7, 5, 9)),
    ("dense_bias_relu", (2, 3, 4)),
    ("dense_bias_relu", (5, 16, 7)),
    ("dense_bias_relu", (3, 5, 4, "int32")),
    # N, CI, H, W, CO, KH, KW, stride, padding, dilation
    ("conv2d_nchw", (1, 3, 7, 9, 4, 3, 3, 1, 0)),
    ("conv2d_nchw", (2, 2, 8, 7, 3, 3, 3, 2, 1)),
    ("conv2d_nchw", (1, 2, 9, 8, 3, 3, 2, (2, 1), (1, 0, 2, 1), 2)),
    ("conv2d_nhwc", (1, 3, 7, 9, 4, 3, 3, 1, 1)),
    ("conv2d_nhwc", (2, 2, 8, 7, 3, 3, 3, 2, (1, 0), (2, 1))),
    # N, H, W, CI, CO, kernel_size, strides, padding, dilation (TVM's conv2d + bn + relu order)
    ("conv2d_bn_relu", (1, 7, 9, 3, 4, 3, 1, 1)),
    ("conv2d_bn_relu", (2, 8, 7, 2, 3, 3, 2, 0, 2)),
    ("conv2d_bn_residual_relu", (1, 7, 9, 3, 4, 3, 1, 1)),
    ("conv2d_bn_residual_relu", (2, 8, 8, 2, 3, 3, 2, 1)),
    # N, H, W, CI, CO, kernel_size, stride, padding, dilation, dtype, tile_size
    ("conv2d_winograd_nhwc", (1, 8, 8, 3, 4, 3, 1, 1)),
    ("conv2d_winograd_nhwc", (2, 7, 6, 2, 3, 3, 1, (1, 0), 1, "float32", 2)),
    # N, C, H, W, KH, KW, stride, padding, dilation
    ("depthwise_conv2d_nchw", (1, 3, 7, 9, 3, 3, 1, 1)),
    ("depthwise_conv2d_nchw", (2, 4, 8, 7, 3, 2, 2, 1, 2)),
    # N, CI, H, W, CO, KH, KW, stride, padding, dtype, output_padding
    ("conv2d_transpose_nchw", (1, 2, 4, 5, 3, 3, 3, 1, 0)),
    ("conv2d_transpose_nchw", (1, 3, 4, 3, 2, 3, 3, 2, 1)),
    ("conv2d_transpose_nchw", (2, 2, 3, 4, 3, 4, 3, (2, 1), (1, 0), "float32", (1, 0))),
    # N, C, H, W, kernel, stride, padding
    ("max_pool2d", (1, 2, 7, 9, 3, 2, 1)),
    ("max_pool2d", (2, 3, 8, 6, 2, 2, 0)),
    ("max_pool2d", (1, 1, 6, 7, (3, 2), (1, 2), (1, 0))),
    ("max_pool2d", (1, 2, 7, 9, 3, 2, 1, "float64")),
    ("avg_pool2d", (1, 2, 7, 9, 3, 2, 1)),
    ("avg_pool2d", (2, 3, 8, 6, 2, 2, 0)),
    ("avg_pool2d", (1, 1, 6, 7, (3, 2), (1, 2), (1, 0))),
    ("avg_pool2d", (1, 2, 7, 9, 3, 2, 1, "float32", True)),
    ("softmax", (3, 4)),
    ("softmax", (7, 33)),
    ("softmax", (5, 6, "float64")),
    ("layer_norm", (3, 4)),
    ("layer_norm", (6, 31, 1e-3)),
    ("layer_norm", (4, 7, 1e-5, "float64")),
    ("add", (3, 4)),
    ("add", (7, 5, "float64")),
    ("add", (4, 6, "int32")),
    ("elementwise_chain", (3, 4)),
    ("elementwise_chain", (9, 13)),
]

TOLERANCES: dict[str, tuple[float, float]] = {
    "float32": (1e-4, 1e-5),
    "float64": (1e-10, 1e-12),
    "int32": (0.0, 0.0),
}


def _case_id(case: tuple[str, tuple[Any, ...]]) -> str:
    name, args = case
    return f"{name}{list(args)}".replace(" ", "")


CASE_IDS = [_case_id(case) for case in CASES]


@pytest.mark.parametrize(("name", "args"), CASES, ids=CASE_IDS)
def test_workload_matches_numpy(name: str, args: tuple[Any, ...]):
    dag = ComputeDAG(make_workload_key(name, args))
    assert dag.flop_ct > 0
    kernel = build(dag)
    inputs = random_inputs(name, dag, np.random.default_rng(0))
    outputs = [np.empty(dag.op(o).shape, dag.op(o).dtype) for o in dag.output_names]
    kernel(*inputs, *outputs)
    expected = reference(name, args, inputs)
    assert len(expected) == len(outputs)
    for output_name, got, want in zip(dag.output_names, outputs, expected, strict=True):
        assert got.shape == want.shape and got.dtype == want.dtype
        rtol, atol = TOLERANCES[str(got.dtype)]
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{name}{args}: {output_name}")


def test_every_workload_is_registered_and_tested():
    tested = [name for name, _ in CASES]
    for name, workload in WORKLOADS.items():
        assert workload.name == name
        assert WORKLOAD_FUNC_REGISTRY[name] is workload.define
        assert tested.count(name) >= 2, f"{name} needs at least two test shapes"


@pytest.mark.parametrize(("name", "args"), CASES, ids=CASE_IDS)
def test_registry_round_trip(name: str, args: tuple[Any, ...]):
    key = make_workload_key(name, args)
    direct = ComputeDAG(WORKLOADS[name].define(*args))
    assert ComputeDAG(workload_key_to_tensors(key)).hash_key() == direct.hash_key()
    from_key = ComputeDAG(key)
    assert from_key.workload_key() == key
    assert str(from_key) == str(direct)


@pytest.mark.parametrize(("name", "args"), CASES, ids=CASE_IDS)
def test_ir_text_round_trips(name: str, args: tuple[Any, ...]):
    """Padding values (the lowest float), epsilons and attributes survive print and parse."""
    dag = ComputeDAG(make_workload_key(name, args))
    text = str(dag.module)
    parsed = ComputeDAG.from_module(text)
    assert str(parsed.module) == text
    assert parsed.flop_ct == dag.flop_ct


def test_hash_key_does_not_depend_on_how_the_dag_was_built():
    args = (4, 5, 3)
    from_key = ComputeDAG(make_workload_key("matmul", args))
    assert from_key.hash_key() == ComputeDAG(WORKLOADS["matmul"].define(*args)).hash_key()


STAGES: dict[str, tuple[tuple[Any, ...], list[str]]] = {
    "matmul": ((4, 5, 3), ["A", "B", "C"]),
    "batch_matmul": ((2, 3, 4, 5), ["A", "B", "C"]),
    "dense_bias_relu": ((2, 3, 4), ["data", "weight", "bias", "T_dense", "T_add", "T_relu"]),
    "conv2d_nchw": ((1, 2, 5, 5, 3, 3, 3, 1, 1), ["data", "kernel", "pad_temp", "conv2d_nchw"]),
    "conv2d_nhwc": ((1, 2, 5, 5, 3, 3, 3, 1, 1), ["data", "kernel", "PaddedInput", "Conv2dOutput"]),
    "depthwise_conv2d_nchw": ((1, 2, 5, 5, 3, 3, 1, 1), ["data", "kernel", "PaddedInput", "DepthwiseConv2d"]),
    "conv2d_transpose_nchw": (
        (1, 2, 5, 5, 3, 3, 3, 2, 1),
        ["data", "kernel", "data_dilate", "data_pad", "kernel_transform", "conv2d_transpose_nchw"],
    ),
    "max_pool2d": ((1, 2, 5, 5, 3, 2, 1), ["data", "pad_temp", "pool_max"]),
    "avg_pool2d": ((1, 2, 5, 5, 3, 2, 1), ["data", "pad_temp", "pool_sum", "pool_avg"]),
    "softmax": (
        (3, 4),
        ["data", "T_softmax_maxelem", "T_softmax_exp", "T_softmax_expsum", "T_softmax_norm"],
    ),
    "layer_norm": (
        (3, 4),
        ["data", "gamma", "beta", "T_layer_norm_mean", "T_layer_norm_var", "T_layer_norm"],
    ),
    "add": ((3, 4), ["A", "B", "T_add"]),
    "elementwise_chain": ((3, 4), ["A", "B", "C", "T_multiply", "T_add", "T_relu"]),
}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_names_follow_topi(name: str):
    args, stages = STAGES[name]
    dag = ComputeDAG(make_workload_key(name, args))
    assert [op.name for op in dag.ops] == stages
    assert dag.output_names == stages[-1:]


def test_shapes_and_layouts():
    conv = ComputeDAG(make_workload_key("conv2d_nchw", (2, 3, 9, 8, 4, 3, 2, 2, 1, 2)))
    assert conv.op("kernel").shape == (4, 3, 3, 2)
    assert conv.op("conv2d_nchw").shape == (2, 4, 4, 4)
    nhwc = ComputeDAG(make_workload_key("conv2d_nhwc", (2, 3, 9, 8, 4, 3, 2, 2, 1, 2)))
    assert nhwc.op("data").shape == (2, 9, 8, 3)
    assert nhwc.op("kernel").shape == (3, 2, 3, 4)
    assert nhwc.op("Conv2dOutput").shape == (2, 4, 4, 4)
    transpose = ComputeDAG(make_workload_key("conv2d_transpose_nchw", (1, 3, 4, 5, 2, 3, 3, 2, 1)))
    assert transpose.op("kernel").shape == (3, 2, 3, 3)
    assert transpose.op("conv2d_transpose_nchw").shape == (1, 2, 7, 9)
    dense = ComputeDAG(make_workload_key("dense_bias_relu", (2, 3, 4)))
    assert dense.op("weight").shape == (4, 3)


def test_pool_without_padding_has_no_padding_stage():
    dag = ComputeDAG(make_workload_key("max_pool2d", (1, 2, 6, 6, 2, 2, 0)))
    assert [op.name for op in dag.ops] == ["data", "pool_max"]


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("conv2d_nchw", (1, 2, 5, 5, 3, 3, 3, 0, 1), "stride must be positive"),
        ("conv2d_nchw", (1, 2, 2, 2, 3, 3, 3, 1, 0), "empty output"),
        ("conv2d_nhwc", (1, 2, 5, 5, 3, 3, 3, 1, (1, 2, 3)), "padding must be"),
        ("depthwise_conv2d_nchw", (1, 2, 5, 5, 3, 3, 1, 1, (1, 2, 3)), "dilation must be"),
        ("conv2d_transpose_nchw", (1, 2, 5, 5, 3, 3, 3, 2, 3), "exceeds the kernel size"),
        ("conv2d_transpose_nchw", (1, 2, 5, 5, 3, 3, 3, 2, 1, "float32", 2), "output_padding"),
        ("max_pool2d", (1, 2, 5, 5, 2, 2, 2), "less than the kernel"),
        ("avg_pool2d", (1, 2, 5, 5, 3, -1, 0), "stride must be positive"),
        ("avg_pool2d", (1, 2, 5, 5, 3, 1, 0, "int32"), "not a float type"),
    ],
)
def test_invalid_arguments_raise_workload_error(name: str, args: tuple[Any, ...], message: str):
    with pytest.raises(WorkloadError, match=message):
        ComputeDAG(make_workload_key(name, args))


# --- the references themselves -------------------------------------------------------


def _naive_conv2d_nchw(
    data: NDArray[np.float64],
    kernel: NDArray[np.float64],
    stride: tuple[int, int],
    pads: tuple[int, int, int, int],
    dilation: int,
) -> NDArray[np.float64]:
    N, CI, H, W = data.shape
    CO, _, KH, KW = kernel.shape
    top, left, bottom, right = pads
    out_h = (H + top + bottom - (KH - 1) * dilation - 1) // stride[0] + 1
    out_w = (W + left + right - (KW - 1) * dilation - 1) // stride[1] + 1
    out = np.zeros((N, CO, out_h, out_w))
    for n, o, y, x, c, ky, kx in itertools.product(
        range(N), range(CO), range(out_h), range(out_w), range(CI), range(KH), range(KW)
    ):
        iy = y * stride[0] + ky * dilation - top
        ix = x * stride[1] + kx * dilation - left
        if 0 <= iy < H and 0 <= ix < W:
            out[n, o, y, x] += data[n, c, iy, ix] * kernel[o, c, ky, kx]
    return out


def test_conv2d_reference_matches_naive_loops():
    rng = np.random.default_rng(1)
    data, kernel = rng.standard_normal((2, 2, 7, 6)), rng.standard_normal((3, 2, 3, 2))
    (got,) = reference(
        "conv2d_nchw", (2, 2, 7, 6, 3, 3, 2, (2, 1), (1, 0, 2, 1), 2, "float64"), [data, kernel]
    )
    np.testing.assert_allclose(got, _naive_conv2d_nchw(data, kernel, (2, 1), (1, 0, 2, 1), 2), rtol=1e-12)


@pytest.mark.parametrize(
    ("stride", "padding", "output_padding"), [(1, 0, 0), (2, 1, 1), ((2, 3), (1, 2), (0, 2))]
)
def test_conv2d_transpose_reference_is_the_adjoint_of_conv2d(
    stride: int | tuple[int, int], padding: int | tuple[int, int], output_padding: int | tuple[int, int]
):
    """<conv_transpose(x, w), y> == <x, conv(y, w)>, the conv reading w (CI x CO x KH x KW) as OIHW."""
    N, CI, H, W, CO, KH, KW = 2, 3, 4, 5, 2, 3, 4
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((N, CI, H, W)), rng.standard_normal((CI, CO, KH, KW))
    args = (N, CI, H, W, CO, KH, KW, stride, padding, "float64", output_padding)
    (transposed,) = reference("conv2d_transpose_nchw", args, [x, w])
    y = rng.standard_normal(transposed.shape)
    out_h, out_w = transposed.shape[2:]
    (conv,) = reference(
        "conv2d_nchw", (N, CO, out_h, out_w, CI, KH, KW, stride, padding, 1, "float64"), [y, w]
    )
    assert conv.shape == x.shape
    np.testing.assert_allclose(np.vdot(transposed, y), np.vdot(x, conv), rtol=1e-10)
