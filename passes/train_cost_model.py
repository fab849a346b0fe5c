"""`train-cost-model`: train the learned cost model on a record database and save it.

The records of each te function of the module (matched by the function's
workload key, as `measure` writes them) train an `XGBModel` together with
the records of registered workloads in the same database; records of other
workloads are skipped, as their computation is unknown. The model is saved
to `model` (XGBoost's format, `.json` or `.ubj`), where a tuning run can
start from it. The module is left as it is:

    sched-opt matmul.mlir -p 'measure{db="matmul.json"},train-cost-model{db="matmul.json" model="xgb.json"}'

A remark on stderr says how many records trained the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from schedopt.compute_dag import ComputeDAG
from schedopt.cost_model import XGBModel
from schedopt.errors import RecordError, WorkloadError
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.passes.pass_support import remark, te_functions
from schedopt.records import RecordReader, recover_measure_input
from schedopt.search_task import SearchTask


@dataclass(frozen=True)
class TrainCostModelPass(ModulePass):
    """Train an XGBModel on the records of `db` and save it to `model`.

    Options:
    - `db`: the record file, JSON lines (`.json`) or SQLite (`.db`).
    - `model`: the file to save the model to.
    - `n_lines`: train on the first this many records only (default: all).
    """

    name = "train-cost-model"

    db: str
    model: str
    n_lines: int | None = None

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        dags = {dag.workload_key(): dag for dag in map(ComputeDAG, te_functions(op))}
        inputs: list[MeasureInput] = []
        results: list[MeasureResult] = []
        tasks: dict[str, SearchTask | None] = {}
        for measure_input, result in zip(*RecordReader(self.db).read_lines(self.n_lines), strict=True):
            key = measure_input.task.workload_key
            if key not in tasks:
                tasks[key] = _task(measure_input, dags.get(key))
            task = tasks[key]
            if task is not None:
                inputs.append(MeasureInput(task, measure_input.state))
                results.append(result)
        skipped = sorted(key for key, task in tasks.items() if task is None)
        if skipped:
            remark(
                self.name, f"skipped the records of {len(skipped)} unknown workload(s): {', '.join(skipped)}"
            )
        if not inputs:
            raise RecordError(
                f"{self.name}: no record in {self.db} belongs to a workload of the module or registry"
            )
        model = XGBModel(verbose_eval=0)
        model.update(inputs, results)
        model.save(self.model)
        remark(
            self.name,
            f"trained on {len(inputs)} records of {len(tasks) - len(skipped)} workload(s); saved to {self.model}",
        )


def _task(measure_input: MeasureInput, dag: ComputeDAG | None) -> SearchTask | None:
    """The record's task with its DAG: the module's function, else the registered workload, else None."""
    task = measure_input.task
    if dag is None:
        try:
            return recover_measure_input(measure_input).task
        except WorkloadError:
            return None
    return SearchTask(
        compute_dag=dag,
        workload_key=task.workload_key,
        target=task.target,
        target_host=task.target_host,
        hardware_params=task.hardware_params,
    )
