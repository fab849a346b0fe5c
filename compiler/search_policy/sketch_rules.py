"""Ansor's sketch generation rules: the high-level structures of the search space.

A sketch is a State whose structure is fixed (which stages are inlined,
tiled, cached, factored, and where they are computed) but whose split
lengths are still open (`?`); the initial-population rules fill them in.
Generation visits the stages from the last to the first; at each stage every
rule is asked in order whether it applies:

- `SKIP`: not here; ask the next rule,
- `APPLY`: apply it (each derived state goes on, to the stage the rule
  names), and ask the next rule too, on the state as it was,
- `APPLY_AND_SKIP_REST`: apply it, and ask no further rule.

The CPU rule list is TVM's (ansor-facts.md, "Sketch generation"); the GPU
rules (AddCacheRead, CrossThreadReduction, ...) are in gpu_sketch_rules.py.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from xdsl.dialects.builtin import ArrayAttr, StringAttr
from xdsl.utils.hints import isa

from schedopt.access_analysis import SIMPLIFY_CONST_TENSOR_INDICES
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind, IteratorKind, StageKind
from schedopt.search_policy.sketch_params import TilingStructure

if TYPE_CHECKING:
    from schedopt.search_policy.rule_context import RuleContext


class Condition(enum.Enum):
    """A rule's answer for one stage."""

    SKIP = "skip"
    APPLY = "apply"
    APPLY_AND_SKIP_REST = "apply_and_skip_rest"


Derived = list[tuple[State, int]]
"""States a rule derives, each with the stage generation visits next."""


class SketchRule(Protocol):
    """One sketch generation rule (TVM's `SketchGenerationRule`)."""

    @property
    def name(self) -> str:
        """The rule's name, as TVM's (`SkipStage`, `MultiLevelTiling`...)."""
        ...

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition: ...

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived: ...


# --- analyses on the state's current DAG ----------------------------------------------------


def has_cache_write_stage(state: State, stage_id: int) -> bool:
    """Whether the stage is the accumulator a cache_write made (`C.local`, right before its copy-out `C`)."""
    if stage_id + 1 >= len(state.stages):
        return False
    following = state.stages[stage_id + 1]
    return state.stages[stage_id].name.startswith(following.name + ".") and state.consumers.get(
        state.stages[stage_id].name
    ) == (following.name,)


def needs_multi_level_tiling(policy: RuleContext, state: State, stage_id: int) -> bool:
    stage = state.stages[stage_id]
    return (
        stage.kind == StageKind.COMPUTE
        and policy.current_dag(state).access(stage.name).needs_multi_level_tiling
    )


def single_elementwise_consumer(policy: RuleContext, state: State, stage_id: int) -> int | None:
    """The one stage that reads this one (through inlined stages) element by element, if there is one.

    Not a consumer that reduces when the stage reduces too, nor a shared-memory
    copy (`.shared`, made by the GPU's AddCacheRead), as in TVM.
    """
    stage = state.stages[stage_id]
    consumers = state.reading_stages(stage.name)
    if len(consumers) != 1:
        return None
    (consumer,) = consumers
    if consumer.endswith(".shared"):
        return None
    target_id = state.stage_id(consumer)
    if stage.has_reduction and state.stages[target_id].has_reduction:
        return None
    if not policy.current_dag(state).elementwise_match(stage.name, consumer):
        return None
    return target_id


def has_original_loops(policy: RuleContext, state: State, stage_id: int) -> bool:
    """Whether the stage still has one loop per iterator of its op (not tiled, fused or split yet).

    Only such a consumer can follow a producer's tiling. TVM checks this
    with an assertion in `FollowTiling`: a tiled stage whose tiled
    elementwise consumer needed multi-level tiling too (`exp(a[i]) * b[j]`
    read by `c[i, j] + e[i] * f[j]`) aborts its sketch generation; here the
    producer is tiled on its own instead.
    """
    compute = policy.current_dag(state).op(state.stages[stage_id].name).compute
    if compute is None:
        return False
    names = [it.name for it in state.stages[stage_id].iters]
    return names == [*compute.spatial_names, *compute.reduce_names]


def should_always_inline(policy: RuleContext, state: State, stage_id: int) -> bool:
    """Non-output elementwise stages that cost nothing to recompute (CPU: strictly inlineable)."""
    stage = state.stages[stage_id]
    if stage.kind != StageKind.COMPUTE or stage.compute_at == ComputeAtKind.INLINED:
        return False
    if stage.name in state.output_names or stage.has_reduction:
        return False
    return policy.current_dag(state).access(stage.name).is_strictly_inlineable


def space_and_reduce_lengths(state: State, stage_id: int) -> tuple[int, int]:
    space = reduce = 1
    for it in state.stages[stage_id].iters:
        extent = it.extent or 1
        if it.kind == IteratorKind.SPATIAL:
            space *= extent
        elif it.kind == IteratorKind.REDUCE:
            reduce *= extent
    return space, reduce


def fuse_reduce_loops(state: State, stage_id: int) -> str:
    """Fuse the stage's reduce loops into one (in `state`); the name of that loop."""
    stage = state.stages[stage_id]
    reduce = [it.name for it in stage.iters if it.kind == IteratorKind.REDUCE]
    return state.fuse(stage.name, reduce).name if len(reduce) > 1 else reduce[0]


def needs_rfactor(policy: RuleContext, state: State, stage_id: int) -> bool:
    """A reduction long against the parallelism its spatial loops offer (TVM's `NeedsRfactor`)."""
    if state.stages[stage_id].kind != StageKind.COMPUTE:
        return False
    space, reduce = space_and_reduce_lengths(state, stage_id)
    cores = policy.hardware_params.num_cores or 0  # set by HardwareParams.__post_init__
    if needs_multi_level_tiling(policy, state, stage_id):
        return space <= reduce and space <= cores * 16
    return reduce > 1 and reduce > cores


# --- tiling -------------------------------------------------------------------------------------


def multi_level_tile(state: State, stage_id: int, structure: str) -> tuple[State, list[int]]:
    """Tile a stage by `structure` ("SSRSRS": spatial and reduce levels, outer to inner).

    Every spatial loop is split into as many levels as the structure has
    `S`, every reduce loop into as many as it has `R`, all lengths open; the
    levels are then reordered as the structure says (matmul's i, j, k become
    i.0 j.0 i.1 j.1 k.0 i.2 j.2 k.1 i.3 j.3). Returns the new state and the
    ids of the spatial split steps, for consumers that follow the tiling.
    """
    state = state.copy()
    n_space, n_reduce = structure.count("S"), structure.count("R")
    space_levels: list[list[str]] = [[] for _ in range(n_space)]
    reduce_levels: list[list[str]] = [[] for _ in range(n_reduce)]
    split_step_ids: list[int] = []
    name = state.stages[stage_id].name
    for it in list(state.stages[stage_id].iters):
        if it.kind == IteratorKind.SPATIAL:
            parts = state.split(name, it.name, [None] * (n_space - 1))
            split_step_ids.append(len(state.transform_steps) - 1)
            levels = space_levels
        elif it.kind == IteratorKind.REDUCE:
            parts = state.split(name, it.name, [None] * (n_reduce - 1))
            levels = reduce_levels
        else:
            continue
        for level, part in zip(levels, parts, strict=True):
            level.append(part.name)
    order: list[str] = []
    space_at = reduce_at = 0
    for kind in structure:
        if kind == "S":
            order += space_levels[space_at]
            space_at += 1
        else:
            order += reduce_levels[reduce_at]
            reduce_at += 1
    state.reorder(name, order)
    return state, split_step_ids


def follow_tiling(state: State, stage_id: int, split_step_ids: Sequence[int], n_split: int) -> State:
    """Tile an elementwise consumer the way its producer's spatial loops were split, `n_split` levels deep.

    The consumer's spatial loops correspond one to one to the producer's;
    each is split by the first lengths of the producer's split step
    (follow_split), and the parts are ordered level by level.
    """
    state = state.copy()
    name = state.stages[stage_id].name
    levels: list[list[str]] = [[] for _ in range(n_split + 1)]
    spatial = [it.name for it in state.stages[stage_id].iters if it.kind == IteratorKind.SPATIAL]
    for it_name, step_id in zip(spatial, split_step_ids, strict=True):
        parts = state.follow_split(name, it_name, step_id, n_split)
        for level, part in zip(levels, parts, strict=True):
            level.append(part.name)
    state.reorder(name, [it for level in levels for it in level])
    return state


# --- the rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkipStage:
    """Leave the stage as it is and visit the previous one."""

    name: str = "SkipStage"

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        return Condition.APPLY

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        return [(state, stage_id - 1)]


@dataclass(frozen=True)
class AlwaysInline:
    """Inline elementwise stages that cost nothing to recompute."""

    name: str = "AlwaysInline"

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        if should_always_inline(policy, state, stage_id):
            return Condition.APPLY_AND_SKIP_REST
        return Condition.SKIP

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        state = state.copy()
        state.compute_inline(stage_id)
        return [(state, stage_id - 1)]


def const_tensor_indices(policy: RuleContext, state: State, stage_id: int) -> set[str]:
    stage = state.stages[stage_id]
    if stage.kind != StageKind.COMPUTE:
        return set()
    compute = policy.current_dag(state).op(stage.name).compute
    names = compute.attributes.get(SIMPLIFY_CONST_TENSOR_INDICES) if compute is not None else None
    return {name.data for name in names.data} if isa(names, ArrayAttr[StringAttr]) else set()


@dataclass(frozen=True)
class SimplifyComputeWithConstTensor:
    """Unroll the loops that index constant tensors, tile the other spatial loops in two levels.

    For stages that name such loops in `auto_scheduler_simplify_const_tensor_indices`:
    with the loops unrolled innermost, the constant reads fold to numbers.
    """

    name: str = "SimplifyComputeWithConstTensor"

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        if const_tensor_indices(policy, state, stage_id):
            return Condition.APPLY_AND_SKIP_REST
        return Condition.SKIP

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        unrolled_names = const_tensor_indices(policy, state, stage_id)
        state = state.copy()
        name = state.stages[stage_id].name
        outer: list[str] = []
        inner: list[str] = []
        unrolled: list[str] = []
        for it in list(state.stages[stage_id].iters):
            if it.name in unrolled_names:
                unrolled.append(state.unroll(name, it.name).name)
            elif it.kind == IteratorKind.SPATIAL:
                tile_outer, tile_inner = state.split(name, it.name, [None])
                outer.append(tile_outer.name)
                inner.append(tile_inner.name)
            else:
                inner.append(it.name)
        state.reorder(name, outer + inner + unrolled)
        return [(state, stage_id - 1)]


@dataclass(frozen=True)
class AddRfactor:
    """Factor a long reduction into a stage with more parallelism (two sketches: outer or inner part)."""

    name: str = "AddRfactor"

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        if needs_rfactor(policy, state, stage_id) and not has_cache_write_stage(state, stage_id):
            return Condition.APPLY
        return Condition.SKIP

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        base = state.copy()
        name = base.stages[stage_id].name
        n_space = sum(it.kind == IteratorKind.SPATIAL for it in base.stages[stage_id].iters)
        outer, inner = base.split(name, fuse_reduce_loops(base, stage_id), [None])
        derived: Derived = []
        for part in (outer, inner):
            factored = base.copy()
            rf = factored.rfactor(name, part.name, n_space)
            if part is inner:  # the factored loop innermost, where it can be vectorised
                loops = [it.name for it in rf.iters]
                factored.reorder(rf.name, loops[:n_space] + loops[n_space + 1 :] + [loops[n_space]])
            derived.append((factored, factored.stage_id(rf.name) - 1))
        return derived


@dataclass(frozen=True)
class AddCacheWrite:
    """Accumulate a tiled stage in a local buffer when no elementwise consumer can take its tiles."""

    name: str = "AddCacheWrite"
    answer: Condition = Condition.APPLY
    """What the rule answers where it applies: APPLY on the CPU, APPLY_AND_SKIP_REST on GPUs (TVM's)."""

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        if (
            needs_multi_level_tiling(policy, state, stage_id)
            and not has_cache_write_stage(state, stage_id)
            and single_elementwise_consumer(policy, state, stage_id) is None
        ):
            return self.answer
        return Condition.SKIP

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        state = state.copy()
        cache = state.cache_write(stage_id, "local")
        return [(state, state.stage_id(cache.name))]


@dataclass(frozen=True)
class MultiLevelTilingWithFusion:
    """Tile a stage by `structure` and compute it inside the tiles of its elementwise consumer at `levels`.

    On a CPU ("SSRSRS", levels 1 and 2) the sketches without fusion are
    kept beside these unless the stage has a cache-write stage; on a GPU
    (`always_skip_rest`: "SSSRRSRS", level 3, the thread tile) the fused
    sketch is the only one.
    """

    name: str = "MultiLevelTilingWithFusion"
    structure: TilingStructure = "cpu_multi_level_tiling_structure"
    levels: tuple[int, ...] = (1, 2)
    always_skip_rest: bool = False

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        if not needs_multi_level_tiling(policy, state, stage_id):
            return Condition.SKIP
        target_id = single_elementwise_consumer(policy, state, stage_id)
        if target_id is None or not has_original_loops(policy, state, target_id):
            return Condition.SKIP
        if self.always_skip_rest or has_cache_write_stage(state, stage_id):
            return Condition.APPLY_AND_SKIP_REST
        return Condition.APPLY

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        return tile_with_fusion(policy, state, stage_id, policy.params[self.structure], self.levels)


def tile_with_fusion(
    policy: RuleContext, state: State, stage_id: int, structure: str, levels: Sequence[int]
) -> Derived:
    """Tile a stage by `structure` and compute it at each of `levels` of its tiled elementwise consumer.

    One sketch per level whose tile is spatial: the consumer follows the
    stage's spatial splits `level` deep, and the stage goes inside its
    `level`-th tile.
    """
    target_id = single_elementwise_consumer(policy, state, stage_id)
    assert target_id is not None
    base, split_step_ids = multi_level_tile(state, stage_id, structure)
    n_space = len(split_step_ids)
    derived: Derived = []
    for level in levels:
        if structure[level - 1] != "S":
            continue
        fused = follow_tiling(base, target_id, split_step_ids, level)
        target = fused.stages[target_id]
        fused.compute_at(stage_id, target.name, target.iters[level * n_space - 1].name)
        derived.append((fused, stage_id - 1))
    return derived


@dataclass(frozen=True)
class MultiLevelTiling:
    """Tile a stage that reuses its inputs (matmul, conv) by `structure` ("SSRSRS" on a CPU)."""

    name: str = "MultiLevelTiling"
    structure: TilingStructure = "cpu_multi_level_tiling_structure"

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        if needs_multi_level_tiling(policy, state, stage_id):
            return Condition.APPLY_AND_SKIP_REST
        return Condition.SKIP

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        tiled, _ = multi_level_tile(state, stage_id, policy.params[self.structure])
        return [(tiled, stage_id - 1)]


@dataclass(frozen=True)
class CustomSketchRule:
    """A user's rule (`PreloadCustomSketchRule`): two functions of (policy, state, stage_id).

    `meet_condition` returns a `Condition` (or TVM's ints 0 pass, 1 apply,
    2 apply and skip the rest); `apply` returns [(state, next stage id)].
    """

    meet_condition: Callable[[RuleContext, State, int], Condition | int]
    apply_func: Callable[[RuleContext, State, int], Derived]
    name: str = "CustomSketchRule"

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        answer = self.meet_condition(policy, state, stage_id)
        if isinstance(answer, Condition):
            return answer
        return [Condition.SKIP, Condition.APPLY, Condition.APPLY_AND_SKIP_REST][int(answer)]

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        return [(s.copy(), i) for s, i in self.apply_func(policy, state.copy(), stage_id)]


CPU_RULES: tuple[SketchRule, ...] = (
    AlwaysInline(),
    SimplifyComputeWithConstTensor(),
    AddRfactor(),
    AddCacheWrite(),
    MultiLevelTilingWithFusion(),
    MultiLevelTiling(),
    SkipStage(),
)
"""TVM's CPU rule order (a custom rule goes first)."""


def generate_sketches(
    policy: RuleContext, init: State, rules: Sequence[SketchRule], visit_placeholders: bool = False
) -> list[State]:
    """All sketches the rules derive from `init`, visiting stages from the last to the first.

    `visit_placeholders`: ask the rules about placeholders too (the GPU's
    AddCacheRead stages an input in shared memory); else they are passed by.
    """
    frontier: Derived = [(init, len(init.stages) - 1)]
    sketches: list[State] = []
    while frontier:
        following: Derived = []
        for state, stage_id in frontier:
            if stage_id < 0:
                sketches.append(state)
                continue
            stage = state.stages[stage_id]
            passed_by = stage.kind == StageKind.PLACEHOLDER and not visit_placeholders
            if passed_by or stage.compute_at == ComputeAtKind.INLINED:
                following.append((state, stage_id - 1))
                continue
            for rule in rules:
                condition = rule.condition(policy, state, stage_id)
                if condition == Condition.SKIP:
                    continue
                following += rule.apply(policy, state, stage_id)
                if condition == Condition.APPLY_AND_SKIP_REST:
                    break
        frontier = following
    return sketches
