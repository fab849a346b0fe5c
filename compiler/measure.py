"""Measurement: build candidate schedules, run them, time them, and say what went wrong.

The search hands a batch of `MeasureInput`s (a task and a State) to a
`ProgramBuilder`, then the builds to a `ProgramRunner`, and gets one
`MeasureResult` per candidate: its costs in seconds, or an error code of
`MeasureErrorNo` with a message. A candidate that fails never stops the
batch: every failure mode is a result.

- `LocalBuilder` replays each candidate's steps on the task's DAG (a step
  that does not apply is an instantiation error), rewrites the layouts of
  its weights as the task's `layout_rewrite_option` says (what `apply_best`
  deploys is what was measured, as in TVM), lowers and compiles it in a pool
  of worker processes (`schedopt.process_pool`); a build that crashes its
  process or outlives `timeout` is killed and recorded.
- The artifact passed from builder to runner is the optimised LLVM IR text
  of the kernel: compiled kernels are JIT code inside one process and cannot
  be pickled, while IR text can, and turning it into machine code again
  costs the runner only LLVM's code generation (milliseconds).
- `LocalRunner` JIT-compiles the IR in a separate worker process, so a
  kernel that segfaults or never returns kills only that process. Timing
  follows TVM's `time_evaluator`: one warm-up call, then `repeat` costs,
  each the mean over `number` calls, `number` growing until a repeat lasts
  `min_repeat_ms`; optionally the caches are flushed before each repeat.
  Every candidate gets fresh buffers on huge pages (`schedopt.huge_pages`),
  so where they land in the caches does not vary from one to the next; a
  kernel that takes pre-transformed weights gets them transformed.
- The warm-up call doubles as the correctness check: its outputs are
  compared with the unscheduled program's outputs on the same random inputs
  (built and run once per task), within a tolerance set by the dtype. A
  mismatch is `WRONG_ANSWER`, so a wrong schedule is never recorded as fast.
"""

from __future__ import annotations

import ctypes
import enum
import functools
import os
import pickle
import platform
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import llvmlite.binding as llvm
import numpy as np

from schedopt.build import argument_specs, build, build_llvm_ir
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import CompileError, SchedOptError, ScheduleError
from schedopt.huge_pages import huge_page_copy, huge_page_empty
from schedopt.layout_rewrite import PlaceholderLayout, pre_transform, rewrite_layout
from schedopt.process_pool import FailureKind, JobFailure, WorkerPool
from schedopt.runtime import (
    OPENMP_SYMBOL_PREFIXES,
    BufferSpec,
    create_host_target_machine,
    data_pointer,
    default_num_threads,
    openmp_runtime,
    parse_llvm_ir,
)
from schedopt.schedule.loop_state import State
from schedopt.schedule.transform_steps import step_from_record
from schedopt.search_task import SearchTask, target_kind

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from schedopt.search_policy import SearchPolicy

MAX_FLOAT = 1e10
"""The cost recorded for a failed measurement (TVM's value)."""

REFERENCE_TIMEOUT_S = 120.0
"""Time allowed to build and run a task's unscheduled program, once per task (naive loops can be slow)."""

_RELATIVE_TOLERANCE = {np.dtype("float16"): 1e-2, np.dtype("float32"): 1e-4, np.dtype("float64"): 1e-9}
"""Per float dtype, the relative error allowed against the unscheduled program; the absolute
error allowed is the same fraction of the largest expected magnitude (at least 1). Schedules
reorder sums, so float results differ in their last bits; other dtypes must match exactly."""


class MeasureErrorNo(enum.IntEnum):
    """Why a measurement failed; the values are TVM's, as stored in records."""

    NO_ERROR = 0
    INSTANTIATION_ERROR = 1
    COMPILE_HOST = 2
    COMPILE_DEVICE = 3
    RUNTIME_DEVICE = 4
    WRONG_ANSWER = 5
    BUILD_TIMEOUT = 6
    RUN_TIMEOUT = 7
    UNKNOWN_ERROR = 8

    def describe(self) -> str:
        """A phrase for a person: "the schedule does not apply", ..."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    MeasureErrorNo.NO_ERROR: "no error",
    MeasureErrorNo.INSTANTIATION_ERROR: "the schedule does not apply to the workload",
    MeasureErrorNo.COMPILE_HOST: "the program failed to compile for the host",
    MeasureErrorNo.COMPILE_DEVICE: "the program failed to compile for the device",
    MeasureErrorNo.RUNTIME_DEVICE: "the program failed while running",
    MeasureErrorNo.WRONG_ANSWER: "the program computed a wrong answer",
    MeasureErrorNo.BUILD_TIMEOUT: "the build timed out",
    MeasureErrorNo.RUN_TIMEOUT: "the run timed out",
    MeasureErrorNo.UNKNOWN_ERROR: "unknown error",
}


# --- inputs and results ------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureInput:
    """A candidate to measure: the task and the State whose steps schedule it.

    Inputs read from records carry a task without DAG and a State holding
    only the steps (`schedopt.records.recover_measure_input` rebuilds both).
    """

    task: SearchTask
    state: State

    def serialize(self) -> bytes:
        """The input as bytes for another process: the task (its DAG as IR text) and the steps.

        The State's stages are not sent: the receiver replays the steps on
        the DAG, which checks them.
        """
        return pickle.dumps((self.task, [step.to_record() for step in self.state.transform_steps]))

    @staticmethod
    def deserialize(data: bytes) -> MeasureInput:
        """The input `serialize` gave, with a State holding only the steps."""
        task, step_records = pickle.loads(data)
        return MeasureInput(task, State([], [step_from_record(record) for record in step_records]))


@dataclass(frozen=True)
class MeasureResult:
    """The outcome of a measurement: costs in seconds, or an error code with its message.

    `error_msg` is never empty when `error_no` is not `NO_ERROR`: without a
    message of its own (a record file keeps only the code), it is the code's
    description. `all_cost` is the seconds spent building and running;
    `timestamp` the time of the measurement (seconds since the epoch).
    """

    costs: tuple[float, ...]
    error_no: MeasureErrorNo
    error_msg: str
    all_cost: float
    timestamp: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "costs", tuple(float(c) for c in self.costs))
        object.__setattr__(self, "error_no", MeasureErrorNo(self.error_no))
        if self.error_no != MeasureErrorNo.NO_ERROR and not self.error_msg:
            object.__setattr__(self, "error_msg", self.error_no.describe())

    @staticmethod
    def failure(error_no: MeasureErrorNo, error_msg: str, all_cost: float = 0.0) -> MeasureResult:
        """A failed measurement, costed `MAX_FLOAT` as TVM records it."""
        return MeasureResult((MAX_FLOAT,), error_no, error_msg, all_cost, time.time())

    def mean_cost(self) -> float:
        """The cost records are ranked by: the mean of the costs (`MAX_FLOAT` for a failure)."""
        if self.error_no != MeasureErrorNo.NO_ERROR or not self.costs:
            return MAX_FLOAT
        return sum(self.costs) / len(self.costs)


@dataclass(frozen=True)
class BuildResult:
    """A built candidate: the kernel's LLVM IR, its name and arguments; or why the build failed."""

    llvm_ir: str | None
    func_name: str
    arg_specs: tuple[BufferSpec, ...]
    error_no: MeasureErrorNo
    error_msg: str
    time_cost: float
    pre_transformed: tuple[PlaceholderLayout, ...] = ()
    """The inputs the kernel takes in a rewritten layout (REWRITE_FOR_PRE_TRANSFORMED)."""

    def kernel_inputs(self, inputs: Sequence[NDArray[Any]]) -> list[NDArray[Any]]:
        """The kernel's inputs from the workload's (placeholder order): weights in their new layouts."""
        names = [spec.name for spec in self.arg_specs[: len(inputs)]]
        return pre_transform(self.pre_transformed, names, inputs)


class MeasureCallback(ABC):
    """Something the tuner calls after each batch of measurements (e.g. `RecordToFile`)."""

    @abstractmethod
    def callback(
        self, policy: SearchPolicy, inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]
    ) -> None:
        """Called with the search policy and the batch just measured."""


class ProgramBuilder(ABC):
    """Builds candidates for a `ProgramRunner`."""

    @abstractmethod
    def build(self, measure_inputs: Sequence[MeasureInput], verbose: int = 1) -> list[BuildResult]:
        """One `BuildResult` per input, in order."""


class ProgramRunner(ABC):
    """Runs and times built candidates."""

    @abstractmethod
    def run(
        self, measure_inputs: Sequence[MeasureInput], build_results: Sequence[BuildResult], verbose: int = 1
    ) -> list[MeasureResult]:
        """One `MeasureResult` per input, in order."""


# --- building --------------------------------------------------------------------------------

BuildFunc: TypeAlias = Callable[[ComputeDAG, State, str], str]
"""Compiles a scheduled DAG for a target to LLVM IR text defining the kernel `@dag.func_name`."""


def default_build_func(dag: ComputeDAG, state: State, target: str) -> str:
    """The optimised LLVM IR of `schedopt.build(dag, state, target)`, without generating machine code."""
    return build_llvm_ir(dag, state, target)


@dataclass(frozen=True)
class _BuildJob:
    measure_input: bytes
    build_func: BuildFunc


def _build_candidate(job: _BuildJob) -> BuildResult:
    """In a builder worker: replay the steps, rewrite layouts, compile, and check the artifact loads."""
    start = time.perf_counter()
    measure_input = MeasureInput.deserialize(job.measure_input)
    task = measure_input.task
    dag = task.compute_dag
    assert dag is not None, "a serialised task carries its DAG"

    def failure(error_no: MeasureErrorNo, message: str) -> BuildResult:
        return BuildResult(
            None, dag.func_name, (), error_no, f"@{dag.func_name}: {message}", time.perf_counter() - start
        )

    try:
        state = dag.replay_steps(measure_input.state.transform_steps)
        rewrite = rewrite_layout(dag, state, task.layout_rewrite_option)
        specs = tuple(argument_specs(rewrite.dag))
        llvm_ir = job.build_func(rewrite.dag, rewrite.state, task.target)
        _check_artifact(llvm_ir, dag.func_name, len(specs))
    except ScheduleError as error:
        return failure(MeasureErrorNo.INSTANTIATION_ERROR, str(error))
    except Exception as error:  # a compiler failure on one candidate is that candidate's result
        return failure(MeasureErrorNo.COMPILE_HOST, _describe_exception(error))
    elapsed = time.perf_counter() - start
    return BuildResult(
        llvm_ir, dag.func_name, specs, MeasureErrorNo.NO_ERROR, "", elapsed, rewrite.pre_transformed
    )


def _check_artifact(llvm_ir: str, func_name: str, n_args: int) -> None:
    function = _find_function(parse_llvm_ir(llvm_ir), func_name)
    types = [str(arg.type) for arg in function.arguments]
    if types != ["ptr"] * n_args:
        raise CompileError(f"@{func_name} takes ({', '.join(types)}); the kernel must take {n_args} pointers")


def _find_function(module: llvm.ModuleRef, name: str) -> llvm.ValueRef:
    try:
        function = module.get_function(name)
    except NameError:
        function = None
    if function is None or function.is_declaration:
        raise CompileError(f"the built module defines no function @{name}")
    return function


def _describe_exception(error: Exception) -> str:
    if isinstance(error, SchedOptError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class LocalBuilder(ProgramBuilder):
    """Builds candidates in `n_parallel` worker processes, each build within `timeout` seconds.

    `build_func` is "default" (`default_build_func`) or a module-level
    function `(dag, state, target) -> LLVM IR text`, which the workers import
    by name. A build that raises is `COMPILE_HOST` (`INSTANTIATION_ERROR` for
    a step that does not apply); one that kills its worker is `COMPILE_HOST`;
    one that outlives the timeout is killed and recorded as `BUILD_TIMEOUT`.
    """

    def __init__(
        self, timeout: float = 15, n_parallel: int | None = None, build_func: BuildFunc | str = "default"
    ):
        if build_func == "default":
            build_func = default_build_func
        if not callable(build_func):
            raise SchedOptError(
                f"LocalBuilder: build_func must be 'default' or a function, got {build_func!r}"
            )
        try:
            pickle.dumps(build_func)
        except (pickle.PicklingError, AttributeError, TypeError):
            raise SchedOptError(
                f"LocalBuilder: build_func {build_func!r} must be a module-level function "
                "(the worker processes import it by name)"
            ) from None
        if timeout <= 0:
            raise SchedOptError(f"LocalBuilder: timeout must be positive, got {timeout}")
        self.timeout = timeout
        self.n_parallel = n_parallel or os.cpu_count() or 1
        self.build_func = build_func
        self._pool = WorkerPool(self.n_parallel, preload=[__name__])

    def build(self, measure_inputs: Sequence[MeasureInput], verbose: int = 1) -> list[BuildResult]:
        for inp in measure_inputs:
            if inp.task.compute_dag is None:
                raise SchedOptError(
                    f"LocalBuilder: the task of workload {inp.task.workload_key} has no DAG "
                    "(it was read from records: recover_measure_input rebuilds it)"
                )
        jobs = [_BuildJob(inp.serialize(), self.build_func) for inp in measure_inputs]
        outcomes = self._pool.map(_build_candidate, jobs, self.timeout)
        results = [
            self._failed_build(inp, outcome) if isinstance(outcome, JobFailure) else outcome
            for inp, outcome in zip(measure_inputs, outcomes, strict=True)
        ]
        if verbose >= 1:
            _print_progress((result.error_no for result in results), success=".")
        return results

    def close(self) -> None:
        """Stop the worker processes."""
        self._pool.close()

    def _failed_build(self, measure_input: MeasureInput, failure: JobFailure) -> BuildResult:
        assert measure_input.task.compute_dag is not None
        name = measure_input.task.compute_dag.func_name
        if failure.kind == FailureKind.TIMEOUT:
            message = f"@{name}: the build did not finish within {self.timeout:g} s and was killed"
            return BuildResult(None, name, (), MeasureErrorNo.BUILD_TIMEOUT, message, self.timeout)
        message = f"@{name}: the compiler failed: {failure.message}"
        return BuildResult(None, name, (), MeasureErrorNo.COMPILE_HOST, message, 0.0)


# --- running ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reference:
    """A task's random inputs and the unscheduled program's outputs on them."""

    inputs: list[NDArray[Any]]
    outputs: list[NDArray[Any]]
    output_names: list[str]


def _compute_reference(task: SearchTask) -> _Reference:
    """In a runner worker: build the unscheduled program and run it on seeded random inputs."""
    # Importing the workload library registers its workloads, which must not
    # happen on `import schedopt` (a user may register names it uses).
    from schedopt.workloads.numpy_reference import random_inputs

    dag = task.compute_dag
    assert dag is not None, "a pickled task carries its DAG"
    inputs = random_inputs(dag.func_name, dag, np.random.default_rng(0))
    for index, name in enumerate(dag.placeholder_names):
        if name in task.task_inputs:
            inputs[index] = np.ascontiguousarray(task.task_inputs[name])
    kernel = build(dag, None, task.target, task.hardware_params)
    outputs = [np.empty(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    return _Reference(inputs, outputs, list(dag.output_names))


@dataclass(frozen=True)
class _RunJob:
    build: BuildResult
    reference: _Reference
    number: int
    repeat: int
    min_repeat_ms: float
    flush_cache: bool
    num_threads: int


@dataclass(frozen=True)
class _RunOutcome:
    costs: tuple[float, ...]
    error_no: MeasureErrorNo
    error_msg: str = ""


@dataclass
class _LoadedKernel:
    """A kernel JIT-compiled from IR text; holds its execution engine alive."""

    engine: llvm.ExecutionEngine
    function: Callable[..., None] = field(repr=False)


def _load_kernel(build_result: BuildResult, num_threads: int) -> _LoadedKernel:
    """JIT-compile the kernel; if it calls the OpenMP runtime, load it with a team of `num_threads`."""
    assert build_result.llvm_ir is not None
    module = parse_llvm_ir(build_result.llvm_ir)
    _find_function(module, build_result.func_name)
    if any(f.is_declaration and f.name.startswith(OPENMP_SYMBOL_PREFIXES) for f in module.functions):
        # This process runs no other kernel, so the team size is set once, for all calls.
        openmp_runtime().omp_set_num_threads(num_threads)
    try:
        engine = llvm.create_mcjit_compiler(module, create_host_target_machine())
        engine.finalize_object()
    except RuntimeError as error:
        raise CompileError(f"LLVM could not compile @{build_result.func_name}: {error}") from error
    address = engine.get_function_address(build_result.func_name)
    prototype = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * len(build_result.arg_specs)))
    return _LoadedKernel(engine, prototype(address))


def _run_candidate(job: _RunJob) -> _RunOutcome:
    """In a runner worker: load the kernel, check its first run, then time it."""
    try:
        kernel = _load_kernel(job.build, job.num_threads)
    except CompileError as error:
        return _RunOutcome((), MeasureErrorNo.COMPILE_HOST, str(error))
    reference = job.reference
    # Fresh copies on huge pages: every candidate's buffers sit alike in the caches (huge_pages.py).
    inputs = [huge_page_copy(array) for array in job.build.kernel_inputs(reference.inputs)]
    outputs = [_poisoned(spec) for spec in job.build.arg_specs[len(inputs) :]]
    arrays = [*inputs, *outputs]
    pointers = [data_pointer(array) for array in arrays]
    kernel.function(*pointers)
    mismatch = _compare_outputs(reference, outputs)
    if mismatch is not None:
        return _RunOutcome((), MeasureErrorNo.WRONG_ANSWER, f"@{job.build.func_name}: {mismatch}")
    flush = functools.partial(_flush_cpu_cache, arrays) if job.flush_cache else None
    costs = _time_calls(lambda: kernel.function(*pointers), job.number, job.repeat, job.min_repeat_ms, flush)
    return _RunOutcome(costs, MeasureErrorNo.NO_ERROR)


def _poisoned(spec: BufferSpec) -> NDArray[Any]:
    """An output buffer on huge pages filled with values a correct kernel overwrites (NaN for floats)."""
    buffer = huge_page_empty(spec.shape, spec.dtype)
    if np.issubdtype(spec.dtype, np.floating):
        buffer.fill(np.nan)
    elif spec.dtype == np.bool_:
        buffer.fill(False)
    else:
        buffer.fill(np.iinfo(spec.dtype).min)
    return buffer


def _compare_outputs(reference: _Reference, outputs: Sequence[NDArray[Any]]) -> str | None:
    """None if every output matches the reference within its dtype's tolerance, else what differs."""
    for name, got, expected in zip(reference.output_names, outputs, reference.outputs, strict=True):
        tolerance = _RELATIVE_TOLERANCE.get(expected.dtype, 0.0)
        finite = np.abs(expected[np.isfinite(expected)]) if tolerance else np.zeros(0)
        scale = max(1.0, float(finite.max())) if finite.size else 1.0
        close = np.isclose(got, expected, rtol=tolerance, atol=tolerance * scale, equal_nan=True)
        if close.all():
            continue
        first = tuple(int(i) for i in np.argwhere(~close)[0])
        return (
            f"output {name} differs from the unscheduled program in {int((~close).sum())} of "
            f"{close.size} elements; first at {list(first)}: got {got[first]}, expected {expected[first]} "
            f"(relative tolerance {tolerance:g} for {expected.dtype})"
        )
    return None


def _time_calls(
    call: Callable[[], None],
    number: int,
    repeat: int,
    min_repeat_ms: float,
    flush: Callable[[], None] | None,
) -> tuple[float, ...]:
    """`repeat` costs in seconds, each the mean over `number` calls, as TVM's time_evaluator.

    `number` grows (at least by the golden ratio) until one repeat lasts
    `min_repeat_ms`, and keeps its size for the following repeats.
    """
    costs: list[float] = []
    for _ in range(repeat):
        if flush is not None:
            flush()
        while True:
            start = time.perf_counter()
            for _ in range(number):
                call()
            elapsed = max(time.perf_counter() - start, 1e-9)
            if elapsed * 1e3 >= min_repeat_ms:
                break
            per_call_ms = elapsed * 1e3 / number
            number = max(int(min_repeat_ms / per_call_ms) + 1, int(number * 1.618))
        costs.append(elapsed / number)
    return tuple(costs)


_CACHE_FLUSH_IR = """
declare void @llvm.x86.sse2.clflush(ptr)
declare void @llvm.x86.sse2.mfence()

define void @schedopt_flush(ptr %base, i64 %bytes) {
entry:
  %empty = icmp eq i64 %bytes, 0
  br i1 %empty, label %done, label %loop
loop:
  %offset = phi i64 [ 0, %entry ], [ %next, %loop ]
  %line = getelementptr i8, ptr %base, i64 %offset
  call void @llvm.x86.sse2.clflush(ptr %line)
  %next = add i64 %offset, 64
  %more = icmp ult i64 %next, %bytes
  br i1 %more, label %loop, label %last
last:
  %end = getelementptr i8, ptr %base, i64 %bytes
  %tail = getelementptr i8, ptr %end, i64 -1
  call void @llvm.x86.sse2.clflush(ptr %tail)
  br label %done
done:
  call void @llvm.x86.sse2.mfence()
  ret void
}
"""
"""Evicts a buffer from every cache level with `clflush`, line by line, as TVM's cache flush does."""


@functools.cache
def _cache_flusher() -> _LoadedKernel:
    engine = llvm.create_mcjit_compiler(parse_llvm_ir(_CACHE_FLUSH_IR), create_host_target_machine())
    engine.finalize_object()
    prototype = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64)
    return _LoadedKernel(engine, prototype(engine.get_function_address("schedopt_flush")))


def _flush_cpu_cache(arrays: Sequence[NDArray[Any]]) -> None:
    flush = _cache_flusher().function
    for array in arrays:
        flush(data_pointer(array), array.nbytes)


def _can_flush_cpu_cache() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


class LocalRunner(ProgramRunner):
    """Runs built candidates one at a time in a worker process, and times them.

    `timeout` (seconds) bounds loading, checking and timing one candidate; a
    kernel that outlives it is killed (`RUN_TIMEOUT`), one that kills its
    process is `RUNTIME_DEVICE`, one whose first outputs differ from the
    unscheduled program's is `WRONG_ANSWER`. In total a candidate runs
    1 + number x repeat times or more (see `min_repeat_ms`); costs are the
    `repeat` means. `cooldown_interval` seconds pass between candidates;
    `enable_cpu_cache_flush` evicts the arguments from the caches before each
    repeat (x86-64 hosts; set number=1 for it to matter).
    """

    def __init__(
        self,
        timeout: float = 10,
        number: int = 3,
        repeat: int = 1,
        min_repeat_ms: float = 100,
        cooldown_interval: float = 0.0,
        enable_cpu_cache_flush: bool = False,
    ):
        for option, value in (("timeout", timeout), ("number", number), ("repeat", repeat)):
            if value <= 0:
                raise SchedOptError(f"LocalRunner: {option} must be positive, got {value}")
        if enable_cpu_cache_flush and not _can_flush_cpu_cache():
            raise SchedOptError(
                f"LocalRunner: enable_cpu_cache_flush needs an x86-64 host (clflush), this one is {platform.machine()}"
            )
        self.timeout = timeout
        self.number = number
        self.repeat = repeat
        self.min_repeat_ms = min_repeat_ms
        self.cooldown_interval = cooldown_interval
        self.enable_cpu_cache_flush = enable_cpu_cache_flush
        self._pool = WorkerPool(1, preload=[__name__])
        self._references: dict[tuple[str, str], _Reference | str] = {}

    def run(
        self, measure_inputs: Sequence[MeasureInput], build_results: Sequence[BuildResult], verbose: int = 1
    ) -> list[MeasureResult]:
        results = [
            self._run_one(inp, built) for inp, built in zip(measure_inputs, build_results, strict=True)
        ]
        if verbose >= 1:
            _print_progress((result.error_no for result in results), success="*")
        return results

    def close(self) -> None:
        """Stop the worker process."""
        self._pool.close()

    def _run_one(self, measure_input: MeasureInput, built: BuildResult) -> MeasureResult:
        if built.error_no != MeasureErrorNo.NO_ERROR:
            return MeasureResult.failure(built.error_no, built.error_msg, built.time_cost)
        reference = self._reference(measure_input.task)
        if isinstance(reference, str):
            return MeasureResult.failure(MeasureErrorNo.UNKNOWN_ERROR, reference, built.time_cost)
        cores = getattr(measure_input.task.hardware_params, "num_cores", None)
        job = _RunJob(
            built,
            reference,
            self.number,
            self.repeat,
            self.min_repeat_ms,
            self.enable_cpu_cache_flush,
            cores or default_num_threads(),
        )
        start = time.perf_counter()
        (outcome,) = self._pool.map(_run_candidate, [job], self.timeout)
        all_cost = built.time_cost + time.perf_counter() - start
        if self.cooldown_interval > 0:
            time.sleep(self.cooldown_interval)
        if isinstance(outcome, JobFailure):
            return MeasureResult.failure(*self._describe_failure(built, outcome), all_cost)
        if outcome.error_no != MeasureErrorNo.NO_ERROR:
            return MeasureResult.failure(outcome.error_no, outcome.error_msg, all_cost)
        return MeasureResult(outcome.costs, MeasureErrorNo.NO_ERROR, "", all_cost, time.time())

    def _describe_failure(self, built: BuildResult, failure: JobFailure) -> tuple[MeasureErrorNo, str]:
        name = built.func_name
        if failure.kind == FailureKind.TIMEOUT:
            return (
                MeasureErrorNo.RUN_TIMEOUT,
                f"@{name} did not finish within {self.timeout:g} s and was killed",
            )
        if failure.kind == FailureKind.CRASHED:
            return MeasureErrorNo.RUNTIME_DEVICE, f"@{name} crashed its process: {failure.message}"
        return MeasureErrorNo.RUNTIME_DEVICE, f"@{name} failed to run:\n{failure.message}"

    def _reference(self, task: SearchTask) -> _Reference | str:
        """The task's reference outputs, computed once; a message if the unscheduled program failed."""
        key = (task.workload_key, target_kind(task.target))
        if key not in self._references:
            (outcome,) = self._pool.map(_compute_reference, [task], REFERENCE_TIMEOUT_S)
            if isinstance(outcome, JobFailure):
                outcome = (
                    f"the unscheduled program of {task.workload_key}, which checks every candidate, "
                    f"failed ({outcome.kind.value}): {outcome.message}"
                )
            self._references[key] = outcome
        return self._references[key]


def _print_progress(error_codes: Iterable[MeasureErrorNo], success: str) -> None:
    """One mark per candidate, as TVM prints them: `success` ('.' built, '*' measured), 'E' failed, 'T' timed out."""
    marks = {
        MeasureErrorNo.NO_ERROR: success,
        MeasureErrorNo.BUILD_TIMEOUT: "T",
        MeasureErrorNo.RUN_TIMEOUT: "T",
    }
    sys.stdout.write("".join(marks.get(code, "E") for code in error_codes))
    sys.stdout.flush()
