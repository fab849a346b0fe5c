"""`vectorize-annotated-loops`: turn the innermost loops a schedule vectorizes into SIMD code.

The loop-nest emitter marks a loop `sched.annotation = #sched<loop_annotation vectorize>` where the
schedule vectorizes it. As TVM's vectorizer does, this pass replaces such an
`scf.for` (constant bounds, no loop inside) by one copy of its body that
computes all of its iterations, the lanes, at once on 1-D vectors. Each value
of the body takes one of three forms:

- uniform: the same in every lane (defined outside the loop, or computed from
  such values only); it stays a scalar and is broadcast where it meets a vector;
- a ramp `base + stride * lane` (TVM's Ramp): the induction variable and index
  arithmetic affine in it; it is never materialised, it decides how memory is
  accessed. A ramp's quotient and remainder by a constant are a uniform value
  and a ramp where the lanes stay between two multiples of the constant, and
  the other way round where the stride is a multiple of it: whether they stay
  follows from what the base is known to be a multiple of (`known_multiple`,
  TVM's modular-set analysis in small). Rewritten weight layouts index their
  pieces so (`B'[j / 512, ..., j % 32]`);
- a vector: one element per lane.

Then

- `memref.load` at an address that is contiguous in the lanes (the last index
  a ramp of stride 1, the others uniform) becomes `vector.load`; at any other
  affine pattern, one load per lane gathered with `vector.insert`;
- `memref.store` at a contiguous address becomes `vector.store`;
- elementwise arith and math ops become the same ops on vectors, fast-math
  flags kept (so a multiply feeding an add still fuses into an FMA);
- `scf.if` on a uniform condition (a guard of an outer loop, a uniform
  `if_then_else`) keeps its condition and has its regions vectorized.

The annotation promises that the iterations are independent, as in TVM:
the lanes run together, the loads of the body before its stores.

A body that does not fit (a condition that depends on the lane, as a guard of
the vectorized loop itself; an index that is not affine in the lane; a store
to an address that is not contiguous in the lanes, as a vectorized reduce
loop's; an op with no vector form that lowers to LLVM here, as `arith.cmpf`)
is unrolled instead, which gives LLVM's SLP vectorizer its chance. A loop with
more than `max_lanes` iterations, or with a loop inside, is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd

from xdsl.builder import Builder
from xdsl.context import Context
from xdsl.dialects import arith, math, memref, scf, vector
from xdsl.dialects.builtin import (
    AnyFloat,
    IndexType,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    VectorType,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint
from xdsl.transforms.scf_for_loop_unroll import UnrollLoopPattern

from schedopt.dialects.sched import LoopAnnotation, loop_annotation
from schedopt.errors import LoweringError

ELEMENTWISE_OPS: tuple[type[Operation], ...] = (
    arith.AddfOp,
    arith.SubfOp,
    arith.MulfOp,
    arith.DivfOp,
    arith.NegfOp,
    arith.MaximumfOp,
    arith.MinimumfOp,
    arith.MaxnumfOp,
    arith.MinnumfOp,
    arith.AddiOp,
    arith.SubiOp,
    arith.MuliOp,
    arith.DivSIOp,
    arith.DivUIOp,
    arith.RemSIOp,
    arith.RemUIOp,
    arith.AndIOp,
    arith.OrIOp,
    arith.XOrIOp,
    arith.ShLIOp,
    arith.ShRSIOp,
    arith.ShRUIOp,
    arith.MaxSIOp,
    arith.MinSIOp,
    arith.MaxUIOp,
    arith.MinUIOp,
    arith.ExtFOp,
    arith.TruncFOp,
    arith.ExtSIOp,
    arith.ExtUIOp,
    arith.TruncIOp,
    arith.SIToFPOp,
    arith.FPToSIOp,
    arith.FPToUIOp,
    arith.BitcastOp,
    arith.SelectOp,
    math.AbsFOp,
    math.CeilOp,
    math.CopySignOp,
    math.CosOp,
    math.Exp2Op,
    math.ExpOp,
    math.FloorOp,
    math.FmaOp,
    math.Log10Op,
    math.Log2Op,
    math.LogOp,
    math.PowFOp,
    math.RoundEvenOp,
    math.RoundOp,
    math.RsqrtOp,
    math.SinOp,
    math.SqrtOp,
    math.TanhOp,
    math.TruncOp,
)
"""Elementwise ops whose vector forms `convert-arith-to-llvm` and `convert-math-to-llvm` lower.

Comparisons are not among them: a vector of i1 has no use that lowers here
(`llvm.select` takes a scalar condition), and `llvm.fcmp` no vector form.
"""


@dataclass(frozen=True)
class Ramp:
    """The index `base + stride * lane` (TVM's Ramp); `base` is its value in lane 0."""

    base: SSAValue
    stride: int


class _NoVectorForm(Exception):
    """The loop body has no vector form here; the loop is unrolled instead."""


def constant_int(value: SSAValue) -> int | None:
    """The value of an integer `arith.constant`, or None for any other value."""
    op = value.owner
    if isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr):
        return op.value.value.data
    return None


def known_multiple(value: SSAValue, memo: dict[SSAValue, int]) -> int:
    """A number the index `value` is always a multiple of: 1 where nothing is known, 0 where it is 0.

    Sums, differences and products of constants and loop induction
    variables (a loop from a multiple of m by steps of a multiple of m) are
    followed; any other value is taken as a multiple of 1. Zero is a multiple
    of everything, and the arithmetic agrees: gcd(0, m) = m, 0 * m = 0.
    """
    if value in memo:
        return memo[value]
    op = value.owner
    multiple = 1
    if (constant := constant_int(value)) is not None:
        multiple = abs(constant)
    elif isinstance(op, arith.MuliOp):
        multiple = known_multiple(op.lhs, memo) * known_multiple(op.rhs, memo)
    elif isinstance(op, arith.AddiOp | arith.SubiOp):
        multiple = gcd(known_multiple(op.lhs, memo), known_multiple(op.rhs, memo))
    elif isinstance(op, Block) and isinstance(loop := op.parent_op(), scf.ForOp) and value is op.args[0]:
        multiple = gcd(known_multiple(loop.lb, memo), known_multiple(loop.step, memo))
    memo[value] = multiple
    return multiple


def trip_count(loop: scf.ForOp) -> int | None:
    """The number of iterations of a loop with constant bounds, or None."""
    lower, upper, step = constant_int(loop.lb), constant_int(loop.ub), constant_int(loop.step)
    if lower is None or upper is None or step is None or step <= 0:
        return None
    return max(0, -(-(upper - lower) // step))


class BodyVectorizer:
    """Emit one copy of a loop body that computes `lanes` iterations at once.

    `vectorize` returns a detached block holding the vector code, or raises
    `_NoVectorForm` after erasing what it built.
    """

    def __init__(self, loop: scf.ForOp, lanes: int):
        self.loop = loop
        self.lanes = lanes
        self.values: dict[SSAValue, SSAValue] = {}
        """The new value of each uniform or vector value of the body."""
        self.vectors: set[SSAValue] = set()
        """The values of the body that became vectors."""
        self.ramps: dict[SSAValue, Ramp] = {}
        self.broadcasts: dict[SSAValue, SSAValue] = {}
        self.multiples: dict[SSAValue, int] = {}
        """`known_multiple`'s memo."""
        self.blocks: list[Block] = []
        self.builder: Builder

    def vectorize(self) -> Block:
        if self.loop.iter_args:
            raise _NoVectorForm  # a value carried from one iteration to the next
        self.builder = self._new_block()
        block = self.blocks[0]
        induction = self.loop.body.block.args[0]
        step = constant_int(self.loop.step)
        assert step is not None
        self.ramps[induction] = Ramp(self.loop.lb, step)
        try:
            self._vectorize_block(self.loop.body.block)
        except _NoVectorForm:
            for built in self.blocks:
                if built.parent is None:
                    built.erase(safe_erase=False)
            raise
        return block

    # --- blocks and regions ------------------------------------------------------------

    def _new_block(self) -> Builder:
        block = Block()
        self.blocks.append(block)
        return Builder(InsertPoint.at_end(block))

    def _vectorize_block(self, block: Block) -> Sequence[SSAValue]:
        """Vectorize the ops of `block` at the builder; return what its terminator yields."""
        for op in block.ops:
            if isinstance(op, scf.YieldOp):
                return op.arguments
            self._vectorize_op(op)
        return ()

    def _vectorize_op(self, op: Operation) -> None:
        if not self._varies(op):
            self.builder.insert(op.clone(value_mapper=self.values))
            return
        if isinstance(op, arith.AddiOp | arith.SubiOp | arith.MuliOp) and isinstance(
            op.result.type, IndexType
        ):
            self._index_arithmetic(op)
        elif isinstance(op, arith.DivUIOp | arith.RemUIOp) and op.lhs in self.ramps:
            self._index_division(op)
        elif isinstance(op, memref.LoadOp):
            self._load(op)
        elif isinstance(op, memref.StoreOp):
            self._store(op)
        elif isinstance(op, scf.IfOp):
            self._if(op)
        elif isinstance(op, ELEMENTWISE_OPS):
            self._elementwise(op)
        else:
            raise _NoVectorForm

    def _varies(self, op: Operation) -> bool:
        """Whether `op` or an op nested in it uses a value that differs between lanes."""
        return any(
            operand in self.ramps or operand in self.vectors
            for nested in op.walk()
            for operand in nested.operands
        )

    # --- index arithmetic --------------------------------------------------------------

    def _index(self, value: SSAValue) -> Ramp:
        """An index of the body as a ramp (stride 0 where it is uniform)."""
        if value in self.vectors:
            raise _NoVectorForm
        return self.ramps.get(value) or Ramp(self.values.get(value, value), 0)

    def _index_arithmetic(self, op: arith.AddiOp | arith.SubiOp | arith.MuliOp) -> None:
        lhs, rhs = self._index(op.lhs), self._index(op.rhs)
        if isinstance(op, arith.MuliOp):
            ramp, factor = (lhs, rhs) if rhs.stride == 0 else (rhs, lhs)
            scale = constant_int(factor.base)
            if factor.stride != 0 or scale is None:
                raise _NoVectorForm  # not affine in the lane, or a stride unknown until run time
            base = ramp.base if constant_int(ramp.base) == 0 else self._rebuild(op, [ramp.base, factor.base])
            result = Ramp(base, ramp.stride * scale)
        elif isinstance(op, arith.AddiOp):
            result = Ramp(self._add(op, lhs.base, rhs.base), lhs.stride + rhs.stride)
        else:
            result = Ramp(self._rebuild(op, [lhs.base, rhs.base]), lhs.stride - rhs.stride)
        if result.stride == 0:
            self.values[op.result] = result.base
        else:
            self.ramps[op.result] = result

    def _index_division(self, op: arith.DivUIOp | arith.RemUIOp) -> None:
        """A ramp's quotient or remainder by a constant, as a uniform value or a ramp (or raise)."""
        ramp, divisor = self.ramps[op.lhs], self._uniform(op.rhs)
        constant = constant_int(divisor)
        if constant is None or constant <= 0 or ramp.stride < 0:
            raise _NoVectorForm
        if ramp.stride % constant == 0:
            # Every lane is a whole number of divisors past the one before: the remainder is the same.
            stride = ramp.stride // constant if isinstance(op, arith.DivUIOp) else 0
        elif ramp.stride * (self.lanes - 1) < gcd(known_multiple(ramp.base, self.multiples), constant):
            # base % divisor is a multiple of that gcd, so at most divisor - gcd: no lane reaches the next multiple.
            stride = 0 if isinstance(op, arith.DivUIOp) else ramp.stride
        else:
            raise _NoVectorForm
        base = self._rebuild(op, [ramp.base, divisor])
        if stride == 0:
            self.values[op.result] = base
        else:
            self.ramps[op.result] = Ramp(base, stride)

    def _add(self, op: arith.AddiOp, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        """lhs + rhs, folding the zero base of a ramp that starts at the loop's lower bound (0)."""
        if constant_int(lhs) == 0:
            return rhs
        if constant_int(rhs) == 0:
            return lhs
        return self._rebuild(op, [lhs, rhs])

    def _lane_index(self, ramp: Ramp, lane: int) -> SSAValue:
        """The value of `ramp` in one lane."""
        offset = ramp.stride * lane
        if offset == 0:
            return ramp.base
        base = constant_int(ramp.base)
        if base is not None:
            return self.builder.insert(arith.ConstantOp(IntegerAttr(base + offset, IndexType()))).result
        offset_op = self.builder.insert(arith.ConstantOp(IntegerAttr(offset, IndexType())))
        return self.builder.insert(arith.AddiOp(ramp.base, offset_op.result)).result

    # --- memory ------------------------------------------------------------------------

    def _vector_type(self, element: Attribute) -> VectorType:
        return VectorType(element, [self.lanes])

    @staticmethod
    def _contiguous(indices: Sequence[Ramp]) -> bool:
        """Whether the lanes access consecutive elements of the last dimension."""
        return bool(indices) and indices[-1].stride == 1 and all(i.stride == 0 for i in indices[:-1])

    def _load(self, op: memref.LoadOp) -> None:
        source = self._uniform(op.memref)
        indices = [self._index(i) for i in op.indices]
        if self._contiguous(indices):
            load = vector.LoadOp(source, [i.base for i in indices], self._vector_type(op.res.type))
            self._set_vector(op.res, self.builder.insert(load).result)
            return
        # A gather: one scalar load per lane.
        lanes = [
            self.builder.insert(memref.LoadOp.get(source, [self._lane_index(i, lane) for i in indices])).res
            for lane in range(self.lanes)
        ]
        gathered = self._broadcast(lanes[0])
        for lane, value in enumerate(lanes[1:], start=1):
            gathered = self.builder.insert(vector.InsertOp(value, gathered, [lane])).result
        self._set_vector(op.res, gathered)

    def _store(self, op: memref.StoreOp) -> None:
        indices = [self._index(i) for i in op.indices]
        if not self._contiguous(indices):
            raise _NoVectorForm  # lanes writing one element, or scattered ones
        value = self._vector(op.value)
        self.builder.insert(vector.StoreOp(value, self._uniform(op.memref), [i.base for i in indices]))

    # --- values ------------------------------------------------------------------------

    def _uniform(self, value: SSAValue) -> SSAValue:
        if value in self.ramps or value in self.vectors:
            raise _NoVectorForm
        return self.values.get(value, value)

    def _vector(self, value: SSAValue) -> SSAValue:
        """`value` as a vector: its vector form, or its uniform value broadcast."""
        if value in self.ramps:
            raise _NoVectorForm  # an index used as data: no vector of indices lowers here
        if value in self.vectors:
            return self.values[value]
        return self._broadcast(self.values.get(value, value))

    def _broadcast(self, scalar: SSAValue) -> SSAValue:
        if not isinstance(scalar.type, IntegerType | AnyFloat):
            raise _NoVectorForm
        if scalar not in self.broadcasts:
            op = vector.BroadcastOp(scalar, self._vector_type(scalar.type))
            self.broadcasts[scalar] = self.builder.insert(op).vector
        return self.broadcasts[scalar]

    def _set_vector(self, old: SSAValue, new: SSAValue) -> None:
        self.values[old] = new
        self.vectors.add(old)

    def _rebuild(
        self, op: Operation, operands: Sequence[SSAValue], result_types: Sequence[Attribute] = ()
    ) -> SSAValue:
        """A copy of `op` (properties and fast-math flags included) on new operands and result types."""
        new = type(op).create(
            operands=operands,
            result_types=result_types or op.result_types,
            properties=dict(op.properties),
            attributes=dict(op.attributes),
        )
        return self.builder.insert(new).results[0]

    # --- compute -----------------------------------------------------------------------

    def _elementwise(self, op: Operation) -> None:
        (result,) = op.results
        if not isinstance(result.type, IntegerType | AnyFloat):
            raise _NoVectorForm
        if isinstance(op, arith.SelectOp):
            # The only select that lowers: one condition for all the lanes.
            operands = [self._uniform(op.cond), self._vector(op.lhs), self._vector(op.rhs)]
        else:
            operands = [self._vector(o) for o in op.operands]
        self._set_vector(result, self._rebuild(op, operands, [self._vector_type(result.type)]))

    def _if(self, op: scf.IfOp) -> None:
        condition = self._uniform(op.cond)
        branches = [self._vectorize_region(region) for region in (op.true_region, op.false_region)]
        varying = [
            any(v in self.ramps or v in self.vectors for v in values)
            for values in zip(*(yielded for _, yielded in branches), strict=True)
        ]
        regions: list[Region] = []
        for builder, yielded in branches:
            if builder is None:
                regions.append(Region())
                continue
            self.builder, saved = builder, self.builder
            results = [
                self._vector(v) if vary else self._uniform(v)
                for v, vary in zip(yielded, varying, strict=True)
            ]
            builder.insert(scf.YieldOp(*results))
            self.builder = saved
            assert isinstance(builder.insertion_point.block, Block)
            regions.append(Region(builder.insertion_point.block))
        result_types = [
            self._vector_type(r.type) if vary else r.type for r, vary in zip(op.results, varying, strict=True)
        ]
        new = self.builder.insert(scf.IfOp(condition, result_types, regions[0], regions[1]))
        for old, result, vary in zip(op.results, new.results, varying, strict=True):
            if vary:
                self._set_vector(old, result)
            else:
                self.values[old] = result

    def _vectorize_region(self, region: Region) -> tuple[Builder | None, Sequence[SSAValue]]:
        """Vectorize the single block of `region` into a new block; its builder and what it yields."""
        if not region.blocks:
            return None, ()
        saved_builder, saved_broadcasts = self.builder, self.broadcasts
        self.builder, self.broadcasts = self._new_block(), dict(self.broadcasts)
        yielded = self._vectorize_block(region.block)
        builder = self.builder
        self.builder, self.broadcasts = saved_builder, saved_broadcasts
        return builder, yielded


@dataclass(frozen=True)
class VectorizeAnnotatedLoop(RewritePattern):
    """Replace an innermost `scf.for` annotated `vectorize` by vector code, or unroll it."""

    max_lanes: int

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: scf.ForOp, rewriter: PatternRewriter) -> None:
        if loop_annotation(op) != LoopAnnotation.VECTORIZE:
            return
        lanes = trip_count(op)
        if lanes is None or lanes == 0 or lanes > self.max_lanes:
            return
        if any(isinstance(nested, scf.ForOp) for nested in op.body.walk()):
            return
        try:
            block = BodyVectorizer(op, lanes).vectorize()
        except _NoVectorForm:
            UnrollLoopPattern().match_and_rewrite(op, rewriter)
            return
        rewriter.inline_block(block, InsertPoint.before(op))
        rewriter.erase(op)


@dataclass(frozen=True)
class VectorizeAnnotatedLoopsPass(ModulePass):
    """Turn the innermost `scf.for` loops annotated `vectorize` into vector code.

    Options:

    - max_lanes: int = 64: the most iterations a loop may have to become one
      vector per value (longer loops are left to LLVM's loop vectorizer).
    """

    name = "vectorize-annotated-loops"

    max_lanes: int = 64

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.max_lanes <= 0:
            raise LoweringError(f"vectorize-annotated-loops: max_lanes={self.max_lanes} must be positive")
        PatternRewriteWalker(VectorizeAnnotatedLoop(self.max_lanes), apply_recursively=False).rewrite_module(
            op
        )
