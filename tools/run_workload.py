"""`sched-opt-run`: tune a workload end to end, check it, and time it against numpy.

    sched-opt-run matmul 512 512 512                 # a registered workload and its arguments
    sched-opt-run --ir model.mlir --trials 64        # the te function of an IR file
    sched-opt-run --model resnet18 --trials 2000     # a network: resnet18, mobilenet_v2, bert_layer
    sched-opt-run --onnx model.onnx --trials 2000    # a network of an ONNX file

tunes the workload with the sketch search (`--trials` measurements, a live
line per round), takes the best schedule from the record file, checks it
against the numpy reference (an IR file: against its unscheduled program),
and prints the unscheduled, tuned and numpy GFLOP/s, all timed in this
process, and the record file's path. Records accumulate: a second run on
the same file resumes the search and never re-measures a program. A network
(`--model`, `--onnx`) is tuned by the task scheduler and checked and timed
against onnxruntime (`schedopt.tools.run_network`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from schedopt.measurement.timing import blas_description, reexec_without_openblas_overrides, time_callable
from schedopt.tools.model_arguments import ZOO_MODELS


def _parse_arg(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sched-opt-run", description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", nargs="?", help="a registered workload name, e.g. matmul")
    parser.add_argument("args", nargs="*", type=_parse_arg, help="the workload's arguments (JSON values)")
    parser.add_argument("--ir", metavar="FILE", help="tune the te function of this IR file instead")
    parser.add_argument("--onnx", metavar="FILE", help="tune the network of this ONNX file")
    parser.add_argument("--model", choices=ZOO_MODELS, help="tune a network of the model zoo")
    parser.add_argument(
        "--trials",
        type=int,
        default=200,
        help="measurements (default 200; 0: only use the records already in --log)",
    )
    parser.add_argument(
        "--per-round",
        type=int,
        default=64,
        help="measurements per search round (per task round for networks)",
    )
    parser.add_argument("--policy", default="sketch.xgb", help="sketch.xgb (default), sketch.random or empty")
    parser.add_argument("--seed", type=int, default=0, help="seed of the search and of the inputs")
    parser.add_argument("--log", metavar="FILE", help="record file (default: WORKLOAD.json here)")
    parser.add_argument("--repeat", type=int, default=5, help="timing repeats (default 5)")
    options = parser.parse_args(argv)
    given = [what for what in (options.workload, options.ir, options.onnx, options.model) if what is not None]
    if len(given) != 1:
        parser.error("give one of: a workload name and its arguments, --ir FILE, --onnx FILE, --model NAME")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    options = _arguments(argv)
    if options.onnx or options.model:
        from schedopt.tools.run_network import run_network

        return run_network(options)

    import numpy as np

    from schedopt.aligned_arrays import aligned_empty
    from schedopt.build import build
    from schedopt.compute_dag import ComputeDAG
    from schedopt.errors import SchedOptError
    from schedopt.random_inputs import random_inputs
    from schedopt.records import RecordToFile
    from schedopt.search_task import SearchTask
    from schedopt.tuning.auto_schedule import make_search_policy
    from schedopt.tuning_options import TuningOptions
    from schedopt.workloads import baseline, reference

    try:
        if options.ir:
            task = SearchTask(compute_dag=ComputeDAG.from_module(Path(options.ir).read_text()))
        else:
            task = SearchTask(options.workload, options.args)
        dag = task.compute_dag
        log = options.log or f"{options.workload or dag.func_name}.json"
        print(f"workload  {task.workload_key}   ({dag.flop_ct / 1e9:.3f} GFLOP)")
        hardware = task.hardware_params
        print(f"machine   {hardware.num_cores} cores, {hardware.vector_unit_bytes * 8}-bit vectors")
        print(f"numpy     {blas_description()}")
        print(f"records   {os.path.abspath(log)}\n")
        if options.trials:
            policy = make_search_policy(task, options.policy, options.seed, resume_from=log)
            start = time.perf_counter()
            tuning = TuningOptions(
                num_measure_trials=options.trials,
                num_measures_per_round=options.per_round,
                measure_callbacks=[RecordToFile(log)],
            )
            task.tune(tuning, policy)
            print(f"\ntuning took {time.perf_counter() - start:.1f} s")
        tuned_dag, state = task.apply_best(log)
        unscheduled, tuned = build(dag), build(tuned_dag, state)
    except SchedOptError as error:
        print(f"sched-opt-run: error: {error}", file=sys.stderr)
        return 1

    rng = np.random.default_rng(options.seed)
    inputs = random_inputs(options.workload or dag.func_name, dag, rng)
    outputs = {}
    for label, kernel in (("unscheduled", unscheduled), ("tuned", tuned)):
        outputs[label] = [aligned_empty(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
        kernel(*inputs, *outputs[label])
    expected = (
        reference(options.workload, options.args, inputs) if options.workload else outputs["unscheduled"]
    )
    for name, got, want in zip(dag.output_names, outputs["tuned"], expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3, err_msg=f"output {name}")
    print(f"check     the tuned program's outputs {', '.join(dag.output_names)} match numpy\n")

    rows = [
        (
            f"sched-opt {label}",
            time_callable(lambda k=kernel, o=outputs[label]: k(*inputs, *o), options.repeat),
        )
        for label, kernel in (("unscheduled", unscheduled), ("tuned", tuned))
    ]
    numpy_call = baseline(options.workload, options.args, inputs) if options.workload else None
    if numpy_call is not None:
        rows.append(("numpy", time_callable(numpy_call, options.repeat)))
    last_label, last = rows[-1]
    print(f"{'program':<24}{'min ms':>10}{'median ms':>12}{'GFLOP/s':>10}   speed vs {last_label}")
    for label, timing in rows:
        print(
            f"{label:<24}{timing.min_s * 1e3:>10.3f}{timing.median_s * 1e3:>12.3f}"
            f"{timing.gflops(dag.flop_ct):>10.2f}{last.min_s / timing.min_s:>10.2f}x"
        )
    print(f"\nrecords: {os.path.abspath(log)}  (sched-opt-records best {log})")
    return 0


def console_main() -> None:
    """Entry point of the `sched-opt-run` console script.

    The program restarts itself without OpenBLAS kernel overrides first, so
    that numpy's figures are its best kernel's; `main` called in a process
    of the caller's (tests, notebooks) never restarts it.
    """
    reexec_without_openblas_overrides()
    sys.exit(main())


if __name__ == "__main__":
    console_main()
