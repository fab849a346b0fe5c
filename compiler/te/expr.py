"""The scalar expressions of the te DSL: small Python trees that operators build.

`A[i, k] * B[k, j]` in a compute's lambda makes a `Binary` node over two
tensor reads; the IR builder later emits each tree as the body of a
`te.compute` op. Operands get one dtype as in TVM (constants and index
values adapt to the other side); `//` and `%` are floor division and floor
modulo.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

from schedopt.dialects.te import ReductionKind
from schedopt.errors import TEError
from schedopt.te.dtypes import INDEX, dtype_to_type, is_float, is_int

ExprLike: TypeAlias = "Expr | int | float | bool"
"""What an operand may be: an expression or a Python number (a constant)."""


class Expr:
    """A scalar expression of the DSL; operators build new expressions."""

    dtype: str

    def children(self) -> tuple[Expr, ...]:
        """The operand expressions of this node, left to right."""
        return ()

    def __add__(self, other: ExprLike) -> Expr:
        return binary("add", self, other)

    def __radd__(self, other: ExprLike) -> Expr:
        return binary("add", other, self)

    def __sub__(self, other: ExprLike) -> Expr:
        return binary("sub", self, other)

    def __rsub__(self, other: ExprLike) -> Expr:
        return binary("sub", other, self)

    def __mul__(self, other: ExprLike) -> Expr:
        return binary("mul", self, other)

    def __rmul__(self, other: ExprLike) -> Expr:
        return binary("mul", other, self)

    def __truediv__(self, other: ExprLike) -> Expr:
        return binary("div", self, other)

    def __rtruediv__(self, other: ExprLike) -> Expr:
        return binary("div", other, self)

    def __floordiv__(self, other: ExprLike) -> Expr:
        return binary("floordiv", self, other)

    def __rfloordiv__(self, other: ExprLike) -> Expr:
        return binary("floordiv", other, self)

    def __mod__(self, other: ExprLike) -> Expr:
        return binary("floormod", self, other)

    def __rmod__(self, other: ExprLike) -> Expr:
        return binary("floormod", other, self)

    def __neg__(self) -> Expr:
        return binary("sub", Const(0, self.dtype), self)

    def __lt__(self, other: ExprLike) -> Expr:
        return compare("lt", self, other)

    def __le__(self, other: ExprLike) -> Expr:
        return compare("le", self, other)

    def __gt__(self, other: ExprLike) -> Expr:
        return compare("gt", self, other)

    def __ge__(self, other: ExprLike) -> Expr:
        return compare("ge", self, other)

    # Typed Any: typing fixes `object.__eq__` to return bool, and no override
    # may say Expr; at run time these build comparisons, as TVM's `==` does.
    def __eq__(self, other: object) -> Any:
        return compare("eq", self, as_expr(other, self.dtype))

    def __ne__(self, other: object) -> Any:
        return compare("ne", self, as_expr(other, self.dtype))

    __hash__ = object.__hash__

    def __and__(self, other: ExprLike) -> Expr:
        return logical("and", self, other)

    def __or__(self, other: ExprLike) -> Expr:
        return logical("or", self, other)

    def __invert__(self) -> Expr:
        return Call("not", (bool_operand(self, "'~'"),), "bool")

    def __bool__(self) -> bool:
        raise TEError(
            "a te expression has no truth value in Python: use te.if_then_else, "
            "te.all or te.any instead of if/and/or"
        )

    def astype(self, dtype: str) -> Expr:
        """This expression converted to `dtype` (TVM's `astype`)."""
        dtype_to_type(dtype)
        return self if dtype == self.dtype else Cast(self, dtype)


@dataclass(eq=False)
class Const(Expr):
    value: int | float | bool
    dtype: str


@dataclass(eq=False)
class IterVar(Expr):
    """A loop variable: a spatial axis of a compute, or a reduce axis."""

    name: str
    extent: int
    kind: str  # "spatial" or "reduce"
    start: int = 0
    dtype: str = INDEX

    @property
    def dom(self) -> tuple[int, int]:
        return (self.start, self.start + self.extent)


@dataclass(eq=False)
class Binary(Expr):
    op: str
    lhs: Expr
    rhs: Expr
    dtype: str

    def children(self) -> tuple[Expr, ...]:
        return (self.lhs, self.rhs)


@dataclass(eq=False)
class Call(Expr):
    """An elementwise function (exp, max, not, ...) of its arguments."""

    func: str
    args: tuple[Expr, ...]
    dtype: str

    def children(self) -> tuple[Expr, ...]:
        return self.args


@dataclass(eq=False)
class Cast(Expr):
    value: Expr
    dtype: str

    def children(self) -> tuple[Expr, ...]:
        return (self.value,)


@dataclass(eq=False)
class Select(Expr):
    """`if_then_else`: only the chosen branch is evaluated (reads may be out of range in the other)."""

    cond: Expr
    true_value: Expr
    false_value: Expr
    dtype: str

    def children(self) -> tuple[Expr, ...]:
        return (self.cond, self.true_value, self.false_value)


@dataclass(eq=False)
class Reduce(Expr):
    """A reduction over reduce axes; only allowed as the whole body of a compute."""

    kind: ReductionKind
    body: Expr
    axes: tuple[IterVar, ...]
    dtype: str

    def children(self) -> tuple[Expr, ...]:
        return (self.body,)


def walk(expr: Expr) -> Iterator[Expr]:
    """The nodes of `expr` in pre-order, left to right."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children()))


def const(value: int | float | bool, dtype: str | None = None) -> Const:
    """A constant; dtype defaults to int32, float32 or bool after the Python type."""
    if dtype is None:
        dtype = "bool" if isinstance(value, bool) else "int32" if isinstance(value, int) else "float32"
    dtype_to_type(dtype)
    return Const(value, dtype)


def as_expr(value: object, like: str | None = None) -> Expr:
    """`value` as an expression; a Python number becomes a constant of dtype `like` where it fits.

    Takes any object: this is where Python values enter the DSL, so anything
    else is refused here with a TEError.
    """
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool):
        return Const(value, "bool")
    if isinstance(value, int):
        return Const(value, like if like is not None and like != "bool" else "int32")
    if isinstance(value, float):
        return Const(value, like if like is not None and is_float(like) else "float32")
    raise TEError(f"cannot use {value!r} of type {type(value).__name__} in a te expression")


def unify(lhs: ExprLike, rhs: ExprLike, what: str) -> tuple[Expr, Expr, str]:
    """Both operands with one dtype, as TVM gives constants and index values the other side's."""
    lhs_e = as_expr(lhs, rhs.dtype if isinstance(rhs, Expr) else None)
    rhs_e = as_expr(rhs, lhs_e.dtype)
    if lhs_e.dtype == rhs_e.dtype:
        return lhs_e, rhs_e, lhs_e.dtype
    if isinstance(lhs_e, Const) and not isinstance(rhs_e, Const):
        return Const(lhs_e.value, rhs_e.dtype), rhs_e, rhs_e.dtype
    if isinstance(rhs_e, Const) and not isinstance(lhs_e, Const):
        return lhs_e, Const(rhs_e.value, lhs_e.dtype), lhs_e.dtype
    if is_int(lhs_e.dtype) and is_int(rhs_e.dtype) and INDEX in (lhs_e.dtype, rhs_e.dtype):
        return lhs_e.astype(INDEX), rhs_e.astype(INDEX), INDEX
    raise TEError(
        f"{what}: operands have different dtypes {lhs_e.dtype} and {rhs_e.dtype}; "
        "convert one with .astype(...)"
    )


def binary(op: str, lhs: ExprLike, rhs: ExprLike) -> Expr:
    """The arithmetic `lhs op rhs` (add, sub, mul, div, floordiv, floormod), dtype-checked."""
    a, b, dtype = unify(lhs, rhs, op)
    if dtype == "bool":
        raise TEError(f"{op}: arithmetic on bool values; use te.all / te.any")
    if op in ("floordiv", "floormod") and is_float(dtype):
        raise TEError(f"{op} ('//' or '%') needs integer operands, got {dtype}")
    if op == "div" and is_int(dtype):
        raise TEError("'/' on integers is ambiguous: use '//' (floor division)")
    return Binary(op, a, b, dtype)


def compare(op: str, lhs: ExprLike, rhs: ExprLike) -> Expr:
    """The condition `lhs op rhs` (lt, le, gt, ge, eq, ne)."""
    a, b, _ = unify(lhs, rhs, f"comparison {op}")
    return Binary(op, a, b, "bool")


def bool_operand(value: ExprLike, what: str) -> Expr:
    """`value` checked to be a condition."""
    expr = as_expr(value)
    if expr.dtype != "bool":
        raise TEError(f"{what} expects a condition (bool), got {expr.dtype}")
    return expr


def logical(op: str, lhs: ExprLike, rhs: ExprLike) -> Expr:
    """`lhs and rhs` or `lhs or rhs` (`op`) of two conditions."""
    what = "te.all" if op == "and" else "te.any"
    return Call(op, (bool_operand(lhs, what), bool_operand(rhs, what)), "bool")
