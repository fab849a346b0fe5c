"""Builds the `te`-dialect function of a workload from its te tensors.

This is where the DSL meets the IR the rest of sched-opt works on: each
compute declaration becomes a `te.compute` op, each placeholder an argument
of the `func.func`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from xdsl.builder import Builder
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IndexType,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, Block, Region, SSAValue
from xdsl.rewriter import InsertPoint
from xdsl.utils.exceptions import VerifyException

from schedopt.dialects import te as te_dialect
from schedopt.errors import TEError
from schedopt.te.dtypes import dtype_to_type
from schedopt.te.expr import Reduce
from schedopt.te.expr_emitter import ExprEmitter
from schedopt.te.tensor import AttrValue, ComputeDecl, PlaceholderDecl, Tensor
from schedopt.unique_names import unique_name


def build_te_function(tensors: Sequence[Tensor], func_name: str = "default_function") -> func.FuncOp:
    """The `func.func` of `te.compute` ops that computes `tensors`.

    `tensors` lists the workload's placeholders (they become the arguments, in
    this order) and computed tensors. As in TVM, the outputs are the computed
    tensors no stage reads (returned in the order listed); a listed tensor
    that another stage reads is an intermediate stage, as are the computed
    tensors the list does not name. Declarations that share a name (two
    `topi.nn.relu` calls both make "compute") get distinct ones, `NAME_1`, ...,
    since stages are known by name.
    """
    placeholders = [t.op for t in tensors if isinstance(t.op, PlaceholderDecl)]
    computed = [t.op for t in tensors if isinstance(t.op, ComputeDecl)]
    listings = Counter(id(t.op) for t in tensors)
    repeated = sorted({t.name for t in tensors if listings[id(t.op)] > 1})
    if repeated:
        raise TEError(f"the workload's tensor list names {', '.join(repeated)} more than once")
    if not computed:
        raise TEError("a workload needs at least one computed output tensor")
    stages = _topological_stages(computed)
    read = {id(t.op) for stage in stages for t in stage.input_tensors}
    outputs = [op for op in computed if id(op) not in read]
    _check_placeholders_listed(stages, placeholders)
    names = _distinct_names([*placeholders, *stages])
    arg_types = [TensorType(dtype_to_type(p.dtype), p.shape) for p in placeholders]
    result_types = [TensorType(dtype_to_type(op.dtype), op.shape) for op in outputs]
    function = func.FuncOp(func_name, (arg_types, result_types))
    function.arg_attrs = _arg_attrs([names[id(p)] for p in placeholders])
    values: dict[int, SSAValue] = {}
    for p, arg in zip(placeholders, function.body.block.args, strict=True):
        arg.name_hint = _ssa_name(names[id(p)])
        values[id(p)] = arg
    builder = Builder(InsertPoint.at_end(function.body.block))
    for stage in stages:
        op = _build_compute(stage, names, values)
        builder.insert(op)
        op.result.name_hint = _ssa_name(names[id(stage)])
        values[id(stage)] = op.result
    builder.insert(func.ReturnOp(*(values[id(op)] for op in outputs)))
    return function


def build_te_module(tensors: Sequence[Tensor], func_name: str = "default_function") -> ModuleOp:
    """A module holding `build_te_function(tensors, func_name)`, verified."""
    module = ModuleOp([build_te_function(tensors, func_name)])
    try:
        module.verify()
    except VerifyException as error:
        raise TEError(f"workload function @{func_name}: {error}") from None
    return module


def _check_placeholders_listed(stages: Sequence[ComputeDecl], listed: Sequence[PlaceholderDecl]) -> None:
    listed_ids = {id(p) for p in listed}
    for stage in stages:
        for t in stage.input_tensors:
            if isinstance(t.op, PlaceholderDecl) and id(t.op) not in listed_ids:
                raise TEError(
                    f"placeholder {t.name} is read by {stage.name} but is not in the workload's tensor list"
                )


def _distinct_names(decls: Sequence[PlaceholderDecl | ComputeDecl]) -> dict[int, str]:
    """A name per declaration (by id): its own, or `NAME_<n>` for a later one of the same name."""
    own = {decl.name for decl in decls}
    taken: set[str] = set()
    return {id(decl): unique_name(decl.name, taken, own) for decl in decls}


def _arg_attrs(names: Sequence[str]) -> ArrayAttr[DictionaryAttr]:
    return ArrayAttr(DictionaryAttr({te_dialect.PLACEHOLDER_NAME_ATTR: StringAttr(name)}) for name in names)


def _ssa_name(name: str) -> str | None:
    clean = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return clean if clean and not clean[0].isdigit() else None


def _topological_stages(outputs: Sequence[ComputeDecl]) -> list[ComputeDecl]:
    """The stages `outputs` need, each after the stages it reads."""
    order: list[ComputeDecl] = []
    state: dict[int, str] = {}

    def visit(stage: ComputeDecl) -> None:
        if state.get(id(stage)) == "done":
            return
        if state.get(id(stage)) == "visiting":
            raise TEError(f"compute {stage.name} depends on itself")
        state[id(stage)] = "visiting"
        for t in stage.input_tensors:
            if isinstance(t.op, ComputeDecl):
                visit(t.op)
        state[id(stage)] = "done"
        order.append(stage)

    for stage in outputs:
        visit(stage)
    return order


def _build_compute(
    stage: ComputeDecl, names: dict[int, str], values: dict[int, SSAValue]
) -> te_dialect.ComputeOp:
    reduce_axes = stage.reduce_axis
    iters = (*stage.axis, *reduce_axes)
    block = Block(arg_types=[IndexType()] * len(iters))
    for arg, it in zip(block.args, iters, strict=True):
        arg.name_hint = _ssa_name(it.name)
    emitter = ExprEmitter(block, {id(it): arg for it, arg in zip(iters, block.args, strict=True)}, values)
    reduction = stage.body if isinstance(stage.body, Reduce) else None
    result = emitter.emit(stage.body if reduction is None else reduction.body)
    emitter.builder.insert(te_dialect.YieldOp(result))
    return te_dialect.ComputeOp(
        names[id(stage)],
        [values[id(t.op)] for t in stage.input_tensors],
        TensorType(dtype_to_type(stage.dtype), stage.shape),
        [it.name for it in iters],
        [it.extent for it in reduce_axes],
        None if reduction is None else reduction.kind,
        Region(block),
        attributes=_compute_attributes(stage, names),
    )


def _compute_attributes(stage: ComputeDecl, names: dict[int, str]) -> dict[str, Attribute] | None:
    attrs = {key: _attribute(stage, key, value, names) for key, value in stage.attrs.items()}
    return attrs or None


def _attribute(stage: ComputeDecl, key: str, value: AttrValue, names: dict[int, str]) -> Attribute:
    """Attribute `key` of `stage` in the IR: a string, an i64, or an array of names (a tensor by its stage's)."""
    if isinstance(value, str):
        return StringAttr(value)
    if isinstance(value, int):
        return IntegerAttr(int(value), 64)
    return ArrayAttr(StringAttr(_element_name(stage, key, v, names)) for v in value)


def _element_name(stage: ComputeDecl, key: str, value: object, names: dict[int, str]) -> str:
    if isinstance(value, Tensor):
        return names.get(id(value.op), value.name)
    if isinstance(value, str):
        return value
    raise TEError(f"compute {stage.name}: attribute {key} lists {value!r}, not a tensor or a name")
