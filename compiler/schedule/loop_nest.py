"""The loop structure of each stage of a State, as its steps built it.

Replaying a State's history per stage gives the relations between the
stage's root axes (the iterators of its `te.compute`) and its leaf loops:
a split turns one iterator into several, a fuse several into one. From the
extents of the root axes (the whole domain at root, the region the consumer
needs under compute_at) the relations give every loop's extent, and from the
values of the leaf loops the value of every root axis. Both walks are
generic over an `Algebra`, so the same code computes numbers for bound
inference and emits IR in the lowering.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import schedopt.schedule.transform_steps as steps
from schedopt.errors import ScheduleError
from schedopt.schedule.loop_state import State

V = TypeVar("V")


class Algebra(Protocol, Generic[V]):
    """The integer operations the relations need, on some value domain."""

    def const(self, value: int) -> V: ...
    def add(self, lhs: V, rhs: V) -> V: ...
    def mul(self, value: V, factor: int) -> V: ...
    def floordiv(self, value: V, divisor: int) -> V: ...
    def mod(self, value: V, divisor: int) -> V: ...


@dataclass(frozen=True)
class SplitRelation:
    """`parent` becomes `children` (outer to inner); `lengths` as in SplitStep."""

    parent: str
    children: tuple[str, ...]
    lengths: tuple[int | None, ...]
    inner_to_outer: bool


@dataclass(frozen=True)
class FuseRelation:
    """`children` (outer to inner) become `fused`."""

    children: tuple[str, ...]
    fused: str


Relation = SplitRelation | FuseRelation


@dataclass(frozen=True)
class StageLoops:
    """Root axes, relations and leaf loops (in loop order) of one stage."""

    root_names: tuple[str, ...]
    relations: tuple[Relation, ...]
    leaf_names: tuple[str, ...]

    def extents(self, root_extents: Sequence[int]) -> dict[str, int]:
        """The extent of every iterator, from the extents of the root axes."""
        extents = dict(zip(self.root_names, root_extents, strict=True))
        for relation in self.relations:
            if isinstance(relation, FuseRelation):
                extents[relation.fused] = math.prod(extents[c] for c in relation.children)
                continue
            lengths = list(relation.lengths)
            if any(length is None for length in lengths):
                raise ScheduleError(f"split of {relation.parent}: a split length is still unknown")
            known = [length for length in lengths if length is not None]
            if relation.inner_to_outer:
                # From the innermost part out, each part runs its factor, or
                # what is left of the parent when that is less (TVM tightens
                # the same way); the parts outside such a one run once.
                left = extents[relation.parent]
                inner: list[int] = []
                for length in reversed(known):
                    inner.insert(0, min(left, length))
                    left = -(-left // length)
                children_extents = [left, *inner]
            else:
                children_extents = [*known, -(-extents[relation.parent] // math.prod(known))]
            for child, extent in zip(relation.children, children_extents, strict=True):
                extents[child] = extent
        return extents

    def root_values(self, leaf_values: dict[str, V], extents: dict[str, int], algebra: Algebra[V]) -> list[V]:
        """The value of each root axis, given the value of each leaf loop."""
        values = self.values(leaf_values, extents, algebra)
        return [values[name] for name in self.root_names]

    def overflowing(self, extents: dict[str, int]) -> list[str]:
        """Iterators a non-dividing split can step past: the loops must guard `value < extent`.

        Guarding only the root axes is not enough: a fused loop split by a
        non-dividing factor overshoots, and its outer component then runs
        into the next block of an enclosing split.
        """
        return [
            r.parent
            for r in self.relations
            if isinstance(r, SplitRelation) and math.prod(extents[c] for c in r.children) > extents[r.parent]
        ]

    def derived_from(self, roots: set[str]) -> set[str]:
        """The iterators whose values depend only on the given root axes."""
        names = set(roots)
        for relation in self.relations:
            if isinstance(relation, SplitRelation) and relation.parent in names:
                names.update(relation.children)
            elif isinstance(relation, FuseRelation) and all(c in names for c in relation.children):
                names.add(relation.fused)
        return names

    def values(self, leaf_values: dict[str, V], extents: dict[str, int], algebra: Algebra[V]) -> dict[str, V]:
        """The value of every iterator, given the value of each leaf loop."""
        values = dict(leaf_values)
        for relation in reversed(self.relations):
            if isinstance(relation, SplitRelation):
                # parent = sum(child_k * prod(extents of the children inside it))
                total = values[relation.children[-1]]
                stride = 1
                for inner, child in zip(relation.children[::-1], relation.children[-2::-1], strict=False):
                    stride *= extents[inner]
                    total = algebra.add(algebra.mul(values[child], stride), total)
                values[relation.parent] = total
                continue
            fused = values[relation.fused]
            stride = math.prod(extents[c] for c in relation.children[1:])
            for position, child in enumerate(relation.children):
                quotient = algebra.floordiv(fused, stride) if stride > 1 else fused
                values[child] = quotient if position == 0 else algebra.mod(quotient, extents[child])
                if position + 1 < len(relation.children):
                    stride //= extents[relation.children[position + 1]]
        return values


def stage_loops(state: State, initial_state: State) -> dict[str, StageLoops]:
    """Replay the history of `state` from `initial_state`: the loops of every stage, by name."""
    replay = initial_state.copy()
    roots = {s.name: tuple(it.name for it in s.iters) for s in replay.stages}
    relations: dict[str, list[Relation]] = {name: [] for name in roots}
    for step in state.transform_steps:
        stage = replay.stages[step.stage_id]
        before = [it.name for it in stage.iters]
        if isinstance(step, steps.CacheReadStep | steps.CacheWriteStep | steps.RfactorStep):
            # A new stage, with fresh loops; cache_write and rfactor also reset the stage they split.
            changed_stages = [replay.stages[replay.apply(step)]]
            if not isinstance(step, steps.CacheReadStep):
                changed_stages.append(replay[stage.name])
            for changed in changed_stages:
                roots[changed.name] = tuple(it.name for it in changed.iters)
                relations[changed.name] = []
        elif isinstance(step, steps.SplitStep | steps.FollowSplitStep | steps.FollowFusedSplitStep):
            children = tuple(it.name for it in replay.apply(step))
            lengths = _split_lengths(step, replay)
            inner_to_outer = True
            if isinstance(step, steps.SplitStep):
                inner_to_outer = step.inner_to_outer
            elif isinstance(step, steps.FollowFusedSplitStep):
                inner_to_outer = step.factor_or_nparts
            relations[stage.name].append(
                SplitRelation(before[step.iter_id], children, lengths, inner_to_outer)
            )
        elif isinstance(step, steps.FuseStep):
            fused = replay.apply(step)
            if len(step.fused_ids) > 1:
                children = tuple(before[i] for i in step.fused_ids)
                relations[stage.name].append(FuseRelation(children, fused.name))
        else:
            replay.apply(step)
    return {
        stage.name: StageLoops(
            roots[stage.name], tuple(relations[stage.name]), tuple(it.name for it in stage.iters)
        )
        for stage in replay.stages
    }


def _split_lengths(step: steps.Step, state: State) -> tuple[int | None, ...]:
    if isinstance(step, steps.SplitStep):
        return step.lengths
    if isinstance(step, steps.FollowSplitStep):
        return tuple(step.lengths(state.transform_steps))
    assert isinstance(step, steps.FollowFusedSplitStep)
    return (step.length(state.transform_steps),)


@dataclass(frozen=True)
class Interval:
    """The offsets [lo, hi] an axis takes from its value at the origin of the varying loops.

    `fixed` says whether loops outside the varying region contribute (then
    the value at the origin is symbolic); `exact` turns False when a
    division or modulo of such a mixed value makes "origin + offset in
    [lo, hi]" unsound, and callers fall back to the whole axis.
    """

    lo: int
    hi: int
    exact: bool = True
    fixed: bool = False

    @property
    def span(self) -> int:
        return self.hi - self.lo + 1


class IntervalAlgebra:
    """Range analysis of the relations: which values a root axis takes as some leaves vary."""

    def const(self, value: int) -> Interval:
        return Interval(value, value)

    def add(self, lhs: Interval, rhs: Interval) -> Interval:
        return Interval(lhs.lo + rhs.lo, lhs.hi + rhs.hi, lhs.exact and rhs.exact, lhs.fixed or rhs.fixed)

    def mul(self, value: Interval, factor: int) -> Interval:
        bounds = (value.lo * factor, value.hi * factor)
        return Interval(min(bounds), max(bounds), value.exact, value.fixed)

    def floordiv(self, value: Interval, divisor: int) -> Interval:
        return Interval(value.lo // divisor, value.hi // divisor, self._exact(value, divisor), value.fixed)

    def mod(self, value: Interval, divisor: int) -> Interval:
        if value.lo == value.hi:
            return Interval(0, 0, value.exact, value.fixed)
        return Interval(0, divisor - 1, self._exact(value, divisor), value.fixed)

    @staticmethod
    def _exact(value: Interval, divisor: int) -> bool:
        if value.lo == value.hi:
            return value.exact  # a fixed value stays one value
        whole_blocks = value.lo == 0 and (value.hi + 1) % divisor == 0
        return value.exact and not value.fixed and whole_blocks
