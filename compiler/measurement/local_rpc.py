"""`LocalRPCMeasureContext`: a Dask scheduler and a measurement worker on loopback, and their runner.

TVM's `LocalRPCMeasureContext` starts a tracker and a server on this host,
to test remote measurement without a second machine; this starts a Dask
scheduler and one worker offering the device key `LOCAL_DEVICE_KEY`, both
on 127.0.0.1 in this process (the worker measures in a subprocess of its
own, as every worker does), and an `RPCRunner` on them. `close()`, the end
of a `with` block or garbage collection stops all three.
"""

from __future__ import annotations

import weakref
from types import TracebackType

from distributed import LocalCluster

from schedopt.measurement.fleet import parse_host_port
from schedopt.measurement.rpc_runner import RPCRunner

LOCAL_DEVICE_KEY = "local"


def _shut_down(runner: RPCRunner, cluster: LocalCluster) -> None:
    runner.close()
    cluster.close()


class LocalRPCMeasureContext:
    """A local fleet of one device; `.runner` measures on it (the options are `RPCRunner`'s)."""

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
    ):
        cluster = LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=":0",
            resources={LOCAL_DEVICE_KEY: 1},
        )
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
        self._close = weakref.finalize(self, _shut_down, self.runner, cluster)

    def close(self) -> None:
        """Disconnect the runner, then stop the worker (and its measuring process) and the scheduler."""
        self._close()

    def __enter__(self) -> LocalRPCMeasureContext:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
