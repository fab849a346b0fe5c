"""benchmarks/bench_network.py: it tunes in its own process and times the models in a fresh one."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from benchmark_scripts import load_benchmark

bench_network = load_benchmark("bench_network")


def test_models_are_timed_in_a_fresh_process_and_the_table_keeps_the_tuning_time(
    tmp_path, monkeypatch, capsys
):
    commands: list[list[str]] = []

    def run(command, check):
        commands.append(command)
        timing_out = next(a.split("=", 1)[1] for a in command if a.startswith("--timing-out="))
        row = bench_network.Row("resnet18", 18, 64, 0.0, 9.0, 9.5, 8.1, 8.2)
        with open(timing_out, "w") as out:
            json.dump([asdict(row)], out)

    monkeypatch.setattr(bench_network, "reexec_without_openblas_overrides", lambda: None)
    monkeypatch.setattr(bench_network, "_tune_models", lambda options: {"resnet18": 42.0})
    monkeypatch.setattr(bench_network.subprocess, "run", run)
    report = tmp_path / "rows.json"
    argv = ["bench_network.py", "resnet18", "--trials", "64", f"--out-dir={tmp_path}", "--json", str(report)]
    monkeypatch.setattr(sys, "argv", argv)

    assert bench_network.main() == 0
    (command,) = commands
    assert command[:3] == [sys.executable, bench_network.__file__, "resnet18"]
    assert f"--out-dir={tmp_path}" in command
    (row,) = json.loads(report.read_text())["rows"]
    assert row["tuning_s"] == 42.0 and row["schedopt_ms"] == 9.0 and row["speedup"] == 8.1 / 9.0
    assert "resnet18" in capsys.readouterr().out
