"""`TuningOptions`: how long to tune and how to measure (TVM's `auto_scheduler.TuningOptions`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from schedopt.errors import SchedOptError

if TYPE_CHECKING:
    from schedopt.measurement.interfaces import MeasureCallback, ProgramBuilder, ProgramRunner


@dataclass
class TuningOptions:
    """Options of one tuning run.

    `num_measure_trials` programs are measured in all (0: only search, pick
    the best predicted); rounds of `num_measures_per_round`; the search stops
    early after `early_stopping` trials without improvement (None: never).
    `builder` and `runner` are "local" or `ProgramBuilder` / `ProgramRunner`
    objects; `measure_callbacks` run after each batch (e.g. `RecordToFile`).
    `verbose` 0 is silent, 1 prints a line per round and the final table, 2
    also every candidate.
    """

    num_measure_trials: int = 0
    early_stopping: int | None = None
    num_measures_per_round: int = 64
    verbose: int = 1
    builder: ProgramBuilder | Literal["local"] = "local"
    runner: ProgramRunner | Literal["local"] = "local"
    measure_callbacks: Sequence[MeasureCallback] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.num_measure_trials < 0:
            raise SchedOptError(
                f"TuningOptions: num_measure_trials must be >= 0, got {self.num_measure_trials}"
            )
        if self.num_measures_per_round <= 0:
            raise SchedOptError(
                f"TuningOptions: num_measures_per_round must be positive, got {self.num_measures_per_round}"
            )
        for name in ("builder", "runner"):
            value = getattr(self, name)
            if isinstance(value, str) and value != "local":
                raise SchedOptError(f"TuningOptions: {name} must be 'local' or an object, got {value!r}")
