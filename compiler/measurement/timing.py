"""Timing helpers shared by the command-line tools and `benchmarks/`.

Figures are only compared within one run (ratios to a reference timed in the
same process), because the hosts differ from day to day. numpy is measured as
a user has it: OpenBLAS reads `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` when
it loads, and the machines here may set them to an older, slower kernel, so a
benchmark re-executes itself without them before numpy is imported.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_REEXEC_MARK = "SCHEDOPT_BLAS_REEXEC"


def reexec_without_openblas_overrides() -> None:
    """Restart this Python program without the OpenBLAS kernel overrides, once.

    Call it first thing in a benchmark's `main`, before numpy is imported.
    """
    if not any(name in os.environ for name in OPENBLAS_OVERRIDES) or os.environ.get(_REEXEC_MARK):
        return
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    env[_REEXEC_MARK] = "1"
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def blas_description() -> str:
    """The BLAS numpy uses, as threadpoolctl reports it (library, kernel, threads)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            arch = pool.get("architecture", "?")
            return f"{pool.get('internal_api')} {pool.get('version')} kernel {arch}, {pool.get('num_threads')} threads"
    return "none found"


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the minimum and median of the repeats."""

    min_s: float
    median_s: float

    def gflops(self, flop: float) -> float:
        """Throughput at the best repeat."""
        return flop / self.min_s / 1e9


def time_callable(fn: Callable[[], object], repeat: int = 5, min_repeat_ms: float = 100.0) -> Timing:
    """Time `fn` after a warm-up; each repeat runs it enough times to last `min_repeat_ms`."""
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-9)
    number = max(1, int(min_repeat_ms / 1e3 / once))
    samples: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return Timing(min(samples), statistics.median(samples))
