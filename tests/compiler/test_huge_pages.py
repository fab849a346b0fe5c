"""Measurement buffers on huge pages: aligned, writable, and the values of what they copy."""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest

from schedopt.measurement.huge_pages import (
    HUGE_PAGE_BYTES,
    MIN_HUGE_PAGE_ARRAY_BYTES,
    huge_page_copy,
    huge_page_empty,
)


@pytest.mark.parametrize(
    ("shape", "dtype"), [((512, 512), np.float32), ((3, 1000, 77), np.int64), ((9000,), np.float64)]
)
def test_large_arrays_start_on_a_huge_page_and_hold_what_they_copy(shape, dtype):
    source = np.random.default_rng(0).integers(-100, 100, shape).astype(dtype)
    copy = huge_page_copy(source)
    assert copy.ctypes.data % HUGE_PAGE_BYTES == 0
    assert copy.flags.c_contiguous and copy.flags.writeable and copy.dtype == dtype
    np.testing.assert_array_equal(copy, source)


def test_small_arrays_are_plain_numpy_arrays():
    small = huge_page_empty((4, 4), np.float32)
    assert small.nbytes < MIN_HUGE_PAGE_ARRAY_BYTES and small.base is None


def test_an_array_keeps_its_mapping_alive():
    array = huge_page_empty((256, 1024), np.float32)
    array.fill(3.0)
    gc.collect()
    assert float(array.sum()) == 3.0 * array.size


def test_the_runner_poisons_output_buffers_on_huge_pages():
    from schedopt.measurement.correctness import poisoned_output
    from schedopt.runtime import BufferSpec

    output = poisoned_output(BufferSpec("C", (512, 512), np.float32))
    assert output.ctypes.data % HUGE_PAGE_BYTES == 0 and np.isnan(output).all()
    counts = poisoned_output(BufferSpec("n", (256, 256), np.int32))
    assert (counts == np.iinfo(np.int32).min).all()


def _mapping_of(address: int) -> tuple[str, int]:
    """The permissions and AnonHugePages (KiB) of this process's mapping that holds `address`."""
    permissions, huge_kib, inside = "", 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:
                start, end = (int(bound, 16) for bound in fields[0].split("-"))
                inside = start <= address < end
                if inside:
                    permissions = fields[1]
            elif inside and fields[0] == "AnonHugePages:":
                huge_kib = int(fields[1])
    return permissions, huge_kib


def _transparent_huge_pages() -> str | None:
    """The system's THP mode (`always`, `madvise`, `never`), None where there is no such setting."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as setting:
            text = setting.read()
    except OSError:
        return None
    return text[text.index("[") + 1 : text.index("]")]


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="needs Linux's /proc/self/smaps")
def test_large_arrays_are_private_memory_backed_by_huge_pages_where_the_system_offers_them():
    array = huge_page_empty((1024, 512), np.float32)  # one huge page
    array.fill(1.0)  # touched: the pages exist
    permissions, huge_kib = _mapping_of(array.ctypes.data)
    # A shared anonymous map is shmem, whose huge pages a separate setting (off by default) governs.
    assert permissions.endswith("p"), f"the buffer's mapping is {permissions!r}, not private"
    if _transparent_huge_pages() in ("always", "madvise"):
        assert huge_kib >= HUGE_PAGE_BYTES // 1024
