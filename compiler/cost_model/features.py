"""Per-stage features of a scheduled program, the input of the learned cost model.

Each stage that stores a buffer (a compute stage that is not inlined) gives
one row of `N_FEATURES` (164) numbers in Ansor's layout, computed from the
State and the ComputeDAG alone: no lowering, no LLVM. The statement of a
stage runs inside its loop stack: the loops of the stages it is computed at
(down to the attach loop), then its own loops. Loops of extent 1 vanish in
the lowered code and are left out, as TVM's features leave them out.

How an index moves with a loop comes from the loop relations
(`schedopt.schedule.loop_nest`): a leaf loop of a split adds `coef * loop` to its
root axis, where `coef` is the product of the extents inside it; a fused
loop moves each of its parts over its whole range. A stage computed at a
loop reads its region from a base set by the outer loops
(`schedopt.schedule.bound_inference.RegionDim`), so an outer loop moves the stage's
axes as it moves the consumer's; its buffer, though, is allocated at the
attach point and indexed within the region, so the loops around the
allocation do not move accesses to it. Index expressions are the affine forms of
the `te.read` ops, composed through inlined stages; a non-affine index is
taken as the plain sum of the iterators it uses.

Every value goes through `sign(x) * log2(|x| + 1)`. The groups, in order:

1. Compute (57). Arithmetic counts, each per body evaluation times the
   product of the loop stack, inlined producers included:
   - `float_mad`: float multiplies feeding only an add or the sum reduction (a fused multiply-add)
   - `float_addsub`, `float_mul`, `float_divmod`: other float add/sub, multiplies, divisions and remainders
   - `float_cmp`: float compares, max and min (also as reductions)
   - `float_math_func`: transcendental `math` ops (exp, log, tanh, sqrt, pow, erf, sin, ...)
   - `float_other_func`: other float ops (negation, abs, floor, ...)
   - `int_mad` ... `int_other_func`: the same seven for integer and index values
   - `bool_op`: and/or/xor on booleans; `select_op`: selects and `scf.if`
   Then for each of vectorize, unroll and parallel (11 each):
   - `*_num`: annotated loops in the stack; `*_prod`: product of their extents;
     `*_len`: extent of the innermost one
   - `*_type.*`: one-hot position of the innermost one (none, inner / middle /
     outer spatial, inner / middle / outer reduce, mixed): the axis it moves
     (last spatial axis = inner, first = outer; likewise for reduce axes), mixed when it
     moves several; a loop of an enclosing stage that moves none counts as outer spatial
   Then GPU (8): `is_gpu` (some loop of the program is bound to a thread or
   block), the extents of the loops bound to blockIdx.x/y/z and
   threadIdx.x/y/z, and the product of the vthread extents.
2. Buffer access (18 per buffer, the `MAX_N_BUFS` buffers with most cache
   lines, then bytes; zero padded): `acc_type.{read, write, read_write}`;
   `bytes` (element bytes times the loop product), `unique_bytes` (bytes of
   the region the whole stack touches); `lines` (cache lines fetched: the loop
   product over the loops the index ignores from the inside, times the part of
   a line the innermost moving loop steps over), `unique_lines` (unique bytes
   over the contiguous run, at most a line); `reuse_type.{loop_multiple_read,
   serial_multiple_read_write, no_reuse}`, `reuse_dis_iter`, `reuse_dis_bytes`,
   `reuse_ct` (Ansor's reuse analysis: going outwards, the first loop the
   index ignores reuses the data `extent` times, at a distance of the
   iterations and bytes inside it; a loop in which statements run before
   this one, in program order, touched the buffer too gives serial reuse);
   `bytes_d_reuse_ct`, `unique_bytes_d_reuse_ct`, `lines_d_reuse_ct`,
   `unique_lines_d_reuse_ct` (divided by the reuse count; doubled without
   reuse); `stride` (elements between iterations of the innermost loop,
   when it moves the index).
3. Arithmetic intensity curve (10): `log2(flops) / log2(bytes touched)` of the
   loop levels from the innermost out, interpolated at ten evenly spaced
   points of `log2(flops)`.
4. Allocation (4), for buffers that are not outputs: `alloc_size` (bytes of the
   buffer or attached region), `alloc_prod` (its elements times the loops
   around the allocation), `alloc_outer_prod` (those loops), `alloc_inner_prod`
   (those loops over the elements).
5. Outer scope (3): `outer_prod` (product of the stack), `num_loops`,
   `auto_unroll_max_step` (of the stage, else of the stage it is computed at).

The features are computed in two layers of caches, so that a search scoring
thousands of states pays little per state: the structure of a state (its
loop relations, which only the split lengths change) is cached by its steps
with the lengths left out (`schedopt.schedule.loop_structure`, which bound
inference shares), and the access analysis of a DAG by the DAG and
its inlined stages.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects.builtin import AnyFloat, FixedBitwidthType, IndexType, IntegerType
from xdsl.ir import Attribute, BlockArgument, Operation, OpResult, SSAValue

from schedopt.compute_dag import ComputeDAG
from schedopt.dialects import te
from schedopt.dialects.sched import LoopAnnotation
from schedopt.errors import RecordError, ScheduleError
from schedopt.measurement import MeasureErrorNo, MeasureInput, MeasureResult
from schedopt.records import recover_measure_input
from schedopt.schedule.bound_inference import BoundInference, index_form
from schedopt.schedule.loop_nest import SplitRelation, StageLoops
from schedopt.schedule.loop_state import State
from schedopt.schedule.loop_structure import loop_structure
from schedopt.schedule.stage import ComputeAtKind, StageKind

if TYPE_CHECKING:
    from schedopt.search_task import SearchTask

MAX_N_BUFS = 5
"""Buffers with access features per row (Ansor's default)."""

CACHE_LINE_BYTES = 64
"""The cache line the line counts assume (fixed, so features do not depend on the host)."""

ARITH_INTENSITY_CURVE_SAMPLES = 10

_OP_KINDS = ("mad", "addsub", "mul", "divmod", "cmp", "math_func", "other_func")
_POSITIONS = (
    "none",
    "inner_spatial",
    "middle_spatial",
    "outer_spatial",
    "inner_reduce",
    "middle_reduce",
    "outer_reduce",
    "mixed",
)
_ANNOTATED = ("vec", "unroll", "parallel")
_GPU = (
    "is_gpu",
    "blockIdx_x_len",
    "blockIdx_y_len",
    "blockIdx_z_len",
    "threadIdx_x_len",
    "threadIdx_y_len",
    "threadIdx_z_len",
    "vthread_len",
)
_BUFFER_FEATURES = (
    "acc_type.read",
    "acc_type.write",
    "acc_type.read_write",
    "bytes",
    "unique_bytes",
    "lines",
    "unique_lines",
    "reuse_type.loop_multiple_read",
    "reuse_type.serial_multiple_read_write",
    "reuse_type.no_reuse",
    "reuse_dis_iter",
    "reuse_dis_bytes",
    "reuse_ct",
    "bytes_d_reuse_ct",
    "unique_bytes_d_reuse_ct",
    "lines_d_reuse_ct",
    "unique_lines_d_reuse_ct",
    "stride",
)
_TAIL = (
    *(f"arith_intensity_curve_{i}" for i in range(ARITH_INTENSITY_CURVE_SAMPLES)),
    "alloc_size",
    "alloc_prod",
    "alloc_outer_prod",
    "alloc_inner_prod",
    "outer_prod",
    "num_loops",
    "auto_unroll_max_step",
)


def get_per_store_feature_names(max_n_bufs: int = MAX_N_BUFS) -> list[str]:
    """The name of every column of a feature row, in order."""
    names = [f"{kind}_{op}" for kind in ("float", "int") for op in _OP_KINDS]
    names += ["bool_op", "select_op"]
    for prefix in _ANNOTATED:
        names += [f"{prefix}_num", f"{prefix}_prod", f"{prefix}_len"]
        names += [f"{prefix}_type.{position}" for position in _POSITIONS]
    names += _GPU
    names += [f"B{b}.{name}" for b in range(max_n_bufs) for name in _BUFFER_FEATURES]
    return [*names, *_TAIL]


N_FEATURES = len(get_per_store_feature_names())
"""Columns of a row with `MAX_N_BUFS` buffers: 164."""

_COMPUTE_COLUMNS = 57
_N_OP_COUNTS = 16
_BOOL, _SELECT = 14, 15
_INT = len(_OP_KINDS)
(_MAD, _ADDSUB, _MUL, _DIVMOD, _CMP, _MATH_FUNC, _OTHER_FUNC) = range(_INT)
_READ, _WRITE, _READ_WRITE = 0, 1, 2
_LOOP_MULTIPLE_READ, _SERIAL_MULTIPLE_READ_WRITE, _NO_REUSE = 0, 1, 2
_GPU_COLUMNS = {
    LoopAnnotation.BLOCK_X: 1,
    LoopAnnotation.BLOCK_Y: 2,
    LoopAnnotation.BLOCK_Z: 3,
    LoopAnnotation.THREAD_X: 4,
    LoopAnnotation.THREAD_Y: 5,
    LoopAnnotation.THREAD_Z: 6,
}
_ANNOTATION_GROUPS = {
    LoopAnnotation.VECTORIZE: 0,
    LoopAnnotation.UNROLL: 1,
    LoopAnnotation.PARALLEL: 2,
}


# --- arithmetic of a te.compute body -------------------------------------------------------------

_FLOAT_KIND = {
    "arith.addf": _ADDSUB,
    "arith.subf": _ADDSUB,
    "arith.mulf": _MUL,
    "arith.divf": _DIVMOD,
    "arith.remf": _DIVMOD,
    "arith.cmpf": _CMP,
    "arith.maximumf": _CMP,
    "arith.minimumf": _CMP,
    "arith.maxnumf": _CMP,
    "arith.minnumf": _CMP,
    "arith.negf": _OTHER_FUNC,
    "math.fma": _MAD,
}
_INT_KIND = {
    "arith.addi": _ADDSUB,
    "arith.subi": _ADDSUB,
    "arith.muli": _MUL,
    "arith.divsi": _DIVMOD,
    "arith.divui": _DIVMOD,
    "arith.floordivsi": _DIVMOD,
    "arith.ceildivsi": _DIVMOD,
    "arith.ceildivui": _DIVMOD,
    "arith.remsi": _DIVMOD,
    "arith.remui": _DIVMOD,
    "arith.cmpi": _CMP,
    "arith.maxsi": _CMP,
    "arith.minsi": _CMP,
    "arith.maxui": _CMP,
    "arith.minui": _CMP,
}
_TRANSCENDENTAL = frozenset(
    f"math.{name}"
    for name in (
        *("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "cbrt"),
        *("tanh", "sinh", "cosh", "sin", "cos", "tan", "asin", "acos", "atan", "atan2"),
        *("pow", "powf", "fpowi", "erf", "erfc"),
    )
)
_REDUCTION_KIND = {"sum": _ADDSUB, "prod": _MUL, "max": _CMP, "min": _CMP}
_UNCOUNTED = (te.ReadOp, te.YieldOp)


def _is_float(value_type: Attribute) -> bool:
    return isinstance(value_type, AnyFloat)


def _is_bool(value_type: Attribute) -> bool:
    return isinstance(value_type, IntegerType) and value_type.bitwidth == 1


def _op_column(op: Operation) -> int | None:
    """The op-count column an op of a body adds to, None for ops that compute nothing (reads, casts)."""
    if isinstance(op, _UNCOUNTED) or (not op.results and op.name != "scf.if"):
        return None
    name = op.name
    if name in ("arith.select", "scf.if"):
        return _SELECT
    operand_type = op.operands[0].type if op.operands else op.results[0].type
    if name in ("arith.andi", "arith.ori", "arith.xori") and _is_bool(operand_type):
        return _BOOL
    if _is_float(operand_type):
        if name in _FLOAT_KIND:
            return _FLOAT_KIND[name]
        if name in _TRANSCENDENTAL:
            return _MATH_FUNC
        return _OTHER_FUNC if name.startswith("math.") else None
    if name in _INT_KIND:
        return _INT + _INT_KIND[name]
    if name.startswith("math."):
        return _INT + _MATH_FUNC
    if name in ("arith.andi", "arith.ori", "arith.xori", "arith.shli", "arith.shrsi", "arith.shrui"):
        return _INT + _OTHER_FUNC
    return None


def _body_op_counts(compute: te.ComputeOp) -> list[int]:
    """Op counts of one evaluation of the body and the reduction's combine (no inlined producers)."""
    counts = [0] * _N_OP_COUNTS
    fused: set[Operation] = set()
    for op in compute.body.walk():
        if op.name in ("arith.addf", "arith.subf"):
            fused.update(mul for operand in op.operands if (mul := _single_use_mul(operand)) is not None)
    yielded = compute.yield_op.value
    kind = compute.reduction_kind
    folded_mul = _single_use_mul(yielded) if kind is not None and kind.value == "sum" else None
    fold_into_sum = folded_mul is not None
    if folded_mul is not None:
        fused.add(folded_mul)
    for op in compute.body.walk():
        if op in fused:
            continue
        column = _op_column(op)
        if column is None:
            continue
        if op.name in ("arith.addf", "arith.subf") and any(_single_use_mul(o) in fused for o in op.operands):
            column = _MAD
        counts[column] += 1
    if kind is not None:
        offset = 0 if _is_float(compute.element_type) else _INT
        counts[offset + (_MAD if fold_into_sum else _REDUCTION_KIND[kind.value])] += 1
    return counts


def _single_use_mul(value: SSAValue) -> Operation | None:
    owner = value.owner
    if isinstance(owner, Operation) and owner.name == "arith.mulf" and value.has_one_use():
        return owner
    return None


# --- accesses of a stage, through inlined stages --------------------------------------------------

Form = tuple[tuple[tuple[int, int], ...], int]
"""An index as `((axis, coefficient), ...)` and an offset, over the root axes of a stage."""


@dataclass(frozen=True)
class _Buffer:
    """The accesses of one statement to one buffer."""

    name: str
    acc_type: int
    shape: tuple[int, ...]
    element_bytes: int
    index_lists: tuple[tuple[Form, ...], ...]
    """Per access, a form per dimension; the first access decides how loops move the index."""

    @property
    def row_strides(self) -> tuple[int, ...]:
        return _row_strides(self.shape)


def _row_strides(shape: Sequence[int]) -> tuple[int, ...]:
    strides: list[int] = []
    stride = 1
    for size in reversed(shape):
        strides.append(stride)
        stride *= size
    return tuple(reversed(strides))


@dataclass(frozen=True)
class _StageInfo:
    """What the features need of one stage of a DAG with given inlined stages."""

    op_counts: tuple[int, ...]
    float_ops: int
    buffers: tuple[_Buffer, ...]
    n_spatial: int
    n_reduce: int
    is_output: bool
    element_bytes: int


def _form(value: SSAValue, compute: te.ComputeOp) -> Form:
    affine = index_form(value, compute)
    if affine is not None:
        return affine.coeffs, affine.offset
    return tuple((axis, 1) for axis in sorted(_axes_used(value, compute))), 0


def _axes_used(value: SSAValue, compute: te.ComputeOp) -> set[int]:
    used: set[int] = set()
    stack, seen = [value], set[SSAValue]()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if isinstance(current, BlockArgument):
            if current.owner is compute.body.block:
                used.add(current.index)
            continue
        if isinstance(current, OpResult):
            stack.extend(current.owner.operands)
    return used


def _substitute(form: Form, inner: Sequence[Form]) -> Form:
    """`form` (over an inlined stage's axes) with each axis replaced by the reader's index for it."""
    terms: dict[int, int] = {}
    offset = form[1]
    for axis, coeff in form[0]:
        inner_terms, inner_offset = inner[axis]
        offset += coeff * inner_offset
        for inner_axis, inner_coeff in inner_terms:
            terms[inner_axis] = terms.get(inner_axis, 0) + coeff * inner_coeff
    return tuple(sorted((a, c) for a, c in terms.items() if c)), offset


def _element_bytes(element_type: Attribute) -> int:
    if isinstance(element_type, IndexType):
        return 8
    if isinstance(element_type, FixedBitwidthType):
        return max(1, element_type.bitwidth // 8)
    return 4


class _DagAnalysis:
    """Op counts and accesses of the stages of one DAG, for each set of inlined stages met."""

    def __init__(self, dag: ComputeDAG):
        self.dag = dag
        self.computes = {op.name_str: op for op in dag.compute_ops}
        self.shapes = {op.name: op.shape for op in dag.ops}
        self.element_bytes = {
            te.tensor_name(arg): _element_bytes(arg.type.element_type)  # type: ignore[attr-defined]
            for arg in dag.func.body.block.args
        }
        self.element_bytes.update({name: _element_bytes(c.element_type) for name, c in self.computes.items()})
        self.own_counts = {name: _body_op_counts(c) for name, c in self.computes.items()}
        self._reads = {name: self._direct_reads(c) for name, c in self.computes.items()}
        self._infos: dict[frozenset[str], dict[str, _StageInfo]] = {}

    @staticmethod
    def _direct_reads(compute: te.ComputeOp) -> list[tuple[str, tuple[Form, ...]]]:
        return [
            (te.tensor_name(op.tensor), tuple(_form(i, compute) for i in op.indices))
            for op in compute.body.walk()
            if isinstance(op, te.ReadOp)
        ]

    def infos(self, inlined: frozenset[str]) -> dict[str, _StageInfo]:
        if inlined not in self._infos:
            self._infos[inlined] = {
                name: self._info(name, inlined) for name in self.computes if name not in inlined
            }
        return self._infos[inlined]

    def _reads_through(
        self, name: str, inlined: frozenset[str]
    ) -> tuple[list[int], list[tuple[str, tuple[Form, ...]]]]:
        """Op counts and reads of a body with the inlined stages it reads expanded."""
        counts = list(self.own_counts[name])
        reads: list[tuple[str, tuple[Form, ...]]] = []
        for tensor, forms in self._reads[name]:
            if tensor not in inlined:
                reads.append((tensor, forms))
                continue
            inner_counts, inner_reads = self._reads_through(tensor, inlined)
            counts = [a + b for a, b in zip(counts, inner_counts, strict=True)]
            reads += [(t, tuple(_substitute(f, forms) for f in fs)) for t, fs in inner_reads]
        return counts, reads

    def _info(self, name: str, inlined: frozenset[str]) -> _StageInfo:
        compute = self.computes[name]
        counts, reads = self._reads_through(name, inlined)
        by_tensor: dict[str, list[tuple[Form, ...]]] = {}
        for tensor, forms in reads:
            by_tensor.setdefault(tensor, []).append(forms)
        n_spatial = len(compute.spatial_extents)
        own = tuple((((d, 1),), 0) for d in range(n_spatial))
        own_type = _READ_WRITE if compute.reduction_kind is not None else _WRITE
        buffers = [self._buffer(name, own_type, [own])]
        buffers += [self._buffer(tensor, _READ, lists) for tensor, lists in by_tensor.items()]
        return _StageInfo(
            op_counts=tuple(counts),
            float_ops=sum(counts[:_INT]),
            buffers=tuple(buffers),
            n_spatial=n_spatial,
            n_reduce=len(compute.reduce_extent_values),
            is_output=name in self.dag.output_names,
            element_bytes=self.element_bytes[name],
        )

    def _buffer(self, name: str, acc_type: int, index_lists: Iterable[tuple[Form, ...]]) -> _Buffer:
        return _Buffer(name, acc_type, self.shapes[name], self.element_bytes[name], tuple(index_lists))


_ANALYSES: weakref.WeakKeyDictionary[ComputeDAG, _DagAnalysis] = weakref.WeakKeyDictionary()


def _analysis(dag: ComputeDAG) -> _DagAnalysis:
    analysis = _ANALYSES.get(dag)
    if analysis is None:
        analysis = _ANALYSES[dag] = _DagAnalysis(dag)
    return analysis


# --- loop structure of a state, cached without split lengths ------------------------------------------


# --- the loop stack of each statement ----------------------------------------------------------------


@dataclass
class _Loop:
    """A loop around a statement and how it moves the statement's root axes: axis -> (coef, span)."""

    key: tuple[str, str]
    extent: int
    annotation: LoopAnnotation
    moves: dict[int, tuple[int, int]]


def _leaf_moves(loops: StageLoops, extents: dict[str, int]) -> dict[str, dict[int, tuple[int, int]]]:
    """For every iterator, how one step of it moves each root axis and how far its whole range does."""
    moves = {name: {axis: (1, extents[name] - 1)} for axis, name in enumerate(loops.root_names)}
    for relation in loops.relations:
        if isinstance(relation, SplitRelation):
            parent = moves[relation.parent]
            stride = 1
            for child in reversed(relation.children):
                extent = extents[child]
                moves[child] = {
                    a: (c * stride, abs(c * stride) * (extent - 1)) for a, (c, _) in parent.items()
                }
                stride *= extent
            continue
        fused: dict[int, tuple[int, int]] = {}
        for child in relation.children:  # outer to inner: the innermost part sets the step
            for axis, (coef, span) in moves[child].items():
                fused[axis] = (coef, fused.get(axis, (0, 0))[1] + span)
        moves[relation.fused] = fused
    return moves


def _through(
    moves: dict[int, tuple[int, int]], region: Sequence[tuple[tuple[int, int], ...]]
) -> dict[int, tuple[int, int]]:
    """Moves of a consumer's axes as moves of an attached stage's axes (`region[d]`: consumer axes
    and coefficients of the base of dimension d)."""
    result: dict[int, tuple[int, int]] = {}
    for dim, coeffs in enumerate(region):
        coef = span = 0
        for axis, k in coeffs:
            if axis in moves:
                c, s = moves[axis]
                coef += k * c
                span += abs(k) * s
        if coef or span:
            result[dim] = (coef, span)
    return result


class _Program:
    """The loop stacks of the statements of one state, with their extents."""

    def __init__(self, state: State, inference: BoundInference[ComputeDAG], inlined: frozenset[str]):
        self.state = state
        self.inference = inference
        self.stacks: dict[str, list[_Loop]] = {}
        self.outer: dict[str, list[_Loop]] = {}
        """The loops around a stage that belong to the stages it is computed at."""
        self.statements = [
            s.name for s in state.stages if s.kind == StageKind.COMPUTE and s.name not in inlined
        ]
        for name in self.statements:
            self._stack(name)

    def _stack(self, name: str) -> list[_Loop]:
        if name in self.stacks:
            return self.stacks[name]
        stage = self.state[name]
        bounds = self.inference.bounds(name)
        moves = _leaf_moves(bounds.loops, bounds.extents)
        outer: list[_Loop] = []
        if stage.compute_at == ComputeAtKind.ITER and stage.attach is not None:
            outer = self._around(stage.attach, tuple(dim.coeffs for dim in bounds.region or ()))
        own = [
            _Loop((name, it.name), bounds.extents[it.name], it.annotation, moves[it.name])
            for it in stage.iters
            if bounds.extents[it.name] > 1
        ]
        self.outer[name] = outer
        self.stacks[name] = outer + own
        return self.stacks[name]

    def _around(self, attach: tuple[str, str], region: Sequence[tuple[tuple[int, int], ...]]) -> list[_Loop]:
        """The loops of the stack of `attach`'s stage down to its loop `attach[1]`, moving the attached
        stage's axes through `region` (the consumer axes each base depends on)."""
        target, target_iter = attach
        leaves = [it.name for it in self.state[target].iters]
        inside = set(leaves[leaves.index(target_iter) + 1 :])
        return [
            _Loop(loop.key, loop.extent, loop.annotation, _through(loop.moves, region))
            for loop in self._stack(target)
            if not (loop.key[0] == target and loop.key[1] in inside)
        ]

    def local(self, buffer: str) -> _Local | None:
        """How `buffer` is allocated, if it is the buffer of a stage computed at a loop."""
        if buffer not in self.stacks or self.state[buffer].compute_at != ComputeAtKind.ITER:
            return None
        bounds = self.inference.bounds(buffer)
        n_spatial = len(bounds.region or ())
        return _Local(
            tuple(bounds.root_extents[:n_spatial]), frozenset(loop.key for loop in self.outer[buffer])
        )

    def auto_unroll(self, name: str) -> int:
        stage = self.state[name]
        while not stage.auto_unroll_max_step and stage.attach is not None:
            stage = self.state[stage.attach[0]]
        return stage.auto_unroll_max_step


# --- the features of one statement ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Local:
    """A buffer allocated at an attach point: its region's shape and the loops around it."""

    shape: tuple[int, ...]
    outside: frozenset[tuple[str, str]]

    @property
    def row_strides(self) -> tuple[int, ...]:
        return _row_strides(self.shape)


@dataclass
class _Touch:
    """A statement's accesses to one buffer, over its loop stack."""

    buffer: _Buffer
    shape: tuple[int, ...]
    """The shape of the buffer as allocated (the region, for a stage computed at a loop)."""
    touched: list[int]
    """Elements touched with the loops from position j inward running (index n: one iteration)."""
    moved_by: list[bool]
    used_by: list[bool]
    """Per loop, whether the index of some access (not only the first) depends on it (TVM's `VarInExpr`)."""
    strides: list[int]
    region: list[int]
    """Per dimension, the extent the whole stack touches."""


def _touch(buffer: _Buffer, stack: Sequence[_Loop], local: _Local | None) -> _Touch:
    """The regions of `buffer` the loops of `stack` touch, from the innermost loop out.

    A buffer allocated at an attach point is indexed relative to its region:
    the loops around the allocation do not move it.
    """
    n = len(stack)
    first = buffer.index_lists[0]
    shape = buffer.shape if local is None else local.shape
    extents = [
        1 + max(f[d][1] for f in buffer.index_lists) - min(f[d][1] for f in buffer.index_lists)
        for d in range(len(first))
    ]
    touched = [0] * (n + 1)
    touched[n] = math.prod(min(e, s) for e, s in zip(extents, shape, strict=True))
    moved_by = [False] * n
    used_by = [False] * n
    strides = [0] * n
    row_strides = buffer.row_strides if local is None else local.row_strides
    for j in range(n - 1, -1, -1):
        moves = stack[j].moves
        if local is not None and stack[j].key in local.outside:
            touched[j] = touched[j + 1]
            continue
        used_by[j] = any(
            any(moves.get(axis, (0, 0)) != (0, 0) for axis, _ in terms)
            for forms in buffer.index_lists
            for terms, _ in forms
        )
        stride = 0
        for d, (terms, _) in enumerate(first):
            coef = span = 0
            for axis, k in terms:
                move = moves.get(axis)
                if move is not None:
                    coef += k * move[0]
                    span += abs(k) * move[1]
            if span:
                extents[d] += span
                moved_by[j] = True
                if coef:
                    step = abs(coef) * row_strides[d]
                    stride = step if stride == 0 else min(stride, step)
        strides[j] = stride
        touched[j] = (
            math.prod(min(e, s) for e, s in zip(extents, shape, strict=True))
            if moved_by[j]
            else touched[j + 1]
        )
    region = [min(e, s) for e, s in zip(extents, shape, strict=True)]
    return _Touch(buffer, shape, touched, moved_by, used_by, strides, region)


@dataclass
class _LoopTotals:
    """What all statements inside one loop touch: bytes, element bytes, and per buffer the number
    of accesses and the smallest region among them."""

    bytes: float = 0.0
    element_bytes: float = 0.0
    accesses: dict[str, list[int]] = field(default_factory=dict[str, list[int]])

    def add(self, buffer: str, size: int, element_bytes: int) -> None:
        self.bytes += size * element_bytes
        self.element_bytes += element_bytes
        entry = self.accesses.get(buffer)
        if entry is None:
            self.accesses[buffer] = [1, size]
        else:
            entry[0] += 1
            entry[1] = min(entry[1], size)


def _reuse(
    touch: _Touch, stack: Sequence[_Loop], totals: dict[tuple[str, str], _LoopTotals]
) -> tuple[int, float, float, float]:
    """Ansor's reuse analysis of one buffer: type, distance in iterations and bytes, count.

    Going outwards: the first loop no access of the buffer depends on gives
    loop-multiple-read reuse; before it, a loop in which the buffer was
    touched by more than one statement gives serial-multiple-read-write
    reuse. `totals` holds what the statements up to this one, in program
    order, touch in each loop: TVM computes a statement's features as its
    visitor reaches the store, before the statements after it are seen.
    """
    dis_iter, dis_bytes = 1.0, -1.0
    name = touch.buffer.name
    for j in range(len(stack) - 1, -1, -1):
        loop = stack[j]
        total = totals[loop.key]
        if not touch.used_by[j]:
            if dis_bytes < 0:
                dis_bytes = total.element_bytes
            return _LOOP_MULTIPLE_READ, dis_iter, dis_bytes, loop.extent
        dis_iter *= loop.extent
        dis_bytes = total.bytes
        count, smallest = total.accesses[name]
        if count > 1:
            return _SERIAL_MULTIPLE_READ_WRITE, smallest / loop.extent, total.bytes / loop.extent, count - 1
    return _NO_REUSE, 0.0, 0.0, 0.0


def _buffer_row(
    touch: _Touch, stack: Sequence[_Loop], totals: dict[tuple[str, str], _LoopTotals], loop_product: float
) -> list[float]:
    buffer = touch.buffer
    size = buffer.element_bytes
    bytes_ = loop_product * size
    unique_bytes = touch.touched[0] * size
    stride, lines, unique_lines = 0, 1.0, 1.0
    if stack:
        ignored = 1.0
        j = len(stack) - 1
        while j >= 0 and touch.strides[j] == 0:
            ignored *= stack[j].extent
            j -= 1
        step = touch.strides[j] if j >= 0 else 0
        lines = max(1.0, loop_product / ignored * min(1.0, step * size / CACHE_LINE_BYTES))
        stride = step if j == len(stack) - 1 else 0
        unique_lines = max(1.0, unique_bytes / min(_contiguous_bytes(touch), CACHE_LINE_BYTES))
    reuse_type, dis_iter, dis_bytes, count = _reuse(touch, stack, totals)
    divisor = count if count > 0.5 else 0.5  # no reuse: Ansor doubles the figures
    one_hot = [0.0, 0.0, 0.0]
    one_hot[buffer.acc_type] = 1.0
    reuse_hot = [0.0, 0.0, 0.0]
    reuse_hot[reuse_type] = 1.0
    return [
        *one_hot,
        bytes_,
        unique_bytes,
        lines,
        unique_lines,
        *reuse_hot,
        dis_iter,
        dis_bytes,
        count,
        bytes_ / divisor,
        unique_bytes / divisor,
        lines / divisor,
        unique_lines / divisor,
        stride,
    ]


def _contiguous_bytes(touch: _Touch) -> float:
    """Bytes of the longest contiguous run in the region the whole stack touches."""
    run = touch.buffer.element_bytes
    for extent, size in zip(reversed(touch.region), reversed(touch.shape), strict=True):
        run *= extent
        if extent < size:
            break
    return float(run)


def _position(moves: dict[int, tuple[int, int]], info: _StageInfo) -> int:
    """Column (within the 8 of a one-hot position) of an annotated loop."""
    axes = [a for a, (coef, span) in moves.items() if coef or span]
    if not axes:
        return 3  # a loop of an enclosing stage that does not move this one: outer spatial
    if len(axes) > 1:
        return 7
    axis = axes[0]
    if axis < info.n_spatial:
        count, index, base = info.n_spatial, axis, 1
    else:
        count, index, base = info.n_reduce, axis - info.n_spatial, 4
    if index == count - 1:
        return base
    return base + 2 if index == 0 else base + 1


def _intensity_curve(compute_logs: Sequence[float], byte_logs: Sequence[float]) -> list[float]:
    """Ansor's arithmetic intensity curve: log-flops over log-bytes, interpolated along log-flops."""
    curve = [0.0] * ARITH_INTENSITY_CURVE_SAMPLES
    if not compute_logs or compute_logs[-1] <= 0:
        return curve
    ratios = [c / max(b, 1.0) for c, b in zip(compute_logs, byte_logs, strict=True)]
    point = 0
    for i in range(ARITH_INTENSITY_CURVE_SAMPLES):
        target = compute_logs[-1] * (i + 1) / ARITH_INTENSITY_CURVE_SAMPLES
        while compute_logs[point] < target - 1e-4:
            point += 1
        if point == 0 or compute_logs[point] == compute_logs[point - 1]:
            curve[i] = ratios[point]
            continue
        slope = (ratios[point] - ratios[point - 1]) / (compute_logs[point] - compute_logs[point - 1])
        curve[i] = ratios[point - 1] + slope * (target - compute_logs[point - 1])
    return curve


def _statement_row(
    program: _Program,
    name: str,
    info: _StageInfo,
    touches: Sequence[_Touch],
    totals: dict[tuple[str, str], _LoopTotals],
    is_gpu: bool,
    max_n_bufs: int,
) -> list[float]:
    stack = program.stacks[name]
    loop_product = float(math.prod(loop.extent for loop in stack))
    row = [count * loop_product for count in info.op_counts]
    gpu = [1.0 if is_gpu else 0.0] + [0.0] * 7
    for group in range(3):
        annotated = [
            (j, loop) for j, loop in enumerate(stack) if _ANNOTATION_GROUPS.get(loop.annotation) == group
        ]
        one_hot = [0.0] * len(_POSITIONS)
        if not annotated:
            one_hot[0] = 1.0
            row += [0.0, 0.0, 0.0, *one_hot]
            continue
        innermost = annotated[-1][1]
        one_hot[_position(innermost.moves, info)] = 1.0
        product = float(math.prod(loop.extent for _, loop in annotated))
        row += [float(len(annotated)), product, float(innermost.extent), *one_hot]
    for loop in stack:
        if loop.annotation in _GPU_COLUMNS:
            gpu[_GPU_COLUMNS[loop.annotation]] = float(loop.extent)
    vthreads = [loop.extent for loop in stack if loop.annotation == LoopAnnotation.VTHREAD]
    if vthreads:
        gpu[7] = float(math.prod(vthreads))
    row += gpu

    buffer_rows = sorted(
        (_buffer_row(t, stack, totals, loop_product) for t in touches),
        key=lambda r: (r[5], r[3]),
        reverse=True,
    )
    for index in range(max_n_bufs):
        row += buffer_rows[index] if index < len(buffer_rows) else [0.0] * len(_BUFFER_FEATURES)

    compute_logs: list[float] = []
    byte_logs: list[float] = []
    ops = float(info.float_ops)
    for j in range(len(stack) - 1, -1, -1):
        ops *= stack[j].extent
        compute_logs.append(math.log2(ops) if ops > 0 else 0.0)
        touched = sum(t.touched[j] * t.buffer.element_bytes for t in touches)
        byte_logs.append(math.log2(touched))
    row += _intensity_curve(compute_logs, byte_logs)

    if info.is_output:
        row += [0.0, 0.0, 0.0, 0.0]
    else:
        bounds = program.inference.bounds(name)
        elements = float(math.prod(bounds.root_extents[: info.n_spatial]))
        outer = float(math.prod(loop.extent for loop in program.outer[name]))
        row += [elements * info.element_bytes, elements * outer, outer, outer / elements]
    row += [loop_product, float(len(stack)), float(program.auto_unroll(name))]
    return row


# --- entry points ----------------------------------------------------------------------------------------


def _state_rows(dag: ComputeDAG, state: State, max_n_bufs: int) -> list[list[float]]:
    structure = loop_structure(dag, state)
    shaped = State(
        structure.state.stages, state.transform_steps, structure.state.output_names, structure.state.consumers
    )
    inference = BoundInference(dag, shaped, structure.loops_of(state.transform_steps), gpu=True)
    inlined = frozenset(s.name for s in shaped.stages if s.compute_at == ComputeAtKind.INLINED)
    infos = _analysis(inference.dag).infos(inlined)
    program = _Program(shaped, inference, inlined)

    is_gpu = any(
        loop.annotation in _GPU_COLUMNS or loop.annotation == LoopAnnotation.VTHREAD
        for stack in program.stacks.values()
        for loop in stack
    )
    locals_ = {name: program.local(name) for name in program.statements}
    touches = {
        name: [_touch(b, program.stacks[name], locals_.get(b.name)) for b in infos[name].buffers]
        for name in program.statements
    }
    totals: dict[tuple[str, str], _LoopTotals] = {}
    rows: dict[str, list[float]] = {}
    for name in _program_order(shaped, program.statements):
        stack = program.stacks[name]
        first_reduce = next(
            (
                j
                for j, loop in enumerate(stack)
                if any(a >= infos[name].n_spatial for a in loop.moves) and loop.key[0] == name
            ),
            len(stack),
        )
        for j, loop in enumerate(stack):
            total = totals.setdefault(loop.key, _LoopTotals())
            for t in touches[name]:
                total.add(t.buffer.name, t.touched[j], t.buffer.element_bytes)
            if j < first_reduce and infos[name].n_reduce:
                # The reduction's initialisation writes the same region before the reduce loops.
                own = touches[name][0]
                total.add(own.buffer.name, own.touched[j], own.buffer.element_bytes)
        rows[name] = _statement_row(program, name, infos[name], touches[name], totals, is_gpu, max_n_bufs)
    return [rows[name] for name in program.statements]


def _program_order(state: State, statements: Sequence[str]) -> list[str]:
    """The statements in the order the lowered loop nest runs them (a pre-order walk of the attach tree).

    A stage computed at a loop runs at the start of that loop's body, so
    before the inner loops and the statement of the stage it is attached to.
    """
    wanted = set(statements)
    attached: dict[tuple[str, str], list[str]] = {}
    for stage in state.stages:
        if stage.attach is not None and stage.compute_at == ComputeAtKind.ITER:
            attached.setdefault(stage.attach, []).append(stage.name)
    order: list[str] = []

    def visit(name: str) -> None:
        for it in state[name].iters:
            for inner in attached.get((name, it.name), ()):
                visit(inner)
        if name in wanted:
            order.append(name)

    for stage in state.stages:
        if stage.kind == StageKind.COMPUTE and stage.compute_at == ComputeAtKind.ROOT:
            visit(stage.name)
    order += [name for name in statements if name not in order]  # attach cycles: not reached above
    return order


def _slog(rows: list[list[float]], n_columns: int) -> np.ndarray:
    values = np.asarray(rows, dtype=np.float64).reshape(-1, n_columns)
    return (np.sign(values) * np.log2(np.abs(values) + 1.0)).astype(np.float32)


def get_per_store_features_from_states(
    states: Sequence[State], task: SearchTask, max_n_bufs: int = MAX_N_BUFS
) -> list[np.ndarray]:
    """A `(rows, features)` float32 array per state: one row per stage that stores a buffer.

    States need their stages (a State holding only steps, as read from a
    record, is replayed on the task's DAG first). A state whose loops cannot
    be inferred gets one row of zeros, which the cost model scores -inf.
    """
    dag = task.dag_or_error()
    n_columns = len(get_per_store_feature_names(max_n_bufs))
    features: list[np.ndarray] = []
    for state in states:
        try:
            state = dag.concrete_state(state)
            rows = _state_rows(dag, state, max_n_bufs)
        except ScheduleError:
            rows = []
        features.append(_slog(rows, n_columns) if rows else np.zeros((1, n_columns), dtype=np.float32))
    return features


def get_per_store_features_from_measure_pairs(
    inputs: Sequence[MeasureInput],
    results: Sequence[MeasureResult],
    skip_first_n_feature_extraction: int = 0,
    max_n_bufs: int = MAX_N_BUFS,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Features of measured programs, their normalised throughputs and their task ids.

    The throughput of a program is the least cost measured for its task (by
    workload key) over its own cost, in (0, 1]; a failed measurement has 0.
    Task ids number the workload keys in order of appearance. The features of
    the first `skip_first_n_feature_extraction` inputs are left empty (the
    caller has them). Inputs read from records (no DAG, only steps) get their
    task's DAG from the workload registry, built once per workload.
    """
    if len(inputs) != len(results):
        raise RecordError(f"{len(inputs)} measure inputs but {len(results)} results")
    keys: dict[str, int] = {}
    task_ids = np.array([keys.setdefault(i.task.workload_key, len(keys)) for i in inputs], dtype=np.int64)
    valid = np.array([r.error_no == MeasureErrorNo.NO_ERROR for r in results], dtype=bool)
    costs = np.array([r.mean_cost() for r in results], dtype=np.float64)
    best = np.full(len(keys), np.inf)
    np.minimum.at(best, task_ids[valid], costs[valid])
    throughputs = np.where(valid, best[task_ids] / costs, 0.0)

    tasks: dict[str, SearchTask] = {}
    features: list[np.ndarray] = []
    for index, measure_input in enumerate(inputs):
        if index < skip_first_n_feature_extraction:
            features.append(np.zeros((0, len(get_per_store_feature_names(max_n_bufs))), dtype=np.float32))
            continue
        task = measure_input.task
        if task.compute_dag is None:
            key = task.workload_key
            if key not in tasks:
                tasks[key] = recover_measure_input(measure_input).task
            task = tasks[key]
        features += get_per_store_features_from_states([measure_input.state], task, max_n_bufs)
    return features, throughputs, task_ids
