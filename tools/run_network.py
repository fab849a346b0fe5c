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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from schedopt.compiled_model import CompiledModel, compile_model
from schedopt.errors import SchedOptError
from schedopt.hardware_params import HardwareParams
from schedopt.measurement.timing import Timing, blas_description, time_callable
from schedopt.records import RecordToFile, read_records
from schedopt.search_task import SearchTask
from schedopt.task_extraction import extract_tasks
from schedopt.tools.model_arguments import load_model_argument
from schedopt.tuning.latency_curve import latency_curve, plot_latency_curve
from schedopt.tuning.task_scheduler import TaskScheduler
from schedopt.tuning.task_scheduler_callbacks import LogEstimatedLatency, PrintTableInfo
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
            tune_network(tasks, weights, log, options.trials, options.per_round, options.seed)
            print(f"\ntuning took {time.perf_counter() - start:.1f} s")
        compiled = compile_model(model, records=str(log) if log.exists() else None)
    except SchedOptError as error:
        print(f"sched-opt-run: error: {error}", file=sys.stderr)
        return 1
    tuned = sum(op.tuned for op in compiled.operators)
    print(
        f"compiled  {len(compiled.operators)} operators, {tuned} from records, the others by default schedules"
    )

    try:
        reference = ReferenceRun.checked(model, compiled, options.seed, hardware.num_cores)
    except SchedOptError as error:
        print(f"sched-opt-run: error: {error}", file=sys.stderr)
        return 1
    print("check     the outputs match onnxruntime's\n")
    ours, theirs = reference.time(options.repeat)
    print(f"{'program':<24}{'min ms':>10}{'median ms':>12}   speed vs onnxruntime")
    for label, timing in (("sched-opt", ours), ("onnxruntime", theirs)):
        print(
            f"{label:<24}{timing.min_s * 1e3:>10.3f}{timing.median_s * 1e3:>12.3f}{theirs.min_s / timing.min_s:>10.2f}x"
        )
    print(f"\nrecords: {log.resolve()}  (sched-opt-records best {log})")
    return 0


def tune_network(
    tasks: list[SearchTask], weights: list[int], log: Path, trials: int, per_round: int, seed: int
) -> None:
    """Tune the tasks together for `trials` measurements (resuming `log`), then draw the latency curve beside it.

    `LOG.latency.tsv` gets a line per round, `LOG.latency.png` the estimated latency against trials.
    """
    callbacks = [PrintTableInfo(), LogEstimatedLatency(log.with_suffix(".latency.tsv"))]
    scheduler = TaskScheduler(tasks, weights, load_log_file=str(log), callbacks=callbacks, seed=seed)
    scheduler.tune(
        TuningOptions(
            num_measure_trials=trials,
            num_measures_per_round=per_round,
            measure_callbacks=[RecordToFile(str(log))],
        )
    )
    _plot(log, tasks, weights)


@dataclass
class ReferenceRun:
    """A compiled network and onnxruntime on the same seeded random inputs, their outputs checked to agree."""

    compiled: CompiledModel
    inputs: list[np.ndarray]
    session: Any
    feed: dict[str, np.ndarray]

    @classmethod
    def checked(cls, model: Any, compiled: CompiledModel, seed: int, threads: int) -> ReferenceRun:
        """Run both once and compare (rtol `RTOL`, atol scaled by the largest output): a SchedOptError if they differ."""
        rng = np.random.default_rng(seed)
        inputs = [rng.standard_normal(spec.shape).astype(spec.dtype) for spec in compiled.inputs]
        session = _onnxruntime_session(model, threads)
        feed = {spec.name: value for spec, value in zip(compiled.inputs, inputs, strict=True)}
        for index, (have, want) in enumerate(zip(compiled(*inputs), session.run(None, feed), strict=True)):
            scale = float(np.max(np.abs(want))) or 1.0
            try:
                np.testing.assert_allclose(have, want, rtol=RTOL, atol=RTOL * scale)
            except AssertionError as mismatch:
                raise SchedOptError(f"output {index} differs from onnxruntime's:{mismatch}") from None
        return cls(compiled, inputs, session, feed)

    def time(self, repeat: int) -> tuple[Timing, Timing]:
        """The compiled network's timing and onnxruntime's, in this process."""
        ours = time_callable(lambda: self.compiled(*self.inputs), repeat)
        theirs = time_callable(lambda: self.session.run(None, self.feed), repeat)
        return ours, theirs


def _onnxruntime_session(model: Any, threads: int) -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise SchedOptError("checking against onnxruntime needs it: pip install onnxruntime") from None
    session_options = onnxruntime.SessionOptions()
    session_options.intra_op_num_threads = threads
    source = model.SerializeToString() if hasattr(model, "SerializeToString") else os.fspath(model)
    return onnxruntime.InferenceSession(source, session_options, providers=["CPUExecutionProvider"])


def _plot(log: Path, tasks: list[SearchTask], weights: list[int]) -> None:
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
