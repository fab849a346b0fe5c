"""Ansor's initial-population rules: from a sketch to a complete, random program.

Each rule takes a state and a random generator and returns the state with
its part of the schedule filled in, or None when the result is invalid.
Applied in order to a randomly chosen sketch (ansor-facts.md, "Initial
population and evolution"): FillTileSize, ChangeComputeLocation, Parallel,
Unroll, Vectorization.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from schedopt.dialects.sched import LoopAnnotation
from schedopt.errors import ScheduleError
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind, IteratorKind, StageKind
from schedopt.schedule.transform_steps import SplitStep, Step
from schedopt.search_policy.register_tile import RegisterFile, dtype_bytes, sample_register_tile
from schedopt.search_policy.sketch_rules import needs_multi_level_tiling
from schedopt.search_policy.split_factors import factorizations

if TYPE_CHECKING:
    from schedopt.search_policy.rule_context import RuleContext

CPU_AUTO_UNROLL_CONFIGS = (0, 16, 64, 512)
"""The `auto_unroll_max_step` values the CPU search chooses from."""
GPU_AUTO_UNROLL_CONFIGS = (0, 16, 64, 512, 1024)
"""The `auto_unroll_max_step` values the GPU search chooses from."""


def is_tiled(policy: RuleContext, state: State, stage_id: int) -> bool:
    """Whether the stage has more or fewer loops than its op has iterators (TVM's `IsTiled`)."""
    stage = state.stages[stage_id]
    compute = policy.current_dag(state).op(stage.name).compute
    assert compute is not None
    return len(stage.iters) != len(compute.spatial_args) + len(compute.reduce_args)


def attached_iters(state: State, stage_name: str) -> set[str]:
    """The loops of a stage that other stages are computed at."""
    return {s.attach[1] for s in state.stages if s.attach is not None and s.attach[0] == stage_name}


def fill_tile_size(policy: RuleContext, state: State, rng: random.Random) -> State | None:
    """Give every open split a random perfect factorisation of its extent.

    With probability `sample_init_register_tile_ratio` the multi-level-tiled
    stages get a register tile that fits the host's vector registers
    (register_tile.py) and only their outer levels are uniform.
    """
    max_innermost = policy.params["max_innermost_split_factor"]
    steps = list(state.transform_steps)
    register_tile_ratio = policy.params["sample_init_register_tile_ratio"]
    if register_tile_ratio > 0 and rng.random() < register_tile_ratio:
        for stage in policy.tiled_stages(state):
            dtype = policy.current_dag(state).op(stage.stage_name).dtype
            registers = RegisterFile.of(policy.hardware_params, dtype_bytes(dtype))
            sample_register_tile(steps, stage, registers, max_innermost, rng)
    if not fill_open_splits(steps, max_innermost, rng):
        return None
    return policy.replay(steps) if steps != list(state.transform_steps) else state


def fill_open_splits(steps: list[Step], max_innermost: int, rng: random.Random) -> bool:
    """Give every split of `steps` still open a uniform random perfect factorisation of its extent, in place.

    False (some steps filled) when an open split's extent is unknown.
    """
    for index, step in enumerate(steps):
        if not isinstance(step, SplitStep) or all(length is not None for length in step.lengths):
            continue
        if step.extent is None:
            return False
        steps[index] = replace(
            step, lengths=rng.choice(factorizations(step.extent, len(step.lengths), max_innermost))
        )
    return True


def compute_location_candidates(policy: RuleContext, state: State, stage_id: int) -> list[tuple[str, str]]:
    """Loops of the single consumer (and of the stage it is computed at) where the stage may go."""
    stage = state.stages[stage_id]
    consumers = state.reading_stages(stage.name)
    if len(consumers) != 1:
        return []
    (target_name,) = consumers
    target_id = state.stage_id(target_name)
    target = state.stages[target_id]
    target_attached = target.compute_at == ComputeAtKind.ITER
    target_tiled = is_tiled(policy, state, target_id)
    attached = attached_iters(state, target_name)
    candidates: list[tuple[str, str]] = []
    visited_reduce = False
    for it in target.iters:
        if it.kind == IteratorKind.REDUCE:
            visited_reduce = True
            if not target_tiled:
                break
        elif it.kind == IteratorKind.SPATIAL and visited_reduce:
            break
        if it.annotation == LoopAnnotation.UNROLL:
            break
        if it.extent == 1:
            continue
        if target_attached and it.kind == IteratorKind.SPATIAL and it.name.endswith(".0"):
            continue
        candidates.append((target_name, it.name))
        if it.name in attached:
            break
    if target_attached and target.attach is not None:
        outer_name = target.attach[0]
        outer_attached = attached_iters(state, outer_name)
        for it in state[outer_name].iters:
            if (
                it.kind == IteratorKind.REDUCE
                or it.name in outer_attached
                or it.annotation == LoopAnnotation.UNROLL
            ):
                break
            if it.extent != 1:
                candidates.append((outer_name, it.name))
    return candidates


def change_compute_location(policy: RuleContext, state: State, rng: random.Random) -> State | None:
    """Put each stage that is neither tiled nor inlined at a random legal place: inlined, root, or a loop."""
    if policy.params["disable_change_compute_location"]:
        return state
    state = state.copy()
    for stage_id in reversed(range(len(state.stages))):
        stage = state.stages[stage_id]
        if stage.kind == StageKind.PLACEHOLDER or stage.compute_at == ComputeAtKind.INLINED:
            continue
        if is_tiled(policy, state, stage_id) or needs_multi_level_tiling(policy, state, stage_id):
            continue
        candidates = compute_location_candidates(policy, state, stage_id)
        choice = rng.randrange(len(candidates) + 2)
        try:
            if choice == 0:
                if not stage.has_reduction and stage.name not in state.output_names:
                    state.compute_inline(stage_id)
            elif choice == 1:
                if stage.compute_at != ComputeAtKind.ROOT:
                    state.compute_root(stage_id)
            else:
                target, loop = candidates[choice - 2]
                state.compute_at(stage_id, target, loop)
        except ScheduleError:
            return None
    return policy.infer_bound(state)


def _annotate_parallel(policy: RuleContext, state: State, stage_name: str, offset: int) -> None:
    """Fuse the outer spatial loops from `offset` until there is enough parallelism, and parallelise them."""
    stage = state[stage_name]
    attached = attached_iters(state, stage_name)
    enough = (policy.hardware_params.num_cores or 1) * 16  # a CPU's HardwareParams always has its cores
    to_fuse: list[str] = []
    degree = 1
    position = offset
    while position < len(stage.iters):
        it = stage.iters[position]
        if it.kind == IteratorKind.REDUCE or it.annotation != LoopAnnotation.NONE:
            break
        to_fuse.append(it.name)
        degree *= it.extent or 1
        if degree > enough or it.name in attached:
            break
        position += 1
    if degree == 1 and position < len(stage.iters) and stage.iters[position].name in attached:
        loop = stage.iters[position].name
        for inner in [s.name for s in state.stages if s.attach == (stage_name, loop)]:
            _annotate_parallel(policy, state, inner, 0)
        _annotate_parallel(policy, state, stage_name, position + 1)
    if len(to_fuse) == 1:
        state.parallel(stage_name, to_fuse[0])
    elif to_fuse:
        state.parallel(stage_name, state.fuse(stage_name, to_fuse))


def parallel(policy: RuleContext, state: State, rng: random.Random) -> State | None:
    """Parallelise the fused outer spatial loops of every root stage."""
    state = state.copy()
    try:
        for stage in list(state.stages):
            if stage.kind == StageKind.COMPUTE and stage.compute_at == ComputeAtKind.ROOT:
                _annotate_parallel(policy, state, stage.name, 0)
    except ScheduleError:
        return None
    return state


def unroll(policy: RuleContext, state: State, rng: random.Random) -> State | None:
    """A random `auto_unroll_max_step` pragma on the outermost loop of every stage that reduces."""
    return add_unroll_pragmas(state, rng, CPU_AUTO_UNROLL_CONFIGS)


def add_unroll_pragmas(state: State, rng: random.Random, configs: Sequence[int]) -> State:
    """`state` with an `auto_unroll_max_step` pragma, drawn from `configs`, on each reducing stage."""
    state = state.copy()
    for stage in list(state.stages):
        if stage.kind != StageKind.COMPUTE or stage.compute_at == ComputeAtKind.INLINED:
            continue
        if any(it.kind == IteratorKind.REDUCE for it in stage.iters):
            step = rng.choice(configs)
            state.pragma(stage.name, 0, f"auto_unroll_max_step${step}")
    return state


def vectorize(policy: RuleContext, state: State, rng: random.Random) -> State | None:
    """Fuse a random number of innermost spatial loops (at most `max_vectorize_size` long) and vectorise."""
    state = state.copy()
    max_size = policy.params["max_vectorize_size"]
    for stage_id, stage in enumerate(list(state.stages)):
        if stage.kind != StageKind.COMPUTE or stage.compute_at == ComputeAtKind.INLINED:
            continue
        tiled = is_tiled(policy, state, stage_id)
        attached = attached_iters(state, stage.name)
        fusible: list[str] = []
        length = 1
        for it in reversed(stage.iters):
            if it.name in attached or it.kind == IteratorKind.REDUCE or it.annotation != LoopAnnotation.NONE:
                break
            if tiled and fusible:
                break
            if it.extent is None or length * it.extent > max_size:
                break
            length *= it.extent
            fusible.insert(0, it.name)
        if not fusible:
            continue
        count = 1 + rng.randrange(len(fusible) - 1) if len(fusible) > 1 else 1
        chosen = fusible[len(fusible) - count :]
        loop = state.fuse(stage.name, chosen).name if count > 1 else chosen[0]
        state.vectorize(stage.name, loop)
    return state


CPU_INIT_RULES = (fill_tile_size, change_compute_location, parallel, unroll, vectorize)
"""TVM's CPU initial-population rules, in the order they apply."""
