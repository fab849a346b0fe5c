"""The te DSL's functions of expressions, as `tvm.te` offers them: exp, if_then_else, all, indexdiv, ...

Each checks its operands' dtypes and returns an expression node; the IR
builder maps the node to an `arith` or `math` op.
"""

from __future__ import annotations

from schedopt.errors import TEError
from schedopt.te.dtypes import INDEX, is_float, is_int
from schedopt.te.expr import Call, Const, Expr, ExprLike, Select, as_expr, bool_operand, logical, unify


def all(*conditions: ExprLike) -> Expr:
    """Logical and of conditions (`tvm.tir.all`)."""
    if not conditions:
        return Const(True, "bool")
    result = bool_operand(conditions[0], "te.all")
    for condition in conditions[1:]:
        result = logical("and", result, condition)
    return result


def any(*conditions: ExprLike) -> Expr:
    """Logical or of conditions (`tvm.tir.any`)."""
    if not conditions:
        return Const(False, "bool")
    result = bool_operand(conditions[0], "te.any")
    for condition in conditions[1:]:
        result = logical("or", result, condition)
    return result


def if_then_else(cond: ExprLike, true_value: ExprLike, false_value: ExprLike) -> Expr:
    """`true_value` where `cond` holds, else `false_value`; only one side is evaluated."""
    c = bool_operand(cond, "te.if_then_else")
    t, f, dtype = unify(true_value, false_value, "te.if_then_else")
    return Select(c, t, f, dtype)


def _float_call(name: str, x: ExprLike) -> Expr:
    e = as_expr(x, "float32")
    if not is_float(e.dtype):
        raise TEError(f"te.{name} expects a float expression, got {e.dtype}")
    return Call(name, (e,), e.dtype)


def exp(x: ExprLike) -> Expr:
    return _float_call("exp", x)


def log(x: ExprLike) -> Expr:
    return _float_call("log", x)


def sqrt(x: ExprLike) -> Expr:
    return _float_call("sqrt", x)


def rsqrt(x: ExprLike) -> Expr:
    return _float_call("rsqrt", x)


def tanh(x: ExprLike) -> Expr:
    return _float_call("tanh", x)


def erf(x: ExprLike) -> Expr:
    """The Gauss error function (`math.erf`; the C library's `erff` on the CPU)."""
    return _float_call("erf", x)


def floor(x: ExprLike) -> Expr:
    return _float_call("floor", x)


def ceil(x: ExprLike) -> Expr:
    return _float_call("ceil", x)


def sigmoid(x: ExprLike) -> Expr:
    e = as_expr(x, "float32")
    return 1.0 / (1.0 + exp(-e))


def abs(x: ExprLike) -> Expr:
    e = as_expr(x)
    return Call("abs", (e,), e.dtype)


def power(x: ExprLike, y: ExprLike) -> Expr:
    a, b, dtype = unify(x, y, "te.power")
    if not is_float(dtype):
        raise TEError(f"te.power expects float operands, got {dtype}")
    return Call("pow", (a, b), dtype)


def cast(x: ExprLike, dtype: str) -> Expr:
    """`x` converted to `dtype`."""
    return as_expr(x).astype(dtype)


def _index_call(name: str, a: ExprLike, b: ExprLike) -> Expr:
    lhs, rhs = as_expr(a, INDEX), as_expr(b, INDEX)
    if not (is_int(lhs.dtype) and is_int(rhs.dtype)):
        raise TEError(f"te.{name} expects integer operands, got {lhs.dtype} and {rhs.dtype}")
    return Call(name, (lhs.astype(INDEX), rhs.astype(INDEX)), INDEX)


def indexdiv(a: ExprLike, b: ExprLike) -> Expr:
    """`a // b` for indices known to be non-negative (TVM's `indexdiv`): one unsigned division."""
    return _index_call("indexdiv", a, b)


def indexmod(a: ExprLike, b: ExprLike) -> Expr:
    """`a % b` for indices known to be non-negative (TVM's `indexmod`): one unsigned remainder."""
    return _index_call("indexmod", a, b)
