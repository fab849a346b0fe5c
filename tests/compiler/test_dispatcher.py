"""Dispatch contexts: the best record wins, contexts nest, the fallback answers None and warns once."""

import warnings
from pathlib import Path

import pytest
from matmul_records import KEY, OTHER_KEY, save_split_records
from matmul_records import split_record as record

from schedopt.compute_dag import ComputeDAG
from schedopt.dispatcher import ApplyHistoryBest, DispatchContext, FallbackContext
from schedopt.measurement import MeasureErrorNo
from schedopt.schedule.loop_state import State
from schedopt.workload_registry import make_workload_key


def split_factor(state: State | None) -> int | None:
    return None if state is None else state.transform_steps[0].lengths[0]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return save_split_records(
        tmp_path / "log.json", (KEY, 2, 3e-3), (KEY, 4, 1e-3), (KEY, 8, 1e-4, 5), (OTHER_KEY, 2, 1)
    )


def test_best_successful_record_is_replayed_on_the_dag(log: Path):
    dag = ComputeDAG(KEY)
    context = ApplyHistoryBest(str(log))
    state = context.query("llvm -mcpu=x", KEY, True, dag)
    assert split_factor(state) == 4
    assert [it.name for it in state["C"].iters] == ["i.0", "i.1", "j", "k"]
    assert context.best("llvm", KEY)[1].error_no == MeasureErrorNo.NO_ERROR
    assert context.best("cuda", KEY) is None


def test_n_lines_and_iterables(log: Path):
    assert split_factor(ApplyHistoryBest(log, n_lines=1).query("llvm", KEY, True, ComputeDAG(KEY))) == 2
    pairs = [record(KEY, 8, 5e-3), record(KEY, 16, 2e-3)]
    assert split_factor(ApplyHistoryBest(pairs).query("llvm", KEY, True, ComputeDAG(KEY))) == 16


def test_contexts_nest_and_fall_back(log: Path):
    outermost = DispatchContext.current
    assert isinstance(outermost, FallbackContext)
    inner_records = [record(KEY, 16, 1e-6)]
    with ApplyHistoryBest(log) as outer:
        with ApplyHistoryBest(inner_records) as inner:
            assert DispatchContext.current is inner
            assert split_factor(inner.query("llvm", KEY, True, ComputeDAG(KEY))) == 16
            assert split_factor(inner.query("llvm", OTHER_KEY, True, ComputeDAG(OTHER_KEY))) == 2
        assert DispatchContext.current is outer
    assert DispatchContext.current is outermost


def test_fallback_answers_none_and_warns_once_per_workload():
    fallback = FallbackContext()
    unknown = make_workload_key("matmul", (4, 4, 4))
    with pytest.warns(UserWarning, match="no tuned schedule for workload .* on target llvm") as caught:
        assert fallback.query("llvm", unknown, True, ComputeDAG(unknown)) is None
        assert fallback.query("llvm", unknown, True, ComputeDAG(unknown)) is None
    assert len(caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fallback.query("llvm", OTHER_KEY, False, ComputeDAG(OTHER_KEY)) is None


def test_update_overrides_records(log: Path):
    dag = ComputeDAG(KEY)
    chosen = dag.get_init_state()
    chosen.split("C", "j", [2])
    context = ApplyHistoryBest(log)
    context.update("llvm", KEY, chosen)
    context.load([record(KEY, 8, 1e-9)])
    assert context.query("llvm", KEY, True, dag) is chosen
