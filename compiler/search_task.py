"""SearchTask: one workload to schedule, for one target, with the hardware it runs on.

A task names its computation twice: by a `ComputeDAG` (what the search and
the builder work on) and by a workload key (what records store and the
dispatcher looks up). It is made from a registered workload function and its
arguments, from a DAG, or from a key alone:

```python
task = SearchTask(func=matmul, args=(512, 512, 512), target="llvm")
task = SearchTask(compute_dag=ComputeDAG.from_module(text))
task = SearchTask(workload_key='["matmul", 512, 512, 512]')
```

The search policies take a task and search its schedules; measurement
(`schedopt.measurement`) builds and times candidates of a task, and the record
database (`schedopt.records`) stores the task's key, target and hardware
parameters with each result.

A task pickles with its DAG as te IR text, so a measurement worker process
rebuilds the same computation without the workload registry (a workload
registered in a user's script is unknown to a fresh process).

SearchTask sits at the bottom of the import graph: measurement, records, cost
models and policies all take tasks, so this module imports none of them.
TVM's API still has `tune`, `apply_best` and `print_best` on the task, and
those need the layers above (the tuning loop, the records, the compiler).
The methods therefore delegate to a `TaskWorkflow` that
`schedopt.tuning.task_workflow` installs when the package is imported (every
`import schedopt.<anything>` runs the package's `__init__` first, so it is
always there), and name their arguments by protocols (`TuningRequest`,
`Proposer`) that `TuningOptions` and every `SearchPolicy` satisfy: the
options and policies name tasks, so naming them here would close a cycle
for the type checker too; `schedopt.tuning.task_workflow` checks that they are.
This keeps one SearchTask class: a task read from records, unpickled in a
worker or made by a pass is the same class the user tunes, so `isinstance`
and pickling need nothing special. A subclass carrying the
methods would split that in two, since the records layer, below the tuning
loop, makes tasks too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from xdsl.dialects import func

from schedopt.compute_dag import ComputeDAG, hash_of_workload_key
from schedopt.errors import WorkloadError
from schedopt.hardware_params import HardwareParams
from schedopt.layout_rewrite import LayoutRewriteOption
from schedopt.workload_registry import WorkloadFunc, make_workload_key

if TYPE_CHECKING:
    from schedopt.schedule.loop_state import State


class TuningRequest(Protocol):
    """The options `SearchTask.tune` takes: a `schedopt.TuningOptions`."""

    @property
    def num_measure_trials(self) -> int: ...

    @property
    def num_measures_per_round(self) -> int: ...


class Proposer(Protocol):
    """The search policy `SearchTask.tune` takes: a `schedopt.SearchPolicy`."""

    def pick_candidates(self, num_measure: int) -> list[State]: ...


@dataclass(frozen=True)
class TaskWorkflow:
    """What `SearchTask.tune`, `apply_best` and `print_best` do; `schedopt.tuning.task_workflow` provides it."""

    tune: Callable[[SearchTask, TuningRequest, Proposer | None], State | None]
    apply_best: Callable[[SearchTask, str, int | None], tuple[ComputeDAG, State]]
    print_best: Callable[[SearchTask, str, str], str]


_workflow: TaskWorkflow | None = None


def install_task_workflow(workflow: TaskWorkflow) -> None:
    """Make `workflow` carry out the task methods that need the layers above this module."""
    global _workflow
    _workflow = workflow


def _installed_workflow() -> TaskWorkflow:
    if _workflow is None:
        raise WorkloadError(
            "SearchTask.tune/apply_best/print_best need `import schedopt` (schedopt.tuning.task_workflow)"
        )
    return _workflow


def target_kind(target: str) -> str:
    """The kind of a target string, its first word: "llvm" for "llvm -mcpu=skylake-avx512".

    Records and the dispatcher match targets by kind, as TVM does.
    """
    return target.split()[0] if target.strip() else target


class SearchTask:
    """The computation, target and hardware parameters of a schedule search.

    Give `func` (a registered workload function or its name) and `args`, or
    `compute_dag`, or `workload_key` (a registered workload's key, whose DAG
    is built from the registry). `hardware_params` is any object with the
    fields of `HardwareParams` (None: `HardwareParams` of the target, whose
    defaults describe the host CPU on `llvm`, an sm_80-class GPU on `cuda`
    and its synonym `nvptx`). `layout_rewrite_option` is a `LayoutRewriteOption`
    (None: the target's default). `task_inputs` maps placeholder names to arrays
    that measurement uses instead of random data (for inputs whose values
    matter, like indices).
    """

    def __init__(
        self,
        func: WorkloadFunc | str | None = None,
        args: Sequence[object] | None = None,
        compute_dag: ComputeDAG | None = None,
        workload_key: str | None = None,
        target: str = "llvm",
        target_host: str | None = None,
        hardware_params: HardwareParams | None = None,
        layout_rewrite_option: int | None = None,
        task_inputs: Mapping[str, np.ndarray] | None = None,
        desc: str = "",
    ):
        if func is not None:
            if workload_key is not None:
                raise WorkloadError("SearchTask: give either func and args or workload_key, not both")
            workload_key = make_workload_key(func, args if args is not None else ())
        if compute_dag is None:
            if workload_key is None:
                raise WorkloadError("SearchTask needs func and args, a compute_dag or a workload_key")
            compute_dag = ComputeDAG(workload_key)
        elif workload_key is None:
            workload_key = compute_dag.workload_key()
        if hardware_params is None:
            hardware_params = HardwareParams(target=target, target_host=target_host)
        inputs = dict(task_inputs or {})
        self._set_fields(
            compute_dag,
            workload_key,
            target,
            target_host,
            hardware_params,
            layout_rewrite_option,
            inputs,
            tuple(inputs),
            desc,
        )

    @classmethod
    def without_dag(
        cls,
        workload_key: str,
        target: str,
        target_host: str | None = None,
        hardware_params: HardwareParams | None = None,
        layout_rewrite_option: int | None = None,
        task_input_names: Sequence[str] = (),
        workload_hash: str | None = None,
    ) -> SearchTask:
        """The task as a record names it, with `compute_dag` None and the record's structural hash.

        Reading records must not need the workload registry (nor pay for
        building DAGs); `schedopt.records.recover_measure_input` restores the
        DAG of a registered workload.
        """
        task = cls.__new__(cls)
        task._set_fields(
            None,
            workload_key,
            target,
            target_host,
            hardware_params,
            layout_rewrite_option,
            {},
            tuple(task_input_names),
            "",
        )
        task._workload_hash = workload_hash
        return task

    def _set_fields(
        self,
        compute_dag: ComputeDAG | None,
        workload_key: str,
        target: str,
        target_host: str | None,
        hardware_params: HardwareParams | None,
        layout_rewrite_option: int | None,
        task_inputs: dict[str, np.ndarray],
        task_input_names: tuple[str, ...],
        desc: str,
    ) -> None:
        if not isinstance(target, str) or not target.strip():  # pyright: ignore[reportUnnecessaryIsInstance] (a user's)
            raise WorkloadError(f"SearchTask: target must be a non-empty string like 'llvm', got {target!r}")
        self.compute_dag = compute_dag
        self.workload_key = workload_key
        self.target = target
        self.target_host = target_host
        self.hardware_params = hardware_params
        """None only on a task read from records that store none."""
        self.layout_rewrite_option = (
            LayoutRewriteOption.get_target_default(target)
            if layout_rewrite_option is None
            else LayoutRewriteOption(layout_rewrite_option)
        )
        self.task_inputs = task_inputs
        self.task_input_names = task_input_names
        self.desc = desc
        self._workload_hash: str | None = None

    @property
    def workload_hash(self) -> str | None:
        """The structural hash of the computation (`ComputeDAG.hash_key`), which records carry beside the key.

        Lookups match a record by workload key or by this hash, so a workload
        declared in Python finds the records of the same computation parsed
        from IR, and back. Without a DAG it is the hash the record stored, or
        the one `schedopt.compute_dag.hash_of_workload_key` derives from the
        key (None when the key does not tell: an unregistered workload).
        """
        if self._workload_hash is None:
            if self.compute_dag is not None:
                self._workload_hash = self.compute_dag.hash_key()
            else:
                self._workload_hash = hash_of_workload_key(self.workload_key)
        return self._workload_hash

    # --- tuning: TVM's methods, carried out by `schedopt.tuning.task_workflow` (see the module docstring) ---

    def tune(self, tuning_options: TuningRequest, search_policy: Proposer | None = None) -> State | None:
        """Search this task's schedules (default policy: `sketch.xgb`); the fastest State measured.

        Every measurement goes to the options' callbacks; pass
        `RecordToFile(log)` to keep them, then `apply_best(log)`.
        """
        return _installed_workflow().tune(self, tuning_options, search_policy)

    def apply_best(self, log_file: str, layout_rewrite_option: int | None = None) -> tuple[ComputeDAG, State]:
        """The DAG and the best State the log holds for this task, ready for `schedopt.build`.

        With a layout rewrite option other than NO_REWRITE (default: the
        task's), the DAG is rewritten to the schedule's weight layouts. Raises
        `RecordError` when the log has no valid record of the task.
        """
        return _installed_workflow().apply_best(self, log_file, layout_rewrite_option)

    def print_best(self, log_file: str, print_mode: str = "schedule") -> str:
        """The best schedule in the log: as its transform program on the declared DAG ("schedule");
        on a CPU as the LLVM IR of the program `apply_best` deploys, layouts rewritten ("llvm"); on a
        GPU as its kernels in the `gpu` dialect ("cuda": TVM prints CUDA C there) or as PTX ("ptx")."""
        return _installed_workflow().print_best(self, log_file, print_mode)

    def dag_or_error(self) -> ComputeDAG:
        """The task's DAG; a task read from records has none until it is recovered."""
        if self.compute_dag is None:
            raise WorkloadError(f"task {self.workload_key} has no DAG (read from records; recover it first)")
        return self.compute_dag

    def __repr__(self) -> str:
        return f"SearchTask(workload_key={self.workload_key!r}, target={self.target!r})"

    # The DAG travels as IR text: see the module docstring.
    def __getstate__(self) -> dict[str, object]:
        state: dict[str, object] = {
            name: value for name, value in self.__dict__.items() if name != "compute_dag"
        }
        state["workload_ir"] = None if self.compute_dag is None else str(self.compute_dag.module)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        state = dict(state)
        text = state.pop("workload_ir")
        self.__dict__.update(state)
        self.compute_dag = _dag_from_ir(text, self.workload_key) if isinstance(text, str) else None


@functools.lru_cache(maxsize=32)
def _dag_from_ir(text: str, workload_key: str) -> ComputeDAG:
    """The DAG of a pickled task; a worker process sees the same workload many times, so it is parsed once."""
    dag = ComputeDAG.from_module(text)
    dag.workload_key_ = workload_key
    return dag


def function_task(function: func.FuncOp, target: str) -> SearchTask:
    """The search task of a te function in IR, as the tuning passes schedule it.

    `apply-schedule` keeps every tensor in its declared layout, so the task
    measures its candidates without layout rewrite: they are the programs
    that pass emits.
    """
    return SearchTask(
        compute_dag=ComputeDAG(function), target=target, layout_rewrite_option=LayoutRewriteOption.NO_REWRITE
    )
