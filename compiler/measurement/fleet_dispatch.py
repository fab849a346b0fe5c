"""`FleetDispatcher`: run jobs on the Dask workers that offer a resource, as `RPCRunner` and `RPCBuilder` do.

A dispatcher holds one client of a scheduler, registered with the worker
plugin that runs its kind of job. Each job is one Dask task asking for
one unit of the resource, so a worker runs at most as many at once as it
offers units. `dispatch` keeps `n_parallel` jobs in flight and answers one
result per job, in input order.

Faults become `Fault`s, with a message in the words of the `JobKind`,
which the caller turns into its own results: a worker that dies while
running a job is Dask's to handle (the job goes to another worker; after
`distributed.scheduler.allowed-failures` deaths it is `WORKERS_DIED`); a
task that raises is `TASK_FAILED`; a worker that has run a job for longer
than `hung_after` seconds is `HUNG`; a fleet left without a worker of the
resource for `timeout` seconds makes every job left `NO_WORKERS`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Generic, TypeVar

from distributed import KilledWorker, WorkerPlugin, wait

from schedopt.errors import SchedOptError
from schedopt.measurement.fleet import FleetWorker, connect, fleet_workers, synchronous, workers_of_key

if TYPE_CHECKING:
    from distributed import Client, Future

POLL_S = 0.5
"""How often a waiting dispatcher looks at the fleet for hung workers and a resource without workers."""

JobT = TypeVar("JobT")
ResultT = TypeVar("ResultT")


class FaultKind(Enum):
    WORKERS_DIED = "workers died"
    TASK_FAILED = "task failed"
    HUNG = "hung"
    NO_WORKERS = "no workers"


@dataclass(frozen=True)
class Fault:
    """Why a job has no result of its own; `limit` is the seconds a `HUNG` worker had."""

    kind: FaultKind
    message: str
    limit: float = 0.0


@dataclass(frozen=True)
class JobKind(Generic[JobT, ResultT]):
    """What a kind of fleet job is: the Dask task that runs one on a worker, the worker plugin that
    task uses, and the words of its fault messages.

    `name` is in the Dask keys ("schedopt-{name}-..."); a worker is "the worker {serving} 'KEY'",
    which has `offered` the device key; a job is `done` ("measured").
    """

    task: Callable[[JobT], ResultT]
    plugin: WorkerPlugin
    name: str
    serving: str
    offered: str
    done: str


@dataclass
class _Flight:
    """A job submitted to the fleet: its index in the batch, and where and since when it runs."""

    index: int
    worker: str | None = None
    started: float = 0.0


class FleetDispatcher(Generic[JobT, ResultT]):
    """Runs jobs of `kind` on the workers of `resource` (which serves device `key`) at the scheduler
    `address` (see the module docstring).

    Connecting registers the kind's plugin and waits, through
    `wait_for_workers`, for a worker of the resource; a `SchedOptError`
    from either, or from a scheduler that does not answer within `timeout`
    seconds, is prefixed with `owner`. `workers` are those
    `wait_for_workers` found.
    """

    def __init__(
        self,
        owner: str,
        address: str,
        key: str,
        resource: str,
        timeout: float,
        priority: int,
        kind: JobKind[JobT, ResultT],
        wait_for_workers: Callable[[Client], list[FleetWorker]],
    ):
        self.owner = owner
        self.address = address
        self.key = key
        self.resource = resource
        self.timeout = timeout
        self.priority = priority
        self.kind = kind
        try:
            client = connect(address, timeout)
        except SchedOptError as error:
            raise SchedOptError(f"{owner}: {error}") from None
        self._client = client
        self._close = weakref.finalize(self, client.close)
        try:
            client.register_plugin(kind.plugin)
            self.workers = wait_for_workers(client)
        except SchedOptError as error:
            self.close()
            raise SchedOptError(f"{owner}: {error}") from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Disconnect from the scheduler (the fleet goes on)."""
        self._close()

    def dispatch(
        self,
        jobs: Sequence[tuple[str, JobT]],
        n_parallel: int,
        hung_after: float,
        on_fault: Callable[[int, Fault], ResultT],
    ) -> list[ResultT]:
        """The result of each (name, job), in order; `on_fault(index, fault)` is that of a job that failed."""
        results: list[ResultT | None] = [None] * len(jobs)
        pending = deque(range(len(jobs)))
        flights: dict[Future[ResultT], _Flight] = {}
        fleet_lost_at: float | None = None

        def fail(index: int, fault: Fault) -> None:
            results[index] = on_fault(index, fault)

        try:
            while pending or flights:
                while pending and len(flights) < n_parallel:
                    index = pending.popleft()
                    flights[self._submit(*jobs[index])] = _Flight(index)
                done = self._wait_for_any(flights)
                for future in done:
                    flight = flights.pop(future)
                    outcome = self._collect(future)
                    if isinstance(outcome, Fault):
                        fail(flight.index, outcome)
                    else:
                        results[flight.index] = outcome
                    future.release()  # the scheduler forgets the result now, not at garbage collection
                if done or not flights:
                    continue
                fleet_lost_at = self._watch_fleet(fleet_lost_at, pending, flights, hung_after, fail)
        finally:
            for future in flights:
                future.cancel()
        assert all(result is not None for result in results), "every job gets one result"
        return [result for result in results if result is not None]

    def _submit(self, name: str, job: JobT) -> Future[ResultT]:
        return self._client.submit(
            self.kind.task,
            job,
            key=f"schedopt-{self.kind.name}-{name}-{uuid.uuid4().hex}",
            resources={self.resource: 1},
            priority=self.priority,
            pure=False,
        )

    def _wait_for_any(self, flights: dict[Future[ResultT], _Flight]) -> set[Future[ResultT]]:
        try:
            with self._client.as_current():
                done, _ = synchronous(
                    wait(list(flights), timeout=POLL_S, return_when="FIRST_COMPLETED"), "distributed.wait"
                )
        except TimeoutError:
            return set()
        return set(done)

    def _collect(self, future: Future[ResultT]) -> ResultT | Fault:
        try:
            return future.result()
        except KilledWorker as error:
            message = f"the workers {self._serving} that {self.kind.done} it died: {error}"
            return Fault(FaultKind.WORKERS_DIED, message)
        except (Exception, asyncio.CancelledError) as error:
            message = f"the worker {self._serving} failed: {type(error).__name__}: {error}"
            return Fault(FaultKind.TASK_FAILED, message)

    def _watch_fleet(
        self,
        fleet_lost_at: float | None,
        pending: deque[int],
        flights: dict[Future[ResultT], _Flight],
        hung_after: float,
        fail: Callable[[int, Fault], None],
    ) -> float | None:
        """Nothing finished for a while: look for hung workers and a resource without workers.

        Returns since when no worker has offered the resource (None: one does).
        """
        try:
            if workers_of_key(fleet_workers(self._client), self.resource):
                fleet_lost_at = None
            elif fleet_lost_at is None:
                fleet_lost_at = time.monotonic()
            elif time.monotonic() - fleet_lost_at > self.timeout:
                self._fail_all(pending, flights, fail)
            self._time_out_hung(flights, hung_after, fail)
        except OSError as error:
            raise SchedOptError(f"{self.owner}: lost the Dask scheduler at {self.address}: {error}") from None
        return fleet_lost_at

    def _fail_all(
        self, pending: deque[int], flights: dict[Future[ResultT], _Flight], fail: Callable[[int, Fault], None]
    ) -> None:
        """No worker of the resource for `timeout` s: what is left fails."""
        left = [*pending, *(flight.index for flight in flights.values())]
        for future in flights:
            future.cancel()
        pending.clear()
        flights.clear()
        message = (
            f"no worker of the Dask scheduler at {self.address} has {self.kind.offered} the device key "
            f"{self.key!r} for {self.timeout:g} s; the candidate was not {self.kind.done}"
        )
        for index in left:
            fail(index, Fault(FaultKind.NO_WORKERS, message))

    def _time_out_hung(
        self, flights: dict[Future[ResultT], _Flight], hung_after: float, fail: Callable[[int, Fault], None]
    ) -> None:
        """A job whose worker has run it for longer than `hung_after` s fails as `HUNG`."""
        if not flights:
            return
        now = time.monotonic()
        processing = synchronous(self._client.processing(), "Client.processing")
        where = {key: worker for worker, keys in processing.items() for key in keys}
        for future, flight in list(flights.items()):
            worker = where.get(future.key)
            if worker != flight.worker:  # started, or restarted on another worker after a death
                flight.worker, flight.started = worker, now
            if worker is None or now - flight.started <= hung_after:
                continue
            del flights[future]
            future.cancel()
            message = (
                f"the worker {worker} {self._serving} did not answer within {hung_after:g} s; it may be hung"
            )
            fail(flight.index, Fault(FaultKind.HUNG, message, hung_after))

    @property
    def _serving(self) -> str:
        return f"{self.kind.serving} {self.key!r}"
