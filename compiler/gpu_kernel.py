"""What `build(dag, state, target="cuda")` returns: the PTX of a workload and how to launch it.

A workload becomes one or more GPU kernels (one per stage at root), which
its host function launches in order. `GPUKernel` holds the PTX of all of
them, and for each launch the kernel's name, its grid and block sizes and
the buffers it takes, by name: the workload's arguments (`arg_specs`:
placeholders, then outputs) or intermediate buffers the host allocates
(`temporaries`). A runner (pycuda, where a GPU exists) loads the PTX,
allocates the buffers and launches `launches` in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import func, gpu, memref
from xdsl.dialects.builtin import MemRefType, ModuleOp
from xdsl.ir import SSAValue

from schedopt.errors import LoweringError
from schedopt.passes.convert_bound_loops_to_gpu import constant_index
from schedopt.runtime import BufferSpec
from schedopt.te import type_to_dtype


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


def host_launches(
    module: ModuleOp, func_name: str, arg_specs: Sequence[BufferSpec]
) -> tuple[tuple[KernelLaunch, ...], tuple[BufferSpec, ...]]:
    """The launches of host function `@func_name` of a module `convert-bound-loops-to-gpu` made,
    and the intermediate buffers it allocates for them."""
    host = next(
        (op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == func_name), None
    )
    if host is None:
        raise LoweringError(f"the GPU module has no host function @{func_name}")
    names: dict[SSAValue, str] = {
        arg: spec.name for arg, spec in zip(host.body.block.args, arg_specs, strict=True)
    }
    temporaries: list[BufferSpec] = []
    launches: list[KernelLaunch] = []
    for op in host.body.block.ops:
        if isinstance(op, memref.AllocOp):
            temporaries.append(_temporary(op, len(temporaries)))
            names[op.memref] = temporaries[-1].name
        elif isinstance(op, gpu.LaunchFuncOp):
            launches.append(_launch(op, names))
    return tuple(launches), tuple(temporaries)


def _temporary(op: memref.AllocOp, number: int) -> BufferSpec:
    type_ = op.memref.type
    assert isinstance(type_, MemRefType)
    name = op.memref.name_hint or f"temporary{number}"
    return BufferSpec(name, tuple(type_.get_shape()), np.dtype(type_to_dtype(type_.get_element_type())))


def _launch(op: gpu.LaunchFuncOp, names: dict[SSAValue, str]) -> KernelLaunch:
    sizes = [constant_index(v) for v in (op.gridSizeX, op.gridSizeY, op.gridSizeZ)]
    sizes += [constant_index(v) for v in (op.blockSizeX, op.blockSizeY, op.blockSizeZ)]
    kernel = op.kernel.nested_references.data[-1].data
    if any(size is None for size in sizes):
        raise LoweringError(f"the launch of kernel {kernel} has a grid or block size that is not a constant")
    if any(v not in names for v in op.kernelOperands):
        raise LoweringError(
            f"the launch of kernel {kernel} passes a value that is none of the function's buffers"
        )
    grid = (sizes[0], sizes[1], sizes[2])
    block = (sizes[3], sizes[4], sizes[5])
    return KernelLaunch(kernel, grid, block, tuple(names[v] for v in op.kernelOperands))  # pyright: ignore[reportArgumentType]
