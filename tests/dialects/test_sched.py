"""The sched dialect: builders verify, text round-trips, the verifier rejects what types forbid."""

from collections.abc import Callable
from io import StringIO

import pytest
from xdsl.dialects import transform
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import ParseError, VerifyException

from schedopt.dialects import get_all_dialects, sched
from schedopt.ir_context import schedule_context


class Handles:
    """A named sequence under construction, with a stage and loop handles to build ops on."""

    def __init__(self):
        self.block = Block(arg_types=[transform.AnyOpType()])
        root = self.block.args[0]
        root.name_hint = "root"
        self.stage = self.add(sched.GetStageOp("C", root)).stage
        self.other = self.add(sched.GetStageOp("D", root)).stage
        self.i, self.j, self.k = self.add(sched.GetItersOp(self.stage, 3)).iters

    def add(self, op: Operation):
        self.block.add_op(op)
        return op

    def program(self) -> transform.NamedSequenceOp:
        self.block.add_op(transform.YieldOp())
        return transform.NamedSequenceOp(
            sched.TRANSFORM_MAIN, ([transform.AnyOpType()], []), Region(self.block)
        )


BUILDERS: dict[str, Callable[[Handles], Operation]] = {
    "split": lambda h: sched.SplitOp(h.stage, h.i, [4, None]),
    "split_nparts_extent": lambda h: sched.SplitOp(h.stage, h.i, [4], False, 64, has_extent=True),
    "follow_split": lambda h: sched.FollowSplitOp(h.stage, h.i, 0, 2),
    "follow_fused_split": lambda h: sched.FollowFusedSplitOp(h.stage, h.i, [0, 1], 0, False),
    "fuse": lambda h: sched.FuseOp(h.stage, [h.i, h.j]),
    "reorder": lambda h: sched.ReorderOp(h.stage, [h.k, h.j, h.i]),
    "annotate": lambda h: sched.AnnotateOp(h.stage, h.i, sched.LoopAnnotation.THREAD_X),
    "pragma": lambda h: sched.PragmaOp(h.stage, h.i, "auto_unroll_max_step$64"),
    "storage_align": lambda h: sched.StorageAlignOp(h.stage, h.j, 16, 1),
    "compute_at": lambda h: sched.ComputeAtOp(h.other, h.stage, h.j),
    "compute_inline": lambda h: sched.ComputeInlineOp(h.other),
    "compute_root": lambda h: sched.ComputeRootOp(h.other),
    "cache_read": lambda h: sched.CacheReadOp(h.other, "shared", [h.stage]),
    "cache_write": lambda h: sched.CacheWriteOp(h.stage, "local"),
    "rfactor": lambda h: sched.RfactorOp(h.stage, h.k, 1),
}

EXPECTED_TEXT = {
    "split": "%0, %1, %2 = sched.split %C, %i by [4, ?] : !sched.iter, !sched.iter, !sched.iter",
    "split_nparts_extent": "%0, %1 = sched.split %C, %i by [4] nparts extent 64 : !sched.iter, !sched.iter",
    "follow_split": "%0, %1, %2 = sched.follow_split %C, %i src_step 0 n_split 2 : "
    "!sched.iter, !sched.iter, !sched.iter",
    "follow_fused_split": "%0, %1 = sched.follow_fused_split %C, %i src_steps [0, 1] level 0 nparts : "
    "!sched.iter, !sched.iter",
    "fuse": "%0 = sched.fuse %C, [%i, %j]",
    "reorder": "sched.reorder %C, [%k, %j, %i]",
    "annotate": "sched.annotate %C, %i threadIdx.x",
    "pragma": 'sched.pragma %C, %i "auto_unroll_max_step$64"',
    "storage_align": "sched.storage_align %C, %j factor 16 offset 1",
    "compute_at": "sched.compute_at %D at %C, %j",
    "compute_inline": "sched.compute_inline %D",
    "compute_root": "sched.compute_root %D",
    "cache_read": '%0 = sched.cache_read %D "shared" readers [%C]',
    "cache_write": '%0 = sched.cache_write %C "local"',
    "rfactor": "%0 = sched.rfactor %C, %k factor_axis 1",
}


def build(name: str) -> tuple[transform.NamedSequenceOp, Operation]:
    handles = Handles()
    for value, hint in ((handles.stage, "C"), (handles.other, "D"), (handles.i, "i")):
        value.name_hint = hint
    handles.j.name_hint, handles.k.name_hint = "j", "k"
    op = handles.add(BUILDERS[name](handles))
    return handles.program(), op


def parse(text: str) -> ModuleOp:
    return Parser(schedule_context(), text).parse_module()


def generic(op: Operation) -> str:
    stream = StringIO()
    Printer(stream=stream, print_generic_format=True).print_op(op)
    return stream.getvalue()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_verifies_and_prints(name: str):
    program, _ = build(name)
    program.verify()
    assert EXPECTED_TEXT[name] in str(program).splitlines()[-3]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_text_round_trips_custom_and_generic(name: str):
    program, _ = build(name)
    text = str(ModuleOp([program]))
    module = parse(text)
    module.verify()
    assert str(module) == text
    assert str(parse(generic(module))) == text


def test_split_views():
    _, op = build("split_nparts_extent")
    assert isinstance(op, sched.SplitOp)
    assert (op.length_values, op.inner_to_outer, op.extent_value) == ((4,), False, 64)
    _, op = build("split")
    assert isinstance(op, sched.SplitOp)
    assert (op.length_values, op.inner_to_outer, op.extent) == ((4, None), True, None)


def test_unknown_extent_prints_as_question_mark():
    handles = Handles()
    op = handles.add(sched.SplitOp(handles.stage, handles.i, [2], extent=None, has_extent=True))
    assert "by [2] extent ?" in str(op)
    assert isinstance(op, sched.SplitOp) and op.extent_value is None


def test_the_dialect_is_registered():
    dialect = get_all_dialects()["sched"]()
    assert dialect is sched.SCHED
    steps = ["split", "follow_split", "follow_fused_split", "fuse", "reorder", "annotate", "pragma"]
    steps += ["storage_align", "compute_at", "compute_inline", "compute_root"]
    steps += ["cache_read", "cache_write", "rfactor"]
    assert sorted(op.name for op in dialect.operations) == sorted(
        f"sched.{name}" for name in ["get_stage", "get_iters", *steps]
    )
    assert sorted(attr.name for attr in dialect.attributes) == [
        "sched.iter",
        "sched.loop_annotation",
        "sched.stage",
    ]


PROGRAM = """\
transform.named_sequence @__transform_main(%root: !transform.any_op {{transform.readonly}}) {{
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %i, %j = sched.get_iters %C : !sched.iter, !sched.iter
  {op}
  transform.yield
}}
"""


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (
            '"sched.split"(%C, %C) <{lengths = array<i64: 4>}> : (!sched.stage, !sched.stage) -> '
            "(!sched.iter, !sched.iter)",
            "!sched.stage should be of base attribute sched.iter",
        ),
        (
            '"sched.compute_inline"(%i) : (!sched.iter) -> ()',
            "!sched.iter should be of base attribute sched.stage",
        ),
        (
            '"sched.split"(%C, %i) <{lengths = array<i64: 4>}> : (!sched.stage, !sched.iter) -> (!sched.iter)',
            "sched.split: 1 lengths give 2 loops, but the op has 1 results",
        ),
        (
            '"sched.split"(%C, %i) <{lengths = array<i64>}> : (!sched.stage, !sched.iter) -> (!sched.iter)',
            "sched.split: at least one split length is needed",
        ),
        (
            '"sched.follow_split"(%C, %i) <{src_step = 0 : i64, n_split = 0 : i64}> : '
            "(!sched.stage, !sched.iter) -> (!sched.iter)",
            "sched.follow_split: n_split must be at least 1",
        ),
        (
            '"sched.follow_fused_split"(%C, %i) <{src_steps = array<i64>, level = 0 : i64}> : '
            "(!sched.stage, !sched.iter) -> (!sched.iter, !sched.iter)",
            "src_steps must be one or more step indices",
        ),
        (
            '"sched.fuse"(%C) : (!sched.stage) -> !sched.iter',
            "sched.fuse: at least one loop to fuse is needed",
        ),
        (
            '"sched.cache_read"(%C) <{scope = "shared"}> : (!sched.stage) -> !sched.stage',
            "sched.cache_read: at least one reader stage is needed",
        ),
        ("sched.annotate %C, %i none", "sched.annotate: a loop cannot be annotated none"),
        ("sched.annotate %C, %i tensorize", "sched.annotate: a loop cannot be annotated tensorize"),
    ],
)
def test_verifier_rejects(op: str, message: str):
    module = parse(PROGRAM.format(op=op))
    with pytest.raises(VerifyException, match=message.replace("(", r"\(").replace(")", r"\)")):
        module.verify()


def test_an_iter_handle_where_a_stage_is_due_does_not_parse():
    with pytest.raises(ParseError, match="sched"):
        parse(PROGRAM.format(op="sched.compute_inline %i"))


def test_unknown_annotation_does_not_parse():
    with pytest.raises(ParseError, match="parallel"):
        parse(PROGRAM.format(op="sched.annotate %C, %i warp.x"))


def test_builders_take_handles_of_any_origin():
    """Ops are plain IRDL classes: building one needs only SSA values of the handle types."""
    block = Block(arg_types=[sched.StageType(), sched.IterType()])
    stage, loop = block.args
    assert isinstance(stage, SSAValue)
    op = sched.SplitOp(stage, loop, [8])
    op.verify()
    assert [r.type for r in op.results] == [sched.IterType(), sched.IterType()]
