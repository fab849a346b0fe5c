"""The default schedule: a reasonable State for any workload that has no tuned record.

`compile_model` runs every operator of a network; the ones nobody tuned (or
whose records are missing) still deserve more than the naive loop nest,
which runs on one core, one element at a time. This is the schedule TVM's
fallback gives them, built from the same structural facts the sketch rules
use:

- elementwise stages that cost nothing to recompute are inlined into their
  readers (the sketch rules' always-inline test);
- each remaining stage vectorises its innermost spatial loop, split to at
  most four vector registers; a reduction moves that loop inside its reduce
  loops only where every read is then contiguous or uniform in it (conv2d
  NHWC, matmul), otherwise the reduce loops stay innermost (softmax, pools);
- its outer spatial loops are fused until there is work for 16 tasks per
  core (Ansor's `InitParallel`), and run in parallel when the stage is big
  enough to repay the threads.

It never fails: a step the state refuses drops that refinement (vectorising,
then parallelising) for that stage and keeps the rest.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import numpy as np

from schedopt.compute_dag import ComputeDAG
from schedopt.errors import ScheduleError
from schedopt.hardware_params import HardwareParams
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind, IteratorKind, StageKind

TASKS_PER_CORE = 16
"""Parallel iterations wanted per core, so uneven tasks even out (Ansor's `InitParallel`)."""

MIN_PARALLEL_WORK = 1 << 14
"""Loop iterations below which a stage runs on one thread: waking a team costs more."""

MAX_VECTOR_LANES = 64
"""The most iterations `vectorize-annotated-loops` turns into one vector loop."""

MIN_VECTOR_LANES = 4
"""A narrower vector loop is left scalar (LLVM's own vectoriser does as well there)."""


def default_schedule(dag: ComputeDAG, hardware_params: HardwareParams | None = None) -> State:
    """The default State of `dag` on the CPU `hardware_params` describes (None: the host)."""
    params = hardware_params if hardware_params is not None else HardwareParams()
    state = dag.get_init_state()
    for stage in list(state.stages):
        if _always_inline(dag, state, stage.name):
            with contextlib.suppress(ScheduleError):  # a refused step leaves the state as it was
                state.compute_inline(stage.name)
    for stage in list(state.stages):
        if stage.kind == StageKind.COMPUTE and stage.compute_at == ComputeAtKind.ROOT:
            state = _schedule_stage(dag, state, stage.name, params)
    return state


def _always_inline(dag: ComputeDAG, state: State, name: str) -> bool:
    """The sketch rules' test: a non-output elementwise stage, strictly inlineable."""
    stage = state[name]
    if stage.kind != StageKind.COMPUTE or name in state.output_names or stage.has_reduction:
        return False
    return dag.access(name).is_strictly_inlineable


def _try(state: State, schedule: Callable[[State], object]) -> State | None:
    """`schedule` applied to a copy of `state`, or None if a step of it is refused."""
    candidate = state.copy()
    try:
        schedule(candidate)
    except ScheduleError:
        return None
    return candidate


def _schedule_stage(dag: ComputeDAG, state: State, name: str, params: HardwareParams) -> State:
    """The stage vectorised and parallel, or as much of that as applies."""
    for vectorise in (True, False):
        done = _try(state, lambda s, v=vectorise: _tile_stage(dag, s, name, params, v))
        if done is not None:
            return done
    return state


def _tile_stage(dag: ComputeDAG, state: State, name: str, params: HardwareParams, vectorise: bool) -> None:
    """Split, reorder, fuse and annotate the loops of one root stage (the original, untouched loops)."""
    iters = state[name].iters
    spatial = [it for it in iters if it.kind == IteratorKind.SPATIAL]
    reduce = [it for it in iters if it.kind == IteratorKind.REDUCE]
    if not spatial:
        return
    inner_extent = spatial[-1].extent or 1
    factor = _vector_factor(dag, name, inner_extent, params) if vectorise else None
    if factor is not None and reduce and not _vectorises_inside_reduction(dag, name, len(spatial) - 1):
        factor = None
    outer = [it.name for it in spatial]
    vector: str | None = None
    if factor is not None:
        if factor < inner_extent:
            pieces = state.split(name, spatial[-1].name, [factor])
            outer[-1], vector = pieces[0].name, pieces[1].name
        else:
            outer.pop()
            vector = spatial[-1].name
        order = [*outer, *(it.name for it in reduce), vector]
        if [it.name for it in state[name].iters] != order:
            state.reorder(name, order)
        state.vectorize(name, vector)
    _parallelise(state, name, outer, params)


def _parallelise(state: State, name: str, outer: list[str], params: HardwareParams) -> None:
    """Fuse the outermost spatial loops until they give every core enough tasks; run them in parallel."""
    stage = state[name]
    work = math.prod(it.extent or 1 for it in stage.iters)
    cores = params.num_cores or 1
    if not outer or cores == 1 or work < MIN_PARALLEL_WORK:
        return
    extents = {it.name: it.extent or 1 for it in stage.iters}
    wanted = cores * TASKS_PER_CORE
    fused, degree = 0, 1
    while fused < len(outer) and degree < wanted:
        degree *= extents[outer[fused]]
        fused += 1
    if degree <= 1:
        return
    loop = state.fuse(name, outer[:fused]) if fused > 1 else stage.iters[state.iter_id(name, outer[0])]
    state.parallel(name, loop.name)


def _vector_factor(dag: ComputeDAG, name: str, extent: int, params: HardwareParams) -> int | None:
    """The vector loop's length: the largest divisor of `extent` within four vector registers.

    A divisor, since a guarded tail inside the vector loop would make the
    vectoriser unroll it instead.
    """
    item_bytes = np.dtype(dag.op(name).dtype).itemsize
    lanes = max(1, (params.vector_unit_bytes or 16) // item_bytes)
    limit = min(MAX_VECTOR_LANES, 4 * lanes)
    factor = max(d for d in range(1, min(extent, limit) + 1) if extent % d == 0)
    return factor if factor >= MIN_VECTOR_LANES else None


def _vectorises_inside_reduction(dag: ComputeDAG, name: str, position: int) -> bool:
    """Whether every read is contiguous in spatial iterator `position` (its last index) or does not use it.

    Only then does running that iterator inside the reduce loops pay: each
    read becomes a vector load or a broadcast, not a gather.
    """
    reads = dag.access(name).reads
    return all(
        position not in access.used_iters
        or (bool(access.iter_positions) and access.iter_positions[-1] == position)
        for access in reads
    )
