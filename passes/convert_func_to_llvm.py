"""`convert-func-to-llvm`: func ops to the `llvm` dialect, as upstream MLIR's pass.

Uses upstream's bare-pointer calling convention (`use-bare-ptr-memref-call-conv`):
every memref argument, which must have a static shape and the identity
layout, becomes an `!llvm.ptr` to its first element, marked `llvm.noalias`
(the buffers a kernel receives never overlap, and LLVM vectorises without
runtime alias checks when it knows so); `index` becomes i64. A function
returns nothing or one scalar. So

    func.func @k(%A: memref<8x4xf32>, %n: index) -> f32

becomes

    llvm.func @k(%A: !llvm.ptr {llvm.noalias}, %n: i64) -> f32

and a C caller passes the arrays' data pointers. Argument attributes the
function had (such as `te.name`) are kept.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects import func, llvm
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    MemRefType,
    StringAttr,
    UnitAttr,
)
from xdsl.ir import Attribute
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from schedopt.errors import LoweringError
from schedopt.passes.llvm_conversion_pass import LLVMConversionPass
from schedopt.passes.llvm_type_conversion import (
    cast_all_to_llvm,
    convert_type,
    memref_layout_problem,
    replace_with_llvm,
    retype_block_arguments,
)


def argument_name(op: func.FuncOp, index: int) -> str:
    """How an error names argument `index` of `op`: its te name, else its SSA name."""
    if op.arg_attrs is not None and isinstance(
        name := op.arg_attrs.data[index].data.get("te.name"), StringAttr
    ):
        return name.data
    if (block := op.body.first_block) is not None and (hint := block.args[index].name_hint):
        return f"%{hint}"
    return f"#{index}"


def convert_argument_type(op: func.FuncOp, index: int, type_: Attribute) -> Attribute:
    """The LLVM type of argument `index`; `LoweringError` naming function and argument."""
    where = f"convert-func-to-llvm: argument {index} ({argument_name(op, index)}) of @{op.sym_name.data}"
    if isinstance(type_, MemRefType) and (problem := memref_layout_problem(type_)) is not None:
        raise LoweringError(
            f"{where} has type {type_}, which {problem}: only memrefs with a static shape "
            "and the identity layout can be passed as bare pointers"
        )
    try:
        return convert_type(type_)
    except LoweringError as error:
        raise LoweringError(f"{where}: {error}") from None


def convert_result_type(op: func.FuncOp) -> Attribute:
    """The LLVM return type: void, or the one scalar result."""
    outputs = op.function_type.outputs.data
    where = f"convert-func-to-llvm: @{op.sym_name.data}"
    if not outputs:
        return llvm.LLVMVoidType()
    if len(outputs) > 1:
        raise LoweringError(f"{where} returns {len(outputs)} values; at most one is supported")
    if isinstance(outputs[0], MemRefType):
        raise LoweringError(f"{where} returns {outputs[0]}; memrefs are passed as arguments, not returned")
    try:
        return convert_type(outputs[0])
    except LoweringError as error:
        raise LoweringError(f"{where}: result: {error}") from None


def argument_attributes(op: func.FuncOp, llvm_types: list[Attribute]) -> ArrayAttr[DictionaryAttr]:
    """The function's argument attributes, with `llvm.noalias` on every pointer."""
    old = op.arg_attrs.data if op.arg_attrs is not None else [DictionaryAttr({})] * len(llvm_types)
    new: list[DictionaryAttr] = []
    for attrs, type_ in zip(old, llvm_types, strict=True):
        entries = dict(attrs.data)
        if isinstance(type_, llvm.LLVMPointerType):
            entries["llvm.noalias"] = UnitAttr()
        new.append(DictionaryAttr(entries))
    return ArrayAttr(new)


class ConvertFuncOp(RewritePattern):
    """func.func -> llvm.func with the bare-pointer calling convention."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.FuncOp, rewriter: PatternRewriter, /):
        inputs = [convert_argument_type(op, i, t) for i, t in enumerate(op.function_type.inputs.data)]
        output = convert_result_type(op)
        body = rewriter.move_region_contents_to_new_regions(op.body)
        if (entry := body.first_block) is not None:
            retype_block_arguments(entry, inputs, rewriter)
        new_func = llvm.FuncOp(
            op.sym_name,
            llvm.LLVMFunctionType(inputs, output),
            linkage=llvm.LinkageAttr("external"),
            body=body,
            other_props={"arg_attrs": argument_attributes(op, inputs)} if inputs else None,
            extra_attrs=op.attributes,
        )
        rewriter.replace(op, new_func)


class ConvertReturnOp(RewritePattern):
    """func.return -> llvm.return."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.ReturnOp, rewriter: PatternRewriter, /):
        values = cast_all_to_llvm(rewriter, op.arguments)
        if len(values) > 1:
            raise LoweringError(f"convert-func-to-llvm: func.return of {len(values)} values is not supported")
        rewriter.replace(op, llvm.ReturnOp(values[0] if values else None))


class ConvertCallOp(RewritePattern):
    """func.call -> llvm.call, arguments and result in their LLVM types."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.CallOp, rewriter: PatternRewriter, /):
        if len(op.res) > 1:
            raise LoweringError(
                f"convert-func-to-llvm: func.call of @{op.callee.string_value()} returns "
                f"{len(op.res)} values; at most one is supported"
            )
        args = cast_all_to_llvm(rewriter, op.arguments)
        result_type = convert_type(op.res[0].type) if op.res else None
        call = llvm.CallOp(op.callee, *args, return_type=result_type)
        replace_with_llvm(rewriter, op, [call])


@dataclass(frozen=True)
class ConvertFuncToLLVMPass(LLVMConversionPass):
    """Convert func.func/return/call to the llvm dialect with bare memref pointers.

    Options: none (the bare-pointer convention is the only one).
    """

    name = "convert-func-to-llvm"

    def patterns(self) -> Sequence[RewritePattern]:
        return (ConvertFuncOp(), ConvertReturnOp(), ConvertCallOp())
