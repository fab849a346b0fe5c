"""The type converter and cast helpers shared by the conversions to `llvm`.

The conversion passes (`convert-func-to-llvm`, `convert-arith-to-llvm`,
`convert-math-to-llvm`, `convert-cf-to-llvm`, `finalize-memref-to-llvm`) are
partial conversions in upstream MLIR's manner: a pattern rewrites one op,
takes its operands through `builtin.unrealized_conversion_cast` to their LLVM
types and casts its results back to the original types for users that are not
converted yet. `reconcile-unrealized-casts` removes the pairs once every op is
converted. The passes can thus run in any order, and each alone.

Types map as follows:

- `index` -> `i64` (the index bitwidth of the x86-64 host);
- a memref with a static shape and the identity layout -> `!llvm.ptr` (the
  bare pointer to its first element: shape and strides are compile-time
  constants, so no descriptor is needed), `!llvm.ptr<N>` when its memory
  space is the integer N (a GPU address space: 1 global, 3 shared);
- signless integers, floats and 1-D vectors of them -> themselves (a vector
  of `index` -> a vector of `i64`);
- anything else raises `LoweringError`.
"""

from collections.abc import Sequence
from math import prod

from xdsl.dialects import arith, llvm
from xdsl.dialects.builtin import (
    Attribute,
    DenseIntOrFPElementsAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntAttr,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    NoneAttr,
    UnrealizedConversionCastOp,
    VectorType,
    i64,
)
from xdsl.ir import Block, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter
from xdsl.rewriter import InsertPoint
from xdsl.traits import SymbolTable

from schedopt.errors import LoweringError

INDEX_TYPE = i64
"""The integer type `index` becomes."""


LLVM_FLOAT_TYPES = (Float16Type, Float32Type, Float64Type)
"""The float types xDSL's LLVM backend translates."""


def convert_scalar_type(type: Attribute) -> Attribute:
    """The LLVM type of a scalar: `index` -> i64, integers and floats unchanged."""
    if isinstance(type, IndexType):
        return INDEX_TYPE
    if isinstance(type, (IntegerType, *LLVM_FLOAT_TYPES)):
        return type
    raise LoweringError(f"type {type} has no counterpart in the llvm dialect")


def convert_type(type: Attribute) -> Attribute:
    """The LLVM type of `type`; raises `LoweringError` where there is none."""
    if isinstance(type, VectorType):
        return convert_vector_type(type)
    if isinstance(type, MemRefType):
        check_static_memref(type)
        if isinstance(type.memory_space, IntegerAttr):
            # A GPU address space (1 global, 3 shared): the pointer keeps it.
            return llvm.LLVMPointerType(IntAttr(type.memory_space.value.data))
        return llvm.LLVMPointerType()
    if isinstance(type, llvm.LLVMPointerType | llvm.LLVMVoidType):
        return type
    return convert_scalar_type(type)


def convert_vector_type(type: VectorType) -> VectorType:
    """A 1-D, fixed-size vector of scalars, with `index` elements as i64."""
    if type.get_num_dims() != 1 or type.get_num_scalable_dims() != 0:
        raise LoweringError(f"type {type}: only 1-D, fixed-size vectors lower to the llvm dialect")
    element = convert_scalar_type(type.get_element_type())
    return VectorType(element, type.get_shape())


def memref_layout_problem(type: MemRefType) -> str | None:
    """Why `type` cannot become a bare pointer, or None when it can."""
    shape = type.get_shape()
    if any(dim < 0 for dim in shape):
        return "has a dynamic shape"
    if not isinstance(type.memory_space, NoneAttr | IntegerAttr):
        return "has a memory space that is not an address space number"
    if isinstance(type.layout, NoneAttr):
        return None
    strides = type.get_strides()
    if strides is None or tuple(strides) != tuple(identity_strides(shape)) or type.get_offset() != 0:
        return "has a non-identity layout"
    return None


def check_static_memref(type: MemRefType) -> None:
    """Raise `LoweringError` unless `type` has a static shape and the identity layout."""
    if (problem := memref_layout_problem(type)) is not None:
        raise LoweringError(
            f"type {type} {problem}: only static shapes with the identity layout lower to a bare pointer"
        )


def identity_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """Row-major strides, in elements, of a contiguous buffer of `shape`."""
    return tuple(prod(shape[i + 1 :]) for i in range(len(shape)))


def element_size_in_bytes(type: Attribute) -> int:
    """Bytes one element of `type` takes in memory (its LLVM alloc size on x86-64)."""
    match type:
        case IndexType():
            return 8
        case IntegerType():
            # Whole bytes, rounded up to a power of two: i1 and i8 take 1, i24 takes 4.
            return 1 << ((type.width.data + 7) // 8 - 1).bit_length()
        case Float16Type() | Float32Type() | Float64Type():
            return type.bitwidth // 8
        case VectorType():
            return element_size_in_bytes(type.get_element_type()) * prod(type.get_shape())
        case _:
            raise LoweringError(f"type {type} has no size in memory")


def cast_to_llvm(rewriter: PatternRewriter, value: SSAValue) -> SSAValue:
    """`value` as its LLVM type, through an unrealized cast inserted at the rewriter.

    A value that came out of a cast from the LLVM type is unwrapped instead,
    so that chains of casts do not build up.
    """
    target = convert_type(value.type)
    if value.type == target:
        return value
    if (
        isinstance(owner := value.owner, UnrealizedConversionCastOp)
        and len(owner.inputs) == 1
        and owner.inputs[0].type == target
    ):
        return owner.inputs[0]
    cast = rewriter.insert(UnrealizedConversionCastOp.get([value], [target]))
    return cast.results[0]


def cast_all_to_llvm(rewriter: PatternRewriter, values: Sequence[SSAValue]) -> list[SSAValue]:
    """`cast_to_llvm` of each value."""
    return [cast_to_llvm(rewriter, value) for value in values]


def retype_block_arguments(block: Block, new_types: Sequence[Attribute], rewriter: PatternRewriter) -> None:
    """Give `block`'s arguments `new_types` (their LLVM types); old users see casts back."""
    casts: list[UnrealizedConversionCastOp] = []
    for arg, new_type in zip(block.args, new_types, strict=True):
        old_type = arg.type
        if old_type == new_type:
            continue
        new_arg = rewriter.replace_value_with_new_type(arg, new_type)
        cast = UnrealizedConversionCastOp.get([new_arg], [old_type])
        rewriter.replace_uses_with_if(new_arg, cast.results[0], lambda use, c=cast: use.operation is not c)
        casts.append(cast)
    if casts:
        rewriter.insert(casts, InsertPoint.at_start(block))


def replace_with_llvm(
    rewriter: PatternRewriter,
    op: Operation,
    new_ops: Sequence[Operation],
    new_results: Sequence[SSAValue] | None = None,
) -> None:
    """Replace `op` by `new_ops`, casting results back to `op`'s result types.

    `new_results` (default: the last new op's results) are in LLVM types; a
    result whose type differs from the original one is cast back, so that
    users not converted yet still see the type they expect.
    """
    if new_results is None:
        new_results = new_ops[-1].results if new_ops else ()
    casts: list[Operation] = []
    results: list[SSAValue] = []
    for old, new in zip(op.results, new_results, strict=True):
        if old.type == new.type:
            results.append(new)
            continue
        cast = UnrealizedConversionCastOp.get([new], [old.type])
        casts.append(cast)
        results.append(cast.results[0])
    rewriter.replace(op, [*new_ops, *casts], results)


def intrinsic_type_suffix(type: Attribute) -> str:
    """The suffix LLVM mangles an overloaded intrinsic's name with: f32, i64, v8f32."""
    match type:
        case VectorType():
            return f"v{prod(type.get_shape())}{intrinsic_type_suffix(type.get_element_type())}"
        case IndexType():
            return "i64"
        case IntegerType():
            return f"i{type.width.data}"
        case Float16Type() | Float32Type() | Float64Type():
            return f"f{type.bitwidth}"
        case _:
            raise LoweringError(f"type {type} has no LLVM intrinsic suffix")


def call_intrinsic(
    name: str,
    args: Sequence[SSAValue],
    result_type: Attribute | None,
    overloads: Sequence[Attribute] = (),
) -> llvm.CallIntrinsicOp:
    """`llvm.call_intrinsic` of `name` mangled with `overloads` (e.g. llvm.exp.f32).

    Intrinsics are called by their full mangled names rather than through
    the `llvm.intr.*` ops, whose translation in xDSL's LLVM backend declares
    one unmangled function per name, so that one module could not use, say,
    `exp` on both f32 and <8 x float>.
    """
    mangled = ".".join([name, *(intrinsic_type_suffix(t) for t in overloads)])
    return llvm.CallIntrinsicOp(mangled, args, [] if result_type is None else [result_type])


def llvm_fastmath(flags: arith.FastMathFlagsAttr | None) -> llvm.FastMathAttr:
    """arith's fast-math flags as llvm's (the same flag set)."""
    return llvm.FastMathAttr(None if flags is None else flags.data)


def constant_like(value: int | float, type: Attribute) -> llvm.ConstantOp:
    """An llvm constant of scalar or vector `type` (a splat for vectors)."""
    if isinstance(type, VectorType):
        attr = DenseIntOrFPElementsAttr.from_list(type, [value])  # pyright: ignore
        return llvm.ConstantOp(attr, type)
    if isinstance(type, LLVM_FLOAT_TYPES):
        return llvm.ConstantOp(FloatAttr(float(value), type), type)
    assert isinstance(type, IntegerType)
    return llvm.ConstantOp(IntegerAttr(int(value), type), type)


def declare_external_function(
    user: Operation, symbol: str, type_: llvm.LLVMFunctionType, rewriter: PatternRewriter
) -> None:
    """Declare `llvm.func @symbol` at the end of the module holding `user`, once."""
    module = user.get_toplevel_object()
    assert isinstance(module, ModuleOp)
    existing = SymbolTable.lookup_symbol(module, symbol)
    if existing is not None:
        if isinstance(existing, llvm.FuncOp) and existing.function_type == type_:
            return
        raise LoweringError(f"symbol @{symbol} already exists with another type; cannot declare {type_}")
    declaration = llvm.FuncOp(symbol, type_, linkage=llvm.LinkageAttr("external"))
    rewriter.insert(declaration, InsertPoint.at_end(module.body.block))
