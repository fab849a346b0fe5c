"""Tensors and the declarations behind them: `te.placeholder` and `te.compute`.

A placeholder declares an input of a workload; a compute declares a stage,
its body an expression over its axes. The IR builder turns the
declarations a workload lists into `te.compute` ops.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias, TypeVar, overload

from schedopt.errors import TEError
from schedopt.te.dtypes import INDEX, dtype_to_type, is_int
from schedopt.te.expr import Expr, ExprLike, IterVar, Reduce, as_expr, walk

IndexKey: TypeAlias = "ExprLike | tuple[ExprLike, ...]"
"""What a tensor is indexed with: `A[i]`, `A[i, k]`, `A[(n, *hw, c)]`."""

AttrValue: TypeAlias = "str | int | bool | Sequence[Tensor] | Sequence[str]"
"""A compute attribute (`layout_free_placeholders`, `FLOP`, ...): the IR builder writes each as an IR attribute."""

Attrs: TypeAlias = "Mapping[str, AttrValue] | None"

Shape: TypeAlias = "Sequence[int] | int"
"""A static shape; an int is a 1-D one."""


@dataclass(eq=False)
class TensorRead(Expr):
    """An element of `tensor` at `indices`.

    A read with fewer indices than the rank is partial: indexing it further
    completes it, so `A[i][k]` is `A[i, k]`, as TVM's `TensorSlice` makes
    it. A compute refuses a body that still holds a partial read.
    """

    tensor: Tensor
    indices: tuple[Expr, ...]
    dtype: str

    def children(self) -> tuple[Expr, ...]:
        return self.indices

    @property
    def is_partial(self) -> bool:
        return self.tensor.index_check and len(self.indices) < self.tensor.ndim

    def __getitem__(self, key: IndexKey) -> TensorRead:
        more = key if isinstance(key, tuple) else (key,)
        return self.tensor[(*self.indices, *more)]


@dataclass(eq=False)
class PlaceholderDecl:
    """The declaration behind a placeholder tensor: an input of the workload."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def input_tensors(self) -> list[Tensor]:
        return []


@dataclass(eq=False)
class ComputeDecl:
    """The declaration behind a computed tensor: one stage of the workload."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    axis: tuple[IterVar, ...]
    body: Expr
    attrs: dict[str, AttrValue] = field(default_factory=dict[str, AttrValue])

    @property
    def reduce_axis(self) -> tuple[IterVar, ...]:
        return self.body.axes if isinstance(self.body, Reduce) else ()

    @property
    def input_tensors(self) -> list[Tensor]:
        """The tensors the body reads, each once, in the order first read."""
        found: dict[int, Tensor] = {}
        for node in walk(self.body):
            if isinstance(node, TensorRead):
                found.setdefault(id(node.tensor), node.tensor)
        return list(found.values())

    def tensor_list_attr(self, key: str) -> list[Tensor]:
        """The tensors listed under attribute `key` (none when it is absent)."""
        value = self.attrs.get(key, ())
        if isinstance(value, str | int) or not builtins.all(isinstance(v, Tensor) for v in value):
            raise TEError(f"compute {self.name}: attribute {key}={value!r} is not a list of tensors")
        return [v for v in value if isinstance(v, Tensor)]


@dataclass(eq=False)
class Tensor:
    """A tensor of a workload: the output of a placeholder or compute declaration."""

    op: PlaceholderDecl | ComputeDecl
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

    def __getitem__(self, key: IndexKey) -> TensorRead:
        """The element at `key`; with fewer indices than the rank, a partial read (`A[i][k]`)."""
        indices = key if isinstance(key, tuple) else (key,)
        if self.index_check and len(indices) > self.ndim:
            raise TEError(f"tensor {self.name} has rank {self.ndim}, indexed with {len(indices)} indices")
        return TensorRead(self, tuple(self._index(i) for i in indices), self.dtype)

    def _index(self, value: ExprLike) -> Expr:
        index = as_expr(value, INDEX)
        if not is_int(index.dtype):
            raise TEError(f"tensor {self.name}: index of dtype {index.dtype} (indices must be integers)")
        return index.astype(INDEX)

    def __repr__(self) -> str:
        return f"Tensor(name={self.name}, shape={list(self.shape)}, dtype={self.dtype})"


def _check_shape(shape: Shape, what: str) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    if not builtins.all(_is_extent(d) for d in dims):
        raise TEError(f"{what}: shape {list(dims)} must be positive integers (static shapes only)")
    return dims


def _is_extent(value: object) -> bool:
    """Checked at run time: shapes also come from workload keys and untyped callers."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def placeholder(shape: Shape, dtype: str = "float32", name: str = "placeholder") -> Tensor:
    """An input tensor of the workload."""
    dims = _check_shape(shape, f"placeholder {name}")
    dtype_to_type(dtype)
    return Tensor(PlaceholderDecl(name, dims, dtype))


_Result = TypeVar("_Result")
_Result_co = TypeVar("_Result_co", covariant=True)


class _VariadicBody(Protocol[_Result_co]):
    """A compute body over any number of axes: `def body(*indices)`, `lambda *i: ...`."""

    def __call__(self, *indices: IterVar) -> _Result_co: ...


# One member per rank, so that a lambda's parameters are known to be IterVars.
_FixedBody: TypeAlias = (
    Callable[[IterVar], _Result]
    | Callable[[IterVar, IterVar], _Result]
    | Callable[[IterVar, IterVar, IterVar], _Result]
    | Callable[[IterVar, IterVar, IterVar, IterVar], _Result]
    | Callable[[IterVar, IterVar, IterVar, IterVar, IterVar], _Result]
    | Callable[[IterVar, IterVar, IterVar, IterVar, IterVar, IterVar], _Result]
)

MultiValue: TypeAlias = "tuple[ExprLike, ...] | list[ExprLike]"
"""The body of a multi-output compute: one value per output tensor."""


@overload
def compute(
    shape: Shape, fcompute: _VariadicBody[ExprLike], name: str = "compute", tag: str = "", attrs: Attrs = None
) -> Tensor: ...
@overload
def compute(
    shape: Shape, fcompute: _FixedBody[ExprLike], name: str = "compute", tag: str = "", attrs: Attrs = None
) -> Tensor: ...
@overload
def compute(
    shape: Shape, fcompute: _FixedBody[MultiValue], name: str = "compute", tag: str = "", attrs: Attrs = None
) -> list[Tensor]: ...


def compute(
    shape: Shape,
    fcompute: Callable[..., ExprLike | MultiValue],
    name: str = "compute",
    tag: str = "",
    attrs: Attrs = None,
) -> Tensor | list[Tensor]:
    """A tensor whose element at `(i, j, ...)` is `fcompute(i, j, ...)`.

    When `fcompute` returns a tuple, as TVM allows, the result is a list of
    tensors over the same domain, one per element, named `NAME.v0`, `NAME.v1`,
    ... as TVM names the outputs of a multi-output compute. Each becomes a
    stage of its own. `tag` is accepted for TVM's signature and unused.
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
    name: str,
    dims: tuple[int, ...],
    axis: tuple[IterVar, ...],
    value: ExprLike,
    attrs: Attrs,
) -> Tensor:
    body = as_expr(value)
    _check_body(name, body, axis)
    return Tensor(ComputeDecl(name, dims, body.dtype, axis, body, dict(attrs or {})))


def _check_body(name: str, body: Expr, axis: tuple[IterVar, ...]) -> None:
    reduce_axes = body.axes if isinstance(body, Reduce) else ()
    allowed = {id(a) for a in (*axis, *reduce_axes)}
    inner = body.body if isinstance(body, Reduce) else body
    for node in walk(inner):
        if isinstance(node, Reduce):
            raise TEError(
                f"compute {name}: a reduction must be the whole body of a compute, "
                "not part of a larger expression (compute it in a stage of its own)"
            )
        if isinstance(node, IterVar) and id(node) not in allowed:
            where = "outside a reduction over it" if node.kind == "reduce" else "in another compute"
            raise TEError(f"compute {name}: axis {node.name} is used {where}")
        if isinstance(node, TensorRead) and node.is_partial:
            tensor = node.tensor
            raise TEError(
                f"tensor {tensor.name} has rank {tensor.ndim}, indexed with {len(node.indices)} indices"
            )
    names = [a.name for a in (*axis, *reduce_axes)]
    if len(set(names)) != len(names):
        raise TEError(f"compute {name}: iterator names {names} must be distinct")
    if body.dtype == INDEX:
        raise TEError(f"compute {name}: the body is an index expression; convert it with .astype(dtype)")
