"""Emit the loop nests of a scheduled State as `scf`/`memref`/`arith` IR.

The function over memrefs takes the placeholders, then one out-parameter per
output. Stages at root get their loops in DAG order; a stage computed at a
loop of its consumer is emitted inside that loop, for the region bound
inference found, into a local buffer indexed relative to the region's base;
an inlined stage has no loops and is evaluated where it is read.

A reduction is emitted as TVM does: the loops outside its first reduce loop
are shared, then an init nest stores the identity over the remaining
spatial loops, then the main nest accumulates. Loops that can step outside
the domain (non-dividing splits, regions reaching past an edge) guard the
body with `scf.if`. Loop annotations are kept as a `sched.annotation`
attribute on the `scf.for` for the passes that implement them.

For a GPU (`gpu=True`), loops bound to blockIdx / threadIdx / vthread are
emitted like the others, for `convert-bound-loops-to-gpu` to turn into a
kernel; a stage in shared memory gets the region of its whole thread block
(see `bound_inference`), a buffer in memory space 3 (`SHARED_MEMORY_SPACE`),
and a `gpu.barrier` before and after the loops that fill it, as TVM does.
A reduction whose reduce loop is bound to a thread axis (Ansor's
cross-thread reduction) accumulates a partial result per thread, then the
threads of that axis combine their partials through shared memory, between
barriers, and each holds the result.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.builder import Builder
from xdsl.dialects import arith, func, gpu, memref, scf
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.hints import isa

from schedopt.compute_dag import ComputeDAG
from schedopt.dialects import sched, te
from schedopt.dialects.sched import LoopAnnotation
from schedopt.errors import LoweringError, ScheduleError
from schedopt.index_builder import ConstantPool, IndexBuilder
from schedopt.reduction_identity import identity_constant
from schedopt.schedule.bound_inference import (
    THREAD_LOOP_ANNOTATIONS,
    BoundInference,
    RegionDim,
    StageBounds,
)
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import ComputeAtKind, Iterator, IteratorKind, Stage, StageKind

SHARED_MEMORY_SPACE = IntegerAttr(3, i64)
"""The memory space of a buffer shared by the threads of a GPU block (NVVM's addrspace(3))."""

_BLOCK_ANNOTATIONS = frozenset({LoopAnnotation.BLOCK_X, LoopAnnotation.BLOCK_Y, LoopAnnotation.BLOCK_Z})
_THREAD_ANNOTATIONS = frozenset({LoopAnnotation.THREAD_X, LoopAnnotation.THREAD_Y, LoopAnnotation.THREAD_Z})


def buffer_type(tensor_type: Attribute) -> MemRefType[Attribute]:
    """The memref type that holds a value of `tensor_type`."""
    assert isa(tensor_type, TensorType[Attribute])
    return MemRefType(tensor_type.element_type, tensor_type.get_shape())


_COMBINE: dict[te.ReductionKind, tuple[Callable[[SSAValue, SSAValue], Operation], ...]] = {
    te.ReductionKind.SUM: (arith.AddfOp, arith.AddiOp),
    te.ReductionKind.PROD: (arith.MulfOp, arith.MuliOp),
    te.ReductionKind.MAX: (arith.MaximumfOp, arith.MaxSIOp),
    te.ReductionKind.MIN: (arith.MinimumfOp, arith.MinSIOp),
}


@dataclass(frozen=True)
class StageBuffer:
    """Where a stage's values live: the memref, and the base of a region buffer (None at root)."""

    memref: SSAValue
    base: tuple[SSAValue, ...] | None
    relaxed_base: tuple[SSAValue, ...] | None = None
    """On a GPU, the base with the thread loops around the stage at zero (see `bound_inference`)."""


class ScheduledLowering:
    """Lower one workload under one State to a function of loop nests over memrefs."""

    def __init__(self, dag: ComputeDAG, state: State, gpu: bool = False):
        self.state = state = dag.concrete_state(state)
        self.gpu = gpu
        self.inference = BoundInference(dag, state, gpu=gpu)
        self.dag = self.inference.dag
        self.computes = {op.name_str: op for op in self.dag.compute_ops}
        self.buffers: dict[str, StageBuffer] = {}
        self.temporaries: list[SSAValue] = []

    def lower(self) -> func.FuncOp:
        """The memref function computing the workload under the schedule."""
        dag = self.dag
        names = [*dag.placeholder_names, *dag.output_names]
        arg_types = [buffer_type(self._tensor_type(name)) for name in names]
        function = func.FuncOp(dag.func_name, (arg_types, []))
        function.arg_attrs = ArrayAttr(
            DictionaryAttr({te.PLACEHOLDER_NAME_ATTR: StringAttr(name)}) for name in names
        )
        for name, arg in zip(names, function.body.block.args, strict=True):
            arg.name_hint = _ssa_name(name)
            self.buffers[name] = StageBuffer(arg, None)
        if self.gpu:
            self._check_gpu_bindings()
        for stage in self.state.stages:
            # Infer every stage's bounds first: it checks each attach point against the readers.
            if stage.kind == StageKind.COMPUTE and stage.compute_at != ComputeAtKind.INLINED:
                self.inference.bounds(stage.name)
        builder = Builder(InsertPoint.at_end(function.body.block))
        self.pool = ConstantPool(function.body.block)
        index = IndexBuilder(builder, self.pool)
        for stage in self.state.stages:
            if stage.kind == StageKind.COMPUTE and stage.compute_at == ComputeAtKind.ROOT:
                self._emit_stage(stage, index, None)
        for buffer in self.temporaries:
            builder.insert(memref.DeallocOp.get(buffer))
        builder.insert(func.ReturnOp())
        return function

    def _tensor_type(self, name: str) -> TensorType[Attribute]:
        op = self.dag.op(name)
        if op.compute is not None:
            return op.compute.result_type
        arg_type = self.dag.func.body.block.args[self.dag.placeholder_names.index(name)].type
        assert isa(arg_type, TensorType[Attribute])
        return arg_type

    # --- one stage -------------------------------------------------------------------

    def _check_gpu_bindings(self) -> None:
        """Refuse what a GPU kernel cannot run, naming the stage and loop."""
        for stage in self.state.stages:
            if stage.kind != StageKind.COMPUTE or stage.compute_at == ComputeAtKind.INLINED:
                continue
            bound = [it for it in stage.iters if it.annotation in _BLOCK_ANNOTATIONS | _THREAD_ANNOTATIONS]
            for it in bound:
                if it.kind != IteratorKind.SPATIAL and it.annotation in _BLOCK_ANNOTATIONS:
                    raise LoweringError(
                        f"stage {stage.name}: reduce loop {it.name} is bound to {it.annotation.value} "
                        "(blocks cannot combine their results: bind it to a thread axis, or rfactor it)"
                    )
                if it.annotation in _BLOCK_ANNOTATIONS and stage.attach is not None:
                    raise LoweringError(
                        f"stage {stage.name}: loop {it.name} is bound to {it.annotation.value}, but the stage "
                        f"is computed at loop {stage.attach[1]} of {stage.attach[0]} "
                        "(only a stage at root starts thread blocks)"
                    )
            if stage.compute_at != ComputeAtKind.ROOT:
                continue
            if stage.name in self.inference.relaxed:
                raise LoweringError(
                    f"stage {stage.name} is in shared memory but computed at root (shared memory lives in one "
                    "thread block: compute it at a loop of its reader)"
                )
            if not bound:
                raise LoweringError(
                    f"stage {stage.name}: no loop is bound to blockIdx or threadIdx (every stage at root is a "
                    "GPU kernel: bind its outer loops)"
                )

    def _emit_stage(
        self,
        stage: Stage,
        index: IndexBuilder,
        base: tuple[SSAValue, ...] | None,
        relaxed_base: tuple[SSAValue, ...] | None = None,
    ) -> None:
        compute = self.computes[stage.name]
        bounds = self.inference.bounds(stage.name)
        if stage.name not in self.buffers:
            memref_value = self._allocate(stage, compute, bounds, index)
            self.buffers[stage.name] = StageBuffer(memref_value, base, relaxed_base)
        leaves = list(stage.iters)
        first_reduce = next(
            (k for k, it in enumerate(leaves) if it.kind != IteratorKind.SPATIAL), len(leaves)
        )
        if any(it.kind == IteratorKind.MIXED for it in leaves):
            raise ScheduleError(f"stage {stage.name}: a fused loop mixes spatial and reduce iterators")
        ivs: dict[str, SSAValue] = {}
        inner = self._open_loops(stage, leaves[:first_reduce], bounds, index, ivs)
        kind = compute.reduction_kind
        shared_axis = self._cross_thread_axis(stage) if self.gpu else None
        if kind is not None and shared_axis is not None:
            self._emit_cross_thread_reduction(stage, compute, bounds, inner, ivs, kind, shared_axis)
            return
        if kind is not None:
            init_leaves = [it for it in leaves[first_reduce:] if it.kind == IteratorKind.SPATIAL]
            init_ivs = dict(ivs)
            init = self._open_loops(stage, init_leaves, bounds, inner, init_ivs, attach=False)
            self._emit_init(stage, compute, bounds, init, init_ivs, kind)
        inner = self._open_loops(stage, leaves[first_reduce:], bounds, inner, ivs)
        self._emit_update(stage, compute, bounds, inner, ivs)

    def _allocate(
        self, stage: Stage, compute: te.ComputeOp, bounds: StageBounds, index: IndexBuilder
    ) -> SSAValue:
        element = compute.element_type
        shape = list(compute.spatial_extents) if bounds.region is None else [r.extent for r in bounds.region]
        if stage.storage_align is not None:
            shape = _aligned_shape(stage, bounds, shape)
        if bounds.region is None:
            op = memref.AllocOp.get(element, alignment=64, shape=shape)
            self.temporaries.append(op.memref)
        elif stage.name in self.inference.relaxed:
            op = memref.AllocaOp.get(element, alignment=64, shape=shape, memory_space=SHARED_MEMORY_SPACE)
        else:
            op = memref.AllocaOp.get(element, alignment=64, shape=shape)
        index.builder.insert(op)
        op.results[0].name_hint = _ssa_name(compute.name_str)
        return op.results[0]

    def _open_loops(
        self,
        stage: Stage,
        leaves: Sequence[Iterator],
        bounds: StageBounds,
        index: IndexBuilder,
        ivs: dict[str, SSAValue],
        attach: bool = True,
    ) -> IndexBuilder:
        """Open one `scf.for` per leaf (outer to inner); emit the stages attached at each.

        A leaf of extent 1 opens no loop: its value is 0, which the index
        arithmetic folds away. Unrolling and vectorising would otherwise copy
        such loops many times over, for nothing.
        """
        for it in leaves:
            if bounds.extents[it.name] == 1:
                ivs[it.name] = index.const(0)
                if attach:
                    self._emit_attached(stage, it.name, bounds, index, ivs)
                continue
            zero, one, upper = index.const(0), index.const(1), index.const(bounds.extents[it.name])
            terminator = scf.YieldOp()
            body = Block([terminator], arg_types=[IndexType()])
            loop = scf.ForOp(zero, upper, one, [], body)
            annotation = it.annotation
            if annotation == LoopAnnotation.NONE and self._auto_unrolled(stage, it.name, bounds):
                annotation = LoopAnnotation.UNROLL
            if annotation != LoopAnnotation.NONE:
                loop.attributes[sched.LOOP_ANNOTATION] = sched.LoopAnnotationAttr(annotation)
            index.builder.insert(loop)
            iv = body.args[0]
            iv.name_hint = _ssa_name(it.name)
            ivs[it.name] = iv
            index = index.at(Builder(InsertPoint.before(terminator)))
            if attach:
                self._emit_attached(stage, it.name, bounds, index, ivs)
        return index

    @staticmethod
    def _auto_unrolled(stage: Stage, leaf: str, bounds: StageBounds) -> bool:
        """Whether `auto_unroll_max_step` covers the loop: its iterations, inner loops included."""
        if not stage.auto_unroll_max_step:
            return False
        names = [it.name for it in stage.iters]
        steps = math.prod(bounds.extents[name] for name in names[names.index(leaf) :])
        return steps <= stage.auto_unroll_max_step

    def _emit_attached(
        self, stage: Stage, leaf: str, bounds: StageBounds, index: IndexBuilder, ivs: dict[str, SSAValue]
    ) -> None:
        attached = [s for s in self.state.stages if s.attach == (stage.name, leaf)]
        if not attached:
            return
        # The value of each root axis of `stage` with the loops inside `leaf` at zero.
        origin_leaves = {name: ivs.get(name) or index.const(0) for name in bounds.loops.leaf_names}
        origin = self._global_values(stage, bounds, origin_leaves, index)
        relaxed = self._relaxed_origin(stage, bounds, origin_leaves, index)
        for producer in attached:
            region = self.inference.bounds(producer.name).region
            assert region is not None
            relaxed_base = None if relaxed is None else tuple(_region_base(r, relaxed, index) for r in region)
            if producer.name not in self.inference.relaxed:
                base = tuple(_region_base(r, origin, index) for r in region)
                self._emit_stage(producer, index, base, relaxed_base)
                continue
            # A shared buffer: every thread of the block waits until the others have read the old
            # contents, fills its part, and waits until all parts are there.
            _insert_barrier(index.builder)
            self._emit_stage(producer, index, relaxed_base, relaxed_base)
            _insert_barrier(index.builder)

    def _relaxed_origin(
        self, stage: Stage, bounds: StageBounds, origin_leaves: dict[str, SSAValue], index: IndexBuilder
    ) -> list[SSAValue] | None:
        """The origin with the thread loops of the block at zero: what shared regions are based on.

        None unless a shared stage is lowered for a GPU.
        """
        if not self.inference.relaxed:
            return None
        leaves = {
            name: index.const(0) if stage.iter(name).annotation in THREAD_LOOP_ANNOTATIONS else value
            for name, value in origin_leaves.items()
        }
        local = bounds.loops.root_values(leaves, bounds.extents, index)
        return _shifted(local, self.buffers[stage.name].relaxed_base, index)

    def _global_values(
        self, stage: Stage, bounds: StageBounds, leaf_values: dict[str, SSAValue], index: IndexBuilder
    ) -> list[SSAValue]:
        """Root-axis values in the stage's whole domain (adding the region base of an attached stage)."""
        local = bounds.loops.root_values(leaf_values, bounds.extents, index)
        return _shifted(local, self.buffers[stage.name].base, index)

    # --- the statements ----------------------------------------------------------------

    def _guarded(
        self,
        stage: Stage,
        bounds: StageBounds,
        index: IndexBuilder,
        leaf_values: dict[str, SSAValue],
        axes: range,
    ) -> tuple[IndexBuilder, list[SSAValue], list[SSAValue]]:
        """The local and global values of root axes `axes`, and a builder inside the guard
        that keeps every split in range and the global values in the stage's domain."""
        compute = self.computes[stage.name]
        domain = (*compute.spatial_extents, *compute.reduce_extent_values)
        loops = bounds.loops
        all_values = loops.values(leaf_values, bounds.extents, index)
        local = [all_values[name] for name in loops.root_names]
        values = list(local)
        relevant = loops.derived_from({loops.root_names[a] for a in axes})
        conditions = [
            index.less(all_values[name], bounds.extents[name])
            for name in loops.overflowing(bounds.extents)
            if name in relevant
        ]
        base = self.buffers[stage.name].base
        for axis in axes:
            if base is None or axis >= len(base):
                continue
            values[axis] = index.add(base[axis], local[axis])
            low, high = bounds.value_ranges[axis]
            if low < 0:
                conditions.append(index.at_least(values[axis], 0))
            if high >= domain[axis]:
                conditions.append(index.less(values[axis], domain[axis]))
        if not conditions:
            return index, local, values
        terminator = scf.YieldOp()
        index.builder.insert(scf.IfOp(index.all(conditions), [], [Block([terminator])]))
        return index.at(Builder(InsertPoint.before(terminator))), local, values

    def _emit_init(
        self,
        stage: Stage,
        compute: te.ComputeOp,
        bounds: StageBounds,
        index: IndexBuilder,
        ivs: dict[str, SSAValue],
        kind: te.ReductionKind,
    ) -> None:
        leaf_values = {name: ivs.get(name) or index.const(0) for name in bounds.loops.leaf_names}
        spatial = range(len(compute.spatial_extents))
        inner, local, _ = self._guarded(stage, bounds, index, leaf_values, spatial)
        init = identity_constant(kind, compute.element_type)
        inner.builder.insert(init)
        store_at = [local[a] for a in spatial]
        inner.builder.insert(memref.StoreOp.get(init.result, self.buffers[stage.name].memref, store_at))

    def _emit_update(
        self,
        stage: Stage,
        compute: te.ComputeOp,
        bounds: StageBounds,
        index: IndexBuilder,
        ivs: dict[str, SSAValue],
        accumulator: SSAValue | None = None,
    ) -> None:
        """Store the stage's value (a reduction: combine it) at the point of `ivs`; with an
        `accumulator` (a one-element buffer), into that instead."""
        inner, local, values = self._guarded(stage, bounds, index, ivs, range(len(bounds.loops.root_names)))
        value = self._emit_body(compute, values, inner.builder)
        out = self.buffers[stage.name].memref if accumulator is None else accumulator
        store_at = local[: len(compute.spatial_extents)] if accumulator is None else [index.const(0)]
        kind = compute.reduction_kind
        if kind is not None:
            acc = memref.LoadOp.get(out, store_at)
            inner.builder.insert(acc)
            combine = _COMBINE[kind][1 if isinstance(compute.element_type, IntegerType) else 0]
            combined = combine(acc.res, value)
            inner.builder.insert(combined)
            value = combined.results[0]
        inner.builder.insert(memref.StoreOp.get(value, out, store_at))

    # --- cross-thread reductions (GPU) ---------------------------------------------------

    def _cross_thread_axis(self, stage: Stage) -> Iterator | None:
        """The reduce loop of `stage` bound to a thread axis, if any (at most one, after the spatial loops)."""
        bound = [
            it
            for it in stage.iters
            if it.kind == IteratorKind.REDUCE and it.annotation in _THREAD_ANNOTATIONS
        ]
        if not bound:
            return None
        if len(bound) > 1:
            raise LoweringError(
                f"stage {stage.name}: reduce loops {', '.join(it.name for it in bound)} are all bound to threads "
                "(a cross-thread reduction binds one)"
            )
        first_reduce = next(k for k, it in enumerate(stage.iters) if it.kind != IteratorKind.SPATIAL)
        inside = [it.name for it in stage.iters[first_reduce:] if it.kind != IteratorKind.REDUCE]
        if inside:
            raise LoweringError(
                f"stage {stage.name}: spatial loops {', '.join(inside)} are inside the reduce loops of a "
                f"cross-thread reduction over {bound[0].name} (put the spatial loops outside)"
            )
        return bound[0]

    def _block_threads(self, stage: Stage) -> dict[LoopAnnotation, int]:
        """The threads of the block `stage` runs in, along each thread axis: the largest extent bound to
        it by the stages of its kernel (the stage at root it is computed in, and those computed inside)."""
        path = self.state.attach_path(stage.name)
        root = path[-1][0] if path else stage.name
        sizes = dict.fromkeys(sorted(_THREAD_ANNOTATIONS), 1)
        for other in self.state.stages:
            other_path = self.state.attach_path(other.name) if other.compute_at == ComputeAtKind.ITER else []
            if other.name != root and (not other_path or other_path[-1][0] != root):
                continue
            extents = self.inference.bounds(other.name).extents
            for it in other.iters:
                if it.annotation in sizes:
                    sizes[it.annotation] = max(sizes[it.annotation], extents[it.name])
        return sizes

    def _emit_cross_thread_reduction(
        self,
        stage: Stage,
        compute: te.ComputeOp,
        bounds: StageBounds,
        index: IndexBuilder,
        ivs: dict[str, SSAValue],
        kind: te.ReductionKind,
        shared_axis: Iterator,
    ) -> None:
        """At one spatial point: each thread reduces its share into a private accumulator, then the
        threads along `shared_axis` combine their partials (`_combine_across_threads`)."""
        element = compute.element_type
        builder = index.builder
        accumulator = memref.AllocaOp.get(element, shape=[1])
        accumulator.memref.name_hint = _ssa_name(f"{stage.name}.partial")
        builder.insert(accumulator)
        identity = identity_constant(kind, element)
        builder.insert(identity)
        builder.insert(memref.StoreOp.get(identity.result, accumulator.memref, [index.const(0)]))
        leaves = list(stage.iters)
        first_reduce = next(k for k, it in enumerate(leaves) if it.kind != IteratorKind.SPATIAL)
        inner = self._open_loops(stage, leaves[first_reduce:], bounds, index, ivs)
        self._emit_update(stage, compute, bounds, inner, ivs, accumulator.memref)
        extent = bounds.extents[shared_axis.name]
        if extent > 1:
            self._combine_across_threads(
                stage, index, accumulator.memref, element, kind, shared_axis.annotation, extent
            )
        # Every thread holds the result; each stores it (the same value) where the stage's loops say.
        leaf_values = {name: ivs.get(name) or index.const(0) for name in bounds.loops.leaf_names}
        for it in leaves[first_reduce:]:
            leaf_values[it.name] = index.const(0)
        spatial = range(len(compute.spatial_extents))
        guarded, local, _ = self._guarded(stage, bounds, index, leaf_values, spatial)
        result = guarded.builder.insert(memref.LoadOp.get(accumulator.memref, [index.const(0)])).res
        out = self.buffers[stage.name].memref
        guarded.builder.insert(memref.StoreOp.get(result, out, [local[a] for a in spatial]))

    def _combine_across_threads(
        self,
        stage: Stage,
        index: IndexBuilder,
        accumulator: SSAValue,
        element: Attribute,
        kind: te.ReductionKind,
        axis: LoopAnnotation,
        extent: int,
    ) -> None:
        """Combine the accumulators of the `extent` threads along `axis`; each gets the result.

        Each thread puts its partial into its slot of a shared buffer with a
        slot per thread of the block; then a tree: while n > 1 slots are live
        (n = `extent` first), with s the largest power of two below n, the
        threads t < n - s add slot t + s to slot t, all wait at a barrier, and
        n becomes s. Slot 0 along `axis` holds the result.
        """
        builder = index.builder
        threads = {a: n for a, n in self._block_threads(stage).items() if n > 1}
        partials = memref.AllocaOp.get(
            element, alignment=64, shape=list(threads.values()), memory_space=SHARED_MEMORY_SPACE
        )
        partials.memref.name_hint = _ssa_name(f"{stage.name}.partials")
        builder.insert(partials)
        ids: dict[LoopAnnotation, SSAValue] = {}
        for annotation in threads:
            dim = gpu.DimensionAttr(gpu.DimensionEnum(annotation.value[-1]))
            ids[annotation] = builder.insert(gpu.ThreadIdOp(dim)).results[0]
        zero = index.const(0)
        _insert_barrier(builder)
        partial = builder.insert(memref.LoadOp.get(accumulator, [zero])).res
        builder.insert(memref.StoreOp.get(partial, partials.memref, [ids[a] for a in threads]))
        _insert_barrier(builder)
        combine = _COMBINE[kind][1 if isinstance(element, IntegerType) else 0]
        own = ids[axis]
        live = extent
        while live > 1:
            step = 1 << ((live - 1).bit_length() - 1)
            terminator = scf.YieldOp()
            builder.insert(scf.IfOp(index.less(own, live - step), [], [Block([terminator])]))
            inside = Builder(InsertPoint.before(terminator))
            partner = index.at(inside).add(own, index.const(step))
            mine = inside.insert(memref.LoadOp.get(partials.memref, [ids[a] for a in threads])).res
            other = [partner if a == axis else ids[a] for a in threads]
            theirs = inside.insert(memref.LoadOp.get(partials.memref, other)).res
            combined = inside.insert(combine(mine, theirs)).results[0]
            inside.insert(memref.StoreOp.get(combined, partials.memref, [ids[a] for a in threads]))
            builder.insert(gpu.BarrierOp())
            live = step
        first = [zero if a == axis else ids[a] for a in threads]
        result = builder.insert(memref.LoadOp.get(partials.memref, first)).res
        builder.insert(memref.StoreOp.get(result, accumulator, [zero]))

    def _emit_body(
        self, compute: te.ComputeOp, iter_values: Sequence[SSAValue], builder: Builder
    ) -> SSAValue:
        """Clone `compute`'s body for the given iterator values; return the value it yields."""
        mapping: dict[SSAValue, SSAValue] = dict(zip(compute.iter_args, iter_values, strict=True))
        for op in compute.body.block.ops:
            if isinstance(op, te.YieldOp):
                return mapping.get(op.value, op.value)
            if isinstance(op, te.ReadOp):
                mapping[op.result] = self._emit_read(op, [mapping.get(i, i) for i in op.indices], builder)
                continue
            if isinstance(op, arith.DivUIOp | arith.RemUIOp) and (divisor := _index_divisor(op)) is not None:
                # Through the IndexBuilder, so that a layout-rewritten read's indices fold to loop variables.
                index, lhs = IndexBuilder(builder, self.pool), mapping.get(op.lhs, op.lhs)
                divide = index.floordiv if isinstance(op, arith.DivUIOp) else index.mod
                mapping[op.result] = divide(lhs, divisor)
                continue
            clone = op.clone(value_mapper=mapping)
            builder.insert(clone)
            mapping.update(zip(op.results, clone.results, strict=True))
            for read in [o for o in clone.walk() if isinstance(o, te.ReadOp)]:
                # A read inside an scf.if branch: emit it in place, in the branch.
                inner = Builder(InsertPoint.before(read))
                Rewriter.replace_op(read, [], [self._emit_read(read, list(read.indices), inner)])
        raise LoweringError(f'te.compute "{compute.name_str}" has no te.yield')

    def _emit_read(self, read: te.ReadOp, indices: list[SSAValue], builder: Builder) -> SSAValue:
        name = te.tensor_name(read.tensor)
        if self.state[name].compute_at == ComputeAtKind.INLINED:
            return self._emit_body(self.computes[name], indices, builder)
        buffer = self.buffers.get(name)
        if buffer is None:
            raise LoweringError(f"stage {name} is read before it is computed")
        if buffer.base is not None:
            index = IndexBuilder(builder, self.pool)
            indices = [index.sub(i, b) for i, b in zip(indices, buffer.base, strict=True)]
        load = memref.LoadOp.get(buffer.memref, indices)
        builder.insert(load)
        return load.res


def _index_divisor(op: arith.DivUIOp | arith.RemUIOp) -> int | None:
    """The positive constant an index division or remainder divides by, if it is one."""
    if not isinstance(op.lhs.type, IndexType) or not isinstance(op.rhs.owner, arith.ConstantOp):
        return None
    value = op.rhs.owner.value
    if not isinstance(value, IntegerAttr) or value.value.data <= 0:
        return None
    return value.value.data


def _aligned_shape(stage: Stage, bounds: StageBounds, shape: list[int]) -> list[int]:
    """Pad the dimension inside the aligned axis so that the axis' stride is `factor * k + offset`."""
    assert stage.storage_align is not None
    axis_name, factor, offset = stage.storage_align
    if axis_name not in bounds.loops.root_names[: len(shape)]:
        raise ScheduleError(
            f"storage_align of stage {stage.name}: {axis_name} must be a spatial axis of the stage, not a split loop"
        )
    axis = bounds.loops.root_names.index(axis_name)
    if axis + 1 == len(shape):
        return shape  # the innermost stride is one element: nothing to pad
    inner = math.prod(shape[axis + 2 :])
    for extra in range(factor):
        if ((shape[axis + 1] + extra) * inner) % factor == offset:
            return [*shape[: axis + 1], shape[axis + 1] + extra, *shape[axis + 2 :]]
    raise ScheduleError(
        f"storage_align of stage {stage.name} at {axis_name}: no padding of the next dimension gives a stride "
        f"of {factor} * k + {offset} (the dimensions inside it hold multiples of {inner} elements)"
    )


def _insert_barrier(builder: Builder) -> None:
    """A `gpu.barrier` at the builder, unless the op before it is one already."""
    point = builder.insertion_point
    previous = point.block.last_op if point.insert_before is None else point.insert_before.prev_op
    if not isinstance(previous, gpu.BarrierOp):
        builder.insert(gpu.BarrierOp())


def _region_base(region: RegionDim, origin: Sequence[SSAValue], index: IndexBuilder) -> SSAValue:
    base = index.const(region.offset)
    for axis, coeff in region.coeffs:
        base = index.add(base, index.mul(origin[axis], coeff))
    return base


def _ssa_name(name: str) -> str | None:
    clean = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return clean if clean and not clean[0].isdigit() else None


def lower_state(dag: ComputeDAG, state: State, gpu: bool = False) -> func.FuncOp:
    """The memref function computing `dag` under `state` (with `gpu`, for `convert-bound-loops-to-gpu`)."""
    return ScheduledLowering(dag, state, gpu).lower()


def _shifted(local: list[SSAValue], base: Sequence[SSAValue] | None, index: IndexBuilder) -> list[SSAValue]:
    """Root-axis values of a region (`local`) moved by the region's base; axes past the base stay as they are."""
    if base is None:
        return local
    return [index.add(b, v) for b, v in zip(base, local, strict=False)] + local[len(base) :]
