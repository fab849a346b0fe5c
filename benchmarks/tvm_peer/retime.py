"""Re-time numpy, sched-opt's and MetaSchedule's best programs after tuning, in one quiet process.

    PY retime.py PLAN.json --out RESULT.json [--sides numpy,schedopt,ms] [--data-dir DIR]

`benchmarks/bench_vs_tvm.py` writes the plan (each case: workload, args,
GFLOP count and per seed the sched-opt record log and the MetaSchedule work
dir) and runs this with the TVM venv's Python, into which sched-opt is
installed, so that all three are timed in one process on the same inputs.
The order is fixed: numpy for every case first (TVM's thread pool spins
after use and slows OpenBLAS calls made after it), then sched-opt's
programs (`task.apply_best` + `schedopt.build`), then MetaSchedule's
(`ms_tune.best_kernel`). Every program's outputs are checked against the
float64 numpy reference before it is timed; a failure is reported in the
results, never raised. Where one Python cannot import both, the benchmark
runs `--sides numpy,schedopt --data-dir D` with its own Python and then
`--sides ms --data-dir D` with TVM's: the first saves the inputs and the
expected outputs there for the second, which then needs no sched-opt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SIDES = ("numpy", "schedopt", "ms")
TOLERANCE = {"rtol": 1e-3, "atol": 1e-3}
Data = tuple[list[np.ndarray], list[np.ndarray]]
"""The inputs of a case and its expected outputs."""


def time_gflops(run: Callable[[], object], flop: float, repeat: int) -> float:
    """GFLOP/s at the best of `repeat` repeats of at least 100 ms each, after a warm-up (as schedopt.measurement.timing)."""
    run()
    start = time.perf_counter()
    run()
    once = max(time.perf_counter() - start, 1e-9)
    number = max(1, int(0.1 / once))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            run()
        best = min(best, (time.perf_counter() - start) / number)
    return flop / best / 1e9


def _check(got: Sequence[np.ndarray], want: Sequence[np.ndarray], what: str) -> None:
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(g, w, err_msg=f"{what}: output {index}", **TOLERANCE)


def _data(case: dict[str, Any], data_dir: str | None) -> Data:
    """The inputs (seeded, as bench_tuning's) and the float64-reference outputs of a case."""
    saved = Path(data_dir, f"{case['key']}.npz") if data_dir else None
    if saved is not None and saved.exists():
        with np.load(saved) as arrays:
            count = int(arrays["inputs"])
            return [arrays[f"in{i}"] for i in range(count)], [
                arrays[f"out{i}"] for i in range(len(arrays.files) - count - 1)
            ]
    import schedopt as ss
    from schedopt.workloads.numpy_reference import random_inputs, reference

    dag = ss.SearchTask(case["workload"], tuple(case["args"])).compute_dag
    inputs = random_inputs(case["workload"], dag, np.random.default_rng(0))
    expected = reference(case["workload"], case["args"], inputs)
    if saved is not None:
        named = {f"in{i}": a for i, a in enumerate(inputs)} | {f"out{i}": a for i, a in enumerate(expected)}
        np.savez(saved, inputs=np.array(len(inputs)), **named)
    return inputs, expected


def _attempt(errors: list[str], what: str, action: Callable[[], float]) -> float | None:
    """GFLOP/s from `action`, or None with the reason appended to `errors`."""
    try:
        return round(action(), 2)
    except Exception as error:  # a failed build or check must not stop the other programs
        detail = str(error).strip().splitlines()
        errors.append(f"{what}: {type(error).__name__}: {' '.join(detail[:3])[:300]}")
        traceback.print_exc()
        return None


def _numpy_gflops(case: dict[str, Any], data: Data, repeat: int) -> float:
    from schedopt.workloads.numpy_baselines import baseline

    inputs, expected = data
    call = baseline(case["workload"], case["args"], inputs)
    if call is None:
        raise RuntimeError("no numpy baseline for this workload")
    _check([np.asarray(call())], expected[:1], "numpy")
    return time_gflops(call, case["flop"], repeat)


def _schedopt_gflops(case: dict[str, Any], log: str, data: Data, repeat: int) -> float:
    import schedopt as ss

    inputs, expected = data
    task = ss.SearchTask(case["workload"], tuple(case["args"]))
    kernel = ss.build(*task.apply_best(log))
    outputs = [np.zeros(s.shape, s.dtype) for s in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    _check(outputs, expected, "sched-opt")
    return time_gflops(lambda: kernel(*inputs, *outputs), case["flop"], repeat)


def _ms_gflops(case: dict[str, Any], work_dir: str, mcpu: str | None, data: Data, repeat: int) -> float:
    from ms_tune import best_kernel

    inputs, expected = data
    bind = best_kernel(case["workload"], case["args"], work_dir, mcpu)
    outputs = [np.zeros(e.shape, np.float32) for e in expected]
    program = bind([*inputs, *outputs])
    _check(outputs, expected, "MetaSchedule")
    return time_gflops(program, case["flop"], repeat)


def retime(plan: dict[str, Any], sides: Sequence[str], data_dir: str | None, repeat: int) -> dict[str, Any]:
    """Time the requested sides of every case of `plan`, in the fixed order; the results by case and seed."""
    results: dict[str, Any] = {"python": sys.executable, "sides": list(sides), "cases": {}}
    data = {case["key"]: _data(case, data_dir) for case in plan["cases"]}
    for case in plan["cases"]:
        runs = {str(run["seed"]): {"errors": []} for run in case["runs"]}
        results["cases"][case["key"]] = {"runs": runs}
    if "numpy" in sides:
        from schedopt.measurement.timing import blas_description

        results["blas"] = blas_description()
        for case in plan["cases"]:
            entry = results["cases"][case["key"]]
            entry["numpy_errors"] = []
            timing = partial(_numpy_gflops, case, data[case["key"]], repeat)
            entry["numpy"] = _attempt(entry["numpy_errors"], "numpy", timing)
            print(f"retime: {case['key']} numpy {entry['numpy']} GFLOP/s", flush=True)
    for side, label, location in (
        ("schedopt", "sched-opt", "schedopt_log"),
        ("ms", "MetaSchedule", "ms_work_dir"),
    ):
        if side not in sides:
            continue
        for case in plan["cases"]:
            for run in case["runs"]:
                if not run.get(location):
                    continue
                row = results["cases"][case["key"]]["runs"][str(run["seed"])]
                if side == "schedopt":
                    timing = partial(_schedopt_gflops, case, run[location], data[case["key"]], repeat)
                else:
                    target = plan.get("target")
                    timing = partial(_ms_gflops, case, run[location], target, data[case["key"]], repeat)
                row[side] = _attempt(row["errors"], f"{label} re-time", timing)
                print(f"retime: {case['key']} seed {run['seed']} {label} {row[side]} GFLOP/s", flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plan", help="the plan JSON bench_vs_tvm.py writes")
    parser.add_argument("--out", required=True, help="where the results JSON goes")
    parser.add_argument("--sides", default=",".join(SIDES), help="numpy,schedopt,ms (default: all three)")
    parser.add_argument("--data-dir", help="inputs and expected outputs, saved or read as .npz")
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (default 7)")
    options = parser.parse_args(argv)
    sides = [s for s in options.sides.split(",") if s]
    unknown = set(sides) - set(SIDES)
    if unknown:
        parser.error(f"unknown sides {sorted(unknown)}; known: {', '.join(SIDES)}")
    os.environ.setdefault("TVM_NUM_THREADS", str(os.cpu_count()))
    results = retime(json.loads(Path(options.plan).read_text()), sides, options.data_dir, options.repeat)
    Path(options.out).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
