"""`ProgramMeasurer`: builds and runs candidates, and gives back their results.

It measures a round in batches of twice the builder's parallelism and hands
each batch to `on_batch` as soon as it is measured, so the tuning loop can
record it at once (records are written batch by batch: an interrupted run
keeps what it measured). It knows nothing of the search or of the score.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from schedopt.measurement.interfaces import ProgramBuilder, ProgramRunner
from schedopt.measurement.local_builder import LocalBuilder
from schedopt.measurement.local_runner import LocalRunner
from schedopt.measurement.results import MeasureInput, MeasureResult
from schedopt.progress import report

if TYPE_CHECKING:
    from schedopt.tuning_options import TuningOptions

BatchSink = Callable[[Sequence[MeasureInput], Sequence[MeasureResult]], None]
"""Receives each measured batch: its inputs and their results, in order."""


@dataclass
class ProgramMeasurer:
    """A builder and a runner; `verbose` 1 prints a progress mark per candidate, 2 more."""

    builder: ProgramBuilder
    runner: ProgramRunner
    verbose: int = 1

    @property
    def batch_size(self) -> int:
        """Candidates built (and then run) together: twice the builder's parallelism."""
        return 2 * getattr(self.builder, "n_parallel", 1)

    def measure(
        self, inputs: Sequence[MeasureInput], on_batch: BatchSink | None = None
    ) -> list[MeasureResult]:
        """Build and run `inputs`; their results in order."""
        results: list[MeasureResult] = []
        for start in range(0, len(inputs), self.batch_size):
            batch = list(inputs[start : start + self.batch_size])
            built = self.builder.build(batch, verbose=self.verbose)
            measured = self.runner.run(batch, built, verbose=self.verbose)
            if on_batch is not None:
                on_batch(batch, measured)
            results += measured
        if self.verbose == 1 and inputs:
            report("")  # ends the line of progress marks the builder and the runner print
        return results


@contextmanager
def measurer_for(options: TuningOptions, verbose: int) -> Generator[ProgramMeasurer]:
    """The measurer of `options`' builder and runner; a "local" one is made here and closed on exit."""
    local_builder = LocalBuilder() if options.builder == "local" else None
    local_runner = LocalRunner() if options.runner == "local" else None
    builder = local_builder if local_builder is not None else options.builder
    runner = local_runner if local_runner is not None else options.runner
    assert not isinstance(builder, str) and not isinstance(runner, str)  # "local" is the only string
    try:
        yield ProgramMeasurer(builder, runner, verbose)
    finally:
        if local_builder is not None:
            local_builder.close()
        if local_runner is not None:
            local_runner.close()
