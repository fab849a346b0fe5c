"""Task extraction: the distinct operator functions of a network, as search tasks weighted by their calls.

As TVM's `auto_scheduler.extract_tasks` does for a Relay program: the model
is loaded and fused (`schedopt.frontend.load_network`), every fused
operator function becomes a ComputeDAG, and calls of the same computation
(same workload key: the structural hash and the I/O shapes, whatever the
functions are named) make one task, whose weight is the number of calls. A
network of twelve identical blocks gives each block's tasks weight 12, and
a task scheduler spends its trials accordingly.

The te function of each task is registered under its key
(`register_workload_function`), as TVM registers the tensors, so
`SearchTask(workload_key=...)` and the cost model's training on a record
file rebuild the DAG in this process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from schedopt.compute_dag import ComputeDAG
from schedopt.frontend.loading import load_network
from schedopt.frontend.network import Network, NetworkCall, OpPattern
from schedopt.hardware_params import HardwareParams
from schedopt.layout_rewrite import LayoutRewriteOption
from schedopt.search_task import SearchTask
from schedopt.workload_registry import register_workload_function


@dataclass
class OperatorWorkload:
    """One distinct computation of a network: its DAG and the calls that run it, in program order."""

    workload_key: str
    dag: ComputeDAG
    pattern: OpPattern
    calls: list[NetworkCall] = field(default_factory=list[NetworkCall])

    @property
    def function_names(self) -> list[str]:
        """The operator functions computing it, each once, in order of their first call."""
        return list(dict.fromkeys(call.name for call in self.calls))

    @property
    def is_simple(self) -> bool:
        """No reduction and not an out_elemwise_fusable anchor: nothing worth tuning (TVM's "simple task")."""
        has_reduction = any(op.reduction is not None for op in self.dag.compute_ops)
        return not has_reduction and self.pattern != OpPattern.OUT_ELEMWISE_FUSABLE


def operator_workloads(network: Network) -> list[OperatorWorkload]:
    """The distinct computations the network calls, in order of their first call."""
    dags: dict[str, ComputeDAG] = {}
    workloads: dict[str, OperatorWorkload] = {}
    for call in network.calls:
        dag = dags.get(call.name)
        if dag is None:
            dag = dags[call.name] = ComputeDAG(call.callee)
        key = dag.workload_key()
        workload = workloads.get(key)
        if workload is None:
            workload = workloads[key] = OperatorWorkload(key, dag, call.pattern)
        workload.calls.append(call)
    return list(workloads.values())


def extract_tasks(
    mod: Any,
    params: Mapping[str, np.ndarray] | None = None,
    target: str = "llvm",
    hardware_params: HardwareParams | None = None,
    include_simple_tasks: bool = False,
    layout_rewrite_option: int | None = None,
) -> tuple[list[SearchTask], list[int]]:
    """The tasks of a model and their weights (how many times the network calls each).

    `mod` is anything `load_network` takes (an ONNX model or path, a network
    or linalg module, a `Network`). Tasks come in the order the network first
    calls them; each task's `desc` names its operator functions. Tasks
    without a reduction that are not an out_elemwise_fusable anchor (a lone
    transpose, add, relu) are left out unless `include_simple_tasks`.
    `layout_rewrite_option` None is the target's default for a network
    (REWRITE_FOR_PRE_TRANSFORMED on llvm: `compile_model` transforms the
    weights once).
    """
    network = load_network(mod, params, target)
    option = (
        LayoutRewriteOption.get_target_default(target, in_relay_integration=True)
        if layout_rewrite_option is None
        else LayoutRewriteOption(layout_rewrite_option)
    )
    tasks: list[SearchTask] = []
    weights: list[int] = []
    for workload in operator_workloads(network):
        if workload.is_simple and not include_simple_tasks:
            continue
        register_workload_function(workload.workload_key, workload.dag.func)
        tasks.append(
            SearchTask(
                compute_dag=workload.dag,
                workload_key=workload.workload_key,
                target=target,
                hardware_params=hardware_params,
                layout_rewrite_option=option,
                desc=",".join(workload.function_names),
            )
        )
        weights.append(len(workload.calls))
    return tasks, weights
