"""Static analysis of how each stage of a workload reads its inputs.

The sketch rules of the search ask these questions of a stage (TVM's
`AccessAnalyzer`): is it elementwise with simple, same-order accesses (then
it can be inlined into its consumers for free); does it need multi-level
tiling (two of its inputs each leave a non-unit spatial axis unused, or one
does and the stage reduces, as in matmul and conv2d); does it reduce; is it
an output. The answers come from the `te.read` ops of its body. As in TVM's
`IsSimpleAccess`, an index is simple when it is a constant (`bias[c, 0, 0]`)
or a spatial iterator with an optional constant shift (`%i`, `%i + 1`);
anything else (`%i * 2 + %r`, a reduce iterator) makes the read complex.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

from xdsl.dialects import arith, math, scf
from xdsl.ir import BlockArgument, Operation, OpResult, SSAValue

from schedopt.dialects import te

EXPENSIVE_OPS: tuple[type[Operation], ...] = (
    math.ExpOp,
    math.Exp2Op,
    math.LogOp,
    math.Log2Op,
    math.Log10Op,
    math.TanhOp,
    math.SqrtOp,
    math.RsqrtOp,
    math.PowFOp,
    math.ErfOp,
    math.SinOp,
    math.CosOp,
    arith.DivfOp,
)
"""Ops that make inlining a stage into every consumer costly (TVM's HasExpensiveOp)."""


SIMPLIFY_CONST_TENSOR_INDICES = "auto_scheduler_simplify_const_tensor_indices"
"""The compute attribute naming the iterators that index constant tensors (Winograd's transform matrices)."""


@dataclass(frozen=True)
class Access:
    """The indices of one `te.read`.

    `iter_positions`: the iterator position of each index that is exactly an
    iterator, None for any other. `simple_positions`: for a simple access
    (TVM's `IsSimpleAccess`: every index a constant or a spatial iterator
    with an optional constant shift), the spatial iterator position of each
    non-constant index, in index order; None if the access is not simple.
    """

    tensor: str
    iter_positions: tuple[int | None, ...]
    used_iters: frozenset[int]
    simple_positions: tuple[int, ...] | None = None

    @property
    def is_plain(self) -> bool:
        return all(p is not None for p in self.iter_positions)

    @property
    def is_simple(self) -> bool:
        return self.simple_positions is not None

    @property
    def is_same_order(self) -> bool:
        """Simple, each iterator at most once and in the stage's order (no transpose, no diagonal)."""
        positions = self.simple_positions
        return positions is not None and all(a < b for a, b in pairwise(positions))


@dataclass(frozen=True)
class StageAccessInfo:
    """What the analysis found out about one stage."""

    reads: tuple[Access, ...]
    is_simple_access: bool
    is_strictly_inlineable: bool
    needs_multi_level_tiling: bool
    has_reduction: bool
    has_branch: bool
    has_expensive_op: bool
    is_output: bool


class AccessAnalyzer:
    """Access analysis of every stage of a workload function, by stage name."""

    def __init__(self, stages: Sequence[te.ComputeOp], output_names: Sequence[str]):
        self.read_from: dict[str, dict[str, list[Access]]] = {}
        self.read_by: dict[str, list[str]] = {}
        self.info: dict[str, StageAccessInfo] = {}
        for stage in stages:
            self._analyse(stage, stage.name_str in output_names)

    def _analyse(self, stage: te.ComputeOp, is_output: bool) -> None:
        name = stage.name_str
        positions = {arg: pos for pos, arg in enumerate(stage.iter_args)}
        n_spatial = len(stage.spatial_args)
        reads = tuple(
            Access(
                te.tensor_name(op.tensor),
                tuple(_position(i, positions) for i in op.indices),
                frozenset(p for i in op.indices for p in _iters_used(i, positions)),
                _simple_positions(op.indices, positions, n_spatial),
            )
            for op in stage.body.walk()
            if isinstance(op, te.ReadOp)
        )
        by_tensor: dict[str, list[Access]] = {}
        for access in reads:
            by_tensor.setdefault(access.tensor, []).append(access)
            consumers = self.read_by.setdefault(access.tensor, [])
            if name not in consumers:
                consumers.append(name)
        self.read_from[name] = by_tensor
        body_ops = list(stage.body.walk())
        has_branch = any(isinstance(op, scf.IfOp | arith.SelectOp) for op in body_ops)
        has_expensive_op = any(isinstance(op, EXPENSIVE_OPS) for op in body_ops)
        has_reduction = bool(stage.reduce_args)
        simple = all(a.is_simple for a in reads)
        same_order = all(a.is_same_order for a in reads)
        # A stage that reads nothing (Winograd's transform matrices, selects over
        # the iterators) is a constant tensor: always cheap to recompute in place.
        strictly_inlineable = not reads or (simple and same_order and not has_branch and not has_expensive_op)
        self.info[name] = StageAccessInfo(
            reads=reads,
            is_simple_access=simple,
            is_strictly_inlineable=strictly_inlineable and not has_reduction,
            needs_multi_level_tiling=_needs_multi_level_tiling(stage, by_tensor),
            has_reduction=has_reduction,
            has_branch=has_branch,
            has_expensive_op=has_expensive_op,
            is_output=is_output,
        )


def _position(index: SSAValue, positions: dict[BlockArgument, int]) -> int | None:
    return positions.get(index) if isinstance(index, BlockArgument) else None


def _simple_positions(
    indices: Sequence[SSAValue], positions: dict[BlockArgument, int], n_spatial: int
) -> tuple[int, ...] | None:
    """The spatial iterator of each non-constant index, if every index is simple (TVM's `IsSimpleAccess`)."""
    found: list[int] = []
    for index in indices:
        if _is_constant(index):
            continue
        position = _shifted_iterator(index, positions)
        if position is None or position >= n_spatial:
            return None
        found.append(position)
    return tuple(found)


def _shifted_iterator(index: SSAValue, positions: dict[BlockArgument, int]) -> int | None:
    """The iterator position of `%i`, `%i + c`, `c + %i` or `%i - c` (c constant), else None."""
    if isinstance(index, BlockArgument):
        return positions.get(index)
    op = index.owner
    if isinstance(op, arith.AddiOp):
        if _is_constant(op.rhs):
            return positions.get(op.lhs) if isinstance(op.lhs, BlockArgument) else None
        if _is_constant(op.lhs) and isinstance(op.rhs, BlockArgument):
            return positions.get(op.rhs)
    if isinstance(op, arith.SubiOp) and _is_constant(op.rhs) and isinstance(op.lhs, BlockArgument):
        return positions.get(op.lhs)
    return None


def _dependencies(index: SSAValue) -> Iterator[SSAValue]:
    """`index` and every value it is computed from, each once (lazily: a caller may stop early)."""
    stack, seen = [index], set[SSAValue]()
    while stack:
        value = stack.pop()
        if value in seen:
            continue
        seen.add(value)
        yield value
        if isinstance(value, OpResult):
            stack.extend(value.owner.operands)


def _is_constant(index: SSAValue) -> bool:
    """An index computed from constants alone (no iterator, no tensor read): TVM folds it to an int."""
    return all(
        isinstance(value, OpResult) and not isinstance(value.owner, te.ReadOp)
        for value in _dependencies(index)
    )


def _iters_used(index: SSAValue, positions: dict[BlockArgument, int]) -> set[int]:
    """The iterators an index expression depends on (conv's `h * 2 + r` uses h and r)."""
    used: set[int] = set()
    for value in _dependencies(index):
        if isinstance(value, BlockArgument) and value in positions:
            used.add(positions[value])
    return used


def _needs_multi_level_tiling(stage: te.ComputeOp, by_tensor: dict[str, list[Access]]) -> bool:
    """Whether the stage reuses its inputs enough to tile it in many levels (TVM's `NeedsMultiLevelTiling`).

    As in TVM, an input counts as missing an axis when none of its reads
    uses some spatial iterator of extent > 1 (a unit loop has no reuse to
    gain); the stage needs tiling when two inputs miss an axis, or one does
    and the stage reduces. A broadcast read such as `bias[c, 0, 0]` is one
    missing input, not three. Stages marked for const-tensor simplification
    (Winograd's fake reductions) are never tiled this way.
    """
    if SIMPLIFY_CONST_TENSOR_INDICES in stage.attributes:
        return False
    spatial = [p for p, extent in enumerate(stage.spatial_extents) if extent > 1]
    n_missing = 0
    for accesses in by_tensor.values():
        used = frozenset[int]().union(*(a.used_iters for a in accesses))
        if any(p not in used for p in spatial):
            n_missing += 1
    return n_missing >= 2 or (n_missing >= 1 and bool(stage.reduce_args))
