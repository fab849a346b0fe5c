"""Per-stage features: layout, hand-checked values on small loop nests, and cache consistency."""

from __future__ import annotations

import numpy as np
import pytest

import schedopt as ss
from schedopt import te
from schedopt.cost_model.features import (
    N_FEATURES,
    get_per_store_feature_names,
    get_per_store_features_from_states,
)
from schedopt.hardware_params import HardwareParams
from schedopt.schedule import loop_structure as loop_structure_module
from schedopt.schedule.loop_state import State
from schedopt.search_policy import SketchPolicy

NAMES = get_per_store_feature_names()


def raw(row: np.ndarray) -> dict[str, float]:
    """The row's values before the log transform, by name."""
    values = np.sign(row) * (np.exp2(np.abs(row.astype(np.float64))) - 1)
    return {name: float(v) for name, v in zip(NAMES, values, strict=True)}


def approx(expected):
    """Equal up to float32 rounding of the logged value."""
    return pytest.approx(expected, rel=1e-5, abs=1e-5)


def matmul_task(n: int = 64) -> ss.SearchTask:
    return ss.SearchTask("matmul", (n, n, n), hardware_params=HardwareParams(num_cores=2))


def test_layout_has_164_named_columns():
    assert N_FEATURES == 164 == len(NAMES) == len(set(NAMES))
    assert NAMES[:3] == ["float_mad", "float_addsub", "float_mul"]
    assert NAMES[57] == "B0.acc_type.read"
    assert NAMES[-3:] == ["outer_prod", "num_loops", "auto_unroll_max_step"]
    assert len(get_per_store_feature_names(max_n_bufs=2)) == 164 - 3 * 18


def test_vectorized_parallel_matmul():
    task = matmul_task()
    state = task.compute_dag.get_init_state()
    i, j, k = state["C"].iters
    j0, j1 = state.split("C", j, [8])
    state.reorder("C", [i, j0, k, j1])
    state.parallel("C", i)
    state.vectorize("C", j1)

    (rows,) = get_per_store_features_from_states([state], task)
    f = raw(rows[0])
    assert f["float_mad"] == approx(64**3)  # the multiply folds into the sum
    assert f["float_addsub"] == f["float_mul"] == 0
    assert (f["vec_num"], f["vec_len"], f["vec_prod"], f["vec_type.inner_spatial"]) == approx((1, 8, 8, 1))
    assert (f["parallel_num"], f["parallel_len"], f["parallel_type.outer_spatial"]) == approx((1, 64, 1))
    assert (f["unroll_num"], f["unroll_type.none"]) == approx((0, 1))
    assert f["is_gpu"] == 0
    assert (f["outer_prod"], f["num_loops"], f["auto_unroll_max_step"]) == approx((64**3, 4, 0))
    assert f["alloc_size"] == 0  # C is an output, not allocated by the program

    # Buffers by lines: B (stride 1 along j.1), then C, then A (no move in j.1).
    assert [f[f"B{b}.unique_bytes"] for b in range(3)] == approx([64 * 64 * 4] * 3)
    rows = [
        {key.split(".", 1)[1]: value for key, value in f.items() if key.startswith(f"B{b}.")}
        for b in range(3)
    ]
    kinds = sorted(
        tuple(round(r[name]) for name in ("acc_type.read_write", "stride", "reuse_ct", "reuse_dis_iter"))
        for r in rows
    )
    # A[i, k]: reused across j.1 (8 times, at distance 1); stride 0 in j.1.
    # B[k, j]: reused across i (64 times), after 8 * 64 * 8 iterations; stride 1.
    # C[i, j] (read-write): reused across k (64 times), after the 8 iterations of j.1; stride 1.
    assert kinds == [(0, 0, 8, 1), (0, 1, 64, 4096), (1, 1, 64, 8)]
    a_row = next(r for r in rows if r["stride"] == 0)
    assert a_row["lines"] == approx(64**3 / 8 * (4 / 64))  # a new line every 16 steps of k, j.1 ignored
    assert a_row["reuse_type.loop_multiple_read"] == 1
    assert all(f[f"B{b}.acc_type.read"] == 0 for b in range(3, 5))  # zero padding


def elementwise_chain() -> ss.ComputeDAG:
    A = te.placeholder((64, 32), "float32", name="A")
    B = te.compute((64, 32), lambda i, j: A[i, j] * te.const(2.0, "float32"), name="B")
    C = te.compute((64, 32), lambda i, j: B[i, j] + te.const(1.0, "float32"), name="C")
    return ss.ComputeDAG([A, C])


def test_stage_computed_at_a_loop_runs_inside_it():
    dag = elementwise_chain()
    task = ss.SearchTask(compute_dag=dag)
    state = dag.get_init_state()
    i = state["C"].iters[0]
    state.parallel("C", i)
    state.compute_at("B", "C", i)

    rows = get_per_store_features_from_states([state], task)[0]
    b, c = raw(rows[0]), raw(rows[1])
    assert (b["float_mul"], c["float_addsub"]) == approx((64 * 32, 64 * 32))
    # B runs inside C's parallel loop i: one loop of its own (j), the parallel one around it.
    assert (b["num_loops"], b["outer_prod"]) == approx((2, 64 * 32))
    assert (b["parallel_len"], b["parallel_type.outer_spatial"]) == approx((64, 1))
    # B holds one row of 32 floats, allocated inside the 64 iterations of i.
    assert (b["alloc_size"], b["alloc_outer_prod"], b["alloc_prod"]) == approx((32 * 4, 64, 32 * 64))
    assert b["alloc_inner_prod"] == approx(2.0)
    # C reads that row (128 unique bytes) and writes itself (8 KiB).
    assert sorted(c[f"B{n}.unique_bytes"] for n in range(2)) == approx([128, 64 * 32 * 4])


def test_inlined_stage_counts_in_its_consumer():
    dag = elementwise_chain()
    task = ss.SearchTask(compute_dag=dag)
    state = dag.get_init_state()
    state.compute_inline("B")

    (rows,) = get_per_store_features_from_states([state], task)
    assert rows.shape == (1, N_FEATURES)  # B stores nothing
    c = raw(rows[0])
    assert (c["float_mul"], c["float_addsub"]) == approx((64 * 32, 64 * 32))
    assert sorted(c[f"B{n}.acc_type.read"] for n in range(2)) == approx([0, 1])  # reads A, writes C


@pytest.fixture(scope="module")
def sampled() -> tuple[ss.SearchTask, list[State]]:
    task = ss.SearchTask("matmul", (512, 512, 512), hardware_params=HardwareParams(num_cores=2))
    policy = SketchPolicy(task, seed=0, verbose=0)
    population = policy.sample_initial_population()
    return task, population + policy.evolutionary_search(population, 50)


def test_sampled_states_have_finite_rows_of_fixed_length(sampled):
    task, states = sampled
    for state, rows in zip(states, get_per_store_features_from_states(states, task), strict=True):
        stored = [s for s in state.stages if s.kind.value == "compute" and s.compute_at.name != "INLINED"]
        assert rows.shape == (len(stored), N_FEATURES)
        assert np.isfinite(rows).all() and rows.any()


def test_cached_structure_gives_the_features_of_a_fresh_one(sampled):
    task, states = sampled
    warm = get_per_store_features_from_states(states, task)
    for state, expected in zip(states[::7], warm[::7], strict=True):
        loop_structure_module._STRUCTURES.clear()
        np.testing.assert_array_equal(get_per_store_features_from_states([state], task)[0], expected)


def test_state_of_a_record_gives_the_same_features(sampled):
    task, states = sampled
    steps_only = [State([], list(s.transform_steps)) for s in states[:10]]
    for a, b in zip(
        get_per_store_features_from_states(steps_only, task),
        get_per_store_features_from_states(states[:10], task),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
