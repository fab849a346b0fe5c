"""The search-policy interface and `EmptyPolicy`.

A policy proposes programs for one task (`pick_candidates`); the tuning
loop (`schedopt.tuning.tuning_loop`) has them measured and hands the results back
(`update`). The policy remembers every program measured (by its printed loop
nest, as TVM does) so that none is measured twice, and their throughputs,
so that the best join later rounds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from schedopt.measurement import MeasureErrorNo
from schedopt.schedule.loop_state import State

if TYPE_CHECKING:
    from schedopt.measurement import MeasureInput, MeasureResult
    from schedopt.search_task import SearchTask


class SearchPolicy(ABC):
    """Proposes programs of `search_task` to measure and keeps what was measured."""

    def __init__(self, task: SearchTask, verbose: int = 1):
        self.search_task = task
        self.verbose = verbose
        self.measured_keys: set[str] = set()
        self.measured_states: list[State] = []
        self.measured_throughputs: list[float] = []

    @abstractmethod
    def pick_candidates(self, num_measure: int) -> list[State]:
        """Up to `num_measure` programs not measured before."""

    def record_measured(self, state: State, cost_s: float | None) -> None:
        """Remember a measured program and its mean cost (None: it failed)."""
        key = str(state)
        if key in self.measured_keys:
            return
        self.measured_keys.add(key)
        self.measured_states.append(state)
        self.measured_throughputs.append(0.0 if not cost_s else 1.0 / cost_s)

    def update(self, inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]) -> None:
        """Take in a measured batch: its programs count as measured, never proposed again.

        The tuning loop calls this once per round; a policy with a cost model
        also learns from the batch (`SketchPolicy`).
        """
        for measure_input, result in zip(inputs, results, strict=True):
            ok = result.error_no == MeasureErrorNo.NO_ERROR
            self.record_measured(measure_input.state, result.mean_cost() if ok else None)

    def best_measured_states(self, count: int) -> list[State]:
        """The `count` fastest programs measured so far."""
        order = sorted(range(len(self.measured_states)), key=lambda i: -self.measured_throughputs[i])
        return [self.measured_states[i] for i in order[:count] if self.measured_throughputs[i] > 0]


class EmptyPolicy(SearchPolicy):
    """Proposes only the unscheduled program: a baseline, and a test of the tuning plumbing."""

    def __init__(
        self,
        task: SearchTask,
        init_search_callbacks: Sequence[SearchCallback] | None = None,
        verbose: int = 1,
    ):
        super().__init__(task, verbose)
        for callback in init_search_callbacks or ():
            callback.callback(self)

    def pick_candidates(self, num_measure: int) -> list[State]:
        state = self.search_task.dag_or_error().get_init_state()
        return [] if str(state) in self.measured_keys or num_measure <= 0 else [state]


class SearchCallback(ABC):
    """Runs once on a policy before its search starts (TVM's `SearchCallback`)."""

    @abstractmethod
    def callback(self, policy: SearchPolicy) -> None: ...
