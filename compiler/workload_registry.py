"""The workload registry: names of compute declarations, and keys that find them again.

A registered workload is a function returning the te tensors of a
computation. Its key, `json.dumps([func_name, *args])` as in TVM, is what
records and search tasks store; `workload_key_to_tensors` turns a key back
into tensors, so a record file can be replayed in a later process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TypeGuard, TypeVar, cast, overload

from xdsl.dialects import func

from schedopt.errors import WorkloadError
from schedopt.json_value import JSON
from schedopt.te import Tensor

WorkloadFunc = Callable[..., Sequence[Tensor]]
F = TypeVar("F", bound=WorkloadFunc)

WORKLOAD_FUNC_REGISTRY: dict[str, WorkloadFunc] = {}
"""Registered workload functions by name."""

WORKLOAD_TE_FUNCTIONS: dict[str, func.FuncOp] = {}
"""te functions registered under their DAG's key (`[hash, shapes...]`): a network's operators."""


@overload
def register_workload(func_name: F, f: None = None, override: bool = False) -> F: ...
@overload
def register_workload(func_name: str, f: F | None = None, override: bool = False) -> Callable[[F], F]: ...


def register_workload(func_name: str | F, f: F | None = None, override: bool = False) -> F | Callable[[F], F]:
    """Register a function that returns the tensors of a workload.

    Used as `@register_workload`, `@register_workload("name")`, or
    `register_workload("name", func)`. Registering another function under a
    taken name raises `WorkloadError` unless `override` is set.
    """
    if callable(func_name):
        return _register(func_name.__name__, func_name, override)
    name = func_name

    def register(function: F) -> F:
        return _register(name, function, override)

    return register if f is None else register(f)


def _register(name: str, function: F, override: bool) -> F:
    existing = WORKLOAD_FUNC_REGISTRY.get(name)
    if existing is not None and existing is not function and not override:
        raise WorkloadError(f"workload {name!r} is already registered (pass override=True to replace it)")
    WORKLOAD_FUNC_REGISTRY[name] = function
    return function


def lookup_workload(name: str) -> WorkloadFunc | None:
    """The function registered as `name` (the package registers sched-opt's workload library on import)."""
    return WORKLOAD_FUNC_REGISTRY.get(name)


def make_workload_key(func: WorkloadFunc | str, args: Sequence[object]) -> str:
    """The key of workload `func` called with `args`: `json.dumps([name, *args])`."""
    name = func if isinstance(func, str) else func.__name__
    if lookup_workload(name) is None:
        raise WorkloadError(f"workload {name!r} is not registered; decorate it with @register_workload")
    try:
        return json.dumps([name, *_serializable(args)])
    except TypeError as error:
        raise WorkloadError(f"arguments of workload {name!r} are not JSON-serialisable: {error}") from None


def decode_workload_key(workload_key: str) -> tuple[str, list[JSON]]:
    """The function name and arguments a key stands for."""
    try:
        decoded: JSON = json.loads(workload_key)
    except json.JSONDecodeError:
        raise WorkloadError(f"malformed workload key {workload_key!r} (expected a JSON list)") from None
    if not isinstance(decoded, list) or not decoded or not isinstance(decoded[0], str):
        raise WorkloadError(f"malformed workload key {workload_key!r} (expected [name, *args])")
    return decoded[0], decoded[1:]


def register_workload_function(workload_key: str, function: func.FuncOp) -> None:
    """Register the te function a DAG's key (`ComputeDAG.workload_key`) stands for (TVM's
    `register_workload_tensors`): `ComputeDAG(workload_key)` then rebuilds it, so a task
    extracted from a network can be recreated from its records in this process."""
    WORKLOAD_TE_FUNCTIONS[workload_key] = function.clone()


def lookup_workload_function(workload_key: str) -> func.FuncOp | None:
    """The te function registered under `workload_key`, if any (not a copy: clone it to change it)."""
    return WORKLOAD_TE_FUNCTIONS.get(workload_key)


def workload_key_to_tensors(workload_key: str) -> list[Tensor]:
    """Call the registered function a key names and return its tensors."""
    name, args = decode_workload_key(workload_key)
    function = lookup_workload(name)
    if function is None:
        known = ", ".join(sorted(WORKLOAD_FUNC_REGISTRY)) or "none"
        raise WorkloadError(f"unknown workload {name!r} in key {workload_key} (registered: {known})")
    try:
        tensors = function(*args)
    except (TypeError, ValueError) as error:
        raise WorkloadError(f"workload {name!r} cannot be called with {args}: {error}") from None
    if not _is_tensor_sequence(tensors):
        raise WorkloadError(f"workload {name!r} must return a list of te tensors")
    return list(tensors)


def _is_tensor_sequence(value: object) -> TypeGuard[Sequence[Tensor]]:
    """Whether a registered function returned te tensors: its annotations may not hold at run time."""
    if not isinstance(value, Sequence):
        return False
    items = cast(Sequence[object], value)  # what isinstance proves: a sequence, of anything
    return all(isinstance(t, Tensor) for t in items)


def _serializable(args: Sequence[object]) -> list[object]:
    """`args` with tuples as lists, as JSON has them (json.dumps rejects what is left that JSON lacks)."""
    return [_serializable(a) if _is_array(a) else a for a in args]


def _is_array(value: object) -> TypeGuard[tuple[object, ...] | list[object]]:
    """A tuple or a list: what JSON writes as an array."""
    return isinstance(value, tuple | list)
