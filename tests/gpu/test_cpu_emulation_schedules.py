"""GPU schedules run on the CPU: State -> `lower_gpu` (kernels in the `gpu` dialect) -> `convert-gpu-to-cpu`
-> the CPU pipeline, against numpy. Bound inference, thread binding and shared-memory staging are checked
this way on every run, GPU or not."""

from __future__ import annotations

import numpy as np
import pytest
from gpu_states import elementwise, row_sum, tiled_matmul
from xdsl.dialects import gpu, memref

from schedopt.build import lower_gpu
from schedopt.gpu_emulation import build_gpu_for_cpu


def random_inputs(*shapes: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.standard_normal(shape).astype(np.float32) for shape in shapes]


@pytest.mark.parametrize(
    ("n", "tile", "vthreads", "threads", "k_tile"),
    [(64, 16, 2, 4, 8), (32, 16, 1, 4, 4), (48, 16, 2, 2, 16)],
)
def test_tiled_matmul_with_shared_memory(n, tile, vthreads, threads, k_tile):
    schedule = tiled_matmul(n, tile, vthreads, threads, k_tile)
    module = lower_gpu(schedule.dag, schedule.state)
    ops = list(module.walk())
    assert any(isinstance(op, gpu.BarrierOp) for op in ops)
    assert any(isinstance(op, memref.AllocaOp) and op.memref.type.memory_space for op in ops)
    a, b = random_inputs((n, n), (n, n))
    c = np.full((n, n), np.nan, np.float32)
    build_gpu_for_cpu(schedule.dag, schedule.state)(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)


def test_elementwise_with_a_guarded_last_block():
    schedule = elementwise(30, 33, 128)
    a, b = random_inputs((30, 33), (30, 33))
    out = np.full((30, 33), np.nan, np.float32)
    build_gpu_for_cpu(schedule.dag, schedule.state)(a, b, out)
    np.testing.assert_array_equal(out, a + b)


def test_row_sum_a_thread_per_row():
    schedule = row_sum(64, 96, 32)
    (data,) = random_inputs((64, 96))
    total = np.full(64, np.nan, np.float32)
    build_gpu_for_cpu(schedule.dag, schedule.state)(data, total)
    np.testing.assert_allclose(total, data.sum(axis=1), rtol=1e-4, atol=1e-4)
