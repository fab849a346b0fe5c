"""`LocalRunner`: check and time built candidates in a worker process of their own.

The runner JIT-compiles each candidate's IR in a separate worker process, so
a kernel that segfaults or never returns kills only that process. Timing
follows TVM's `time_evaluator` (`schedopt.measurement.time_evaluator`).
Every candidate gets fresh buffers on huge pages
(`schedopt.measurement.huge_pages`), so where they land in the caches does
not vary from one to the next; a kernel that takes pre-transformed weights
gets them transformed. The warm-up call doubles as the correctness check
(`schedopt.measurement.correctness`): a mismatch is `WRONG_ANSWER`.
Candidates of a cuda task go to a `CUDARunner` with the same options, as
TVM's LocalRunner runs whatever target it is given.
"""

from __future__ import annotations

import ctypes
import functools
import platform
from collections.abc import Callable
from dataclasses import dataclass, field

import llvmlite.binding as llvm

from schedopt.errors import CompileError, SchedOptError
from schedopt.hardware_params import is_cuda_target
from schedopt.measurement.correctness import Reference, compare_outputs, poisoned_output
from schedopt.measurement.cuda_runner import CUDARunner
from schedopt.measurement.huge_pages import huge_page_copy
from schedopt.measurement.results import BuildResult, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.measurement.time_evaluator import can_flush_cpu_cache, flush_cpu_cache, time_calls
from schedopt.measurement.worker_runner import RunOutcome, WorkerRunner
from schedopt.runtime import (
    OPENMP_SYMBOL_PREFIXES,
    create_host_target_machine,
    data_pointer,
    default_num_threads,
    defined_function,
    openmp_runtime,
    parse_llvm_ir,
)


@dataclass(frozen=True)
class _RunJob:
    build: BuildResult
    reference: Reference
    number: int
    repeat: int
    min_repeat_ms: float
    flush_cache: bool
    num_threads: int


@dataclass
class _LoadedKernel:
    """A kernel JIT-compiled from IR text; holds its execution engine alive."""

    engine: llvm.ExecutionEngine
    function: Callable[..., None] = field(repr=False)


def _load_kernel(build_result: BuildResult, num_threads: int) -> _LoadedKernel:
    """JIT-compile the kernel; if it calls the OpenMP runtime, load it with a team of `num_threads`."""
    assert build_result.llvm_ir is not None
    module = parse_llvm_ir(build_result.llvm_ir)
    defined_function(module, build_result.func_name)
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


def _run_candidate(job: _RunJob) -> RunOutcome:
    """In a runner worker: load the kernel, check its first run, then time it."""
    try:
        kernel = _load_kernel(job.build, job.num_threads)
    except CompileError as error:
        return RunOutcome((), MeasureErrorNo.COMPILE_HOST, str(error))
    reference = job.reference
    # Fresh copies on huge pages: every candidate's buffers sit alike in the caches (huge_pages.py).
    inputs = [huge_page_copy(array) for array in job.build.kernel_inputs(reference.inputs)]
    outputs = [poisoned_output(spec) for spec in job.build.arg_specs[len(inputs) :]]
    arrays = [*inputs, *outputs]
    pointers = [data_pointer(array) for array in arrays]
    kernel.function(*pointers)
    mismatch = compare_outputs(reference, outputs)
    if mismatch is not None:
        return RunOutcome((), MeasureErrorNo.WRONG_ANSWER, f"@{job.build.func_name}: {mismatch}")
    flush = functools.partial(flush_cpu_cache, arrays) if job.flush_cache else None
    costs = time_calls(lambda: kernel.function(*pointers), job.number, job.repeat, job.min_repeat_ms, flush)
    return RunOutcome(costs, MeasureErrorNo.NO_ERROR)


class LocalRunner(WorkerRunner):
    """Runs built candidates one at a time in a worker process, and times them.

    `timeout` (seconds) bounds loading, checking and timing one candidate; a
    kernel that outlives it is killed (`RUN_TIMEOUT`), one that kills its
    process is `RUNTIME_DEVICE`, one whose first outputs differ from the
    unscheduled program's is `WRONG_ANSWER`. In total a candidate runs
    1 + number x repeat times or more (see `min_repeat_ms`); costs are the
    `repeat` means. `cooldown_interval` seconds pass between candidates;
    `enable_cpu_cache_flush` evicts the arguments from the caches before each
    repeat (x86-64 hosts; set number=1 for it to matter). Candidates of a
    cuda task are run by a `CUDARunner` with the same options.
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
        super().__init__(timeout, number, repeat, min_repeat_ms, cooldown_interval, preload=__name__)
        if enable_cpu_cache_flush and not can_flush_cpu_cache():
            raise SchedOptError(
                f"LocalRunner: enable_cpu_cache_flush needs an x86-64 host (clflush), this one is {platform.machine()}"
            )
        self.enable_cpu_cache_flush = enable_cpu_cache_flush
        self._cuda_runner: CUDARunner | None = None

    def close(self) -> None:
        """Stop the worker processes."""
        super().close()
        if self._cuda_runner is not None:
            self._cuda_runner.close()

    def _run_one(self, measure_input: MeasureInput, built: BuildResult) -> MeasureResult:
        if is_cuda_target(measure_input.task.target):
            return self._gpu_runner()._run_one(measure_input, built)
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
        return self._measure(_run_candidate, job, built)

    def _gpu_runner(self) -> WorkerRunner:
        """The CUDARunner for this runner's cuda candidates, started at the first one."""
        if self._cuda_runner is None:
            self._cuda_runner = CUDARunner(
                self.timeout, self.number, self.repeat, self.min_repeat_ms, self.cooldown_interval
            )
        return self._cuda_runner
