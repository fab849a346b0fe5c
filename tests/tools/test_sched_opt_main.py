"""The sched-opt driver: xdsl-opt plus our dialects and passes, with clean diagnostics."""

import subprocess
import sys
from pathlib import Path

import pytest

from schedopt.tools.sched_opt_main import main

ELEMENTWISE = """\
func.func @add_one(%A: tensor<4xf32> {te.name = "A"}) -> tensor<4xf32> {
  %B = te.compute "B" spatial(i: 4) ins(%A : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%i: index):
    %a = te.read %A[%i] : tensor<4xf32>
    %one = arith.constant 1.0 : f32
    %s = arith.addf %a, %one : f32
    te.yield %s : f32
  }
  func.return %B : tensor<4xf32>
}
"""


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "add_one.mlir"
    path.write_text(ELEMENTWISE)
    return path


def test_round_trips_te(source: Path, capsys: pytest.CaptureFixture[str]):
    assert main([str(source)]) == 0
    assert 'te.compute "B" spatial(i: 4)' in capsys.readouterr().out


def test_runs_our_passes(source: Path, capsys: pytest.CaptureFixture[str]):
    assert main([str(source), "-p", "te-lower"]) == 0
    out = capsys.readouterr().out
    assert "scf.for" in out and "memref.store" in out and "te.compute" not in out


def test_lowers_te_to_llvm_ir(source: Path, capsys: pytest.CaptureFixture[str]):
    assert main([str(source), "-p", "lower-to-llvm", "-t", "llvm"]) == 0
    assert 'define void @"add_one"(ptr' in capsys.readouterr().out


def test_upstream_passes_still_work(source: Path, capsys: pytest.CaptureFixture[str]):
    assert main([str(source), "-p", "te-lower,canonicalize,cse"]) == 0
    assert "scf.for" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        (ELEMENTWISE, ["-p", "no-such-pass"], "Unrecognized passes: ['no-such-pass']"),
        ("func.func @f( {", [], "Expected argument or type"),
        (ELEMENTWISE.replace("%A[%i]", "%A[%i, %i]"), [], "te.read of A: 2 indices for a tensor of rank 1"),
    ],
)
def test_bad_input_is_a_diagnostic_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, args: list[str], message: str
):
    path = tmp_path / "bad.mlir"
    path.write_text(text)
    assert main([str(path), *args]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_console_script_exits_non_zero(tmp_path: Path):
    path = tmp_path / "bad.mlir"
    path.write_text("func.func @f( {")
    result = subprocess.run(
        [sys.executable, "-m", "schedopt.tools.sched_opt_main", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
