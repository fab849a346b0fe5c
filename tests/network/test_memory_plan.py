"""The memory planner: buffers shared by values whose lifetimes do not overlap."""

from __future__ import annotations

import numpy as np

from schedopt.aligned_arrays import ALIGNMENT, aligned_bytes
from schedopt.memory_plan import Lifetime, plan_memory, view


def overlapping(a: Lifetime, b: Lifetime) -> bool:
    return a.start <= b.end and b.start <= a.end


def test_a_chain_needs_two_buffers():
    chain = [Lifetime(100, step, step + 1) for step in range(6)]
    plan = plan_memory(chain)
    assert len(plan.buffer_bytes) == 2
    assert plan.total_bytes == 200


def test_values_alive_together_never_share_and_sizes_fit():
    rng = np.random.default_rng(0)
    lifetimes = []
    for _ in range(60):
        start = int(rng.integers(0, 30))
        lifetimes.append(Lifetime(int(rng.integers(1, 1000)), start, start + int(rng.integers(0, 5))))
    plan = plan_memory(lifetimes)
    for i, a in enumerate(lifetimes):
        assert plan.buffer_bytes[plan.buffer_of[i]] >= a.nbytes
        for j, b in enumerate(lifetimes[:i]):
            if overlapping(a, b):
                assert plan.buffer_of[i] != plan.buffer_of[j]
    assert len(plan.buffer_bytes) < len(lifetimes)


def test_the_best_fitting_free_buffer_is_taken_else_the_largest_grows():
    plan = plan_memory([Lifetime(10, 0, 0), Lifetime(50, 0, 0), Lifetime(8, 1, 1), Lifetime(80, 1, 1)])
    assert plan.buffer_of == (0, 1, 0, 1)
    assert plan.buffer_bytes == (10, 80)


def test_buffers_are_aligned_and_viewed_as_arrays():
    buffer = aligned_bytes(24)
    assert buffer.ctypes.data % ALIGNMENT == 0 and buffer.nbytes == 24
    array = view(buffer, (2, 3), np.dtype("float32"))
    array[...] = 1.0
    assert array.flags.c_contiguous and array.shape == (2, 3)
    assert all(buf.ctypes.data % ALIGNMENT == 0 for buf in plan_memory([Lifetime(5, 0, 0)]).allocate())
