"""What several passes share: finding the te functions of a module, and remarks to the person running them."""

from __future__ import annotations

import sys

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from schedopt.dialects import te


def te_functions(module: ModuleOp) -> list[func.FuncOp]:
    """The functions of `module` that hold te.compute ops."""
    return [
        op
        for op in module.ops
        if isinstance(op, func.FuncOp) and any(isinstance(o, te.ComputeOp) for o in op.body.walk())
    ]


def remark(pass_name: str, message: str) -> None:
    """Tell the person running the pipeline something that is not an error."""
    print(f"remark: {pass_name}: {message}", file=sys.stderr)
