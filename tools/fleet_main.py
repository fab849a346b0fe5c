"""`sched-opt-fleet`: the measurement workers a Dask scheduler has, their device keys, and what they do.

    sched-opt-fleet 10.0.0.5:8786
    sched-opt-fleet 127.0.0.1:8786 --key rpi4

prints one row per worker (address, name, device keys, threads, busy or
idle) and a line per device key: how many workers offer it and how many are
measuring now, as TVM's `rpc.query_tracker` does for its tracker.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from schedopt.errors import SchedOptError
from schedopt.measurement.fleet import (
    FleetWorker,
    connect,
    fleet_workers,
    parse_host_port,
    scheduler_address,
    workers_of_key,
)

PROG = "sched-opt-fleet"


def _count(workers: int) -> str:
    return f"{workers} worker" if workers == 1 else f"{workers} workers"


def _keys(worker: FleetWorker) -> str:
    return ",".join(f"{key}={amount:g}" for key, amount in sorted(worker.keys.items())) or "-"


def _state(worker: FleetWorker) -> str:
    return f"busy ({worker.running})" if worker.busy else "idle"


def describe_fleet(address: str, workers: Sequence[FleetWorker]) -> str:
    """The table of workers, then one line per device key."""
    rows = [("worker", "name", "keys", "threads", "state")]
    rows += [(w.address, w.name, _keys(w), str(w.nthreads), _state(w)) for w in workers]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [f"{address}: {_count(len(workers))}"]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    for key in sorted({key for worker in workers for key in worker.keys}):
        offering = workers_of_key(list(workers), key)
        busy = sum(worker.busy for worker in offering)
        lines.append(f"key {key}: {_count(len(offering))}, {busy} busy, {len(offering) - busy} idle")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("scheduler", metavar="HOST:PORT", help="the Dask scheduler")
    parser.add_argument("--key", help="only the workers offering this device key")
    parser.add_argument(
        "--timeout", type=float, default=10, metavar="S", help="seconds to reach the scheduler (default 10)"
    )
    options = parser.parse_args(argv)
    try:
        address = scheduler_address(*parse_host_port(options.scheduler))
        client = connect(address, options.timeout)
    except SchedOptError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    try:
        workers = fleet_workers(client)
    finally:
        client.close()
    if options.key:
        workers = workers_of_key(workers, options.key)
    print(describe_fleet(address, workers))
    return 0


def console_main() -> None:
    """Entry point of the `sched-opt-fleet` console script."""
    sys.exit(main())
