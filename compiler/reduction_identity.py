"""`identity_constant`: the constant a reduction starts from, as an `arith.constant`.

`te.identity_value` gives the value as an attribute; the lowering, the DAG
rewrites and the layout rewrite all need it as an operation, with the
attribute's kind checked once here.
"""

from __future__ import annotations

from xdsl.dialects import arith
from xdsl.dialects.builtin import AnyFloat, FloatAttr, IndexType, IntegerAttr, IntegerType
from xdsl.ir import Attribute
from xdsl.utils.hints import isa

from schedopt.dialects import te
from schedopt.errors import LoweringError


def identity_constant(kind: te.ReductionKind, element_type: Attribute) -> arith.ConstantOp:
    """The constant a reduction of `kind` over `element_type` starts from (0 for a sum...)."""
    value = te.identity_value(kind, element_type)
    if not isa(value, IntegerAttr[IntegerType | IndexType] | FloatAttr[AnyFloat]):
        raise LoweringError(f"no {kind.value} reduction over {element_type}")
    return arith.ConstantOp(value)
