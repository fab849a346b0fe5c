"""Tuning one task end to end: the policy, the measurer, the loop; and TVM's deprecated entry points.

`SearchTask.tune(options, policy)` lands here: it builds the builder and
runner the options name, the default policy when none is given, and runs
the tuning loop (`schedopt.tuning.tuning_loop`). The records the callbacks write
are the product; the best State is returned.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from schedopt.compute_dag import ComputeDAG
from schedopt.cost_model import CostModel, RandomModel
from schedopt.errors import SchedOptError
from schedopt.measurement.program_measurer import measurer_for
from schedopt.schedule.loop_state import State
from schedopt.search_policy import (
    EmptyPolicy,
    PreloadMeasuredStates,
    SearchCallback,
    SearchPolicy,
    SketchPolicy,
)
from schedopt.search_policy.sketch_params import SketchParamOverrides
from schedopt.search_task import SearchTask
from schedopt.tuning.tuning_loop import tune_task
from schedopt.tuning_options import TuningOptions

if TYPE_CHECKING:
    from schedopt.hardware_params import HardwareParams
    from schedopt.workload_registry import WorkloadFunc

SEARCH_POLICIES = ("sketch.random", "sketch.xgb", "empty")
"""The policies `make_search_policy` (and the `auto-schedule` pass) can make by name."""


def make_cost_model(
    name: str, seed: int | None = None, model_file: str | None = None, verbose: int = 1
) -> CostModel:
    """The cost model of a `sketch.<model>` policy name (training logs only at `verbose` >= 2)."""
    if name == "random":
        if model_file:
            raise SchedOptError("a model file needs the xgb cost model (policy sketch.xgb)")
        return RandomModel(seed)
    if name == "xgb":
        from schedopt.cost_model import XGBModel

        # Trained from the first measured round on. XGBModel's default warm-up
        # (TVM's 100) leaves the second round of 64 random as well, where a
        # model trained on the first 64 programs already picks well: conv2d
        # R18, the second round's median 55 -> 260 GFLOP/s (seed 1).
        model = XGBModel(
            verbose_eval=25 if verbose >= 2 else 0,
            seed=seed if seed is not None else 43,
            num_warmup_sample=0,
        )
        if model_file:
            model.load(model_file)
        return model
    raise SchedOptError(f"unknown cost model {name!r} (known: random, xgb)")


def make_search_policy(
    task: SearchTask,
    name: str = "sketch.xgb",
    seed: int | None = None,
    model_file: str | None = None,
    verbose: int = 1,
    init_search_callbacks: Sequence[SearchCallback] | None = None,
    search_policy_params: SketchParamOverrides | None = None,
    resume_from: str | os.PathLike[str] | None = None,
) -> SearchPolicy:
    """A policy by name: `sketch.xgb` (the default), `sketch.random` or `empty`.

    `search_policy_params` override the SketchPolicy's parameters;
    `resume_from` names a record file whose programs count as measured, if
    it exists (`PreloadMeasuredStates`): a tuning run that writes to that
    file resumes where it stopped.
    """
    callbacks = list(init_search_callbacks or ())
    if resume_from is not None and os.path.exists(resume_from):
        callbacks.append(PreloadMeasuredStates(os.fspath(resume_from)))
    init_search_callbacks = callbacks
    if name == "empty":
        return EmptyPolicy(task, init_search_callbacks, verbose)
    if not name.startswith("sketch."):
        raise SchedOptError(f"unknown search policy {name!r} (known: {', '.join(SEARCH_POLICIES)})")
    model = make_cost_model(name.removeprefix("sketch."), seed, model_file, verbose)
    return SketchPolicy(
        task,
        model,
        search_policy_params,
        seed=seed,
        verbose=verbose,
        init_search_callbacks=init_search_callbacks,
    )


def tune(task: SearchTask, options: TuningOptions, search_policy: SearchPolicy | None = None) -> State | None:
    """Search `task`'s schedules as `options` say; the fastest State measured (None: none ran)."""
    policy = search_policy if search_policy is not None else make_search_policy(task, verbose=options.verbose)
    with measurer_for(options, options.verbose) as measurer:
        return tune_task(task, policy, measurer, options)


def create_task(
    func: WorkloadFunc | str,
    args: Sequence[object],
    target: str = "llvm",
    target_host: str | None = None,
    hardware_params: HardwareParams | None = None,
) -> SearchTask:
    """Deprecated (as in TVM): use `SearchTask(func, args, target=...)`."""
    warnings.warn(
        "create_task is deprecated; use SearchTask(func, args, ...)", DeprecationWarning, stacklevel=2
    )
    return SearchTask(func, args, target=target, target_host=target_host, hardware_params=hardware_params)


def auto_schedule(
    task: SearchTask, search_policy: SearchPolicy | None = None, tuning_options: TuningOptions | None = None
) -> tuple[ComputeDAG, State | None]:
    """Deprecated (as in TVM): use `task.tune(...)` and `task.apply_best(...)`.

    Returns the DAG and the best State (TVM returns a schedule and its arguments).
    """
    warnings.warn("auto_schedule is deprecated; use SearchTask.tune", DeprecationWarning, stacklevel=2)
    return task.dag_or_error(), tune(task, tuning_options or TuningOptions(), search_policy)
