"""The estimated network latency replayed from a record log, and its plot (`sched-opt-records plot`)."""

from __future__ import annotations

from pathlib import Path

import pytest

import schedopt as ss
from schedopt.measurement import MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.records import Record, append_records
from schedopt.tools.records_main import main as records_main
from schedopt.tuning.latency_curve import CurvePoint, latency_curve, plot_latency_curve

SMALL = ss.SearchTask("matmul", (8, 8, 8))
LARGE = ss.SearchTask("matmul", (16, 16, 16))


def record(task: ss.SearchTask, cost: float | None) -> Record:
    state = task.compute_dag.get_init_state()
    result = (
        MeasureResult((cost,), MeasureErrorNo.NO_ERROR, "", 0.0, 0.0)
        if cost is not None
        else MeasureResult.failure(MeasureErrorNo.RUNTIME_DEVICE, "boom", 0.0)
    )
    return Record.encode(MeasureInput(task, state), result)


LOG = [record(SMALL, 4.0), record(SMALL, None), record(LARGE, 10.0), record(SMALL, 2.0), record(LARGE, 11.0)]


def test_the_curve_starts_once_every_task_has_a_program_and_follows_the_bests():
    assert latency_curve(LOG) == [CurvePoint(3, 14.0), CurvePoint(4, 12.0), CurvePoint(5, 12.0)]


def test_weights_choose_and_weigh_the_tasks():
    weights = {SMALL.workload_key: 3.0, LARGE.workload_key: 1.0}
    assert latency_curve(LOG, weights) == [CurvePoint(3, 22.0), CurvePoint(4, 16.0), CurvePoint(5, 16.0)]
    assert latency_curve(LOG, {SMALL.workload_key: 1.0})[-1] == CurvePoint(3, 2.0)


def test_the_plot_is_a_png(tmp_path: Path):
    png = tmp_path / "curve.png"
    plot_latency_curve(latency_curve(LOG), png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ss.SchedOptError, match="no latency curve"):
        plot_latency_curve([], tmp_path / "empty.png")


def test_sched_opt_records_plot_writes_next_to_the_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    log = tmp_path / "net.json"
    append_records(log, LOG)
    assert records_main(["plot", str(log)]) == 0
    assert (tmp_path / "net.latency.png").exists()
    assert "14000.000 ms at trial 3 -> 12000.000 ms at trial 5" in capsys.readouterr().out  # costs of seconds
    assert records_main(["plot", str(log), "--model", "no-such-model"]) == 1
    assert "no model 'no-such-model'" in capsys.readouterr().err
