"""Stubs for the parts of Dask's `distributed` that schedopt uses.

`distributed` ships inline types, but leaves many parameters of the calls
measurement makes unannotated; these give them their documented types.
A call of a `Client` answers a value, or a coroutine for an asynchronous
client (`schedopt.measurement.fleet.synchronous` tells them apart).
"""

from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Generic, Literal, NamedTuple, Self, TypeAlias, TypeVar

_T = TypeVar("_T")
_Answer: TypeAlias = _T | Coroutine[Any, Any, _T]

Key: TypeAlias = str | bytes | int | float | tuple[Key, ...]
"""A task's key in the scheduler."""

class KilledWorker(Exception):
    """A task whose workers died more often than `distributed.scheduler.allowed-failures`."""

class Future(Generic[_T]):
    """A task submitted to the scheduler, and its result once it has one."""

    @property
    def key(self) -> Key: ...
    def result(self, timeout: float | str | None = None) -> _T: ...
    def cancel(self, reason: str | None = None, msg: str | None = None) -> _Answer[None]: ...
    def release(self) -> None: ...
    def done(self) -> bool: ...

class DoneAndNotDoneFutures(NamedTuple, Generic[_T]):
    done: set[Future[_T]]
    not_done: set[Future[_T]]

def wait(
    fs: Sequence[Future[_T]],
    timeout: float | str | None = None,
    return_when: Literal["ALL_COMPLETED", "FIRST_COMPLETED"] = "ALL_COMPLETED",
) -> _Answer[DoneAndNotDoneFutures[_T]]: ...

class Worker:
    """A Dask worker, run in this process (`await worker` starts it)."""

    plugins: dict[str, WorkerPlugin]
    def __init__(
        self,
        scheduler_ip: str | None = None,
        scheduler_port: int | None = None,
        *,
        nthreads: int | None = None,
        resources: Mapping[str, float] | None = None,
        name: str | int | None = None,
        host: str | None = None,
        death_timeout: float | str | None = None,
        dashboard: bool = False,
        **kwargs: Any,
    ) -> None: ...
    @property
    def address(self) -> str: ...
    def __await__(self) -> Generator[Any, None, Self]: ...
    async def close(
        self,
        timeout: float = 30,
        executor_wait: bool = True,
        nanny: bool = True,
        reason: str = "worker-close",
    ) -> str | None: ...
    async def finished(self) -> None: ...

def get_worker() -> Worker: ...

class WorkerPlugin:
    """Code a worker runs when the plugin is registered (`setup`) and when it closes (`teardown`)."""

    idempotent: bool
    def setup(self, worker: Worker) -> Awaitable[None] | None: ...
    def teardown(self, worker: Worker) -> Awaitable[None] | None: ...

class rpc:
    """A connection to a Dask server: the scheduler, for a client."""

    address: str

class Client:
    """A connection to a scheduler, through which tasks are submitted."""

    scheduler: rpc | None
    """None once the client is closed."""

    def __init__(
        self,
        address: str | None = None,
        loop: object | None = None,
        timeout: float | str = ...,
        set_as_default: bool = True,
        scheduler_file: str | None = None,
        asynchronous: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None: ...
    def submit(
        self,
        func: Callable[..., _T],
        *args: Any,
        key: Key | None = None,
        workers: str | Sequence[str] | None = None,
        resources: Mapping[str, float] | None = None,
        retries: int | None = None,
        priority: int = 0,
        fifo_timeout: str = "100 ms",
        allow_other_workers: bool = False,
        actor: bool = False,
        actors: bool = False,
        pure: bool = True,
        **kwargs: Any,
    ) -> Future[_T]: ...
    def as_current(self) -> AbstractContextManager[None]: ...
    def register_plugin(self, plugin: WorkerPlugin, name: str | None = None) -> _Answer[dict[str, Any]]: ...
    def wait_for_workers(self, n_workers: int, timeout: float | None = None) -> None: ...
    def scheduler_info(self, n_workers: int = -1, **kwargs: Any) -> dict[str, Any]: ...
    def processing(self, workers: Sequence[str] | None = None) -> _Answer[dict[str, list[Key]]]: ...
    def close(self, timeout: float | str | None = ...) -> _Answer[None]: ...

class LocalCluster:
    """A scheduler and workers on this machine."""

    def __init__(
        self,
        n_workers: int | None = None,
        threads_per_worker: int | None = None,
        processes: bool | None = None,
        *,
        host: str | None = None,
        protocol: str | None = None,
        scheduler_port: int = 0,
        dashboard_address: str | None = ":8787",
        resources: Mapping[str, float] | None = None,
        **worker_kwargs: Any,
    ) -> None: ...
    @property
    def scheduler_address(self) -> str: ...
    def close(self, timeout: float | None = None) -> Awaitable[None] | None: ...

class get_task_stream:
    """Within its `with` block, collects one dict per task run (key, worker, start and stop times...) in `data`."""

    data: list[dict[str, Any]]
    def __init__(
        self, client: Client | None = None, plot: bool | str = False, filename: str = "task-stream.html"
    ) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...
