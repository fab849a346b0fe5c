"""Run `gpu`-dialect modules on the CPU, so that GPU schedules are checked against numpy without a GPU.

The module the GPU lowering produces (host functions launching `gpu.func`
kernels: `schedopt.build.lower_gpu`) goes through `convert-gpu-to-cpu` (each launch as loops over blocks
and threads, split at barriers) and `convert-to-llvm`, and is compiled for the
host like any CPU kernel: what runs is the same kernels, with the same thread
and block ids, shared memory and barriers, as on the GPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, builtin, func, gpu, math, memref, scf, vector
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.parser import Parser

from schedopt.build import argument_specs, lower_gpu
from schedopt.compute_dag import ComputeDAG
from schedopt.errors import CompileError, RuntimeArgumentError
from schedopt.hardware_params import HardwareParams
from schedopt.passes.convert_gpu_to_cpu import ConvertGPUToCPUPass
from schedopt.passes.convert_to_llvm import ConvertToLLVMPass
from schedopt.passes.lower_to_llvm import cyclic_gc_paused
from schedopt.passes.lower_to_nvptx import optimize_gpu_loops
from schedopt.runtime import BufferSpec, Kernel, compile_module
from schedopt.schedule.loop_state import State


def gpu_module_context() -> Context:
    """A context with the dialects of a `gpu`-dialect module: host functions and kernel bodies."""
    ctx = Context()
    for dialect in (
        builtin.Builtin,
        func.Func,
        arith.Arith,
        math.Math,
        scf.Scf,
        memref.MemRef,
        vector.Vector,
        gpu.GPU,
    ):
        ctx.load_dialect(dialect)
    return ctx


def parse_gpu_module(text: str) -> ModuleOp:
    """Parse and verify the text of a `gpu`-dialect module."""
    module = Parser(gpu_module_context(), text).parse_module()
    module.verify()
    return module


def convert_gpu_module_for_cpu(module: ModuleOp) -> ModuleOp:
    """A copy of `module` in the `llvm` dialect, each kernel launch as loops over blocks and threads."""
    ctx = gpu_module_context()
    converted = module.clone()
    with cyclic_gc_paused():
        ConvertGPUToCPUPass().apply(ctx, converted)
        ConvertToLLVMPass().apply(ctx, converted)
    return converted


def compile_gpu_module_for_cpu(module: ModuleOp, func_name: str, arg_specs: Sequence[BufferSpec]) -> Kernel:
    """The host function `func_name` of `module`, compiled for the CPU, as a `Kernel` on numpy arrays."""
    compiled = compile_module(convert_gpu_module_for_cpu(module))
    return compiled.get_function(func_name, arg_specs)


def build_gpu_for_cpu(
    dag: ComputeDAG, state: State | None, hardware_params: HardwareParams | None = None
) -> Kernel:
    """The GPU kernels of `state` (None: unscheduled), as `build(..., target="cuda")` makes them
    before the PTX, compiled for the CPU; called like `build`'s kernels, with the same arrays."""
    module = lower_gpu(dag, state, hardware_params)
    with cyclic_gc_paused():
        optimize_gpu_loops(gpu_module_context(), module)
    return compile_gpu_module_for_cpu(module, dag.func_name, argument_specs(dag))


def run_gpu_module_on_cpu(module: ModuleOp | str, *arrays: np.ndarray, func_name: str | None = None) -> None:
    """Run the host function `func_name` (None: the module's only one) on `arrays`, in place.

    The arrays must match the function's memref arguments; every one may be
    written, so none may share memory with another.
    """
    if isinstance(module, str):
        module = parse_gpu_module(module)
    host = _host_function(module, func_name)
    if len(arrays) != len(host.args):
        raise RuntimeArgumentError(
            f"@{host.sym_name.data}: expected {len(host.args)} arrays, got {len(arrays)}"
        )
    specs = [
        BufferSpec(argument.name_hint or f"arg{index}", array.shape, array.dtype)
        for index, (argument, array) in enumerate(zip(host.args, arrays, strict=True))
    ]
    kernel = compile_gpu_module_for_cpu(module, host.sym_name.data, specs)
    kernel(*arrays)


def _host_function(module: ModuleOp, func_name: str | None) -> func.FuncOp:
    functions = [op for op in module.ops if isinstance(op, func.FuncOp) and op.body.blocks]
    if func_name is not None:
        functions = [op for op in functions if op.sym_name == StringAttr(func_name)]
    if len(functions) != 1:
        known = ", ".join(f"@{op.sym_name.data}" for op in functions) or "none"
        wanted = f"@{func_name}" if func_name is not None else "a single host function"
        raise CompileError(f"the gpu module has no {wanted} to run (host functions: {known})")
    return functions[0]
