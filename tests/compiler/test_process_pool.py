"""The worker pool: results in order, and a job that raises, crashes or hangs fails alone."""

import ctypes
import os
import time

import pytest

from schedopt.errors import SchedOptError
from schedopt.measurement.process_pool import FailureKind, JobFailure, WorkerPool


def behave(action: str) -> object:
    """A job for the workers (module-level, so they import it by name)."""
    if action == "raise":
        raise ValueError("as asked")
    if action == "segfault":
        ctypes.string_at(0)
    if action == "exit":
        os._exit(3)
    if action == "hang":
        time.sleep(60)
    return (action, os.getpid())


@pytest.fixture(scope="module")
def pool():
    workers = WorkerPool(2)
    yield workers
    workers.close()


def test_results_come_in_order(pool: WorkerPool):
    outcomes = pool.map(behave, ["a", "b", "c", "d", "e"], timeout=30)
    assert [o[0] for o in outcomes] == ["a", "b", "c", "d", "e"]
    assert len({pid for _, pid in outcomes}) <= 2


def test_each_failure_is_its_own(pool: WorkerPool):
    outcomes = pool.map(behave, ["raise", "ok", "segfault", "exit", "hang", "ok"], timeout=2)
    raised, ok, segfault, exited, hung, ok_again = outcomes
    assert isinstance(raised, JobFailure) and raised.kind == FailureKind.RAISED
    assert "ValueError: as asked" in raised.message
    assert isinstance(segfault, JobFailure) and segfault.kind == FailureKind.CRASHED
    assert "SIGSEGV" in segfault.message
    assert isinstance(exited, JobFailure) and exited.kind == FailureKind.CRASHED
    assert "exit code 3" in exited.message
    assert isinstance(hung, JobFailure) and hung.kind == FailureKind.TIMEOUT
    assert ok[0] == ok_again[0] == "ok"


def test_pool_recovers_after_failures(pool: WorkerPool):
    assert pool.map(behave, ["segfault"], timeout=10)[0].kind == FailureKind.CRASHED
    assert pool.map(behave, ["after"], timeout=30)[0][0] == "after"


def test_pool_needs_a_process():
    with pytest.raises(SchedOptError, match="at least one process"):
        WorkerPool(0)
