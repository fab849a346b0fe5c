"""Stub for `onnx.defs`: operator schemas, from onnx's own typed C extension stubs."""

from onnx.onnx_cpp2py_export.defs import OpSchema as OpSchema
from onnx.onnx_cpp2py_export.defs import SchemaError as SchemaError
from onnx.onnx_cpp2py_export.defs import get_schema as get_schema
