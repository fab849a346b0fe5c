"""The `--model` argument of the command-line tools: a network of the model zoo by name, or an ONNX file."""

from __future__ import annotations

import os
from typing import Any

from schedopt.errors import SchedOptError

ZOO_MODELS = ("resnet18", "mobilenet_v2", "bert_layer")
"""The networks `schedopt.frontend.model_zoo` builds (real shapes, seeded random weights)."""


def load_model_argument(name_or_path: str) -> Any:
    """The ONNX model a `--model` value names: a zoo network's ModelProto, or the path of an .onnx file."""
    if name_or_path in ZOO_MODELS:
        try:
            from schedopt.frontend import model_zoo
        except ImportError:
            raise SchedOptError("the model zoo needs onnx: pip install 'sched-opt[onnx]'") from None
        return getattr(model_zoo, name_or_path)()
    if not os.path.exists(name_or_path):
        raise SchedOptError(
            f"no model {name_or_path!r}: give an .onnx file or one of {', '.join(ZOO_MODELS)}"
        )
    return name_or_path
