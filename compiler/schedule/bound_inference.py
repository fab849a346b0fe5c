"""Bound inference: the extent of every loop of a scheduled State.

A stage at root loops over its whole domain. A stage computed at loop `it`
of a stage `T` only produces the region its readers read while the loops of
`T` inside `it` run: for each dimension, `base + [0, extent)`, where the
base depends on the loops of `T` down to `it` and the extent does not. The
readers are `T`, or stages computed inside that loop (e.g. a shared-memory
copy computed at an inner loop of `T`, reading a cache computed at `it`):
their reads move with the bases of their own regions, composed down to `T`.
Reads are analysed as affine forms of the reader's axes (composed through
inlined stages); a read that is not affine, or a loop structure that is not
"origin + offset" (part of a fused loop fixed, part varying), makes the
dimension fall back to the whole domain, which is always correct.

The lowering emits the base from the same `RegionDim`s, and guards a stage
where its loops can step outside its domain (non-dividing splits, regions
that reach into padding).

For a GPU (`gpu=True`), a stage in shared memory is one buffer for all the
threads of a block, so its region covers what every thread of the block
reads (TVM's InferBound relaxes the thread loops for the `shared` scope):
the loops bound to threadIdx or vthread around its attach point, in its
target and in the stages the target is computed in, run too, and the
region's base is taken with them at zero (`relaxed origin`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Generic

from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerAttr
from xdsl.ir import BlockArgument, SSAValue

from schedopt.dag_view import DAG, DAGView
from schedopt.dialects import te
from schedopt.dialects.sched import LoopAnnotation
from schedopt.errors import ScheduleError
from schedopt.schedule.loop_nest import Interval, IntervalAlgebra, StageLoops, stage_loops
from schedopt.schedule.loop_state import State
from schedopt.schedule.loop_structure import loop_structure
from schedopt.schedule.stage import ComputeAtKind, StageKind
from schedopt.schedule.transform_steps import check_readers_inside


@dataclass(frozen=True)
class Affine:
    """`offset + sum(coeffs[a] * axis_a)` over the root axes of a stage."""

    coeffs: tuple[tuple[int, int], ...]
    offset: int

    @staticmethod
    def of(coeffs: dict[int, int], offset: int) -> Affine:
        return Affine(tuple(sorted((a, c) for a, c in coeffs.items() if c != 0)), offset)

    def plus(self, other: Affine, scale: int = 1) -> Affine:
        coeffs = dict(self.coeffs)
        for axis, c in other.coeffs:
            coeffs[axis] = coeffs.get(axis, 0) + scale * c
        return Affine.of(coeffs, self.offset + scale * other.offset)

    def scaled(self, factor: int) -> Affine:
        return Affine.of({a: c * factor for a, c in self.coeffs}, self.offset * factor)


Access = tuple[Affine | None, ...]
"""One read of a producer: an affine form (or None) per dimension."""


def index_form(value: SSAValue, compute: te.ComputeOp) -> Affine | None:
    """The affine form of an index value of a te.compute body over its iterators, if it has one."""
    if isinstance(value, BlockArgument):
        if value.owner is compute.body.block:
            return Affine.of({value.index: 1}, 0)
        return None
    op = value.owner
    if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
        return Affine.of({}, op.value.value.data)
    if isinstance(op, arith.AddiOp | arith.SubiOp):
        lhs, rhs = index_form(op.lhs, compute), index_form(op.rhs, compute)
        if lhs is None or rhs is None:
            return None
        return lhs.plus(rhs, 1 if isinstance(op, arith.AddiOp) else -1)
    if isinstance(op, arith.MuliOp):
        lhs, rhs = index_form(op.lhs, compute), index_form(op.rhs, compute)
        if lhs is None or rhs is None:
            return None
        if not lhs.coeffs:
            return rhs.scaled(lhs.offset)
        if not rhs.coeffs:
            return lhs.scaled(rhs.offset)
    return None


def _compose(form: Affine | None, inner: Access) -> Affine | None:
    """Substitute the axes of `form` by the forms `inner` (reading an inlined stage)."""
    if form is None:
        return None
    result = Affine.of({}, form.offset)
    for axis, coeff in form.coeffs:
        if inner[axis] is None:
            return None
        result = result.plus(inner[axis], coeff)  # type: ignore[arg-type]
    return result


@dataclass(frozen=True)
class RegionDim:
    """One dimension of a produced region: `base = offset + sum(coeff * origin(axis))`, `extent` long.

    `origin(axis)` is the value of the consumer's root axis `axis` when the
    loops inside the attach point are all at zero. With no coefficients the
    region is the whole dimension (`offset` 0, `extent` the domain).
    """

    coeffs: tuple[tuple[int, int], ...]
    offset: int
    extent: int


@dataclass(frozen=True)
class Span:
    """The values `sum(coeff * origin(axis)) + [lo, hi]` a quantity takes in one iteration of an attach loop.

    `origin(axis)` is as in RegionDim: the target's root axis `axis` with the
    loops inside the attach point at zero.
    """

    coeffs: tuple[tuple[int, int], ...]
    lo: int
    hi: int


def _substitute(form: Affine, values: Sequence[Span | None]) -> Span | None:
    """The values of `form` over axes that take `values` (None if one it uses is unknown)."""
    coeffs: dict[int, int] = {}
    lo = hi = form.offset
    for axis, coeff in form.coeffs:
        value = values[axis]
        if value is None:
            return None
        for origin, c in value.coeffs:
            coeffs[origin] = coeffs.get(origin, 0) + coeff * c
        lo += min(coeff * value.lo, coeff * value.hi)
        hi += max(coeff * value.lo, coeff * value.hi)
    return Span(Affine.of(coeffs, 0).coeffs, lo, hi)


@dataclass(frozen=True)
class StageBounds:
    """What the lowering needs to emit one stage's loops."""

    loops: StageLoops
    root_extents: tuple[int, ...]
    extents: dict[str, int]
    value_ranges: tuple[tuple[int, int], ...]
    """Smallest and largest value each root axis takes in the emitted loops, in the whole domain."""
    local_ranges: tuple[tuple[int, int], ...]
    """The same, from the stage's own loops only (relative to the region base)."""
    region: tuple[RegionDim, ...] | None
    """How to find the base of each spatial dimension, for a stage computed at a loop."""


THREAD_LOOP_ANNOTATIONS = frozenset(
    {LoopAnnotation.THREAD_X, LoopAnnotation.THREAD_Y, LoopAnnotation.THREAD_Z, LoopAnnotation.VTHREAD}
)
"""The loops of one thread block whose iterations share a `shared` buffer."""


def shared_stages(state: State, initial_state: State) -> frozenset[str]:
    """The stages that cache_read or cache_write put in the `shared` scope.

    Those, and only those, are the added stages named `*.shared`
    (`fresh_stage_name`): no replay of the steps needed.
    """
    initial = {stage.name for stage in initial_state.stages}
    return frozenset(
        stage.name for stage in state.stages if stage.name.endswith(".shared") and stage.name not in initial
    )


class BoundInference(Generic[DAG]):
    """Loop extents and regions of every stage of `state`."""

    def __init__(
        self,
        dag: DAG,
        state: State,
        loops: Mapping[str, StageLoops] | None = None,
        gpu: bool = False,
    ):
        """`loops`: the result of `stage_loops(state, dag.get_init_state())`, where the caller has it
        (the cost model's features cache the loop structure and skip the replay). `gpu`: regions of
        shared-scope stages cover their whole thread block (see the module docstring)."""
        state = dag.concrete_state(state)
        self.loops = stage_loops(state, dag.get_init_state()) if loops is None else loops
        self.relaxed = shared_stages(state, dag.get_init_state()) if gpu else frozenset[str]()
        """The stages whose regions cover every thread of their block."""
        self.dag = dag.apply_steps_from_state(state)
        """The DAG with the stages the steps added: what is lowered."""
        self.state = state
        self.computes = {op.name_str: op for op in self.dag.compute_ops}
        self._bounds: dict[str, StageBounds] = {}
        self._inferring: set[str] = set()

    def bounded_state(self) -> State:
        """A copy of the state with the extent of every iterator filled in."""
        result = self.state.copy()
        for index, stage in enumerate(result.stages):
            if stage.kind == StageKind.PLACEHOLDER or stage.compute_at == ComputeAtKind.INLINED:
                continue
            extents = self.bounds(stage.name).extents
            iters = tuple(replace(it, extent=extents[it.name]) for it in stage.iters)
            result.stages[index] = replace(stage, iters=iters)
        return result

    @cached_property
    def inlined(self) -> set[str]:
        return {s.name for s in self.state.stages if s.compute_at == ComputeAtKind.INLINED}

    def bounds(self, name: str) -> StageBounds:
        """The bounds of stage `name` (computing those of the stages it is attached to first)."""
        if name not in self._bounds:
            if name in self._inferring:
                raise ScheduleError(
                    f"compute_at of stage {name}: its region depends on itself (a cycle of attach points)"
                )
            self._inferring.add(name)
            try:
                self._bounds[name] = self._infer(name)
            finally:
                self._inferring.discard(name)
        return self._bounds[name]

    def reading_stages(self, producer: str) -> set[str]:
        """The non-inlined stages that read `producer`, directly or through inlined stages."""
        readers: set[str] = set()
        for consumer in self.dag.consumers(producer):
            readers |= self.reading_stages(consumer) if consumer in self.inlined else {consumer}
        return readers

    def accesses(self, consumer: str, producer: str) -> list[Access]:
        """Every read of `producer` by `consumer`'s body, over `consumer`'s root axes."""
        compute = self.computes[consumer]
        found: list[Access] = []
        for read in compute.body.walk():
            if not isinstance(read, te.ReadOp):
                continue
            source = te.tensor_name(read.tensor)
            forms = tuple(index_form(i, compute) for i in read.indices)
            if source == producer:
                found.append(forms)
            elif source in self.inlined:
                found += [tuple(_compose(f, forms) for f in a) for a in self.accesses(source, producer)]
        return found

    def _infer(self, name: str) -> StageBounds:
        stage = self.state[name]
        compute = self.computes[name]
        loops = self.loops[name]
        full = (*compute.spatial_extents, *compute.reduce_extent_values)
        if stage.compute_at != ComputeAtKind.ITER:
            extents = loops.extents(full)
            ranges = self._value_ranges(loops, extents)
            return StageBounds(loops, full, extents, ranges, ranges, None)
        assert stage.attach is not None
        target_name, target_iter = stage.attach
        if any(outer == name for outer, _ in self.state.attach_path(target_name)):
            raise ScheduleError(
                f"compute_at of stage {name} at {target_name}: {target_name} is computed inside {name}"
            )
        target = self.bounds(target_name)
        leaf_names = target.loops.leaf_names
        if target_iter not in leaf_names:
            raise ScheduleError(f"compute_at of stage {name}: {target_name} has no loop {target_iter}")
        check_readers_inside(self.state, name, target_name, target_iter)
        inside = leaf_names.index(target_iter) + 1
        # What each reader reads while one iteration of the target loop runs (the reader's loops,
        # and those of the stages around it inside that loop, all running).
        reads: list[list[Span | None]] = [[] for _ in compute.spatial_extents]
        relax = name in self.relaxed
        for reader in sorted(self.reading_stages(name)):
            values = self._spans(reader, len(self.loops[reader].leaf_names), target_name, inside, relax)
            for access in self.accesses(reader, name):
                for dim, form in enumerate(access):
                    reads[dim].append(None if form is None else _substitute(form, values))
        region = tuple(
            self._region_dim(dim_reads, size)
            for dim_reads, size in zip(reads, compute.spatial_extents, strict=True)
        )
        root_extents = (*(r.extent for r in region), *compute.reduce_extent_values)
        extents = loops.extents(root_extents)
        ranges = self._value_ranges(loops, extents)
        origin_ranges = self._origin_ranges(target, inside)
        global_ranges = tuple(
            self._global_range(r, origin_ranges, local) for r, local in zip(region, ranges, strict=False)
        )
        return StageBounds(
            loops, root_extents, extents, (*global_ranges, *ranges[len(region) :]), ranges, region
        )

    def _spans(
        self, name: str, running: int, target: str, inside: int, relax: bool = False
    ) -> list[Span | None]:
        """The values of stage `name`'s root axes during one iteration of `target`'s loop `inside - 1`.

        The stage's first `running` loops run, the others stay at zero. For
        the target itself only its loops from `inside` on run: the values are
        the origins plus offsets. A stage computed inside that loop (checked
        before) has its region's base, which moves with the loops around it,
        plus its own loops' values. None where a value is not origin + offset.
        With `relax`, the origins are the relaxed ones and the thread loops
        around the attach point run as well.
        """
        bounds = self.bounds(name)
        leaves = bounds.loops.leaf_names
        algebra = IntervalAlgebra()
        if name == target:
            offsets = self._target_offsets(name, inside, running, relax)
            return [Span(((axis, 1),), o.lo, o.hi) if o.exact else None for axis, o in enumerate(offsets)]
        stage = self.state[name]
        assert stage.attach is not None and bounds.region is not None
        outer, outer_leaf = stage.attach
        outer_leaves = self.bounds(outer).loops.leaf_names
        origins = self._spans(outer, outer_leaves.index(outer_leaf) + 1, target, inside, relax)
        own = {
            leaf: Interval(0, bounds.extents[leaf] - 1 if p < running else 0) for p, leaf in enumerate(leaves)
        }
        local = bounds.loops.root_values(own, bounds.extents, algebra)
        spans: list[Span | None] = []
        for axis, value in enumerate(local):
            base: Span | None = Span((), 0, 0)
            if axis < len(bounds.region):
                dim = bounds.region[axis]
                base = _substitute(Affine(dim.coeffs, dim.offset), origins)
            spans.append(None if base is None else Span(base.coeffs, base.lo + value.lo, base.hi + value.hi))
        return spans

    def _target_offsets(self, name: str, inside: int, running: int, relax: bool) -> list[Interval]:
        """The offsets of `name`'s root axes from their origins: its loops before `inside` fixed (but
        with `relax` the thread loops, which run), those from `inside` running up to `running`."""
        bounds = self.bounds(name)
        stage = self.state[name]
        fixed = Interval(0, 0, fixed=True)
        varying: dict[str, Interval] = {}
        for position, leaf in enumerate(bounds.loops.leaf_names):
            runs = position >= inside or (relax and stage.iter(leaf).annotation in THREAD_LOOP_ANNOTATIONS)
            if position < inside and not runs:
                varying[leaf] = fixed
            else:
                varying[leaf] = Interval(0, bounds.extents[leaf] - 1 if runs and position < running else 0)
        algebra = IntervalAlgebra()
        offsets = bounds.loops.root_values(varying, bounds.extents, algebra)
        if not relax:
            return offsets
        return [algebra.add(o, d) for o, d in zip(offsets, self._base_deltas(name), strict=True)]

    def _base_deltas(self, name: str) -> list[Interval]:
        """How far the base of `name`'s region moves as the thread loops around it run: its base
        minus its relaxed base (zero at root, and along the reduce axes)."""
        bounds = self.bounds(name)
        deltas = [Interval(0, 0)] * len(bounds.loops.root_names)
        if bounds.region is None:
            return deltas
        attach = self.state[name].attach
        assert attach is not None
        outer, outer_leaf = attach
        inside = self.bounds(outer).loops.leaf_names.index(outer_leaf) + 1
        origin = self._target_offsets(outer, inside, inside, relax=True)
        algebra = IntervalAlgebra()
        for dim, region in enumerate(bounds.region):
            delta = Interval(0, 0)
            for axis, coeff in region.coeffs:
                delta = algebra.add(delta, algebra.mul(origin[axis], coeff))
            deltas[dim] = Interval(delta.lo, delta.hi, delta.exact)
        return deltas

    @staticmethod
    def _value_ranges(loops: StageLoops, extents: dict[str, int]) -> tuple[tuple[int, int], ...]:
        """The values each root axis takes as all the stage's loops run."""
        leaves = {leaf: Interval(0, extents[leaf] - 1) for leaf in loops.leaf_names}
        return tuple((i.lo, i.hi) for i in loops.root_values(leaves, extents, IntervalAlgebra()))

    @staticmethod
    def _region_dim(reads: Sequence[Span | None], size: int) -> RegionDim:
        """The union of what the reads of one dimension touch, as base + extent (else the whole dimension)."""
        whole = RegionDim((), 0, size)
        if not reads or any(r is None for r in reads):
            return whole
        first = reads[0]
        assert first is not None
        if any(r is not None and r.coeffs != first.coeffs for r in reads):
            return whole
        lo = min(r.lo for r in reads if r is not None)
        hi = max(r.hi for r in reads if r is not None)
        return RegionDim(first.coeffs, lo, hi - lo + 1)

    @staticmethod
    def _origin_ranges(target: StageBounds, inside: int) -> list[tuple[int, int]]:
        """The values each root axis of `target` takes with its first `inside` loops running and the
        others at zero: the origins an attached stage's region is based on, in the whole domain."""
        leaves = {
            leaf: Interval(0, target.extents[leaf] - 1 if position < inside else 0)
            for position, leaf in enumerate(target.loops.leaf_names)
        }
        origins = target.loops.root_values(leaves, target.extents, IntervalAlgebra())
        # An attached target's own base spans value range minus local range.
        return [
            (origin.lo + value[0] - local[0], origin.hi + value[1] - local[1])
            for origin, value, local in zip(origins, target.value_ranges, target.local_ranges, strict=True)
        ]

    @staticmethod
    def _global_range(
        region: RegionDim, origin_ranges: Sequence[tuple[int, int]], local: tuple[int, int]
    ) -> tuple[int, int]:
        """The values a dimension of an attached stage takes: its base's range plus its local loops'."""
        low = high = region.offset
        for axis, coeff in region.coeffs:
            lo, hi = origin_ranges[axis]
            low += min(coeff * lo, coeff * hi)
            high += max(coeff * lo, coeff * hi)
        return (low + local[0], high + local[1])


def bound_inference(dag: DAG, state: State) -> BoundInference[DAG]:
    """The bound inference of the search: shared-scope stages cover their whole thread block, as
    TVM's InferBound and the GPU lowering have it (a state with no thread-bound loops is the same
    either way), so the extents and buffers the search sees are the ones that run."""
    state = dag.concrete_state(state)
    return BoundInference(dag, state, loop_structure(dag, state).loops_of(state.transform_steps), gpu=True)


def infer_bound(dag: DAGView, state: State) -> State:
    """A copy of `state` with the extent of every iterator filled in (`bound_inference`)."""
    return bound_inference(dag, state).bounded_state()
