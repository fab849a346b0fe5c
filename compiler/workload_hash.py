"""The structural hash of a workload: one key for one computation, however it was declared.

Records must find their workload whether it was declared as a registered
function (`["matmul", 64, 64, 64]`), as te tensors, or as IR text parsed
back, under any function, stage or SSA name. TVM keys unregistered DAGs by
an MD5 of their printed text, which changes whenever the printer does
(apache/tvm#7135); this hash is instead taken over a canonical encoding of
the computation, built from the IR objects without printing them.

The contract (format 1). `canonical_encoding(f)` is the JSON value

    ["schedopt.workload_hash", 1, placeholders, stages, outputs]

- `placeholders`: per function argument, in order, `[shape, element_type]`.
- `stages`: per `te.compute`, in program order,
  `[shape, element_type, iters, reduction, inputs, attributes, body]`:
  `iters` is `[["S", extent], ..., ["R", extent], ...]`; `reduction` is
  null or the kind (`"sum"`, `"max"`, `"min"`, `"prod"`); `inputs` the
  tensor references of its `ins`; `attributes` the op's attributes as
  `[name, value]` pairs sorted by name, where a string that names a tensor of
  the function becomes that tensor's reference and one that names an
  iterator of the stage becomes `["it", position]` (a dictionary key that
  names a tensor too, its entries then sorted by the JSON text of their
  keys); `body` the ops of the region (the compute's own block arguments are
  values 0 to n-1).
- an op: `[name, operands, attributes, regions, result_types]`. Operands are
  `["v", n]` for the n-th value defined in the stage's body (block arguments,
  then op results in walk order; an op's results are numbered after the
  values inside its regions) and tensor references for tensors of the
  function. Attributes and properties together, as `[name, value]` sorted by
  name, leaving out bit-enum flags with no flag set (so that an empty
  `fastmath` or `overflowFlags` a new xDSL adds does not change the hash).
  Regions are lists of blocks, each `[argument_types, ops]`.
- `outputs`: the tensor references `func.return` returns, in order.
- tensor references: `["p", i]` for placeholder i, `["s", i]` for stage i.
- types: `"index"`, `"i32"` (`"si32"`, `"ui32"` for signed/unsigned),
  `"f16"`, `"bf16"`, `"f32"`, `"f64"`, `["tensor", shape, element_type]`.
- attribute values: integers `["int", value, type]`, floats
  `["float", float.hex(value rounded to the type), type]`, strings, arrays as
  lists, dictionaries `["dict", [[key, value], ...]]` sorted by key, units
  `["unit"]`, enums `["enum", value]`, bit enums `["flags", sorted values]`,
  types as above, bare integers (`IntAttr`) as numbers.

Names (function, placeholders, stages, iterators, SSA values) are not part
of it: records refer to stages and iterators by position, so a renamed
computation takes the same schedules. Kinds of types and attributes not
listed above are encoded as `["attr", name, printed form]`, the one part that
depends on the printer; te functions built by the te DSL never have them.

The hash is the SHA-256 hex digest (64 characters) of the encoding dumped as
compact JSON (`separators=(",", ":")`, ASCII). SHA-256 rather than TVM's MD5:
it works where MD5 is disabled (FIPS builds of Python), and its length tells
a structural hash apart from the MD5-of-text keys of older records, so the
two are never confused. Changing the encoding means a new format number.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import struct
from typing import Any, TypeGuard

from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    BFloat16Type,
    DictionaryAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntAttr,
    IntegerAttr,
    IntegerType,
    Signedness,
    StringAttr,
    TensorType,
    UnitAttr,
)
from xdsl.dialects.utils.bit_enum_attribute import BitEnumAttribute
from xdsl.dialects.utils.enum_attribute import EnumAttribute
from xdsl.ir import Attribute, Block, BlockArgument, Operation, OpResult, SSAValue
from xdsl.utils.hints import isa
from xdsl.utils.str_enum import StrEnum

from schedopt.dialects import te
from schedopt.errors import TEError

FORMAT = "schedopt.workload_hash"
FORMAT_VERSION = 1
"""The version of the canonical encoding; part of what is hashed."""

_HASH_PATTERN = re.compile(r"[0-9a-f]{64}")


def structural_hash(function: func.FuncOp) -> str:
    """The SHA-256 hex digest of `canonical_encoding(function)` (see the module docstring)."""
    text = json.dumps(canonical_encoding(function), separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_encoding(function: func.FuncOp) -> list[Any]:
    """The JSON value that the structural hash of a te function is taken over."""
    tensors = _TensorRefs(function)
    placeholders = [
        _tensor_type(arg.type, f"@{function.sym_name.data}: placeholder {te.tensor_name(arg)}")
        for arg in function.body.block.args
    ]
    stages = [_encode_stage(op, tensors) for op in tensors.stages]
    ret = function.body.block.last_op
    if not isinstance(ret, func.ReturnOp):
        raise TEError(f"workload function @{function.sym_name.data} does not end with func.return")
    outputs = [tensors.ref(value, "func.return") for value in ret.arguments]
    return [FORMAT, FORMAT_VERSION, placeholders, stages, outputs]


def is_structural_hash(text: str) -> bool:
    """Whether `text` has the form of a structural hash (64 lowercase hex digits)."""
    return _HASH_PATTERN.fullmatch(text) is not None


class _TensorRefs:
    """The placeholders and stages of a function, for references by position."""

    def __init__(self, function: func.FuncOp):
        self.function = function
        self.stages = [op for op in function.body.block.ops if isinstance(op, te.ComputeOp)]
        self._refs: dict[SSAValue, list[Any]] = {arg: ["p", arg.index] for arg in function.body.block.args}
        self._refs.update({op.result: ["s", index] for index, op in enumerate(self.stages)})
        self._by_name: dict[str, list[Any]] = {}
        for value, ref in self._refs.items():
            self._by_name.setdefault(te.tensor_name(value), ref)

    def ref(self, value: SSAValue, user: str) -> list[Any]:
        ref = self._refs.get(value)
        if ref is None:
            raise TEError(
                f"workload function @{self.function.sym_name.data}: {user} uses %{te.tensor_name(value)}, "
                "which is neither a placeholder nor a stage"
            )
        return ref

    def named(self, name: str) -> list[Any] | None:
        return self._by_name.get(name)


def _tensor_type(type_: Attribute, where: str) -> list[Any]:
    match type_:
        case TensorType():
            return [list(type_.get_shape()), _encode_type(type_.element_type)]
        case _:
            raise TEError(f"{where} is not a tensor but {type_}")


def _encode_stage(compute: te.ComputeOp, tensors: _TensorRefs) -> list[Any]:
    where = f'te.compute "{compute.name_str}"'
    iters = [["S", e] for e in compute.spatial_extents] + [["R", e] for e in compute.reduce_extent_values]
    kind = compute.reduction_kind
    inputs = [tensors.ref(value, where) for value in compute.ins]
    iterator_names = [n.data for n in compute.iter_names]
    attributes = [
        [name, _encode_compute_attribute(value, tensors, iterator_names)]
        for name, value in sorted(compute.attributes.items())
    ]
    body = _BodyEncoder(tensors, where)
    return [
        *_tensor_type(compute.result.type, where),
        iters,
        None if kind is None else kind.value,
        inputs,
        attributes,
        body.block(compute.body.block)[1],
    ]


def _encode_compute_attribute(value: Attribute, tensors: _TensorRefs, iterator_names: list[str]) -> Any:
    """An attribute of a stage, with the names of tensors and iterators replaced by their positions."""
    if isinstance(value, StringAttr):
        ref = tensors.named(value.data)
        if ref is not None:
            return ref
        if value.data in iterator_names:
            return ["it", iterator_names.index(value.data)]
        return value.data
    if isa(value, ArrayAttr[Attribute]):
        return [_encode_compute_attribute(v, tensors, iterator_names) for v in value.data]
    if isinstance(value, DictionaryAttr):
        entries = [
            [tensors.named(key) or key, _encode_compute_attribute(entry, tensors, iterator_names)]
            for key, entry in value.data.items()
        ]
        return ["dict", sorted(entries, key=lambda entry: json.dumps(entry[0]))]  # by position, not name
    return _encode_attribute(value)


class _BodyEncoder:
    """Encodes the ops of one stage's body, numbering its values in order of definition."""

    def __init__(self, tensors: _TensorRefs, where: str):
        self.tensors = tensors
        self.where = where
        self.values: dict[SSAValue, int] = {}

    def block(self, block: Block) -> list[Any]:
        for arg in block.args:
            self._define(arg)
        return [[_encode_type(arg.type) for arg in block.args], [self.op(op) for op in block.ops]]

    def op(self, op: Operation) -> list[Any]:
        operands = [self.operand(operand, op) for operand in op.operands]
        attributes = [
            [name, _encode_attribute(value)]
            for name, value in sorted({**op.attributes, **op.properties}.items())
            if not (_is_bit_enum(value) and not value.data)
        ]
        regions = [[self.block(block) for block in region.blocks] for region in op.regions]
        for result in op.results:
            self._define(result)
        return [op.name, operands, attributes, regions, [_encode_type(r.type) for r in op.results]]

    def operand(self, value: SSAValue, user: Operation) -> list[Any]:
        number = self.values.get(value)
        if number is not None:
            return ["v", number]
        return self.tensors.ref(value, f"{self.where}: {user.name}")

    def _define(self, value: BlockArgument | OpResult) -> None:
        self.values[value] = len(self.values)


_FLOAT_TYPES: dict[type[Attribute], tuple[str, str | None]] = {
    Float16Type: ("f16", "e"),
    BFloat16Type: ("bf16", None),
    Float32Type: ("f32", "f"),
    Float64Type: ("f64", None),
}
"""Name and `struct` format (to round a value to the type's precision) of each float type."""


def _encode_type(type_: Attribute) -> Any:
    match type_:
        case IndexType():
            return "index"
        case IntegerType():
            prefix = {Signedness.SIGNLESS: "", Signedness.SIGNED: "s", Signedness.UNSIGNED: "u"}
            return f"{prefix[type_.signedness.data]}i{type_.width.data}"
        case _ if type(type_) in _FLOAT_TYPES:
            return _FLOAT_TYPES[type(type_)][0]
        case TensorType():
            return ["tensor", list(type_.get_shape()), _encode_type(type_.element_type)]
        case _:
            return ["attr", type_.name, str(type_)]


def _is_bit_enum(value: Attribute) -> TypeGuard[BitEnumAttribute[StrEnum]]:
    """A set of flags (every `BitEnumAttribute` holds members of a `StrEnum`)."""
    return isinstance(value, BitEnumAttribute)


def _encode_attribute(value: Attribute) -> Any:
    match value:
        case IntegerAttr():
            return ["int", value.value.data, _encode_type(value.type)]
        case FloatAttr():
            return ["float", _float_hex(value.value.data, value.type), _encode_type(value.type)]
        case StringAttr():
            return value.data
        case IntAttr():
            return value.data
        case ArrayAttr():
            return [_encode_attribute(v) for v in value.data]
        case DictionaryAttr():
            return ["dict", [[k, _encode_attribute(v)] for k, v in sorted(value.data.items())]]
        case UnitAttr():
            return ["unit"]
        case EnumAttribute():
            return ["enum", str(value.data.value)]
        case BitEnumAttribute():
            return ["flags", sorted(str(flag.value) for flag in value.data)]
        case IndexType() | IntegerType() | TensorType():
            return _encode_type(value)
        case _ if type(value) in _FLOAT_TYPES:
            return _encode_type(value)
        case _:
            return ["attr", value.name, str(value)]


def _float_hex(number: float, type_: Attribute) -> str:
    """The exact value at the type's precision: te tensors and parsed text may differ below it."""
    fmt = _FLOAT_TYPES.get(type(type_), ("", None))[1]
    if fmt is not None and math.isfinite(number):
        with contextlib.suppress(OverflowError):  # out of the type's range: keep the value as it is
            number = struct.unpack(fmt, struct.pack(fmt, number))[0]
    return float.hex(number)
