"""`CUDARunner`: check and time GPU candidates with pycuda, in a worker process of their own.

LocalRunner's contract for a cuda task: each candidate's PTX is loaded by
the CUDA driver in a worker process (`schedopt.gpu_kernel`),
its kernels launched in order with their grid and block sizes, its outputs
compared with the unscheduled program's (computed once per task by the CPU
build, `schedopt.measurement.correctness`), and the launches timed with
CUDA events under TVM's `time_evaluator` rules. A kernel that faults
leaves the worker's CUDA context unusable, so the worker is replaced after
every `RUNTIME_DEVICE`.
"""

from __future__ import annotations

from dataclasses import dataclass

from schedopt.errors import CompileError, DeviceError, SchedOptError
from schedopt.gpu_kernel import load_gpu_kernel
from schedopt.measurement.correctness import Reference, compare_outputs, poisoned_output
from schedopt.measurement.results import BuildResult, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.measurement.time_evaluator import time_batches
from schedopt.measurement.worker_runner import RunOutcome, WorkerRunner


@dataclass(frozen=True)
class _GPURunJob:
    build: BuildResult
    reference: Reference
    number: int
    repeat: int
    min_repeat_ms: float
    device: int


def run_gpu_candidate(job: _GPURunJob) -> RunOutcome:
    """In a runner worker: load the kernels, check one run against the reference, then time them."""
    kernel = job.build.gpu_kernel
    assert kernel is not None, "a cuda build that succeeded carries its GPUKernel"
    try:
        loaded = load_gpu_kernel(kernel, job.device)
    except CompileError as error:
        return RunOutcome((), MeasureErrorNo.COMPILE_DEVICE, str(error))
    except DeviceError as error:
        return RunOutcome((), MeasureErrorNo.RUNTIME_DEVICE, str(error))
    try:
        inputs = job.build.kernel_inputs(job.reference.inputs)
        outputs = [poisoned_output(spec) for spec in kernel.arg_specs[len(inputs) :]]
        for spec, array in zip(kernel.arg_specs, [*inputs, *outputs], strict=True):
            loaded.copy_in(spec.name, array)
        loaded.run()
        for spec, array in zip(kernel.arg_specs[len(inputs) :], outputs, strict=True):
            loaded.copy_out(spec.name, array)
        mismatch = compare_outputs(job.reference, outputs)
        if mismatch is not None:
            return RunOutcome((), MeasureErrorNo.WRONG_ANSWER, f"@{job.build.func_name}: {mismatch}")
        costs = time_batches(loaded.time_batch, job.number, job.repeat, job.min_repeat_ms, None)
    except DeviceError as error:
        return RunOutcome((), MeasureErrorNo.RUNTIME_DEVICE, f"@{job.build.func_name}: {error}")
    finally:
        loaded.free()
    return RunOutcome(costs, MeasureErrorNo.NO_ERROR)


class CUDARunner(WorkerRunner):
    """Runs built cuda candidates one at a time on GPU `device` with pycuda, and times them.

    The options mean what they mean for `LocalRunner`: `timeout` bounds
    loading, checking and timing one candidate (`RUN_TIMEOUT`); each
    candidate runs 1 + number x repeat times or more (`min_repeat_ms`), and
    its costs are the `repeat` means, timed by CUDA events. PTX the driver
    refuses is `COMPILE_DEVICE`; a launch it refuses, a fault, or a missing
    pycuda is `RUNTIME_DEVICE`; outputs that differ from the unscheduled
    program's are `WRONG_ANSWER`.
    """

    def __init__(
        self,
        timeout: float = 10,
        number: int = 3,
        repeat: int = 1,
        min_repeat_ms: float = 100,
        cooldown_interval: float = 0.0,
        device: int = 0,
    ):
        super().__init__(timeout, number, repeat, min_repeat_ms, cooldown_interval, preload=__name__)
        if device < 0:
            raise SchedOptError(f"CUDARunner: device must be a CUDA device ordinal (0, 1, ...), got {device}")
        self.device = device

    def _run_one(self, measure_input: MeasureInput, built: BuildResult) -> MeasureResult:
        if built.error_no != MeasureErrorNo.NO_ERROR:
            return MeasureResult.failure(built.error_no, built.error_msg, built.time_cost)
        if built.gpu_kernel is None:
            message = (
                f"@{built.func_name} was built for {measure_input.task.target!r}, not for a cuda target: "
                "CUDARunner runs GPU kernels only"
            )
            return MeasureResult.failure(MeasureErrorNo.UNKNOWN_ERROR, message, built.time_cost)
        reference = self._reference(measure_input.task)
        if isinstance(reference, str):
            return MeasureResult.failure(MeasureErrorNo.UNKNOWN_ERROR, reference, built.time_cost)
        job = _GPURunJob(built, reference, self.number, self.repeat, self.min_repeat_ms, self.device)
        result = self._measure(run_gpu_candidate, job, built)
        if result.error_no == MeasureErrorNo.RUNTIME_DEVICE:
            self._pool.close()  # after a fault the worker's CUDA context is unusable: start a fresh one
        return result
