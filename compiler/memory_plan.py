"""Memory planning: the intermediate tensors of a network share buffers when their lifetimes do not overlap.

A compiled network runs its kernels in a fixed order, so when each
intermediate is written and last read is known ahead of time. Allocating
one buffer per intermediate would hold every activation of the network at
once; instead a value takes a buffer whose last value is dead, as TVM's
graph memory planner does: the smallest free one that fits, else the
largest free one, grown (cheaper than a new buffer of the full size), else a
new buffer. Buffers are allocated once, aligned for vector loads, and reused
by every run.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from schedopt.aligned_arrays import aligned_bytes


@dataclass(frozen=True)
class Lifetime:
    """A value of `nbytes`, written by step `start` and last read by step `end` (`end >= start`)."""

    nbytes: int
    start: int
    end: int


@dataclass(frozen=True)
class MemoryPlan:
    """The buffer of each value (in the order planned) and each buffer's size in bytes."""

    buffer_of: tuple[int, ...]
    buffer_bytes: tuple[int, ...]

    @property
    def total_bytes(self) -> int:
        return sum(self.buffer_bytes)

    def allocate(self) -> list[np.ndarray]:
        """The buffers, as byte arrays starting on a cache line (`aligned_arrays.aligned_bytes`)."""
        return [aligned_bytes(size) for size in self.buffer_bytes]


def plan_memory(lifetimes: Sequence[Lifetime]) -> MemoryPlan:
    """Buffers for `lifetimes` such that values alive at the same step never share one.

    A value is alive from its `start` to its `end` step, both included: the
    results of a step never share a buffer with its inputs.
    """
    buffer_of = [0] * len(lifetimes)
    sizes: list[int] = []
    busy: list[tuple[int, int]] = []  # (end step, buffer), a heap
    free: list[int] = []
    for index in sorted(range(len(lifetimes)), key=lambda i: lifetimes[i].start):
        value = lifetimes[index]
        while busy and busy[0][0] < value.start:
            free.append(heapq.heappop(busy)[1])
        buffer = _choose(free, sizes, value.nbytes)
        if buffer is None:
            buffer = len(sizes)
            sizes.append(value.nbytes)
        else:
            free.remove(buffer)
            sizes[buffer] = max(sizes[buffer], value.nbytes)
        buffer_of[index] = buffer
        heapq.heappush(busy, (value.end, buffer))
    return MemoryPlan(tuple(buffer_of), tuple(sizes))


def _choose(free: list[int], sizes: list[int], nbytes: int) -> int | None:
    """The smallest free buffer of at least `nbytes`, else the largest free one, else None."""
    if not free:
        return None
    fitting = [b for b in free if sizes[b] >= nbytes]
    if fitting:
        return min(fitting, key=lambda b: sizes[b])
    return max(free, key=lambda b: sizes[b])


def view(buffer: np.ndarray, shape: Sequence[int], dtype: np.dtype) -> np.ndarray:
    """The first bytes of `buffer` as a C-contiguous array of `shape` and `dtype`."""
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    return buffer[:nbytes].view(dtype).reshape(tuple(shape))
