"""`finalize-memref-to-llvm`: memref ops to the `llvm` dialect on bare pointers.

Every memref has a static shape and the identity layout (others raise
`LoweringError`), so a memref is just the pointer to its first element and
its strides are constants; no descriptor is built, unlike upstream MLIR's
pass of the same name, whose bare-pointer calling convention this matches.

- `memref.load`/`memref.store` (and `vector.load`/`vector.store` of 1-D
  vectors) -> the row-major linear index, `llvm.getelementptr inbounds`,
  then `llvm.load`/`llvm.store` aligned to the element size;
- `memref.alloc` -> a call of C11 `aligned_alloc(alignment, size)`, the
  size rounded up to a multiple of the alignment as `aligned_alloc`
  requires; `memref.dealloc` -> `free`;
- `memref.alloca` -> `llvm.alloca`, hoisted to the entry block of its
  function: sizes are static, so the buffer is allocated once per call of
  the function instead of growing the stack on each iteration of a loop;
- `memref.assume_alignment` -> its operand.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod

from xdsl.dialects import arith, llvm, memref, vector
from xdsl.dialects.builtin import (
    IntegerAttr,
    MemRefType,
    ModuleOp,
    UnrealizedConversionCastOp,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern
from xdsl.rewriter import InsertPoint

from schedopt.errors import LoweringError
from schedopt.passes.llvm_conversion_pass import LLVMConversionPass
from schedopt.passes.llvm_type_conversion import (
    cast_all_to_llvm,
    cast_to_llvm,
    convert_scalar_type,
    convert_type,
    declare_external_function,
    element_size_in_bytes,
    identity_strides,
    memref_layout_problem,
    replace_with_llvm,
)

_ALIGNED_ALLOC_TYPE = llvm.LLVMFunctionType([i64, i64], llvm.LLVMPointerType())
_FREE_TYPE = llvm.LLVMFunctionType([llvm.LLVMPointerType()], llvm.LLVMVoidType())


def static_memref_type(op: Operation, value: SSAValue) -> MemRefType:
    """The type of `value`, a memref `op` uses; `LoweringError` unless static with identity layout."""
    type_ = value.type
    assert isinstance(type_, MemRefType)
    if (problem := memref_layout_problem(type_)) is not None:
        raise LoweringError(
            f"finalize-memref-to-llvm: {op.name} on {type_}: the memref {problem} "
            "(only static shapes with the identity layout are supported)"
        )
    return type_  # pyright: ignore[reportUnknownVariableType]


def element_pointer(
    base: SSAValue, indices: Sequence[SSAValue], type_: MemRefType
) -> tuple[list[Operation], SSAValue]:
    """Ops computing the address of element `indices` of `base` (an `!llvm.ptr` of `type_`).

    The linear index is sum(index * stride) over the static row-major strides,
    with nsw: in-bounds indices of a buffer that fits in memory do not wrap.
    Constant indices (an unrolled loop's) add up into one constant offset
    here, so an unrolled body's thousands of accesses do not each carry a
    multiply and an add per dimension through the rest of the conversion.
    """
    if not indices:
        return [], base
    ops: list[Operation] = []
    nsw = llvm.OverflowAttr([llvm.OverflowFlag.NO_SIGNED_WRAP])
    linear: SSAValue | None = None
    offset = 0
    for index, stride in zip(indices, identity_strides(type_.get_shape()), strict=True):
        constant = constant_index(index)
        if constant is not None:
            offset += constant * stride
            continue
        term = index
        if stride != 1:
            stride_op = llvm.ConstantOp(IntegerAttr(stride, i64), i64)
            scaled = llvm.MulOp(index, stride_op.result, overflow=nsw)
            ops += [stride_op, scaled]
            term = scaled.res
        if linear is None:
            linear = term
            continue
        total = llvm.AddOp(linear, term, overflow=nsw)
        ops.append(total)
        linear = total.res
    if offset or linear is None:
        offset_op = llvm.ConstantOp(IntegerAttr(offset, i64), i64)
        ops.append(offset_op)
        if linear is None:
            linear = offset_op.result
        else:
            total = llvm.AddOp(linear, offset_op.result, overflow=nsw)
            ops.append(total)
            linear = total.res
    element = convert_scalar_type(type_.get_element_type())
    # The address keeps the base's address space (a GPU's global or shared memory).
    pointer = base.type if isinstance(base.type, llvm.LLVMPointerType) else llvm.LLVMPointerType()
    gep = llvm.GEPOp.from_mixed_indices(base, [linear], element, result_type=pointer, inbounds=True)
    return [*ops, gep], gep.result


def constant_index(value: SSAValue) -> int | None:
    """The value of an index that is a constant (`llvm` or `arith`, through an unrealized cast), else None."""
    owner = value.owner
    if isinstance(owner, UnrealizedConversionCastOp) and len(owner.inputs) == 1:
        owner = owner.inputs[0].owner
    if isinstance(owner, llvm.ConstantOp | arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return None


class ConvertLoadOp(RewritePattern):
    """memref.load -> getelementptr inbounds + llvm.load."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.LoadOp, rewriter: PatternRewriter, /):
        type_ = static_memref_type(op, op.memref)
        base, *indices = cast_all_to_llvm(rewriter, [op.memref, *op.indices])
        ops, address = element_pointer(base, indices, type_)
        element = convert_type(op.res.type)
        load = llvm.LoadOp(address, element, alignment=element_size_in_bytes(element))
        replace_with_llvm(rewriter, op, [*ops, load])


class ConvertStoreOp(RewritePattern):
    """memref.store -> getelementptr inbounds + llvm.store."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.StoreOp, rewriter: PatternRewriter, /):
        type_ = static_memref_type(op, op.memref)
        value, base, *indices = cast_all_to_llvm(rewriter, [op.value, op.memref, *op.indices])
        ops, address = element_pointer(base, indices, type_)
        store = llvm.StoreOp(value, address, alignment=element_size_in_bytes(value.type))
        replace_with_llvm(rewriter, op, [*ops, store])


class ConvertVectorLoadOp(RewritePattern):
    """vector.load of a 1-D vector -> getelementptr inbounds + llvm.load of the vector.

    The load is aligned to the element only: vectors start at any element.
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.LoadOp, rewriter: PatternRewriter, /):
        type_ = static_memref_type(op, op.base)
        vector_type = convert_type(op.result.type)
        base, *indices = cast_all_to_llvm(rewriter, [op.base, *op.indices])
        ops, address = element_pointer(base, indices, type_)
        alignment = element_size_in_bytes(type_.get_element_type())
        load = llvm.LoadOp(address, vector_type, alignment=alignment)
        replace_with_llvm(rewriter, op, [*ops, load])


class ConvertVectorStoreOp(RewritePattern):
    """vector.store of a 1-D vector -> getelementptr inbounds + llvm.store of the vector.

    xDSL's LLVM backend types the pointers into an `llvm.alloca` by their
    element (llvmlite's `float*`, not an opaque `ptr`) and llvmlite refuses
    to store a vector through them, so a second, zero-offset getelementptr
    over the vector type retypes the address (LLVM folds it away).
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.StoreOp, rewriter: PatternRewriter, /):
        type_ = static_memref_type(op, op.base)
        value, base, *indices = cast_all_to_llvm(rewriter, [op.vector, op.base, *op.indices])
        ops, address = element_pointer(base, indices, type_)
        vector_address = llvm.GEPOp.from_mixed_indices(address, [0], value.type, inbounds=True)
        alignment = element_size_in_bytes(type_.get_element_type())
        store = llvm.StoreOp(value, vector_address.result, alignment=alignment)
        replace_with_llvm(rewriter, op, [*ops, vector_address, store])


@dataclass
class ConvertAllocOp(RewritePattern):
    """memref.alloc -> `aligned_alloc(alignment, size rounded up to alignment)`."""

    alignment: int = field(default=64)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AllocOp, rewriter: PatternRewriter, /):
        type_ = static_memref_type(op, op.memref)
        alignment = max(self.alignment, _requested_alignment(op.alignment))
        size = _size_in_bytes(type_)
        size = -(-size // alignment) * alignment or alignment
        declare_external_function(op, "aligned_alloc", _ALIGNED_ALLOC_TYPE, rewriter)
        alignment_op = llvm.ConstantOp(IntegerAttr(alignment, i64), i64)
        size_op = llvm.ConstantOp(IntegerAttr(size, i64), i64)
        call = llvm.CallOp(
            "aligned_alloc", alignment_op.result, size_op.result, return_type=llvm.LLVMPointerType()
        )
        replace_with_llvm(rewriter, op, [alignment_op, size_op, call])


class ConvertDeallocOp(RewritePattern):
    """memref.dealloc -> free."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.DeallocOp, rewriter: PatternRewriter, /):
        if isinstance(op.memref.type, MemRefType):
            static_memref_type(op, op.memref)
        pointer = cast_to_llvm(rewriter, op.memref)
        declare_external_function(op, "free", _FREE_TYPE, rewriter)
        replace_with_llvm(rewriter, op, [llvm.CallOp("free", pointer)])


@dataclass
class ConvertAllocaOp(RewritePattern):
    """memref.alloca -> llvm.alloca in the entry block of the enclosing function."""

    alignment: int = field(default=64)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AllocaOp, rewriter: PatternRewriter, /):
        type_ = static_memref_type(op, op.memref)
        entry = _function_entry_block(op)
        alignment = max(self.alignment, _requested_alignment(op.alignment))
        element = convert_scalar_type(type_.get_element_type())
        count = llvm.ConstantOp(IntegerAttr(prod(type_.get_shape()), i64), i64)
        alloca = llvm.AllocaOp(count.result, element, alignment=alignment)
        cast = UnrealizedConversionCastOp.get([alloca.res], [type_])
        rewriter.insert([count, alloca, cast], InsertPoint.at_start(entry))
        rewriter.replace(op, [], cast.results)


class ConvertAssumeAlignmentOp(RewritePattern):
    """memref.assume_alignment -> its operand (the hint is dropped)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AssumeAlignmentOp, rewriter: PatternRewriter, /):
        rewriter.replace(op, [], [op.memref])


def _requested_alignment(alignment: Attribute | None) -> int:
    """The alignment an alloc op asks for, 1 when it asks for none."""
    if isinstance(alignment, IntegerAttr):
        return int(alignment.value.data)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    return 1


def _size_in_bytes(type_: MemRefType) -> int:
    return prod(type_.get_shape()) * element_size_in_bytes(type_.get_element_type())


def _function_entry_block(op: Operation) -> Block:
    """The entry block of the function (the op directly in the module) holding `op`."""
    function = op
    while (parent := function.parent_op()) is not None and not isinstance(parent, ModuleOp):
        function = parent
    if not function.regions or function.regions[0].first_block is None:
        raise LoweringError(f"finalize-memref-to-llvm: {op.name} outside of a function body")
    return function.regions[0].first_block


@dataclass(frozen=True)
class FinalizeMemRefToLLVMPass(LLVMConversionPass):
    """Convert memref ops (and 1-D vector loads/stores) to the llvm dialect on bare pointers.

    Options:

    - alignment: int = 64: the least alignment, in bytes, of buffers from
      memref.alloc and memref.alloca (an op's own larger alignment wins).
      64 is a cache line, and the width of an AVX-512 vector.
    """

    name = "finalize-memref-to-llvm"

    alignment: int = 64

    def patterns(self) -> Sequence[RewritePattern]:
        if self.alignment <= 0 or self.alignment & (self.alignment - 1):
            raise LoweringError(f"finalize-memref-to-llvm: alignment={self.alignment} is not a power of two")
        return (
            ConvertLoadOp(),
            ConvertStoreOp(),
            ConvertVectorLoadOp(),
            ConvertVectorStoreOp(),
            ConvertAllocOp(self.alignment),
            ConvertDeallocOp(),
            ConvertAllocaOp(self.alignment),
            ConvertAssumeAlignmentOp(),
        )
