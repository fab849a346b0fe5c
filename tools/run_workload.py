"""`sched-opt-run`: build a registered workload, check it against numpy, time it.

    sched-opt-run matmul 512 512 512

builds the unscheduled program of the workload, runs it on random inputs,
compares the outputs with the numpy reference of the workload, and prints
its GFLOP/s beside numpy's, both timed in this process.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from schedopt.timing import (
    blas_description,
    reexec_without_openblas_overrides,
    time_callable,
)


def _parse_arg(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sched-opt-run", description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", help="a registered workload name, e.g. matmul")
    parser.add_argument("args", nargs="*", type=_parse_arg, help="the workload's arguments (JSON values)")
    parser.add_argument("--repeat", type=int, default=5, help="timing repeats (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    options = parser.parse_args(argv)
    reexec_without_openblas_overrides()

    import numpy as np

    from schedopt.build import build
    from schedopt.compute_dag import ComputeDAG
    from schedopt.errors import SchedOptError
    from schedopt.workload_registry import make_workload_key
    from schedopt.workloads.numpy_reference import random_inputs, reference

    try:
        key = make_workload_key(options.workload, options.args)
        dag = ComputeDAG(key)
        print(f"workload  {key}   ({dag.flop_ct / 1e9:.3f} GFLOP)")
        print(f"numpy     {blas_description()}")
        kernel = build(dag)
    except SchedOptError as error:
        print(f"sched-opt-run: error: {error}", file=sys.stderr)
        return 1
    inputs = random_inputs(options.workload, dag, np.random.default_rng(options.seed))
    outputs = [np.empty(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    expected = reference(options.workload, options.args, inputs)
    for name, got, want in zip(dag.output_names, outputs, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=f"output {name}")
    print(f"check     outputs {', '.join(dag.output_names)} match numpy")

    rows = [
        ("sched-opt (unscheduled)", time_callable(lambda: kernel(*inputs, *outputs), options.repeat)),
        ("numpy", time_callable(lambda: reference(options.workload, options.args, inputs), options.repeat)),
    ]
    print(f"\n{'program':<26}{'min ms':>10}{'median ms':>12}{'GFLOP/s':>10}")
    for label, timing in rows:
        print(
            f"{label:<26}{timing.min_s * 1e3:>10.3f}{timing.median_s * 1e3:>12.3f}{timing.gflops(dag.flop_ct):>10.2f}"
        )
    return 0


def console_main() -> None:
    """Entry point of the `sched-opt-run` console script."""
    sys.exit(main())


if __name__ == "__main__":
    console_main()
