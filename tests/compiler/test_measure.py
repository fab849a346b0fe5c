"""Measurement: every failure mode gives its error code and message, and the batch goes on.

Faults are injected through `LocalBuilder(build_func=...)` (see
`measure_faults`): a compiler that crashes or hangs, LLVM IR that does not
compile, kernels that segfault, hang, or compute a wrong answer.
"""

import measure_faults as faults
import pytest

import schedopt.workloads  # noqa: F401  (registers matmul)
from schedopt.build import build_llvm_ir
from schedopt.errors import SchedOptError
from schedopt.layout_rewrite import LayoutRewriteOption, rewrite_layout
from schedopt.measurement import (
    MAX_FLOAT,
    BuildResult,
    LocalBuilder,
    LocalRunner,
    MeasureErrorNo,
    MeasureInput,
    MeasureResult,
)
from schedopt.measurement.time_evaluator import time_calls
from schedopt.schedule.loop_state import State
from schedopt.schedule.transform_steps import SplitStep
from schedopt.search_task import SearchTask

TIMEOUT = 1


@pytest.fixture(scope="module")
def task() -> SearchTask:
    return SearchTask(func="matmul", args=(32, 32, 32), target="llvm")


@pytest.fixture(scope="module")
def runner():
    runner = LocalRunner(timeout=TIMEOUT, number=2, repeat=2, min_repeat_ms=1)
    yield runner
    runner.close()


def scheduled(task: SearchTask) -> MeasureInput:
    state = task.compute_dag.get_init_state()
    io, _ = state.split("C", "i", [8])
    jo, _ = state.split("C", "j", [4])
    state.reorder("C", [io, jo, "k", "i.1", "j.1"])
    state.parallel("C", io)  # the runner loads the OpenMP runtime for it
    return MeasureInput(task, state)


def unscheduled(task: SearchTask) -> MeasureInput:
    return MeasureInput(task, task.compute_dag.get_init_state())


def build(inputs: list[MeasureInput], build_func="default", timeout: float = TIMEOUT) -> list[BuildResult]:
    builder = LocalBuilder(timeout=timeout, n_parallel=2, build_func=build_func)
    try:
        return builder.build(inputs, verbose=0)
    finally:
        builder.close()


def test_correct_schedules_are_measured(task: SearchTask, runner: LocalRunner):
    inputs = [scheduled(task), unscheduled(task)]
    built = build(inputs)
    assert [b.error_no for b in built] == [MeasureErrorNo.NO_ERROR] * 2
    for result in runner.run(inputs, built, verbose=0):
        assert result.error_no == MeasureErrorNo.NO_ERROR and result.error_msg == ""
        assert len(result.costs) == 2 and all(0 < c < MAX_FLOAT for c in result.costs)
        assert result.all_cost > 0 and result.timestamp > 0


@pytest.mark.parametrize("option", list(LayoutRewriteOption), ids=lambda option: option.name)
def test_candidates_are_built_as_apply_best_deploys_them(option: LayoutRewriteOption, runner: LocalRunner):
    """The builder rewrites layouts as the task says; pre-transformed weights reach the kernel transformed."""
    task = SearchTask(func="matmul", args=(32, 32, 32), target="llvm", layout_rewrite_option=option)
    measure_input = scheduled(task)
    (built,) = build([measure_input])
    rewrite = rewrite_layout(task.compute_dag, measure_input.state, option)
    assert bool(rewrite.layouts) == (option != LayoutRewriteOption.NO_REWRITE)
    assert built.error_no == MeasureErrorNo.NO_ERROR
    assert built.llvm_ir == build_llvm_ir(rewrite.dag, rewrite.state)
    shape_of_b = built.arg_specs[1].shape
    if option == LayoutRewriteOption.REWRITE_FOR_PRE_TRANSFORMED:
        assert [layout.placeholder for layout in built.pre_transformed] == ["B"]
        assert shape_of_b == built.pre_transformed[0].new_shape != (32, 32)
    else:
        assert built.pre_transformed == () and shape_of_b == (32, 32)
    (result,) = runner.run([measure_input], [built], verbose=0)
    assert result.error_no == MeasureErrorNo.NO_ERROR, result.error_msg


def test_schedule_that_does_not_apply_is_an_instantiation_error(task: SearchTask, runner: LocalRunner):
    bad = MeasureInput(task, State([], [SplitStep(2, 7, 32, (4,), True)]))
    built = build([bad, scheduled(task)])
    assert built[0].error_no == MeasureErrorNo.INSTANTIATION_ERROR
    assert "@matmul" in built[0].error_msg and "no iterator 7" in built[0].error_msg
    assert built[1].error_no == MeasureErrorNo.NO_ERROR
    result = runner.run([bad], built[:1], verbose=0)[0]
    assert result.error_no == MeasureErrorNo.INSTANTIATION_ERROR and result.costs == (MAX_FLOAT,)
    assert result.error_msg == built[0].error_msg


def test_ir_that_fails_to_compile(task: SearchTask):
    (built,) = build([scheduled(task)], faults.invalid_ir)
    assert built.error_no == MeasureErrorNo.COMPILE_HOST
    assert "LLVM rejected the module" in built.error_msg and "%undefined" in built.error_msg


def test_compiler_crash_fails_only_its_candidate(task: SearchTask):
    built = build([scheduled(task), unscheduled(task), scheduled(task)], faults.crashing_compiler)
    assert [b.error_no for b in built] == [
        MeasureErrorNo.COMPILE_HOST,
        MeasureErrorNo.NO_ERROR,
        MeasureErrorNo.COMPILE_HOST,
    ]
    assert "the compiler failed" in built[0].error_msg and "SIGSEGV" in built[0].error_msg


def test_compiler_hang_is_a_build_timeout(task: SearchTask):
    built = build([scheduled(task), unscheduled(task)], faults.hanging_compiler, timeout=1)
    assert built[0].error_no == MeasureErrorNo.BUILD_TIMEOUT
    assert "did not finish within 1 s" in built[0].error_msg
    assert built[1].error_no == MeasureErrorNo.NO_ERROR


def test_run_failures_each_get_their_code(task: SearchTask, runner: LocalRunner):
    inputs = [scheduled(task)] * 5
    built = [
        *build(inputs[:1], faults.segfaulting_kernel),
        *build(inputs[:1]),
        *build(inputs[:1], faults.hanging_kernel),
        *build(inputs[:1], faults.transposed_matmul),
        *build(inputs[:1], faults.idle_kernel),
    ]
    assert all(b.error_no == MeasureErrorNo.NO_ERROR for b in built)
    segfault, ok, hang, transposed, idle = runner.run(inputs, built, verbose=0)
    assert segfault.error_no == MeasureErrorNo.RUNTIME_DEVICE and "SIGSEGV" in segfault.error_msg
    assert ok.error_no == MeasureErrorNo.NO_ERROR
    assert hang.error_no == MeasureErrorNo.RUN_TIMEOUT
    assert f"did not finish within {TIMEOUT} s" in hang.error_msg
    assert transposed.error_no == MeasureErrorNo.WRONG_ANSWER
    assert "output C differs from the unscheduled program" in transposed.error_msg
    assert idle.error_no == MeasureErrorNo.WRONG_ANSWER and "got nan" in idle.error_msg
    for failed in (segfault, hang, transposed, idle):
        assert failed.costs == (MAX_FLOAT,)


def test_cache_flush(task: SearchTask):
    runner = LocalRunner(timeout=10, number=1, repeat=3, min_repeat_ms=0, enable_cpu_cache_flush=True)
    try:
        inputs = [scheduled(task)]
        (result,) = runner.run(inputs, build(inputs), verbose=0)
    finally:
        runner.close()
    assert result.error_no == MeasureErrorNo.NO_ERROR and len(result.costs) == 3


def test_number_grows_until_a_repeat_lasts_min_repeat_ms():
    calls = []
    costs = time_calls(lambda: calls.append(1), number=1, repeat=3, min_repeat_ms=5, flush=None)
    assert len(costs) == 3 and all(c > 0 for c in costs)
    assert len(calls) > 3


def test_measure_input_serializes_task_and_steps(task: SearchTask):
    original = scheduled(task)
    copy = MeasureInput.deserialize(original.serialize())
    assert copy.task.workload_key == task.workload_key and copy.task.target == task.target
    assert copy.state.transform_steps == original.state.transform_steps
    assert str(copy.task.compute_dag.module) == str(task.compute_dag.module)


def test_failed_result_always_has_a_message():
    result = MeasureResult((MAX_FLOAT,), 5, "", 0.0, 0.0)
    assert result.error_no is MeasureErrorNo.WRONG_ANSWER
    assert result.error_msg == "the program computed a wrong answer"
    assert MeasureResult((1.0, 3.0), 0, "", 0.0, 0.0).mean_cost() == 2.0
    assert result.mean_cost() == MAX_FLOAT


def test_bad_options_are_refused():
    with pytest.raises(SchedOptError, match="build_func must be 'default' or a function"):
        LocalBuilder(build_func="ndk")
    with pytest.raises(SchedOptError, match="must be a module-level function"):
        LocalBuilder(build_func=lambda dag, state, target: "")
    with pytest.raises(SchedOptError, match="repeat must be positive"):
        LocalRunner(repeat=0)
