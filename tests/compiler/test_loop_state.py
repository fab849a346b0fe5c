"""State primitives: the loops after each step, errors naming the culprit, records."""

import json

import pytest

from schedopt import te
from schedopt.compute_dag import ComputeDAG
from schedopt.dialects.sched import LoopAnnotation
from schedopt.errors import ScheduleError
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind, IteratorKind
from schedopt.schedule.transform_steps import step_from_record


def matmul_relu(n: int = 64, m: int = 48, k_: int = 32) -> ComputeDAG:
    A = te.placeholder((n, k_), name="A")
    B = te.placeholder((k_, m), name="B")
    k = te.reduce_axis((0, k_), name="k")
    C = te.compute((n, m), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    D = te.compute((n, m), lambda i, j: te.max(C[i, j], 0.0), name="D")
    return ComputeDAG([A, B, D])


@pytest.fixture
def dag() -> ComputeDAG:
    return matmul_relu()


def names_and_extents(state: State, stage: str) -> list[tuple[str, int | None]]:
    return [(it.name, it.extent) for it in state[stage].iters]


def test_split_inner_to_outer(dag: ComputeDAG):
    s = dag.get_init_state()
    outs = s.split("C", "i", [4, 8])
    assert [(it.name, it.extent) for it in outs] == [("i.0", 2), ("i.1", 4), ("i.2", 8)]
    assert names_and_extents(s, "C") == [("i.0", 2), ("i.1", 4), ("i.2", 8), ("j", 48), ("k", 32)]


def test_split_nparts_and_non_dividing(dag: ComputeDAG):
    s = dag.get_init_state()
    outs = s.split("C", "j", [5], inner_to_outer=False)
    assert [(it.name, it.extent) for it in outs] == [("j.0", 5), ("j.1", 10)]
    outs = s.split("C", "k", [5])
    assert [(it.name, it.extent) for it in outs] == [("k.0", 7), ("k.1", 5)]
    assert s["C"].iters[-1].kind == IteratorKind.REDUCE


def test_fuse_and_reorder(dag: ComputeDAG):
    s = dag.get_init_state()
    fused = s.fuse("C", ["i", "j"])
    assert (fused.name, fused.extent, fused.kind) == ("i@j@", 64 * 48, IteratorKind.SPATIAL)
    mixed = s.fuse("C", [fused, "k"])
    assert mixed.kind == IteratorKind.MIXED
    t = dag.get_init_state()
    t.reorder("C", ["k", "j", "i"])
    assert [it.name for it in t["C"].iters] == ["k", "j", "i"]


def test_annotations(dag: ComputeDAG):
    s = dag.get_init_state()
    i0, _ = s.split("D", "i", [8])
    s.parallel("D", i0)
    s.vectorize("D", "j")
    s.unroll("C", "k")
    assert [it.annotation for it in s["D"].iters] == [
        LoopAnnotation.PARALLEL,
        LoopAnnotation.NONE,
        LoopAnnotation.VECTORIZE,
    ]
    assert "parallel i.0 (0,8)" in str(s) and "vectorize j (0,48)" in str(s) and "unroll k (0,32)" in str(s)


def test_pragma_and_storage_align(dag: ComputeDAG):
    s = dag.get_init_state()
    s.pragma("C", "i", "auto_unroll_max_step$64")
    s.storage_align("C", "j", 16, 1)
    assert s["C"].auto_unroll_max_step == 64
    assert s["C"].storage_align == ("j", 16, 1)
    assert "C auto_unroll: 64" in str(s)


def test_infer_bound_runs_a_split_part_only_as_far_as_its_parent_reaches(dag: ComputeDAG):
    # C computed at D's 4-row tiles, itself split 8 x 1 x 4: as in TVM, the
    # parts run min(factor, what is left of the parent), 1 x 1 x 4 here, not 8 x 1 x 4.
    s = dag.get_init_state()
    i0, i1 = s.split("D", "i", [4])
    s.reorder("D", [i0, "j", i1])
    s.split("C", "i", [8, 1, 4])
    s.compute_at("C", "D", "j")
    bound = dag.infer_bound_from_state(s)
    assert names_and_extents(bound, "C") == [
        ("i.0", 1),
        ("i.1", 1),
        ("i.2", 1),
        ("i.3", 4),
        ("j", 1),
        ("k", 32),
    ]


def test_compute_at_prints_nested_and_infer_bound_fills_extents(dag: ComputeDAG):
    s = dag.get_init_state()
    i0, i1 = s.split("D", "i", [8])
    j0, j1 = s.split("D", "j", [16])
    s.reorder("D", [i0, j0, i1, j1])
    s.compute_at("C", "D", j0)
    assert s["C"].compute_at == ComputeAtKind.ITER
    assert s["C"].attach == ("D", "j.0")
    assert [it.extent for it in s["C"].iters] == [None, None, None]
    bound = dag.infer_bound_from_state(s)
    assert names_and_extents(bound, "C") == [("i", 8), ("j", 16), ("k", 32)]
    assert str(bound).splitlines() == [
        "Placeholder: A, B",
        "for i.0 (0,8)",
        "  for j.0 (0,3)",
        "    for i (0,8)",
        "      for j (0,16)",
        "        for k (0,32)",
        "          C = ...",
        "    for i.1 (0,8)",
        "      for j.1 (0,16)",
        "        D = ...",
    ]


def test_attach_point_follows_later_splits(dag: ComputeDAG):
    s = dag.get_init_state()
    s.compute_at("C", "D", "j")
    s.split("D", "j", [4])
    assert s["C"].attach == ("D", "j.1")
    s.fuse("D", ["i", "j.0"])
    assert s["C"].attach == ("D", "j.1")


@pytest.mark.parametrize(
    ("apply", "message"),
    [
        (lambda s: s.split("C", "x", [2]), "stage C has no iterator 'x'"),
        (lambda s: s.split("Z", "i", [2]), "no stage 'Z'"),
        (lambda s: s.split("C", "i", [0]), "split of i in stage C: factor 0 .factors must be positive"),
        (lambda s: s.split("C", "i", []), "no split lengths"),
        (lambda s: s.fuse("C", ["i", "k"]), "iterators i, k are not adjacent"),
        (lambda s: s.reorder("C", ["i", "j"]), "not a permutation"),
        (lambda s: s.parallel("C", "k"), "parallel k of stage C: only spatial iterators can run in parallel"),
        (lambda s: (s.vectorize("C", "j"), s.parallel("C", "j")), "already annotated vectorize"),
        (lambda s: s.bind("C", "i", "warp.x"), "unknown thread axis 'warp.x'"),
        (lambda s: s.pragma("C", "i", "unroll_explicit"), "only auto_unroll_max_step"),
        (lambda s: s.compute_at("D", "C", "i"), "D is an output"),
        (lambda s: s.compute_at("C", "C", "i"), "cannot be computed inside itself"),
        (lambda s: s.compute_inline("C"), "a reduction cannot be inlined"),
        (lambda s: s.compute_inline("D"), "an output cannot be inlined"),
        (lambda s: s.split("A", 0, [2]), "placeholder and has no loops"),
        (lambda s: s.storage_align("C", "i", 4, 4), "0 <= offset < factor"),
    ],
)
def test_impossible_steps_name_the_culprit(dag: ComputeDAG, apply, message: str):
    s = dag.get_init_state()
    with pytest.raises(ScheduleError, match=message):
        apply(s)


def test_failed_step_is_not_recorded(dag: ComputeDAG):
    s = dag.get_init_state()
    with pytest.raises(ScheduleError):
        s.split("C", "i", [0])
    assert s.transform_steps == []


def test_copy_is_independent(dag: ComputeDAG):
    s = dag.get_init_state()
    t = s.copy()
    t.split("C", "i", [2])
    assert len(s["C"].iters) == 3 and len(t["C"].iters) == 4
    assert s.transform_steps == []


def full_schedule(dag: ComputeDAG) -> State:
    s = dag.get_init_state()
    i0, i1, i2 = s.split("C", "i", [4, 4])
    j0, j1, j2 = s.split("C", "j", [3, 8])
    s.reorder("C", [i0, j0, i1, j1, "k", i2, j2])
    s.vectorize("C", j2)
    s.pragma("C", i0, "auto_unroll_max_step$16")
    d0, d1 = s.follow_split("D", "i", 0, 1)
    e0, e1 = s.follow_fused_split("D", "j", [1], 0, True)
    s.reorder("D", [d0, e0, d1, e1])
    s.compute_at("C", "D", e0)
    fused = s.fuse("D", [d0, e0])
    s.parallel("D", fused)
    s.storage_align("C", "j.1", 8, 1)
    return s


def test_follow_splits_take_the_source_lengths(dag: ComputeDAG):
    s = full_schedule(dag)
    assert [it.name for it in s["D"].iters] == ["i.0@j.0@", "i.1", "j.1"]
    assert s["D"].iters[1].extent == 16  # follow_split n_split=1 of [4, 4]: the product of all
    assert s["D"].iters[2].extent == 3  # follow_fused_split level 0 of [3, 8], as a factor


def test_records_round_trip(dag: ComputeDAG):
    s = full_schedule(dag)
    records = json.loads(json.dumps([step.to_record() for step in s.transform_steps]))
    steps = [step_from_record(r) for r in records]
    assert steps == s.transform_steps
    assert str(dag.replay_steps(steps)) == str(s)


@pytest.mark.parametrize(
    ("record", "message"),
    [(["XX", 1], "unknown step code 'XX'"), (["SP", 1], "malformed SP step"), ([], "malformed step record")],
)
def test_bad_step_records(record, message: str):
    with pytest.raises(ScheduleError, match=message):
        step_from_record(record)


def test_tvm_spellings_of_ranges_and_stage_ops(dag: ComputeDAG):
    state = dag.get_init_state()
    i = state["C"].iters[0]
    assert (i.range.min, i.range.extent) == (0, 64)
    assert [s.name for s in state.stage_ops] == ["A", "B", "C", "D"]
    outer, _ = state.split(state.stage_ops[2], i, [8])
    assert outer.range.extent == 8
