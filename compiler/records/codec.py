"""The record format: one measurement as one line of JSON, TVM's auto_scheduler log format.

```
{"i": [[workload_key, target, [num_cores, vector_unit_bytes, cache_line_bytes,
        max_shared_memory_per_block, max_local_memory_per_block,
        max_threads_per_block, max_vthread_extent, warp_size],
        target_host, layout_rewrite_option, [task_input_names], workload_hash],
       [[], [step, step, ...]]],
 "r": [[cost_seconds, ...], error_no, all_cost_seconds, timestamp(, device_key)],
 "v": "v0.6"}
```

Steps are `Step.to_record()` arrays (`["SP", 2, 0, 512, [8], 1]`). A task
without hardware parameters writes `null` in their place, and an empty
target host `""`. Version "v0.5" lines (a task of fewer fields) are read
too.

`workload_hash`, sched-opt's addition to TVM's task, is the structural hash
of the computation (`schedopt.workload_hash`): the workload key stays TVM's
(`["matmul", 64, 64, 64]` for a registered workload), and the hash lets a
DAG built from te tensors or parsed from IR find the same records. It is
written whenever the task knows it and is optional when reading, so logs
of TVM and of older sched-opt read as before (their hash, where needed, is
derived from the key: `SearchTask.workload_hash`). Older sched-opt readers
ignore the extra field; TVM's C++ reader rejects a task of seven fields, so a
log meant for TVM needs the field dropped.

`device_key`, the other addition, names the devices a remote runner
measured on (`RPCRunner(key=...)`); it is written only then, so records of
this host's measurements stay TVM's four fields.

The error message of a failed measurement is not stored (TVM's format has
no field for it); a record read back describes its error code instead.

`decode_record` checks the whole structure and raises `RecordError` saying
what is wrong, so a reader can skip the line and name it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import TypeGuard

from schedopt.errors import RecordError, SchedOptError
from schedopt.hardware_params import RECORD_FIELDS, HardwareParams
from schedopt.json_value import JSON
from schedopt.layout_rewrite import LayoutRewriteOption
from schedopt.measurement import MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.schedule.loop_state import State
from schedopt.schedule.transform_steps import step_from_record
from schedopt.search_task import SearchTask, target_kind

RECORD_VERSION = "v0.6"
"""The version this writer stamps on every record."""

READABLE_VERSIONS = ("v0.5", "v0.6")

HARDWARE_PARAM_FIELDS = RECORD_FIELDS
"""The hardware parameters a record stores, in the record's order."""

_ERROR_CODES = frozenset(code.value for code in MeasureErrorNo)
_LAYOUT_REWRITE_OPTIONS = frozenset(option.value for option in LayoutRewriteOption)


@dataclass(frozen=True)
class Record:
    """One stored record: its line of text and the pair it decodes to.

    `location` says where it was read ("tune.json:12", "tune.db:row 12"),
    for messages; it is empty for a record not read from a file.
    """

    text: str
    input: MeasureInput
    result: MeasureResult
    location: str = ""

    @staticmethod
    def encode(measure_input: MeasureInput, result: MeasureResult) -> Record:
        return Record(encode_record(measure_input, result), measure_input, result)

    @staticmethod
    def decode(text: str, location: str = "") -> Record:
        measure_input, result = decode_record(text)
        return Record(text, measure_input, result, location)

    @property
    def workload_key(self) -> str:
        return self.input.task.workload_key

    @property
    def target_kind(self) -> str:
        return target_kind(self.input.task.target)

    @property
    def is_valid(self) -> bool:
        """Whether the measurement succeeded."""
        return self.result.error_no == MeasureErrorNo.NO_ERROR

    @property
    def workload_hash(self) -> str | None:
        """The structural hash of the record's computation: stored in it, else derived from its key, else None."""
        return self.input.task.workload_hash

    def matches(self, workload_key: str | None, target: str | None, workload_hash: str | None = None) -> bool:
        """Whether the record is for the workload and a target of `target`'s kind (None: any).

        The workload is given by its key and structural hash: a record matches
        if either is its own (None: any workload, when both are None).
        """
        if target is not None and self.target_kind != target_kind(target):
            return False
        if workload_key is None and workload_hash is None:
            return True
        return self.workload_key == workload_key or (
            workload_hash is not None and self.workload_hash == workload_hash
        )


# --- writing ---------------------------------------------------------------------------------


def encode_record(measure_input: MeasureInput, result: MeasureResult) -> str:
    """The record line of a measurement (no trailing newline)."""
    task = measure_input.task
    task_record = [
        task.workload_key,
        task.target,
        _encode_hardware_params(task.hardware_params),
        task.target_host or "",
        int(task.layout_rewrite_option),
        list(task.task_input_names),
    ]
    if task.workload_hash is not None:
        task_record.append(task.workload_hash)
    state_record = [[], [step.to_record() for step in measure_input.state.transform_steps]]
    result_record: list[JSON] = [list(result.costs), int(result.error_no), result.all_cost, result.timestamp]
    if result.device_key is not None:
        result_record.append(result.device_key)
    return json.dumps({"i": [task_record, state_record], "r": result_record, "v": RECORD_VERSION})


def _encode_hardware_params(params: object) -> list[int | None] | None:
    if params is None:
        return None
    missing = [name for name in HARDWARE_PARAM_FIELDS if not hasattr(params, name)]
    if missing:
        raise RecordError(f"hardware params {params!r} lack the fields {', '.join(missing)}")
    return [getattr(params, name) for name in HARDWARE_PARAM_FIELDS]


# --- reading ---------------------------------------------------------------------------------


def decode_record(text: str) -> tuple[MeasureInput, MeasureResult]:
    """The measurement a record line holds; `RecordError` saying what is wrong with a bad line."""
    try:
        record: JSON = json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(f"not valid JSON ({error.msg} at column {error.colno}; truncated?)") from None
    if not isinstance(record, dict):
        raise RecordError("a record is a JSON object with keys i, r and v")
    if not {"i", "r", "v"} <= record.keys():
        raise RecordError("a record needs the keys i, r and v")
    version = record["v"]
    if version not in READABLE_VERSIONS:
        raise RecordError(
            f"unsupported record version {version!r} (readable: {', '.join(READABLE_VERSIONS)})"
        )
    measure_input = _decode_input(record["i"])
    result = _decode_result(record["r"])
    return measure_input, result


def _decode_input(record: JSON) -> MeasureInput:
    if not (isinstance(record, list) and len(record) == 2):
        raise RecordError('"i" must be [task, state]')
    task_record, state_record = record
    task = _decode_task(task_record)
    if not (isinstance(state_record, list) and len(state_record) == 2 and isinstance(state_record[1], list)):
        raise RecordError('the state in "i" must be [[], [steps]]')
    try:
        steps = [step_from_record(step) for step in state_record[1]]
    except SchedOptError as error:
        raise RecordError(str(error)) from None
    return MeasureInput(task, State([], steps))


def _decode_task(record: JSON) -> SearchTask:
    if not (isinstance(record, list) and len(record) >= 2):
        raise RecordError("the task must be [workload_key, target, ...]")
    fields = [*record, *[None] * (7 - len(record))]
    workload_key, target, hardware_params, target_host, layout_rewrite_option, input_names, workload_hash = (
        fields[:7]
    )
    if not isinstance(workload_key, str):
        raise RecordError("the workload key must be a string")
    if not (workload_hash is None or isinstance(workload_hash, str)):
        raise RecordError("the workload hash must be a string")
    if not (isinstance(target, str) and target.strip()):
        raise RecordError("the target must be a non-empty string")
    if not (target_host is None or isinstance(target_host, str)):
        raise RecordError("the target host must be a string")
    if not (layout_rewrite_option is None or _is_layout_rewrite_option(layout_rewrite_option)):
        raise RecordError(f"unknown layout rewrite option {layout_rewrite_option!r}")
    if not (input_names is None or _is_string_list(input_names)):
        raise RecordError("the task input names must be a list of strings")
    return SearchTask.without_dag(
        workload_key,
        target,
        target_host or None,
        _decode_hardware_params(hardware_params),
        layout_rewrite_option,
        input_names or (),
        workload_hash or None,
    )


def _is_layout_rewrite_option(value: JSON) -> TypeGuard[int]:
    return isinstance(value, int) and value in _LAYOUT_REWRITE_OPTIONS


def _is_string_list(value: JSON) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _decode_hardware_params(record: JSON) -> HardwareParams | None:
    if record is None:
        return None
    if not (
        isinstance(record, list)
        and len(record) == len(HARDWARE_PARAM_FIELDS)
        and all(v is None or isinstance(v, int) for v in record)
    ):
        raise RecordError(f"the hardware params must be {len(HARDWARE_PARAM_FIELDS)} integers")
    return _hardware_params(tuple(v if isinstance(v, int) else None for v in record))


@functools.lru_cache(maxsize=64)
def _hardware_params(values: tuple[int | None, ...]) -> HardwareParams:
    """One object per distinct value: a file of thousands of records names a handful of machines."""
    cores, vector_bytes, cache_line, shared_memory, local_memory, threads, vthreads, warp = values
    try:
        return HardwareParams(
            num_cores=cores,
            vector_unit_bytes=vector_bytes,
            cache_line_bytes=cache_line,
            max_shared_memory_per_block=shared_memory,
            max_local_memory_per_block=local_memory,
            max_threads_per_block=threads,
            max_vthread_extent=vthreads,
            warp_size=warp,
        )
    except SchedOptError as error:
        raise RecordError(str(error)) from None


def _decode_result(record: JSON) -> MeasureResult:
    if not (isinstance(record, list) and len(record) in (4, 5)):
        raise RecordError(
            '"r" must be [costs, error_no, all_cost, timestamp] or with a device key after them'
        )
    costs, error_no, all_cost, timestamp = record[:4]
    device_key = record[4] if len(record) == 5 else None
    if not (device_key is None or (isinstance(device_key, str) and device_key)):
        raise RecordError("the device key must be a non-empty string")
    numbers = [cost for cost in costs if _is_number(cost)] if isinstance(costs, list) else []
    if not isinstance(costs, list) or len(numbers) != len(costs):
        raise RecordError("the costs must be a list of numbers")
    if not (isinstance(error_no, int) and error_no in _ERROR_CODES):
        raise RecordError(f"unknown error code {error_no!r}")
    if not (_is_number(all_cost) and _is_number(timestamp)):
        raise RecordError("all_cost and timestamp must be numbers")
    return MeasureResult(tuple(numbers), MeasureErrorNo(error_no), "", all_cost, timestamp, device_key)


def _is_number(value: JSON) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
