"""The GPU's per-block limits, checked on a bound-inferred State (TVM's `VerifyGPUCode` checks).

A kernel is a root stage with every stage computed inside it. A kernel
may use at most `max_threads_per_block` threads (the product of its
threadIdx.x/y/z extents), `max_shared_memory_per_block` bytes of shared
memory (its `.shared` stages' buffers) and `max_local_memory_per_block`
bytes of local memory (its `.local` stages' buffers), and no vthread loop
may be longer than `max_vthread_extent`. The GPU search rejects states that
break a limit, as Ansor prunes them before measurement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from schedopt.dialects.sched import LoopAnnotation
from schedopt.schedule.bound_inference import BoundInference, bound_inference
from schedopt.schedule.stage import ComputeAtKind, StageKind

if TYPE_CHECKING:
    from schedopt.compute_dag import ComputeDAG
    from schedopt.hardware_params import HardwareParams
    from schedopt.schedule.loop_state import State

THREAD_AXES = (LoopAnnotation.THREAD_X, LoopAnnotation.THREAD_Y, LoopAnnotation.THREAD_Z)


@dataclass(frozen=True)
class KernelUsage:
    """What one kernel of a state asks of a GPU block."""

    kernel: str
    """The root stage the kernel computes."""
    threads_per_block: int
    max_vthread_extent: int
    shared_memory_bytes: int
    local_memory_bytes: int


def kernel_stages(state: State, root: str) -> list[str]:
    """The root stage and every stage computed inside it (directly or inside another)."""
    inside = [s.name for s in state.stages if any(outer == root for outer, _ in state.attach_path(s.name))]
    return [root, *inside]


def kernel_usage(
    dag: ComputeDAG, state: State, bounds: BoundInference[ComputeDAG] | None = None
) -> list[KernelUsage]:
    """The usage of every kernel of a bound-inferred `state` (extents known); `bounds`: the
    `bound_inference` of `state` where the caller has it (it sizes the buffers)."""
    usages: list[KernelUsage] = []
    for root in state.stages:
        if root.kind != StageKind.COMPUTE or root.compute_at != ComputeAtKind.ROOT:
            continue
        names = kernel_stages(state, root.name)
        thread_extents = dict.fromkeys(THREAD_AXES, 1)
        vthread = 1
        shared = local = 0
        for name in names:
            for it in state[name].iters:
                extent = it.extent or 1
                if it.annotation in thread_extents:
                    thread_extents[it.annotation] = max(thread_extents[it.annotation], extent)
                elif it.annotation == LoopAnnotation.VTHREAD:
                    vthread = max(vthread, extent)
            scope = name.rsplit(".", 1)[-1] if "." in name else ""
            if scope in ("shared", "local"):
                bounds = bounds or bound_inference(dag, state)
                size = _buffer_bytes(bounds, name)
                shared += size if scope == "shared" else 0
                local += size if scope == "local" else 0
        usages.append(KernelUsage(root.name, math.prod(thread_extents.values()), vthread, shared, local))
    return usages


def _buffer_bytes(bounds: BoundInference[ComputeDAG], name: str) -> int:
    """The bytes of the buffer a stage writes: the region it computes (all of it at root)."""
    op = bounds.dag.op(name)
    region = bounds.bounds(name).root_extents[: len(op.shape)]
    return math.prod(region) * np.dtype(op.dtype).itemsize


def gpu_limit_violation(
    dag: ComputeDAG, state: State, hardware: HardwareParams, bounds: BoundInference[ComputeDAG] | None = None
) -> str | None:
    """What a bound-inferred `state` asks beyond the GPU's limits, in words; None when it fits."""
    for usage in kernel_usage(dag, state, bounds):
        where = f"kernel {usage.kernel}"
        limits = (
            ("threads per block", usage.threads_per_block, hardware.max_threads_per_block),
            ("vthread extent", usage.max_vthread_extent, hardware.max_vthread_extent),
            ("shared memory bytes", usage.shared_memory_bytes, hardware.max_shared_memory_per_block),
            ("local memory bytes", usage.local_memory_bytes, hardware.max_local_memory_per_block),
        )
        for what, used, limit in limits:
            if limit is not None and used > limit:
                return f"{where}: {used} {what} (the limit is {limit})"
    return None
