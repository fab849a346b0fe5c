"""Peer benchmark: sched-opt against TVM MetaSchedule on the same workloads, trials and host.

    python benchmarks/bench_vs_tvm.py matmul-512 conv2d-r18 --trials 200 --seeds 0 1 2 \\
        --tvm-python ~/tvmenv/bin/python --json vs-tvm.json
    python benchmarks/bench_vs_tvm.py matmul-128 --trials 8 --tvm-python ~/tvmenv/bin/python  # a quick check
    python benchmarks/bench_vs_tvm.py --dry-run --tvm-python ~/tvmenv/bin/python   # check TVM, list the runs

TVM is never a dependency of sched-opt: MetaSchedule runs in the Python of a
venv of its own, `--tvm-python` (default $TVM_PYTHON), set up once:

    python3 -m venv ~/tvmenv
    ~/tvmenv/bin/pip install apache-tvm==0.27.0.post1 apache-tvm-ffi==0.1.14.post0 \\
        xgboost-cpu numpy threadpoolctl psutil cloudpickle tornado scipy
    ~/tvmenv/bin/pip install -e .     # sched-opt as well: then one process re-times both

(apache-tvm-ffi 0.1.15 segfaults on MetaSchedule's first database write. Give both venvs the same
numpy: the re-time runs numpy in the TVM venv, and numpy 2.2 times batch matmul 1.5x slower than 2.4.)

For each case and seed, one after the other (never two tuners at once: on
a small host anything else running wrecks the timings): sched-opt tunes
the workload as `sched-opt-run` does (sketch.xgb, rounds of 64, a record
log in the run's folder of `--work-dir`); then `tvm_peer/ms_tune.py`, in
the TVM Python, declares the same computation in TVM's te (same shapes,
layouts, float32, stages, layout-free weights) and runs `ms.tune_tir` for
as many trials (xgb cost model, evolutionary search, 32 per iteration;
candidates timed with the in-function weight packing their deployed
program does, as sched-opt's are, where MetaSchedule by default leaves it
out).
Afterwards `tvm_peer/retime.py` times numpy (its best OpenBLAS kernel: that
process starts without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE), sched-opt's best program and MetaSchedule's in one quiet process, on the
same inputs, each checked against the float64 numpy reference first, in
`--rounds` interleaved rounds (one repeat of each program per round; the
figure is the best repeat, the JSON has the median too), so that a slow
stretch of the host falls on both tuners alike. That
process is the TVM Python when it imports this checkout's sched-opt (the
`pip install -e .` above); otherwise two processes run back to back, and
the table's notes say so.

The table gives per run the trials measured, the tuning wall time, the
re-timed GFLOP/s of numpy, sched-opt and MetaSchedule (MS), the ratios
sched-opt/MS and sched-opt/numpy, and `reach`: the first sched-opt trial
whose tuning-time measurement matched MS's best tuning-time measurement
("-": never); then the medians over seeds of each case, and each run's
best-so-far tuning-time GFLOP/s after each round. Finished runs in the work
dir (same trial count) are reused, so an interrupted benchmark resumes;
delete the work dir to tune afresh. Where the TVM Python is missing or an
MS run fails, the message says why and the sched-opt side still reports
(exit status 1). Programs are timed through their Python calls, which
weighs on the microsecond-scale dense case; figures compare only within one
run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import case_parser, parse_cases, write_json

PEER_DIR = Path(__file__).resolve().parent / "tvm_peer"
MS_TUNE = PEER_DIR / "ms_tune.py"
RETIME = PEER_DIR / "retime.py"
SCHEDOPT_ROUND = 64
"""Measurements per sched-opt round: `sched-opt-run`'s default."""
MS_ROUND = 32
"""MetaSchedule's num_trials_per_iter in `ms_tune.py`."""


@dataclass(frozen=True)
class Case:
    workload: str
    args: tuple[Any, ...]


RESNET18_3X3 = (1, 64, 56, 56, 64, 3, 3, 1, 1)
"""N, CI, H, W, CO, KH, KW, stride, padding: ResNet-18's 3x3 layer, as bench_tuning's conv2d case."""

CASES = {
    "matmul-512": Case("matmul", (512, 512, 512)),
    "conv2d-r18": Case("conv2d_nchw", RESNET18_3X3),
    "conv2d-r18-nhwc": Case("conv2d_nhwc", RESNET18_3X3),
    "dense-1x512x1000": Case("dense_bias_relu", (1, 512, 1000)),
    "batch-matmul-8x256": Case("batch_matmul", (8, 256, 256, 256)),
    "matmul-128": Case("matmul", (128, 128, 128)),
}
DEFAULT_CASES = [name for name in CASES if name != "matmul-128"]
"""Every case but matmul-128, which is there for quick checks of the benchmark itself."""


@dataclass
class Run:
    """One case and seed: both tunings, the re-timed figures and what went wrong."""

    case: str
    workload: str
    args: list[Any]
    seed: int
    flop: float
    schedopt_trials: int | None = None
    ms_trials: int | None = None
    schedopt_tuning_s: float | None = None
    ms_tuning_s: float | None = None
    numpy_gflops: float | None = None
    schedopt_gflops: float | None = None
    ms_gflops: float | None = None
    schedopt_median_gflops: float | None = None
    """The median repeat of the re-time (the figure above is the best)."""
    ms_median_gflops: float | None = None
    schedopt_vs_ms: float | None = None
    schedopt_vs_numpy: float | None = None
    reach_trial: int | None = None
    schedopt_tuning_best_gflops: float | None = None
    ms_tuning_best_gflops: float | None = None
    schedopt_curve: list[tuple[int, float]] = field(default_factory=list)
    ms_curve: list[tuple[int, float]] = field(default_factory=list)
    schedopt_log: str | None = None
    ms_work_dir: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Probe:
    """What `--tvm-python` can do: import TVM's MetaSchedule (else `error`), and sched-opt from where."""

    python: str | None
    tvm_version: str | None = None
    schedopt_dir: str | None = None
    error: str | None = None
    numpy_version: str | None = None


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = case_parser(__doc__, CASES, DEFAULT_CASES, json_help="the runs and medians")
    parser.add_argument("--trials", type=int, default=200, help="measurements per tuner and run (200)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of the searches (0)")
    parser.add_argument(
        "--tvm-python", default=os.environ.get("TVM_PYTHON"), help="Python of the TVM venv ($TVM_PYTHON)"
    )
    parser.add_argument("--work-dir", default="tuning-records/vs-tvm", help="records and MS databases")
    parser.add_argument(
        "--rounds", type=int, default=15, help="interleaved timing rounds of the re-time (15)"
    )
    parser.add_argument("--build-timeout", type=float, default=60.0, help="MS seconds per build (60)")
    parser.add_argument("--dry-run", action="store_true", help="check the TVM Python, list the runs, stop")
    options = parse_cases(parser, argv, CASES, DEFAULT_CASES)
    if options.trials < 1:
        parser.error("--trials must be at least 1")
    return options


def probe_tvm(python: str | None) -> Probe:
    """Ask `python` (the TVM venv's) whether it imports MetaSchedule, and sched-opt from where."""
    if not python:
        return Probe(None, error="no TVM Python given (--tvm-python or $TVM_PYTHON); MetaSchedule skipped")
    if shutil.which(python) is None:
        return Probe(python, error=f"TVM Python {python} does not exist or is not executable")
    try:
        done = subprocess.run(
            [python, str(MS_TUNE), "probe"], capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return Probe(python, error=f"TVM Python {python} could not be run: {error}")
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or [f"exit status {done.returncode}"]
        return Probe(python, error=f"{python} cannot import TVM's MetaSchedule: {lines[-1]}")
    try:
        info = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Probe(python, error=f"{python}: unexpected answer to the probe: {done.stdout[-200:]!r}")
    return Probe(python, info.get("tvm"), info.get("schedopt"), numpy_version=info.get("numpy"))


def _best_so_far(gflops: Sequence[float]) -> list[float]:
    curve, best = [], 0.0
    for value in gflops:
        best = max(best, value)
        curve.append(best)
    return curve


def _per_round(curve: Sequence[float], size: int) -> list[tuple[int, float]]:
    """The best-so-far curve at the end of each round of `size` trials (the last may be short)."""
    ends = [*range(size, len(curve), size), len(curve)] if curve else []
    return [(end, round(curve[end - 1], 2)) for end in ends]


def _finished(summary: Path, trials: int) -> dict[str, Any] | None:
    if not summary.exists():
        return None
    done = json.loads(summary.read_text())
    return done if done.get("trials_requested") == trials else None


def tune_schedopt(run: Run, trials: int, run_dir: Path) -> list[float]:
    """Tune with sched-opt as `sched-opt-run` does; each trial's tuning-time GFLOP/s, from the log."""
    import schedopt as ss
    from schedopt.measurement import MeasureErrorNo
    from schedopt.tuning.auto_schedule import make_search_policy

    log, summary = run_dir / "schedopt.json", run_dir / "schedopt_result.json"
    task = ss.SearchTask(run.workload, tuple(run.args))
    done = _finished(summary, trials)
    if done is None or not log.exists():
        log.unlink(missing_ok=True)
        print(f"\n=== sched-opt: {run.case} seed {run.seed}, {task.workload_key}, {trials} trials ===")
        policy = make_search_policy(task, "sketch.xgb", run.seed)
        options = ss.TuningOptions(
            num_measure_trials=trials,
            num_measures_per_round=SCHEDOPT_ROUND,
            measure_callbacks=[ss.RecordToFile(str(log))],
        )
        start = time.perf_counter()
        task.tune(options, policy)
        done = {"trials_requested": trials, "tuning_s": round(time.perf_counter() - start, 1)}
        summary.write_text(json.dumps(done) + "\n")
    else:
        print(f"\n=== sched-opt: {run.case} seed {run.seed}: reusing the finished run in {run_dir} ===")
    run.schedopt_log, run.schedopt_tuning_s = str(log), done["tuning_s"]
    gflops = [
        run.flop / result.mean_cost() / 1e9 if result.error_no == MeasureErrorNo.NO_ERROR else 0.0
        for _, result in ss.load_records(str(log))
    ]
    run.schedopt_trials = len(gflops)
    return gflops


def tune_ms(
    run: Run, trials: int, run_dir: Path, python: str, mcpu: str, build_timeout: float
) -> list[float]:
    """Tune with MetaSchedule in the TVM Python; each trial's tuning-time GFLOP/s (0: failed)."""
    work_dir, log = run_dir / "ms", run_dir / "ms_tune.log"
    done = _finished(work_dir / "ms_result.json", trials)
    if done is None:
        shutil.rmtree(work_dir, ignore_errors=True)
        command = [
            python,
            str(MS_TUNE),
            "tune",
            run.workload,
            json.dumps(run.args),
            f"--trials={trials}",
            f"--seed={run.seed}",
            f"--work-dir={work_dir}",
            f"--target={mcpu}",
            f"--build-timeout={build_timeout}",
        ]
        print(
            f"\n=== MetaSchedule: {run.case} seed {run.seed}, {trials} trials (output in {log}) ===",
            flush=True,
        )
        with open(log, "w") as out:
            status = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
        done = _finished(work_dir / "ms_result.json", trials)
        if status != 0 or done is None:
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            run.errors.append(f"MetaSchedule tuning failed (exit status {status}; see {log}): {tail[-400:]}")
            return []
    else:
        print(f"\n=== MetaSchedule: {run.case} seed {run.seed}: reusing the finished run in {work_dir} ===")
    run.ms_work_dir, run.ms_tuning_s = str(work_dir), done["tuning_s"]
    gflops = [run.flop / s / 1e9 if s else 0.0 for s in done["run_secs"]]
    run.ms_trials = len(gflops)
    print(
        f"MetaSchedule: {run.ms_trials} trials in {run.ms_tuning_s} s, best {max(gflops, default=0):.2f} GFLOP/s"
    )
    return gflops


def _plan(runs: Sequence[Run], mcpu: str) -> dict[str, Any]:
    cases: dict[str, dict[str, Any]] = {}
    for run in runs:
        case = cases.setdefault(
            run.case,
            {"key": run.case, "workload": run.workload, "args": run.args, "flop": run.flop, "runs": []},
        )
        case["runs"].append(
            {"seed": run.seed, "schedopt_log": run.schedopt_log, "ms_work_dir": run.ms_work_dir}
        )
    return {"target": mcpu, "cases": list(cases.values())}


def retime(runs: Sequence[Run], probe: Probe, work_dir: Path, mcpu: str, rounds: int) -> list[str]:
    """Time numpy and both best programs after tuning; fills the runs' GFLOP/s, returns the notes."""
    import schedopt
    from schedopt.measurement.timing import OPENBLAS_OVERRIDES

    plan_file = work_dir / "retime_plan.json"
    plan_file.write_text(json.dumps(_plan(runs, mcpu), indent=1) + "\n")
    own_dir = str(Path(schedopt.__file__).resolve().parent)
    one_process = probe.error is None and probe.schedopt_dir == own_dir
    common = [str(RETIME), str(plan_file), f"--rounds={rounds}"]
    if one_process:
        assert probe.python is not None
        steps = [(probe.python, "numpy,schedopt,ms", work_dir / "retime.json")]
        notes = [
            f"re-timed in one process: {probe.python} (TVM {probe.tvm_version}, sched-opt from {own_dir})"
        ]
        import numpy

        if probe.numpy_version != numpy.__version__:
            notes.append(
                f"numpy is timed with {probe.python}'s numpy {probe.numpy_version}, not this Python's "
                f"{numpy.__version__}: their BLAS calls can differ by 1.5x (batch matmul); install the same"
            )
    else:
        steps = [(sys.executable, "numpy,schedopt", work_dir / "retime.json")]
        notes = ["re-timed numpy and sched-opt in one process (this Python)"]
        if probe.error is None and probe.python is not None:
            steps.append((probe.python, "ms", work_dir / "retime-ms.json"))
            where = f"sched-opt from {probe.schedopt_dir}" if probe.schedopt_dir else "no sched-opt"
            notes.append(
                f"MetaSchedule re-timed in a second process right after ({probe.python} has {where}; "
                f"`{probe.python} -m pip install -e .` lets one process time all three)"
            )
    data_dir = work_dir / "retime-data"
    data_dir.mkdir(exist_ok=True)
    print("\n=== re-timing numpy, sched-opt and MetaSchedule after tuning ===", flush=True)
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    env.setdefault("TVM_NUM_THREADS", str(os.cpu_count()))
    for python, sides, out in steps:
        out.unlink(missing_ok=True)
        command = [python, *common, f"--sides={sides}", f"--out={out}", f"--data-dir={data_dir}"]
        status = subprocess.run(command, env=env, check=False).returncode
        if status != 0 or not out.exists():
            for run in runs:
                run.errors.append(f"re-time of {sides} with {python} failed (exit status {status})")
            continue
        _merge(runs, json.loads(out.read_text()), notes)
    return notes


def _merge(runs: Sequence[Run], result: dict[str, Any], notes: list[str]) -> None:
    if "blas" in result:
        notes.append(f"numpy: {result['blas']} (in {result['python']})")
    for run in runs:
        case = result["cases"].get(run.case, {})
        timed = case.get("runs", {}).get(str(run.seed), {})
        if "numpy" in case:
            run.numpy_gflops = case["numpy"]
            run.errors += case.get("numpy_errors", [])
        run.schedopt_gflops = timed.get("schedopt", run.schedopt_gflops)
        run.ms_gflops = timed.get("ms", run.ms_gflops)
        run.schedopt_median_gflops = timed.get("schedopt_median", run.schedopt_median_gflops)
        run.ms_median_gflops = timed.get("ms_median", run.ms_median_gflops)
        run.errors += timed.get("errors", [])


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def finish(run: Run, schedopt: Sequence[float], ms: Sequence[float]) -> None:
    """Ratios, curves and `reach`, from the re-timed figures and the tuning-time ones."""
    run.schedopt_vs_ms = _ratio(run.schedopt_gflops, run.ms_gflops)
    run.schedopt_vs_numpy = _ratio(run.schedopt_gflops, run.numpy_gflops)
    ours, theirs = _best_so_far(schedopt), _best_so_far(ms)
    run.schedopt_curve, run.ms_curve = _per_round(ours, SCHEDOPT_ROUND), _per_round(theirs, MS_ROUND)
    run.schedopt_tuning_best_gflops = round(ours[-1], 2) if ours else None
    run.ms_tuning_best_gflops = round(theirs[-1], 2) if theirs else None
    if ours and theirs and theirs[-1] > 0:
        run.reach_trial = next((i + 1 for i, value in enumerate(ours) if value >= theirs[-1]), None)


def medians(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Per case, the median over seeds of each figure, seeds lacking it left out (`reach`: never counts as last)."""
    rows = []
    for case in dict.fromkeys(run.case for run in runs):
        group = [run for run in runs if run.case == case]
        row: dict[str, Any] = {"case": case, "seeds": [run.seed for run in group]}
        for name in (
            "schedopt_trials",
            "ms_trials",
            "schedopt_tuning_s",
            "ms_tuning_s",
            "numpy_gflops",
            "schedopt_gflops",
            "ms_gflops",
            "schedopt_vs_ms",
            "schedopt_vs_numpy",
        ):
            values = [getattr(run, name) for run in group if getattr(run, name) is not None]
            row[name] = round(statistics.median(values), 3) if values else None
        both = [run for run in group if run.schedopt_tuning_best_gflops and run.ms_tuning_best_gflops]
        reaches = [sys.maxsize if run.reach_trial is None else run.reach_trial for run in both]
        reach = statistics.median_low(reaches) if reaches else sys.maxsize
        row["reach_trial"] = None if reach == sys.maxsize else reach
        rows.append(row)
    return rows


def _num(value: float | None, width: int, digits: int = 2, suffix: str = "") -> str:
    text = "-" if value is None else f"{value:.{digits}f}{suffix}"
    return f"{text:>{width}}"


def _pair(a: float | None, b: float | None, digits: int) -> str:
    return "/".join("-" if v is None else f"{v:.{digits}f}" for v in (a, b))


def _line(case: str, seed: str, row: Any) -> str:
    get = (lambda n: row.get(n)) if isinstance(row, dict) else (lambda n: getattr(row, n))
    reach = get("reach_trial")
    return (
        f"{case:<20}{seed:>7}{_pair(get('schedopt_trials'), get('ms_trials'), 0):>11}"
        f"{_pair(get('schedopt_tuning_s'), get('ms_tuning_s'), 1):>15}"
        f"{_num(get('numpy_gflops'), 9)}{_num(get('schedopt_gflops'), 11)}{_num(get('ms_gflops'), 9)}"
        f"{_num(get('schedopt_vs_ms'), 8, suffix='x')}{_num(get('schedopt_vs_numpy'), 10, suffix='x')}"
        f"{'-' if reach is None else reach:>7}"
    )


def print_table(runs: Sequence[Run], median_rows: Sequence[dict[str, Any]], notes: Sequence[str]) -> None:
    header = (
        f"{'case':<20}{'seed':>7}{'trials':>11}{'tuning s':>15}{'numpy':>9}{'sched-opt':>11}{'MS':>9}"
        f"{'so/MS':>8}{'so/numpy':>10}{'reach':>7}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for row in median_rows:
        for run in (r for r in runs if r.case == row["case"]):
            print(_line(run.case, str(run.seed), run))
        if len(row["seeds"]) > 1:
            print(_line(row["case"], "median", row))
    print(
        "(trials and tuning s: sched-opt/MS; GFLOP/s re-timed after tuning, all cores; so = sched-opt;\n"
        " reach: first sched-opt trial at MS's best, both as measured while tuning; '-': never)"
    )
    print("\nbest-so-far GFLOP/s while tuning, after each round (trial:GFLOP/s):")
    for run in runs:
        for name, curve in (("sched-opt", run.schedopt_curve), ("MS", run.ms_curve)):
            points = " ".join(f"{t}:{g:.1f}" for t, g in curve) or "-"
            print(f"  {run.case} seed {run.seed} {name:<9} {points}")
    for note in notes:
        print(f"note: {note}")
    for run in runs:
        for error in run.errors:
            print(f"error: {run.case} seed {run.seed}: {error}")


def _host_cpu() -> str:
    import llvmlite.binding as llvm

    return llvm.get_host_cpu_name()


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_arguments(argv)
    import schedopt as ss

    probe = probe_tvm(options.tvm_python)
    if probe.error:
        print(f"bench_vs_tvm: error: {probe.error}", file=sys.stderr, flush=True)
    else:
        print(f"MetaSchedule: TVM {probe.tvm_version} in {probe.python}")
    work_dir = Path(options.work_dir).resolve()
    mcpu = _host_cpu()
    runs = []
    for name in options.cases:
        case = CASES[name]
        flop = ss.SearchTask(case.workload, case.args).compute_dag.flop_ct
        runs += [Run(name, case.workload, list(case.args), seed, flop) for seed in options.seeds]
    if options.dry_run:
        for run in runs:
            run_dir = work_dir / run.case / f"seed{run.seed}"
            ms = (
                "skipped" if probe.error else f"{probe.python} {MS_TUNE} tune ... --work-dir={run_dir / 'ms'}"
            )
            print(
                f"{run.case} seed {run.seed}: sched-opt {run.workload}{tuple(run.args)} -> {run_dir}; MS: {ms}"
            )
        return 1 if probe.error else 0

    curves: dict[int, tuple[list[float], list[float]]] = {}
    for index, run in enumerate(runs):
        run_dir = work_dir / run.case / f"seed{run.seed}"
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            ours = tune_schedopt(run, options.trials, run_dir)
        except Exception as error:  # report the MS side and the other runs anyway
            run.errors.append(f"sched-opt tuning failed: {type(error).__name__}: {error}")
            ours = []
        theirs: list[float] = []
        if probe.error is None:
            assert probe.python is not None
            theirs = tune_ms(run, options.trials, run_dir, probe.python, mcpu, options.build_timeout)
        curves[index] = (ours, theirs)
    notes = retime(runs, probe, work_dir, mcpu, options.rounds)
    if probe.error:
        notes.insert(0, f"MetaSchedule skipped: {probe.error}")
    for index, run in enumerate(runs):
        finish(run, *curves[index])
    median_rows = medians(runs)
    print_table(runs, median_rows, notes)
    write_json(options.json, {"runs": [asdict(run) for run in runs], "medians": median_rows, "notes": notes})
    failed = probe.error or any(run.errors for run in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
