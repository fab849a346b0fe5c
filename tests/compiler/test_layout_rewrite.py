"""Layout rewrite of layout-free placeholders: layouts from the loops, both options, te helpers.

Every rewritten program must compute what numpy computes (split schedules
with non-dividing factors, cache_write + compute_at, fused loops, random
schedules), and the consumer's reads of the rewritten weight must index it
with its loop variables, not with divisions of the original indices.
"""

import zlib

import numpy as np
import pytest
from random_schedules import random_state
from xdsl.dialects import memref, scf
from xdsl.ir import BlockArgument

import schedopt as ss
from schedopt import te
from schedopt.build import build, lower
from schedopt.compute_dag import ComputeDAG
from schedopt.dialects.sched import LoopAnnotation
from schedopt.errors import ScheduleError, TEError
from schedopt.layout_rewrite import (
    NEW_LAYOUT_ATTR,
    LayoutRewriteOption,
    format_layout,
    get_shape_from_rewritten_layout,
    parse_layout,
    remove_index_check,
    rewrite_compute_body,
    rewrite_layout,
    transform_layout,
)
from schedopt.random_inputs import random_inputs
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import matmul, reference
from schedopt.workloads.matmul import matmul_stage

PRE = LayoutRewriteOption.REWRITE_FOR_PRE_TRANSFORMED
INSERT = LayoutRewriteOption.INSERT_TRANSFORM_STAGE


def matmul_dag(n: int = 20, m: int = 24, k: int = 12) -> ComputeDAG:
    return ComputeDAG(make_workload_key("matmul", (n, m, k)))


def tiled_matmul(dag: ComputeDAG) -> State:
    """i by 4, j into 3 levels (8 x 2 inner), k by 5 (12 is not a multiple): loops i.0 j.0 k.0 i.1 j.1 k.1 j.2."""
    state = dag.get_init_state()
    state.split("C", "i", [4])
    state.split("C", "j", [8, 2])
    state.split("C", "k", [5])
    state.reorder("C", ["i.0", "j.0", "k.0", "i.1", "j.1", "k.1", "j.2"])
    return state


def run(rewrite, name: str, args: tuple, inputs: list[np.ndarray]) -> list[np.ndarray]:
    kernel = build(rewrite.dag, rewrite.state)
    outputs = [np.zeros(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*rewrite.transform_inputs(inputs), *outputs)
    return outputs


def check(rewrite, name: str, args: tuple, inputs: list[np.ndarray]) -> None:
    for got, want in zip(run(rewrite, name, args, inputs), reference(name, args, inputs), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=str(rewrite.state))


def rewritten_loads(dag: ComputeDAG, state: State, buffer: str) -> list[memref.LoadOp]:
    function = lower(dag, state).body.block.first_op
    return [
        op
        for op in function.walk()
        if isinstance(op, memref.LoadOp) and op.memref.name_hint == buffer and _in_stage_loops(op)
    ]


def _in_stage_loops(load: memref.LoadOp) -> bool:
    return isinstance(load.parent_op(), scf.ForOp | scf.IfOp)


def assert_indexed_by_loops(loads: list[memref.LoadOp], first: int = 0) -> None:
    """Each load's indices (from dimension `first` on) are `scf.for` induction variables."""
    assert loads
    for load in loads:
        for index in list(load.indices)[first:]:
            assert isinstance(index, BlockArgument), f"index {index} of {load} is not a loop variable"
            assert isinstance(index.block.parent_op(), scf.ForOp)


# --- layout strings -----------------------------------------------------------------------


def test_layout_strings_round_trip():
    assert parse_layout("4j8k16j4k") == [(4, "j"), (8, "k"), (16, "j"), (4, "k")]
    assert format_layout(parse_layout("2ff3rc16ff")) == "2ff3rc16ff"


@pytest.mark.parametrize("bad", ["", "j4", "4", "0j", "4j8"])
def test_invalid_layout_strings_are_rejected(bad: str):
    with pytest.raises(TEError, match="layout"):
        parse_layout(bad)


def test_get_shape_from_rewritten_layout():
    assert ss.get_shape_from_rewritten_layout("4j8k16j4k", ["k", "j"]) == [32, 64]
    assert get_shape_from_rewritten_layout("3ry3rx8rc2ff16ff", ["ry", "rx", "rc", "ff"]) == [3, 3, 8, 32]
    with pytest.raises(TEError, match="does not match the axes"):
        get_shape_from_rewritten_layout("4j8k", ["j"])


def test_transform_layout_places_each_element():
    b = np.arange(12 * 24, dtype="float32").reshape(12, 24)
    new = transform_layout(b, ["k", "j"], "2j3k8j5k2j")
    assert new.shape == (2, 3, 8, 5, 2)
    for j0, k0, j1, k1, j2 in [(0, 0, 0, 0, 0), (1, 2, 3, 1, 1), (0, 1, 7, 4, 0)]:
        k, j = k0 * 5 + k1, j0 * 16 + j1 * 2 + j2
        assert new[j0, k0, j1, k1, j2] == (b[k, j] if k < 12 and j < 24 else 0)


# --- options ----------------------------------------------------------------------------


def test_option_values_and_target_defaults():
    assert [int(o) for o in LayoutRewriteOption] == [0, 1, 2]
    assert LayoutRewriteOption.get_target_default("llvm") == INSERT
    assert LayoutRewriteOption.get_target_default("llvm -mcpu=skylake", in_relay_integration=True) == PRE
    assert LayoutRewriteOption.get_target_default("ptx") == LayoutRewriteOption.NO_REWRITE


# --- the layout a schedule gives --------------------------------------------------------


def test_layout_follows_the_tiled_loops():
    dag = matmul_dag()
    rewrite = rewrite_layout(dag, tiled_matmul(dag), PRE)
    (layout,) = rewrite.layouts
    assert (layout.placeholder, layout.reader, layout.axis_names) == ("B", "C", ("k", "j"))
    assert layout.layout == "2j3k8j5k2j"
    assert rewrite.dag.op("B").shape == (2, 3, 8, 5, 2)
    compute = rewrite.dag.op("C").compute
    assert compute is not None
    assert compute.attributes[NEW_LAYOUT_ATTR].data["B"].data == "2j3k8j5k2j"  # type: ignore[union-attr]
    assert rewrite.state.transform_steps == tiled_matmul(dag).transform_steps


def test_pieces_of_an_axis_keep_their_order_under_a_swapping_reorder():
    dag = matmul_dag()
    state = dag.get_init_state()
    state.split("C", "j", [4])
    state.reorder("C", ["j.1", "i", "k", "j.0"])
    assert rewrite_layout(dag, state, PRE).layouts[0].layout == "6j12k4j"


def test_fused_loops_order_their_pieces_outer_first():
    dag = matmul_dag()
    state = dag.get_init_state()
    state.split("C", "j", [4])
    state.reorder("C", ["i", "j.0", "k", "j.1"])
    state.fuse("C", ["i", "j.0"])
    assert rewrite_layout(dag, state, PRE).layouts[0].layout == "6j12k4j"


def test_method_on_the_dag():
    dag = matmul_dag()
    new_dag = dag.rewrite_layout_from_state(tiled_matmul(dag))
    assert new_dag.op("B").shape == (2, 3, 8, 5, 2)
    assert dag.op("B").shape == (12, 24)


@pytest.mark.parametrize(
    "schedule",
    [
        pytest.param(lambda s: None, id="unscheduled"),
        pytest.param(lambda s: s.reorder("C", ["i", "k", "j"]), id="loops-in-layout-order"),
        pytest.param(lambda s: s.cache_read("B", "shared", ["C"]), id="cache_read"),
        pytest.param(lambda s: (s.split("C", "k", [4]), s.rfactor("C", "k.1", 0)), id="rfactor"),
    ],
)
def test_no_rewrite_where_the_loops_give_nothing_to_rewrite(schedule):
    dag = matmul_dag()
    state = dag.get_init_state()
    schedule(state)
    rewrite = rewrite_layout(dag, state, PRE)
    assert rewrite.layouts == ()
    assert rewrite.dag is dag


def test_no_rewrite_option_and_unmarked_workloads():
    dag = matmul_dag()
    assert rewrite_layout(dag, tiled_matmul(dag), LayoutRewriteOption.NO_REWRITE).dag is dag
    batch = ComputeDAG(make_workload_key("batch_matmul", (2, 8, 8, 8)))
    state = batch.get_init_state()
    state.split("C", "j", [4])
    state.reorder("C", ["b", "j.0", "i", "k", "j.1"])
    assert rewrite_layout(batch, state, PRE).layouts == ()


def test_marking_a_computed_tensor_is_an_error():
    A = te.placeholder((4, 4), name="A")
    T = te.compute((4, 4), lambda i, j: A[i, j] * 2.0, name="T")
    k = te.reduce_axis((0, 4), name="k")
    C = te.compute(
        (4, 4),
        lambda i, j: te.sum(A[i, k] * T[k, j], axis=k),
        name="C",
        attrs={"layout_free_placeholders": [T]},
    )
    dag = ComputeDAG([A, C])
    state = dag.get_init_state()
    state.split("C", "j", [2])
    with pytest.raises(TEError, match="names T, which is not a placeholder"):
        rewrite_layout(dag, state, PRE)


# --- both options compute what numpy computes -------------------------------------------


@pytest.mark.parametrize("option", [PRE, INSERT], ids=["pre-transformed", "transform-stage"])
def test_tiled_matmul_matches_numpy(option):
    dag = matmul_dag()
    inputs = random_inputs("matmul", dag, np.random.default_rng(0))
    check(rewrite_layout(dag, tiled_matmul(dag), option), "matmul", (20, 24, 12), inputs)


def test_transform_stage_is_scheduled_and_keeps_the_arguments():
    dag = matmul_dag()
    rewrite = rewrite_layout(dag, tiled_matmul(dag), INSERT)
    assert rewrite.dag.op("B").shape == (12, 24)
    assert rewrite.dag.op("B.layout").shape == (2, 3, 8, 5, 2)
    assert rewrite.dag.producers("C") == ["A", "B.layout"]
    stage = rewrite.state["B.layout"]
    assert [it.name for it in stage.iters] == ["j.0@k.0@j.1@", "k.1", "j.2"]
    assert stage.iters[0].annotation == LoopAnnotation.PARALLEL
    inputs = [np.ones((20, 12), "float32"), np.ones((12, 24), "float32")]
    assert all(got is given for got, given in zip(rewrite.transform_inputs(inputs), inputs, strict=True))


@pytest.mark.parametrize("option", [PRE, INSERT], ids=["pre-transformed", "transform-stage"])
def test_reads_of_the_rewritten_weight_are_indexed_by_loop_variables(option):
    dag = matmul_dag()
    rewrite = rewrite_layout(dag, tiled_matmul(dag), option)
    buffer = "B" if option == PRE else "B_layout"
    assert_indexed_by_loops(rewritten_loads(rewrite.dag, rewrite.state, buffer))


def multi_level_tiled_with_cache_write(dag: ComputeDAG, stage: str) -> State:
    """Ansor's CPU sketch: the cache_write stage tiled SSRSRS, the output following its outer tiles."""
    state = dag.get_init_state()
    local = state.cache_write(stage, "local").name
    spatial = [it.name for it in state[local].iters if it.name not in ("k",)][:2]
    i, j = spatial
    split_i = len(state.transform_steps)
    state.split(local, i, [2, 1, 2])
    split_j = len(state.transform_steps)
    state.split(local, j, [2, 2, 3])
    state.split(local, "k", [4])
    order = [f"{i}.0", f"{j}.0", f"{i}.1", f"{j}.1", "k.0", f"{i}.2", f"{j}.2", "k.1", f"{i}.3", f"{j}.3"]
    state.reorder(local, order)
    state.follow_split(stage, i, split_i, 2)
    state.follow_split(stage, j, split_j, 2)
    state.reorder(stage, [f"{i}.0", f"{j}.0", f"{i}.1", f"{j}.1", f"{i}.2", f"{j}.2"])
    state.compute_at(local, stage, f"{j}.1")
    return state


@pytest.mark.parametrize("option", [PRE, INSERT], ids=["pre-transformed", "transform-stage"])
def test_cache_write_stage_computed_at_its_tiles(option):
    dag = ComputeDAG(make_workload_key("matmul", (16, 25, 12)))
    state = multi_level_tiled_with_cache_write(dag, "C")
    rewrite = rewrite_layout(dag, state, option)
    (layout,) = rewrite.layouts
    assert layout.reader == "C"
    assert layout.layout == "3j2j3k2j4k3j"
    assert rewrite.state["C.local"].compute_at == ComputeAtKind.ITER
    check(rewrite, "matmul", (16, 25, 12), random_inputs("matmul", dag, np.random.default_rng(1)))
    # The pieces inside the attach point are C.local's loop variables. The two
    # outer j pieces are not: C.local's own j.1 loop runs over 2 tiles where the
    # region holds one (the second is guarded off), so no range proves j / 6 % 2.
    buffer = "B" if option == PRE else "B_layout"
    assert_indexed_by_loops(rewritten_loads(rewrite.dag, rewrite.state, buffer), first=2)


@pytest.mark.parametrize("option", [PRE, INSERT], ids=["pre-transformed", "transform-stage"])
def test_dense_weight(option):
    args = (6, 14, 10)
    dag = ComputeDAG(make_workload_key("dense_bias_relu", args))
    state = dag.get_init_state()
    state.split("T_dense", "j", [4])
    state.split("T_dense", "k", [3])
    state.reorder("T_dense", ["j.0", "i", "k.0", "j.1", "k.1"])
    state.compute_inline("T_add")
    rewrite = rewrite_layout(dag, state, option)
    assert rewrite.layouts[0].layout == "3j5k4j3k"  # weight is 10 x 14
    check(rewrite, "dense_bias_relu", args, random_inputs("dense_bias_relu", dag, np.random.default_rng(2)))


@pytest.mark.parametrize("option", [PRE, INSERT], ids=["pre-transformed", "transform-stage"])
def test_iterators_named_with_digits_get_a_lettered_layout(option):
    """An ONNX import names a dense's iterators i0, i1, i2; no layout string can hold such names, so the
    weight's dimensions are lettered in order (its layout was skipped, leaving the reads strided)."""
    data = te.placeholder((1, 6, 14), name="data")
    weight = te.placeholder((10, 14), name="weight")
    k = te.reduce_axis((0, 14), name="k")
    dense = te.compute(
        (1, 6, 10),
        lambda i0, i1, i2: te.sum(data[i0, i1, k] * weight[i2, k], axis=k),
        name="T_dense",
        attrs={"layout_free_placeholders": [weight]},
    )
    dag = ComputeDAG([data, weight, dense])
    state = dag.get_init_state()
    state.split("T_dense", "i2", [5])
    state.split("T_dense", "k", [7])
    state.reorder("T_dense", ["i0", "i2.0", "i1", "k.0", "i2.1", "k.1"])
    rewrite = rewrite_layout(dag, state, option)
    (layout,) = rewrite.layouts
    assert (layout.axis_names, layout.layout) == (("a", "b"), "2a2b5a7b")
    inputs = [np.random.default_rng(3).standard_normal(t.shape).astype(np.float32) for t in (data, weight)]
    (got,) = run(rewrite, "", (), inputs)
    np.testing.assert_allclose(got, np.einsum("bik,jk->bij", *inputs), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("option", [PRE, INSERT], ids=["pre-transformed", "transform-stage"])
@pytest.mark.parametrize("workload", ["conv2d_nhwc", "conv2d_nchw"])
def test_conv2d_kernel(option, workload: str):
    args = (1, 4, 6, 6, 6, 3, 3, 1, 1)
    dag = ComputeDAG(make_workload_key(workload, args))
    conv = dag.output_names[0]
    state = dag.get_init_state()
    state.split(conv, "ff", [4])
    state.split(conv, "rc", [3])
    names = [it.name for it in state[conv].iters]
    state.reorder(conv, [n for n in names if n != "ff.1"] + ["ff.1"])
    rewrite = rewrite_layout(dag, state, option)
    assert rewrite.layouts[0].placeholder == "kernel"
    check(rewrite, workload, args, random_inputs(workload, dag, np.random.default_rng(3)))


RANDOM_WORKLOADS = [
    ("matmul", (12, 10, 9)),
    ("dense_bias_relu", (6, 10, 7)),
    ("conv2d_nhwc", (1, 3, 6, 6, 4, 3, 3, 1, 1)),
]


@pytest.mark.parametrize("option", [PRE, INSERT], ids=["pre-transformed", "transform-stage"])
@pytest.mark.parametrize("workload", RANDOM_WORKLOADS, ids=[w for w, _ in RANDOM_WORKLOADS])
@pytest.mark.parametrize("seed", range(20))
def test_random_schedules_with_rewritten_layouts_match_numpy(workload, option, seed: int):
    name, args = workload
    dag = ComputeDAG(make_workload_key(name, args))
    state = random_state(dag, seed=zlib.crc32(f"layout/{name}/{seed}".encode()), n_steps=12)
    try:
        lower(dag, state)
    except ScheduleError:
        return  # refused as a whole without any rewrite (see test_random_schedules)
    check(
        rewrite_layout(dag, state, option), name, args, random_inputs(name, dag, np.random.default_rng(seed))
    )


# --- the te helpers ---------------------------------------------------------------------


def pre_transformed_matmul(n: int, m: int, k_extent: int, layout: str) -> list[te.Tensor]:
    """topi's way: the weight arrives rewritten; the compute reads it at its original axes."""
    A = te.placeholder((n, k_extent), name="A")
    B = te.placeholder([e for e, _ in parse_layout(layout)], name="B")
    remove_index_check(B)
    return [A, B, rewrite_compute_body(matmul_stage(A, B, columns=m), layout)]


def test_rewrite_compute_body_reads_the_rewritten_weight():
    layout = "2j3k8j5k2j"
    assert get_shape_from_rewritten_layout(layout, ["k", "j"]) == [15, 32]
    dag = ComputeDAG(pre_transformed_matmul(20, 24, 12, layout))
    assert str(dag).splitlines()[-1] == (
        "C(i, j) += (A[i, k]*B[divui(j, 16), divui(k, 5), remui(divui(j, 2), 8), remui(k, 5), remui(j, 2)])"
    )
    rng = np.random.default_rng(4)
    a, b = rng.random((20, 12), dtype="float32"), rng.random((12, 24), dtype="float32")
    c = np.zeros((20, 24), "float32")
    build(dag, tiled_matmul(dag))(a, transform_layout(b, ["k", "j"], layout), c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5)


def test_rewrite_compute_body_needs_one_layout_free_placeholder_of_the_layout_shape():
    A = te.placeholder((4, 4), name="A")
    k = te.reduce_axis((0, 4), name="k")
    C = te.compute((4, 4), lambda i, j: te.sum(A[i, k] * A[k, j], axis=k), name="C")
    with pytest.raises(TEError, match="exactly one tensor under layout_free_placeholders"):
        rewrite_compute_body(C, "4k4j")
    _, _, layout_free_product = matmul(4, 4, 4)
    with pytest.raises(TEError, match="has shape \\[4, 4\\], layout '2j4k2j' needs \\[2, 4, 2\\]"):
        rewrite_compute_body(layout_free_product, "2j4k2j")


def test_an_unrewritten_read_without_index_check_fails_to_verify():
    B = te.placeholder((2, 4, 2), name="B")
    remove_index_check(B)
    A = te.placeholder((4, 4), name="A")
    k = te.reduce_axis((0, 4), name="k")
    C = te.compute((4, 4), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    with pytest.raises(TEError, match=r"te\.read of B: 2 indices for a tensor of rank 3"):
        ComputeDAG([A, B, C])


def test_indexdiv_and_indexmod():
    A = te.placeholder((12,), name="A")
    B = te.compute((3, 4), lambda i, j: A[te.indexmod(te.indexdiv(i * 4 + j, 1), 12)], name="B")
    assert str(ComputeDAG([A, B])).splitlines()[-1] == "B(i, j) = A[remui(divui(((i*4)+j), 1), 12)]"
    with pytest.raises(TEError, match=r"te\.indexdiv expects integer operands"):
        te.indexdiv(A[0], 2)
