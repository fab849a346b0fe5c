"""The loop State: the search's lightweight view of a scheduled program.

A `State` is a list of stages, one per operation of the ComputeDAG, each with
its loop iterators (name, range, kind, annotation) and its compute location,
plus the history of transform steps that produced it. It is cheap to copy
and to print, which is what the search needs; the lowering replays its steps
on the DAG to emit code.

`str(state)` prints the loop nest as TVM's auto-scheduler does:

```
Placeholder: A, B
for i (0,512)
  for j (0,512)
    for k (0,512)
      C = ...
```
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class IteratorKind(enum.IntEnum):
    """What an iterator ranges over; the ints are the record format's."""

    SPATIAL = 0
    REDUCE = 1
    MIXED = 2
    SPECIAL = 3


class IteratorAnnotation(enum.IntEnum):
    """How a loop is executed; the ints are the record format's."""

    NONE = 0
    UNROLL = 1
    VECTORIZE = 2
    PARALLEL = 3
    VTHREAD = 4
    BLOCK_X = 5
    THREAD_X = 6
    BLOCK_Y = 7
    THREAD_Y = 8
    BLOCK_Z = 9
    THREAD_Z = 10
    TENSORIZE = 11

    @property
    def keyword(self) -> str:
        """The word a printed loop starts with."""
        return _ANNOTATION_KEYWORDS[self]


_ANNOTATION_KEYWORDS = {
    IteratorAnnotation.NONE: "for",
    IteratorAnnotation.UNROLL: "unroll",
    IteratorAnnotation.VECTORIZE: "vectorize",
    IteratorAnnotation.PARALLEL: "parallel",
    IteratorAnnotation.VTHREAD: "vthread",
    IteratorAnnotation.BLOCK_X: "blockIdx.x",
    IteratorAnnotation.THREAD_X: "threadIdx.x",
    IteratorAnnotation.BLOCK_Y: "blockIdx.y",
    IteratorAnnotation.THREAD_Y: "threadIdx.y",
    IteratorAnnotation.BLOCK_Z: "blockIdx.z",
    IteratorAnnotation.THREAD_Z: "threadIdx.z",
    IteratorAnnotation.TENSORIZE: "tensorize",
}


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
    annotation: IteratorAnnotation = IteratorAnnotation.NONE
    range_min: int = 0

    def __str__(self) -> str:
        extent = "?" if self.extent is None else str(self.extent)
        return f"{self.annotation.keyword} {self.name} ({self.range_min},{extent})"


@dataclass(frozen=True)
class Stage:
    """The loops and compute location of one operation of the DAG."""

    name: str
    kind: StageKind
    iters: tuple[Iterator, ...] = ()
    compute_at: ComputeAtKind = ComputeAtKind.ROOT
    auto_unroll_max_step: int = 0

    def iter(self, name: str) -> Iterator:
        """The iterator called `name`."""
        for it in self.iters:
            if it.name == name:
                return it
        raise KeyError(name)


@dataclass
class State:
    """Stages in the DAG's operation order and the transform steps applied so far."""

    stages: list[Stage]
    transform_steps: list[object] = field(default_factory=list)

    def __getitem__(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def __str__(self) -> str:
        placeholders = [s.name for s in self.stages if s.kind == StageKind.PLACEHOLDER]
        lines = [f"Placeholder: {', '.join(placeholders)}"] if placeholders else []
        for stage in self.stages:
            if stage.kind == StageKind.PLACEHOLDER or stage.compute_at == ComputeAtKind.INLINED:
                continue
            indent = 0
            if stage.auto_unroll_max_step:
                lines.append(f"{stage.name} auto_unroll: {stage.auto_unroll_max_step}")
            for it in stage.iters:
                lines.append("  " * indent + str(it))
                indent += 1
            lines.append("  " * indent + f"{stage.name} = ...")
        return "\n".join(lines) + "\n"
