"""`WorkerRunner`: what LocalRunner and CUDARunner share, a worker process and TVM's verdicts.

Each candidate is checked and timed by a job in a worker process of its own
(`schedopt.measurement.process_pool`), so a kernel that crashes or never
returns kills only that process. The runner computes each task's reference
outputs once in that worker (`schedopt.measurement.correctness`), charges a
candidate its build time plus the job's wall time, waits
`cooldown_interval`, and turns a job that timed out or died into TVM's
error codes. Subclasses say how one candidate is run (`_run_one`).
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from schedopt.measurement.correctness import REFERENCE_TIMEOUT_S, Reference, compute_reference
from schedopt.measurement.interfaces import ProgramRunner, print_progress
from schedopt.measurement.options import require_positive
from schedopt.measurement.process_pool import FailureKind, JobFailure, WorkerPool
from schedopt.measurement.results import BuildResult, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.search_task import SearchTask, target_kind


@dataclass(frozen=True)
class RunOutcome:
    """What a run job answers: the costs in seconds, or why there are none."""

    costs: tuple[float, ...]
    error_no: MeasureErrorNo
    error_msg: str = ""


class WorkerRunner(ProgramRunner):
    """Runs candidates one at a time in a worker process that imports `preload` (see the module docstring)."""

    def __init__(
        self,
        timeout: float,
        number: int,
        repeat: int,
        min_repeat_ms: float,
        cooldown_interval: float,
        preload: str,
    ):
        require_positive(type(self).__name__, timeout=timeout, number=number, repeat=repeat)
        self.timeout = timeout
        self.number = number
        self.repeat = repeat
        self.min_repeat_ms = min_repeat_ms
        self.cooldown_interval = cooldown_interval
        self._pool = WorkerPool(1, preload=[preload])
        self._references: dict[tuple[str, str], Reference | str] = {}

    def run(
        self, measure_inputs: Sequence[MeasureInput], build_results: Sequence[BuildResult], verbose: int = 1
    ) -> list[MeasureResult]:
        results = [
            self._run_one(inp, built) for inp, built in zip(measure_inputs, build_results, strict=True)
        ]
        if verbose >= 1:
            print_progress((result.error_no for result in results), success="*")
        return results

    def close(self) -> None:
        """Stop the worker process."""
        self._pool.close()

    @abstractmethod
    def _run_one(self, measure_input: MeasureInput, built: BuildResult) -> MeasureResult:
        """The result of one candidate."""

    def _measure(self, run_job: Callable[[Any], RunOutcome], job: Any, built: BuildResult) -> MeasureResult:
        """`run_job(job)` in the worker within `timeout`, as a result charged with the build's time."""
        start = time.perf_counter()
        (outcome,) = self._pool.map(run_job, [job], self.timeout)
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

    def _reference(self, task: SearchTask) -> Reference | str:
        """The task's reference outputs, computed once; a message if the unscheduled program failed."""
        key = (task.workload_key, target_kind(task.target))
        if key not in self._references:
            (outcome,) = self._pool.map(compute_reference, [task], REFERENCE_TIMEOUT_S)
            if isinstance(outcome, JobFailure):
                outcome = (
                    f"the unscheduled program of {task.workload_key}, which checks every candidate, "
                    f"failed ({outcome.kind.value}): {outcome.message}"
                )
            self._references[key] = outcome
        return self._references[key]
