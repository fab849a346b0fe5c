"""The CPU runtime on its own: llvm-dialect modules compiled with LLVM and called on numpy arrays."""

import gc
import re

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects import get_all_dialects
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from schedopt.errors import CompileError, RuntimeArgumentError
from schedopt.runtime import BufferSpec, CompiledModule, Kernel, compile_module, translate_to_llvm_ir

# out[i] = a[i] + b[i] for i < 16, written directly in the llvm dialect.
ADD = """
llvm.func @add(%a: !llvm.ptr {llvm.noalias}, %b: !llvm.ptr {llvm.noalias}, %out: !llvm.ptr {llvm.noalias}) {
  %zero = llvm.mlir.constant(0) : i64
  %one = llvm.mlir.constant(1) : i64
  %n = llvm.mlir.constant(16) : i64
  llvm.br ^loop(%zero : i64)
^loop(%i: i64):
  %more = llvm.icmp "slt" %i, %n : i64
  llvm.cond_br %more, ^body, ^exit
^body:
  %pa = llvm.getelementptr inbounds %a[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  %pb = llvm.getelementptr inbounds %b[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  %po = llvm.getelementptr inbounds %out[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  %x = llvm.load %pa {alignment = 4 : i64} : !llvm.ptr -> f32
  %y = llvm.load %pb {alignment = 4 : i64} : !llvm.ptr -> f32
  %s = llvm.fadd %x, %y : f32
  llvm.store %s, %po {alignment = 4 : i64} : f32, !llvm.ptr
  %next = llvm.add %i, %one : i64
  llvm.br ^loop(%next : i64)
^exit:
  llvm.return
}

llvm.func @scalar(%x: f32) -> f32 {
  llvm.return %x : f32
}
"""

SPECS = (
    BufferSpec("A", (16,), np.dtype(np.float32), written=False),
    BufferSpec("B", (16,), np.dtype(np.float32), written=False),
    BufferSpec("C", (16,), np.dtype(np.float32)),
)


def parse(text: str) -> ModuleOp:
    ctx = Context()
    for name, factory in get_all_dialects().items():
        ctx.register_dialect(name, factory)
    return Parser(ctx, text).parse_module()


@pytest.fixture(scope="module")
def compiled() -> CompiledModule:
    return compile_module(parse(ADD))


@pytest.fixture
def kernel(compiled: CompiledModule) -> Kernel:
    return compiled.get_function("add", SPECS)


def arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.arange(16, dtype=np.float32)
    return a, a * 10, np.zeros(16, np.float32)


def test_kernel_computes_in_place(kernel: Kernel):
    a, b, c = arrays()
    kernel(a, b, c)
    np.testing.assert_array_equal(c, a + b)


def test_module_carries_host_triple_and_optimised_ir(compiled: CompiledModule):
    assert "target triple" in compiled.llvm_ir
    assert "target datalayout" in compiled.llvm_ir
    assert re.search(r"define void @add\(ptr noalias", compiled.llvm_ir)


def test_assembly_names_the_function(compiled: CompiledModule):
    assert "add:" in compiled.assembly()


def test_translation_keeps_noalias():
    assert "ptr noalias" in translate_to_llvm_ir(parse(ADD))


@pytest.mark.parametrize("opt_level", [0, 1, 2, 3])
def test_every_opt_level_runs(opt_level: int):
    kernel = compile_module(parse(ADD), opt_level=opt_level).get_function("add", SPECS)
    a, b, c = arrays()
    kernel(a, b, c)
    np.testing.assert_array_equal(c, a + b)


def test_kernel_keeps_its_engine_alive():
    kernel = compile_module(parse(ADD)).get_function("add", SPECS)
    gc.collect()
    a, b, c = arrays()
    kernel(a, b, c)
    np.testing.assert_array_equal(c, a + b)


def test_buffer_spec_normalises_shape_and_dtype():
    spec = BufferSpec("A", [4, np.int64(2)], "float32")  # pyright: ignore[reportArgumentType]
    assert spec.shape == (4, 2) and spec.dtype == np.dtype(np.float32)
    assert spec.describe() == "float32[4, 2]"


def test_argument_count_is_checked(kernel: Kernel):
    a, b, _ = arrays()
    with pytest.raises(RuntimeArgumentError, match=r"add: expected 3 arguments \(A, B, C\), got 2"):
        kernel(a, b)


def test_dtype_is_checked(kernel: Kernel):
    a, b, _ = arrays()
    with pytest.raises(
        RuntimeArgumentError, match=r"argument 2 \(C\): expected float32\[16\], got float64\[16\]"
    ):
        kernel(a, b, np.zeros(16))


def test_shape_is_checked(kernel: Kernel):
    _, b, c = arrays()
    with pytest.raises(
        RuntimeArgumentError, match=r"argument 0 \(A\): expected float32\[16\], got float32\[4, 4\]"
    ):
        kernel(np.zeros((4, 4), np.float32), b, c)


def test_non_arrays_are_rejected(kernel: Kernel):
    _, b, c = arrays()
    with pytest.raises(
        RuntimeArgumentError, match=r"argument 0 \(A\): expected a numpy array float32\[16\], got list"
    ):
        kernel([0.0] * 16, b, c)  # pyright: ignore[reportArgumentType]


def test_non_contiguous_arrays_are_rejected(kernel: Kernel):
    a, _, c = arrays()
    strided = np.zeros(32, np.float32)[::2]
    with pytest.raises(RuntimeArgumentError, match=r"argument 1 \(B\): expected a C-contiguous array"):
        kernel(a, strided, c)


def test_read_only_output_is_rejected(kernel: Kernel):
    a, b, c = arrays()
    c.flags.writeable = False
    with pytest.raises(RuntimeArgumentError, match=r"argument 2 \(C\): the kernel writes this buffer"):
        kernel(a, b, c)


def test_output_overlapping_an_input_is_rejected(kernel: Kernel):
    buffer = np.zeros(24, np.float32)
    a, b, _ = arrays()
    with pytest.raises(RuntimeArgumentError, match=r"argument 2 \(C\): shares memory with argument 0 \(A\)"):
        kernel(buffer[:16], b, buffer[8:])
    with pytest.raises(RuntimeArgumentError, match=r"argument 2 \(C\): shares memory with argument 1 \(B\)"):
        kernel(a, b, b)


def test_inputs_only_read_may_alias(kernel: Kernel):
    a, _, c = arrays()
    kernel(a, a, c)
    np.testing.assert_array_equal(c, 2 * a)


def test_unknown_function_is_a_compile_error(compiled: CompiledModule):
    with pytest.raises(CompileError, match=r"no function @nope .*functions: @add, @scalar"):
        compiled.get_function("nope", SPECS)


def test_non_kernel_signature_is_a_compile_error(compiled: CompiledModule):
    with pytest.raises(CompileError, match=r"@scalar has type .*only pointers and returns nothing"):
        compiled.get_function("scalar", [BufferSpec("x", (), np.dtype(np.float32))])


def test_spec_count_must_match_the_signature(compiled: CompiledModule):
    with pytest.raises(CompileError, match=r"@add takes 3 arguments, but 2 specs were given"):
        compiled.get_function("add", SPECS[:2])


def test_llvm_rejection_is_a_compile_error_with_llvms_message():
    bad = """
    llvm.func @k(%a: f32) -> f32 {
      %y = llvm.call_intrinsic "llvm.exp.f32"(%a) : (f32) -> f64
      llvm.return %y : f64
    }
    """
    with pytest.raises(
        CompileError, match=r"(?s)LLVM rejected the module: .*doesn't match function result type"
    ):
        compile_module(parse(bad))


def test_module_not_in_the_llvm_dialect_is_a_compile_error():
    with pytest.raises(CompileError, match=r"cannot translate .*func.func"):
        compile_module(parse("func.func @k() {\n  func.return\n}"))


def test_bad_opt_level_is_rejected():
    with pytest.raises(CompileError, match="opt_level 4"):
        compile_module(parse(ADD), opt_level=4)


def test_build_llvm_ir_is_the_ir_build_compiles():
    """The measurement builder ships `build_llvm_ir`'s text; it must be what `build` runs."""
    from schedopt.build import build, build_llvm_ir
    from schedopt.compute_dag import ComputeDAG
    from schedopt.workload_registry import make_workload_key

    dag = ComputeDAG(make_workload_key("matmul", (16, 8, 4)))
    state = dag.get_init_state()
    state.parallel("C", "i")
    assert build_llvm_ir(dag, state) == build(dag, state).compiled.llvm_ir


def test_an_accumulator_in_the_output_is_stored_once_per_iteration():
    """A tiling without a local accumulator adds 12 terms (3 ry x 2 rc x 2 rows) to each
    output vector in its inner loops, which LLVM unrolls only late: every term's store but
    the last must go, or each term waits on the store of the one before (2.7x slower)."""
    from schedopt.build import build_llvm_ir
    from schedopt.compute_dag import ComputeDAG
    from schedopt.schedule.stage import IteratorKind
    from schedopt.workload_registry import make_workload_key

    dag = ComputeDAG(make_workload_key("conv2d_nhwc", (1, 8, 16, 16, 64, 3, 3, 1, 0)))
    state = dag.get_init_state()
    spatial = {"nn": [1, 1, 1], "yy": [1, 1, 2], "xx": [1, 14, 1], "ff": [1, 1, 64]}
    reduce = {"ry": [3], "rx": [1], "rc": [2]}
    levels: list[list[str]] = [[], [], [], [], [], []]  # S0 S1 R0 S2 R1 S3
    for it in list(state["Conv2dOutput"].iters):
        if it.kind == IteratorKind.SPATIAL:
            parts = state.split("Conv2dOutput", it.name, spatial[it.name])
            for level, part in zip((0, 1, 3, 5), parts, strict=True):
                levels[level].append(part.name)
        else:
            outer, inner = state.split("Conv2dOutput", it.name, reduce[it.name])
            levels[2].append(outer.name)
            levels[4].append(inner.name)
    state.reorder("Conv2dOutput", [name for level in levels for name in level])
    state.vectorize("Conv2dOutput", levels[5][-1])

    blocks = re.split(r"\n(?=[.\w]+:)", build_llvm_ir(dag, state))
    loop_body = max(blocks, key=lambda block: block.count("fmul"))
    stored = re.findall(r"store <\d+ x float> %[\w.]+, ptr (%[\w.]+)", loop_body)
    assert loop_body.count("fmul") == 12
    assert len(stored) == len(set(stored)) == 2
