"""`memref-forwarding`: store-to-load forwarding and dead-store removal on memref elements, block by block.

An unrolled reduction reads and writes its accumulator once per term:
`%a = memref.load %acc[%i]`, `%b = arith.addf %a, %t`, `memref.store %b, %acc[%i]`,
again for the next term, a few thousand times in a Winograd transform.
Within a block this pass

- replaces a load by the value last stored to or loaded from the same
  element (the same memref, the same indices: the same SSA values, or equal
  constants), when nothing in between may have written it;
- removes a store that an identical later store overwrites with no read of
  the element in between, and a store of the value the element already holds;
- removes loads that nothing uses.

Two accesses of one memref are to different elements when some index of
theirs is a constant in both, with different values; any other pair may be
the same element. Different memrefs never alias: `schedopt` lowers buffers
to distinct allocations and to `noalias` arguments, never to views. Any op
other than these loads and stores that touches memory or holds a region
(a loop, an `scf.if`, a call) ends what the pass knows.

LLVM would do the same later; done here, every pass between sees a body
several times smaller (the build time of an unrolled Winograd transform is
mostly that).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import IntegerAttr, ModuleOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter
from xdsl.traits import is_side_effect_free

Index = int | SSAValue
"""An index of an access: its value if a constant, else the SSA value."""


def _index(value: SSAValue) -> Index:
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data
    return value


def _may_alias(a: tuple[Index, ...], b: tuple[Index, ...]) -> bool:
    return not any(isinstance(x, int) and isinstance(y, int) and x != y for x, y in zip(a, b, strict=True))


class _BlockMemory:
    """What a walk through one block knows: element values, and stores not read yet."""

    def __init__(self) -> None:
        self.known: dict[SSAValue, dict[tuple[Index, ...], SSAValue]] = {}
        self.unread: dict[SSAValue, dict[tuple[Index, ...], memref.StoreOp]] = {}

    def forget(self) -> None:
        self.known.clear()
        self.unread.clear()

    def load(self, op: memref.LoadOp) -> None:
        buffer, key = op.memref, tuple(_index(i) for i in op.indices)
        value = self.known.get(buffer, {}).get(key)
        if value is not None and value.type == op.res.type:
            op.res.replace_all_uses_with(value)
            Rewriter.erase_op(op)
            return
        unread = self.unread.get(buffer, {})
        for other in [k for k in unread if _may_alias(k, key)]:
            del unread[other]
        self.known.setdefault(buffer, {})[key] = op.res

    def store(self, op: memref.StoreOp) -> None:
        buffer, key, value = op.memref, tuple(_index(i) for i in op.indices), op.value
        known = self.known.setdefault(buffer, {})
        if known.get(key) is value:
            Rewriter.erase_op(op)
            return
        unread = self.unread.setdefault(buffer, {})
        overwritten = unread.pop(key, None)
        if overwritten is not None:
            Rewriter.erase_op(overwritten)
        for other in [k for k in known if _may_alias(k, key)]:
            del known[other]
        known[key] = value
        unread[key] = op


def forward_block(block: Block) -> None:
    """Forward stores to loads, and drop dead stores and unused loads, in `block` (not in nested regions)."""
    memory = _BlockMemory()
    for op in list(block.ops):
        if isinstance(op, memref.LoadOp):
            memory.load(op)
        elif isinstance(op, memref.StoreOp):
            memory.store(op)
        elif op.regions or not is_side_effect_free(op):
            memory.forget()
    for op in reversed(list(block.ops)):
        if isinstance(op, memref.LoadOp) and op.res.first_use is None:
            Rewriter.erase_op(op)


def _blocks(op: Operation):
    for region in op.regions:
        for block in region.blocks:
            yield block
            for inner in block.ops:
                yield from _blocks(inner)


@dataclass(frozen=True)
class MemrefForwardingPass(ModulePass):
    """Store-to-load forwarding, dead-store and unused-load removal within each block.

    No options.
    """

    name = "memref-forwarding"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for block in list(_blocks(op)):
            forward_block(block)
