"""CUDARunner: GPU candidates built to PTX, loaded, launched in order, checked and timed with pycuda.

Without a GPU the runner's control flow runs against a stand-in pycuda
(`fake_pycuda/pycuda/driver.py`): device memory is host memory, launches
are logged, a matmul kernel has a numpy stand-in. With pycuda and a device,
`test_random_gpu_schedules_match_numpy_on_the_gpu` runs real kernels; it skips otherwise.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from schedopt.build import build
from schedopt.errors import RuntimeArgumentError, SchedOptError
from schedopt.gpu_kernel import GPUKernel, device_hardware_params
from schedopt.measurement import LocalBuilder, LocalRunner
from schedopt.measurement.correctness import compute_reference
from schedopt.measurement.cuda_runner import CUDARunner, _GPURunJob, run_gpu_candidate
from schedopt.measurement.results import BuildResult, MeasureErrorNo, MeasureInput
from schedopt.ptx import check_with_ptxas, ptxas_path
from schedopt.schedule.loop_state import State
from schedopt.search_task import SearchTask

sys.path.insert(0, str(Path(__file__).parent.parent / "compiler"))
from random_gpu_schedules import GPU_WORKLOADS, random_gpu_states

FAKE_PYCUDA = Path(__file__).parent / "fake_pycuda"
MATMUL = ("matmul", (64, 64, 64))
SOFTMAX = ("softmax", (4, 256))


def gpu_candidate(name: str, args: tuple, seed: int = 1) -> tuple[MeasureInput, BuildResult]:
    """A random GPU schedule of a workload and its build, as LocalBuilder makes it."""
    task = SearchTask(name, args, target="cuda")
    (state,) = random_gpu_states(name, args, 1, seed=seed)
    assert task.compute_dag is not None
    kernel = build(task.compute_dag, state, target="cuda")
    assert isinstance(kernel, GPUKernel)
    built = BuildResult(
        None, kernel.name, kernel.arg_specs, MeasureErrorNo.NO_ERROR, "", 0.0, gpu_kernel=kernel
    )
    return MeasureInput(task, state), built


@pytest.fixture
def fake_driver(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The stand-in `pycuda.driver`, importable here and in the runner's worker processes."""
    for name in ("pycuda", "pycuda.driver"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(FAKE_PYCUDA))
    driver = importlib.import_module("pycuda.driver")
    driver.LAUNCHES.clear()
    yield driver
    for name in ("pycuda", "pycuda.driver"):
        sys.modules.pop(name, None)


def run_in_process(measure_input: MeasureInput, built: BuildResult, **timing: float):
    options = {"number": 1, "repeat": 2, "min_repeat_ms": 0.0} | timing
    job = _GPURunJob(
        built,
        compute_reference(measure_input.task),
        int(options["number"]),
        int(options["repeat"]),
        options["min_repeat_ms"],
        0,
    )
    return run_gpu_candidate(job)


def test_launches_every_kernel_in_order_with_its_grid_block_and_buffers(fake_driver: ModuleType):
    measure_input, built = gpu_candidate(*SOFTMAX)
    kernel = built.gpu_kernel
    assert kernel is not None and len(kernel.launches) >= 2 and kernel.temporaries
    outcome = run_in_process(measure_input, built)
    # The stand-in computes no softmax: the check fails after exactly one run of the launches.
    assert outcome.error_no == MeasureErrorNo.WRONG_ANSWER
    assert "T_softmax_norm" in outcome.error_msg
    logged = fake_driver.LAUNCHES
    assert [(name, grid, block) for name, grid, block, _ in logged] == [
        (launch.kernel, launch.grid, launch.block) for launch in kernel.launches
    ]
    addresses: dict[str, int] = {}
    for launch, (_, _, _, pointers) in zip(kernel.launches, logged, strict=True):
        for name, pointer in zip(launch.args, pointers, strict=True):
            assert addresses.setdefault(name, pointer) == pointer, f"{name} is one buffer in every launch"
    assert len(set(addresses.values())) == len(addresses)


def test_a_gpu_kernel_is_called_like_a_cpu_kernel(fake_driver: ModuleType):
    _, built = gpu_candidate(*MATMUL)
    kernel = built.gpu_kernel
    assert kernel is not None
    rng = np.random.default_rng(0)
    a, b = rng.random((64, 64), np.float32), rng.random((64, 64), np.float32)
    c = np.full((64, 64), np.nan, np.float32)
    kernel(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5)
    assert [name for name, *_ in fake_driver.LAUNCHES] == ["matmul_kernel0"]
    with pytest.raises(
        RuntimeArgumentError, match=r"argument 2 \(C\): expected float32\[64, 64\], got float64"
    ):
        kernel(a, b, np.zeros((64, 64)))
    with pytest.raises(RuntimeArgumentError, match="expected 3 arguments"):
        kernel(a, b)


def test_checks_and_times_with_device_events(fake_driver: ModuleType):
    measure_input, built = gpu_candidate(*MATMUL)
    assert built.gpu_kernel is not None and len(built.gpu_kernel.launches) == 1
    outcome = run_in_process(measure_input, built, number=1, repeat=3, min_repeat_ms=2.0)
    assert outcome.error_no == MeasureErrorNo.NO_ERROR, outcome.error_msg
    # Each launch takes LAUNCH_MS of device time; number grows until a repeat lasts 2 ms.
    assert outcome.costs == pytest.approx([fake_driver.LAUNCH_MS / 1e3] * 3)
    assert len(fake_driver.LAUNCHES) >= 1 + 3 * 4


def test_poisoned_outputs_catch_a_kernel_that_writes_nothing(
    fake_driver: ModuleType, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delitem(fake_driver.KERNELS, "matmul_kernel0")
    outcome = run_in_process(*gpu_candidate(*MATMUL))
    assert outcome.error_no == MeasureErrorNo.WRONG_ANSWER
    assert "got nan" in outcome.error_msg


def test_driver_failures_map_to_tvm_error_codes(fake_driver: ModuleType, monkeypatch: pytest.MonkeyPatch):
    candidate = gpu_candidate(*MATMUL)
    monkeypatch.setenv("FAKE_PYCUDA_REFUSE_PTX", "1")
    refused = run_in_process(*candidate)
    assert refused.error_no == MeasureErrorNo.COMPILE_DEVICE
    assert "the CUDA driver refused the PTX of matmul" in refused.error_msg
    monkeypatch.delenv("FAKE_PYCUDA_REFUSE_PTX")
    monkeypatch.setenv("FAKE_PYCUDA_FAULT", "matmul_kernel0")
    fault = run_in_process(*candidate)
    assert fault.error_no == MeasureErrorNo.RUNTIME_DEVICE
    assert "launching matmul_kernel0" in fault.error_msg and "illegal memory access" in fault.error_msg


def test_without_pycuda_the_error_says_to_install_the_gpu_extra(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "pycuda", None)
    monkeypatch.setitem(sys.modules, "pycuda.driver", None)
    outcome = run_in_process(*gpu_candidate(*MATMUL))
    assert outcome.error_no == MeasureErrorNo.RUNTIME_DEVICE
    assert "sched-opt[gpu]" in outcome.error_msg


def test_local_runner_hands_cuda_tasks_to_a_cuda_runner_in_a_worker(fake_driver: ModuleType):
    measure_input, built = gpu_candidate(*MATMUL)
    runner = LocalRunner(timeout=60, number=1, repeat=2, min_repeat_ms=0)
    try:
        (result,) = runner.run([measure_input], [built], verbose=0)
        assert result.error_no == MeasureErrorNo.NO_ERROR, result.error_msg
        assert result.costs == pytest.approx([fake_driver.LAUNCH_MS / 1e3] * 2)
        assert isinstance(runner._cuda_runner, CUDARunner)
    finally:
        runner.close()


def test_hardware_params_and_architecture_come_from_the_device(fake_driver: ModuleType):
    params = device_hardware_params(0)
    assert params.target == "cuda -arch=sm_90"
    assert (params.max_threads_per_block, params.max_shared_memory_per_block) == (1024, 49152)
    assert (params.warp_size, params.max_vthread_extent) == (32, 8)


def test_cuda_runner_refuses_a_cpu_build():
    task = SearchTask(*MATMUL, target="llvm")
    assert task.compute_dag is not None
    state = task.compute_dag.get_init_state()
    built = BuildResult("define void @matmul()", "matmul", (), MeasureErrorNo.NO_ERROR, "", 0.0)
    runner = CUDARunner()
    (result,) = runner.run([MeasureInput(task, state)], [built], verbose=0)
    assert result.error_no == MeasureErrorNo.UNKNOWN_ERROR
    assert "CUDARunner runs GPU kernels only" in result.error_msg
    with pytest.raises(SchedOptError, match="device must be a CUDA device ordinal"):
        CUDARunner(device=-1)


@pytest.mark.skipif(ptxas_path() is None, reason="ptxas (CUDA toolkit) is not on PATH")
def test_local_builder_compiles_cuda_candidates_to_ptx_that_ptxas_accepts():
    inputs = []
    for (name, args), count in ((MATMUL, 2), (SOFTMAX, 1)):
        task = SearchTask(name, args, target="cuda")
        inputs += [MeasureInput(task, state) for state in random_gpu_states(name, args, count, seed=1)]
    builder = LocalBuilder(timeout=60, n_parallel=1)
    try:
        results = builder.build(inputs, verbose=0)
    finally:
        builder.close()
    for result in results:
        assert result.error_no == MeasureErrorNo.NO_ERROR, result.error_msg
        assert result.llvm_ir is None and result.gpu_kernel is not None
        assert result.arg_specs == result.gpu_kernel.arg_specs
        check_with_ptxas(result.gpu_kernel.ptx, result.gpu_kernel.arch)


def cuda_device_or_skip() -> None:
    """Skip unless pycuda is installed and sees a CUDA device."""
    driver = pytest.importorskip("pycuda.driver", reason="pycuda (the gpu extra) is not installed")
    try:
        driver.init()
        devices = driver.Device.count()
    except driver.Error as error:
        pytest.skip(f"no CUDA device: {error}")
    if devices == 0:
        pytest.skip("no CUDA device")


@pytest.mark.parametrize(("name", "args"), GPU_WORKLOADS, ids=[f"{n}{a}" for n, a in GPU_WORKLOADS])
def test_random_gpu_schedules_match_numpy_on_the_gpu(name: str, args: tuple):
    """Each random schedule's kernels run on the device, their outputs checked against the CPU's."""
    cuda_device_or_skip()
    params = device_hardware_params(0)
    task = SearchTask(name, args, target=params.target, hardware_params=params)
    states: list[State] = random_gpu_states(name, args, 6, seed=4, hardware_params=params)
    inputs = [MeasureInput(task, state) for state in states]
    builder, runner = LocalBuilder(timeout=60), CUDARunner(timeout=60, number=2, repeat=2)
    try:
        results = runner.run(inputs, builder.build(inputs, verbose=0), verbose=0)
    finally:
        builder.close()
        runner.close()
    for result in results:
        assert result.error_no == MeasureErrorNo.NO_ERROR, result.error_msg
        assert len(result.costs) == 2 and all(0 < cost < 1 for cost in result.costs)
