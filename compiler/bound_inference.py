"""Bound inference: the extent of every loop of a scheduled State.

A stage at root loops over its whole domain. A stage computed at loop `it`
of its consumer `T` only produces the region `T` reads while the loops of
`T` inside `it` run: for each dimension, `base + [0, extent)`, where the
base depends on the loops of `T` down to `it` and the extent does not.
Reads are analysed as affine forms of the reader's axes (composed through
inlined stages); a read that is not affine, or a loop structure that is not
"origin + offset" (part of a fused loop fixed, part varying), makes the
dimension fall back to the whole domain, which is always correct.

The lowering emits the base from the same `RegionDim`s, and guards a stage
where its loops can step outside its domain (non-dividing splits, regions
that reach into padding).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerAttr
from xdsl.ir import BlockArgument, SSAValue

from schedopt.compute_dag import ComputeDAG
from schedopt.dialects import te
from schedopt.errors import ScheduleError
from schedopt.loop_nest import Interval, IntervalAlgebra, StageLoops, stage_loops
from schedopt.loop_state import ComputeAtKind, StageKind, State


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


class BoundInference:
    """Loop extents and regions of every stage of `state`."""

    def __init__(self, dag: ComputeDAG, state: State, loops: Mapping[str, StageLoops] | None = None):
        """`loops`: the result of `stage_loops(state, dag.get_init_state())`, where the caller has it
        (the cost model's features cache the loop structure and skip the replay)."""
        self.loops = stage_loops(state, dag.get_init_state()) if loops is None else loops
        self.dag = dag.apply_steps_from_state(state)
        """The DAG with the stages the steps added: what is lowered."""
        self.state = state
        self.computes = {op.name_str: op for op in self.dag.compute_ops}
        self._bounds: dict[str, StageBounds] = {}

    @cached_property
    def inlined(self) -> set[str]:
        return {s.name for s in self.state.stages if s.compute_at == ComputeAtKind.INLINED}

    def bounds(self, name: str) -> StageBounds:
        """The bounds of stage `name` (computing those of the stages it is attached to first)."""
        if name not in self._bounds:
            self._bounds[name] = self._infer(name)
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
        readers = self.reading_stages(name)
        if readers != {target_name}:
            others = ", ".join(sorted(readers - {target_name})) or "none"
            raise ScheduleError(
                f"compute_at of stage {name} at {target_name}: every reader of {name} must be "
                f"{target_name} (other readers: {others})"
            )
        target = self.bounds(target_name)
        leaf_names = target.loops.leaf_names
        if target_iter not in leaf_names:
            raise ScheduleError(f"compute_at of stage {name}: {target_name} has no loop {target_iter}")
        inside = leaf_names.index(target_iter) + 1
        varying = {leaf: position >= inside for position, leaf in enumerate(leaf_names)}
        offsets = self._offsets(target.loops, target.extents, varying, attached=target.region is not None)
        region = tuple(
            self._region_dim(dim, self.accesses(target_name, name), offsets, compute.spatial_extents[dim])
            for dim in range(len(compute.spatial_extents))
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

    @staticmethod
    def _offsets(
        loops: StageLoops, extents: dict[str, int], varying: dict[str, bool], attached: bool
    ) -> list[Interval]:
        """The offsets each root axis takes from its origin while the varying loops run."""
        leaves = {
            leaf: Interval(0, extents[leaf] - 1) if is_varying else Interval(0, 0, fixed=True)
            for leaf, is_varying in varying.items()
        }
        offsets = loops.root_values(leaves, extents, IntervalAlgebra())
        return [replace(o, fixed=True) if attached else o for o in offsets]

    @staticmethod
    def _value_ranges(loops: StageLoops, extents: dict[str, int]) -> tuple[tuple[int, int], ...]:
        """The values each root axis takes as all the stage's loops run."""
        leaves = {leaf: Interval(0, extents[leaf] - 1) for leaf in loops.leaf_names}
        return tuple((i.lo, i.hi) for i in loops.root_values(leaves, extents, IntervalAlgebra()))

    @staticmethod
    def _region_dim(
        dim: int, accesses: Sequence[Access], offsets: Sequence[Interval], size: int
    ) -> RegionDim:
        """The union of what the reads of dimension `dim` touch, as base + extent."""
        whole = RegionDim((), 0, size)
        forms = [a[dim] for a in accesses]
        if not forms or any(f is None for f in forms):
            return whole
        first = forms[0]
        assert first is not None
        if any(f is not None and f.coeffs != first.coeffs for f in forms):
            return whole
        low, high = 0, 0
        for axis, coeff in first.coeffs:
            offset = offsets[axis]
            if not offset.exact:
                return whole
            low += min(coeff * offset.lo, coeff * offset.hi)
            high += max(coeff * offset.lo, coeff * offset.hi)
        lo = min(f.offset for f in forms if f is not None) + low
        hi = max(f.offset for f in forms if f is not None) + high
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


def infer_bound(dag: ComputeDAG, state: State) -> State:
    """A copy of `state` with the extent of every iterator filled in."""
    inference = BoundInference(dag, state)
    result = state.copy()
    for index, stage in enumerate(result.stages):
        if stage.kind == StageKind.PLACEHOLDER or stage.compute_at == ComputeAtKind.INLINED:
            continue
        extents = inference.bounds(stage.name).extents
        iters = tuple(replace(it, extent=extents[it.name]) for it in stage.iters)
        result.stages[index] = replace(stage, iters=iters)
    return result
