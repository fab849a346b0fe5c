"""A builder and a runner that compile nothing: each candidate's cost is a function of its input.

Tests of the tuning loop and the task scheduler check where trials go and
what is kept, not how fast programs are; these stand in for LocalBuilder and
LocalRunner there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from schedopt.measurement import (
    BuildResult,
    MeasureErrorNo,
    MeasureInput,
    MeasureResult,
    ProgramBuilder,
    ProgramRunner,
)
from schedopt.schedule.transform_steps import SplitStep


class FakeBuilder(ProgramBuilder):
    n_parallel = 2

    def build(self, measure_inputs: Sequence[MeasureInput], verbose: int = 1) -> list[BuildResult]:
        return [BuildResult(None, "f", (), MeasureErrorNo.NO_ERROR, "", 0.0) for _ in measure_inputs]


class FakeRunner(ProgramRunner):
    """Each candidate costs `cost(input)` seconds; None: it fails with a runtime error ("boom")."""

    def __init__(self, cost: Callable[[MeasureInput], float | None]):
        self.cost = cost

    def run(
        self, measure_inputs: Sequence[MeasureInput], build_results: Sequence[BuildResult], verbose: int = 1
    ) -> list[MeasureResult]:
        results = []
        for measure_input in measure_inputs:
            cost = self.cost(measure_input)
            if cost is None:
                results.append(MeasureResult.failure(MeasureErrorNo.RUNTIME_DEVICE, "boom", 0.0))
            else:
                results.append(MeasureResult((cost,), MeasureErrorNo.NO_ERROR, "", 0.0, 0.0))
        return results


def first_split_factor(measure_input: MeasureInput) -> int:
    """The first length of the state's first split (1 without a split)."""
    splits = [step for step in measure_input.state.transform_steps if isinstance(step, SplitStep)]
    return splits[0].lengths[0] or 1 if splits else 1
