"""Remote measurement benchmark: what RPCRunner costs per candidate, and what a second device buys.

    python benchmarks/bench_rpc.py                        # 64 candidates of matmul-128
    python benchmarks/bench_rpc.py --candidates 8 --json out.json

SketchPolicy samples a seeded population of the workload (what a first
round measures), `LocalBuilder` builds `--candidates` of them, and the same
builds are measured three ways, each on a fresh Dask scheduler (in this
process) and fresh `sched-opt-worker` processes on this host:

- overhead: `LocalRunner` against `RPCRunner` on one worker, one candidate
  at a time; the difference per candidate is what the fleet adds (Dask
  round trip, shipping the task and the IR, unpickling on the worker);
- throughput: `RPCRunner` on 2 workers of 1 CPU each (pinned, kernels on 1
  thread, 2 candidates in flight) against 1 worker of 2 CPUs (kernels on 2
  threads, 1 in flight): candidates measured per second.

Every configuration first measures two candidates per device untimed, so
that each has started its measuring process and computed the reference
outputs. Figures compare only within one run; the host differs from
session to session.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schedopt.measurement import BuildResult, MeasureInput, ProgramRunner
    from schedopt.measurement.local_rpc import LoopbackFleet

CASES = {"matmul-128": ("matmul", (128, 128, 128)), "matmul-512": ("matmul", (512, 512, 512))}
RUN_OPTIONS = {"timeout": 10, "number": 3, "repeat": 1, "min_repeat_ms": 0}
"""Short timings: the benchmark is about what surrounds them."""
WORKER_START_S = 60


@dataclass(frozen=True)
class Row:
    measurement: str
    devices: str
    candidates: int
    wall_s: float
    measured: int

    @property
    def per_candidate_ms(self) -> float:
        return self.wall_s / self.candidates * 1e3

    @property
    def per_second(self) -> float:
        return self.candidates / self.wall_s


def sampled_builds(
    case: str, count: int, seed: int, num_cores: int
) -> tuple[list[MeasureInput], list[BuildResult]]:
    """`count` seeded random programs of the case, for kernels of `num_cores` threads, and their builds."""
    import schedopt.workloads  # noqa: F401  (registers the workloads)
    from schedopt.hardware_params import HardwareParams
    from schedopt.measurement import LocalBuilder, MeasureInput
    from schedopt.search_policy import SketchPolicy
    from schedopt.search_task import SearchTask

    workload, args = CASES[case]
    task = SearchTask(workload, args, hardware_params=HardwareParams(num_cores=num_cores))
    policy = SketchPolicy(
        task, params={"evolutionary_search_population": max(count, 64)}, seed=seed, verbose=0
    )
    states = policy.sample_initial_population()
    random.Random(seed).shuffle(states)
    inputs = [MeasureInput(task, state) for state in states[:count]]
    builder = LocalBuilder()
    try:
        return inputs, builder.build(inputs, verbose=0)
    finally:
        builder.close()


def fleet(cpu_sets: Sequence[str], nthreads: int) -> AbstractContextManager[LoopbackFleet]:
    """A scheduler here and one `sched-opt-worker` (key "bench") per CPU set."""
    from schedopt.measurement.local_rpc import loopback_fleet

    workers = {
        f"bench-{index}": ["--key", "bench", "--nthreads", str(nthreads), "--cpus", cpus]
        for index, cpus in enumerate(cpu_sets)
    }
    return loopback_fleet(workers, WORKER_START_S)


def timed_run(
    runner: ProgramRunner, inputs: list[MeasureInput], builds: list[BuildResult], devices: int = 1
) -> tuple[float, int]:
    """Seconds to measure the batch, and how many succeeded.

    First, untimed, two candidates per device: each device starts its measuring process and
    computes the reference outputs before the clock starts.
    """
    from schedopt.measurement import MeasureErrorNo

    warm_up = 2 * devices
    runner.run((inputs * warm_up)[:warm_up], (builds * warm_up)[:warm_up], verbose=0)
    start = time.perf_counter()
    results = runner.run(inputs, builds, verbose=0)
    return time.perf_counter() - start, sum(r.error_no == MeasureErrorNo.NO_ERROR for r in results)


def measure_rpc(
    inputs: list[MeasureInput], builds: list[BuildResult], cpu_sets: Sequence[str], nthreads: int
) -> tuple[float, int]:
    from schedopt.measurement.rpc_runner import RPCRunner

    with fleet(cpu_sets, nthreads) as started:
        runner = RPCRunner("bench", started.host, started.port, n_parallel=len(cpu_sets), **RUN_OPTIONS)
        try:
            return timed_run(runner, inputs, builds, len(cpu_sets))
        finally:
            runner.close()


def run(case: str, count: int, seed: int) -> list[Row]:
    from schedopt.measurement import LocalRunner

    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("bench_rpc needs 2 CPUs")
    pair = f"{cpus[0]},{cpus[1]}"
    rows: list[Row] = []

    inputs, builds = sampled_builds(case, count, seed, num_cores=2)
    local = LocalRunner(**RUN_OPTIONS)
    try:
        rows.append(Row("local", "this process", count, *timed_run(local, inputs, builds)))
    finally:
        local.close()
    rows.append(Row("rpc", "1 worker x 2 cpus", count, *measure_rpc(inputs, builds, [pair], 2)))

    inputs, builds = sampled_builds(case, count, seed, num_cores=1)
    singles = [str(cpus[0]), str(cpus[1])]
    rows.append(Row("rpc", "2 workers x 1 cpu", count, *measure_rpc(inputs, builds, singles, 1)))
    return rows


def print_table(case: str, rows: Sequence[Row]) -> None:
    header = f"{'runner':<8}{'devices':<20}{'candidates':>11}{'ok':>5}{'wall s':>9}{'ms each':>9}{'per s':>8}"
    print(f"{case}\n{header}\n{'-' * len(header)}")
    for row in rows:
        print(
            f"{row.measurement:<8}{row.devices:<20}{row.candidates:>11}{row.measured:>5}{row.wall_s:>9.2f}"
            f"{row.per_candidate_ms:>9.1f}{row.per_second:>8.2f}"
        )
    local, remote = rows[0], rows[1]
    overhead = (remote.wall_s - local.wall_s) / local.candidates * 1e3
    print(f"RPCRunner overhead against LocalRunner: {overhead:+.1f} ms per candidate")
    print(
        f"2 workers x 1 cpu against 1 worker x 2 cpus: {rows[2].per_second / rows[1].per_second:.2f}x throughput"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", nargs="?", default="matmul-128", choices=sorted(CASES))
    parser.add_argument("--candidates", type=int, default=64, help="candidates measured (default 64)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sampling (default 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    options = parser.parse_args(argv)
    if options.candidates < 1:
        parser.error("--candidates must be at least 1")
    rows = run(options.case, options.candidates, options.seed)
    print_table(options.case, rows)
    if options.json:
        records: list[dict[str, Any]] = [
            {
                **asdict(row),
                "case": options.case,
                "per_candidate_ms": row.per_candidate_ms,
                "per_second": row.per_second,
            }
            for row in rows
        ]
        Path(options.json).write_text(json.dumps(records, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
