"""Index arithmetic for emitting loop nests and index expressions.

`IndexBuilder` implements the `Algebra` of `loop_nest` on `index` SSA values,
so the relations between a stage's loops and its axes can be emitted as IR;
it folds the trivial cases (x + 0, x * 1) and takes its constants from a
`ConstantPool` at the top of the enclosing block.

Division and modulo by a constant fold when the dividend is an affine sum of
loop variables whose ranges prove the result: `(io * 16 + ii) / 16` is `io`
when `ii` runs over [0, 16). A layout-rewritten read indexes its buffer by
such quotients and remainders of the axes, and this keeps its addresses
affine in the loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from xdsl.builder import Builder
from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IndexType, IntegerAttr
from xdsl.ir import Block, BlockArgument, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

Affine: TypeAlias = tuple[dict[SSAValue, int], int]
"""`sum(coeff * variable) + offset`: the coefficient of each variable, and the offset."""


class ConstantPool:
    """Index constants, each created once at the top of the function."""

    def __init__(self, entry: Block):
        self.entry = entry
        self.last: Operation | None = None
        self.values: dict[int, SSAValue] = {}
        self.numbers: dict[SSAValue, int] = {}

    def get(self, value: int) -> SSAValue:
        if value not in self.values:
            op = arith.ConstantOp(IntegerAttr(value, IndexType()))
            where = InsertPoint.at_start(self.entry) if self.last is None else InsertPoint.after(self.last)
            Rewriter.insert_op(op, where)
            self.last = op
            self.values[value] = op.result
            self.numbers[op.result] = value
        return self.values[value]


class IndexBuilder:
    """Index arithmetic at an insertion point, folding the trivial cases (x + 0, x * 1)."""

    def __init__(self, builder: Builder, pool: ConstantPool):
        self.builder = builder
        self.pool = pool
        self.constants = pool.numbers
        self.quotients: dict[tuple[SSAValue, int], SSAValue] = {}
        """Divisions emitted at this insertion point, which `mod` reuses."""

    def at(self, builder: Builder) -> IndexBuilder:
        return IndexBuilder(builder, self.pool)

    def _insert(self, op: Operation) -> SSAValue:
        self.builder.insert(op)
        return op.results[0]

    def const(self, value: int) -> SSAValue:
        return self.pool.get(value)

    def add(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        if self.constants.get(lhs) == 0:
            return rhs
        if self.constants.get(rhs) == 0:
            return lhs
        return self._insert(arith.AddiOp(lhs, rhs))

    def sub(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return lhs if self.constants.get(rhs) == 0 else self._insert(arith.SubiOp(lhs, rhs))

    def mul(self, value: SSAValue, factor: int) -> SSAValue:
        if factor == 1 or self.constants.get(value) == 0:
            return value
        return self._insert(arith.MuliOp(value, self.const(factor)))

    def floordiv(self, value: SSAValue, divisor: int) -> SSAValue:
        if divisor == 1:
            return value
        parts = self._divide(value, divisor)
        if parts is not None:
            return self._affine(*parts[0])
        return self._quotient(value, divisor)

    def mod(self, value: SSAValue, divisor: int) -> SSAValue:
        if divisor == 1:
            return self.const(0)
        parts = self._divide(value, divisor)
        if parts is not None:
            return self._affine(*parts[1])
        # value - (value / divisor) * divisor rather than arith.remui, which
        # xDSL does not mark free of side effects: loop-invariant code motion
        # and CSE then treat remainders like the rest of the index arithmetic
        # (LLVM turns the pattern back into a remainder).
        return self.sub(value, self.mul(self._quotient(value, divisor), divisor))

    def _quotient(self, value: SSAValue, divisor: int) -> SSAValue:
        if (value, divisor) not in self.quotients:
            self.quotients[value, divisor] = self._insert(arith.DivUIOp(value, self.const(divisor)))
        return self.quotients[value, divisor]

    def less(self, lhs: SSAValue, bound: int) -> SSAValue:
        return self._insert(arith.CmpiOp(lhs, self.const(bound), "slt"))

    def at_least(self, lhs: SSAValue, bound: int) -> SSAValue:
        return self._insert(arith.CmpiOp(lhs, self.const(bound), "sge"))

    def all(self, conditions: Sequence[SSAValue]) -> SSAValue:
        result = conditions[0]
        for condition in conditions[1:]:
            result = self._insert(arith.AndIOp(result, condition))
        return result

    # --- folding division by a constant -------------------------------------------

    def _divide(self, value: SSAValue, divisor: int) -> tuple[Affine, Affine] | None:
        """`value` as `divisor * quotient + remainder`, if the ranges prove `0 <= remainder < divisor`.

        Terms whose coefficient is a multiple of the divisor go to the quotient
        (their variables' ranges do not matter); the rest, with the constant's
        remainder, must stay in [0, divisor) as their variables run.
        """
        terms, offset = self._affine_form(value)
        quotient = {v: c // divisor for v, c in terms.items() if c % divisor == 0}
        remainder = {v: c for v, c in terms.items() if c % divisor != 0}
        low = high = offset % divisor
        for variable, coeff in remainder.items():
            bounds = self._range(variable)
            if bounds is None:
                return None
            low += min(coeff * bounds[0], coeff * bounds[1])
            high += max(coeff * bounds[0], coeff * bounds[1])
        if low < 0 or high >= divisor:
            return None
        return (quotient, offset // divisor), (remainder, offset % divisor)

    def _affine_form(self, value: SSAValue) -> Affine:
        """`value` as a sum of `coefficient * variable` plus a constant, through addi, subi and muli."""
        number = self._number(value)
        if number is not None:
            return {}, number
        op = value.owner
        if isinstance(op, arith.AddiOp | arith.SubiOp):
            (lhs, lhs_offset), (rhs, rhs_offset) = self._affine_form(op.lhs), self._affine_form(op.rhs)
            sign = 1 if isinstance(op, arith.AddiOp) else -1
            terms = dict(lhs)
            for variable, coeff in rhs.items():
                terms[variable] = terms.get(variable, 0) + sign * coeff
            return {v: c for v, c in terms.items() if c != 0}, lhs_offset + sign * rhs_offset
        if isinstance(op, arith.MuliOp):
            for factor, other in ((op.rhs, op.lhs), (op.lhs, op.rhs)):
                scale = self._number(factor)
                if scale is not None:
                    terms, offset = self._affine_form(other)
                    return {v: c * scale for v, c in terms.items() if c * scale != 0}, offset * scale
        return {value: 1}, 0

    def _number(self, value: SSAValue) -> int | None:
        if value in self.constants:
            return self.constants[value]
        op = value.owner
        if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
            return op.value.value.data
        return None

    def _range(self, value: SSAValue) -> tuple[int, int] | None:
        """The smallest and largest value of an `scf.for` induction variable with constant bounds."""
        if not isinstance(value, BlockArgument) or value.index != 0:
            return None
        loop = value.block.parent_op()
        if not isinstance(loop, scf.ForOp):
            return None
        lower, upper, step = (self._number(v) for v in (loop.lb, loop.ub, loop.step))
        if lower is None or upper is None or step is None or step <= 0 or upper <= lower:
            return None
        return lower, lower + (upper - 1 - lower) // step * step

    def _affine(self, terms: dict[SSAValue, int], offset: int) -> SSAValue:
        result = self.const(offset)
        for variable, coeff in terms.items():
            result = self.add(result, self.mul(variable, coeff))
        return result
