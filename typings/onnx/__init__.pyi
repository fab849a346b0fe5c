"""Stubs for the parts of onnx that sched-opt uses.

onnx ships annotations, but it writes paths as the bare `os.PathLike`, which
pyright's strict mode reads as partially unknown; these stubs restate those
signatures with `os.PathLike[str]` and re-export the rest from onnx's own
typed modules. A stub package replaces the whole of `onnx` for pyright, so
each submodule sched-opt imports from has a stub here.
"""

import os
from typing import IO

from onnx import checker as checker
from onnx import defs as defs
from onnx import helper as helper
from onnx import numpy_helper as numpy_helper
from onnx.onnx_ml_pb2 import AttributeProto as AttributeProto
from onnx.onnx_ml_pb2 import GraphProto as GraphProto
from onnx.onnx_ml_pb2 import ModelProto as ModelProto
from onnx.onnx_ml_pb2 import NodeProto as NodeProto
from onnx.onnx_ml_pb2 import OperatorSetIdProto as OperatorSetIdProto
from onnx.onnx_ml_pb2 import TensorProto as TensorProto
from onnx.onnx_ml_pb2 import ValueInfoProto as ValueInfoProto

def load_model(
    f: IO[bytes] | str | os.PathLike[str],
    format: str | None = None,
    load_external_data: bool = True,
) -> ModelProto: ...

load = load_model
