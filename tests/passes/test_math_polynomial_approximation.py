"""math-polynomial-approximation: exp, exp2 and erf on f32 against float64 references, through compiled kernels.

Each kernel applies the op to a buffer of a million floats, elementwise on
scalars or on vector<16xf32>; errors are measured in units in the last place
of the correctly rounded f32 result.
"""

import math

import numpy as np
import pytest
from hand_written_ir import compile_function, parse
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

import schedopt.workloads  # noqa: F401  (registers the workloads)
from schedopt import te
from schedopt.build import argument_specs, lower, lower_to_llvm_dialect
from schedopt.compute_dag import ComputeDAG
from schedopt.frontend import operators as topi
from schedopt.passes.math_polynomial_approximation import MathPolynomialApproximationPass
from schedopt.passes.vectorize_annotated_loops import VectorizeAnnotatedLoopsPass
from schedopt.random_inputs import random_inputs
from schedopt.runtime import Kernel, compile_module
from schedopt.workload_registry import make_workload_key
from schedopt.workloads import reference

SIZE = 1 << 20
LANES = 16

SCALAR_BODY = """
    %x = memref.load %X[%i] : memref<{n}xf32>
    %y = {op} %x : f32
    memref.store %y, %Y[%i] : memref<{n}xf32>
"""

VECTOR_BODY = """
    %x = vector.load %X[%i] : memref<{n}xf32>, vector<{lanes}xf32>
    %y = {op} %x : vector<{lanes}xf32>
    vector.store %y, %Y[%i] : memref<{n}xf32>, vector<{lanes}xf32>
"""

KERNEL = """
func.func @k(%X: memref<{n}xf32>, %Y: memref<{n}xf32>) {{
  %c0 = arith.constant 0 : index
  %step = arith.constant {step} : index
  %n = arith.constant {n} : index
  scf.for %i = %c0 to %n step %step {{{body}  }}
  func.return
}}
"""

_erf_objects = np.frompyfunc(math.erf, 1, 1)


def erf64(x: np.ndarray) -> np.ndarray:
    """erf in float64 (the C library's, through Python's math.erf)."""
    return _erf_objects(x).astype(np.float64)


REFERENCES = {"math.exp": np.exp, "math.exp2": np.exp2, "math.erf": erf64}


def kernel_module(op: str, vector: bool) -> tuple[Context, ModuleOp]:
    body = (VECTOR_BODY if vector else SCALAR_BODY).format(op=op, n=SIZE, lanes=LANES)
    return parse(KERNEL.format(n=SIZE, step=LANES if vector else 1, body=body))


def approximated_kernel(op: str, vector: bool) -> Kernel:
    ctx, module = kernel_module(op, vector)
    MathPolynomialApproximationPass().apply(ctx, module)
    assert op not in str(module)
    return compile_function(ctx, module, "k")


def apply(kernel: Kernel, x: np.ndarray) -> np.ndarray:
    """The kernel on `x`, padded to the kernel's size."""
    padded = np.zeros(SIZE, np.float32)
    padded[: x.size] = x
    y = np.empty(SIZE, np.float32)
    kernel(padded, y)
    return y[: x.size]


def ulp_errors(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|got - exact| in ulps of the f32 nearest to `exact` (the least denormal's where that is 0)."""
    rounded = exact.astype(np.float32)
    ulp = np.spacing(np.abs(rounded)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / ulp


SWEEPS = {
    "math.exp": [(-88.0, 88.0), (-104.0, -87.0), (-1.0, 1.0)],
    "math.exp2": [(-150.0, 128.0), (-1.0, 1.0)],
    "math.erf": [(-6.0, 6.0), (-1.0, 1.0), (-1e-3, 1e-3)],
}
"""Dense sweeps per op: the finite range, the denormal results (exp), and around 0."""

ERF_ULP_BOUND = 8.0
ULP_BOUNDS = {"math.exp": 2.0, "math.exp2": 2.0, "math.erf": ERF_ULP_BOUND}
"""Measured with fused multiply-adds: exp and exp2 under 0.9 ulp, erf under 5.6; the bounds
leave room for a target without FMAs."""


@pytest.mark.parametrize("vector", [False, True], ids=["scalar", "vector"])
@pytest.mark.parametrize("op", REFERENCES)
def test_ulp_error_against_float64(op: str, vector: bool):
    kernel = approximated_kernel(op, vector)
    for low, high in SWEEPS[op]:
        x = np.linspace(low, high, SIZE, dtype=np.float32)
        with np.errstate(over="ignore"):
            exact = REFERENCES[op](x.astype(np.float64))
            finite = np.isfinite(exact.astype(np.float32))
        errors = ulp_errors(apply(kernel, x)[finite], exact[finite])
        assert errors.max() <= ULP_BOUNDS[op], (
            f"{op} on [{low}, {high}]: {errors.max()} ulp at x={x[finite][errors.argmax()]}"
        )


F32_MAX = float(np.finfo(np.float32).max)
F32_TINY = float(np.finfo(np.float32).tiny)
SPECIAL_VALUES = np.array(
    [
        *(0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1.0, -1.0, 0.5, 1e-7, 1e-30, -1e-30, 1e-45),
        *(F32_MAX, -F32_MAX, F32_TINY, -F32_TINY),
        # exp: the last finite results, then overflow; the least normal results, the denormals, underflow.
        *(88.72283, 88.72284, 88.7229, 89.0, 100.0, -87.33654, -103.27893, -103.9720, -103.98, -104.0),
        # exp2: the same edges.
        *(127.99999, 128.0, -126.0, -149.0, -149.5, -150.0, -151.0, -200.0),
    ],
    dtype=np.float32,
)
"""Zeros, infinities, NaNs, extreme finite values, and the edges of overflow, the denormals and underflow."""


@pytest.mark.parametrize("vector", [False, True], ids=["scalar", "vector"])
@pytest.mark.parametrize("op", ["math.exp", "math.exp2"])
def test_special_values(op: str, vector: bool):
    got = apply(approximated_kernel(op, vector), SPECIAL_VALUES)
    with np.errstate(over="ignore"):
        exact = REFERENCES[op](SPECIAL_VALUES.astype(np.float64))
        want = exact.astype(np.float32)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    np.testing.assert_array_equal(got[want == 0], want[want == 0])
    np.testing.assert_array_equal(got[SPECIAL_VALUES == 0], np.ones(2, np.float32))
    finite = np.isfinite(want) & (want != 0)
    assert ulp_errors(got[finite], exact[finite]).max() <= 1.0


ERF_SPECIAL_VALUES = np.array(
    [
        *(0.0, -0.0, np.inf, -np.inf, np.nan, 1e-7, -1e-7, 1e-30, 1e-45, -1e-45),
        *(F32_MAX, -F32_MAX, F32_TINY, -F32_TINY),
        # Where erf rounds to 1 in f32, and the clamp at 4.
        *(3.9, 3.92, 3.95, 4.0, 4.5, -3.92, -4.0, -10.0),
    ],
    dtype=np.float32,
)
"""Signed zeros, infinities, NaN, the least values, and where erf reaches +-1."""


@pytest.mark.parametrize("vector", [False, True], ids=["scalar", "vector"])
def test_erf_special_values(vector: bool):
    got = apply(approximated_kernel("math.erf", vector), ERF_SPECIAL_VALUES)
    exact = erf64(ERF_SPECIAL_VALUES.astype(np.float64))
    want = exact.astype(np.float32)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # odd: erf(-0) = -0
    np.testing.assert_array_equal(got[np.abs(ERF_SPECIAL_VALUES) >= 4], want[np.abs(ERF_SPECIAL_VALUES) >= 4])
    finite = ~np.isnan(want)
    assert ulp_errors(got[finite], exact[finite]).max() <= ERF_ULP_BOUND


def test_scalar_ir_and_other_types():
    ctx, module = parse(
        """
        func.func @f(%a: f32, %b: f64, %c: vector<4xf64>) -> (f32, f64, vector<4xf64>, f64) {
          %x = math.exp %a : f32
          %y = math.exp %b : f64
          %z = math.exp2 %c : vector<4xf64>
          %e = math.erf %b : f64
          func.return %x, %y, %z, %e : f32, f64, vector<4xf64>, f64
        }
        """
    )
    MathPolynomialApproximationPass().apply(ctx, module)
    module.verify()
    text = str(module)
    # Only the f32 op is rewritten; f64 is left to convert-math-to-llvm.
    assert "math.exp %a" not in text and "math.roundeven" in text
    assert "math.exp %b : f64" in text and "math.exp2 %c : vector<4xf64>" in text
    assert "math.erf %b : f64" in text


ANNOTATED_LOOP_BODY = """
    %c1 = arith.constant 1 : index
    %lanes = arith.constant {lanes} : index
    scf.for %l = %c0 to %lanes step %c1 {{
      %j = arith.addi %i, %l : index
      %x = memref.load %X[%j] : memref<{n}xf32>
      %y = {op} %x : f32
      memref.store %y, %Y[%j] : memref<{n}xf32>
    }} {{sched.annotation = #sched<loop_annotation vectorize>}}
"""


@pytest.mark.parametrize("op", ["math.exp", "math.erf"])
def test_vectorizes_when_run_before_vectorize_annotated_loops(op: str):
    """Every op the approximations emit has a vector form in vectorize-annotated-loops."""
    body = ANNOTATED_LOOP_BODY.format(n=SIZE, lanes=LANES, op=op)
    ctx, module = parse(KERNEL.format(n=SIZE, step=LANES, body=body))
    MathPolynomialApproximationPass().apply(ctx, module)
    VectorizeAnnotatedLoopsPass().apply(ctx, module)
    ir = str(module)
    assert "memref.store" not in ir  # vectorized, not unrolled
    assert "vector.store" in ir and f"vector<{LANES}xf32>" in ir
    low, high = SWEEPS[op][0]
    x = np.linspace(low, high, SIZE, dtype=np.float32)
    errors = ulp_errors(apply(compile_function(ctx, module, "k"), x), REFERENCES[op](x.astype(np.float64)))
    assert errors.max() <= ULP_BOUNDS[op]


def test_build_approximates_the_vectorized_exp_of_softmax():
    dag = ComputeDAG(make_workload_key("softmax", (8, 64)))
    state = dag.get_init_state()
    _, j_inner = state.split("T_softmax_exp", state["T_softmax_exp"].iters[1], [LANES])
    state.vectorize("T_softmax_exp", j_inner)
    ir = str(lower(dag, state))
    assert "math.exp" not in ir and "math.roundeven" in ir and f"vector<{LANES}xi32>" in ir
    compiled = compile_module(lower_to_llvm_dialect(dag, state))
    assert "expf" not in compiled.llvm_ir and "llvm.exp." not in compiled.llvm_ir
    kernel = compiled.get_function(dag.func_name, argument_specs(dag))
    inputs = random_inputs("softmax", dag, np.random.default_rng(0))
    (output,) = [np.zeros(spec.shape, spec.dtype) for spec in kernel.arg_specs[len(inputs) :]]
    kernel(*inputs, output)
    np.testing.assert_allclose(output, reference("softmax", (8, 64), inputs)[0], rtol=1e-5, atol=1e-7)


def test_build_vectorizes_the_erf_of_gelu():
    """GELU's erf is arithmetic in vectors: no call of libm's erff, which has no vector form."""
    data = te.placeholder((8, 64), name="data")
    gelu = topi.gelu(data)
    dag = ComputeDAG(te.build_te_function([data, gelu], "gelu"))
    state = dag.get_init_state()
    stage = gelu.op.name
    _, inner = state.split(stage, state[stage].iters[1], [LANES])
    state.vectorize(stage, inner)
    compiled = compile_module(lower_to_llvm_dialect(dag, state))
    assert "erff" not in compiled.llvm_ir and f"<{LANES} x float>" in compiled.llvm_ir
    kernel = compiled.get_function(dag.func_name, argument_specs(dag))
    x = np.random.default_rng(0).standard_normal((8, 64)).astype(np.float32) * 3
    output = np.zeros((8, 64), np.float32)
    kernel(x, output)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(output, 0.5 * x64 * (1 + erf64(x64 / math.sqrt(2))), rtol=1e-6, atol=1e-6)
