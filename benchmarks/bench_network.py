"""Network benchmark: whole models tuned by the task scheduler, against onnxruntime in one process.

    python benchmarks/bench_network.py --trials 2000                    # ResNet-18, MobileNetV2, the BERT layer
    python benchmarks/bench_network.py resnet18 --trials 1000 --json r18.json
    python benchmarks/bench_network.py resnet18 --trials 0              # time what the logs hold, no tuning

For each model of the zoo (batch 1, fp32, real shapes, seeded weights) it
extracts the tasks, tunes them together for `--trials` measurements (the
gradient strategy; records in `--out-dir/MODEL.json`: an existing log is
resumed, and counts towards the trials), then, after all tuning, compiles
each model with its records (default schedules for tasks without any) and
times it beside onnxruntime (CPU provider, intra-op threads = cores), both
in one fresh process on the same inputs, after checking the outputs agree.
That process is a new one: timed in the process that tuned, ResNet-18 ran
1.5x slower (12.9 against 8.6 ms) with what tuning leaves running there.
The table gives per model: tasks, trials measured, tuning wall time, the
latency of the compiled model (min and median over `--repeat` runs) and of
onnxruntime, and their ratio (onnxruntime / sched-opt: above 1 is faster
than onnxruntime). The run also draws each model's latency-vs-trials curve
next to its log. Timings compare only within one run; run it on a quiet
machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from schedopt.measurement.timing import reexec_without_openblas_overrides

MODELS = ("resnet18", "mobilenet_v2", "bert_layer")


@dataclass
class Row:
    model: str
    tasks: int
    trials: int
    tuning_s: float
    schedopt_ms: float
    schedopt_median_ms: float
    onnxruntime_ms: float
    onnxruntime_median_ms: float

    @property
    def speedup(self) -> float:
        return self.onnxruntime_ms / self.schedopt_ms


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", help=f"models among {', '.join(MODELS)} (default all)")
    parser.add_argument("--trials", type=int, default=2000, help="measurements per model (default 2000)")
    parser.add_argument("--per-round", type=int, default=64, help="measurements per task round (default 64)")
    parser.add_argument("--out-dir", default="tuning-records/networks", help="record logs and curves")
    parser.add_argument(
        "--repeat", type=int, default=20, help="timed runs of each compiled model (default 20)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--timing-out", metavar="FILE", help=argparse.SUPPRESS)  # the timing process's rows
    options = parser.parse_args()
    unknown = [m for m in options.models if m not in MODELS]
    if unknown:
        parser.error(f"unknown models {', '.join(unknown)} (known: {', '.join(MODELS)})")
    options.models = options.models or list(MODELS)
    return options


def main() -> int:
    options = _arguments()
    reexec_without_openblas_overrides()
    if options.timing_out:
        rows = _time_models(options)
        Path(options.timing_out).write_text(json.dumps([asdict(row) for row in rows]))
        return 0

    tuning_s = _tune_models(options)
    rows = [Row(**fields) for fields in json.loads(_timed_in_fresh_process(options))]
    for row in rows:
        row.tuning_s = tuning_s[row.model]

    import onnxruntime

    import schedopt as ss

    threads = ss.HardwareParams().num_cores
    print(
        f"\nonnxruntime {onnxruntime.__version__}, {threads} threads; ratio = onnxruntime / sched-opt (min times)"
    )
    header = f"{'model':<14}{'tasks':>6}{'trials':>8}{'tuning s':>10}{'sched-opt ms':>14}{'median':>9}"
    header += f"{'onnxruntime ms':>16}{'median':>9}{'ratio':>8}"
    print(header)
    for row in rows:
        print(
            f"{row.model:<14}{row.tasks:>6}{row.trials:>8}{row.tuning_s:>10.0f}{row.schedopt_ms:>14.3f}"
            f"{row.schedopt_median_ms:>9.3f}{row.onnxruntime_ms:>16.3f}{row.onnxruntime_median_ms:>9.3f}"
            f"{row.speedup:>7.2f}x"
        )
    if options.json:
        document = {"rows": [asdict(row) | {"speedup": row.speedup} for row in rows], "threads": threads}
        Path(options.json).write_text(json.dumps(document, indent=1))
    return 0


def _tune_models(options: argparse.Namespace) -> dict[str, float]:
    """Tune each model's tasks into its log; the tuning wall time of each model."""
    import schedopt as ss
    from schedopt.frontend import model_zoo
    from schedopt.tools.run_network import tune_network

    out_dir = Path(options.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tuning_s: dict[str, float] = {}
    for name in options.models:
        tasks, weights = ss.extract_tasks(getattr(model_zoo, name)(), target="llvm")
        log = out_dir / f"{name}.json"
        print(f"== {name}: {len(tasks)} tasks, log {log}", flush=True)
        start = time.perf_counter()
        if options.trials:
            tune_network(tasks, weights, log, options.trials, options.per_round, options.seed)
        tuning_s[name] = time.perf_counter() - start
    return tuning_s


def _timed_in_fresh_process(options: argparse.Namespace) -> str:
    """The rows of `_time_models`, as JSON, from a new Python process running this script."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "rows.json"
        command = [sys.executable, __file__, *options.models, f"--out-dir={options.out_dir}"]
        command += [f"--repeat={options.repeat}", f"--seed={options.seed}", f"--timing-out={out}"]
        subprocess.run(command, check=True)
        return out.read_text()


def _time_models(options: argparse.Namespace) -> list[Row]:
    """Compile each model with its log and time it beside onnxruntime, in this process."""
    import schedopt as ss
    from schedopt.frontend import model_zoo
    from schedopt.records import read_records
    from schedopt.tools.run_network import ReferenceRun

    rows = []
    threads = ss.HardwareParams().num_cores
    for name in options.models:
        model = getattr(model_zoo, name)()
        tasks, _ = ss.extract_tasks(model, target="llvm")
        log = Path(options.out_dir) / f"{name}.json"
        compiled = ss.compile_model(model, records=str(log) if log.exists() else None)
        ours, theirs = ReferenceRun.checked(model, compiled, options.seed, threads).time(options.repeat)
        trials = len(list(read_records(log))) if log.exists() else 0
        milliseconds = (ours.min_s * 1e3, ours.median_s * 1e3, theirs.min_s * 1e3, theirs.median_s * 1e3)
        rows.append(Row(name, len(tasks), trials, 0.0, *milliseconds))
    return rows


if __name__ == "__main__":
    sys.exit(main())
