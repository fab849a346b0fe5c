"""The te Python DSL: declare tensor computations as in `tvm.te`.

```python
A = te.placeholder((N, K), name="A")
B = te.placeholder((K, M), name="B")
k = te.reduce_axis((0, K), name="k")
C = te.compute((N, M), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
```

Expressions are small Python trees; `build_te_function` turns the tensors of a
workload into a `func.func` of `te.compute` ops (the `te` dialect), which is
what the rest of sched-opt works on. Index arithmetic uses `index` values;
`//` and `%` are floor division and floor modulo, as in TVM.
"""

from __future__ import annotations

import builtins
import inspect
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeAlias

from xdsl.builder import Builder
from xdsl.dialects import arith, func, math, scf
from xdsl.dialects.builtin import (
    AnyFloat,
    ArrayAttr,
    DictionaryAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    StringAttr,
    TensorType,
    f16,
    f32,
    f64,
    i1,
)
from xdsl.ir import Attribute, Block, Region, SSAValue
from xdsl.rewriter import InsertPoint
from xdsl.utils.exceptions import VerifyException

from schedopt.dialects import te as te_dialect
from schedopt.dialects.te import ReductionKind
from schedopt.errors import TEError
from schedopt.unique_names import unique_name

# --- dtypes ------------------------------------------------------------------

_DTYPES: dict[str, Attribute] = {
    "float16": f16,
    "float32": f32,
    "float64": f64,
    "int8": IntegerType(8),
    "int16": IntegerType(16),
    "int32": IntegerType(32),
    "int64": IntegerType(64),
    "bool": i1,
}
INDEX = "index"


def dtype_to_type(dtype: str) -> Attribute:
    """The xDSL element type of a te dtype name."""
    if dtype == INDEX:
        return IndexType()
    if dtype not in _DTYPES:
        raise TEError(f"unsupported dtype {dtype!r} (supported: {', '.join(_DTYPES)})")
    return _DTYPES[dtype]


def float_type(dtype: str) -> Float16Type | Float32Type | Float64Type:
    """The xDSL type of a float dtype."""
    element = dtype_to_type(dtype)
    if not isinstance(element, Float16Type | Float32Type | Float64Type):
        raise TEError(f"dtype {dtype!r} is not a float type")
    return element


def integer_type(dtype: str) -> IntegerType:
    """The xDSL type of an integer dtype (bool is i1)."""
    element = dtype_to_type(dtype)
    if not isinstance(element, IntegerType):
        raise TEError(f"dtype {dtype!r} is not an integer type")
    return element


def type_to_dtype(element_type: Attribute) -> str:
    """The te dtype name of an xDSL element type."""
    for name, attr in _DTYPES.items():
        if attr == element_type:
            return name
    if isinstance(element_type, IndexType):
        return INDEX
    raise TEError(f"unsupported element type {element_type}")


def _is_float(dtype: str) -> bool:
    return dtype.startswith("float")


def _is_int(dtype: str) -> bool:
    return dtype.startswith("int") or dtype == INDEX


# --- expressions -------------------------------------------------------------

ExprLike: TypeAlias = "Expr | int | float | bool"


class Expr:
    """A scalar expression of the DSL; operators build new expressions."""

    dtype: str

    def __add__(self, other: ExprLike) -> Expr:
        return _binary("add", self, other)

    def __radd__(self, other: ExprLike) -> Expr:
        return _binary("add", other, self)

    def __sub__(self, other: ExprLike) -> Expr:
        return _binary("sub", self, other)

    def __rsub__(self, other: ExprLike) -> Expr:
        return _binary("sub", other, self)

    def __mul__(self, other: ExprLike) -> Expr:
        return _binary("mul", self, other)

    def __rmul__(self, other: ExprLike) -> Expr:
        return _binary("mul", other, self)

    def __truediv__(self, other: ExprLike) -> Expr:
        return _binary("div", self, other)

    def __rtruediv__(self, other: ExprLike) -> Expr:
        return _binary("div", other, self)

    def __floordiv__(self, other: ExprLike) -> Expr:
        return _binary("floordiv", self, other)

    def __rfloordiv__(self, other: ExprLike) -> Expr:
        return _binary("floordiv", other, self)

    def __mod__(self, other: ExprLike) -> Expr:
        return _binary("floormod", self, other)

    def __rmod__(self, other: ExprLike) -> Expr:
        return _binary("floormod", other, self)

    def __neg__(self) -> Expr:
        return _binary("sub", const(0, self.dtype), self)

    def __lt__(self, other: ExprLike) -> Expr:
        return _compare("lt", self, other)

    def __le__(self, other: ExprLike) -> Expr:
        return _compare("le", self, other)

    def __gt__(self, other: ExprLike) -> Expr:
        return _compare("gt", self, other)

    def __ge__(self, other: ExprLike) -> Expr:
        return _compare("ge", self, other)

    def __eq__(self, other: ExprLike) -> Expr:  # type: ignore[override]
        return _compare("eq", self, other)

    def __ne__(self, other: ExprLike) -> Expr:  # type: ignore[override]
        return _compare("ne", self, other)

    __hash__ = object.__hash__

    def __and__(self, other: ExprLike) -> Expr:
        return all(self, other)

    def __or__(self, other: ExprLike) -> Expr:
        return any(self, other)

    def __invert__(self) -> Expr:
        return Call("not", (self,), "bool")

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


@dataclass(eq=False)
class Call(Expr):
    """An elementwise function (exp, max, not, ...) of its arguments."""

    func: str
    args: tuple[Expr, ...]
    dtype: str


@dataclass(eq=False)
class Cast(Expr):
    value: Expr
    dtype: str


@dataclass(eq=False)
class Select(Expr):
    """`if_then_else`: only the chosen branch is evaluated (reads may be out of range in the other)."""

    cond: Expr
    true_value: Expr
    false_value: Expr
    dtype: str


@dataclass(eq=False)
class TensorRead(Expr):
    tensor: Tensor
    indices: tuple[Expr, ...]
    dtype: str


@dataclass(eq=False)
class Reduce(Expr):
    """A reduction over reduce axes; only allowed as the whole body of a compute."""

    kind: ReductionKind
    body: Expr
    axes: tuple[IterVar, ...]
    dtype: str


def const(value: int | float | bool, dtype: str | None = None) -> Const:
    """A constant; dtype defaults to int32, float32 or bool after the Python type."""
    if dtype is None:
        dtype = "bool" if isinstance(value, bool) else "int32" if isinstance(value, int) else "float32"
    dtype_to_type(dtype)
    return Const(value, dtype)


def _as_expr(value: ExprLike, like: str | None = None) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool):
        return Const(value, "bool")
    if isinstance(value, int):
        return Const(value, like if like is not None and like != "bool" else "int32")
    if isinstance(value, float):
        return Const(value, like if like is not None and _is_float(like) else "float32")
    if isinstance(value, TensorSlice):
        value._incomplete()
    raise TEError(f"cannot use {value!r} of type {type(value).__name__} in a te expression")


def _unify(lhs: ExprLike, rhs: ExprLike, what: str) -> tuple[Expr, Expr, str]:
    """Give both operands one dtype, as TVM does for constants and index values."""
    lhs_e = _as_expr(lhs, rhs.dtype if isinstance(rhs, Expr) else None)
    rhs_e = _as_expr(rhs, lhs_e.dtype)
    if lhs_e.dtype == rhs_e.dtype:
        return lhs_e, rhs_e, lhs_e.dtype
    if isinstance(lhs_e, Const) and not isinstance(rhs_e, Const):
        return Const(lhs_e.value, rhs_e.dtype), rhs_e, rhs_e.dtype
    if isinstance(rhs_e, Const) and not isinstance(lhs_e, Const):
        return lhs_e, Const(rhs_e.value, lhs_e.dtype), lhs_e.dtype
    if _is_int(lhs_e.dtype) and _is_int(rhs_e.dtype) and INDEX in (lhs_e.dtype, rhs_e.dtype):
        return lhs_e.astype(INDEX), rhs_e.astype(INDEX), INDEX
    raise TEError(
        f"{what}: operands have different dtypes {lhs_e.dtype} and {rhs_e.dtype}; "
        "convert one with .astype(...)"
    )


def _binary(op: str, lhs: ExprLike, rhs: ExprLike) -> Expr:
    a, b, dtype = _unify(lhs, rhs, op)
    if dtype == "bool":
        raise TEError(f"{op}: arithmetic on bool values; use te.all / te.any")
    if op in ("floordiv", "floormod") and _is_float(dtype):
        raise TEError(f"{op} ('//' or '%') needs integer operands, got {dtype}")
    if op == "div" and _is_int(dtype):
        raise TEError("'/' on integers is ambiguous: use '//' (floor division)")
    return Binary(op, a, b, dtype)


def _compare(op: str, lhs: ExprLike, rhs: ExprLike) -> Expr:
    a, b, _ = _unify(lhs, rhs, f"comparison {op}")
    return Binary(op, a, b, "bool")


def _bool_operand(value: ExprLike, what: str) -> Expr:
    expr = _as_expr(value)
    if expr.dtype != "bool":
        raise TEError(f"{what} expects a condition (bool), got {expr.dtype}")
    return expr


def all(*conditions: ExprLike) -> Expr:
    """Logical and of conditions (`tvm.tir.all`)."""
    exprs = [_bool_operand(c, "te.all") for c in conditions]
    if not exprs:
        return Const(True, "bool")
    result = exprs[0]
    for e in exprs[1:]:
        result = Call("and", (result, e), "bool")
    return result


def any(*conditions: ExprLike) -> Expr:
    """Logical or of conditions (`tvm.tir.any`)."""
    exprs = [_bool_operand(c, "te.any") for c in conditions]
    if not exprs:
        return Const(False, "bool")
    result = exprs[0]
    for e in exprs[1:]:
        result = Call("or", (result, e), "bool")
    return result


def if_then_else(cond: ExprLike, true_value: ExprLike, false_value: ExprLike) -> Expr:
    """`true_value` where `cond` holds, else `false_value`; only one side is evaluated."""
    c = _bool_operand(cond, "te.if_then_else")
    t, f, dtype = _unify(true_value, false_value, "te.if_then_else")
    return Select(c, t, f, dtype)


def _float_call(name: str, x: ExprLike) -> Expr:
    e = _as_expr(x, "float32")
    if not _is_float(e.dtype):
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


def sigmoid(x: ExprLike) -> Expr:
    e = _as_expr(x, "float32")
    return 1.0 / (1.0 + exp(-e))


def abs(x: ExprLike) -> Expr:
    e = _as_expr(x)
    return Call("abs", (e,), e.dtype)


def power(x: ExprLike, y: ExprLike) -> Expr:
    a, b, dtype = _unify(x, y, "te.power")
    if not _is_float(dtype):
        raise TEError(f"te.power expects float operands, got {dtype}")
    return Call("pow", (a, b), dtype)


def floor(x: ExprLike) -> Expr:
    return _float_call("floor", x)


def ceil(x: ExprLike) -> Expr:
    return _float_call("ceil", x)


def cast(x: ExprLike, dtype: str) -> Expr:
    """`x` converted to `dtype`."""
    return _as_expr(x).astype(dtype)


def _index_call(name: str, a: ExprLike, b: ExprLike) -> Expr:
    lhs, rhs = _as_expr(a, INDEX), _as_expr(b, INDEX)
    if not (_is_int(lhs.dtype) and _is_int(rhs.dtype)):
        raise TEError(f"te.{name} expects integer operands, got {lhs.dtype} and {rhs.dtype}")
    return Call(name, (lhs.astype(INDEX), rhs.astype(INDEX)), INDEX)


def indexdiv(a: ExprLike, b: ExprLike) -> Expr:
    """`a // b` for indices known to be non-negative (TVM's `indexdiv`): one unsigned division."""
    return _index_call("indexdiv", a, b)


def indexmod(a: ExprLike, b: ExprLike) -> Expr:
    """`a % b` for indices known to be non-negative (TVM's `indexmod`): one unsigned remainder."""
    return _index_call("indexmod", a, b)


# --- reductions --------------------------------------------------------------


def reduce_axis(dom: tuple[int, int] | int, name: str = "rv") -> IterVar:
    """A reduce axis over `range(*dom)` (or `range(dom)`)."""
    start, stop = (0, dom) if isinstance(dom, int) else dom
    if not isinstance(start, int) or not isinstance(stop, int):
        raise TEError(f"reduce axis {name}: bounds must be integers, got {dom!r}")
    if stop <= start:
        raise TEError(f"reduce axis {name}: empty range [{start}, {stop})")
    return IterVar(name, stop - start, "reduce", start)


def _reducer(kind: ReductionKind) -> Callable[..., Expr]:
    def reduce(
        expr: ExprLike,
        axis: IterVar | Sequence[IterVar] | ExprLike | None = None,
        where: ExprLike | None = None,
    ) -> Expr:
        if axis is None or not (
            isinstance(axis, IterVar)
            or (isinstance(axis, Sequence) and builtins.all(isinstance(a, IterVar) for a in axis))
        ):
            if axis is None or where is not None:
                raise TEError(f"te.{kind.value} needs axis= (the reduce axes to reduce over)")
            return _elementwise(kind, expr, axis)  # te.max(a, b): elementwise
        axes = (axis,) if isinstance(axis, IterVar) else tuple(axis)  # type: ignore[arg-type]
        for a in axes:
            if a.kind != "reduce":
                raise TEError(f"te.{kind.value}: axis {a.name} is not a reduce axis")
        body = _as_expr(expr)
        if where is not None:
            body = if_then_else(where, body, _identity(kind, body.dtype))
        return Reduce(kind, body, axes, body.dtype)

    reduce.__name__ = kind.value
    reduce.__doc__ = (
        f"`{kind.value}` reduction of `expr` over `axis` (`where` masks elements out); "
        f"with two expressions and no axis, the elementwise {kind.value}."
    )
    return reduce


def _elementwise(kind: ReductionKind, lhs: ExprLike, rhs: Any) -> Expr:
    if kind == ReductionKind.SUM:
        return _binary("add", lhs, rhs)
    if kind == ReductionKind.PROD:
        return _binary("mul", lhs, rhs)
    a, b, dtype = _unify(lhs, rhs, f"te.{kind.value}")
    return Call(kind.value, (a, b), dtype)


def _identity(kind: ReductionKind, dtype: str) -> Const:
    if kind == ReductionKind.SUM:
        return Const(0, dtype)
    if kind == ReductionKind.PROD:
        return Const(1, dtype)
    lowest = kind == ReductionKind.MAX
    if _is_float(dtype):
        return Const(float("-inf") if lowest else float("inf"), dtype)
    bits = int(dtype[3:]) if dtype.startswith("int") else 64
    return Const(-(2 ** (bits - 1)) if lowest else 2 ** (bits - 1) - 1, dtype)


sum = _reducer(ReductionKind.SUM)
max = _reducer(ReductionKind.MAX)
min = _reducer(ReductionKind.MIN)
prod = _reducer(ReductionKind.PROD)


# --- tensors and operations ---------------------------------------------------


@dataclass(eq=False)
class PlaceholderOp:
    """The operation behind a placeholder tensor: an input of the workload."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def input_tensors(self) -> list[Tensor]:
        return []


@dataclass(eq=False)
class ComputeOp:
    """The operation behind a computed tensor: one stage of the workload."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    axis: tuple[IterVar, ...]
    body: Expr
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def reduce_axis(self) -> tuple[IterVar, ...]:
        return self.body.axes if isinstance(self.body, Reduce) else ()

    @property
    def input_tensors(self) -> list[Tensor]:
        found: dict[int, Tensor] = {}
        _collect_reads(self.body, found)
        return list(found.values())


@dataclass(eq=False)
class Tensor:
    """A tensor of a workload: the output of a placeholder or compute operation."""

    op: PlaceholderOp | ComputeOp
    index_check: bool = True
    """Whether indexing checks the number of indices against the rank (see `remove_index_check`)."""

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.op.shape

    @property
    def dtype(self) -> str:
        return self.op.dtype

    @property
    def ndim(self) -> int:
        return len(self.op.shape)

    def __getitem__(self, indices: ExprLike | tuple[ExprLike, ...]) -> TensorRead | TensorSlice:
        index_tuple = indices if isinstance(indices, tuple) else (indices,)
        if self.index_check and len(index_tuple) < self.ndim:
            return TensorSlice(self, index_tuple)
        if self.index_check and len(index_tuple) != self.ndim:
            raise TEError(f"tensor {self.name} has rank {self.ndim}, indexed with {len(index_tuple)} indices")
        exprs: list[Expr] = []
        for i in index_tuple:
            e = _as_expr(i, INDEX)
            if not _is_int(e.dtype):
                raise TEError(f"tensor {self.name}: index of dtype {e.dtype} (indices must be integers)")
            exprs.append(e.astype(INDEX))
        return TensorRead(self, tuple(exprs), self.dtype)

    def __repr__(self) -> str:
        return f"Tensor(name={self.name}, shape={list(self.shape)}, dtype={self.dtype})"


@dataclass(frozen=True, eq=False)
class TensorSlice:
    """A tensor indexed in its leading dimensions only: `A[i]` of a matrix.

    Indexing it further reads an element, so `A[i][k]` is `A[i, k]`, as in TVM.
    """

    tensor: Tensor
    indices: tuple[ExprLike, ...]

    def __getitem__(self, indices: ExprLike | tuple[ExprLike, ...]) -> TensorRead | TensorSlice:
        more = indices if isinstance(indices, tuple) else (indices,)
        return self.tensor[(*self.indices, *more)]

    def _incomplete(self, *_: object) -> NoReturn:
        raise TEError(
            f"tensor {self.tensor.name} has rank {self.tensor.ndim}, indexed with {len(self.indices)} indices"
        )

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _incomplete
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _incomplete
    __neg__ = __lt__ = __le__ = __gt__ = __ge__ = _incomplete


def _check_shape(shape: Sequence[int] | int, what: str) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    for d in dims:
        if not isinstance(d, int) or isinstance(d, bool) or d <= 0:
            raise TEError(f"{what}: shape {list(dims)} must be positive integers (static shapes only)")
    return dims


def placeholder(shape: Sequence[int] | int, dtype: str = "float32", name: str = "placeholder") -> Tensor:
    """An input tensor of the workload."""
    dims = _check_shape(shape, f"placeholder {name}")
    dtype_to_type(dtype)
    return Tensor(PlaceholderOp(name, dims, dtype))


def compute(
    shape: Sequence[int] | int,
    fcompute: Callable[..., ExprLike],
    name: str = "compute",
    tag: str = "",
    attrs: dict[str, Any] | None = None,
) -> Any:
    """A tensor whose element at `(i, j, ...)` is `fcompute(i, j, ...)`.

    When `fcompute` returns a tuple, as TVM allows, the result is a list of
    tensors over the same domain, one per element, named `NAME.v0`, `NAME.v1`,
    ... as TVM names the outputs of a multi-output compute. Each becomes a
    stage of its own.
    """
    dims = _check_shape(shape, f"compute {name}")
    params = list(inspect.signature(fcompute).parameters.values())
    if len(params) == len(dims) and builtins.all(p.kind == p.POSITIONAL_OR_KEYWORD for p in params):
        names = [p.name for p in params]
    else:
        names = [f"i{d}" for d in range(len(dims))]
    axis = tuple(IterVar(n, d, "spatial") for n, d in zip(names, dims, strict=True))
    result = fcompute(*axis)
    if not isinstance(result, tuple | list):
        return _compute_tensor(name, dims, axis, result, attrs)
    if not result:
        raise TEError(f"compute {name}: the body is an empty tuple")
    return [
        _compute_tensor(f"{name}.v{index}", dims, axis, value, attrs) for index, value in enumerate(result)
    ]


def _compute_tensor(
    name: str, dims: tuple[int, ...], axis: tuple[IterVar, ...], value: Any, attrs: dict[str, Any] | None
) -> Tensor:
    body = _as_expr(value)
    _check_body(name, body, axis)
    return Tensor(ComputeOp(name, dims, body.dtype, axis, body, dict(attrs or {})))


def _check_body(name: str, body: Expr, axis: tuple[IterVar, ...]) -> None:
    reduce_axes = body.axes if isinstance(body, Reduce) else ()
    allowed = {id(a) for a in (*axis, *reduce_axes)}
    inner = body.body if isinstance(body, Reduce) else body
    for node in _walk(inner):
        if isinstance(node, Reduce):
            raise TEError(
                f"compute {name}: a reduction must be the whole body of a compute, "
                "not part of a larger expression (compute it in a stage of its own)"
            )
        if isinstance(node, IterVar) and id(node) not in allowed:
            where = "outside a reduction over it" if node.kind == "reduce" else "in another compute"
            raise TEError(f"compute {name}: axis {node.name} is used {where}")
    names = [a.name for a in (*axis, *reduce_axes)]
    if len(set(names)) != len(names):
        raise TEError(f"compute {name}: iterator names {names} must be distinct")
    if body.dtype == INDEX:
        raise TEError(f"compute {name}: the body is an index expression; convert it with .astype(dtype)")


def _children(expr: Expr) -> tuple[Expr, ...]:
    match expr:
        case Binary(lhs=lhs, rhs=rhs):
            return (lhs, rhs)
        case Call(args=args):
            return args
        case Cast(value=value):
            return (value,)
        case Select(cond=c, true_value=t, false_value=f):
            return (c, t, f)
        case TensorRead(indices=indices):
            return indices
        case Reduce(body=body):
            return (body,)
        case _:
            return ()


def _walk(expr: Expr) -> Iterator[Expr]:
    """The nodes of `expr` in pre-order, left to right."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(_children(node)))


def _collect_reads(expr: Expr, found: dict[int, Tensor]) -> None:
    for node in _walk(expr):
        if isinstance(node, TensorRead):
            found.setdefault(id(node.tensor), node.tensor)


# --- building the te dialect ----------------------------------------------------


def build_te_function(tensors: Sequence[Tensor], func_name: str = "default_function") -> func.FuncOp:
    """The `func.func` of `te.compute` ops that computes `tensors`.

    `tensors` lists the workload's placeholders (they become the arguments, in
    this order) and computed tensors. As in TVM, the outputs are the computed
    tensors no stage reads (returned in the order listed); a listed tensor
    that another stage reads is an intermediate stage, as are the computed
    tensors the list does not name. Operations that share a name (two
    `topi.nn.relu` calls both make "compute") get distinct ones, `NAME_1`, ...,
    since stages are known by name.
    """
    placeholders = [t for t in tensors if isinstance(t.op, PlaceholderOp)]
    computed = [t for t in tensors if isinstance(t.op, ComputeOp)]
    listings = Counter(id(t.op) for t in tensors)
    repeated = sorted({t.name for t in tensors if listings[id(t.op)] > 1})
    if repeated:
        raise TEError(f"the workload's tensor list names {', '.join(repeated)} more than once")
    if not computed:
        raise TEError("a workload needs at least one computed output tensor")
    stages = _topological_stages(computed)
    read = {id(t.op) for stage in stages for t in stage.input_tensors}
    outputs = [t for t in computed if id(t.op) not in read]
    listed = {id(t.op) for t in placeholders}
    for stage in stages:
        for t in stage.input_tensors:
            if isinstance(t.op, PlaceholderOp) and id(t.op) not in listed:
                raise TEError(
                    f"placeholder {t.name} is read by {stage.name} but is not in the workload's tensor list"
                )
    names = _distinct_names([t.op for t in placeholders] + list(stages))
    arg_types = [TensorType(dtype_to_type(t.dtype), t.shape) for t in placeholders]
    result_types = [TensorType(dtype_to_type(t.dtype), t.shape) for t in outputs]
    function = func.FuncOp(func_name, (arg_types, result_types))
    function.arg_attrs = _arg_attrs([names[id(t.op)] for t in placeholders])
    values: dict[int, SSAValue] = {}
    for t, arg in zip(placeholders, function.body.block.args, strict=True):
        arg.name_hint = _ssa_name(names[id(t.op)])
        values[id(t.op)] = arg
    builder = Builder(InsertPoint.at_end(function.body.block))
    for stage in stages:
        op = _build_compute(stage, names, values)
        builder.insert(op)
        op.result.name_hint = _ssa_name(names[id(stage)])
        values[id(stage)] = op.result
    builder.insert(func.ReturnOp(*(values[id(t.op)] for t in outputs)))
    return function


def _distinct_names(ops: Sequence[PlaceholderOp | ComputeOp]) -> dict[int, str]:
    """A name per operation (by id): its own, or `NAME_<n>` for a later one of the same name."""
    own = {op.name for op in ops}
    taken: set[str] = set()
    return {id(op): unique_name(op.name, taken, own) for op in ops}


def build_te_module(tensors: Sequence[Tensor], func_name: str = "default_function") -> ModuleOp:
    """A module holding `build_te_function(tensors, func_name)`, verified."""
    module = ModuleOp([build_te_function(tensors, func_name)])
    try:
        module.verify()
    except VerifyException as error:
        raise TEError(f"workload function @{func_name}: {error}") from None
    return module


def _arg_attrs(names: Sequence[str]) -> ArrayAttr[DictionaryAttr]:
    return ArrayAttr(DictionaryAttr({te_dialect.PLACEHOLDER_NAME_ATTR: StringAttr(name)}) for name in names)


def _ssa_name(name: str) -> str | None:
    clean = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return clean if clean and not clean[0].isdigit() else None


def _topological_stages(outputs: Sequence[Tensor]) -> list[ComputeOp]:
    order: list[ComputeOp] = []
    state: dict[int, str] = {}

    def visit(op: ComputeOp) -> None:
        if state.get(id(op)) == "done":
            return
        if state.get(id(op)) == "visiting":
            raise TEError(f"compute {op.name} depends on itself")
        state[id(op)] = "visiting"
        for t in op.input_tensors:
            if isinstance(t.op, ComputeOp):
                visit(t.op)
        state[id(op)] = "done"
        order.append(op)

    for t in outputs:
        assert isinstance(t.op, ComputeOp)
        visit(t.op)
    return order


def _build_compute(
    stage: ComputeOp, names: dict[int, str], values: dict[int, SSAValue]
) -> te_dialect.ComputeOp:
    inputs = stage.input_tensors
    reduce_axes = stage.reduce_axis
    iters = (*stage.axis, *reduce_axes)
    block = Block(arg_types=[IndexType()] * len(iters))
    for arg, it in zip(block.args, iters, strict=True):
        arg.name_hint = _ssa_name(it.name)
    emitter = _BodyEmitter(block, {id(it): arg for it, arg in zip(iters, block.args, strict=True)}, values)
    body = stage.body.body if isinstance(stage.body, Reduce) else stage.body
    result = emitter.emit(body)
    emitter.builder.insert(te_dialect.YieldOp(result))
    return te_dialect.ComputeOp(
        names[id(stage)],
        [values[id(t.op)] for t in inputs],
        TensorType(dtype_to_type(stage.dtype), stage.shape),
        [it.name for it in iters],
        [it.extent for it in reduce_axes],
        stage.body.kind if isinstance(stage.body, Reduce) else None,
        Region(block),
        attributes=_compute_attributes(stage, names),
    )


def _compute_attributes(stage: ComputeOp, names: dict[int, str]) -> dict[str, Attribute] | None:
    attrs: dict[str, Attribute] = {}
    for key, value in stage.attrs.items():
        if isinstance(value, str):
            attrs[key] = StringAttr(value)
        elif isinstance(value, bool | int):
            attrs[key] = IntegerAttr(int(value), 64)
        elif isinstance(value, Sequence) and builtins.all(isinstance(v, Tensor) for v in value):
            attrs[key] = ArrayAttr(StringAttr(names.get(id(v.op), v.name)) for v in value)  # type: ignore[union-attr]
        elif isinstance(value, Sequence) and builtins.all(isinstance(v, str) for v in value):
            attrs[key] = ArrayAttr(StringAttr(v) for v in value)
        else:
            raise TEError(
                f"compute {stage.name}: attribute {key}={value!r} is not a string, int, or list of tensors or names"
            )
    return attrs or None


_FLOAT_BINARY = {"add": arith.AddfOp, "sub": arith.SubfOp, "mul": arith.MulfOp, "div": arith.DivfOp}
_INT_BINARY = {"add": arith.AddiOp, "sub": arith.SubiOp, "mul": arith.MuliOp, "floordiv": arith.FloorDivSIOp}
_FLOAT_PREDICATES = {"lt": "olt", "le": "ole", "gt": "ogt", "ge": "oge", "eq": "oeq", "ne": "une"}
_INT_PREDICATES = {"lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge", "eq": "eq", "ne": "ne"}
_FLOAT_UNARY = {
    "exp": math.ExpOp,
    "log": math.LogOp,
    "sqrt": math.SqrtOp,
    "rsqrt": math.RsqrtOp,
    "tanh": math.TanhOp,
    "erf": math.ErfOp,
    "floor": math.FloorOp,
    "ceil": math.CeilOp,
}


class _BodyEmitter:
    """Emits the ops of one expression tree into a te.compute body, sharing common nodes."""

    def __init__(self, block: Block, iters: dict[int, SSAValue], tensors: dict[int, SSAValue]):
        self.builder = Builder(InsertPoint.at_end(block))
        self.iters = iters
        self.tensors = tensors
        self.memo: dict[int, SSAValue] = {}
        self.constants: dict[tuple[type, int | float | bool, str], SSAValue] = {}

    def emit(self, expr: Expr) -> SSAValue:
        key = id(expr)
        if key not in self.memo:
            self.memo[key] = self._emit(expr)
        return self.memo[key]

    def _constant(self, value: int | float | bool, dtype: str) -> SSAValue:
        key = (type(value), value, dtype)
        if key not in self.constants:
            self.constants[key] = self._insert(arith.ConstantOp(_const_attr(value, dtype)))
        return self.constants[key]

    def _insert(self, op: Any) -> SSAValue:
        self.builder.insert(op)
        return op.results[0]

    def _emit(self, expr: Expr) -> SSAValue:
        match expr:
            case IterVar():
                arg = self.iters[id(expr)]
                if expr.start == 0:
                    return arg
                offset = self._constant(expr.start, INDEX)
                return self._insert(arith.AddiOp(arg, offset))
            case Const():
                return self._constant(expr.value, expr.dtype)
            case TensorRead():
                indices = [self.emit(i) for i in expr.indices]
                return self._insert(te_dialect.ReadOp(self.tensors[id(expr.tensor.op)], indices))
            case Binary():
                return self._emit_binary(expr)
            case Call():
                return self._emit_call(expr)
            case Cast():
                return self._emit_cast(self.emit(expr.value), expr.value.dtype, expr.dtype)
            case Select():
                return self._emit_select(expr)
            case _:
                raise TEError(f"cannot emit {type(expr).__name__} here")

    def _emit_binary(self, expr: Binary) -> SSAValue:
        lhs, rhs = self.emit(expr.lhs), self.emit(expr.rhs)
        operand_dtype = expr.lhs.dtype
        if expr.op in _FLOAT_PREDICATES:
            if _is_float(operand_dtype):
                return self._insert(arith.CmpfOp(lhs, rhs, _FLOAT_PREDICATES[expr.op]))
            return self._insert(arith.CmpiOp(lhs, rhs, _INT_PREDICATES[expr.op]))
        if _is_float(operand_dtype):
            return self._insert(_FLOAT_BINARY[expr.op](lhs, rhs))
        if expr.op == "floormod":
            quotient = self._insert(arith.FloorDivSIOp(lhs, rhs))
            product = self._insert(arith.MuliOp(quotient, rhs))
            return self._insert(arith.SubiOp(lhs, product))
        return self._insert(_INT_BINARY[expr.op](lhs, rhs))

    def _emit_call(self, expr: Call) -> SSAValue:
        args = [self.emit(a) for a in expr.args]
        name, dtype = expr.func, expr.args[0].dtype
        if name in _FLOAT_UNARY:
            return self._insert(_FLOAT_UNARY[name](args[0]))
        if name == "pow":
            return self._insert(math.PowFOp(args[0], args[1]))
        if name == "abs":
            return self._insert(math.AbsFOp(args[0]) if _is_float(dtype) else math.AbsIOp(args[0]))
        if name in ("max", "min"):
            if _is_float(dtype):
                op = arith.MaximumfOp if name == "max" else arith.MinimumfOp
            else:
                op = arith.MaxSIOp if name == "max" else arith.MinSIOp
            return self._insert(op(args[0], args[1]))
        if name == "indexdiv":
            return self._insert(arith.DivUIOp(args[0], args[1]))
        if name == "indexmod":
            return self._insert(arith.RemUIOp(args[0], args[1]))
        if name == "and":
            return self._insert(arith.AndIOp(args[0], args[1]))
        if name == "or":
            return self._insert(arith.OrIOp(args[0], args[1]))
        if name == "not":
            true = self._constant(True, "bool")
            return self._insert(arith.XOrIOp(args[0], true))
        raise TEError(f"unknown function {name}")

    def _emit_cast(self, value: SSAValue, src: str, dst: str) -> SSAValue:
        if src == dst:
            return value
        if src == INDEX:
            as_int = self._insert(arith.IndexCastOp(value, IntegerType(64)))
            return self._emit_cast(as_int, "int64", dst)
        if dst == INDEX:
            as_int = self._emit_cast(value, src, "int64")
            return self._insert(arith.IndexCastOp(as_int, IndexType()))
        if _is_float(src) and _is_float(dst):
            wider = _width(dst) > _width(src)
            to = float_type(dst)
            return self._insert(arith.ExtFOp(value, to) if wider else arith.TruncFOp(value, to))
        if _is_float(dst):
            if src == "bool":
                return self._insert(arith.UIToFPOp(value, float_type(dst)))
            return self._insert(arith.SIToFPOp(value, float_type(dst)))
        if _is_float(src):
            if dst == "bool":
                zero = self._constant(0.0, src)
                return self._insert(arith.CmpfOp(value, zero, "une"))
            return self._insert(arith.FPToSIOp(value, integer_type(dst)))
        if dst == "bool":
            zero = self._constant(0, src)
            return self._insert(arith.CmpiOp(value, zero, "ne"))
        if _width(dst) > _width(src):
            op = arith.ExtUIOp if src == "bool" else arith.ExtSIOp
            return self._insert(op(value, integer_type(dst)))
        return self._insert(arith.TruncIOp(value, integer_type(dst)))

    def _emit_select(self, expr: Select) -> SSAValue:
        cond = self.emit(expr.cond)
        if not _reads_tensor(expr.true_value) and not _reads_tensor(expr.false_value):
            return self._insert(arith.SelectOp(cond, self.emit(expr.true_value), self.emit(expr.false_value)))
        # A branch reads a tensor: evaluate lazily so that an out-of-range read
        # in the branch not taken (padding) never happens.
        branches: list[Region] = []
        for value in (expr.true_value, expr.false_value):
            block = Block()
            inner = _BodyEmitter(block, self.iters, self.tensors)
            inner.memo = dict(self.memo)
            inner.constants = dict(self.constants)
            inner.builder.insert(scf.YieldOp(inner.emit(value)))
            branches.append(Region(block))
        return self._insert(scf.IfOp(cond, [dtype_to_type(expr.dtype)], branches[0], branches[1]))


def _reads_tensor(expr: Expr) -> bool:
    return builtins.any(isinstance(n, TensorRead) for n in _walk(expr))


def _width(dtype: str) -> int:
    if dtype == "bool":
        return 1
    return int(dtype.removeprefix("float").removeprefix("int"))


def _const_attr(
    value: int | float | bool, dtype: str
) -> IntegerAttr[IntegerType | IndexType] | FloatAttr[AnyFloat]:
    if dtype == INDEX:
        return IntegerAttr[IntegerType | IndexType](int(value), IndexType())
    if _is_float(dtype):
        return FloatAttr[AnyFloat](float(value), float_type(dtype))
    if dtype == "bool":
        return IntegerAttr[IntegerType | IndexType](int(bool(value)), i1)
    return IntegerAttr[IntegerType | IndexType](int(value), integer_type(dtype))
