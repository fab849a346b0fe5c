"""The check every measured candidate passes: same outputs as the unscheduled program.

A runner builds the task's unscheduled program once, runs it on seeded
random inputs (`Reference`), and compares each candidate's first outputs
with it within a tolerance set by the dtype, so a wrong schedule is never
recorded as fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from schedopt.build import build
from schedopt.hardware_params import is_cuda_target
from schedopt.measurement.huge_pages import huge_page_empty
from schedopt.random_inputs import random_inputs
from schedopt.runtime import BufferSpec, Kernel
from schedopt.search_task import SearchTask

if TYPE_CHECKING:
    from numpy.typing import NDArray

REFERENCE_TIMEOUT_S = 120.0
"""Time allowed to build and run a task's unscheduled program, once per task (naive loops can be slow)."""

_RELATIVE_TOLERANCE = {np.dtype("float16"): 1e-2, np.dtype("float32"): 1e-4, np.dtype("float64"): 1e-9}
"""Per float dtype, the relative error allowed against the unscheduled program; the absolute
error allowed is the same fraction of the largest expected magnitude (at least 1). Schedules
reorder sums, so float results differ in their last bits; other dtypes must match exactly."""


@dataclass(frozen=True)
class Reference:
    """A task's random inputs and the unscheduled program's outputs on them."""

    inputs: list[NDArray[Any]]
    outputs: list[NDArray[Any]]
    output_names: list[str]


def compute_reference(task: SearchTask) -> Reference:
    """In a runner worker: build the unscheduled program and run it on seeded random inputs."""
    dag = task.compute_dag
    assert dag is not None, "a pickled task carries its DAG"
    inputs = random_inputs(dag.func_name, dag, np.random.default_rng(0))
    for index, name in enumerate(dag.placeholder_names):
        if name in task.task_inputs:
            inputs[index] = np.ascontiguousarray(task.task_inputs[name])
    # A cuda task's unscheduled program binds no loop to GPU threads: its CPU build is the reference.
    on_gpu = is_cuda_target(task.target)
    kernel = build(dag, None, "llvm" if on_gpu else task.target, None if on_gpu else task.hardware_params)
    assert isinstance(kernel, Kernel), "a CPU build is a Kernel"
    outputs = [np.empty(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, *outputs)
    return Reference(inputs, outputs, list(dag.output_names))


def poisoned_output(spec: BufferSpec) -> NDArray[Any]:
    """An output buffer on huge pages filled with values a correct kernel overwrites (NaN for floats)."""
    buffer = huge_page_empty(spec.shape, spec.dtype)
    if np.issubdtype(spec.dtype, np.floating):
        buffer.fill(np.nan)
    elif spec.dtype == np.bool_:
        buffer.fill(False)
    else:
        buffer.fill(np.iinfo(spec.dtype).min)
    return buffer


def compare_outputs(reference: Reference, outputs: Sequence[NDArray[Any]]) -> str | None:
    """None if every output matches the reference within its dtype's tolerance, else what differs."""
    for name, got, expected in zip(reference.output_names, outputs, reference.outputs, strict=True):
        tolerance = _RELATIVE_TOLERANCE.get(expected.dtype, 0.0)
        finite = np.abs(expected[np.isfinite(expected)]) if tolerance else np.zeros(0)
        scale = max(1.0, float(finite.max())) if finite.size else 1.0
        close = np.isclose(got, expected, rtol=tolerance, atol=tolerance * scale, equal_nan=True)
        if close.all():
            continue
        first = tuple(int(i) for i in np.argwhere(~close)[0])
        return (
            f"output {name} differs from the unscheduled program in {int((~close).sum())} of "
            f"{close.size} elements; first at {list(first)}: got {got[first]}, expected {expected[first]} "
            f"(relative tolerance {tolerance:g} for {expected.dtype})"
        )
    return None
