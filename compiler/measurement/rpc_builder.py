"""`RPCBuilder`: build candidates on the workers of a Dask fleet instead of this machine.

`LocalBuilder` compiles on the tuning host. When that host is busy or
small, or when the IR should be optimised for the devices' own CPU, the
builds can run on the fleet's workers: each candidate is one Dask task
asking for one unit of the key's build resource
(`schedopt.measurement.fleet.build_resource`), which a worker offers with
`sched-opt-worker --key KEY --builds N`, so it builds N candidates at
once. The task and the steps travel; the worker builds them as
`LocalBuilder` does (`schedopt.measurement.rpc_build_worker`), a compiler
that crashes or hangs being confined to a subprocess there, and the LLVM
IR comes back in the `BuildResult`, ready for any runner.

Faults are `RPCRunner`'s: a worker that dies while building is Dask's to
handle (the candidate goes to another worker of the key; after
`distributed.scheduler.allowed-failures` deaths it is a `COMPILE_HOST`
result); a worker that stops answering gives a `BUILD_TIMEOUT`; a fleet
left without build workers of the key for `timeout` seconds gives
`COMPILE_HOST` results for what it had not built. Every candidate gets
exactly one result, in input order.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence

from schedopt.errors import SchedOptError
from schedopt.measurement.fleet import build_resource, scheduler_address, wait_for_key
from schedopt.measurement.fleet_dispatch import Fault, FaultKind, FleetDispatcher, JobKind
from schedopt.measurement.fleet_plugin import PickledTasks
from schedopt.measurement.interfaces import ProgramBuilder, print_progress
from schedopt.measurement.local_builder import BuildFunc, default_build_func
from schedopt.measurement.options import require_positive
from schedopt.measurement.process_pool import WORKER_START_TIMEOUT_S
from schedopt.measurement.results import BuildResult, MeasureErrorNo, MeasureInput
from schedopt.measurement.rpc_build_worker import BuildJob, BuildOptions, BuildPlugin, build_on_worker


class RPCBuilder(ProgramBuilder):
    """Builds candidates on the workers that build for device `key` at the Dask scheduler `host:port`.

    `priority` orders this builder's jobs against other clients' (higher
    first); `n_parallel` candidates are in flight at once (default: the
    build units the key's workers offer when the builder connects).
    `timeout` and `build_func` are `LocalBuilder`'s and mean the same on
    the worker; `build_func` must be importable there. The scheduler must
    answer, and a build worker of `key` appear, within `timeout` seconds,
    else a `SchedOptError` names the address or the key.
    """

    hung_worker_s: float = WORKER_START_TIMEOUT_S
    """Beyond `timeout`, how long a worker may take before it counts as hung: at its first build
    it may start its compiling process."""

    def __init__(
        self,
        key: str,
        host: str,
        port: int,
        priority: int = 1,
        n_parallel: int | None = None,
        timeout: float = 15,
        build_func: BuildFunc | str = "default",
    ):
        require_positive("RPCBuilder", n_parallel=n_parallel, timeout=timeout)
        if not key:
            raise SchedOptError("RPCBuilder: the device key must not be empty")
        if build_func == "default":
            build_func = default_build_func
        if not callable(build_func):
            raise SchedOptError(f"RPCBuilder: build_func must be 'default' or a function, got {build_func!r}")
        self.key = key
        self.resource = build_resource(key)
        self.address = scheduler_address(host, port)
        self.priority = priority
        self.timeout = timeout
        self.options = BuildOptions(timeout, build_func)
        try:
            pickle.dumps(self.options)
        except (pickle.PicklingError, AttributeError, TypeError):
            raise SchedOptError(
                f"RPCBuilder: build_func {build_func!r} must be a module-level function "
                "(the workers import it by name)"
            ) from None
        building = JobKind(
            build_on_worker, BuildPlugin(), "build", serving="building for", offered="built for", done="built"
        )
        self._fleet = FleetDispatcher(
            "RPCBuilder",
            self.address,
            key,
            self.resource,
            timeout,
            priority,
            building,
            lambda client: wait_for_key(client, key, timeout, builds=True),
        )
        builds = sum(worker.keys[self.resource] for worker in self._fleet.workers)
        self.n_parallel = n_parallel or max(1, int(builds))

    def build(self, measure_inputs: Sequence[MeasureInput], verbose: int = 1) -> list[BuildResult]:
        jobs: list[tuple[str, BuildJob]] = []
        pickled_tasks = PickledTasks()
        for inp in measure_inputs:
            if inp.task.compute_dag is None:
                raise SchedOptError(
                    f"RPCBuilder: the task of workload {inp.task.workload_key} has no DAG "
                    "(it was read from records: recover_measure_input rebuilds it)"
                )
            steps = tuple(step.to_record() for step in inp.state.transform_steps)
            jobs.append(
                (inp.task.compute_dag.func_name, BuildJob(pickled_tasks.of(inp.task), steps, self.options))
            )
        hung_after = self.timeout + self.hung_worker_s
        results = self._fleet.dispatch(
            jobs, self.n_parallel, hung_after, lambda i, fault: self._fault_result(jobs[i][0], fault)
        )
        if verbose >= 1:
            print_progress((result.error_no for result in results), success=".")
        return results

    def close(self) -> None:
        """Disconnect from the scheduler (the fleet goes on)."""
        self._fleet.close()

    @staticmethod
    def _fault_result(name: str, fault: Fault) -> BuildResult:
        """The result of a candidate the fleet could not build."""
        hung = fault.kind == FaultKind.HUNG
        error_no = MeasureErrorNo.BUILD_TIMEOUT if hung else MeasureErrorNo.COMPILE_HOST
        return BuildResult(
            None, name, (), error_no, f"@{name}: {fault.message}", fault.limit if hung else 0.0
        )
