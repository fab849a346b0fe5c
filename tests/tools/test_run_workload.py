"""`sched-opt-run`: the main job tunes, checks and tables; bad input is an error, not a traceback."""

import pytest

import schedopt as ss
from schedopt.tools.run_workload import main


def test_tunes_checks_and_prints_the_table(tmp_path, capsys):
    log = tmp_path / "mm.json"
    code = main(["matmul", "32", "32", "32", "--trials", "4", "--per-round", "4", "--log", str(log)])
    out = capsys.readouterr().out
    assert code == 0
    assert "round   1 | trials     4/4 | best" in out
    assert "the tuned program's outputs C match numpy" in out
    for row in ("sched-opt unscheduled", "sched-opt tuned", "numpy"):
        assert row in out
    assert str(log) in out and log.exists()


def test_an_ir_file_is_tuned_against_its_unscheduled_program(tmp_path, capsys):
    ir = tmp_path / "double.mlir"
    ir.write_text(
        """func.func @double(%A: tensor<64xf32> {te.name = "A"}) -> tensor<64xf32> {
  %B = te.compute "B" spatial(i: 64) ins(%A : tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<64xf32>
    %b = arith.addf %a, %a : f32
    te.yield %b : f32
  }
  func.return %B : tensor<64xf32>
}
"""
    )
    code = main(["--ir", str(ir), "--trials", "2", "--per-round", "2", "--log", str(tmp_path / "d.json")])
    assert code == 0
    assert "sched-opt tuned" in capsys.readouterr().out


def test_an_unknown_workload_is_a_clear_error(capsys):
    assert main(["no_such_workload", "1"]) == 1
    assert "sched-opt-run: error: workload 'no_such_workload' is not registered" in capsys.readouterr().err


def test_a_network_compiles_checks_against_onnxruntime_and_tables(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from schedopt.frontend.model_zoo import resnet18

    model = tmp_path / "small.onnx"
    onnx.save(resnet18(image=32, classes=10), model)
    code = main(["--onnx", str(model), "--trials", "0", "--repeat", "1", "--log", str(tmp_path / "net.json")])
    out = capsys.readouterr().out
    assert code == 0
    assert "network   small: 18 tasks, 23 operator calls to tune" in out
    assert "check     the outputs match onnxruntime's" in out
    assert "sched-opt" in out and "onnxruntime" in out


def test_a_network_budget_below_one_trial_per_task_is_a_clear_error(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from schedopt.frontend.model_zoo import resnet18

    model = tmp_path / "small.onnx"
    onnx.save(resnet18(image=32, classes=10), model)
    assert main(["--onnx", str(model), "--trials", "4", "--log", str(tmp_path / "net.json")]) == 1
    assert "below one trial per task (18 tasks)" in capsys.readouterr().err


def test_a_workload_and_a_network_together_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["matmul", "8", "8", "8", "--model", "resnet18"])
    assert "give one of" in capsys.readouterr().err


def test_outputs_that_differ_from_onnxruntime_are_a_clear_error():
    pytest.importorskip("onnxruntime")
    np = pytest.importorskip("numpy")
    from schedopt.frontend.model_zoo import resnet18
    from schedopt.tools.run_network import ReferenceRun

    model = resnet18(image=32, classes=10)
    compiled = ss.compile_model(model)

    class Wrong:
        inputs = compiled.inputs

        def __call__(self, *inputs):
            return [np.zeros_like(out) for out in compiled(*inputs)]

    with pytest.raises(ss.SchedOptError, match="output 0 differs from onnxruntime's"):
        ReferenceRun.checked(model, Wrong(), seed=0, threads=1)  # type: ignore[arg-type]
    ReferenceRun.checked(model, compiled, seed=0, threads=1)  # the right outputs pass
