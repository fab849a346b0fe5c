"""`RuleContext`: what the search rules may ask of the policy that runs them.

The sketch rules (sketch_rules.py, gpu_sketch_rules.py), the
initial-population rules (init_population.py, gpu_init_rules.py) and the
mutations (mutation.py) read the task's DAG and parameters and have states
replayed and bounded. `SketchPolicy` provides all of it, and runs the rules:
the rules name this protocol, not the policy, so that they sit below it in
the import graph, type checking included.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Protocol

from schedopt.compute_dag import ComputeDAG
from schedopt.hardware_params import HardwareParams
from schedopt.schedule.loop_state import State
from schedopt.schedule.transform_steps import Step
from schedopt.search_policy.register_tile import TiledStage
from schedopt.search_policy.sketch_params import SketchParams


class RuleContext(Protocol):
    """The policy as the rules see it (`SketchPolicy` is one)."""

    @property
    def dag(self) -> ComputeDAG:
        """The task's DAG, as declared."""
        ...

    @cached_property  # as SketchPolicy's: pyright matches one only to a cached_property here
    def hardware_params(self) -> HardwareParams:
        """The hardware the programs run on."""
        ...

    @property
    def params(self) -> SketchParams:
        """The search's parameters (tiling structure, split and unroll limits...)."""
        ...

    def current_dag(self, state: State) -> ComputeDAG:
        """The DAG with the stages `state`'s cache and rfactor steps add."""
        ...

    def replay(self, steps: Sequence[Step]) -> State | None:
        """The state `steps` produce from the initial state, None if one of them does not apply."""
        ...

    def infer_bound(self, state: State) -> State | None:
        """`state` with every extent known; None if that fails or the program breaks a hardware limit."""
        ...

    def tiled_stages(self, state: State) -> list[TiledStage]:
        """The multi-level-tiled stages of a sketch and their open spatial splits."""
        ...
