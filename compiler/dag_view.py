"""`DAGView`: what the schedule analyses read of a ComputeDAG, and its `DAGOp`s.

`ComputeDAG` offers TVM's methods `infer_bound_from_state`,
`print_python_code_from_state` and `rewrite_layout_from_state`, which hand
the DAG to bound inference, the schedule printer and the layout rewrite.
Those name this protocol, not the class, so that compute_dag imports them and
not the reverse, type checking included; `ComputeDAG` is the one DAGView.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, Self, TypeVar

from xdsl.dialects import func

from schedopt.access_analysis import AccessAnalyzer
from schedopt.dialects import te
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import StageKind


@dataclass(frozen=True)
class DAGOp:
    """One operation of the DAG: a placeholder (function argument) or a te.compute."""

    name: str
    kind: StageKind
    shape: tuple[int, ...]
    dtype: str
    compute: te.ComputeOp | None = None


class DAGView(Protocol):
    """A workload's computation: its te function, operations and analyses (`ComputeDAG` is one)."""

    @property
    def func(self) -> func.FuncOp:
        """The te function."""
        ...

    # Cached properties of ComputeDAG; pyright matches one only to a cached_property of a protocol.
    @cached_property
    def compute_ops(self) -> list[te.ComputeOp]:
        """The te.compute ops, in topological (program) order."""
        ...

    @cached_property
    def placeholder_names(self) -> list[str]:
        """The placeholders, in argument order."""
        ...

    @cached_property
    def output_names(self) -> list[str]:
        """The outputs, in return order."""
        ...

    @property
    def func_name(self) -> str:
        """The te function's name."""
        ...

    @property
    def access_analyzer(self) -> AccessAnalyzer:
        """Which stage reads which, and how."""
        ...

    def op(self, name: str) -> DAGOp:
        """The operation called `name`."""
        ...

    def consumers(self, name: str) -> list[str]:
        """The stages that read `name`."""
        ...

    def get_init_state(self) -> State:
        """The unscheduled State."""
        ...

    def concrete_state(self, state: State) -> State:
        """`state` with its stages (one read from a record holds only its steps)."""
        ...

    def apply_steps_from_state(self, state: State) -> Self:
        """The DAG with the stages the state's steps add (cache_read, cache_write, rfactor)."""
        ...

    def derived(self, function: func.FuncOp) -> Self:
        """The DAG of `function`, a rewritten copy of this DAG's function."""
        ...


DAG = TypeVar("DAG", bound=DAGView)
"""A kind of DAG, kept through an analysis that hands back DAGs (a `ComputeDAG` in, `ComputeDAG`s out)."""
