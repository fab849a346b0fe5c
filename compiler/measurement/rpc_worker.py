"""What a Dask worker does with a measurement job of `RPCRunner`: what `LocalRunner` does at home.

A job carries the candidate's task, its `BuildResult` (the LLVM IR travels,
not machine code) and the runner's options. The worker measures it
with a `LocalRunner` of those options, so a remote measurement has the same
error codes, correctness check and timing rules as a local one, and the
same fault isolation: the kernel runs in a subprocess of the worker, so a
segfault is a `RUNTIME_DEVICE` record and a hang a `RUN_TIMEOUT`, and the
Dask worker lives on. The `LocalRunner`s (and with them each task's
reference outputs, computed once per task) live in a worker plugin,
`MeasurementPlugin`, which `RPCRunner` registers on the fleet and which
stops their processes when the worker closes.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from schedopt.errors import SchedOptError
from schedopt.measurement.fleet_plugin import FleetPlugin, unpickle_task
from schedopt.measurement.local_runner import LocalRunner
from schedopt.measurement.results import BuildResult, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.schedule.loop_state import State

if TYPE_CHECKING:
    from distributed import Worker


@dataclass(frozen=True)
class RunOptions:
    """`LocalRunner`'s options, as `RPCRunner` passes them on."""

    timeout: float
    number: int
    repeat: int
    min_repeat_ms: float
    cooldown_interval: float
    enable_cpu_cache_flush: bool


@dataclass(frozen=True)
class MeasureJob:
    """One candidate to measure on a worker: its task, pickled, and its build.

    The steps stay home: the runner needs the task (its DAG, for the
    reference outputs; its hardware, for the thread team) and the IR.
    """

    task: bytes
    build: BuildResult
    options: RunOptions


class MeasurementPlugin(FleetPlugin):
    """Per worker: one `LocalRunner` per set of options, each used by one job at a time."""

    name = "schedopt-measurement"
    registered_by = "RPCRunner"

    def setup(self, worker: Worker) -> None:
        self._runners: dict[RunOptions, tuple[LocalRunner, threading.Lock]] = {}
        self._guard = threading.Lock()

    async def teardown(self, worker: Worker) -> None:
        try:
            # Off the event loop: a job still measuring finishes before its runner stops.
            await asyncio.to_thread(self._close_runners)
        except RuntimeError:  # no threads at interpreter exit, when nothing measures any more
            self._close_runners()

    def _close_runners(self) -> None:
        with self._guard:
            for runner, lock in self._runners.values():
                with lock:
                    runner.close()
            self._runners.clear()

    def measure(self, job: MeasureJob) -> MeasureResult:
        try:
            runner, lock = self._runner(job.options)
        except SchedOptError as error:  # e.g. a cache flush asked of a worker that cannot do it
            return MeasureResult.failure(MeasureErrorNo.RUNTIME_DEVICE, str(error), job.build.time_cost)
        with lock:
            measure_input = MeasureInput(unpickle_task(job.task), State([], []))
            (result,) = runner.run([measure_input], [job.build], verbose=0)
        return result

    def _runner(self, options: RunOptions) -> tuple[LocalRunner, threading.Lock]:
        with self._guard:
            if options not in self._runners:
                runner = LocalRunner(
                    options.timeout,
                    options.number,
                    options.repeat,
                    options.min_repeat_ms,
                    options.cooldown_interval,
                    options.enable_cpu_cache_flush,
                )
                self._runners[options] = (runner, threading.Lock())
            return self._runners[options]


def measure_on_worker(job: MeasureJob) -> MeasureResult:
    """The Dask task of one candidate: measure it with this worker's plugin."""
    return MeasurementPlugin.on_this_worker().measure(job)
