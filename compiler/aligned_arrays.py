"""Arrays whose data starts on a cache line, as generated kernels run fastest on.

numpy allocates through malloc, which aligns to 16 bytes only: on x86-64
Linux a large array starts 16 bytes past a page boundary, so every row of
it straddles one more cache line than it needs to, and AVX-512 loads split
across two lines. Some tilings barely notice; others lose a fifth of their
speed (a batch matmul 8x256x256 whose register tile spans 64 columns: 512
GFLOP/s on 64-byte-aligned buffers, 425 on numpy's). The tuner measures
every candidate on aligned buffers, as TVM's runtime allocates its tensors
(64 bytes), so aligned buffers are also where the tuned program runs at the
speed it was chosen for: compiled models allocate their weights, buffers
and outputs this way, and callers of a kernel from `schedopt.build` can
pass `aligned_empty` / `aligned_array` arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

ALIGNMENT = 64
"""Byte alignment: a cache line, and the widest vector load (AVX-512)."""


def aligned_bytes(nbytes: int) -> NDArray[np.uint8]:
    """A byte array of `nbytes` (at least one) whose data starts at an `ALIGNMENT`-aligned address."""
    raw = np.empty(max(nbytes, 1) + ALIGNMENT, dtype=np.uint8)
    offset = -raw.ctypes.data % ALIGNMENT
    return raw[offset : offset + max(nbytes, 1)]


def aligned_empty(shape: Sequence[int] | int, dtype: DTypeLike = np.float32) -> NDArray[Any]:
    """An uninitialised C-contiguous array of `shape` and `dtype` starting at an aligned address."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    return aligned_bytes(count * dtype.itemsize)[: count * dtype.itemsize].view(dtype).reshape(shape)


def aligned_array(values: ArrayLike, dtype: DTypeLike | None = None) -> NDArray[Any]:
    """`values` (of `dtype`, else their own) as an aligned C-contiguous array: `values` itself when it already is one."""
    array = np.asarray(values, dtype=dtype)
    if is_aligned(array) and array.flags.c_contiguous:
        return array
    copy = aligned_empty(array.shape, array.dtype)
    copy[...] = array
    return copy


def is_aligned(array: NDArray[Any]) -> bool:
    """Whether `array`'s data starts at an `ALIGNMENT`-aligned address."""
    return array.ctypes.data % ALIGNMENT == 0
