"""Stub for `onnx.checker`: the model checker sched-opt's model zoo runs on what it builds."""

import os

from onnx.onnx_ml_pb2 import ModelProto

def check_model(
    model: ModelProto | str | bytes | os.PathLike[str],
    full_check: bool = False,
    skip_opset_compatibility_check: bool = False,
    check_custom_domain: bool = False,
) -> None: ...
