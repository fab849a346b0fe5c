"""convert-to-llvm end to end: hand-written kernels, lowered, compiled, run against numpy."""

import math
from collections.abc import Sequence

import numpy as np
import pytest
from hand_written_ir import build, lower, parse
from xdsl.dialects import llvm

from schedopt.errors import LoweringError, RuntimeArgumentError
from schedopt.passes.convert_to_llvm import ConvertToLLVMPass
from schedopt.runtime import compile_module

MATMUL = """
func.func @matmul(%A: memref<16x8xf32>, %B: memref<8x12xf32>, %C: memref<16x12xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c12 = arith.constant 12 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c16 step %c1 {
    scf.for %j = %c0 to %c12 step %c1 {
      %acc = scf.for %k = %c0 to %c8 step %c1 iter_args(%s = %zero) -> (f32) {
        %a = memref.load %A[%i, %k] : memref<16x8xf32>
        %b = memref.load %B[%k, %j] : memref<8x12xf32>
        %p = arith.mulf %a, %b fastmath<contract> : f32
        %t = arith.addf %s, %p fastmath<contract> : f32
        scf.yield %t : f32
      }
      memref.store %acc, %C[%i, %j] : memref<16x12xf32>
    }
  }
  func.return
}
"""


def test_matmul_with_reduction():
    kernel = build(MATMUL, "matmul")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((16, 8), dtype=np.float32)
    b = rng.standard_normal((8, 12), dtype=np.float32)
    c = np.zeros((16, 12), np.float32)
    kernel(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-5)


def test_lowered_module_holds_only_llvm_ops():
    module = lower(MATMUL)
    assert all(op.dialect_name() == "llvm" for op in module.walk() if op is not module)
    (func,) = module.ops
    assert isinstance(func, llvm.FuncOp)
    assert func.arg_attrs is not None
    assert all("llvm.noalias" in attrs.data for attrs in func.arg_attrs)


def test_contract_flags_reach_llvm_and_fuse():
    compiled = compile_module(lower(MATMUL))
    assert "fmul contract" in compiled.llvm_ir or "fma" in compiled.llvm_ir
    assert "noalias" in compiled.llvm_ir


# One result row per math op; the table gives the op and its numpy reference.
UNARY_MATH = [
    ("math.exp %x", np.exp),
    ("math.exp2 %x", np.exp2),
    ("math.log %ax", lambda x: np.log(np.abs(x))),
    ("math.log2 %ax", lambda x: np.log2(np.abs(x))),
    ("math.log10 %ax", lambda x: np.log10(np.abs(x))),
    ("math.sqrt %ax", lambda x: np.sqrt(np.abs(x))),
    ("math.rsqrt %ax", lambda x: 1 / np.sqrt(np.abs(x))),
    ("math.absf %x", np.abs),
    ("math.floor %x", np.floor),
    ("math.ceil %x", np.ceil),
    ("math.sin %x", np.sin),
    ("math.cos %x", np.cos),
    ("math.tan %x", np.tan),
    ("math.tanh %x", np.tanh),
    ("math.erf %x", np.vectorize(math.erf)),
    ("math.expm1 %x", np.expm1),
    ("math.log1p %ax", lambda x: np.log1p(np.abs(x))),
    ("math.trunc %x", np.trunc),
    ("math.round %x", lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5)),
    ("math.roundeven %x", np.round),
    ("arith.negf %x", np.negative),
    ("math.asin %s", lambda x: np.arcsin(np.sin(x))),
    ("math.acos %s", lambda x: np.arccos(np.sin(x))),
    ("math.atan %x", np.arctan),
    ("math.sinh %x", np.sinh),
    ("math.cosh %x", np.cosh),
]
BINARY_MATH = [
    ("math.powf %ax, %y", lambda x, y: np.power(np.abs(x), y)),
    ("math.copysign %y, %x", lambda x, y: np.copysign(y, x)),
    ("math.atan2 %y, %x", lambda x, y: np.arctan2(y, x)),
    ("math.fma %x, %y, %x", lambda x, y: x * y + x),
    ("arith.maximumf %x, %y", np.maximum),
    ("arith.minimumf %x, %y", np.minimum),
    ("arith.maxnumf %x, %y", np.fmax),
    ("arith.minnumf %x, %y", np.fmin),
    ("arith.divf %x, %y", np.divide),
    ("arith.subf %x, %y", np.subtract),
]


FLOAT_OPERANDS = ("%ax = math.absf %x", "%s = math.sin %x")
"""Values float rows use besides %x and %y: |x| (for logarithms and roots) and sin x (in [-1, 1])."""


def elementwise_kernel(
    dtype: str, ops: list[str], size: int = 64, operands: Sequence[str] = FLOAT_OPERANDS
) -> str:
    """@ew(%X, %Y, %O): row r of O holds ops[r] of %x = X[i], %y = Y[i] and the `operands`."""
    n = len(ops)
    lines = [
        f"func.func @ew(%X: memref<{size}x{dtype}>, %Y: memref<{size}x{dtype}>, "
        f"%O: memref<{n}x{size}x{dtype}>) {{",
        "  %c0 = arith.constant 0 : index",
        "  %c1 = arith.constant 1 : index",
        f"  %size = arith.constant {size} : index",
        "  scf.for %i = %c0 to %size step %c1 {",
        f"    %x = memref.load %X[%i] : memref<{size}x{dtype}>",
        f"    %y = memref.load %Y[%i] : memref<{size}x{dtype}>",
        *(f"    {operand} : {dtype}" for operand in operands),
    ]
    for row, op in enumerate(ops):
        lines += [
            f"    %r{row} = {op} : {dtype}",
            f"    %row{row} = arith.constant {row} : index",
            f"    memref.store %r{row}, %O[%row{row}, %i] : memref<{n}x{size}x{dtype}>",
        ]
    lines += ["  }", "  func.return", "}"]
    return "\n".join(lines)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_math(dtype: type):
    table = UNARY_MATH + BINARY_MATH
    name = "f32" if dtype == np.float32 else "f64"
    n = len(table)
    kernel = build(elementwise_kernel(name, [op for op, _ in table]), "ew")
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, 64).astype(dtype)
    x[:4] = [1e-4, -2.5, 0.5, -1e-3]  # tanh and expm1 near 0, ties for the roundings
    y = rng.uniform(-2, 2, 64).astype(dtype)
    out = np.zeros((n, 64), dtype)
    kernel(x, y, out)
    for row, (op, ref) in enumerate(table):
        expected = ref(x) if (op, ref) in UNARY_MATH else ref(x, y)
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(out[row], expected.astype(dtype), rtol=rtol, atol=1e-6, err_msg=op)


def test_nan_propagation_of_min_max():
    kernel = build(elementwise_kernel("f32", ["arith.maximumf %x, %y", "arith.maxnumf %x, %y"]), "ew")
    x = np.full(64, np.nan, np.float32)
    y = np.ones(64, np.float32)
    out = np.zeros((2, 64), np.float32)
    kernel(x, y, out)
    assert np.isnan(out[0]).all()
    assert (out[1] == 1).all()


def unsigned(values: np.ndarray) -> np.ndarray:
    return values.view(np.uint32)


# One result row per integer op, on i32; `%c3` is the constant 3.
INTEGER_OPS = [
    ("arith.floordivsi %x, %y", lambda a, b: a // b),
    ("arith.ceildivsi %x, %y", lambda a, b: -(-a // b)),
    ("arith.divsi %x, %y", lambda a, b: np.trunc(a / b).astype(np.int32)),
    ("arith.remsi %x, %y", np.fmod),
    ("arith.maxsi %x, %y", np.maximum),
    ("arith.minsi %x, %y", np.minimum),
    ("arith.maxui %x, %y", lambda a, b: np.maximum(unsigned(a), unsigned(b)).view(np.int32)),
    ("arith.minui %x, %y", lambda a, b: np.minimum(unsigned(a), unsigned(b)).view(np.int32)),
    ("arith.addi %x, %y", np.add),
    ("arith.subi %x, %y", np.subtract),
    ("arith.muli %x, %y", np.multiply),
    ("arith.andi %x, %y", np.bitwise_and),
    ("arith.ori %x, %y", np.bitwise_or),
    ("arith.xori %x, %y", np.bitwise_xor),
    ("arith.shrsi %x, %c3", lambda a, b: a >> 3),
    ("arith.shli %x, %c3", lambda a, b: a << 3),
    ("math.absi %x", lambda a, b: np.abs(a)),
    ("math.ctlz %x", lambda a, b: [32 - int(v).bit_length() for v in unsigned(a)]),
    ("math.cttz %y", lambda a, b: [(int(v) & -int(v)).bit_length() - 1 if v else 32 for v in unsigned(b)]),
    ("math.ctpop %x", lambda a, b: [int(v).bit_count() for v in unsigned(a)]),
]
# The divisions that arith-expand rewrites, on index (i64).
INDEX_OPS = [
    ("arith.floordivsi %x, %y", lambda a, b: a // b),
    ("arith.ceildivsi %x, %y", lambda a, b: -(-a // b)),
    ("arith.remsi %x, %y", np.fmod),
    (
        "arith.ceildivui %x, %y",
        lambda a, b: np.array(
            [-(-int(x) // int(y)) for x, y in zip(a.view(np.uint64), b.view(np.uint64), strict=True)],
            np.uint64,
        ).view(np.int64),
    ),
]


@pytest.mark.parametrize(("dtype", "table"), [("i32", INTEGER_OPS), ("index", INDEX_OPS)])
def test_integer_ops_with_negative_operands(dtype: str, table: list):
    kernel = build(elementwise_kernel(dtype, [op for op, _ in table], 32, ["%c3 = arith.constant 3"]), "ew")
    a = np.array([7, -7, 7, -7, 6, -6, 0, 1, -1, 100, -100, 5, *range(-10, 10)], np.int32)
    b = np.array([2, 2, -2, -2, 3, 3, 5, -3, 3, 7, 7, 5, *[3, -4] * 10], np.int32)
    if dtype == "index":
        a, b = a.astype(np.int64), b.astype(np.int64)
    out = np.zeros((len(table), 32), a.dtype)
    kernel(a, b, out)
    for row, (op, ref) in enumerate(table):
        np.testing.assert_array_equal(out[row], ref(a, b), err_msg=op)


CASTS = """
func.func @casts(%F: memref<8xf32>, %I: memref<8xi32>, %D: memref<8xf64>, %L: memref<8xi64>,
                 %OF: memref<5x8xf32>, %OD: memref<2x8xf64>, %OI: memref<5x8xi32>, %OL: memref<3x8xi64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %k0 = arith.constant 0 : index
  %k1 = arith.constant 1 : index
  %k2 = arith.constant 2 : index
  %k3 = arith.constant 3 : index
  %k4 = arith.constant 4 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %f = memref.load %F[%i] : memref<8xf32>
    %n = memref.load %I[%i] : memref<8xi32>
    %d = memref.load %D[%i] : memref<8xf64>
    %l = memref.load %L[%i] : memref<8xi64>
    %f0 = arith.sitofp %n : i32 to f32
    %f1 = arith.uitofp %n : i32 to f32
    %f2 = arith.truncf %d : f64 to f32
    %f3 = arith.uitofp %l : i64 to f32
    %f4 = arith.bitcast %n : i32 to f32
    memref.store %f0, %OF[%k0, %i] : memref<5x8xf32>
    memref.store %f1, %OF[%k1, %i] : memref<5x8xf32>
    memref.store %f2, %OF[%k2, %i] : memref<5x8xf32>
    memref.store %f3, %OF[%k3, %i] : memref<5x8xf32>
    memref.store %f4, %OF[%k4, %i] : memref<5x8xf32>
    %d0 = arith.extf %f : f32 to f64
    %d1 = arith.uitofp %l : i64 to f64
    memref.store %d0, %OD[%k0, %i] : memref<2x8xf64>
    memref.store %d1, %OD[%k1, %i] : memref<2x8xf64>
    %i0 = arith.fptosi %f : f32 to i32
    %i1 = arith.fptoui %d : f64 to i32
    %i2 = arith.trunci %l : i64 to i32
    %ix = arith.index_cast %l : i64 to index
    %i3 = arith.index_cast %ix : index to i32
    %i4 = arith.bitcast %f : f32 to i32
    memref.store %i0, %OI[%k0, %i] : memref<5x8xi32>
    memref.store %i1, %OI[%k1, %i] : memref<5x8xi32>
    memref.store %i2, %OI[%k2, %i] : memref<5x8xi32>
    memref.store %i3, %OI[%k3, %i] : memref<5x8xi32>
    memref.store %i4, %OI[%k4, %i] : memref<5x8xi32>
    %l0 = arith.extsi %n : i32 to i64
    %l1 = arith.extui %n : i32 to i64
    %in = arith.index_cast %n : i32 to index
    %l2 = arith.index_cast %in : index to i64
    memref.store %l0, %OL[%k0, %i] : memref<3x8xi64>
    memref.store %l1, %OL[%k1, %i] : memref<3x8xi64>
    memref.store %l2, %OL[%k2, %i] : memref<3x8xi64>
  }
  func.return
}
"""


def test_casts():
    kernel = build(CASTS, "casts")
    f = np.array([1.5, -2.5, 0.0, 3.99, -7.2, 1e6, 100.25, -0.5], np.float32)
    n = np.array([1, -1, 0, 2**31 - 1, -(2**31), 12345, -77, 8], np.int32)
    d = np.array([0.5, 1.5, 2.0, 4e9, 3.7, 7.0, 1e-3, 65536.9], np.float64)
    big = [2**63 + 2**40 + 1, 2**64 - 1, 2**63]
    wide = np.array([1, 2**64 - 7, 2**40 + 3, *big, 0, 123], np.uint64).view(np.int64)
    of, od = np.zeros((5, 8), np.float32), np.zeros((2, 8), np.float64)
    oi, ol = np.zeros((5, 8), np.int32), np.zeros((3, 8), np.int64)
    kernel(f, n, d, wide, of, od, oi, ol)
    np.testing.assert_array_equal(of[0], n.astype(np.float32))
    np.testing.assert_array_equal(of[1], n.view(np.uint32).astype(np.float32))
    np.testing.assert_array_equal(of[2], d.astype(np.float32))
    np.testing.assert_array_equal(of[3], wide.view(np.uint64).astype(np.float32))
    np.testing.assert_array_equal(of[4].view(np.int32), n)
    np.testing.assert_array_equal(od[0], f.astype(np.float64))
    np.testing.assert_array_equal(od[1], wide.view(np.uint64).astype(np.float64))
    np.testing.assert_array_equal(oi[0], np.trunc(f).astype(np.int32))
    # fptoui saturates: 4e9 fits in u32, the others truncate.
    np.testing.assert_array_equal(oi[1].view(np.uint32), np.trunc(d).astype(np.uint32))
    np.testing.assert_array_equal(oi[2], wide.astype(np.int32))
    np.testing.assert_array_equal(oi[3], wide.astype(np.int32))
    np.testing.assert_array_equal(oi[4], f.view(np.int32))
    np.testing.assert_array_equal(ol[0], n.astype(np.int64))
    np.testing.assert_array_equal(ol[1], n.view(np.uint32).astype(np.int64))
    np.testing.assert_array_equal(ol[2], n.astype(np.int64))


PAD_AND_RELU = """
func.func @pad_relu(%A: memref<4xf32>, %P: memref<6xf32>, %M: memref<6xi1>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c6 step %c1 {
    %lo = arith.cmpi sge, %i, %c1 : index
    %hi = arith.cmpi slt, %i, %c5 : index
    %in = arith.andi %lo, %hi : i1
    %v = scf.if %in -> (f32) {
      %x = arith.subi %i, %c1 : index
      %a = memref.load %A[%x] : memref<4xf32>
      scf.yield %a : f32
    } else {
      scf.yield %zero : f32
    }
    %pos = arith.cmpf ogt, %v, %zero : f32
    %r = arith.select %pos, %v, %zero : f32
    memref.store %r, %P[%i] : memref<6xf32>
    memref.store %pos, %M[%i] : memref<6xi1>
  }
  func.return
}
"""


def test_scf_if_with_results_cmpf_select_and_bool_buffers():
    kernel = build(PAD_AND_RELU, "pad_relu")
    a = np.array([1.0, -2.0, 3.0, -4.0], np.float32)
    p = np.full(6, 99, np.float32)
    mask = np.zeros(6, np.bool_)
    kernel(a, p, mask)
    padded = np.pad(a, 1)
    np.testing.assert_array_equal(p, np.maximum(padded, 0))
    np.testing.assert_array_equal(mask, padded > 0)


INTERMEDIATES = """
func.func @two_stage(%X: memref<4x8xf32>, %Y: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %two = arith.constant 2.0 : f32
  %T = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %x = memref.load %X[%i, %j] : memref<4x8xf32>
      %t = arith.mulf %x, %two : f32
      memref.store %t, %T[%i, %j] : memref<4x8xf32>
    }
  }
  scf.for %i = %c0 to %c4 step %c1 {
    %row = memref.alloca() : memref<8xf32>
    scf.for %j = %c0 to %c8 step %c1 {
      %t = memref.load %T[%i, %j] : memref<4x8xf32>
      %u = arith.addf %t, %two : f32
      memref.store %u, %row[%j] : memref<8xf32>
    }
    scf.for %j = %c0 to %c8 step %c1 {
      %jr = arith.subi %c8, %j : index
      %jr1 = arith.subi %jr, %c1 : index
      %u = memref.load %row[%jr1] : memref<8xf32>
      memref.store %u, %Y[%i, %j] : memref<4x8xf32>
    }
  }
  memref.dealloc %T : memref<4x8xf32>
  func.return
}
"""


def test_alloc_and_alloca_of_intermediates():
    kernel = build(INTERMEDIATES, "two_stage")
    x = np.arange(32, dtype=np.float32).reshape(4, 8)
    y = np.zeros((4, 8), np.float32)
    kernel(x, y)
    np.testing.assert_array_equal(y, (x * 2 + 2)[:, ::-1])


def test_alloca_is_hoisted_to_the_entry_block():
    module = lower(INTERMEDIATES)
    func = next(op for op in module.ops if isinstance(op, llvm.FuncOp) and op.sym_name.data == "two_stage")
    entry = func.body.blocks.first
    allocas = [op for op in func.walk() if isinstance(op, llvm.AllocaOp)]
    assert len(allocas) == 1 and allocas[0].parent_block() is entry
    callees = {op.callee.string_value() for op in func.walk() if isinstance(op, llvm.CallOp) and op.callee}
    assert callees == {"aligned_alloc", "free"}


CALLS = """
func.func private @scale(%x: f32, %n: index) -> f32 {
  %f = arith.index_cast %n : index to i64
  %g = arith.sitofp %f : i64 to f32
  %r = arith.mulf %x, %g : f32
  func.return %r : f32
}
func.func @apply(%X: memref<8xf32>, %Y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %X[%i] : memref<8xf32>
    %y = func.call @scale(%x, %i) : (f32, index) -> f32
    memref.store %y, %Y[%i] : memref<8xf32>
  }
  func.return
}
"""


def test_func_call_with_index_argument_and_scalar_result():
    kernel = build(CALLS, "apply")
    x = np.linspace(-1, 1, 8, dtype=np.float32)
    y = np.zeros(8, np.float32)
    kernel(x, y)
    np.testing.assert_allclose(y, x * np.arange(8), rtol=1e-6)


VECTORS = """
func.func @saxpy_exp(%X: memref<20xf32>, %Y: memref<20xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c20 = arith.constant 20 : index
  %a = arith.constant dense<2.0> : vector<8xf32>
  scf.for %i = %c0 to %c16 step %c8 {
    %x = vector.load %X[%i] : memref<20xf32>, vector<8xf32>
    %y = vector.load %Y[%i] : memref<20xf32>, vector<8xf32>
    %ax = arith.mulf %a, %x fastmath<contract> : vector<8xf32>
    %s = arith.addf %ax, %y fastmath<contract> : vector<8xf32>
    %e = math.exp %s : vector<8xf32>
    vector.store %e, %Y[%i] : memref<20xf32>, vector<8xf32>
  }
  %two = arith.constant 2.0 : f32
  scf.for %i = %c16 to %c20 step %c1 {
    %x = memref.load %X[%i] : memref<20xf32>
    %y = memref.load %Y[%i] : memref<20xf32>
    %ax = arith.mulf %two, %x fastmath<contract> : f32
    %s = arith.addf %ax, %y fastmath<contract> : f32
    %e = math.exp %s : f32
    memref.store %e, %Y[%i] : memref<20xf32>
  }
  func.return
}
"""


def test_vector_loads_stores_and_math_beside_scalar_tail():
    kernel = build(VECTORS, "saxpy_exp")
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, 20).astype(np.float32)
    y = rng.uniform(-1, 1, 20).astype(np.float32)
    expected = np.exp(2 * x + y)
    # An unaligned start: vector accesses must not assume vector alignment.
    buffer = np.zeros(21, np.float32)
    y_unaligned = buffer[1:]
    y_unaligned[:] = y
    kernel(x, y_unaligned)
    np.testing.assert_allclose(y_unaligned, expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("type_", "problem"),
    [("memref<?x4xf32>", "dynamic shape"), ("memref<4x4xf32, strided<[8, 1]>>", "non-identity layout")],
)
def test_memref_argument_without_static_identity_layout_is_rejected(type_: str, problem: str):
    text = f"""
    func.func @k(%A: memref<4xf32>, %Bad: {type_}) {{
      func.return
    }}
    """
    ctx, module = parse(text)
    with pytest.raises(LoweringError, match=rf"argument 1 \(%Bad\) of @k .*{problem}"):
        ConvertToLLVMPass().apply(ctx, module)


def test_unconverted_op_is_named():
    text = """
    func.func @k(%A: memref<8xf32>) {
      %c0 = arith.constant 0 : index
      %v = vector.load %A[%c0] : memref<8xf32>, vector<8xf32>
      %s = vector.reduction <add>, %v : vector<8xf32> into f32
      memref.store %s, %A[%c0] : memref<8xf32>
      func.return
    }
    """
    ctx, module = parse(text)
    with pytest.raises(LoweringError, match=r"vector.reduction in @k"):
        ConvertToLLVMPass().apply(ctx, module)


def test_wrong_arrays_are_rejected_naming_the_argument():
    kernel = build(MATMUL, "matmul")
    a, b = np.zeros((16, 8), np.float32), np.zeros((8, 12), np.float32)
    with pytest.raises(
        RuntimeArgumentError, match=r"argument 2 \(C\): expected float32\[16, 12\], got float64"
    ):
        kernel(a, b, np.zeros((16, 12), np.float64))
    with pytest.raises(
        RuntimeArgumentError, match=r"argument 1 \(B\): expected float32\[8, 12\], got float32\[12, 8\]"
    ):
        kernel(a, np.zeros((12, 8), np.float32), np.zeros((16, 12), np.float32))
