"""A workload's arguments by name, as its te definition takes them.

A workload key holds the arguments in order, with the trailing defaults left
out. The numpy references and baselines read them by name from the te
definition's signature, so a workload's parameter list is written once.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from types import SimpleNamespace

from schedopt.errors import WorkloadError
from schedopt.workload_registry import WORKLOAD_FUNC_REGISTRY, lookup_workload


def workload_arguments(name: str, args: Sequence[object]) -> SimpleNamespace:
    """`args` bound to the parameters of workload `name`, the left-out ones defaulted: `.stride`, `.dtype`, ..."""
    define = lookup_workload(name)
    if define is None:
        known = ", ".join(sorted(WORKLOAD_FUNC_REGISTRY))
        raise WorkloadError(f"no workload {name!r} is registered (known: {known})")
    try:
        bound = inspect.signature(define).bind(*args)
    except TypeError as error:
        raise WorkloadError(f"{name}: arguments {list(args)!r} do not fit: {error}") from error
    bound.apply_defaults()
    return SimpleNamespace(**bound.arguments)
