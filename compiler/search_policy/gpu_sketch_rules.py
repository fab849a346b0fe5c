"""Ansor's sketch generation rules for GPUs (TVM's CUDA rule list).

On a GPU every elementwise stage is inlined, a tiled stage has the
"SSSRRSRS" structure (block, vthread, thread, then two reduce levels around
an inner spatial level), accumulates in a local cache (or is computed
inside its elementwise consumer's thread tile), and stages its inputs in
shared memory; a reduction long against its parallelism is split across
the threads of a warp instead. The rules, in TVM's order:

AddCacheRead, SpecialComputeLocationGPU, AlwaysInline (every elementwise
stage), SimplifyComputeWithConstTensor, CrossThreadReduction, AddCacheWrite
(apply-and-skip-rest), MultiLevelTilingWithFusion (thread level only,
apply-and-skip-rest), MultiLevelTiling ("SSSRRSRS"), SkipStage.

The thread binding itself is an initial-population rule (gpu_init_rules.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from schedopt.dialects.sched import LoopAnnotation
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import IteratorKind, StageKind
from schedopt.schedule.transform_steps import CacheReadStep, CacheWriteStep, RfactorStep, SplitStep
from schedopt.search_policy.sketch_params import TilingStructure
from schedopt.search_policy.sketch_rules import (
    AddCacheWrite,
    Condition,
    Derived,
    MultiLevelTiling,
    MultiLevelTilingWithFusion,
    SimplifyComputeWithConstTensor,
    SketchRule,
    SkipStage,
    const_tensor_indices,
    fuse_reduce_loops,
    has_cache_write_stage,
    needs_multi_level_tiling,
    space_and_reduce_lengths,
)

if TYPE_CHECKING:
    from schedopt.compute_dag import ComputeDAG
    from schedopt.search_policy.rule_context import RuleContext


# --- analyses -----------------------------------------------------------------------------------


def inlinable_on_gpu(state: State, stage_id: int) -> bool:
    """Whether the GPU rules inline the stage: every computed stage that is not an output and does not reduce.

    (TVM's `ShouldAlwaysBeInlined` on a GPU.)
    """
    stage = state.stages[stage_id]
    if stage.kind != StageKind.COMPUTE or stage.name in state.output_names or stage.has_reduction:
        return False
    return all(it.kind != IteratorKind.REDUCE for it in stage.iters)


def has_cross_thread_reduction(state: State, stage_id: int) -> bool:
    """Whether the stage, or a stage computed at one of its loops, reduces across threadIdx.x."""
    stage = state.stages[stage_id]
    for candidate in [
        stage,
        *(s for s in state.stages if s.attach is not None and s.attach[0] == stage.name),
    ]:
        if any(
            it.kind == IteratorKind.REDUCE and it.annotation == LoopAnnotation.THREAD_X
            for it in candidate.iters
        ):
            return True
    return False


def single_consumer_id(state: State, stage_id: int) -> int | None:
    """The stage that consumes this one (through inlined stages), as TVM's `GetSingleConsumerId` finds it.

    With several consumers, the stage they all live in (each at root, or
    computed at a loop of it) counts as the one consumer.
    """
    consumers = state.reading_stages(state.stages[stage_id].name)
    if not consumers:
        return None
    roots: set[str] = set()
    for name in consumers:
        stage = state[name]
        roots.add(stage.attach[0] if stage.attach is not None else name)
    if len(roots) != 1:
        return None
    return state.stage_id(roots.pop())


def num_common_outer_iterators(dag: ComputeDAG, producer: str, consumer: str) -> int:
    """How many outer spatial loops `consumer` shares with `producer` along every path between them.

    Along one edge, the leading dimensions of equal size that every read
    indexes by the reader's own iterator of that position; along a path,
    the least over its edges; 0 if `consumer` does not read `producer`
    (TVM's `AccessAnalyzer::GetNumCommonOuterIterator`).
    """
    best: int | None = None
    frontier = [(producer, len(dag.op(producer).shape))]
    while frontier:
        name, common = frontier.pop()
        if name == consumer:
            best = common if best is None else min(best, common)
            continue
        for reader in dag.consumers(name):
            frontier.append((reader, min(common, _common_outer_of_edge(dag, name, reader))))
    return best or 0


def _common_outer_of_edge(dag: ComputeDAG, producer: str, reader: str) -> int:
    accesses = dag.access_analyzer.read_from[reader][producer]
    producer_shape, reader_shape = dag.op(producer).shape, dag.op(reader).shape
    common = 0
    for dim in range(min(len(producer_shape), len(reader_shape))):
        if producer_shape[dim] != reader_shape[dim]:
            break
        if any(dim >= len(a.iter_positions) or a.iter_positions[dim] != dim for a in accesses):
            break
        common += 1
    return common


def stage_id_before(state: State, step_index: int, stage_id: int) -> int | None:
    """The id that stage `stage_id` (of `state`) had before step `step_index` ran; None if that step added it."""
    step = state.transform_steps[step_index]
    if isinstance(step, CacheReadStep):
        added = step.stage_id + 1
    elif isinstance(step, CacheWriteStep | RfactorStep):
        added = step.stage_id
    else:
        return stage_id
    if stage_id == added:
        return None
    return stage_id - 1 if stage_id > added else stage_id


def split_step_ids(state: State, stage_id: int) -> list[int]:
    """The indices of the split steps of a stage in the history, last first (TVM's `GetSplitStepIds`)."""
    found: list[int] = []
    tracked: int | None = stage_id
    for index in reversed(range(len(state.transform_steps))):
        step = state.transform_steps[index]
        if isinstance(step, SplitStep) and step.stage_id == tracked:
            found.append(index)
        tracked = stage_id_before(state, index, tracked)
        if tracked is None:
            break
    return found


def spatial_split_step_ids(policy: RuleContext, state: State, stage_id: int) -> Sequence[int]:
    """The split steps of a tiled stage's spatial loops (its reduce loops' splits come after them)."""
    compute = policy.current_dag(state).op(state.stages[stage_id].name).compute
    n_reduce = len(compute.reduce_names) if compute is not None else 0
    splits = split_step_ids(state, stage_id)  # last first
    return splits[n_reduce:]


def original_name(iterator_name: str) -> str:
    """The op iterator a loop comes from: `k` for `k.0`; the first for a fused `k.0@r.1@`."""
    return iterator_name.split("@")[0].split(".")[0]


def last_reduce_iter_of_outermost_reduce_tile(policy: RuleContext, state: State, stage_id: int) -> str | None:
    """The loop where the outermost tile of every reduce iterator has begun (the shared-memory fetch point).

    With "SSSRRSRS", matmul's `k.0`; conv2d's `rx.0` after `rc.0, ry.0`.
    """
    stage = state.stages[stage_id]
    compute = policy.current_dag(state).op(stage.name).compute
    wanted = len(compute.reduce_names) if compute is not None else 0
    seen: set[str] = set()
    for it in stage.iters:
        if it.kind != IteratorKind.REDUCE:
            continue
        seen.add(original_name(it.name))
        if len(seen) >= wanted:
            return it.name
    return None


# --- the rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddCacheRead:
    """Stage an input of a tiled stage in shared memory, fetched once per outer reduce tile."""

    name: str = "AddCacheRead"

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        consumer_id = self._consumer(state, stage_id)
        if consumer_id is None or not needs_multi_level_tiling(policy, state, consumer_id):
            return Condition.SKIP
        if has_cross_thread_reduction(state, consumer_id):
            return Condition.SKIP
        if state.stages[consumer_id].name not in state.consumers.get(state.stages[stage_id].name, ()):
            return Condition.SKIP  # only a direct producer: an inlined one is fetched with its reader
        if last_reduce_iter_of_outermost_reduce_tile(policy, state, consumer_id) is None:
            return Condition.SKIP
        return Condition.APPLY_AND_SKIP_REST

    @staticmethod
    def _consumer(state: State, stage_id: int) -> int | None:
        consumers = state.reading_stages(state.stages[stage_id].name)
        return state.stage_id(next(iter(consumers))) if len(consumers) == 1 else None

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        consumer_id = self._consumer(state, stage_id)
        assert consumer_id is not None
        consumer = state.stages[consumer_id].name
        fetch_at = last_reduce_iter_of_outermost_reduce_tile(policy, state, consumer_id)
        assert fetch_at is not None
        state = state.copy()
        cache = state.cache_read(stage_id, "shared", [consumer])
        state.compute_at(cache.name, consumer, fetch_at)
        return [(state, stage_id)]


@dataclass(frozen=True)
class SpecialComputeLocationGPU:
    """Compute an inlinable stage read by a constant-tensor stage (Winograd) just outside its unrolled loops.

    (Instead of inlining it, which would recompute it in every unrolled iteration.)
    """

    name: str = "SpecialComputeLocationGPU"

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        stage = state.stages[stage_id]
        if not inlinable_on_gpu(state, stage_id) or not policy.current_dag(state).producers(stage.name):
            return Condition.SKIP
        consumers = state.reading_stages(stage.name)
        if len(consumers) != 1:
            return Condition.SKIP
        consumer_id = state.stage_id(next(iter(consumers)))
        if not const_tensor_indices(policy, state, consumer_id) or self._location(state, consumer_id) is None:
            return Condition.SKIP
        return Condition.APPLY_AND_SKIP_REST

    @staticmethod
    def _location(state: State, consumer_id: int) -> str | None:
        iters = state.stages[consumer_id].iters
        for position, it in enumerate(iters):
            if it.annotation == LoopAnnotation.UNROLL:
                return iters[position - 1].name if position > 0 else None
        return None

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        consumer_id = state.stage_id(next(iter(state.reading_stages(state.stages[stage_id].name))))
        location = self._location(state, consumer_id)
        assert location is not None
        state = state.copy()
        state.compute_at(stage_id, consumer_id, location)
        return [(state, stage_id - 1)]


@dataclass(frozen=True)
class AlwaysInlineGPU:
    """Inline every elementwise stage that is not an output: on a GPU a stage of its own is a kernel."""

    name: str = "AlwaysInline"

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        return Condition.APPLY_AND_SKIP_REST if inlinable_on_gpu(state, stage_id) else Condition.SKIP

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        state = state.copy()
        state.compute_inline(stage_id)
        return [(state, stage_id - 1)]


@dataclass(frozen=True)
class CrossThreadReduction:
    """Split a long reduction by the warp size and reduce its inner part across threadIdx.x.

    For a tiled stage when its spatial part is shorter than its reduction
    (matmul 8x8x1024), for other reductions when they are longer than a
    warp. The reduce loops are fused first; when the stage has one
    consumer that shares outer loops with it and is not tiled (softmax's
    row max and sum, read by the normalisation), the reduction follows the
    consumer's thread split and is computed inside its shared outer loop,
    so both run in one kernel.
    """

    name: str = "CrossThreadReduction"

    def condition(self, policy: RuleContext, state: State, stage_id: int) -> Condition:
        stage = state.stages[stage_id]
        if stage.kind != StageKind.COMPUTE or has_cache_write_stage(state, stage_id):
            return Condition.SKIP
        space, reduce = space_and_reduce_lengths(state, stage_id)
        if needs_multi_level_tiling(policy, state, stage_id):
            return Condition.APPLY if space < reduce else Condition.SKIP
        if reduce > 1 and reduce > (policy.hardware_params.warp_size or 0):  # set in __post_init__
            return Condition.APPLY
        return Condition.SKIP

    def apply(self, policy: RuleContext, state: State, stage_id: int) -> Derived:
        state = state.copy()
        name = state.stages[stage_id].name
        fused = fuse_reduce_loops(state, stage_id)
        target_id = single_consumer_id(state, stage_id)
        common = follow = None
        if target_id is not None and not needs_multi_level_tiling(policy, state, target_id):
            common = num_common_outer_iterators(policy.current_dag(state), name, state.stages[target_id].name)
            follow = self._consumer_split(policy, state, target_id) if common > 0 else None
        if target_id is None or common is None or follow is None:
            _, inner = state.split(name, fused, [policy.hardware_params.warp_size])
            state.bind(name, inner.name, LoopAnnotation.THREAD_X.value)
            return [(state, stage_id - 1)]
        target = state.stages[target_id].name
        _, inner = state.follow_split(name, fused, follow, 1)
        state.bind(name, inner.name, LoopAnnotation.THREAD_X.value)
        state.compute_at(name, target, state[target].iters[common - 1].name)
        return [(state, stage_id - 1)]

    @staticmethod
    def _consumer_split(policy: RuleContext, state: State, target_id: int) -> int | None:
        """The split of the consumer's thread loop (made here if it has none); None if it has several."""
        splits = split_step_ids(state, target_id)
        if len(splits) == 1:
            return splits[0]
        target = state.stages[target_id]
        if splits or any(it.kind == IteratorKind.REDUCE for it in target.iters):
            return None
        _, inner = state.split(target.name, target.iters[-1].name, [policy.hardware_params.warp_size])
        state.bind(target.name, inner.name, LoopAnnotation.THREAD_X.value)
        return len(state.transform_steps) - 2


GPU_TILING: TilingStructure = "gpu_multi_level_tiling_structure"
"""The parameter that holds the GPU's multi-level tiling structure ("SSSRRSRS")."""

GPU_RULES: tuple[SketchRule, ...] = (
    AddCacheRead(),
    SpecialComputeLocationGPU(),
    AlwaysInlineGPU(),
    SimplifyComputeWithConstTensor(),
    CrossThreadReduction(),
    AddCacheWrite(answer=Condition.APPLY_AND_SKIP_REST),
    MultiLevelTilingWithFusion(structure=GPU_TILING, levels=(3,), always_skip_rest=True),
    MultiLevelTiling(structure=GPU_TILING),
    SkipStage(),
)
"""TVM's CUDA rule order (a custom rule goes first)."""
