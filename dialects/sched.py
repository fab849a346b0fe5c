"""The `sched` dialect: Ansor's transform steps as transform-dialect extension ops.

A schedule is a `transform.named_sequence` whose body is a list of `sched`
ops, one per transform step of a loop `State`, in the order the search
applied them. Handles are typed: `!sched.stage` names one stage (a
`te.compute`, or a placeholder for `sched.cache_read`) and `!sched.iter` one
loop of a stage. Step arguments the search fixes (split lengths, the
annotation, the pragma, alignment factors) are properties.

```mlir
transform.named_sequence @__transform_main(%root : !transform.any_op {transform.readonly}) {
  %C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage
  %C_i, %C_j, %C_k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter
  %C_i.0, %C_i.1 = sched.split %C, %C_i by [16] : !sched.iter, !sched.iter
  %C_j.0, %C_j.1 = sched.split %C, %C_j by [8] : !sched.iter, !sched.iter
  sched.reorder %C, [%C_i.0, %C_j.0, %C_k, %C_i.1, %C_j.1]
  sched.annotate %C, %C_j.1 vectorize
  transform.yield
}
```

As in MLIR's transform dialect, an op *consumes* some handles: the loops a
split or fuse replaces, and every loop handle of the stage a cache_write
or rfactor rebuilds; a consumed handle must not be used again. The ops hold no
semantics: `schedopt.schedule.schedule_program` turns a program into a `State` (and
back), and the `apply-schedule` pass lowers a te function under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import final

from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    I64,
    DenseArrayBase,
    IntegerAttr,
    IntegerType,
    StringAttr,
    UnitAttr,
    i64,
)
from xdsl.dialects.transform import TransformHandleType, TransformOpHandleType
from xdsl.dialects.utils.enum_attribute import EnumAttribute
from xdsl.ir import Dialect, Operation, SpacedOpaqueSyntaxAttribute, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    var_operand_def,
    var_result_def,
)
from xdsl.irdl.declarative_assembly_format import (
    AttributeVariable,
    CustomDirective,
    ParsingState,
    PrintingState,
    irdl_custom_directive,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.hints import isa
from xdsl.utils.str_enum import StrEnum

TRANSFORM_MAIN = "__transform_main"
"""The name of the named sequence that schedules a module's only te function."""

TARGET_ATTR = "sched.target"
"""The attribute of a named sequence naming the te function it schedules (`sched.target = @f`)."""

UNKNOWN = DYNAMIC_INDEX
"""How a split length or extent the schedule leaves open (`?`) is stored in a property."""


# --- types -------------------------------------------------------------------------


@final
@irdl_attr_definition
class StageType(TransformOpHandleType):
    """`!sched.stage`: a handle to one stage of the workload, named as the State names it."""

    name = "sched.stage"


@final
@irdl_attr_definition
class IterType(TransformHandleType):
    """`!sched.iter`: a handle to one loop of a stage."""

    name = "sched.iter"


class LoopAnnotation(StrEnum):
    """How a loop is executed: the one vocabulary of loop annotations.

    A State's iterators carry it, `sched.annotate` sets it, and the loops
    the lowering emits keep it as the `sched.annotation` attribute
    (`LOOP_ANNOTATION`) for the passes that carry it out. The members are in
    the order of the record format's integers (`record_code`: 0 none ... 11
    tensorize); the value is the word a printed State starts a loop with
    (`keyword`: "for" for none).
    """

    NONE = "none"
    UNROLL = "unroll"
    VECTORIZE = "vectorize"
    PARALLEL = "parallel"
    VTHREAD = "vthread"
    BLOCK_X = "blockIdx.x"
    THREAD_X = "threadIdx.x"
    BLOCK_Y = "blockIdx.y"
    THREAD_Y = "threadIdx.y"
    BLOCK_Z = "blockIdx.z"
    THREAD_Z = "threadIdx.z"
    TENSORIZE = "tensorize"

    @property
    def record_code(self) -> int:
        """The integer records store for this annotation."""
        return list(LoopAnnotation).index(self)

    @staticmethod
    def from_record_code(code: int) -> LoopAnnotation:
        """The annotation a record's integer stands for."""
        members = list(LoopAnnotation)
        if not 0 <= code < len(members):
            raise ValueError(f"no loop annotation has the record code {code} (0..{len(members) - 1})")
        return members[code]

    @property
    def keyword(self) -> str:
        """The word a printed loop starts with."""
        return "for" if self is LoopAnnotation.NONE else self.value

    @property
    def is_gpu_binding(self) -> bool:
        """Whether the loop is bound to a GPU thread axis (vthread, blockIdx, threadIdx)."""
        return self.record_code >= LoopAnnotation.VTHREAD.record_code and self is not LoopAnnotation.TENSORIZE


@irdl_attr_definition
class LoopAnnotationAttr(EnumAttribute[LoopAnnotation], SpacedOpaqueSyntaxAttribute):
    """A loop annotation: `#sched<loop_annotation parallel>`; of `sched.annotate`, and of emitted loops."""

    name = "sched.loop_annotation"


LOOP_ANNOTATION = "sched.annotation"
"""The attribute of an emitted loop (`scf.for`) that carries its `LoopAnnotationAttr`."""


def loop_annotation(op: Operation) -> LoopAnnotation:
    """The annotation an emitted loop carries (NONE without one)."""
    attr = op.attributes.get(LOOP_ANNOTATION)
    return attr.data if isinstance(attr, LoopAnnotationAttr) else LoopAnnotation.NONE


# --- integer lists with unknowns -----------------------------------------------------


def _print_index(printer: Printer, value: int) -> None:
    printer.print_string("?" if value == UNKNOWN else str(value))


def _parse_index(parser: Parser) -> int:
    if parser.parse_optional_punctuation("?"):
        return UNKNOWN
    return parser.parse_integer(allow_boolean=False)


@irdl_custom_directive
class IndexList(CustomDirective):
    """`[16, ?, 4]`: a `DenseArrayBase` of i64 where `?` is `UNKNOWN`."""

    values: AttributeVariable

    def parse(self, parser: Parser, state: ParsingState) -> None:
        values = parser.parse_comma_separated_list(Parser.Delimiter.SQUARE, lambda: _parse_index(parser))
        self.values.set(state, DenseArrayBase.from_list(i64, values))

    def print(self, printer: Printer, state: PrintingState, op: IRDLOperation) -> None:
        state.print_whitespace(printer)
        values = self.values.get(op)
        assert isa(values, DenseArrayBase[IntegerType])
        printer.print_string("[")
        printer.print_list(values.get_values(), lambda v: _print_index(printer, v))
        printer.print_string("]")


@irdl_custom_directive
class Index(CustomDirective):
    """`64` or `?`: an i64 `IntegerAttr` where `?` is `UNKNOWN`; may anchor an optional group."""

    value: AttributeVariable

    def parse(self, parser: Parser, state: ParsingState) -> None:
        self.value.set(state, IntegerAttr(_parse_index(parser), i64))

    def print(self, printer: Printer, state: PrintingState, op: IRDLOperation) -> None:
        state.print_whitespace(printer)
        value = self.value.get(op)
        assert isa(value, IntegerAttr)
        _print_index(printer, value.value.data)

    def is_present(self, op: IRDLOperation) -> bool:
        return self.value.get(op) is not None

    def is_anchorable(self) -> bool:
        return True

    def set_empty(self, state: ParsingState) -> None:
        pass


def _index_array(values: Sequence[int | None]) -> DenseArrayBase[IntegerType]:
    return DenseArrayBase.from_list(i64, [UNKNOWN if v is None else v for v in values])


def _known(value: int) -> int | None:
    return None if value == UNKNOWN else value


def _check_result_count(op: IRDLOperation, found: int, expected: int, why: str) -> None:
    if found != expected:
        raise VerifyException(f"{op.name}: {why} give {expected} loops, but the op has {found} results")


# --- handles ---------------------------------------------------------------------------


@irdl_op_definition
class GetStageOp(IRDLOperation):
    """A handle to the stage called `name` of the workload `root` is bound to.

    Consumes nothing; fails (when the program is applied) if there is no such
    stage. Stages keep their names through every step, so the handle stays
    valid for the whole program.

    Syntax: `%C = sched.get_stage "C" in %root : (!transform.any_op) -> !sched.stage`
    """

    name = "sched.get_stage"

    stage_name = prop_def(StringAttr)
    root = operand_def(TransformOpHandleType)
    stage = result_def(StageType)

    assembly_format = "$stage_name `in` $root attr-dict `:` functional-type(operands, results)"

    def __init__(self, stage_name: str, root: SSAValue):
        super().__init__(
            operands=[root], result_types=[StageType()], properties={"stage_name": StringAttr(stage_name)}
        )


@irdl_op_definition
class GetItersOp(IRDLOperation):
    """Handles to all current loops of a stage, outermost first.

    Consumes nothing; fails if the stage has another number of loops than the
    op has results.

    Syntax: `%i, %j, %k = sched.get_iters %C : !sched.iter, !sched.iter, !sched.iter`
    """

    name = "sched.get_iters"

    stage = operand_def(StageType)
    iters = var_result_def(IterType)

    assembly_format = "$stage attr-dict (`:` type($iters)^)?"

    def __init__(self, stage: SSAValue, count: int):
        super().__init__(operands=[stage], result_types=[[IterType()] * count])


# --- loop steps ------------------------------------------------------------------------


@irdl_op_definition
class SplitOp(IRDLOperation):
    """Split loop `iter` of a stage into `len(lengths) + 1` loops (Ansor's SplitStep, `SP`).

    By default the lengths are those of the inner loops and the outermost
    takes the rest (`ceil(extent / prod(lengths))`): TVM's and Halide's
    `split(factor)`. With `nparts`, they are the lengths of the outer loops and
    the innermost takes the rest (`split(nparts)`). A length `?` is left to
    the search. `extent`, when given, is the extent the step records for the
    loop where it differs from the one the State knows at that point.

    Consumes `iter`; returns the new loops, outermost first. Fails on a
    length that is not positive.

    Syntax:
    `%io, %ii = sched.split %C, %i by [16] : !sched.iter, !sched.iter`
    `%jo, %ji = sched.split %C, %j by [4] nparts extent 64 : !sched.iter, !sched.iter`
    """

    name = "sched.split"

    stage = operand_def(StageType)
    iter = operand_def(IterType)
    lengths = prop_def(DenseArrayBase.constr(i64))
    nparts = opt_prop_def(UnitAttr)
    extent = opt_prop_def(IntegerAttr[I64])
    results_ = var_result_def(IterType)

    assembly_format = (
        "$stage `,` $iter `by` custom<IndexList>($lengths) (`nparts` $nparts^)? "
        "(`extent` custom<Index>($extent)^)? attr-dict `:` type($results_)"
    )
    custom_directives = (IndexList, Index)

    def __init__(
        self,
        stage: SSAValue,
        iter: SSAValue,
        lengths: Sequence[int | None],
        inner_to_outer: bool = True,
        extent: int | None = None,
        has_extent: bool = False,
    ):
        """`has_extent` records `extent` (None: unknown) on the op."""
        super().__init__(
            operands=[stage, iter],
            result_types=[[IterType()] * (len(lengths) + 1)],
            properties={
                "lengths": _index_array(lengths),
                "nparts": None if inner_to_outer else UnitAttr(),
                "extent": IntegerAttr(UNKNOWN if extent is None else extent, i64) if has_extent else None,
            },
        )

    @property
    def length_values(self) -> tuple[int | None, ...]:
        return tuple(_known(v) for v in self.lengths.get_values())

    @property
    def inner_to_outer(self) -> bool:
        return self.nparts is None

    @property
    def extent_value(self) -> int | None:
        assert self.extent is not None
        return _known(self.extent.value.data)

    def verify_(self) -> None:
        if not self.lengths.get_values():
            raise VerifyException(f"{self.name}: at least one split length is needed")
        _check_result_count(self, len(self.results_), len(self.lengths) + 1, f"{len(self.lengths)} lengths")


@irdl_op_definition
class FollowSplitOp(IRDLOperation):
    """Split loop `iter` like the split step `src_step` of the history (FollowSplitStep, `FSP`).

    The step index counts the program's steps (every op but `get_stage` and
    `get_iters`) from 0, as the record does. The new loops take the first
    `n_split - 1` lengths of that split, then the product of the rest, as
    inner loops; the outermost takes the rest of the extent.

    Consumes `iter`; returns `n_split + 1` loops, outermost first. Fails if
    step `src_step` is not a split, or `n_split` exceeds its lengths plus one
    (at that top the last loop has length 1).

    Syntax:
    `%io, %ii = sched.follow_split %D, %i src_step 0 n_split 1 : !sched.iter, !sched.iter`
    """

    name = "sched.follow_split"

    stage = operand_def(StageType)
    iter = operand_def(IterType)
    src_step = prop_def(IntegerAttr[I64])
    n_split = prop_def(IntegerAttr[I64])
    results_ = var_result_def(IterType)

    assembly_format = "$stage `,` $iter `src_step` $src_step `n_split` $n_split attr-dict `:` type($results_)"

    def __init__(self, stage: SSAValue, iter: SSAValue, src_step: int, n_split: int):
        super().__init__(
            operands=[stage, iter],
            result_types=[[IterType()] * (n_split + 1)],
            properties={"src_step": IntegerAttr(src_step, i64), "n_split": IntegerAttr(n_split, i64)},
        )

    def verify_(self) -> None:
        n_split = self.n_split.value.data
        if n_split < 1:
            raise VerifyException(f"{self.name}: n_split must be at least 1, got {n_split}")
        if self.src_step.value.data < 0:
            raise VerifyException(
                f"{self.name}: src_step must be a step index, got {self.src_step.value.data}"
            )
        _check_result_count(self, len(self.results_), n_split + 1, f"n_split {n_split} must")


@irdl_op_definition
class FollowFusedSplitOp(IRDLOperation):
    """Split loop `iter` in two by the product of level `level` of several split steps (`FFSP`).

    The length is the product of the lengths at `level` of the split steps
    `src_steps` (step indices as for `sched.follow_split`); it is the inner
    loop's length (a factor) by default, the outer's with `nparts`. This is
    how a stage computed at a fused loop follows its consumer's tiling.

    Consumes `iter`; returns the outer and the inner loop.

    Syntax:
    `%jo, %ji = sched.follow_fused_split %D, %j src_steps [1, 3] level 0 : !sched.iter, !sched.iter`
    """

    name = "sched.follow_fused_split"

    stage = operand_def(StageType)
    iter = operand_def(IterType)
    src_steps = prop_def(DenseArrayBase.constr(i64))
    level = prop_def(IntegerAttr[I64])
    nparts = opt_prop_def(UnitAttr)
    outer = result_def(IterType)
    inner = result_def(IterType)

    assembly_format = (
        "$stage `,` $iter `src_steps` custom<IndexList>($src_steps) `level` $level (`nparts` $nparts^)? "
        "attr-dict `:` type($outer) `,` type($inner)"
    )
    custom_directives = (IndexList,)

    def __init__(
        self,
        stage: SSAValue,
        iter: SSAValue,
        src_steps: Sequence[int],
        level: int,
        factor_or_nparts: bool = True,
    ):
        super().__init__(
            operands=[stage, iter],
            result_types=[IterType(), IterType()],
            properties={
                "src_steps": DenseArrayBase.from_list(i64, src_steps),
                "level": IntegerAttr(level, i64),
                "nparts": None if factor_or_nparts else UnitAttr(),
            },
        )

    @property
    def src_step_values(self) -> tuple[int, ...]:
        return tuple(self.src_steps.get_values())

    @property
    def factor_or_nparts(self) -> bool:
        return self.nparts is None

    def verify_(self) -> None:
        if not self.src_step_values or any(step < 0 for step in self.src_step_values):
            raise VerifyException(
                f"{self.name}: src_steps must be one or more step indices, got {list(self.src_step_values)}"
            )
        if self.level.value.data < 0:
            raise VerifyException(f"{self.name}: level must be non-negative, got {self.level.value.data}")


@irdl_op_definition
class FuseOp(IRDLOperation):
    """Fuse adjacent loops of a stage, outer to inner, into one (FuseStep, `FU`).

    The fused loop's extent is the product of theirs. Consumes `iters`;
    returns the fused loop. Fails if the loops are not adjacent and in order.

    Syntax: `%ij = sched.fuse %C, [%i, %j]`
    """

    name = "sched.fuse"

    stage = operand_def(StageType)
    iters = var_operand_def(IterType)
    fused = result_def(IterType)

    assembly_format = "$stage `,` `[` $iters `]` attr-dict"

    def __init__(self, stage: SSAValue, iters: Sequence[SSAValue]):
        super().__init__(operands=[stage, iters], result_types=[IterType()])

    def verify_(self) -> None:
        if not self.iters:
            raise VerifyException(f"{self.name}: at least one loop to fuse is needed")


@irdl_op_definition
class ReorderOp(IRDLOperation):
    """Put all loops of a stage in the order `order`, outer to inner (ReorderStep, `RE`).

    Consumes nothing (the loops stay the same loops). Fails unless `order`
    names every loop of the stage exactly once.

    Syntax: `sched.reorder %C, [%io, %jo, %k, %ii, %ji]`
    """

    name = "sched.reorder"

    stage = operand_def(StageType)
    order = var_operand_def(IterType)

    assembly_format = "$stage `,` `[` $order `]` attr-dict"

    def __init__(self, stage: SSAValue, order: Sequence[SSAValue]):
        super().__init__(operands=[stage, order])


@irdl_op_definition
class AnnotateOp(IRDLOperation):
    """Run a loop in a particular way (AnnotationStep, `AN`).

    `parallel` (threads, spatial loops only), `vectorize` (SIMD), `unroll`, or a
    GPU binding: `vthread`, `blockIdx.x/y/z`, `threadIdx.x/y/z`. Consumes
    nothing. Fails if the loop is already annotated.

    Syntax: `sched.annotate %C, %i parallel`, `sched.annotate %C, %i threadIdx.x`
    """

    name = "sched.annotate"

    stage = operand_def(StageType)
    iter = operand_def(IterType)
    annotation = prop_def(LoopAnnotationAttr)

    assembly_format = "$stage `,` $iter $annotation attr-dict"

    def __init__(self, stage: SSAValue, iter: SSAValue, annotation: LoopAnnotation):
        super().__init__(operands=[stage, iter], properties={"annotation": LoopAnnotationAttr(annotation)})

    def verify_(self) -> None:
        if self.annotation.data in (LoopAnnotation.NONE, LoopAnnotation.TENSORIZE):
            raise VerifyException(f"sched.annotate: a loop cannot be annotated {self.annotation.data.value}")


@irdl_op_definition
class PragmaOp(IRDLOperation):
    """Attach a pragma to a loop of a stage (PragmaStep, `PR`).

    `auto_unroll_max_step$N` unrolls the stage's loops of at most N
    iterations. Consumes nothing. Fails on any other pragma.

    Syntax: `sched.pragma %C, %i "auto_unroll_max_step$64"`
    """

    name = "sched.pragma"

    stage = operand_def(StageType)
    iter = operand_def(IterType)
    pragma = prop_def(StringAttr)

    assembly_format = "$stage `,` $iter $pragma attr-dict"

    def __init__(self, stage: SSAValue, iter: SSAValue, pragma: str):
        super().__init__(operands=[stage, iter], properties={"pragma": StringAttr(pragma)})


@irdl_op_definition
class StorageAlignOp(IRDLOperation):
    """Pad the stride of the buffer dimension of loop `iter` to `factor * k + offset` (`SA`).

    Consumes nothing. Fails unless `factor > 0` and `0 <= offset < factor`.

    Syntax: `sched.storage_align %C, %j factor 16 offset 1`
    """

    name = "sched.storage_align"

    stage = operand_def(StageType)
    iter = operand_def(IterType)
    factor = prop_def(IntegerAttr[I64])
    offset = prop_def(IntegerAttr[I64])

    assembly_format = "$stage `,` $iter `factor` $factor `offset` $offset attr-dict"

    def __init__(self, stage: SSAValue, iter: SSAValue, factor: int, offset: int):
        super().__init__(
            operands=[stage, iter],
            properties={"factor": IntegerAttr(factor, i64), "offset": IntegerAttr(offset, i64)},
        )


# --- compute locations --------------------------------------------------------------


@irdl_op_definition
class ComputeAtOp(IRDLOperation):
    """Compute `stage` inside loop `target_iter` of its consumer `target` (ComputeAtStep, `CA`).

    The stage is computed, for the region that loop needs, each time round
    it; its own loops keep their names. Consumes nothing. Fails if `target`
    does not consume `stage` (directly or through inlined stages), or if
    `stage` is an output.

    Syntax: `sched.compute_at %C at %D, %j`
    """

    name = "sched.compute_at"

    stage = operand_def(StageType)
    target = operand_def(StageType)
    target_iter = operand_def(IterType)

    assembly_format = "$stage `at` $target `,` $target_iter attr-dict"

    def __init__(self, stage: SSAValue, target: SSAValue, target_iter: SSAValue):
        super().__init__(operands=[stage, target, target_iter])


@irdl_op_definition
class ComputeInlineOp(IRDLOperation):
    """Inline an elementwise stage into its consumers (ComputeInlineStep, `CI`).

    Consumes nothing (the stage keeps its name, but has no loops to use).
    Fails on a reduction, an output, or a stage others are computed at.

    Syntax: `sched.compute_inline %B`
    """

    name = "sched.compute_inline"

    stage = operand_def(StageType)

    assembly_format = "$stage attr-dict"

    def __init__(self, stage: SSAValue):
        super().__init__(operands=[stage])


@irdl_op_definition
class ComputeRootOp(IRDLOperation):
    """Compute a stage at the root, over its whole domain (ComputeRootStep, `CR`).

    Undoes `sched.compute_at`. Consumes nothing.

    Syntax: `sched.compute_root %C`
    """

    name = "sched.compute_root"

    stage = operand_def(StageType)

    assembly_format = "$stage attr-dict"

    def __init__(self, stage: SSAValue):
        super().__init__(operands=[stage])


# --- new stages ------------------------------------------------------------------------


@irdl_op_definition
class CacheReadOp(IRDLOperation):
    """Add a stage `NAME.scope` that copies tensor `stage`, read by `readers` instead (`CHR`).

    `stage` may be a placeholder. The new stage's loops are `ax0, ax1, ...`.
    Consumes nothing; returns the new stage. Fails if a reader does not read
    `stage`.

    Syntax: `%A_shared = sched.cache_read %A "shared" readers [%C]`
    """

    name = "sched.cache_read"

    stage = operand_def(StageType)
    scope = prop_def(StringAttr)
    readers = var_operand_def(StageType)
    cache = result_def(StageType)

    assembly_format = "$stage $scope `readers` ` ` `[` $readers `]` attr-dict"

    def __init__(self, stage: SSAValue, scope: str, readers: Sequence[SSAValue]):
        super().__init__(
            operands=[stage, readers], result_types=[StageType()], properties={"scope": StringAttr(scope)}
        )

    def verify_(self) -> None:
        if not self.readers:
            raise VerifyException(f"{self.name}: at least one reader stage is needed")


@irdl_op_definition
class CacheWriteOp(IRDLOperation):
    """Compute `stage` into a new stage `NAME.scope`; `stage` becomes its copy (`CHW`).

    The new stage takes over the stage's loops (and its reduction); the stage
    keeps its spatial loops. Consumes every loop handle of `stage`; returns the
    new stage. Fails after any loop step on the stage or when it is not at
    root.

    Syntax: `%C_local = sched.cache_write %C "local"`
    """

    name = "sched.cache_write"

    stage = operand_def(StageType)
    scope = prop_def(StringAttr)
    cache = result_def(StageType)

    assembly_format = "$stage $scope attr-dict"

    def __init__(self, stage: SSAValue, scope: str):
        super().__init__(
            operands=[stage], result_types=[StageType()], properties={"scope": StringAttr(scope)}
        )


@irdl_op_definition
class RfactorOp(IRDLOperation):
    """Factor reduce loop `iter` of a stage out into a new stage `NAME.rf` (RfactorStep, `RF`).

    `NAME.rf` reduces over the stage's other reduce loops, with `iter` as a
    spatial axis at position `factor_axis` among its spatial axes; the stage
    then reduces `NAME.rf` over `iter` (TVM's `s.rfactor(C, k, factor_axis)`).
    Consumes every loop handle of `stage`; returns the new stage. Fails unless
    the stage is at root with its spatial loops untouched and outermost.

    Syntax: `%C_rf = sched.rfactor %C, %k_o factor_axis 0`
    """

    name = "sched.rfactor"

    stage = operand_def(StageType)
    iter = operand_def(IterType)
    factor_axis = prop_def(IntegerAttr[I64])
    factored = result_def(StageType)

    assembly_format = "$stage `,` $iter `factor_axis` $factor_axis attr-dict"

    def __init__(self, stage: SSAValue, iter: SSAValue, factor_axis: int):
        super().__init__(
            operands=[stage, iter],
            result_types=[StageType()],
            properties={"factor_axis": IntegerAttr(factor_axis, i64)},
        )


SCHED = Dialect(
    "sched",
    [
        GetStageOp,
        GetItersOp,
        SplitOp,
        FollowSplitOp,
        FollowFusedSplitOp,
        FuseOp,
        ReorderOp,
        AnnotateOp,
        PragmaOp,
        StorageAlignOp,
        ComputeAtOp,
        ComputeInlineOp,
        ComputeRootOp,
        CacheReadOp,
        CacheWriteOp,
        RfactorOp,
    ],
    [StageType, IterType, LoopAnnotationAttr],
)
