"""Seeded random GPU schedules: complete programs from Ansor's GPU search space.

Where random_schedules.py applies arbitrary primitives, these are the
programs the GPU search itself proposes: a random CUDA sketch completed by
the GPU initial-population rules (tile sizes, thread binding, unroll),
every one bound-inferred and within the GPU's block limits. The lowering's
property tests build them (PTX through ptxas, and the CPU execution of the
gpu-dialect kernels against numpy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schedopt.hardware_params import HardwareParams
from schedopt.schedule.loop_state import State
from schedopt.search_policy import SketchPolicy
from schedopt.search_task import SearchTask

GPU_WORKLOADS: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("matmul", (64, 64, 64)),
    ("matmul", (8, 8, 256)),
    ("dense_bias_relu", (16, 64, 32)),
    ("conv2d_nchw", (1, 8, 10, 10, 16, 3, 3, 1, 1)),
    ("conv2d_bn_relu", (1, 8, 8, 8, 16, 3, 1, 1)),
    ("softmax", (4, 256)),
    ("layer_norm", (4, 128)),
)
"""Small workloads covering every GPU sketch rule: tiling with a local cache or with fusion, shared
memory fetches, an inlined padding, cross-thread reductions fused into their consumer or not."""


def gpu_policy(
    name: str,
    args: Sequence[Any],
    seed: int = 0,
    hardware_params: HardwareParams | None = None,
    target: str = "cuda",
    **params: Any,
) -> SketchPolicy:
    """The SketchPolicy of a registered workload on a CUDA target (sm_80 defaults unless given)."""
    task = SearchTask(name, tuple(args), target=target, hardware_params=hardware_params)
    return SketchPolicy(task, params=params or None, seed=seed, verbose=0)


def random_gpu_states(
    name: str,
    args: Sequence[Any],
    count: int,
    seed: int = 0,
    hardware_params: HardwareParams | None = None,
) -> list[State]:
    """`count` distinct random GPU programs of a workload (fewer if its space has fewer); the same for a seed."""
    policy = gpu_policy(
        name,
        args,
        seed,
        hardware_params,
        evolutionary_search_population=max(count, 8),
        sample_init_min_population=count,
    )
    return policy.sample_initial_population()[:count]
