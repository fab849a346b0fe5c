"""Ansor's initial-population rules for GPUs: from a GPU sketch to a complete, bound program.

Applied in order to a random GPU sketch: FillTileSize, then ThreadBind,
then Unroll with the GPU's `auto_unroll_max_step` choices.

FillTileSize is the CPU's, except that a tiled stage's spatial tiles are
redrawn until their vthread level fits `max_vthread_extent` and their
thread level holds a warp to `max_threads_per_block` threads. Ansor draws
them uniformly and lets ThreadBind and the builder reject the misfits;
on a 1024-cube GEMM that wasted nine draws in ten. Shared memory, which
needs bound inference, is still checked on the finished program.

ThreadBind maps the loops to the CUDA grid, as TVM's `InitThreadBind`:

- a tiled stage's first spatial tile level, fused, to blockIdx.x, its second
  to vthread (at most `max_vthread_extent`), its third to threadIdx.x (at
  least a warp);
- a shared-memory stage is fetched cooperatively: its loops fused, split
  into as many parts as the consumer's tile has threads (threadIdx.x) and an
  inner part of length 1 (vectorised; mutation widens it);
- a cross-thread reduction's outer spatial loops, fused, to blockIdx.x;
- any other root stage's outer spatial loops, fused, to threadIdx.x if a
  warp covers them, else split by the warp size into blockIdx.x and
  threadIdx.x.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import TYPE_CHECKING

from schedopt.dialects.sched import LoopAnnotation
from schedopt.errors import ScheduleError
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind, IteratorKind, StageKind
from schedopt.schedule.transform_steps import SplitStep
from schedopt.search_policy.gpu_sketch_rules import has_cross_thread_reduction, spatial_split_step_ids
from schedopt.search_policy.init_population import (
    GPU_AUTO_UNROLL_CONFIGS,
    add_unroll_pragmas,
    attached_iters,
    fill_open_splits,
)
from schedopt.search_policy.sketch_rules import needs_multi_level_tiling
from schedopt.search_policy.split_factors import factorizations

if TYPE_CHECKING:
    from schedopt.search_policy.rule_context import RuleContext

BLOCK_X = LoopAnnotation.BLOCK_X.value
THREAD_X = LoopAnnotation.THREAD_X.value
VTHREAD = LoopAnnotation.VTHREAD.value

MAX_TILE_DRAWS = 64
"""Draws of a tiled stage's spatial tiles before its program is given up (each draw is cheap: no replay)."""


def fill_gpu_tile_size(policy: RuleContext, state: State, rng: random.Random) -> State | None:
    """FillTileSize with every tiled stage's vthread and thread levels within the block's limits."""
    hardware = policy.hardware_params
    # HardwareParams.__post_init__ sets every limit; `or 0` (a no-op on an int) only narrows the type.
    warp, max_threads = hardware.warp_size or 0, hardware.max_threads_per_block or 0
    max_vthreads = hardware.max_vthread_extent or 0
    max_innermost = policy.params["max_innermost_split_factor"]
    steps = list(state.transform_steps)
    for stage in policy.tiled_stages(state):
        splits = [split for index in stage.split_indices if isinstance(split := steps[index], SplitStep)]
        extents = [split.extent for split in splits if split.extent is not None]
        if len(extents) != len(splits) or math.prod(extents) < warp:
            continue  # ThreadBind binds such a stage whole, or rejects it
        choices = [
            factorizations(extent, len(split.lengths), max_innermost)
            for split, extent in zip(splits, extents, strict=True)
        ]
        for _ in range(MAX_TILE_DRAWS):
            tiles = [rng.choice(options) for options in choices]
            vthreads = math.prod(tile[0] for tile in tiles)
            threads = math.prod(tile[1] for tile in tiles)
            if vthreads <= max_vthreads and warp <= threads <= max_threads:
                break
        else:
            return None
        for index, split, tile in zip(stage.split_indices, splits, tiles, strict=True):
            steps[index] = replace(split, lengths=tile)
    if not fill_open_splits(steps, max_innermost, rng):
        return None
    return policy.replay(steps) if steps != list(state.transform_steps) else state


def fuse_outer_space_iters(state: State, stage_name: str) -> str | None:
    """Fuse the outer spatial loops of a stage, up to a reduce or annotated loop or an attach point.

    Returns the fused loop's name (the loop itself when there is one; None when there is none).
    """
    stage = state[stage_name]
    attached = attached_iters(state, stage_name)
    to_fuse: list[str] = []
    for it in stage.iters:
        if it.kind == IteratorKind.REDUCE or it.annotation != LoopAnnotation.NONE:
            break
        to_fuse.append(it.name)
        if it.name in attached:
            break
    if len(to_fuse) <= 1:
        return to_fuse[0] if to_fuse else None
    return state.fuse(stage_name, to_fuse).name


def _fuse_tile_level(state: State, stage_name: str, start: int, n_axes: int, suffix: str) -> str | None:
    """Fuse the loops of one tile level (names ending in `suffix`) that begin at position `start`."""
    level: list[str] = []
    for it in state[stage_name].iters[start : start + n_axes]:
        if not it.name.endswith(suffix):
            break
        level.append(it.name)
    if not level:
        return None
    return state.fuse(stage_name, level).name if len(level) > 1 else level[0]


def _bind_tiled_stage(policy: RuleContext, state: State, stage_name: str) -> bool:
    """Bind the three outer spatial tile levels of a tiled root stage; False if the tile breaks a limit."""
    hardware = policy.hardware_params
    # HardwareParams.__post_init__ sets every limit; `or 0` (a no-op on an int) only narrows the type.
    warp_size, max_vthread_extent = hardware.warp_size or 0, hardware.max_vthread_extent or 0
    compute = policy.current_dag(state).op(stage_name).compute
    assert compute is not None
    total = 1
    for extent in (*compute.spatial_extents, *compute.reduce_extent_values):
        total *= extent
    if total <= warp_size:
        fused = fuse_outer_space_iters(state, stage_name)
        if fused is not None:
            state.bind(stage_name, fused, THREAD_X)
        return True
    n_axes = len(compute.spatial_extents)
    levels = [_fuse_tile_level(state, stage_name, position, n_axes, f".{position}") for position in range(3)]
    block, vthread, thread = levels
    if block is None or vthread is None or thread is None:
        return False
    state.bind(stage_name, block, BLOCK_X)
    if (state[stage_name].iter(vthread).extent or 1) > max_vthread_extent:
        return False
    state.bind(stage_name, vthread, VTHREAD)
    if (state[stage_name].iter(thread).extent or 0) < warp_size:
        return False
    state.bind(stage_name, thread, THREAD_X)
    return True


def _fetch_cooperatively(policy: RuleContext, state: State, stage_name: str) -> None:
    """Spread a shared-memory copy over the threads of the tile that reads it."""
    attach = state[stage_name].attach
    assert attach is not None
    splits = spatial_split_step_ids(policy, state, state.stage_id(attach[0]))
    fused = state.fuse(stage_name, [it.name for it in state[stage_name].iters])
    outer, inner = state.split(stage_name, fused.name, [1])
    state.vectorize(stage_name, inner.name)
    _, threads = state.follow_fused_split(stage_name, outer.name, splits, 1, True)
    state.bind(stage_name, threads.name, THREAD_X)


def _bind_plain_root_stage(policy: RuleContext, state: State, stage_name: str) -> None:
    fused = fuse_outer_space_iters(state, stage_name)
    if fused is None:
        return
    warp = policy.hardware_params.warp_size or 0  # set by HardwareParams.__post_init__
    if (state[stage_name].iter(fused).extent or 0) <= warp:
        state.bind(stage_name, fused, THREAD_X)
        return
    blocks, threads = state.split(stage_name, fused, [warp])
    state.bind(stage_name, blocks.name, BLOCK_X)
    state.bind(stage_name, threads.name, THREAD_X)


def _tiling_roots(policy: RuleContext, state: State) -> set[str]:
    """The root stages whose loops hold a multi-level tiled stage (it, or the consumer it is computed in)."""
    roots: set[str] = set()
    for stage_id, stage in enumerate(state.stages):
        if stage.compute_at == ComputeAtKind.INLINED or not needs_multi_level_tiling(policy, state, stage_id):
            continue
        if stage.attach is not None:
            roots.add(stage.attach[0])
        elif not has_cross_thread_reduction(state, stage_id):
            roots.add(stage.name)
    return roots


def thread_bind(policy: RuleContext, state: State, rng: random.Random) -> State | None:
    """Bind every kernel's loops to blocks, virtual threads and threads (see the module docstring)."""
    tiling_roots = _tiling_roots(policy, state)
    bounded = policy.infer_bound(state)
    if bounded is None:
        return None
    state = bounded
    try:
        for stage_id in reversed(range(len(state.stages))):
            stage = state.stages[stage_id]
            if stage.kind == StageKind.PLACEHOLDER or stage.compute_at == ComputeAtKind.INLINED:
                continue
            if has_cross_thread_reduction(state, stage_id):
                fused = (
                    fuse_outer_space_iters(state, stage.name)
                    if stage.compute_at == ComputeAtKind.ROOT
                    else None
                )
                if fused is not None:
                    state.bind(stage.name, fused, BLOCK_X)
                continue
            if any(it.annotation == LoopAnnotation.THREAD_X for it in stage.iters):
                continue
            if stage.compute_at == ComputeAtKind.ROOT and stage.name in tiling_roots:
                if not _bind_tiled_stage(policy, state, stage.name):
                    return None
            elif stage.compute_at == ComputeAtKind.ROOT:
                _bind_plain_root_stage(policy, state, stage.name)
            elif stage.name.endswith(".shared"):
                _fetch_cooperatively(policy, state, stage.name)
    except ScheduleError:
        return None
    return state


def gpu_unroll(policy: RuleContext, state: State, rng: random.Random) -> State | None:
    """A random `auto_unroll_max_step` (GPU choices) on the outermost loop of every stage that reduces."""
    return add_unroll_pragmas(state, rng, GPU_AUTO_UNROLL_CONFIGS)


GPU_INIT_RULES = (fill_gpu_tile_size, thread_bind, gpu_unroll)
"""TVM's CUDA initial-population rules, in the order they apply."""
