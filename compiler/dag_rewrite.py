"""Rewrites of a te function that some transform steps imply: new stages.

`cache_write` and `cache_read` add a stage to the computation (and rfactor
will); the State records the step and its new stage's loops, and before
lowering the steps are replayed here on a copy of the te function, so the
lowering sees the stages the State has.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.builder import Builder
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import IndexType, StringAttr, TensorType
from xdsl.ir import Attribute, Block, Region, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.hints import isa

from schedopt.dialects import te
from schedopt.errors import ScheduleError
from schedopt.index_builder import ConstantPool, IndexBuilder
from schedopt.reduction_identity import identity_constant
from schedopt.schedule.loop_nest import StageLoops


def _compute(function: func.FuncOp, name: str) -> te.ComputeOp:
    for op in function.body.block.ops:
        if isinstance(op, te.ComputeOp) and op.name_str == name:
            return op
    raise ScheduleError(f"no stage {name} in @{function.sym_name.data}")


def _tensor(function: func.FuncOp, name: str) -> SSAValue:
    for arg in function.body.block.args:
        if te.tensor_name(arg) == name:
            return arg
    return _compute(function, name).result


def _copy_compute(name: str, source: SSAValue, iter_names: Sequence[str]) -> te.ComputeOp:
    """`name[i, j, ...] = source[i, j, ...]`."""
    tensor_type = source.type
    assert isa(tensor_type, TensorType[Attribute])
    block = Block(arg_types=[IndexType()] * tensor_type.get_num_dims())
    read = te.ReadOp(source, block.args)
    block.add_ops([read, te.YieldOp(read.result)])
    return te.ComputeOp(name, [source], tensor_type, iter_names, [], None, Region(block))


def add_cache_write(function: func.FuncOp, stage: str, new_name: str) -> None:
    """`stage` is computed into `new_name`; `stage` becomes a copy of it."""
    compute = _compute(function, stage)
    cache = compute.clone()
    cache.compute_name = StringAttr(new_name)
    Rewriter.insert_op(cache, InsertPoint.before(compute))
    copy = _copy_compute(stage, cache.result, compute.spatial_names)
    cache.result.name_hint = (
        compute.result.name_hint and f"{compute.result.name_hint}_{new_name.split('.')[-1]}"
    )
    Rewriter.replace_op(compute, copy)


def add_cache_read(function: func.FuncOp, tensor: str, new_name: str, readers: Sequence[str]) -> None:
    """A stage `new_name` copies `tensor`; the `readers` read it instead of `tensor`."""
    source = _tensor(function, tensor)
    source_type = source.type
    assert isa(source_type, TensorType[Attribute])
    copy = _copy_compute(new_name, source, [f"ax{d}" for d in range(source_type.get_num_dims())])
    owner = source.owner
    where = (
        InsertPoint.after(owner)
        if isinstance(owner, te.ComputeOp)
        else InsertPoint.at_start(function.body.block)
    )
    Rewriter.insert_op(copy, where)
    for reader in readers:
        consumer = _compute(function, reader)
        for index, operand in enumerate(consumer.operands):
            if operand is source:
                consumer.operands[index] = copy.result
        for read in consumer.body.walk():
            if isinstance(read, te.ReadOp) and read.tensor is source:
                read.operands[0] = copy.result


def add_rfactor(
    function: func.FuncOp,
    stage: str,
    new_name: str,
    loops: StageLoops,
    factored: str,
    factor_iter_id: int,
) -> None:
    """Factor loop `factored` out of the reduction of `stage` into a stage `new_name`.

    `loops` are the stage's loops when the step applies: its reduce axes were
    fused and split into leaf loops, one of which (`factored`) becomes a
    spatial axis of the new stage. The new stage's body recomputes the
    original reduce axes from its leaf loops, and contributes the identity
    where a non-dividing split steps past an axis.
    """
    compute = _compute(function, stage)
    kind = compute.reduction_kind
    assert kind is not None
    spatial = list(compute.spatial_names)
    if list(loops.leaf_names[: len(spatial)]) != spatial:
        raise ScheduleError(f"rfactor of stage {stage}: its spatial loops must be untouched and outermost")
    root_extents = (*compute.spatial_extents, *compute.reduce_extent_values)
    extents = loops.extents(root_extents)
    others = [leaf for leaf in loops.leaf_names[len(spatial) :] if leaf != factored]
    iter_names = [*spatial[:factor_iter_id], factored, *spatial[factor_iter_id:], *others]
    block = Block(arg_types=[IndexType()] * len(iter_names))
    args: dict[str, SSAValue] = dict(zip(iter_names, block.args, strict=True))
    index = IndexBuilder(Builder(InsertPoint.at_end(block)), ConstantPool(block))
    values = loops.values({leaf: args[leaf] for leaf in loops.leaf_names}, extents, index)
    axes = [values[name] for name in loops.root_names]
    guards = [index.less(values[name], extents[name]) for name in loops.overflowing(extents)]
    value = _clone_body(compute, axes, block, guards, kind)
    block.add_op(te.YieldOp(value))
    result_type = compute.result_type
    shape = list(result_type.get_shape())
    rf_type = TensorType(
        result_type.element_type, [*shape[:factor_iter_id], extents[factored], *shape[factor_iter_id:]]
    )
    rf = te.ComputeOp(
        new_name,
        list(compute.ins),
        rf_type,
        iter_names,
        [extents[leaf] for leaf in others],
        kind if others else None,
        Region(block),
        attributes=dict(compute.attributes),
    )
    Rewriter.insert_op(rf, InsertPoint.before(compute))
    final_block = Block(arg_types=[IndexType()] * (len(spatial) + 1))
    *space, reduced = final_block.args
    read = te.ReadOp(rf.result, [*space[:factor_iter_id], reduced, *space[factor_iter_id:]])
    final_block.add_ops([read, te.YieldOp(read.result)])
    final = te.ComputeOp(
        stage, [rf.result], result_type, [*spatial, factored], [extents[factored]], kind, Region(final_block)
    )
    Rewriter.replace_op(compute, final)


def _clone_body(
    compute: te.ComputeOp,
    axes: Sequence[SSAValue],
    block: Block,
    guards: list[SSAValue],
    kind: te.ReductionKind,
) -> SSAValue:
    """Clone `compute`'s body for the given axis values; outside the guards, yield the identity."""
    mapping: dict[SSAValue, SSAValue] = dict(zip(compute.iter_args, axes, strict=True))
    target = block
    branch: scf.IfOp | None = None
    if guards:
        condition = guards[0]
        for guard in guards[1:]:
            and_op = arith.AndIOp(condition, guard)
            block.add_op(and_op)
            condition = and_op.result
        target = Block()
        identity = Block()
        constant = identity_constant(kind, compute.element_type)
        identity.add_ops([constant, scf.YieldOp(constant.result)])
        branch = scf.IfOp(condition, [compute.element_type], Region(target), Region(identity))
    for op in compute.body.block.ops:
        if isinstance(op, te.YieldOp):
            break
        clone = op.clone(value_mapper=mapping)
        target.add_op(clone)
        mapping.update(zip(op.results, clone.results, strict=True))
    value = mapping.get(compute.yield_op.value, compute.yield_op.value)
    if branch is None:
        return value
    target.add_op(scf.YieldOp(value))
    block.add_op(branch)
    return branch.results[0]
