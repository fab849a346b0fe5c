"""The te Python DSL: declare tensor computations as in `tvm.te`.

```python
A = te.placeholder((N, K), name="A")
B = te.placeholder((K, M), name="B")
k = te.reduce_axis((0, K), name="k")
C = te.compute((N, M), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
```

`build_te_function` turns the tensors of a workload into a `func.func` of
`te.compute` ops (the `te` dialect, `schedopt.dialects.te`), which is what
the rest of sched-opt works on.
"""

from schedopt.te.dtypes import INDEX, dtype_to_type, float_type, integer_type, type_to_dtype
from schedopt.te.expr import (
    Binary,
    Call,
    Cast,
    Const,
    Expr,
    ExprLike,
    IterVar,
    Reduce,
    Select,
    const,
)
from schedopt.te.intrinsics import (
    abs,
    all,
    any,
    cast,
    ceil,
    erf,
    exp,
    floor,
    if_then_else,
    indexdiv,
    indexmod,
    log,
    power,
    rsqrt,
    sigmoid,
    sqrt,
    tanh,
)
from schedopt.te.ir_builder import build_te_function, build_te_module
from schedopt.te.reduction import CommReducer, max, min, prod, reduce_axis, sum
from schedopt.te.tensor import (
    AttrValue,
    ComputeDecl,
    PlaceholderDecl,
    Tensor,
    TensorRead,
    compute,
    placeholder,
)

__all__ = [
    "INDEX",
    "AttrValue",
    "Binary",
    "Call",
    "Cast",
    "CommReducer",
    "ComputeDecl",
    "Const",
    "Expr",
    "ExprLike",
    "IterVar",
    "PlaceholderDecl",
    "Reduce",
    "Select",
    "Tensor",
    "TensorRead",
    "abs",
    "all",
    "any",
    "build_te_function",
    "build_te_module",
    "cast",
    "ceil",
    "compute",
    "const",
    "dtype_to_type",
    "erf",
    "exp",
    "float_type",
    "floor",
    "if_then_else",
    "indexdiv",
    "indexmod",
    "integer_type",
    "log",
    "max",
    "min",
    "placeholder",
    "power",
    "prod",
    "reduce_axis",
    "rsqrt",
    "sigmoid",
    "sqrt",
    "sum",
    "tanh",
    "type_to_dtype",
]
