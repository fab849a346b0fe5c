"""The apply-history-best pass: the best record becomes a schedule of its function, or a remark says none exists."""

from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects import func, transform
from xdsl.dialects.builtin import ModuleOp, SymbolRefAttr
from xdsl.parser import Parser

from schedopt.build import argument_specs
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import RecordError, ScheduleError
from schedopt.ir_context import schedule_context
from schedopt.measurement import MeasureInput, MeasureResult
from schedopt.passes import get_all_passes
from schedopt.passes.apply_history_best import ApplyHistoryBestPass
from schedopt.passes.apply_schedule import ApplySchedulePass
from schedopt.passes.convert_to_llvm import ConvertToLLVMPass
from schedopt.records import RecordToFile, load_best_record, save_records
from schedopt.runtime import compile_module
from schedopt.schedule.loop_state import State
from schedopt.schedule.schedule_program import program_to_state
from schedopt.schedule.transform_steps import SplitStep
from schedopt.search_policy import EmptyPolicy, PreloadMeasuredStates
from schedopt.search_task import SearchTask
from schedopt.tools.sched_opt_main import main

FUNCTION = """\
func.func @{name}(%A: tensor<8x{n}xf32> {{te.name = "A"}}) -> tensor<8x{n}xf32> {{
  %B = te.compute "B" spatial(i: 8, j: {n}) ins(%A : tensor<8x{n}xf32>) -> tensor<8x{n}xf32> {{
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<8x{n}xf32>
    %s = arith.addf %a, %a : f32
    te.yield %s : f32
  }}
  func.return %B : tensor<8x{n}xf32>
}}
"""


def parse(text: str) -> ModuleOp:
    return Parser(schedule_context(), text).parse_module()


def dag_of(module: ModuleOp, name: str) -> ComputeDAG:
    return ComputeDAG(
        next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == name)
    )


def record(dag: ComputeDAG, factor: int, cost: float) -> tuple[MeasureInput, MeasureResult]:
    state = dag.get_init_state()
    state.split("B", "j", [factor])
    return MeasureInput(SearchTask(compute_dag=dag), state), MeasureResult((cost,), 0, "", 0.0, 0.0)


@pytest.fixture
def module() -> ModuleOp:
    return parse(FUNCTION.format(name="double", n=8) + FUNCTION.format(name="wide", n=16))


def test_attaches_the_best_schedule_and_remarks_on_the_rest(
    module: ModuleOp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    db = tmp_path / "log.db"
    dag = dag_of(module, "double")
    save_records(db, *zip(record(dag, 2, 3e-3), record(dag, 4, 1e-3), strict=True))
    ApplyHistoryBestPass(db=str(db)).apply(schedule_context(), module)
    module.verify()
    (program,) = [op for op in module.ops if isinstance(op, transform.NamedSequenceOp)]
    assert program.sym_name.data == "__schedule_double"
    assert program.attributes["sched.target"] == SymbolRefAttr("double")
    assert program_to_state(dag, program).transform_steps[0].lengths == (4,)
    assert "transform.with_named_sequence" in module.attributes
    remark = capsys.readouterr().err
    assert (
        f"remark: apply-history-best: no record for @wide (workload key {dag_of(module, 'wide').workload_key()})"
        in remark
    )
    assert "@wide stays unscheduled" in remark


def test_attached_schedule_lowers_and_runs(tmp_path: Path):
    module = parse(FUNCTION.format(name="double", n=8))
    db = tmp_path / "log.json"
    dag = dag_of(module, "double")
    save_records(db, *zip(record(dag, 4, 1e-3), strict=True))
    ApplyHistoryBestPass(db=str(db)).apply(schedule_context(), module)
    ApplySchedulePass().apply(schedule_context(), module)
    ConvertToLLVMPass().apply(schedule_context(), module)
    kernel = compile_module(module).get_function("double", argument_specs(dag))
    a = np.arange(64, dtype=np.float32).reshape(8, 8)
    b = np.empty_like(a)
    kernel(a, b)
    np.testing.assert_array_equal(b, 2 * a)


def test_existing_schedule_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    text = FUNCTION.format(name="double", n=8)
    schedule = """
transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  transform.yield
}
"""
    module = parse(text + schedule)
    db = tmp_path / "log.json"
    save_records(db, *zip(record(dag_of(module, "double"), 4, 1e-3), strict=True))
    ApplyHistoryBestPass(db=str(db)).apply(schedule_context(), module)
    programs = [op.sym_name.data for op in module.ops if isinstance(op, transform.NamedSequenceOp)]
    assert programs == ["__transform_main"]
    assert "@double already has a schedule; it is kept" in capsys.readouterr().err


def test_record_that_does_not_apply_is_an_error(module: ModuleOp, tmp_path: Path):
    db = tmp_path / "log.json"
    dag = dag_of(module, "double")
    bad = MeasureInput(SearchTask(compute_dag=dag), State([], [SplitStep(1, 5, 8, (2,), True)]))
    save_records(db, [bad], [MeasureResult((1e-3,), 0, "", 0.0, 0.0)])
    with pytest.raises(ScheduleError, match=r"the best record for @double in .*log.json does not apply"):
        ApplyHistoryBestPass(db=str(db)).apply(schedule_context(), module)


def test_missing_database_is_an_error(module: ModuleOp, tmp_path: Path):
    with pytest.raises(RecordError, match=r"missing\.json"):
        ApplyHistoryBestPass(db=str(tmp_path / "missing.json")).apply(schedule_context(), module)


def test_registered():
    assert get_all_passes()["apply-history-best"]() is ApplyHistoryBestPass


# --- one computation, two front ends: Python tasks and IR files share records --------------------

SPLIT_I_BY_4 = """
transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i, %j, %k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
  %io, %ii = sched.split %C, %i by [4] : !sched.iter, !sched.iter
  transform.yield
}
"""


@pytest.mark.parametrize(("func_name", "suffix"), [("matmul", ".json"), ("gemm", ".db")])
def test_records_written_from_python_serve_the_ir_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], func_name: str, suffix: str
):
    """Records keyed `["matmul", 64, 64, 64]` are found for `dag.module` by `sched-opt`, under any function name."""
    task = SearchTask("matmul", (64, 64, 64))
    dag = task.compute_dag
    assert dag is not None
    log = tmp_path / f"matmul{suffix}"
    inputs, results = [], []
    for factor, cost in ((4, 2e-3), (8, 1e-3), (16, 3e-3)):
        state = dag.get_init_state()
        state.split("C", "i", [factor])
        inputs.append(MeasureInput(task, state))
        results.append(MeasureResult((cost,), 0, "", 0.0, 0.0))
    RecordToFile(log).callback(None, inputs, results)
    source = tmp_path / "matmul.mlir"
    source.write_text(str(dag.module).replace("@matmul", f"@{func_name}"))
    assert main([str(source), "-p", f'apply-history-best{{db="{log}"}}']) == 0
    out = capsys.readouterr().out
    module = parse(out)
    (program,) = [op for op in module.ops if isinstance(op, transform.NamedSequenceOp)]
    assert program.sym_name.data == f"__schedule_{func_name}"
    assert program_to_state(dag_of(module, func_name), program).transform_steps[0].lengths == (8,)


def test_records_measured_from_the_ir_file_serve_python(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """The `measure` pass keys its records `[hash, shapes...]`; the registered task finds them by the hash."""
    task = SearchTask("matmul", (64, 64, 64))
    assert task.compute_dag is not None
    source = tmp_path / "gemm.mlir"
    source.write_text(str(task.compute_dag.func).replace("@matmul", "@gemm") + SPLIT_I_BY_4)
    log = tmp_path / "gemm.json"
    assert main([str(source), "-p", f'measure{{db="{log}" number=1 min_repeat_ms=0}}']) == 0
    assert "remark: measure: @gemm: " in capsys.readouterr().err
    best, result = load_best_record(log, task.workload_key, task.target)
    assert best is not None and result is not None and result.error_no == 0
    assert best.task.workload_key != task.workload_key and best.task.workload_hash == task.workload_hash
    assert best.state.transform_steps[0].lengths == (4,)
    _, state = task.apply_best(str(log))
    assert [it.name for it in state["C"].iters][:2] == ["i.0", "i.1"]
    resumed = EmptyPolicy(task, [PreloadMeasuredStates(str(log))], verbose=0)
    assert len(resumed.measured_states) == 1
