"""Stages and iterators: the immutable parts of a loop State.

A `Stage` is one operation of the ComputeDAG as the schedule has shaped it:
its loop `Iterator`s (name, range, kind, annotation), its compute location
and its pragmas. States share stages freely, since a step replaces a stage
rather than changing it. The enums' integers are the record format's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from schedopt.dialects.sched import LoopAnnotation


class IteratorKind(enum.IntEnum):
    """What an iterator ranges over; the ints are the record format's."""

    SPATIAL = 0
    REDUCE = 1
    MIXED = 2
    SPECIAL = 3


class ComputeAtKind(enum.IntEnum):
    """Where a stage is computed; the ints are the record format's."""

    ROOT = 0
    INLINED = 1
    ITER = 2


class StageKind(enum.Enum):
    PLACEHOLDER = "placeholder"
    COMPUTE = "compute"


@dataclass(frozen=True)
class Iterator:
    """One loop of a stage: `for name in [range_min, range_min + extent)`."""

    name: str
    extent: int | None
    kind: IteratorKind
    annotation: LoopAnnotation = LoopAnnotation.NONE
    range_min: int = 0

    @property
    def range(self) -> IterRange:
        """The loop's range as TVM's `Iterator.range` gives it (`.min`, `.extent`)."""
        return IterRange(self.range_min, self.extent)

    def __str__(self) -> str:
        extent = "?" if self.extent is None else str(self.extent)
        return f"{self.annotation.keyword} {self.name} ({self.range_min},{extent})"


@dataclass(frozen=True)
class IterRange:
    """A loop range, `[min, min + extent)`; extent None while bound inference has not run."""

    min: int
    extent: int | None


@dataclass(frozen=True)
class Stage:
    """The loops and compute location of one operation of the DAG.

    `attach` names the (stage, iterator) a stage computed at a loop lives in.
    """

    name: str
    kind: StageKind
    iters: tuple[Iterator, ...] = ()
    compute_at: ComputeAtKind = ComputeAtKind.ROOT
    attach: tuple[str, str] | None = None
    auto_unroll_max_step: int = 0
    storage_align: tuple[str, int, int] | None = None
    has_reduction: bool = False
    shape: tuple[int, ...] = ()
    transformed: bool = False
    """Whether a loop step (split, fuse, reorder, annotation, pragma) has touched the stage."""

    def iter(self, name: str) -> Iterator:
        """The iterator called `name`."""
        for it in self.iters:
            if it.name == name:
                return it
        raise KeyError(name)
