"""Folding `arith` ops on constants while a loop body is copied, before the copy exists.

Fully unrolling a loop turns its induction variable into a constant in
every copy, and what depends on it only then becomes computable: the index
arithmetic, and above all the select chains of a constant matrix (TVM's
`const_matrix`, the Winograd transforms' `A` and `B`), which read
`B[r_a, eps]` as `select(r_a == 0 and eps == 0, 1.0, select(...))`. Copied
first and folded after, a 6 x 6 x 6 x 6 Winograd transform is some 200,000
ops that every later pass walks (a minute per build); folded as each op is
copied, it is the few thousand that remain.

`ArithFolder.fold` looks at one op of the body with its operands as the
copy will see them and gives the value that replaces its result, or None
to copy the op. Besides constants it applies the identities TVM's
simplifier applies to the products of a constant matrix: `x * 0.0` is
`0.0` (as in TVM, whatever `x` is: a Winograd transform multiplies its
input by the matrix's zeros, and keeping them would double its work),
`x * 1.0` and `x + 0.0` are `x`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import AnyFloat, FloatAttr, IndexType, IntegerAttr, IntegerType
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter

Number = int | float


def _trunc_div(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b >= 0) else -quotient


_INTEGER_FOLDS: dict[type[Operation], Callable[[int, int], int]] = {
    arith.AddiOp: operator.add,
    arith.SubiOp: operator.sub,
    arith.MuliOp: operator.mul,
    arith.FloorDivSIOp: operator.floordiv,
    arith.DivSIOp: _trunc_div,
    arith.RemSIOp: lambda a, b: a - _trunc_div(a, b) * b,
    arith.MaxSIOp: max,
    arith.MinSIOp: min,
    arith.AndIOp: operator.and_,
    arith.OrIOp: operator.or_,
    arith.XOrIOp: operator.xor,
}
_UNSIGNED_FOLDS: dict[type[Operation], Callable[[int, int], int]] = {
    arith.DivUIOp: operator.floordiv,
    arith.RemUIOp: operator.mod,
}
_FLOAT_FOLDS: dict[type[Operation], Callable[[float, float], float]] = {
    arith.AddfOp: operator.add,
    arith.SubfOp: operator.sub,
    arith.MulfOp: operator.mul,
}
_CMPI: tuple[Callable[[int, int], bool], ...] = (
    operator.eq,
    operator.ne,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
)
"""`arith.cmpi` predicates 0-5 (eq, ne, slt, sle, sgt, sge); 6-9 are their unsigned forms."""


class ArithFolder:
    """Folds ops into constants, each created once at the rewriter's insertion point (before the copies)."""

    def __init__(self, rewriter: PatternRewriter):
        self.rewriter = rewriter
        self.cache: dict[tuple[Number, Attribute, float], SSAValue] = {}

    def constant(self, value: Number, type: Attribute) -> SSAValue:
        """An `arith.constant` of `value`, shared by every copy."""
        # 0.0 == -0.0 in Python, but they are different constants.
        key = (value, type, math.copysign(1.0, value) if isinstance(value, float) else 0.0)
        if key not in self.cache:
            if isinstance(type, IntegerType | IndexType):
                attr: Attribute = IntegerAttr(int(value), type)
            else:
                assert isinstance(type, AnyFloat)
                attr = FloatAttr(float(value), type)
            op = arith.ConstantOp(attr)
            self.rewriter.insert(op)
            self.cache[key] = op.result
        return self.cache[key]

    def erase_unused(self) -> None:
        """Erase the constants no copy ended up using (a folded condition, say)."""
        for value in self.cache.values():
            if value.first_use is None:
                assert isinstance(value.owner, arith.ConstantOp)
                self.rewriter.erase(value.owner)
        self.cache.clear()

    def fold(self, op: Operation, mapper: dict[SSAValue, SSAValue]) -> SSAValue | None:
        """The value that stands for `op`'s result in the copy, if it folds; None to copy `op`."""
        if len(op.results) != 1 or op.regions or not _is_scalar(op.results[0].type):
            return None
        operands = [mapper.get(o, o) for o in op.operands]
        values = [_constant_value(o) for o in operands]
        result_type = op.results[0].type
        if isinstance(op, arith.ConstantOp):
            value = scalar_value(op)
            return None if value is None else self.constant(value, result_type)
        if isinstance(op, arith.SelectOp):
            return None if values[0] is None else (operands[1] if values[0] else operands[2])
        if all(v is not None for v in values):
            folded = self._evaluate(op, [v for v in values if v is not None], operands[0].type)
            if folded is not None:
                return self.constant(folded, result_type)
        return self._identity(op, operands, values)

    def _evaluate(self, op: Operation, values: list[Number], operand_type: Attribute) -> Number | None:
        if isinstance(op, arith.CmpiOp):
            predicate = op.predicate.value.data
            a, b = (int(v) for v in values)
            if predicate >= len(_CMPI):
                if a < 0 or b < 0:
                    return None
                predicate -= len(_CMPI) - 2
            return int(_CMPI[predicate](a, b))
        if isinstance(op, arith.IndexCastOp):
            return _wrap(int(values[0]), op.results[0].type)
        kind = type(op)
        if kind in _INTEGER_FOLDS or kind in _UNSIGNED_FOLDS:
            a, b = (int(v) for v in values)
            if kind in _UNSIGNED_FOLDS and (a < 0 or b <= 0):
                return None
            if b == 0 and kind in (arith.FloorDivSIOp, arith.DivSIOp, arith.RemSIOp):
                return None
            fold = _INTEGER_FOLDS.get(kind) or _UNSIGNED_FOLDS[kind]
            return _wrap(fold(a, b), operand_type)
        if kind in _FLOAT_FOLDS:
            return _round(_FLOAT_FOLDS[kind](*(float(v) for v in values)), operand_type)
        return None

    def _identity(
        self, op: Operation, operands: list[SSAValue], values: list[Number | None]
    ) -> SSAValue | None:
        """`x * 0.0 = 0.0`, `x * 1.0 = x`, `x + 0.0 = x`, `x - 0.0 = x`, `x * 0 = 0`, `x * 1 = x`, `x + 0 = x`."""
        if isinstance(op, arith.MulfOp | arith.MuliOp):
            for value, other in ((values[0], operands[1]), (values[1], operands[0])):
                if value == 0:
                    return self.constant(0, op.results[0].type)
                if value == 1:
                    return other
        if isinstance(op, arith.AddfOp | arith.AddiOp):
            if values[0] == 0:
                return operands[1]
            if values[1] == 0:
                return operands[0]
        if isinstance(op, arith.SubfOp | arith.SubiOp) and values[1] == 0:
            return operands[0]
        if isinstance(op, arith.AndIOp) and op.results[0].type == IntegerType(1):
            for value, other in ((values[0], operands[1]), (values[1], operands[0])):
                if value is not None:
                    return other if value else self.constant(0, op.results[0].type)
        return None


def scalar_value(op: arith.ConstantOp) -> Number | None:
    """The scalar value of an integer, index or float constant (None for anything else: dense, vector)."""
    value = op.value
    if isinstance(value, IntegerAttr):
        return value.value.data
    if isinstance(value, FloatAttr):
        return value.value.data
    return None


def _is_scalar(type: Attribute) -> bool:
    return isinstance(type, IntegerType | IndexType | AnyFloat)


def _constant_value(value: SSAValue) -> Number | None:
    owner = value.owner
    return scalar_value(owner) if isinstance(owner, arith.ConstantOp) else None


def _wrap(value: int, type: Attribute) -> int:
    """`value` in the range of a signless integer type (two's complement); an index is 64-bit."""
    if isinstance(type, IntegerType):
        width = type.width.data
        if width == 1:
            return value & 1
        value &= (1 << width) - 1
        return value - (1 << width) if value >= 1 << (width - 1) else value
    return value


def _round(value: float, type: Attribute) -> float:
    """`value` rounded to the float type's precision, as LLVM would fold it."""
    if isinstance(type, AnyFloat) and type.bitwidth == 32 and math.isfinite(value):
        return float(np.float32(value))
    return value
