"""The measure pass: each schedule of a module is measured and recorded; the module is left as it is."""

from pathlib import Path

import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from schedopt.compute_dag import ComputeDAG
from schedopt.ir_context import schedule_context
from schedopt.measurement import MeasureErrorNo
from schedopt.passes import get_all_passes
from schedopt.passes.apply_history_best import ApplyHistoryBestPass
from schedopt.passes.measure import MeasurePass
from schedopt.records import load_records

MODULE = """\
func.func @double(%A: tensor<8x8xf32> {te.name = "A"}) -> tensor<8x8xf32> {
  %B = te.compute "B" spatial(i: 8, j: 8) ins(%A : tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%i: index, %j: index):
    %a = te.read %A[%i, %j] : tensor<8x8xf32>
    %s = arith.addf %a, %a : f32
    te.yield %s : f32
  }
  func.return %B : tensor<8x8xf32>
}

transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %B = sched.get_stage "B" in %root : (!transform.any_op) -> !sched.stage
  %i, %j = sched.get_iters %B : !sched.iter, !sched.iter
  %io, %ii = sched.split %B, %i by [2] : !sched.iter, !sched.iter
  transform.yield
}
"""


def parse(text: str) -> ModuleOp:
    return Parser(schedule_context(), text).parse_module()


def measure(module: ModuleOp, db: Path) -> None:
    MeasurePass(db=str(db), number=1, min_repeat_ms=0, timeout=5).apply(schedule_context(), module)


def test_measures_and_records_each_schedule(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    module = parse(MODULE)
    before = str(module)
    db = tmp_path / "log.db"
    measure(module, db)
    assert str(module) == before
    ((measure_input, result),) = load_records(db)
    dag = ComputeDAG(next(op for op in module.ops if isinstance(op, func.FuncOp)))
    assert measure_input.task.workload_key == dag.workload_key()
    assert measure_input.state.transform_steps[0].lengths == (2,)
    assert result.error_no == MeasureErrorNo.NO_ERROR
    assert "remark: measure: @double: " in capsys.readouterr().err


def test_records_feed_apply_history_best(tmp_path: Path):
    db = tmp_path / "log.json"
    measure(parse(MODULE), db)
    unscheduled = parse(MODULE.split("transform.named_sequence")[0])
    ApplyHistoryBestPass(db=str(db)).apply(schedule_context(), unscheduled)
    assert "sched.split %B, %B_i by [2]" in str(unscheduled)


def test_module_without_schedules(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    db = tmp_path / "log.json"
    measure(parse(MODULE.split("transform.named_sequence")[0]), db)
    assert not db.exists()
    assert "the module has no schedules to measure" in capsys.readouterr().err


def test_registered():
    assert get_all_passes()["measure"]() is MeasurePass
