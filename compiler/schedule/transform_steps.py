"""Transform steps: the units of a schedule, one class per Ansor step.

A step names its stage and iterators by position (`stage_id`, `iter_id`), as
Ansor's records do, so that a history serialises to the TVM log format: a
JSON array whose first element is the step's short code (`SP`, `FU`, ...).
`apply_to_state` performs the step on a State's stages; the State's methods
build steps, apply them and append them to the history, and replaying a
history on the initial state gives back the same state. The steps see the
State through `StepTarget`, so that loop_state imports this module and not
the other way round.
"""

from __future__ import annotations

import functools
import math
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Generic, Protocol, Self

from typing_extensions import TypeVar

from schedopt.dialects.sched import LoopAnnotation
from schedopt.errors import ScheduleError
from schedopt.json_value import JSON
from schedopt.schedule.stage import ComputeAtKind, Iterator, IteratorKind, Stage, StageKind

AUTO_UNROLL_PRAGMA = "auto_unroll_max_step"


StepResult = TypeVar("StepResult", covariant=True, default=object)
"""What applying a step returns: the new iterators, a new stage's id, or None."""


class StepTarget(Protocol):
    """What a step reads and changes of the loop State it applies to (`loop_state.State` is one)."""

    consumers: dict[str, tuple[str, ...]]
    """Each stage's name -> the stages that read it."""

    @property
    def stages(self) -> list[Stage]:
        """The stages in the DAG's operation order; a step replaces its stage's entry."""
        ...

    @property
    def transform_steps(self) -> Sequence[Step]:
        """The steps applied so far."""
        ...

    @property
    def output_names(self) -> tuple[str, ...]:
        """The stages that are outputs of the DAG."""
        ...

    def __getitem__(self, stage: str) -> Stage: ...

    def attached_to(self, stage_name: str) -> list[str]:
        """The stages computed at a loop of `stage_name`."""
        ...

    def reading_stages(self, producer: str) -> set[str]:
        """The stages with loops that read `producer`, directly or through inlined stages."""
        ...

    def attach_path(self, stage_name: str) -> list[tuple[str, str]]:
        """The (stage, iterator) loops `stage_name` is computed in, innermost first."""
        ...

    def runs_inside(self, stage_name: str, target: str, target_iter: str) -> bool:
        """Whether one iteration of loop `target_iter` of `target` runs all of stage `stage_name`'s loops."""
        ...

    def location(self, stage_name: str) -> str:
        """Where a stage is computed, in words."""
        ...

    def rename_attach_points(self, stage_name: str, renames: dict[str, str]) -> None:
        """Move stages attached at renamed iterators of `stage_name`."""
        ...


@dataclass(frozen=True)
class Step(Generic[StepResult]):
    """Base class of the transform steps."""

    CODE: ClassVar[str]
    stage_id: int

    def to_record(self) -> list[JSON]:
        """The step as a JSON array of the TVM log format: its code, then its fields in order."""
        return [self.CODE, *(codec.encode(getattr(self, name)) for name, codec in _record_fields(type(self)))]

    @classmethod
    def from_record(cls, record: Sequence[JSON]) -> Self:
        """The step a JSON array of the TVM log format describes (IndexError, TypeError or ValueError if
        it is malformed; fields past the step's own are ignored)."""
        fields_ = _record_fields(cls)
        if len(record) < 1 + len(fields_):
            raise IndexError(f"{cls.CODE} records {len(fields_)} fields, this one {len(record) - 1}")
        return cls(*(codec.decode(value) for (_, codec), value in zip(fields_, record[1:], strict=False)))

    def apply_to_state(self, state: StepTarget) -> StepResult:
        """Perform the step on `state`'s stages (not its history); return new iterators or stage ids."""
        raise NotImplementedError


def _stage(state: StepTarget, step: Step) -> Stage:
    if not 0 <= step.stage_id < len(state.stages):
        raise ScheduleError(f"{step.CODE}: no stage {step.stage_id} (the state has {len(state.stages)})")
    stage = state.stages[step.stage_id]
    if stage.kind == StageKind.PLACEHOLDER:
        raise ScheduleError(f"{step.CODE}: stage {stage.name} is a placeholder and has no loops")
    return stage


def _iter(stage: Stage, iter_id: int, code: str) -> Iterator:
    if not 0 <= iter_id < len(stage.iters):
        raise ScheduleError(
            f"{code}: stage {stage.name} has no iterator {iter_id} (it has {len(stage.iters)})"
        )
    return stage.iters[iter_id]


def _replace_iters(state: StepTarget, stage_id: int, iters: Sequence[Iterator]) -> None:
    state.stages[stage_id] = replace(state.stages[stage_id], iters=tuple(iters), transformed=True)


@dataclass(frozen=True)
class AnnotationStep(Step[Iterator]):
    """Annotate a loop: parallel, vectorize, unroll, or a GPU thread binding."""

    CODE: ClassVar[str] = "AN"
    iter_id: int
    annotation: LoopAnnotation

    def apply_to_state(self, state: StepTarget) -> Iterator:
        stage = _stage(state, self)
        it = _iter(stage, self.iter_id, self.CODE)
        what = f"{self.annotation.keyword} {it.name} of stage {stage.name}"
        if it.annotation != LoopAnnotation.NONE:
            raise ScheduleError(f"{what}: the iterator is already annotated {it.annotation.keyword}")
        if self.annotation == LoopAnnotation.PARALLEL and it.kind != IteratorKind.SPATIAL:
            raise ScheduleError(
                f"{what}: only spatial iterators can run in parallel (it is {it.kind.name.lower()})"
            )
        if self.annotation == LoopAnnotation.TENSORIZE:
            raise ScheduleError(f"{what}: tensorize is not supported")
        new = replace(it, annotation=self.annotation)
        iters = list(stage.iters)
        iters[self.iter_id] = new
        _replace_iters(state, self.stage_id, iters)
        return new


@dataclass(frozen=True)
class FuseStep(Step[Iterator]):
    """Fuse adjacent loops into one: `i@j@` of extent `ext(i) * ext(j)`."""

    CODE: ClassVar[str] = "FU"
    fused_ids: tuple[int, ...]

    def apply_to_state(self, state: StepTarget) -> Iterator:
        stage = _stage(state, self)
        if not self.fused_ids:
            raise ScheduleError(f"fuse in stage {stage.name}: no iterators to fuse")
        fused = [_iter(stage, i, self.CODE) for i in self.fused_ids]
        ids = list(self.fused_ids)
        if ids != list(range(ids[0], ids[0] + len(ids))):
            names = ", ".join(it.name for it in fused)
            raise ScheduleError(
                f"fuse in stage {stage.name}: iterators {names} are not adjacent loops in order"
            )
        kinds = {it.kind for it in fused}
        kind = kinds.pop() if len(kinds) == 1 else IteratorKind.MIXED
        extents = [it.extent for it in fused]
        extent = None if any(e is None for e in extents) else math.prod(e for e in extents if e is not None)
        new = Iterator("".join(f"{it.name}@" for it in fused), extent, kind)
        if len(fused) == 1:
            new = replace(fused[0])
        iters = [*stage.iters[: ids[0]], new, *stage.iters[ids[-1] + 1 :]]
        _replace_iters(state, self.stage_id, iters)
        state.rename_attach_points(stage.name, {it.name: new.name for it in fused})
        return new


@dataclass(frozen=True)
class PragmaStep(Step[None]):
    """A pragma on a loop; `auto_unroll_max_step$N` unrolls the stage's small loops."""

    CODE: ClassVar[str] = "PR"
    iter_id: int
    pragma_type: str

    def apply_to_state(self, state: StepTarget) -> None:
        stage = _stage(state, self)
        _iter(stage, self.iter_id, self.CODE)
        name, _, value = self.pragma_type.partition("$")
        if name != AUTO_UNROLL_PRAGMA or not value.isdigit():
            raise ScheduleError(
                f"pragma {self.pragma_type!r} on stage {stage.name}: only {AUTO_UNROLL_PRAGMA}$N is supported"
            )
        state.stages[self.stage_id] = replace(stage, auto_unroll_max_step=int(value), transformed=True)


@dataclass(frozen=True)
class ReorderStep(Step[None]):
    """Reorder all loops of a stage: `after[k] = before[order[k]]`."""

    CODE: ClassVar[str] = "RE"
    after_ids: tuple[int, ...]

    def apply_to_state(self, state: StepTarget) -> None:
        stage = _stage(state, self)
        if sorted(self.after_ids) != list(range(len(stage.iters))):
            raise ScheduleError(
                f"reorder in stage {stage.name}: the order {list(self.after_ids)} is not a permutation of its "
                f"{len(stage.iters)} iterators"
            )
        _replace_iters(state, self.stage_id, [stage.iters[i] for i in self.after_ids])


@dataclass(frozen=True)
class SplitStep(Step[list[Iterator]]):
    """Split a loop by factors: `i` -> `i.0, i.1, ..., i.n` from outer to inner.

    With `inner_to_outer`, `lengths` are the extents of `i.1 .. i.n` and `i.0`
    takes the rest (`ceil(extent / prod(lengths))`): Halide's and TVM's
    `split(factor)`. Otherwise `lengths` are those of `i.0 .. i.n-1` and
    `i.n` takes the rest (`split(nparts)`). A length of None is unknown (a
    sketch's placeholder). Non-dividing factors are allowed: the lowering
    guards the tail.
    """

    CODE: ClassVar[str] = "SP"
    iter_id: int
    extent: int | None
    lengths: tuple[int | None, ...]
    inner_to_outer: bool = True

    def apply_to_state(self, state: StepTarget) -> list[Iterator]:
        return apply_split(state, self, self.stage_id, self.iter_id, self.lengths, self.inner_to_outer)


def apply_split(
    state: StepTarget,
    step: Step,
    stage_id: int,
    iter_id: int,
    lengths: Sequence[int | None],
    inner_to_outer: bool,
) -> list[Iterator]:
    """Split iterator `iter_id` of stage `stage_id` (shared by the split-like steps)."""
    stage = _stage(state, step)
    it = _iter(stage, iter_id, step.CODE)
    where = f"split of {it.name} in stage {stage.name}"
    if not lengths:
        raise ScheduleError(f"{where}: no split lengths given")
    for length in lengths:
        # a user's factors are checked here whatever their annotation says
        if length is not None and (not isinstance(length, int) or length <= 0):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ScheduleError(f"{where}: factor {length} (factors must be positive integers)")
    names = [f"{it.name}.{k}" for k in range(len(lengths) + 1)]
    rest = _rest(it.extent, lengths)
    extents = [rest, *lengths] if inner_to_outer else [*lengths, rest]
    new = [Iterator(name, extent, it.kind) for name, extent in zip(names, extents, strict=True)]
    iters = [*stage.iters[:iter_id], *new, *stage.iters[iter_id + 1 :]]
    _replace_iters(state, stage_id, iters)
    state.rename_attach_points(stage.name, {it.name: new[-1].name})
    return new


def _rest(extent: int | None, lengths: Sequence[int | None]) -> int | None:
    """The extent left for the remaining loop: ceil(extent / prod(lengths))."""
    if extent is None or any(length is None for length in lengths):
        return None
    product = math.prod(length for length in lengths if length is not None)
    return -(-extent // product)


@dataclass(frozen=True)
class FollowSplitStep(Step[list[Iterator]]):
    """Split a loop like an earlier SplitStep: its first `n_split - 1` lengths, then the product of the rest.

    `n_split` runs over `1 .. len(lengths) + 1`, as in TVM: at the top there
    is no rest and the last part has length 1, so the loop gets all the
    source's lengths plus an inner loop of extent 1 (TVM's multi-level tiling
    follows an `n`-level split with `n + 1` parts this way).
    """

    CODE: ClassVar[str] = "FSP"
    iter_id: int
    src_step_id: int
    n_split: int

    def lengths(self, steps: Sequence[Step]) -> list[int | None]:
        src = _source_split(steps, self.src_step_id, self.CODE)
        if not 1 <= self.n_split <= len(src.lengths) + 1:
            raise ScheduleError(
                f"follow_split: n_split {self.n_split} must be within 1..{len(src.lengths) + 1} for split step "
                f"{self.src_step_id}, which has {len(src.lengths)} lengths"
            )
        head = list(src.lengths[: self.n_split - 1])
        tail = src.lengths[self.n_split - 1 :]
        last = None if any(t is None for t in tail) else math.prod(t for t in tail if t is not None)
        return [*head, last]

    def apply_to_state(self, state: StepTarget) -> list[Iterator]:
        lengths = self.lengths(state.transform_steps)
        return apply_split(state, self, self.stage_id, self.iter_id, lengths, True)


@dataclass(frozen=True)
class FollowFusedSplitStep(Step[list[Iterator]]):
    """Split a loop by the product of level `level` of several earlier SplitSteps."""

    CODE: ClassVar[str] = "FFSP"
    iter_id: int
    src_step_ids: tuple[int, ...]
    level: int
    factor_or_nparts: bool

    def length(self, steps: Sequence[Step]) -> int | None:
        product = 1
        for step_id in self.src_step_ids:
            src = _source_split(steps, step_id, self.CODE)
            if not 0 <= self.level < len(src.lengths):
                raise ScheduleError(f"follow_fused_split: step {step_id} has no level {self.level}")
            length = src.lengths[self.level]
            if length is None:
                return None
            product *= length
        return product

    def apply_to_state(self, state: StepTarget) -> list[Iterator]:
        length = self.length(state.transform_steps)
        return apply_split(state, self, self.stage_id, self.iter_id, [length], self.factor_or_nparts)


def _source_split(steps: Sequence[Step], step_id: int, code: str) -> SplitStep:
    if not 0 <= step_id < len(steps) or not isinstance(steps[step_id], SplitStep):
        raise ScheduleError(f"{code}: step {step_id} of the history is not a split step")
    step = steps[step_id]
    assert isinstance(step, SplitStep)
    return step


@dataclass(frozen=True)
class StorageAlignStep(Step[None]):
    """Pad the stride of the buffer dimension of loop `iter_id` to `factor * k + offset`."""

    CODE: ClassVar[str] = "SA"
    iter_id: int
    factor: int
    offset: int

    def apply_to_state(self, state: StepTarget) -> None:
        stage = _stage(state, self)
        it = _iter(stage, self.iter_id, self.CODE)
        if self.factor <= 0 or not 0 <= self.offset < self.factor:
            raise ScheduleError(
                f"storage_align of {it.name} in stage {stage.name}: need factor > 0 and 0 <= offset < factor, "
                f"got factor {self.factor}, offset {self.offset}"
            )
        state.stages[self.stage_id] = replace(
            stage, storage_align=(it.name, self.factor, self.offset), transformed=True
        )


@dataclass(frozen=True)
class ComputeAtStep(Step[None]):
    """Compute a stage inside a loop of one of its consumers, for the region that loop needs."""

    CODE: ClassVar[str] = "CA"
    target_stage_id: int
    target_iter_id: int

    def apply_to_state(self, state: StepTarget) -> None:
        stage = _stage(state, self)
        if not 0 <= self.target_stage_id < len(state.stages):
            raise ScheduleError(f"compute_at of stage {stage.name}: no target stage {self.target_stage_id}")
        target = state.stages[self.target_stage_id]
        target_iter = _iter(target, self.target_iter_id, self.CODE) if target.iters else None
        where = f"compute_at of stage {stage.name} at {target.name}"
        if target_iter is None or target.kind == StageKind.PLACEHOLDER:
            raise ScheduleError(f"{where}: the target has no loops")
        if self.target_stage_id == self.stage_id:
            raise ScheduleError(f"{where}: a stage cannot be computed inside itself")
        if stage.name in state.output_names:
            raise ScheduleError(f"{where}: {stage.name} is an output and must stay at root")
        if target.compute_at == ComputeAtKind.INLINED:
            raise ScheduleError(f"{where}: the target is inlined")
        if any(outer == stage.name for outer, _ in state.attach_path(target.name)):
            raise ScheduleError(f"{where}: {target.name} is computed inside {stage.name}")
        check_readers_inside(state, stage.name, target.name, target_iter.name, settled_only=True)
        iters = tuple(replace(it, extent=None) for it in stage.iters)
        state.stages[self.stage_id] = replace(
            stage,
            iters=iters,
            compute_at=ComputeAtKind.ITER,
            attach=(target.name, target_iter.name),
        )


def check_readers_inside(
    state: StepTarget, producer: str, target: str, target_iter: str, settled_only: bool = False
) -> None:
    """Refuse to compute `producer` at loop `target_iter` of `target` unless that loop encloses every reader.

    A reader is `target`, or a stage computed (directly or inside stages
    computed there) at that loop or a loop inside it (`State.runs_inside`):
    then one iteration of the loop runs all the reads, and the producer's
    region for that iteration is well defined. A reader elsewhere would read
    a region computed for another iteration, or none.

    `settled_only` (when the step is applied) leaves out readers still at
    root other than `target`: TVM lets a schedule compute a producer at a loop
    before it moves the producer's readers there (its own cache_read test
    does), so only bound inference, on the finished state, refuses those.
    """
    outside = [
        reader
        for reader in sorted(state.reading_stages(producer))
        if not (settled_only and reader != target and state[reader].compute_at == ComputeAtKind.ROOT)
        and (
            any(outer == producer for outer, _ in state.attach_path(reader))
            or not state.runs_inside(reader, target, target_iter)
        )
    ]
    if outside:
        raise ScheduleError(
            f"compute_at of stage {producer} at {target}.{target_iter}: every reader of {producer} must be "
            f"{target} or be computed inside its loop {target_iter}, but "
            + "; ".join(state.location(reader) for reader in outside)
        )


@dataclass(frozen=True)
class ComputeInlineStep(Step[None]):
    """Inline an elementwise stage into its consumers (no loops of its own)."""

    CODE: ClassVar[str] = "CI"

    def apply_to_state(self, state: StepTarget) -> None:
        stage = _stage(state, self)
        if any(it.kind == IteratorKind.REDUCE for it in stage.iters) or stage.has_reduction:
            raise ScheduleError(f"compute_inline of stage {stage.name}: a reduction cannot be inlined")
        if stage.name in state.output_names:
            raise ScheduleError(f"compute_inline of stage {stage.name}: an output cannot be inlined")
        if state.attached_to(stage.name):
            raise ScheduleError(
                f"compute_inline of stage {stage.name}: stages {', '.join(state.attached_to(stage.name))} "
                "are computed at its loops"
            )
        state.stages[self.stage_id] = replace(stage, compute_at=ComputeAtKind.INLINED, attach=None)


@dataclass(frozen=True)
class ComputeRootStep(Step[None]):
    """Compute a stage at the root, over its whole domain (undoes compute_at)."""

    CODE: ClassVar[str] = "CR"

    def apply_to_state(self, state: StepTarget) -> None:
        stage = _stage(state, self)
        iters = tuple(replace(it, extent=None) for it in stage.iters)
        state.stages[self.stage_id] = replace(stage, iters=iters, compute_at=ComputeAtKind.ROOT, attach=None)


def _check_nothing_attached(state: StepTarget, stage: Stage, code: str) -> None:
    attached = state.attached_to(stage.name)
    if attached:
        raise ScheduleError(
            f"{code} of stage {stage.name}: stages {', '.join(attached)} are computed at its loops "
            f"(apply {code} before compute_at)"
        )


def fresh_stage_name(state: StepTarget, base: str, suffix: str) -> str:
    """`base.suffix`, or `base.d.suffix`, `base.d.d.suffix`, ... while that name is taken.

    TVM's `cache_read` names a repeated cache of `A` in scope `shared`
    `A.d.shared` the same way. Stage names identify stages here, so every
    step that adds one (cache_read, cache_write, rfactor) takes a fresh name
    by this rule: a function of the state before the step only, so replaying
    a record or a program gives the same names.
    """
    taken = {s.name for s in state.stages}
    while f"{base}.{suffix}" in taken:
        base = f"{base}.d"
    return f"{base}.{suffix}"


def _redirect_inputs(state: StepTarget, stage: str, new_stage: str) -> None:
    """`new_stage` now reads what `stage` read, and `stage` reads only `new_stage`."""
    consumers = {
        producer: tuple(new_stage if c == stage else c for c in readers)
        for producer, readers in state.consumers.items()
    }
    consumers[new_stage] = (stage,)
    state.consumers = consumers


@dataclass(frozen=True)
class CacheReadStep(Step[int]):
    """Add a stage `A.scope` copying tensor `A`, read by `reader_ids` instead of `A`.

    The new stage comes right after `A`; its loops are `ax0, ax1, ...`. A
    second cache of `A` in the same scope is `A.d.scope` (`fresh_stage_name`).
    """

    CODE: ClassVar[str] = "CHR"
    scope_name: str
    reader_ids: tuple[int, ...]

    def new_name(self, state: StepTarget) -> str:
        """The name of the stage the step adds to `state` (see `fresh_stage_name`)."""
        return fresh_stage_name(state, state.stages[self.stage_id].name, self.scope_name)

    def apply_to_state(self, state: StepTarget) -> int:
        if not 0 <= self.stage_id < len(state.stages):
            raise ScheduleError(f"cache_read: no stage {self.stage_id}")
        source = state.stages[self.stage_id]
        name = self.new_name(state)
        if not self.reader_ids:
            raise ScheduleError(f"cache_read of {source.name}: no reader stages given")
        readers: list[str] = []
        for reader_id in self.reader_ids:
            if not 0 <= reader_id < len(state.stages):
                raise ScheduleError(f"cache_read of {source.name}: no reader stage {reader_id}")
            reader = state.stages[reader_id].name
            if reader not in state.consumers.get(source.name, ()):
                raise ScheduleError(
                    f"cache_read of {source.name}: stage {reader} does not read {source.name}"
                )
            readers.append(reader)
        iters = tuple(
            Iterator(f"ax{d}", extent, IteratorKind.SPATIAL) for d, extent in enumerate(source.shape)
        )
        new = Stage(name, StageKind.COMPUTE, iters, shape=source.shape)
        state.stages.insert(self.stage_id + 1, new)
        others = tuple(c for c in state.consumers.get(source.name, ()) if c not in readers)
        state.consumers = {**state.consumers, source.name: (*others, name), name: tuple(readers)}
        return self.stage_id + 1


@dataclass(frozen=True)
class CacheWriteStep(Step[int]):
    """Compute stage `C` into a new stage `C.scope`; `C` becomes a copy of it.

    The new stage comes right before `C` and takes over `C`'s loops (and its
    reduction); `C` keeps its spatial loops. Must come before any loop step
    on `C`, with `C` at root. If `C.scope` exists, the new stage is
    `C.d.scope` (`fresh_stage_name`).
    """

    CODE: ClassVar[str] = "CHW"
    scope_name: str

    def new_name(self, state: StepTarget) -> str:
        """The name of the stage the step adds to `state` (see `fresh_stage_name`)."""
        return fresh_stage_name(state, state.stages[self.stage_id].name, self.scope_name)

    def apply_to_state(self, state: StepTarget) -> int:
        stage = _stage(state, self)
        name = self.new_name(state)
        if stage.transformed or stage.compute_at != ComputeAtKind.ROOT:
            raise ScheduleError(
                f"cache_write of stage {stage.name}: it must come before any loop step on {stage.name}, "
                "with the stage at root"
            )
        _check_nothing_attached(state, stage, "cache_write")
        new = replace(stage, name=name)
        spatial = tuple(it for it in stage.iters if it.kind == IteratorKind.SPATIAL)
        state.stages[self.stage_id] = replace(stage, iters=spatial, has_reduction=False)
        state.stages.insert(self.stage_id, new)
        _redirect_inputs(state, stage.name, name)
        return self.stage_id


@dataclass(frozen=True)
class RfactorStep(Step[int]):
    """Factor a reduction: `C.rf` reduces all but loop `iter_id`, which becomes its spatial axis.

    `C.rf` (inserted before `C`) has `C`'s spatial loops with the factored
    loop inserted at position `factor_iter_id`, and reduces over `C`'s other
    reduce loops; `C` then reduces `C.rf` over the factored loop. The reduce
    loops of `C` may have been fused and split; its spatial loops must be
    untouched and outermost, and `C` at root.
    """

    CODE: ClassVar[str] = "RF"
    iter_id: int
    factor_iter_id: int

    def new_name(self, state: StepTarget) -> str:
        """The name of the stage the step adds to `state` (see `fresh_stage_name`)."""
        return fresh_stage_name(state, state.stages[self.stage_id].name, "rf")

    def apply_to_state(self, state: StepTarget) -> int:
        stage = _stage(state, self)
        it = _iter(stage, self.iter_id, self.CODE)
        where = f"rfactor of {it.name} in stage {stage.name}"
        name = self.new_name(state)
        n_spatial = len(stage.shape)
        spatial, reduce = stage.iters[:n_spatial], stage.iters[n_spatial:]
        SPATIAL, REDUCE = IteratorKind.SPATIAL, IteratorKind.REDUCE
        if it.kind != REDUCE:
            raise ScheduleError(f"{where}: only a reduce loop can be factored out")
        if (
            any(s.kind != SPATIAL for s in spatial)
            or any(r.kind != REDUCE for r in reduce)
            or [s.extent for s in spatial] != list(stage.shape)
            or stage.compute_at != ComputeAtKind.ROOT
        ):
            raise ScheduleError(
                f"{where}: the stage must be at root with its spatial loops untouched and outermost"
            )
        _check_nothing_attached(state, stage, "rfactor")
        if not 0 <= self.factor_iter_id <= n_spatial:
            raise ScheduleError(f"{where}: factor_iter_id {self.factor_iter_id} is not within 0..{n_spatial}")
        plain = LoopAnnotation.NONE
        factored = replace(it, kind=SPATIAL, annotation=plain)
        others = tuple(replace(r, annotation=plain) for r in reduce if r.name != it.name)
        f = self.factor_iter_id
        rf_iters = (*spatial[:f], factored, *spatial[f:], *others)
        rf_shape = (*stage.shape[:f], it.extent, *stage.shape[f:])
        rf = Stage(
            name,
            StageKind.COMPUTE,
            rf_iters,
            has_reduction=bool(others),
            shape=rf_shape,  # type: ignore[arg-type]
        )
        state.stages[self.stage_id] = replace(stage, iters=(*spatial, replace(it, annotation=plain)))
        state.stages.insert(self.stage_id, rf)
        _redirect_inputs(state, stage.name, name)
        return self.stage_id


STEP_CLASSES: dict[str, type[Step]] = {
    cls.CODE: cls
    for cls in (
        AnnotationStep,
        FuseStep,
        PragmaStep,
        ReorderStep,
        SplitStep,
        FollowSplitStep,
        FollowFusedSplitStep,
        StorageAlignStep,
        ComputeAtStep,
        ComputeInlineStep,
        ComputeRootStep,
        CacheReadStep,
        CacheWriteStep,
        RfactorStep,
    )
}


def _int(value: JSON) -> int:
    """An integer field of a step record; a TypeError (a malformed step) when it is no number."""
    if isinstance(value, dict | list) or value is None:
        raise TypeError(f"expected an integer, got {value!r}")
    return int(value)


def _ints(value: JSON) -> tuple[int, ...]:
    """A field of a step record that lists integers."""
    if not isinstance(value, list):
        raise TypeError(f"expected a list of integers, got {value!r}")
    return tuple(_int(item) for item in value)


def _optional_ints(value: JSON) -> tuple[int | None, ...]:
    """A field of a step record that lists integers or nulls (split lengths still to be chosen)."""
    if not isinstance(value, list):
        raise TypeError(f"expected a list of integers, got {value!r}")
    return tuple(None if item is None else _int(item) for item in value)


@dataclass(frozen=True)
class _FieldCodec:
    """How a step field of one type reads and writes in a record."""

    encode: Callable[[Any], JSON]
    decode: Callable[[JSON], Any]


def _same(value: Any) -> JSON:
    return value


_FIELD_CODECS: dict[object, _FieldCodec] = {
    int: _FieldCodec(_same, _int),
    bool: _FieldCodec(int, lambda value: bool(_int(value))),
    str: _FieldCodec(_same, str),
    int | None: _FieldCodec(lambda value: value or 0, lambda value: _int(value) or None),  # 0: unknown
    tuple[int, ...]: _FieldCodec(list, _ints),
    tuple[int | None, ...]: _FieldCodec(list, _optional_ints),
    LoopAnnotation: _FieldCodec(
        lambda value: value.record_code, lambda value: LoopAnnotation.from_record_code(_int(value))
    ),
}
"""The record form of each type a step field has (TVM writes booleans as 0/1, an unknown extent as 0)."""


@functools.cache
def _record_fields(cls: type[Step]) -> tuple[tuple[str, _FieldCodec], ...]:
    """A step class's fields in record order, with their codecs."""
    hints = typing.get_type_hints(cls)
    return tuple((field.name, _FIELD_CODECS[hints[field.name]]) for field in fields(cls))


def step_from_record(record: JSON) -> Step:
    """Decode one step of a TVM-format record."""
    if not isinstance(record, list) or not record or not isinstance(record[0], str):
        raise ScheduleError(f"malformed step record {record!r}")
    cls = STEP_CLASSES.get(record[0])
    if cls is None:
        raise ScheduleError(f"unknown step code {record[0]!r} in {record!r}")
    try:
        return cls.from_record(record)
    except (IndexError, TypeError, ValueError) as error:
        raise ScheduleError(f"malformed {record[0]} step {record!r}: {error}") from None
