"""`te-lower`: the unscheduled lowering of te functions to loop nests.

Each workload function becomes a function over memrefs: the placeholders
first, then one out-parameter per output, nothing returned (the calling
convention of compiled kernels). Each `te.compute` becomes a perfect nest of
`scf.for` loops, one per iterator in declaration order; a reduction stores
the identity of its kind first, then combines the body's value into the
output element in the innermost loop. Intermediate stages live in
`memref.alloc` buffers freed at the end of the function. `te.read` becomes
`memref.load`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.builder import Builder
from xdsl.context import Context
from xdsl.dialects import arith, func, memref, scf
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint, Rewriter

from schedopt.dialects import te
from schedopt.errors import LoweringError


def buffer_type(tensor_type: Attribute) -> MemRefType:
    """The memref type that holds a value of `tensor_type`."""
    assert isinstance(tensor_type, TensorType)
    return MemRefType(tensor_type.element_type, tensor_type.get_shape())


def identity_value(kind: te.ReductionKind, element_type: Attribute) -> Attribute:
    """The value a reduction of `kind` starts from."""
    is_float = not isinstance(element_type, IntegerType)
    if kind == te.ReductionKind.SUM:
        return FloatAttr(0.0, element_type) if is_float else IntegerAttr(0, element_type)  # type: ignore[arg-type]
    if kind == te.ReductionKind.PROD:
        return FloatAttr(1.0, element_type) if is_float else IntegerAttr(1, element_type)  # type: ignore[arg-type]
    lowest = kind == te.ReductionKind.MAX
    if is_float:
        return FloatAttr(float("-inf") if lowest else float("inf"), element_type)  # type: ignore[arg-type]
    assert isinstance(element_type, IntegerType)
    bits = element_type.width.data
    return IntegerAttr(-(2 ** (bits - 1)) if lowest else 2 ** (bits - 1) - 1, element_type)


def combine_op(kind: te.ReductionKind, acc: SSAValue, value: SSAValue) -> Operation:
    """The op that folds `value` into the accumulator `acc`."""
    is_float = not isinstance(acc.type, IntegerType)
    ops: dict[te.ReductionKind, tuple[type[Operation], type[Operation]]] = {
        te.ReductionKind.SUM: (arith.AddfOp, arith.AddiOp),
        te.ReductionKind.PROD: (arith.MulfOp, arith.MuliOp),
        te.ReductionKind.MAX: (arith.MaximumfOp, arith.MaxSIOp),
        te.ReductionKind.MIN: (arith.MinimumfOp, arith.MinSIOp),
    }
    op_type = ops[kind][0 if is_float else 1]
    return op_type(acc, value)  # type: ignore[call-arg]


def emit_body(
    builder: Builder,
    compute: te.ComputeOp,
    iter_values: Sequence[SSAValue],
    buffers: dict[SSAValue, SSAValue],
) -> SSAValue:
    """Clone the body of `compute` at `builder` for the given iterator values.

    `buffers` maps each input tensor to the memref holding it; `te.read`
    becomes `memref.load`. Returns the value the body yields.
    """
    mapping: dict[SSAValue, SSAValue] = dict(zip(compute.iter_args, iter_values, strict=True))
    for op in compute.body.block.ops:
        if isinstance(op, te.YieldOp):
            return mapping.get(op.value, op.value)
        if isinstance(op, te.ReadOp):
            indices = [mapping.get(i, i) for i in op.indices]
            load = memref.LoadOp.get(buffers[op.tensor], indices)
            builder.insert(load)
            mapping[op.result] = load.res
            continue
        clone = op.clone(value_mapper=mapping)
        builder.insert(clone)
        for old, new in zip(op.results, clone.results, strict=True):
            mapping[old] = new
        _replace_reads(clone, buffers)
    raise LoweringError(f'te.compute "{compute.name_str}" has no te.yield')


def _replace_reads(op: Operation, buffers: dict[SSAValue, SSAValue]) -> None:
    """Turn every te.read nested in `op` (inside an scf.if) into a memref.load."""
    reads = [o for o in op.walk() if isinstance(o, te.ReadOp)]
    for read in reads:
        Rewriter.replace_op(read, memref.LoadOp.get(buffers[read.tensor], read.indices))


def constant_index(builder: Builder, value: int) -> SSAValue:
    op = arith.ConstantOp(IntegerAttr(value, IndexType()))
    builder.insert(op)
    return op.result


@dataclass(frozen=True)
class LowerTeFunction(RewritePattern):
    """Rewrite a function of te.compute ops into loop nests over memrefs."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.FuncOp, rewriter: PatternRewriter) -> None:
        if not any(isinstance(o, te.ComputeOp) for o in op.body.walk()):
            return
        rewriter.replace(op, lower_te_function(op))


def lower_te_function(function: func.FuncOp) -> func.FuncOp:
    """The memref function computing what the te function `function` computes."""
    name = function.sym_name.data
    block = function.body.block
    ret = block.last_op
    if not isinstance(ret, func.ReturnOp):
        raise LoweringError(f"@{name}: a te function must end with func.return")
    outputs = list(ret.arguments)
    for value in outputs:
        if not (isinstance(value.owner, te.ComputeOp)):
            raise LoweringError(f"@{name}: output {te.tensor_name(value)} is not computed by a te.compute")
    if len(set(outputs)) != len(outputs):
        raise LoweringError(f"@{name}: the same tensor is returned twice")
    for op in block.ops:
        if not isinstance(op, te.ComputeOp | func.ReturnOp):
            raise LoweringError(f"@{name}: unexpected {op.name} between te.compute ops")

    arg_types = [buffer_type(a.type) for a in block.args] + [buffer_type(v.type) for v in outputs]
    lowered = func.FuncOp(name, (arg_types, []))
    lowered.arg_attrs = ArrayAttr(
        [
            *(_arg_attr(te.tensor_name(a)) for a in block.args),
            *(_arg_attr(te.tensor_name(v)) for v in outputs),
        ]
    )
    new_args = lowered.body.block.args
    buffers: dict[SSAValue, SSAValue] = {}
    for old, new in zip([*block.args, *outputs], new_args, strict=True):
        buffers[old] = new
        new.name_hint = old.name_hint
    builder = Builder(InsertPoint.at_end(lowered.body.block))
    temporaries: list[SSAValue] = []
    for compute in (op for op in block.ops if isinstance(op, te.ComputeOp)):
        if compute.result not in buffers:
            alloc = memref.AllocOp.get(compute.element_type, alignment=64, shape=compute.spatial_extents)
            builder.insert(alloc)
            alloc.memref.name_hint = compute.result.name_hint
            buffers[compute.result] = alloc.memref
            temporaries.append(alloc.memref)
        emit_naive_stage(builder, compute, buffers)
    for buffer in temporaries:
        builder.insert(memref.DeallocOp.get(buffer))
    builder.insert(func.ReturnOp())
    return lowered


def _arg_attr(name: str) -> DictionaryAttr:
    return DictionaryAttr({te.PLACEHOLDER_NAME_ATTR: StringAttr(name)})


def emit_naive_stage(builder: Builder, compute: te.ComputeOp, buffers: dict[SSAValue, SSAValue]) -> None:
    """One loop per iterator, in order; reductions initialise the output element first."""
    out = buffers[compute.result]
    zero, one = constant_index(builder, 0), constant_index(builder, 1)
    spatial: list[SSAValue] = []
    inner = builder
    for extent in compute.spatial_extents:
        inner, iv = _open_loop(inner, zero, one, extent)
        spatial.append(iv)
    kind = compute.reduction_kind
    if kind is None:
        value = emit_body(inner, compute, spatial, buffers)
        inner.insert(memref.StoreOp.get(value, out, spatial))
        return
    init = arith.ConstantOp(identity_value(kind, compute.element_type))
    inner.insert(init)
    inner.insert(memref.StoreOp.get(init.result, out, spatial))
    reduce: list[SSAValue] = []
    for extent in compute.reduce_extent_values:
        inner, iv = _open_loop(inner, zero, one, extent)
        reduce.append(iv)
    value = emit_body(inner, compute, [*spatial, *reduce], buffers)
    acc = memref.LoadOp.get(out, spatial)
    inner.insert(acc)
    combined = combine_op(kind, acc.res, value)
    inner.insert(combined)
    inner.insert(memref.StoreOp.get(combined.results[0], out, spatial))


def _open_loop(builder: Builder, zero: SSAValue, one: SSAValue, extent: int) -> tuple[Builder, SSAValue]:
    """Insert `scf.for %iv = 0 to extent` and return a builder inside its body."""
    upper = constant_index(builder, extent)
    body = Block(arg_types=[IndexType()])
    body.add_op(scf.YieldOp())
    builder.insert(scf.ForOp(zero, upper, one, [], body))
    return Builder(InsertPoint.before(body.last_op)), body.args[0]  # type: ignore[arg-type]


@dataclass(frozen=True)
class TeLowerPass(ModulePass):
    """Lower every te function of the module to loop nests over memrefs (no schedule).

    No options.
    """

    name = "te-lower"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerTeFunction(), apply_recursively=False).rewrite_module(op)
