"""The measurement fleet: a Dask scheduler and the workers that offer device keys.

A device key (TVM's RPC key: "rpi4", "xeon-avx512", "local") is a Dask
worker resource; a worker that offers one unit of it is one device. This
module connects a client to a scheduler (an unreachable one is a
`SchedOptError` naming the address) and describes its workers, for
`RPCRunner` (is any device of its key there?) and `sched-opt-fleet`.
Dask is imported here, never on `import schedopt`.
"""

from __future__ import annotations

import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from schedopt.errors import SchedOptError

if TYPE_CHECKING:
    from distributed import Client

POLL_S = 0.2
"""How often `wait_for_key` asks the scheduler again."""


_Value = TypeVar("_Value")


def synchronous(result: _Value | Coroutine[Any, Any, _Value], call: str) -> _Value:
    """The value of a Dask call, which Dask types as a coroutine too (an asynchronous client's answer).

    Measurement drives Dask from plain threads, with synchronous clients only.
    """
    if isinstance(result, Coroutine):
        result.close()
        raise SchedOptError(f"{call}: the Dask client is asynchronous; measurement needs a synchronous one")
    return result


def scheduler_address(host: str, port: int) -> str:
    """The Dask address of a scheduler: "tcp://host:port"."""
    return host if "://" in host else f"tcp://{host}:{port}"


def parse_host_port(text: str) -> tuple[str, int]:
    """HOST:PORT (or tcp://HOST:PORT) as (host, port); a `SchedOptError` naming a malformed address."""
    location = text.split("://", 1)[-1]
    host, _, port = location.rpartition(":")
    if not host or not port.isdigit():
        raise SchedOptError(f"scheduler address {text!r} is not HOST:PORT")
    return host, int(port)


def connect(address: str, timeout: float) -> Client:
    """A client of the scheduler at `address`, or a `SchedOptError` if none answers within `timeout` s."""
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise SchedOptError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s: {error}"
        ) from None


@dataclass(frozen=True)
class FleetWorker:
    """One worker as the scheduler sees it: where it is, the device keys it offers, what it runs now."""

    address: str
    name: str
    keys: Mapping[str, float]
    nthreads: int
    running: int

    @property
    def busy(self) -> bool:
        return self.running > 0


def fleet_workers(client: Client) -> list[FleetWorker]:
    """The scheduler's workers, sorted by address."""
    info: dict[str, Any] = client.scheduler_info(n_workers=-1)["workers"]
    processing = synchronous(client.processing(), "Client.processing")
    return [
        FleetWorker(
            address,
            str(worker.get("name", address)),
            dict(worker.get("resources") or {}),
            int(worker.get("nthreads", 0)),
            len(processing.get(address, ())),
        )
        for address, worker in sorted(info.items())
    ]


def build_resource(key: str) -> str:
    """The Dask resource of the builds of device key `key`: a worker offers N units to build N at once.

    Apart from the key itself, so that builds never hold the unit a measurement needs.
    """
    return f"build/{key}"


def workers_of_key(workers: list[FleetWorker], key: str) -> list[FleetWorker]:
    return [worker for worker in workers if worker.keys.get(key, 0) >= 1]


def wait_for_key(client: Client, key: str, timeout: float, *, builds: bool = False) -> list[FleetWorker]:
    """The workers that offer `key` (with `builds`, its `build_resource`), once one does; after `timeout` s,
    a `SchedOptError` listing the resources there are."""
    resource = build_resource(key) if builds else key
    deadline = time.monotonic() + timeout
    while True:
        workers = fleet_workers(client)
        offering = workers_of_key(workers, resource)
        if offering:
            return offering
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    offered = ", ".join(sorted({k for worker in workers for k in worker.keys})) or "none"
    address = client.scheduler.address if client.scheduler is not None else "(closed)"
    what, listing, hint = ("builds for", "resources", " --builds N") if builds else ("offers", "keys", "")
    raise SchedOptError(
        f"no worker of the Dask scheduler at {address} {what} the device key {key!r} "
        f"(waited {timeout:g} s; {listing} offered: {offered}); "
        f"start one with `sched-opt-worker --scheduler HOST:PORT --key {key}{hint}`"
    )
