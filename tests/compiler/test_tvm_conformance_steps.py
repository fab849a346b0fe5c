"""Transform steps accept what TVM's auto-scheduler accepts, and build what numpy computes.

- follow_split takes `n_split` up to the source split's lengths plus one
  (an inner part of length 1), as TVM's FollowSplitStep does;
- a stage may be computed at a loop of a stage that does not read it, as long
  as that loop encloses every reader (TVM's test_cache_read_write: a global
  cache of `pad_temp` at an outer loop of `conv.global`, read by a shared
  cache computed at an inner loop of it);
- a second cache of a tensor in the same scope gets a fresh name, `A.d.shared`
  as TVM names it, which records and transform programs reproduce.
"""

import json

import numpy as np
import pytest
from test_loop_state import matmul_relu

import schedopt.workloads  # noqa: F401  (registers the workloads)
from schedopt import te
from schedopt.build import build
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import ScheduleError
from schedopt.random_inputs import random_inputs
from schedopt.schedule.loop_state import State
from schedopt.schedule.schedule_program import parse_program, print_program, program_to_state
from schedopt.schedule.transform_steps import step_from_record
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import reference

CONV_ARGS = (2, 8, 7, 7, 8, 3, 3, 1, 1)  # N, CI, H, W, CO, KH, KW, stride, padding
CONV = "conv2d_nchw"


def run(dag: ComputeDAG, state: State, inputs: list[np.ndarray]) -> list[np.ndarray]:
    kernel = build(dag, state)
    outputs = [np.zeros(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    return outputs


def check_workload(name: str, args: tuple, dag: ComputeDAG, state: State) -> None:
    inputs = random_inputs(name, dag, np.random.default_rng(0))
    for got, want in zip(run(dag, state, inputs), reference(name, args, inputs), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=str(state))


def check_round_trips(dag: ComputeDAG, state: State) -> None:
    """Records and transform programs give back the same steps and stage names."""
    records = json.loads(json.dumps([s.to_record() for s in state.transform_steps]))
    replayed = dag.replay_steps([step_from_record(r) for r in records])
    assert replayed.stages == state.stages
    assert str(replayed) == str(state)
    parsed = program_to_state(dag, parse_program(print_program(dag, state)))
    assert parsed.transform_steps == state.transform_steps
    assert parsed.stages == state.stages


# --- follow_split: n_split up to len(lengths) + 1 ------------------------------------------


def small_matmul_relu() -> ComputeDAG:
    return matmul_relu(n=24, m=20, k_=12)


def test_follow_split_past_the_source_lengths_adds_a_unit_part():
    dag = small_matmul_relu()
    s = dag.get_init_state()
    s.split("C", "i", [4, 2])
    s.split("C", "j", [5])
    parts = s.follow_split("D", "i", 0, 3)
    assert [(it.name, it.extent) for it in parts] == [("i.0", 3), ("i.1", 4), ("i.2", 2), ("i.3", 1)]
    s.compute_at("C", "D", parts[-1])
    bounded = dag.infer_bound_from_state(s)
    assert [(it.name, it.extent) for it in bounded["C"].iters] == [
        ("i.0", 1),
        ("i.1", 1),
        ("i.2", 1),
        ("j.0", 4),
        ("j.1", 5),
        ("k", 12),
    ]
    a = np.random.default_rng(0).random((24, 12), "float32") - 0.5
    b = np.random.default_rng(1).random((12, 20), "float32") - 0.5
    (d,) = run(dag, s, [a, b])
    np.testing.assert_allclose(d, np.maximum(a @ b, 0), rtol=1e-4, atol=1e-5)
    check_round_trips(dag, s)


def test_follow_split_of_an_open_split_ends_in_a_unit_part():
    s = small_matmul_relu().get_init_state()
    s.split("C", "i", [None, None])
    parts = s.follow_split("D", "i", 0, 3)
    assert [it.extent for it in parts] == [None, None, None, 1]


def test_follow_split_beyond_one_past_the_lengths_is_refused():
    s = small_matmul_relu().get_init_state()
    s.split("C", "i", [4, 2])
    with pytest.raises(ScheduleError, match=r"n_split 4 must be within 1\.\.3 for split step 0"):
        s.follow_split("D", "i", 0, 4)


# --- compute_at a loop that encloses every reader ------------------------------------------


def conv_with_caches() -> tuple[ComputeDAG, State, str, str, str]:
    """TVM's test_cache_read_write, steps 1 and 3: conv.global at conv's `xx`, pad_temp's global and
    shared caches read by conv.global. Returns the DAG, the state and the three new stages' names."""
    dag = ComputeDAG(make_workload_key(CONV, CONV_ARGS))
    s = dag.get_init_state()
    conv_global = s.cache_write(CONV, "global").name
    s.compute_at(conv_global, CONV, s[CONV].iters[3])
    pad_global = s.cache_read("pad_temp", "global", [conv_global]).name
    pad_shared = s.cache_read(pad_global, "shared", [conv_global]).name
    assert (conv_global, pad_global, pad_shared) == (
        "conv2d_nchw.global",
        "pad_temp.global",
        "pad_temp.global.shared",
    )
    return dag, s, conv_global, pad_global, pad_shared


def test_cache_computed_outside_the_loop_its_reader_is_computed_at():
    dag, s, conv_global, pad_global, pad_shared = conv_with_caches()
    s.compute_at(pad_shared, conv_global, s[conv_global].iters[4])  # rc
    s.compute_at(pad_global, conv_global, s[conv_global].iters[2])  # yy, encloses rc
    bounded = dag.infer_bound_from_state(s)
    # As TVM infers them: the shared copy holds one channel's 3x3 window, the global one every
    # channel's (the rc loop runs inside yy).
    assert [it.extent for it in bounded[pad_shared].iters] == [1, 1, 3, 3]
    assert [it.extent for it in bounded[pad_global].iters] == [1, 8, 3, 3]
    assert [it.extent for it in bounded[conv_global].iters] == [1, 1, 1, 1, 8, 3, 3]
    check_workload(CONV, CONV_ARGS, dag, s)
    check_round_trips(dag, s)


@pytest.mark.parametrize(
    ("shared_at", "global_at"),
    [
        ((1, 4), (1, 4)),  # both at conv.global's rc: the cache first, then its reader
        ((1, 2), (0, 3)),  # the reader inside conv.global inside conv's xx
        ((1, 3), (0, 2)),  # the reader two stages in, conv's yy
        ((1, 6), (1, 0)),  # the reader at conv.global's innermost loop
    ],
    ids=["same-loop", "through-conv.global", "conv-yy", "innermost"],
)
def test_cache_computed_at_a_loop_enclosing_a_nested_reader(shared_at, global_at):
    dag, s, conv_global, pad_global, pad_shared = conv_with_caches()
    stages = [CONV, conv_global]
    s.compute_at(pad_shared, stages[shared_at[0]], s[stages[shared_at[0]]].iters[shared_at[1]])
    s.compute_at(pad_global, stages[global_at[0]], s[stages[global_at[0]]].iters[global_at[1]])
    check_workload(CONV, CONV_ARGS, dag, s)


def test_nested_reader_with_uneven_splits_and_a_strided_conv():
    args = (1, 4, 9, 8, 4, 3, 3, 2, 1)
    dag = ComputeDAG(make_workload_key(CONV, args))
    s = dag.get_init_state()
    conv_global = s.cache_write(CONV, "global").name
    pad_global = s.cache_read("pad_temp", "global", [conv_global]).name
    pad_shared = s.cache_read(pad_global, "shared", [conv_global]).name
    yo, _ = s.split(CONV, "yy", [3])
    s.split(conv_global, "xx", [3])
    s.split(conv_global, "rc", [3], inner_to_outer=False)
    s.compute_at(conv_global, CONV, yo)
    # conv.global: nn ff yy xx.0 xx.1 rc.0 rc.1 ry rx
    s.compute_at(pad_shared, conv_global, "rc.1")
    s.compute_at(pad_global, conv_global, "xx.0")
    check_workload(CONV, args, dag, s)


def test_matmul_caches_of_a_read_at_two_levels_of_the_write_cache():
    args = (24, 20, 18)
    dag = ComputeDAG(make_workload_key("matmul", args))
    s = dag.get_init_state()
    c_global = s.cache_write("C", "global").name
    a_global = s.cache_read("A", "global", [c_global]).name
    a_shared = s.cache_read(a_global, "shared", [c_global]).name
    i0, i1 = s.split("C", "i", [5])
    j0, j1 = s.split("C", "j", [4])
    s.reorder("C", [i0, j0, i1, j1])
    s.compute_at(c_global, "C", j0)
    k0, k1 = s.split(c_global, "k", [4])
    s.reorder(c_global, [k0, "i", "j", k1])
    s.compute_at(a_shared, c_global, "i")
    s.compute_at(a_global, "C", j0)
    check_workload("matmul", args, dag, s)
    check_round_trips(dag, s)


def test_a_cache_computed_at_a_loop_before_its_reader_goes_there_as_in_tvms_test():
    # TVM's test_cache_read_write computes pad_temp.global first, while its reader is at root.
    dag, s, conv_global, pad_global, pad_shared = conv_with_caches()
    s.compute_at(pad_global, conv_global, s[conv_global].iters[2])  # yy
    s.compute_at(pad_shared, conv_global, s[conv_global].iters[4])  # rc, inside yy
    check_workload(CONV, CONV_ARGS, dag, s)
    check_round_trips(dag, s)


def test_a_reader_left_at_root_is_refused_by_bound_inference():
    dag, s, conv_global, pad_global, _ = conv_with_caches()
    s.compute_at(pad_global, conv_global, s[conv_global].iters[2])
    with pytest.raises(
        ScheduleError,
        match=r"compute_at of stage pad_temp.global at conv2d_nchw.global.yy: every reader of pad_temp.global "
        r"must be conv2d_nchw.global or be computed inside its loop yy, but pad_temp.global.shared is at root",
    ):
        dag.infer_bound_from_state(s)


def test_a_reader_computed_outside_the_target_loop_is_refused():
    _, s, conv_global, pad_global, pad_shared = conv_with_caches()
    s.compute_at(pad_shared, conv_global, s[conv_global].iters[2])  # yy
    with pytest.raises(
        ScheduleError, match=r"but pad_temp.global.shared is computed at conv2d_nchw.global.yy"
    ):
        s.compute_at(pad_global, conv_global, s[conv_global].iters[4])  # rc, inside yy
    s.compute_at(pad_global, CONV, s[CONV].iters[0])  # nn encloses xx, where conv.global is computed
    assert s[pad_global].attach == (CONV, "nn")
    with pytest.raises(
        ScheduleError, match=r"but pad_temp.global.shared is computed at conv2d_nchw.global.yy"
    ):
        s.compute_at(pad_global, conv_global, s[conv_global].iters[5])
    assert s[pad_global].attach == (CONV, "nn")


def test_a_reader_moved_out_later_makes_the_build_refuse():
    dag, s, conv_global, pad_global, pad_shared = conv_with_caches()
    s.compute_at(pad_shared, conv_global, s[conv_global].iters[4])
    s.compute_at(pad_global, conv_global, s[conv_global].iters[2])
    s.compute_root(pad_shared)  # the steps check each step; bound inference checks the result
    with pytest.raises(ScheduleError, match=r"pad_temp.global.shared is at root"):
        build(dag, s)


def test_a_stage_cannot_go_inside_a_stage_computed_inside_it():
    _, s, conv_global, _, pad_shared = conv_with_caches()
    s.compute_at(pad_shared, conv_global, s[conv_global].iters[4])
    with pytest.raises(ScheduleError, match=rf"{pad_shared} is computed inside {conv_global}"):
        s.compute_at(conv_global, pad_shared, 0)


# --- a fresh name for a second cache in the same scope ---------------------------------------


def matmul_plus_transpose(n: int = 12) -> ComputeDAG:
    """D = A @ B + A^T: A has two readers."""
    A = te.placeholder((n, n), name="A")
    B = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    C = te.compute((n, n), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    D = te.compute((n, n), lambda i, j: C[i, j] + A[j, i], name="D")
    return ComputeDAG([A, B, D])


def test_second_cache_read_in_a_scope_is_named_as_tvm_names_it():
    dag = matmul_plus_transpose()
    s = dag.get_init_state()
    assert s.cache_read("A", "shared", ["C"]).name == "A.shared"
    assert s.cache_read("A", "shared", ["D"]).name == "A.d.shared"
    assert s.cache_read("A", "shared", ["A.d.shared"]).name == "A.d.d.shared"
    assert s.cache_read("A.shared", "shared", ["C"]).name == "A.shared.shared"
    s.compute_at("A.shared.shared", "C", "i")
    s.compute_at("A.d.shared", "D", "i")
    assert [st.name for st in s.stages] == [
        "A",
        "A.d.d.shared",
        "A.d.shared",
        "A.shared",
        "A.shared.shared",
        "B",
        "C",
        "D",
    ]
    text = print_program(dag, s)
    assert '%A.d.shared = sched.cache_read %A "shared" readers [%D]' in text
    check_round_trips(dag, s)
    rng = np.random.default_rng(0)
    a, b = rng.random((12, 12), "float32"), rng.random((12, 12), "float32")
    (d,) = run(dag, dag.replay_steps(s.transform_steps), [a, b])
    np.testing.assert_allclose(d, a @ b + a.T, rtol=1e-5)


def test_second_cache_write_in_a_scope_gets_a_fresh_name():
    args = (16, 12, 8)
    dag = ComputeDAG(make_workload_key("matmul", args))
    s = dag.get_init_state()
    assert s.cache_write("C", "local").name == "C.local"
    assert s.cache_write("C", "local").name == "C.d.local"
    assert [st.name for st in s.stages] == ["A", "B", "C.local", "C.d.local", "C"]
    s.compute_at("C.d.local", "C", "i")
    check_workload("matmul", args, dag, s)
    check_round_trips(dag, s)
