"""The launches of a lowered GPU module's host function, read back as `KernelLaunch`es for a `GPUKernel`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects import func, gpu, memref
from xdsl.dialects.builtin import MemRefType, ModuleOp
from xdsl.ir import SSAValue

from schedopt.errors import LoweringError
from schedopt.gpu_kernel import KernelLaunch
from schedopt.passes.convert_bound_loops_to_gpu import constant_index
from schedopt.runtime import BufferSpec
from schedopt.te import type_to_dtype


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
