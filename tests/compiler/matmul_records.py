"""Measured records of the library's matmul, told apart by one split factor: what the record-reading tests store."""

from __future__ import annotations

from pathlib import Path

import schedopt.workloads  # noqa: F401  (registers matmul)
from schedopt.compute_dag import ComputeDAG
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.records import save_records
from schedopt.search_task import SearchTask
from schedopt.workload_registry import make_workload_key

KEY = make_workload_key("matmul", (16, 16, 16))
OTHER_KEY = make_workload_key("matmul", (8, 8, 8))


def split_record(key: str, factor: int, cost: float, error: int = 0) -> tuple[MeasureInput, MeasureResult]:
    """A record of workload `key` with its `i` loop split by `factor`, measured at `cost` seconds (or `error`)."""
    dag = ComputeDAG(key)
    state = dag.get_init_state()
    state.split("C", "i", [factor])
    return MeasureInput(SearchTask(compute_dag=dag), state), MeasureResult((cost,), error, "", 0.1, 1.7e9)


def save_split_records(path: Path, *records: tuple[str, int, float] | tuple[str, int, float, int]) -> Path:
    """A record file at `path` holding a `split_record(key, factor, cost[, error])` for each of `records`."""
    pairs = [split_record(*fields) for fields in records]
    save_records(path, *zip(*pairs, strict=True))
    return path
