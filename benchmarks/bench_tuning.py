"""Tuning benchmark: what the sketch search finds in N trials, against numpy and a hand-written schedule.

    python benchmarks/bench_tuning.py                          # every case, 200 trials each
    python benchmarks/bench_tuning.py matmul-512 --trials 200 --policy sketch.random --json out.json
    python benchmarks/bench_tuning.py matmul-512 --params ansor   # Ansor's SketchPolicy parameters exactly

For each case it tunes the workload (records in `--out-dir`, one file per
case and policy; an existing file is resumed), checks the best program
against numpy, and prints a table: GFLOP/s of the unscheduled program, of
the tuned one, of the hand-written schedule of benchmarks/hand_schedules.py
(where there is one) and of numpy (`schedopt.workloads.baseline`),
the tuned program's ratios to numpy and to the unscheduled program, the
trials measured and the tuning time. All programs are timed in this process
on all cores, after tuning; figures compare only within one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import case_parser, parse_cases, print_ruled_table, write_json


@dataclass(frozen=True)
class Case:
    workload: str
    args: tuple
    hand_schedule: str | None = None


CASES = {
    "matmul-512": Case("matmul", (512, 512, 512), "gemm"),
    "conv2d-resnet18-3x3": Case("conv2d_nhwc", (1, 64, 56, 56, 64, 3, 3, 1, 1), "conv2d_nhwc"),
    "conv2d-resnet18-3x3-nchw": Case("conv2d_nchw", (1, 64, 56, 56, 64, 3, 3, 1, 1)),
    "softmax-4096x1024": Case("softmax", (4096, 1024)),
    "layer-norm-4096x1024": Case("layer_norm", (4096, 1024)),
}


@dataclass(frozen=True)
class Row:
    case: str
    policy: str
    params: str
    trials: int
    tuning_s: float
    unscheduled_gflops: float
    tuned_gflops: float
    hand_written_gflops: float | None
    numpy_gflops: float | None
    tuned_vs_numpy: float | None
    tuned_vs_unscheduled: float
    records: str


def run_case(name: str, case: Case, options: argparse.Namespace) -> Row:
    import numpy as np
    from hand_schedules import SCHEDULES, host_vector_lanes

    import schedopt as ss
    from schedopt.measurement.timing import time_callable
    from schedopt.random_inputs import random_inputs
    from schedopt.search_policy import SketchPolicy
    from schedopt.tuning.auto_schedule import make_search_policy
    from schedopt.workloads import baseline, reference

    task = ss.SearchTask(case.workload, case.args)
    dag = task.compute_dag
    params = SketchPolicy.DEFAULT_PARAMS if options.params == "ansor" else None
    log = os.path.join(options.out_dir, f"{name}.{options.policy}.{options.params}.seed{options.seed}.json")
    policy = make_search_policy(
        task, options.policy, options.seed, search_policy_params=params, resume_from=log
    )
    print(
        f"\n=== {name}: {task.workload_key}, {options.trials} trials, {options.policy}, {options.params} ==="
    )
    start = time.perf_counter()
    task.tune(ss.TuningOptions(options.trials, None, 64, 1, measure_callbacks=[ss.RecordToFile(log)]), policy)
    tuning_s = time.perf_counter() - start

    tuned_dag, state = task.apply_best(log)
    programs = {"unscheduled": ss.build(dag), "tuned": ss.build(tuned_dag, state)}
    if case.hand_schedule:
        programs["hand-written"] = ss.build(dag, SCHEDULES[case.hand_schedule](dag, host_vector_lanes()))
    inputs = random_inputs(case.workload, dag, np.random.default_rng(0))
    expected = reference(case.workload, case.args, inputs)
    gflops: dict[str, float] = {}
    for label, kernel in programs.items():
        outputs = [ss.aligned_empty(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
        kernel(*inputs, *outputs)
        for got, want in zip(outputs, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3, err_msg=f"{name} {label}")
        repeat = 1 if label == "unscheduled" else options.repeat
        run = lambda k=kernel, o=outputs: k(*inputs, *o)  # noqa: E731
        gflops[label] = time_callable(run, repeat=repeat, min_repeat_ms=50).gflops(dag.flop_ct)
    numpy_call = baseline(case.workload, case.args, inputs)
    if numpy_call is not None:
        gflops["numpy"] = time_callable(numpy_call, repeat=options.repeat).gflops(dag.flop_ct)
    return Row(
        name,
        options.policy,
        options.params,
        len(ss.load_records(log)),
        round(tuning_s, 1),
        round(gflops["unscheduled"], 2),
        round(gflops["tuned"], 2),
        round(gflops["hand-written"], 2) if "hand-written" in gflops else None,
        round(gflops["numpy"], 2) if "numpy" in gflops else None,
        round(gflops["tuned"] / gflops["numpy"], 3) if "numpy" in gflops else None,
        round(gflops["tuned"] / gflops["unscheduled"], 2),
        log,
    )


def _cell(value: float | None, width: int, suffix: str = "") -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width - len(suffix)}.2f}{suffix}"


def print_table(rows: Sequence[Row]) -> None:
    header = (
        f"{'case':<22}{'unscheduled':>12}{'tuned':>9}{'hand':>9}{'numpy':>9}"
        f"{'vs numpy':>10}{'vs unsched':>11}{'trials':>8}{'tuning s':>10}"
    )
    lines = (
        f"{r.case:<22}{r.unscheduled_gflops:>12.2f}{r.tuned_gflops:>9.2f}{_cell(r.hand_written_gflops, 9)}"
        f"{_cell(r.numpy_gflops, 9)}{_cell(r.tuned_vs_numpy, 10, 'x')}{r.tuned_vs_unscheduled:>10.1f}x"
        f"{r.trials:>8}{r.tuning_s:>10.1f}"
        for r in rows
    )
    print()
    print_ruled_table(
        header,
        lines,
        "(GFLOP/s, all cores; hand = the hand-written schedule of benchmarks/hand_schedules.py)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = case_parser(__doc__, CASES)
    parser.add_argument("--trials", type=int, default=200, help="measurements per case (default 200)")
    parser.add_argument("--policy", default="sketch.xgb", help="sketch.xgb (default) or sketch.random")
    parser.add_argument("--seed", type=int, default=0, help="seed of the search")
    parser.add_argument(
        "--params",
        choices=("host", "ansor"),
        default="host",
        help="SketchPolicy parameters: the defaults, derived from the host (default), or Ansor's exactly",
    )
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (default 7)")
    parser.add_argument("--out-dir", default="tuning-records", help="where record files go")
    options = parse_cases(parser, argv, CASES)

    from schedopt.measurement.timing import blas_description, reexec_without_openblas_overrides

    reexec_without_openblas_overrides()
    os.makedirs(options.out_dir, exist_ok=True)
    print(f"numpy: {blas_description()}")
    rows = [run_case(name, CASES[name], options) for name in options.cases]
    print_table(rows)
    write_json(options.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
