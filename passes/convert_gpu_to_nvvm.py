"""`convert-gpu-to-nvvm`: the kernels of each `gpu.module` to the `llvm` dialect for NVPTX.

As upstream MLIR's pass of the same name, it converts the contents of every
`gpu.module` (the host code around it stays as it is):

- `gpu.func ... kernel` -> `llvm.func` marked `nvvm.kernel` (upstream's
  unit attribute; `schedopt.ptx` gives such functions the `ptx_kernel`
  calling convention), its buffers as `!llvm.ptr<1>` (global memory);
- `gpu.thread_id x` / `gpu.block_id x` (y, z) -> the NVVM intrinsics
  `llvm.nvvm.read.ptx.sreg.tid.x` / `...ctaid.x`, widened to `index` (i64);
- `gpu.barrier` -> `llvm.nvvm.barrier0` (`__syncthreads()`);
- a `memref.alloca` in memory space 3 (shared memory, see
  `convert-bound-loops-to-gpu`) -> an internal `llvm.mlir.global` in
  address space 3, one per buffer (with the alloca's alignment), read
  through `llvm.mlir.addressof`;
- the rest (scf, memref on bare pointers, arith, math, cf) by the same
  conversions `convert-to-llvm` runs for the CPU; thread-local buffers stay
  `llvm.alloca`s, which NVPTX places in local memory.

An op left unconverted raises `LoweringError` naming it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func, gpu, llvm, memref
from xdsl.dialects.builtin import (
    IntAttr,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    UnitAttr,
    UnrealizedConversionCastOp,
    i32,
    i64,
)
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.transforms.convert_scf_to_cf import ConvertScfToCf

from schedopt.passes.convert_arith_to_llvm import ConvertArithToLLVMPass
from schedopt.passes.convert_bound_loops_to_gpu import is_shared
from schedopt.passes.convert_cf_to_llvm import ConvertCfToLLVMPass
from schedopt.passes.convert_func_to_llvm import ConvertFuncToLLVMPass
from schedopt.passes.convert_math_to_llvm import ConvertMathToLLVMPass
from schedopt.passes.convert_to_llvm import run_conversions_to_llvm
from schedopt.passes.finalize_memref_to_llvm import FinalizeMemRefToLLVMPass
from schedopt.passes.llvm_type_conversion import convert_scalar_type

KERNEL_ATTR = "nvvm.kernel"
"""The unit attribute of an `llvm.func` that is a kernel (an entry point of the PTX module)."""

GLOBAL_ADDRESS_SPACE = 1
SHARED_ADDRESS_SPACE = 3


def is_kernel(op: Operation) -> bool:
    """Whether `op` is an `llvm.func` this pass made from a `gpu.func` kernel."""
    return isinstance(op, llvm.FuncOp) and KERNEL_ATTR in op.attributes


class ConvertKernelFuncOp(RewritePattern):
    """gpu.func kernel -> func.func marked `nvvm.kernel`, its buffers in global memory.

    `convert-func-to-llvm` takes it from there (bare pointers, kept attributes).
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: gpu.FuncOp, rewriter: PatternRewriter, /):
        entry = op.body.block
        for arg in list(entry.args):
            if isinstance(arg.type, MemRefType) and not isinstance(arg.type.memory_space, IntegerAttr):
                global_type = MemRefType(
                    arg.type.element_type,
                    arg.type.get_shape(),
                    arg.type.layout,
                    IntegerAttr(GLOBAL_ADDRESS_SPACE, i64),
                )
                rewriter.replace_value_with_new_type(arg, global_type)
        body = rewriter.move_region_contents_to_new_regions(op.body)
        function = func.FuncOp(op.sym_name.data, (entry.arg_types, []), body)
        function.attributes[KERNEL_ATTR] = UnitAttr()
        rewriter.replace(op, function)


class ConvertReturnOp(RewritePattern):
    """gpu.return -> func.return."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: gpu.ReturnOp, rewriter: PatternRewriter, /):
        rewriter.replace(op, func.ReturnOp(*op.args))


def _special_register(op: gpu.ThreadIdOp | gpu.BlockIdOp, register: str, rewriter: PatternRewriter) -> None:
    name = f"llvm.nvvm.read.ptx.sreg.{register}.{op.dimension.data.value}"
    read = llvm.CallIntrinsicOp(name, [], [i32])
    wide = llvm.ZExtOp(read.results[0], i64)
    index = UnrealizedConversionCastOp.get([wide.res], [op.result.type])
    rewriter.replace(op, [read, wide, index])


class ConvertThreadIdOp(RewritePattern):
    """gpu.thread_id d -> llvm.nvvm.read.ptx.sreg.tid.d, as index."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: gpu.ThreadIdOp, rewriter: PatternRewriter, /):
        _special_register(op, "tid", rewriter)


class ConvertBlockIdOp(RewritePattern):
    """gpu.block_id d -> llvm.nvvm.read.ptx.sreg.ctaid.d, as index."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: gpu.BlockIdOp, rewriter: PatternRewriter, /):
        _special_register(op, "ctaid", rewriter)


class ConvertBarrierOp(RewritePattern):
    """gpu.barrier -> llvm.nvvm.barrier0."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: gpu.BarrierOp, rewriter: PatternRewriter, /):
        rewriter.replace(op, llvm.CallIntrinsicOp("llvm.nvvm.barrier0", [], []))


def _convert_shared_buffers(module: ModuleOp) -> None:
    """Each shared `memref.alloca` -> an addrspace(3) global of the module and its address."""
    for kernel in [op for op in module.ops if isinstance(op, gpu.FuncOp)]:
        buffers = [
            op for op in kernel.walk() if isinstance(op, memref.AllocaOp) and is_shared(op.memref.type)
        ]
        for number, alloca in enumerate(buffers):
            type_ = alloca.memref.type
            assert isinstance(type_, MemRefType)
            name = f"{kernel.sym_name.data}_shared{number}"
            element = convert_scalar_type(type_.get_element_type())
            array = llvm.LLVMArrayType(math.prod(type_.get_shape()), element)
            alignment = alloca.alignment.value.data if alloca.alignment is not None else None
            global_op = llvm.GlobalOp(
                array, name, "internal", addr_space=SHARED_ADDRESS_SPACE, alignment=alignment
            )
            Rewriter.insert_op(global_op, InsertPoint.before(kernel))
            address = llvm.AddressOfOp(name, llvm.LLVMPointerType(IntAttr(SHARED_ADDRESS_SPACE)))
            buffer = UnrealizedConversionCastOp.get([address.result], [type_])
            buffer.results[0].name_hint = alloca.memref.name_hint
            Rewriter.replace_op(alloca, [address, buffer])


@dataclass(frozen=True)
class ConvertGPUToNVVMPass(ModulePass):
    """Convert the kernels of every `gpu.module` to the llvm dialect with NVVM intrinsics.

    Options: none.
    """

    name = "convert-gpu-to-nvvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for device in [o for o in op.walk() if isinstance(o, gpu.ModuleOp)]:
            # Converted on their own, so that the host code around them keeps its func and gpu ops.
            kernels = ModuleOp([])
            for kernel in list(device.body.block.ops):
                kernel.detach()
                kernels.body.block.add_op(kernel)
            convert_kernels(ctx, kernels)
            for converted in list(kernels.body.block.ops):
                converted.detach()
                device.body.block.add_op(converted)


def convert_kernels(ctx: Context, module: ModuleOp) -> None:
    """Convert a module of `gpu.func`s to llvm functions and globals (see the module docstring)."""
    _convert_shared_buffers(module)
    PatternRewriteWalker(
        GreedyRewritePatternApplier(
            [
                ConvertKernelFuncOp(),
                ConvertReturnOp(),
                ConvertThreadIdOp(),
                ConvertBlockIdOp(),
                ConvertBarrierOp(),
            ]
        )
    ).rewrite_module(module)
    conversions = (
        ConvertScfToCf(),
        FinalizeMemRefToLLVMPass(),
        ConvertMathToLLVMPass(),
        ConvertArithToLLVMPass(),
        ConvertCfToLLVMPass(),
        ConvertFuncToLLVMPass(),
    )
    run_conversions_to_llvm(ctx, module, conversions)
