"""ComputeDAG: a workload's computation graph and the analyses the search needs.

A ComputeDAG wraps one workload function in the `te` dialect (built from te
tensors, from a registered workload's key, or parsed from IR) and answers
questions about it: its operations in topological order, producer/consumer
relations, access analysis per stage, the flop count, a hash key, and the
initial loop State the search starts from.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from functools import cached_property
from typing import Self

from xdsl.dialects import arith, builtin, func, scf
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Attribute, BlockArgument, Operation, OpResult, SSAValue
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError, VerifyException
from xdsl.utils.hints import isa

from schedopt.access_analysis import AccessAnalyzer, StageAccessInfo
from schedopt.dag_view import DAGOp
from schedopt.dialects import te
from schedopt.errors import SchedOptError, TEError, WorkloadError
from schedopt.ir_context import te_context
from schedopt.layout_rewrite import LayoutRewriteOption
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import Iterator, IteratorKind, Stage, StageKind
from schedopt.schedule.transform_steps import CacheReadStep, CacheWriteStep, RfactorStep, Step
from schedopt.te import Tensor, build_te_module, type_to_dtype
from schedopt.workload_hash import is_structural_hash, structural_hash
from schedopt.workload_registry import (
    decode_workload_key,
    lookup_workload,
    lookup_workload_function,
    workload_key_to_tensors,
)

REWRITTEN_DAG_CACHE_SIZE = 256
"""How many DAGs with added stages a ComputeDAG keeps for `apply_steps_from_state`."""


_CACHE_STEPS = (CacheReadStep, CacheWriteStep)


class ComputeDAG:
    """The computational graph of a workload and its static analyses.

    `compute` is a list of te tensors (placeholders and outputs), a workload
    key of a registered workload (or of a te function registered under its
    key, `register_workload_function`), or an xDSL module / `func.func` in
    the `te` dialect. `ComputeDAG.from_module` also takes IR text.
    """

    def __init__(self, compute: Sequence[Tensor] | str | ModuleOp | func.FuncOp):
        self.workload_key_: str | None = None
        self.tensors: list[Tensor] | None = None
        if isinstance(compute, str):
            self.workload_key_ = compute
            registered = lookup_workload_function(compute)
            if registered is not None:
                module = ModuleOp([registered.clone()])
            else:
                name, _ = decode_workload_key(compute)
                self.tensors = workload_key_to_tensors(compute)
                module = build_te_module(self.tensors, name)
        elif isinstance(compute, ModuleOp):
            module = compute
        elif isinstance(compute, func.FuncOp):
            module = ModuleOp([compute.clone()])
        else:
            self.tensors = list(compute)
            module = build_te_module(self.tensors)
        self.module = module
        self.func = _single_te_function(module)
        try:
            self.module.verify()
        except VerifyException as error:
            raise TEError(f"workload function @{self.func.sym_name.data}: {error}") from None
        self.access_analyzer = AccessAnalyzer(self.compute_ops, self.output_names)
        self._rewritten: dict[tuple[Step, ...], Self] = {}

    @classmethod
    def from_module(cls, module: str | ModuleOp, func_name: str | None = None) -> ComputeDAG:
        """The DAG of the te function in `module` (IR text or a module).

        With several functions in the module, `func_name` picks one.
        """
        if isinstance(module, str):
            try:
                module = Parser(te_context(), module).parse_module()
            except ParseError as error:
                raise TEError(f"cannot parse the workload IR:\n{error}") from None
        if func_name is not None:
            chosen = [f for f in module.ops if isinstance(f, func.FuncOp) and f.sym_name.data == func_name]
            if not chosen:
                raise TEError(f"no function @{func_name} in the module")
            return cls(chosen[0])
        return cls(module)

    def derived(self, function: func.FuncOp) -> Self:
        """The DAG of `function`, a rewritten copy of this DAG's function (`DAGView`)."""
        return type(self)(function)

    # --- the graph ----------------------------------------------------------

    @property
    def func_name(self) -> str:
        return self.func.sym_name.data

    @cached_property
    def compute_ops(self) -> list[te.ComputeOp]:
        """The te.compute ops, in topological (program) order."""
        return [op for op in self.func.body.block.ops if isinstance(op, te.ComputeOp)]

    @cached_property
    def ops(self) -> list[DAGOp]:
        """Placeholders (in argument order), then stages in topological order."""
        placeholders = [
            DAGOp(te.tensor_name(arg), StageKind.PLACEHOLDER, *_shape_dtype(arg))
            for arg in self.func.body.block.args
        ]
        stages = [
            DAGOp(op.name_str, StageKind.COMPUTE, *_shape_dtype(op.result), compute=op)
            for op in self.compute_ops
        ]
        return placeholders + stages

    @cached_property
    def placeholder_names(self) -> list[str]:
        return [op.name for op in self.ops if op.kind == StageKind.PLACEHOLDER]

    @cached_property
    def output_names(self) -> list[str]:
        ret = self.func.body.block.last_op
        assert isinstance(ret, func.ReturnOp)
        return [te.tensor_name(v) for v in ret.arguments]

    def op(self, name: str) -> DAGOp:
        """The operation called `name`."""
        for op in self.ops:
            if op.name == name:
                return op
        raise TEError(f"no operation {name!r} in workload @{self.func_name}")

    def producers(self, name: str) -> list[str]:
        """The operations `name` reads, in order of first read."""
        return list(self.access_analyzer.read_from.get(name, {}))

    def consumers(self, name: str) -> list[str]:
        """The stages that read `name`."""
        return list(self.access_analyzer.read_by.get(name, []))

    def access(self, name: str) -> StageAccessInfo:
        """The access analysis of stage `name`."""
        if name not in self.access_analyzer.info:
            raise TEError(f"no stage {name!r} in workload @{self.func_name}")
        return self.access_analyzer.info[name]

    def elementwise_match(self, producer: str, target: str) -> bool:
        """Whether `target` reads `producer` element by element, through a chain of single readers.

        Each stage from `producer` up to `target` has one reader, of the same
        shape, which reads it only at its own spatial iterators in order (TVM's
        `ElementWiseMatch`): then `producer` can be tiled as `target` is and
        computed inside its tiles.
        """
        current = producer
        while current != target:
            readers = self.consumers(current)
            if len(readers) != 1:
                return False
            reader = readers[0]
            reader_op = self.op(reader)
            if reader_op.compute is None or reader_op.shape != self.op(current).shape:
                return False
            identity = tuple(range(len(reader_op.shape)))
            accesses = self.access_analyzer.read_from[reader][current]
            if any(access.iter_positions != identity for access in accesses):
                return False
            current = reader
        return True

    # --- figures and keys ---------------------------------------------------

    @cached_property
    def flop_ct(self) -> float:
        """Floating-point (and integer value) operations of the whole workload."""
        return float(sum(_stage_flops(op) for op in self.compute_ops))

    def hash_key(self) -> str:
        """The structural hash of the computation (`schedopt.workload_hash`), which records also carry.

        It does not depend on how the DAG was built (registered workload, te
        tensors, parsed IR), on names (function, tensors, iterators, SSA) or on
        how xDSL prints IR, so every front end finds the same records.
        """
        return self._structural_hash

    @cached_property
    def _structural_hash(self) -> str:
        """Computed once: lookups and the workload key of an unregistered DAG ask for it repeatedly."""
        return structural_hash(self.func)

    def workload_key(self) -> str:
        """The registered workload's key (TVM's `["matmul", 64, 64, 64]`), or `[hash_key, *I/O shapes]`."""
        if self.workload_key_ is not None:
            return self.workload_key_
        shapes = [list(op.shape) for op in self.ops if op.kind == StageKind.PLACEHOLDER]
        shapes += [list(self.op(name).shape) for name in self.output_names]
        return json.dumps([self.hash_key(), *shapes])

    # --- states ---------------------------------------------------------------

    def get_init_state(self) -> State:
        """The State of the unscheduled program: one loop per iterator, all at root."""
        stages, consumers = self._init_stages
        return State(list(stages), output_names=tuple(self.output_names), consumers=consumers)

    @cached_property
    def _init_stages(self) -> tuple[tuple[Stage, ...], dict[str, tuple[str, ...]]]:
        """The initial stages (immutable, so every initial State shares them) and the consumer map."""
        stages = tuple(_init_stage(op) for op in self.ops)
        return stages, {op.name: tuple(self.consumers(op.name)) for op in self.ops}

    def replay_steps(self, steps: Sequence[Step]) -> State:
        """The state the steps produce from the initial state (records store only the steps)."""
        state = self.get_init_state()
        for step in steps:
            state.apply(step)
        return state

    def concrete_state(self, state: State) -> State:
        """`state` with its stages: a State holding only steps is replayed on this DAG.

        A State read from a record (`MeasureInput.state`, `load_best_record`)
        holds only its steps, as in TVM; every API that takes a State comes
        through here, so such a state is never lowered as if it had no stages.
        """
        if state.stages:
            return state
        return self.replay_steps(state.transform_steps)

    def apply_steps_from_state(
        self, state: State, layout_rewrite: LayoutRewriteOption = LayoutRewriteOption.NO_REWRITE
    ) -> Self:
        """The DAG with the stages the state's steps add (cache_read, cache_write, rfactor).

        Loop transforms stay in the State; this gives the computation they apply to.
        The result depends only on the stage-adding steps, and on the steps
        before an rfactor (which factors the loops they made), and is memoised
        by those: a search asks for the same few DAGs thousands of times, with
        split factors that differ between the cache steps (GPU sketches).
        With a `layout_rewrite` option, the layouts are rewritten first, as
        `rewrite_layout_from_state` does.
        """
        if layout_rewrite != LayoutRewriteOption.NO_REWRITE:
            from schedopt.layout_rewrite import rewrite_layout

            rewritten = rewrite_layout(self, self.concrete_state(state), LayoutRewriteOption(layout_rewrite))
            return rewritten.dag.apply_steps_from_state(rewritten.state)
        steps = state.transform_steps
        last_rfactor = max((i for i, s in enumerate(steps) if isinstance(s, RfactorStep)), default=-1)
        key = (
            *steps[: last_rfactor + 1],
            *(s for s in steps[last_rfactor + 1 :] if isinstance(s, _CACHE_STEPS)),
        )
        if not key:
            return self
        rewritten = self._rewritten.get(key)
        if rewritten is None:
            if len(self._rewritten) >= REWRITTEN_DAG_CACHE_SIZE:
                self._rewritten.pop(next(iter(self._rewritten)))
            rewritten = self._rewritten[key] = self._apply_stage_adding_steps(key)
        return rewritten

    def _apply_stage_adding_steps(self, steps: Sequence[Step]) -> Self:
        from schedopt.dag_rewrite import add_cache_read, add_cache_write, add_rfactor
        from schedopt.schedule.loop_nest import stage_loops

        function = self.func.clone()
        replay = self.get_init_state()
        for step in steps:
            if isinstance(step, RfactorStep):
                stage = replay.stages[step.stage_id]
                loops = stage_loops(replay, self.get_init_state())[stage.name]
                factored = stage.iters[step.iter_id].name
                add_rfactor(function, stage.name, step.new_name(replay), loops, factored, step.factor_iter_id)
            elif isinstance(step, CacheWriteStep):
                add_cache_write(function, replay.stages[step.stage_id].name, step.new_name(replay))
            elif isinstance(step, CacheReadStep):
                readers = [replay.stages[i].name for i in step.reader_ids]
                add_cache_read(function, replay.stages[step.stage_id].name, step.new_name(replay), readers)
            replay.apply(step)
        rewritten = self.derived(function)
        rewritten.workload_key_ = self.workload_key_
        return rewritten

    def rewrite_layout_from_state(
        self,
        state: State,
        layout_rewrite_option: LayoutRewriteOption = LayoutRewriteOption.REWRITE_FOR_PRE_TRANSFORMED,
    ) -> ComputeDAG:
        """The DAG with its layout-free placeholders stored as `state`'s loops read them.

        With REWRITE_FOR_PRE_TRANSFORMED the kernel takes those placeholders in
        the new layout; with INSERT_TRANSFORM_STAGE a stage `NAME.layout` of the
        DAG copies each into it, and `schedopt.layout_rewrite.rewrite_layout`
        also gives the State that schedules the new DAG (and the layouts, to
        transform weights with).
        """
        from schedopt.layout_rewrite import rewrite_layout

        return rewrite_layout(self, self.concrete_state(state), layout_rewrite_option).dag

    def infer_bound_from_state(self, state: State) -> State:
        """A copy of `state` with the extent of every iterator filled in (after compute_at, ...)."""
        from schedopt.schedule.bound_inference import infer_bound

        return infer_bound(self, self.concrete_state(state))

    def print_python_code_from_state(self, state: State) -> str:
        """The schedule of `state` as the transform program (`sched` ops) that performs it.

        TVM prints Python schedule calls here; our schedules are transform IR,
        which `sched-opt -p apply-schedule` applies and which parses back to
        the same State.
        """
        from schedopt.schedule.schedule_program import print_program

        return print_program(self, state)

    def __str__(self) -> str:
        lines = [f"{op.name} = PLACEHOLDER {list(op.shape)}" for op in self.ops if op.compute is None]
        lines += [_describe_compute(op) for op in self.compute_ops]
        return "\n".join(lines) + "\n"


def hash_of_workload_key(workload_key: str) -> str | None:
    """The structural hash of the computation a workload key names, or None where the key does not tell.

    A registered workload's key (`["matmul", 64, 64, 64]`) gives the hash of
    the DAG the registry builds, when the workload is registered in this
    process; a DAG's key (`[hash, shapes...]`) holds its hash. Keys of
    unregistered workloads, malformed keys and the MD5 keys of older records
    give None: such records are found by their workload key only.
    """
    try:
        name, _ = decode_workload_key(workload_key)
    except WorkloadError:
        return None
    function = lookup_workload(name)
    if function is not None:
        return _registered_hash(workload_key, function)
    return name if is_structural_hash(name) else None


@functools.lru_cache(maxsize=256)
def _registered_hash(workload_key: str, function: object) -> str | None:
    """Cached per key and registered function (re-registering with `override` builds it again)."""
    try:
        return ComputeDAG(workload_key).hash_key()
    except SchedOptError:
        return None


def _single_te_function(module: ModuleOp) -> func.FuncOp:
    functions = [op for op in module.ops if isinstance(op, func.FuncOp)]
    te_functions = [f for f in functions if any(isinstance(op, te.ComputeOp) for op in f.body.walk())]
    if len(te_functions) != 1:
        names = ", ".join("@" + f.sym_name.data for f in te_functions) or "none"
        raise TEError(
            f"expected exactly one function of te.compute ops in the module, found {names}; "
            "pick one with ComputeDAG.from_module(module, func_name=...)"
        )
    return te_functions[0]


def _shape_dtype(value: SSAValue) -> tuple[tuple[int, ...], str]:
    tensor_type = value.type
    if not isa(tensor_type, TensorType[Attribute]):
        raise TEError(f"workload value {te.tensor_name(value)} is not a tensor but {tensor_type}")
    return tuple(tensor_type.get_shape()), type_to_dtype(tensor_type.element_type)


def _init_stage(op: DAGOp) -> Stage:
    if op.compute is None:
        return Stage(op.name, StageKind.PLACEHOLDER, shape=op.shape)
    compute = op.compute
    iters = [
        Iterator(n, e, IteratorKind.SPATIAL)
        for n, e in zip(compute.spatial_names, compute.spatial_extents, strict=True)
    ]
    iters += [
        Iterator(n, e, IteratorKind.REDUCE)
        for n, e in zip(compute.reduce_names, compute.reduce_extent_values, strict=True)
    ]
    return Stage(
        op.name, StageKind.COMPUTE, tuple(iters), has_reduction=compute.reduction is not None, shape=op.shape
    )


_FREE_OPS = (te.ReadOp, te.YieldOp, scf.YieldOp, arith.ConstantOp, scf.IfOp)


FLOP_ATTR = "FLOP"
"""A te.compute attribute that gives the stage's flop count, in place of the one counted (as in TVM)."""


def _stage_flops(compute: te.ComputeOp) -> int:
    """Value ops per body evaluation (plus the combining op of a reduction) times the iterations.

    A `FLOP` attribute (`te.compute(..., attrs={"FLOP": n})`) overrides the count.
    """
    given = compute.attributes.get(FLOP_ATTR)
    if given is not None:
        if not isinstance(given, builtin.IntegerAttr) or given.value.data < 0:
            raise TEError(f"stage {compute.name_str}: the FLOP attribute must be a non-negative integer")
        return given.value.data
    per_point = sum(
        1
        for op in compute.body.walk()
        if not isinstance(op, _FREE_OPS) and not _is_index_op(op) and op is not compute
    )
    if compute.reduction is not None:
        per_point += 1
    points = 1
    for extent in (*compute.spatial_extents, *compute.reduce_extent_values):
        points *= extent
    return per_point * points


def _is_index_op(op: Operation) -> bool:
    """Index arithmetic and conditions on indices address data; they are not counted as flops."""

    def addressing(value: SSAValue) -> bool:
        return isinstance(value.type, builtin.IndexType) or value.type == builtin.i1

    return all(addressing(r) for r in op.results) and all(addressing(o) for o in op.operands)


_BINARY_SYMBOLS: dict[type[Operation], str] = {
    arith.AddfOp: "+",
    arith.AddiOp: "+",
    arith.SubfOp: "-",
    arith.SubiOp: "-",
    arith.MulfOp: "*",
    arith.MuliOp: "*",
    arith.DivfOp: "/",
    arith.FloorDivSIOp: "//",
}
_REDUCE_SYMBOLS = {"sum": "+=", "max": "max=", "min": "min=", "prod": "*="}


def _describe_compute(compute: te.ComputeOp) -> str:
    """TVM's one-line form of a stage: `C(i, j) += (A[i, k]*B[k, j])`."""
    names = {
        arg: name for arg, name in zip(compute.iter_args, (n.data for n in compute.iter_names), strict=True)
    }
    body = _describe_value(compute.yield_op.value, names)
    spatial = ", ".join(compute.spatial_names)
    kind = compute.reduction_kind
    symbol = "=" if kind is None else _REDUCE_SYMBOLS[kind.value]
    return f"{compute.name_str}({spatial}) {symbol} {body}"


def _describe_value(value: SSAValue, names: dict[BlockArgument, str]) -> str:
    if not isinstance(value, OpResult):
        return names.get(value, "?") if isinstance(value, BlockArgument) else "?"
    op = value.owner
    operands = [_describe_value(o, names) for o in op.operands]
    match op:
        case te.ReadOp():
            return f"{te.tensor_name(op.tensor)}[{', '.join(operands[1:])}]"
        case arith.ConstantOp():
            return str(getattr(op.value, "value", op.value).data)  # type: ignore[union-attr]
        case scf.IfOp():
            yields = [r.block.last_op for r in op.regions]
            branches = [_describe_value(y.operands[0], names) for y in yields if y is not None]
            return f"tir.if_then_else({operands[0]}, {', '.join(branches)})"
        case _ if type(op) in _BINARY_SYMBOLS:
            return f"({operands[0]}{_BINARY_SYMBOLS[type(op)]}{operands[1]})"
        case _:
            short = op.name.split(".", 1)[1]
            return f"{short}({', '.join(operands)})"
