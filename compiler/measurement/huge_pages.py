"""Arrays on transparent huge pages, so that a kernel's timing does not depend on where its buffers land.

The L2 cache is indexed by physical address, and a buffer of a few hundred
KiB on 4 KiB pages lands on different physical pages at every allocation,
so its cache sets change from one candidate to the next. A huge page is 2
MiB of physically contiguous memory: a buffer that starts on one sits in
the same sets every time. The arrays are private anonymous memory advised
for huge pages (`madvise(MADV_HUGEPAGE)`), which Linux backs with huge pages
when transparent huge pages are `always` or `madvise`; where the system
offers none the advice is ignored and the arrays are ordinary, only aligned.
"""

from __future__ import annotations

import math
import mmap

import numpy as np
from numpy.typing import DTypeLike

HUGE_PAGE_BYTES = 2 << 20
MIN_HUGE_PAGE_ARRAY_BYTES = 64 << 10
"""Smaller arrays stay in the first cache levels wherever they are; they get plain numpy memory."""


def huge_page_empty(shape: tuple[int, ...], dtype: DTypeLike) -> np.ndarray:
    """An uninitialised C-contiguous array starting on a huge-page boundary (small ones: `np.empty`)."""
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if nbytes < MIN_HUGE_PAGE_ARRAY_BYTES:
        return np.empty(shape, dtype)
    length = -(-nbytes // HUGE_PAGE_BYTES) * HUGE_PAGE_BYTES
    # Anonymous (no file) and private: Python's default is MAP_SHARED, which is shmem, where Linux
    # gives huge pages only if `shmem_enabled` says so (by default it does not).
    region = mmap.mmap(-1, length + HUGE_PAGE_BYTES, flags=mmap.MAP_PRIVATE)  # page-aligned
    offset = -np.frombuffer(region, np.uint8, 1).ctypes.data % HUGE_PAGE_BYTES
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if advice is not None:
        region.madvise(advice, offset, length)
    # The array holds the mapping alive; it is unmapped when the array is freed.
    return np.frombuffer(region, dtype, count, offset).reshape(shape)


def huge_page_copy(array: np.ndarray) -> np.ndarray:
    """`array`'s values in a `huge_page_empty` array."""
    copy = huge_page_empty(array.shape, array.dtype)
    copy[...] = array
    return copy
