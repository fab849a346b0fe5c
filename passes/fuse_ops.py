"""`fuse-ops`: merge a network's operators into fused groups, as Relay's FuseOps does.

Tuning each operator of a network alone would write every intermediate to
memory and tune tiny elementwise kernels; Relay (and so TVM's auto-scheduler)
tunes fused groups instead: a conv2d or dense with its bias, residual add
and activation is one task, whose elementwise tail the sketch rules inline
or compute at the anchor's tiles.

The rule, on a network module (`schedopt.frontend.network`), walking the
calls in order: an elemwise or broadcast call whose first argument is the
result of a group of pattern out_elemwise_fusable, elemwise, broadcast or
injective joins that group; an injective call joins a group of pattern
elemwise, broadcast or injective the same way. The argument must be the
group's only result and be read by that call alone (not returned, not read
by another call): a group computes one output. comm_reduce and opaque
operators start groups that nothing joins.

Each group of several operators becomes one operator function,
`fused_<op>_<op>...`: the te.compute ops of its operators in order, each
intermediate an internal stage; its arguments are the graph values the group
reads, each once; stage and placeholder names stay distinct (`NAME_1`, ...);
its pattern is the anchor's, the least fusable of the group. Operator
functions no call uses any more are removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, StringAttr
from xdsl.ir import Block, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter

from schedopt.dialects import te
from schedopt.frontend.network import (
    NAME_ATTR,
    OP_PATTERN_ATTR,
    Network,
    NetworkCall,
    OpPattern,
    ssa_name,
)
from schedopt.layout_rewrite import LAYOUT_FREE_ATTR
from schedopt.unique_names import unique_name

_ELEMWISE_TAIL_JOINS = (
    OpPattern.OUT_ELEMWISE_FUSABLE,
    OpPattern.ELEMWISE,
    OpPattern.BROADCAST,
    OpPattern.INJECTIVE,
)
_FUSABLE_PRODUCERS = {
    OpPattern.ELEMWISE: _ELEMWISE_TAIL_JOINS,
    OpPattern.BROADCAST: _ELEMWISE_TAIL_JOINS,
    OpPattern.INJECTIVE: (OpPattern.ELEMWISE, OpPattern.BROADCAST, OpPattern.INJECTIVE),
}
"""Consumer pattern -> the group patterns it may join."""


@dataclass
class _Group:
    """Calls fused into one operator function; `pattern` is the anchor's (the highest rank)."""

    members: list[NetworkCall]
    pattern: OpPattern


def fuse_network(network: Network) -> Network:
    """The network with its operators fused (the input network is left as it is)."""
    module = network.module.clone()
    fuse_module(module)
    return Network(module, dict(network.params))


def fuse_module(module: ModuleOp) -> None:
    """Fuse the operators of the network module `module` in place."""
    network = Network(module)
    graph = network.graph
    used_before = {call.name for call in network.calls}
    symbols = {op.sym_name.data for op in module.ops if isinstance(op, func.FuncOp)}
    for group in _groups(network.calls):
        if len(group.members) > 1:
            fused = _fused_function(group, unique_name(_fused_name(group), symbols))
            Rewriter.insert_op(fused, InsertPoint.before(graph))
            _replace_calls(group, fused)
    used_after = {call.name for call in network.calls}
    for function in network.operator_functions:
        if function.sym_name.data in used_before - used_after:
            Rewriter.erase_op(function)


@dataclass(frozen=True)
class FuseOpsPass(ModulePass):
    """Fuse the operators of a network module into groups, as Relay's FuseOps (see the module doc).

    No options. The module must follow the network convention of
    `schedopt.frontend.network` (a NetworkError says what breaks it).
    """

    name = "fuse-ops"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        fuse_module(op)


# --- grouping ----------------------------------------------------------------------------------


def _groups(calls: list[NetworkCall]) -> list[_Group]:
    groups: list[_Group] = []
    group_of: dict[func.CallOp, _Group] = {}
    for call in calls:
        target = _target_group(call, group_of)
        if target is None:
            target = _Group([call], call.pattern)
            groups.append(target)
        else:
            target.members.append(call)
            target.pattern = max(target.pattern, call.pattern, key=lambda p: p.rank)
        group_of[call.op] = target
    return groups


def _target_group(call: NetworkCall, group_of: dict[func.CallOp, _Group]) -> _Group | None:
    """The group `call` joins, if any."""
    if call.pattern not in _FUSABLE_PRODUCERS or len(call.results) != 1 or not call.args:
        return None
    first = call.args[0]
    producer = first.owner
    if not isinstance(producer, func.CallOp) or producer not in group_of:
        return None
    group = group_of[producer]
    if group.members[-1].op is not producer or len(producer.results) != 1:
        return None
    if any(use.operation is not call.op for use in first.uses):
        return None
    return group if group.pattern in _FUSABLE_PRODUCERS[call.pattern] else None


def _fused_name(group: _Group) -> str:
    return "fused_" + "_".join(_op_name(call.name) for call in group.members)


def _op_name(symbol: str) -> str:
    """The operator a function computes: its name less a `fused_` prefix and a uniquing `_<n>` suffix."""
    return re.sub(r"_\d+$", "", symbol.removeprefix("fused_"))


# --- merging -----------------------------------------------------------------------------------


@dataclass
class _Names:
    """Distinct names for the placeholders and stages of the fused function, kept where possible."""

    original: set[str]
    taken: set[str] = field(default_factory=set)

    def claim(self, name: str) -> str:
        return unique_name(name, self.taken, self.original)


def _fused_function(group: _Group, name: str) -> func.FuncOp:
    """The operator function computing `group`: its members' te.compute ops, intermediates as stages."""
    external = _group_inputs(group)
    names = _Names(
        {_arg_name(call.callee, i) for call in group.members for i in range(len(call.args))}
        | {op.name_str for call in group.members for op in _computes(call.callee)}
    )
    arg_names = [names.claim(_first_binding_name(group, value)) for value in external]
    outputs = group.members[-1].results
    block = Block(arg_types=[value.type for value in external])
    for arg, arg_name in zip(block.args, arg_names, strict=True):
        arg.name_hint = ssa_name(arg_name)
    # Each graph value the group reads, as a value of the fused function, with its name there.
    values: dict[SSAValue, tuple[SSAValue, str | None]] = {
        value: (arg, arg_name) for value, arg, arg_name in zip(external, block.args, arg_names, strict=True)
    }
    for call in group.members:
        _clone_member(call, values, names, block)
    block.add_op(func.ReturnOp(*(values[result][0] for result in outputs)))
    function = func.FuncOp(
        name,
        ([value.type for value in external], [result.type for result in outputs]),
        Region(block),
        arg_attrs=ArrayAttr(DictionaryAttr({NAME_ATTR: StringAttr(n)}) for n in arg_names),
    )
    function.attributes[OP_PATTERN_ATTR] = StringAttr(group.pattern.value)
    return function


def _clone_member(
    call: NetworkCall, values: dict[SSAValue, tuple[SSAValue, str | None]], names: _Names, block: Block
) -> None:
    """Append the te.compute ops of `call`'s operator function to `block`, reading what `call` reads."""
    callee = call.callee
    mapper: dict[SSAValue, SSAValue] = {}
    renamed: dict[str, str | None] = {}  # placeholder name -> its name in the fused function (None: a stage)
    for index, (arg, value) in enumerate(zip(callee.body.block.args, call.op.arguments, strict=True)):
        mapped, mapped_name = values[value]
        mapper[arg] = mapped
        renamed[_arg_name(callee, index)] = mapped_name
    for op in _computes(callee):
        clone = op.clone(value_mapper=mapper)
        stage_name = names.claim(op.name_str)
        clone.properties["name"] = StringAttr(stage_name)
        clone.result.name_hint = ssa_name(stage_name)
        distinct_ins = list(dict.fromkeys(clone.ins))
        if len(distinct_ins) != len(clone.ins):
            clone.operands = distinct_ins
        _rename_layout_free(clone, renamed)
        block.add_op(clone)
    ret = callee.body.block.last_op
    assert isinstance(ret, func.ReturnOp)
    for result, returned in zip(call.results, ret.arguments, strict=True):
        stage = mapper[returned]
        assert isinstance(stage.owner, te.ComputeOp)
        values[result] = (stage, None)


def _rename_layout_free(compute: te.ComputeOp, renamed: dict[str, str | None]) -> None:
    """Point `layout_free_placeholders` at the fused function's names; an intermediate is not a placeholder."""
    marked = compute.attributes.get(LAYOUT_FREE_ATTR)
    if not isinstance(marked, ArrayAttr):
        return
    kept = [
        StringAttr(new)
        for old in marked
        if isinstance(old, StringAttr) and (new := renamed.get(old.data, old.data)) is not None
    ]
    if kept:
        compute.attributes[LAYOUT_FREE_ATTR] = ArrayAttr(kept)
    else:
        del compute.attributes[LAYOUT_FREE_ATTR]


def _replace_calls(group: _Group, fused: func.FuncOp) -> None:
    """Call `fused` where the group's last call was, and drop the group's calls."""
    last = group.members[-1].op
    new_call = func.CallOp(fused.sym_name.data, _group_inputs(group), [r.type for r in last.results])
    Rewriter.insert_op(new_call, InsertPoint.before(last))
    for old, new in zip(last.results, new_call.results, strict=True):
        old.replace_all_uses_with(new)
    for call in reversed(group.members):
        Rewriter.erase_op(call.op)


def _group_inputs(group: _Group) -> list[SSAValue]:
    """The graph values the group reads from outside, each once, in order of first use: the fused call's arguments.

    Read from the calls themselves, not from the views taken before fusing began: an earlier
    group's fused call has replaced the values it produced.
    """
    produced = {result for call in group.members for result in call.results}
    inputs: dict[SSAValue, None] = {}
    for call in group.members:
        inputs.update((a, None) for a in call.op.arguments if a not in produced)
    return list(inputs)


def _computes(function: func.FuncOp) -> list[te.ComputeOp]:
    return [op for op in function.body.block.ops if isinstance(op, te.ComputeOp)]


def _arg_name(function: func.FuncOp, index: int) -> str:
    assert function.arg_attrs is not None
    name = function.arg_attrs.data[index].data[NAME_ATTR]
    assert isinstance(name, StringAttr)
    return name.data


def _first_binding_name(group: _Group, value: SSAValue) -> str:
    """The placeholder name of the first operator in the group that reads graph value `value`."""
    for call in group.members:
        for index, arg in enumerate(call.op.arguments):
            if arg is value:
                return _arg_name(call.callee, index)
    raise AssertionError("an external value of a group is read by one of its calls")
