"""`sched-opt-worker`: join a measurement fleet as one device of a key.

    sched-opt-worker --scheduler 10.0.0.5:8786 --key xeon-avx512
    sched-opt-worker --scheduler 127.0.0.1:8786 --key local --cpus 0-3
    sched-opt-worker --scheduler 10.0.0.5:8786 --key xeon-avx512 --builds 4

runs a Dask worker (what `dask worker --no-nanny` runs) connected to the
scheduler, offering one unit of the device key as a resource, so that
`RPCRunner(key, host, port)` measures on it one candidate at a time.
`--builds N` also offers N units of the key's build resource, so that
`RPCBuilder(key, host, port)` builds up to N candidates on it at once
(each in a compiling process of its own); the worker then has N + 1
threads unless `--nthreads` says otherwise.
`--cpus` pins the worker, and the processes in which it runs kernels, to
those CPUs: two workers on one host then time on cores of their own.
The worker measures as `LocalRunner` does; it stops on SIGINT or SIGTERM,
or when the scheduler goes away. Start the scheduler with
`dask scheduler --port 8786`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence

from schedopt.errors import SchedOptError
from schedopt.measurement.fleet import build_resource, parse_host_port, scheduler_address

PROG = "sched-opt-worker"


def parse_cpus(text: str) -> set[int]:
    """A CPU list as `taskset -c` takes it: "0-3,6"."""
    cpus: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise SchedOptError(f"--cpus {text!r} is not a list of CPUs like 0-3,6")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--scheduler", required=True, metavar="HOST:PORT", help="the Dask scheduler")
    parser.add_argument("--key", required=True, help="the device key this worker offers (e.g. rpi4)")
    parser.add_argument(
        "--nthreads",
        type=int,
        default=None,
        help="threads of the Dask worker (default 1 + BUILDS; candidates are measured one at a time regardless)",
    )
    parser.add_argument(
        "--builds",
        type=int,
        default=0,
        metavar="N",
        help="also build for RPCBuilder, up to N candidates at once (default 0: only measure)",
    )
    parser.add_argument("--cpus", type=parse_cpus, help="pin the worker to these CPUs, e.g. 0-3,6")
    parser.add_argument("--name", help="the worker's name in sched-opt-fleet (default: its address)")
    parser.add_argument(
        "--host",
        default=None,
        help="the address the worker listens on (default: the one facing the scheduler)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=30,
        metavar="S",
        help="give up if the scheduler does not answer within S seconds (default 30)",
    )
    return parser


def _resources(key: str, builds: int) -> dict[str, float]:
    """One unit of the device key, and `builds` units of its build resource if the worker builds."""
    resources: dict[str, float] = {key: 1}
    if builds:
        resources[build_resource(key)] = builds
    return resources


async def _serve(options: argparse.Namespace, address: str) -> None:
    from distributed import Worker

    worker = Worker(
        address,
        nthreads=options.nthreads,
        resources=_resources(options.key, options.builds),
        name=options.name,
        host=options.host,
        death_timeout=options.connect_timeout,
        dashboard=False,
    )
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop, lambda: asyncio.ensure_future(worker.close()))
    try:
        await worker
    except Exception as error:  # Dask raises several kinds when the scheduler does not answer
        await worker.close()
        raise SchedOptError(
            f"cannot join the Dask scheduler at {address} within {options.connect_timeout:g} s: {error}"
        ) from None
    print(
        f"{PROG}: {worker.address} offers device key {options.key!r} "
        f"(and {options.builds} builds at once) to {address}",
        file=sys.stderr,
        flush=True,
    )
    await worker.finished()


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    try:
        if options.builds < 0:
            raise SchedOptError(f"--builds must not be negative, got {options.builds}")
        if options.nthreads is None:
            options.nthreads = 1 + options.builds
        if options.nthreads < 1:
            raise SchedOptError(f"--nthreads must be at least 1, got {options.nthreads}")
        address = scheduler_address(*parse_host_port(options.scheduler))
        if options.cpus:
            os.sched_setaffinity(0, options.cpus)
        asyncio.run(_serve(options, address))
    except SchedOptError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    return 0


def console_main() -> None:
    """Entry point of the `sched-opt-worker` console script."""
    sys.exit(main())
