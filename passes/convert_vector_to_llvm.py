"""`convert-vector-to-llvm`: 1-D vector ops to the `llvm` dialect, as upstream MLIR's pass.

Covers what vectorized loop bodies use, on 1-D fixed-size vectors:

- `vector.broadcast` of a scalar -> `llvm.insertelement` into an undefined
  vector, then a `llvm.shufflevector` with an all-zero mask (LLVM's splat idiom);
- `vector.insert` of a scalar -> `llvm.insertelement`;
- `vector.extract` of a scalar at a constant position -> a one-element
  `llvm.shufflevector` and a bitcast to the scalar: xDSL's llvm dialect has
  no `extractelement`, and LLVM folds the pair into one;
- `vector.fma` -> the `llvm.fma` intrinsic.

`vector.load` and `vector.store` become llvm loads and stores in
`finalize-memref-to-llvm`, which owns the addressing of memrefs. Other
vector ops, and vectors of more than one dimension, raise `LoweringError`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects import llvm, vector
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, VectorType, i32, i64
from xdsl.ir import Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from schedopt.errors import LoweringError
from schedopt.passes.llvm_conversion_pass import LLVMConversionPass
from schedopt.passes.llvm_type_conversion import (
    call_intrinsic,
    cast_all_to_llvm,
    cast_to_llvm,
    convert_type,
    replace_with_llvm,
)


def _vector_type(op: Operation, value: SSAValue) -> VectorType:
    """The LLVM type of `value`, which must be a 1-D vector."""
    type_ = value.type
    if not isinstance(type_, VectorType) or type_.get_num_dims() != 1:
        raise LoweringError(f"convert-vector-to-llvm: {op.name} on {type_}: only 1-D vectors are supported")
    return convert_type(type_)  # pyright: ignore[reportReturnType]


def _lane(op: vector.InsertOp | vector.ExtractOp) -> int | SSAValue:
    """The one position of an insert or extract into a 1-D vector."""
    (position,) = op.get_mixed_position()
    return position


def _position_value(position: int | SSAValue, rewriter: PatternRewriter) -> SSAValue:
    """A lane position as an i64 value."""
    if isinstance(position, int):
        return rewriter.insert(llvm.ConstantOp(IntegerAttr(position, i64), i64)).result
    return cast_to_llvm(rewriter, position)


class ConvertBroadcastOp(RewritePattern):
    """vector.broadcast of a scalar -> insertelement at lane 0, shufflevector with a zero mask."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.BroadcastOp, rewriter: PatternRewriter, /):
        result_type = _vector_type(op, op.vector)
        if isinstance(op.source.type, VectorType):
            raise LoweringError(
                f"convert-vector-to-llvm: vector.broadcast from {op.source.type}: only scalars are supported"
            )
        scalar = cast_to_llvm(rewriter, op.source)
        undefined = llvm.UndefOp(result_type)
        zero = llvm.ConstantOp(IntegerAttr(0, i32), i32)
        first = llvm.InsertElementOp(undefined.res, scalar, zero.result)
        mask = DenseArrayBase.from_list(i32, [0] * result_type.get_shape()[0])
        splat = llvm.ShuffleVectorOp(first.res, undefined.res, mask, result_type)
        replace_with_llvm(rewriter, op, [undefined, zero, first, splat])


class ConvertInsertOp(RewritePattern):
    """vector.insert of a scalar into a 1-D vector -> insertelement."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.InsertOp, rewriter: PatternRewriter, /):
        _vector_type(op, op.dest)
        if isinstance(op.source.type, VectorType):
            raise LoweringError(f"convert-vector-to-llvm: vector.insert of {op.source.type} is not supported")
        position = _position_value(_lane(op), rewriter)
        value, dest = cast_all_to_llvm(rewriter, [op.source, op.dest])
        replace_with_llvm(rewriter, op, [llvm.InsertElementOp(dest, value, position)])


class ConvertExtractOp(RewritePattern):
    """vector.extract of a scalar at a constant position -> one-lane shufflevector + bitcast."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.ExtractOp, rewriter: PatternRewriter, /):
        source_type = _vector_type(op, op.vector)
        position = _lane(op)
        if isinstance(op.result.type, VectorType) or not isinstance(position, int):
            raise LoweringError(
                "convert-vector-to-llvm: vector.extract: only scalars at constant positions are supported"
            )
        source = cast_to_llvm(rewriter, op.vector)
        one_lane = VectorType(source_type.get_element_type(), [1])
        shuffle = llvm.ShuffleVectorOp(source, source, DenseArrayBase.from_list(i32, [position]), one_lane)
        replace_with_llvm(rewriter, op, [shuffle, llvm.BitcastOp(shuffle.res, convert_type(op.result.type))])


class ConvertFMAOp(RewritePattern):
    """vector.fma -> the llvm.fma intrinsic on the vector type."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.FMAOp, rewriter: PatternRewriter, /):
        type_ = _vector_type(op, op.res)
        operands = cast_all_to_llvm(rewriter, op.operands)
        replace_with_llvm(rewriter, op, [call_intrinsic("llvm.fma", operands, type_, [type_])])


@dataclass(frozen=True)
class ConvertVectorToLLVMPass(LLVMConversionPass):
    """Convert 1-D vector broadcast, insert, extract and fma to the llvm dialect, as upstream MLIR's pass.

    Options: none.
    """

    name = "convert-vector-to-llvm"

    def patterns(self) -> Sequence[RewritePattern]:
        return (
            ConvertBroadcastOp(),
            ConvertInsertOp(),
            ConvertExtractOp(),
            ConvertFMAOp(),
        )
