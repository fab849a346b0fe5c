"""Sketches that must match TVM's: conv2d + batch norm + relu, constant matrices, and the analyses behind them.

TVM's `test_cpu_conv2d_bn_relu_sketch` expects three sketches for ResNet's
conv2d + bias + bn + relu (the convolution tiled and fused into the relu at
two levels, or tiled alone), with every batch-norm stage inlined; Winograd's
transform matrices, computes without reads, are inlined everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest
from programs_vs_numpy import assert_programs_match_numpy, build_and_compare

from schedopt import te
from schedopt.compute_dag import ComputeDAG
from schedopt.hardware_params import HardwareParams
from schedopt.schedule.stage import ComputeAtKind
from schedopt.search_policy import SketchPolicy
from schedopt.search_policy.sketch_rules import should_always_inline
from schedopt.search_task import SearchTask
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import reference
from schedopt.workloads.winograd_transforms import const_matrix, transform_weight

HARDWARE = HardwareParams(num_cores=2, vector_unit_bytes=32)
RESNET_ARGS = (1, 56, 56, 512, 512, 3, 1, 1)
"""TVM's test shape: N, H, W, CI, CO, kernel_size, strides, padding."""
BN_STAGES = ("Bias_add", "Bn_mul", "Bn_add")


def policy_for(name: str, args: tuple, seed: int = 0, **params) -> SketchPolicy:
    return SketchPolicy(
        SearchTask(name, args, hardware_params=HARDWARE), params=params or None, seed=seed, verbose=0
    )


# --- conv2d + bn + relu ---------------------------------------------------------------------------


def test_batch_norm_reads_at_constant_indices_are_simple():
    dag = ComputeDAG(make_workload_key("conv2d_bn_relu", RESNET_ARGS))
    for name in BN_STAGES:
        info = dag.access(name)
        # conv[n, c, h, w] and bias[c, 0, 0]: an iterator or a constant per index (TVM's IsSimpleAccess).
        assert info.is_simple_access and info.is_strictly_inlineable, name
        # One input (the CO x 1 x 1 parameter) leaves h and w unused: no multi-level tiling.
        assert not info.needs_multi_level_tiling, name
    assert dag.access("conv2d_nchw").needs_multi_level_tiling


@pytest.mark.parametrize("name", ["conv2d_bn_relu", "conv2d_bn_residual_relu"])
def test_conv2d_bn_relu_has_tvms_three_sketches(name: str):
    sketches = policy_for(name, RESNET_ARGS).generate_sketches()
    assert len(sketches) == 3
    inlined = (*BN_STAGES, "T_add") if name == "conv2d_bn_residual_relu" else BN_STAGES
    for sketch in sketches:
        assert all(sketch[stage].compute_at == ComputeAtKind.INLINED for stage in inlined)
        assert sketch["pad_temp"].compute_at == ComputeAtKind.ROOT
        assert [it.name for it in sketch["pad_temp"].iters] == ["i0", "i1", "i2", "i3"]  # not tiled
        assert len(sketch["conv2d_nchw"].iters) == 4 * 4 + 3 * 2  # "SSRSRS"
    fused_0, fused_1, alone = sketches
    # Tiled and computed inside the relu's tiles at levels 1 and 2 (the relu follows its split) ...
    assert fused_0["conv2d_nchw"].attach == ("T_relu", "w.0")
    assert fused_1["conv2d_nchw"].attach == ("T_relu", "w.1")
    assert [it.name for it in fused_1["T_relu"].iters][:4] == ["n.0", "c.0", "h.0", "w.0"]
    # ... or tiled at root, the relu left as it is; no cache_write (the relu takes the tiles).
    assert alone["conv2d_nchw"].compute_at == ComputeAtKind.ROOT
    assert [it.name for it in alone["T_relu"].iters] == ["n", "c", "h", "w"]
    assert all(not s.name.endswith(".local") for sketch in sketches for s in sketch.stages)


@pytest.mark.parametrize("name", ["conv2d_bn_relu", "conv2d_bn_residual_relu"])
def test_conv2d_bn_relu_sampled_programs_match_numpy(name: str):
    args = (1, 6, 6, 4, 8, 3, 1, 1)
    policy = policy_for(name, args, seed=3, evolutionary_search_population=8, sample_init_min_population=8)
    assert len(policy.generate_sketches()) == 3
    population = policy.sample_initial_population()
    assert len(population) >= 4
    assert_programs_match_numpy(name, args, ComputeDAG(make_workload_key(name, args)), population[:4])


# --- what counts as a missing input for multi-level tiling -------------------------------------


def test_unit_extent_axes_do_not_count_as_missing():
    """An outer product over a unit axis: only `b[j]` misses a non-unit axis, so nothing to tile."""
    a = te.placeholder((1,), name="a")
    b = te.placeholder((64,), name="b")
    outer = te.compute((1, 64), lambda i, j: a[i] * b[j], name="outer")
    assert not ComputeDAG([a, b, outer]).access("outer").needs_multi_level_tiling
    wide = te.placeholder((8,), name="wide")
    full = te.compute((8, 64), lambda i, j: wide[i] * b[j], name="full")
    assert ComputeDAG([wide, b, full]).access("full").needs_multi_level_tiling


def test_constant_shifts_are_simple_and_complex_indices_are_not():
    a = te.placeholder((10, 10), name="a")
    shifted = te.compute((8, 8), lambda i, j: a[i + 1, j + 2] + a[i, 0], name="shifted")
    strided = te.compute((4, 4), lambda i, j: a[i * 2, j], name="strided")
    dag = ComputeDAG([a, shifted, strided])
    assert dag.access("shifted").is_simple_access and dag.access("shifted").is_strictly_inlineable
    assert not dag.access("strided").is_simple_access


def test_a_tiled_consumer_is_not_followed():
    """Producer and elementwise consumer both need tiling: the consumer, tiled first, cannot follow.

    (TVM's FollowTiling asserts here; the producer is tiled on its own instead.)
    """
    a, b, e, f = (te.placeholder((16,), name=n) for n in "abef")
    product = te.compute((16, 16), lambda i, j: te.exp(a[i]) * b[j], name="product")
    total = te.compute((16, 16), lambda i, j: product[i, j] + e[i] * f[j], name="total")
    dag = ComputeDAG([a, b, e, f, total])
    assert dag.access("product").needs_multi_level_tiling and dag.access("total").needs_multi_level_tiling
    task = SearchTask(compute_dag=dag, hardware_params=HARDWARE)
    sketches = SketchPolicy(task, seed=0, verbose=0).generate_sketches()
    assert len(sketches) == 4
    for sketch in sketches:
        assert len(sketch["product"].iters) == 8  # "SSRSRS" over two spatial axes
        if len(sketch["total"].iters) == 8:  # tiled itself: the product stays at root
            assert sketch["product"].compute_at == ComputeAtKind.ROOT


# --- constant matrices (Winograd) ----------------------------------------------------------------

B_T = ((1.0, 0.0, -1.0, 0.0), (0.0, 1.0, 1.0, 0.0), (0.0, -1.0, 1.0, 0.0), (0.0, 1.0, 0.0, -1.0))
"""Winograd F(2, 3)'s input transform B^T."""


def transform_dag(n: int = 12) -> ComputeDAG:
    data = te.placeholder((n, 4), name="data")
    matrix = const_matrix(B_T, "float32", "B")  # selects over the iterators, as TVM's winograd_util
    r = te.reduce_axis((0, 4), name="r")
    out = te.compute((n, 4), lambda p, a: te.sum(data[p, r] * matrix[r, a], axis=r), name="transformed")
    return ComputeDAG([data, out])


def test_constant_matrix_is_strictly_inlineable():
    info = transform_dag().access("B")
    assert info.reads == () and info.has_branch  # the selects: a branch, but nothing is read
    assert info.is_strictly_inlineable and not info.needs_multi_level_tiling


def test_constant_matrix_is_inlined_in_every_sketch_and_programs_match_numpy():
    dag = transform_dag()
    task = SearchTask(compute_dag=dag, hardware_params=HARDWARE)
    policy = SketchPolicy(
        task, seed=0, verbose=0, params={"evolutionary_search_population": 8, "sample_init_min_population": 8}
    )
    init = dag.get_init_state()
    assert should_always_inline(policy, init, init.stage_id("B"))
    sketches = policy.generate_sketches()
    assert sketches and all(sketch["B"].compute_at == ComputeAtKind.INLINED for sketch in sketches)
    data = np.random.default_rng(0).uniform(-1, 1, (12, 4)).astype("float32")
    expected = [data.astype(np.float64) @ np.asarray(B_T)]
    for state in [init, *policy.sample_initial_population()[:4]]:
        build_and_compare(dag, state, [data], expected)


# --- the registered Winograd convolution ------------------------------------------------------------

WINOGRAD_ARGS = (1, 28, 28, 128, 128, 3, 1, 1)
"""TVM's `test_cpu_conv2d_winograd_sketch` shape: N, H, W, CI, CO, kernel_size, stride, padding."""


def test_winograd_has_tvms_three_sketches():
    sketches = policy_for("conv2d_winograd_nhwc", WINOGRAD_ARGS).generate_sketches()
    assert len(sketches) == 3  # bgemm tiled; with a cache_write at tile level 1 or 2
    for sketch in sketches:
        assert sketch["A"].compute_at == sketch["B"].compute_at == ComputeAtKind.INLINED
        for untiled in ("data_pad", "input_tile", "conv2d_winograd"):
            assert sketch[untiled].compute_at == ComputeAtKind.ROOT and len(sketch[untiled].iters) == 4
        for transform in ("data_pack", "inverse"):  # const indices unrolled, the rest in two levels
            assert len(sketch[transform].iters) == 8
    plain, level_1, level_2 = sketches
    assert len(plain["bgemm"].iters) == 4 * 4 + 2
    for cached in (level_1, level_2):
        assert cached["bgemm.local"].compute_at == ComputeAtKind.ITER
        assert cached["bgemm.local"].attach[0] == "bgemm"
    assert level_1["bgemm.local"].attach != level_2["bgemm.local"].attach


def test_winograd_reference_with_a_transformed_kernel_is_a_convolution():
    rng = np.random.default_rng(1)
    N, H, W, CI, CO, r = 2, 7, 6, 3, 2, 3
    data, kernel = rng.standard_normal((N, H, W, CI)), rng.standard_normal((r, r, CI, CO))
    for tile_size in (2, 4):
        weight = transform_weight(kernel, tile_size)
        args = (N, H, W, CI, CO, r, 1, (1, 0), 1, "float64", tile_size)
        (got,) = reference("conv2d_winograd_nhwc", args, [data, weight])
        (want,) = reference("conv2d_nhwc", (N, CI, H, W, CO, r, r, 1, (1, 0), 1, "float64"), [data, kernel])
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_winograd_sampled_programs_match_numpy():
    args = (1, 6, 6, 2, 3, 3, 1, 1, 1, "float32", 2)  # F(2, 3): 4 x 4 tiles, small unrolled transforms
    name = "conv2d_winograd_nhwc"
    policy = policy_for(name, args, seed=0, evolutionary_search_population=8, sample_init_min_population=8)
    dag = ComputeDAG(make_workload_key(name, args))
    assert_programs_match_numpy(name, args, dag, policy.sample_initial_population()[:2])
