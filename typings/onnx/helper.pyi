"""Stub for `onnx.helper`: the graph builders and attribute readers sched-opt uses."""

from collections.abc import Sequence

import numpy as np
from onnx.onnx_ml_pb2 import (
    AttributeProto,
    GraphProto,
    ModelProto,
    NodeProto,
    OperatorSetIdProto,
    SparseTensorProto,
    TensorProto,
    TypeProto,
    ValueInfoProto,
)

AttributeValue = (
    float
    | int
    | bytes
    | TensorProto
    | SparseTensorProto
    | GraphProto
    | TypeProto
    | list[float]
    | list[int]
    | list[bytes]
    | list[TensorProto]
    | list[SparseTensorProto]
    | list[GraphProto]
    | list[TypeProto]
    | None
)
"""What `get_attribute_value` returns, by the attribute's type (None for UNDEFINED)."""

def make_node(
    op_type: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    name: str | None = None,
    doc_string: str | None = None,
    domain: str | None = None,
    overload: str | None = None,
    **kwargs: object,
) -> NodeProto: ...
def make_attribute(
    key: str, value: object, doc_string: str | None = None, attr_type: int | None = None
) -> AttributeProto: ...
def make_graph(
    nodes: Sequence[NodeProto],
    name: str,
    inputs: Sequence[ValueInfoProto],
    outputs: Sequence[ValueInfoProto],
    initializer: Sequence[TensorProto] | None = None,
    doc_string: str | None = None,
    value_info: Sequence[ValueInfoProto] | None = None,
    sparse_initializer: Sequence[SparseTensorProto] | None = None,
) -> GraphProto: ...
def make_model(graph: GraphProto, **kwargs: object) -> ModelProto: ...
def make_opsetid(domain: str, version: int) -> OperatorSetIdProto: ...
def make_tensor_value_info(
    name: str,
    elem_type: int,
    shape: Sequence[str | int | None] | None,
    doc_string: str = "",
    shape_denotation: list[str] | None = None,
) -> ValueInfoProto: ...
def get_attribute_value(attr: AttributeProto) -> AttributeValue: ...
def tensor_dtype_to_np_dtype(tensor_dtype: int) -> np.dtype[np.generic]: ...
