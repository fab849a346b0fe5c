"""`convert-bound-loops-to-gpu`: loop nests bound to GPU threads become kernels in the `gpu` dialect.

The loop-nest emitter (for a GPU: `lower_state(..., gpu=True)`) keeps each
stage at root as one `scf.for` nest in the function, with the loops the
schedule bound marked `sched.annotation = #sched<loop_annotation
blockIdx.x>` (threadIdx.x, vthread, ...). This pass outlines every such
nest into a `gpu.func` kernel of a `gpu.module @<function>_kernels`, and
replaces it in the function by a `gpu.launch_func` of that kernel:

- a loop bound to blockIdx.d / threadIdx.d disappears: its induction
  variable becomes `gpu.block_id d` / `gpu.thread_id d`. The block size
  along d is the largest extent bound to threadIdx.d in the nest; a loop
  with a smaller one runs its body under `scf.if (thread_id < extent)`;
- a `vthread` loop stays a loop, run serially by each thread (TVM
  interleaves them the same way, inside one thread);
- buffers in memory space 3 (shared memory) are allocated once, at the top
  of the kernel; the emitter has put `gpu.barrier` around their filling;
- the buffers the nest reads and writes become the kernel's arguments, in
  the order of the function's values; index constants are re-created
  inside the kernel.

```mlir
func.func @f(%A: memref<64xf32>, %B: memref<64xf32>) {
  scf.for %i0 = %c0 to %c2 step %c1 {
    scf.for %i1 = %c0 to %c32 step %c1 { ... } {sched.annotation = #sched<loop_annotation threadIdx.x>}
  } {sched.annotation = #sched<loop_annotation blockIdx.x>}
  func.return
}
```

becomes `func.func @f` launching `@f_kernels::@f_kernel0` on a grid of
(2, 1, 1) blocks of (32, 1, 1) threads, and the module gets the unit
attribute `gpu.container_module`.

Options:

- max_threads_per_block: int = 1024: the most threads a block may have.
- max_shared_memory_per_block: int = 49152: the most bytes of shared memory
  a block may allocate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, gpu, memref, scf
from xdsl.dialects.builtin import (
    IndexType,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
    UnitAttr,
)
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from schedopt.dialects import sched
from schedopt.dialects.sched import LoopAnnotation, loop_annotation
from schedopt.errors import LoweringError
from schedopt.passes.llvm_type_conversion import element_size_in_bytes

CONTAINER_MODULE = "gpu.container_module"
"""The unit attribute of a module that holds `gpu.module`s and launches their kernels."""

SHARED_MEMORY_SPACE = 3
"""The integer memory space of shared (workgroup) memory."""

_BLOCK_DIMS = {LoopAnnotation.BLOCK_X: "x", LoopAnnotation.BLOCK_Y: "y", LoopAnnotation.BLOCK_Z: "z"}
_THREAD_DIMS = {LoopAnnotation.THREAD_X: "x", LoopAnnotation.THREAD_Y: "y", LoopAnnotation.THREAD_Z: "z"}
_DIMS = ("x", "y", "z")
_MAX_BLOCK_DIMS = {"x": 1024, "y": 1024, "z": 64}
_MAX_GRID_DIMS = {"x": 2**31 - 1, "y": 65535, "z": 65535}


@dataclass(frozen=True)
class BoundLoop:
    """A loop of a kernel's nest bound to a block or thread axis."""

    loop: scf.ForOp
    annotation: LoopAnnotation
    extent: int

    @property
    def is_block(self) -> bool:
        return self.annotation in _BLOCK_DIMS

    @property
    def dim(self) -> str:
        return _BLOCK_DIMS.get(self.annotation) or _THREAD_DIMS[self.annotation]


@dataclass(frozen=True)
class LaunchShape:
    """Grid and block sizes of one kernel, (x, y, z) each."""

    grid: tuple[int, int, int]
    block: tuple[int, int, int]


@dataclass(frozen=True)
class KernelLimits:
    """What one thread block may use; the options of the passes that outline kernels.

    - max_threads_per_block: int = 1024: the most threads a block may have.
    - max_shared_memory_per_block: int = 49152: the most bytes of shared
      memory a block may allocate.
    """

    max_threads_per_block: int = 1024
    max_shared_memory_per_block: int = 49152


def loop_name(loop: scf.ForOp) -> str:
    """How errors name a loop: its induction variable, as the emitter named it after the iterator."""
    hint = loop.body.block.args[0].name_hint
    return f"%{hint}" if hint else "a loop"


def constant_index(value: SSAValue) -> int | None:
    """The integer an `arith.constant` defines, None for any other value."""
    if isinstance(value.owner, arith.ConstantOp) and isinstance(value.owner.value, IntegerAttr):
        return value.owner.value.value.data
    return None


def _extent(loop: scf.ForOp, function: str, annotation: LoopAnnotation) -> int:
    lower, upper, step = (constant_index(v) for v in (loop.lb, loop.ub, loop.step))
    if lower != 0 or step != 1 or upper is None:
        raise LoweringError(
            f"convert-bound-loops-to-gpu: loop {loop_name(loop)} in @{function} is bound to {annotation.value} "
            "but does not run from 0 to a constant in steps of 1 (a bound loop needs a constant extent)"
        )
    return upper


def bound_loops(nest: scf.ForOp, function: str) -> list[BoundLoop]:
    """The loops of `nest` bound to blockIdx/threadIdx, outer first, with their bindings checked."""
    found: list[BoundLoop] = []
    for op in nest.walk():
        if not isinstance(op, scf.ForOp):
            continue
        annotation = loop_annotation(op)
        if annotation not in _BLOCK_DIMS and annotation not in _THREAD_DIMS:
            continue
        bound = BoundLoop(op, annotation, _extent(op, function, annotation))
        # A thread loop inside another of the same axis is a cooperative one (a shared-memory fetch
        # inside the consumer's threads): both are the same thread index. Blocks do not nest.
        for outer in found:
            if bound.is_block and outer.loop.is_ancestor(op) and outer.annotation == annotation:
                raise LoweringError(
                    f"convert-bound-loops-to-gpu: loops {loop_name(outer.loop)} and {loop_name(op)} in "
                    f"@{function} are both bound to {annotation.value}, one inside the other"
                )
        if bound.is_block and not _only_block_loops_around(op, nest):
            raise LoweringError(
                f"convert-bound-loops-to-gpu: loop {loop_name(op)} in @{function} is bound to "
                f"{annotation.value} inside a loop that is not bound to blockIdx (blocks are the outermost loops)"
            )
        found.append(bound)
    return found


def _only_block_loops_around(op: Operation, nest: scf.ForOp) -> bool:
    parent = op.parent_op()
    while parent is not None and parent is not nest.parent_op():
        if isinstance(parent, scf.ForOp) and loop_annotation(parent) not in _BLOCK_DIMS:
            return False
        parent = parent.parent_op()
    return True


def launch_shape(
    loops: Sequence[BoundLoop], nest: scf.ForOp, function: str, limits: KernelLimits
) -> LaunchShape:
    """Grid and block sizes of the kernel of `nest`, within `limits` (else `LoweringError`)."""
    if not loops:
        raise LoweringError(
            f"convert-bound-loops-to-gpu: the loop nest of {loop_name(nest)} in @{function} has no loop bound "
            "to blockIdx or threadIdx (every loop nest at the top of a GPU function is a kernel)"
        )
    grid = dict.fromkeys(_DIMS, 1)
    block = dict.fromkeys(_DIMS, 1)
    for bound in loops:
        sizes = grid if bound.is_block else block
        sizes[bound.dim] = max(sizes[bound.dim], bound.extent)
    where = f"the kernel of {loop_name(nest)} in @{function}"
    for dim in _DIMS:
        if block[dim] > _MAX_BLOCK_DIMS[dim]:
            raise LoweringError(
                f"convert-bound-loops-to-gpu: {where} has {block[dim]} threads along threadIdx.{dim} "
                f"(at most {_MAX_BLOCK_DIMS[dim]})"
            )
        if grid[dim] > _MAX_GRID_DIMS[dim]:
            raise LoweringError(
                f"convert-bound-loops-to-gpu: {where} has {grid[dim]} blocks along blockIdx.{dim} "
                f"(at most {_MAX_GRID_DIMS[dim]})"
            )
    threads = math.prod(block.values())
    if threads > limits.max_threads_per_block:
        raise LoweringError(
            f"convert-bound-loops-to-gpu: {where} has {threads} threads per block "
            f"({' x '.join(str(block[d]) for d in _DIMS)}; at most {limits.max_threads_per_block})"
        )
    return LaunchShape(
        (grid["x"], grid["y"], grid["z"]),
        (block["x"], block["y"], block["z"]),
    )


def is_shared(type_: object) -> bool:
    """Whether `type_` is a memref in shared memory."""
    return (
        isinstance(type_, MemRefType)
        and isinstance(type_.memory_space, IntegerAttr)
        and type_.memory_space.value.data == SHARED_MEMORY_SPACE
    )


def _shared_buffers(nest: scf.ForOp, function: str, limits: KernelLimits) -> list[memref.AllocaOp]:
    buffers = [op for op in nest.walk() if isinstance(op, memref.AllocaOp) and is_shared(op.memref.type)]
    total = 0
    for op in buffers:
        type_ = op.memref.type
        assert isinstance(type_, MemRefType)
        total += math.prod(type_.get_shape()) * element_size_in_bytes(type_.get_element_type())
    if total > limits.max_shared_memory_per_block:
        names = ", ".join(f"%{op.memref.name_hint or '?'}" for op in buffers)
        raise LoweringError(
            f"convert-bound-loops-to-gpu: the kernel of {loop_name(nest)} in @{function} needs {total} bytes "
            f"of shared memory ({names}; at most {limits.max_shared_memory_per_block})"
        )
    return buffers


def _free_values(nest: Operation) -> list[SSAValue]:
    """The values used inside `nest` and defined outside it, in order of first use."""
    free: dict[SSAValue, None] = {}
    for op in nest.walk():
        for operand in op.operands:
            owner = operand.owner
            defining = owner.parent_op() if isinstance(owner, Block) else owner
            if defining is None or not nest.is_ancestor(defining):
                free.setdefault(operand, None)
    return list(free)


def _host_order(function: func.FuncOp, values: Sequence[SSAValue]) -> list[SSAValue]:
    """Buffers in the order the function defines them: its arguments, then its allocations."""
    order = {value: i for i, value in enumerate(function.body.block.args)}
    for op in function.body.block.ops:
        for result in op.results:
            order.setdefault(result, len(order))
    return sorted(values, key=lambda v: order.get(v, len(order)))


def _replace_uses_inside(nest: Operation, old: SSAValue, new: SSAValue) -> None:
    old.replace_uses_with_if(new, lambda use: nest.is_ancestor(use.operation))


def _id_op(bound: BoundLoop) -> Operation:
    dim = gpu.DimensionAttr(gpu.DimensionEnum(bound.dim))
    op = gpu.BlockIdOp(dim) if bound.is_block else gpu.ThreadIdOp(dim)
    op.results[0].name_hint = bound.annotation.value.replace(".", "_")
    return op


def _inline_bound_loop(bound: BoundLoop, ids: dict[LoopAnnotation, SSAValue], shape: LaunchShape) -> None:
    """Replace a bound loop by its body at the thread's id, guarded where the loop is shorter than the launch."""
    loop = bound.loop
    body = loop.body.block
    body.args[0].replace_all_uses_with(ids[bound.annotation])
    launched = (shape.grid if bound.is_block else shape.block)[_DIMS.index(bound.dim)]
    ops = [op for op in body.ops if not isinstance(op, scf.YieldOp)]
    for op in ops:
        op.detach()
    if bound.extent == launched:
        Rewriter.insert_op(ops, InsertPoint.before(loop))
        Rewriter.erase_op(loop)
        return
    if any(isinstance(o, gpu.BarrierOp) for op in ops for o in op.walk()):
        raise LoweringError(
            f"convert-bound-loops-to-gpu: loop {loop_name(loop)} is bound to {bound.annotation.value} with "
            f"extent {bound.extent}, less than the {launched} threads launched, and holds a gpu.barrier "
            "(only some threads would reach it; bind the same extent as the other loops)"
        )
    extent = arith.ConstantOp(IntegerAttr(bound.extent, IndexType()))
    inside = arith.CmpiOp(ids[bound.annotation], extent.result, "ult")
    guarded = Block(ops)
    guarded.add_op(scf.YieldOp())
    Rewriter.insert_op(
        [extent, inside, scf.IfOp(inside.result, [], Region(guarded))], InsertPoint.before(loop)
    )
    Rewriter.erase_op(loop)


@dataclass(frozen=True)
class OutlinedKernel:
    """A kernel made of one loop nest: the gpu.func, and how the function launches it."""

    kernel: gpu.FuncOp
    shape: LaunchShape
    arguments: tuple[SSAValue, ...]
    """The function's buffers the kernel takes, in its argument order."""


def outline_kernel(function: func.FuncOp, nest: scf.ForOp, name: str, limits: KernelLimits) -> OutlinedKernel:
    """Move `nest` out of `function` into a new `gpu.func` kernel called `name`."""
    function_name = function.sym_name.data
    loops = bound_loops(nest, function_name)
    shape = launch_shape(loops, nest, function_name, limits)
    shared = _shared_buffers(nest, function_name, limits)
    free = _free_values(nest)
    buffers = _host_order(function, [v for v in free if isinstance(v.type, MemRefType)])
    entry = Block(arg_types=[v.type for v in buffers])
    for host_value, argument in zip(buffers, entry.args, strict=True):
        argument.name_hint = host_value.name_hint
        _replace_uses_inside(nest, host_value, argument)
    for value in free:
        if isinstance(value.type, MemRefType):
            continue
        if not isinstance(value.owner, arith.ConstantOp):
            raise LoweringError(
                f"convert-bound-loops-to-gpu: the kernel of {loop_name(nest)} in @{function_name} uses a value "
                f"computed outside it by {value.owner.name if isinstance(value.owner, Operation) else 'a block'}"
                " (only buffers and constants cross into a kernel)"
            )
        clone = value.owner.clone()
        entry.add_op(clone)
        _replace_uses_inside(nest, value, clone.result)
    for op in shared:
        op.detach()
        entry.add_op(op)
    ids: dict[LoopAnnotation, SSAValue] = {}
    for bound in loops:
        if bound.annotation not in ids:
            id_op = _id_op(bound)
            entry.add_op(id_op)
            ids[bound.annotation] = id_op.results[0]
    after = nest.next_op
    assert after is not None, "a function body ends with its return"
    nest.detach()
    entry.add_ops([nest, gpu.ReturnOp([])])
    for bound in loops:
        _inline_bound_loop(bound, ids, shape)
    for op in entry.walk():
        if isinstance(op, scf.ForOp) and loop_annotation(op) == LoopAnnotation.VTHREAD:
            del op.attributes[sched.LOOP_ANNOTATION]
    kernel = gpu.FuncOp(name, ([v.type for v in buffers], []), Region(entry), kernel=True)
    outlined = OutlinedKernel(kernel, shape, tuple(buffers))
    Rewriter.insert_op(_launch_ops(function_name, outlined), InsertPoint.before(after))
    return outlined


def _launch_ops(function: str, outlined: OutlinedKernel) -> list[Operation]:
    constants: dict[int, arith.ConstantOp] = {}
    for size in (*outlined.shape.grid, *outlined.shape.block):
        constants.setdefault(size, arith.ConstantOp(IntegerAttr(size, IndexType())))
    grid = [constants[n] for n in outlined.shape.grid]
    block = [constants[n] for n in outlined.shape.block]
    kernel = SymbolRefAttr(f"{function}_kernels", [outlined.kernel.sym_name.data])
    launch = gpu.LaunchFuncOp(kernel, grid, block, kernelOperands=list(outlined.arguments))
    return [*constants.values(), launch]


def _has_bound_loops(function: func.FuncOp) -> bool:
    return any(
        isinstance(op, scf.ForOp)
        and (loop_annotation(op) in _BLOCK_DIMS or loop_annotation(op) in _THREAD_DIMS)
        for op in function.body.walk()
    )


def _check_host_op(op: Operation, function: str) -> None:
    """Outside the kernels, a GPU function only sets up constants and buffers."""
    if isinstance(
        op, arith.ConstantOp | memref.AllocOp | memref.DeallocOp | func.ReturnOp | gpu.LaunchFuncOp
    ):
        return
    raise LoweringError(
        f"convert-bound-loops-to-gpu: {op.name} in @{function} is outside every loop nest bound to "
        "blockIdx/threadIdx (on a GPU, all computation runs in kernels)"
    )


def outline_kernels(function: func.FuncOp, limits: KernelLimits) -> gpu.ModuleOp:
    """Outline each loop nest of `function` into a kernel; the `gpu.module` holding them."""
    name = function.sym_name.data
    kernels: list[gpu.FuncOp] = []
    for op in list(function.body.block.ops):
        if isinstance(op, scf.ForOp):
            kernels.append(outline_kernel(function, op, f"{name}_kernel{len(kernels)}", limits).kernel)
            continue
        _check_host_op(op, name)
    for op in list(function.body.block.ops):
        if isinstance(op, arith.ConstantOp) and not op.result.uses:
            Rewriter.erase_op(op)
    return gpu.ModuleOp(StringAttr(f"{name}_kernels"), Region(Block(kernels)))  # pyright: ignore[reportArgumentType]


@dataclass(frozen=True)
class ConvertBoundLoopsToGPUPass(KernelLimits, ModulePass):
    """Outline the loop nests bound to blockIdx/threadIdx into `gpu.func` kernels launched by their function.

    Options: the `KernelLimits` (max_threads_per_block: int = 1024,
    max_shared_memory_per_block: int = 49152), which every kernel must keep.
    """

    name = "convert-bound-loops-to-gpu"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        functions = [f for f in op.ops if isinstance(f, func.FuncOp) and _has_bound_loops(f)]
        for function in functions:
            module = outline_kernels(function, self)
            Rewriter.insert_op(module, InsertPoint.after(function))
        if functions:
            op.attributes[CONTAINER_MODULE] = UnitAttr()
