"""The te dtype names ("float32", "int8", "index", ...) and the xDSL types they stand for.

The DSL speaks TVM's dtype strings; the IR builder needs xDSL types, and the
runtime goes back from IR types to dtypes.
"""

from __future__ import annotations

from xdsl.dialects.builtin import (
    Float16Type,
    Float32Type,
    Float64Type,
    IndexType,
    IntegerType,
    Signedness,
    f16,
    f32,
    f64,
    i1,
)
from xdsl.ir import Attribute

from schedopt.errors import TEError

INDEX = "index"
"""The dtype of iterators and index arithmetic."""

_FLOAT_TYPES: dict[str, Float16Type | Float32Type | Float64Type] = {
    "float16": f16,
    "float32": f32,
    "float64": f64,
}
_INTEGER_TYPES: dict[str, IntegerType[int, Signedness]] = {
    "int8": IntegerType(8),
    "int16": IntegerType(16),
    "int32": IntegerType(32),
    "int64": IntegerType(64),
    "bool": i1,
}
_DTYPES: dict[str, Attribute] = {**_FLOAT_TYPES, **_INTEGER_TYPES}


def dtype_to_type(dtype: str) -> Attribute:
    """The xDSL element type of a te dtype name."""
    if dtype == INDEX:
        return IndexType()
    if dtype not in _DTYPES:
        raise TEError(f"unsupported dtype {dtype!r} (supported: {', '.join(_DTYPES)})")
    return _DTYPES[dtype]


def float_type(dtype: str) -> Float16Type | Float32Type | Float64Type:
    """The xDSL type of a float dtype."""
    dtype_to_type(dtype)
    if dtype not in _FLOAT_TYPES:
        raise TEError(f"dtype {dtype!r} is not a float type")
    return _FLOAT_TYPES[dtype]


def integer_type(dtype: str) -> IntegerType[int, Signedness]:
    """The xDSL type of an integer dtype (bool is i1)."""
    dtype_to_type(dtype)
    if dtype not in _INTEGER_TYPES:
        raise TEError(f"dtype {dtype!r} is not an integer type")
    return _INTEGER_TYPES[dtype]


def type_to_dtype(element_type: Attribute) -> str:
    """The te dtype name of an xDSL element type."""
    for name, attr in _DTYPES.items():
        if attr == element_type:
            return name
    if isinstance(element_type, IndexType):
        return INDEX
    raise TEError(f"unsupported element type {element_type}")


def is_float(dtype: str) -> bool:
    return dtype.startswith("float")


def is_int(dtype: str) -> bool:
    """Integers and indices (not bool)."""
    return dtype.startswith("int") or dtype == INDEX


def bit_width(dtype: str) -> int:
    """The bits of a float, int or bool dtype."""
    if dtype == "bool":
        return 1
    return int(dtype.removeprefix("float").removeprefix("int"))
