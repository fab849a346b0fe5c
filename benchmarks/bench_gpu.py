"""GPU tuning benchmark: what the sketch search finds in N trials on a CUDA device, against cuBLAS / cuDNN.

    python benchmarks/bench_gpu.py                          # GEMM 1024 and conv2d R18, 200 trials each
    python benchmarks/bench_gpu.py gemm-1024 --trials 64 --json out.json

Needs pycuda (the `gpu` extra) and a CUDA device. The task's
HardwareParams and PTX architecture are read from the device
(`device_hardware_params`). For each case it tunes the workload with the
default policy (records in `--out-dir`; an existing file is resumed),
checks the best program against numpy, and times it with CUDA events. The
vendor library's time for the same computation in fp32 (cuBLAS / cuDNN
through PyTorch, TF32 off) comes from a separate process, so the two CUDA
contexts never meet; without PyTorch that column is empty. The table: the
tuned program's GFLOP/s, the vendor's, their ratio, the best GFLOP/s after
16 / 64 / 128 / all trials (the tuning curve), how many trials failed,
and the tuning time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpu_vendor
from bench_cli import case_parser, parse_cases, print_ruled_table, write_json

if TYPE_CHECKING:
    from schedopt.search_task import SearchTask

CURVE_POINTS = (16, 64, 128)


CASES: dict[str, tuple[str, tuple[int, ...]]] = {
    "gemm-1024": ("matmul", (1024, 1024, 1024)),
    "conv2d-r18": ("conv2d_nchw", (1, 64, 56, 56, 64, 3, 3, 1, 1)),
}
"""Case name: (workload, arguments)."""


@dataclass(frozen=True)
class Row:
    case: str
    device: str
    target: str
    trials: int
    failed_trials: int
    tuning_s: float
    tuned_gflops: float
    vendor_gflops: float | None
    tuned_vs_vendor: float | None
    curve_gflops: dict[str, float]
    """Best GFLOP/s measured while tuning, after the first n trials."""
    records: str


def vendor_seconds_elsewhere(workload: str, args: tuple[int, ...], repeat: int) -> float | None:
    """`vendor_seconds` in a fresh process: PyTorch's CUDA context stays out of pycuda's."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(gpu_vendor.vendor_seconds, (workload, args, repeat))


def tuned_seconds(task: SearchTask, workload: str, args: tuple[int, ...], log: str, repeat: int) -> float:
    """Seconds the best program of `log` takes on the device, after checking it against numpy."""
    import numpy as np

    import schedopt as ss
    from schedopt.gpu_kernel import GPUKernel, load_gpu_kernel
    from schedopt.measurement.time_evaluator import time_batches
    from schedopt.random_inputs import random_inputs
    from schedopt.workloads import reference

    dag, state = task.apply_best(log)
    kernel = ss.build(dag, state, target=task.target, hardware_params=task.hardware_params)
    assert isinstance(kernel, GPUKernel)
    inputs = random_inputs(workload, dag, np.random.default_rng(0))
    expected = reference(workload, args, inputs)
    loaded = load_gpu_kernel(kernel)
    try:
        for spec, array in zip(kernel.arg_specs, inputs, strict=False):
            loaded.copy_in(spec.name, array)
        loaded.run()
        for spec, want in zip(kernel.arg_specs[len(inputs) :], expected, strict=True):
            got = np.empty(spec.shape, spec.dtype)
            loaded.copy_out(spec.name, got)
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3, err_msg=f"{task.workload_key}")
        costs = time_batches(loaded.time_batch, 10, repeat, 200.0, None)
    finally:
        loaded.free()
    return sorted(costs)[len(costs) // 2]


def tuning_curve(log: str, flop_ct: float) -> tuple[dict[str, float], int]:
    """Best GFLOP/s after the first 16 / 64 / 128 / all records of `log`, and how many records failed."""
    import schedopt as ss
    from schedopt.measurement import MeasureErrorNo

    records = ss.load_records(log)
    best, curve, failed = 0.0, {}, 0
    for count, (_, result) in enumerate(records, 1):
        if result.error_no == MeasureErrorNo.NO_ERROR:
            best = max(best, flop_ct / result.mean_cost() / 1e9)
        else:
            failed += 1
        if count in CURVE_POINTS:
            curve[str(count)] = round(best, 1)
    curve[str(len(records))] = round(best, 1)
    return curve, failed


def run_case(name: str, options: argparse.Namespace) -> Row:
    import schedopt as ss
    from schedopt.gpu_kernel import device_hardware_params
    from schedopt.measurement import CUDARunner
    from schedopt.tuning.auto_schedule import make_search_policy

    workload, args = CASES[name]
    params = device_hardware_params(options.device)
    assert params.target is not None
    task = ss.SearchTask(workload, args, target=params.target, hardware_params=params)
    log = os.path.join(options.out_dir, f"{name}.seed{options.seed}.json")
    policy = make_search_policy(task, "sketch.xgb", options.seed, resume_from=log)
    print(f"\n=== {name}: {task.workload_key} on {params.target}, {options.trials} trials ===", flush=True)
    runner = CUDARunner(timeout=30, number=3, repeat=1, min_repeat_ms=50, device=options.device)
    start = time.perf_counter()
    try:
        tuning = ss.TuningOptions(
            options.trials, None, 64, 1, runner=runner, measure_callbacks=[ss.RecordToFile(log)]
        )
        task.tune(tuning, policy)
    finally:
        runner.close()
    tuning_s = time.perf_counter() - start
    flop_ct = task.compute_dag.flop_ct
    curve, failed = tuning_curve(log, flop_ct)
    tuned = flop_ct / tuned_seconds(task, workload, args, log, options.repeat) / 1e9
    vendor_s = vendor_seconds_elsewhere(workload, args, options.repeat)
    vendor = None if vendor_s is None else flop_ct / vendor_s / 1e9
    return Row(
        name,
        options.device_name,
        params.target,
        len(ss.load_records(log)),
        failed,
        round(tuning_s, 1),
        round(tuned, 1),
        None if vendor is None else round(vendor, 1),
        None if vendor is None else round(tuned / vendor, 3),
        curve,
        log,
    )


def print_table(rows: Sequence[Row]) -> None:
    header = f"{'case':<12}{'tuned':>9}{'vendor':>9}{'ratio':>8}{'curve (16/64/128/all)':>30}{'trials':>8}{'failed':>8}{'tuning s':>10}"
    lines = []
    for r in rows:
        vendor = "-" if r.vendor_gflops is None else f"{r.vendor_gflops:.1f}"
        ratio = "-" if r.tuned_vs_vendor is None else f"{r.tuned_vs_vendor:.3f}x"
        curve = " / ".join(f"{value:.0f}" for value in r.curve_gflops.values())
        lines.append(
            f"{r.case:<12}{r.tuned_gflops:>9.1f}{vendor:>9}{ratio:>8}{curve:>30}{r.trials:>8}{r.failed_trials:>8}{r.tuning_s:>10.1f}"
        )
    print()
    print_ruled_table(
        header,
        lines,
        f"(GFLOP/s on {rows[0].device if rows else '?'}, {rows[0].target if rows else ''}; "
        "vendor = cuBLAS / cuDNN through PyTorch, fp32, TF32 off)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = case_parser(__doc__, CASES)
    parser.add_argument("--trials", type=int, default=200, help="measurements per case (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the search")
    parser.add_argument("--device", type=int, default=0, help="CUDA device ordinal (default 0)")
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (default 7)")
    parser.add_argument("--out-dir", default="tuning-records", help="where record files go")
    options = parse_cases(parser, argv, CASES)

    from schedopt.gpu_kernel import device_name

    options.device_name = device_name(options.device)
    os.makedirs(options.out_dir, exist_ok=True)
    print(f"device {options.device}: {options.device_name}")
    rows = []
    for name in options.cases:
        rows.append(run_case(name, options))
        write_json(options.json, rows)  # each case as it finishes: a long run stopped early keeps its rows
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
