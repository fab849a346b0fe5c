"""The workload library's registry: each workload's te definition, numpy reference and numpy baseline.

A family module (`matmul`, `conv2d`, ...) writes a workload's three forms
side by side and joins them with `add_to_library`:

- the te definition (`@register_workload`), which the compiler schedules;
- the numpy reference, written from the operator's definition independently
  of the te declaration (convolutions pad explicitly and sum one kernel tap
  at a time, pooling takes explicit windows); it computes in float64 and
  returns the workload's dtype, so it is the more accurate side of a
  comparison;
- where numpy has a fast way, the numpy baseline: what a numpy user runs for
  speed (`@` for products, im2col and `@` for convolutions, whole-array
  expressions for the rest), in the workload's dtype, to time sched-opt
  against.

    inputs = random_inputs("matmul", dag, np.random.default_rng(0))
    (expected,) = reference("matmul", (64, 32, 16), inputs)
    run = baseline("matmul", (64, 32, 16), inputs)

Both numpy forms take the inputs in placeholder order and the workload's
arguments by name (`workload_arguments`: the te definition's signature, the
left-out ones defaulted), so a workload's parameter list is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, TypeAlias

from numpy.typing import NDArray

from schedopt.errors import WorkloadError
from schedopt.workload_registry import WorkloadFunc, lookup_workload
from schedopt.workloads.arguments import workload_arguments

Array: TypeAlias = NDArray[Any]

Reference: TypeAlias = Callable[[list[Array], SimpleNamespace], list[Array]]
"""(inputs in placeholder order, the workload's arguments by name) -> its outputs, computed in float64."""

Baseline: TypeAlias = Callable[[], object]
"""A call computing a workload on inputs bound beforehand, for timing."""

MakeBaseline: TypeAlias = Callable[[list[Array], SimpleNamespace], Baseline | None]
"""(inputs in placeholder order, the workload's arguments by name) -> its baseline, or None where the
arguments are ones the fast numpy way does not take."""


@dataclass(frozen=True)
class LibraryWorkload:
    """A workload of the library: its te definition with its numpy reference and (optional) baseline."""

    define: WorkloadFunc
    reference: Reference
    baseline: MakeBaseline | None = None

    @property
    def name(self) -> str:
        return self.define.__name__


WORKLOADS: dict[str, LibraryWorkload] = {}
"""Every workload of the library, by name."""


def add_to_library(define: WorkloadFunc, reference: Reference, baseline: MakeBaseline | None = None) -> None:
    """Join the te definition `define` (registered with `register_workload`) with its numpy reference
    and baseline, under `define`'s name, which their arguments are read by."""
    if lookup_workload(define.__name__) is not define:
        raise WorkloadError(f"{define.__name__}: register the te definition with @register_workload first")
    WORKLOADS[define.__name__] = LibraryWorkload(define, reference, baseline)


def reference(name: str, args: Sequence[object], inputs: Sequence[Array]) -> list[Array]:
    """The outputs of workload `name` called with `args`, on `inputs` (in placeholder order)."""
    if name not in WORKLOADS:
        raise WorkloadError(f"no workload {name!r} in the library (known: {', '.join(sorted(WORKLOADS))})")
    return WORKLOADS[name].reference(list(inputs), workload_arguments(name, args))


def baseline(name: str, args: Sequence[object], inputs: Sequence[Array]) -> Baseline | None:
    """A call computing workload `name` (with `args`) on `inputs` in numpy, or None if there is none."""
    make = WORKLOADS[name].baseline if name in WORKLOADS else None
    return None if make is None else make(list(inputs), workload_arguments(name, args))
