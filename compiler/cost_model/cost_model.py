"""The cost-model interface of the search, and `RandomModel`.

A cost model scores complete programs (higher is faster) so that the search
measures only the most promising few; it learns from every measurement.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from schedopt.schedule.loop_state import State

if TYPE_CHECKING:
    from schedopt.measurement.results import MeasureInput, MeasureResult
    from schedopt.search_task import SearchTask


class CostModel(ABC):
    """What the search asks of a cost model (TVM's `auto_scheduler.CostModel`)."""

    @abstractmethod
    def update(self, inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]) -> None:
        """Learn from measured programs (`MeasureInput`s and their `MeasureResult`s)."""

    @abstractmethod
    def predict(self, task: SearchTask, states: Sequence[State]) -> list[float]:
        """A score per state: higher means faster."""

    def predict_stages(self, task: SearchTask, states: Sequence[State]) -> np.ndarray:
        """The scores of the states and of their stages, packed in one flat float32 array:

        `[score_0 ... score_{N-1}, n_0, stage scores of state 0 (n_0 of them), n_1, ...]`

        (TVM's format). A model that does not score stages gives `n_i = 0`.
        """
        scores = self.predict(task, states)
        return np.asarray([*scores, *([0.0] * len(states))], dtype=np.float32)

    @property
    def scores_at_random(self) -> bool:
        """Whether `predict` draws its scores at random for now: a search need not evolve programs
        for many generations under them."""
        return False


class RandomModel(CostModel):
    """Uniform random scores in [0, 1): the search without a learned model (`sketch.random`)."""

    def __init__(self, seed: int | None = None):
        self._rng = random.Random(seed)

    def update(self, inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]) -> None:
        """Nothing to learn."""

    def predict(self, task: SearchTask, states: Sequence[State]) -> list[float]:
        return [self._rng.random() for _ in states]

    @property
    def scores_at_random(self) -> bool:
        return True
