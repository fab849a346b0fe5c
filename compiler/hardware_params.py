"""HardwareParams: what the search and the runtime know of the machine a kernel runs on.

The eight fields of TVM's `auto_scheduler.HardwareParams`, in its order
(the order records store them in), plus the target strings and, as extra
information TVM does not carry, the sizes of the CPU's data caches. A field
left None takes the target's default; for the CPU (`llvm`, the default
target) that is the host as `host_hardware_params` reads it:

- `num_cores`: the cores this process may run on (its affinity mask), which
  is also the number of OpenMP threads a parallel loop runs on;
- `vector_unit_bytes`: 64 with AVX-512, 32 with AVX or AVX2, else 16 (SSE),
  from LLVM's view of the host's features (the code is generated for them);
- `cache_line_bytes`: from `/sys/devices/system/cpu/cpu0/cache`, else 64;
- the GPU fields: 0, as in TVM's CPU defaults.

For a CUDA target (`cuda`, or its synonym `nvptx`) the defaults are an
sm_80-class GPU's, the values TVM's `GetDefaultHardwareParams` reads from a
CUDA device (`CUDA_DEFAULTS`); a field given explicitly overrides its default.
Other targets get no defaults.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import llvmlite.binding as llvm

from schedopt.errors import SchedOptError

CPU_CACHE_DIR = Path("/sys/devices/system/cpu/cpu0/cache")
"""Where Linux describes the first CPU's caches, one `index<N>` folder per cache."""

DEFAULT_CACHE_LINE_BYTES = 64

RECORD_FIELDS = (
    "num_cores",
    "vector_unit_bytes",
    "cache_line_bytes",
    "max_shared_memory_per_block",
    "max_local_memory_per_block",
    "max_threads_per_block",
    "max_vthread_extent",
    "warp_size",
)
"""TVM's eight fields, in the order records store them."""

_COUNTS = (*RECORD_FIELDS, "l1_cache_bytes", "l2_cache_bytes", "l3_cache_bytes")

CUDA_TARGET_KINDS = ("cuda", "nvptx")
"""Target kinds that name an NVIDIA GPU; `nvptx` is a synonym of `cuda`."""

UNKNOWN_NUM_CORES = -1
"""TVM's `num_cores` for a GPU: the search does not use it there."""

CUDA_DEFAULTS: dict[str, int] = {
    "num_cores": UNKNOWN_NUM_CORES,
    "vector_unit_bytes": 16,
    "cache_line_bytes": 64,
    "max_shared_memory_per_block": 48 * 1024,
    "max_local_memory_per_block": 2**31 - 1,
    "max_threads_per_block": 1024,
    "max_vthread_extent": 8,
    "warp_size": 32,
}
"""The parameters of an sm_80-class GPU (A100), as TVM sets them for a CUDA device.

48 KiB is the shared memory a block gets without opting in to more;
local memory has no limit in the CUDA runtime (TVM's INT32_MAX turns the
check off); `max_vthread_extent` is TVM's warp_size / 4; `num_cores`,
`vector_unit_bytes` and `cache_line_bytes` are TVM's constants for GPUs.
"""


def is_cuda_target(target: str | None) -> bool:
    """Whether a target string names a CUDA GPU ("cuda", "cuda -arch=sm_80", "nvptx")."""
    words = target.split() if target else []
    return bool(words) and words[0] in CUDA_TARGET_KINDS


@dataclass(frozen=True)
class HardwareParams:
    """The parameters of the target hardware that guide the search and size the thread team.

    Fields as TVM's (`num_cores` ... `warp_size`, `target`, `target_host`;
    `num_cores` -1 is TVM's "unknown", which its GPU defaults use);
    `l1_cache_bytes`, `l2_cache_bytes`, `l3_cache_bytes` are the data cache
    sizes per level (None where unknown). Fields left None are filled with
    the target's defaults (on `llvm`, the host's).
    """

    num_cores: int | None = None
    vector_unit_bytes: int | None = None
    cache_line_bytes: int | None = None
    max_shared_memory_per_block: int | None = None
    max_local_memory_per_block: int | None = None
    max_threads_per_block: int | None = None
    max_vthread_extent: int | None = None
    warp_size: int | None = None
    target: str | None = None
    target_host: str | None = None
    l1_cache_bytes: int | None = None
    l2_cache_bytes: int | None = None
    l3_cache_bytes: int | None = None

    def __post_init__(self) -> None:
        for name in _COUNTS:
            value = getattr(self, name)
            if value is None or (name == "num_cores" and value == UNKNOWN_NUM_CORES):
                continue
            least = 1 if name == "num_cores" else 0
            if not isinstance(value, int) or value < least:
                raise SchedOptError(f"HardwareParams: {name} must be an integer >= {least}, got {value!r}")
        if is_cuda_target(self.target):
            for name, value in CUDA_DEFAULTS.items():
                if getattr(self, name) is None:
                    object.__setattr__(self, name, value)
            return
        if self.target is not None and self.target.split()[:1] != ["llvm"]:
            return
        for name, value in _host_defaults().items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _parse_size(text: str) -> int | None:
    """Bytes of a sysfs cache size: "48K", "2048K", "32M"."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip()
    scale = units.get(text[-1:].upper(), 1)
    digits = text[:-1] if text[-1:].upper() in units else text
    return int(digits) * scale if digits.isdigit() else None


def data_cache_bytes(cache_dir: Path = CPU_CACHE_DIR) -> dict[int, int]:
    """Level -> size in bytes of each data (or unified) cache described under `cache_dir`."""
    sizes: dict[int, int] = {}
    for index in sorted(cache_dir.glob("index*")):
        try:
            kind = (index / "type").read_text().strip()
            size = _parse_size((index / "size").read_text())
        except OSError:
            continue
        level = _read_int(index / "level")
        if kind in ("Data", "Unified") and level is not None and size is not None:
            sizes[level] = size
    return sizes


def host_vector_unit_bytes() -> int:
    """The width of the host's widest vector registers that LLVM generates code for."""
    try:
        features = llvm.get_host_cpu_features()
    except RuntimeError:  # LLVM cannot tell on some hosts: assume the x86-64 baseline
        return 16
    if features.get("avx512f"):
        return 64
    if features.get("avx2") or features.get("avx"):
        return 32
    return 16


def host_num_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@functools.cache
def _host_defaults() -> dict[str, int | str | None]:
    """The host's value of each field (read once per process)."""
    caches = data_cache_bytes()
    return {
        "num_cores": host_num_cores(),
        "vector_unit_bytes": host_vector_unit_bytes(),
        "cache_line_bytes": _read_int(CPU_CACHE_DIR / "index0" / "coherency_line_size")
        or DEFAULT_CACHE_LINE_BYTES,
        "max_shared_memory_per_block": 0,
        "max_local_memory_per_block": 0,
        "max_threads_per_block": 0,
        "max_vthread_extent": 0,
        "warp_size": 0,
        "target": "llvm",
        "l1_cache_bytes": caches.get(1),
        "l2_cache_bytes": caches.get(2),
        "l3_cache_bytes": caches.get(3),
    }


def host_hardware_params() -> HardwareParams:
    """The host CPU's parameters."""
    return HardwareParams()
