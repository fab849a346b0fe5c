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

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeAlias, TypeVar

import schedopt.schedule.transform_steps as steps
from schedopt.dialects.sched import LoopAnnotation
from schedopt.errors import ScheduleError
from schedopt.schedule.stage import ComputeAtKind, Iterator, Stage, StageKind


class NamedStage(Protocol):
    """Anything that names a stage: a Stage, or a te tensor of the workload (its operation's stage)."""

    @property
    def name(self) -> str: ...


StageRef: TypeAlias = "int | str | NamedStage"
"""A stage: its position, its name, the Stage, or a te tensor of the workload."""
IterRef: TypeAlias = "int | str | Iterator"
"""An iterator of a stage: its position, its name, or the Iterator."""
_Result = TypeVar("_Result")


@dataclass
class State:
    """Stages in the DAG's operation order and the transform steps applied so far.

    Each primitive (`split`, `fuse`, ...) checks its arguments, records a step
    and returns what it creates, as TVM's `State` does. `output_names` and
    `consumers` describe the DAG (needed to check compute_at and inlining).
    """

    stages: list[Stage]
    transform_steps: list[steps.Step] = field(default_factory=list[steps.Step])
    output_names: tuple[str, ...] = ()
    consumers: dict[str, tuple[str, ...]] = field(default_factory=dict[str, tuple[str, ...]])

    def copy(self) -> State:
        """An independent state (stages are immutable; the lists are copied)."""
        return State(list(self.stages), list(self.transform_steps), self.output_names, self.consumers)

    @property
    def is_concrete(self) -> bool:
        """Whether the state has its stages; one read from a record holds only steps.

        `ComputeDAG.concrete_state` replays the steps of one that does not.
        """
        return bool(self.stages)

    @property
    def stage_ops(self) -> list[Stage]:
        """The stages, in order; each is a valid stage reference for the primitives (TVM's `stage_ops`)."""
        self._require_stages()
        return list(self.stages)

    def _require_stages(self) -> None:
        if not self.is_concrete:
            raise ScheduleError(
                f"this State holds only its {len(self.transform_steps)} transform steps, no stages (as a "
                "record does); replay them first: ComputeDAG.concrete_state(state)"
            )

    # --- lookup ---------------------------------------------------------------

    def stage_id(self, stage: StageRef) -> int:
        """The position of a stage given by position, name, Stage or te tensor."""
        self._require_stages()
        return _position(stage, [s.name for s in self.stages], "no stage", "the state has", "stages")

    def iter_id(self, stage: StageRef, iterator: IterRef) -> int:
        """The position of an iterator of a stage, given by position, name or Iterator."""
        target = self.stages[self.stage_id(stage)]
        if target.kind == StageKind.PLACEHOLDER:
            raise ScheduleError(f"stage {target.name} is a placeholder and has no loops")
        names = [it.name for it in target.iters]
        return _position(iterator, names, f"stage {target.name} has no iterator", "it has", "iterators")

    def __getitem__(self, stage: StageRef) -> Stage:
        return self.stages[self.stage_id(stage)]

    def attached_to(self, stage_name: str) -> list[str]:
        """The stages computed at a loop of `stage_name`."""
        return [s.name for s in self.stages if s.attach is not None and s.attach[0] == stage_name]

    def reading_stages(self, producer: str) -> set[str]:
        """The stages with loops that read `producer`, directly or through inlined stages."""
        inlined = {s.name for s in self.stages if s.compute_at == ComputeAtKind.INLINED}
        readers: set[str] = set()
        for consumer in self.consumers.get(producer, ()):
            readers |= self.reading_stages(consumer) if consumer in inlined else {consumer}
        return readers

    def reaches(self, producer: str, consumer: str) -> bool:
        """Whether `consumer` reads `producer`, directly or through inlined stages."""
        inlined = {s.name for s in self.stages if s.compute_at == ComputeAtKind.INLINED}
        frontier, seen = list(self.consumers.get(producer, ())), set[str]()
        while frontier:
            name = frontier.pop()
            if name == consumer:
                return True
            if name in seen or name not in inlined:
                continue
            seen.add(name)
            frontier.extend(self.consumers.get(name, ()))
        return False

    def attach_path(self, stage_name: str) -> list[tuple[str, str]]:
        """The (stage, iterator) loops `stage_name` is computed in, innermost first; empty at root.

        A cycle of attach points (a state the steps refuse to build) ends the path.
        """
        path: list[tuple[str, str]] = []
        seen = {stage_name}
        stage = self[stage_name]
        while stage.attach is not None and stage.attach[0] not in seen:
            path.append(stage.attach)
            seen.add(stage.attach[0])
            stage = self[stage.attach[0]]
        return path

    def runs_inside(self, stage_name: str, target: str, target_iter: str) -> bool:
        """Whether one iteration of loop `target_iter` of `target` runs all of stage `stage_name`'s loops.

        True for `target` itself, and for a stage computed at that loop or a
        loop inside it, directly or inside stages computed there: TVM's rule
        for where a producer may be computed is that its loop encloses every
        reader.
        """
        if stage_name == target:
            return True
        order = [it.name for it in self[target].iters]
        for outer, loop in self.attach_path(stage_name):
            if outer == target:
                return (
                    loop in order and target_iter in order and order.index(loop) >= order.index(target_iter)
                )
        return False

    def location(self, stage_name: str) -> str:
        """Where a stage is computed, in words (for error messages)."""
        stage = self[stage_name]
        if stage.attach is not None:
            return f"{stage_name} is computed at {stage.attach[0]}.{stage.attach[1]}"
        if stage.compute_at == ComputeAtKind.INLINED:
            return f"{stage_name} is inlined"
        return f"{stage_name} is at root"

    def rename_attach_points(self, stage_name: str, renames: dict[str, str]) -> None:
        """Move stages attached at renamed iterators of `stage_name` (after split or fuse)."""
        for index, stage in enumerate(self.stages):
            if stage.attach is not None and stage.attach[0] == stage_name and stage.attach[1] in renames:
                self.stages[index] = replace(stage, attach=(stage_name, renames[stage.attach[1]]))

    # --- primitives -------------------------------------------------------------

    def apply(self, step: steps.Step[_Result]) -> _Result:
        """Perform `step` and record it in the history."""
        result = step.apply_to_state(self)
        self.transform_steps.append(step)
        return result

    def _annotate(self, stage: StageRef, iterator: IterRef, annotation: LoopAnnotation) -> Iterator:
        sid = self.stage_id(stage)
        return self.apply(steps.AnnotationStep(sid, self.iter_id(sid, iterator), annotation))

    def parallel(self, stage: StageRef, iterator: IterRef) -> Iterator:
        """Run a spatial loop on all cores (OpenMP)."""
        return self._annotate(stage, iterator, LoopAnnotation.PARALLEL)

    def vectorize(self, stage: StageRef, iterator: IterRef) -> Iterator:
        """Turn an innermost loop into SIMD vector operations."""
        return self._annotate(stage, iterator, LoopAnnotation.VECTORIZE)

    def unroll(self, stage: StageRef, iterator: IterRef) -> Iterator:
        """Unroll a loop completely."""
        return self._annotate(stage, iterator, LoopAnnotation.UNROLL)

    def bind(self, stage: StageRef, iterator: IterRef, thread_name: str) -> Iterator:
        """Bind a loop to a GPU thread axis: vthread, blockIdx.x/y/z or threadIdx.x/y/z."""
        annotations = {a.keyword: a for a in LoopAnnotation if a.is_gpu_binding}
        if thread_name not in annotations:
            raise ScheduleError(
                f"bind: unknown thread axis {thread_name!r} (one of {', '.join(annotations)})"
            )
        return self._annotate(stage, iterator, annotations[thread_name])

    def pragma(self, stage: StageRef, iterator: IterRef, pragma_type: str) -> None:
        """Attach a pragma, e.g. `auto_unroll_max_step$64`."""
        sid = self.stage_id(stage)
        self.apply(steps.PragmaStep(sid, self.iter_id(sid, iterator), pragma_type))

    def fuse(self, stage: StageRef, iters: Sequence[IterRef]) -> Iterator:
        """Fuse adjacent loops (outer to inner) into one."""
        sid = self.stage_id(stage)
        return self.apply(steps.FuseStep(sid, tuple(self.iter_id(sid, it) for it in iters)))

    def reorder(self, stage: StageRef, order: Sequence[IterRef]) -> None:
        """Permute all loops of a stage into `order` (outer to inner)."""
        sid = self.stage_id(stage)
        self.apply(steps.ReorderStep(sid, tuple(self.iter_id(sid, it) for it in order)))

    def split(
        self, stage: StageRef, iterator: IterRef, lengths: Sequence[int | None], inner_to_outer: bool = True
    ) -> list[Iterator]:
        """Split a loop; returns the new loops from outer to inner (see SplitStep)."""
        sid = self.stage_id(stage)
        iid = self.iter_id(sid, iterator)
        extent = self.stages[sid].iters[iid].extent
        return self.apply(steps.SplitStep(sid, iid, extent, tuple(lengths), inner_to_outer))

    def follow_split(
        self, stage: StageRef, iterator: IterRef, src_step_id: int, n_split: int
    ) -> list[Iterator]:
        """Split a loop by the lengths of an earlier split step."""
        sid = self.stage_id(stage)
        return self.apply(steps.FollowSplitStep(sid, self.iter_id(sid, iterator), src_step_id, n_split))

    def follow_fused_split(
        self,
        stage: StageRef,
        iterator: IterRef,
        src_step_ids: Sequence[int],
        level: int,
        factor_or_nparts: bool,
    ) -> list[Iterator]:
        """Split a loop by the product of one level of several earlier split steps."""
        sid = self.stage_id(stage)
        step = steps.FollowFusedSplitStep(
            sid, self.iter_id(sid, iterator), tuple(src_step_ids), level, factor_or_nparts
        )
        return self.apply(step)

    def storage_align(self, stage: StageRef, iterator: IterRef, factor: int, offset: int) -> None:
        """Pad the buffer stride at `iterator`'s dimension to `factor * k + offset` elements."""
        sid = self.stage_id(stage)
        self.apply(steps.StorageAlignStep(sid, self.iter_id(sid, iterator), factor, offset))

    def compute_at(self, stage: StageRef, target_stage: StageRef, target_iter: IterRef) -> None:
        """Compute `stage` inside loop `target_iter` of its consumer `target_stage`."""
        tid = self.stage_id(target_stage)
        self.apply(steps.ComputeAtStep(self.stage_id(stage), tid, self.iter_id(tid, target_iter)))

    def compute_inline(self, stage: StageRef) -> None:
        """Inline an elementwise stage into its consumers."""
        self.apply(steps.ComputeInlineStep(self.stage_id(stage)))

    def compute_root(self, stage: StageRef) -> None:
        """Compute a stage at the root over its whole domain."""
        self.apply(steps.ComputeRootStep(self.stage_id(stage)))

    def cache_read(self, stage: StageRef, scope_name: str, reader_stages: Sequence[StageRef]) -> Stage:
        """Add a stage `NAME.scope` (`NAME.d.scope` if taken) that copies tensor `stage`; `reader_stages`
        read the copy instead."""
        readers = tuple(self.stage_id(r) for r in reader_stages)
        new_id = self.apply(steps.CacheReadStep(self.stage_id(stage), scope_name, readers))
        return self.stages[new_id]

    def cache_write(self, stage: StageRef, scope_name: str) -> Stage:
        """Compute `stage` into a new stage `NAME.scope`; `stage` becomes a copy of it."""
        new_id = self.apply(steps.CacheWriteStep(self.stage_id(stage), scope_name))
        return self.stages[new_id]

    def rfactor(self, stage: StageRef, iterator: IterRef, factor_iter_id: int) -> Stage:
        """Factor reduce loop `iterator` out of `stage` into a new stage `NAME.rf` (see RfactorStep)."""
        sid = self.stage_id(stage)
        new_id = self.apply(steps.RfactorStep(sid, self.iter_id(sid, iterator), factor_iter_id))
        return self.stages[new_id]

    # --- printing --------------------------------------------------------------------

    def __str__(self) -> str:
        if not self.is_concrete:
            return f"(a State of {len(self.transform_steps)} transform steps only, as read from a record)\n"
        placeholders = [s.name for s in self.stages if s.kind == StageKind.PLACEHOLDER]
        lines = [f"Placeholder: {', '.join(placeholders)}"] if placeholders else []
        for stage in self.stages:
            if stage.kind == StageKind.COMPUTE and stage.compute_at == ComputeAtKind.ROOT:
                self._print_stage(stage, 0, lines)
        return "\n".join(lines) + "\n"

    def _print_stage(self, stage: Stage, indent: int, lines: list[str]) -> None:
        if stage.auto_unroll_max_step:
            lines.append("  " * indent + f"{stage.name} auto_unroll: {stage.auto_unroll_max_step}")
        for it in stage.iters:
            lines.append("  " * indent + str(it))
            indent += 1
            for attached in self.stages:
                if attached.attach == (stage.name, it.name):
                    self._print_stage(attached, indent, lines)
        lines.append("  " * indent + f"{stage.name} = ...")


def _position(ref: StageRef | IterRef, names: Sequence[str], missing: str, count: str, listing: str) -> int:
    """The position of a stage or iterator given by position, name, or an object with a `name`.

    A wrong one raises `ScheduleError`: "`missing` 7 (`count` 3)" for a
    position, "`missing` 'x' (`listing`: a, b)" for a name.
    """
    if isinstance(ref, int):
        if not 0 <= ref < len(names):
            raise ScheduleError(f"{missing} {ref} ({count} {len(names)})")
        return ref
    name = ref if isinstance(ref, str) else ref.name
    if name in names:
        return names.index(name)
    raise ScheduleError(f"{missing} {name!r} ({listing}: {', '.join(names)})")
