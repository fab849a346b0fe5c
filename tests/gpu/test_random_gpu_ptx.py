"""Random GPU schedules from Ansor's GPU search space: each lowers to PTX that ptxas accepts.

The schedules come from `random_gpu_schedules` (random CUDA sketches
completed by the GPU initial-population rules): shared-memory fetches,
vthreads, cross-thread reductions, fused and inlined stages.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from schedopt.build import build
from schedopt.compute_dag import ComputeDAG
from schedopt.ptx import check_with_ptxas, ptxas_path
from schedopt.workload_registry import make_workload_key

sys.path.insert(0, str(Path(__file__).parent.parent / "compiler"))
from random_gpu_schedules import GPU_WORKLOADS, random_gpu_states

SCHEDULES_PER_WORKLOAD = 2


@pytest.mark.skipif(ptxas_path() is None, reason="ptxas (CUDA toolkit) is not on PATH")
@pytest.mark.parametrize(("name", "args"), GPU_WORKLOADS, ids=[f"{n}{a}" for n, a in GPU_WORKLOADS])
def test_random_gpu_schedules_assemble(name: str, args: tuple):
    dag = ComputeDAG(make_workload_key(name, args))
    states = random_gpu_states(name, args, SCHEDULES_PER_WORKLOAD, seed=3)
    assert states
    for state in states:
        kernel = build(dag, state, target="cuda")
        check_with_ptxas(kernel.ptx)
