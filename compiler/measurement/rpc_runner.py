"""`RPCRunner`: measure built candidates on the devices of a Dask fleet (TVM's `RPCRunner`).

TVM measures remotely through its RPC tracker; here the tracker is a Dask
scheduler and a device is a Dask worker that offers one unit of the device
key as a resource (`sched-opt-worker --key KEY`). Each candidate is one
Dask task asking for one unit of the key, so a device never times two
candidates at once; the LLVM IR travels, and the worker measures it as
`LocalRunner` does (`schedopt.measurement.rpc_worker`), a kernel that
crashes or hangs being confined to a subprocess there.

Faults: a worker that dies while measuring is Dask's to handle: the
scheduler gives the candidate to another worker of the key (after
`distributed.scheduler.allowed-failures` deaths it is a `RUNTIME_DEVICE`
record). A worker that stops answering (its measurement outlives the
timeout by `hung_worker_s`) gives a `RUN_TIMEOUT` record; a fleet left
without a worker of the key for `timeout` seconds gives `RUNTIME_DEVICE`
records for what it had not measured. Every candidate gets exactly one
result, in input order. `RPCBuilder` shares this machinery
(`schedopt.measurement.fleet_dispatch`); this module says what a
measurement job is and what record a fault gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from schedopt.errors import SchedOptError
from schedopt.measurement.correctness import REFERENCE_TIMEOUT_S
from schedopt.measurement.fleet import scheduler_address, wait_for_key
from schedopt.measurement.fleet_dispatch import Fault, FaultKind, FleetDispatcher, JobKind
from schedopt.measurement.fleet_plugin import PickledTasks
from schedopt.measurement.interfaces import ProgramRunner, print_progress
from schedopt.measurement.options import require_positive
from schedopt.measurement.process_pool import WORKER_START_TIMEOUT_S
from schedopt.measurement.results import BuildResult, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.measurement.rpc_worker import MeasureJob, MeasurementPlugin, RunOptions, measure_on_worker


class RPCRunner(ProgramRunner):
    """Runs built candidates on the workers of device `key` of the Dask scheduler at `host:port`.

    `priority` orders this runner's jobs against other clients' (higher
    first); `n_parallel` candidates are in flight at once (give it the
    number of devices). The other options are `LocalRunner`'s and mean the
    same on the device. The scheduler must answer, and a worker of `key`
    appear, within `timeout` seconds, else a `SchedOptError` names the
    address or the key.
    """

    hung_worker_s: float = REFERENCE_TIMEOUT_S + WORKER_START_TIMEOUT_S
    """Beyond `timeout`, how long a worker may take before it counts as hung: at its first candidate
    of a task it may start its measuring process and compute the task's reference outputs."""

    def __init__(
        self,
        key: str,
        host: str,
        port: int,
        priority: int = 1,
        n_parallel: int = 1,
        timeout: float = 10,
        number: int = 3,
        repeat: int = 1,
        min_repeat_ms: float = 100,
        cooldown_interval: float = 0.0,
        enable_cpu_cache_flush: bool = False,
    ):
        require_positive("RPCRunner", n_parallel=n_parallel, timeout=timeout, number=number, repeat=repeat)
        if not key:
            raise SchedOptError("RPCRunner: the device key must not be empty")
        self.key = key
        self.address = scheduler_address(host, port)
        self.priority = priority
        self.n_parallel = n_parallel
        self.timeout = timeout
        self.cooldown_interval = cooldown_interval
        self.options = RunOptions(
            timeout, number, repeat, min_repeat_ms, cooldown_interval, enable_cpu_cache_flush
        )
        measurement = JobKind(
            measure_on_worker,
            MeasurementPlugin(),
            "measure",
            serving="of",
            offered="offered",
            done="measured",
        )
        self._fleet = FleetDispatcher(
            "RPCRunner",
            self.address,
            key,
            key,
            timeout,
            priority,
            measurement,
            lambda client: wait_for_key(client, key, timeout),
        )

    def run(
        self, measure_inputs: Sequence[MeasureInput], build_results: Sequence[BuildResult], verbose: int = 1
    ) -> list[MeasureResult]:
        results: list[MeasureResult | None] = [None] * len(measure_inputs)
        indices: list[int] = []
        jobs: list[tuple[str, MeasureJob]] = []
        pickled_tasks = PickledTasks()
        for index, (inp, built) in enumerate(zip(measure_inputs, build_results, strict=True)):
            if built.error_no == MeasureErrorNo.NO_ERROR:
                indices.append(index)
                jobs.append((built.func_name, MeasureJob(pickled_tasks.of(inp.task), built, self.options)))
            else:
                results[index] = MeasureResult.failure(built.error_no, built.error_msg, built.time_cost)
        hung_after = self.timeout + self.cooldown_interval + self.hung_worker_s
        measured = self._fleet.dispatch(
            jobs, self.n_parallel, hung_after, lambda i, fault: self._fault_result(jobs[i][1].build, fault)
        )
        for index, result in zip(indices, measured, strict=True):
            results[index] = result
        assert all(result is not None for result in results), "every candidate gets one result"
        final = [replace(result, device_key=self.key) for result in results if result is not None]
        if verbose >= 1:
            print_progress((result.error_no for result in final), success="*")
        return final

    def close(self) -> None:
        """Disconnect from the scheduler (the fleet goes on)."""
        self._fleet.close()

    def _fault_result(self, built: BuildResult, fault: Fault) -> MeasureResult:
        """The record of a candidate the fleet could not measure."""
        message = f"@{built.func_name}: {fault.message}"
        if fault.kind == FaultKind.HUNG:
            return MeasureResult.failure(MeasureErrorNo.RUN_TIMEOUT, message, fault.limit)
        return MeasureResult.failure(MeasureErrorNo.RUNTIME_DEVICE, message, built.time_cost)
