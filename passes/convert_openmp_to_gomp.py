"""`convert-openmp-to-gomp`: OpenMP parallel regions and work-sharing loops to calls of libgomp.

Upstream MLIR leaves the `omp` dialect to LLVM's OpenMPIRBuilder at
translation time, which calls LLVM's own runtime (libomp, `__kmpc_*`).
xDSL's LLVM backend has no such step, and the OpenMP runtime on our machines
is GCC's libgomp, so this pass lowers the constructs `convert-scf-to-openmp`
produces to calls of libgomp's ABI, the way GCC compiles
`#pragma omp parallel for schedule(static)`:

- `omp.wsloop` around an `omp.loop_nest`: each thread of the team runs a
  contiguous share of the outermost loop's `n` iterations: with `t` from
  `omp_get_thread_num()`, `q = ceil(n / omp_get_num_threads())`, the
  iterations `[min(t * q, n), min((t + 1) * q, n))`, as an `scf.for`; the
  inner loops of a collapsed nest run whole within each share. Then
  `GOMP_barrier()`, unless the loop is `nowait` or the last op of its
  parallel region, whose end joins the team anyway. Outside a parallel
  region the team is the calling thread alone, which runs every iteration.
- `omp.parallel`: the region is outlined into `func.func private
  @<f>_omp_parallel_<n>`, which takes as arguments the values the region
  uses from outside it (constants are cloned in instead), and a trampoline
  `@<f>_omp_parallel_<n>_trampoline(%data: !llvm.ptr)` with the C signature
  libgomp calls, which loads those values from the buffer at `%data` and
  calls the outlined function. In place of the region, the values are
  stored into that buffer, pointer-sized slots on the stack (allocated in
  the entry block, so a parallel region in a serial loop does not grow the
  stack), and `GOMP_parallel(@trampoline, buffer, num_threads, 0)` runs the
  team: the calling thread is thread 0, and the call returns once every
  thread is done. `num_threads` is the op's `num_threads` operand, else 0,
  which leaves the choice to libgomp: `omp_set_num_threads`,
  `OMP_NUM_THREADS`, else one thread per core of the process' affinity mask.

The captured values reach the outlined function as arguments rather than
being loaded inside it so that memrefs stay function arguments, which
`convert-func-to-llvm` marks `noalias`: LLVM then vectorises the loops in
the outlined function without runtime alias checks, as in the kernel.

A `memref.alloca_scope` directly in the loop body (convert-scf-to-openmp
wraps every body in one) is inlined: `finalize-memref-to-llvm` hoists
allocas to the entry block of their function, the outlined one here, so each
thread gets its buffers once, and a scope has nothing left to free.

The result holds func, scf, arith and llvm ops, with unrealized casts
between them, for `convert-to-llvm`. Other clauses (private, reduction,
linear, allocate, if, proc_bind, ordered, a chunk size, schedules other
than static or auto) raise `LoweringError` naming the op and the clause.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.builder import ImplicitBuilder
from xdsl.context import Context
from xdsl.dialects import arith, func, llvm, memref, omp, scf
from xdsl.dialects.builtin import (
    IndexType,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    UnrealizedConversionCastOp,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue, Use
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import InsertPoint
from xdsl.traits import SymbolTable

from schedopt.errors import LoweringError
from schedopt.passes.llvm_type_conversion import (
    convert_type,
    declare_external_function,
    element_size_in_bytes,
)

_PTR = llvm.LLVMPointerType()
_VOID = llvm.LLVMVoidType()

RUNTIME_FUNCTIONS: dict[str, llvm.LLVMFunctionType] = {
    # void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags)
    "GOMP_parallel": llvm.LLVMFunctionType([_PTR, _PTR, i32, i32], _VOID),
    "GOMP_barrier": llvm.LLVMFunctionType([], _VOID),
    "omp_get_thread_num": llvm.LLVMFunctionType([], i32),
    "omp_get_num_threads": llvm.LLVMFunctionType([], i32),
}
"""The libgomp entry points the lowered code calls, with their C signatures."""


def _declare_runtime(user: Operation, names: Sequence[str], rewriter: PatternRewriter) -> None:
    """Declare the runtime functions `names` in the module holding `user`, once."""
    for name in names:
        declare_external_function(user, name, RUNTIME_FUNCTIONS[name], rewriter)


def _runtime_call(name: str, *args: SSAValue) -> llvm.CallOp:
    output = RUNTIME_FUNCTIONS[name].output
    return llvm.CallOp(name, *args, return_type=None if isinstance(output, llvm.LLVMVoidType) else output)


def _where(op: Operation) -> str:
    """`omp.wsloop in @f`: the op and the function that holds it, for messages."""
    parent = op.parent_op()
    while parent is not None and not isinstance(parent, func.FuncOp | llvm.FuncOp):
        parent = parent.parent_op()
    return op.name if parent is None else f"{op.name} in @{parent.sym_name.data}"


def _reject(op: Operation, clause: str | None) -> None:
    if clause is not None:
        raise LoweringError(f"convert-openmp-to-gomp: {_where(op)}: the {clause} clause is not supported")


def _unsupported_wsloop_clause(op: omp.WsLoopOp) -> str | None:
    kind = op.schedule_kind
    clauses = {
        "private": bool(op.private_vars),
        "reduction": bool(op.reduction_vars),
        "linear": bool(op.linear_vars),
        "allocate": bool(op.allocate_vars),
        "ordered": op.ordered is not None,
        "schedule chunk size": op.schedule_chunk is not None,
        f"schedule({kind.data if kind else ''})": kind is not None
        and kind.data not in (omp.ScheduleKind.STATIC, omp.ScheduleKind.AUTO),
    }
    return next((clause for clause, present in clauses.items() if present), None)


def _unsupported_parallel_clause(op: omp.ParallelOp) -> str | None:
    clauses = {
        "private": bool(op.private_vars),
        "reduction": bool(op.reduction_vars),
        "allocate": bool(op.allocate_vars),
        "if": op.if_expr is not None,
        "proc_bind": op.proc_bind_kind is not None,
    }
    return next((clause for clause, present in clauses.items() if present), None)


def _inline_alloca_scopes(block: Block, rewriter: PatternRewriter) -> None:
    for scope in [op for op in block.ops if isinstance(op, memref.AllocaScopeOp)]:
        body = scope.scope.block
        terminator = body.last_op
        assert isinstance(terminator, memref.AllocaScopeReturnOp)
        results = list(terminator.ops)
        rewriter.erase(terminator)
        rewriter.inline_block(body, InsertPoint.before(scope))
        rewriter.replace(scope, [], results)


class LowerWsLoop(RewritePattern):
    """omp.wsloop { omp.loop_nest } -> this thread's static share of the iterations, as scf.for."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: omp.WsLoopOp, rewriter: PatternRewriter, /):
        _reject(op, _unsupported_wsloop_clause(op))
        nest = op.body.block.first_op
        if not isinstance(nest, omp.LoopNestOp):
            raise LoweringError(
                f"convert-openmp-to-gomp: {_where(op)} around {nest and nest.name} is not supported"
            )
        if nest.loop_inclusive is not None:
            raise LoweringError(
                f"convert-openmp-to-gomp: {_where(nest)} with inclusive bounds is not supported"
            )
        barrier = op.nowait is None and not _ends_parallel_region(op)
        _declare_runtime(
            op,
            ["omp_get_thread_num", "omp_get_num_threads", *(["GOMP_barrier"] if barrier else [])],
            rewriter,
        )
        lower, upper, step = nest.lowerBound[0], nest.upperBound[0], nest.step[0]
        rewriter.insertion_point = InsertPoint.before(op)
        with ImplicitBuilder(rewriter):
            thread = arith.IndexCastOp(_runtime_call("omp_get_thread_num"), IndexType())
            threads = arith.IndexCastOp(_runtime_call("omp_get_num_threads"), IndexType())
            trips = arith.CeilDivSIOp(arith.SubiOp(upper, lower), step)  # at most 0 when the range is empty
            share = arith.CeilDivSIOp(trips, threads)
            first = arith.MinSIOp(arith.MuliOp(thread, share), trips)
            last = arith.MinSIOp(arith.AddiOp(first, share), trips)
            begin = arith.AddiOp(lower, arith.MuliOp(first, step))
            end = arith.AddiOp(lower, arith.MuliOp(last, step))
        bounds = [
            (begin.result, end.result, step),
            *zip(nest.lowerBound[1:], nest.upperBound[1:], nest.step[1:], strict=True),
        ]
        self._emit_loops(nest, bounds, op, rewriter)
        if barrier:
            rewriter.insert(_runtime_call("GOMP_barrier"), InsertPoint.before(op))
        rewriter.erase(op)

    @staticmethod
    def _emit_loops(
        nest: omp.LoopNestOp,
        bounds: Sequence[tuple[SSAValue, SSAValue, SSAValue]],
        before: Operation,
        rewriter: PatternRewriter,
    ) -> None:
        """The loop nest over `bounds`, outermost first, with the nest's body inside."""
        point = InsertPoint.before(before)
        ivs: list[SSAValue] = []
        for (lower, upper, step), old_iv in zip(bounds, nest.body.block.args, strict=True):
            body = Block(arg_types=[IndexType()])
            body.args[0].name_hint = old_iv.name_hint
            body.add_op(scf.YieldOp())
            rewriter.insert(scf.ForOp(lower, upper, step, [], body), point)
            ivs.append(body.args[0])
            point = InsertPoint.before(body.last_op)  # pyright: ignore[reportArgumentType]
        block = nest.body.block
        _inline_alloca_scopes(block, rewriter)
        assert isinstance(block.last_op, omp.YieldOp)
        rewriter.erase(block.last_op)
        rewriter.inline_block(block, point, ivs)


def _ends_parallel_region(op: Operation) -> bool:
    """Whether `op` is the last op of an omp.parallel region, whose end is a barrier."""
    return isinstance(op.next_op, omp.TerminatorOp) and isinstance(op.parent_op(), omp.ParallelOp)


@dataclass(frozen=True)
class _Captures:
    """The values a region uses from outside it: passed in, or (constants) cloned in."""

    passed: tuple[SSAValue, ...]
    cloned: tuple[Operation, ...]


def _captures(op: Operation) -> _Captures:
    passed: dict[SSAValue, None] = {}
    cloned: dict[Operation, None] = {}
    for inner in (nested for region in op.regions for nested in region.walk()):
        for value in inner.operands:
            owner = value.owner
            defined_inside = op.is_ancestor(owner if isinstance(owner, Operation) else owner.parent_op())
            if defined_inside:
                continue
            if isinstance(owner, arith.ConstantOp | llvm.ConstantOp):
                cloned[owner] = None
            else:
                passed[value] = None
    return _Captures(tuple(passed), tuple(cloned))


def _enclosing_function(op: Operation) -> func.FuncOp:
    parent = op.parent_op()
    while parent is not None and not isinstance(parent, func.FuncOp):
        parent = parent.parent_op()
    if parent is None:
        raise LoweringError(f"convert-openmp-to-gomp: {op.name} outside a func.func is not supported")
    return parent


def _fresh_symbol(module: Operation, base: str) -> str:
    n = 0
    while SymbolTable.lookup_symbol(module, f"{base}_{n}") is not None:
        n += 1
    return f"{base}_{n}"


def _llvm_type(value: SSAValue, where: str) -> Attribute:
    try:
        return convert_type(value.type)
    except LoweringError as error:
        raise LoweringError(f"convert-openmp-to-gomp: {where} uses a value of which {error}") from None


def _cast(value: SSAValue, type_: Attribute) -> tuple[list[Operation], SSAValue]:
    """`value` as `type_`, through an unrealized cast where the types differ."""
    if value.type == type_:
        return [], value
    cast = UnrealizedConversionCastOp.get([value], [type_])
    return [cast], cast.results[0]


SLOT_BYTES = 8
"""The values passed to a parallel region are stored in consecutive slots of this many bytes."""


@dataclass(frozen=True)
class _SlotLayout:
    """Where each passed value lives in the buffer `GOMP_parallel` hands to the trampoline.

    Each value takes `ceil(size / 8)` pointer-sized slots, stored and loaded
    with alignment 8. Slots rather than an `!llvm.struct`: xDSL's LLVM
    backend types the address of a struct field as a pointer to the struct,
    and llvmlite then refuses to store a pointer through it; an array of
    `!llvm.ptr` has opaque-pointer addresses, through which any value stores.
    """

    types: tuple[Attribute, ...]
    offsets: tuple[int, ...]
    slots: int

    @staticmethod
    def of(types: Sequence[Attribute]) -> "_SlotLayout":
        offsets: list[int] = []
        slots = 0
        for type_ in types:
            offsets.append(slots)
            size = SLOT_BYTES if isinstance(type_, llvm.LLVMPointerType) else element_size_in_bytes(type_)
            slots += -(-size // SLOT_BYTES)
        return _SlotLayout(tuple(types), tuple(offsets), slots)

    def address(self, data: SSAValue, index: int) -> llvm.GEPOp:
        return llvm.GEPOp(data, [self.offsets[index]], _PTR)


def _num_threads_i32(value: SSAValue | None) -> tuple[list[Operation], SSAValue]:
    """The `num_threads` operand as the i32 GOMP_parallel takes; 0 (libgomp's default) if absent."""
    if value is None:
        zero = llvm.ConstantOp(IntegerAttr(0, i32), i32)
        return [zero], zero.result
    if isinstance(value.type, IndexType):
        cast = arith.IndexCastOp(value, i32)
    else:
        assert isinstance(value.type, IntegerType)
        width = value.type.width.data
        if width == 32:
            return [], value
        cast = arith.TruncIOp(value, i32) if width > 32 else arith.ExtUIOp(value, i32)
    return [cast], cast.results[0]


class OutlineParallel(RewritePattern):
    """omp.parallel -> an outlined function, its trampoline, and a call of GOMP_parallel."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: omp.ParallelOp, rewriter: PatternRewriter, /):
        _reject(op, _unsupported_parallel_clause(op))
        function = _enclosing_function(op)
        module = function.get_toplevel_object()
        assert isinstance(module, ModuleOp)
        name = _fresh_symbol(module, f"{function.sym_name.data}_omp_parallel")
        captures = _captures(op)
        where = _where(op)
        layout = _SlotLayout.of([_llvm_type(value, where) for value in captures.passed])

        data = self._pack(function, captures.passed, layout, op, rewriter)
        outlined = self._outline(op, name, captures, rewriter)
        trampoline = self._trampoline(f"{name}_trampoline", outlined, layout)
        rewriter.insert([outlined, trampoline], InsertPoint.after(function))

        _declare_runtime(op, ["GOMP_parallel"], rewriter)
        threads_ops, threads = _num_threads_i32(op.num_threads)
        flags = llvm.ConstantOp(IntegerAttr(0, i32), i32)
        address = llvm.AddressOfOp(trampoline.sym_name.data, _PTR)
        call = _runtime_call("GOMP_parallel", address.result, data, threads, flags.result)
        rewriter.replace(op, [*threads_ops, flags, address, call], [])

    @staticmethod
    def _pack(
        function: func.FuncOp,
        values: Sequence[SSAValue],
        layout: _SlotLayout,
        before: Operation,
        rewriter: PatternRewriter,
    ) -> SSAValue:
        """Store `values` into slots allocated in the function's entry block; the slots' address."""
        if not values:
            null = rewriter.insert(llvm.ZeroOp(result_types=[_PTR]), InsertPoint.before(before))
            return null.results[0]
        count = llvm.ConstantOp(IntegerAttr(layout.slots, i64), i64)
        alloca = llvm.AllocaOp(count.result, _PTR, alignment=SLOT_BYTES)
        alloca.res.name_hint = "omp_data"
        rewriter.insert([count, alloca], InsertPoint.at_start(function.body.blocks[0]))
        for index, (value, type_) in enumerate(zip(values, layout.types, strict=True)):
            casts, stored = _cast(value, type_)
            address = layout.address(alloca.res, index)
            store = llvm.StoreOp(stored, address, alignment=SLOT_BYTES)
            rewriter.insert([*casts, address, store], InsertPoint.before(before))
        return alloca.res

    @staticmethod
    def _outline(
        op: omp.ParallelOp, name: str, captures: _Captures, rewriter: PatternRewriter
    ) -> func.FuncOp:
        """`func.func private @name(passed values)` with the region as its body."""
        types = [value.type for value in captures.passed]
        body = rewriter.move_region_contents_to_new_regions(op.region)
        entry = body.blocks[0]

        def inside(use: Use) -> bool:
            return body.is_ancestor(use.operation)

        for index, value in enumerate(captures.passed):
            arg = entry.insert_arg(value.type, index)
            arg.name_hint = value.name_hint
            value.replace_uses_with_if(arg, inside)
        clones = [constant.clone() for constant in captures.cloned]
        rewriter.insert(clones, InsertPoint.at_start(entry))
        for constant, clone in zip(captures.cloned, clones, strict=True):
            for old, new in zip(constant.results, clone.results, strict=True):
                old.replace_uses_with_if(new, inside)
        for block in body.blocks:
            if isinstance(terminator := block.last_op, omp.TerminatorOp):
                rewriter.replace(terminator, func.ReturnOp())
        return func.FuncOp(name, (types, []), body, visibility="private")

    @staticmethod
    def _trampoline(name: str, outlined: func.FuncOp, layout: _SlotLayout) -> func.FuncOp:
        """`func.func private @name(%data: !llvm.ptr)`: load the values, call the outlined function."""
        block = Block(arg_types=[_PTR])
        data = block.args[0]
        data.name_hint = "data"
        values: list[SSAValue] = []
        for index, (type_, llvm_type) in enumerate(
            zip(outlined.function_type.inputs, layout.types, strict=True)
        ):
            address = layout.address(data, index)
            load = llvm.LoadOp(address, llvm_type, alignment=SLOT_BYTES)
            casts, value = _cast(load.dereferenced_value, type_)
            block.add_ops([address, load, *casts])
            values.append(value)
        block.add_ops([func.CallOp(outlined.sym_name.data, values, []), func.ReturnOp()])
        return func.FuncOp(name, ([_PTR], []), Region(block), visibility="private")


@dataclass(frozen=True)
class ConvertOpenMPToGompPass(ModulePass):
    """Lower omp.wsloop and omp.parallel to calls of libgomp (GOMP_parallel and friends).

    No options: the schedule is static; the thread count is the op's
    `num_threads` or libgomp's default.
    """

    name = "convert-openmp-to-gomp"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        # Loops first: whether a loop needs a barrier depends on its place in the parallel region.
        PatternRewriteWalker(LowerWsLoop()).rewrite_module(op)
        PatternRewriteWalker(OutlineParallel()).rewrite_module(op)
