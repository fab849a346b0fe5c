"""GPU sketches: the counts and structures of TVM's CUDA sketch tests.

Each `test_cuda_*` mirrors the test of the same name in TVM's
tests/python/unittest/test_auto_scheduler_sketch_generation.py, with the
same workloads and shapes. Stages are named rather than numbered: our DAGs
list the placeholders first, TVM's in depth-first order.
"""

import pytest

import schedopt.workloads  # noqa: F401  (registers the workloads)
from schedopt import te
from schedopt.compute_dag import ComputeDAG
from schedopt.dialects.sched import LoopAnnotation
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind
from schedopt.search_policy import SketchPolicy
from schedopt.search_policy.gpu_sketch_rules import (
    has_cross_thread_reduction,
    num_common_outer_iterators,
    split_step_ids,
)
from schedopt.search_task import SearchTask

ROOT, INLINED, ITER = ComputeAtKind.ROOT, ComputeAtKind.INLINED, ComputeAtKind.ITER


def cuda_sketches(func=None, args=(), compute_dag: ComputeDAG | None = None) -> list[State]:
    task = SearchTask(func, args, compute_dag=compute_dag, target="cuda")
    return SketchPolicy(task, verbose=0).generate_sketches()


def locations(sketch: State) -> dict[str, ComputeAtKind]:
    return {stage.name: stage.compute_at for stage in sketch.stages}


def cross_thread(sketch: State, name: str) -> bool:
    return has_cross_thread_reduction(sketch, sketch.stage_id(name))


def iter_names(sketch: State, name: str) -> list[str]:
    return [it.name for it in sketch[name].iters]


MATMUL_TILES = [
    *("i.0", "j.0", "i.1", "j.1", "i.2", "j.2"),
    *("k.0", "k.1"),
    *("i.3", "j.3"),
    "k.2",
    *("i.4", "j.4"),
]
"""Matmul tiled "SSSRRSRS": block, vthread and thread tiles, two reduce tiles, an inner spatial tile."""


def double_matmul(n: int) -> ComputeDAG:
    """TVM's `double_matmul_auto_scheduler_test`: E = (A B) C."""
    a, b, c = (te.placeholder((n, n), name=name) for name in "ABC")
    k = te.reduce_axis((0, n), name="k")
    d = te.compute((n, n), lambda i, j: te.sum(a[i, k] * b[k, j], axis=k), name="D")
    k2 = te.reduce_axis((0, n), name="k")
    e = te.compute((n, n), lambda i, j: te.sum(d[i, k2] * c[k2, j], axis=k2), name="E")
    return ComputeDAG([a, b, c, e])


def min_nm(n: int, m: int) -> ComputeDAG:
    """TVM's `min_nm_auto_scheduler_test`: the minimum of each row."""
    a = te.placeholder((n, m), name="A")
    k = te.reduce_axis((0, m), name="k")
    return ComputeDAG([a, te.compute((n,), lambda i: te.min(a[i, k], axis=k), name="B")])


def softmax_abcd(a: int, b: int, c: int, d: int) -> ComputeDAG:
    """TVM's `softmax_abcd_auto_scheduler_test`: topi's softmax over the last of four axes."""
    data = te.placeholder((a, b, c, d), name="A")
    k1 = te.reduce_axis((0, d), name="k")
    maxelem = te.compute(
        (a, b, c), lambda i, j, r: te.max(data[i, j, r, k1], axis=k1), name="T_softmax_maxelem"
    )
    exp = te.compute(
        (a, b, c, d), lambda i, j, r, m: te.exp(data[i, j, r, m] - maxelem[i, j, r]), name="T_softmax_exp"
    )
    k2 = te.reduce_axis((0, d), name="k")
    expsum = te.compute((a, b, c), lambda i, j, r: te.sum(exp[i, j, r, k2], axis=k2), name="T_softmax_expsum")
    norm = te.compute(
        (a, b, c, d), lambda i, j, r, m: exp[i, j, r, m] / expsum[i, j, r], name="T_softmax_norm"
    )
    return ComputeDAG([data, norm])


def test_cuda_matmul_sketch():
    (sketch,) = cuda_sketches("matmul", (512, 512, 512))
    assert [s.name for s in sketch.stages] == ["A", "A.shared", "B", "B.shared", "C.local", "C"]
    assert locations(sketch) == {
        "A": ROOT,
        "A.shared": ITER,
        "B": ROOT,
        "B.shared": ITER,
        "C.local": ITER,
        "C": ROOT,
    }
    assert iter_names(sketch, "C.local") == MATMUL_TILES
    # The accumulator sits in C's thread tile; the inputs are fetched per outermost reduce tile.
    assert sketch["C.local"].attach == ("C", "j.2")
    assert iter_names(sketch, "C") == ["i.0", "j.0", "i.1", "j.1", "i.2", "j.2", "i.3", "j.3"]
    assert sketch["A.shared"].attach == sketch["B.shared"].attach == ("C.local", "k.0")

    cross, tiled = cuda_sketches("matmul", (8, 8, 1024))  # 1 cross-thread reduction + 1 tiling
    assert cross_thread(cross, "C") and [s.name for s in cross.stages] == ["A", "B", "C"]
    assert iter_names(cross, "C") == ["i", "j", "k.0", "k.1"]
    assert (
        cross["C"].iter("k.1").annotation == LoopAnnotation.THREAD_X and cross["C"].iter("k.1").extent == 32
    )
    assert [s.name for s in tiled.stages] == ["A", "A.shared", "B", "B.shared", "C.local", "C"]

    (sketch,) = cuda_sketches(compute_dag=double_matmul(512))  # 1 x 1
    assert locations(sketch) == {
        **{"A": ROOT, "A.shared": ITER, "B": ROOT, "B.shared": ITER, "C": ROOT, "C.shared": ITER},
        **{"D.local": ITER, "D": ROOT, "D.shared": ITER, "E.local": ITER, "E": ROOT},
    }
    # D is not fused into its shared-memory copy: it is a kernel of its own, tiled with a local cache.
    assert sketch["D.shared"].attach == ("E.local", "k.0")


def test_cuda_conv2d_bn_relu_sketch():
    (sketch,) = cuda_sketches("conv2d_bn_relu", (1, 56, 56, 512, 512, 3, 1, 1))
    where = locations(sketch)
    assert where["pad_temp"] == INLINED and where["pad_temp.shared"] == ITER
    assert where["kernel.shared"] == ITER and where["conv2d_nchw"] == ITER
    assert all(where[name] == INLINED for name in ("Bias_add", "Bn_mul", "Bn_add"))
    assert "conv2d_nchw.local" not in where  # the relu takes the tiles
    # Tiled "SSSRRSRS" and computed in the relu's thread tile; fetched per outermost reduce tile.
    assert len(sketch["conv2d_nchw"].iters) == 4 * 5 + 3 * 3
    assert sketch["conv2d_nchw"].attach == ("T_relu", "w.2")
    assert iter_names(sketch, "T_relu")[:12] == [f"{a}.{n}" for n in range(3) for a in "nchw"]
    assert sketch["pad_temp.shared"].attach == sketch["kernel.shared"].attach == ("conv2d_nchw", "rx.0")


def test_cuda_max_pool2d_sketch():
    (sketch,) = cuda_sketches("max_pool2d", (1, 56, 56, 512, 3, 2, 0))  # 1 default sketch
    assert sketch.transform_steps == []


def test_cuda_min_sketch():
    cross, default = cuda_sketches(compute_dag=min_nm(10, 1024))  # 1 cross-thread reduction + 1 default
    assert cross_thread(cross, "B")
    assert default.transform_steps == []


@pytest.mark.parametrize("dag", [ComputeDAG('["softmax", 2, 1024]'), softmax_abcd(1, 12, 128, 128)])
def test_cuda_softmax_sketch(dag: ComputeDAG):
    sketches = cuda_sketches(compute_dag=dag)
    # (1 cross-thread reduction + 1 default) for the max, times the same for the sum.
    assert len(sketches) == 2 * 2
    maxelem, expsum = "T_softmax_maxelem", "T_softmax_expsum"
    assert [(cross_thread(s, maxelem), cross_thread(s, expsum)) for s in sketches] == [
        (True, True),
        (False, True),
        (True, False),
        (False, False),
    ]
    assert all(s["T_softmax_exp"].compute_at == INLINED for s in sketches)
    both = sketches[0]
    # Both reductions follow the normalisation's thread split and run inside its rows: one kernel.
    n_outer = len(dag.op("T_softmax_expsum").shape)
    row = iter_names(both, "T_softmax_norm")[n_outer - 1]
    assert both[maxelem].attach == both[expsum].attach == ("T_softmax_norm", row)
    assert both["T_softmax_norm"].iters[-1].annotation == LoopAnnotation.THREAD_X
    # Alone, the max is a kernel of its own.
    assert sketches[2][maxelem].compute_at == ROOT


def test_cuda_conv2d_winograd_sketch():
    (sketch,) = cuda_sketches("conv2d_winograd_nhwc", (1, 28, 28, 128, 128, 3, 1, 1))
    where = locations(sketch)
    assert where["data_pad"] == INLINED and where["B"] == INLINED and where["A"] == INLINED
    # The input tile is computed just outside the data transform's unrolled loops, not inlined.
    assert where["input_tile"] == ITER
    assert where["data_pack.shared"] == where["weight.shared"] == ITER
    assert where["bgemm.local"] == ITER and where["bgemm"] == ROOT
    assert len(sketch["bgemm.local"].iters) == 4 * 5 + 3
    assert len(iter_names(sketch, "conv2d_winograd")) == 4  # not tiled


def test_fusable_elementwise_consumer_takes_the_tiles_at_the_thread_level():
    (sketch,) = cuda_sketches("dense_bias_relu", (64, 128, 64))
    assert sketch["T_add"].compute_at == INLINED
    assert sketch["T_dense"].attach == ("T_relu", "j.2")
    assert sketch["data.shared"].attach == sketch["weight.shared"].attach == ("T_dense", "k.0")


def test_common_outer_iterators_follow_every_path():
    dag = ComputeDAG('["softmax", 2, 1024]')
    assert num_common_outer_iterators(dag, "T_softmax_maxelem", "T_softmax_norm") == 1
    # exp -> norm directly shares (i, j), but exp -> expsum -> norm only i: the least counts.
    assert num_common_outer_iterators(dag, "T_softmax_exp", "T_softmax_norm") == 1
    assert num_common_outer_iterators(dag, "T_softmax_norm", "T_softmax_maxelem") == 0
    dense = ComputeDAG('["dense_bias_relu", 8, 16, 32]')
    assert num_common_outer_iterators(dense, "T_dense", "T_relu") == 2


def test_split_steps_are_found_across_stage_adding_steps():
    (sketch,) = cuda_sketches("matmul", (64, 64, 64))
    splits = split_step_ids(sketch, sketch.stage_id("C.local"))
    assert len(splits) == 3  # i, j and k, last first
    assert all(sketch.transform_steps[i].stage_id in (1, 2) for i in splits)
