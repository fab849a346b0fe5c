"""Layout rewrite: store a constant weight in the order its consumer's tiled loops read it.

A compute may mark inputs as layout-free (`attrs={"layout_free_placeholders":
[B]}` in the te DSL, the attribute `layout_free_placeholders = ["B"]` on the
`te.compute`): their values are fixed before the program runs (a network's
weights), so the program may take them in any layout. Once a schedule has
tiled the stage that reads such a placeholder, a better layout follows from
its loops: each dimension is split as the schedule splits the iterator that
indexes it, and the pieces are ordered as the loops that run over them, so
the inner loops walk the weight contiguously.

A layout is written as in TVM: `<extent><axis>` pairs from the outermost
dimension in, the axes named by the consumer's iterators (by letters a, b,
... in the placeholder's dimension order where an iterator's name has
digits, as an ONNX import's i0, i1, i2 do). For
`C[i, j] += A[i, k] * B[k, j]` with `j` split into 4 x 16 and `k` into 8 x 4,
loops `j.0, k.0, i, j.1, k.1` give `B` the layout `"4j8k16j4k"`. A read
`B[k, j]` becomes `B'[j / 16, k / 4, j % 16, k % 4]`; the lowering folds
these divisions against the loop bounds back to the loop variables, so the
addresses stay affine.

`rewrite_layout` applies this to a ComputeDAG under a State, in one of the
ways `LayoutRewriteOption` names: the kernel takes the weight already in the
new layout (the caller transforms it once, e.g. with `transform_layout`), or
a stage inside the kernel transforms it. The te-level helpers
`remove_index_check`, `rewrite_compute_body` and
`get_shape_from_rewritten_layout` do the same for a compute declared against
a weight that arrives in a rewritten layout, as TVM's topi does.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from string import ascii_lowercase
from typing import Generic

import numpy as np
from xdsl.builder import Builder
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IndexType,
    IntegerAttr,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, Block, Region, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.hints import isa

import schedopt.te as te
from schedopt.dag_view import DAG, DAGView
from schedopt.dialects import te as te_dialect
from schedopt.errors import TEError
from schedopt.reduction_identity import identity_constant
from schedopt.schedule import transform_steps as steps
from schedopt.schedule.loop_nest import SplitRelation, StageLoops, stage_loops
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind

LAYOUT_FREE_ATTR = "layout_free_placeholders"
"""The `te.compute` attribute listing the inputs it lets the schedule re-layout (TVM's key)."""

NEW_LAYOUT_ATTR = "new_placeholder_layout"
"""The attribute a rewritten `te.compute` records its inputs' new layouts in: {placeholder: layout}."""


class LayoutRewriteOption(enum.IntEnum):
    """Options for applying layout rewrite; the ints are the record format's.

    NO_REWRITE and INSERT_TRANSFORM_STAGE suit tuning a standalone operator
    (its inputs arrive in their declared layout); REWRITE_FOR_PRE_TRANSFORMED
    suits an operator inside a network, whose weights are transformed once,
    ahead of time.
    """

    NO_REWRITE = 0
    """Keep every placeholder's layout."""
    INSERT_TRANSFORM_STAGE = 1
    """Keep the kernel's arguments; a stage inside the kernel copies the weight into the new layout."""
    REWRITE_FOR_PRE_TRANSFORMED = 2
    """The kernel takes the weight in the new layout; the caller transforms it."""

    @staticmethod
    def get_target_default(target: str, in_relay_integration: bool = False) -> LayoutRewriteOption:
        """The default for a target: rewrite on CPUs (`llvm`), not on GPUs.

        `in_relay_integration` says the task comes from a network (TVM's
        Relay integration; here `extract_tasks`), whose weights can be
        pre-transformed.
        """
        if target.split()[0] != "llvm":
            return LayoutRewriteOption.NO_REWRITE
        if in_relay_integration:
            return LayoutRewriteOption.REWRITE_FOR_PRE_TRANSFORMED
        return LayoutRewriteOption.INSERT_TRANSFORM_STAGE


# --- layout strings ------------------------------------------------------------------

LayoutDim = tuple[int, str]
"""One dimension of a rewritten layout: its extent, and the axis it is a piece of."""


def parse_layout(layout: str) -> list[LayoutDim]:
    """The dimensions of a layout string such as `"4j8k16j4k"`."""
    dims: list[LayoutDim] = []
    position = 0
    while position < len(layout):
        digits = position
        while digits < len(layout) and layout[digits].isdigit():
            digits += 1
        name_end = digits
        while name_end < len(layout) and not layout[name_end].isdigit():
            name_end += 1
        if digits == position or name_end == digits or int(layout[position:digits]) <= 0:
            raise TEError(f"invalid layout {layout!r}: expected <extent><axis> pairs such as '4j8k16j'")
        dims.append((int(layout[position:digits]), layout[digits:name_end]))
        position = name_end
    if not dims:
        raise TEError("invalid layout '': it has no dimension")
    return dims


def format_layout(dims: Sequence[LayoutDim]) -> str:
    """The layout string of `dims`."""
    return "".join(f"{extent}{name}" for extent, name in dims)


def _writable_axis_name(name: str) -> bool:
    """Whether a layout string can name the axis (its digits would read as an extent)."""
    return bool(name) and not any(c.isdigit() for c in name)


def get_shape_from_rewritten_layout(rewritten_layout: str, axis_names: Sequence[str]) -> list[int]:
    """The original shape, ordered by `axis_names`, of a tensor in `rewritten_layout`.

    Each axis' extent is the product of its pieces' extents (rounded up to
    whole tiles where the schedule's split did not divide it).
    """
    dims = parse_layout(rewritten_layout)
    unknown = sorted({name for _, name in dims} - set(axis_names))
    if unknown or len(set(axis_names)) != len(axis_names):
        raise TEError(
            f"layout {rewritten_layout!r} does not match the axes {list(axis_names)} "
            f"(axes {unknown} not among them, or an axis repeated)"
        )
    return [math.prod(extent for extent, name in dims if name == axis) for axis in axis_names]


def _strides(dims: Sequence[LayoutDim]) -> list[int]:
    """Each dimension's weight in its axis: the product of the extents of its axis' inner pieces."""
    strides = [1] * len(dims)
    inner: dict[str, int] = {}
    for position in reversed(range(len(dims))):
        extent, name = dims[position]
        strides[position] = inner.get(name, 1)
        inner[name] = strides[position] * extent
    return strides


def _outermost(dims: Sequence[LayoutDim]) -> list[bool]:
    """Whether each dimension is the outermost piece of its axis (its index needs no modulo)."""
    seen: set[str] = set()
    outermost: list[bool] = []
    for _, name in dims:
        outermost.append(name not in seen)
        seen.add(name)
    return outermost


# --- the te DSL ----------------------------------------------------------------------


def remove_index_check(tensor: te.Tensor) -> None:
    """Let `tensor` be indexed with any number of indices (TVM's monkey patch of its indexing).

    A compute declared against a weight that arrives in a rewritten layout
    reads it with the original indices (`W[ry, rx, rc, ff]`);
    `rewrite_compute_body` then turns those reads into reads of the rewritten
    layout. A read left unrewritten fails the te.read verifier, which names it.
    """
    tensor.index_check = False


def rewrite_compute_body(compute_tensor: te.Tensor, new_layout: str) -> te.Tensor:
    """The compute with its reads of its layout-free placeholder rewritten for `new_layout`.

    The compute lists exactly one placeholder under `layout_free_placeholders`,
    declared with the rewritten shape and read with one iterator per original
    axis (after `remove_index_check`); each read `W[..., a, ...]` becomes a
    read of `W` at each piece of `new_layout`: `a / stride % extent`.
    """
    op = compute_tensor.op
    if not isinstance(op, te.ComputeDecl):
        raise TEError(f"rewrite_compute_body: {compute_tensor.name} is a placeholder, not a compute")
    free = op.tensor_list_attr(LAYOUT_FREE_ATTR)
    if len(free) != 1:
        raise TEError(
            f"rewrite_compute_body: compute {op.name} must list exactly one tensor under "
            f"{LAYOUT_FREE_ATTR}, it lists {len(free)}"
        )
    weight = free[0]
    dims = parse_layout(new_layout)
    if tuple(weight.shape) != tuple(extent for extent, _ in dims):
        raise TEError(
            f"rewrite_compute_body: {weight.name} has shape {list(weight.shape)}, "
            f"layout {new_layout!r} needs {[extent for extent, _ in dims]}"
        )
    memo: dict[int, te.Expr] = {}

    def rewrite(expr: te.Expr) -> te.Expr:
        if id(expr) not in memo:
            memo[id(expr)] = _map_children(expr, rewrite)
            if isinstance(expr, te.TensorRead) and expr.tensor is weight:
                memo[id(expr)] = _rewritten_read(op.name, weight, expr, dims)
        return memo[id(expr)]

    body = rewrite(op.body)
    return te.Tensor(replace(op, body=body))


def _rewritten_read(stage: str, weight: te.Tensor, read: te.TensorRead, dims: list[LayoutDim]) -> te.Expr:
    axes: dict[str, te.Expr] = {}
    for index in read.indices:
        if not isinstance(index, te.IterVar) or index.name in axes:
            raise TEError(
                f"rewrite_compute_body: compute {stage} reads {weight.name} at an index that is not "
                "a distinct iterator; a layout rewrite needs one iterator per axis"
            )
        axes[index.name] = index
    if {name for _, name in dims} != set(axes):
        raise TEError(
            f"rewrite_compute_body: compute {stage} reads {weight.name} at {sorted(axes)}, "
            f"the layout has axes {sorted({name for _, name in dims})}"
        )
    indices: list[te.Expr] = []
    for (extent, name), stride, outermost in zip(dims, _strides(dims), _outermost(dims), strict=True):
        index = axes[name] if stride == 1 else te.indexdiv(axes[name], stride)
        indices.append(index if outermost else te.indexmod(index, extent))
    return te.TensorRead(weight, tuple(indices), read.dtype)


def _map_children(expr: te.Expr, fn: Callable[[te.Expr], te.Expr]) -> te.Expr:
    """`expr` with `fn` applied to each child expression."""
    match expr:
        case te.Binary():
            return replace(expr, lhs=fn(expr.lhs), rhs=fn(expr.rhs))
        case te.Call():
            return replace(expr, args=tuple(fn(a) for a in expr.args))
        case te.Cast():
            return replace(expr, value=fn(expr.value))
        case te.Select():
            return replace(
                expr, cond=fn(expr.cond), true_value=fn(expr.true_value), false_value=fn(expr.false_value)
            )
        case te.TensorRead():
            return replace(expr, indices=tuple(fn(i) for i in expr.indices))
        case te.Reduce():
            return replace(expr, body=fn(expr.body))
        case _:
            return expr


# --- numpy ---------------------------------------------------------------------------


def transform_layout(array: np.ndarray, axis_names: Sequence[str], new_layout: str) -> np.ndarray:
    """`array`, whose dimensions are the axes `axis_names`, in `new_layout` (zero-padded tiles)."""
    dims = parse_layout(new_layout)
    padded_shape = get_shape_from_rewritten_layout(new_layout, axis_names)
    if array.ndim != len(axis_names) or any(s > p for s, p in zip(array.shape, padded_shape, strict=True)):
        raise TEError(
            f"transform_layout: an array of shape {list(array.shape)} does not fit layout {new_layout!r} "
            f"over axes {list(axis_names)}"
        )
    padded = np.pad(array, [(0, p - s) for s, p in zip(array.shape, padded_shape, strict=True)])
    # Split each axis into its pieces (outer first), then order the pieces as the layout does.
    pieces = [[position for position, (_, name) in enumerate(dims) if name == axis] for axis in axis_names]
    split = padded.reshape([dims[position][0] for group in pieces for position in group])
    order = [position for group in pieces for position in group]
    return np.ascontiguousarray(split.transpose(np.argsort(order)))


# --- the ComputeDAG --------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceholderLayout:
    """The new layout of one placeholder, and the compute that reads it."""

    placeholder: str
    reader: str
    axis_names: tuple[str, ...]
    """The reader's iterator indexing each original dimension (letters a, b, ... in order where
    those names have digits, which a layout string cannot hold)."""
    shape: tuple[int, ...]
    layout: str

    @property
    def dims(self) -> list[LayoutDim]:
        return parse_layout(self.layout)

    @property
    def new_shape(self) -> tuple[int, ...]:
        return tuple(extent for extent, _ in self.dims)

    def transform(self, array: np.ndarray) -> np.ndarray:
        """A value of the placeholder, in the new layout."""
        return transform_layout(array, self.axis_names, self.layout)


@dataclass(frozen=True)
class LayoutRewrite(Generic[DAG]):
    """A DAG with rewritten layouts, the State that schedules it, and the layouts."""

    option: LayoutRewriteOption
    dag: DAG
    state: State
    layouts: tuple[PlaceholderLayout, ...]

    @property
    def pre_transformed(self) -> tuple[PlaceholderLayout, ...]:
        """The layouts the kernel's caller must give its inputs in (REWRITE_FOR_PRE_TRANSFORMED)."""
        return self.layouts if self.option == LayoutRewriteOption.REWRITE_FOR_PRE_TRANSFORMED else ()

    def transform_inputs(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The kernel's inputs (placeholder order) from the original ones: pre-transformed weights."""
        return pre_transform(self.pre_transformed, self.dag.placeholder_names, inputs)


def pre_transform(
    layouts: Sequence[PlaceholderLayout], names: Sequence[str], inputs: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """`inputs`, the values of the placeholders `names`, each in its layout of `layouts` if it has one."""
    by_name = {layout.placeholder: layout for layout in layouts}
    return [by_name[n].transform(a) if n in by_name else a for n, a in zip(names, inputs, strict=True)]


def rewrite_layout(dag: DAG, state: State, option: LayoutRewriteOption) -> LayoutRewrite[DAG]:
    """Rewrite the layout of `dag`'s layout-free placeholders for the loops of `state`.

    A placeholder is rewritten when one stage reads it, at one distinct
    iterator per dimension (the axis covers the dimension), and the stage's
    loops order or split those iterators differently from the placeholder's
    dimensions; the reader may be the compute that marks it or that
    compute's cache_write stage. Other placeholders keep their layout, and so
    does every placeholder of an unscheduled state (as in TVM). The returned
    State is `state` on the new DAG (with INSERT_TRANSFORM_STAGE, plus the
    transform stages, their outer loops fused and parallel, as TVM does).
    """
    state = dag.concrete_state(state)
    if option == LayoutRewriteOption.NO_REWRITE or not state.transform_steps:
        return LayoutRewrite(option, dag, state.copy(), ())
    layouts = _placeholder_layouts(dag, state)
    if not layouts:
        return LayoutRewrite(option, dag, state.copy(), ())
    function = dag.func.clone()
    for layout in layouts:
        _rewrite_function(function, layout, option)
    new_dag = dag.derived(function)
    new_state = _transfer_state(state, dag, new_dag)
    if option == LayoutRewriteOption.INSERT_TRANSFORM_STAGE:
        for layout in layouts:
            _schedule_transform_stage(new_state, _transform_stage_name(layout.placeholder))
    return LayoutRewrite(option, new_dag, new_state, tuple(layouts))


def _placeholder_layouts(dag: DAGView, state: State) -> list[PlaceholderLayout]:
    applied = dag.apply_steps_from_state(state)
    loops = stage_loops(state, dag.get_init_state())
    layouts: dict[str, PlaceholderLayout] = {}
    for compute in dag.compute_ops:
        marked = compute.attributes.get(LAYOUT_FREE_ATTR)
        if marked is None:
            continue
        if not isa(marked, ArrayAttr[StringAttr]):
            raise TEError(f'te.compute "{compute.name_str}": {LAYOUT_FREE_ATTR} must be an array of names')
        for name in marked:
            placeholder = name.data
            if placeholder not in dag.placeholder_names:
                raise TEError(
                    f'te.compute "{compute.name_str}": {LAYOUT_FREE_ATTR} names {placeholder}, '
                    "which is not a placeholder of the workload"
                )
            layout = _placeholder_layout(dag, applied, state, loops, compute, placeholder)
            if layout is not None and placeholder not in layouts:
                layouts[placeholder] = layout
    return list(layouts.values())


def _read_axes(dag: DAGView, compute: te_dialect.ComputeOp, placeholder: str) -> tuple[str, ...] | None:
    """The iterators `compute` reads `placeholder` at, if every read uses the same distinct iterators."""
    accesses = dag.access_analyzer.read_from.get(compute.name_str, {}).get(placeholder, [])
    positions = {access.iter_positions for access in accesses}
    if len(positions) != 1:
        return None
    (position,) = positions
    if any(p is None for p in position) or len(set(position)) != len(position):
        return None
    names = [n.data for n in compute.iter_names]
    return tuple(names[p] for p in position)  # type: ignore[index]


def _placeholder_layout(
    dag: DAGView,
    applied: DAGView,
    state: State,
    loops: dict[str, StageLoops],
    compute: te_dialect.ComputeOp,
    placeholder: str,
) -> PlaceholderLayout | None:
    """The layout `placeholder` gets from the loops of the stage reading it, if it can be rewritten."""
    readers = applied.consumers(placeholder)
    if dag.consumers(placeholder) != [compute.name_str] or len(readers) != 1:
        return None
    reader = applied.op(readers[0]).compute
    assert reader is not None
    if state[reader.name_str].compute_at == ComputeAtKind.INLINED:
        return None
    axes = _read_axes(applied, reader, placeholder)
    if axes is None or axes != _read_axes(dag, compute, placeholder):
        return None
    root_names = [n.data for n in reader.iter_names]
    root_extents = (*reader.spatial_extents, *reader.reduce_extent_values)
    shape = dag.op(placeholder).shape
    if any(root_extents[root_names.index(a)] != extent for a, extent in zip(axes, shape, strict=True)):
        return None
    dims = _loop_order_dims(loops[reader.name_str], root_extents, axes)
    if dims == list(zip(shape, axes, strict=True)):
        return None
    if not all(_writable_axis_name(a) for a in axes):
        # The iterators' names cannot be written in a layout string (an ONNX import's i0, i1, i2):
        # the layout names the placeholder's dimensions by letters in order instead.
        letters = dict(zip(axes, ascii_lowercase, strict=False))
        axes, dims = tuple(letters[a] for a in axes), [(extent, letters[a]) for extent, a in dims]
    return PlaceholderLayout(placeholder, compute.name_str, axes, shape, format_layout(dims))


def _loop_order_dims(loops: StageLoops, root_extents: Sequence[int], axes: Sequence[str]) -> list[LayoutDim]:
    """The pieces of `axes` the stage's splits make, in the order its loops run over them.

    The pieces of one axis keep their outer-to-inner order (filling the
    positions the loops give that axis), so that the layout's index of each
    piece is the piece's loop variable even where a reorder swapped them.
    """
    extents = loops.extents(root_extents)
    children: dict[str, tuple[str, ...]] = {}
    fused_into: dict[str, tuple[str, int]] = {}
    for relation in loops.relations:
        if isinstance(relation, SplitRelation):
            children[relation.parent] = relation.children
        else:
            for position, child in enumerate(relation.children):
                fused_into[child] = (relation.fused, position)

    def pieces(name: str) -> list[str]:
        return [p for c in children[name] for p in pieces(c)] if name in children else [name]

    def order(name: str) -> tuple[int, ...]:
        """Where the loops run over `name`: its first leaf loop, then its place in a fuse."""
        if name in children:
            return min(order(c) for c in children[name])
        if name in fused_into:
            fused, position = fused_into[name]
            return (*order(fused), position)
        return (loops.leaf_names.index(name),)

    axis_pieces = {axis: pieces(axis) for axis in axes}
    by_loop = sorted((order(p), axis) for axis in axes for p in axis_pieces[axis])
    remaining = {axis: iter(p) for axis, p in axis_pieces.items()}
    return [(extents[next(remaining[axis])], axis) for _, axis in by_loop]


def _transform_stage_name(placeholder: str) -> str:
    return f"{placeholder}.layout"


def _rewrite_function(function: func.FuncOp, layout: PlaceholderLayout, option: LayoutRewriteOption) -> None:
    """Make `layout.reader` read `layout.placeholder` in the new layout, as `option` says."""
    arg = next(a for a in function.args if te_dialect.tensor_name(a) == layout.placeholder)
    compute = next(
        op
        for op in function.body.block.ops
        if isinstance(op, te_dialect.ComputeOp) and op.name_str == layout.reader
    )
    arg_type = arg.type
    assert isa(arg_type, TensorType[Attribute])
    new_type = TensorType(arg_type.element_type, layout.new_shape)
    if option == LayoutRewriteOption.REWRITE_FOR_PRE_TRANSFORMED:
        function.replace_argument_type(arg, new_type, Rewriter())
        source: SSAValue = function.args[arg.index]
    else:
        transform = _transform_compute(_transform_stage_name(layout.placeholder), arg, new_type, layout)
        Rewriter.insert_op(transform, InsertPoint.at_start(function.body.block))
        source = transform.result
        compute.operands = [source if operand is arg else operand for operand in compute.operands]
    for read in [op for op in compute.body.walk() if isinstance(op, te_dialect.ReadOp)]:
        if read.tensor is source or read.tensor is arg:
            _rewrite_read(read, source, layout)
    layouts = compute.attributes.get(NEW_LAYOUT_ATTR)
    recorded = dict(layouts.data) if isinstance(layouts, DictionaryAttr) else {}
    recorded[layout.placeholder] = StringAttr(layout.layout)
    compute.attributes[NEW_LAYOUT_ATTR] = DictionaryAttr(recorded)


def _rewrite_read(read: te_dialect.ReadOp, source: SSAValue, layout: PlaceholderLayout) -> None:
    """`source[a / stride % extent, ...]` for each piece of the layout, from the read's axes."""
    builder = Builder(InsertPoint.before(read))
    axes = dict(zip(layout.axis_names, read.indices, strict=True))

    def constant(value: int) -> SSAValue:
        return builder.insert(arith.ConstantOp(IntegerAttr(value, IndexType()))).result

    indices: list[SSAValue] = []
    dims = layout.dims
    for (extent, name), stride, outermost in zip(dims, _strides(dims), _outermost(dims), strict=True):
        index = axes[name]
        if stride > 1:
            index = builder.insert(arith.DivUIOp(index, constant(stride))).result
        if not outermost:
            index = builder.insert(arith.RemUIOp(index, constant(extent))).result
        indices.append(index)
    Rewriter.replace_op(read, te_dialect.ReadOp(source, indices))


def _transform_compute(
    name: str, weight: SSAValue, new_type: TensorType[Attribute], layout: PlaceholderLayout
) -> te_dialect.ComputeOp:
    """`name[pieces] = weight[axes]`, each axis the weighted sum of its pieces; zero in padding."""
    dims = layout.dims
    counts: dict[str, int] = {}
    iter_names: list[str] = []
    for _, axis in dims:
        iter_names.append(f"{axis}.{counts.get(axis, 0)}")
        counts[axis] = counts.get(axis, 0) + 1
    block = Block(arg_types=[IndexType()] * len(dims))
    builder = Builder(InsertPoint.at_end(block))

    def constant(value: int) -> SSAValue:
        return builder.insert(arith.ConstantOp(IntegerAttr(value, IndexType()))).result

    axes: list[SSAValue] = []
    for axis in layout.axis_names:
        value: SSAValue | None = None
        for arg, (_, piece_axis), stride in zip(block.args, dims, _strides(dims), strict=True):
            if piece_axis != axis:
                continue
            term = arg if stride == 1 else builder.insert(arith.MuliOp(arg, constant(stride))).result
            value = term if value is None else builder.insert(arith.AddiOp(value, term)).result
        assert value is not None
        axes.append(value)
    padded = [
        builder.insert(arith.CmpiOp(value, constant(extent), "ult")).result
        for value, extent, padded_extent in zip(
            axes, layout.shape, get_shape_from_rewritten_layout(layout.layout, layout.axis_names), strict=True
        )
        if padded_extent > extent
    ]
    element = new_type.element_type
    if not padded:
        read = builder.insert(te_dialect.ReadOp(weight, axes))
        builder.insert(te_dialect.YieldOp(read.result))
    else:
        inside = padded[0]
        for condition in padded[1:]:
            inside = builder.insert(arith.AndIOp(inside, condition)).result
        then_block, else_block = Block(), Block()
        read = te_dialect.ReadOp(weight, axes)
        then_block.add_ops([read, scf.YieldOp(read.result)])
        zero = identity_constant(te_dialect.ReductionKind.SUM, element)
        else_block.add_ops([zero, scf.YieldOp(zero.result)])
        branch = builder.insert(scf.IfOp(inside, [element], Region(then_block), Region(else_block)))
        builder.insert(te_dialect.YieldOp(branch.results[0]))
    return te_dialect.ComputeOp(name, [weight], new_type, iter_names, [], None, Region(block))


def _transfer_state(state: State, source: DAGView, target: DAGView) -> State:
    """`state`'s steps replayed on `target`, whose stages are `source`'s (by name) and maybe more."""
    old, new = source.get_init_state(), target.get_init_state()
    for step in state.transform_steps:
        changes: dict[str, object] = {"stage_id": new.stage_id(old.stages[step.stage_id].name)}
        if isinstance(step, steps.ComputeAtStep):
            changes["target_stage_id"] = new.stage_id(old.stages[step.target_stage_id].name)
        elif isinstance(step, steps.CacheReadStep):
            changes["reader_ids"] = tuple(new.stage_id(old.stages[i].name) for i in step.reader_ids)
        new.apply(replace(step, **changes))  # type: ignore[arg-type]
        old.apply(step)
    return new


def _schedule_transform_stage(state: State, stage: str) -> None:
    """Fuse the outer loops of a layout transform stage and run them in parallel (TVM's choice)."""
    n_loops = len(state[stage].iters)
    if n_loops >= 3:
        state.fuse(stage, list(range(3 if n_loops >= 5 else 2)))
    state.parallel(stage, 0)
