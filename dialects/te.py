"""The `te` dialect: tensor-expression compute declarations.

A workload is a `func.func` whose arguments are the placeholders (each named by
a `te.name` argument attribute) and whose body is a chain of `te.compute` ops,
one per stage, returning the output tensors. This is the IR the te DSL builds,
the auto-scheduler analyses, and the lowering passes turn into loop nests.

```mlir
func.func @matmul(%A: tensor<64x32xf32> {te.name = "A"},
                  %B: tensor<32x16xf32> {te.name = "B"}) -> tensor<64x16xf32> {
  %C = te.compute "C" spatial(i: 64, j: 16) reduce<sum>(k: 32)
         ins(%A, %B : tensor<64x32xf32>, tensor<32x16xf32>) -> tensor<64x16xf32> {
  ^bb0(%i: index, %j: index, %k: index):
    %a = te.read %A[%i, %k] : tensor<64x32xf32>
    %b = te.read %B[%k, %j] : tensor<32x16xf32>
    %p = arith.mulf %a, %b : f32
    te.yield %p : f32
  }
  func.return %C : tensor<64x16xf32>
}
```
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    ArrayAttr,
    FloatAttr,
    IndexType,
    IntAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
)
from xdsl.dialects.func import FuncOp
from xdsl.dialects.utils import AbstractYieldOperation
from xdsl.dialects.utils.enum_attribute import EnumAttribute
from xdsl.ir import (
    Attribute,
    Block,
    BlockArgument,
    Dialect,
    Operation,
    OpResult,
    Region,
    SpacedOpaqueSyntaxAttribute,
    SSAValue,
)
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.traits import (
    HasParent,
    IsTerminator,
    NoMemoryEffect,
    Pure,
    RecursiveMemoryEffect,
)
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

PLACEHOLDER_NAME_ATTR = "te.name"
"""The argument attribute of a workload function that names its placeholder."""


class ReductionKind(StrEnum):
    """How a `te.compute` with reduce iterators combines its body's values."""

    SUM = "sum"
    MAX = "max"
    MIN = "min"
    PROD = "prod"


@irdl_attr_definition
class ReductionKindAttr(EnumAttribute[ReductionKind], SpacedOpaqueSyntaxAttribute):
    """The reduction of a `te.compute`: `#te<reduction sum>`."""

    name = "te.reduction"


def identity_value(kind: ReductionKind, element_type: Attribute) -> Attribute:
    """The value a reduction of `kind` starts from."""
    is_float = not isinstance(element_type, IntegerType)
    if kind in (ReductionKind.SUM, ReductionKind.PROD):
        unit = 0 if kind == ReductionKind.SUM else 1
        return FloatAttr(float(unit), element_type) if is_float else IntegerAttr(unit, element_type)  # type: ignore[arg-type]
    lowest = kind == ReductionKind.MAX
    if is_float:
        return FloatAttr(float("-inf") if lowest else float("inf"), element_type)  # type: ignore[arg-type]
    assert isinstance(element_type, IntegerType)
    bits = element_type.width.data
    return IntegerAttr(-(2 ** (bits - 1)) if lowest else 2 ** (bits - 1) - 1, element_type)


def tensor_name(value: SSAValue) -> str:
    """The user-facing name of a tensor value: its stage or placeholder name."""
    if isinstance(value, OpResult) and isinstance(value.op, ComputeOp):
        return value.op.compute_name.data
    if isinstance(value, BlockArgument) and isinstance(value.block.parent_op(), FuncOp):
        func = value.block.parent_op()
        assert isinstance(func, FuncOp)
        if func.arg_attrs is not None:
            attrs = func.arg_attrs.data[value.index].data
            name = attrs.get(PLACEHOLDER_NAME_ATTR)
            if isinstance(name, StringAttr):
                return name.data
    return value.name_hint or "<unnamed>"


@irdl_op_definition
class ComputeOp(IRDLOperation):
    """One stage of a tensor computation: `out[spatial] = reduce(body(spatial, reduce))`.

    The iterators are the region's block arguments, spatial ones first (one per
    result dimension), then the reduce ones. The body reads its `ins` with
    `te.read`, computes with `arith`/`math`/`scf.if`, and returns the element
    (or, with a reduction, the value to combine) with `te.yield`. A reduction
    starts from the identity of its kind (0 for sum, 1 for prod, the lowest and
    highest value of the element type for max and min).

    Syntax:
    `te.compute "NAME" spatial(i: 64, ...) [reduce<KIND>(k: 32, ...)]
       ins(%A, ... : types) -> tensor<...> [attributes {...}] { ^bb0(...): ... }`
    """

    name = "te.compute"

    compute_name = prop_def(StringAttr, prop_name="name")
    iter_names = prop_def(ArrayAttr[StringAttr])
    reduce_extents = prop_def(ArrayAttr[IntAttr])
    reduction = opt_prop_def(ReductionKindAttr)

    ins = var_operand_def(TensorType)
    result = result_def(TensorType)
    body = region_def("single_block")

    traits = traits_def(RecursiveMemoryEffect())

    def __init__(
        self,
        compute_name: str,
        inputs: Sequence[SSAValue],
        result_type: TensorType,
        iter_names: Sequence[str],
        reduce_extents: Sequence[int],
        reduction: ReductionKind | None,
        body: Region,
        attributes: dict[str, Attribute] | None = None,
    ):
        super().__init__(
            operands=[inputs],
            result_types=[result_type],
            regions=[body],
            properties={
                "name": StringAttr(compute_name),
                "iter_names": ArrayAttr(StringAttr(n) for n in iter_names),
                "reduce_extents": ArrayAttr(IntAttr(e) for e in reduce_extents),
                "reduction": None if reduction is None else ReductionKindAttr(reduction),
            },
            attributes=attributes,
        )

    # --- views -------------------------------------------------------------

    @property
    def name_str(self) -> str:
        return self.compute_name.data

    @property
    def result_type(self) -> TensorType:
        assert isinstance(self.result.type, TensorType)
        return self.result.type

    @property
    def element_type(self) -> Attribute:
        return self.result_type.element_type

    @property
    def spatial_extents(self) -> tuple[int, ...]:
        return tuple(self.result_type.get_shape())

    @property
    def reduce_extent_values(self) -> tuple[int, ...]:
        return tuple(e.data for e in self.reduce_extents)

    @property
    def spatial_names(self) -> tuple[str, ...]:
        return tuple(n.data for n in self.iter_names)[: len(self.spatial_extents)]

    @property
    def reduce_names(self) -> tuple[str, ...]:
        return tuple(n.data for n in self.iter_names)[len(self.spatial_extents) :]

    @property
    def reduction_kind(self) -> ReductionKind | None:
        return None if self.reduction is None else self.reduction.data

    @property
    def iter_args(self) -> tuple[BlockArgument, ...]:
        return tuple(self.body.block.args)

    @property
    def spatial_args(self) -> tuple[BlockArgument, ...]:
        return self.iter_args[: len(self.spatial_extents)]

    @property
    def reduce_args(self) -> tuple[BlockArgument, ...]:
        return self.iter_args[len(self.spatial_extents) :]

    @property
    def yield_op(self) -> YieldOp:
        last = self.body.block.last_op
        assert isinstance(last, YieldOp)
        return last

    # --- verification ------------------------------------------------------

    def verify_(self) -> None:
        where = f'te.compute "{self.name_str}"'
        shape = self.result_type.get_shape()
        if any(d < 0 for d in shape):
            raise VerifyException(f"{where}: result shape {list(shape)} must be static")
        if any(d <= 0 for d in (*shape, *self.reduce_extent_values)):
            raise VerifyException(f"{where}: every iterator extent must be positive")
        names = [n.data for n in self.iter_names]
        expected = len(shape) + len(self.reduce_extents)
        if len(names) != expected:
            raise VerifyException(
                f"{where}: {len(names)} iterator names for {len(shape)} spatial and "
                f"{len(self.reduce_extents)} reduce iterators"
            )
        if len(set(names)) != len(names) or not all(names):
            raise VerifyException(f"{where}: iterator names {names} must be distinct and non-empty")
        if self.reduce_extents.data and self.reduction is None:
            raise VerifyException(
                f"{where}: reduce axes {list(self.reduce_names)} are used outside a "
                "reduction (give a reduction kind: sum, max, min or prod)"
            )
        if self.reduction is not None and not self.reduce_extents.data:
            raise VerifyException(f"{where}: reduction {self.reduction.data} needs at least one reduce axis")
        block = self.body.block
        if len(block.args) != expected or any(not isinstance(a.type, IndexType) for a in block.args):
            raise VerifyException(f"{where}: the body must take {expected} index arguments, one per iterator")
        last = block.last_op
        if not isinstance(last, YieldOp):
            raise VerifyException(f"{where}: the body must end with te.yield")
        if last.value.type != self.element_type:
            raise VerifyException(
                f"{where}: te.yield type {last.value.type} does not match the element "
                f"type {self.element_type} of the result"
            )
        self._verify_captures()

    def _verify_captures(self) -> None:
        """The body may use values from outside only as the tensor of a te.read."""
        for op in self.body.walk():
            for operand in op.operands:
                if _defined_inside(operand, self):
                    continue
                if isinstance(op, ReadOp) and operand is op.tensor:
                    continue  # te.read checks that it reads an input
                raise VerifyException(
                    f'te.compute "{self.name_str}": {op.name} uses '
                    f"%{tensor_name(operand)}, defined outside the compute; the body may "
                    "only read inputs through te.read"
                )

    # --- custom syntax -----------------------------------------------------

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.name_str)
        spatial = zip(self.spatial_names, self.spatial_extents, strict=True)
        printer.print_string(" spatial(")
        printer.print_list(spatial, lambda p: _print_iter(printer, *p))
        printer.print_string(")")
        if self.reduction is not None:
            printer.print_string(f" reduce<{self.reduction.data.value}>(")
            reduce = zip(self.reduce_names, self.reduce_extent_values, strict=True)
            printer.print_list(reduce, lambda p: _print_iter(printer, *p))
            printer.print_string(")")
        printer.print_string(" ins(")
        printer.print_list(self.ins, printer.print_ssa_value)
        if self.ins:
            printer.print_string(" : ")
            printer.print_list((v.type for v in self.ins), printer.print_attribute)
        printer.print_string(") -> ")
        printer.print_attribute(self.result.type)
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        for arg, name in zip(self.iter_args, (n.data for n in self.iter_names), strict=True):
            if arg.name_hint is None and name.isidentifier():
                arg.name_hint = name
        printer.print_region(self.body, print_entry_block_args=True)

    @classmethod
    def parse(cls, parser: Parser) -> ComputeOp:
        compute_name = parser.parse_str_literal("te.compute name")
        parser.parse_keyword("spatial")
        spatial = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, lambda: _parse_iter(parser))
        reduction: ReductionKind | None = None
        reduce: list[tuple[str, int]] = []
        if parser.parse_optional_keyword("reduce"):
            parser.parse_punctuation("<")
            reduction = parser.parse_str_enum(ReductionKind)
            parser.parse_punctuation(">")
            reduce = parser.parse_comma_separated_list(Parser.Delimiter.PAREN, lambda: _parse_iter(parser))
        parser.parse_keyword("ins")
        parser.parse_punctuation("(")
        operands: list[UnresolvedOperand] = []
        types: list[Attribute] = []
        if not parser.parse_optional_punctuation(")"):
            pos = parser.pos
            operands = parser.parse_comma_separated_list(
                Parser.Delimiter.NONE, parser.parse_unresolved_operand
            )
            parser.parse_punctuation(":")
            types = parser.parse_comma_separated_list(Parser.Delimiter.NONE, parser.parse_type)
            parser.parse_punctuation(")")
            inputs = parser.resolve_operands(operands, types, pos)
        else:
            inputs = []
        parser.parse_punctuation("->")
        result_type = parser.parse_type()
        attributes = parser.parse_optional_attr_dict_with_keyword()
        body = parser.parse_region()
        if not isinstance(result_type, TensorType):
            parser.raise_error(f"te.compute result must be a tensor, got {result_type}")
        spatial_names = [name for name, _ in spatial]
        if [e for _, e in spatial] != list(result_type.get_shape()):
            parser.raise_error(
                f'te.compute "{compute_name}": spatial extents {[e for _, e in spatial]} '
                f"do not match the result shape {list(result_type.get_shape())}"
            )
        return cls(
            compute_name,
            inputs,
            result_type,
            [*spatial_names, *(name for name, _ in reduce)],
            [e for _, e in reduce],
            reduction,
            body,
            attributes=None if attributes is None else dict(attributes.data),
        )


def _defined_inside(value: SSAValue, op: Operation) -> bool:
    owner = value.owner
    owner_op = owner.parent_op() if isinstance(owner, Block) else owner
    while owner_op is not None:
        if owner_op is op:
            return True
        owner_op = owner_op.parent_op()
    return False


def _print_iter(printer: Printer, name: str, extent: int) -> None:
    printer.print_identifier_or_string_literal(name)
    printer.print_string(f": {extent}")


def _parse_iter(parser: Parser) -> tuple[str, int]:
    name = parser.parse_identifier_or_str_literal("iterator name")
    parser.parse_punctuation(":")
    return name, parser.parse_integer(allow_boolean=False, allow_negative=False)


@irdl_op_definition
class ReadOp(IRDLOperation):
    """Reads one element of an input of the enclosing `te.compute`.

    Syntax: `%v = te.read %A[%i, %k] : tensor<64x32xf32>`; the result has the
    tensor's element type. Indices are `index` values: iterators, or `arith`
    expressions of them (strides, padding offsets, dilation).
    """

    name = "te.read"

    tensor = operand_def(TensorType)
    indices = var_operand_def(IndexType)
    result = result_def()

    traits = traits_def(NoMemoryEffect())

    def __init__(self, tensor: SSAValue, indices: Sequence[SSAValue]):
        assert isinstance(tensor.type, TensorType)
        super().__init__(operands=[tensor, indices], result_types=[tensor.type.element_type])

    def verify_(self) -> None:
        tensor_type = self.tensor.type
        assert isinstance(tensor_type, TensorType)
        name = tensor_name(self.tensor)
        if len(self.indices) != tensor_type.get_num_dims():
            raise VerifyException(
                f"te.read of {name}: {len(self.indices)} indices for a tensor of rank "
                f"{tensor_type.get_num_dims()}"
            )
        if self.result.type != tensor_type.element_type:
            raise VerifyException(
                f"te.read of {name}: result type {self.result.type} is not the element "
                f"type {tensor_type.element_type}"
            )
        compute = self.parent_op()
        while compute is not None and not isinstance(compute, ComputeOp):
            compute = compute.parent_op()
        if compute is None:
            raise VerifyException(f"te.read of {name} must be inside a te.compute")
        if self.tensor not in compute.ins:
            raise VerifyException(
                f'te.read of {name}: {name} is not an input of te.compute "{compute.name_str}" '
                "(list it in ins)"
            )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_ssa_value(self.tensor)
        printer.print_string("[")
        printer.print_list(self.indices, printer.print_ssa_value)
        printer.print_string("]")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.tensor.type)

    @classmethod
    def parse(cls, parser: Parser) -> ReadOp:
        tensor = parser.parse_unresolved_operand()
        indices = parser.parse_comma_separated_list(Parser.Delimiter.SQUARE, parser.parse_unresolved_operand)
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        tensor_type = parser.parse_type()
        if not isinstance(tensor_type, TensorType):
            parser.raise_error(f"te.read expects a tensor type, got {tensor_type}")
        op = cls(
            parser.resolve_operand(tensor, tensor_type),
            [parser.resolve_operand(i, IndexType()) for i in indices],
        )
        op.attributes |= attributes
        return op


@irdl_op_definition
class YieldOp(AbstractYieldOperation[Attribute]):
    """Ends a `te.compute` body with the element (or value to reduce) it computes.

    Syntax: `te.yield %v : f32`.
    """

    name = "te.yield"

    traits = traits_def(IsTerminator(), HasParent(ComputeOp), Pure())

    @property
    def value(self) -> SSAValue:
        return self.arguments[0]

    def verify_(self) -> None:
        if len(self.arguments) != 1:
            raise VerifyException(f"te.yield returns one value, got {len(self.arguments)}")


TE = Dialect("te", [ComputeOp, ReadOp, YieldOp], [ReductionKindAttr])
