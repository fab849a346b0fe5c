"""Static analysis of how each stage of a workload reads its inputs.

The sketch rules of the search ask these questions of a stage (TVM's
`AccessAnalyzer`): is it elementwise with plain, same-order accesses (then it
can be inlined into its consumers for free); does it need multi-level tiling
(some read leaves two spatial axes unused, or one with a reduction, as in
matmul and conv2d); does it reduce; is it an output. The answers come from
the `te.read` ops of its body: an index that is exactly an iterator is a
plain access, anything else (`%i + 1`, `%i * 2 + %r`) is a complex one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects import arith, math, scf
from xdsl.ir import BlockArgument, Operation, SSAValue

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


@dataclass(frozen=True)
class Access:
    """The indices of one `te.read`: the iterator position of each, or None if complex."""

    tensor: str
    iter_positions: tuple[int | None, ...]
    used_iters: frozenset[int]

    @property
    def is_plain(self) -> bool:
        return all(p is not None for p in self.iter_positions)


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
        reads = tuple(
            Access(
                te.tensor_name(op.tensor),
                tuple(_position(i, positions) for i in op.indices),
                frozenset(p for i in op.indices for p in _iters_used(i, positions)),
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
        n_spatial = len(stage.spatial_args)
        simple = all(a.is_plain for a in reads)
        same_order = all(_in_order(a, n_spatial) for a in reads)
        self.info[name] = StageAccessInfo(
            reads=reads,
            is_simple_access=simple,
            is_strictly_inlineable=(
                simple and same_order and not has_branch and not has_expensive_op and not has_reduction
            ),
            needs_multi_level_tiling=any(
                _missing_spatial(a, n_spatial) >= 2 or (_missing_spatial(a, n_spatial) >= 1 and has_reduction)
                for a in reads
            ),
            has_reduction=has_reduction,
            has_branch=has_branch,
            has_expensive_op=has_expensive_op,
            is_output=is_output,
        )


def _position(index: SSAValue, positions: dict[BlockArgument, int]) -> int | None:
    return positions.get(index) if isinstance(index, BlockArgument) else None


def _in_order(access: Access, n_spatial: int) -> bool:
    """Plain spatial iterators, each once, in increasing order (no transpose, no broadcast mix-up)."""
    spatial = [p for p in access.iter_positions if p is not None and p < n_spatial]
    return len(spatial) == len(access.iter_positions) and spatial == sorted(set(spatial))


def _iters_used(index: SSAValue, positions: dict[BlockArgument, int]) -> set[int]:
    """The iterators an index expression depends on (conv's `h * 2 + r` uses h and r)."""
    used: set[int] = set()
    stack, seen = [index], set[SSAValue]()
    while stack:
        value = stack.pop()
        if value in seen:
            continue
        seen.add(value)
        if isinstance(value, BlockArgument):
            if value in positions:
                used.add(positions[value])
            continue
        stack.extend(value.owner.operands)
    return used


def _missing_spatial(access: Access, n_spatial: int) -> int:
    """How many spatial iterators the read's indices do not depend on."""
    return sum(p not in access.used_iters for p in range(n_spatial))
