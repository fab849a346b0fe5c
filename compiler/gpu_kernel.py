"""What `build(dag, state, target="cuda")` returns, and running it on an NVIDIA GPU with pycuda.

A workload becomes one or more GPU kernels (one per stage at root), which
its host function launches in order. `GPUKernel` holds the PTX of all of
them, and for each launch the kernel's name, its grid and block sizes and
the buffers it takes, by name: the workload's arguments (`arg_specs`:
placeholders, then outputs) or intermediate buffers the host allocates
(`temporaries`; `schedopt.gpu_launches` reads all this from the lowered
module).

Called like a CPU kernel, `kernel(a, b, c)`, it runs on a CUDA device:
`load_gpu_kernel` loads its PTX (the driver compiles it) and allocates its
buffers, the arrays are copied over, the launches run in order and the
outputs come back. `CUDARunner` measures it the same way. pycuda (the `gpu`
extra) is imported when a kernel is first loaded, so everything else works
on machines without it. Each process gets one CUDA context on the device
it asks for, made current for the rest of its life; a kernel that faults
leaves that context unusable, so the process that saw the fault should not
run another kernel (`CUDARunner` replaces its worker). Errors are
`CompileError` for PTX the driver refuses, `RuntimeArgumentError` for
arrays that do not match `arg_specs`, and `DeviceError` for everything
else the device reports.
"""

from __future__ import annotations

import atexit
import functools
import importlib
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from schedopt.errors import CompileError, DeviceError, RuntimeArgumentError
from schedopt.hardware_params import HardwareParams
from schedopt.runtime import BufferSpec, is_numpy_array

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class KernelLaunch:
    """One `gpu.launch_func` of the host function."""

    kernel: str
    """The kernel's name: its `.entry` in the PTX."""
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    args: tuple[str, ...]
    """The buffers it takes, by the names of `arg_specs` and `temporaries`."""

    @property
    def threads_per_block(self) -> int:
        return self.block[0] * self.block[1] * self.block[2]


@dataclass(frozen=True)
class GPUKernel:
    """The PTX of a workload under a schedule, and its host launch configuration."""

    name: str
    ptx: str
    arch: str
    arg_specs: tuple[BufferSpec, ...]
    temporaries: tuple[BufferSpec, ...]
    launches: tuple[KernelLaunch, ...]

    @property
    def kernel_names(self) -> tuple[str, ...]:
        return tuple(launch.kernel for launch in self.launches)

    def __call__(self, *arrays: object, device: int = 0) -> None:
        """Run the workload once on CUDA device `device`: the arrays are the inputs, then the outputs,
        as `arg_specs` lists them (the outputs are written in place)."""
        run_gpu_kernel(self, arrays, device)


def cuda_driver() -> ModuleType:
    """`pycuda.driver`, or a `DeviceError` saying how to install it."""
    try:
        return importlib.import_module("pycuda.driver")
    except ImportError as error:
        raise DeviceError(
            f"running a cuda kernel needs pycuda, which cannot be imported ({error}): "
            "install the gpu extra, pip install 'sched-opt[gpu]'"
        ) from None


@functools.cache
def _current_context(driver: ModuleType, device: int) -> Any:
    """This process's CUDA context on `device`, created and made current once."""
    with device_errors(driver, f"creating a CUDA context on device {device}"):
        driver.init()
        context = driver.Device(device).make_context()
    atexit.register(context.pop)
    return context


@contextmanager
def device_errors(driver: ModuleType, doing: str) -> Generator[None]:
    """pycuda's errors while `doing` something, as `DeviceError`s that say what."""
    try:
        yield
    except driver.Error as error:
        raise DeviceError(f"{doing}: {type(error).__name__}: {error}") from None


@dataclass
class LoadedGPUKernel:
    """A `GPUKernel` loaded on the device, with a device buffer for each of its buffers."""

    kernel: GPUKernel
    driver: ModuleType = field(repr=False)
    functions: list[Any] = field(repr=False)
    """The prepared kernel functions, one per launch, in order."""
    buffers: dict[str, Any] = field(repr=False)
    """Device allocations by buffer name: the workload's arguments and the temporaries."""

    def copy_in(self, name: str, array: NDArray[Any]) -> None:
        with device_errors(self.driver, f"copying {name} to the device"):
            self.driver.memcpy_htod(self.buffers[name], np.ascontiguousarray(array))

    def copy_out(self, name: str, array: NDArray[Any]) -> None:
        with device_errors(self.driver, f"copying {name} from the device"):
            self.driver.memcpy_dtoh(array, self.buffers[name])

    def launch_all(self) -> None:
        """Queue every launch of the host function, in order, on the default stream."""
        for launch, function in zip(self.kernel.launches, self.functions, strict=True):
            pointers = [int(self.buffers[name]) for name in launch.args]
            with device_errors(
                self.driver, f"launching {launch.kernel} (grid {launch.grid}, block {launch.block})"
            ):
                function.prepared_call(launch.grid, launch.block, *pointers)

    def run(self) -> None:
        """Run the workload once and wait for it."""
        self.launch_all()
        with device_errors(self.driver, f"running the kernels of {self.kernel.name}"):
            self.driver.Context.synchronize()

    def time_batch(self, count: int) -> float:
        """Seconds the device takes for `count` runs of all the launches, by CUDA events."""
        with device_errors(self.driver, f"timing the kernels of {self.kernel.name}"):
            start, end = self.driver.Event(), self.driver.Event()
            start.record()
            for _ in range(count):
                self.launch_all()
            end.record()
            end.synchronize()
            return start.time_till(end) / 1e3

    def free(self) -> None:
        """Release the device buffers now rather than when the garbage collector gets to them."""
        for allocation in self.buffers.values():
            allocation.free()
        self.buffers.clear()


def load_gpu_kernel(kernel: GPUKernel, device: int = 0) -> LoadedGPUKernel:
    """Load the PTX of `kernel` on `device` (the CUDA driver compiles it) and allocate its buffers."""
    driver = cuda_driver()
    _current_context(driver, device)
    try:
        module = driver.module_from_buffer(kernel.ptx.encode())
    except driver.Error as error:
        raise CompileError(f"the CUDA driver refused the PTX of {kernel.name}: {error}") from None
    with device_errors(driver, f"loading the kernels of {kernel.name}"):
        functions = [_prepared(module, launch.kernel, len(launch.args)) for launch in kernel.launches]
    buffers: dict[str, Any] = {}
    for spec in (*kernel.arg_specs, *kernel.temporaries):
        size = max(1, int(np.prod(spec.shape, dtype=np.int64)) * spec.dtype.itemsize)
        with device_errors(driver, f"allocating {size} bytes for {spec.name}"):
            buffers[spec.name] = driver.mem_alloc(size)
    return LoadedGPUKernel(kernel, driver, functions, buffers)


def run_gpu_kernel(kernel: GPUKernel, arrays: Sequence[object], device: int = 0) -> None:
    """Run `kernel` once on `device` with `arrays` (inputs, then outputs, as `arg_specs` lists them);
    the outputs are written in place. What `GPUKernel.__call__` does."""
    specs = kernel.arg_specs
    if len(arrays) != len(specs):
        expected = ", ".join(spec.name for spec in specs)
        raise RuntimeArgumentError(
            f"{kernel.name}: expected {len(specs)} arguments ({expected}), got {len(arrays)}"
        )
    checked: list[NDArray[Any]] = []
    for index, (array, spec) in enumerate(zip(arrays, specs, strict=True)):
        where = f"{kernel.name}: argument {index} ({spec.name})"
        if not is_numpy_array(array):
            raise RuntimeArgumentError(
                f"{where}: expected a numpy array {spec.describe()}, got {type(array).__name__}"
            )
        if array.dtype != spec.dtype or array.shape != spec.shape:
            raise RuntimeArgumentError(
                f"{where}: expected {spec.describe()}, got {array.dtype}{list(array.shape)}"
            )
        if spec.written and not array.flags.c_contiguous:
            raise RuntimeArgumentError(f"{where}: the output must be a C-contiguous array")
        checked.append(array)
    loaded = load_gpu_kernel(kernel, device)
    try:
        for spec, array in zip(specs, checked, strict=True):
            loaded.copy_in(spec.name, array)
        loaded.run()
        for spec, array in zip(specs, checked, strict=True):
            if spec.written:
                loaded.copy_out(spec.name, array)
    finally:
        loaded.free()


def device_name(device: int = 0) -> str:
    """What the driver calls CUDA device `device` ("NVIDIA H200")."""
    driver = cuda_driver()
    with device_errors(driver, f"reading the name of CUDA device {device}"):
        driver.init()
        return driver.Device(device).name()


def device_hardware_params(device: int = 0) -> HardwareParams:
    """The `HardwareParams` of CUDA device `device`, read from the driver, and its `-arch` in the target.

    Shared memory is the per-block amount a kernel gets without opting in
    to more (what the PTX we emit can use); `max_vthread_extent` is TVM's
    warp size / 4. The rest are the sm_80-class defaults.
    """
    driver = cuda_driver()
    with device_errors(driver, f"reading the attributes of CUDA device {device}"):
        driver.init()
        handle = driver.Device(device)
        major, minor = handle.compute_capability()
        attribute = driver.device_attribute
        warp_size = handle.get_attribute(attribute.WARP_SIZE)
        return HardwareParams(
            max_shared_memory_per_block=handle.get_attribute(attribute.MAX_SHARED_MEMORY_PER_BLOCK),
            max_threads_per_block=handle.get_attribute(attribute.MAX_THREADS_PER_BLOCK),
            max_vthread_extent=warp_size // 4,
            warp_size=warp_size,
            target=f"cuda -arch=sm_{major}{minor}",
        )


def _prepared(module: Any, name: str, n_pointers: int) -> Callable[..., None]:
    """Kernel `name` of a loaded module, prepared for `n_pointers` pointer arguments."""
    function = module.get_function(name)
    function.prepare("P" * n_pointers)
    return function
