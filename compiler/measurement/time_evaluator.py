"""Timing a kernel as TVM's `time_evaluator` does, with an optional cache flush between repeats."""

from __future__ import annotations

import ctypes
import functools
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import llvmlite.binding as llvm

from schedopt.runtime import create_host_target_machine, data_pointer, parse_llvm_ir

if TYPE_CHECKING:
    from numpy.typing import NDArray


def time_calls(
    call: Callable[[], None],
    number: int,
    repeat: int,
    min_repeat_ms: float,
    flush: Callable[[], None] | None,
) -> tuple[float, ...]:
    """`repeat` costs in seconds, each the mean over `number` calls, as TVM's time_evaluator.

    `number` grows (at least by the golden ratio) until one repeat lasts
    `min_repeat_ms`, and keeps its size for the following repeats.
    """

    def run_batch(count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            call()
        return time.perf_counter() - start

    return time_batches(run_batch, number, repeat, min_repeat_ms, flush)


def time_batches(
    run_batch: Callable[[int], float],
    number: int,
    repeat: int,
    min_repeat_ms: float,
    flush: Callable[[], None] | None,
) -> tuple[float, ...]:
    """`time_calls` for a clock of the caller's: `run_batch(n)` runs n calls and returns their seconds.

    A device times its own work (CUDA events) where the host's clock would
    count launch overheads and miss queued work.
    """
    costs: list[float] = []
    for _ in range(repeat):
        if flush is not None:
            flush()
        while True:
            elapsed = max(run_batch(number), 1e-9)
            if elapsed * 1e3 >= min_repeat_ms:
                break
            per_call_ms = elapsed * 1e3 / number
            number = max(int(min_repeat_ms / per_call_ms) + 1, int(number * 1.618))
        costs.append(elapsed / number)
    return tuple(costs)


_CACHE_FLUSH_IR = """
declare void @llvm.x86.sse2.clflush(ptr)
declare void @llvm.x86.sse2.mfence()

define void @schedopt_flush(ptr %base, i64 %bytes) {
entry:
  %empty = icmp eq i64 %bytes, 0
  br i1 %empty, label %done, label %loop
loop:
  %offset = phi i64 [ 0, %entry ], [ %next, %loop ]
  %line = getelementptr i8, ptr %base, i64 %offset
  call void @llvm.x86.sse2.clflush(ptr %line)
  %next = add i64 %offset, 64
  %more = icmp ult i64 %next, %bytes
  br i1 %more, label %loop, label %last
last:
  %end = getelementptr i8, ptr %base, i64 %bytes
  %tail = getelementptr i8, ptr %end, i64 -1
  call void @llvm.x86.sse2.clflush(ptr %tail)
  br label %done
done:
  call void @llvm.x86.sse2.mfence()
  ret void
}
"""
"""Evicts a buffer from every cache level with `clflush`, line by line, as TVM's cache flush does."""


@dataclass
class _Flusher:
    engine: llvm.ExecutionEngine
    flush: Callable[[int, int], None] = field(repr=False)


@functools.cache
def _cache_flusher() -> _Flusher:
    engine = llvm.create_mcjit_compiler(parse_llvm_ir(_CACHE_FLUSH_IR), create_host_target_machine())
    engine.finalize_object()
    prototype = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64)
    return _Flusher(engine, prototype(engine.get_function_address("schedopt_flush")))


def flush_cpu_cache(arrays: Sequence[NDArray[Any]]) -> None:
    """Evict the arrays from every cache level."""
    flush = _cache_flusher().flush
    for array in arrays:
        flush(data_pointer(array), array.nbytes)


def can_flush_cpu_cache() -> bool:
    """Whether this host has `clflush` (x86-64)."""
    return platform.machine().lower() in ("x86_64", "amd64")
