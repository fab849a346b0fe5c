"""benchmarks/bench_vs_tvm.py: its arguments, and its error without a TVM Python (TVM never runs here)."""

from __future__ import annotations

import stat

import pytest
from benchmark_scripts import load_benchmark

bench_vs_tvm = load_benchmark("bench_vs_tvm")


def test_arguments_name_cases_seeds_and_the_tvm_python():
    options = bench_vs_tvm.parse_arguments(
        ["matmul-512", "conv2d-r18", "--trials", "8", "--seeds", "0", "1", "2", "--tvm-python", "/x/python"]
    )
    assert options.cases == ["matmul-512", "conv2d-r18"]
    assert (options.trials, options.seeds, options.tvm_python) == (8, [0, 1, 2], "/x/python")


def test_the_default_cases_are_the_issue_workloads_with_bench_tuning_conv2d_args():
    options = bench_vs_tvm.parse_arguments(["--tvm-python", "/x/python"])
    assert options.cases == [
        "matmul-512",
        "conv2d-r18",
        "conv2d-r18-nhwc",
        "dense-1x512x1000",
        "batch-matmul-8x256",
    ]
    assert options.trials == 200 and options.seeds == [0]
    bench_tuning = load_benchmark("bench_tuning")
    assert bench_vs_tvm.CASES["conv2d-r18-nhwc"].args == bench_tuning.CASES["conv2d-resnet18-3x3"].args
    assert bench_vs_tvm.CASES["conv2d-r18"].workload == "conv2d_nchw"


@pytest.mark.parametrize("argv", [["gemm-4096"], ["matmul-512", "--trials", "0"]])
def test_bad_arguments_are_refused(argv):
    with pytest.raises(SystemExit):
        bench_vs_tvm.parse_arguments(argv)


def _fake_python(tmp_path, body: str) -> str:
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_a_missing_tvm_python_is_a_clear_error_and_the_schedopt_side_is_still_planned(tmp_path, capsys):
    missing = str(tmp_path / "no-such-venv" / "python")
    status = bench_vs_tvm.main(
        ["matmul-128", "--tvm-python", missing, "--dry-run", "--work-dir", str(tmp_path)]
    )
    out, err = capsys.readouterr()
    assert status == 1
    assert f"TVM Python {missing} does not exist" in err
    assert "matmul-128 seed 0: sched-opt matmul(128, 128, 128)" in out and "MS: skipped" in out


def test_a_python_without_tvm_is_reported_with_its_import_error(tmp_path):
    python = _fake_python(tmp_path, "echo \"ModuleNotFoundError: No module named 'tvm'\" >&2; exit 1")
    probe = bench_vs_tvm.probe_tvm(python)
    assert (
        probe.error
        == f"{python} cannot import TVM's MetaSchedule: ModuleNotFoundError: No module named 'tvm'"
    )


def test_no_tvm_python_at_all_is_an_error(monkeypatch):
    monkeypatch.delenv("TVM_PYTHON", raising=False)
    assert "no TVM Python given" in (bench_vs_tvm.probe_tvm(None).error or "")


def test_a_working_probe_gives_the_versions(tmp_path):
    answer = '{"tvm": "0.27.0.post1", "llvm": 22, "schedopt": "/src/compiler", "numpy": "2.4.6"}'
    probe = bench_vs_tvm.probe_tvm(_fake_python(tmp_path, f"echo '{answer}'"))
    assert probe.error is None and (probe.tvm_version, probe.schedopt_dir, probe.numpy_version) == (
        "0.27.0.post1",
        "/src/compiler",
        "2.4.6",
    )


def test_reach_and_curves_come_from_the_tuning_time_measurements():
    run = bench_vs_tvm.Run(
        "matmul-128", "matmul", [128, 128, 128], 0, 1.0, schedopt_gflops=50.0, ms_gflops=40.0
    )
    ours = [10.0] * 64 + [30.0] + [0.0] * 70
    bench_vs_tvm.finish(run, ours, [5.0, 20.0, 25.0])
    assert run.reach_trial == 65 and run.schedopt_vs_ms == 1.25
    assert run.schedopt_curve == [(64, 10.0), (128, 30.0), (135, 30.0)]
    assert run.ms_curve == [(3, 25.0)]
    (median,) = bench_vs_tvm.medians([run])
    assert median["reach_trial"] == 65 and median["schedopt_vs_ms"] == 1.25


def test_the_table_has_a_median_row_per_case_and_lists_errors(capsys):
    runs = []
    for seed, ours in enumerate((200.0, 220.0, None)):
        run = bench_vs_tvm.Run(
            "conv2d-r18", "conv2d_nchw", [], seed, 1.0, schedopt_gflops=ours, ms_gflops=250.0
        )
        bench_vs_tvm.finish(run, [100.0] * 100 + [245.0] * 100 if ours else [], [244.0] * 200)
        runs.append(run)
    runs[2].errors.append("sched-opt tuning failed: X")
    (median,) = bench_vs_tvm.medians(runs)
    assert median["schedopt_gflops"] == 210.0 and median["reach_trial"] == 101
    bench_vs_tvm.print_table(runs, [median], ["a note"])
    out = capsys.readouterr().out
    assert "median" in out and "0.84x" in out and "note: a note" in out
    assert "error: conv2d-r18 seed 2: sched-opt tuning failed: X" in out


def test_the_retime_interleaves_the_programs_and_reports_best_and_median(monkeypatch):
    retime = load_benchmark("tvm_peer/retime")
    monkeypatch.setattr(retime, "PAUSE_S", 0.0)
    monkeypatch.setattr(retime, "MIN_REPEAT_S", 0.0)
    calls: list[str] = []
    timers = [retime.Timer(lambda name=name: calls.append(name), flop=1e9) for name in ("a", "b")]
    calls.clear()
    retime.run_rounds(timers, 3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    timers[0].seconds = [4.0, 1.0, 2.0]
    assert timers[0].gflops() == (1.0, 0.5)
