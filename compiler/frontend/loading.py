"""`load_network`: any model sched-opt takes in, as a fused network ready for tasks and compilation.

`extract_tasks` and `compile_model` accept a model in whatever form the user
has it, as TVM's take a Relay module; this is where the form is told apart:

- an ONNX `ModelProto` or the path of a `.onnx` file: the ONNX importer, in
  NHWC on the CPU (TVM's auto-scheduler layout there) with Winograd for the
  3x3 convolutions that gain from it (TVM's x86 strategy), NCHW elsewhere;
- a network module (a module, its text or the path of an `.mlir` file with a
  `te.graph` function): taken as it is;
- a module of `linalg` ops on tensors: the linalg importer;
- a `Network`: taken as it is.

Then the operators are fused (`fuse-ops`). The ONNX importer is imported only
for an ONNX model, so `onnx` stays an optional dependency.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func, get_all_dialects
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Dialect
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError

from schedopt.dialects import get_all_dialects as get_schedopt_dialects
from schedopt.errors import NetworkError
from schedopt.frontend.network import GRAPH_ATTR, Network

ONNX_EXTRA = "pip install 'sched-opt[onnx]'"
"""How to install the ONNX front end's dependency."""

IR_MARKERS = ("func.func", "builtin.module", "module {", "module attributes")
"""Text that only IR (never a file name) contains."""


def load_network(model: Any, params: Mapping[str, np.ndarray] | None = None, target: str = "llvm") -> Network:
    """The fused network of `model` (see the module docstring for the forms it takes).

    `params` gives parameter values by name: those a module's graph function
    declares, or values replacing an ONNX model's initializers.
    """
    network = _unfused_network(model, params, target)
    if params:
        network = Network(network.module, {**network.params, **{n: np.asarray(v) for n, v in params.items()}})
    from schedopt.passes.fuse_ops import fuse_network

    return fuse_network(network)


def _unfused_network(model: Any, params: Mapping[str, np.ndarray] | None, target: str) -> Network:
    if isinstance(model, Network):
        return model
    if _is_onnx_model(model):
        return _from_onnx(model, target)
    if _is_path_object(model) or (isinstance(model, str) and not _looks_like_ir(model)):
        path = Path(model)
        if path.suffix.lower() == ".onnx":
            return _from_onnx(path, target)
        try:
            model = path.read_text()
        except OSError as error:
            raise NetworkError(f"cannot read the model {path}: {error.strerror or error}") from None
    if isinstance(model, str):
        model = _parse(model)
    if not isinstance(model, ModuleOp):
        raise NetworkError(
            f"cannot load a model of type {type(model).__name__}: give an ONNX ModelProto, a path "
            "(.onnx, .mlir), an xDSL module or its text, or a Network"
        )
    return _from_module(model, params)


def _from_module(module: ModuleOp, params: Mapping[str, np.ndarray] | None) -> Network:
    """A network module as it is, or a linalg module through the linalg importer."""
    if any(isinstance(op, func.FuncOp) and GRAPH_ATTR in op.attributes for op in module.ops):
        return Network.from_module(module, params)
    if any(op.name.startswith("linalg.") for op in module.walk()):
        from schedopt.frontend.linalg_importer import from_linalg

        return from_linalg(module, params)
    raise NetworkError(
        f"the module is not a network: it has no graph function (marked {GRAPH_ATTR}) and no linalg ops"
    )


def _from_onnx(model: Any, target: str) -> Network:
    try:
        from schedopt.frontend.onnx_importer import from_onnx
    except ImportError as error:
        if error.name is None or error.name.split(".")[0] != "onnx":
            raise
        raise NetworkError(f"loading an ONNX model needs the onnx package: {ONNX_EXTRA}") from None
    on_cpu = target.split()[:1] == ["llvm"]
    return from_onnx(model, layout="NHWC" if on_cpu else "NCHW", winograd=on_cpu)


def _is_onnx_model(model: object) -> bool:
    """An onnx ModelProto, told by its type so that onnx need not be imported."""
    kind = type(model)
    return kind.__name__ == "ModelProto" and kind.__module__.split(".")[0] == "onnx"


def _is_path_object(model: object) -> TypeGuard[os.PathLike[str]]:
    """A path object (`pathlib.Path` or any `os.PathLike`); `Path()` itself rejects a bytes path."""
    return isinstance(model, os.PathLike)


def _looks_like_ir(text: str) -> bool:
    return any(marker in text for marker in IR_MARKERS)


def _parse(text: str) -> ModuleOp:
    """IR text in any dialect xDSL or sched-opt knows (linalg with the named ops xDSL lacks)."""
    ctx = Context()
    dialects = {**get_all_dialects(), **get_schedopt_dialects(), "linalg": _linalg}
    for name, factory in dialects.items():
        ctx.register_dialect(name, factory)
    try:
        return Parser(ctx, text).parse_module()
    except ParseError as error:
        raise NetworkError(f"cannot parse the model IR:\n{error}") from None


def _linalg() -> Dialect:
    from schedopt.dialects.linalg_extra import LINALG

    return LINALG
