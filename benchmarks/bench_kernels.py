"""Kernel benchmark: sched-opt's code for a workload, unscheduled and under a
hand-written schedule, against numpy timed in the same run.

    python benchmarks/bench_kernels.py                  # every case
    python benchmarks/bench_kernels.py gemm-1024 --threads 2 --json out.json
    python benchmarks/bench_kernels.py gemm-512 --profile-build

For each case it checks both programs against the numpy reference, then
prints a table: GFLOP/s of the unscheduled program, of the schedule and of
the reference (`schedopt.workloads.baseline`: numpy `@` for GEMM; for
conv2d, an im2col built with numpy stride tricks followed by `@`), the
schedule's ratio to the reference, and
the median time to build the scheduled candidate (apply the schedule, lower,
LLVM O3 run twice, load). `--profile-build` splits that build time into its phases.

The schedules are hand-written (benchmarks/hand_schedules.py), not searched.
Both sides run on `--threads` cores (default: all): numpy's BLAS through
threadpoolctl, our kernels through the OpenMP runtime. Figures compare only
within one run; the host differs from session to session.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import case_parser, parse_cases, print_ruled_table, write_json


@dataclass(frozen=True)
class Case:
    """A workload and the hand-written schedule to run it with."""

    workload: str
    args: tuple
    schedule: str


CASES = {
    "gemm-512": Case("matmul", (512, 512, 512), "gemm"),
    "gemm-1024": Case("matmul", (1024, 1024, 1024), "gemm"),
    "batch-gemm-8x256": Case("batch_matmul", (8, 256, 256, 256), "batch_gemm"),
    "conv2d-resnet18-3x3": Case("conv2d_nhwc", (1, 64, 56, 56, 64, 3, 3, 1, 1), "conv2d_nhwc"),
}


@dataclass(frozen=True)
class Row:
    """One line of the table (and of `--json`)."""

    case: str
    workload: str
    shape: list
    unscheduled_gflops: float
    scheduled_gflops: float
    reference_gflops: float
    ratio_to_reference: float
    build_s_median: float
    build_phases_s: dict[str, float] | None


def build_phases(dag, state) -> dict[str, float]:
    """Seconds of each phase of `schedopt.build.build`, run one by one (the result is discarded)."""
    import llvmlite.binding as llvm

    from schedopt.build import lower
    from schedopt.ir_context import te_context
    from schedopt.passes.convert_to_llvm import ConvertToLLVMPass
    from schedopt.runtime import create_host_target_machine, optimize, parse_llvm_ir, translate_to_llvm_ir

    phases: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], object]) -> object:
        start = time.perf_counter()
        result = fn()
        phases[name] = time.perf_counter() - start
        return result

    module = timed("apply schedule + emit loops", lambda: lower(dag, state))
    timed("convert to llvm dialect", lambda: ConvertToLLVMPass().apply(te_context(), module))
    text = timed("translate to LLVM IR", lambda: translate_to_llvm_ir(module))
    llvm_module = timed("parse + verify", lambda: parse_llvm_ir(text))
    timed("LLVM O3 (twice)", lambda: optimize(llvm_module, 3))

    def codegen():
        engine = llvm.create_mcjit_compiler(llvm_module, create_host_target_machine(3))
        engine.finalize_object()

    timed("codegen + load", codegen)
    return phases


def run_case(name: str, case: Case, threads: int, repeat: int, profile: bool) -> Row:
    import numpy as np
    from hand_schedules import SCHEDULES, host_vector_lanes

    from schedopt.aligned_arrays import aligned_empty
    from schedopt.build import build
    from schedopt.compute_dag import ComputeDAG
    from schedopt.measurement.timing import time_callable
    from schedopt.random_inputs import random_inputs
    from schedopt.workload_registry import make_workload_key
    from schedopt.workloads import baseline, reference

    dag = ComputeDAG(make_workload_key(case.workload, case.args))
    state = SCHEDULES[case.schedule](dag, host_vector_lanes())
    inputs = random_inputs(case.workload, dag, np.random.default_rng(0))
    expected = reference(case.workload, case.args, inputs)

    builds = []
    for _ in range(3):
        start = time.perf_counter()
        scheduled = build(dag, state)
        builds.append(time.perf_counter() - start)
    phases = build_phases(dag, state) if profile else None
    unscheduled = build(dag)

    gflops = {}
    for label, kernel in (("unscheduled", unscheduled), ("scheduled", scheduled)):
        outputs = [aligned_empty(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
        kernel(*inputs, *outputs)
        for got, want in zip(outputs, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3, err_msg=f"{name} {label}")
        runs = 1 if label == "unscheduled" else repeat
        timing = time_callable(lambda k=kernel, o=outputs: k(*inputs, *o), repeat=runs, min_repeat_ms=50)
        gflops[label] = timing.gflops(dag.flop_ct)
    numpy_call = baseline(case.workload, case.args, inputs)
    gflops["reference"] = time_callable(numpy_call, repeat=repeat).gflops(dag.flop_ct)
    return Row(
        name,
        case.workload,
        list(case.args),
        round(gflops["unscheduled"], 2),
        round(gflops["scheduled"], 2),
        round(gflops["reference"], 2),
        round(gflops["scheduled"] / gflops["reference"], 3),
        round(statistics.median(builds), 4),
        {k: round(v, 4) for k, v in phases.items()} if phases else None,
    )


def print_table(rows: Sequence[Row]) -> None:
    header = f"{'case':<22}{'unscheduled':>12}{'scheduled':>11}{'numpy':>9}{'ratio':>8}{'build s':>9}"
    lines = (
        f"{row.case:<22}{row.unscheduled_gflops:>12.2f}{row.scheduled_gflops:>11.2f}"
        f"{row.reference_gflops:>9.2f}{row.ratio_to_reference:>7.2f}x{row.build_s_median:>9.3f}"
        for row in rows
    )
    print_ruled_table(header, lines, "(GFLOP/s; ratio = scheduled / numpy)")
    for row in rows:
        if row.build_phases_s:
            total = sum(row.build_phases_s.values())
            print(f"\nbuild phases of {row.case} ({total:.3f} s):")
            for phase, seconds in row.build_phases_s.items():
                print(f"  {phase:<30}{seconds:>8.4f} s {100 * seconds / total:>5.1f}%")


def main(argv: Sequence[str] | None = None) -> int:
    parser = case_parser(__doc__, CASES)
    parser.add_argument(
        "--threads", type=int, default=len(os.sched_getaffinity(0)), help="cores for both sides"
    )
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (default 7)")
    parser.add_argument(
        "--profile-build", action="store_true", help="time each phase of building the schedule"
    )
    options = parse_cases(parser, argv, CASES)
    os.environ["OMP_NUM_THREADS"] = str(options.threads)

    from schedopt.measurement.timing import blas_description, reexec_without_openblas_overrides

    reexec_without_openblas_overrides()
    from threadpoolctl import threadpool_limits

    threadpool_limits(options.threads)
    print(f"numpy: {blas_description()}; sched-opt: OpenMP, {options.threads} threads\n")
    rows = [
        run_case(name, CASES[name], options.threads, options.repeat, options.profile_build)
        for name in options.cases
    ]
    print_table(rows)
    write_json(options.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
