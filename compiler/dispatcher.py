"""Dispatch: which schedule to use for a workload, looked up in the records when the program is compiled.

A `DispatchContext` answers `query(target, workload_key, has_complex_op,
dag)` with a State for the workload, or None for "no schedule: use the
default". Contexts nest as `with` blocks: a query the innermost context
cannot answer goes to the one it was opened in, and at the bottom is the
`FallbackContext`, which answers None and warns once per workload.

```python
with ApplyHistoryBest("matmul.json"):
    state = DispatchContext.current.query("llvm", dag.workload_key(), True, dag)
```

`ApplyHistoryBest` holds, per target kind and workload, the record of least
mean cost among those it loaded; the `apply-history-best` pass uses it to
attach that schedule to each te function of a module. A workload is looked
up by its key and by the structural hash of its computation
(`ComputeDAG.hash_key`), so records written for `["matmul", 64, 64, 64]`
serve the same matmul parsed from IR, and the other way round.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from typing import ClassVar

from schedopt.compute_dag import ComputeDAG, hash_of_workload_key
from schedopt.measurement import MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.records import RecordReader
from schedopt.schedule.loop_state import State
from schedopt.search_task import target_kind

Records = str | os.PathLike[str] | Iterable[tuple[MeasureInput, MeasureResult]]
"""A record file name, or (input, result) pairs."""


class DispatchContext:
    """Base class of the contexts that pick a workload's schedule.

    `DispatchContext.current` is the innermost open context. A subclass
    answers in `_query_inside`; `query` asks the enclosing contexts when it
    has no answer.
    """

    current: ClassVar[DispatchContext | None] = None

    def __init__(self) -> None:
        self._outer: DispatchContext | None = DispatchContext.current

    def query(self, target: str, workload_key: str, has_complex_op: bool, dag: ComputeDAG) -> State | None:
        """The State to schedule `dag` (of `workload_key`) with on `target`, or None for the default.

        `has_complex_op` says whether the workload has an op worth tuning (a
        reduction); contexts use it to decide whether a miss deserves a warning.
        """
        state = self._query_inside(target, workload_key, dag)
        if state is None and self._outer is not None:
            state = self._outer.query(target, workload_key, has_complex_op, dag)
        return state

    def update(self, target: str, workload_key: str, state: State) -> None:
        """Make `state` this context's answer for `workload_key` on `target`."""
        raise NotImplementedError(f"{type(self).__name__} does not take updates")

    def _query_inside(self, target: str, workload_key: str, dag: ComputeDAG) -> State | None:
        raise NotImplementedError

    def __enter__(self) -> DispatchContext:
        self._outer = DispatchContext.current
        DispatchContext.current = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        DispatchContext.current = self._outer


class ApplyHistoryBest(DispatchContext):
    """Answers with the best measured schedule of each workload among `records`.

    `records` is a record file (its first `n_lines` records when given) or an
    iterable of (input, result) pairs. The best record of a workload on a
    target kind is the successful one of least mean cost; its steps are
    replayed on the DAG of the query. `update` sets a schedule by hand, which
    loaded records do not replace.
    """

    def __init__(self, records: Records, n_lines: int | None = None):
        super().__init__()
        self.best_by_target: dict[str, dict[str, tuple[MeasureInput, MeasureResult]]] = {}
        self.best_by_hash: dict[str, dict[str, tuple[MeasureInput, MeasureResult]]] = {}
        self._updated: dict[tuple[str, str], State] = {}
        self.load(records, n_lines)

    def load(self, records: Records, n_lines: int | None = None) -> None:
        """Add records; a workload's entry changes only for a record of lower mean cost.

        Records are indexed by workload key (`best_by_target`) and by
        structural hash (`best_by_hash`); a record without a hash whose key
        does not give one (`SearchTask.workload_hash`) is found by key only.
        """
        if isinstance(records, str | os.PathLike):
            inputs, results = RecordReader(records).read_lines(n_lines)
            records = zip(inputs, results, strict=True)
        for measure_input, result in records:
            if result.error_no != MeasureErrorNo.NO_ERROR:
                continue
            task = measure_input.task
            kind = target_kind(task.target)
            _keep_best(self.best_by_target.setdefault(kind, {}), task.workload_key, measure_input, result)
            if task.workload_hash is not None:
                _keep_best(self.best_by_hash.setdefault(kind, {}), task.workload_hash, measure_input, result)

    def best(
        self, target: str, workload_key: str, workload_hash: str | None = None
    ) -> tuple[MeasureInput, MeasureResult] | None:
        """The best loaded record of the workload on `target`'s kind, or None.

        The workload is matched by `workload_key` or by its structural hash
        (`workload_hash`; None: the hash the key implies, for a registered
        workload or a DAG's key).
        """
        kind = target_kind(target)
        if workload_hash is None:
            workload_hash = hash_of_workload_key(workload_key)
        candidates = [self.best_by_target.get(kind, {}).get(workload_key)]
        if workload_hash is not None:
            candidates.append(self.best_by_hash.get(kind, {}).get(workload_hash))
        found = [c for c in candidates if c is not None]
        return min(found, key=lambda pair: pair[1].mean_cost(), default=None)

    def update(self, target: str, workload_key: str, state: State) -> None:
        self._updated[(target_kind(target), workload_key)] = state

    def _query_inside(self, target: str, workload_key: str, dag: ComputeDAG) -> State | None:
        updated = self._updated.get((target_kind(target), workload_key))
        if updated is not None:
            return updated
        best = self.best(target, workload_key, dag.hash_key())
        if best is None:
            return None
        return dag.replay_steps(best[0].state.transform_steps)


def _keep_best(
    best: dict[str, tuple[MeasureInput, MeasureResult]],
    key: str,
    measure_input: MeasureInput,
    result: MeasureResult,
) -> None:
    known = best.get(key)
    if known is None or result.mean_cost() < known[1].mean_cost():
        best[key] = (measure_input, result)


class FallbackContext(DispatchContext):
    """The outermost context: no schedule (None), with one warning per missing workload that has a complex op."""

    def __init__(self) -> None:
        super().__init__()
        self._memory: dict[tuple[str, str], State | None] = {}

    def query(self, target: str, workload_key: str, has_complex_op: bool, dag: ComputeDAG) -> State | None:
        key = (target_kind(target), workload_key)
        if key not in self._memory:
            if has_complex_op:
                warnings.warn(
                    f"no tuned schedule for workload {workload_key} on target {target}; "
                    "the default (unscheduled) program is used",
                    stacklevel=2,
                )
            self._memory[key] = None
        return self._memory[key]

    def update(self, target: str, workload_key: str, state: State) -> None:
        self._memory[(target_kind(target), workload_key)] = state

    def _query_inside(self, target: str, workload_key: str, dag: ComputeDAG) -> State | None:
        return self._memory.get((target_kind(target), workload_key))


DispatchContext.current = FallbackContext()
