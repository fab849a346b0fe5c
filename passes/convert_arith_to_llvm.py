"""`convert-arith-to-llvm`: arith ops to the `llvm` dialect, as upstream MLIR's pass.

Covers what a compute kernel uses, on scalars and (where xDSL's arith allows
them) 1-D vectors: constants, integer and float arithmetic, min/max, the
signed floor/ceil divisions (expanded as upstream's `arith-expand` does),
bitwise ops and shifts, comparisons, select and the casts. `index` is i64.

Float ops keep their fast-math flags, so `fastmath<contract>` reaches LLVM and
a multiply feeding an add may fuse into an FMA. Ops that xDSL's llvm dialect
or its LLVM backend lacks are reached through `llvm.call_intrinsic`:
`llvm.maximum`/`llvm.minimum`, `llvm.smax` and friends, and the saturating
`llvm.fptosi.sat`/`llvm.fptoui.sat` for float-to-integer casts (an
out-of-range value, poison for arith, saturates).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects import arith, llvm
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    VectorType,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from schedopt.errors import LoweringError
from schedopt.passes.llvm_conversion_pass import LLVMConversionPass
from schedopt.passes.llvm_type_conversion import (
    call_intrinsic,
    cast_all_to_llvm,
    cast_to_llvm,
    constant_like,
    convert_type,
    llvm_fastmath,
    replace_with_llvm,
)

_INTEGER_BINARY_OPS: dict[type[Operation], type[Operation]] = {
    arith.AddiOp: llvm.AddOp,
    arith.SubiOp: llvm.SubOp,
    arith.MuliOp: llvm.MulOp,
    arith.DivSIOp: llvm.SDivOp,
    arith.DivUIOp: llvm.UDivOp,
    arith.RemSIOp: llvm.SRemOp,
    arith.RemUIOp: llvm.URemOp,
    arith.AndIOp: llvm.AndOp,
    arith.OrIOp: llvm.OrOp,
    arith.XOrIOp: llvm.XOrOp,
    arith.ShLIOp: llvm.ShlOp,
    arith.ShRSIOp: llvm.AShrOp,
    arith.ShRUIOp: llvm.LShrOp,
}

_FLOAT_BINARY_OPS: dict[type[Operation], type[llvm.AbstractFloatArithOp]] = {
    arith.AddfOp: llvm.FAddOp,
    arith.SubfOp: llvm.FSubOp,
    arith.MulfOp: llvm.FMulOp,
    arith.DivfOp: llvm.FDivOp,
}

_MIN_MAX_INTRINSICS: dict[type[Operation], str] = {
    arith.MaximumfOp: "llvm.maximum",
    arith.MinimumfOp: "llvm.minimum",
    arith.MaxnumfOp: "llvm.maxnum",
    arith.MinnumfOp: "llvm.minnum",
    arith.MaxSIOp: "llvm.smax",
    arith.MinSIOp: "llvm.smin",
    arith.MaxUIOp: "llvm.umax",
    arith.MinUIOp: "llvm.umin",
}

_CAST_OPS: dict[type[Operation], type[Operation]] = {
    arith.ExtFOp: llvm.FPExtOp,
    arith.TruncFOp: llvm.FPTruncOp,
    arith.ExtSIOp: llvm.SExtOp,
    arith.ExtUIOp: llvm.ZExtOp,
    arith.TruncIOp: llvm.TruncOp,
    arith.SIToFPOp: llvm.SIToFPOp,
    arith.BitcastOp: llvm.BitcastOp,
}

_FLOAT_TO_INT_INTRINSICS: dict[type[Operation], str] = {
    arith.FPToSIOp: "llvm.fptosi.sat",
    arith.FPToUIOp: "llvm.fptoui.sat",
}


_SIGNED_ROUNDING_DIVISIONS: dict[type[Operation], tuple[str, type[llvm.SExtOp | llvm.ZExtOp]]] = {
    arith.FloorDivSIOp: ("ne", llvm.SExtOp),
    arith.CeilDivSIOp: ("eq", llvm.ZExtOp),
}
"""floordivsi/ceildivsi: the sign comparison under which the truncated quotient
is off by one, and the extension turning that i1 into the correction."""


def llvm_overflow(flags: arith.IntegerOverflowAttr) -> llvm.OverflowAttr:
    """arith's nsw/nuw flags as llvm's."""
    return llvm.OverflowAttr([llvm.OverflowFlag(flag.value) for flag in flags.data])


def icmp(lhs: SSAValue, rhs: SSAValue, predicate: str) -> llvm.ICmpOp:
    """`llvm.icmp` with a predicate given by name."""
    return llvm.ICmpOp(lhs, rhs, IntegerAttr(llvm.ICmpPredicateFlag(predicate).to_int(), i64))


def cast_operand_and_result_type(rewriter: PatternRewriter, op: Operation) -> tuple[SSAValue, Attribute]:
    """The one operand of cast `op` and its result type, both in LLVM types."""
    (operand,) = cast_all_to_llvm(rewriter, op.operands)
    return operand, convert_type(op.results[0].type)


class ConvertConstantOp(RewritePattern):
    """arith.constant -> llvm.mlir.constant (index values as i64)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.ConstantOp, rewriter: PatternRewriter, /):
        type = convert_type(op.result.type)
        match op.value:
            case IntegerAttr():
                value = IntegerAttr(op.value.value.data, type, truncate_bits=True)  # pyright: ignore
            case FloatAttr():
                value = op.value
            case DenseIntOrFPElementsAttr() if isinstance(type, VectorType):
                value = DenseIntOrFPElementsAttr.from_list(type, op.value.get_values())  # pyright: ignore
            case _:
                raise LoweringError(f"convert-arith-to-llvm: arith.constant {op.value} is not supported")
        replace_with_llvm(rewriter, op, [llvm.ConstantOp(value, type)])


class ConvertIntegerBinaryOp(RewritePattern):
    """addi, subi, muli, div/rem, bitwise ops and shifts -> their llvm namesakes."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        llvm_op_type = _INTEGER_BINARY_OPS.get(type(op))
        if llvm_op_type is None:
            return
        lhs, rhs = cast_all_to_llvm(rewriter, op.operands)
        if isinstance(op, arith.SignlessIntegerBinaryOperationWithOverflow):
            assert issubclass(llvm_op_type, llvm.ArithmeticBinOpOverflow)
            new_op = llvm_op_type(lhs, rhs, overflow=llvm_overflow(op.overflow_flags))
        else:
            new_op = llvm_op_type(lhs, rhs)  # pyright: ignore[reportCallIssue]
        replace_with_llvm(rewriter, op, [new_op])


class ConvertFloatBinaryOp(RewritePattern):
    """addf, subf, mulf, divf -> fadd, fsub, fmul, fdiv with the same fast-math flags."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        llvm_op_type = _FLOAT_BINARY_OPS.get(type(op))
        if llvm_op_type is None:
            return
        assert isinstance(op, arith.FloatingPointLikeBinaryOperation)
        lhs, rhs = cast_all_to_llvm(rewriter, op.operands)
        replace_with_llvm(rewriter, op, [llvm_op_type(lhs, rhs, llvm_fastmath(op.fastmath))])


class ConvertNegfOp(RewritePattern):
    """arith.negf -> llvm.fneg."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.NegfOp, rewriter: PatternRewriter, /):
        operand = cast_to_llvm(rewriter, op.operand)
        replace_with_llvm(rewriter, op, [llvm.FNegOp(operand, llvm_fastmath(op.fastmath))])


class ConvertMinMaxOp(RewritePattern):
    """Float and integer min/max -> the LLVM intrinsics of the same semantics.

    maximumf/minimumf propagate NaN (llvm.maximum/minimum); maxnumf/minnumf
    return the other operand (llvm.maxnum/minnum); the integer ones become
    llvm.smax/smin/umax/umin, which LLVM selects to single instructions.
    """

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        intrinsic = _MIN_MAX_INTRINSICS.get(type(op))
        if intrinsic is None:
            return
        lhs, rhs = cast_all_to_llvm(rewriter, op.operands)
        replace_with_llvm(rewriter, op, [call_intrinsic(intrinsic, [lhs, rhs], lhs.type, [lhs.type])])


class ExpandSignedRoundingDivOp(RewritePattern):
    """arith.floordivsi and arith.ceildivsi, as upstream's arith-expand.

    z = a / b (rounded toward zero). floordivsi: if z * b != a and
    (a < 0) != (b < 0), then z - 1, added as sext(cond) (-1 or 0);
    ceildivsi: if z * b != a and (a < 0) == (b < 0), then z + 1, added as
    zext(cond) (1 or 0). Both work on vectors as on scalars.
    """

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        rounding = _SIGNED_ROUNDING_DIVISIONS.get(type(op))
        if rounding is None:
            return
        sign_predicate, extend = rounding
        a, b = cast_all_to_llvm(rewriter, op.operands)
        ops = _signed_division_with_correction(a, b, sign_predicate)
        correction = extend(ops[-1].results[0], a.type)
        replace_with_llvm(rewriter, op, [*ops, correction, llvm.AddOp(ops[0].results[0], correction.res)])


class ExpandCeilDivUIOp(RewritePattern):
    """arith.ceildivui(a, b) = a / b + (a % b != 0)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.CeilDivUIOp, rewriter: PatternRewriter, /):
        a, b = cast_all_to_llvm(rewriter, op.operands)
        quotient = llvm.UDivOp(a, b)
        remainder = llvm.URemOp(a, b)
        zero = constant_like(0, a.type)
        inexact = icmp(remainder.res, zero.result, "ne")
        correction = llvm.ZExtOp(inexact.res, a.type)
        new_ops = [quotient, remainder, zero, inexact, correction, llvm.AddOp(quotient.res, correction.res)]
        replace_with_llvm(rewriter, op, new_ops)


def _signed_division_with_correction(a: SSAValue, b: SSAValue, sign_predicate: str) -> list[Operation]:
    """sdiv a, b, then the condition under which the quotient needs rounding.

    The first op's result is the truncated quotient, the last op's result the
    condition `z * b != a and icmp(sign_predicate, a < 0, b < 0)`.
    """
    quotient = llvm.SDivOp(a, b)
    product = llvm.MulOp(quotient.res, b)
    inexact = icmp(product.res, a, "ne")
    zero = constant_like(0, a.type)
    a_negative = icmp(a, zero.result, "slt")
    b_negative = icmp(b, zero.result, "slt")
    signs = icmp(a_negative.res, b_negative.res, sign_predicate)
    condition = llvm.AndOp(inexact.res, signs.res)
    return [quotient, product, inexact, zero, a_negative, b_negative, signs, condition]


class ConvertCmpiOp(RewritePattern):
    """arith.cmpi -> llvm.icmp with the same predicate."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.CmpiOp, rewriter: PatternRewriter, /):
        lhs, rhs = cast_all_to_llvm(rewriter, op.operands)
        predicate = arith.CMPI_COMPARISON_OPERATIONS[op.predicate.value.data]
        replace_with_llvm(rewriter, op, [icmp(lhs, rhs, predicate)])


class ConvertCmpfOp(RewritePattern):
    """arith.cmpf -> llvm.fcmp with the same predicate (scalars only, as xDSL's llvm.fcmp)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.CmpfOp, rewriter: PatternRewriter, /):
        lhs, rhs = cast_all_to_llvm(rewriter, op.operands)
        if isinstance(lhs.type, VectorType):
            raise LoweringError(f"convert-arith-to-llvm: arith.cmpf on {lhs.type}: vectors are not supported")
        predicate = arith.CMPF_COMPARISON_OPERATIONS[op.predicate.value.data]
        flag = llvm.FCmpPredicateFlag({"false": "_false", "true": "_true"}.get(predicate, predicate))
        replace_with_llvm(rewriter, op, [llvm.FCmpOp(lhs, rhs, IntegerAttr(flag.to_int(), i64))])


class ConvertSelectOp(RewritePattern):
    """arith.select -> llvm.select."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.SelectOp, rewriter: PatternRewriter, /):
        cond, lhs, rhs = cast_all_to_llvm(rewriter, op.operands)
        replace_with_llvm(rewriter, op, [llvm.SelectOp(cond, lhs, rhs)])


class ConvertCastOp(RewritePattern):
    """extf, truncf, extsi, extui, trunci, sitofp, bitcast -> their llvm namesakes."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        llvm_op_type = _CAST_OPS.get(type(op))
        if llvm_op_type is None:
            return
        operand, result_type = cast_operand_and_result_type(rewriter, op)
        if operand.type == result_type:  # e.g. a bitcast between index and i64
            replace_with_llvm(rewriter, op, [], [operand])
            return
        replace_with_llvm(rewriter, op, [llvm_op_type(operand, result_type)])  # pyright: ignore[reportCallIssue]


class ConvertIndexCastOp(RewritePattern):
    """arith.index_cast: sign-extend or truncate between the integer and i64."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.IndexCastOp, rewriter: PatternRewriter, /):
        operand, result_type = cast_operand_and_result_type(rewriter, op)
        assert isinstance(operand.type, IntegerType) and isinstance(result_type, IntegerType)
        source_width, target_width = operand.type.width.data, result_type.width.data
        if source_width == target_width:
            replace_with_llvm(rewriter, op, [], [operand])
        elif source_width < target_width:
            replace_with_llvm(rewriter, op, [llvm.SExtOp(operand, result_type)])
        else:
            replace_with_llvm(rewriter, op, [llvm.TruncOp(operand, result_type)])


class ConvertFloatToIntOp(RewritePattern):
    """fptosi/fptoui -> the saturating llvm.fptosi.sat/fptoui.sat intrinsics.

    xDSL's llvm dialect has no fptosi/fptoui ops; the saturating intrinsics
    agree with them wherever arith defines the result.
    """

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        intrinsic = _FLOAT_TO_INT_INTRINSICS.get(type(op))
        if intrinsic is None:
            return
        operand, result_type = cast_operand_and_result_type(rewriter, op)
        call = call_intrinsic(intrinsic, [operand], result_type, [result_type, operand.type])
        replace_with_llvm(rewriter, op, [call])


class ConvertUIToFPOp(RewritePattern):
    """arith.uitofp, which xDSL's llvm dialect lacks, through sitofp.

    Below 64 bits the value is zero-extended to i64, where it is non-negative,
    and converted signed. An i64 with the top bit set is halved (keeping the
    lowest bit, so rounding stays correct), converted and doubled.
    """

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: arith.UIToFPOp, rewriter: PatternRewriter, /):
        operand, result_type = cast_operand_and_result_type(rewriter, op)
        assert isinstance(operand.type, IntegerType)
        width = operand.type.width.data
        if width > 64:
            raise LoweringError(f"convert-arith-to-llvm: arith.uitofp from {operand.type} is not supported")
        if width < 64:
            wide = llvm.ZExtOp(operand, i64)
            replace_with_llvm(rewriter, op, [wide, llvm.SIToFPOp(wide.res, result_type)])
            return
        replace_with_llvm(rewriter, op, _uint64_to_float(operand, result_type))


def _uint64_to_float(value: SSAValue, result_type: Attribute) -> list[Operation]:
    """An i64 read as unsigned, converted to `result_type` with correct rounding."""
    zero = constant_like(0, i64)
    one = constant_like(1, i64)
    negative = icmp(value, zero.result, "slt")
    half = llvm.LShrOp(value, one.result)
    low_bit = llvm.AndOp(value, one.result)
    sticky_half = llvm.OrOp(half.res, low_bit.res)
    half_float = llvm.SIToFPOp(sticky_half.res, result_type)
    doubled = llvm.FAddOp(half_float.result, half_float.result)
    direct = llvm.SIToFPOp(value, result_type)
    select = llvm.SelectOp(negative.res, doubled.res, direct.result)
    return [zero, one, negative, half, low_bit, sticky_half, half_float, doubled, direct, select]


@dataclass(frozen=True)
class ConvertArithToLLVMPass(LLVMConversionPass):
    """Convert arith ops to the llvm dialect (index as i64), as upstream MLIR's pass.

    Options: none.
    """

    name = "convert-arith-to-llvm"

    def patterns(self) -> Sequence[RewritePattern]:
        return (
            ConvertConstantOp(),
            ConvertIntegerBinaryOp(),
            ConvertFloatBinaryOp(),
            ConvertNegfOp(),
            ConvertMinMaxOp(),
            ExpandSignedRoundingDivOp(),
            ExpandCeilDivUIOp(),
            ConvertCmpiOp(),
            ConvertCmpfOp(),
            ConvertSelectOp(),
            ConvertCastOp(),
            ConvertIndexCastOp(),
            ConvertFloatToIntOp(),
            ConvertUIToFPOp(),
        )
