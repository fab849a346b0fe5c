"""Import a function of `linalg` on tensors as an unfused network.

```python
network = from_linalg(module_text, params={"w": weights})
```

Every linalg op is a loop nest described by data: one indexing map per operand
and one iterator type per loop, and a body that says what one iteration
computes. That is exactly what a `te.compute` needs, so ops are translated
generically, not name by name: the parallel loops that index the result are
the spatial axes, the reduction loops the reduce axes, each operand the body
reads becomes a placeholder read through its map, and the body's arith/math ops
become the te expression. A reduction's kind comes from the op that combines
the body's value with the accumulator (`addf` -> sum, `maximumf` -> max, ...);
its init operand folds away when it is a fill with the reduction's identity,
and is combined in an epilogue stage of the same operator otherwise.

Each op becomes one operator function with Relay's pattern, read off the maps:
a reduction that multiplies two operands (matmul, conv) or slides a window
(pooling) is `out_elemwise_fusable`, other reductions `comm_reduce`; a
parallel op whose reads all use the result's map is `elemwise` (a copy, as
Relay's `copy`), one whose reads drop or pin result dimensions in order is
`broadcast`, and the rest (transposes, pads, reshapes, index arithmetic) are
`injective`. Fills and splat constants are not operators: their one value is
inlined where they are read. Dense constants become parameters, so do the
function arguments named in `params`; the other arguments are the inputs.

Anything the translation does not cover raises a `FrontendError` naming the op
before anything is built.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, builtin, func, math, tensor
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    ShapedType,
    StringAttr,
    TensorType,
)
from xdsl.dialects.linalg.abstract_ops import LinalgStructuredOperation
from xdsl.dialects.linalg.attrs import IteratorType
from xdsl.dialects.linalg.ops import BroadcastOp, FillOp, IndexOp, PoolingNchwMaxOp, ReduceOp, YieldOp
from xdsl.ir import Attribute, Block, BlockArgument, Operation, SSAValue
from xdsl.ir.affine import (
    AffineBinaryOpExpr,
    AffineBinaryOpKind,
    AffineConstantExpr,
    AffineDimExpr,
    AffineExpr,
    AffineMap,
)
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError, VerifyException

import schedopt.te as te
from schedopt.dialects.linalg_extra import LINALG
from schedopt.dialects.te import PLACEHOLDER_NAME_ATTR, ReductionKind, identity_value
from schedopt.errors import FrontendError, TEError
from schedopt.frontend.network import GraphValue, Network, NetworkBuilder, OpPattern, static_tensor
from schedopt.unique_names import unique_name

Scalar = int | float | bool


def from_linalg(
    module: ModuleOp | str,
    params: Mapping[str, np.ndarray] | None = None,
    *,
    func_name: str | None = None,
) -> Network:
    """The unfused network of a linalg function: its one public function, or `func_name`.

    `params` gives values to function arguments (by name: the `te.name` arg
    attribute, else the SSA name), which become parameters instead of inputs.
    """
    if isinstance(module, str):
        try:
            module = Parser(_linalg_context(), module).parse_module()
        except ParseError as error:
            raise FrontendError(f"cannot parse the linalg module:\n{error}") from None
    try:
        module.verify()
    except VerifyException as error:
        raise FrontendError(f"the linalg module does not verify: {error}") from None
    function = _select_function(module, func_name)
    return _Importer(function, params or {}).run()


def _linalg_context() -> Context:
    ctx = Context()
    for dialect in (builtin.Builtin, func.Func, arith.Arith, math.Math, tensor.Tensor, LINALG):
        ctx.load_dialect(dialect)
    return ctx


def _select_function(module: ModuleOp, func_name: str | None) -> func.FuncOp:
    functions = [op for op in module.ops if isinstance(op, func.FuncOp) and op.body.blocks]
    if func_name is not None:
        named = [f for f in functions if f.sym_name.data == func_name]
        if not named:
            found = ", ".join("@" + f.sym_name.data for f in functions) or "none"
            raise FrontendError(f"the module has no function @{func_name} (functions: {found})")
        function = named[0]
    else:
        public = [f for f in functions if f.sym_visibility is None or f.sym_visibility.data == "public"]
        if len(public) != 1:
            found = ", ".join("@" + f.sym_name.data for f in public) or "none"
            raise FrontendError(
                f"the module has {len(public)} public functions ({found}); name one with func_name="
            )
        function = public[0]
    if len(function.body.blocks) != 1:
        raise FrontendError(
            f"@{function.sym_name.data} has {len(function.body.blocks)} blocks; one is supported"
        )
    return function


# --- what a value of the function is -------------------------------------------------------------


@dataclass(frozen=True)
class _Splat:
    """A tensor every element of which is `value` (a fill, a splat constant): inlined where read."""

    value: Scalar
    dtype: str


class _Uninitialized:
    """A `tensor.empty`: a shape for a destination operand, whose elements must never be read."""


_UNINITIALIZED = _Uninitialized()


@dataclass
class _Operator:
    """One operator function to call: te tensors (placeholders bound to `args`, then outputs)."""

    name: str
    pattern: OpPattern
    args: list[SSAValue]
    tensors: list[te.Tensor]
    result: SSAValue


@dataclass
class _Structured:
    """A linalg op as loops: operands read through maps by a body (inputs, then the accumulator)."""

    op: Operation
    inputs: tuple[SSAValue, ...]
    init: SSAValue
    maps: tuple[AffineMap, ...]
    iterators: tuple[IteratorType, ...]
    block: Block

    @property
    def output_map(self) -> AffineMap:
        return self.maps[-1]


# --- the importer --------------------------------------------------------------------------------


class _Importer:
    """Reads the function once into operators, params and inputs, then builds the network."""

    def __init__(self, function: func.FuncOp, params: Mapping[str, np.ndarray]) -> None:
        self.function = function
        self.where = f"@{function.sym_name.data}"
        self.params = params
        self.names: dict[SSAValue, str] = {}
        self.taken: set[str] = set()
        self.splats: dict[SSAValue, _Splat | _Uninitialized] = {}
        self.inputs: list[SSAValue] = []
        self.param_values: dict[SSAValue, np.ndarray] = {}
        self.operators: list[_Operator] = []
        self.outputs: list[SSAValue] = []

    def run(self) -> Network:
        self._read_arguments()
        block = self.function.body.block
        for op in block.ops:
            if isinstance(op, func.ReturnOp):
                self.outputs = [self._output(v) for v in op.arguments]
            else:
                self._read_op(op)
        return self._build()

    # -- phase 1: read the function (everything that can fail) --

    def _read_arguments(self) -> None:
        attrs = self.function.arg_attrs.data if self.function.arg_attrs is not None else ()
        for index, arg in enumerate(self.function.body.block.args):
            name_attr = attrs[index].data.get(PLACEHOLDER_NAME_ATTR) if index < len(attrs) else None
            name = name_attr.data if isinstance(name_attr, StringAttr) else arg.name_hint or f"arg{index}"
            if name in self.taken:
                raise FrontendError(f"{self.where}: two arguments are named {name!r}")
            shape, dtype = _shape_and_dtype(arg, f"{self.where}: argument {name}")
            self.names[arg] = name
            self.taken.add(name)
            if name not in self.params:
                self.inputs.append(arg)
                continue
            value = np.asarray(self.params[name])
            if value.shape != shape or str(value.dtype) != dtype:
                raise FrontendError(
                    f"{self.where}: the value of parameter {name} is {value.dtype}{list(value.shape)}, "
                    f"the argument is {dtype}{list(shape)}"
                )
            self.param_values[arg] = value
        unknown = sorted(set(self.params) - self.taken)
        if unknown:
            raise FrontendError(
                f"{self.where}: params names {', '.join(unknown)}, not arguments of the function "
                f"(arguments: {', '.join(self.names[a] for a in self.function.body.block.args) or 'none'})"
            )

    def _read_op(self, op: Operation) -> None:
        where = _describe(op)
        if isinstance(op, arith.ConstantOp):
            self._read_constant(op)
        elif isinstance(op, tensor.EmptyOp):
            if op.dynamic_sizes:
                raise FrontendError(f"{where}: dynamic sizes are not supported (networks have static shapes)")
            self.splats[op.tensor] = _UNINITIALIZED
        elif isinstance(op, FillOp):
            self._read_fill(op)
        elif isinstance(op, tensor.PadOp):
            self._add(self._pad(op))
        elif isinstance(op, tensor.CollapseShapeOp | tensor.ExpandShapeOp):
            self._add(self._reshape(op))
        elif isinstance(op, LinalgStructuredOperation | BroadcastOp | ReduceOp):
            self._add(_translate(_structured(op), self))
        else:
            raise FrontendError(
                f"{where} is not supported (supported: linalg structured ops on tensors, linalg.fill, "
                "linalg.broadcast, linalg.reduce, tensor.empty, tensor.pad, tensor.collapse_shape, "
                "tensor.expand_shape, arith.constant)"
            )

    def _read_constant(self, op: arith.ConstantOp) -> None:
        value = op.value
        if not isinstance(op.result.type, TensorType):
            return  # a scalar: read where it is used (fill values, captured by bodies)
        if not isinstance(value, DenseIntOrFPElementsAttr):
            raise FrontendError(
                f"{_describe(op)}: only dense<...> tensor constants are supported, not {value.name}"
            )
        _, dtype = _shape_and_dtype(op.result, _describe(op))
        array = _dense_array(value).astype(dtype)
        if array.size and (array == array.flat[0]).all():
            self.splats[op.result] = _Splat(array.flat[0].item(), dtype)
        elif op.result.uses:
            self.names[op.result] = unique_name(op.result.name_hint or "constant", self.taken)
            self.param_values[op.result] = array

    def _read_fill(self, op: FillOp) -> None:
        if len(op.inputs) != 1 or len(op.res) != 1:
            raise FrontendError(f"{_describe(op)}: expected one value and one tensor result")
        _, dtype = _shape_and_dtype(op.res[0], _describe(op))
        value = _scalar_constant(op.inputs[0], f"{_describe(op)}: the fill value")
        self.splats[op.res[0]] = _Splat(_as_dtype(value, dtype), dtype)

    def _pad(self, op: tensor.PadOp) -> _Operator:
        where = _describe(op)
        if op.low or op.high:
            raise FrontendError(f"{where}: dynamic padding amounts are not supported")
        yielded = op.region.block.last_op
        assert isinstance(yielded, tensor.YieldOp)
        pad_value = _scalar_constant(yielded.arguments[0], f"{where}: the padding value")
        low = op.static_low.get_values()
        in_shape, dtype = _shape_and_dtype(op.source, where)
        out_shape, _ = _shape_and_dtype(op.result, where)
        if any(p < 0 for p in (*low, *op.static_high.get_values())):
            raise FrontendError(f"{where}: negative padding is not supported")
        operands = _Operands(self, where)

        def pad(*axes: te.IterVar) -> te.Expr:
            inside: list[te.Expr] = []
            for axis, lo, size, out_size in zip(axes, low, in_shape, out_shape, strict=True):
                if lo:
                    inside.append(axis >= lo)
                if lo + size < out_size:
                    inside.append(axis < lo + size)
            indices = [axis - lo if lo else axis for axis, lo in zip(axes, low, strict=True)]
            value = operands.read(op.source, indices)
            if not inside:
                return value
            return te.if_then_else(te.all(*inside), value, te.const(pad_value, dtype))

        out = te.compute(out_shape, pad, name=_op_name(op))
        return operands.operator(_op_name(op), OpPattern.INJECTIVE, [out], op.result)

    def _reshape(self, op: tensor.CollapseShapeOp | tensor.ExpandShapeOp) -> _Operator:
        where = _describe(op)
        in_shape, _ = _shape_and_dtype(op.src, where)
        out_shape, _ = _shape_and_dtype(op.result, where)
        groups = [[i.value.data for i in group.data] for group in op.reassociation.data]
        operands = _Operands(self, where)
        collapse = isinstance(op, tensor.CollapseShapeOp)

        def reshape(*axes: te.IterVar) -> te.Expr:
            indices: list[te.Expr | int] = []
            for position, group in enumerate(groups):
                if collapse:  # one result index spreads over the group's source dimensions
                    indices += _unflatten(axes[position], [in_shape[d] for d in group])
                else:  # the group's result indices combine into one source index
                    indices.append(_flatten([axes[d] for d in group], [out_shape[d] for d in group]))
            return operands.read(op.src, indices)

        out = te.compute(out_shape, reshape, name=_op_name(op))
        return operands.operator(_op_name(op), OpPattern.INJECTIVE, [out], op.result)

    def _output(self, value: SSAValue) -> SSAValue:
        state = self.splats.get(value)
        if isinstance(state, _Uninitialized):
            raise FrontendError(
                f"{self.where}: returns %{value.name_hint or '?'}, an uninitialized tensor.empty"
            )
        if isinstance(state, _Splat):  # a returned fill: an operator that writes the value
            shape, dtype = _shape_and_dtype(value, self.where)
            out = te.compute(shape, lambda *_: te.const(state.value, dtype), name="fill")
            self._add(_Operator("fill", OpPattern.ELEMWISE, [], [out], value))
        return value

    def _add(self, op: _Operator) -> None:
        expected = _shape_and_dtype(op.result, self.where)
        output = op.tensors[-1]
        if (output.shape, output.dtype) != expected:
            raise FrontendError(
                f"operator {op.name}: computes {output.dtype}{list(output.shape)}, the op's result "
                f"is {expected[1]}{list(expected[0])}"
            )
        self.operators.append(op)
        self.names.setdefault(op.result, op.name)

    def kind_of(self, value: SSAValue) -> _Splat | _Uninitialized | None:
        """What a value is when it is not a graph tensor; None for a graph tensor."""
        return self.splats.get(value)

    def is_param(self, value: SSAValue) -> bool:
        return value in self.param_values

    def name_of(self, value: SSAValue) -> str:
        return self.names.get(value) or value.name_hint or "tensor"

    # -- phase 2: build --

    def _build(self) -> Network:
        builder = NetworkBuilder(self.function.sym_name.data)
        values: dict[SSAValue, GraphValue] = {}
        for arg in self.inputs:
            shape, dtype = _shape_and_dtype(arg, self.where)
            values[arg] = builder.input(self.names[arg], shape, dtype)
        for value, array in self.param_values.items():
            values[value] = builder.param(self.names[value], array)
        for op in self.operators:
            (values[op.result],) = builder.call(
                op.tensors, [values[a] for a in op.args], name=op.name, pattern=op.pattern
            )
        return builder.build([values[v] for v in self.outputs])


class _Operands:
    """The placeholders of one operator: one per graph tensor it reads, in the order first read."""

    def __init__(self, importer: _Importer, where: str) -> None:
        self.importer = importer
        self.where = where
        self.placeholders: dict[SSAValue, te.Tensor] = {}

    def read(self, value: SSAValue, indices: Sequence[te.Expr | int]) -> te.Expr:
        kind = self.importer.kind_of(value)
        if isinstance(kind, _Splat):
            return te.const(kind.value, kind.dtype)
        if isinstance(kind, _Uninitialized):
            raise FrontendError(
                f"{self.where}: reads %{value.name_hint or '?'}, a tensor.empty whose elements are undefined"
            )
        return _element(self.placeholder(value), indices)

    def placeholder(self, value: SSAValue) -> te.Tensor:
        if value not in self.placeholders:
            shape, dtype = _shape_and_dtype(value, self.where)
            self.placeholders[value] = te.placeholder(shape, dtype, name=self.importer.name_of(value))
        return self.placeholders[value]

    def operator(
        self, name: str, pattern: OpPattern, outputs: list[te.Tensor], result: SSAValue
    ) -> _Operator:
        return _Operator(
            name, pattern, list(self.placeholders), [*self.placeholders.values(), *outputs], result
        )


# --- structured ops ------------------------------------------------------------------------------


def _structured(op: Operation) -> _Structured:
    """The loops view of a linalg op; FrontendError if it is not one the translation covers."""
    where = _describe(op)
    if isinstance(op, BroadcastOp):
        rank = len(_shape_and_dtype(op.init, where)[0])
        dims = op.dimensions.get_values()
        kept = [d for d in range(rank) if d not in dims]
        maps = (AffineMap(rank, 0, tuple(AffineDimExpr(d) for d in kept)), AffineMap.identity(rank))
        return _Structured(
            op, (op.input,), op.init, maps, (IteratorType.PARALLEL,) * rank, op.hidden_region.block
        )
    if isinstance(op, ReduceOp):
        rank = len(_shape_and_dtype(op.input, where)[0])
        dims = op.dimensions.get_values()
        kept = [d for d in range(rank) if d not in dims]
        maps = (AffineMap.identity(rank), AffineMap(rank, 0, tuple(AffineDimExpr(d) for d in kept)))
        iterators = tuple(IteratorType.REDUCTION if d in dims else IteratorType.PARALLEL for d in range(rank))
        return _Structured(op, (op.input,), op.init, maps, iterators, op.region.block)
    assert isinstance(op, LinalgStructuredOperation)
    if len(op.outputs) != 1 or len(op.res) != 1:
        raise FrontendError(f"{where}: has {len(op.res)} results; one tensor result is supported")
    maps = tuple(m.data for m in op.get_indexing_maps())
    iterators = tuple(t.data for t in op.get_iterator_types())
    block = _pooling_max_block(op) if isinstance(op, PoolingNchwMaxOp) else op.body.block
    return _Structured(op, tuple(op.inputs), op.outputs[0], maps, iterators, block)


def _pooling_max_block(op: PoolingNchwMaxOp) -> Block:
    """The body upstream MLIR gives pooling_nchw_max, `out = max(out, in)`.

    xDSL 0.74's hidden region takes the max of the input and the window
    operand instead, which would import a different computation.
    """
    _, dtype = _shape_and_dtype(op.outputs[0], _describe(op))
    block = Block(arg_types=[a.type for a in op.body.block.args])
    maximum = (
        arith.MaxSIOp(block.args[2], block.args[0])
        if dtype.startswith("int")
        else arith.MaximumfOp(block.args[2], block.args[0])
    )
    block.add_ops([maximum, YieldOp(maximum.result)])
    return block


_COMBINERS: dict[type[Operation], ReductionKind] = {
    arith.AddfOp: ReductionKind.SUM,
    arith.AddiOp: ReductionKind.SUM,
    arith.MulfOp: ReductionKind.PROD,
    arith.MuliOp: ReductionKind.PROD,
    arith.MaximumfOp: ReductionKind.MAX,
    arith.MaxnumfOp: ReductionKind.MAX,
    arith.MaxSIOp: ReductionKind.MAX,
    arith.MinimumfOp: ReductionKind.MIN,
    arith.MinnumfOp: ReductionKind.MIN,
    arith.MinSIOp: ReductionKind.MIN,
}

_REDUCERS: dict[ReductionKind, Callable[..., te.Expr]] = {
    ReductionKind.SUM: te.sum,
    ReductionKind.PROD: te.prod,
    ReductionKind.MAX: te.max,
    ReductionKind.MIN: te.min,
}


def _translate(view: _Structured, importer: _Importer) -> _Operator:
    """One te operator for a structured op: its main stage, and an epilogue for a non-identity init."""
    where = _describe(view.op)
    unsupported = sorted(
        str(t) for t in set(view.iterators) - {IteratorType.PARALLEL, IteratorType.REDUCTION}
    )
    if unsupported:
        raise FrontendError(f"{where}: {', '.join(unsupported)} iterators are not supported")
    ranges = _loop_ranges(view, where)
    spatial = _spatial_loops(view, where)
    reduce_loops = [d for d, t in enumerate(view.iterators) if t == IteratorType.REDUCTION]
    combine = _combiner(view, where) if reduce_loops else None
    value = combine[1] if combine else _yielded(view.block)
    operands = _Operands(importer, where)
    read = _inputs_read(value, view)
    for index, operand in enumerate(view.inputs):  # placeholders in operand order: data before weights
        if index in read and importer.kind_of(operand) is None and isinstance(operand.type, TensorType):
            operands.placeholder(operand)
    contraction = (
        combine is not None and combine[0] == ReductionKind.SUM and _is_product_of_operands(value, view)
    )
    weights = [t for v, t in operands.placeholders.items() if importer.is_param(v)] if contraction else []
    name = _op_name(view.op)
    out_shape, out_dtype = _shape_and_dtype(view.init, where)
    reduce_axes = [te.reduce_axis(ranges[d], name=f"k{n}") for n, d in enumerate(reduce_loops)]
    body = _Body(view, operands, forbidden=view.block.args[-1] if combine else None)

    def compute(*axes: te.IterVar) -> te.Expr:
        loops = dict(zip(spatial, axes, strict=True)) | dict(zip(reduce_loops, reduce_axes, strict=True))
        body.loops = [loops[d] for d in range(len(view.iterators))]
        if combine is None:
            return body.value(value)
        return _REDUCERS[combine[0]](body.value(value), axis=reduce_axes)

    attrs = {"layout_free_placeholders": weights} if weights else None
    try:
        stage = te.compute(out_shape, compute, name=name, attrs=attrs)
    except TEError as error:
        raise FrontendError(f"{where}: {error}") from None
    if combine is None:
        return operands.operator(name, _parallel_pattern(view, body), [stage], view.op.results[0])
    window = _slides_window(view, body)
    pattern = OpPattern.OUT_ELEMWISE_FUSABLE if contraction or window else OpPattern.COMM_REDUCE
    outputs = [stage, *_init_epilogue(view, combine[0], stage, operands, name, out_dtype)]
    return operands.operator(name, pattern, outputs, view.op.results[0])


def _loop_ranges(view: _Structured, where: str) -> list[int]:
    """Each loop's extent: the size of an operand dimension that the loop indexes alone."""
    ranges: list[int | None] = [None] * len(view.iterators)
    for value, map_ in zip((*view.inputs, view.init), view.maps, strict=True):
        if map_.num_symbols:
            raise FrontendError(f"{where}: indexing map {map_} has symbols")
        if not isinstance(value.type, ShapedType):
            continue
        shape, _ = _shape_and_dtype(value, where)
        for size, result in zip(shape, map_.results, strict=True):
            if isinstance(result, AffineDimExpr) and ranges[result.position] is None:
                ranges[result.position] = size
    missing = [f"d{d}" for d, r in enumerate(ranges) if r is None]
    if missing:
        raise FrontendError(
            f"{where}: the extent of loop {', '.join(missing)} is not the size of an operand dimension"
        )
    return [r for r in ranges if r is not None]


def _spatial_loops(view: _Structured, where: str) -> list[int]:
    """The loop behind each result dimension; they must be the parallel loops, each once."""
    loops: list[int] = []
    for result in view.output_map.results:
        if not isinstance(result, AffineDimExpr) or result.position in loops:
            raise FrontendError(
                f"{where}: the result's indexing map {view.output_map} is not a permutation of loops"
            )
        if view.iterators[result.position] != IteratorType.PARALLEL:
            raise FrontendError(f"{where}: reduction loop d{result.position} indexes the result")
        loops.append(result.position)
    unused = [f"d{d}" for d, t in enumerate(view.iterators) if t == IteratorType.PARALLEL and d not in loops]
    if unused:
        raise FrontendError(f"{where}: parallel loop {', '.join(unused)} does not index the result")
    return loops


def _yielded(block: Block) -> SSAValue:
    last = block.last_op
    assert last is not None
    if len(last.operands) != 1:
        raise FrontendError(f"{last.name} yields {len(last.operands)} values; one is supported")
    return last.operands[0]


def _combiner(view: _Structured, where: str) -> tuple[ReductionKind, SSAValue]:
    """The reduction kind and the value it combines: the body must yield `combine(value, acc)`."""
    acc = view.block.args[-1]
    yielded = _yielded(view.block)
    op = yielded.owner
    if isinstance(op, Operation) and type(op) in _COMBINERS and acc in op.operands:
        others = [v for v in op.operands if v is not acc]
        if len(others) == 1:
            return _COMBINERS[type(op)], others[0]
    raise FrontendError(
        f"{where}: the body of a reduction must yield the accumulator combined with one value by "
        f"{', '.join(sorted({c.name for c in _COMBINERS}))}"
    )


def _is_product_of_operands(value: SSAValue, view: _Structured) -> bool:
    """Whether `value` multiplies reads of two different operands (a contraction: matmul, conv)."""
    product = _skip_casts(value).owner
    if not isinstance(product, arith.MulfOp | arith.MuliOp):
        return False
    reads = [_inputs_read(v, view) for v in product.operands]
    return all(reads) and reads[0] != reads[1]


def _skip_casts(value: SSAValue) -> SSAValue:
    while isinstance(value.owner, arith.ExtFOp | arith.ExtSIOp | arith.SIToFPOp | arith.TruncFOp):
        value = value.owner.operands[0]
    return value


def _inputs_read(value: SSAValue, view: _Structured) -> frozenset[int]:
    """The inputs (by operand index) that `value`, an SSA value of the body, depends on."""
    if isinstance(value, BlockArgument) and value.block is view.block:
        return frozenset({value.index}) if value.index < len(view.inputs) else frozenset()
    owner = value.owner
    if isinstance(owner, Operation) and owner.parent_block() is view.block:
        return frozenset[int]().union(*(_inputs_read(v, view) for v in owner.operands))
    return frozenset()


def _slides_window(view: _Structured, body: _Body) -> bool:
    """Whether an input is read at a parallel loop plus a reduction loop (pooling, convolution)."""
    reduction = {d for d, t in enumerate(view.iterators) if t == IteratorType.REDUCTION}
    for index in body.inputs_read:
        for result in view.maps[index].results:
            dims = result.used_dims()
            if not isinstance(result, AffineDimExpr) and dims & reduction and dims - reduction:
                return True
    return False


def _parallel_pattern(view: _Structured, body: _Body) -> OpPattern:
    """Relay's pattern of a parallel op, from the maps of the operands it reads."""
    if body.uses_index:
        return OpPattern.INJECTIVE
    out_map, where = view.output_map, _describe(view.op)
    out_shape, _ = _shape_and_dtype(view.init, where)
    position = {r.position: p for p, r in enumerate(out_map.results) if isinstance(r, AffineDimExpr)}
    operands = (*view.inputs, view.init)
    pattern = OpPattern.ELEMWISE
    for index in body.inputs_read:
        map_, (shape, _) = view.maps[index], _shape_and_dtype(operands[index], where)
        if map_ == out_map and shape == out_shape:
            continue
        positions: list[int] = []
        for result, size in zip(map_.results, shape, strict=True):
            if isinstance(result, AffineConstantExpr) and result.value == 0 and size == 1:
                continue
            if not isinstance(result, AffineDimExpr) or size != out_shape[position[result.position]]:
                return OpPattern.INJECTIVE
            positions.append(position[result.position])
        if positions != sorted(set(positions)):
            return OpPattern.INJECTIVE
        pattern = OpPattern.BROADCAST
    return pattern


def _init_epilogue(
    view: _Structured,
    kind: ReductionKind,
    reduced: te.Tensor,
    operands: _Operands,
    name: str,
    dtype: str,
) -> list[te.Tensor]:
    """The stage that combines the reduction with the init operand, unless the init is the identity."""
    init = operands.importer.kind_of(view.init)
    if isinstance(init, _Uninitialized):
        raise FrontendError(
            f"{_describe(view.op)}: the reduction starts from %{view.init.name_hint or '?'}, an uninitialized "
            "tensor.empty (fill it with the reduction's identity)"
        )
    if isinstance(init, _Splat) and init.value == _identity(kind, dtype):
        return []
    combine = _ELEMENTWISE[kind]

    def epilogue(*axes: te.IterVar) -> te.Expr:
        return combine(_element(reduced, axes), operands.read(view.init, axes))

    return [te.compute(reduced.shape, epilogue, name=f"{name}_init")]


_ELEMENTWISE: dict[ReductionKind, Callable[[te.Expr, te.Expr], te.Expr]] = {
    ReductionKind.SUM: operator.add,
    ReductionKind.PROD: operator.mul,
    ReductionKind.MAX: te.max,
    ReductionKind.MIN: te.min,
}


def _identity(kind: ReductionKind, dtype: str) -> Scalar:
    attr = identity_value(kind, te.dtype_to_type(dtype))
    assert isinstance(attr, FloatAttr | IntegerAttr)
    return attr.value.data


# --- bodies --------------------------------------------------------------------------------------


class _Body:
    """Translates the scalar ops of a structured op's body into one te expression."""

    def __init__(self, view: _Structured, operands: _Operands, forbidden: SSAValue | None) -> None:
        self.view = view
        self.operands = operands
        self.forbidden = forbidden
        self.where = _describe(view.op)
        self.loops: list[te.Expr] = []
        self.memo: dict[SSAValue, te.Expr] = {}
        self.inputs_read: set[int] = set()
        self.uses_index = False

    def value(self, value: SSAValue) -> te.Expr:
        if value not in self.memo:
            self.memo[value] = self._translate(value)
        return self.memo[value]

    def _translate(self, value: SSAValue) -> te.Expr:
        owner = value.owner
        what = owner.name if isinstance(owner, Operation) else f"%{value.name_hint or '?'}"
        try:
            if isinstance(value, BlockArgument) and value.block is self.view.block:
                return self._read(value.index)
            if not isinstance(owner, Operation) or owner.parent_block() is not self.view.block:
                scalar = _scalar_constant(
                    value, f"{self.where}: %{value.name_hint or '?'}, used by the body,"
                )
                return te.const(scalar, te.type_to_dtype(value.type))
            return self._op(owner)
        except TEError as error:
            raise FrontendError(f"{self.where}: {what} in the body: {error}") from None

    def _read(self, index: int) -> te.Expr:
        arg = self.view.block.args[index]
        if arg is self.forbidden:
            raise FrontendError(
                f"{self.where}: the body uses the accumulator other than in the final combine"
            )
        operands = (*self.view.inputs, self.view.init)
        value, map_ = operands[index], self.view.maps[index]
        if not isinstance(value.type, ShapedType):
            scalar = _scalar_constant(value, f"{self.where}: scalar operand {index}")
            return te.const(scalar, te.type_to_dtype(value.type))
        self.inputs_read.add(index)
        return self.operands.read(value, [_index(r, self.loops, self.where) for r in map_.results])

    def _op(self, op: Operation) -> te.Expr:
        args = [self.value(v) for v in op.operands]
        result_type = op.results[0].type if op.results else None
        if type(op) in _BINARY:
            return _BINARY[type(op)](*args)
        if type(op) in _UNARY:
            return _UNARY[type(op)](*args)
        if type(op) in _CASTS or (type(op) in _BOOL_CASTS and args[0].dtype == "bool"):
            return te.cast(args[0], te.type_to_dtype(result_type))  # type: ignore[arg-type]
        match op:
            case arith.ConstantOp():
                return te.const(_constant_value(op), te.type_to_dtype(op.result.type))
            case IndexOp():
                self.uses_index = True
                return self.loops[op.dim.value.data]
            case arith.CmpfOp() | arith.CmpiOp():
                predicate = _PREDICATES.get(_predicate_name(op))
                if predicate is None:
                    raise FrontendError(
                        f"{self.where}: {op.name} predicate {_predicate_name(op)} is not supported"
                    )
                return predicate(args[0], args[1])
            case arith.SelectOp():
                return te.if_then_else(*args)
            case arith.XOrIOp() if args[0].dtype == "bool" and _is_true(op.operands[1]):
                return ~args[0]
            case arith.AndIOp() | arith.OrIOp() if args[0].dtype == "bool":
                return te.all(*args) if isinstance(op, arith.AndIOp) else te.any(*args)
            case math.FmaOp():
                return args[0] * args[1] + args[2]
            case _:
                raise FrontendError(f"{self.where}: {op.name} in the body is not supported")


_BINARY: dict[type[Operation], Callable[[te.Expr, te.Expr], te.Expr]] = {
    arith.AddfOp: operator.add,
    arith.AddiOp: operator.add,
    arith.SubfOp: operator.sub,
    arith.SubiOp: operator.sub,
    arith.MulfOp: operator.mul,
    arith.MuliOp: operator.mul,
    arith.DivfOp: lambda a, b: a / b,
    arith.FloorDivSIOp: lambda a, b: a // b,
    arith.MaximumfOp: te.max,
    arith.MaxnumfOp: te.max,
    arith.MaxSIOp: te.max,
    arith.MinimumfOp: te.min,
    arith.MinnumfOp: te.min,
    arith.MinSIOp: te.min,
    math.PowFOp: te.power,
}

_UNARY: dict[type[Operation], Callable[[te.Expr], te.Expr]] = {
    arith.NegfOp: operator.neg,
    math.ExpOp: te.exp,
    math.LogOp: te.log,
    math.SqrtOp: te.sqrt,
    math.RsqrtOp: te.rsqrt,
    math.TanhOp: te.tanh,
    math.ErfOp: te.erf,
    math.FloorOp: te.floor,
    math.CeilOp: te.ceil,
    math.AbsFOp: te.abs,
    math.AbsIOp: te.abs,
}

_CASTS = (
    arith.ExtFOp,
    arith.TruncFOp,
    arith.SIToFPOp,
    arith.FPToSIOp,
    arith.ExtSIOp,
    arith.TruncIOp,
    arith.IndexCastOp,
)
_BOOL_CASTS = (arith.ExtUIOp, arith.UIToFPOp)
"""Unsigned conversions, which te's casts carry out only from bool."""

_PREDICATES: dict[str, Callable[[te.Expr, te.Expr], te.Expr]] = {
    **dict.fromkeys(("olt", "slt"), operator.lt),
    **dict.fromkeys(("ole", "sle"), operator.le),
    **dict.fromkeys(("ogt", "sgt"), operator.gt),
    **dict.fromkeys(("oge", "sge"), operator.ge),
    **dict.fromkeys(("oeq", "eq"), operator.eq),
    **dict.fromkeys(("une", "ne"), operator.ne),
}


def _predicate_name(op: arith.CmpfOp | arith.CmpiOp) -> str:
    names = (
        arith.CMPF_COMPARISON_OPERATIONS if isinstance(op, arith.CmpfOp) else arith.CMPI_COMPARISON_OPERATIONS
    )
    return names[op.predicate.value.data]


def _is_true(value: SSAValue) -> bool:
    return isinstance(value.owner, arith.ConstantOp) and _constant_value(value.owner) is True


# --- small helpers -------------------------------------------------------------------------------


def _index(expr: AffineExpr, loops: Sequence[te.Expr], where: str) -> te.Expr | int:
    """An affine map result as a te index expression of the loops."""
    match expr:
        case AffineDimExpr(position=position):
            return loops[position]
        case AffineConstantExpr(value=value):
            return value
        case AffineBinaryOpExpr(kind=kind, lhs=lhs, rhs=rhs):
            a, b = _index(lhs, loops, where), _index(rhs, loops, where)
            match kind:
                case AffineBinaryOpKind.Add:
                    return a + b
                case AffineBinaryOpKind.Mul:
                    return a * b
                case AffineBinaryOpKind.FloorDiv:
                    return a // b
                case AffineBinaryOpKind.CeilDiv:
                    return -((-a) // b)
                case AffineBinaryOpKind.Mod:
                    return a % b
        case _:
            pass
    raise FrontendError(f"{where}: indexing expression {expr} is not supported")


def _unflatten(index: te.Expr, sizes: Sequence[int]) -> list[te.Expr | int]:
    """The row-major indices into `sizes` of a flat index (no modulo where the index cannot wrap)."""
    total = int(np.prod(sizes))
    indices: list[te.Expr | int] = []
    stride = total
    for size in sizes:
        stride //= size
        if size == 1:
            indices.append(0)
            continue
        quotient = index if stride == 1 else te.indexdiv(index, stride)
        indices.append(quotient if stride * size == total else te.indexmod(quotient, size))
    return indices


def _flatten(indices: Sequence[te.Expr], sizes: Sequence[int]) -> te.Expr | int:
    """The flat row-major index of `indices` into `sizes`."""
    flat: te.Expr | int = 0
    for index, size in zip(indices, sizes, strict=True):
        flat = index if isinstance(flat, int) and flat == 0 else flat * size + index
    return flat


def _shape_and_dtype(value: SSAValue, where: str) -> tuple[tuple[int, ...], str]:
    return static_tensor(value.type, where, FrontendError)


def _scalar_constant(value: SSAValue, what: str) -> Scalar:
    if isinstance(value.owner, arith.ConstantOp) and not isinstance(value.type, ShapedType):
        return _constant_value(value.owner)
    raise FrontendError(f"{what} must be a scalar arith.constant")


def _element(tensor_: te.Tensor, indices: Sequence[te.Expr | int]) -> te.Expr:
    """The element of `tensor_` at `indices` (all of them: a read, not a slice)."""
    read = tensor_[tuple(indices)]
    assert isinstance(read, te.TensorRead)
    return read


def _as_dtype(value: Scalar, dtype: str) -> Scalar:
    """`value` converted as linalg.fill converts its value to the element type."""
    if dtype == "bool":
        return bool(value)
    return float(value) if dtype.startswith("float") else int(value)


def _constant_value(op: arith.ConstantOp) -> Scalar:
    attr = op.value
    if isinstance(attr, FloatAttr):
        return float(attr.value.data)
    assert isinstance(attr, IntegerAttr)
    return bool(attr.value.data) if op.result.type == builtin.i1 else int(attr.value.data)


def _dense_array(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    element: Attribute = attr.get_element_type()
    raw = np.frombuffer(attr.data.data, dtype=np.dtype(element.format))  # type: ignore[attr-defined]
    raw = np.full(attr.get_shape(), raw[0]) if raw.size == 1 else raw.reshape(attr.get_shape())
    return raw != 0 if element == builtin.i1 else raw


def _op_name(op: Operation) -> str:
    """The name of the operator and stage an op becomes: its result's SSA name, else its own."""
    hint = op.results[0].name_hint if op.results else None
    return hint or op.name.split(".", 1)[1]


def _describe(op: Operation) -> str:
    hint = op.results[0].name_hint if op.results else None
    return f"{op.name} %{hint}" if hint else op.name
