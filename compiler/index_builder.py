"""Index arithmetic for emitting loop nests and index expressions.

`IndexBuilder` implements the `Algebra` of `loop_nest` on `index` SSA values,
so the relations between a stage's loops and its axes can be emitted as IR;
it folds the trivial cases (x + 0, x * 1) and takes its constants from a
`ConstantPool` at the top of the enclosing block.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.builder import Builder
from xdsl.dialects import arith
from xdsl.dialects.builtin import IndexType, IntegerAttr
from xdsl.ir import Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter


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
        return value if divisor == 1 else self._insert(arith.DivUIOp(value, self.const(divisor)))

    def mod(self, value: SSAValue, divisor: int) -> SSAValue:
        return self.const(0) if divisor == 1 else self._insert(arith.RemUIOp(value, self.const(divisor)))

    def less(self, lhs: SSAValue, bound: int) -> SSAValue:
        return self._insert(arith.CmpiOp(lhs, self.const(bound), "slt"))

    def at_least(self, lhs: SSAValue, bound: int) -> SSAValue:
        return self._insert(arith.CmpiOp(lhs, self.const(bound), "sge"))

    def all(self, conditions: Sequence[SSAValue]) -> SSAValue:
        result = conditions[0]
        for condition in conditions[1:]:
            result = self._insert(arith.AndIOp(result, condition))
        return result
