"""`LocalRPCMeasureContext`: a Dask scheduler and a measurement worker on loopback, and their runner.

TVM's `LocalRPCMeasureContext` starts a tracker and a server on this host,
to test remote measurement without a second machine; this starts a Dask
scheduler and one worker offering the device key `LOCAL_DEVICE_KEY`, both
on 127.0.0.1 in this process (the worker measures in a subprocess of its
own, as every worker does), and an `RPCRunner` on them. With `builds=N` the
worker also builds up to N candidates at once, and `.builder`, an
`RPCBuilder`, builds on it. `close()`, the end of a `with` block or
garbage collection stops them all.

`loopback_fleet` starts the other kind of local fleet, the one tests and
benchmarks want: a scheduler in this process and real `sched-opt-worker`
processes, which can be killed or stopped like remote devices.
"""

from __future__ import annotations

import os
import subprocess
import sys
import weakref
from collections.abc import Generator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from distributed import Client, LocalCluster

from schedopt.errors import SchedOptError
from schedopt.measurement.fleet import build_resource, fleet_workers, parse_host_port
from schedopt.measurement.rpc_builder import RPCBuilder
from schedopt.measurement.rpc_runner import RPCRunner

LOCAL_DEVICE_KEY = "local"
WORKER_STOP_S = 10
"""How long a stopped worker process may take to close its plugins before it is killed."""


def loopback_cluster(**options: Any) -> LocalCluster:
    """A Dask scheduler in this process on 127.0.0.1, on a free port, and the in-process workers of
    `options` (`LocalCluster`'s)."""
    return LocalCluster(
        processes=False, protocol="tcp", host="127.0.0.1", scheduler_port=0, dashboard_address=":0", **options
    )


@dataclass
class LoopbackFleet:
    """A scheduler on loopback, a client of it, and its `sched-opt-worker` processes by name."""

    address: str
    host: str
    port: int
    client: Client
    processes: dict[str, subprocess.Popen[bytes]]

    def address_of(self, name: str) -> str:
        """The Dask address of the worker called `name`."""
        return next(worker.address for worker in fleet_workers(self.client) if worker.name == name)


def _start_worker(
    address: str, name: str, arguments: Sequence[str], log: Path | None, env: Mapping[str, str] | None
) -> subprocess.Popen[bytes]:
    command = "from schedopt.tools.worker_main import console_main; console_main()"
    with open(log or os.devnull, "ab") as output:
        return subprocess.Popen(
            [sys.executable, "-c", command, "--scheduler", address, "--name", name, *arguments],
            stdout=output,
            stderr=output,
            env=None if env is None else dict(env),
        )


def _stop(process: subprocess.Popen[bytes], graceful: bool) -> None:
    if graceful:
        process.terminate()
        try:
            process.wait(WORKER_STOP_S)
            return
        except subprocess.TimeoutExpired:
            pass
    process.kill()
    process.wait()


@contextmanager
def loopback_fleet(
    workers: Mapping[str, Sequence[str]],
    start_timeout: float,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    graceful: bool = True,
) -> Generator[LoopbackFleet]:
    """A scheduler here and a `sched-opt-worker` process per name of `workers`, started with its
    arguments (`--key KEY`...) and `env`, writing to `log` (None: nowhere); all stopped at the end,
    by SIGTERM if `graceful` (each closes its plugins and their processes), else by SIGKILL.

    The fleet is yielded once every worker has joined, within `start_timeout` seconds.
    """
    cluster = loopback_cluster(n_workers=0)
    address = cluster.scheduler_address
    processes: dict[str, subprocess.Popen[bytes]] = {}
    client: Client | None = None
    try:
        for name, arguments in workers.items():
            processes[name] = _start_worker(address, name, arguments, log, env)
        client = Client(address, set_as_default=False)
        client.wait_for_workers(len(workers), timeout=start_timeout)
        yield LoopbackFleet(address, *parse_host_port(address), client, processes)
    finally:
        for process in processes.values():
            _stop(process, graceful)
        if client is not None:
            client.close()
        cluster.close()


def _shut_down(runner: RPCRunner, builder: RPCBuilder | None, cluster: LocalCluster) -> None:
    runner.close()
    if builder is not None:
        builder.close()
    cluster.close()


class LocalRPCMeasureContext:
    """A local fleet of one device; `.runner` measures on it (the options are `RPCRunner`'s).

    `builds` > 0 lets the device build that many candidates at once too, each within `timeout`
    seconds, through `.builder` (else None: build with a `LocalBuilder`).
    """

    def __init__(
        self,
        priority: int = 1,
        n_parallel: int = 1,
        timeout: float = 10,
        number: int = 3,
        repeat: int = 1,
        min_repeat_ms: float = 0,
        cooldown_interval: float = 0.0,
        enable_cpu_cache_flush: bool = False,
        builds: int = 0,
    ):
        if builds < 0:
            raise SchedOptError(f"LocalRPCMeasureContext: builds must not be negative, got {builds}")
        resources = {LOCAL_DEVICE_KEY: 1}
        if builds:
            resources[build_resource(LOCAL_DEVICE_KEY)] = builds
        cluster = loopback_cluster(n_workers=1, threads_per_worker=1 + builds, resources=resources)
        self.scheduler_address: str = cluster.scheduler_address
        host, port = parse_host_port(self.scheduler_address)
        try:
            self.runner = RPCRunner(
                LOCAL_DEVICE_KEY,
                host,
                port,
                priority,
                n_parallel,
                timeout,
                number,
                repeat,
                min_repeat_ms,
                cooldown_interval,
                enable_cpu_cache_flush,
            )
        except BaseException:
            cluster.close()
            raise
        try:
            self.builder = (
                RPCBuilder(LOCAL_DEVICE_KEY, host, port, priority, timeout=timeout) if builds else None
            )
        except BaseException:
            self.runner.close()
            cluster.close()
            raise
        self._close = weakref.finalize(self, _shut_down, self.runner, self.builder, cluster)

    def close(self) -> None:
        """Disconnect the runner and builder, then stop the worker (and its processes) and the scheduler."""
        self._close()

    def __enter__(self) -> LocalRPCMeasureContext:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
