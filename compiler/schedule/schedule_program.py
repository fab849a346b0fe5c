"""Schedules as transform-dialect programs: a State's steps <-> `sched` ops.

A schedule is printed, stored in IR and applied as a
`transform.named_sequence @__transform_main` whose body holds one `sched` op
per transform step of a `State`, in history order (see `schedopt.dialects.sched`).
The two conversions here are lossless: `program_to_state(dag,
state_to_program(dag, s))` has the same steps as `s`, and a printed program
parses back to the same text.

Handles stand for stages and loops as the State names them at that point of
the program. `state_to_program` introduces them by one rule:

- a stage gets a `sched.get_stage` the first time a step names it; a stage a
  step creates (`cache_read`, `cache_write`, `rfactor`) is that op's result;
- a step that names a loop no live handle stands for is preceded by a
  `sched.get_iters` of the loop's stage, which hands out fresh handles to all
  of the stage's current loops (the stage's earlier loop handles are not used
  again); the loops a split or fuse creates are that op's results;
- the handles a step consumes (the loops a split or fuse replaces, all loops
  of a stage a cache_write or rfactor rebuilds) are not used again.

So a stage's `get_iters` comes right before the first step that needs its
loops, and again only after a step that rebuilt them. `program_to_state`
accepts any program that uses handles validly, and checks that it does.

```mlir
transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %C_i, %C_j, %C_k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
  %C_i.0, %C_i.1 = sched.split %C, %C_i by [16] : !sched.iter, !sched.iter
  sched.annotate %C, %C_i.0 parallel
  transform.yield
}
```
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from xdsl.dialects import transform
from xdsl.dialects.builtin import DictionaryAttr, UnitAttr
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError, VerifyException

import schedopt.schedule.transform_steps as steps
from schedopt.dag_view import DAGView
from schedopt.dialects import sched
from schedopt.errors import ScheduleError
from schedopt.ir_context import schedule_context
from schedopt.schedule.loop_state import State
from schedopt.schedule.stage import Iterator, Stage

OpT = TypeVar("OpT", bound=Operation)


# --- State -> program -------------------------------------------------------------------


def state_to_program(dag: DAGView, state: State) -> transform.NamedSequenceOp:
    """The `@__transform_main` named sequence performing `state`'s steps on `dag`, one op per step."""
    builder = _ProgramBuilder(dag)
    for index, step in enumerate(state.transform_steps):
        builder.add_step(index, step)
    return builder.finish()


def print_program(dag: DAGView, state: State) -> str:
    """The schedule of `state` as transform IR text (what `print_python_code_from_state` shows)."""
    return str(state_to_program(dag, state))


class _ProgramBuilder:
    """Writes steps as sched ops, replaying them to know what each handle stands for.

    `state` is the state before the step being written; `stages` and `loops`
    map names to the live handle of that stage or loop.
    """

    def __init__(self, dag: DAGView):
        self.state = dag.get_init_state()
        self.block = Block(arg_types=[transform.AnyOpType()])
        self.root = self.block.args[0]
        self.root.name_hint = "root"
        self.stages: dict[str, SSAValue] = {}
        self.loops: dict[tuple[str, str], SSAValue] = {}

    def add_step(self, index: int, step: steps.Step) -> None:
        emit = _EMITTERS.get(type(step))
        if emit is None:
            raise ScheduleError(f"step {index} ({step.CODE}) has no sched op")
        after = self.state.copy()
        try:
            result = after.apply(step)
        except ScheduleError as error:
            raise ScheduleError(f"step {index} ({step.CODE}) does not apply to this DAG: {error}") from None
        emit(self, step, result)
        self.state = after
        self._forget_vanished_loops()

    def finish(self) -> transform.NamedSequenceOp:
        self.block.add_op(transform.YieldOp())
        return transform.NamedSequenceOp(
            sched.TRANSFORM_MAIN,
            ([transform.AnyOpType()], []),
            Region(self.block),
            arg_attrs=[DictionaryAttr({"transform.readonly": UnitAttr()})],
        )

    # --- handles ------------------------------------------------------------------

    def add(self, op: OpT) -> OpT:
        self.block.add_op(op)
        return op

    def stage(self, stage_id: int) -> SSAValue:
        """The handle of stage `stage_id`, fetched with `sched.get_stage` if there is none yet."""
        name = self.state.stages[stage_id].name
        if name not in self.stages:
            self.bind_stage(self.add(sched.GetStageOp(name, self.root)).stage, name)
        return self.stages[name]

    def stage_and_loop(self, stage_id: int, iter_id: int) -> tuple[SSAValue, SSAValue]:
        """The handles of a stage and of one of its loops: the first operands of every loop primitive."""
        return self.stage(stage_id), self.loop(stage_id, iter_id)

    def loop(self, stage_id: int, iter_id: int) -> SSAValue:
        """The handle of a loop, fetched with `sched.get_iters` (of all loops) if it has none."""
        stage = self.state.stages[stage_id]
        key = (stage.name, stage.iters[iter_id].name)
        if key not in self.loops:
            get_iters = self.add(sched.GetItersOp(self.stage(stage_id), len(stage.iters)))
            self.forget_loops(stage.name)
            self.bind_loops(stage.name, get_iters.iters, stage.iters)
        return self.loops[key]

    def bind_stage(self, handle: SSAValue, name: str) -> None:
        handle.name_hint = _handle_name(name)
        self.stages[name] = handle

    def bind_loops(self, stage: str, handles: Sequence[SSAValue], iters: Sequence[Iterator]) -> None:
        for handle, it in zip(handles, iters, strict=True):
            handle.name_hint = _handle_name(stage, it.name)
            self.loops[(stage, it.name)] = handle

    def forget_loops(self, stage: str, names: Iterable[str] | None = None) -> None:
        """Drop the handles of some (by default all) loops of `stage`: a step consumed them."""
        for key in list(self.loops):
            if key[0] == stage and (names is None or key[1] in names):
                del self.loops[key]

    def _forget_vanished_loops(self) -> None:
        current = {(s.name, it.name) for s in self.state.stages for it in s.iters}
        for key in [k for k in self.loops if k not in current]:
            del self.loops[key]

    # --- names the step refers to (in the state before it) ------------------------------

    def stage_name(self, stage_id: int) -> str:
        return self.state.stages[stage_id].name

    def loop_name(self, stage_id: int, iter_id: int) -> str:
        return self.state.stages[stage_id].iters[iter_id].name


def _handle_name(*parts: str) -> str | None:
    """An SSA name for a handle, TVM's python form of a loop (`C_i.0`), or None if none fits."""
    text = re.sub(r"[^\w$.-]", "_", "_".join(parts)).rstrip("_")
    return text if text and SSAValue.is_valid_name(text) else None


def _emit_split(b: _ProgramBuilder, step: steps.SplitStep, new: list[Iterator]) -> None:
    current_extent = b.state.stages[step.stage_id].iters[step.iter_id].extent
    op = sched.SplitOp(
        *b.stage_and_loop(step.stage_id, step.iter_id),
        step.lengths,
        step.inner_to_outer,
        step.extent,
        has_extent=step.extent != current_extent,
    )
    _replace_loop(b, step, op, op.results_, new)


def _emit_follow_split(b: _ProgramBuilder, step: steps.FollowSplitStep, new: list[Iterator]) -> None:
    op = sched.FollowSplitOp(*b.stage_and_loop(step.stage_id, step.iter_id), step.src_step_id, step.n_split)
    _replace_loop(b, step, op, op.results_, new)


def _emit_follow_fused_split(
    b: _ProgramBuilder, step: steps.FollowFusedSplitStep, new: list[Iterator]
) -> None:
    op = sched.FollowFusedSplitOp(
        *b.stage_and_loop(step.stage_id, step.iter_id),
        step.src_step_ids,
        step.level,
        step.factor_or_nparts,
    )
    _replace_loop(b, step, op, op.results, new)


def _replace_loop(
    b: _ProgramBuilder,
    step: steps.SplitStep | steps.FollowSplitStep | steps.FollowFusedSplitStep,
    op: Operation,
    loops: Sequence[SSAValue],
    new: list[Iterator],
) -> None:
    """Add `op`, which splits the loop `step` names, and name its results after the loops `new`."""
    stage, loop = b.stage_name(step.stage_id), b.loop_name(step.stage_id, step.iter_id)
    b.add(op)
    b.forget_loops(stage, [loop])
    b.bind_loops(stage, loops, new)


def _emit_fuse(b: _ProgramBuilder, step: steps.FuseStep, fused: Iterator) -> None:
    stage = b.stage_name(step.stage_id)
    names = [b.loop_name(step.stage_id, i) for i in step.fused_ids]
    stage_handle = b.stage(step.stage_id)
    op = b.add(sched.FuseOp(stage_handle, [b.loop(step.stage_id, i) for i in step.fused_ids]))
    b.forget_loops(stage, names)
    b.bind_loops(stage, [op.fused], [fused])


def _emit_reorder(b: _ProgramBuilder, step: steps.ReorderStep, _: None) -> None:
    stage_handle = b.stage(step.stage_id)
    b.add(sched.ReorderOp(stage_handle, [b.loop(step.stage_id, i) for i in step.after_ids]))


def _emit_annotation(b: _ProgramBuilder, step: steps.AnnotationStep, _: Iterator) -> None:
    if step.annotation in (sched.LoopAnnotation.NONE, sched.LoopAnnotation.TENSORIZE):
        raise ScheduleError(f"annotation {step.annotation.value} has no sched.annotate form")
    b.add(sched.AnnotateOp(*b.stage_and_loop(step.stage_id, step.iter_id), step.annotation))


def _emit_pragma(b: _ProgramBuilder, step: steps.PragmaStep, _: None) -> None:
    b.add(sched.PragmaOp(*b.stage_and_loop(step.stage_id, step.iter_id), step.pragma_type))


def _emit_storage_align(b: _ProgramBuilder, step: steps.StorageAlignStep, _: None) -> None:
    loop = b.loop(step.stage_id, step.iter_id)
    b.add(sched.StorageAlignOp(b.stage(step.stage_id), loop, step.factor, step.offset))


def _emit_compute_at(b: _ProgramBuilder, step: steps.ComputeAtStep, _: None) -> None:
    stage = b.stage(step.stage_id)
    target = b.stage(step.target_stage_id)
    b.add(sched.ComputeAtOp(stage, target, b.loop(step.target_stage_id, step.target_iter_id)))


def _emit_compute_inline(b: _ProgramBuilder, step: steps.ComputeInlineStep, _: None) -> None:
    b.add(sched.ComputeInlineOp(b.stage(step.stage_id)))


def _emit_compute_root(b: _ProgramBuilder, step: steps.ComputeRootStep, _: None) -> None:
    b.add(sched.ComputeRootOp(b.stage(step.stage_id)))


def _emit_cache_read(b: _ProgramBuilder, step: steps.CacheReadStep, new_id: int) -> None:
    stage = b.stage(step.stage_id)
    op = b.add(sched.CacheReadOp(stage, step.scope_name, [b.stage(r) for r in step.reader_ids]))
    b.bind_stage(op.cache, step.new_name(b.state))


def _emit_cache_write(b: _ProgramBuilder, step: steps.CacheWriteStep, new_id: int) -> None:
    op = b.add(sched.CacheWriteOp(b.stage(step.stage_id), step.scope_name))
    b.forget_loops(b.stage_name(step.stage_id))
    b.bind_stage(op.cache, step.new_name(b.state))


def _emit_rfactor(b: _ProgramBuilder, step: steps.RfactorStep, new_id: int) -> None:
    op = sched.RfactorOp(*b.stage_and_loop(step.stage_id, step.iter_id), step.factor_iter_id)
    b.add(op)
    b.forget_loops(b.stage_name(step.stage_id))
    b.bind_stage(op.factored, step.new_name(b.state))


_EMITTERS: dict[type[steps.Step], Callable[[_ProgramBuilder, Any, Any], None]] = {
    steps.SplitStep: _emit_split,
    steps.FollowSplitStep: _emit_follow_split,
    steps.FollowFusedSplitStep: _emit_follow_fused_split,
    steps.FuseStep: _emit_fuse,
    steps.ReorderStep: _emit_reorder,
    steps.AnnotationStep: _emit_annotation,
    steps.PragmaStep: _emit_pragma,
    steps.StorageAlignStep: _emit_storage_align,
    steps.ComputeAtStep: _emit_compute_at,
    steps.ComputeInlineStep: _emit_compute_inline,
    steps.ComputeRootStep: _emit_compute_root,
    steps.CacheReadStep: _emit_cache_read,
    steps.CacheWriteStep: _emit_cache_write,
    steps.RfactorStep: _emit_rfactor,
}
"""How each step is written: one sched op (after the get ops for the handles it needs)."""


# --- program -> State ---------------------------------------------------------------------


def program_to_state(dag: DAGView, program: transform.NamedSequenceOp) -> State:
    """The State `program`'s steps produce from `dag`'s initial state.

    Each op resolves its handles to the stage and loop names they stand for
    and calls the State primitive of its step, so every check of the State
    applies. A bad program raises ScheduleError naming the op, the stage and
    the loop.
    """
    try:
        program.verify()
    except VerifyException as error:
        raise ScheduleError(f"invalid schedule program @{program.sym_name.data}: {error}") from None
    interpreter = _ProgramInterpreter(dag.get_init_state())
    for op in program.body.block.ops:
        if isinstance(op, transform.YieldOp):
            break
        handler = _HANDLERS.get(type(op))
        if handler is None:
            raise ScheduleError(f"{op.name} is not a schedule step (a schedule holds sched ops only)")
        try:
            handler(interpreter, op)
        except ScheduleError as error:
            raise ScheduleError(f"{op.name}: {error}") from None
    return interpreter.state


def parse_program(text: str) -> transform.NamedSequenceOp:
    """The named sequence in `text` (alone, or in a module that holds no other one)."""
    try:
        module = Parser(schedule_context(), text).parse_module()
    except ParseError as error:
        raise ScheduleError(f"cannot parse the schedule program:\n{error}") from None
    programs = [op for op in module.walk() if isinstance(op, transform.NamedSequenceOp)]
    if len(programs) != 1:
        raise ScheduleError(f"expected one transform.named_sequence, found {len(programs)}")
    programs[0].detach()
    return programs[0]


@dataclass(frozen=True)
class _Loop:
    """What a loop handle stands for."""

    stage: str
    name: str


class _ProgramInterpreter:
    """The state a program has reached, and what each of its handles stands for."""

    def __init__(self, state: State):
        self.state = state
        self.stages: dict[SSAValue, str] = {}
        self.loops: dict[SSAValue, _Loop] = {}
        self.consumed: dict[SSAValue, str] = {}
        """Consumed handles -> the op that consumed them."""

    def stage(self, handle: SSAValue) -> str:
        """The name of the stage `handle` stands for."""
        if handle not in self.stages:
            raise ScheduleError(f"%{handle.name_hint or '?'} is not a stage handle made by sched.get_stage")
        return self.stages[handle]

    def loop(self, stage: str, handle: SSAValue) -> str:
        """The name of the loop of stage `stage` that `handle` stands for."""
        loop = self.loops.get(handle)
        if loop is None:
            raise ScheduleError(f"%{handle.name_hint or '?'} is not a loop handle made by a sched op")
        if handle in self.consumed:
            raise ScheduleError(
                f"loop {loop.name} of stage {loop.stage} was consumed by {self.consumed[handle]} "
                "(use the handles it returned)"
            )
        if loop.stage != stage:
            raise ScheduleError(f"loop {loop.name} belongs to stage {loop.stage}, not to stage {stage}")
        return loop.name

    def loops_of(self, stage: str, handles: Iterable[SSAValue]) -> list[str]:
        return [self.loop(stage, handle) for handle in handles]

    def bind_stage(self, handle: SSAValue, stage: Stage) -> None:
        self.stages[handle] = stage.name

    def bind_loops(self, stage: str, handles: Sequence[SSAValue], iters: Sequence[Iterator]) -> None:
        for handle, it in zip(handles, iters, strict=True):
            self.loops[handle] = _Loop(stage, it.name)

    def consume(self, handles: Iterable[SSAValue], op: Operation) -> None:
        for handle in handles:
            self.consumed.setdefault(handle, op.name)

    def consume_loops_of(self, stage: str, op: Operation) -> None:
        self.consume((h for h, loop in self.loops.items() if loop.stage == stage), op)


def _get_stage(ip: _ProgramInterpreter, op: sched.GetStageOp) -> None:
    ip.bind_stage(op.stage, ip.state[op.stage_name.data])


def _get_iters(ip: _ProgramInterpreter, op: sched.GetItersOp) -> None:
    stage = ip.state[ip.stage(op.stage)]
    if len(stage.iters) != len(op.iters):
        names = ", ".join(it.name for it in stage.iters) or "none"
        raise ScheduleError(
            f"stage {stage.name} has {len(stage.iters)} loops ({names}), but the op returns {len(op.iters)} handles"
        )
    ip.bind_loops(stage.name, op.iters, stage.iters)


def _split(ip: _ProgramInterpreter, op: sched.SplitOp) -> None:
    stage = ip.stage(op.stage)
    loop = ip.loop(stage, op.iter)
    if op.extent is None:
        new = ip.state.split(stage, loop, op.length_values, op.inner_to_outer)
    else:
        # The step records an extent other than the State's (e.g. one bound inference found).
        sid = ip.state.stage_id(stage)
        step = steps.SplitStep(
            sid, ip.state.iter_id(sid, loop), op.extent_value, op.length_values, op.inner_to_outer
        )
        new = ip.state.apply(step)
    ip.consume([op.iter], op)
    ip.bind_loops(stage, op.results_, new)


def _follow_split(ip: _ProgramInterpreter, op: sched.FollowSplitOp) -> None:
    stage = ip.stage(op.stage)
    new = ip.state.follow_split(stage, ip.loop(stage, op.iter), op.src_step.value.data, op.n_split.value.data)
    ip.consume([op.iter], op)
    ip.bind_loops(stage, op.results_, new)


def _follow_fused_split(ip: _ProgramInterpreter, op: sched.FollowFusedSplitOp) -> None:
    stage = ip.stage(op.stage)
    new = ip.state.follow_fused_split(
        stage, ip.loop(stage, op.iter), op.src_step_values, op.level.value.data, op.factor_or_nparts
    )
    ip.consume([op.iter], op)
    ip.bind_loops(stage, op.results, new)


def _fuse(ip: _ProgramInterpreter, op: sched.FuseOp) -> None:
    stage = ip.stage(op.stage)
    fused = ip.state.fuse(stage, ip.loops_of(stage, op.iters))
    ip.consume(op.iters, op)
    ip.bind_loops(stage, [op.fused], [fused])


def _reorder(ip: _ProgramInterpreter, op: sched.ReorderOp) -> None:
    stage = ip.stage(op.stage)
    ip.state.reorder(stage, ip.loops_of(stage, op.order))


def _annotate(ip: _ProgramInterpreter, op: sched.AnnotateOp) -> None:
    stage = ip.stage(op.stage)
    loop = ip.loop(stage, op.iter)
    match op.annotation.data:
        case sched.LoopAnnotation.PARALLEL:
            ip.state.parallel(stage, loop)
        case sched.LoopAnnotation.VECTORIZE:
            ip.state.vectorize(stage, loop)
        case sched.LoopAnnotation.UNROLL:
            ip.state.unroll(stage, loop)
        case thread_axis:
            ip.state.bind(stage, loop, thread_axis.value)


def _pragma(ip: _ProgramInterpreter, op: sched.PragmaOp) -> None:
    stage = ip.stage(op.stage)
    ip.state.pragma(stage, ip.loop(stage, op.iter), op.pragma.data)


def _storage_align(ip: _ProgramInterpreter, op: sched.StorageAlignOp) -> None:
    stage = ip.stage(op.stage)
    ip.state.storage_align(stage, ip.loop(stage, op.iter), op.factor.value.data, op.offset.value.data)


def _compute_at(ip: _ProgramInterpreter, op: sched.ComputeAtOp) -> None:
    target = ip.stage(op.target)
    ip.state.compute_at(ip.stage(op.stage), target, ip.loop(target, op.target_iter))


def _compute_inline(ip: _ProgramInterpreter, op: sched.ComputeInlineOp) -> None:
    ip.state.compute_inline(ip.stage(op.stage))


def _compute_root(ip: _ProgramInterpreter, op: sched.ComputeRootOp) -> None:
    ip.state.compute_root(ip.stage(op.stage))


def _cache_read(ip: _ProgramInterpreter, op: sched.CacheReadOp) -> None:
    readers = [ip.stage(r) for r in op.readers]
    ip.bind_stage(op.cache, ip.state.cache_read(ip.stage(op.stage), op.scope.data, readers))


def _cache_write(ip: _ProgramInterpreter, op: sched.CacheWriteOp) -> None:
    stage = ip.stage(op.stage)
    new = ip.state.cache_write(stage, op.scope.data)
    ip.consume_loops_of(stage, op)
    ip.bind_stage(op.cache, new)


def _rfactor(ip: _ProgramInterpreter, op: sched.RfactorOp) -> None:
    stage = ip.stage(op.stage)
    new = ip.state.rfactor(stage, ip.loop(stage, op.iter), op.factor_axis.value.data)
    ip.consume_loops_of(stage, op)
    ip.bind_stage(op.factored, new)


_HANDLERS: dict[type[Operation], Callable[[_ProgramInterpreter, Any], None]] = {
    sched.GetStageOp: _get_stage,
    sched.GetItersOp: _get_iters,
    sched.SplitOp: _split,
    sched.FollowSplitOp: _follow_split,
    sched.FollowFusedSplitOp: _follow_fused_split,
    sched.FuseOp: _fuse,
    sched.ReorderOp: _reorder,
    sched.AnnotateOp: _annotate,
    sched.PragmaOp: _pragma,
    sched.StorageAlignOp: _storage_align,
    sched.ComputeAtOp: _compute_at,
    sched.ComputeInlineOp: _compute_inline,
    sched.ComputeRootOp: _compute_root,
    sched.CacheReadOp: _cache_read,
    sched.CacheWriteOp: _cache_write,
    sched.RfactorOp: _rfactor,
}
"""What each op does to the State: resolve its handles, call the State primitive, bind its results."""
