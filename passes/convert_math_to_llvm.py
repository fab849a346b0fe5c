"""`convert-math-to-llvm`: math ops to the `llvm` dialect, as upstream MLIR's pass.

Elementary functions become LLVM intrinsics, called by their mangled names
through `llvm.call_intrinsic` (`llvm.exp.f32`, `llvm.tanh.v8f32`, ...): LLVM
expands them or calls the C math library, which the JIT finds in the running
process. rsqrt becomes 1/sqrt (with the op's fast-math flags, so LLVM may
use a reciprocal-sqrt estimate when they allow it); absi, ctlz, cttz and
ctpop are `llvm.abs`, `llvm.ctlz`, `llvm.cttz` and `llvm.ctpop`.
erf, expm1, log1p and cbrt have no intrinsic: on scalars they call libm
(`erff`, `erf`, ...), declared in the module; on vectors they raise
`LoweringError`, as does any math op not listed here.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects import llvm, math
from xdsl.dialects.builtin import AnyFloat, IntegerAttr, IntegerType, VectorType
from xdsl.ir import Operation
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from schedopt.errors import LoweringError
from schedopt.passes.llvm_conversion_pass import LLVMConversionPass
from schedopt.passes.llvm_type_conversion import (
    call_intrinsic,
    cast_all_to_llvm,
    cast_to_llvm,
    constant_like,
    declare_external_function,
    llvm_fastmath,
    replace_with_llvm,
)

_INTRINSICS: dict[type[Operation], str] = {
    math.AbsFOp: "llvm.fabs",
    math.AcosOp: "llvm.acos",
    math.AsinOp: "llvm.asin",
    math.Atan2Op: "llvm.atan2",
    math.AtanOp: "llvm.atan",
    math.CeilOp: "llvm.ceil",
    math.CopySignOp: "llvm.copysign",
    math.CoshOp: "llvm.cosh",
    math.CosOp: "llvm.cos",
    math.CtPopOp: "llvm.ctpop",
    math.Exp2Op: "llvm.exp2",
    math.ExpOp: "llvm.exp",
    math.FloorOp: "llvm.floor",
    math.Log10Op: "llvm.log10",
    math.Log2Op: "llvm.log2",
    math.LogOp: "llvm.log",
    math.PowFOp: "llvm.pow",
    math.RoundEvenOp: "llvm.roundeven",
    math.RoundOp: "llvm.round",
    math.SinhOp: "llvm.sinh",
    math.SinOp: "llvm.sin",
    math.SqrtOp: "llvm.sqrt",
    math.TanhOp: "llvm.tanh",
    math.TanOp: "llvm.tan",
    math.TruncOp: "llvm.trunc",
}
"""Math ops with an LLVM intrinsic of the same semantics, overloaded on one type."""

_INTEGER_INTRINSICS: dict[type[Operation], str] = {
    math.AbsIOp: "llvm.abs",
    math.CountLeadingZerosOp: "llvm.ctlz",
    math.CountTrailingZerosOp: "llvm.cttz",
}
"""Integer math ops whose intrinsic takes a trailing `i1 false` (no poison)."""

_LIBM_FUNCTIONS: dict[type[Operation], str] = {
    math.CbrtOp: "cbrt",
    math.ErfOp: "erf",
    math.ExpM1Op: "expm1",
    math.Log1pOp: "log1p",
}
"""Math ops without an intrinsic: the double-precision C function (f32 adds `f`)."""


class ConvertIntrinsicOp(RewritePattern):
    """A math op with an LLVM intrinsic counterpart -> `llvm.call_intrinsic` of it."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        intrinsic = _INTRINSICS.get(type(op))
        if intrinsic is None:
            return
        args = cast_all_to_llvm(rewriter, op.operands)
        type_ = args[0].type
        replace_with_llvm(rewriter, op, [call_intrinsic(intrinsic, args, type_, [type_])])


class ConvertFmaOp(RewritePattern):
    """math.fma -> llvm.intr.fma (one rounding, whatever the fast-math flags)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: math.FmaOp, rewriter: PatternRewriter, /):
        a, b, c = cast_all_to_llvm(rewriter, op.operands)
        replace_with_llvm(rewriter, op, [llvm.FMAOp(a, b, c)])


class ConvertRsqrtOp(RewritePattern):
    """math.rsqrt(x) -> 1 / sqrt(x), the division carrying the op's fast-math flags."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: math.RsqrtOp, rewriter: PatternRewriter, /):
        operand = cast_to_llvm(rewriter, op.operand)
        sqrt = call_intrinsic("llvm.sqrt", [operand], operand.type, [operand.type])
        one = constant_like(1.0, operand.type)
        divide = llvm.FDivOp(one.result, sqrt.results[0], llvm_fastmath(op.fastmath))
        replace_with_llvm(rewriter, op, [sqrt, one, divide])


class ConvertIntegerIntrinsicOp(RewritePattern):
    """absi, ctlz, cttz -> llvm.abs, llvm.ctlz, llvm.cttz.

    Their extra i1 operand (INT_MIN, or zero, gives poison) is false: math's
    ops are defined there (absi keeps INT_MIN; ctlz/cttz of 0 is the width).
    """

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        intrinsic = _INTEGER_INTRINSICS.get(type(op))
        if intrinsic is None:
            return
        (operand,) = cast_all_to_llvm(rewriter, op.operands)
        poison = llvm.ConstantOp(IntegerAttr(0, IntegerType(1)), IntegerType(1))
        call = call_intrinsic(intrinsic, [operand, poison.result], operand.type, [operand.type])
        replace_with_llvm(rewriter, op, [poison, call])


class ConvertLibmOp(RewritePattern):
    """erf, expm1, log1p, cbrt on f32/f64 scalars -> a call of the C math library."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        function = _LIBM_FUNCTIONS.get(type(op))
        if function is None:
            return
        (operand,) = cast_all_to_llvm(rewriter, op.operands)
        type_ = operand.type
        if isinstance(type_, VectorType) or not isinstance(type_, AnyFloat) or type_.bitwidth not in (32, 64):
            raise LoweringError(
                f"convert-math-to-llvm: {op.name} on {type_} is not supported "
                "(only f32 and f64 scalars, through the C math library)"
            )
        symbol = function + ("f" if type_.bitwidth == 32 else "")
        declare_external_function(op, symbol, llvm.LLVMFunctionType([type_], type_), rewriter)
        replace_with_llvm(rewriter, op, [llvm.CallOp(symbol, operand, return_type=type_)])


class RejectUnsupportedMathOp(RewritePattern):
    """Any math op no other pattern converts: a `LoweringError` naming it."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if op.dialect_name() != "math":
            return
        raise LoweringError(f"convert-math-to-llvm: {op.name} is not supported")


@dataclass(frozen=True)
class ConvertMathToLLVMPass(LLVMConversionPass):
    """Convert math ops to LLVM intrinsics and C math library calls, as upstream MLIR's pass.

    Options: none.
    """

    name = "convert-math-to-llvm"

    def patterns(self) -> Sequence[RewritePattern]:
        return (
            ConvertIntrinsicOp(),
            ConvertFmaOp(),
            ConvertRsqrtOp(),
            ConvertIntegerIntrinsicOp(),
            ConvertLibmOp(),
            RejectUnsupportedMathOp(),
        )
