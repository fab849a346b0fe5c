"""compile_model: whole networks against numpy, with records or default schedules, buffers reused."""

from __future__ import annotations

import time

import numpy as np
import pytest
from model_builders import mlp, mlp_reference

import schedopt as ss
from schedopt.aligned_arrays import ALIGNMENT
from schedopt.errors import NetworkError, RuntimeArgumentError
from schedopt.frontend.network import Network, NetworkBuilder
from schedopt.tuning.auto_schedule import make_search_policy

HARDWARE = ss.HardwareParams(num_cores=2)
RTOL, ATOL = 1e-4, 1e-5


def data(n: int, width: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, width)).astype(np.float32)


def assert_outputs(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape and g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)


def test_default_schedules_compute_the_network():
    network = mlp(blocks=3, n=16, width=48)
    compiled = ss.compile_model(network, hardware_params=HARDWARE)
    x = data(16, 48)
    assert_outputs(compiled(x), mlp_reference(network, x))
    assert len(compiled.operators) == 3  # the three blocks share one kernel
    assert compiled.operators[0].calls == 3
    assert compiled.tuned_functions == []
    assert "3 kernels" in repr(compiled) and "default schedule: fused_dense_bias_add_relu" in repr(compiled)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """The dense task of a two-block network, tuned for 4 trials."""
    network = mlp(blocks=2, n=16, width=64)
    tasks, weights = ss.extract_tasks(network, hardware_params=HARDWARE)
    assert weights == [2, 1]
    log = tmp_path_factory.mktemp("tune") / "mlp.json"
    task = tasks[0]
    task.tune(
        ss.TuningOptions(
            num_measure_trials=4,
            num_measures_per_round=4,
            verbose=0,
            measure_callbacks=[ss.RecordToFile(str(log))],
        ),
        make_search_policy(task, "sketch.random", 0, verbose=0),
    )
    return network, task, log


def test_a_tuned_task_record_is_used_and_gives_the_same_result(tuned):
    network, task, log = tuned
    with_records = ss.compile_model(network, records=log, hardware_params=HARDWARE)
    without = ss.compile_model(network, hardware_params=HARDWARE)
    assert with_records.tuned_functions == task.desc.split(",")
    assert with_records.operators[0].workload_key == task.workload_key
    assert f"records: {task.desc.replace(',', ', ')}" in repr(with_records)
    x = data(16, 64)
    got = with_records(x)
    assert_outputs(got, without(x))
    assert_outputs(got, mlp_reference(network, x, blocks=2))


def test_the_cost_model_learns_from_the_records_of_an_extracted_task(tuned):
    _, _, log = tuned
    model = ss.XGBModel(verbose_eval=0)
    model.update_from_file(str(log))  # rebuilds the task's DAG from its registered key


def test_records_as_an_apply_history_best(tuned):
    network, task, log = tuned
    compiled = ss.compile_model(network, records=ss.ApplyHistoryBest(str(log)), hardware_params=HARDWARE)
    assert compiled.tuned_functions == task.desc.split(",")


def test_weights_are_pre_transformed_for_a_record_that_tiles_them():
    network = mlp(blocks=2, n=16, width=64)
    (task, _), _ = ss.extract_tasks(network, hardware_params=HARDWARE)
    dag = task.compute_dag
    assert dag is not None
    dense = next(op.name_str for op in dag.compute_ops if op.reduction is not None)
    state = dag.get_init_state()
    i, j, k = state[dense].iters
    j_outer, j_inner = state.split(dense, j, [16])
    state.reorder(dense, [i, j_outer, k, j_inner])
    state.vectorize(dense, j_inner)
    record = (ss.MeasureInput(task, state), ss.MeasureResult((1e-3,), 0, "", 0.1, time.time()))
    compiled = ss.compile_model(network, records=[record], hardware_params=HARDWARE)
    (layout,) = compiled.operators[0].pre_transformed
    assert layout.layout == "4j64k16j"
    x = data(16, 64)
    assert_outputs(compiled(x), mlp_reference(network, x, blocks=2))


def test_intermediate_buffers_are_reused_along_a_chain():
    network = mlp(blocks=6, n=8, width=32)
    compiled = ss.compile_model(network, hardware_params=HARDWARE)
    # Five block outputs and the transpose are intermediates (the last block's output is returned).
    assert compiled.num_intermediates == 6
    assert compiled.num_buffers == 2
    x = data(8, 32)
    assert_outputs(compiled(x), mlp_reference(network, x, blocks=6))


def test_outputs_are_new_arrays_on_every_run():
    network = mlp(blocks=1, n=4, width=16)
    compiled = ss.compile_model(network, hardware_params=HARDWARE)
    first = compiled(data(4, 16, seed=1))
    kept = [o.copy() for o in first]
    second = compiled(data(4, 16, seed=2))
    for a, b, c in zip(first, kept, second, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a is not c


def test_outputs_are_aligned_and_a_misaligned_input_is_taken():
    network = mlp(blocks=1, n=4, width=16)
    compiled = ss.compile_model(network, hardware_params=HARDWARE)
    x = ss.aligned_empty(4 * 16 + 1, np.float32)[1:].reshape(4, 16)
    x[...] = data(4, 16)
    outputs = compiled(x)
    assert all(out.ctypes.data % ALIGNMENT == 0 for out in outputs)
    assert_outputs(outputs, mlp_reference(network, x, blocks=1))


def test_returned_inputs_and_repeated_outputs_are_copies():
    b = NetworkBuilder()
    x = b.input("x", (4,))
    network = b.build([x, x])
    compiled = ss.compile_model(network)
    value = np.arange(4, dtype=np.float32)
    first, second = compiled(value)
    np.testing.assert_array_equal(first, value)
    assert first is not value and second is not first


def test_bad_inputs_name_the_input():
    compiled = ss.compile_model(mlp(blocks=1, n=4, width=16), hardware_params=HARDWARE)
    with pytest.raises(RuntimeArgumentError, match=r"takes 1 inputs \(data\), got 2"):
        compiled(data(4, 16), data(4, 16))
    with pytest.raises(
        RuntimeArgumentError, match=r"input 'data': expected float32\[4, 16\], got float64\[4, 16\]"
    ):
        compiled(data(4, 16).astype(np.float64))
    with pytest.raises(
        RuntimeArgumentError, match=r"input 'data': expected float32\[4, 16\], got float32\[16, 4\]"
    ):
        compiled(data(16, 4))
    # Nested lists are converted; a non-contiguous array is copied.
    rows = data(4, 16)
    assert_outputs(compiled(rows.tolist()), compiled(rows))
    assert_outputs(compiled(np.asfortranarray(rows)), compiled(rows))


def test_params_replace_and_missing_params_are_named():
    network = mlp(blocks=1, n=4, width=16)
    scaled = {"w0": network.params["w0"] * 2}
    compiled = ss.compile_model(network, params=scaled, hardware_params=HARDWARE)
    x = data(4, 16)
    expected = mlp_reference(Network(network.module, {**network.params, **scaled}), x, blocks=1)
    assert_outputs(compiled(x), expected)
    partial = Network(network.module, {k: v for k, v in network.params.items() if k != "b0"})
    with pytest.raises(NetworkError, match="no value for parameter b0"):
        ss.compile_model(partial)


def test_an_unsupported_target_is_refused():
    with pytest.raises(ss.TargetError, match="cuda"):
        ss.compile_model(mlp(blocks=1), target="cuda")


def test_benchmark_times_a_run():
    compiled = ss.compile_model(mlp(blocks=1, n=4, width=16), hardware_params=HARDWARE)
    timing = compiled.benchmark([data(4, 16)], repeat=2, min_repeat_ms=1)
    assert 0 < timing.min_s <= timing.median_s
