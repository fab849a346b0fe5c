"""`sched-opt-run --model NAME | --onnx FILE`: tune a network end to end, check it, time it beside onnxruntime.

Extracts the network's tasks (its fused operators, weighted by how often it
runs them), tunes them together with the task scheduler (`--trials` in all,
a live table of tasks; records appended to `--log`, so a later run resumes
where this one stopped), compiles the network with the best record of each
task (defaults elsewhere), checks its outputs against onnxruntime on the
same random inputs and prints both latencies, timed in this process. The
estimated latency against trials is drawn next to the log
(`LOG.latency.png`, with matplotlib) and logged per round (`LOG.latency.tsv`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from schedopt.compiled_model import compile_model
from schedopt.errors import SchedOptError
from schedopt.hardware_params import HardwareParams
from schedopt.latency_curve import latency_curve, plot_latency_curve
from schedopt.records import RecordToFile, read_records
from schedopt.task_extraction import extract_tasks
from schedopt.task_scheduler import TaskScheduler
from schedopt.task_scheduler_callbacks import LogEstimatedLatency, PrintTableInfo
from schedopt.timing import blas_description, time_callable
from schedopt.tools.model_arguments import load_model_argument
from schedopt.tuning_options import TuningOptions

RTOL = 2e-3
"""Relative tolerance of the check against onnxruntime (float32 sums over thousands of terms differ in order)."""


def run_network(options: argparse.Namespace) -> int:
    """The network flow of `sched-opt-run` (see the module)."""
    name = options.model or Path(options.onnx).stem
    try:
        model = load_model_argument(options.model or options.onnx)
        log = Path(options.log or f"{name}.json")
        tasks, weights = extract_tasks(model, target="llvm")
        hardware = HardwareParams()
        print(f"network   {name}: {len(tasks)} tasks, {sum(weights)} operator calls to tune")
        print(f"machine   {hardware.num_cores} cores, {hardware.vector_unit_bytes * 8}-bit vectors")
        print(f"numpy     {blas_description()}")
        print(f"records   {log.resolve()}\n")
        if options.trials:
            start = time.perf_counter()
            callbacks = [PrintTableInfo(), LogEstimatedLatency(log.with_suffix(".latency.tsv"))]
            scheduler = TaskScheduler(
                tasks, weights, load_log_file=str(log), callbacks=callbacks, seed=options.seed
            )
            scheduler.tune(
                TuningOptions(
                    num_measure_trials=options.trials,
                    num_measures_per_round=options.per_round,
                    measure_callbacks=[RecordToFile(str(log))],
                )
            )
            print(f"\ntuning took {time.perf_counter() - start:.1f} s")
        compiled = compile_model(model, records=str(log) if log.exists() else None)
    except SchedOptError as error:
        print(f"sched-opt-run: error: {error}", file=sys.stderr)
        return 1
    tuned = sum(op.tuned for op in compiled.operators)
    print(
        f"compiled  {len(compiled.operators)} operators, {tuned} from records, the others by default schedules"
    )

    rng = np.random.default_rng(options.seed)
    inputs = [rng.standard_normal(spec.shape).astype(spec.dtype) for spec in compiled.inputs]
    session = _onnxruntime_session(model, hardware.num_cores)
    feed = {spec.name: value for spec, value in zip(compiled.inputs, inputs, strict=True)}
    expected = session.run(None, feed)
    got = compiled(*inputs)
    for index, (have, want) in enumerate(zip(got, expected, strict=True)):
        scale = float(np.max(np.abs(want))) or 1.0
        np.testing.assert_allclose(have, want, rtol=RTOL, atol=RTOL * scale, err_msg=f"output {index}")
    print("check     the outputs match onnxruntime's\n")

    ours = time_callable(lambda: compiled(*inputs), options.repeat)
    theirs = time_callable(lambda: session.run(None, feed), options.repeat)
    print(f"{'program':<24}{'min ms':>10}{'median ms':>12}   speed vs onnxruntime")
    for label, timing in (("sched-opt", ours), ("onnxruntime", theirs)):
        print(
            f"{label:<24}{timing.min_s * 1e3:>10.3f}{timing.median_s * 1e3:>12.3f}{theirs.min_s / timing.min_s:>10.2f}x"
        )
    _plot(log, tasks, weights)
    print(f"\nrecords: {log.resolve()}  (sched-opt-records best {log})")
    return 0


def _onnxruntime_session(model: Any, threads: int) -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise SchedOptError("checking against onnxruntime needs it: pip install onnxruntime") from None
    session_options = onnxruntime.SessionOptions()
    session_options.intra_op_num_threads = threads
    source = model.SerializeToString() if hasattr(model, "SerializeToString") else os.fspath(model)
    return onnxruntime.InferenceSession(source, session_options, providers=["CPUExecutionProvider"])


def _plot(log: Path, tasks: list[Any], weights: list[int]) -> None:
    if not log.exists():
        return
    points = latency_curve(
        read_records(log), {t.workload_key: float(w) for t, w in zip(tasks, weights, strict=True)}
    )
    if not points:
        return
    png = log.with_suffix(".latency.png")
    try:
        plot_latency_curve(points, png, title=f"{log.stem}: estimated latency")
    except SchedOptError as error:  # matplotlib missing: the curve stays in the .tsv log
        print(f"(no plot: {error})")
        return
    print(f"curve     {png}")
