"""Hand-written MLIR for the pass tests: parsed, lowered to the llvm dialect, compiled.

A kernel's buffers are read off its signature (`%A: memref<16x8xf32>` is a
float32 array A of shape (16, 8)), so a test states them once, in the IR.
"""

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func, get_all_dialects
from xdsl.dialects.builtin import AnyFloat, IndexType, IntegerType, MemRefType, ModuleOp
from xdsl.ir import Attribute
from xdsl.parser import Parser

from schedopt.dialects import get_all_dialects as schedopt_dialects
from schedopt.passes.convert_to_llvm import ConvertToLLVMPass
from schedopt.runtime import BufferSpec, Kernel, compile_module


def parse(text: str) -> tuple[Context, ModuleOp]:
    """`text` parsed in a context with every xDSL and sched-opt dialect, and that context."""
    ctx = Context()
    for name, factory in (get_all_dialects() | schedopt_dialects()).items():
        ctx.register_dialect(name, factory)
    return ctx, Parser(ctx, text).parse_module()


def lower(text: str) -> ModuleOp:
    """`text` through `convert-to-llvm`, verified."""
    ctx, module = parse(text)
    ConvertToLLVMPass().apply(ctx, module)
    module.verify()
    return module


def numpy_dtype(element: Attribute) -> np.dtype:
    """The numpy dtype of a memref element type (index is int64, i1 is bool)."""
    if isinstance(element, IndexType):
        return np.dtype(np.int64)
    if isinstance(element, IntegerType):
        width = element.width.data
        return np.dtype(np.bool_) if width == 1 else np.dtype(f"int{width}")
    if isinstance(element, AnyFloat):
        return np.dtype(f"float{element.bitwidth}")
    raise ValueError(f"no numpy dtype for {element}")


def buffer_specs(function: func.FuncOp) -> list[BufferSpec]:
    """One spec per memref argument of `function`, named by its SSA name."""
    specs: list[BufferSpec] = []
    for arg in function.args:
        assert isinstance(arg.type, MemRefType), f"@{function.sym_name.data}: {arg.type} is not a memref"
        shape = tuple(arg.type.get_shape())
        specs.append(BufferSpec(arg.name_hint or "", shape, numpy_dtype(arg.type.get_element_type())))
    return specs


def compile_function(ctx: Context, module: ModuleOp, name: str, num_threads: int | None = None) -> Kernel:
    """Function `name` of `module`, lowered (in place) and compiled, taking the arrays its signature declares."""
    function = next(op for op in module.ops if isinstance(op, func.FuncOp) and op.sym_name.data == name)
    specs = buffer_specs(function)
    ConvertToLLVMPass().apply(ctx, module)
    module.verify()
    return compile_module(module).get_function(name, specs, num_threads)


def build(text: str, name: str, num_threads: int | None = None) -> Kernel:
    """Function `name` of `text`, lowered and compiled, taking the arrays its signature declares."""
    ctx, module = parse(text)
    return compile_function(ctx, module, name, num_threads)
