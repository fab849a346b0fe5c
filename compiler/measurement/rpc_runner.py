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
result, in input order.
"""

from __future__ import annotations

import asyncio
import pickle
import time
import uuid
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from distributed import KilledWorker, wait

from schedopt.errors import SchedOptError
from schedopt.measurement.correctness import REFERENCE_TIMEOUT_S
from schedopt.measurement.fleet import connect, fleet_workers, scheduler_address, wait_for_key, workers_of_key
from schedopt.measurement.interfaces import ProgramRunner, print_progress
from schedopt.measurement.process_pool import WORKER_START_TIMEOUT_S
from schedopt.measurement.results import BuildResult, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.measurement.rpc_worker import MeasureJob, MeasurementPlugin, RunOptions, measure_on_worker

if TYPE_CHECKING:
    from distributed import Future

POLL_S = 0.5
"""How often a waiting runner looks at the fleet for hung workers and lost devices."""


@dataclass
class _Flight:
    """A candidate submitted to the fleet: its index in the batch, and where and since when it runs."""

    index: int
    worker: str | None = None
    started: float = 0.0


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
        for option, value in (
            ("n_parallel", n_parallel),
            ("timeout", timeout),
            ("number", number),
            ("repeat", repeat),
        ):
            if value <= 0:
                raise SchedOptError(f"RPCRunner: {option} must be positive, got {value}")
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
        try:
            client = connect(self.address, timeout)
        except SchedOptError as error:
            raise SchedOptError(f"RPCRunner: {error}") from None
        self._client = client
        self._close = weakref.finalize(self, client.close)
        try:
            client.register_plugin(MeasurementPlugin())
            wait_for_key(client, key, timeout)
        except SchedOptError as error:
            self.close()
            raise SchedOptError(f"RPCRunner: {error}") from None
        except BaseException:
            self.close()
            raise

    def run(
        self, measure_inputs: Sequence[MeasureInput], build_results: Sequence[BuildResult], verbose: int = 1
    ) -> list[MeasureResult]:
        results: list[MeasureResult | None] = [None] * len(measure_inputs)
        jobs: dict[int, MeasureJob] = {}
        pickled_tasks: dict[int, bytes] = {}  # by id: the candidates of a round share their task
        for index, (inp, built) in enumerate(zip(measure_inputs, build_results, strict=True)):
            if built.error_no == MeasureErrorNo.NO_ERROR:
                if id(inp.task) not in pickled_tasks:
                    pickled_tasks[id(inp.task)] = pickle.dumps(inp.task)
                jobs[index] = MeasureJob(pickled_tasks[id(inp.task)], built, self.options)
            else:
                results[index] = MeasureResult.failure(built.error_no, built.error_msg, built.time_cost)
        self._measure(jobs, results)
        assert all(result is not None for result in results), "every candidate gets one result"
        final = [result for result in results if result is not None]
        if verbose >= 1:
            print_progress((result.error_no for result in final), success="*")
        return final

    def close(self) -> None:
        """Disconnect from the scheduler (the fleet goes on)."""
        self._close()

    def _measure(self, jobs: dict[int, MeasureJob], results: list[MeasureResult | None]) -> None:
        """Fill `results` at the indices of `jobs`, with at most `n_parallel` in flight."""
        pending = deque(jobs)
        flights: dict[Future, _Flight] = {}
        fleet_lost_at: float | None = None
        try:
            while pending or flights:
                while pending and len(flights) < self.n_parallel:
                    index = pending.popleft()
                    flights[self._submit(jobs[index])] = _Flight(index)
                done = self._wait_for_any(flights)
                for future in done:
                    flight = flights.pop(future)
                    results[flight.index] = self._collect(future, jobs[flight.index].build)
                    future.release()  # the scheduler forgets the result now, not at garbage collection
                if done or not flights:
                    continue
                fleet_lost_at = self._watch_fleet(fleet_lost_at, pending, flights, jobs, results)
        finally:
            for future in flights:
                future.cancel()

    def _watch_fleet(
        self,
        fleet_lost_at: float | None,
        pending: deque[int],
        flights: dict[Future, _Flight],
        jobs: dict[int, MeasureJob],
        results: list[MeasureResult | None],
    ) -> float | None:
        """Nothing finished for a while: look for hung workers and a key without workers.

        Returns since when no worker has offered the key (None: one does).
        """
        try:
            if self._fleet_has_key():
                fleet_lost_at = None
            elif fleet_lost_at is None:
                fleet_lost_at = time.monotonic()
            elif time.monotonic() - fleet_lost_at > self.timeout:
                self._fail_all(pending, flights, jobs, results)
            self._time_out_hung(flights, jobs, results)
        except OSError as error:
            raise SchedOptError(f"RPCRunner: lost the Dask scheduler at {self.address}: {error}") from None
        return fleet_lost_at

    def _submit(self, job: MeasureJob) -> Future:
        return self._client.submit(
            measure_on_worker,
            job,
            key=f"schedopt-measure-{job.build.func_name}-{uuid.uuid4().hex}",
            resources={self.key: 1},
            priority=self.priority,
            pure=False,
        )

    def _wait_for_any(self, flights: dict[Future, _Flight]) -> set[Future]:
        try:
            with self._client.as_current():
                done, _ = wait(list(flights), timeout=POLL_S, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set()
        return set(done)

    def _collect(self, future: Future, built: BuildResult) -> MeasureResult:
        name = built.func_name
        try:
            return future.result()
        except KilledWorker as error:
            message = f"@{name}: the workers of {self.key!r} that measured it died: {error}"
        except (Exception, asyncio.CancelledError) as error:
            message = f"@{name}: the worker of {self.key!r} failed: {type(error).__name__}: {error}"
        return MeasureResult.failure(MeasureErrorNo.RUNTIME_DEVICE, message, built.time_cost)

    def _fleet_has_key(self) -> bool:
        return bool(workers_of_key(fleet_workers(self._client), self.key))

    def _fail_all(
        self,
        pending: deque[int],
        flights: dict[Future, _Flight],
        jobs: dict[int, MeasureJob],
        results: list[MeasureResult | None],
    ) -> None:
        """No worker of the key for `timeout` s: what is left fails."""
        left = [*pending, *(flight.index for flight in flights.values())]
        for future in flights:
            future.cancel()
        pending.clear()
        flights.clear()
        for index in left:
            built = jobs[index].build
            message = (
                f"@{built.func_name}: no worker of the Dask scheduler at {self.address} has offered "
                f"the device key {self.key!r} for {self.timeout:g} s; the candidate was not measured"
            )
            results[index] = MeasureResult.failure(MeasureErrorNo.RUNTIME_DEVICE, message, built.time_cost)

    def _time_out_hung(
        self, flights: dict[Future, _Flight], jobs: dict[int, MeasureJob], results: list[MeasureResult | None]
    ) -> None:
        """A candidate whose worker has run it longer than any measurement may take: `RUN_TIMEOUT`."""
        if not flights:
            return
        now = time.monotonic()
        where = {key: worker for worker, keys in self._client.processing().items() for key in keys}
        limit = self.timeout + self.cooldown_interval + self.hung_worker_s
        for future, flight in list(flights.items()):
            worker = where.get(future.key)
            if worker != flight.worker:  # started, or restarted on another worker after a death
                flight.worker, flight.started = worker, now
            if worker is None or now - flight.started <= limit:
                continue
            del flights[future]
            future.cancel()
            built = jobs[flight.index].build
            message = (
                f"@{built.func_name}: the worker {worker} of {self.key!r} did not answer within "
                f"{limit:g} s; it may be hung"
            )
            results[flight.index] = MeasureResult.failure(MeasureErrorNo.RUN_TIMEOUT, message, limit)
