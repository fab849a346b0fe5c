"""What a Dask worker does with a build job of `RPCBuilder`: what `LocalBuilder` does at home.

A job carries the candidate's task (pickled, shared by the candidates of a
round), its steps and the builder's options. The worker builds it with a
`LocalBuilder` of those options, so a remote build has the same error
codes and messages as a local one, and the same fault isolation: the
compiler runs in a subprocess of the worker, so a compiler that crashes is
a `COMPILE_HOST` result, one that hangs is killed as a `BUILD_TIMEOUT`, and
the Dask worker lives on. The builders live in a worker plugin,
`BuildPlugin`, which `RPCBuilder` registers on the fleet and which stops
their processes when the worker closes. A worker runs as many builds at
once as it offers units of the key's build resource
(`sched-opt-worker --builds N`), each in a builder of its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from schedopt.json_value import JSON
from schedopt.measurement.fleet_plugin import FleetPlugin, unpickle_task
from schedopt.measurement.local_builder import BuildFunc, LocalBuilder
from schedopt.measurement.results import BuildResult, MeasureInput
from schedopt.schedule.loop_state import State
from schedopt.schedule.transform_steps import step_from_record

if TYPE_CHECKING:
    from distributed import Worker


@dataclass(frozen=True)
class BuildOptions:
    """`LocalBuilder`'s options, as `RPCBuilder` passes them on."""

    timeout: float
    build_func: BuildFunc


@dataclass(frozen=True)
class BuildJob:
    """One candidate to build on a worker: its task, pickled, and the records of its steps."""

    task: bytes
    steps: tuple[list[JSON], ...]
    options: BuildOptions


class BuildPlugin(FleetPlugin):
    """Per worker: idle `LocalBuilder`s by options, each lent to one job at a time."""

    name = "schedopt-build"
    registered_by = "RPCBuilder"

    def setup(self, worker: Worker) -> None:
        self._idle: dict[BuildOptions, list[LocalBuilder]] = {}
        self._guard = threading.Lock()
        self._closed = False

    async def teardown(self, worker: Worker) -> None:
        self._close_builders()

    def _close_builders(self) -> None:
        """Stop the idle builders now and the lent ones when their build returns."""
        with self._guard:
            self._closed = True
            idle = [builder for builders in self._idle.values() for builder in builders]
            self._idle.clear()
        for builder in idle:
            builder.close()

    def build(self, job: BuildJob) -> BuildResult:
        steps = [step_from_record(record) for record in job.steps]
        measure_input = MeasureInput(unpickle_task(job.task), State([], steps))
        builder = self._borrow(job.options)
        try:
            (result,) = builder.build([measure_input], verbose=0)
        finally:
            self._give_back(job.options, builder)
        return result

    def _borrow(self, options: BuildOptions) -> LocalBuilder:
        with self._guard:
            idle = self._idle.get(options)
            builder = idle.pop() if idle else LocalBuilder(options.timeout, 1, options.build_func)
            return builder

    def _give_back(self, options: BuildOptions, builder: LocalBuilder) -> None:
        with self._guard:
            if not self._closed:
                self._idle.setdefault(options, []).append(builder)
                return
        builder.close()


def build_on_worker(job: BuildJob) -> BuildResult:
    """The Dask task of one candidate: build it with this worker's plugin."""
    return BuildPlugin.on_this_worker().build(job)
