"""`sched-opt-records`: list, best, convert and prune, with readable tables and warnings."""

import sys
from pathlib import Path

import pytest

from schedopt.measurement import MAX_FLOAT
from schedopt.records import load_records
from schedopt.tools.records_main import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compiler"))  # the shared record helper
from matmul_records import KEY, OTHER_KEY, save_split_records


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return save_split_records(
        tmp_path / "log.json", (KEY, 2, 3e-3), (KEY, 4, 1e-3), (KEY, 8, MAX_FLOAT, 7), (OTHER_KEY, 2, 2e-4)
    )


def test_list(log: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["list", str(log)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{log}: 4 records, 1 failed"
    assert lines[1].split() == [
        "record",
        "workload",
        "target",
        "result",
        "cost",
        "(ms)",
        "steps",
        "time",
        "device",
    ]
    assert lines[3].split()[-1] == "host"  # measured here, not through RPCRunner
    assert f"{log}:2" in lines[3] and "1.0000" in lines[3]
    assert "RUN_TIMEOUT" in lines[4]
    assert main(["list", str(log), "--valid", "--workload", KEY]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2 + 2


def test_best_with_program(log: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["best", str(log), "--program"]) == 0
    out = capsys.readouterr().out
    header, first, second = out.split("\n\n")[0].splitlines()
    assert header.split()[:4] == ["workload", "target", "records", "failed"]
    assert first.split()[-3:] == ["1", "1.0000", f"{log}:2"]
    assert second.split()[-2:] == ["0.2000", f"{log}:4"]
    assert "sched.split %C, %C_i by [4]" in out


def test_convert_round_trip(log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    database, back = tmp_path / "log.db", tmp_path / "back.json"
    assert main(["convert", str(log), str(database)]) == 0
    assert main(["convert", str(database), str(back)]) == 0
    assert back.read_bytes() == log.read_bytes()
    assert f"wrote 4 records from {database} to {back}" in capsys.readouterr().err
    assert main(["convert", str(log), str(back)]) == 1
    assert "exists; convert writes a new file" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".json", ".db"])
def test_prune(log: Path, tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]):
    source = tmp_path / f"source{suffix}"
    assert main(["convert", str(log), str(source)]) == 0
    assert main(["prune", str(source), "--top", "1"]) == 0
    assert [(i.task.workload_key, r.costs) for i, r in load_records(source)] == [
        (KEY, (1e-3,)),
        (OTHER_KEY, (2e-4,)),
    ]
    assert f"kept 2 of 4 records (1 failed) in {source}" in capsys.readouterr().err


def test_prune_to_a_new_file_keeping_errors(log: Path, tmp_path: Path):
    output = tmp_path / "pruned.json"
    assert main(["prune", str(log), "--keep-errors", "-o", str(output)]) == 0
    assert len(load_records(output)) == 4 and len(load_records(log)) == 4


def test_bad_lines_are_warnings_and_missing_files_errors(log: Path, capsys: pytest.CaptureFixture[str]):
    with log.open("a") as file:
        file.write("garbage\n")
    assert main(["list", str(log)]) == 0
    assert (
        f"sched-opt-records: warning: {log}:5: skipped a bad record: not valid JSON"
        in capsys.readouterr().err
    )
    assert main(["best", str(log.with_name("missing.json"))]) == 1
    assert "sched-opt-records: error: cannot read record file" in capsys.readouterr().err
