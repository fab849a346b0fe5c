"""The roles of measurement: a builder, a runner, and callbacks on each measured batch."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Protocol

from schedopt.measurement.results import BuildResult, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.progress import report
from schedopt.search_task import SearchTask


class MeasuredPolicy(Protocol):
    """What a measure callback may read of the search policy whose batch was measured (any `SearchPolicy`).

    Measurement sits below the search policies, so it names this protocol, not them.
    """

    @property
    def search_task(self) -> SearchTask: ...


class MeasureCallback(ABC):
    """Something the tuner calls after each batch of measurements (e.g. `RecordToFile`)."""

    @abstractmethod
    def callback(
        self, policy: MeasuredPolicy, inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]
    ) -> None:
        """Called with the search policy and the batch just measured."""


class ProgramBuilder(ABC):
    """Builds candidates for a `ProgramRunner`."""

    @abstractmethod
    def build(self, measure_inputs: Sequence[MeasureInput], verbose: int = 1) -> list[BuildResult]:
        """One `BuildResult` per input, in order."""


class ProgramRunner(ABC):
    """Runs and times built candidates."""

    @abstractmethod
    def run(
        self, measure_inputs: Sequence[MeasureInput], build_results: Sequence[BuildResult], verbose: int = 1
    ) -> list[MeasureResult]:
        """One `MeasureResult` per input, in order."""


def print_progress(error_codes: Iterable[MeasureErrorNo], success: str) -> None:
    """One mark per candidate, as TVM prints them: `success` ('.' built, '*' measured), 'E' failed, 'T' timed out."""
    marks = {
        MeasureErrorNo.NO_ERROR: success,
        MeasureErrorNo.BUILD_TIMEOUT: "T",
        MeasureErrorNo.RUN_TIMEOUT: "T",
    }
    report("".join(marks.get(code, "E") for code in error_codes), end="")
