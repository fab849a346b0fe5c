"""convert-to-llvm end to end: hand-written kernels, lowered, compiled, run against numpy."""

import math

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects import get_all_dialects, llvm
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from schedopt.errors import LoweringError, RuntimeArgumentError
from schedopt.passes.convert_to_llvm import ConvertToLLVMPass
from schedopt.runtime import BufferSpec, Kernel, compile_module


def parse(text: str) -> tuple[Context, ModuleOp]:
    ctx = Context()
    for name, factory in get_all_dialects().items():
        ctx.register_dialect(name, factory)
    return ctx, Parser(ctx, text).parse_module()


def lower(text: str) -> ModuleOp:
    ctx, module = parse(text)
    ConvertToLLVMPass().apply(ctx, module)
    module.verify()
    return module


def build(text: str, name: str, *specs: tuple[str, tuple[int, ...], type]) -> Kernel:
    buffer_specs = [BufferSpec(n, shape, np.dtype(dtype)) for n, shape, dtype in specs]
    return compile_module(lower(text)).get_function(name, buffer_specs)


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
    kernel = build(
        MATMUL,
        "matmul",
        ("A", (16, 8), np.float32),
        ("B", (8, 12), np.float32),
        ("C", (16, 12), np.float32),
    )
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


def elementwise_kernel(dtype: str, ops: list[str]) -> str:
    n = len(ops)
    lines = [
        f"func.func @ew(%X: memref<64x{dtype}>, %Y: memref<64x{dtype}>, %O: memref<{n}x64x{dtype}>) {{",
        "  %c0 = arith.constant 0 : index",
        "  %c1 = arith.constant 1 : index",
        "  %c64 = arith.constant 64 : index",
        "  scf.for %i = %c0 to %c64 step %c1 {",
        f"    %x = memref.load %X[%i] : memref<64x{dtype}>",
        f"    %y = memref.load %Y[%i] : memref<64x{dtype}>",
        f"    %ax = math.absf %x : {dtype}",
        f"    %s = math.sin %x : {dtype}",
    ]
    for row, op in enumerate(ops):
        lines += [
            f"    %r{row} = {op} : {dtype}",
            f"    %row{row} = arith.constant {row} : index",
            f"    memref.store %r{row}, %O[%row{row}, %i] : memref<{n}x64x{dtype}>",
        ]
    lines += ["  }", "  func.return", "}"]
    return "\n".join(lines)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_math(dtype: type):
    table = UNARY_MATH + BINARY_MATH
    name = "f32" if dtype == np.float32 else "f64"
    n = len(table)
    kernel = build(
        elementwise_kernel(name, [op for op, _ in table]),
        "ew",
        ("X", (64,), dtype),
        ("Y", (64,), dtype),
        ("O", (n, 64), dtype),
    )
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
    kernel = build(
        elementwise_kernel("f32", ["arith.maximumf %x, %y", "arith.maxnumf %x, %y"]),
        "ew",
        ("X", (64,), np.float32),
        ("Y", (64,), np.float32),
        ("O", (2, 64), np.float32),
    )
    x = np.full(64, np.nan, np.float32)
    y = np.ones(64, np.float32)
    out = np.zeros((2, 64), np.float32)
    kernel(x, y, out)
    assert np.isnan(out[0]).all()
    assert (out[1] == 1).all()


INTEGER_OPS = """
func.func @ints(%A: memref<32xi32>, %B: memref<32xi32>, %O: memref<20x32xi32>, %P: memref<4x32xindex>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  scf.for %i = %c0 to %c32 step %c1 {
    %a = memref.load %A[%i] : memref<32xi32>
    %b = memref.load %B[%i] : memref<32xi32>
    %r0 = arith.floordivsi %a, %b : i32
    %r1 = arith.ceildivsi %a, %b : i32
    %r2 = arith.divsi %a, %b : i32
    %r3 = arith.remsi %a, %b : i32
    %r4 = arith.maxsi %a, %b : i32
    %r5 = arith.minsi %a, %b : i32
    %r6 = arith.maxui %a, %b : i32
    %r7 = arith.minui %a, %b : i32
    %r8 = arith.addi %a, %b : i32
    %r9 = arith.subi %a, %b : i32
    %r10 = arith.muli %a, %b : i32
    %r11 = arith.andi %a, %b : i32
    %r12 = arith.ori %a, %b : i32
    %r13 = arith.xori %a, %b : i32
    %c3 = arith.constant 3 : i32
    %r14 = arith.shrsi %a, %c3 : i32
    %r15 = arith.shli %a, %c3 : i32
    %k0 = arith.constant 0 : index
    memref.store %r0, %O[%k0, %i] : memref<20x32xi32>
    %k1 = arith.constant 1 : index
    memref.store %r1, %O[%k1, %i] : memref<20x32xi32>
    %k2 = arith.constant 2 : index
    memref.store %r2, %O[%k2, %i] : memref<20x32xi32>
    %k3 = arith.constant 3 : index
    memref.store %r3, %O[%k3, %i] : memref<20x32xi32>
    %k4 = arith.constant 4 : index
    memref.store %r4, %O[%k4, %i] : memref<20x32xi32>
    %k5 = arith.constant 5 : index
    memref.store %r5, %O[%k5, %i] : memref<20x32xi32>
    %k6 = arith.constant 6 : index
    memref.store %r6, %O[%k6, %i] : memref<20x32xi32>
    %k7 = arith.constant 7 : index
    memref.store %r7, %O[%k7, %i] : memref<20x32xi32>
    %k8 = arith.constant 8 : index
    memref.store %r8, %O[%k8, %i] : memref<20x32xi32>
    %k9 = arith.constant 9 : index
    memref.store %r9, %O[%k9, %i] : memref<20x32xi32>
    %k10 = arith.constant 10 : index
    memref.store %r10, %O[%k10, %i] : memref<20x32xi32>
    %k11 = arith.constant 11 : index
    memref.store %r11, %O[%k11, %i] : memref<20x32xi32>
    %k12 = arith.constant 12 : index
    memref.store %r12, %O[%k12, %i] : memref<20x32xi32>
    %k13 = arith.constant 13 : index
    memref.store %r13, %O[%k13, %i] : memref<20x32xi32>
    %k14 = arith.constant 14 : index
    memref.store %r14, %O[%k14, %i] : memref<20x32xi32>
    %k15 = arith.constant 15 : index
    memref.store %r15, %O[%k15, %i] : memref<20x32xi32>
    %r16 = math.absi %a : i32
    %r17 = math.ctlz %a : i32
    %r18 = math.cttz %b : i32
    %r19 = math.ctpop %a : i32
    %k16 = arith.constant 16 : index
    memref.store %r16, %O[%k16, %i] : memref<20x32xi32>
    %k17 = arith.constant 17 : index
    memref.store %r17, %O[%k17, %i] : memref<20x32xi32>
    %k18 = arith.constant 18 : index
    memref.store %r18, %O[%k18, %i] : memref<20x32xi32>
    %k19 = arith.constant 19 : index
    memref.store %r19, %O[%k19, %i] : memref<20x32xi32>
    %ia = arith.index_cast %a : i32 to index
    %ib = arith.index_cast %b : i32 to index
    %q0 = arith.floordivsi %ia, %ib : index
    %q1 = arith.ceildivsi %ia, %ib : index
    %q2 = arith.remsi %ia, %ib : index
    %q3 = arith.ceildivui %ia, %ib : index
    memref.store %q0, %P[%k0, %i] : memref<4x32xindex>
    memref.store %q1, %P[%k1, %i] : memref<4x32xindex>
    memref.store %q2, %P[%k2, %i] : memref<4x32xindex>
    memref.store %q3, %P[%k3, %i] : memref<4x32xindex>
  }
  func.return
}
"""


def test_integer_ops_with_negative_operands():
    kernel = build(
        INTEGER_OPS,
        "ints",
        ("A", (32,), np.int32),
        ("B", (32,), np.int32),
        ("O", (20, 32), np.int32),
        ("P", (4, 32), np.int64),
    )
    a = np.array([7, -7, 7, -7, 6, -6, 0, 1, -1, 100, -100, 5, *range(-10, 10)], np.int32)
    b = np.array([2, 2, -2, -2, 3, 3, 5, -3, 3, 7, 7, 5, *[3, -4] * 10], np.int32)
    out = np.zeros((20, 32), np.int32)
    wide = np.zeros((4, 32), np.int64)
    kernel(a, b, out, wide)
    u32 = np.uint32
    expected = [
        a // b,
        -(-a // b),
        np.trunc(a / b).astype(np.int32),
        np.fmod(a, b),
        np.maximum(a, b),
        np.minimum(a, b),
        np.maximum(a.view(u32), b.view(u32)).view(np.int32),
        np.minimum(a.view(u32), b.view(u32)).view(np.int32),
        a + b,
        a - b,
        a * b,
        a & b,
        a | b,
        a ^ b,
        a >> 3,
        a << 3,
        np.abs(a),
        [32 - int(v).bit_length() for v in a.view(np.uint32)],
        [(int(v) & -int(v)).bit_length() - 1 if v else 32 for v in b.view(np.uint32)],
        [int(v).bit_count() for v in a.view(np.uint32)],
    ]
    for row, ref in enumerate(expected):
        np.testing.assert_array_equal(out[row], ref, err_msg=f"row {row}")
    a64, b64 = a.astype(np.int64), b.astype(np.int64)
    np.testing.assert_array_equal(wide[0], a64 // b64)
    np.testing.assert_array_equal(wide[1], -(-a64 // b64))
    np.testing.assert_array_equal(wide[2], np.fmod(a64, b64))
    unsigned_ceil = [
        -(-int(x) // int(y)) for x, y in zip(a64.view(np.uint64), b64.view(np.uint64), strict=True)
    ]
    np.testing.assert_array_equal(wide[3].view(np.uint64), np.array(unsigned_ceil, np.uint64))


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
    kernel = build(
        CASTS,
        "casts",
        ("F", (8,), np.float32),
        ("I", (8,), np.int32),
        ("D", (8,), np.float64),
        ("L", (8,), np.int64),
        ("OF", (5, 8), np.float32),
        ("OD", (2, 8), np.float64),
        ("OI", (5, 8), np.int32),
        ("OL", (3, 8), np.int64),
    )
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
    kernel = build(
        PAD_AND_RELU, "pad_relu", ("A", (4,), np.float32), ("P", (6,), np.float32), ("M", (6,), np.bool_)
    )
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
    kernel = build(INTERMEDIATES, "two_stage", ("X", (4, 8), np.float32), ("Y", (4, 8), np.float32))
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
    kernel = build(CALLS, "apply", ("X", (8,), np.float32), ("Y", (8,), np.float32))
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
    kernel = build(VECTORS, "saxpy_exp", ("X", (20,), np.float32), ("Y", (20,), np.float32))
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
    kernel = build(
        MATMUL,
        "matmul",
        ("A", (16, 8), np.float32),
        ("B", (8, 12), np.float32),
        ("C", (16, 12), np.float32),
    )
    a, b = np.zeros((16, 8), np.float32), np.zeros((8, 12), np.float32)
    with pytest.raises(
        RuntimeArgumentError, match=r"argument 2 \(C\): expected float32\[16, 12\], got float64"
    ):
        kernel(a, b, np.zeros((16, 12), np.float64))
    with pytest.raises(
        RuntimeArgumentError, match=r"argument 1 \(B\): expected float32\[8, 12\], got float32\[12, 8\]"
    ):
        kernel(a, np.zeros((12, 8), np.float32), np.zeros((16, 12), np.float32))
