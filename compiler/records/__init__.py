"""The record database: every measurement, kept so tuning can resume and the best schedule be applied.

A record is one measured candidate (task, steps, costs or error code,
timestamp, version) in TVM's log format (`schedopt.records.codec`). The file
suffix picks the back end: `.db` (also `.sqlite`, `.sqlite3`) is an SQLite
database indexed by workload key, structural hash and target
(`schedopt.records.sqlite`);
anything else, `.json` by convention, is a JSON-lines log
(`schedopt.records.json_lines`). Both take appends from several processes
at once and keep every whole record when a writer dies.

```python
save_records("matmul.json", inputs, results)        # or RecordToFile as a measure callback
inp, res = load_best_record("matmul.json", workload_key, "llvm")   # by key or structural hash
for inp, res in RecordReader("matmul.db"): ...
```

Reading never fails on one bad record: a truncated or malformed line, or a
line of an unknown version, is skipped with a `RecordWarning` naming the
file and line. A lookup for a workload matches its records by workload key
or by the structural hash of its computation (`ComputeDAG.hash_key`), so a
workload registered in Python and the same computation parsed from IR share
their records. Inputs come back with a task that has no DAG and a State that
holds only the steps (cheap to read); `recover_measure_input` rebuilds both
for a registered workload.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence

from schedopt.compute_dag import hash_of_workload_key
from schedopt.errors import RecordError
from schedopt.measurement.interfaces import MeasureCallback, MeasuredPolicy
from schedopt.measurement.results import MeasureInput, MeasureResult
from schedopt.records.codec import Record
from schedopt.records.json_lines import JsonLinesStore
from schedopt.records.sqlite import SqliteStore
from schedopt.records.store import LineFilter, RecordStore
from schedopt.search_task import SearchTask, target_kind

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


class RecordWarning(UserWarning):
    """A record was skipped while reading: the message names the file, the line and the problem."""


def open_store(filename: str | os.PathLike[str]) -> RecordStore:
    """The back end for `filename`, chosen by its suffix."""
    name = os.fspath(filename)
    if name.lower().endswith(SQLITE_SUFFIXES):
        return SqliteStore(name)
    return JsonLinesStore(name)


def read_records(
    filename: str | os.PathLike[str],
    workload_key: str | None = None,
    target: str | None = None,
    workload_hash: str | None = None,
) -> Iterator[Record]:
    """The decodable records of a file in order, those of the workload and `target`'s kind (None: all).

    A record is of the workload if it has its key or its structural hash
    (`workload_hash`; None: the hash `workload_key` implies, see
    `schedopt.compute_dag.hash_of_workload_key`). Bad lines are skipped with
    a `RecordWarning`; a file that cannot be read at all raises `RecordError`.
    """
    kind = None if target is None else target_kind(target)
    if workload_hash is None and workload_key is not None:
        workload_hash = hash_of_workload_key(workload_key)
    for line in open_store(filename).lines(LineFilter(workload_key, kind, workload_hash)):
        try:
            record = Record.decode(line.text, line.location)
        except RecordError as error:
            warnings.warn(f"{line.location}: skipped a bad record: {error}", RecordWarning, stacklevel=2)
            continue
        if record.matches(workload_key, target, workload_hash):
            yield record


def append_records(filename: str | os.PathLike[str], records: Sequence[Record]) -> None:
    """Append records (as their stored text) to a file; each is appended whole or not at all."""
    open_store(filename).append(records)


def rewrite_records(filename: str | os.PathLike[str], records: Sequence[Record]) -> None:
    """Replace the records of a file (created if missing) by `records`, atomically."""
    open_store(filename).rewrite(records)


def save_records(
    filename: str | os.PathLike[str], inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]
) -> None:
    """Append the records of measurements to a file."""
    if len(inputs) != len(results):
        raise RecordError(f"save_records: {len(inputs)} inputs but {len(results)} results")
    append_records(filename, [Record.encode(i, r) for i, r in zip(inputs, results, strict=True)])


def load_records(filename: str | os.PathLike[str]) -> list[tuple[MeasureInput, MeasureResult]]:
    """Every readable measurement of a file, as (input, result) pairs in file order."""
    return [(record.input, record.result) for record in read_records(filename)]


def load_best_record(
    filename: str | os.PathLike[str],
    workload_key: str | None = None,
    target: str | None = None,
    workload_hash: str | None = None,
) -> tuple[MeasureInput | None, MeasureResult | None]:
    """The successful measurement of least mean cost, for the workload and `target`'s kind (None: any).

    The workload is matched by key or structural hash, as `read_records` does.
    (None, None) when the file holds no successful measurement of them.
    """
    best = best_record(read_records(filename, workload_key, target, workload_hash))
    return (None, None) if best is None else (best.input, best.result)


def best_record(records: Iterable[Record]) -> Record | None:
    """The successful record of least mean cost (the first of equals), or None."""
    best: Record | None = None
    for record in records:
        if record.is_valid and (best is None or record.result.mean_cost() < best.result.mean_cost()):
            best = record
    return best


def recover_measure_input(measure_input: MeasureInput, rebuild_state: bool = False) -> MeasureInput:
    """The input with its task's DAG rebuilt from the workload registry, and with `rebuild_state`
    its State replayed from the steps (stages, iterators and all).

    Raises `WorkloadError` for a workload key the registry does not know
    (a key made from a hash, for a DAG built from IR, cannot be recovered).
    """
    task = measure_input.task
    if task.compute_dag is None:
        task = SearchTask(
            workload_key=task.workload_key,
            target=task.target,
            target_host=task.target_host,
            hardware_params=task.hardware_params,
            layout_rewrite_option=task.layout_rewrite_option,
            desc=task.desc,
        )
    assert task.compute_dag is not None
    state = measure_input.state
    if rebuild_state:
        state = task.compute_dag.replay_steps(state.transform_steps)
    return MeasureInput(task, state)


class RecordReader:
    """Reads the records of a file: `read_lines` in batches, or iterate for (input, result) pairs."""

    def __init__(self, filename: str | os.PathLike[str]):
        self.filename = os.fspath(filename)

    def read_lines(
        self, max_lines: int | None = None, skip_lines: int = 0
    ) -> tuple[list[MeasureInput], list[MeasureResult]]:
        """Up to `max_lines` records (None: all) after skipping the first `skip_lines`.

        Both count readable records; bad lines are skipped with a warning.
        """
        inputs: list[MeasureInput] = []
        results: list[MeasureResult] = []
        if max_lines is not None and max_lines <= 0:
            return inputs, results
        for index, record in enumerate(read_records(self.filename)):
            if index < skip_lines:
                continue
            inputs.append(record.input)
            results.append(record.result)
            if len(inputs) == max_lines:
                break
        return inputs, results

    def __iter__(self) -> Iterator[tuple[MeasureInput, MeasureResult]]:
        for record in read_records(self.filename):
            yield record.input, record.result


class RecordToFile(MeasureCallback):
    """A measure callback that appends every measurement to a record file."""

    def __init__(self, filename: str | os.PathLike[str]):
        self.filename = os.fspath(filename)

    def callback(
        self, policy: MeasuredPolicy, inputs: Sequence[MeasureInput], results: Sequence[MeasureResult]
    ) -> None:
        save_records(self.filename, inputs, results)


__all__ = [
    "Record",
    "RecordReader",
    "RecordStore",
    "RecordToFile",
    "RecordWarning",
    "append_records",
    "best_record",
    "load_best_record",
    "load_records",
    "open_store",
    "read_records",
    "recover_measure_input",
    "rewrite_records",
    "save_records",
]
