"""Stub for `onnx.numpy_helper`: tensors to and from numpy arrays."""

import numpy as np
import numpy.typing as npt
from onnx.onnx_ml_pb2 import TensorProto

def to_array(tensor: TensorProto, base_dir: str = "") -> npt.NDArray[np.generic]: ...
def from_array(array: npt.NDArray[np.generic], /, name: str | None = None) -> TensorProto: ...
