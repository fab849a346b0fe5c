"""train-cost-model: the records of the module's functions and of registered workloads train the model."""

from __future__ import annotations

import pytest
from xdsl.context import Context

import schedopt as ss
from schedopt.cost_model import XGBModel
from schedopt.errors import RecordError
from schedopt.hardware_params import HardwareParams
from schedopt.measurement import MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.passes.train_cost_model import TrainCostModelPass
from schedopt.search_policy import SketchPolicy


def measured(task: ss.SearchTask, n: int) -> tuple[list[MeasureInput], list[MeasureResult]]:
    policy = SketchPolicy(
        task, seed=0, verbose=0, params={"evolutionary_search_population": n, "sample_init_min_population": n}
    )
    states = policy.sample_initial_population()[:n]
    results = [MeasureResult((1e-5 * (1 + i % 4),), MeasureErrorNo.NO_ERROR, "", 0.0, 0.0) for i in range(n)]
    return [MeasureInput(task, s) for s in states], results


def test_trains_on_module_and_registered_records_and_skips_unknown_ones(tmp_path, capsys):
    registered = ss.SearchTask("matmul", (16, 16, 16), hardware_params=HardwareParams(num_cores=2))
    module = registered.compute_dag.module.clone()
    own = ss.SearchTask(compute_dag=ss.ComputeDAG(module))  # keyed by a hash of its IR
    unknown = ss.SearchTask(compute_dag=ss.ComputeDAG(ss.workload_key_to_tensors('["matmul", 8, 8, 8]')))
    db = tmp_path / "records.json"
    for task, n in ((own, 6), (registered, 5), (unknown, 3)):
        ss.save_records(db, *measured(task, n))
    model_file = tmp_path / "model.json"

    TrainCostModelPass(db=str(db), model=str(model_file)).apply(Context(), module)

    stderr = capsys.readouterr().err
    assert f"skipped the records of 1 unknown workload(s): {unknown.workload_key}" in stderr
    assert f"trained on 11 records of 2 workload(s); saved to {model_file}" in stderr
    model = XGBModel(model_file=model_file)
    scores = model.predict(own, [i.state for i in measured(own, 6)[0]])
    assert len(scores) == 6 and len(set(scores)) > 1  # the trained trees, not random warm-up scores


def test_a_database_without_usable_records_is_an_error(tmp_path):
    unknown = ss.SearchTask(compute_dag=ss.ComputeDAG(ss.workload_key_to_tensors('["matmul", 8, 8, 8]')))
    db = tmp_path / "records.json"
    ss.save_records(db, *measured(unknown, 2))
    module = ss.ComputeDAG('["matmul", 16, 16, 16]').module.clone()
    with pytest.raises(RecordError, match=r"no record in .*records\.json belongs to a workload"):
        TrainCostModelPass(db=str(db), model=str(tmp_path / "model.json")).apply(Context(), module)
