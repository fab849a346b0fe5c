"""HAND-WRITTEN SCHEDULES, for the kernel benchmark only.

These are not part of the library: the auto-scheduler has to find schedules
like these on its own. They are what an engineer writes by following Ansor's
CPU sketch (multi-level tiling "SSRSRS" with a local accumulator from
cache_write, the output loops fused and parallel, the innermost spatial loop
vectorised, the register tile unrolled), with tile sizes picked by hand for
the host's vector width.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from schedopt.compute_dag import ComputeDAG
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import IteratorKind


@dataclass(frozen=True)
class Tiling:
    """Inner split lengths per iterator, outermost first, as `State.split` takes them.

    `spatial[name] = (l1, l2, l3)` splits a spatial loop into four levels
    (? x l1 x l2 x l3); `reduce[name] = (l1,)` splits a reduce loop in two.
    A spatial iterator left out keeps a single level, placed outermost.
    """

    spatial: dict[str, tuple[int, int, int]]
    reduce: dict[str, tuple[int]]
    auto_unroll_max_step: int = 16
    compute_at_level: int = 2
    """The output's tile level the accumulator is computed at: 1 (the outer tile) or 2."""


def ssrsrs(dag: ComputeDAG, stage: str, tiling: Tiling) -> State:
    """Ansor's CPU multi-level tiling of `stage` with a cache_write accumulator.

    The local stage `stage.local` runs the loops
    `S0 S1 R0 S2 R1 S3` (S: spatial tiles, R: reduce tiles), computed at the
    first or second spatial level of the output stage (`compute_at_level`),
    whose outer level is fused into one parallel loop; the innermost spatial
    loop is vectorised on both stages.
    """
    state = dag.get_init_state()
    local = state.cache_write(stage, "local").name
    levels: list[list[str]] = [[], [], [], []]
    split_steps: dict[str, int] = {}
    for it in list(state[local].iters):
        if it.kind == IteratorKind.SPATIAL and it.name in tiling.spatial:
            split_steps[it.name] = len(state.transform_steps)
            parts = state.split(local, it.name, tiling.spatial[it.name])
            for level, part in zip(levels, parts, strict=True):
                level.append(part.name)
        elif it.kind == IteratorKind.SPATIAL:
            levels[0].append(it.name)
    reduce_levels: list[list[str]] = [[], []]
    for it in list(state[local].iters):
        if it.kind == IteratorKind.REDUCE:
            if it.name in tiling.reduce:
                outer, inner = state.split(local, it.name, tiling.reduce[it.name])
                reduce_levels[0].append(outer.name)
                reduce_levels[1].append(inner.name)
            else:
                reduce_levels[0].append(it.name)
    s0, s1, s2, s3 = levels
    state.reorder(local, [*s0, *s1, *reduce_levels[0], *s2, *reduce_levels[1], *s3])

    outer: list[str] = []
    second: list[str] = []
    rest: list[str] = []
    for it in list(state[stage].iters):
        if it.name in split_steps:
            o, s, r = state.follow_split(stage, it.name, split_steps[it.name], 2)
            outer.append(o.name)
            second.append(s.name)
            rest.append(r.name)
        else:
            outer.append(it.name)
    state.reorder(stage, [*outer, *second, *rest])
    state.compute_at(local, stage, (outer if tiling.compute_at_level == 1 else second)[-1])
    fused = state.fuse(stage, outer)
    state.parallel(stage, fused)
    state.pragma(stage, fused, f"auto_unroll_max_step${tiling.auto_unroll_max_step}")
    state.vectorize(stage, state[stage].iters[-1])
    state.vectorize(local, state[local].iters[-1])
    return state


def host_vector_lanes() -> int:
    """f32 lanes of the host's widest vector unit (8 on AVX2, 16 on AVX-512)."""
    from schedopt.hardware_params import HardwareParams

    return HardwareParams().vector_unit_bytes // 4


def _gemm_tiling(lanes: int) -> Tiling:
    """A register tile of rows x 2 vectors (8 rows with 32 vector registers, 4 with 16), each
    parallel task a 64 x 16-vector block of C accumulated over k in blocks of 256."""
    rows = 8 if lanes >= 16 else 4
    return Tiling(
        spatial={"i": (1, 64 // rows, rows), "j": (1, 8, 2 * lanes)}, reduce={"k": (256,)}, compute_at_level=1
    )


def gemm(dag: ComputeDAG, lanes: int) -> State:
    """C[i, j] = sum_k A[i, k] B[k, j]."""
    return ssrsrs(dag, "C", _gemm_tiling(lanes))


def batch_gemm(dag: ComputeDAG, lanes: int) -> State:
    """C[b, i, j]: the GEMM tiling, batches in the parallel loop."""
    return ssrsrs(dag, "C", _gemm_tiling(lanes))


def conv2d_nhwc(dag: ComputeDAG, lanes: int) -> State:
    """NHWC: vectorise the output channels, a row of output pixels as the register tile."""
    state = ssrsrs(
        dag,
        "Conv2dOutput",
        Tiling(
            spatial={"yy": (1, 1, 1), "xx": (2, 1, 4), "ff": (1, 1, lanes * 2)},
            reduce={"rc": (16,)},
        ),
    )
    state.compute_inline("PaddedInput")
    return state


SCHEDULES: dict[str, Callable[[ComputeDAG, int], State]] = {
    "gemm": gemm,
    "batch_gemm": batch_gemm,
    "conv2d_nhwc": conv2d_nhwc,
}
