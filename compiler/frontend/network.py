"""The network module: operator functions in te form, called by one graph function.

Every front end produces this form and everything downstream (fusion, task
extraction, `compile_model`) consumes it, so a network is plain xDSL IR that
prints, parses and passes through `sched-opt` like any other module:

```mlir
func.func @dense(%x: tensor<4x8xf32> {te.name = "x"}, %w: tensor<8x16xf32> {te.name = "w"})
    -> tensor<4x16xf32> attributes {te.op_pattern = "out_elemwise_fusable"} { te.compute ... }
func.func @relu(%a: tensor<4x16xf32> {te.name = "a"}) -> tensor<4x16xf32>
    attributes {te.op_pattern = "elemwise"} { te.compute ... }
func.func @main(%data: tensor<4x8xf32> {te.name = "data"},
                %w: tensor<8x16xf32> {te.name = "w", te.param}) -> tensor<4x16xf32>
    attributes {te.graph} {
  %0 = func.call @dense(%data, %w) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = func.call @relu(%0) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  func.return %1 : tensor<4x16xf32>
}
```

- operator functions: as `schedopt.te.build_te_function` builds them, plus the
  attribute `te.op_pattern` (an `OpPattern`), which drives fusion;
- the graph function (unit attribute `te.graph`): arguments are the network
  inputs, then the parameters (arg attribute `te.param`), each named by
  `te.name`; the body only calls operator functions and returns the outputs;
- parameter values live outside the IR, in `Network.params`, keyed by `te.name`.
"""

from __future__ import annotations

import enum
import itertools
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from xdsl.builder import Builder
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, StringAttr, TensorType, UnitAttr
from xdsl.ir import Attribute, SSAValue
from xdsl.parser import Parser
from xdsl.rewriter import InsertPoint
from xdsl.utils.exceptions import ParseError, VerifyException
from xdsl.utils.hints import isa

import schedopt.te as te
from schedopt.dialects import te as te_dialect
from schedopt.errors import NetworkError, TEError
from schedopt.ir_context import te_context
from schedopt.unique_names import unique_name

GRAPH_ATTR = "te.graph"
"""Unit attribute that marks the graph function of a network module."""

OP_PATTERN_ATTR = "te.op_pattern"
"""String attribute of an operator function: its `OpPattern`."""

PARAM_ATTR = "te.param"
"""Unit argument attribute of the graph function that marks a parameter (weights, constants)."""

NAME_ATTR = te_dialect.PLACEHOLDER_NAME_ATTR
"""Argument attribute naming a tensor: a placeholder of an operator function, an argument of the graph."""


class OpPattern(enum.StrEnum):
    """How an operator's outputs depend on its inputs (Relay's TOpPattern), the most fusable first."""

    ELEMWISE = "elemwise"
    BROADCAST = "broadcast"
    INJECTIVE = "injective"
    COMM_REDUCE = "comm_reduce"
    OUT_ELEMWISE_FUSABLE = "out_elemwise_fusable"
    OPAQUE = "opaque"

    @property
    def rank(self) -> int:
        """The position in Relay's order; compare ranks, not the strings (they sort alphabetically)."""
        return _PATTERN_RANKS[self]


_PATTERN_RANKS = {pattern: rank for rank, pattern in enumerate(OpPattern)}
_PATTERN_NAMES = ", ".join(p.value for p in OpPattern)

_value_ids = itertools.count()


@dataclass(frozen=True)
class GraphValue:
    """A tensor of the graph a `NetworkBuilder` is building: an input, a parameter or an operator's output."""

    shape: tuple[int, ...]
    dtype: str
    uid: int = field(default_factory=lambda: next(_value_ids), repr=False)


@dataclass(frozen=True)
class NetworkInput:
    """An argument of the graph function: a network input or a parameter."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    value: SSAValue = field(repr=False, compare=False)


@dataclass(frozen=True)
class NetworkCall:
    """One `func.call` of the graph function, with its operator function and what it reads and writes."""

    op: func.CallOp = field(repr=False, compare=False)
    callee: func.FuncOp = field(repr=False, compare=False)
    pattern: OpPattern
    args: tuple[SSAValue, ...] = field(repr=False, compare=False)
    results: tuple[SSAValue, ...] = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        """The operator function's symbol name."""
        return self.callee.sym_name.data

    def __repr__(self) -> str:
        return f"NetworkCall(@{self.name}, {self.pattern.value})"


def shape_and_dtype(value: SSAValue) -> tuple[tuple[int, ...], str]:
    """The static shape and te dtype of a tensor value of a network."""
    return static_tensor(value.type, f"value %{value.name_hint or '?'}")


def static_tensor(
    tensor_type: Attribute, where: str, error: type[NetworkError] = NetworkError
) -> tuple[tuple[int, ...], str]:
    """The static shape and te dtype of `tensor_type`, or `error` naming `where` if it has none."""
    if not isa(tensor_type, TensorType[Attribute]):
        raise error(f"{where}: {tensor_type} is not a tensor (networks compute on tensors)")
    shape = tuple(tensor_type.get_shape())
    if any(d < 0 for d in shape):
        raise error(f"{where}: {tensor_type} has a dynamic shape (networks have static shapes)")
    try:
        return shape, te.type_to_dtype(tensor_type.element_type)
    except TEError as failure:
        raise error(f"{where}: {tensor_type}: {failure}") from None


class NetworkBuilder:
    """Builds a network module from te operators, the way a front end walks a model.

    ```python
    b = NetworkBuilder()
    x = b.input("x", (4, 8))
    w = b.param("w", weights)
    (y,) = b.call(dense_tensors(4, 8, 16), [x, w], name="dense", pattern=OpPattern.OUT_ELEMWISE_FUSABLE)
    network = b.build([y])
    ```
    """

    def __init__(self, name: str = "main") -> None:
        self.name = name
        self._arguments: list[tuple[str, GraphValue, bool]] = []
        self._params: dict[str, np.ndarray] = {}
        self._functions: list[func.FuncOp] = []
        self._calls: list[tuple[str, list[GraphValue], list[GraphValue]]] = []
        self._symbols = {name}
        self._known: set[int] = set()

    def input(self, name: str, shape: Sequence[int], dtype: str = "float32") -> GraphValue:
        """A network input (an argument of the graph function, before the parameters)."""
        value = self._new_value(shape, dtype, f"input {name!r}")
        self._add_argument(name, value, is_param=False)
        return value

    def param(self, name: str, value: np.ndarray) -> GraphValue:
        """A parameter with its value (weights, constants): kept in `Network.params`, not in the IR."""
        array = np.asarray(value)
        graph_value = self._new_value(array.shape, str(array.dtype), f"parameter {name!r}")
        self._add_argument(name, graph_value, is_param=True)
        self._params[name] = array
        return graph_value

    def call(
        self, tensors: Sequence[te.Tensor], args: Sequence[GraphValue], *, name: str, pattern: OpPattern
    ) -> list[GraphValue]:
        """Call an operator declared in te on `args`; one GraphValue per output.

        `tensors` is what `build_te_function` takes: the placeholders, bound to
        `args` in order, and the outputs. The operator function is named
        `name`, or `name_1`, ... when that is taken.
        """
        try:
            pattern = OpPattern(pattern)
        except ValueError:
            raise NetworkError(
                f"operator {name}: unknown pattern {pattern!r} (one of {_PATTERN_NAMES})"
            ) from None
        placeholders = [t for t in tensors if isinstance(t.op, te.PlaceholderDecl)]
        if len(placeholders) != len(args):
            raise NetworkError(
                f"operator {name}: {len(args)} arguments for {len(placeholders)} placeholders "
                f"({', '.join(t.name for t in placeholders) or 'none'})"
            )
        for index, (tensor, arg) in enumerate(zip(placeholders, args, strict=True)):
            if arg.uid not in self._known:
                raise NetworkError(
                    f"operator {name}: argument {index} is not a value of this network builder"
                )
            if (arg.shape, arg.dtype) != (tensor.shape, tensor.dtype):
                raise NetworkError(
                    f"operator {name}: argument {index} is {arg.dtype}{list(arg.shape)}, placeholder "
                    f"{tensor.name} is {tensor.dtype}{list(tensor.shape)}"
                )
        symbol = unique_name(name, self._symbols)
        function = te.build_te_function(tensors, symbol)
        function.attributes[OP_PATTERN_ATTR] = StringAttr(pattern.value)
        results = [
            self._new_value(*shape_and_dtype(result), f"output of operator {name}")
            for result in function.body.block.last_op.operands  # type: ignore[union-attr]
        ]
        self._functions.append(function)
        self._calls.append((symbol, list(args), results))
        return results

    def build(self, outputs: Sequence[GraphValue]) -> Network:
        """The network computing `outputs` (in this order), checked against the convention."""
        for index, value in enumerate(outputs):
            if value.uid not in self._known:
                raise NetworkError(f"network output {index} is not a value of this network builder")
        arguments = [a for a in self._arguments if not a[2]] + [a for a in self._arguments if a[2]]
        graph = func.FuncOp(
            self.name,
            ([_tensor_type(v) for _, v, _ in arguments], [_tensor_type(v) for v in outputs]),
            arg_attrs=ArrayAttr(_argument_attrs(name, is_param) for name, _, is_param in arguments),
        )
        graph.attributes[GRAPH_ATTR] = UnitAttr()
        values: dict[int, SSAValue] = {}
        for (name, value, _), arg in zip(arguments, graph.body.block.args, strict=True):
            arg.name_hint = ssa_name(name)
            values[value.uid] = arg
        builder = Builder(InsertPoint.at_end(graph.body.block))
        for symbol, args, results in self._calls:
            call = builder.insert(
                func.CallOp(symbol, [values[a.uid] for a in args], [_tensor_type(r) for r in results])
            )
            values.update((r.uid, v) for r, v in zip(results, call.results, strict=True))
        builder.insert(func.ReturnOp(*(values[v.uid] for v in outputs)))
        module = ModuleOp([*(f.clone() for f in self._functions), graph])
        return Network(module, dict(self._params))

    def _new_value(self, shape: Sequence[int], dtype: str, what: str) -> GraphValue:
        dims = tuple(shape)
        # Checked whatever the annotations say: numpy integers (numbers.Integral) pass, floats do not.
        sizes = tuple(int(d) for d in dims if isinstance(d, numbers.Integral) and d > 0)
        if len(sizes) != len(dims):
            raise NetworkError(f"{what}: shape {list(dims)} must be positive integers (static shapes only)")
        try:
            te.dtype_to_type(dtype)
        except TEError as error:
            raise NetworkError(f"{what}: {error}") from None
        value = GraphValue(sizes, dtype)
        self._known.add(value.uid)
        return value

    def _add_argument(self, name: str, value: GraphValue, is_param: bool) -> None:
        if any(name == other for other, _, _ in self._arguments):
            raise NetworkError(f"the network already has an input or parameter named {name!r}")
        self._arguments.append((name, value, is_param))


@dataclass(eq=False)
class Network:
    """A network module and its parameter values; constructing one checks the convention.

    The views (`graph`, `inputs`, `calls`, ...) read the module each time, so
    they stay right while a pass rewrites it.
    """

    module: ModuleOp
    params: dict[str, np.ndarray] = field(default_factory=dict[str, np.ndarray])

    def __post_init__(self) -> None:
        self.params = {name: np.asarray(value) for name, value in self.params.items()}
        _check_network(self.module, self.params)

    @classmethod
    def from_module(cls, module: ModuleOp | str, params: Mapping[str, np.ndarray] | None = None) -> Network:
        """The network of `module` (a module or its text); NetworkError says what breaks the convention."""
        if isinstance(module, str):
            try:
                module = Parser(te_context(), module).parse_module()
            except ParseError as error:
                raise NetworkError(f"cannot parse the network module:\n{error}") from None
        return cls(module, dict(params or {}))

    @property
    def graph(self) -> func.FuncOp:
        """The graph function (marked `te.graph`)."""
        return _graph_function(self.module)

    @property
    def inputs(self) -> list[NetworkInput]:
        """The network inputs, in order (the graph arguments that are not parameters)."""
        return [a for a, is_param in _graph_arguments(self.graph) if not is_param]

    @property
    def parameters(self) -> list[NetworkInput]:
        """The parameters, in order; their values are `params[p.name]`."""
        return [a for a, is_param in _graph_arguments(self.graph) if is_param]

    @property
    def calls(self) -> list[NetworkCall]:
        """The operator calls, in program order."""
        functions = _functions(self.module)
        return [
            NetworkCall(
                op,
                functions[op.callee.root_reference.data],
                _pattern(functions[op.callee.root_reference.data]),
                tuple(op.arguments),
                tuple(op.results),
            )
            for op in self.graph.body.block.ops
            if isinstance(op, func.CallOp)
        ]

    @property
    def outputs(self) -> tuple[SSAValue, ...]:
        """The network outputs: the values the graph function returns, in order."""
        ret = self.graph.body.block.last_op
        assert isinstance(ret, func.ReturnOp)
        return tuple(ret.arguments)

    @property
    def operator_functions(self) -> list[func.FuncOp]:
        """The operator functions of the module (those with a `te.op_pattern`), in module order."""
        return [f for f in _functions(self.module).values() if OP_PATTERN_ATTR in f.attributes]

    def operator_function(self, name: str) -> func.FuncOp:
        """The operator function `@name`."""
        function = _functions(self.module).get(name)
        if function is None or OP_PATTERN_ATTR not in function.attributes:
            raise NetworkError(f"the network has no operator function @{name}")
        return function


# --- checking the convention -------------------------------------------------------------------


def _check_network(module: ModuleOp, params: Mapping[str, np.ndarray]) -> None:
    graph = _graph_function(module)
    where = f"graph function @{graph.sym_name.data}"
    arguments = _graph_arguments(graph)
    seen_param = None
    for argument, is_param in arguments:
        if is_param:
            seen_param = argument.name
        elif seen_param is not None:
            raise NetworkError(
                f"{where}: input {argument.name} follows parameter {seen_param} (inputs come first)"
            )
    functions = _functions(module)
    checked: set[str] = set()
    block = graph.body.block
    for index, op in enumerate(block.ops):
        if isinstance(op, func.ReturnOp) and op is block.last_op:
            continue
        if not isinstance(op, func.CallOp):
            raise NetworkError(
                f"{where}: {op.name} is not a func.call (the graph function only calls operator "
                "functions and returns)"
            )
        callee_name = op.callee.root_reference.data
        callee = functions.get(callee_name)
        if callee is None or callee is graph or op.callee.nested_references.data:
            raise NetworkError(
                f"{where}: call {index} calls @{op.callee.string_value()}, not an operator function of the module"
            )
        if callee_name not in checked:
            _check_operator_function(callee)
            checked.add(callee_name)
        _check_call_types(op, callee, f"{where}, call {index} of @{callee_name}")
    if not isinstance(block.last_op, func.ReturnOp):
        raise NetworkError(f"{where} does not end with func.return")
    _check_params(graph, arguments, params)
    try:
        module.verify()
    except VerifyException as error:
        raise NetworkError(f"the network module does not verify: {error}") from None


def _graph_function(module: ModuleOp) -> func.FuncOp:
    graphs = [op for op in module.ops if isinstance(op, func.FuncOp) and GRAPH_ATTR in op.attributes]
    if len(graphs) != 1:
        found = ", ".join("@" + g.sym_name.data for g in graphs) or "none"
        raise NetworkError(
            f"a network module has exactly one graph function (marked {GRAPH_ATTR}), found {found}"
        )
    graph = graphs[0]
    if not graph.body.blocks:
        raise NetworkError(f"graph function @{graph.sym_name.data} has no body")
    if len(graph.body.blocks) != 1:
        raise NetworkError(f"graph function @{graph.sym_name.data} has more than one block")
    return graph


def _graph_arguments(graph: func.FuncOp) -> list[tuple[NetworkInput, bool]]:
    """Each graph argument as a NetworkInput, and whether it is a parameter."""
    where = f"graph function @{graph.sym_name.data}"
    attrs = graph.arg_attrs.data if graph.arg_attrs is not None else ()
    arguments: list[tuple[NetworkInput, bool]] = []
    names: set[str] = set()
    for index, arg in enumerate(graph.body.block.args):
        arg_attrs: Mapping[str, Attribute] = attrs[index].data if index < len(attrs) else {}
        name = arg_attrs.get(NAME_ATTR)
        if not isinstance(name, StringAttr):
            raise NetworkError(f"{where}: argument {index} has no {NAME_ATTR} string attribute")
        if name.data in names:
            raise NetworkError(f"{where}: two arguments are named {name.data!r}")
        names.add(name.data)
        is_param = PARAM_ATTR in arg_attrs
        if is_param and not isinstance(arg_attrs[PARAM_ATTR], UnitAttr):
            raise NetworkError(f"{where}: argument {name.data}: {PARAM_ATTR} is a unit attribute")
        try:
            shape, dtype = shape_and_dtype(arg)
        except NetworkError as error:
            raise NetworkError(f"{where}: argument {name.data}: {error}") from None
        arguments.append((NetworkInput(name.data, shape, dtype, arg), is_param))
    return arguments


def _functions(module: ModuleOp) -> dict[str, func.FuncOp]:
    return {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}


def _pattern(function: func.FuncOp) -> OpPattern:
    attr = function.attributes.get(OP_PATTERN_ATTR)
    if not isinstance(attr, StringAttr) or attr.data not in _PATTERN_RANKS:
        raise NetworkError(
            f"operator function @{function.sym_name.data} needs a string attribute {OP_PATTERN_ATTR}, "
            f"one of {_PATTERN_NAMES}"
        )
    return OpPattern(attr.data)


def _check_operator_function(function: func.FuncOp) -> None:
    """A function in te form, as `build_te_function` builds it, with a pattern."""
    where = f"operator function @{function.sym_name.data}"
    _pattern(function)
    if len(function.body.blocks) != 1:
        raise NetworkError(f"{where} has no body (or more than one block)")
    attrs = function.arg_attrs.data if function.arg_attrs is not None else ()
    for index, arg in enumerate(function.body.block.args):
        if index >= len(attrs) or not isinstance(attrs[index].data.get(NAME_ATTR), StringAttr):
            raise NetworkError(f"{where}: argument {index} has no {NAME_ATTR} string attribute")
        shape_and_dtype(arg)
    for op in function.body.block.ops:
        if not isinstance(op, te_dialect.ComputeOp | func.ReturnOp):
            raise NetworkError(f"{where}: {op.name} is not a te.compute (an operator function is in te form)")
    if not isinstance(function.body.block.last_op, func.ReturnOp):
        raise NetworkError(f"{where} does not end with func.return")


def _check_call_types(call: func.CallOp, callee: func.FuncOp, where: str) -> None:
    inputs, outputs = callee.function_type.inputs.data, callee.function_type.outputs.data
    if len(call.arguments) != len(inputs) or len(call.results) != len(outputs):
        raise NetworkError(
            f"{where}: {len(call.arguments)} arguments and {len(call.results)} results, the function "
            f"takes {len(inputs)} and returns {len(outputs)}"
        )
    for index, (arg, expected) in enumerate(zip(call.arguments, inputs, strict=True)):
        if arg.type != expected:
            raise NetworkError(f"{where}: argument {index} is {arg.type}, the function expects {expected}")
    for index, (result, expected) in enumerate(zip(call.results, outputs, strict=True)):
        if result.type != expected:
            raise NetworkError(f"{where}: result {index} is {result.type}, the function returns {expected}")


def _check_params(
    graph: func.FuncOp, arguments: list[tuple[NetworkInput, bool]], params: Mapping[str, np.ndarray]
) -> None:
    declared = {a.name: a for a, is_param in arguments if is_param}
    for name, value in params.items():
        argument = declared.get(name)
        if argument is None:
            raise NetworkError(
                f"parameter value {name!r} names no {PARAM_ATTR} argument of graph function "
                f"@{graph.sym_name.data}"
            )
        if tuple(value.shape) != argument.shape or np.dtype(value.dtype) != np.dtype(argument.dtype):
            raise NetworkError(
                f"parameter {name}: the value is {value.dtype}{list(value.shape)}, the graph expects "
                f"{argument.dtype}{list(argument.shape)}"
            )


# --- building ------------------------------------------------------------------------------------


def _tensor_type(value: GraphValue) -> TensorType:
    return TensorType(te.dtype_to_type(value.dtype), value.shape)


def _argument_attrs(name: str, is_param: bool) -> DictionaryAttr:
    attrs: dict[str, Attribute] = {NAME_ATTR: StringAttr(name)}
    if is_param:
        attrs[PARAM_ATTR] = UnitAttr()
    return DictionaryAttr(attrs)


def ssa_name(name: str) -> str | None:
    """An SSA name hint for the tensor called `name` (None where none fits): readable printed IR."""
    clean = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return clean if clean and not clean[0].isdigit() else None
