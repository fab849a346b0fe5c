"""Remote builds on a real Dask fleet on 127.0.0.1: RPCBuilder against LocalBuilder.

The module's fleet is a scheduler in this process and two
`sched-opt-worker --key cpu --builds 2` processes, which can import the
faulty compilers of `measure_faults` (tests/compiler). The worker kill
comes last: it leaves the fleet with one worker.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import get_task_stream

import schedopt as ss
from schedopt.measurement import BuildResult, LocalBuilder, LocalRunner, MeasureErrorNo, MeasureInput
from schedopt.measurement.fleet import fleet_workers
from schedopt.measurement.local_rpc import LoopbackFleet, loopback_fleet
from schedopt.schedule.loop_state import State
from schedopt.schedule.transform_steps import SplitStep
from schedopt.tools.worker_main import main as worker_main

FAULTS_DIR = Path(__file__).resolve().parents[1] / "compiler"
sys.path.insert(0, str(FAULTS_DIR))  # the shared faulty compilers, which the workers import too
import measure_faults as faults  # noqa: E402
from worker_kills import kill_when_busy  # noqa: E402

WORKERS = ("builder-0", "builder-1")
BUILDS_PER_WORKER = 2
START_TIMEOUT_S = 60
OK = MeasureErrorNo.NO_ERROR


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackFleet]:
    log = tmp_path_factory.mktemp("fleet") / "workers.log"
    workers = {name: ["--key", "cpu", "--builds", str(BUILDS_PER_WORKER)] for name in WORKERS}
    path = os.pathsep.join(filter(None, [str(FAULTS_DIR), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    with loopback_fleet(workers, START_TIMEOUT_S, log, env, graceful=False) as started:
        yield started


@pytest.fixture(scope="module")
def task() -> ss.SearchTask:
    return ss.SearchTask(func="matmul", args=(32, 32, 32), target="llvm")


@pytest.fixture(scope="module")
def builder(fleet: LoopbackFleet) -> Iterator[ss.RPCBuilder]:
    builder = ss.RPCBuilder("cpu", fleet.host, fleet.port, timeout=10)
    yield builder
    builder.close()


def tiled(task: ss.SearchTask, factor: int) -> MeasureInput:
    state = task.compute_dag.get_init_state()
    io, _ = state.split("C", "i", [factor])
    jo, _ = state.split("C", "j", [4])
    state.reorder("C", [io, jo, "k", "i.1", "j.1"])
    return MeasureInput(task, state)


def unscheduled(task: ss.SearchTask) -> MeasureInput:
    return MeasureInput(task, task.compute_dag.get_init_state())


def not_applicable(task: ss.SearchTask) -> MeasureInput:
    return MeasureInput(task, State([], [SplitStep(2, 7, 32, (4,), True)]))


def build_locally(inputs: list[MeasureInput], build_func="default", timeout: float = 10) -> list[BuildResult]:
    builder = LocalBuilder(timeout=timeout, n_parallel=1, build_func=build_func)
    try:
        return builder.build(inputs, verbose=0)
    finally:
        builder.close()


@pytest.fixture(scope="module")
def candidates(task: ss.SearchTask) -> list[MeasureInput]:
    """Distinct tilings, a schedule that does not apply, and the unscheduled program."""
    return [*(tiled(task, factor) for factor in (2, 4, 8, 16)), not_applicable(task), unscheduled(task)]


@pytest.fixture(scope="module")
def local_builds(candidates: list[MeasureInput]) -> list[BuildResult]:
    return build_locally(candidates)


def same_build(remote: BuildResult, local: BuildResult) -> bool:
    """Equal but for the seconds each took."""
    return dataclasses.replace(remote, time_cost=0.0) == dataclasses.replace(local, time_cost=0.0)


def test_builds_equal_the_local_builder_in_input_order(
    fleet: LoopbackFleet,
    builder: ss.RPCBuilder,
    candidates: list[MeasureInput],
    local_builds: list[BuildResult],
):
    """Distinct tilings spread over both workers come back each in its place, as LocalBuilder builds them."""
    assert builder.n_parallel == len(WORKERS) * BUILDS_PER_WORKER
    with get_task_stream(client=fleet.client) as stream:
        remote = builder.build(candidates, verbose=0)
    assert [r.error_no for r in remote] == [OK] * 4 + [MeasureErrorNo.INSTANTIATION_ERROR, OK]
    assert "no iterator 7" in remote[4].error_msg
    assert all(same_build(there, here) for there, here in zip(remote, local_builds, strict=True))
    assert len({r.llvm_ir for r in remote[:4]}) == 4
    ran_on = {t["worker"] for t in stream.data if t["key"].startswith("schedopt-build")}
    assert ran_on == {fleet.address_of(name) for name in WORKERS}
    runner = LocalRunner(timeout=10, number=2, repeat=1, min_repeat_ms=0)
    try:
        measured = runner.run(candidates, remote, verbose=0)
    finally:
        runner.close()
    assert [m.error_no for m in measured] == [r.error_no for r in remote]


def test_a_crashing_compiler_fails_as_locally(fleet: LoopbackFleet, task):
    inputs = [tiled(task, 8), unscheduled(task), tiled(task, 4)]
    builder = ss.RPCBuilder("cpu", fleet.host, fleet.port, timeout=10, build_func=faults.crashing_compiler)
    try:
        remote = builder.build(inputs, verbose=0)
    finally:
        builder.close()
    local = build_locally(inputs, faults.crashing_compiler)
    codes = [MeasureErrorNo.COMPILE_HOST, OK, MeasureErrorNo.COMPILE_HOST]
    assert [r.error_no for r in remote] == [r.error_no for r in local] == codes
    assert [r.error_msg for r in remote] == [r.error_msg for r in local]
    assert "SIGSEGV" in remote[0].error_msg


def test_a_hanging_compiler_times_out_and_the_workers_live_on(
    fleet: LoopbackFleet, task, builder: ss.RPCBuilder
):
    hanging = ss.RPCBuilder("cpu", fleet.host, fleet.port, timeout=1, build_func=faults.hanging_compiler)
    try:
        results = hanging.build([tiled(task, 8), unscheduled(task)], verbose=0)
    finally:
        hanging.close()
    assert [r.error_no for r in results] == [MeasureErrorNo.BUILD_TIMEOUT, OK]
    assert results[0].error_msg == "@matmul: the build did not finish within 1 s and was killed"
    assert [r.error_no for r in builder.build([tiled(task, 8)] * 4, verbose=0)] == [OK] * 4


def test_an_unreachable_scheduler_is_named():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(
        ss.SchedOptError, match=f"RPCBuilder: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"
    ):
        ss.RPCBuilder("cpu", "127.0.0.1", port, timeout=1)


def test_a_key_without_build_workers_is_named(fleet: LoopbackFleet):
    with pytest.raises(ss.SchedOptError, match=r"builds for the device key 'gpu'.*--key gpu --builds N"):
        ss.RPCBuilder("gpu", fleet.host, fleet.port, timeout=0.5)


def test_bad_options_are_refused():
    with pytest.raises(ss.SchedOptError, match="n_parallel must be positive"):
        ss.RPCBuilder("cpu", "127.0.0.1", 1, n_parallel=0)
    with pytest.raises(ss.SchedOptError, match="must be a module-level function"):
        ss.RPCBuilder("cpu", "127.0.0.1", 1, build_func=lambda dag, state, target: "")


def test_sched_opt_worker_refuses_negative_builds(capsys: pytest.CaptureFixture[str]):
    assert worker_main(["--scheduler", "127.0.0.1:1", "--key", "cpu", "--builds", "-1"]) == 1
    assert "--builds must not be negative, got -1" in capsys.readouterr().err


def test_import_schedopt_does_not_import_dask():
    check = "import sys, schedopt; assert 'distributed' not in sys.modules; schedopt.RPCBuilder"
    subprocess.run([sys.executable, "-c", check], check=True)


def test_local_rpc_measure_context_builds_on_its_worker(
    candidates: list[MeasureInput], local_builds: list[BuildResult]
):
    inputs = candidates[3:]
    with ss.LocalRPCMeasureContext(timeout=10, builds=2) as context:
        assert context.builder is not None and context.builder.n_parallel == 2
        built = context.builder.build(inputs, verbose=0)
        measured = context.runner.run(inputs, built, verbose=0)
    assert all(same_build(there, here) for there, here in zip(built, local_builds[3:], strict=True))
    assert [m.error_no for m in measured] == [OK, MeasureErrorNo.INSTANTIATION_ERROR, OK]
    assert {m.device_key for m in measured} == {"local"}


def test_a_worker_killed_mid_build_loses_no_candidate(
    fleet: LoopbackFleet, candidates: list[MeasureInput], local_builds: list[BuildResult]
):
    """builder-1 dies while building: Dask gives its candidates to builder-0; each result arrives once, in order."""
    # A timeout of its own: each worker starts new compiling processes for it, so the first
    # candidates on builder-1 are there a while, and the kill lands mid-build.
    builder = ss.RPCBuilder("cpu", fleet.host, fleet.port, timeout=11)
    try:
        results = kill_when_busy(fleet, "builder-1", lambda: builder.build(candidates, 0))
    finally:
        builder.close()
    assert all(same_build(there, here) for there, here in zip(results, local_builds, strict=True)), [
        r.error_msg for r in results
    ]
    assert [w.name for w in fleet_workers(fleet.client)] == ["builder-0"]
