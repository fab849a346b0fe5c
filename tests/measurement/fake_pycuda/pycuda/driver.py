"""A stand-in for `pycuda.driver`: device memory is host memory, launches are logged, not executed.

The CUDARunner tests put this package on `sys.path` (the runner's worker
processes get the parent's `sys.path`). Each launch is appended to
`LAUNCHES` as (kernel, grid, block, buffer ids) and advances a device
clock by `LAUNCH_MS`, which the events read. A kernel named in `KERNELS`
runs its numpy stand-in on the buffers; any other leaves them untouched.
Environment variables make the driver fail where the real one can:
FAKE_PYCUDA_REFUSE_PTX (module load), FAKE_PYCUDA_FAULT=<kernel> (launch).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable

import numpy as np

LAUNCH_MS = 0.5
LAUNCHES: list[tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = []
_memory: dict[int, bytearray] = {}
_addresses = itertools.count(0x1000, 0x1000)
_clock_ms = 0.0


class Error(Exception):
    pass


class LogicError(Error):
    pass


class LaunchError(Error):
    pass


def _square_matmul(a: bytearray, b: bytearray, c: bytearray) -> None:
    n = math.isqrt(len(a) // 4)
    left = np.frombuffer(a, np.float32).reshape(n, n)
    right = np.frombuffer(b, np.float32).reshape(n, n)
    np.frombuffer(c, np.float32).reshape(n, n)[:] = left @ right


KERNELS: dict[str, Callable[..., None]] = {"matmul_kernel0": _square_matmul}


def init() -> None:
    pass


class Context:
    def pop(self) -> None:
        pass

    @staticmethod
    def synchronize() -> None:
        pass


class device_attribute:  # pycuda's name
    WARP_SIZE = "WARP_SIZE"
    MAX_SHARED_MEMORY_PER_BLOCK = "MAX_SHARED_MEMORY_PER_BLOCK"
    MAX_THREADS_PER_BLOCK = "MAX_THREADS_PER_BLOCK"


ATTRIBUTES = {"WARP_SIZE": 32, "MAX_SHARED_MEMORY_PER_BLOCK": 49152, "MAX_THREADS_PER_BLOCK": 1024}
"""An H100's, as its driver reports them."""


class Device:
    def __init__(self, ordinal: int):
        self.ordinal = ordinal

    def make_context(self) -> Context:
        return Context()

    def name(self) -> str:
        return "Fake H100"

    def compute_capability(self) -> tuple[int, int]:
        return (9, 0)

    def get_attribute(self, attribute: str) -> int:
        return ATTRIBUTES[attribute]


class DeviceAllocation:
    def __init__(self, size: int):
        self.address = next(_addresses)
        _memory[self.address] = bytearray(size)

    def __int__(self) -> int:
        return self.address

    def free(self) -> None:
        _memory.pop(self.address, None)


def mem_alloc(size: int) -> DeviceAllocation:
    return DeviceAllocation(size)


def memcpy_htod(dest: DeviceAllocation, src: np.ndarray) -> None:
    _memory[int(dest)][:] = src.tobytes()


def memcpy_dtoh(dest: np.ndarray, src: DeviceAllocation) -> None:
    dest.reshape(-1).view(np.uint8)[:] = np.frombuffer(_memory[int(src)], np.uint8)


class Function:
    def __init__(self, name: str):
        self.name = name
        self.arg_format = ""

    def prepare(self, arg_format: str) -> None:
        self.arg_format = arg_format

    def prepared_call(self, grid: tuple[int, ...], block: tuple[int, ...], *pointers: int) -> None:
        global _clock_ms
        assert len(pointers) == len(self.arg_format), "one pointer per prepared argument"
        if os.environ.get("FAKE_PYCUDA_FAULT") == self.name:
            raise LaunchError("cuLaunchKernel failed: an illegal memory access was encountered")
        LAUNCHES.append((self.name, tuple(grid), tuple(block), tuple(pointers)))
        _clock_ms += LAUNCH_MS
        if self.name in KERNELS:
            KERNELS[self.name](*(_memory[pointer] for pointer in pointers))


class Module:
    def __init__(self, ptx: str):
        self.ptx = ptx

    def get_function(self, name: str) -> Function:
        if f".entry {name}(" not in self.ptx:
            raise LogicError(f"cuModuleGetFunction failed: named symbol not found ({name})")
        return Function(name)


def module_from_buffer(image: bytes) -> Module:
    if os.environ.get("FAKE_PYCUDA_REFUSE_PTX"):
        raise LogicError("cuModuleLoadDataEx failed: a PTX JIT compilation failed")
    return Module(image.decode())


class Event:
    def __init__(self) -> None:
        self.at_ms = 0.0

    def record(self) -> None:
        self.at_ms = _clock_ms

    def synchronize(self) -> None:
        pass

    def time_till(self, other: Event) -> float:
        return other.at_ms - self.at_ms
