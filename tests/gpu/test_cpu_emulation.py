"""`convert-gpu-to-cpu` on hand-written kernels: each run on the CPU and compared with numpy.

The kernels are what the GPU lowering emits (see docs/gpu.md): ids from
`gpu.thread_id`/`gpu.block_id`, shared memory as `memref.alloca` in memory
space 3, barriers at the top level of the kernel or in loops and branches
that all threads of a block take alike.
"""

from __future__ import annotations

import numpy as np
import pytest

from schedopt.errors import LoweringError
from schedopt.gpu_emulation import gpu_module_context, parse_gpu_module, run_gpu_module_on_cpu
from schedopt.passes.convert_gpu_to_cpu import ConvertGPUToCPUPass


def gpu_module(
    name: str,
    arguments: list[tuple[str, str]],
    body: str,
    grid: tuple[int, int, int],
    block: tuple[int, int, int],
) -> str:
    """A module whose host function @name launches one kernel, of `body`, on `arguments` (name, type)."""
    params = ", ".join(f"%{arg}: {type_}" for arg, type_ in arguments)
    types = ", ".join(type_ for _, type_ in arguments)
    names = ", ".join(f"%{arg}" for arg, _ in arguments)
    sizes = ", ".join(f"%size{n}" for n in (*grid, *block))
    constants = "\n".join(f"    %size{n} = arith.constant {n} : index" for n in sorted({*grid, *block}))
    index_types = ", ".join(["index"] * 6)
    return f"""
builtin.module attributes {{gpu.container_module}} {{
  func.func @{name}({params}) {{
{constants}
    "gpu.launch_func"({sizes}, {names}) <{{kernel = @{name}_kernels::@{name}_kernel0, operandSegmentSizes = array<i32: 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, {len(arguments)}, 0>}}> : ({index_types}, {types}) -> ()
    func.return
  }}
  "gpu.module"() <{{sym_name = "{name}_kernels"}}> ({{
    "gpu.func"() <{{function_type = ({types}) -> (), kernel}}> ({{
    ^bb0({params}):
{body}
      "gpu.return"() : () -> ()
    }}) {{sym_name = "{name}_kernel0"}} : () -> ()
  }}) : () -> ()
}}
"""


IDS = """
      %bx = "gpu.block_id"() <{dimension = #gpu<dim x>}> : () -> index
      %by = "gpu.block_id"() <{dimension = #gpu<dim y>}> : () -> index
      %tx = "gpu.thread_id"() <{dimension = #gpu<dim x>}> : () -> index
      %ty = "gpu.thread_id"() <{dimension = #gpu<dim y>}> : () -> index
      %tz = "gpu.thread_id"() <{dimension = #gpu<dim z>}> : () -> index
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
"""

BARRIER = '      "gpu.barrier"() : () -> ()'


_MLIR_ELEMENT_TYPES = {"float32": "f32", "float64": "f64", "int32": "i32", "int64": "i64"}


def memref_type(array: np.ndarray) -> str:
    """The memref type a kernel argument has when it is passed `array`: memref<8x256xf32>."""
    return f"memref<{'x'.join(map(str, array.shape))}x{_MLIR_ELEMENT_TYPES[array.dtype.name]}>"


def launch_on_cpu(
    name: str, body: str, grid: tuple[int, int, int], block: tuple[int, int, int], **arrays: np.ndarray
) -> None:
    """Run one kernel of `body` over `grid` x `block` on the CPU, on `arrays`, named as the kernel names them."""
    text = gpu_module(name, [(arg, memref_type(a)) for arg, a in arrays.items()], body, grid, block)
    run_gpu_module_on_cpu(text, *arrays.values())


def random_arrays(*shapes: tuple[int, ...], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for shape in shapes]


def test_elementwise_with_a_barrier_between_shared_store_and_load():
    # Each thread adds its elements, then reads its mirror image's sum from shared memory.
    body = f"""{IDS}
      %c16 = arith.constant 16 : index
      %c15 = arith.constant 15 : index
      %base = arith.muli %bx, %c16 : index
      %i = arith.addi %base, %tx : index
      %a = memref.load %A[%i] : memref<64xf32>
      %b = memref.load %B[%i] : memref<64xf32>
      %s = arith.addf %a, %b : f32
      %sh = memref.alloca() {{alignment = 64 : i64}} : memref<16xf32, 3 : i64>
      memref.store %s, %sh[%tx] : memref<16xf32, 3 : i64>
{BARRIER}
      %mirror = arith.subi %c15, %tx : index
      %v = memref.load %sh[%mirror] : memref<16xf32, 3 : i64>
      %w = arith.addf %v, %a : f32
      memref.store %w, %C[%i] : memref<64xf32>"""
    a, b = random_arrays((64,), (64,))
    c = np.zeros(64, np.float32)
    launch_on_cpu("add", body, (4, 1, 1), (16, 1, 1), A=a, B=b, C=c)
    sums = (a + b).reshape(4, 16)[:, ::-1].reshape(64)
    np.testing.assert_allclose(c, sums + a, rtol=1e-6)


def cooperative_fetch(
    source: str, fetches: str, width: str, origin: tuple[str, str], type_: str, shared_type: str
) -> str:
    """A loop in which the block's threads copy a `width`-wide slice of `source` at `origin` to shared memory.

    Fetch f of thread `%flat` copies element e = f * %c_count + %flat, at row
    e / width and column e % width of the slice, into `%{source}_shared`.
    """
    row0, col0 = origin
    return f"""        scf.for %f = %c0 to {fetches} step %c1 {{
          %fc = arith.muli %f, %c_count : index
          %e = arith.addi %fc, %flat : index
          %r = arith.divui %e, {width} : index
          %q = arith.remui %e, {width} : index
          %gr = arith.addi {row0}, %r : index
          %gq = arith.addi {col0}, %q : index
          %v{source} = memref.load %{source}[%gr, %gq] : {type_}
          memref.store %v{source}, %{source}_shared[%r, %q] : {shared_type}
        }}"""


def tiled_matmul_body(n: int, tile: int, threads: int, k_tile: int) -> str:
    """C = A B: a block per `tile`^2 tile of C, `threads`^2 threads of (tile/threads)^2 outputs each,
    A and B staged in shared memory per `k_tile` slice of the reduction, fetched by all threads."""
    per = tile // threads
    count = threads * threads
    a_fetches = tile * k_tile // count
    b_fetches = k_tile * tile // count
    t = "memref<{}xf32>".format(f"{n}x{n}")
    a_sh = f"memref<{tile}x{k_tile}xf32, 3 : i64>"
    b_sh = f"memref<{k_tile}x{tile}xf32, 3 : i64>"
    local = f"memref<{per}x{per}xf32>"
    return f"""
      %A_shared = memref.alloca() {{alignment = 64 : i64}} : {a_sh}
      %B_shared = memref.alloca() {{alignment = 64 : i64}} : {b_sh}
{IDS}
      %c_tile = arith.constant {tile} : index
      %c_kt = arith.constant {k_tile} : index
      %c_k0 = arith.constant {n // k_tile} : index
      %c_per = arith.constant {per} : index
      %c_thr = arith.constant {threads} : index
      %c_count = arith.constant {count} : index
      %c_af = arith.constant {a_fetches} : index
      %c_bf = arith.constant {b_fetches} : index
      %zero = arith.constant 0.0 : f32
      %row0 = arith.muli %by, %c_tile : index
      %col0 = arith.muli %bx, %c_tile : index
      %ty_thr = arith.muli %ty, %c_thr : index
      %flat = arith.addi %ty_thr, %tx : index
      %ti = arith.muli %ty, %c_per : index
      %tj = arith.muli %tx, %c_per : index
      %C_local = memref.alloca() {{alignment = 64 : i64}} : {local}
      scf.for %i = %c0 to %c_per step %c1 {{
        scf.for %j = %c0 to %c_per step %c1 {{
          memref.store %zero, %C_local[%i, %j] : {local}
        }}
      }}
      scf.for %k0 = %c0 to %c_k0 step %c1 {{
        %kbase = arith.muli %k0, %c_kt : index
{BARRIER}
{cooperative_fetch("A", "%c_af", "%c_kt", ("%row0", "%kbase"), t, a_sh)}
{BARRIER}
{BARRIER}
{cooperative_fetch("B", "%c_bf", "%c_tile", ("%kbase", "%col0"), t, b_sh)}
{BARRIER}
        scf.for %kk = %c0 to %c_kt step %c1 {{
          scf.for %i = %c0 to %c_per step %c1 {{
            scf.for %j = %c0 to %c_per step %c1 {{
              %si = arith.addi %ti, %i : index
              %sj = arith.addi %tj, %j : index
              %x = memref.load %A_shared[%si, %kk] : {a_sh}
              %y = memref.load %B_shared[%kk, %sj] : {b_sh}
              %acc = memref.load %C_local[%i, %j] : {local}
              %p = arith.mulf %x, %y : f32
              %s = arith.addf %acc, %p : f32
              memref.store %s, %C_local[%i, %j] : {local}
            }}
          }}
        }}
      }}
      scf.for %i = %c0 to %c_per step %c1 {{
        scf.for %j = %c0 to %c_per step %c1 {{
          %v = memref.load %C_local[%i, %j] : {local}
          %ri = arith.addi %row0, %ti : index
          %gi = arith.addi %ri, %i : index
          %rj = arith.addi %col0, %tj : index
          %gj = arith.addi %rj, %j : index
          memref.store %v, %C[%gi, %gj] : {t}
        }}
      }}"""


@pytest.mark.parametrize(("n", "tile", "threads", "k_tile"), [(64, 16, 8, 8), (32, 32, 4, 4)])
def test_tiled_matmul_with_shared_memory_and_barriers_in_the_k_loop(n, tile, threads, k_tile):
    blocks = n // tile
    a, b = random_arrays((n, n), (n, n))
    c = np.full((n, n), np.nan, np.float32)
    body = tiled_matmul_body(n, tile, threads, k_tile)
    launch_on_cpu("matmul", body, (blocks, blocks, 1), (threads, threads, 1), A=a, B=b, C=c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)


def test_block_reduction_tree_of_barriers_in_a_loop():
    # Y[row] = sum of X[row, :]: a block per row, 128 threads, each summing two elements into shared
    # memory, then a tree of 7 levels, a barrier after each, the stride halving.
    body = f"""{IDS}
      %c128 = arith.constant 128 : index
      %c7 = arith.constant 7 : index
      %c64 = arith.constant 64 : index
      %sh = memref.alloca() : memref<128xf32, 3 : i64>
      %x0 = memref.load %X[%bx, %tx] : memref<8x256xf32>
      %second = arith.addi %tx, %c128 : index
      %x1 = memref.load %X[%bx, %second] : memref<8x256xf32>
      %pair = arith.addf %x0, %x1 : f32
      memref.store %pair, %sh[%tx] : memref<128xf32, 3 : i64>
{BARRIER}
      scf.for %level = %c0 to %c7 step %c1 {{
        %stride = arith.shrui %c64, %level : index
        %active = arith.cmpi ult, %tx, %stride : index
        scf.if %active {{
          %other = arith.addi %tx, %stride : index
          %mine = memref.load %sh[%tx] : memref<128xf32, 3 : i64>
          %theirs = memref.load %sh[%other] : memref<128xf32, 3 : i64>
          %sum = arith.addf %mine, %theirs : f32
          memref.store %sum, %sh[%tx] : memref<128xf32, 3 : i64>
        }}
  {BARRIER}
      }}
      %first = arith.cmpi eq, %tx, %c0 : index
      scf.if %first {{
        %total = memref.load %sh[%c0] : memref<128xf32, 3 : i64>
        memref.store %total, %Y[%bx] : memref<8xf32>
      }}"""
    (x,) = random_arrays((8, 256))
    y = np.zeros(8, np.float32)
    launch_on_cpu("row_sum", body, (8, 1, 1), (128, 1, 1), X=x, Y=y)
    np.testing.assert_allclose(y, x.sum(axis=1), rtol=1e-4, atol=1e-4)


def test_thread_local_array_and_loaded_values_live_across_a_barrier():
    # Threads in 3-D (4 x 2 x 2): each fills a private array and loads a value before the barrier and
    # uses both after it; the private arrays and the value must stay per thread.
    body = f"""{IDS}
      %c4 = arith.constant 4 : index
      %c2 = arith.constant 2 : index
      %c3 = arith.constant 3 : index
      %private = memref.alloca() : memref<4xf32>
      %zy = arith.muli %tz, %c2 : index
      %zyy = arith.addi %zy, %ty : index
      %row = arith.muli %zyy, %c4 : index
      %t = arith.addi %row, %tx : index
      %mine = memref.load %X[%t] : memref<16xf32>
      scf.for %e = %c0 to %c4 step %c1 {{
        %ef = arith.index_cast %e : index to i32
        %f = arith.sitofp %ef : i32 to f32
        %v = arith.mulf %mine, %f : f32
        memref.store %v, %private[%e] : memref<4xf32>
      }}
{BARRIER}
      %back = arith.subi %c3, %tx : index
      %p = memref.load %private[%back] : memref<4xf32>
      %out = arith.addf %p, %mine : f32
      memref.store %out, %Y[%t] : memref<16xf32>"""
    (x,) = random_arrays((16,))
    y = np.zeros(16, np.float32)
    launch_on_cpu("private", body, (1, 1, 1), (4, 2, 2), X=x, Y=y)
    tx = np.arange(16) % 4
    np.testing.assert_allclose(y, x * (3 - tx) + x, rtol=1e-6)


def test_loop_carried_values_and_branch_results_across_barriers():
    # A per-thread accumulator carried by a loop with barriers, and the result of a uniform branch
    # with a barrier inside: both through per-thread slots.
    body = f"""{IDS}
      %c8 = arith.constant 8 : index
      %c7 = arith.constant 7 : index
      %c3 = arith.constant 3 : index
      %sh = memref.alloca() : memref<8xf32, 3 : i64>
      %start = memref.load %X[%tx] : memref<8xf32>
      %acc = scf.for %step = %c0 to %c3 step %c1 iter_args(%a = %start) -> (f32) {{
        memref.store %a, %sh[%tx] : memref<8xf32, 3 : i64>
  {BARRIER}
        %next = arith.addi %tx, %c1 : index
        %wrapped = arith.andi %next, %c7 : index
        %neighbour = memref.load %sh[%wrapped] : memref<8xf32, 3 : i64>
  {BARRIER}
        %sum = arith.addf %a, %neighbour : f32
        scf.yield %sum : f32
      }}
      %is_first_block = arith.cmpi eq, %bx, %c0 : index
      %final = scf.if %is_first_block -> (f32) {{
        memref.store %acc, %sh[%tx] : memref<8xf32, 3 : i64>
  {BARRIER}
        %prev = arith.addi %tx, %c7 : index
        %wrapped = arith.andi %prev, %c7 : index
        %left = memref.load %sh[%wrapped] : memref<8xf32, 3 : i64>
        scf.yield %left : f32
      }} else {{
        scf.yield %acc : f32
      }}
      %col = arith.muli %bx, %c8 : index
      %i = arith.addi %col, %tx : index
      memref.store %final, %Y[%i] : memref<16xf32>"""
    (x,) = random_arrays((8,))
    y = np.zeros(16, np.float32)
    launch_on_cpu("carried", body, (2, 1, 1), (8, 1, 1), X=x, Y=y)
    acc = x.copy()
    for _ in range(3):
        acc = acc + np.roll(acc, -1)
    np.testing.assert_allclose(y[:8], np.roll(acc, 1), rtol=1e-5)
    np.testing.assert_allclose(y[8:], acc, rtol=1e-5)


def test_the_pass_leaves_no_gpu_op():
    text = gpu_module(
        "matmul",
        [("A", "memref<32x32xf32>"), ("B", "memref<32x32xf32>"), ("C", "memref<32x32xf32>")],
        tiled_matmul_body(32, 16, 4, 8),
        (2, 2, 1),
        (4, 4, 1),
    )
    module = parse_gpu_module(text)
    ConvertGPUToCPUPass().apply(gpu_module_context(), module)
    module.verify()
    assert not [op.name for op in module.walk() if op.dialect_name() == "gpu"]
    assert "gpu.container_module" not in module.attributes


def lowering_error(text: str) -> str:
    module = parse_gpu_module(text)
    with pytest.raises(LoweringError) as error:
        ConvertGPUToCPUPass().apply(gpu_module_context(), module)
    return str(error.value)


def test_a_barrier_under_a_thread_dependent_condition_is_rejected():
    body = f"""{IDS}
      %c4 = arith.constant 4 : index
      %low = arith.cmpi ult, %tx, %c4 : index
      scf.if %low {{
  {BARRIER}
      }}"""
    message = lowering_error(gpu_module("k", [("X", "memref<8xf32>")], body, (1, 1, 1), (8, 1, 1)))
    assert "gpu.barrier in @k_kernel0 inside scf.if whose condition depends on the thread" in message


def test_a_barrier_in_a_loop_with_thread_dependent_bounds_is_rejected():
    body = f"""{IDS}
      scf.for %i = %c0 to %tx step %c1 {{
  {BARRIER}
      }}"""
    message = lowering_error(gpu_module("k", [("X", "memref<8xf32>")], body, (1, 1, 1), (8, 1, 1)))
    assert "inside scf.for whose bounds depend on the thread" in message


def test_a_launch_of_non_constant_size_is_rejected():
    text = gpu_module("k", [("X", "memref<8xf32>")], IDS, (1, 1, 1), (8, 1, 1))
    text = text.replace("%size8 = arith.constant 8 : index", "%size8 = arith.index_cast %c8i : i32 to index")
    text = text.replace(
        "func.func @k(%X: memref<8xf32>) {",
        "func.func @k(%X: memref<8xf32>) {\n    %c8i = arith.constant 8 : i32",
    )
    assert "block size x is not a constant" in lowering_error(text)


def test_scalars_of_each_type_cross_a_barrier():
    # An i1, an index computed from a load, and an f64 live across the barrier in per-thread slots.
    body = f"""{IDS}
      %c7 = arith.constant 7 : index
      %zero = arith.constant 0.0 : f32
      %x = memref.load %X[%tx] : memref<8xf32>
      %positive = arith.cmpf ogt, %x, %zero : f32
      %k = memref.load %K[%tx] : memref<8xi32>
      %source = arith.index_cast %k : i32 to index
      %wide = arith.extf %x : f32 to f64
{BARRIER}
      %y = memref.load %X[%source] : memref<8xf32>
      %picked = arith.select %positive, %y, %zero : f32
      %picked_wide = arith.extf %picked : f32 to f64
      %out = arith.addf %picked_wide, %wide : f64
      memref.store %out, %Y[%tx] : memref<8xf64>"""
    (x,) = random_arrays((8,))
    k = np.random.default_rng(1).permutation(8).astype(np.int32)
    y = np.zeros(8, np.float64)
    launch_on_cpu("scalars", body, (1, 1, 1), (8, 1, 1), X=x, K=k, Y=y)
    np.testing.assert_allclose(y, np.where(x > 0, x[k], 0).astype(np.float64) + x.astype(np.float64))


def test_a_gpu_op_without_cpu_counterpart_is_rejected():
    body = f"""{IDS}
      %lane = "gpu.lane_id"() : () -> index"""
    message = lowering_error(gpu_module("k", [("X", "memref<8xf32>")], body, (1, 1, 1), (8, 1, 1)))
    assert "gpu.lane_id in @k_kernel0 has no CPU counterpart" in message


def test_the_pass_is_registered():
    from schedopt.passes import get_all_passes

    assert get_all_passes()["convert-gpu-to-cpu"]() is ConvertGPUToCPUPass
