"""Hand-written GPU schedules: the shapes of the states Ansor's GPU sketches produce.

`tiled_matmul` is the "SSSRRSRS" structure: blockIdx, vthread and threadIdx
tiles of C, the reduction split around shared-memory copies of A and B
fetched cooperatively by the block's threads, and the accumulation in a
per-thread `C.local`. The others are the one-kernel shapes of an elementwise
op and a row reduction.
"""

from __future__ import annotations

from dataclasses import dataclass

import schedopt.workloads  # noqa: F401  (registers the workloads)
from schedopt import te
from schedopt.compute_dag import ComputeDAG
from schedopt.schedule.loop_state import State
from schedopt.workload_registry import make_workload_key


@dataclass(frozen=True)
class GPUSchedule:
    """A workload key's DAG and a State bound to GPU threads."""

    workload: str
    args: tuple[int, ...]
    dag: ComputeDAG
    state: State


def schedule_for(workload: str, args: tuple[int, ...]) -> tuple[ComputeDAG, State]:
    dag = ComputeDAG(make_workload_key(workload, args))
    return dag, dag.get_init_state()


def tiled_matmul(
    n: int = 64, tile: int = 16, vthreads: int = 2, threads: int = 4, k_tile: int = 8
) -> GPUSchedule:
    """C = A B with `tile` x `tile` blocks, `vthreads`^2 virtual threads of `threads`^2 threads each,
    A and B staged in shared memory per `k_tile` slice of the reduction."""
    dag, s = schedule_for("matmul", (n, n, n))
    local = s.cache_write("C", "local").name
    a_shared = s.cache_read("A", "shared", [local]).name
    b_shared = s.cache_read("B", "shared", [local]).name
    inner = tile // (vthreads * threads)
    i0, i1, i2, i3 = s.split("C", "i", [vthreads, threads, inner])
    j0, j1, j2, j3 = s.split("C", "j", [vthreads, threads, inner])
    s.reorder("C", [i0, j0, i1, j1, i2, j2, i3, j3])
    block = s.fuse("C", [i0, j0])
    vthread = s.fuse("C", [i1, j1])
    thread = s.fuse("C", [i2, j2])
    s.bind("C", block, "blockIdx.x")
    s.bind("C", vthread, "vthread")
    s.bind("C", thread, "threadIdx.x")
    s.compute_at(local, "C", thread)
    k0, k1 = s.split(local, "k", [k_tile])
    li, lj = s[local].iters[0].name, s[local].iters[1].name
    s.reorder(local, [k0, k1, li, lj])
    for shared in (a_shared, b_shared):
        s.compute_at(shared, local, k0)
        fused = s.fuse(shared, [it.name for it in s[shared].iters])
        _, tx = s.split(shared, fused, [threads * threads])
        s.bind(shared, tx, "threadIdx.x")
    return GPUSchedule("matmul", (n, n, n), dag, s)


def elementwise(m: int = 30, n: int = 33, threads: int = 128) -> GPUSchedule:
    """A + B over a matrix, fused to one loop that the thread count does not divide (the last block
    is guarded)."""
    dag, s = schedule_for("add", (m, n))
    fused = s.fuse("T_add", ["i", "j"])
    bx, tx = s.split("T_add", fused, [threads])
    s.bind("T_add", bx, "blockIdx.x")
    s.bind("T_add", tx, "threadIdx.x")
    return GPUSchedule("add", (m, n), dag, s)


def elementwise_chain(m: int = 8, n: int = 8, threads: int = 32) -> GPUSchedule:
    """relu(A * B + C) in three stages at root: three kernels, two intermediate buffers."""
    dag, s = schedule_for("elementwise_chain", (m, n))
    for stage in ("T_multiply", "T_add", "T_relu"):
        fused = s.fuse(stage, ["i", "j"])
        bx, tx = s.split(stage, fused, [threads])
        s.bind(stage, bx, "blockIdx.x")
        s.bind(stage, tx, "threadIdx.x")
    return GPUSchedule("elementwise_chain", (m, n), dag, s)


def row_sum_dag(rows: int, cols: int) -> ComputeDAG:
    data = te.placeholder((rows, cols), name="data")
    k = te.reduce_axis((0, cols), name="k")
    total = te.compute((rows,), lambda i: te.sum(data[i, k], axis=k), name="row_sum")
    return ComputeDAG([data, total])


def row_sum(rows: int = 64, cols: int = 96, threads: int = 32) -> GPUSchedule:
    """The sum of each row: a thread per row, the reduction serial inside it and split in two."""
    dag = row_sum_dag(rows, cols)
    s = dag.get_init_state()
    bx, tx = s.split("row_sum", "i", [threads])
    s.split("row_sum", "k", [8])
    s.bind("row_sum", bx, "blockIdx.x")
    s.bind("row_sum", tx, "threadIdx.x")
    return GPUSchedule("row_sum", (rows, cols), dag, s)


def cross_thread_row_sum(rows: int = 8, cols: int = 256, threads: int = 64) -> GPUSchedule:
    """The sum of each row by a block of `threads` threads: each sums every `threads`-th element, then
    the block combines the partial sums (Ansor's cross-thread reduction)."""
    dag = row_sum_dag(rows, cols)
    s = dag.get_init_state()
    s.bind("row_sum", "i", "blockIdx.x")
    _, k1 = s.split("row_sum", "k", [threads])
    s.bind("row_sum", k1, "threadIdx.x")
    return GPUSchedule("row_sum", (rows, cols), dag, s)
