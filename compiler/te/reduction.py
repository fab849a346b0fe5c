"""Reduce axes and the reducers `te.sum`, `te.max`, `te.min`, `te.prod`.

A reducer called with `axis=` makes the `Reduce` node that must be a
compute's whole body (the `te.compute` op's reduction); called with two
expressions and no axis it is the elementwise max/min/sum/product, as in
TVM, where `te.max(x, 0)` is a relu.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

from schedopt.dialects.te import ReductionKind
from schedopt.errors import TEError
from schedopt.te.dtypes import bit_width, is_float
from schedopt.te.expr import Call, Const, Expr, ExprLike, IterVar, Reduce, as_expr, binary, unify
from schedopt.te.intrinsics import if_then_else


def reduce_axis(dom: tuple[int, int] | int, name: str = "rv") -> IterVar:
    """A reduce axis over `range(*dom)` (or `range(dom)`)."""
    start, stop = (0, dom) if isinstance(dom, int) else dom
    if stop <= start:
        raise TEError(f"reduce axis {name}: empty range [{start}, {stop})")
    return IterVar(name, stop - start, "reduce", start)


class CommReducer:
    """A commutative reducer (TVM's `comm_reducer`): `te.sum(expr, axis=k)`, or `te.max(a, b)` elementwise."""

    def __init__(self, kind: ReductionKind):
        self.kind = kind

    @overload
    def __call__(
        self, expr: ExprLike, axis: IterVar | Sequence[IterVar], where: ExprLike | None = None
    ) -> Reduce: ...

    @overload
    def __call__(self, expr: ExprLike, axis: ExprLike, /) -> Expr: ...

    def __call__(
        self,
        expr: ExprLike,
        axis: IterVar | Sequence[IterVar] | ExprLike | None = None,
        where: ExprLike | None = None,
    ) -> Expr:
        """The reduction of `expr` over `axis` (`where` masks elements out); the elementwise one of two expressions."""
        if isinstance(axis, IterVar | Sequence):
            return self._reduce(expr, (axis,) if isinstance(axis, IterVar) else tuple(axis), where)
        if axis is None or where is not None:
            raise TEError(f"te.{self.kind.value} needs axis= (the reduce axes to reduce over)")
        return self._elementwise(expr, axis)

    def _reduce(self, expr: ExprLike, axes: tuple[object, ...], where: ExprLike | None) -> Reduce:
        checked: list[IterVar] = []
        for axis in axes:
            if not isinstance(axis, IterVar) or axis.kind != "reduce":
                name = axis.name if isinstance(axis, IterVar) else repr(axis)
                raise TEError(f"te.{self.kind.value}: axis {name} is not a reduce axis")
            checked.append(axis)
        body = as_expr(expr)
        if where is not None:
            body = if_then_else(where, body, self._identity(body.dtype))
        return Reduce(self.kind, body, tuple(checked), body.dtype)

    def _elementwise(self, lhs: ExprLike, rhs: ExprLike) -> Expr:
        if self.kind == ReductionKind.SUM:
            return binary("add", lhs, rhs)
        if self.kind == ReductionKind.PROD:
            return binary("mul", lhs, rhs)
        a, b, dtype = unify(lhs, rhs, f"te.{self.kind.value}")
        return Call(self.kind.value, (a, b), dtype)

    def _identity(self, dtype: str) -> Const:
        """The value a masked-out element contributes."""
        if self.kind == ReductionKind.SUM:
            return Const(0, dtype)
        if self.kind == ReductionKind.PROD:
            return Const(1, dtype)
        lowest = self.kind == ReductionKind.MAX
        if is_float(dtype):
            return Const(float("-inf") if lowest else float("inf"), dtype)
        bits = bit_width(dtype) if dtype.startswith("int") else 64
        return Const(-(2 ** (bits - 1)) if lowest else 2 ** (bits - 1) - 1, dtype)


sum = CommReducer(ReductionKind.SUM)
max = CommReducer(ReductionKind.MAX)
min = CommReducer(ReductionKind.MIN)
prod = CommReducer(ReductionKind.PROD)
