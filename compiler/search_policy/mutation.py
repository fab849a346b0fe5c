"""Ansor's mutation rules for the evolutionary search.

Each rule edits the step history of a complete program and replays it, so
the result is again a legal program (or None: the rule found nothing to
change, or the replay failed). The weights are TVM's: CPU_MUTATION_RULES
and, for GPUs, GPU_MUTATION_RULES.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from schedopt.dialects.sched import LoopAnnotation
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import IteratorKind
from schedopt.schedule.transform_steps import (
    AnnotationStep,
    CacheReadStep,
    CacheWriteStep,
    ComputeAtStep,
    FuseStep,
    PragmaStep,
    RfactorStep,
    SplitStep,
    Step,
)
from schedopt.search_policy.init_population import (
    CPU_AUTO_UNROLL_CONFIGS,
    GPU_AUTO_UNROLL_CONFIGS,
    attached_iters,
    compute_location_candidates,
    is_tiled,
)
from schedopt.search_policy.sketch_rules import needs_multi_level_tiling
from schedopt.search_policy.split_factors import divisors

if TYPE_CHECKING:
    from schedopt.search_policy.rule_context import RuleContext


class MutationRule(Protocol):
    @property
    def weight(self) -> float:
        """How often the evolution picks this mutation, relative to the others."""
        ...

    def __call__(self, policy: RuleContext, state: State, rng: random.Random) -> State | None: ...


@dataclass(frozen=True)
class MutateTileSize:
    """Move a divisor from one level of a split to another (the innermost stays <= the limit)."""

    weight: float = 0.90

    def __call__(self, policy: RuleContext, state: State, rng: random.Random) -> State | None:
        max_innermost = policy.params["max_innermost_split_factor"]
        splits = [
            index
            for index, step in enumerate(state.transform_steps)
            if isinstance(step, SplitStep)
            and step.extent is not None
            and step.extent > 1
            and all(length is not None for length in step.lengths)
            and (innermost := step.lengths[-1]) is not None
            and innermost <= max_innermost
        ]
        if not splits:
            return None
        index = rng.choice(splits)
        step = state.transform_steps[index]
        assert isinstance(step, SplitStep) and step.extent is not None
        inner = [int(length) for length in step.lengths]  # type: ignore[arg-type]
        product = 1
        for length in inner:
            product *= length
        lengths = [step.extent // product, *inner]
        order = list(range(len(lengths)))
        rng.shuffle(order)
        for position, source in enumerate(order):
            if lengths[source] <= 1:
                continue
            target = order[(position + 1) % len(order)]
            factors = divisors(lengths[source])[1:]
            if target == len(lengths) - 1:
                factors = tuple(f for f in factors if f * lengths[target] <= max_innermost)
            if not factors:
                continue
            factor = rng.choice(factors)
            lengths[source] //= factor
            lengths[target] *= factor
            steps = list(state.transform_steps)
            steps[index] = replace(step, lengths=tuple(lengths[1:]))
            return policy.replay(steps)
        return None


@dataclass(frozen=True)
class MutateAutoUnroll:
    """Choose another `auto_unroll_max_step` for one stage."""

    weight: float = 0.04
    configs: tuple[int, ...] = CPU_AUTO_UNROLL_CONFIGS
    """The values to choose from (the GPU's include 1024)."""

    def __call__(self, policy: RuleContext, state: State, rng: random.Random) -> State | None:
        pragmas = [
            index
            for index, step in enumerate(state.transform_steps)
            if isinstance(step, PragmaStep) and step.pragma_type.startswith("auto_unroll_max_step$")
        ]
        if not pragmas:
            return None
        index = rng.choice(pragmas)
        step = state.transform_steps[index]
        assert isinstance(step, PragmaStep)
        current = int(step.pragma_type.split("$")[1])
        choices = [value for value in self.configs if value != current]
        steps = list(state.transform_steps)
        steps[index] = replace(step, pragma_type=f"auto_unroll_max_step${rng.choice(choices)}")
        return policy.replay(steps)


@dataclass(frozen=True)
class MutateComputeLocation:
    """Move a stage that is not tiled to another loop of its consumer."""

    weight: float = 0.05

    def __call__(self, policy: RuleContext, state: State, rng: random.Random) -> State | None:
        movable: list[int] = []
        for index, step in enumerate(state.transform_steps):
            if not isinstance(step, ComputeAtStep) or _stages_added_after(state, index):
                continue
            if is_tiled(policy, state, step.stage_id) or needs_multi_level_tiling(
                policy, state, step.stage_id
            ):
                continue
            movable.append(index)
        if not movable:
            return None
        index = rng.choice(movable)
        step = state.transform_steps[index]
        assert isinstance(step, ComputeAtStep)
        candidates = compute_location_candidates(policy, state, step.stage_id)
        if not candidates:
            return None
        target, loop = rng.choice(candidates)
        target_id = state.stage_id(target)
        steps = list(state.transform_steps)
        steps[index] = replace(step, target_stage_id=target_id, target_iter_id=state.iter_id(target_id, loop))
        return policy.replay(steps)


@dataclass(frozen=True)
class MutateParallel:
    """Change how many outer loops a parallel stage fuses before it parallelises them."""

    weight: float = 0.01

    def __call__(self, policy: RuleContext, state: State, rng: random.Random) -> State | None:
        steps = state.transform_steps
        candidates = [
            index
            for index, step in enumerate(steps)
            if isinstance(step, AnnotationStep)
            and step.annotation == LoopAnnotation.PARALLEL
            and step.iter_id == 0
            and index > 0
            and isinstance(previous := steps[index - 1], FuseStep)
            and previous.fused_ids[0] == 0
        ]
        if not candidates:
            return None
        index = rng.choice(candidates)
        fuse = steps[index - 1]
        assert isinstance(fuse, FuseStep)
        before = policy.replay(steps[: index - 1])
        if before is None:
            return None
        stage = before.stages[fuse.stage_id]
        attached = attached_iters(before, stage.name)
        fusible = 0
        for it in stage.iters:
            if it.kind == IteratorKind.REDUCE or it.annotation != LoopAnnotation.NONE:
                break
            fusible += 1
            if it.name in attached:
                break
        if fusible == 0:
            return None
        count = rng.randrange(fusible) + 1
        offset = fuse.fused_ids[-1] - (count - 1)
        if offset == 0:
            return None
        rest: list[Step] = []
        for step in steps[index + 1 :]:
            if isinstance(step, CacheReadStep | CacheWriteStep | RfactorStep):
                return None
            if step.stage_id == fuse.stage_id:
                if not isinstance(step, AnnotationStep | PragmaStep):
                    return None
                if step.iter_id != 0:
                    step = replace(step, iter_id=step.iter_id + offset)
            rest.append(step)
        new_fuse = FuseStep(fuse.stage_id, tuple(range(count)))
        return policy.replay([*steps[: index - 1], new_fuse, steps[index], *rest])


def _stages_added_after(state: State, index: int) -> bool:
    """Whether a step after `index` adds a stage (and so shifts the stage ids it names)."""
    return any(
        isinstance(s, CacheReadStep | CacheWriteStep | RfactorStep) for s in state.transform_steps[index:]
    )


CPU_MUTATION_RULES: tuple[MutationRule, ...] = (
    MutateTileSize(),
    MutateComputeLocation(),
    MutateAutoUnroll(),
    MutateParallel(),
)
"""TVM's CPU mutation rules with their weights."""


GPU_MUTATION_RULES: tuple[MutationRule, ...] = (
    MutateTileSize(weight=0.90),
    MutateAutoUnroll(weight=0.10, configs=GPU_AUTO_UNROLL_CONFIGS),
)
"""TVM's CUDA mutation rules with their weights (no compute location or parallel mutation on GPUs)."""
