"""Build benchmark: how long the candidates of a tuning round take to build.

    python benchmarks/bench_build.py                    # every case, 64 candidates each
    python benchmarks/bench_build.py matmul-512 --candidates 32 --json out.json

For each case, SketchPolicy samples a seeded population of random programs
(what a first round measures) and `--candidates` of them are built one after
another in this process, as a `LocalBuilder` worker builds them: steps
replayed, layouts rewritten as the task says, lowered and optimised to LLVM
IR (no machine code; the runner makes that). The table gives the median,
90th percentile, largest and total build time, candidates per second on
one core, and the median over the build time of the unscheduled program
of the same task, built in the same run (`naive s`, the median of
`REFERENCE_BUILDS`): that ratio compares across hosts, the seconds do not. Builds dominate a round on a small host (two workers build 64
candidates while the runner only times them), and a few heavily unrolled
candidates make most of the total, so the tail matters as much as the
median. Figures compare only within one run; the host differs from session
to session.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import case_parser, parse_cases, print_ruled_table, write_json

if TYPE_CHECKING:
    from schedopt.schedule.loop_state import State
    from schedopt.search_task import SearchTask


@dataclass(frozen=True)
class Case:
    workload: str
    args: tuple


REFERENCE_BUILDS = 3
COLUMN_WIDTHS = {
    "case": 22,
    "candidates": 11,
    "median s": 10,
    "p90 s": 8,
    "max s": 8,
    "total s": 9,
    "per s": 7,
    "naive s": 9,
    "median/naive": 14,
}
TABLE_NOTE = (
    "(one core; per s = candidates built per second; naive = the unscheduled program, built in this run)"
)

CASES = {
    "matmul-512": Case("matmul", (512, 512, 512)),
    "conv2d-resnet18-3x3": Case("conv2d_nhwc", (1, 64, 56, 56, 64, 3, 3, 1, 1)),
}


@dataclass(frozen=True)
class Row:
    case: str
    candidates: int
    median_s: float
    p90_s: float
    max_s: float
    total_s: float
    naive_s: float
    """The build time of the task's unscheduled program in the same run."""

    @property
    def per_second(self) -> float:
        return self.candidates / self.total_s

    @property
    def median_vs_naive(self) -> float:
        return self.median_s / self.naive_s

    def cells(self) -> list[str]:
        """The row as the table prints it, in the order of `COLUMN_WIDTHS`."""
        seconds = (self.median_s, self.p90_s, self.max_s)
        return [
            self.case,
            str(self.candidates),
            *(f"{value:.3f}" for value in seconds),
            f"{self.total_s:.1f}",
            f"{self.per_second:.2f}",
            f"{self.naive_s:.3f}",
            f"{self.median_vs_naive:.2f}",
        ]


def summarize(case: str, seconds: Sequence[float], naive_s: float) -> Row:
    """The row of `case` from its candidates' build times."""
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return Row(case, len(ordered), statistics.median(ordered), p90, ordered[-1], sum(ordered), naive_s)


def sampled_states(case: Case, count: int, seed: int) -> tuple[SearchTask, list[State]]:
    """The task of `case` and `count` distinct random programs of it, in a seeded order."""
    import schedopt.workloads  # noqa: F401  (registers the workloads)
    from schedopt.search_policy import SketchPolicy
    from schedopt.search_task import SearchTask

    task = SearchTask(case.workload, case.args)
    policy = SketchPolicy(
        task, params={"evolutionary_search_population": max(count, 64)}, seed=seed, verbose=0
    )
    states = policy.sample_initial_population()
    random.Random(seed).shuffle(states)
    return task, states[:count]


def run_case(name: str, case: Case, count: int, seed: int) -> Row:
    from schedopt.layout_rewrite import rewrite_layout
    from schedopt.measurement import default_build_func

    task, states = sampled_states(case, count, seed)
    dag = task.compute_dag

    def build_seconds(state: State) -> float:
        start = time.perf_counter()
        rewrite = rewrite_layout(dag, dag.replay_steps(state.transform_steps), task.layout_rewrite_option)
        default_build_func(rewrite.dag, rewrite.state, task.target)
        return time.perf_counter() - start

    naive = statistics.median(build_seconds(dag.get_init_state()) for _ in range(REFERENCE_BUILDS))
    return summarize(name, [build_seconds(state) for state in states], naive)


def print_table(rows: Sequence[Row]) -> None:
    widths = COLUMN_WIDTHS.values()
    header = _aligned(COLUMN_WIDTHS, widths)
    print_ruled_table(header, (_aligned(row.cells(), widths) for row in rows), TABLE_NOTE)


def _aligned(cells: Iterable[str], widths: Iterable[int]) -> str:
    """The first cell left-aligned, the others right-aligned, each in its width."""
    return "".join(
        cell.ljust(width) if index == 0 else cell.rjust(width)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = case_parser(__doc__, CASES)
    parser.add_argument("--candidates", type=int, default=64, help="candidates per case (default 64)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sampling (default 1)")
    options = parse_cases(parser, argv, CASES)
    if options.candidates < 1:
        parser.error("--candidates must be at least 1")
    rows = [run_case(name, CASES[name], options.candidates, options.seed) for name in options.cases]
    print_table(rows)
    write_json(
        options.json,
        [
            {**asdict(row), "per_second": row.per_second, "median_vs_naive": row.median_vs_naive}
            for row in rows
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
