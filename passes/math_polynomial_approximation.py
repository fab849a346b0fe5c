"""`math-polynomial-approximation`: `math.exp`, `math.exp2` and `math.erf` on f32 as arith code, as upstream MLIR's pass.

`convert-math-to-llvm` turns `math.exp` into the `llvm.exp` intrinsic, which
LLVM lowers to one call of the C library's `expf` per element: on a
`vector<16xf32>` it takes the vector apart and makes sixteen calls. This pass
writes the function out instead, in ops that stay vectors all the way down
(and that `vectorize-annotated-loops` vectorizes, should it run first):

- range reduction: with k = roundeven(x log2 e), x = k ln2 + r and
  |r| <= ln2 / 2. ln2 is split Cody-Waite style into a short head, whose
  product with k is exact, and a tail, so r keeps nearly all of its bits;
- e^r from Cephes' degree-7 polynomial (the coefficients of its `expf`), by
  Horner's rule, its last step 1 + r q(r) rounding only once;
- scaling by 2^k: the exponent bits of 2^k are built with integer ops
  (k is read from the bits of k + 1.5 * 2^23, which needs no float-to-integer
  conversion, an op that xDSL's arith has only for scalars). 2^k is applied
  as two factors 2^(k >> 1) and 2^(k - (k >> 1)), each a normal float, so
  the product overflows to +inf and underflows through the denormals to 0
  as the true result would, rounding once, with no comparison or select
  (which have no vector lowering here).

x is first clamped to a range beyond which the result is +inf or 0 anyway,
with `maximumf`/`minimumf`, which propagate NaN: a NaN input gives NaN.
exp2 is the same with k = roundeven(x) and r = (x - k) ln2.

erf has no LLVM intrinsic at all: `convert-math-to-llvm` calls libm's `erff`
per element, and a loop of it cannot be vectorized (GELU spent as long in
its erf as a 128 x 3072 x 768 dense in its matmul). Here it is one rational
function of x, erf(x) = x P(x^2) / Q(x^2), x clamped to [-4, 4] (beyond
which erf rounds to +-1): odd by construction, no comparison or select, and
the result clamped to [-1, 1]. The coefficients are our own fit: P and Q of
degree 5 in x^2, minimax in relative error on [0, 4] in float64 (linearised
least squares, reweighted by Lawson's rule towards the points of largest
error), then rounded to f32. TVM's `fast_erf` takes the same shape of
approximation, with Eigen's coefficients.

Measured against float64 numpy over [-88, 88] (exp) and [-150, 128] (exp2)
with LLVM fusing the multiply-adds (the `contract` flags allow it), the
result is within 1 ulp; erf within 6 ulp (measured 5.6) over [-6, 6]. Other
float types, and other math ops, are left to `convert-math-to-llvm`.
"""

import struct
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, math
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    VectorType,
    i32,
)
from xdsl.dialects.utils.fast_math import FastMathFlag
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
)

_LOG2_E = 1.4426950408889634
_LN2 = 0.6931471805599453
_LN2_HEAD = 0.693359375
"""355/512: 9 significant bits, so k * _LN2_HEAD is exact for every k the clamp allows."""
_LN2_TAIL = -2.12194440e-4
"""ln2 - _LN2_HEAD, to f32 precision."""

_EXP_POLYNOMIAL = (
    1.9875691500e-4,
    1.3981999507e-3,
    8.3334519073e-3,
    4.1665795894e-2,
    1.6666665459e-1,
    5.0000001201e-1,
    1.0,
    1.0,
)
"""e^r on |r| <= ln2/2, highest degree first: Cephes' expf, 1 + r + r^2 P(r)."""

_EXP_DOMAIN = (-120.0, 89.0)
"""exp is 0 below about -103.97 (under half the least denormal) and +inf above about 88.72.

The bounds keep k = roundeven(x log2 e) in [-173, 128], where both halves of 2^k are normal floats.
"""

_EXP2_DOMAIN = (-160.0, 129.0)
"""exp2 is 0 below -150 and +inf from 128 on; k = roundeven(x) stays in [-160, 129]."""

_ERF_DOMAIN = (-4.0, 4.0)
"""erf(4) = 1 - 1.5e-8 rounds to 1 in f32, as erf does from about 3.92 on."""

_ERF_NUMERATOR = (
    1.9867275e-06,
    0.000284563,
    0.0038833742,
    0.05310183,
    0.19354628,
    1.1283791,
)
"""P of erf(x) = x P(x^2) / Q(x^2) on |x| <= 4, highest degree first."""

_ERF_DENOMINATOR = (
    3.741945e-05,
    0.0011855718,
    0.015207315,
    0.11535043,
    0.5048585,
    1.0,
)
"""Q of erf(x) = x P(x^2) / Q(x^2), highest degree first, Q(0) = 1."""

_ROUNDING_MAGIC = 12582912.0
"""1.5 * 2^23: for an integer k with |k| < 2^22, the bits of k + 1.5 * 2^23 are those of 1.5 * 2^23 plus k."""

_F32_MANTISSA_BITS = 23
_F32_EXPONENT_BIAS = 127


def _to_f32(value: float) -> float:
    """`value` rounded to the nearest f32, so that the IR shows the constant LLVM will use."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _f32_bits(value: float) -> int:
    """The bits of `value` as an f32, read as a signed 32-bit integer."""
    return struct.unpack("<i", struct.pack("<f", value))[0]


def is_f32_like(type: Attribute) -> bool:
    """Whether `type` is f32 or a vector of f32, the types the approximations are made for."""
    element = type.get_element_type() if isinstance(type, VectorType) else type
    return isinstance(element, Float32Type)


class _Emitter:
    """Inserts the arith ops of an approximation before the matched op, on its f32 or vector<Nxf32> type.

    Constants come as splats of the operand's shape; the integer ops work on
    i32 of the same shape.
    """

    def __init__(self, rewriter: PatternRewriter, type: Attribute):
        self.rewriter = rewriter
        self.float_type = type
        self.int_type = VectorType(i32, type.get_shape()) if isinstance(type, VectorType) else i32
        self.contract = arith.FastMathFlagsAttr([FastMathFlag.ALLOW_CONTRACT])
        self.constants: dict[tuple[int | float, Attribute], SSAValue] = {}

    def _insert(self, op: Operation) -> SSAValue:
        return self.rewriter.insert(op).results[0]

    def _constant(self, value: int | float, type: Attribute) -> SSAValue:
        """A splat constant of `type`, made once per approximation."""
        if (value, type) not in self.constants:
            if isinstance(type, VectorType):
                attr = DenseIntOrFPElementsAttr.from_list(type, [value])
            else:
                attr = IntegerAttr(value, type) if isinstance(value, int) else FloatAttr(value, type)
            self.constants[value, type] = self._insert(arith.ConstantOp(attr))
        return self.constants[value, type]

    def float_constant(self, value: float) -> SSAValue:
        return self._constant(_to_f32(value), self.float_type)

    def int_constant(self, value: int) -> SSAValue:
        return self._constant(value, self.int_type)

    def clamp(self, x: SSAValue, bounds: tuple[float, float]) -> SSAValue:
        """x limited to `bounds`; NaN stays NaN (maximumf and minimumf propagate it)."""
        low, high = bounds
        at_least_low = self._insert(arith.MaximumfOp(x, self.float_constant(low)))
        return self._insert(arith.MinimumfOp(at_least_low, self.float_constant(high)))

    def add(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self._insert(arith.AddfOp(lhs, rhs, self.contract))

    def sub(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self._insert(arith.SubfOp(lhs, rhs, self.contract))

    def mul(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self._insert(arith.MulfOp(lhs, rhs, self.contract))

    def div(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self._insert(arith.DivfOp(lhs, rhs, self.contract))

    def multiply_add(self, a: SSAValue, b: SSAValue, c: SSAValue) -> SSAValue:
        """a * b + c, flagged `contract` so that LLVM fuses it into one FMA where the target has one."""
        return self.add(self.mul(a, b), c)

    def round_to_integer(self, x: SSAValue) -> SSAValue:
        return self._insert(math.RoundEvenOp(x))

    def polynomial(self, x: SSAValue, coefficients: tuple[float, ...]) -> SSAValue:
        """The polynomial with `coefficients` (highest degree first) at x, by Horner's rule."""
        result = self.float_constant(coefficients[0])
        for coefficient in coefficients[1:]:
            result = self.multiply_add(result, x, self.float_constant(coefficient))
        return result

    def scale_by_power_of_two(self, y: SSAValue, k: SSAValue) -> SSAValue:
        """y * 2^k for an integral float k in [-252, 254], as y * 2^(k >> 1) * 2^(k - (k >> 1)).

        Each factor is a normal float built from its exponent bits, so the
        only rounding, to a denormal, 0 or +inf, is that of the last product.
        """
        magic = self.add(k, self.float_constant(_ROUNDING_MAGIC))
        magic_bits = self._insert(arith.BitcastOp(magic, self.int_type))
        k_int = self._insert(arith.SubiOp(magic_bits, self.int_constant(_f32_bits(_ROUNDING_MAGIC))))
        half = self._insert(arith.ShRSIOp(k_int, self.int_constant(1)))
        rest = self._insert(arith.SubiOp(k_int, half))
        for exponent in (half, rest):
            biased = self._insert(arith.AddiOp(exponent, self.int_constant(_F32_EXPONENT_BIAS)))
            bits = self._insert(arith.ShLIOp(biased, self.int_constant(_F32_MANTISSA_BITS)))
            y = self.mul(y, self._insert(arith.BitcastOp(bits, self.float_type)))
        return y


def _reduce_exp_argument(emit: _Emitter, x: SSAValue) -> tuple[SSAValue, SSAValue]:
    """k = roundeven(x log2 e) and r = x - k ln2 (ln2 in a head and a tail), x clamped first."""
    x = emit.clamp(x, _EXP_DOMAIN)
    k = emit.round_to_integer(emit.mul(x, emit.float_constant(_LOG2_E)))
    r = emit.multiply_add(k, emit.float_constant(-_LN2_HEAD), x)
    return k, emit.multiply_add(k, emit.float_constant(-_LN2_TAIL), r)


def _reduce_exp2_argument(emit: _Emitter, x: SSAValue) -> tuple[SSAValue, SSAValue]:
    """k = roundeven(x) and r = (x - k) ln2, x clamped first."""
    x = emit.clamp(x, _EXP2_DOMAIN)
    k = emit.round_to_integer(x)
    return k, emit.mul(emit.sub(x, k), emit.float_constant(_LN2))


class ApproximateExpOp(RewritePattern):
    """math.exp and math.exp2 on f32 or vector<Nxf32> -> e^r * 2^k.

    k and r come from the op's range reduction (exp: x = k ln2 + r; exp2:
    x = k + r / ln2); e^r is Cephes' polynomial, scaled by 2^k.
    """

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if not isinstance(op, math.ExpOp | math.Exp2Op) or not is_f32_like(op.result.type):
            return
        emit = _Emitter(rewriter, op.result.type)
        reduce = _reduce_exp_argument if isinstance(op, math.ExpOp) else _reduce_exp2_argument
        k, r = reduce(emit, op.operand)
        result = emit.scale_by_power_of_two(emit.polynomial(r, _EXP_POLYNOMIAL), k)
        rewriter.replace(op, [], [result])


class ApproximateErfOp(RewritePattern):
    """math.erf on f32 or vector<Nxf32> -> x P(x^2) / Q(x^2), x clamped to [-4, 4], the result to [-1, 1]."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if not isinstance(op, math.ErfOp) or not is_f32_like(op.result.type):
            return
        emit = _Emitter(rewriter, op.result.type)
        x = emit.clamp(op.operand, _ERF_DOMAIN)
        x_squared = emit.mul(x, x)
        numerator = emit.mul(x, emit.polynomial(x_squared, _ERF_NUMERATOR))
        quotient = emit.div(numerator, emit.polynomial(x_squared, _ERF_DENOMINATOR))
        rewriter.replace(op, [], [emit.clamp(quotient, (-1.0, 1.0))])


@dataclass(frozen=True)
class MathPolynomialApproximationPass(ModulePass):
    """Replace `math.exp`, `math.exp2` and `math.erf` on f32 and vectors of f32 by approximations in arith.

    Run it before `vectorize-annotated-loops`, as `lower-to-llvm` does: the
    ops it emits are elementwise ones that the vectorizer vectorizes, where
    `math.erf` itself has no vector form (run after it, only exp and exp2
    keep their vectors). Ops on other types are left as they are.

    Options: none.
    """

    name = "math-polynomial-approximation"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        patterns = GreedyRewritePatternApplier([ApproximateExpOp(), ApproximateErfOp()])
        PatternRewriteWalker(patterns).rewrite_module(op)
