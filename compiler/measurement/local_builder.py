"""`LocalBuilder`: compile candidates to LLVM IR (CPU) or PTX (cuda) in a pool of worker processes.

Each candidate's steps are replayed on the task's DAG (a step that does not
apply is an instantiation error), the layouts of its weights rewritten as
the task's `layout_rewrite_option` says (what `apply_best` deploys is what
was measured, as in TVM), and the program lowered and compiled; a build
that crashes its process or outlives `timeout` is killed and recorded.

The artifact passed from builder to runner is the optimised LLVM IR text
of the kernel: compiled kernels are JIT code inside one process and cannot
be pickled, while IR text can, and turning it into machine code again costs
the runner only LLVM's code generation (milliseconds). For a cuda target
the artifact is a `GPUKernel`: the PTX text, which the runner's CUDA driver
compiles to machine code, and the launches of its kernels.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from schedopt.build import argument_specs, build_gpu, build_llvm_ir
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import CompileError, SchedOptError, ScheduleError
from schedopt.gpu_kernel import GPUKernel
from schedopt.hardware_params import HardwareParams, is_cuda_target
from schedopt.layout_rewrite import rewrite_layout
from schedopt.measurement.interfaces import ProgramBuilder, print_progress
from schedopt.measurement.process_pool import FailureKind, JobFailure, WorkerPool
from schedopt.measurement.results import BuildResult, MeasureErrorNo, MeasureInput
from schedopt.runtime import BufferSpec, defined_function, parse_llvm_ir
from schedopt.schedule.loop_state import State

BuildFunc: TypeAlias = Callable[[ComputeDAG, State, str], "str | GPUKernel"]
"""Compiles a scheduled DAG for a target: LLVM IR text defining the kernel `@dag.func_name`
for a CPU target, the `GPUKernel` of `schedopt.build` for a cuda one."""


def default_build_func(
    dag: ComputeDAG, state: State, target: str, hardware_params: HardwareParams | None = None
) -> str | GPUKernel:
    """What `schedopt.build(dag, state, target)` compiles, without generating machine code.

    For a CPU target, the optimised LLVM IR; for a cuda target, the PTX and
    launches, within the thread and shared-memory limits of `hardware_params`.
    """
    if is_cuda_target(target):
        return build_gpu(dag, state, target, hardware_params)
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
        if job.build_func is default_build_func:
            artifact = default_build_func(rewrite.dag, rewrite.state, task.target, task.hardware_params)
        else:
            artifact = job.build_func(rewrite.dag, rewrite.state, task.target)
        if isinstance(artifact, GPUKernel):
            _check_gpu_artifact(artifact, specs)
        else:
            _check_artifact(artifact, dag.func_name, len(specs))
    except ScheduleError as error:
        return failure(MeasureErrorNo.INSTANTIATION_ERROR, str(error))
    except Exception as error:  # a compiler failure on one candidate is that candidate's result
        return failure(MeasureErrorNo.COMPILE_HOST, _describe_exception(error))
    elapsed = time.perf_counter() - start
    if isinstance(artifact, GPUKernel):
        return BuildResult(
            None,
            dag.func_name,
            specs,
            MeasureErrorNo.NO_ERROR,
            "",
            elapsed,
            rewrite.pre_transformed,
            gpu_kernel=artifact,
        )
    return BuildResult(
        artifact, dag.func_name, specs, MeasureErrorNo.NO_ERROR, "", elapsed, rewrite.pre_transformed
    )


def _check_artifact(llvm_ir: str, func_name: str, n_args: int) -> None:
    function = defined_function(parse_llvm_ir(llvm_ir), func_name)
    types = [str(arg.type) for arg in function.arguments]
    if types != ["ptr"] * n_args:
        raise CompileError(f"@{func_name} takes ({', '.join(types)}); the kernel must take {n_args} pointers")


def _check_gpu_artifact(kernel: GPUKernel, specs: tuple[BufferSpec, ...]) -> None:
    """The kernels take the workload's buffers, and the PTX defines every kernel launched."""
    if kernel.arg_specs != specs:
        raise CompileError(
            f"the GPU kernels of {kernel.name} take ({', '.join(s.name for s in kernel.arg_specs)}); "
            f"the workload's buffers are ({', '.join(s.name for s in specs)})"
        )
    for launch in kernel.launches:
        if f".entry {launch.kernel}(" not in kernel.ptx:
            raise CompileError(
                f"the PTX of {kernel.name} defines no kernel {launch.kernel}, which it launches"
            )


def _describe_exception(error: Exception) -> str:
    if isinstance(error, SchedOptError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class LocalBuilder(ProgramBuilder):
    """Builds candidates in `n_parallel` worker processes, each build within `timeout` seconds.

    `build_func` is "default" (`default_build_func`) or a module-level
    function `(dag, state, target) -> LLVM IR text` (a `GPUKernel` for a
    cuda target), which the workers import by name. A build that raises is `COMPILE_HOST` (`INSTANTIATION_ERROR` for
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
            print_progress((result.error_no for result in results), success=".")
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
