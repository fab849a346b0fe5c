"""Re-time numpy, sched-opt's and MetaSchedule's best programs after tuning, in one quiet process.

    PY retime.py PLAN.json --out RESULT.json [--sides numpy,schedopt,ms] [--data-dir DIR]

`benchmarks/bench_vs_tvm.py` writes the plan (each case: workload, args,
GFLOP count and per seed the sched-opt record log and the MetaSchedule work
dir) and runs this with the TVM venv's Python, into which sched-opt is
installed, so that all three are timed in one process on the same inputs.
Every program is built and checked before any is timed; the timing then
runs in rounds, each program one repeat (a batch of calls of at least 100 ms)
per round, and a program's figure is its best repeat. numpy's programs go
first, in rounds of their own (TVM's thread pool spins after use and slows
OpenBLAS calls made after it); then sched-opt's programs (`task.apply_best`
+ `schedopt.build`) and MetaSchedule's (`ms_tune.best_kernel`) share the
rounds, which alternate which side goes first and pause before each repeat
so that neither side's thread pool still spins. Interleaved, a slow stretch
of the host (on a 2-core machine one repeat can lose 20%) falls on both
sides instead of on whichever was timed during it; the median repeat is
reported beside the best. sched-opt's programs run on cache-line-aligned
copies of the inputs and outputs, as MetaSchedule's run on TVM tensors
(64-byte aligned): numpy's own arrays start 16 bytes past a line, which
slows some tilings by a fifth. Every program's outputs are checked against the
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


PAUSE_S = 0.05
"""Sleep before each repeat: longer than OpenMP's and TVM's thread pools spin after a call."""
MIN_REPEAT_S = 0.1


class Timer:
    """Repeats of one checked program: each a batch of calls lasting at least `MIN_REPEAT_S`."""

    def __init__(self, run: Callable[[], object], flop: float):
        run()
        start = time.perf_counter()
        run()
        once = max(time.perf_counter() - start, 1e-9)
        self.run, self.flop = run, flop
        self.number = max(1, int(MIN_REPEAT_S / once))
        self.seconds: list[float] = []

    def repeat(self) -> None:
        time.sleep(PAUSE_S)
        start = time.perf_counter()
        for _ in range(self.number):
            self.run()
        self.seconds.append((time.perf_counter() - start) / self.number)

    def gflops(self) -> tuple[float, float]:
        """GFLOP/s at the best and at the median repeat."""
        return self.flop / min(self.seconds) / 1e9, self.flop / float(np.median(self.seconds)) / 1e9


def run_rounds(timers: Sequence[Timer], rounds: int) -> None:
    """`rounds` repeats of every timer, interleaved; odd rounds go through them backwards."""
    for index in range(rounds):
        for timer in timers if index % 2 == 0 else reversed(timers):
            timer.repeat()


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
    from schedopt.random_inputs import random_inputs
    from schedopt.workloads import reference

    dag = ss.SearchTask(case["workload"], tuple(case["args"])).compute_dag
    inputs = random_inputs(case["workload"], dag, np.random.default_rng(0))
    expected = reference(case["workload"], case["args"], inputs)
    if saved is not None:
        named = {f"in{i}": a for i, a in enumerate(inputs)} | {f"out{i}": a for i, a in enumerate(expected)}
        np.savez(saved, inputs=np.array(len(inputs)), **named)
    return inputs, expected


def _attempt(errors: list[str], what: str, action: Callable[[], Timer]) -> Timer | None:
    """The timer `action` prepares, or None with the reason appended to `errors`."""
    try:
        return action()
    except Exception as error:  # a failed build or check must not stop the other programs
        detail = str(error).strip().splitlines()
        errors.append(f"{what}: {type(error).__name__}: {' '.join(detail[:3])[:300]}")
        traceback.print_exc()
        return None


def _numpy_timer(case: dict[str, Any], data: Data) -> Timer:
    from schedopt.workloads import baseline

    inputs, expected = data
    call = baseline(case["workload"], case["args"], inputs)
    if call is None:
        raise RuntimeError("no numpy baseline for this workload")
    _check([np.asarray(call())], expected[:1], "numpy")
    return Timer(call, case["flop"])


def _schedopt_timer(case: dict[str, Any], log: str, data: Data) -> Timer:
    import schedopt as ss

    task = ss.SearchTask(case["workload"], tuple(case["args"]))
    kernel = ss.build(*task.apply_best(log))
    # On cache-line-aligned copies, as MetaSchedule's program runs on TVM tensors (64-byte aligned).
    inputs, expected = [ss.aligned_array(a) for a in data[0]], data[1]
    outputs = [ss.aligned_empty(s.shape, s.dtype) for s in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    _check(outputs, expected, "sched-opt")
    return Timer(lambda: kernel(*inputs, *outputs), case["flop"])


def _ms_timer(case: dict[str, Any], work_dir: str, mcpu: str | None, data: Data) -> Timer:
    from ms_tune import best_kernel

    inputs, expected = data
    bind = best_kernel(case["workload"], case["args"], work_dir, mcpu)
    outputs = [np.zeros(e.shape, np.float32) for e in expected]
    program = bind([*inputs, *outputs])
    _check(outputs, expected, "MetaSchedule")
    return Timer(program, case["flop"])


def retime(plan: dict[str, Any], sides: Sequence[str], data_dir: str | None, rounds: int) -> dict[str, Any]:
    """Time the requested sides of every case of `plan` in interleaved rounds; the results by case and seed."""
    results: dict[str, Any] = {"python": sys.executable, "sides": list(sides), "rounds": rounds, "cases": {}}
    data = {case["key"]: _data(case, data_dir) for case in plan["cases"]}
    for case in plan["cases"]:
        runs = {str(run["seed"]): {"errors": []} for run in case["runs"]}
        results["cases"][case["key"]] = {"runs": runs}
    if "numpy" in sides:
        from schedopt.measurement.timing import blas_description

        results["blas"] = blas_description()
        numpy_timers: dict[str, Timer] = {}
        for case in plan["cases"]:
            entry = results["cases"][case["key"]]
            entry["numpy_errors"] = []
            timer = _attempt(entry["numpy_errors"], "numpy", partial(_numpy_timer, case, data[case["key"]]))
            if timer is not None:
                numpy_timers[case["key"]] = timer
        run_rounds(list(numpy_timers.values()), rounds)
        for key, timer in numpy_timers.items():
            best, median = timer.gflops()
            results["cases"][key].update(numpy=round(best, 2), numpy_median=round(median, 2))
            print(f"retime: {key} numpy {best:.2f} GFLOP/s (median {median:.2f})", flush=True)
    timers: list[tuple[dict[str, Any], str, str, Timer]] = []
    for case in plan["cases"]:
        for run in case["runs"]:
            row = results["cases"][case["key"]]["runs"][str(run["seed"])]
            for side, label in (("schedopt", "sched-opt"), ("ms", "MetaSchedule")):
                location = run.get("schedopt_log" if side == "schedopt" else "ms_work_dir")
                if side not in sides or not location:
                    continue
                if side == "schedopt":
                    prepare = partial(_schedopt_timer, case, location, data[case["key"]])
                else:
                    prepare = partial(_ms_timer, case, location, plan.get("target"), data[case["key"]])
                timer = _attempt(row["errors"], f"{label} re-time", prepare)
                if timer is not None:
                    timers.append((row, side, f"{case['key']} seed {run['seed']} {label}", timer))
    run_rounds([timer for *_, timer in timers], rounds)
    for row, side, what, timer in timers:
        best, median = timer.gflops()
        row.update({side: round(best, 2), f"{side}_median": round(median, 2)})
        print(f"retime: {what} {best:.2f} GFLOP/s (median {median:.2f})", flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plan", help="the plan JSON bench_vs_tvm.py writes")
    parser.add_argument("--out", required=True, help="where the results JSON goes")
    parser.add_argument("--sides", default=",".join(SIDES), help="numpy,schedopt,ms (default: all three)")
    parser.add_argument("--data-dir", help="inputs and expected outputs, saved or read as .npz")
    parser.add_argument(
        "--rounds", type=int, default=15, help="timing rounds, one repeat of each program (15)"
    )
    options = parser.parse_args(argv)
    sides = [s for s in options.sides.split(",") if s]
    unknown = set(sides) - set(SIDES)
    if unknown:
        parser.error(f"unknown sides {sorted(unknown)}; known: {', '.join(SIDES)}")
    os.environ.setdefault("TVM_NUM_THREADS", str(os.cpu_count()))
    results = retime(json.loads(Path(options.plan).read_text()), sides, options.data_dir, options.rounds)
    Path(options.out).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
