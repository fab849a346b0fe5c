"""The record database: the format, both back ends, bad lines, concurrent writers, lossless conversion."""

import json
import multiprocessing
import sqlite3
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import schedopt.workloads  # noqa: F401  (registers matmul)
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import RecordError, WorkloadError
from schedopt.hardware_params import HardwareParams
from schedopt.measurement import MAX_FLOAT, MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.records import (
    Record,
    RecordReader,
    RecordToFile,
    RecordWarning,
    append_records,
    load_best_record,
    load_records,
    read_records,
    recover_measure_input,
    rewrite_records,
    save_records,
)
from schedopt.records.codec import decode_record, encode_record
from schedopt.schedule.loop_state import State
from schedopt.schedule.transform_steps import SplitStep
from schedopt.search_task import SearchTask
from schedopt.workload_registry import make_workload_key

KEY = make_workload_key("matmul", (16, 16, 16))
OTHER_KEY = make_workload_key("matmul", (8, 8, 8))
SUFFIXES = [".json", ".db"]

TVM_LINE = (
    '{"i": [["[\\"matmul\\", 16, 16, 16]", "llvm -keys=cpu -mcpu=skylake-avx512", '
    '[8, 64, 64, 0, 0, 0, 0, 0], "", 2, []], [[], [["SP", 2, 0, 16, [4], 1], ["AN", 2, 0, 3]]]], '
    '"r": [[0.000125, 0.000127], 0, 0.52, 1605490000], "v": "v0.6"}'
)


def measurement(key: str = KEY, cost: float = 1e-3, error: int = 0, target: str = "llvm", factor: int = 4):
    task = SearchTask.without_dag(key, target, hardware_params=HardwareParams(4, 64, 64, 0, 0, 0, 0, 0))
    state = State([], [SplitStep(2, 0, 16, (factor,), True)])
    costs = (MAX_FLOAT,) if error else (cost,)
    return MeasureInput(task, state), MeasureResult(costs, error, "", 0.5, 1700000000.0)


def file_of(tmp_path: Path, suffix: str) -> Path:
    return tmp_path / f"records{suffix}"


def ir_key_of(key: str) -> str:
    """The workload key of the same computation parsed from IR: `[hash, shapes...]`, not the registered key."""
    return ComputeDAG.from_module(str(ComputeDAG(key).module)).workload_key()


# --- the format ---------------------------------------------------------------------------------


def test_encode_decode_round_trip():
    inp, res = measurement(cost=2.5e-4)
    line = encode_record(inp, res)
    assert json.loads(line)["v"] == "v0.6"
    again, result = decode_record(line)
    assert again.task.workload_key == KEY and again.task.target == "llvm"
    assert again.task.hardware_params == inp.task.hardware_params
    assert again.state.transform_steps == inp.state.transform_steps
    assert result == res
    assert encode_record(again, result) == line


def test_a_remote_measurement_names_its_device_key():
    inp, res = measurement()
    assert len(json.loads(encode_record(inp, res))["r"]) == 4  # a local measurement: TVM's fields
    remote = replace(res, device_key="xeon-avx512")
    line = encode_record(inp, remote)
    assert json.loads(line)["r"][4] == "xeon-avx512"
    assert decode_record(line)[1] == remote
    with pytest.raises(RecordError, match="device key must be a non-empty string"):
        decode_record(line.replace('"xeon-avx512"', "7"))


def test_records_carry_the_structural_hash():
    inp, res = measurement()
    line = encode_record(inp, res)
    task = json.loads(line)["i"][0]
    assert task[0] == KEY and len(task) == 7 and task[6] == ComputeDAG(KEY).hash_key()
    assert decode_record(line)[0].task.workload_hash == task[6]
    old, _ = decode_record(TVM_LINE)  # no hash stored: derived from the registered workload
    assert old.task.workload_hash == task[6]


def test_reads_tvm_lines_of_both_versions():
    inp, res = decode_record(TVM_LINE)
    assert inp.task.workload_key == KEY and inp.task.target.startswith("llvm -keys=cpu")
    assert inp.task.hardware_params.num_cores == 8
    assert [step.to_record()[0] for step in inp.state.transform_steps] == ["SP", "AN"]
    assert res.costs == (0.000125, 0.000127) and res.error_no == MeasureErrorNo.NO_ERROR
    short = json.loads(TVM_LINE)
    short["i"][0] = short["i"][0][:4]
    short["v"] = "v0.5"
    old, _ = decode_record(json.dumps(short))
    assert old.task.target_host is None and old.task.task_input_names == ()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"i": [[', "not valid JSON"),
        ("[1, 2]", "a record is a JSON object"),
        (TVM_LINE.replace('"v0.6"', '"v0.9"'), "unsupported record version 'v0.9'"),
        (TVM_LINE.replace('["SP", 2, 0, 16, [4], 1]', '["XX", 1]'), "unknown step code 'XX'"),
        (TVM_LINE.replace("1605490000]", '"noon"]'), "all_cost and timestamp must be numbers"),
        (TVM_LINE.replace("], 0, 0.52", "], 42, 0.52"), "unknown error code 42"),
        (TVM_LINE.replace('"", 2, []]', '"", 2, [], 7]'), "the workload hash must be a string"),
    ],
)
def test_malformed_lines_say_what_is_wrong(line: str, problem: str):
    with pytest.raises(RecordError, match=problem):
        decode_record(line)


# --- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_save_and_load(tmp_path: Path, suffix: str):
    filename = file_of(tmp_path, suffix)
    pairs = [measurement(cost=3e-3), measurement(error=5), measurement(OTHER_KEY, cost=1e-3)]
    save_records(filename, *zip(*pairs, strict=True))
    loaded = load_records(filename)
    assert [(i.task.workload_key, r.error_no) for i, r in loaded] == [
        (KEY, MeasureErrorNo.NO_ERROR),
        (KEY, MeasureErrorNo.WRONG_ANSWER),
        (OTHER_KEY, MeasureErrorNo.NO_ERROR),
    ]
    assert loaded[1][1].error_msg == "the program computed a wrong answer"
    assert next(read_records(filename)).location == f"{filename}:{'row 1' if suffix == '.db' else '1'}"


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_best_record_by_workload_and_target(tmp_path: Path, suffix: str):
    filename = file_of(tmp_path, suffix)
    pairs = [
        measurement(cost=3e-3, factor=2),
        measurement(cost=1e-3, factor=4),
        measurement(error=7),
        measurement(cost=1e-4, factor=8, target="cuda"),
        measurement(OTHER_KEY, cost=1e-5),
    ]
    save_records(filename, *zip(*pairs, strict=True))
    inp, res = load_best_record(filename, KEY, "llvm -mcpu=znver3")
    assert res.costs == (1e-3,) and inp.state.transform_steps[0].lengths == (4,)
    assert load_best_record(filename, KEY, "cuda")[1].costs == (1e-4,)
    assert load_best_record(filename)[1].costs == (1e-5,)
    assert load_best_record(filename, make_workload_key("matmul", (2, 2, 2))) == (None, None)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_lookup_by_key_or_structural_hash(tmp_path: Path, suffix: str):
    filename = file_of(tmp_path, suffix)
    ir_key = ir_key_of(KEY)
    pairs = [measurement(ir_key, cost=2e-3), measurement(KEY, cost=3e-3), measurement(OTHER_KEY, cost=1e-5)]
    save_records(filename, *zip(*pairs, strict=True))
    assert [r.workload_key for r in read_records(filename, KEY)] == [ir_key, KEY]
    assert [r.workload_key for r in read_records(filename, ir_key)] == [ir_key, KEY]
    assert load_best_record(filename, KEY)[1].costs == (2e-3,)
    assert load_best_record(filename, workload_hash=ComputeDAG(OTHER_KEY).hash_key())[1].costs == (1e-5,)
    assert load_best_record(filename, ir_key_of(make_workload_key("matmul", (2, 2, 2)))) == (None, None)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_records_without_hash_are_found_through_the_registry(tmp_path: Path, suffix: str):
    """Older logs store no hash: a registered workload's is rebuilt; an unknown one is found by key only."""
    filename = file_of(tmp_path, suffix)
    unknown = TVM_LINE.replace('\\"matmul\\", 16, 16, 16', '\\"gone\\", 16')
    append_records(filename, [Record.decode(TVM_LINE), Record.decode(unknown)])
    inp, res = load_best_record(filename, ir_key_of(KEY))
    assert inp is not None and inp.task.workload_key == KEY and res.costs == (0.000125, 0.000127)
    assert [r.workload_key for r in read_records(filename, '["gone", 16]')] == ['["gone", 16]']
    assert load_best_record(filename, ir_key_of(OTHER_KEY)) == (None, None)


def test_schema_1_database_is_upgraded(tmp_path: Path):
    filename = tmp_path / "old.db"
    with_hash = encode_record(*measurement(ir_key_of(KEY), cost=1e-4))
    with sqlite3.connect(filename) as connection:
        connection.execute(
            "CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, workload_key TEXT NOT NULL, "
            "target TEXT NOT NULL, error_no INTEGER NOT NULL, cost REAL NOT NULL, timestamp REAL NOT NULL, "
            "record TEXT NOT NULL)"
        )
        rows = [(KEY, TVM_LINE, 1.26e-4), (ir_key_of(KEY), with_hash, 1e-4)]
        connection.executemany(
            "INSERT INTO records (workload_key, target, error_no, cost, timestamp, record) "
            "VALUES (?, 'llvm', 0, ?, 0, ?)",
            [(key, cost, text) for key, text, cost in rows],
        )
        connection.execute("PRAGMA user_version = 1")
    connection.close()
    assert [r.result.costs for r in read_records(filename, KEY)] == [(0.000125, 0.000127), (1e-4,)]
    with sqlite3.connect(filename) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
        hashes = [h for (h,) in connection.execute("SELECT workload_hash FROM records ORDER BY id")]
    connection.close()
    assert hashes == [None, ComputeDAG(KEY).hash_key()]
    save_records(filename, *zip(measurement(cost=5e-5), strict=True))
    assert load_best_record(filename, ir_key_of(KEY))[1].costs == (5e-5,)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_record_reader_batches(tmp_path: Path, suffix: str):
    filename = file_of(tmp_path, suffix)
    pairs = [measurement(cost=(i + 1) * 1e-3) for i in range(5)]
    RecordToFile(filename).callback(None, *zip(*pairs, strict=True))
    reader = RecordReader(filename)
    inputs, results = reader.read_lines(max_lines=2, skip_lines=1)
    assert len(inputs) == 2 and [r.costs for r in results] == [(2e-3,), (3e-3,)]
    assert len(reader.read_lines()[0]) == 5 and reader.read_lines(max_lines=0) == ([], [])
    assert len(list(reader)) == 5


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_rewrite_replaces_the_records(tmp_path: Path, suffix: str):
    filename = file_of(tmp_path, suffix)
    save_records(filename, *zip(*[measurement(cost=c) for c in (1e-3, 2e-3, 3e-3)], strict=True))
    rewrite_records(filename, list(read_records(filename))[1:2])
    save_records(filename, *zip(measurement(cost=4e-3), strict=True))
    assert [r.costs for _, r in load_records(filename)] == [(2e-3,), (4e-3,)]


def test_corrupted_json_lines_are_skipped_with_warnings(tmp_path: Path):
    filename = tmp_path / "log.json"
    good = encode_record(*measurement())
    wrong_version = good.replace('"v0.6"', '"v0.1"')
    filename.write_text(f"{good}\nnot json at all\n{wrong_version}\n# a comment\n\n{good}\n{good[:40]}")
    with pytest.warns(RecordWarning) as caught:
        loaded = load_records(filename)
    assert len(loaded) == 2
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3
    assert messages[0].startswith(f"{filename}:2: skipped a bad record: not valid JSON")
    assert messages[1].startswith(f"{filename}:3: skipped a bad record: unsupported record version 'v0.1'")
    assert messages[2].startswith(f"{filename}:7: skipped a bad record: not valid JSON")
    # An append after the truncated line starts a new line: nothing earlier or later is lost.
    save_records(filename, *zip(measurement(cost=7e-3), strict=True))
    with pytest.warns(RecordWarning):
        loaded = load_records(filename)
    assert [r.costs for _, r in loaded] == [(1e-3,), (1e-3,), (7e-3,)]


def test_corrupted_database_row_is_skipped_with_a_warning(tmp_path: Path):
    filename = tmp_path / "log.db"
    save_records(filename, *zip(measurement(), measurement(cost=2e-3), strict=True))
    with sqlite3.connect(filename) as connection:
        connection.execute("UPDATE records SET record = 'garbage' WHERE id = 1")
    with pytest.warns(RecordWarning, match=f"{filename}:row 1: skipped a bad record: not valid JSON"):
        assert [r.costs for _, r in load_records(filename)] == [(2e-3,)]


def test_unreadable_files_raise(tmp_path: Path):
    with pytest.raises(RecordError, match=r"cannot read record file .*missing\.json"):
        load_records(tmp_path / "missing.json")
    with pytest.raises(RecordError, match=r"record database .*missing\.db does not exist"):
        load_records(tmp_path / "missing.db")
    (tmp_path / "text.db").write_text("this is not a database\n" * 100)
    with pytest.raises(
        RecordError,
        match=r"text\.db is not a sched-opt record database|cannot open record database .*text\.db",
    ):
        load_records(tmp_path / "text.db")


def test_json_to_sqlite_to_json_is_lossless(tmp_path: Path):
    source = tmp_path / "a.json"
    lines = [TVM_LINE, *(encode_record(*measurement(k, error=e)) for k in (KEY, OTHER_KEY) for e in (0, 6))]
    source.write_text("".join(line + "\n" for line in lines))
    database, back = tmp_path / "b.db", tmp_path / "c.json"
    append_records(database, list(read_records(source)))
    append_records(back, list(read_records(database)))
    assert back.read_bytes() == source.read_bytes()


def test_recover_measure_input():
    inp, _ = measurement()
    recovered = recover_measure_input(inp, rebuild_state=True)
    assert recovered.task.compute_dag is not None
    assert [it.name for it in recovered.state["C"].iters] == ["i.0", "i.1", "j", "k"]
    assert recover_measure_input(inp).state is inp.state
    unknown = measurement(json.dumps(["0123abcd", [4, 4]]))[0]
    with pytest.raises(WorkloadError, match="unknown workload '0123abcd'"):
        recover_measure_input(unknown)


# --- concurrent writers ------------------------------------------------------------------------

N_PER_WRITER = 1000


def append_one_by_one(filename: str, writer: int, start: Any) -> None:
    """A writer process: N records, one append each, numbered by their timestamp."""
    inp, res = measurement()
    start.wait()  # both writers append at the same time
    for index in range(N_PER_WRITER):
        numbered = MeasureResult(res.costs, 0, "", 0.0, writer * 100000 + index)
        append_records(filename, [Record.encode(inp, numbered)])


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_two_processes_appending_lose_nothing(tmp_path: Path, suffix: str):
    filename = str(file_of(tmp_path, suffix))
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    writers = [context.Process(target=append_one_by_one, args=(filename, w, start)) for w in (1, 2)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
        assert process.exitcode == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecordWarning)
        stamps = sorted(int(r.result.timestamp) for r in read_records(filename))
    expected = sorted(w * 100000 + i for w in (1, 2) for i in range(N_PER_WRITER))
    assert stamps == expected
