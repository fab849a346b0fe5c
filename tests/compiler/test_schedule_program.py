"""Schedules as transform programs: golden text, lossless round trips, errors naming the culprit."""

import pytest
from random_schedules import random_state
from test_loop_state import full_schedule, matmul_relu

from schedopt import te
from schedopt.compute_dag import ComputeDAG
from schedopt.dialects.sched import LoopAnnotation
from schedopt.errors import ScheduleError
from schedopt.schedule.loop_state import State
from schedopt.schedule.schedule_program import (
    parse_program,
    print_program,
    program_to_state,
    state_to_program,
)
from schedopt.schedule.transform_steps import SplitStep


@pytest.fixture
def dag() -> ComputeDAG:
    return matmul_relu()


def conv_relu(n: int = 1, ci: int = 3, hw: int = 8, co: int = 4, kernel: int = 3) -> ComputeDAG:
    """A padded 2-D convolution (NCHW) followed by a relu: pad, conv, relu stages."""
    data = te.placeholder((n, ci, hw, hw), name="data")
    weight = te.placeholder((co, ci, kernel, kernel), name="weight")
    size = hw + 2

    def padded(b, c, y, x):
        inside = te.all(y >= 1, y < hw + 1, x >= 1, x < hw + 1)
        return te.if_then_else(inside, data[b, c, y - 1, x - 1], 0.0)

    pad = te.compute((n, ci, size, size), padded, name="pad")
    rc = te.reduce_axis((0, ci), name="rc")
    ry = te.reduce_axis((0, kernel), name="ry")
    rx = te.reduce_axis((0, kernel), name="rx")
    conv = te.compute(
        (n, co, hw, hw),
        lambda b, f, y, x: te.sum(pad[b, rc, y + ry, x + rx] * weight[f, rc, ry, rx], axis=[rc, ry, rx]),
        name="conv",
    )
    relu = te.compute((n, co, hw, hw), lambda b, f, y, x: te.max(conv[b, f, y, x], 0.0), name="relu")
    return ComputeDAG([data, weight, relu])


def assert_round_trips(dag: ComputeDAG, state: State) -> str:
    """State -> program -> State gives the same steps and loops; the text parses back to itself."""
    text = print_program(dag, state)
    parsed = parse_program(text)
    assert str(parsed) == text
    again = program_to_state(dag, parsed)
    assert again.transform_steps == state.transform_steps
    assert str(again) == str(state)
    assert program_to_state(dag, state_to_program(dag, state)).transform_steps == state.transform_steps
    return text


FULL_SCHEDULE = """\
transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %C_i, %C_j, %C_k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
  %C_i.0, %C_i.1, %C_i.2 = sched.split %C, %C_i by [4, 4] : !sched.iter, !sched.iter, !sched.iter
  %C_j.0, %C_j.1, %C_j.2 = sched.split %C, %C_j by [3, 8] : !sched.iter, !sched.iter, !sched.iter
  sched.reorder %C, [%C_i.0, %C_j.0, %C_i.1, %C_j.1, %C_k, %C_i.2, %C_j.2]
  sched.annotate %C, %C_j.2 vectorize
  sched.pragma %C, %C_i.0 "auto_unroll_max_step$16"
  %D = sched.get_stage "D" in %root : (!transform.any_op) -> !sched.stage
  %D_i, %D_j = sched.get_iters %D : !sched.iter, !sched.iter
  %D_i.0, %D_i.1 = sched.follow_split %D, %D_i src_step 0 n_split 1 : !sched.iter, !sched.iter
  %D_j.0, %D_j.1 = sched.follow_fused_split %D, %D_j src_steps [1] level 0 : !sched.iter, !sched.iter
  sched.reorder %D, [%D_i.0, %D_j.0, %D_i.1, %D_j.1]
  sched.compute_at %C at %D, %D_j.0
  %D_i.0_j.0 = sched.fuse %D, [%D_i.0, %D_j.0]
  sched.annotate %D, %D_i.0_j.0 parallel
  sched.storage_align %C, %C_j.1 factor 8 offset 1
  transform.yield
}"""


def test_full_schedule_golden(dag: ComputeDAG):
    assert assert_round_trips(dag, full_schedule(dag)) == FULL_SCHEDULE


def test_empty_schedule(dag: ComputeDAG):
    text = assert_round_trips(dag, dag.get_init_state())
    assert text.splitlines()[1:] == ["  transform.yield", "}"]


def test_hand_written_program_equals_the_state_api(dag: ComputeDAG):
    program = parse_program("""
    transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
      %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
      %i, %j, %k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
      %io, %ii = sched.split %C, %i by [16] : !sched.iter, !sched.iter
      %jo, %ji = sched.split %C, %j by [8] : !sched.iter, !sched.iter
      sched.reorder %C, [%io, %jo, %k, %ii, %ji]
      sched.annotate %C, %ji vectorize
      %D = sched.get_stage "D" in %root : (!transform.any_op) -> !sched.stage
      %di, %dj = sched.get_iters %D : !sched.iter, !sched.iter
      %f = sched.fuse %D, [%di, %dj]
      sched.annotate %D, %f parallel
      transform.yield
    }""")
    s = dag.get_init_state()
    io, ii = s.split("C", "i", [16])
    jo, ji = s.split("C", "j", [8])
    s.reorder("C", [io, jo, "k", ii, ji])
    s.vectorize("C", ji)
    s.parallel("D", s.fuse("D", ["i", "j"]))
    state = program_to_state(dag, program)
    assert state.transform_steps == s.transform_steps
    assert str(state) == str(s)


def test_split_variants_round_trip(dag: ComputeDAG):
    s = dag.get_init_state()
    s.split("C", "j", [5], inner_to_outer=False)
    s.split("C", "i", [None, 4])
    text = assert_round_trips(dag, s)
    assert "sched.split %C, %C_j by [5] nparts :" in text
    assert "sched.split %C, %C_i by [?, 4] :" in text


def test_split_records_an_extent_the_state_does_not_know(dag: ComputeDAG):
    """After compute_at the State forgets extents; a step may still carry one (from bound inference)."""
    s = dag.get_init_state()
    s.compute_at("C", "D", "i")
    sid, iid = s.stage_id("C"), s.iter_id("C", "j")
    s.apply(SplitStep(sid, iid, 48, (16,), True))
    s.apply(SplitStep(sid, s.iter_id("C", "k"), None, (4,), True))
    text = assert_round_trips(dag, s)
    assert "sched.split %C, %C_j by [16] extent 48 :" in text
    assert "sched.split %C, %C_k by [4] :" in text
    t = dag.get_init_state()
    t.apply(SplitStep(t.stage_id("C"), 0, None, (4,), True))
    assert "by [4] extent ? :" in assert_round_trips(dag, t)


def test_new_stages_round_trip(dag: ComputeDAG):
    s = dag.get_init_state()
    s.cache_read("A", "shared", ["C"])
    s.cache_write("D", "local")
    s.split("D.local", "j", [4])
    s.split("D", "i", [2])
    text = assert_round_trips(dag, s)
    assert '%A.shared = sched.cache_read %A "shared" readers [%C]' in text
    assert '%D.local = sched.cache_write %D "local"' in text
    # cache_write consumed D's loop handles: D's loops are fetched afresh.
    assert "%D_i, %D_j = sched.get_iters %D" in text


def test_rfactor_round_trips(dag: ComputeDAG):
    s = dag.get_init_state()
    ko, _ = s.split("C", "k", [8])
    s.rfactor("C", ko, 1)
    s.parallel("C.rf", "i")
    text = assert_round_trips(dag, s)
    assert "%C.rf = sched.rfactor %C, %C_k.0 factor_axis 1" in text


def test_one_vocabulary_of_loop_annotations():
    # The State prints, sched.annotate parses and records store the same annotations.
    assert [a.record_code for a in LoopAnnotation] == list(range(12))
    assert all(LoopAnnotation.from_record_code(a.record_code) is a for a in LoopAnnotation)
    assert LoopAnnotation.NONE.keyword == "for"
    assert all(a.keyword == a.value for a in LoopAnnotation if a is not LoopAnnotation.NONE)
    assert [a.value for a in LoopAnnotation if a.is_gpu_binding] == [
        "vthread",
        "blockIdx.x",
        "threadIdx.x",
        "blockIdx.y",
        "threadIdx.y",
        "blockIdx.z",
        "threadIdx.z",
    ]


def test_gpu_bindings_round_trip(dag: ComputeDAG):
    s = dag.get_init_state()
    bx, tx = s.split("D", "i", [4])
    s.bind("D", bx, "blockIdx.x")
    s.bind("D", tx, "threadIdx.x")
    s.unroll("C", "k")
    text = assert_round_trips(dag, s)
    assert "sched.annotate %D, %D_i.0 blockIdx.x" in text


# --- random legal schedules ---------------------------------------------------------------


WORKLOADS = {"matmul_relu": matmul_relu, "conv_relu": conv_relu}


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
@pytest.mark.parametrize("seed", range(60))
def test_random_schedules_round_trip(workload: str, seed: int):
    dag = WORKLOADS[workload]()
    state = random_state(dag, seed, n_steps=12, runnable=False)
    assert_round_trips(dag, state)


def test_random_schedules_cover_every_step():
    codes: set[str] = set()
    for workload in WORKLOADS.values():
        dag = workload()
        for seed in range(60):
            codes |= {
                step.CODE for step in random_state(dag, seed, n_steps=12, runnable=False).transform_steps
            }
    assert codes == {"SP", "FSP", "FFSP", "FU", "RE", "AN", "PR", "SA", "CA", "CI", "CR", "CHR", "CHW", "RF"}


# --- bad programs ---------------------------------------------------------------------------

HEADER = """\
transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %A = sched.get_stage "A" in %root : (!transform.any_op) -> !sched.stage
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %D = sched.get_stage "D" in %root : (!transform.any_op) -> !sched.stage
  %i, %j, %k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
  %di, %dj = sched.get_iters %D : !sched.iter, !sched.iter
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "%a, %b = sched.split %C, %i by [0] : !sched.iter, !sched.iter",
            "sched.split: split of i in stage C: factor 0 (factors must be positive integers)",
        ),
        (
            '%Z = sched.get_stage "Z" in %root : (!transform.any_op) -> !sched.stage',
            "sched.get_stage: no stage 'Z' (stages: A, B, C, D)",
        ),
        (
            "%x, %y = sched.get_iters %C : !sched.iter, !sched.iter",
            "sched.get_iters: stage C has 3 loops (i, j, k)",
        ),
        ("%x = sched.get_iters %A : !sched.iter", "sched.get_iters: stage A has 0 loops (none)"),
        (
            "%a, %b = sched.split %C, %i by [2] : !sched.iter, !sched.iter\n  sched.annotate %C, %i parallel",
            "sched.annotate: loop i of stage C was consumed by sched.split (use the handles it returned)",
        ),
        (
            "%f = sched.fuse %C, [%i, %j]\n  sched.reorder %C, [%f, %k, %j]",
            "sched.reorder: loop j of stage C was consumed by sched.fuse",
        ),
        (
            '%L = sched.cache_write %C "local"\n  sched.annotate %C, %i parallel',
            "sched.annotate: loop i of stage C was consumed by sched.cache_write",
        ),
        ("sched.annotate %D, %i parallel", "sched.annotate: loop i belongs to stage C, not to stage D"),
        ("sched.compute_at %C at %D, %i", "sched.compute_at: loop i belongs to stage C, not to stage D"),
        ("sched.annotate %C, %k parallel", "sched.annotate: parallel k of stage C: only spatial iterators"),
        (
            "sched.reorder %C, [%i, %j]",
            "sched.reorder: reorder in stage C: the order .* is not a permutation",
        ),
        ("%f = sched.fuse %C, [%i, %k]", "sched.fuse: fuse in stage C: iterators i, k are not adjacent"),
        ('sched.pragma %C, %i "unroll$4"', "sched.pragma: pragma 'unroll\\$4' on stage C"),
        (
            "sched.storage_align %C, %i factor 4 offset 4",
            "sched.storage_align: storage_align of i in stage C",
        ),
        ("sched.compute_inline %C", "sched.compute_inline: compute_inline of stage C: a reduction"),
        ("sched.compute_at %D at %C, %i", "sched.compute_at: compute_at of stage D at C: D is an output"),
        (
            "%a, %b = sched.follow_split %D, %di src_step 0 n_split 1 : !sched.iter, !sched.iter",
            "sched.follow_split: FSP: step 0 of the history is not a split step",
        ),
        (
            '%t = "transform.cast"(%root) : (!transform.any_op) -> !transform.any_op',
            "transform.cast is not a schedule step",
        ),
    ],
)
def test_bad_programs_name_the_culprit(dag: ComputeDAG, body: str, message: str):
    program = parse_program(f"{HEADER}  {body}\n  transform.yield\n}}\n")
    with pytest.raises(ScheduleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        program_to_state(dag, program)


def test_an_invalid_program_is_a_schedule_error(dag: ComputeDAG):
    program = parse_program(
        HEADER + '  "sched.compute_inline"(%i) : (!sched.iter) -> ()\n  transform.yield\n}\n'
    )
    with pytest.raises(ScheduleError, match="invalid schedule program @__transform_main"):
        program_to_state(dag, program)


def test_unparsable_program_is_a_schedule_error():
    with pytest.raises(ScheduleError, match="cannot parse the schedule program"):
        parse_program("transform.named_sequence @x(")
