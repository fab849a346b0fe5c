"""`convert-gpu-to-cpu`: run the kernels of a `gpu`-dialect module on the CPU, one thread after another.

The GPU lowering gives a `builtin.module` with `gpu.container_module`: kernels
(`gpu.func ... kernel` in a `gpu.module`) and host functions that start them
with `gpu.launch_func`. This pass replaces each launch, in place, by a loop
nest over the blocks of its grid that holds the kernel's body, and removes the
`gpu.module`s; `convert-to-llvm` then compiles the module as any CPU module,
so every GPU schedule can be run against numpy on a machine without a GPU.

Within a block the body is split at each `gpu.barrier` into phases, and each
phase becomes a loop nest over the threads of the block (loop fission at
barriers, as MCUDA and POCL do): every thread finishes a phase before any
starts the next, which is what a barrier guarantees. Thread ids are the
induction variables of those loops, block ids those of the grid's.

What a phase leaves to a later one survives the split as follows:

- values the same for every thread of a block (kernel arguments, constants,
  block ids and sizes, pure arithmetic on them) are computed once per block,
  outside the thread loops;
- thread ids and pure arithmetic on them are computed in each phase that
  uses them;
- any other scalar is stored, where it is defined, into a per-thread slot
  (`memref<threads x T>`, indexed by the linear thread id) and loaded where
  it is used;
- a thread-local `memref.alloca` used in several phases gets a leading
  thread dimension; one used in a single phase stays as it is;
- shared memory, a `memref.alloca` in memory space 3 at the top level of the
  kernel, becomes one buffer in the default memory space, which the blocks
  use one after the other.

A barrier may sit in the kernel's body, in an `scf.for` whose bounds, or an
`scf.if` whose condition, are the same for all threads of a block (the loop
or branch then runs once per block, with its body split in turn; results and
iteration arguments go through per-thread slots). A barrier anywhere else,
divergent control flow around it included, raises `LoweringError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from math import prod

from xdsl.context import Context
from xdsl.dialects import arith, gpu, memref, scf
from xdsl.dialects.builtin import (
    AnyFloat,
    IndexType,
    IntAttr,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    NoneAttr,
)
from xdsl.ir import Attribute, Block, Operation, OpResult, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.traits import IsTerminator, SymbolTable, is_side_effect_free

from schedopt.errors import LoweringError

SHARED_MEMORY_SPACE = 3
"""The memory space of a kernel's `memref.alloca`s that a block's threads share (NVVM's shared space)."""

_DIMENSIONS = (gpu.DimensionEnum.X, gpu.DimensionEnum.Y, gpu.DimensionEnum.Z)

_GpuIdOp = gpu.ThreadIdOp | gpu.BlockIdOp | gpu.BlockDimOp | gpu.GridDimOp


def _dimension(op: _GpuIdOp) -> int:
    """0, 1 or 2 for the x, y or z of a gpu id op."""
    return _DIMENSIONS.index(op.dimension.data)


def _contains_barrier(op: Operation) -> bool:
    return any(isinstance(nested, gpu.BarrierOp) for nested in op.walk())


def _memory_space(type_: MemRefType) -> int | None:
    """The memory space of a memref type as an integer; None for the default one."""
    space = type_.memory_space
    if isinstance(space, NoneAttr):
        return None
    if isinstance(space, IntegerAttr):
        return space.value.data
    if isinstance(space, IntAttr):
        return space.data
    raise LoweringError(f"convert-gpu-to-cpu: memory space {space} of {type_} is not an integer")


def _external_operands(op: Operation) -> list[SSAValue]:
    """The values `op` and the ops nested in it use but that are defined outside `op`, in order."""
    inside: set[SSAValue] = set()
    for nested in op.walk():
        inside.update(nested.results)
        inside.update(arg for region in nested.regions for block in region.blocks for arg in block.args)
    seen: dict[SSAValue, None] = {}
    for nested in op.walk():
        for operand in nested.operands:
            if operand not in inside:
                seen.setdefault(operand)
    return list(seen)


def _is_slot_type(type_: Attribute) -> bool:
    return isinstance(type_, IndexType | IntegerType | AnyFloat)


@dataclass
class _Phase:
    """An open loop nest over the threads of a block, holding the ops between two barriers."""

    root: Operation | None
    """The outermost thread loop; None for a block of one thread, whose ops go to the block level."""
    at: InsertPoint
    """Where the phase's ops go: the end of the innermost thread loop's body."""
    thread_ids: tuple[SSAValue, SSAValue, SSAValue]
    """The x, y, z thread ids inside the loops."""
    values: dict[SSAValue, SSAValue] = field(default_factory=dict[SSAValue, SSAValue])
    """Kernel value -> its value in this phase."""
    linear_id: SSAValue | None = None
    """(z * block_y + y) * block_x + x, made when first needed."""


class _LaunchEmitter:
    """Builds the CPU loops of one `gpu.launch_func` of `kernel` with constant `grid` and `block` sizes.

    The ops are built into two detached blocks: `prologue` (constants,
    shared memory, per-thread slots and buffers, so that they dominate
    everything) and `body` (the loops); `emit` returns both, in order.
    """

    def __init__(
        self,
        kernel: gpu.FuncOp,
        arguments: Sequence[SSAValue],
        grid: tuple[int, int, int],
        block: tuple[int, int, int],
    ):
        self.kernel = kernel
        self.grid = grid
        self.block = block
        self.num_threads = prod(block)
        self.prologue = Block()
        self.body = Block()
        self.here = InsertPoint.at_end(self.body)
        """Where block-level ops go (outside the thread loops)."""
        self.phase: _Phase | None = None
        self.constants: dict[int, SSAValue] = {}
        self.uniform: dict[SSAValue, SSAValue] = dict(zip(kernel.body.block.args, arguments, strict=True))
        """Kernel value -> its block-level value, for values the same in every thread of a block."""
        self.slots: dict[SSAValue, SSAValue] = {}
        """Kernel value -> the per-thread buffer that carries it from one phase to the next."""
        self.expanded_buffers: set[SSAValue] = set()
        """Thread-local buffers given a leading thread dimension."""
        self.phase_numbers: dict[Operation, int] = {}
        self.recomputable: dict[SSAValue, bool] = {}
        self.block_ids: tuple[SSAValue, SSAValue, SSAValue] = (self._constant(0),) * 3

    def emit(self) -> list[Operation]:
        """The ops that replace the launch: prologue, then the loops over blocks and threads."""
        self._number_phases(self.kernel.body.block, 0)
        _, self.block_ids, self.here = self._loop_nest(self.grid, self.here, "b")
        self._emit_sequence(self.kernel.body.block)
        self._close_phase()
        ops = [*self.prologue.ops, *self.body.ops]
        for op in ops:
            op.detach()
        return ops

    # Analysis: which phase each op runs in.

    def _number_phases(self, block: Block, number: int) -> int:
        """Number the ops of `block` by phase, from `number`; the number of its last phase.

        A barrier starts a new phase. An op with a barrier inside reads its
        operands at the end of the phase before it, its blocks start phases
        of their own, and the ops after it start another.
        """
        for op in block.ops:
            if isinstance(op, gpu.BarrierOp):
                number += 1
            elif _contains_barrier(op):
                self.phase_numbers[op] = number
                for region in op.regions:
                    for nested in region.blocks:
                        number = self._number_phases(nested, number + 1)
                number += 1
            else:
                self.phase_numbers[op] = number
        return number

    def _phase_of_user(self, op: Operation) -> int:
        user: Operation | None = op
        while user is not None and user not in self.phase_numbers:
            user = user.parent_op()
        assert user is not None, f"{op.name} is not in the kernel"
        return self.phase_numbers[user]

    def _used_in_other_phases(self, value: SSAValue, definer: Operation) -> bool:
        number = self.phase_numbers[definer]
        return any(self._phase_of_user(use.operation) != number for use in value.uses)

    # Emission, op by op.

    def _emit_sequence(self, block: Block) -> None:
        for op in block.ops:
            if not op.has_trait(IsTerminator):
                self._emit_op(op)

    def _emit_op(self, op: Operation) -> None:
        if isinstance(op, gpu.BarrierOp):
            self._close_phase()
        elif _contains_barrier(op):
            self._emit_op_with_barrier(op)
        elif self._is_uniform(op):
            self._emit_uniform(op)
        elif op.results and all(self._is_recomputable(result) for result in op.results):
            pass  # thread ids and pure arithmetic on them: computed in each phase that uses them
        elif isinstance(op, memref.AllocaOp) and self._used_in_other_phases(op.memref, op):
            self._expand_thread_local_buffer(op)
        else:
            self._emit_in_phase(op)

    def _is_uniform(self, op: Operation) -> bool:
        """Whether `op` computes the same in every thread of a block, from block-level values only."""
        if op.dialect_name() == "gpu":
            return isinstance(op, gpu.BlockIdOp | gpu.BlockDimOp | gpu.GridDimOp)
        if isinstance(op, memref.AllocaOp) and _memory_space(op.memref.type) is not None:
            return True
        return (
            not op.regions
            and is_side_effect_free(op)
            and all(operand in self.uniform for operand in op.operands)
        )

    def _emit_uniform(self, op: Operation) -> None:
        if isinstance(op, gpu.BlockIdOp):
            self.uniform[op.result] = self.block_ids[_dimension(op)]
        elif isinstance(op, gpu.BlockDimOp):
            self.uniform[op.result] = self._constant(self.block[_dimension(op)])
        elif isinstance(op, gpu.GridDimOp):
            self.uniform[op.result] = self._constant(self.grid[_dimension(op)])
        elif isinstance(op, memref.AllocaOp):
            self.uniform[op.memref] = self._allocate_shared_memory(op)
        else:
            clone = op.clone(value_mapper={operand: self.uniform[operand] for operand in op.operands})
            at = InsertPoint.before(self.phase.root) if self.phase and self.phase.root else self.here
            Rewriter.insert_op(clone, at)
            self.uniform.update(zip(op.results, clone.results, strict=True))

    def _allocate_shared_memory(self, op: memref.AllocaOp) -> SSAValue:
        type_ = op.memref.type
        assert isinstance(type_, MemRefType)
        if _memory_space(type_) != SHARED_MEMORY_SPACE:
            raise LoweringError(
                f"convert-gpu-to-cpu: memref.alloca of {type_} in @{self._kernel_name()}: "
                f"memory space {_memory_space(type_)} is not shared memory ({SHARED_MEMORY_SPACE})"
            )
        if op.dynamic_sizes:
            raise LoweringError(
                f"convert-gpu-to-cpu: shared memory {type_} in @{self._kernel_name()} has a dynamic size"
            )
        shared = memref.AllocaOp.get(type_.element_type, op.alignment, type_.get_shape(), layout=type_.layout)
        shared.memref.name_hint = op.memref.name_hint
        self.prologue.add_op(shared)
        return shared.memref

    def _expand_thread_local_buffer(self, op: memref.AllocaOp) -> None:
        """One buffer for all threads, with a leading thread dimension, for a buffer used across barriers."""
        type_ = op.memref.type
        assert isinstance(type_, MemRefType)
        if op.dynamic_sizes or not isinstance(type_.layout, NoneAttr):
            raise LoweringError(
                f"convert-gpu-to-cpu: thread-local buffer {type_} in @{self._kernel_name()} is used across "
                "a barrier; only static buffers with the identity layout can be"
            )
        expanded = memref.AllocaOp.get(
            type_.element_type, op.alignment, (self.num_threads, *type_.get_shape())
        )
        expanded.memref.name_hint = op.memref.name_hint
        self.prologue.add_op(expanded)
        self.uniform[op.memref] = expanded.memref
        self.expanded_buffers.add(expanded.memref)

    def _emit_in_phase(self, op: Operation) -> None:
        phase = self._open_phase()
        mapping = {operand: self._value_in_phase(operand) for operand in _external_operands(op)}
        clone = op.clone(value_mapper=mapping)
        Rewriter.insert_op(clone, phase.at)
        clone = self._localize(clone, phase)
        for result, cloned in zip(op.results, clone.results, strict=True):
            phase.values[result] = cloned
            if not self._is_recomputable(result) and self._used_in_other_phases(result, op):
                self._store(cloned, self._slot_for(result), phase)

    def _localize(self, clone: Operation, phase: _Phase) -> Operation:
        """Replace, in the cloned op and inside it, what names a thread, block or per-thread buffer.

        Returns the op that takes the place of `clone`.
        """
        replacement = clone
        for op in list(clone.walk()):
            new_op = self._localized_op(op, phase)
            if new_op is None:
                continue
            if isinstance(new_op, SSAValue):
                op.results[0].replace_by(new_op)
                Rewriter.erase_op(op)
            else:
                Rewriter.replace_op(op, new_op)
                if op is clone:
                    replacement = new_op
        return replacement

    def _localized_op(self, op: Operation, phase: _Phase) -> SSAValue | Operation | None:
        match op:
            case gpu.ThreadIdOp():
                return phase.thread_ids[_dimension(op)]
            case gpu.BlockIdOp():
                return self.block_ids[_dimension(op)]
            case gpu.BlockDimOp():
                return self._constant(self.block[_dimension(op)])
            case gpu.GridDimOp():
                return self._constant(self.grid[_dimension(op)])
            case memref.LoadOp() if op.memref in self.expanded_buffers:
                return memref.LoadOp.get(op.memref, [self._linear_id(phase), *op.indices])
            case memref.StoreOp() if op.memref in self.expanded_buffers:
                return memref.StoreOp.get(op.value, op.memref, [self._linear_id(phase), *op.indices])
            case memref.AllocaOp() if _memory_space(op.memref.type) is not None:  # pyright: ignore[reportArgumentType]
                raise LoweringError(
                    f"convert-gpu-to-cpu: shared memory {op.memref.type} in @{self._kernel_name()} is "
                    "allocated inside a region; allocate it at the top level of the kernel"
                )
            case _ if op.dialect_name() == "gpu":
                raise LoweringError(
                    f"convert-gpu-to-cpu: {op.name} in @{self._kernel_name()} has no CPU counterpart "
                    "(supported: thread and block ids and sizes, gpu.barrier)"
                )
            case _:
                pass
        if any(operand in self.expanded_buffers for operand in op.operands):
            raise LoweringError(
                f"convert-gpu-to-cpu: {op.name} in @{self._kernel_name()} uses a thread-local buffer that "
                "lives across a barrier; only memref.load and memref.store may"
            )
        return None

    # Values in a phase.

    def _value_in_phase(self, value: SSAValue) -> SSAValue:
        """The value of kernel value `value` in the open phase: block-level, recomputed, or loaded."""
        phase = self._open_phase()
        if (known := phase.values.get(value)) is not None:
            return known
        if (uniform := self.uniform.get(value)) is not None:
            return uniform
        if isinstance(value, OpResult) and isinstance(value.op, gpu.ThreadIdOp):
            result = phase.thread_ids[_dimension(value.op)]
        elif (slot := self.slots.get(value)) is not None:
            load = memref.LoadOp.get(slot, [self._linear_id(phase)])
            Rewriter.insert_op(load, phase.at)
            result = load.res
        elif self._is_recomputable(value):
            assert isinstance(value, OpResult)
            operands = {operand: self._value_in_phase(operand) for operand in value.op.operands}
            clone = value.op.clone(value_mapper=operands)
            Rewriter.insert_op(clone, phase.at)
            phase.values.update(zip(value.op.results, clone.results, strict=True))
            result = clone.results[value.index]
        else:
            raise LoweringError(
                f"convert-gpu-to-cpu: value %{value.name_hint or '?'} of type {value.type} in "
                f"@{self._kernel_name()} is used in a phase where it is not available"
            )
        phase.values[value] = result
        return result

    def _is_recomputable(self, value: SSAValue) -> bool:
        """Whether `value` is pure arithmetic of thread ids and block-level values, cheap to compute again."""
        if value in self.uniform:
            return True
        if (known := self.recomputable.get(value)) is not None:
            return known
        result = isinstance(value, OpResult) and (
            isinstance(value.op, gpu.ThreadIdOp)
            or (
                not value.op.regions
                and is_side_effect_free(value.op)
                and all(self._is_recomputable(operand) for operand in value.op.operands)
            )
        )
        self.recomputable[value] = result
        return result

    def _slot_for(self, value: SSAValue) -> SSAValue:
        """A new per-thread buffer carrying `value` across barriers."""
        if not _is_slot_type(value.type):
            raise LoweringError(
                f"convert-gpu-to-cpu: a value of type {value.type} in @{self._kernel_name()} lives across "
                "a barrier; only scalars can"
            )
        slot = memref.AllocaOp.get(value.type, shape=(self.num_threads,))
        if value.name_hint is not None:
            slot.memref.name_hint = f"{value.name_hint}_per_thread"
        self.prologue.add_op(slot)
        self.slots[value] = slot.memref
        return slot.memref

    def _store(self, value: SSAValue, slot: SSAValue, phase: _Phase) -> None:
        Rewriter.insert_op(memref.StoreOp.get(value, slot, [self._linear_id(phase)]), phase.at)

    def _store_at_phase_end(self, values: Sequence[SSAValue], slots: Sequence[SSAValue]) -> None:
        """Store `values` into `slots` at the end of the open phase (all read before any is stored)."""
        if not values:
            return
        phase = self._open_phase()
        stored = [self._value_in_phase(value) for value in values]
        for value, slot in zip(stored, slots, strict=True):
            self._store(value, slot, phase)

    # Control flow with barriers inside.

    def _emit_op_with_barrier(self, op: Operation) -> None:
        if isinstance(op, scf.ForOp):
            self._emit_loop_with_barrier(op)
        elif isinstance(op, scf.IfOp):
            self._emit_if_with_barrier(op)
        else:
            raise LoweringError(
                f"convert-gpu-to-cpu: {op.name} in @{self._kernel_name()} holds a gpu.barrier; "
                "only scf.for and scf.if can"
            )

    def _emit_loop_with_barrier(self, op: scf.ForOp) -> None:
        if not all(bound in self.uniform for bound in (op.lb, op.ub, op.step)):
            raise self._divergent_barrier("scf.for whose bounds depend on the thread")
        slots = [self._slot_for(result) for result in op.results]
        self._store_at_phase_end(op.iter_args, slots)
        self._close_phase()
        old_body = op.body.block
        body = Block([scf.YieldOp()], arg_types=[old_body.args[0].type])
        loop = scf.ForOp(self.uniform[op.lb], self.uniform[op.ub], self.uniform[op.step], [], body)
        Rewriter.insert_op(loop, self.here)
        body.args[0].name_hint = old_body.args[0].name_hint
        self.uniform[old_body.args[0]] = body.args[0]
        self.slots.update(zip(old_body.args[1:], slots, strict=True))
        self._emit_nested_block(old_body, body, slots)

    def _emit_if_with_barrier(self, op: scf.IfOp) -> None:
        if op.cond not in self.uniform:
            raise self._divergent_barrier("scf.if whose condition depends on the thread")
        slots = [self._slot_for(result) for result in op.results]
        self._close_phase()
        regions = [Region(Block([scf.YieldOp()])) if region.blocks else Region() for region in op.regions]
        new_if = scf.IfOp(self.uniform[op.cond], [], *regions)
        Rewriter.insert_op(new_if, self.here)
        for old_region, region in zip(op.regions, regions, strict=True):
            if old_region.blocks:
                self._emit_nested_block(old_region.block, region.block, slots)

    def _emit_nested_block(self, old: Block, new: Block, slots: Sequence[SSAValue]) -> None:
        """Emit the ops of `old` into `new` (which ends with its yield); store what `old` yields into `slots`."""
        terminator = old.last_op
        assert terminator is not None
        with self._block_level_at(InsertPoint.before(new.last_op)):  # pyright: ignore[reportArgumentType]
            self._emit_sequence(old)
            self._store_at_phase_end(terminator.operands, slots)
            self._close_phase()

    def _divergent_barrier(self, where: str) -> LoweringError:
        return LoweringError(
            f"convert-gpu-to-cpu: gpu.barrier in @{self._kernel_name()} inside {where} "
            "(a barrier must be reached by all threads of a block)"
        )

    # Building blocks.

    @contextlib.contextmanager
    def _block_level_at(self, at: InsertPoint) -> Iterator[None]:
        outer = self.here
        self.here = at
        try:
            yield
        finally:
            self.here = outer

    def _open_phase(self) -> _Phase:
        if self.phase is None:
            root, thread_ids, at = self._loop_nest(self.block, self.here, "t")
            self.phase = _Phase(root, at, thread_ids)
        return self.phase

    def _close_phase(self) -> None:
        self.phase = None

    def _loop_nest(
        self, extents: tuple[int, int, int], at: InsertPoint, prefix: str
    ) -> tuple[Operation | None, tuple[SSAValue, SSAValue, SSAValue], InsertPoint]:
        """Loops z, y, x (outer to inner) over the `extents` above 1, inserted at `at`.

        Their induction variables are named `prefix` + x, y or z.
        Returns the outermost loop (None if no loop), the x, y, z induction
        variables (constant 0 where the extent is 1) and the end of the
        innermost body.
        """
        ids = [self._constant(0)] * 3
        root: Operation | None = None
        for dimension in (2, 1, 0):
            if extents[dimension] == 1:
                continue
            body = Block([scf.YieldOp()], arg_types=[IndexType()])
            loop = scf.ForOp(
                self._constant(0), self._constant(extents[dimension]), self._constant(1), [], body
            )
            body.args[0].name_hint = prefix + "xyz"[dimension]
            Rewriter.insert_op(loop, at)
            root = root or loop
            ids[dimension] = body.args[0]
            at = InsertPoint.before(body.last_op)  # pyright: ignore[reportArgumentType]
        return root, (ids[0], ids[1], ids[2]), at

    def _linear_id(self, phase: _Phase) -> SSAValue:
        """The thread's index among the block's threads, made at the start of the phase's innermost loop."""
        if phase.linear_id is not None:
            return phase.linear_id
        ops: list[Operation] = []
        linear: SSAValue | None = None
        for dimension in (2, 1, 0):
            if self.block[dimension] == 1:
                continue
            thread_id = phase.thread_ids[dimension]
            if linear is None:
                linear = thread_id
                continue
            scaled = arith.MuliOp(linear, self._constant(self.block[dimension]))
            summed = arith.AddiOp(scaled, thread_id)
            ops += [scaled, summed]
            linear = summed.result
        if linear is None:
            linear = self._constant(0)
        if ops:
            linear.name_hint = "thread"
            first = phase.at.block.first_op
            Rewriter.insert_op(ops, InsertPoint.before(first) if first else phase.at)
        phase.linear_id = linear
        return linear

    def _constant(self, value: int) -> SSAValue:
        if value not in self.constants:
            constant = arith.ConstantOp(IntegerAttr(value, IndexType()))
            constant.result.name_hint = f"c{value}"
            self.prologue.add_op(constant)
            self.constants[value] = constant.result
        return self.constants[value]

    def _kernel_name(self) -> str:
        return self.kernel.sym_name.data


def _constant_launch_size(launch: gpu.LaunchFuncOp, value: SSAValue, what: str) -> int:
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    raise LoweringError(f"convert-gpu-to-cpu: gpu.launch_func {launch.kernel}: the {what} is not a constant")


def _launched_kernel(launch: gpu.LaunchFuncOp) -> gpu.FuncOp:
    """The kernel `launch` starts, after checking that the CPU can run it."""
    kernel = SymbolTable.lookup_symbol(launch, launch.kernel)
    if not isinstance(kernel, gpu.FuncOp) or kernel.kernel is None:
        raise LoweringError(f"convert-gpu-to-cpu: gpu.launch_func {launch.kernel}: no such gpu.func kernel")
    if launch.asyncDependencies or launch.asyncToken or launch.asyncObject:
        raise LoweringError(
            f"convert-gpu-to-cpu: gpu.launch_func {launch.kernel}: async launches are not supported"
        )
    if launch.dynamicSharedMemorySize is not None or launch.clusterSizeX is not None:
        raise LoweringError(
            f"convert-gpu-to-cpu: gpu.launch_func {launch.kernel}: dynamic shared memory and clusters "
            "are not supported"
        )
    if len(kernel.body.blocks) != 1:
        raise LoweringError(
            f"convert-gpu-to-cpu: @{kernel.sym_name.data} has {len(kernel.body.blocks)} blocks; "
            "only kernels of structured control flow (one block) are supported"
        )
    if len(launch.kernelOperands) != len(kernel.body.block.args):
        raise LoweringError(
            f"convert-gpu-to-cpu: gpu.launch_func {launch.kernel} passes {len(launch.kernelOperands)} "
            f"arguments to a kernel of {len(kernel.body.block.args)}"
        )
    return kernel


class LowerLaunchFuncOp(RewritePattern):
    """gpu.launch_func -> loops over the blocks of the grid holding the kernel, split at its barriers."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: gpu.LaunchFuncOp, rewriter: PatternRewriter, /):
        kernel = _launched_kernel(op)
        grid = (
            _constant_launch_size(op, op.gridSizeX, "grid size x"),
            _constant_launch_size(op, op.gridSizeY, "grid size y"),
            _constant_launch_size(op, op.gridSizeZ, "grid size z"),
        )
        block = (
            _constant_launch_size(op, op.blockSizeX, "block size x"),
            _constant_launch_size(op, op.blockSizeY, "block size y"),
            _constant_launch_size(op, op.blockSizeZ, "block size z"),
        )
        if min(grid + block) < 1:
            raise LoweringError(f"convert-gpu-to-cpu: gpu.launch_func {op.kernel}: sizes must be positive")
        ops = _LaunchEmitter(kernel, op.kernelOperands, grid, block).emit()
        rewriter.insert(ops, InsertPoint.before(op))
        rewriter.erase(op)


@dataclass(frozen=True)
class ConvertGPUToCPUPass(ModulePass):
    """Run each `gpu.launch_func` as loops over blocks and threads; remove the `gpu.module`s.

    No options. The result is a CPU module that `convert-to-llvm` compiles.
    """

    name = "convert-gpu-to-cpu"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(LowerLaunchFuncOp(), apply_recursively=False).rewrite_module(op)
        for gpu_module in [nested for nested in op.ops if isinstance(nested, gpu.ModuleOp)]:
            Rewriter.erase_op(gpu_module, safe_erase=False)
        op.attributes.pop("gpu.container_module", None)
