"""TVM MetaSchedule on sched-opt's workloads, run by the Python of a TVM venv (never by sched-opt's).

    TVM_PY ms_tune.py probe                               # TVM's version and LLVM, or why it fails
    TVM_PY ms_tune.py tune matmul '[512, 512, 512]' --trials 200 --seed 0 --work-dir DIR --target znver4

`benchmarks/bench_vs_tvm.py` starts it; it needs only apache-tvm 0.27 (with
apache-tvm-ffi 0.1.14.post0: 0.1.15 segfaults on the first database write)
and numpy. Each workload is declared here in TVM's te exactly as
`schedopt.workloads` declares it: same placeholders in the same order,
shapes, layouts, float32, stages, padding stage and layout-free weights
(`layout_free_placeholders`, which MetaSchedule's RewriteLayout honours by
packing the weight inside the function, as sched-opt's default
INSERT_TRANSFORM_STAGE does; candidates are built and timed with that
packing, see `build_with_weight_packing` and `DeclaredArguments`). `tune`
runs `ms.tune_tir` (xgb cost model, evolutionary search, 32 trials per
iteration, LocalBuilder with `--build-timeout`, LocalRunner number 3 /
min_repeat_ms 100), leaves the
JSON database in the work dir (one record per measured candidate, in
order), the best program's TIR and trace in `best_schedule.py`, and
`ms_result.json`: tuning seconds and each trial's mean run seconds (None:
failed), from which the best-so-far curve follows. `best_kernel` is what
the retime step calls to compile the best program from a work dir.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("TVM_NUM_THREADS", str(os.cpu_count()))

import tvm  # after TVM_NUM_THREADS, which TVM reads when it loads
from tvm import te

RESULT_FILE = "ms_result.json"
RECORDS_FILE = "database_tuning_record.json"
FAILED_RUN_SECS = 1e9
"""MetaSchedule records a failed candidate with run seconds of 1e10 (or none); anything past this is a failure."""


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _pads(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), as sched-opt's `pad_tuple` and topi's `get_pad_tuple`."""
    if isinstance(padding, int):
        return (padding,) * 4
    given = tuple(int(p) for p in padding)
    values = given * 2 if len(given) == 2 else given
    return values[0], values[1], values[2], values[3]


def _pad(data: te.Tensor, before: Sequence[int], after: Sequence[int], name: str) -> te.Tensor:
    """The padding stage of sched-opt's `workloads.utils.pad` (topi.nn.pad): always present."""
    shape = [int(d) + b + a for d, b, a in zip(data.shape, before, after, strict=True)]

    def padded(*indices: Any) -> Any:
        inside, reads = [], []
        for index, b, a, extent in zip(indices, before, after, data.shape, strict=True):
            reads.append(index - b if b else index)
            if b:
                inside.append(index >= b)
            if a:
                inside.append(index < b + extent)
        value = data[tuple(reads)]
        if not inside:
            return value
        return tvm.tirx.if_then_else(tvm.tirx.all(*inside), value, tvm.tirx.const(0.0, data.dtype))

    return te.compute(shape, padded, name=name)


def matmul(N: int, M: int, K: int, dtype: str = "float32") -> list[te.Tensor]:
    A = te.placeholder((N, K), dtype, name="A")
    B = te.placeholder((K, M), dtype, name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute(
        (N, M),
        lambda i, j: te.sum(A[i, k] * B[k, j], axis=k),
        name="C",
        attrs={"layout_free_placeholders": [B]},
    )
    return [A, B, C]


def batch_matmul(batch: int, N: int, M: int, K: int, dtype: str = "float32") -> list[te.Tensor]:
    A = te.placeholder((batch, N, K), dtype, name="A")
    B = te.placeholder((batch, K, M), dtype, name="B")
    k = te.reduce_axis((0, K), name="k")
    C = te.compute((batch, N, M), lambda b, i, j: te.sum(A[b, i, k] * B[b, k, j], axis=k), name="C")
    return [A, B, C]


def dense_bias_relu(batch: int, in_dim: int, out_dim: int, dtype: str = "float32") -> list[te.Tensor]:
    data = te.placeholder((batch, in_dim), dtype, name="data")
    weight = te.placeholder((out_dim, in_dim), dtype, name="weight")
    bias = te.placeholder((out_dim,), dtype, name="bias")
    k = te.reduce_axis((0, in_dim), name="k")
    dense = te.compute(
        (batch, out_dim),
        lambda i, j: te.sum(data[i, k] * weight[j, k], axis=k),
        name="T_dense",
        attrs={"layout_free_placeholders": [weight]},
    )
    biased = te.compute((batch, out_dim), lambda i, j: dense[i, j] + bias[j], name="T_add")
    relu = te.compute(
        (batch, out_dim), lambda i, j: te.max(biased[i, j], tvm.tirx.const(0, dtype)), name="T_relu"
    )
    return [data, weight, bias, relu]


def _conv_geometry(
    H: int, W: int, KH: int, KW: int, stride: Any, padding: Any, dilation: Any
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int, int, int], int, int]:
    (sh, sw), (dh, dw), pads = _pair(stride), _pair(dilation), _pads(padding)
    out_h = (H + pads[0] + pads[2] - ((KH - 1) * dh + 1)) // sh + 1
    out_w = (W + pads[1] + pads[3] - ((KW - 1) * dw + 1)) // sw + 1
    return (sh, sw), (dh, dw), pads, out_h, out_w


def conv2d_nchw(
    N: int,
    CI: int,
    H: int,
    W: int,
    CO: int,
    KH: int,
    KW: int,
    stride: Any,
    padding: Any,
    dilation: Any = 1,
    dtype: str = "float32",
) -> list[te.Tensor]:
    (sh, sw), (dh, dw), (top, left, bottom, right), out_h, out_w = _conv_geometry(
        H, W, KH, KW, stride, padding, dilation
    )
    data = te.placeholder((N, CI, H, W), dtype, name="data")
    kernel = te.placeholder((CO, CI, KH, KW), dtype, name="kernel")
    pad_temp = _pad(data, (0, 0, top, left), (0, 0, bottom, right), "pad_temp")
    rc = te.reduce_axis((0, CI), name="rc")
    ry = te.reduce_axis((0, KH), name="ry")
    rx = te.reduce_axis((0, KW), name="rx")
    conv = te.compute(
        (N, CO, out_h, out_w),
        lambda nn, ff, yy, xx: te.sum(
            pad_temp[nn, rc, yy * sh + ry * dh, xx * sw + rx * dw] * kernel[ff, rc, ry, rx],
            axis=[rc, ry, rx],
        ),
        name="conv2d_nchw",
        attrs={"layout_free_placeholders": [kernel]},
    )
    return [data, kernel, conv]


def conv2d_nhwc(
    N: int,
    CI: int,
    H: int,
    W: int,
    CO: int,
    KH: int,
    KW: int,
    stride: Any,
    padding: Any,
    dilation: Any = 1,
    dtype: str = "float32",
) -> list[te.Tensor]:
    (sh, sw), (dh, dw), (top, left, bottom, right), out_h, out_w = _conv_geometry(
        H, W, KH, KW, stride, padding, dilation
    )
    data = te.placeholder((N, H, W, CI), dtype, name="data")
    kernel = te.placeholder((KH, KW, CI, CO), dtype, name="kernel")
    padded = _pad(data, (0, top, left, 0), (0, bottom, right, 0), "PaddedInput")
    ry = te.reduce_axis((0, KH), name="ry")
    rx = te.reduce_axis((0, KW), name="rx")
    rc = te.reduce_axis((0, CI), name="rc")
    conv = te.compute(
        (N, out_h, out_w, CO),
        lambda nn, yy, xx, ff: te.sum(
            padded[nn, yy * sh + ry * dh, xx * sw + rx * dw, rc] * kernel[ry, rx, rc, ff],
            axis=[ry, rx, rc],
        ),
        name="Conv2dOutput",
        attrs={"layout_free_placeholders": [kernel]},
    )
    return [data, kernel, conv]


WORKLOADS: dict[str, Callable[..., list[te.Tensor]]] = {
    f.__name__: f for f in (matmul, batch_matmul, dense_bias_relu, conv2d_nchw, conv2d_nhwc)
}
"""sched-opt workload name -> the same computation in TVM's te, taking the same arguments."""


def prim_module(workload: str, args: Sequence[Any]) -> tvm.IRModule:
    """The workload as a one-function IRModule (`main`), arguments in placeholder order then outputs."""
    if workload not in WORKLOADS:
        raise SystemExit(
            f"ms_tune: no TVM declaration of workload {workload!r} (known: {', '.join(WORKLOADS)})"
        )
    func = te.create_prim_func(WORKLOADS[workload](*args))
    return tvm.IRModule({"main": func.with_attr("global_symbol", "main")})


def host_target(mcpu: str | None) -> tvm.target.Target:
    """LLVM for this host's CPU (`mcpu`: an LLVM CPU name; None: TVM's guess), all cores."""
    cpu = mcpu or tvm.target.codegen.llvm_get_system_cpu()
    return tvm.target.Target({"kind": "llvm", "mcpu": cpu, "num-cores": os.cpu_count()})


def _ms() -> Any:
    from tvm.s_tir import meta_schedule as ms

    return ms


def trial_run_secs(work_dir: str | os.PathLike[str]) -> list[float | None]:
    """Each measured candidate's mean run seconds, in measurement order (None: it failed)."""
    path = Path(work_dir) / RECORDS_FILE
    secs: list[float | None] = []
    if not path.exists():
        return secs
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        _, record = json.loads(line)
        runs = [float(s) for s in (record[1] or [])]
        mean = sum(runs) / len(runs) if runs else None
        secs.append(mean if mean is not None and mean < FAILED_RUN_SECS else None)
    return secs


def build_with_weight_packing(mod: tvm.IRModule, target: tvm.target.Target, _params: Any) -> Any:
    """MetaSchedule's `default_build`, but the weight-packing block of RewriteLayout stays in.

    The default drops it (in a network the weights are packed once, ahead
    of time), so candidates would be timed without the packing that the
    compiled best program of a standalone operator does on every call.
    Keeping it, MetaSchedule measures what the re-time deploys, and what
    sched-opt measures under its default INSERT_TRANSFORM_STAGE.
    """
    import tvm.s_tir.tensor_intrin  # noqa: F401  (registers the intrinsics, as default_build does)
    from tvm.driver import build

    return build(mod, target=target)


class DeclaredArguments:
    """The runner's `f_alloc_argument`: random arguments of the declared shapes, whatever the candidate.

    MetaSchedule gives the runner the arguments of the candidate with its
    weight-packing block dropped (a packed weight); a candidate built by
    `build_with_weight_packing` takes the declared ones. Plain lists, so
    the runner's worker processes can unpickle it.
    """

    def __init__(self, mod: tvm.IRModule):
        from tvm.s_tir.meta_schedule.arg_info import ArgInfo

        self.args_info = [
            [str(kind), str(dtype), [int(d) for d in shape]]
            for kind, dtype, shape in (info.as_json() for info in ArgInfo.from_prim_func(mod["main"]))
        ]

    def __call__(self, device: Any, _args_info: Any, alloc_repeat: int) -> Any:
        from tvm.s_tir.meta_schedule.runner.local_runner import default_alloc_argument

        return default_alloc_argument(device, self.args_info, alloc_repeat)


def tune(options: argparse.Namespace) -> dict[str, Any]:
    """Tune one workload with MetaSchedule into a fresh `options.work_dir`; the result record."""
    ms = _ms()
    mod = prim_module(options.workload, options.args)
    target = host_target(options.target)
    os.makedirs(options.work_dir, exist_ok=True)
    cores = os.cpu_count() or 1
    builder = ms.builder.LocalBuilder(
        max_workers=cores, timeout_sec=options.build_timeout, f_build=build_with_weight_packing
    )
    runner = ms.runner.LocalRunner(
        evaluator_config=ms.runner.EvaluatorConfig(
            number=3, repeat=1, min_repeat_ms=100, enable_cpu_cache_flush=False
        ),
        f_alloc_argument=DeclaredArguments(mod),
    )
    print(f"ms_tune: {options.workload}{tuple(options.args)} on {target}, tvm {tvm.__version__}", flush=True)
    start = time.perf_counter()
    database = ms.tune_tir(
        mod=mod,
        target=target,
        work_dir=options.work_dir,
        max_trials_global=options.trials,
        num_trials_per_iter=min(options.per_iter, options.trials),
        builder=builder,
        runner=runner,
        cost_model="xgb",
        strategy="evolutionary",
        num_tuning_cores=cores,
        seed=options.seed,
    )
    tuning_s = time.perf_counter() - start
    schedule = ms.tir_integration.compile_tir(database, mod, target)
    if schedule is None:
        raise SystemExit(f"ms_tune: MetaSchedule measured no valid program ({options.work_dir})")
    with open(os.path.join(options.work_dir, "best_schedule.py"), "w") as out:
        out.write(schedule.mod.script() + "\n# trace\n" + str(schedule.trace) + "\n")
    result = {
        "workload": options.workload,
        "args": list(options.args),
        "seed": options.seed,
        "trials_requested": options.trials,
        "tuning_s": round(tuning_s, 2),
        "run_secs": trial_run_secs(options.work_dir),
        "target": str(target),
        "tvm_version": tvm.__version__,
    }
    Path(options.work_dir, RESULT_FILE).write_text(json.dumps(result) + "\n")
    return result


def best_kernel(
    workload: str, args: Sequence[Any], work_dir: str, mcpu: str | None
) -> Callable[[Sequence[Any]], Callable[[], None]]:
    """The best program of a finished run, compiled; called with the numpy arrays (inputs, then outputs).

    It returns a call without arguments that runs the program on TVM
    tensors holding those arrays (copied once) and copies the outputs back
    into them: call it once to check, then time `run` itself.
    """
    import numpy as np

    ms = _ms()
    mod = prim_module(workload, args)
    target = host_target(mcpu)
    schedule = ms.tir_integration.compile_tir(ms.database.JSONDatabase(work_dir=work_dir), mod, target)
    if schedule is None:
        raise RuntimeError(f"no valid MetaSchedule record in {work_dir}")
    library = tvm.compile(schedule.mod, target=target)
    function = library["main"]
    device = tvm.cpu()

    def bind(arrays: Sequence[Any]) -> Callable[[], None]:
        tensors = [tvm.runtime.tensor(np.ascontiguousarray(a), device) for a in arrays]

        def run() -> None:
            function(*tensors)

        run()
        for array, tensor in zip(arrays, tensors, strict=True):
            array[...] = tensor.numpy()
        return run

    return bind


def probe() -> None:
    """Prints what the benchmark needs to know as JSON; fails as the import of MetaSchedule fails.

    `schedopt` is where this Python imports sched-opt from (None: it cannot),
    which decides whether one process can re-time both tuners' programs.
    """
    _ms()
    try:
        import schedopt

        where: str | None = str(Path(schedopt.__file__).resolve().parent)
    except ImportError:
        where = None
    import numpy

    info = {
        "tvm": tvm.__version__,
        "llvm": tvm.target.codegen.llvm_version_major(),
        "schedopt": where,
        "numpy": numpy.__version__,
    }
    print(json.dumps(info))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("probe", help="print TVM's version as JSON")
    tune_parser = commands.add_parser("tune", help="tune one workload")
    tune_parser.add_argument("workload", choices=sorted(WORKLOADS))
    tune_parser.add_argument("args", type=json.loads, help="the workload's arguments, a JSON list")
    tune_parser.add_argument("--trials", type=int, default=200)
    tune_parser.add_argument("--per-iter", type=int, default=32, help="num_trials_per_iter (default 32)")
    tune_parser.add_argument("--seed", type=int, default=0)
    tune_parser.add_argument("--work-dir", required=True)
    tune_parser.add_argument("--target", help="LLVM CPU name (default: TVM's guess for this host)")
    tune_parser.add_argument("--build-timeout", type=float, default=60.0, help="seconds per build (60)")
    options = parser.parse_args(argv)
    if options.command == "probe":
        probe()
    else:
        result = tune(options)
        print(f"ms_tune: {len(result['run_secs'])} trials in {result['tuning_s']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
